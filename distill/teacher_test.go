package distill

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// The cache serves a row seen before without running the teacher, and a batch mixing
// seen and new rows equals the uncached teacher's outputs row for row.
func TestTeacherCache(t *testing.T) {
	m := testModel(t, "fashion_mlp_op17.onnx")
	cached, err := NewTeacher(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := NewTeacher(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain.CacheBytes = 0
	rng := rand.New(rand.NewSource(1))
	images := make([][]float32, 6)
	for i := range images {
		images[i] = make([]float32, 784)
		for j := range images[i] {
			images[i][j] = rng.Float32()
		}
	}
	batch := func(rows ...int) map[string]*kernel.Tensor {
		var data []float32
		for _, r := range rows {
			data = append(data, images[r]...)
		}
		return map[string]*kernel.Tensor{"input": kernel.FromFloat32([]int64{int64(len(rows)), 1, 28, 28}, data)}
	}
	ctx := context.Background()
	for step, rows := range [][]int{{0, 1, 2}, {2, 3, 0, 4}, {4, 3, 2, 1, 0}, {5}} {
		got, err := cached.Outputs(ctx, batch(rows...))
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Outputs(ctx, batch(rows...))
		if err != nil {
			t.Fatal(err)
		}
		// Sub-batches may sum in another order than whole ones: last bits differ.
		g, w := got["logits"], want["logits"]
		if fmt.Sprint(g.Shape) != fmt.Sprint(w.Shape) {
			t.Fatalf("step %d: shape %v, want %v", step, g.Shape, w.Shape)
		}
		for i, x := range w.Float32s() {
			if d := math.Abs(float64(g.Float32s()[i] - x)); d > 1e-5*(1+math.Abs(float64(x))) {
				t.Fatalf("step %d: element %d = %v, want %v", step, i, g.Float32s()[i], x)
			}
		}
	}
	// 3 + 2 + 0 + 1 rows computed, 0 + 2 + 5 + 0 served.
	if h, mi := cached.Hits.Load(), cached.Misses.Load(); h != 7 || mi != 6 {
		t.Errorf("%d hits and %d misses, want 7 and 6", h, mi)
	}
}

// A model compared with itself agrees everywhere; the untrained auto student does not.
func TestCompare(t *testing.T) {
	m := testModel(t, "fashion_cnn_op17.onnx")
	ds, err := dataset.Open("fashion-mnist:test:200")
	if err != nil {
		testSkipData(t, err)
	}
	a, err := Compare(context.Background(), m, m, ds, 50)
	if err != nil {
		t.Fatal(err)
	}
	if a.Rows != 200 || !a.Labelled || a.Agree != 100 || a.KL > 1e-9 || a.Drop() != 0 || a.TeacherAccuracy < 85 {
		t.Errorf("self-comparison: %+v", a)
	}
	st, err := Build(nil, m, mustSpec(t, "auto:width=0.5"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Compare(context.Background(), m, st.Model, ds, 50)
	if err != nil {
		t.Fatal(err)
	}
	if b.Agree > 90 || b.KL < 0.1 || b.Drop() < 5 {
		t.Errorf("untrained student vs teacher: %+v", b)
	}
}

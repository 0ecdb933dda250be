package training

import (
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func runNode(t *testing.T, f kernel.Factory, n *ir.Node, inputs ...*kernel.Tensor) []*kernel.Tensor {
	t.Helper()
	k, err := f(&kernel.NodeInfo{Node: n})
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.Run(&kernel.Context{}, inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBernoulliSeeded(t *testing.T) {
	// np.random.RandomState(42).binomial(1, p=np.linspace(0, 1, 12))
	p := make([]float64, 12)
	for i := range p {
		p[i] = float64(i) / 11
	}
	want := []float64{0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1}
	tests := []struct {
		name  string
		dtype int64
		check func(*kernel.Tensor) []float64
	}{
		{"double", 0, func(t *kernel.Tensor) []float64 { return t.Data.([]float64) }},
		{"to float", int64(ir.Float), func(t *kernel.Tensor) []float64 {
			var out []float64
			for _, v := range t.Float32s() {
				out = append(out, float64(v))
			}
			return out
		}},
		{"to int64", int64(ir.Int64), func(t *kernel.Tensor) []float64 {
			var out []float64
			for _, v := range t.Int64s() {
				out = append(out, float64(v))
			}
			return out
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := ir.NewGraph("g")
			attrs := []*ir.Attr{ir.FloatAttr("seed", 42)}
			if tc.dtype != 0 {
				attrs = append(attrs, ir.IntAttr("dtype", tc.dtype))
			}
			n := g.NewNode("", "Bernoulli", nil, []string{"y"}, attrs...)
			x := &kernel.Tensor{DType: ir.Double, Shape: []int64{12}, Data: p}
			got := tc.check(runNode(t, newBernoulli, n, x)[0])
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("got %v, want %v", got, want)
				}
			}
		})
	}
}

func TestBernoulliRejectsBadProbability(t *testing.T) {
	g := ir.NewGraph("g")
	n := g.NewNode("", "Bernoulli", nil, []string{"y"})
	k, err := newBernoulli(&kernel.NodeInfo{Node: n})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Run(&kernel.Context{}, []*kernel.Tensor{kernel.FromFloat32([]int64{1}, []float32{1.5})}); err == nil {
		t.Fatal("p = 1.5 was accepted")
	}
}

func TestRandomUniformLikeSeeded(t *testing.T) {
	// np.random.RandomState(3).rand(4).astype(np.float32) * np.float32(4) + np.float32(-1)
	want := []float32{1.2031915, 1.8325913, 0.16361892, 1.0433104}
	g := ir.NewGraph("g")
	n := g.NewNode("", "RandomUniformLike", nil, []string{"y"},
		ir.FloatAttr("seed", 3), ir.FloatAttr("low", -1), ir.FloatAttr("high", 3))
	got := runNode(t, newRandomUniform(true), n, kernel.New(ir.Float, 2, 2))[0]
	if !kernel.SameShape(got.Shape, []int64{2, 2}) {
		t.Fatalf("shape %v", got.Shape)
	}
	for i, w := range want {
		if got.Float32s()[i] != w {
			t.Fatalf("got %v, want %v", got.Float32s(), want)
		}
	}
}

package datafeed

import (
	"testing"

	"github.com/whittle-ml/whittle/internal/irtest"

	"github.com/whittle-ml/whittle/dataset"
)

func TestCalibratorStreamsBatches(t *testing.T) {
	m := irtest.New(t, 13).InputOf("x", "float[N,2]").Node("Relu", "x", "r").Node("Neg", "r", "y").Output("y").Model()
	data, err := dataset.NewArrays([]dataset.Tensor{{Shape: []int64{5, 2}, DType: dataset.Float32,
		Float32: []float32{-1, 1, -2, 2, -3, 3, -4, 4, -5, 5}}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	sums := map[string]float32{}
	var progress []int
	cal := &Calibrator{Data: data, BatchSize: 2, Progress: func(done, total int) { progress = append(progress, done) }}
	err = cal.Calibrate(m, []string{"x", "r"}, func(name string, d []float32) error {
		seen = append(seen, name)
		for _, v := range d {
			sums[name] += v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Three batches (2+2+1 rows), x observed from the feed, r after Relu; y not asked for.
	if len(seen) != 6 || sums["x"] != 0 || sums["r"] != 15 || sums["y"] != 0 {
		t.Errorf("observed %v, sums %v", seen, sums)
	}
	if len(progress) != 3 || progress[2] != 5 {
		t.Errorf("progress %v", progress)
	}
}

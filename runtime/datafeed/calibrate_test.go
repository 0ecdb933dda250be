package datafeed

import (
	"testing"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
)

func TestCalibratorStreamsBatches(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(2)))
	n := g.NewNode("", "Relu", []*ir.Value{x}, []string{"r"})
	g.Append(n)
	neg := g.NewNode("", "Neg", []*ir.Value{n.Output(0)}, []string{"y"})
	g.Append(neg)
	g.Outputs = []*ir.Value{neg.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 13}}, Graph: g}
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

package whittle_test

import (
	"context"
	"math"
	"testing"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/internal/graphgen"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/checker"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// FuzzQuantizePrune builds a small random CNN from the fuzzer's bytes (internal/graphgen)
// and prunes it (unstructured, 2:4 or channel, layer or global scope) or quantizes it
// (static with each calibration method, dynamic, weight-only int8); the result must pass
// the checker, verify, and run on the CNN's input to finite outputs of the same shapes.
func FuzzQuantizePrune(f *testing.F) {
	for mode := byte(0); mode < 8; mode++ {
		f.Add([]byte{mode})
		f.Add([]byte{mode, 1, 3, 9, 9, 1, 0, 0, 1, 0, 0, 0, 0, 1, 7, 7, 7})
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkQuantizePrune(t, data) })
}

func checkQuantizePrune(t *testing.T, data []byte) {
	src := graphgen.NewSource(data)
	mode := src.Intn(8)
	sparsity := 0.1 + 0.8*float64(src.Intn(9))/8
	scope := []string{"layer", "global"}[src.Intn(2)]
	perChannel, int8Acts := src.Bool(2), src.Bool(3)
	c := graphgen.CNN(src)
	m := c.Model
	before := m.Graph.Outputs[0].Type.Clone()
	var what string
	var err error
	switch mode {
	case 0, 1, 2:
		pattern := []string{"unstructured", "2:4", "channel"}[mode]
		what = "prune " + pattern + " " + scope
		opts := whittle.PruneOptions{Sparsity: sparsity, Pattern: pattern, Scope: scope}
		if pattern == "2:4" {
			opts.Sparsity, opts.Scope = 0, "layer"
		}
		_, err = whittle.Prune(m, opts)
	default:
		qo := passes.DefaultQuantizeOptions()
		qo.PerChannel = perChannel
		if int8Acts {
			qo.ActivationType = ir.Int8
		}
		cal := passes.CalibrationSpec{Data: "memory"}
		switch mode {
		case 3, 4, 5:
			cal.Method = []passes.CalibrationMethod{passes.MinMax, passes.Percentile, passes.Entropy}[mode-3]
		case 6:
			qo.Dynamic = true
		case 7:
			qo.WeightOnly = true
		}
		what = passes.QuantizeStep(qo, cal).String()
		ctx := whittle.PassContext("")
		ctx.Calibration = memoryCalibration{c}
		_, err = passes.Run(ctx, m, passes.Pipeline{passes.QuantizeStep(qo, cal)})
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, ir.Format(c.Model))
	}
	p, err := onnx.FromIR(m)
	if err != nil {
		t.Fatalf("%s: FromIR: %v", what, err)
	}
	if probs := checker.CheckModel(p, checker.Options{}); len(probs) > 0 {
		t.Fatalf("%s: the checker rejects the output: %v\n%s", what, probs, ir.Format(m))
	}
	if err := m.Verify(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if mode >= 3 && !hasOp(m, "DequantizeLinear") && !hasOp(m, "DynamicQuantizeLinear") {
		// Every CNN has a Conv and a Gemm or MatMul with constant weights.
		t.Fatalf("%s: nothing was quantized\n%s", what, ir.Format(m))
	}
	s, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, ir.Format(m))
	}
	in := c.Inputs["x"]
	outs, err := s.RunOrdered(context.Background(), []*kernel.Tensor{kernel.FromFloat32(in.Shape, append([]float32(nil), in.Data...))})
	if err != nil {
		t.Fatalf("%s: %v\n%s", what, err, ir.Format(m))
	}
	y := outs[0]
	if len(y.Shape) != len(before.Dims) || y.Shape[1] != before.Dims[1].Value {
		t.Fatalf("%s: output %v, the model declared %s", what, y.Shape, before)
	}
	for _, v := range y.Float32s() {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("%s: output %v is not finite\n%s", what, y.Float32s(), ir.Format(m))
		}
	}
}

func hasOp(m *ir.Model, op string) bool {
	for _, n := range m.Graph.Nodes() {
		if n.OpType == op {
			return true
		}
	}
	return false
}

// memoryCalibration calibrates on four rows: the CNN's input and three variations of it.
type memoryCalibration struct{ c *graphgen.Case }

func (s memoryCalibration) Calibrator(passes.CalibrationSpec) (passes.Calibrator, error) {
	in := s.c.Inputs["x"]
	rows := append([]int64{4}, in.Shape[1:]...)
	data := make([]float32, 0, 4*len(in.Data))
	for r := 0; r < 4; r++ {
		for i, v := range in.Data {
			data = append(data, v*float32(r+1)/2+float32((i*7+r)%5)/10)
		}
	}
	ds, err := dataset.NewArrays([]dataset.Tensor{{Name: "x", Shape: rows, DType: dataset.Float32, Float32: data}}, nil, nil)
	if err != nil {
		return nil, err
	}
	return &datafeed.Calibrator{Data: ds, BatchSize: 1}, nil
}

// TestQuantizePruneRandomCNNs runs seeded random CNNs through every mode of the fuzz check.
func TestQuantizePruneRandomCNNs(t *testing.T) {
	n := 160
	if testing.Short() {
		n = 32
	}
	for seed := 0; seed < n; seed++ {
		checkQuantizePrune(t, append([]byte{byte(seed % 8)}, graphgen.SeededSource(uint64(seed), 256).Bytes()...))
	}
}

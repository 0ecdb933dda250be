package compare

import (
	"math"
	"testing"

	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func TestStatsMetrics(t *testing.T) {
	var s Stats
	a := []float64{1, 2, 3, 4}
	b := []float64{1, 2.5, 3, 3}
	s.Add(a, b, []int64{4}, Tolerance{Atol: 0.6})
	if s.MaxAbs != 1 || s.MaxRel() != 0.25 || s.MeanAbs() != 0.375 {
		t.Errorf("max abs %g max rel %g mean abs %g", s.MaxAbs, s.MaxRel(), s.MeanAbs())
	}
	// Σa² = 30, Σ(b-a)² = 1.25: 10·log10(24) dB.
	if want := 10 * math.Log10(24); math.Abs(s.SQNR()-want) > 1e-12 {
		t.Errorf("SQNR %g, want %g", s.SQNR(), want)
	}
	dot, na, nb := 1+5+9+12.0, 30.0, 1+6.25+9+9
	if want := dot / math.Sqrt(na*nb); math.Abs(s.Cosine()-want) > 1e-12 {
		t.Errorf("cosine %g, want %g", s.Cosine(), want)
	}
	if s.Violations != 1 {
		t.Errorf("violations %d, want 1 (|3-4| > 0.6)", s.Violations)
	}
	if f := s.Failures(Tolerance{Atol: 0.6}); len(f) != 1 {
		t.Errorf("failures %v", f)
	}
	if f := s.Failures(Tolerance{MinSQNR: 20, HasMinSQNR: true}); len(f) != 1 {
		t.Errorf("SQNR floor 20 dB not reported: %v", f)
	}
	var exact Stats
	exact.Add(a, a, []int64{4}, Tolerance{})
	if !math.IsInf(exact.SQNR(), 1) || exact.Cosine() != 1 || exact.MaxRel() != 0 {
		t.Errorf("identical tensors: SQNR %g cosine %g", exact.SQNR(), exact.Cosine())
	}
}

func TestTopKAgreementAndAccuracy(t *testing.T) {
	// Three rows of six classes. Row 0 agrees; in row 1 A's top class is B's second; in
	// row 2 it is B's sixth.
	a := []float64{
		9, 1, 0, 0, 0, 0,
		0, 9, 1, 0, 0, 0,
		0, 0, 0, 0, 0, 9,
	}
	b := []float64{
		9, 1, 0, 0, 0, 0,
		0, 8, 9, 0, 0, 0,
		6, 5, 4, 3, 2, 1,
	}
	var s Stats
	s.Add(a, b, []int64{3, 6}, Tolerance{})
	if s.Rows != 3 || s.Top1 != 1 || s.Top5 != 2 {
		t.Errorf("rows %d top1 %d top5 %d, want 3 1 2", s.Rows, s.Top1, s.Top5)
	}
	var acc Accuracy
	if err := acc.Add(b, []int64{3, 6}, []int64{0, 1, 5}); err != nil {
		t.Fatal(err)
	}
	if acc.Correct != 1 || acc.Top5 != 2 || math.Abs(acc.Top1()-100.0/3) > 1e-9 {
		t.Errorf("accuracy %+v", acc)
	}
	if err := acc.Add(b, []int64{18}, []int64{0}); err == nil {
		t.Errorf("accuracy of a 1-D output must be refused")
	}
}

// tinyNet: x[N,8] -> MatMul(w[8,4]) -> Relu -> Gemm(v[4,3]) -> y[N,3].
func tinyNet(t *testing.T) *ir.Model {
	g := ir.NewGraph("tiny")
	x := g.AddInput("x", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(8)))
	w := make([]float32, 32)
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	v := make([]float32, 12)
	for i := range v {
		v[i] = float32(i%3) - 0.5
	}
	wv := g.AddInitializer(ir.FromFloat32("w", []int64{8, 4}, w))
	vv := g.AddInitializer(ir.FromFloat32("v", []int64{4, 3}, v))
	mm := g.NewNode("", "MatMul", []*ir.Value{x, wv}, []string{"h"})
	mm.Name = "mm"
	g.Append(mm)
	r := g.NewNode("", "Relu", []*ir.Value{mm.Output(0)}, []string{"r"})
	r.Name = "relu"
	g.Append(r)
	gm := g.NewNode("", "Gemm", []*ir.Value{r.Output(0), vv}, []string{"y"})
	gm.Name = "gemm"
	g.Append(gm)
	g.Outputs = []*ir.Value{gm.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 13}}, Graph: g}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestModelsIdenticalAndQuantized(t *testing.T) {
	a := tinyNet(t)
	res, err := Models(a, a.Clone(), Options{RandomSamples: 20, BatchSize: 7, Tol: Tolerance{Atol: 1e-7}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 20 || !res.Random || res.Failed() || !math.IsInf(res.Outputs[0].SQNR(), 1) || res.Outputs[0].Top1Agreement() != 1 {
		t.Fatalf("identical models: rows %d failed %v SQNR %g", res.Rows, res.Failed(), res.Outputs[0].SQNR())
	}

	// Quantize a copy on the random data and compare per layer.
	data, err := RandomData(a, 64, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := a.Clone()
	plan, err := passes.PlanQuantization(q, passes.DefaultQuantizeOptions())
	if err != nil {
		t.Fatal(err)
	}
	ranges, err := passes.CollectRanges(q, plan.CalibrationTensors(), &datafeed.Calibrator{Data: data, BatchSize: 16}, passes.CalibrationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.QuantizeStatic(nil, q, passes.DefaultQuantizeOptions(), ranges); err != nil {
		t.Fatal(err)
	}
	res, err = Models(a, q, Options{Data: data, PerLayer: true, Tol: Tolerance{MinSQNR: 20, HasMinSQNR: true}})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Outputs[0]
	if s.SQNR() < 20 || s.SQNR() > 80 || res.Failed() {
		t.Errorf("quantized output SQNR %g dB (failures %v); want a finite value above 20", s.SQNR(), res.Failures)
	}
	got := map[string]string{}
	for _, l := range res.Layers {
		got[l.A] = l.B
	}
	// x and the Relu output r are read through Q/DQ pairs; h, the MatMul's pre-Relu
	// output, has no counterpart (the Relu folded away); y is compared by name.
	if got["x"] != "x_DequantizeLinear_Output" || got["r"] != "r_DequantizeLinear_Output" || got["y"] != "y" || got["h"] != "" {
		t.Errorf("matched layers %v", got)
	}
	if len(res.Ranked) != len(res.Layers) || res.Ranked[0].Lost < res.Ranked[len(res.Ranked)-1].Lost {
		t.Errorf("ranking not sorted by dB lost")
	}
	res, err = Models(a, q, Options{Data: data, Tol: Tolerance{MinSQNR: 200, HasMinSQNR: true}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() {
		t.Errorf("a 200 dB floor must fail for an int8 model")
	}
}

func TestReferenceScoresCandidates(t *testing.T) {
	a := tinyNet(t)
	data, err := RandomData(a, 16, 5, nil)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := NewReference(a, data, 5)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ref.Compare(a.Clone(), Tolerance{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 16 || !math.IsInf(res.Outputs[0].SQNR(), 1) {
		t.Errorf("rows %d SQNR %g", res.Rows, res.Outputs[0].SQNR())
	}
}

func TestFloats64(t *testing.T) {
	tests := []struct {
		name string
		in   *kernel.Tensor
		want []float64 // nil: not comparable
	}{
		{"float32", &kernel.Tensor{DType: ir.Float, Shape: []int64{2}, Data: []float32{1.5, -2}}, []float64{1.5, -2}},
		{"int64", &kernel.Tensor{DType: ir.Int64, Shape: []int64{2}, Data: []int64{3, -4}}, []float64{3, -4}},
		{"float16 decoded", &kernel.Tensor{DType: ir.Float16, Shape: []int64{1}, Data: []uint16{0x3c00}}, []float64{1}},
		{"string", &kernel.Tensor{DType: ir.String, Shape: []int64{1}, Data: []string{"a"}}, nil},
		{"sequence", &kernel.Tensor{Kind: kernel.SequenceValue}, nil},
		{"missing", nil, nil},
	}
	for _, tt := range tests {
		got, ok := floats64(tt.in)
		if ok != (tt.want != nil) || len(got) != len(tt.want) {
			t.Errorf("%s: floats64 = %v, %t; want %v", tt.name, got, ok, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: element %d = %g, want %g", tt.name, i, got[i], tt.want[i])
			}
		}
	}
}

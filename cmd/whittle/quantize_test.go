package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// quantFixture writes a small classifier (input[N,1,8,8] -> Conv -> Relu -> MaxPool ->
// Flatten -> Gemm -> logits[N,10]) and an .npz of 64 random images labelled with the
// float model's own predictions, so that the float model scores 100%.
func quantFixture(t *testing.T) (model, data string) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 12))
	randn := func(n int, scale float64) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(rng.NormFloat64() * scale)
		}
		return out
	}
	g := ir.NewGraph("classifier")
	x := g.AddInput("input", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(1), ir.Known(8), ir.Known(8)))
	w := g.AddInitializer(ir.FromFloat32("conv.w", []int64{4, 1, 3, 3}, randn(36, 0.5)))
	b := g.AddInitializer(ir.FromFloat32("conv.b", []int64{4}, randn(4, 0.1)))
	fc := g.AddInitializer(ir.FromFloat32("fc.w", []int64{10, 64}, randn(640, 0.3)))
	fb := g.AddInitializer(ir.FromFloat32("fc.b", []int64{10}, randn(10, 0.1)))
	add := func(op string, ins []*ir.Value, out string, attrs ...*ir.Attr) *ir.Value {
		n := g.NewNode("", op, ins, []string{out}, attrs...)
		n.Name = op + "_" + out
		g.Append(n)
		return n.Output(0)
	}
	c := add("Conv", []*ir.Value{x, w, b}, "conv", ir.IntsAttr("pads", 1, 1, 1, 1))
	r := add("Relu", []*ir.Value{c}, "relu")
	p := add("MaxPool", []*ir.Value{r}, "pool", ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2))
	f := add("Flatten", []*ir.Value{p}, "flat")
	y := add("Gemm", []*ir.Value{f, fc, fb}, "logits", ir.IntAttr("transB", 1))
	y.Type = ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(10))
	g.Outputs = []*ir.Value{y}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 13}}, Graph: g}
	model = filepath.Join(dir, "classifier.onnx")
	if err := onnx.SaveModel(model, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	const rows = 64
	images := make([]float32, rows*64)
	for i := range images {
		images[i] = rng.Float32()
	}
	in := kernel.FromFloat32([]int64{rows, 1, 8, 8}, images)
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	outs, err := sess.Run(context.Background(), map[string]*kernel.Tensor{"input": in})
	if err != nil {
		t.Fatal(err)
	}
	logits := outs["logits"].Float32s()
	labels := make([]int64, rows)
	for r := range labels {
		best := 0
		for k := 0; k < 10; k++ {
			if logits[r*10+k] > logits[r*10+best] {
				best = k
			}
		}
		labels[r] = int64(best)
	}
	data = filepath.Join(dir, "data.npz")
	f2, err := os.Create(data)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f2)
	for name, tensor := range map[string]*kernel.Tensor{"input": in, "labels": kernel.FromInt64([]int64{rows}, labels)} {
		enc, err := encodeNPY(tensor)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(name + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(enc); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f2.Close(); err != nil {
		t.Fatal(err)
	}
	return model, data
}

func TestQuantizeAndCompareCommands(t *testing.T) {
	model, data := quantFixture(t)
	dir := filepath.Dir(model)
	q := filepath.Join(dir, "q.onnx")
	code, stdout, stderr := run(t, "quantize", model, "-o", q, "--calibration", data, "--report", filepath.Join(dir, "rep.json"))
	if code != 0 {
		t.Fatalf("quantize: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"static quantization: 4 nodes quantized", "Conv×1", "folded into the preceding range: 1 Relu/Clip"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("quantize output lacks %q:\n%s", want, stdout)
		}
	}
	qm, err := onnx.LoadModel(q)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := qm.MetadataValue("whittle.passes"); !ok {
		t.Errorf("quantized model records no provenance")
	}

	// compare --per-layer --json: high SQNR, the Relu output matched through its Q/DQ.
	code, stdout, stderr = run(t, "compare", model, q, "--data", data, "--per-layer", "--json")
	if code != 0 {
		t.Fatalf("compare: exit %d\n%s%s", code, stdout, stderr)
	}
	var res compareJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("compare --json: %v\n%s", err, stdout)
	}
	o := res.Outputs[0]
	if res.Rows != 64 || o.SQNR == nil || *o.SQNR < 25 || *o.Top1 < 0.9 || res.AccA == nil || *res.AccA != 100 {
		t.Errorf("compare: rows %d, output %+v, accuracy A %v", res.Rows, o, res.AccA)
	}
	matched := false
	for _, l := range res.Layers {
		if l.A == "relu" && l.B == "relu_DequantizeLinear_Output" {
			matched = true
		}
	}
	if !matched {
		t.Errorf("per-layer comparison did not pair relu with its DequantizeLinear output: %+v", res.Layers)
	}

	// Tolerances gate the exit code.
	if code, out, _ := run(t, "compare", model, q, "--data", data, "--min-sqnr", "200"); code != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("an unreachable SQNR floor: exit %d\n%s", code, out)
	}
	if code, out, errOut := run(t, "compare", model, model, "--atol", "0", "--rtol", "1e-7"); code != 0 || !strings.Contains(out, "inf (exact)") {
		t.Errorf("a model against itself on random inputs: exit %d\n%s%s", code, out, errOut)
	}

	// Every calibration method and the other modes produce a model.
	for _, args := range [][]string{
		{"--calibration", data, "--method", "entropy"},
		{"--calibration", data, "--method", "percentile", "--percentile", "99.9"},
		{"--calibration", data, "--method", "ema"},
		{"--calibration", data, "--symmetric", "--per-channel=false", "--reduce-range"},
		{"--dynamic"},
		{"--weight-only"},
	} {
		out := filepath.Join(dir, "m.onnx")
		if code, stdout, stderr := run(t, append([]string{"quantize", model, "-o", out}, args...)...); code != 0 {
			t.Errorf("quantize %v: exit %d\n%s%s", args, code, stdout, stderr)
		}
	}
}

func TestQuantizeBudget(t *testing.T) {
	model, data := quantFixture(t)
	out := filepath.Join(filepath.Dir(model), "q.onnx")
	// With at most one layer float, 300 dB is out of reach, and it says so.
	code, stdout, stderr := run(t, "quantize", model, "-o", out, "--calibration", data, "--min-sqnr", "300", "--max-float", "1")
	if code != 1 || !strings.Contains(stderr, "could not be met") || !strings.Contains(stdout, "sensitivity") {
		t.Errorf("unreachable budget: exit %d\n%s%s", code, stdout, stderr)
	}
	// A reachable SQNR floor that needs layers float; the report is valid JSON even though
	// the all-float score is infinite.
	rep := filepath.Join(filepath.Dir(model), "budget.json")
	code, stdout, stderr = run(t, "quantize", model, "-o", out, "--calibration", data, "--min-sqnr", "60", "--report", rep)
	if code != 0 || !strings.Contains(stdout, "kept float, in order") {
		t.Errorf("SQNR budget: exit %d\n%s%s", code, stdout, stderr)
	}
	var parsed quantizeJSON
	if b, err := os.ReadFile(rep); err != nil || json.Unmarshal(b, &parsed) != nil || parsed.Result == nil || parsed.Result.Budget == nil || len(parsed.Result.Budget.KeptFloat) == 0 {
		t.Errorf("budget report: %v", err)
	}
	// A reachable one.
	code, stdout, stderr = run(t, "quantize", model, "-o", out, "--calibration", data, "--max-accuracy-drop", "0", "--eval-data", data)
	if code != 0 || !strings.Contains(stdout, "budget met") {
		t.Errorf("accuracy budget: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestQuantizeUsage(t *testing.T) {
	model, data := quantFixture(t)
	out := filepath.Join(filepath.Dir(model), "q.onnx")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{model, "-o", out}, 2, "needs --calibration"},
		{[]string{model, "-o", out, "--calibration", data, "--max-accuracy-drop", "1"}, 2, "needs labelled --eval-data"},
		{[]string{model, "-o", out, "--calibration", data, "--method", "median"}, 2, "unknown calibration method"},
		{[]string{model, "-o", out, "--dynamic", "--weight-only"}, 2, "not both"},
		{[]string{model, "-o", out, "--weight-only", "--weight-bits", "4"}, 1, "opset"},
	} {
		code, _, stderr := run(t, append([]string{"quantize"}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("quantize %v: exit %d, want %d with %q\n%s", tc.args, code, tc.code, tc.msg, stderr)
		}
	}
}

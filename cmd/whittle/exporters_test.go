package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/exportlayout"
	"github.com/whittle-ml/whittle/internal/ortpeer"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// exporterLayouts writes the trained CNN in PyTorch's layout and in Paddle2ONNX's and
// tf2onnx's, and returns their paths.
func exporterLayouts(t *testing.T, dir string) (torch, paddle, tf string) {
	t.Helper()
	root, _ := testenv.RepoRoot()
	torch = filepath.Join(root, "testmodels", "fashion_cnn_op13.onnx")
	m, err := onnx.LoadModel(torch)
	if err != nil {
		t.Fatal(err)
	}
	p, err := exportlayout.Paddle2ONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	f, err := exportlayout.TF2ONNX(m)
	if err != nil {
		t.Fatal(err)
	}
	paddle, tf = filepath.Join(dir, "cnn_paddle.onnx"), filepath.Join(dir, "cnn_tf.onnx")
	for path, m := range map[string]*ir.Model{paddle: p, tf: f} {
		if err := onnx.SaveModel(path, m, onnx.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return torch, paddle, tf
}

func inspectJSON(t *testing.T, args ...string) inspection {
	t.Helper()
	code, stdout, stderr := run(t, append([]string{"inspect", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("inspect %v: exit %d: %s", args, code, stderr)
	}
	var ins inspection
	if err := json.Unmarshal([]byte(stdout), &ins); err != nil {
		t.Fatal(err)
	}
	return ins
}

func TestInspectExporterLayouts(t *testing.T) {
	torch, paddle, tf := exporterLayouts(t, t.TempDir())
	want := inspectJSON(t, torch)
	p := inspectJSON(t, paddle)
	if p.Params != want.Params || p.ConstantNodes != 23 || p.ConstantParams != want.Params || p.Bytes != want.Bytes {
		t.Errorf("paddle layout: %d params (%d in %d Constant nodes), %d bytes; PyTorch's has %d params, %d bytes",
			p.Params, p.ConstantParams, p.ConstantNodes, p.Bytes, want.Params, want.Bytes)
	}
	// With height and width symbolic, MACs per sample count them as 1 until --dim sizes them.
	if p.MACs >= want.MACs {
		t.Errorf("paddle layout without --dim: %d MACs, expected fewer than %d", p.MACs, want.MACs)
	}
	sized := inspectJSON(t, paddle, "--dim", "p2o.DynamicDimension.1=28", "--dim", "p2o.DynamicDimension.2=28")
	if sized.MACs != want.MACs || !sized.MACsComplete {
		t.Errorf("paddle layout with --dim: %d MACs (complete %v), PyTorch's %d", sized.MACs, sized.MACsComplete, want.MACs)
	}
	code, stdout, _ := run(t, "inspect", paddle, "--layers")
	if code != 0 || !strings.Contains(stdout, "1.21M of them in 23 Constant nodes") || !strings.Contains(stdout, "in Constant node") {
		t.Errorf("inspect text does not say where the weights live:\n%s", stdout)
	}
	if code, _, stderr := run(t, "inspect", paddle, "--dim", "H=28"); code != exitUsage || !strings.Contains(stderr, "p2o.DynamicDimension.1") {
		t.Errorf("unknown --dim name: exit %d, %s", code, stderr)
	}
	if f := inspectJSON(t, tf); f.Params != want.Params || f.MACs != want.MACs {
		t.Errorf("tf2onnx layout: %d params, %d MACs; want %d, %d", f.Params, f.MACs, want.Params, want.MACs)
	}
}

// TestOptimizeExporterLayoutsEqualInORT optimizes each layout and checks in ONNX Runtime
// that the optimized model computes what the exported one does: the Constant weights
// become initializers, and the Transpose pairs around convolutions cancel.
func TestOptimizeExporterLayoutsEqualInORT(t *testing.T) {
	ortpeer.Require(t)
	dir := t.TempDir()
	_, paddle, tf := exporterLayouts(t, dir)
	for _, tc := range []struct {
		path, input string
		shape       []int64
		passes      []string
		wantOps     map[string]int
	}{
		{paddle, "input", []int64{3, 1, 28, 28}, nil, map[string]int{"Constant": 0}},
		// Alone, the pass moves the weights and leaves small constants (the scalars of the
		// input normalization) as nodes.
		{paddle, "input", []int64{3, 1, 28, 28}, []string{"--passes", "constants_to_initializers"}, map[string]int{"Constant": 3, "BatchNormalization": 1}},
		{tf, "input:0", []int64{3, 28, 28, 1}, nil, map[string]int{"Transpose": 1}},
	} {
		name := filepath.Base(tc.path) + strings.Join(tc.passes, " ")
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "opt.onnx")
			args := append([]string{"optimize", tc.path, "-o", out}, tc.passes...)
			if code, stdout, stderr := run(t, args...); code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
			}
			opt := inspectJSON(t, out)
			for op, n := range tc.wantOps {
				if opt.Ops[op] != n {
					t.Errorf("%d %s nodes after optimize, want %d", opt.Ops[op], op, n)
				}
			}
			if tc.passes != nil && opt.Params != inspectJSON(t, tc.path).Params {
				t.Errorf("constants_to_initializers changed the parameter count")
			}
			x := kernel.New(ir.Float, tc.shape...)
			for i, xs := 0, x.Data.([]float32); i < len(xs); i++ {
				xs[i] = float32(math.Sin(float64(i)))
			}
			in := map[string]*kernel.Tensor{tc.input: x}
			res, err := ortpeer.Run([]ortpeer.Job{{Model: tc.path, Inputs: in}, {Model: out, Inputs: in}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				if r.Err != nil {
					t.Fatalf("ONNX Runtime on %s: %v", r.Model, r.Err)
				}
			}
			a, b := res[0].Outputs[0].Data.([]float32), res[1].Outputs[0].Data.([]float32)
			worst := 0.0
			for i := range a {
				worst = math.Max(worst, math.Abs(float64(a[i]-b[i]))/(1+math.Abs(float64(a[i]))))
			}
			if worst > 1e-5 {
				t.Errorf("optimized outputs differ from the export's in ONNX Runtime by %g", worst)
			}
			t.Logf("%s: %d -> %d nodes, ORT outputs within %.2g", filepath.Base(tc.path), inspectJSON(t, tc.path).Nodes, opt.Nodes, worst)
		})
	}
}

// TestQuantizeExporterLayouts quantizes each layout, calibrated on an image folder made
// grey and 28×28 (NCHW or NHWC as the layout takes it), and runs the result in ONNX
// Runtime. The Paddle2ONNX layout's opset 9 is raised, with a notice, not refused.
func TestQuantizeExporterLayouts(t *testing.T) {
	ortpeer.Require(t)
	dir := t.TempDir()
	_, paddle, tf := exporterLayouts(t, dir)
	calib := filepath.Join(dir, "calib")
	writeImageCrops(t, calib, 2, 3)
	for _, tc := range []struct {
		name, path, input, layout string
		extra                     []string
		shape                     []int64
		wantNote                  string
		wantOpset                 int64
	}{
		{"paddle static", paddle, "input", "nchw", nil, []int64{2, 1, 28, 28}, "opset import raised from 9 to 13", 13},
		{"paddle dynamic", paddle, "input", "nchw", []string{"--dynamic"}, []int64{2, 1, 28, 28}, "opset import raised from 9 to 11", 11},
		{"tf2onnx static", tf, "input:0", "nhwc", nil, []int64{2, 28, 28, 1}, "", 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "q.onnx")
			args := []string{"quantize", tc.path, "-o", out}
			if len(tc.extra) > 0 {
				args = append(args, tc.extra...)
			} else {
				args = append(args, "--calibration", "images:"+calib, "--preprocess", "resize=28x28,channels=gray,layout="+tc.layout)
			}
			code, stdout, stderr := run(t, args...)
			if code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
			}
			if tc.wantNote != "" && !strings.Contains(stderr, tc.wantNote) {
				t.Errorf("no notice of the opset upgrade in:\n%s", stderr)
			}
			q, err := onnx.LoadModel(out)
			if err != nil {
				t.Fatal(err)
			}
			if v, _ := q.Opset(""); v != tc.wantOpset {
				t.Errorf("quantized model imports opset %d, want %d", v, tc.wantOpset)
			}
			x := kernel.New(ir.Float, tc.shape...)
			for i, xs := 0, x.Data.([]float32); i < len(xs); i++ {
				xs[i] = float32(i%13) / 13
			}
			res, err := ortpeer.Run([]ortpeer.Job{{Model: out, Inputs: map[string]*kernel.Tensor{tc.input: x}}})
			if err != nil {
				t.Fatal(err)
			}
			if res[0].Err != nil {
				t.Fatalf("ONNX Runtime rejects the quantized model: %v", res[0].Err)
			}
			t.Logf("%s: %s", tc.name, strings.TrimSpace(strings.SplitN(stdout, "\n", 2)[0]))
		})
	}
}

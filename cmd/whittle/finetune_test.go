package main

import (
	"archive/zip"
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/train"
)

// mlpNet writes X[N,4] -> Gemm(8) -> middle -> Gemm(3) -> Y, where middle is a Relu unless
// another op is named (to test an op without a gradient rule).
func mlpNet(t *testing.T, dir, middle string) string {
	t.Helper()
	g := ir.NewGraph("mlp")
	x := g.AddInput("X", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(4)))
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(name string, dims ...int64) *ir.Value {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(rng.NormFloat64() * 0.5)
		}
		return g.AddInitializer(ir.FromFloat32(name, dims, data))
	}
	add := func(op string, ins []*ir.Value, out string) *ir.Value {
		n := g.NewNode("", op, ins, []string{out})
		n.Name = op + "_" + out
		g.Append(n)
		return n.Output(0)
	}
	h := add("Gemm", []*ir.Value{x, fill("W1", 4, 8), fill("B1", 8)}, "H")
	a := add(middle, []*ir.Value{h}, "A")
	y := add("Gemm", []*ir.Value{a, fill("W2", 8, 3), fill("B2", 3)}, "Y")
	y.Type = ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(3))
	g.Outputs = []*ir.Value{y}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 17}}, Graph: g}
	path := filepath.Join(dir, "mlp_"+middle+".onnx")
	if err := onnx.SaveModel(path, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeNPZ writes arrays (name -> tensor) as a .npz file.
func writeNPZ(t *testing.T, path string, arrays map[string]*runtime.Tensor) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, a := range arrays {
		data, err := encodeNPY(a)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(name + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// blobs writes n rows of 4 features in 3 separable classes; features sets the row width
// and labelOffset shifts every label (to make them not fit).
func blobs(t *testing.T, dir, name string, n, features int, labelOffset int64, nanRow int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, n*features)
	labels := make([]int64, n)
	for i := range labels {
		c := i % 3
		labels[i] = int64(c) + labelOffset
		for k := 0; k < features; k++ {
			x[i*features+k] = float32(rng.NormFloat64()*0.3) + float32(c*(k%2))
		}
	}
	if nanRow >= 0 {
		x[nanRow*features] = float32(math.NaN())
	}
	path := filepath.Join(dir, name+".npz")
	writeNPZ(t, path, map[string]*runtime.Tensor{
		"X":      kernel.FromFloat32([]int64{int64(n), int64(features)}, x),
		"labels": {DType: ir.Int64, Shape: []int64{int64(n)}, Data: labels},
	})
	return path
}

func TestFinetuneCommand(t *testing.T) {
	dir := t.TempDir()
	in := mlpNet(t, dir, "Relu")
	data := blobs(t, dir, "train", 96, 4, 0, -1)
	out1, out2, out3 := filepath.Join(dir, "a.onnx"), filepath.Join(dir, "b.onnx"), filepath.Join(dir, "c.onnx")
	ck := filepath.Join(dir, "run.ckpt")
	args := []string{"--data", data, "--val", data, "--epochs", "3", "--batch", "16", "--lr", "0.05", "--seed", "7"}
	code, stdout, stderr := run(t, append([]string{"finetune", in, "-o", out1, "--checkpoint", ck}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "epoch 3/3") || !strings.Contains(stdout, "val top-1") {
		t.Errorf("no per-epoch lines or summary:\n%s", stdout)
	}
	// Determinism: the same command gives the same bytes.
	if code, _, stderr := run(t, append([]string{"finetune", in, "-o", out2}, args...)...); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(out1)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Error("two runs of the same command wrote different files")
	}
	// Resuming the finished run's checkpoint ends with the same model.
	if code, _, stderr := run(t, append([]string{"finetune", in, "-o", out3, "--resume", ck}, args...)...); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	c, _ := os.ReadFile(out3)
	if !bytes.Equal(a, c) {
		t.Error("resuming the finished run's checkpoint changed the model")
	}
	m, err := onnx.LoadModel(out1)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.MetadataValue(train.MetaFinetune); !ok || !strings.Contains(v, `"seed":7`) {
		t.Errorf("provenance %q", v)
	}
	if code, stdout, _ := run(t, "diff", in, out1); code != 0 || !strings.Contains(stdout, "0 unexplained") {
		t.Errorf("whittle diff does not explain the fine-tune:\n%s", stdout)
	}
	if code, _, stderr := run(t, "check", out1); code != 0 {
		t.Errorf("whittle check rejects the output: %s", stderr)
	}
}

// TestFinetuneCommandBadInput: each bad input ends with exit 1 and a message naming what
// is wrong, writes no output and leaves no temporary file behind.
func TestFinetuneCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	good := mlpNet(t, dir, "Relu")
	data := blobs(t, dir, "train", 48, 4, 0, -1)
	intModel := filepath.Join(dir, "ints.onnx")
	{
		g := ir.NewGraph("ints")
		x := g.AddInput("X", ir.TensorTypeOf(ir.Int64, 2))
		k := g.AddInitializer(ir.FromInt64("K", []int64{2}, []int64{1, 2}))
		n := g.NewNode("", "Add", []*ir.Value{x, k}, []string{"Y"})
		g.Append(n)
		g.Outputs = []*ir.Value{n.Output(0)}
		m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}
		if err := onnx.SaveModel(intModel, m, onnx.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ck := filepath.Join(dir, "nan.ckpt")
	cases := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"op without rule", []string{mlpNet(t, dir, "Sin"), "--data", data}, []string{"no gradient rule", `"Sin_A" (Sin)`}},
		{"integer-only graph", []string{intModel, "--data", data}, []string{"no trainable float initializer"}},
		{"rows that do not fit", []string{good, "--data", blobs(t, dir, "wide", 48, 5, 0, -1)}, []string{`input "X"`, "shape"}},
		{"labels outside the classes", []string{good, "--data", blobs(t, dir, "shifted", 48, 4, 2, -1)}, []string{"label 3", "outside the 3 classes"}},
		{"no labels", []string{good, "--data", filepath.Join(dir, "nolabels.npy")}, []string{"needs labels"}},
		{"NaN loss", []string{good, "--data", blobs(t, dir, "nan", 48, 4, 0, 30), "--batch", "8", "--checkpoint", ck, "--checkpoint-every", "1"},
			[]string{"epoch 1, step ", "loss is not finite", "last good checkpoint is " + ck}},
	}
	writeNPYFile(t, filepath.Join(dir, "nolabels.npy"), kernel.FromFloat32([]int64{48, 4}, make([]float32, 48*4)))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out.onnx")
			code, _, stderr := run(t, append([]string{"finetune", "-o", out}, tc.args...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1: %s", code, stderr)
			}
			t.Log(strings.TrimSpace(stderr))
			for _, w := range tc.wants {
				if !strings.Contains(stderr, w) {
					t.Errorf("message %q lacks %q", stderr, w)
				}
			}
			if strings.Contains(stderr, "panic") {
				t.Errorf("panicked: %s", stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an output was written")
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if strings.Contains(e.Name(), ".tmp") || strings.HasPrefix(e.Name(), ".") {
					t.Errorf("left behind %s", e.Name())
				}
			}
		})
	}
	// The NaN run's last good checkpoint resumes (with a sane learning rate it fails at the
	// same poisoned row again, which shows it continued at the step after the checkpoint).
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("no checkpoint kept: %v", err)
	}
}

func writeNPYFile(t *testing.T, path string, tensor *runtime.Tensor) {
	t.Helper()
	data, err := encodeNPY(tensor)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPruneFinetuneCommand(t *testing.T) {
	dir := t.TempDir()
	in := mlpNet(t, dir, "Relu")
	data := blobs(t, dir, "train", 96, 4, 0, -1)
	out := filepath.Join(dir, "pf.onnx")
	code, stdout, stderr := run(t, "prune", in, "-o", out, "--sparsity", "0.5", "--scope", "global", "--steps", "2",
		"--finetune-data", data, "--finetune-epochs", "1", "--finetune-batch", "16")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "round 2 of 2") || !strings.Contains(stdout, "pruned weights kept at zero") {
		t.Errorf("report:\n%s", stdout)
	}
	m, err := onnx.LoadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := m.Graph.Lookup("W1").Const.Float32s()
	w2, _ := m.Graph.Lookup("W2").Const.Float32s()
	zeros := 0
	for _, v := range append(w, w2...) {
		if v == 0 {
			zeros++
		}
	}
	if zeros != 28 {
		t.Errorf("%d of 56 weights are zero after global 50%% pruning and fine-tuning, want 28", zeros)
	}
	if code, stdout, _ := run(t, "diff", in, out); code != 0 || !strings.Contains(stdout, "0 unexplained") {
		t.Errorf("whittle diff does not explain prune + finetune:\n%s", stdout)
	}
	if code, _, stderr := run(t, "prune", in, "-o", out, "--pattern", "2:4", "--steps", "2", "--finetune-data", data); code != 1 || !strings.Contains(stderr, "N:M") {
		t.Errorf("iterative N:M: exit %d, %s", code, stderr)
	}
}

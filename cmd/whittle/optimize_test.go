package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
	"github.com/whittle-ml/whittle/passes"
)

// foldableModel is Y = Relu(Identity(X) + (a + a)): the optimizer folds a+a and drops the
// Identity, leaving Add and Relu.
func foldableModel() *pb.ModelProto {
	m := reluModel()
	a := &pb.TensorProto{Name: proto.String("a"), DataType: proto.Int32(int32(pb.TensorProto_FLOAT)), Dims: []int64{2, 3},
		FloatData: []float32{1, 2, 3, 4, 5, 6}}
	m.Graph.Initializer = []*pb.TensorProto{a}
	m.Graph.Node = []*pb.NodeProto{
		{OpType: proto.String("Identity"), Name: proto.String("id"), Input: []string{"X"}, Output: []string{"X1"}},
		{OpType: proto.String("Add"), Name: proto.String("aa"), Input: []string{"a", "a"}, Output: []string{"A2"}},
		{OpType: proto.String("Add"), Name: proto.String("add"), Input: []string{"X1", "A2"}, Output: []string{"S"}},
		{OpType: proto.String("Relu"), Name: proto.String("relu"), Input: []string{"S"}, Output: []string{"Y"}},
	}
	return m
}

func TestOptimize(t *testing.T) {
	dir := t.TempDir()
	in := writeModel(t, dir, "in.onnx", foldableModel())
	inBytes, _ := os.ReadFile(in)
	out := filepath.Join(dir, "out.onnx")
	report := filepath.Join(dir, "report.json")
	code, stdout, stderr := run(t, "optimize", in, "-o", out, "--verify", "--report", report)
	if code != exitOK {
		t.Fatalf("optimize = %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "nodes                4 -> 2") || !strings.Contains(stdout, "eliminate_identity") {
		t.Errorf("summary:\n%s", stdout)
	}
	m, err := onnx.LoadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, n := range m.Graph.Nodes() {
		ops = append(ops, n.OpType)
	}
	if got := strings.Join(ops, ","); got != "Add,Relu" {
		t.Errorf("optimized ops = %s", got)
	}
	if m.Graph.Outputs[0].Name != "Y" || m.Graph.Inputs[0].Name != "X" {
		t.Errorf("interface changed: %s -> %s", m.Graph.Inputs[0].Name, m.Graph.Outputs[0].Name)
	}
	if v, ok := m.MetadataValue(passes.MetaPasses); !ok || !strings.Contains(v, "fold_constants") {
		t.Errorf("whittle.passes = %q", v)
	}
	if v, ok := m.MetadataValue(passes.MetaChangeLog); !ok || !strings.Contains(v, `"node_removed"`) {
		t.Errorf("whittle.changelog = %q", v)
	}
	if after, _ := os.ReadFile(in); string(after) != string(inBytes) {
		t.Error("the input file changed")
	}
	var rep optimizeReport
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Before.Nodes != 4 || rep.After.Nodes != 2 || len(rep.Changes) == 0 || rep.Run == nil || !rep.Run.Converged {
		t.Errorf("report = %s", b)
	}
}

func TestOptimizeWithPassesAndRecipe(t *testing.T) {
	dir := t.TempDir()
	in := writeModel(t, dir, "in.onnx", foldableModel())
	out := filepath.Join(dir, "out.onnx")
	code, stdout, stderr := run(t, "optimize", in, "-o", out, "--passes", "eliminate_identity")
	if code != exitOK {
		t.Fatalf("optimize --passes = %d\n%s%s", code, stdout, stderr)
	}
	m, err := onnx.LoadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Graph.NumNodes(); n != 3 {
		t.Errorf("eliminate_identity alone left %d nodes, want 3", n)
	}
	recipe := filepath.Join(dir, "r.yaml")
	os.WriteFile(recipe, []byte("- pass: fold_constants\n  params: {max_bytes: 1024}\n- pass: eliminate_dead\n"), 0o644)
	code, stdout, stderr = run(t, "optimize", in, "-o", out, "--recipe", recipe)
	if code != exitOK || !strings.Contains(stdout, "fold_constants:max_bytes=1024") {
		t.Fatalf("optimize --recipe = %d\n%s%s", code, stdout, stderr)
	}
}

func TestOptimizeErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeModel(t, dir, "in.onnx", foldableModel())
	out := filepath.Join(dir, "out.onnx")
	badRecipe := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badRecipe, []byte("- pass: no_such_pass\n"), 0o644)
	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr string
	}{
		{"no output", []string{in}, exitUsage, "-o OUT is required"},
		{"unknown pass", []string{in, "-o", out, "--passes", "fold_it"}, exitUsage, `unknown pass "fold_it" (valid passes:`},
		{"unknown param", []string{in, "-o", out, "--passes", "eliminate_dead:x=1"}, exitUsage, `unknown parameter "x"`},
		{"both lists", []string{in, "-o", out, "--passes", "eliminate_dead", "--recipe", badRecipe}, exitUsage, "not both"},
		{"bad recipe", []string{in, "-o", out, "--recipe", badRecipe}, exitFail, `unknown pass "no_such_pass"`},
		{"missing input", []string{filepath.Join(dir, "nope.onnx"), "-o", out}, exitFail, "nope.onnx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"optimize"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("an output was written")
			}
		})
	}
	code, stdout, _ := run(t, "optimize", "--list-passes")
	if code != exitOK || !strings.Contains(stdout, "fuse_bn_into_conv [default]") {
		t.Errorf("--list-passes = %d\n%s", code, stdout)
	}
}

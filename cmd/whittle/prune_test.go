package main

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
)

// convNet writes X[1,4,6,6] -> Conv(8) -> Relu -> Conv(4) -> Flatten -> Gemm(3) -> Y.
func convNet(t *testing.T, dir string) string {
	t.Helper()
	g := ir.NewGraph("net")
	x := g.AddInput("X", ir.TensorTypeOf(ir.Float, 1, 4, 6, 6))
	fill := func(name string, dims ...int64) *ir.Value {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		data := make([]float32, n)
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		for i := range data {
			data[i] = float32(rng.NormFloat64())
		}
		return g.AddInitializer(ir.FromFloat32(name, dims, data))
	}
	w1, w2, fc := fill("W1", 8, 4, 3, 3), fill("W2", 4, 8, 1, 1), fill("FC", 3, 144)
	add := func(op string, ins []*ir.Value, out string, attrs ...*ir.Attr) *ir.Value {
		n := g.NewNode("", op, ins, []string{out}, attrs...)
		n.Name = op + "_" + out
		g.Append(n)
		return n.Output(0)
	}
	c1 := add("Conv", []*ir.Value{x, w1}, "C1", ir.IntsAttr("pads", 1, 1, 1, 1))
	r := add("Relu", []*ir.Value{c1}, "R")
	c2 := add("Conv", []*ir.Value{r, w2}, "C2")
	f := add("Flatten", []*ir.Value{c2}, "F")
	y := add("Gemm", []*ir.Value{f, fc}, "Y", ir.IntAttr("transB", 1))
	y.Type = ir.TensorTypeOf(ir.Float, 1, 3)
	g.Outputs = []*ir.Value{y}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 17}}, Graph: g}
	path := filepath.Join(dir, "net.onnx")
	if err := onnx.SaveModel(path, m, onnx.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPruneCommand(t *testing.T) {
	dir := t.TempDir()
	in := convNet(t, dir)
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, m *ir.Model, rep *passes.PruneReport)
	}{
		{"unstructured global", []string{"--sparsity", "0.5", "--scope", "global"}, func(t *testing.T, m *ir.Model, rep *passes.PruneReport) {
			if rep.After.Nonzero >= rep.Before.Nonzero || rep.Files == nil || rep.Files.After.Zstd >= rep.Files.Before.Zstd {
				t.Errorf("no storage saved: %+v %+v", rep.After, rep.Files)
			}
		}},
		{"2:4", []string{"--pattern", "2:4"}, func(t *testing.T, m *ir.Model, rep *passes.PruneReport) {
			if rep.Sparsity != 0.5 || len(rep.Skipped) != 0 {
				t.Errorf("2:4 report: sparsity %v, skipped %+v", rep.Sparsity, rep.Skipped)
			}
		}},
		{"channel", []string{"--pattern", "channel", "--sparsity", "0.5", "--norm", "l2"}, func(t *testing.T, m *ir.Model, rep *passes.PruneReport) {
			if d := m.Graph.Lookup("FC").Const.Dims; d[1] != 72 {
				t.Errorf("FC %v, want 72 features after removing 2 of 4 channels", d)
			}
			if rep.Files.After.Raw >= rep.Files.Before.Raw || rep.After.MACs >= rep.Before.MACs {
				t.Errorf("channel pruning did not shrink: %+v, MACs %d -> %d", rep.Files, rep.Before.MACs, rep.After.MACs)
			}
			if _, ok := m.MetadataValue(passes.MetaPasses); !ok {
				t.Errorf("pipeline not recorded in metadata")
			}
		}},
		{"exclude and per-layer", []string{"--sparsity", "0.5", "--exclude", "W2,FC", "--per-layer", "Conv_C1=0.25"}, func(t *testing.T, m *ir.Model, rep *passes.PruneReport) {
			if s := rep.Layers[0].SparsityAfter; s != 0.25 {
				t.Errorf("Conv_C1 sparsity %v, want 0.25", s)
			}
			if l1, l2 := rep.Layers[1], rep.Layers[2]; l1.SparsityAfter != l1.Sparsity || l2.SparsityAfter != l2.Sparsity {
				t.Errorf("excluded layers pruned: %+v", rep.Layers)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out.onnx")
			reportPath := filepath.Join(dir, "report.json")
			code, stdout, stderr := run(t, append([]string{"prune", in, "-o", out, "--report", reportPath}, tc.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stdout, "MACs (batch 1)") || !strings.Contains(stdout, "zstd") {
				t.Errorf("text report incomplete:\n%s", stdout)
			}
			m, err := whittle.LoadFile(out, whittle.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(reportPath)
			if err != nil {
				t.Fatal(err)
			}
			var rep passes.PruneReport
			if err := json.Unmarshal(data, &rep); err != nil {
				t.Fatal(err)
			}
			tc.check(t, m, &rep)
			if code, _, stderr := run(t, "check", out); code != 0 {
				t.Errorf("whittle check rejects the pruned model: %s", stderr)
			}
		})
	}
}

func TestPruneCommandUsage(t *testing.T) {
	dir := t.TempDir()
	in := convNet(t, dir)
	out := filepath.Join(dir, "o.onnx")
	for _, args := range [][]string{
		{"prune", in, "-o", out},                                          // no --sparsity
		{"prune", in, "--sparsity", "0.5"},                                // no -o
		{"prune", in, "-o", out, "--sparsity", "1.5"},                     // out of range
		{"prune", in, "-o", out, "--sparsity", "0.5", "--pattern", "4:2"}, // bad pattern
		{"prune", in, "-o", out, "--pattern", "2:4", "--sparsity", "0.3"}, // contradicts 2:4
		{"prune", in, "-o", out, "--sparsity", "0.5", "--per-layer", "x"}, // bad override
		{"prune", in, "-o", out, "--sparsity", "0.5", "--scope", "world"}, // bad scope
	} {
		if code, _, _ := run(t, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args[2:], code, exitUsage)
		}
	}
}

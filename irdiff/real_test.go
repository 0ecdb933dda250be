package irdiff

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
)

// TestRealModel diffs a PyTorch export against itself and against an edited copy: weights
// half pruned, an attribute changed, a Relu appended that takes over the graph output.
func TestRealModel(t *testing.T) {
	path := filepath.Join(testenv.ONNXTestsDir(t), "pytorch-converted", "test_ConvTranspose2d", "model.onnx")
	a, err := onnx.LoadModel(path)
	if err != nil {
		t.Fatal(err)
	}

	same, err := Compare(a, a.Clone(), Options{InferShapes: true})
	if err != nil {
		t.Fatal(err)
	}
	if !same.Equal {
		var out bytes.Buffer
		_ = same.WriteText(&out, TextOptions{})
		t.Fatalf("a model differs from its clone:\n%s", out.String())
	}

	b := a.Clone()
	g := b.Graph
	convT := g.Nodes()[0]
	w := convT.Input(1)
	vals, err := w.Const.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	for i := range vals[:len(vals)/2] {
		vals[i] = 0
	}
	w.Const = ir.FromFloat32(w.Name, w.Const.Dims, vals)
	convT.SetAttr(ir.IntsAttr("pads", 0, 0, 0, 0))
	out := convT.Output(0)
	out.Name = "convt_out"
	relu := g.NewNode("", "Relu", []*ir.Value{out}, []string{"3"})
	relu.Name = "relu"
	g.Append(relu)
	relu.Output(0).Type = out.Type.Clone()
	g.ReplaceOutput(0, relu.Output(0))
	if err := b.Verify(); err != nil {
		t.Fatal(err)
	}

	d, err := Compare(a, b, Options{LabelA: "model.onnx", LabelB: "edited.onnx", InferShapes: true})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := d.WriteText(&text, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())

	if d.Equal || d.Summary.Added != 1 || d.Summary.Removed != 0 {
		t.Errorf("summary %+v", d.Summary)
	}
	var convDiff NodeDiff
	for _, nd := range d.Graph.Nodes {
		if nd.Op == "ConvTranspose" {
			convDiff = nd
		}
	}
	if convDiff.Status != Changed || convDiff.MatchedBy != byStructure {
		t.Errorf("ConvTranspose must be matched by structure and changed: %+v", convDiff)
	}
	if len(convDiff.Attributes) != 1 || convDiff.Attributes[0].Name != "pads" || convDiff.Attributes[0].Old != "[1, 1, 1, 1]" {
		t.Errorf("attributes: %+v", convDiff.Attributes)
	}
	if len(convDiff.Outputs) != 1 || convDiff.Outputs[0] != (EdgeChange{Index: 0, Old: "3", New: "convt_out"}) {
		t.Errorf("outputs: %+v", convDiff.Outputs)
	}
	wd := findInit(t, d.Graph, "1")
	if wd.OldSparsity == nil || *wd.OldSparsity != 0 || wd.NewSparsity == nil || *wd.NewSparsity != 0.5 || wd.RelL2 == nil || *wd.RelL2 <= 0 {
		t.Errorf("weight: %+v", wd)
	}
	if d.Totals.Nodes != (Count{1, 2, 1}) || d.Totals.MACs.A == 0 || !d.Totals.MACsComplete[0] {
		t.Errorf("totals: %+v", d.Totals)
	}
	if !strings.Contains(text.String(), "+ relu") {
		t.Error("text does not show the added Relu")
	}
}

// TestBackendModels compares every ONNX backend test model with its clone, which must be
// equal, and with the next model in the list, which exercises matching and every renderer
// on unrelated graphs (subgraphs, functions, sparse and string constants): no error, no
// panic, and the differences are found.
func TestBackendModels(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.ONNXTestsDir(t), "*", "*", "model.onnx"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no backend test models: %v", err)
	}
	var prev *ir.Model
	prevFile := ""
	compared := 0
	for _, f := range files {
		m, err := onnx.LoadModel(f)
		if err != nil || m.Verify() != nil {
			continue // the loader's tests cover files it rejects
		}
		d, err := Compare(m, m.Clone(), Options{InferShapes: true})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !d.Equal {
			var out bytes.Buffer
			_ = d.WriteText(&out, TextOptions{})
			t.Errorf("%s differs from its clone:\n%s", f, out.String())
		}
		if prev != nil {
			d, err := Compare(prev, m, Options{All: true})
			if err != nil {
				t.Fatalf("%s vs %s: %v", prevFile, f, err)
			}
			var out bytes.Buffer
			for _, render := range []func() error{
				func() error { return d.WriteText(&out, TextOptions{Color: true}) },
				func() error { return d.WriteJSON(&out) },
				func() error { return d.WriteDOT(&out) },
			} {
				if err := render(); err != nil {
					t.Fatalf("%s vs %s: %v", prevFile, f, err)
				}
			}
			if d.Equal && ir.Format(prev) != ir.Format(m) {
				t.Errorf("%s and %s differ in text form but the diff finds them equal", prevFile, f)
			}
		}
		prev, prevFile = m, f
		compared++
	}
	t.Logf("compared %d models", compared)
}

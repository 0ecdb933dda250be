package distill

import (
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
)

// An untrained PyTorch student as the exporter writes it: the running statistics are
// Identity(weight) and Identity(bias), the initializers of equal value merged.
func TestUntieBatchNormStats(t *testing.T) {
	g := ir.NewGraph("s")
	x := g.AddInput("input", ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(2), ir.Known(3), ir.Known(3)))
	w := g.AddInitializer(ir.FromFloat32("bn.weight", []int64{2}, []float32{1, 1}))
	b := g.AddInitializer(ir.FromFloat32("bn.bias", []int64{2}, []float32{0, 0}))
	idVar := g.NewNode("", "Identity", []*ir.Value{w}, []string{"bn.running_var"})
	idMean := g.NewNode("", "Identity", []*ir.Value{b}, []string{"bn.running_mean"})
	g.Append(idVar)
	g.Append(idMean)
	bn := g.NewNode("", "BatchNormalization", []*ir.Value{x, w, b, idMean.Output(0), idVar.Output(0)}, []string{"y"})
	g.Append(bn)
	bn.Output(0).Type = ir.TensorType(ir.Float, ir.Symbolic("N"), ir.Known(2), ir.Known(3), ir.Known(3))
	g.Outputs = []*ir.Value{bn.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}

	n, err := untieBatchNormStats(m)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("untied %d statistics, want 2", n)
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]string{3: "bn.running_mean", 4: "bn.running_var"} {
		v := bn.Input(i)
		if v.Const == nil || v.Name != want || v.Const.Name != want {
			t.Errorf("input %d is %q (const %v), want the initializer %q", i, v.Name, v.Const != nil, want)
		}
		if v == w || v == b {
			t.Errorf("input %d still shares the weight or bias", i)
		}
	}
	for _, node := range g.Nodes() {
		if node.OpType == "Identity" {
			t.Errorf("%s left behind", node.Describe())
		}
	}
	if bn.Input(1) != w || bn.Input(2) != b {
		t.Error("scale and bias changed")
	}
	if err := Check(m); err != nil {
		t.Fatal(err)
	}
	if n, _ := untieBatchNormStats(m); n != 0 {
		t.Errorf("a second run untied %d more", n)
	}
}

// The committed user student is such an export: loading it unties its three BatchNorms.
func TestLoadStudentUntiesBatchNorm(t *testing.T) {
	teacher := testModel(t, "fashion_cnn_op17.onnx")
	root, _ := testenv.RepoRoot()
	st, err := Build(nil, teacher, mustSpec(t, filepath.Join(root, "testmodels", "fashion_student_op17.onnx")))
	if err != nil {
		t.Fatal(err)
	}
	stats := 0
	for _, n := range st.Model.Graph.Nodes() {
		if n.OpType == "Identity" {
			t.Errorf("%s left", n.Describe())
		}
		if n.OpType == "BatchNormalization" {
			for i := 3; i <= 4; i++ {
				if n.Input(i).Const == nil {
					t.Errorf("%s: input %d is not an initializer", n.Describe(), i)
				}
				stats++
			}
		}
	}
	if stats != 6 {
		t.Errorf("%d statistics, want 6", stats)
	}
}

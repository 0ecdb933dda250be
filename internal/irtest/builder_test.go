package irtest_test

import (
	"testing"

	"github.com/whittle-ml/whittle/internal/irtest"
	"github.com/whittle-ml/whittle/ir"
)

func TestBuilder(t *testing.T) {
	m := irtest.New(t, 17).
		InputOf("X", "float[N,4]").
		Floats("W", []int64{4, 2}, 1, 2, 3, 4, 5, 6, 7, 8).
		Node("MatMul", "X,W", "Y").
		Node("Relu", "Y", "Z").
		Output("Z").
		Model()
	if got := irtest.Ops(m); got != "MatMul,Relu" {
		t.Errorf("ops %s", got)
	}
	if x := m.Graph.Inputs[0]; x.Type.String() != "float[N,4]" {
		t.Errorf("X is %s", x.Type)
	}
	if n := m.Graph.Nodes()[0]; n.Name != "MatMul_Y" || n.Input(1).Const == nil {
		t.Errorf("node %s reads %v", n.Name, n.Inputs())
	}
	for s, want := range map[string]string{"float": "float", "int64[]": "int64[]", "float[2,?,B]": "float[2,?,B]"} {
		if got := irtest.ParseType(t, s).String(); got != want {
			t.Errorf("ParseType(%q) = %s", s, got)
		}
	}
	_ = ir.Float
}

package runtime

import (
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestConstEvaluator(t *testing.T) {
	g := ir.NewGraph("g")
	a := g.AddInitializer(ir.FromFloat32("a", []int64{2}, []float32{1, 2}))
	shape := g.AddInitializer(ir.FromInt64("s", []int64{2}, []int64{2, 1}))
	add := g.NewNode("", "Add", []*ir.Value{a, a}, []string{"sum"})
	g.Append(add)
	reshape := g.NewNode("", "Reshape", []*ir.Value{add.Output(0), shape}, []string{"r"})
	g.Append(reshape)
	g.Outputs = []*ir.Value{reshape.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 13}}, Graph: g}

	outs, err := ConstEvaluator{}.EvalNode(m, add, []*ir.Tensor{a.Const, a.Const})
	if err != nil {
		t.Fatal(err)
	}
	got, err := outs[0].Float32s()
	if err != nil || !reflect.DeepEqual(got, []float32{2, 4}) || outs[0].Name != "sum" {
		t.Fatalf("Add = %v %v (%v)", outs[0].Name, got, err)
	}
	// Reshape needs its shape as a constant input: the evaluator passes inputs as
	// initializers.
	outs, err = ConstEvaluator{}.EvalNode(m, reshape, []*ir.Tensor{outs[0], shape.Const})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(outs[0].Dims, []int64{2, 1}) {
		t.Errorf("Reshape dims = %v", outs[0].Dims)
	}
	// Errors name the node.
	bad := g.NewNode("", "NoSuchOp", []*ir.Value{a}, []string{"z"})
	if _, err := (ConstEvaluator{}).EvalNode(m, bad, []*ir.Tensor{a.Const}); err == nil {
		t.Error("an unknown op evaluated")
	}
	if _, err := (ConstEvaluator{}).EvalNode(m, add, []*ir.Tensor{a.Const}); err == nil {
		t.Error("a missing input was accepted")
	}
}

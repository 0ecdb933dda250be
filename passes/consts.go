package passes

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/whittle-ml/whittle/ir"
)

// Helpers that read constants. A value is constant when it is an initializer that is not
// also a graph input (in IR < 4 an initializer listed as an input is only a default the
// caller may override) with its data loaded, or the output of a Constant node.

// constOf returns v's constant tensor, or nil.
func constOf(v *ir.Value) *ir.Tensor {
	if v == nil {
		return nil
	}
	if v.Const != nil {
		if v.IsGraphInput() || v.Const.External != nil || v.Const.Segment != nil {
			return nil
		}
		return v.Const
	}
	if p := v.Producer(); p != nil && p.OpType == "Constant" && ir.IsDefaultDomain(p.Domain) {
		t, err := constantNodeTensor(p)
		if err == nil {
			return t
		}
	}
	return nil
}

// isStandardDomain reports whether ops of domain are ONNX's own (whose semantics are
// specified, so that passes may reason about them).

// constantNodeTensor decodes the value of a Constant node, whichever attribute holds it.
func constantNodeTensor(n *ir.Node) (*ir.Tensor, error) {
	name := nameOf(n.Output(0))
	for _, a := range n.Attrs {
		switch a.Name {
		case "value":
			if a.Type == ir.AttrTensor && a.Tensor != nil {
				if a.Tensor.External != nil {
					return nil, fmt.Errorf("%s: external data not loaded", n.Describe())
				}
				t := a.Tensor.Clone()
				t.Name = name
				return t, nil
			}
		case "value_float":
			return ir.FromFloat32(name, nil, []float32{a.Float}), nil
		case "value_floats":
			return ir.FromFloat32(name, []int64{int64(len(a.Floats))}, a.Floats), nil
		case "value_int":
			return ir.FromInt64(name, nil, []int64{a.Int}), nil
		case "value_ints":
			return ir.FromInt64(name, []int64{int64(len(a.Ints))}, a.Ints), nil
		case "value_string":
			return &ir.Tensor{Name: name, DataType: ir.String, Strings: [][]byte{[]byte(a.String)}}, nil
		case "value_strings":
			t := &ir.Tensor{Name: name, DataType: ir.String, Dims: []int64{int64(len(a.Strings))}}
			for _, s := range a.Strings {
				t.Strings = append(t.Strings, []byte(s))
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("%s has no dense value attribute", n.Describe())
}

// constInts returns the elements of a constant integer tensor.
func constInts(v *ir.Value) ([]int64, bool) {
	t := constOf(v)
	if t == nil {
		return nil, false
	}
	xs, err := t.Int64s()
	if err != nil {
		return nil, false
	}
	return xs, true
}

// tensorBytes is the size of t's data.
func tensorBytes(t *ir.Tensor) int64 {
	if t == nil {
		return 0
	}
	n := int64(len(t.Raw))
	for _, s := range t.Strings {
		n += int64(len(s))
	}
	return n
}

// sameData reports whether two tensors hold the same elements (same type, shape, bytes).
func sameData(a, b *ir.Tensor) bool {
	if a.DataType != b.DataType || !slices.Equal(a.Dims, b.Dims) || !bytes.Equal(a.Raw, b.Raw) || len(a.Strings) != len(b.Strings) {
		return false
	}
	for i := range a.Strings {
		if !bytes.Equal(a.Strings[i], b.Strings[i]) {
			return false
		}
	}
	return true
}

// staticDims returns v's shape when every dimension is known.
func staticDims(v *ir.Value) ([]int64, bool) {
	if v == nil {
		return nil, false
	}
	if t := constOf(v); t != nil {
		return t.Dims, true
	}
	if v.Type == nil || v.Type.Kind != ir.TensorKind {
		return nil, false
	}
	return v.Type.StaticDims()
}

// rankOf returns v's rank, or -1.
func rankOf(v *ir.Value) int {
	if t := constOf(v); t != nil {
		return len(t.Dims)
	}
	if v == nil || v.Type == nil || v.Type.Kind != ir.TensorKind {
		return -1
	}
	return v.Type.Rank()
}

// elemOf returns v's element type, or Undefined.
func elemOf(v *ir.Value) ir.DataType {
	if t := constOf(v); t != nil {
		return t.DataType
	}
	if v == nil || v.Type == nil || v.Type.Kind != ir.TensorKind {
		return ir.Undefined
	}
	return v.Type.Elem
}

// opsetOf returns the model's version of the default domain.
func opsetOf(m *ir.Model) int64 {
	v, _ := m.Opset("")
	return v
}

// onlyUse returns the single node reading v, when v has exactly one use and is not a
// graph output.
func onlyUse(v *ir.Value) (*ir.Node, int, bool) {
	if v == nil || len(v.Uses()) != 1 || v.IsGraphOutput() {
		return nil, 0, false
	}
	u := v.Uses()[0]
	return u.Node, u.Index, true
}

// workGraphs lists the main graph and every graph nested in its nodes' attributes, outer
// first. Function bodies and training graphs are left alone: their formal inputs are
// untyped and their interface is referred to by name.
func workGraphs(m *ir.Model) []*ir.Graph {
	var out []*ir.Graph
	var walk func(g *ir.Graph)
	walk = func(g *ir.Graph) {
		out = append(out, g)
		for _, n := range g.Nodes() {
			for _, s := range n.Subgraphs() {
				walk(s)
			}
		}
	}
	if m.Graph != nil {
		walk(m.Graph)
	}
	return out
}

// randomOps are nondeterministic: two runs differ, so they are never folded or merged.
var randomOps = map[string]bool{
	"RandomNormal": true, "RandomNormalLike": true, "RandomUniform": true, "RandomUniformLike": true,
	"Bernoulli": true, "Multinomial": true,
}

func isRandom(n *ir.Node) bool { return ir.IsDefaultDomain(n.Domain) && randomOps[n.OpType] }

func hasSubgraphs(n *ir.Node) bool { return len(n.Subgraphs()) > 0 }

// isOp reports whether n is the standard operator op.
func isOp(n *ir.Node, op string) bool {
	return n != nil && n.OpType == op && ir.IsDefaultDomain(n.Domain)
}

func floatBits(f float32) uint32 { return math.Float32bits(f) }

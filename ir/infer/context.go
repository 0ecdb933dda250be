package infer

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/opschema"
)

// rule computes a node's output types from what ctx tells of its inputs.
type rule func(c *ctx)

// rules maps "Op" (default domain) or "domain::Op" to its inference rule.
var rules = map[string]rule{}

// propagators map ops to their data-propagation functions (see propagate.go).
var propagators = map[string]rule{}

func register(r rule, ops ...string) {
	for _, op := range ops {
		if _, dup := rules[op]; dup {
			panic("infer: duplicate rule for " + op)
		}
		rules[op] = r
	}
}

// ctx is one node under inference.
type ctx struct {
	e      *engine
	n      *ir.Node
	opset  int64 // version of the node's domain in force
	opsets []ir.OpsetID
}

// problem records a contradiction at where ("input 1", "attribute axes", ...).
func (c *ctx) problem(where, format string, args ...any) {
	version := c.opset
	if s, ok := opschema.Lookup(c.n.Domain, c.n.OpType, c.opset); ok {
		version = s.SinceVersion
	}
	c.e.report.Problems = append(c.e.report.Problems, Problem{
		Node:    c.n.Describe(),
		Op:      describeOp(c.n, version),
		Where:   where,
		Message: fmt.Sprintf(format, args...),
	})
}

func inputName(i int) string { return fmt.Sprintf("input %d", i) }

func attrName(name string) string { return "attribute " + name }

// numInputs counts the node's inputs, omitted ones included.
func (c *ctx) numInputs() int { return len(c.n.Inputs()) }

// has reports whether input i is present.
func (c *ctx) has(i int) bool { return c.n.Input(i) != nil }

// in returns the type of input i, or nil when the input is absent or its type unknown.
func (c *ctx) in(i int) *ir.Type {
	if v := c.n.Input(i); v != nil {
		return v.Type
	}
	return nil
}

// elem returns the element type of tensor input i, or Undefined.
func (c *ctx) elem(i int) ir.DataType {
	if t := c.in(i); t != nil && (t.Kind == ir.TensorKind || t.Kind == ir.SparseTensorKind) {
		return t.Elem
	}
	return ir.Undefined
}

// shape returns the dims of input i and whether its rank is known.
func (c *ctx) shape(i int) ([]ir.Dim, bool) {
	t := c.in(i)
	if t == nil || t.Kind != ir.TensorKind || !t.HasShape {
		return nil, false
	}
	return t.Dims, true
}

// rank returns the rank of input i, or -1.
func (c *ctx) rank(i int) int {
	if d, ok := c.shape(i); ok {
		return len(d)
	}
	return -1
}

// out sets output i to t, merging with a declared type.
func (c *ctx) out(i int, t *ir.Type) {
	v := c.n.Output(i)
	if v == nil || t == nil {
		return
	}
	if t.Kind == ir.TensorKind && t.Elem == ir.Undefined && !t.HasShape {
		return
	}
	merged, conflict := mergeType(v.Type, t)
	if conflict != "" {
		c.problem(fmt.Sprintf("output %d (%s)", i, v.Name), "%s", conflict)
		return
	}
	v.Type = merged
}

// outTensor sets output i to a tensor of elem with dims (rank unknown when !ranked).
func (c *ctx) outTensor(i int, elem ir.DataType, dims []ir.Dim, ranked bool) {
	c.out(i, tensor(elem, dims, ranked))
}

// numOutputs counts the node's outputs, omitted ones included.
func (c *ctx) numOutputs() int { return len(c.n.Outputs()) }

func tensor(elem ir.DataType, dims []ir.Dim, ranked bool) *ir.Type {
	t := &ir.Type{Kind: ir.TensorKind, Elem: elem}
	if ranked {
		t.Dims = append([]ir.Dim{}, dims...)
		t.HasShape = true
	}
	return t
}

// constTensor returns the constant data of input i: an initializer or a Constant node's
// output. Tensors whose bytes live in unloaded external files do not count.
func (c *ctx) constTensor(i int) *ir.Tensor {
	v := c.n.Input(i)
	if v == nil {
		return nil
	}
	return c.e.constOf(v)
}

func (e *engine) constOf(v *ir.Value) *ir.Tensor {
	t := v.Const
	if t == nil {
		t = e.consts[v]
	}
	if t == nil || (t.External != nil && len(t.Raw) == 0) {
		return nil
	}
	return t
}

// values returns the elements of integer input i: from a constant, or from data
// propagation, where they may be symbolic sizes.
func (c *ctx) values(i int) ([]val, bool) {
	v := c.n.Input(i)
	if v == nil {
		return nil, false
	}
	return c.e.valuesOf(v)
}

func (e *engine) valuesOf(v *ir.Value) ([]val, bool) {
	if t := e.constOf(v); t != nil {
		if n, err := t.NumElements(); err != nil || n > maxTracked {
			return nil, false
		}
		ints, err := t.Int64s()
		if err != nil {
			return nil, false
		}
		out := make([]val, len(ints))
		for k, x := range ints {
			out[k] = known(x)
		}
		return out, true
	}
	if d, ok := e.data[v]; ok {
		return d, true
	}
	return nil, false
}

// ints returns the values of integer input i when all are known.
func (c *ctx) ints(i int) ([]int64, bool) {
	v := c.n.Input(i)
	if v == nil {
		return nil, false
	}
	if t := c.e.constOf(v); t != nil {
		vals, err := t.Int64s()
		return vals, err == nil
	}
	if d, ok := c.e.data[v]; ok {
		out := make([]int64, len(d))
		for k, x := range d {
			if !x.known {
				return nil, false
			}
			out[k] = x.v
		}
		return out, true
	}
	return nil, false
}

// floats returns the values of a constant float (or integer) input.
func (c *ctx) floats(i int) ([]float64, bool) {
	t := c.constTensor(i)
	if t == nil {
		if vals, ok := c.ints(i); ok {
			out := make([]float64, len(vals))
			for k, x := range vals {
				out[k] = float64(x)
			}
			return out, true
		}
		return nil, false
	}
	return tensorFloats(t)
}

func tensorFloats(t *ir.Tensor) ([]float64, bool) {
	if ir.IsFloat(t.DataType) {
		out, err := t.Float64s()
		return out, err == nil
	}
	vals, err := t.Int64s()
	if err != nil {
		return nil, false
	}
	out := make([]float64, len(vals))
	for k, x := range vals {
		out[k] = float64(x)
	}
	return out, true
}

// attrInts returns an ints attribute and whether it is present.
func (c *ctx) attrInts(name string) ([]int64, bool) {
	a := c.n.Attr(name)
	if a == nil {
		return nil, false
	}
	if a.Type != ir.AttrInts {
		if a.Type == ir.AttrInt {
			return []int64{a.Int}, true
		}
		return nil, false
	}
	return a.Ints, true
}

// normAxis maps a possibly negative axis into [0, rank), reporting a problem at where.
func (c *ctx) normAxis(axis int64, rank int, where string) (int, bool) {
	if axis < -int64(rank) || axis >= int64(rank) {
		c.problem(where, "axis %d out of range for rank %d", axis, rank)
		return 0, false
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), true
}

// normAxes maps every axis, failing on duplicates.
func (c *ctx) normAxes(axes []int64, rank int, where string) ([]int, bool) {
	out := make([]int, len(axes))
	seen := map[int]bool{}
	for k, a := range axes {
		ax, ok := c.normAxis(a, rank, where)
		if !ok {
			return nil, false
		}
		if seen[ax] {
			c.problem(where, "axis %d repeated", a)
			return nil, false
		}
		seen[ax] = true
		out[k] = ax
	}
	return out, true
}

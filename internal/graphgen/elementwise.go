package graphgen

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// Opset is the default-domain opset of the graphs built here (axes of Unsqueeze, Squeeze
// and Slice are inputs, as they are from opset 13 on).
const Opset = 13

// Unary, Binary and Shape list the operators Elementwise draws from; Reference implements
// exactly these.
var (
	Unary  = []string{"Relu", "Neg", "Abs", "Sigmoid", "Tanh", "Identity"}
	Binary = []string{"Add", "Sub", "Mul", "Max", "Min"}
	Shape  = []string{"Transpose", "Reshape", "Unsqueeze", "Squeeze", "Concat", "Flatten", "Slice"}
)

// maxRank and maxElements keep every value small: Concat doubles an axis and Binary can
// broadcast two long axes against each other, which chained would grow without bound.
const (
	maxRank     = 5
	maxElements = 4096
)

// Case is a generated model with inputs to run it on.
type Case struct {
	Model  *ir.Model
	Inputs map[string]*Tensor
}

// Tensor is a dense float tensor in row-major order.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// gval is a value of the graph being built, with its static shape.
type gval struct {
	v     *ir.Value
	shape []int64
}

type builder struct {
	src  *Source
	g    *ir.Graph
	vals []gval
	n    int
}

func (b *builder) name(prefix string) string {
	b.n++
	return fmt.Sprintf("%s%d", prefix, b.n)
}

// Elementwise builds a graph of up to maxNodes elementwise and shape operators on one to
// three float inputs whose shapes broadcast together, with inputs in [-2, 2).
func Elementwise(src *Source, maxNodes int) *Case {
	g := ir.NewGraph("elementwise")
	b := &builder{src: src, g: g}
	// A base shape the inputs are suffixes of, with some axes 1, so that they broadcast.
	base := make([]int64, src.Range(1, 4))
	for i := range base {
		base[i] = int64(src.Range(1, 4))
	}
	c := &Case{Model: &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: Opset}}, Graph: g},
		Inputs: map[string]*Tensor{}}
	for i := src.Range(1, 3); i > 0; i-- {
		shape := append([]int64(nil), base[src.Intn(len(base)+1):]...)
		for k := range shape {
			if src.Bool(4) {
				shape[k] = 1
			}
		}
		name := b.name("in")
		v := g.AddInput(name, ir.TensorTypeOf(ir.Float, shape...))
		b.vals = append(b.vals, gval{v, shape})
		t := &Tensor{Shape: shape, Data: make([]float32, numel(shape))}
		for k := range t.Data {
			t.Data[k] = src.Float(2)
		}
		c.Inputs[name] = t
	}
	for i := src.Range(1, maxNodes); i > 0; i-- {
		b.addElementwise()
	}
	last := b.vals[len(b.vals)-1]
	g.Outputs = append(g.Outputs, last.v)
	if other := b.vals[src.Intn(len(b.vals))]; other.v != last.v && other.v.Producer() != nil {
		g.Outputs = append(g.Outputs, other.v)
	}
	for _, o := range g.Outputs {
		o.Type = ir.TensorTypeOf(ir.Float, shapeOf(b, o)...)
	}
	return c
}

func shapeOf(b *builder, v *ir.Value) []int64 {
	for _, gv := range b.vals {
		if gv.v == v {
			return gv.shape
		}
	}
	return nil
}

// node appends op reading ins and returns its output, recorded with shape.
func (b *builder) node(op string, ins []*ir.Value, shape []int64, attrs ...*ir.Attr) *ir.Value {
	n := b.g.NewNode("", op, ins, []string{b.name("v")}, attrs...)
	n.Name = b.name("n")
	b.g.Append(n)
	out := n.Output(0)
	out.Type = ir.TensorTypeOf(ir.Float, shape...)
	b.vals = append(b.vals, gval{out, shape})
	return out
}

func (b *builder) ints(values ...int64) *ir.Value {
	return b.g.AddInitializer(ir.FromInt64(b.name("c"), []int64{int64(len(values))}, values))
}

func (b *builder) addElementwise() {
	src := b.src
	a := b.vals[src.Intn(len(b.vals))]
	switch src.Intn(3) {
	case 0:
		b.node(Unary[src.Intn(len(Unary))], []*ir.Value{a.v}, a.shape)
	case 1:
		var partners []gval
		for _, o := range b.vals {
			if s, ok := broadcast(a.shape, o.shape); ok && numel(s) <= maxElements {
				partners = append(partners, o)
			}
		}
		if len(partners) == 0 {
			partners = append(partners, a) // a with itself always fits
		}
		o := partners[src.Intn(len(partners))]
		shape, _ := broadcast(a.shape, o.shape)
		ins := []*ir.Value{a.v, o.v}
		if src.Bool(2) {
			ins[0], ins[1] = ins[1], ins[0]
		}
		b.node(Binary[src.Intn(len(Binary))], ins, shape)
	default:
		b.addShapeOp(a)
	}
}

func (b *builder) addShapeOp(a gval) {
	src := b.src
	r := len(a.shape)
	switch op := Shape[src.Intn(len(Shape))]; op {
	case "Transpose":
		perm := permutation(src, r)
		shape := make([]int64, r)
		for i, p := range perm {
			shape[i] = a.shape[p]
		}
		b.node(op, []*ir.Value{a.v}, shape, ir.IntsAttr("perm", perm...))
	case "Reshape":
		n := numel(a.shape)
		shape := factor(src, n)
		req := append([]int64(nil), shape...)
		if len(req) > 0 && src.Bool(3) {
			req[src.Intn(len(req))] = -1
		}
		b.node(op, []*ir.Value{a.v, b.ints(req...)}, shape)
	case "Unsqueeze":
		if r >= maxRank {
			b.node("Identity", []*ir.Value{a.v}, a.shape)
			return
		}
		axis := src.Intn(r + 1)
		shape := append(append(append([]int64(nil), a.shape[:axis]...), 1), a.shape[axis:]...)
		if src.Bool(2) {
			axis -= r + 1 // the same axis, counted from the end
		}
		b.node(op, []*ir.Value{a.v, b.ints(int64(axis))}, shape)
	case "Squeeze":
		var ones []int64
		for i, d := range a.shape {
			if d == 1 {
				ones = append(ones, int64(i))
			}
		}
		if len(ones) == 0 {
			b.node("Identity", []*ir.Value{a.v}, a.shape)
			return
		}
		axis := ones[src.Intn(len(ones))]
		shape := append(append([]int64(nil), a.shape[:axis]...), a.shape[axis+1:]...)
		b.node(op, []*ir.Value{a.v, b.ints(axis)}, shape)
	case "Concat":
		if r == 0 {
			b.node("Identity", []*ir.Value{a.v}, a.shape)
			return
		}
		axis := src.Intn(r)
		var partners []gval
		for _, o := range b.vals {
			if len(o.shape) == r && sameExcept(o.shape, a.shape, axis) && numel(a.shape)+numel(o.shape) <= maxElements {
				partners = append(partners, o)
			}
		}
		if len(partners) == 0 {
			b.node("Identity", []*ir.Value{a.v}, a.shape)
			return
		}
		o := partners[src.Intn(len(partners))]
		shape := append([]int64(nil), a.shape...)
		shape[axis] += o.shape[axis]
		b.node(op, []*ir.Value{a.v, o.v}, shape, ir.IntAttr("axis", int64(axis)))
	case "Flatten":
		axis := src.Intn(r + 1)
		shape := []int64{numel(a.shape[:axis]), numel(a.shape[axis:])}
		b.node(op, []*ir.Value{a.v}, shape, ir.IntAttr("axis", int64(axis)))
	case "Slice":
		if r == 0 {
			b.node("Identity", []*ir.Value{a.v}, a.shape)
			return
		}
		axis := src.Intn(r)
		d := a.shape[axis]
		start, end, step := int64(src.Intn(int(d))), d, int64(1)
		if src.Bool(3) {
			step = 2
		}
		if src.Bool(3) {
			// Backwards from the last element to start.
			start, end, step = d-1, start-1, -step
			if end < 0 {
				end = -d - 1 // past the front: everything down to index 0
			}
		}
		n := sliceLen(start, end, step, d)
		if n == 0 {
			b.node("Identity", []*ir.Value{a.v}, a.shape)
			return
		}
		shape := append([]int64(nil), a.shape...)
		shape[axis] = n
		b.node(op, []*ir.Value{a.v, b.ints(start), b.ints(end), b.ints(int64(axis)), b.ints(step)}, shape)
	}
}

// sliceLen is the length of ONNX Slice along an axis of size d (start and end clamped as
// the specification says).
func sliceLen(start, end, step, d int64) int64 {
	clamp := func(x, lo, hi int64) int64 { return max(lo, min(hi, x)) }
	if start < 0 {
		start += d
	}
	if end < 0 {
		end += d
	}
	var n int64
	if step > 0 {
		start, end = clamp(start, 0, d), clamp(end, 0, d)
		if end > start {
			n = (end - start + step - 1) / step
		}
	} else {
		start, end = clamp(start, 0, d-1), clamp(end, -1, d-1)
		if start > end {
			n = (start - end - step - 1) / -step
		}
	}
	return n
}

func permutation(src *Source, r int) []int64 {
	perm := make([]int64, r)
	for i := range perm {
		perm[i] = int64(i)
	}
	for i := r - 1; i > 0; i-- {
		j := src.Intn(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}

// factor splits n into a random shape of rank 1..maxRank-1 (or rank 0 for n == 1).
func factor(src *Source, n int64) []int64 {
	if n == 1 && src.Bool(3) {
		return []int64{}
	}
	var shape []int64
	for n > 1 && len(shape) < maxRank-2 {
		var divs []int64
		for d := int64(2); d <= n; d++ {
			if n%d == 0 {
				divs = append(divs, d)
			}
		}
		d := divs[src.Intn(len(divs))]
		shape = append(shape, d)
		n /= d
		if src.Bool(3) {
			shape = append(shape, 1)
		}
	}
	return append(shape, n)
}

func sameExcept(a, b []int64, axis int) bool {
	for i := range a {
		if i != axis && a[i] != b[i] {
			return false
		}
	}
	return true
}

// broadcast returns the numpy broadcast of two shapes.
func broadcast(a, b []int64) ([]int64, bool) {
	r := max(len(a), len(b))
	out := make([]int64, r)
	for i := 0; i < r; i++ {
		da, db := int64(1), int64(1)
		if k := len(a) - r + i; k >= 0 {
			da = a[k]
		}
		if k := len(b) - r + i; k >= 0 {
			db = b[k]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, false
		}
	}
	return out, true
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

package infer

import (
	"github.com/whittle-ml/whittle/ir"
)

// val is one element of an integer tensor tracked by data propagation: a known integer
// (possibly negative: Reshape's -1, a negative axis), a named size, or unknown.
type val struct {
	known bool
	v     int64
	param string
}

func known(x int64) val { return val{known: true, v: x} }

// valOfDim reads a dimension as a value.
func valOfDim(d ir.Dim) val {
	switch {
	case d.IsKnown():
		return known(d.Value)
	case d.Param != "":
		return val{param: d.Param}
	}
	return val{}
}

// dim reads a value as a dimension; negative numbers are not sizes and read as unknown.
func (x val) dim() ir.Dim {
	switch {
	case x.known && x.v >= 0:
		return ir.Known(x.v)
	case x.param != "":
		return ir.Symbolic(x.param)
	}
	return ir.UnknownDim
}

// sameDim reports whether two dims are certainly equal: the same size or the same name.
func sameDim(a, b ir.Dim) bool {
	if a.IsKnown() && b.IsKnown() {
		return a.Value == b.Value
	}
	return a.Param != "" && a.Param == b.Param
}

func isOne(d ir.Dim) bool { return d.IsKnown() && d.Value == 1 }

func clean(d ir.Dim) ir.Dim { return ir.Dim{Value: d.Value, Param: d.Param} }

// broadcast applies multidirectional (numpy) broadcasting to shapes. A nil entry with
// ranked false anywhere makes the result's rank unknown. Two different known sizes other
// than 1 are a problem, reported at where.
func (c *ctx) broadcast(shapes [][]ir.Dim, ranked []bool, where string) ([]ir.Dim, bool) {
	rank := 0
	for i, s := range shapes {
		if !ranked[i] {
			return nil, false
		}
		if len(s) > rank {
			rank = len(s)
		}
	}
	out := make([]ir.Dim, rank)
	for k := 0; k < rank; k++ {
		var dims []ir.Dim
		for _, s := range shapes {
			at := len(s) - rank + k
			if at >= 0 {
				dims = append(dims, s[at])
			}
		}
		d, ok := c.broadcastDim(dims)
		if !ok {
			c.problem(where, "shapes %s are not broadcastable (axis %d)", shapesString(shapes), k)
			return nil, false
		}
		out[k] = d
	}
	return out, true
}

// broadcastDim combines the sizes of one axis: 1s give way; known sizes must agree and win
// over names (a named size must equal them at run time); one name shared by all others is
// kept; anything else is a fresh name.
func (c *ctx) broadcastDim(dims []ir.Dim) (ir.Dim, bool) {
	var knownSize int64 = -1
	var rest []ir.Dim
	for _, d := range dims {
		switch {
		case isOne(d):
		case d.IsKnown():
			if knownSize >= 0 && knownSize != d.Value {
				return ir.Dim{}, false
			}
			knownSize = d.Value
		default:
			rest = append(rest, d)
		}
	}
	if knownSize >= 0 {
		return ir.Known(knownSize), true
	}
	if len(rest) == 0 {
		return ir.Known(1), true
	}
	first := rest[0]
	for _, d := range rest[1:] {
		if !sameDim(first, d) {
			return c.e.freshDim(), true
		}
	}
	if first.Param == "" {
		// A lone unknown size: it might be 1 or anything, but it is the result either way.
		return ir.UnknownDim, true
	}
	return clean(first), true
}

func shapesString(shapes [][]ir.Dim) string {
	s := ""
	for i, sh := range shapes {
		if i > 0 {
			s += " and "
		}
		s += tensor(ir.Undefined, sh, true).String()[len("undefined"):]
	}
	return s
}

// unify merges two dims said to be equal; it reports false when both are known and differ.
func unify(a, b ir.Dim) (ir.Dim, bool) {
	switch {
	case a.IsKnown() && b.IsKnown():
		return a, a.Value == b.Value
	case a.IsKnown():
		return clean(a), true
	case b.IsKnown():
		return clean(b), true
	case a.Param != "":
		return clean(a), true
	}
	return clean(b), true
}

// mulDim multiplies sizes; a name times 1 keeps the name, other products with names are
// unknown.
func mulDim(a, b ir.Dim) ir.Dim {
	switch {
	case a.IsKnown() && b.IsKnown():
		return ir.Known(a.Value * b.Value)
	case isOne(a):
		return clean(b)
	case isOne(b):
		return clean(a)
	}
	return ir.UnknownDim
}

// addDim adds sizes; a name plus 0 keeps the name.
func addDim(a, b ir.Dim) ir.Dim {
	switch {
	case a.IsKnown() && b.IsKnown():
		return ir.Known(a.Value + b.Value)
	case a.IsKnown() && a.Value == 0:
		return clean(b)
	case b.IsKnown() && b.Value == 0:
		return clean(a)
	}
	return ir.UnknownDim
}

// addConst adds k to a size; a negative result is reported by ok false.
func addConst(a ir.Dim, k int64) (ir.Dim, bool) {
	if k == 0 {
		return clean(a), true
	}
	if !a.IsKnown() {
		return ir.UnknownDim, true
	}
	if a.Value+k < 0 {
		return ir.Dim{}, false
	}
	return ir.Known(a.Value + k), true
}

// divDim divides a size by a known divisor; names stay unknown unless the divisor is 1.
func divDim(a ir.Dim, k int64) ir.Dim {
	if k == 1 {
		return clean(a)
	}
	if a.IsKnown() && k > 0 {
		return ir.Known(a.Value / k)
	}
	return ir.UnknownDim
}

// product multiplies dims: known when all are, a name when exactly one name is multiplied
// by 1s, unknown otherwise.
func product(dims []ir.Dim) ir.Dim {
	out := ir.Known(1)
	for _, d := range dims {
		out = mulDim(out, d)
	}
	return out
}

// unknownDims returns n unknown dimensions.
func unknownDims(n int) []ir.Dim {
	out := make([]ir.Dim, n)
	for i := range out {
		out[i] = ir.UnknownDim
	}
	return out
}

func knownDims(vals ...int64) []ir.Dim {
	out := make([]ir.Dim, len(vals))
	for i, v := range vals {
		out[i] = ir.Known(v)
	}
	return out
}

func cloneDims(d []ir.Dim) []ir.Dim {
	out := make([]ir.Dim, len(d))
	for i, x := range d {
		out[i] = clean(x)
	}
	return out
}

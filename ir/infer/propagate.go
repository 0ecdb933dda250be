package infer

import (
	"github.com/whittle-ml/whittle/ir"
)

// Data propagation: the element values of small integer tensors computed from shapes, as
// ONNX's data propagation tracks them, so that shape inputs assembled at run time from
// Shape outputs are known (sizes may be symbolic).

// maxTracked bounds the number of elements tracked per value: shapes are short.
const maxTracked = 64

func init() {
	propagators["Shape"] = propShape
	propagators["Size"] = propSize
	propagators["Gather"] = propGather
	propagators["Slice"] = propSlice
	propagators["Concat"] = propConcat
	for _, op := range []string{"Unsqueeze", "Squeeze", "Identity", "Reshape", "Flatten"} {
		propagators[op] = propSame
	}
	propagators["Cast"] = propCast
	propagators["ConstantOfShape"] = propConstantOfShape
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		propagators[op] = propArith
	}
}

// setData records the values of output 0 when it is a small integer tensor of rank 0 or 1.
func (c *ctx) setData(vals []val) {
	v := c.n.Output(0)
	if v == nil || len(vals) > maxTracked {
		return
	}
	if t := v.Type; t != nil {
		if t.Kind != ir.TensorKind || (t.Elem != ir.Int64 && t.Elem != ir.Int32) || t.Rank() > 1 {
			return
		}
	}
	c.e.data[v] = vals
}

func propShape(c *ctx) {
	d, ok := c.shape(0)
	if !ok {
		return
	}
	start, end := c.shapeRange(len(d))
	vals := make([]val, 0, end-start)
	for _, x := range d[start:end] {
		vals = append(vals, valOfDim(x))
	}
	c.setData(vals)
}

func propSize(c *ctx) {
	d, ok := c.shape(0)
	if !ok {
		return
	}
	if s, ok := tensor(ir.Undefined, d, true).StaticDims(); ok {
		if n, err := ir.NumElements(s); err == nil {
			c.setData([]val{known(n)})
		}
	}
}

func propGather(c *ctx) {
	if c.rank(0) != 1 {
		return
	}
	data, ok := c.values(0)
	if !ok {
		return
	}
	idx, ok := c.ints(1)
	if !ok {
		return
	}
	out := make([]val, len(idx))
	for k, i := range idx {
		if i < 0 {
			i += int64(len(data))
		}
		if i < 0 || i >= int64(len(data)) {
			return
		}
		out[k] = data[i]
	}
	c.setData(out)
}

func propSlice(c *ctx) {
	if c.rank(0) != 1 {
		return
	}
	data, ok := c.values(0)
	if !ok {
		return
	}
	starts, ends, axes, steps, ok := c.sliceParams(1)
	if !ok || len(starts) != 1 || len(ends) != 1 || len(steps) != 1 || len(axes) != 1 || (axes[0] != 0 && axes[0] != -1) {
		return
	}
	n := int64(len(data))
	start, end, step := starts[0], ends[0], steps[0]
	if step == 0 {
		return
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	var out []val
	if step > 0 {
		start, end = min(max(start, 0), n), min(max(end, 0), n)
		for i := start; i < end; i += step {
			out = append(out, data[i])
		}
	} else {
		start, end = min(max(start, 0), n-1), min(max(end, -1), n-1)
		for i := start; i > end; i += step {
			out = append(out, data[i])
		}
	}
	c.setData(out)
}

func propConcat(c *ctx) {
	var out []val
	for i := range c.n.Inputs() {
		if !c.has(i) {
			continue
		}
		vals, ok := c.values(i)
		if !ok || c.rank(i) > 1 {
			return
		}
		out = append(out, vals...)
	}
	c.setData(out)
}

func propSame(c *ctx) {
	if vals, ok := c.values(0); ok {
		c.setData(vals)
	}
}

func propCast(c *ctx) {
	to := ir.DataType(c.n.AttrInt("to", 0))
	if to != ir.Int64 && to != ir.Int32 {
		return
	}
	if e := c.elem(0); e != ir.Int64 && e != ir.Int32 {
		return
	}
	propSame(c)
}

func propArith(c *ctx) {
	a, ok1 := c.values(0)
	b, ok2 := c.values(1)
	if !ok1 || !ok2 || c.rank(0) > 1 || c.rank(1) > 1 {
		return
	}
	n := max(len(a), len(b))
	if (len(a) != n && len(a) != 1) || (len(b) != n && len(b) != 1) {
		return
	}
	out := make([]val, n)
	for k := range out {
		x, y := a[min(k, len(a)-1)], b[min(k, len(b)-1)]
		out[k] = arith(c.n.OpType, x, y)
	}
	c.setData(out)
}

// arith applies an integer operator to tracked values; named sizes survive only the
// identities x+0, x-0, x*1 and x/1.
func arith(op string, x, y val) val {
	if x.known && y.known {
		switch op {
		case "Add":
			return known(x.v + y.v)
		case "Sub":
			return known(x.v - y.v)
		case "Mul":
			return known(x.v * y.v)
		case "Div":
			if y.v == 0 {
				return val{}
			}
			// ONNX integer Div truncates toward zero, as Go does.
			return known(x.v / y.v)
		}
	}
	switch {
	case y.known && y.v == 0 && (op == "Add" || op == "Sub"):
		return x
	case x.known && x.v == 0 && op == "Add":
		return y
	case y.known && y.v == 1 && (op == "Mul" || op == "Div"):
		return x
	case x.known && x.v == 1 && op == "Mul":
		return y
	}
	return val{}
}

// propConstantOfShape tracks a 1-D integer fill (the expanded LayerNormalization builds its
// reduced shape this way).
func propConstantOfShape(c *ctx) {
	shape, ok := c.ints(0)
	if !ok || len(shape) != 1 || shape[0] > maxTracked || shape[0] < 0 {
		return
	}
	fill := int64(0)
	if a := c.n.Attr("value"); a != nil && a.Tensor != nil {
		vals, err := a.Tensor.Int64s()
		if err != nil || len(vals) != 1 {
			return
		}
		fill = vals[0]
	}
	out := make([]val, shape[0])
	for k := range out {
		out[k] = known(fill)
	}
	c.setData(out)
}

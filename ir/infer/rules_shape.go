package infer

import (
	"github.com/whittle-ml/whittle/ir"
)

// Operators that move, select or reshape data without computing on it.

func init() {
	register(ruleShape, "Shape")
	register(ruleSize, "Size")
	register(ruleReshape, "Reshape")
	register(ruleFlatten, "Flatten")
	register(ruleSqueeze, "Squeeze")
	register(ruleUnsqueeze, "Unsqueeze")
	register(ruleTranspose, "Transpose")
	register(ruleConcat, "Concat")
	register(ruleSplit, "Split")
	register(ruleSlice, "Slice")
	register(ruleGather, "Gather")
	register(ruleGatherElements, "GatherElements")
	register(ruleGatherND, "GatherND")
	register(ruleExpand, "Expand")
	register(ruleTile, "Tile")
	register(rulePad, "Pad")
	register(ruleConstantOfShape, "ConstantOfShape")
	register(ruleConstant, "Constant")
	register(ruleDepthToSpace, "DepthToSpace")
	register(ruleSpaceToDepth, "SpaceToDepth")
	register(ruleCenterCropPad, "CenterCropPad")
}

func ruleShape(c *ctx) {
	d, ok := c.shape(0)
	if !ok {
		c.outTensor(0, ir.Int64, unknownDims(1), true)
		return
	}
	start, end := c.shapeRange(len(d))
	c.outTensor(0, ir.Int64, knownDims(int64(end-start)), true)
}

// shapeRange returns Shape's [start, end) (attributes from opset 15), clamped to the rank.
func (c *ctx) shapeRange(rank int) (int, int) {
	if c.opset > 0 && c.opset < 15 {
		return 0, rank
	}
	clamp := func(x int64) int {
		if x < 0 {
			x += int64(rank)
		}
		if x < 0 {
			return 0
		}
		if x > int64(rank) {
			return rank
		}
		return int(x)
	}
	start := clamp(c.n.AttrInt("start", 0))
	end := clamp(c.n.AttrInt("end", int64(rank)))
	if end < start {
		end = start
	}
	return start, end
}

func ruleSize(c *ctx) { c.outTensor(0, ir.Int64, nil, true) }

func ruleReshape(c *ctx) {
	elem := c.elem(0)
	var target []val
	var haveTarget bool
	if c.opset > 0 && c.opset < 5 {
		ints, ok := c.attrInts("shape")
		if !ok {
			c.problem(attrName("shape"), "missing")
			return
		}
		for _, x := range ints {
			target = append(target, known(x))
		}
		haveTarget = true
	} else {
		target, haveTarget = c.values(1)
	}
	if !haveTarget {
		// The rank is still the length of the shape input when that is known.
		if s, ok := c.shape(1); ok && len(s) == 1 && s[0].IsKnown() {
			dims := make([]ir.Dim, s[0].Value)
			for k := range dims {
				dims[k] = ir.UnknownDim
			}
			c.outTensor(0, elem, dims, true)
			return
		}
		c.outTensor(0, elem, nil, false)
		return
	}
	in, inRanked := c.shape(0)
	allowZero := c.n.AttrInt("allowzero", 0) != 0
	out := make([]ir.Dim, len(target))
	inferAt := -1
	for k, t := range target {
		switch {
		case t.known && t.v == 0 && !allowZero:
			if inRanked {
				if k >= len(in) {
					c.problem(inputName(1), "target %d copies dimension %d of a rank-%d input", k, k, len(in))
					return
				}
				out[k] = clean(in[k])
			} else {
				out[k] = ir.UnknownDim
			}
		case t.known && t.v == -1:
			if inferAt >= 0 {
				c.problem(inputName(1), "more than one -1 in the target shape")
				return
			}
			inferAt = k
			out[k] = ir.UnknownDim
		case t.known && t.v < -1:
			c.problem(inputName(1), "invalid target dimension %d", t.v)
			return
		default:
			out[k] = t.dim()
		}
	}
	if inferAt >= 0 && inRanked {
		others := append(append([]ir.Dim{}, out[:inferAt]...), out[inferAt+1:]...)
		if d, ok := c.quotient(in, others); ok {
			out[inferAt] = d
		}
	}
	if inRanked && inferAt < 0 {
		c.checkSameVolume(in, out)
	}
	c.outTensor(0, elem, out, true)
}

// quotient computes product(num)/product(den) when it is a known size or a single name: the
// dims are read as monomials (a known factor times named factors) and the names of den must
// all appear in num.
func (c *ctx) quotient(num, den []ir.Dim) (ir.Dim, bool) {
	kn, names, ok := monomial(num)
	if !ok {
		return ir.Dim{}, false
	}
	kd, dnames, ok := monomial(den)
	if !ok {
		return ir.Dim{}, false
	}
	for p, cnt := range dnames {
		if names[p] < cnt {
			return ir.Dim{}, false
		}
		names[p] -= cnt
	}
	var left []string
	for p, n := range names {
		for ; n > 0; n-- {
			left = append(left, p)
		}
	}
	if kd == 0 {
		return ir.Dim{}, false
	}
	switch {
	case len(left) == 0:
		if kn%kd != 0 {
			c.problem(inputName(1), "cannot reshape %d elements into a multiple of %d", kn, kd)
			return ir.Dim{}, false
		}
		return ir.Known(kn / kd), true
	case len(left) == 1 && kn == kd:
		return ir.Symbolic(left[0]), true
	}
	return ir.Dim{}, false
}

func monomial(dims []ir.Dim) (int64, map[string]int, bool) {
	k := int64(1)
	names := map[string]int{}
	for _, d := range dims {
		switch {
		case d.IsKnown():
			k *= d.Value
		case d.Param != "":
			names[d.Param]++
		default:
			return 0, nil, false
		}
	}
	return k, names, true
}

// checkSameVolume reports a Reshape whose fully known input and target differ in size.
func (c *ctx) checkSameVolume(in, out []ir.Dim) {
	a, aok := tensor(ir.Undefined, in, true).StaticDims()
	b, bok := tensor(ir.Undefined, out, true).StaticDims()
	if !aok || !bok {
		return
	}
	na, err1 := ir.NumElements(a)
	nb, err2 := ir.NumElements(b)
	if err1 == nil && err2 == nil && na != nb {
		c.problem(inputName(1), "cannot reshape %v (%d elements) into %v (%d elements)", a, na, b, nb)
	}
}

func ruleFlatten(c *ctx) {
	d, ok := c.shape(0)
	if !ok {
		c.outTensor(0, c.elem(0), unknownDims(2), true)
		return
	}
	axis := c.n.AttrInt("axis", 1)
	if axis < 0 {
		axis += int64(len(d))
	}
	if axis < 0 || axis > int64(len(d)) {
		c.problem(attrName("axis"), "axis %d out of range for rank %d", c.n.AttrInt("axis", 1), len(d))
		return
	}
	c.outTensor(0, c.elem(0), []ir.Dim{product(d[:axis]), product(d[axis:])}, true)
}

// axesInput returns the axes of ops that take them as an attribute before version
// inputFrom and as input index afterwards; present reports whether any were given, ok
// whether they are known.
func (c *ctx) axesInput(inputFrom int64, index int) (axes []int64, present, ok bool) {
	if c.opset > 0 && c.opset < inputFrom {
		axes, present = c.attrInts("axes")
		return axes, present, true
	}
	if !c.has(index) {
		return nil, false, true
	}
	axes, ok = c.ints(index)
	return axes, true, ok
}

func ruleSqueeze(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	axes, present, ok := c.axesInput(13, 1)
	if !ranked || !ok {
		c.outTensor(0, elem, nil, false)
		return
	}
	var out []ir.Dim
	if !present {
		for _, x := range d {
			if !x.IsKnown() {
				// Whether this dimension is 1 is known only at run time.
				c.outTensor(0, elem, nil, false)
				return
			}
			if x.Value != 1 {
				out = append(out, x)
			}
		}
		c.outTensor(0, elem, out, true)
		return
	}
	norm, ok := c.normAxes(axes, len(d), "axes")
	if !ok {
		return
	}
	drop := map[int]bool{}
	for _, a := range norm {
		if d[a].IsKnown() && d[a].Value != 1 {
			c.problem("axes", "dimension %d has size %d, not 1", a, d[a].Value)
			return
		}
		drop[a] = true
	}
	for k, x := range d {
		if !drop[k] {
			out = append(out, clean(x))
		}
	}
	c.outTensor(0, elem, out, true)
}

func ruleUnsqueeze(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	axes, present, ok := c.axesInput(13, 1)
	if !present && ok {
		c.problem("axes", "missing")
		return
	}
	if !ranked || !ok {
		c.outTensor(0, elem, nil, false)
		return
	}
	rank := len(d) + len(axes)
	norm, ok := c.normAxes(axes, rank, "axes")
	if !ok {
		return
	}
	insert := map[int]bool{}
	for _, a := range norm {
		insert[a] = true
	}
	out := make([]ir.Dim, 0, rank)
	next := 0
	for k := 0; k < rank; k++ {
		if insert[k] {
			out = append(out, ir.Known(1))
		} else {
			out = append(out, clean(d[next]))
			next++
		}
	}
	c.outTensor(0, elem, out, true)
}

func ruleTranspose(c *ctx) {
	elem := c.elem(0)
	d, ok := c.shape(0)
	if !ok {
		c.outTensor(0, elem, nil, false)
		return
	}
	perm, given := c.attrInts("perm")
	if !given {
		perm = make([]int64, len(d))
		for k := range perm {
			perm[k] = int64(len(d) - 1 - k)
		}
	}
	if len(perm) != len(d) {
		c.problem(attrName("perm"), "has %d entries for rank %d", len(perm), len(d))
		return
	}
	norm, ok := c.normAxes(perm, len(d), attrName("perm"))
	if !ok {
		return
	}
	out := make([]ir.Dim, len(d))
	for k, p := range norm {
		out[k] = clean(d[p])
	}
	c.outTensor(0, elem, out, true)
}

func ruleConcat(c *ctx) {
	var idx []int
	for i := range c.n.Inputs() {
		if c.has(i) {
			idx = append(idx, i)
		}
	}
	c.checkSameElem(idx...)
	elem := c.firstElem(idx...)
	rank := -1
	for _, i := range idx {
		if r := c.rank(i); r >= 0 {
			if rank >= 0 && r != rank {
				c.problem(inputName(i), "rank %d differs from rank %d of another input", r, rank)
				return
			}
			rank = r
		}
	}
	if rank < 0 {
		c.outTensor(0, elem, nil, false)
		return
	}
	a := c.n.Attr("axis")
	if a == nil && c.opset >= 4 {
		c.problem(attrName("axis"), "missing")
		return
	}
	axis, ok := c.normAxis(c.n.AttrInt("axis", 1), rank, attrName("axis"))
	if !ok {
		return
	}
	out := make([]ir.Dim, rank)
	for k := range out {
		if k == axis {
			out[k] = ir.Known(0)
		} else {
			out[k] = ir.UnknownDim
		}
	}
	first := true
	for _, i := range idx {
		d, ok := c.shape(i)
		if !ok {
			out[axis] = ir.UnknownDim
			continue
		}
		for k := range d {
			if k == axis {
				out[k] = addDim(out[k], d[k])
				continue
			}
			if first {
				out[k] = clean(d[k])
				continue
			}
			u, ok := unify(out[k], d[k])
			if !ok {
				c.problem(inputName(i), "dimension %d is %s, another input has %s", k, d[k], out[k])
				return
			}
			out[k] = u
		}
		first = false
	}
	if len(idx) > 0 && !c.allRanked(idx) {
		out[axis] = ir.UnknownDim
	}
	c.outTensor(0, elem, out, true)
}

func (c *ctx) allRanked(idx []int) bool {
	for _, i := range idx {
		if c.rank(i) < 0 {
			return false
		}
	}
	return true
}

func ruleSplit(c *ctx) {
	elem := c.elem(0)
	nOut := c.numOutputs()
	d, ranked := c.shape(0)
	if !ranked {
		for i := 0; i < nOut; i++ {
			c.outTensor(i, elem, nil, false)
		}
		return
	}
	axis, ok := c.normAxis(c.n.AttrInt("axis", 0), len(d), attrName("axis"))
	if !ok {
		return
	}
	var sizes []int64
	var haveSizes, splitKnown = false, true
	switch {
	case c.opset >= 13 || c.opset == 0 || (c.opset < 2 && c.has(1)):
		if c.has(1) {
			sizes, splitKnown = c.ints(1)
			haveSizes = true
		}
	}
	if !haveSizes && c.opset < 13 {
		sizes, haveSizes = c.attrInts("split")
	}
	outs := make([][]ir.Dim, nOut)
	for i := range outs {
		outs[i] = cloneDims(d)
		outs[i][axis] = ir.UnknownDim
	}
	switch {
	case haveSizes && splitKnown:
		if len(sizes) != nOut {
			c.problem("split", "%d sizes for %d outputs", len(sizes), nOut)
			return
		}
		var sum int64
		for i, s := range sizes {
			outs[i][axis] = ir.Known(s)
			sum += s
		}
		if d[axis].IsKnown() && sum != d[axis].Value {
			c.problem("split", "sizes %v sum to %d, dimension %d has size %d", sizes, sum, axis, d[axis].Value)
			return
		}
	case !haveSizes && d[axis].IsKnown():
		parts := int64(nOut)
		if c.opset >= 18 {
			if a := c.n.Attr("num_outputs"); a != nil {
				parts = a.Int
			}
		}
		if parts <= 0 {
			c.problem(attrName("num_outputs"), "must be positive")
			return
		}
		total := d[axis].Value
		if c.opset < 18 && total%parts != 0 {
			c.problem(inputName(0), "dimension %d (%d) does not split evenly into %d outputs", axis, total, parts)
			return
		}
		// From 18 on, chunks have ceil(total/parts) elements and the last takes the rest.
		chunk := (total + parts - 1) / parts
		for i := range outs {
			s := chunk
			if rest := total - int64(i)*chunk; rest < s {
				s = max(rest, 0)
			}
			outs[i][axis] = ir.Known(s)
		}
	}
	for i := range outs {
		c.outTensor(i, elem, outs[i], true)
	}
}

// sliceParams returns Slice's starts, ends, axes and steps (attributes before opset 10,
// inputs from 10 on); ok is false when some are not constant.
func (c *ctx) sliceParams(rank int) (starts, ends, axes, steps []int64, ok bool) {
	if c.opset > 0 && c.opset < 10 {
		starts, _ = c.attrInts("starts")
		ends, _ = c.attrInts("ends")
		axes, _ = c.attrInts("axes")
	} else {
		var ok1, ok2 bool
		starts, ok1 = c.ints(1)
		ends, ok2 = c.ints(2)
		if !ok1 || !ok2 {
			return nil, nil, nil, nil, false
		}
		if c.has(3) {
			if axes, ok = c.ints(3); !ok {
				return nil, nil, nil, nil, false
			}
		}
		if c.has(4) {
			if steps, ok = c.ints(4); !ok {
				return nil, nil, nil, nil, false
			}
		}
	}
	if axes == nil {
		for k := range starts {
			axes = append(axes, int64(k))
		}
	}
	if steps == nil {
		for range starts {
			steps = append(steps, 1)
		}
	}
	return starts, ends, axes, steps, true
}

func ruleSlice(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	if !ranked {
		c.outTensor(0, elem, nil, false)
		return
	}
	starts, ends, axes, steps, ok := c.sliceParams(len(d))
	out := cloneDims(d)
	if !ok {
		// Which axes are sliced is unknown unless axes is a constant.
		var sliced []int64
		if c.has(3) {
			sliced, ok = c.ints(3)
		}
		if !ok {
			c.outTensor(0, elem, unknownDims(len(d)), true)
			return
		}
		norm, ok := c.normAxes(sliced, len(d), inputName(3))
		if !ok {
			return
		}
		for _, a := range norm {
			out[a] = ir.UnknownDim
		}
		c.outTensor(0, elem, out, true)
		return
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		c.problem("starts", "starts, ends, axes and steps differ in length (%d, %d, %d, %d)", len(starts), len(ends), len(axes), len(steps))
		return
	}
	norm, ok := c.normAxes(axes, len(d), "axes")
	if !ok {
		return
	}
	for k, a := range norm {
		out[a] = c.sliceDim(d[a], starts[k], ends[k], steps[k])
	}
	c.outTensor(0, elem, out, true)
}

// sliceDim is the size of one sliced axis (numpy semantics, clamped to the dimension).
func (c *ctx) sliceDim(d ir.Dim, start, end, step int64) ir.Dim {
	if step == 0 {
		c.problem("steps", "step is 0")
		return ir.UnknownDim
	}
	const big = 1 << 62
	if !d.IsKnown() {
		// A whole-axis slice keeps even a named size.
		if step == 1 && start == 0 && end >= big/4 {
			return clean(d)
		}
		return ir.UnknownDim
	}
	n := d.Value
	clamp := func(x, lo, hi int64) int64 {
		if x < lo {
			return lo
		}
		if x > hi {
			return hi
		}
		return x
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	var size int64
	if step > 0 {
		start, end = clamp(start, 0, n), clamp(end, 0, n)
		if end > start {
			size = (end - start + step - 1) / step
		}
	} else {
		start, end = clamp(start, 0, n-1), clamp(end, -1, n-1)
		if start > end {
			size = (start - end + (-step) - 1) / (-step)
		}
	}
	return ir.Known(size)
}

func ruleGather(c *ctx) {
	elem := c.elem(0)
	d, ok1 := c.shape(0)
	idx, ok2 := c.shape(1)
	if !ok1 || !ok2 {
		c.outTensor(0, elem, nil, false)
		return
	}
	axis, ok := c.normAxis(c.n.AttrInt("axis", 0), len(d), attrName("axis"))
	if !ok {
		return
	}
	out := append(cloneDims(d[:axis]), cloneDims(idx)...)
	out = append(out, cloneDims(d[axis+1:])...)
	c.outTensor(0, elem, out, true)
}

func ruleGatherElements(c *ctx) {
	idx, ok := c.shape(1)
	c.outTensor(0, c.elem(0), cloneDims(idx), ok)
}

func ruleGatherND(c *ctx) {
	elem := c.elem(0)
	d, ok1 := c.shape(0)
	idx, ok2 := c.shape(1)
	if !ok1 || !ok2 || len(idx) == 0 || !idx[len(idx)-1].IsKnown() {
		c.outTensor(0, elem, nil, false)
		return
	}
	b := int(c.n.AttrInt("batch_dims", 0))
	last := int(idx[len(idx)-1].Value)
	if b < 0 || b+last > len(d) || b > len(idx)-1 {
		c.problem(inputName(1), "indices reach %d dimensions of a rank-%d input", b+last, len(d))
		return
	}
	out := append(cloneDims(idx[:len(idx)-1]), cloneDims(d[b+last:])...)
	c.outTensor(0, elem, out, true)
}

func ruleExpand(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	target, ok := c.values(1)
	if !ok {
		if s, ok := c.shape(1); ok && len(s) == 1 && s[0].IsKnown() && ranked {
			c.outTensor(0, elem, unknownDims(max(int(s[0].Value), len(d))), true)
			return
		}
		c.outTensor(0, elem, nil, false)
		return
	}
	if !ranked {
		c.outTensor(0, elem, nil, false)
		return
	}
	t := make([]ir.Dim, len(target))
	for k, x := range target {
		t[k] = x.dim()
	}
	out, ok := c.broadcast([][]ir.Dim{d, t}, []bool{true, true}, inputName(1))
	c.outTensor(0, elem, out, ok)
}

func ruleTile(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	if !ranked {
		c.outTensor(0, elem, nil, false)
		return
	}
	reps, ok := c.ints(1)
	if !ok {
		c.outTensor(0, elem, unknownDims(len(d)), true)
		return
	}
	if len(reps) != len(d) {
		c.problem(inputName(1), "%d repeats for rank %d", len(reps), len(d))
		return
	}
	out := make([]ir.Dim, len(d))
	for k := range d {
		out[k] = mulDim(d[k], ir.Known(reps[k]))
	}
	c.outTensor(0, elem, out, true)
}

func rulePad(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	if !ranked {
		c.outTensor(0, elem, nil, false)
		return
	}
	var pads []int64
	var ok bool
	switch {
	case c.opset > 0 && c.opset < 2:
		pads, ok = c.attrInts("paddings")
	case c.opset > 0 && c.opset < 11:
		pads, ok = c.attrInts("pads")
	default:
		pads, ok = c.ints(1)
	}
	if !ok {
		c.outTensor(0, elem, unknownDims(len(d)), true)
		return
	}
	axes := make([]int, len(d))
	for k := range axes {
		axes[k] = k
	}
	if c.opset >= 18 && c.has(3) {
		given, ok := c.ints(3)
		if !ok {
			c.outTensor(0, elem, unknownDims(len(d)), true)
			return
		}
		if axes, ok = c.normAxes(given, len(d), inputName(3)); !ok {
			return
		}
	}
	if len(pads) != 2*len(axes) {
		c.problem("pads", "%d pads for %d axes", len(pads), len(axes))
		return
	}
	out := cloneDims(d)
	for k, a := range axes {
		x, ok := addConst(d[a], pads[k]+pads[k+len(axes)])
		if !ok {
			c.problem("pads", "padding makes dimension %d negative", a)
			return
		}
		out[a] = x
	}
	c.outTensor(0, elem, out, true)
}

func ruleConstantOfShape(c *ctx) {
	elem := ir.Float
	if a := c.n.Attr("value"); a != nil && a.Type == ir.AttrTensor && a.Tensor != nil {
		elem = a.Tensor.DataType
	}
	vals, ok := c.values(0)
	if !ok {
		if s, ok := c.shape(0); ok && len(s) == 1 && s[0].IsKnown() {
			c.outTensor(0, elem, unknownDims(int(s[0].Value)), true)
			return
		}
		c.outTensor(0, elem, nil, false)
		return
	}
	out := make([]ir.Dim, len(vals))
	for k, x := range vals {
		if x.known && x.v < 0 {
			c.problem(inputName(0), "negative dimension %d", x.v)
			return
		}
		out[k] = x.dim()
	}
	c.outTensor(0, elem, out, true)
}

func ruleConstant(c *ctx) {
	t := constantValue(c.n)
	if t == nil {
		if a := c.n.Attr("sparse_value"); a != nil && a.SparseTensor != nil {
			s := a.SparseTensor
			dims := knownDims(s.Dims...)
			if s.Values != nil {
				c.outTensor(0, s.Values.DataType, dims, true)
			}
			return
		}
		c.problem("attributes", "no value attribute")
		return
	}
	if v := c.n.Output(0); v != nil {
		c.e.consts[v] = t
	}
	c.outTensor(0, t.DataType, knownDims(t.Dims...), true)
}

// constantValue returns the tensor a Constant node produces, from whichever value
// attribute it has.
func constantValue(n *ir.Node) *ir.Tensor {
	for _, a := range n.Attrs {
		switch a.Name {
		case "value":
			if a.Tensor != nil {
				return a.Tensor
			}
		case "value_float":
			return ir.FromFloat32("", nil, []float32{a.Float})
		case "value_floats":
			return ir.FromFloat32("", []int64{int64(len(a.Floats))}, a.Floats)
		case "value_int":
			return ir.FromInt64("", nil, []int64{a.Int})
		case "value_ints":
			return ir.FromInt64("", []int64{int64(len(a.Ints))}, a.Ints)
		case "value_string":
			return &ir.Tensor{DataType: ir.String, Strings: [][]byte{[]byte(a.String)}}
		case "value_strings":
			t := &ir.Tensor{DataType: ir.String, Dims: []int64{int64(len(a.Strings))}}
			for _, s := range a.Strings {
				t.Strings = append(t.Strings, []byte(s))
			}
			return t
		}
	}
	return nil
}

func ruleDepthToSpace(c *ctx) {
	elem := c.elem(0)
	d, ok := c.shape(0)
	b := c.n.AttrInt("blocksize", 0)
	if b > 1<<31 {
		// b*b would overflow int64 arithmetic on the channel count.
		c.problem(attrName("blocksize"), "%d is too large", b)
		return
	}
	if !ok || b <= 0 {
		c.outTensor(0, elem, nil, false)
		return
	}
	if len(d) != 4 {
		c.problem(inputName(0), "rank %d, want 4", len(d))
		return
	}
	if d[1].IsKnown() && d[1].Value%(b*b) != 0 {
		c.problem(inputName(0), "channels %d not divisible by blocksize² %d", d[1].Value, b*b)
		return
	}
	c.outTensor(0, elem, []ir.Dim{clean(d[0]), divDim(d[1], b*b), mulDim(d[2], ir.Known(b)), mulDim(d[3], ir.Known(b))}, true)
}

func ruleSpaceToDepth(c *ctx) {
	elem := c.elem(0)
	d, ok := c.shape(0)
	b := c.n.AttrInt("blocksize", 0)
	if b > 1<<31 {
		// b*b would overflow int64 arithmetic on the channel count.
		c.problem(attrName("blocksize"), "%d is too large", b)
		return
	}
	if !ok || b <= 0 {
		c.outTensor(0, elem, nil, false)
		return
	}
	if len(d) != 4 {
		c.problem(inputName(0), "rank %d, want 4", len(d))
		return
	}
	c.outTensor(0, elem, []ir.Dim{clean(d[0]), mulDim(d[1], ir.Known(b*b)), divDim(d[2], b), divDim(d[3], b)}, true)
}

func ruleCenterCropPad(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	sizes, ok := c.ints(1)
	if !ranked {
		c.outTensor(0, elem, nil, false)
		return
	}
	if !ok {
		c.outTensor(0, elem, unknownDims(len(d)), true)
		return
	}
	axes, given := c.attrInts("axes")
	if !given {
		for k := range d {
			axes = append(axes, int64(k))
		}
	}
	norm, ok := c.normAxes(axes, len(d), attrName("axes"))
	if !ok || len(norm) != len(sizes) {
		if ok {
			c.problem(inputName(1), "%d sizes for %d axes", len(sizes), len(norm))
		}
		return
	}
	out := cloneDims(d)
	for k, a := range norm {
		out[a] = ir.Known(sizes[k])
	}
	c.outTensor(0, elem, out, true)
}

package infer

import (
	"math"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// Reductions, index-producing operators, resizing and quantization.

func init() {
	register(ruleReduce, "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
		"ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare")
	register(ruleArgReduce, "ArgMax", "ArgMin")
	register(ruleTopK, "TopK")
	register(ruleOneHot, "OneHot")
	register(ruleNonZero, "NonZero")
	register(ruleRange, "Range")
	register(ruleEinsum, "Einsum")
	register(ruleResize, "Resize", "Upsample")
	register(ruleCompress, "Compress")
	register(ruleUnique, "Unique")
	register(ruleDet, "Det")
	register(ruleWindow, "HannWindow", "HammingWindow", "BlackmanWindow")
	register(ruleLoss, "SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss")
	register(ruleNMS, "NonMaxSuppression")
	register(ruleAffineGrid, "AffineGrid")
	register(ruleQuantize, "QuantizeLinear")
	register(ruleDequantize, "DequantizeLinear")
	register(ruleDynamicQuantize, "DynamicQuantizeLinear")
}

// reduceAxesFrom is the opset from which each Reduce* takes axes as an input.
func reduceAxesFrom(op string) int64 {
	if op == "ReduceSum" {
		return 13
	}
	return 18
}

func ruleReduce(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	keep := c.n.AttrInt("keepdims", 1) != 0
	axes, present, ok := c.axesInput(reduceAxesFrom(c.n.OpType), 1)
	if !ranked {
		c.outTensor(0, elem, nil, false)
		return
	}
	if !ok {
		if keep {
			c.outTensor(0, elem, unknownDims(len(d)), true)
		} else {
			c.outTensor(0, elem, nil, false)
		}
		return
	}
	inputAxes := c.opset == 0 || c.opset >= reduceAxesFrom(c.n.OpType)
	if (!present || len(axes) == 0) && inputAxes && c.n.AttrInt("noop_with_empty_axes", 0) != 0 {
		c.outTensor(0, elem, cloneDims(d), true)
		return
	}
	reduce := map[int]bool{}
	if !present || len(axes) == 0 {
		for k := range d {
			reduce[k] = true
		}
	} else {
		norm, ok := c.normAxes(axes, len(d), "axes")
		if !ok {
			return
		}
		for _, a := range norm {
			reduce[a] = true
		}
	}
	var out []ir.Dim
	for k, x := range d {
		switch {
		case !reduce[k]:
			out = append(out, clean(x))
		case keep:
			out = append(out, ir.Known(1))
		}
	}
	c.outTensor(0, elem, out, true)
}

func ruleArgReduce(c *ctx) {
	d, ranked := c.shape(0)
	if !ranked {
		c.outTensor(0, ir.Int64, nil, false)
		return
	}
	axis, ok := c.normAxis(c.n.AttrInt("axis", 0), len(d), attrName("axis"))
	if !ok {
		return
	}
	out := cloneDims(d)
	if c.n.AttrInt("keepdims", 1) != 0 {
		out[axis] = ir.Known(1)
	} else {
		out = append(out[:axis], out[axis+1:]...)
	}
	c.outTensor(0, ir.Int64, out, true)
}

func ruleTopK(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	if !ranked {
		c.outTensor(0, elem, nil, false)
		c.outTensor(1, ir.Int64, nil, false)
		return
	}
	axis, ok := c.normAxis(c.n.AttrInt("axis", -1), len(d), attrName("axis"))
	if !ok {
		return
	}
	k := ir.UnknownDim
	if c.opset > 0 && c.opset < 10 {
		k = ir.Known(c.n.AttrInt("k", 0))
	} else if vals, ok := c.values(1); ok && len(vals) == 1 {
		k = vals[0].dim()
	}
	if k.IsKnown() && d[axis].IsKnown() && k.Value > d[axis].Value {
		c.problem("k", "k=%d exceeds dimension %d (%d)", k.Value, axis, d[axis].Value)
		return
	}
	out := cloneDims(d)
	out[axis] = k
	c.outTensor(0, elem, out, true)
	c.outTensor(1, ir.Int64, out, true)
}

func ruleOneHot(c *ctx) {
	elem := c.elem(2)
	d, ranked := c.shape(0)
	if !ranked {
		c.outTensor(0, elem, nil, false)
		return
	}
	axis, ok := c.normAxis(c.n.AttrInt("axis", -1), len(d)+1, attrName("axis"))
	if !ok {
		return
	}
	depth := ir.UnknownDim
	if f, ok := c.floats(1); ok && len(f) == 1 {
		depth = ir.Known(int64(f[0]))
	}
	out := append(cloneDims(d[:axis]), depth)
	out = append(out, cloneDims(d[axis:])...)
	c.outTensor(0, elem, out, true)
}

func ruleNonZero(c *ctx) {
	r := c.rank(0)
	rank := ir.UnknownDim
	if r >= 0 {
		rank = ir.Known(int64(r))
	}
	c.outTensor(0, ir.Int64, []ir.Dim{rank, c.e.freshDim()}, true)
}

func ruleRange(c *ctx) {
	elem := c.firstElem(0, 1, 2)
	start, ok1 := c.floats(0)
	limit, ok2 := c.floats(1)
	delta, ok3 := c.floats(2)
	if !ok1 || !ok2 || !ok3 || len(start) != 1 || len(limit) != 1 || len(delta) != 1 {
		c.outTensor(0, elem, []ir.Dim{c.e.freshDim()}, true)
		return
	}
	if delta[0] == 0 {
		c.problem(inputName(2), "delta is 0")
		return
	}
	n := int64(math.Max(math.Ceil((limit[0]-start[0])/delta[0]), 0))
	c.outTensor(0, elem, knownDims(n), true)
}

func ruleEinsum(c *ctx) {
	elem := c.elem(0)
	eq := strings.ReplaceAll(c.n.AttrString("equation", ""), " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	terms := strings.Split(lhs, ",")
	if len(terms) != c.numInputs() {
		c.problem(attrName("equation"), "%d operands in %q for %d inputs", len(terms), eq, c.numInputs())
		return
	}
	sizes := map[rune]ir.Dim{}
	counts := map[rune]int{}
	var ellShapes [][]ir.Dim
	for i, term := range terms {
		d, ok := c.shape(i)
		if !ok {
			c.outTensor(0, elem, nil, false)
			return
		}
		letters := len(strings.ReplaceAll(term, "...", ""))
		ellRank := len(d) - letters
		if !strings.Contains(term, "...") && ellRank != 0 || ellRank < 0 {
			c.problem(inputName(i), "term %q does not match rank %d", term, len(d))
			return
		}
		k := 0
		for j := 0; j < len(term); j++ {
			if strings.HasPrefix(term[j:], "...") {
				ellShapes = append(ellShapes, d[k:k+ellRank])
				k += ellRank
				j += 2
				continue
			}
			r := rune(term[j])
			counts[r]++
			if prev, seen := sizes[r]; seen {
				u, ok := unify(prev, d[k])
				if !ok && !isOne(prev) && !isOne(d[k]) {
					c.problem(inputName(i), "label %c has sizes %s and %s", r, prev, d[k])
					return
				}
				if isOne(prev) {
					u = clean(d[k])
				}
				sizes[r] = u
			} else {
				sizes[r] = clean(d[k])
			}
			k++
		}
	}
	var ell []ir.Dim
	if len(ellShapes) > 0 {
		ranked := make([]bool, len(ellShapes))
		for k := range ranked {
			ranked[k] = true
		}
		var ok bool
		if ell, ok = c.broadcast(ellShapes, ranked, "inputs"); !ok {
			return
		}
	}
	if !explicit {
		// Implicit output: the ellipsis, then labels used once, alphabetically.
		var once []rune
		for r, n := range counts {
			if n == 1 {
				once = append(once, r)
			}
		}
		sortRunes(once)
		rhs = ""
		if len(ellShapes) > 0 {
			rhs = "..."
		}
		rhs += string(once)
	}
	var out []ir.Dim
	for j := 0; j < len(rhs); j++ {
		if strings.HasPrefix(rhs[j:], "...") {
			out = append(out, ell...)
			j += 2
			continue
		}
		d, ok := sizes[rune(rhs[j])]
		if !ok {
			c.problem(attrName("equation"), "output label %c appears in no input", rhs[j])
			return
		}
		out = append(out, d)
	}
	c.outTensor(0, elem, out, true)
}

func sortRunes(r []rune) {
	for i := 1; i < len(r); i++ {
		for j := i; j > 0 && r[j] < r[j-1]; j-- {
			r[j], r[j-1] = r[j-1], r[j]
		}
	}
}

func ruleResize(c *ctx) {
	elem := c.elem(0)
	d, ranked := c.shape(0)
	if !ranked {
		c.outTensor(0, elem, nil, false)
		return
	}
	var scales []float64
	var sizes []int64
	var haveScales, haveSizes bool
	switch {
	case c.n.OpType == "Upsample" && c.opset > 0 && c.opset < 9:
		f := c.n.AttrFloats("scales", nil)
		for _, x := range f {
			scales = append(scales, float64(x))
		}
		haveScales = f != nil
	case c.n.OpType == "Upsample" || (c.opset > 0 && c.opset < 11):
		scales, haveScales = c.floats(1)
	default:
		if c.has(3) {
			sizes, haveSizes = c.ints(3)
		}
		if !haveSizes && c.has(2) {
			scales, haveScales = c.floats(2)
			if haveScales && len(scales) == 0 {
				haveScales = false
			}
		}
	}
	axes := make([]int, len(d))
	for k := range axes {
		axes[k] = k
	}
	if given, ok := c.attrInts("axes"); ok && c.opset >= 18 {
		var ok bool
		if axes, ok = c.normAxes(given, len(d), attrName("axes")); !ok {
			return
		}
	}
	out := cloneDims(d)
	switch {
	case haveSizes:
		if len(sizes) != len(axes) {
			c.problem("sizes", "%d sizes for %d axes", len(sizes), len(axes))
			return
		}
		policy := c.n.AttrString("keep_aspect_ratio_policy", "stretch")
		if policy != "stretch" {
			// Scale every axis by the smallest (not_larger) or largest (not_smaller) ratio.
			var scale float64
			for k, a := range axes {
				if !d[a].IsKnown() || d[a].Value == 0 {
					c.outTensor(0, elem, unknownDims(len(d)), true)
					return
				}
				r := float64(sizes[k]) / float64(d[a].Value)
				if k == 0 || (policy == "not_larger" && r < scale) || (policy == "not_smaller" && r > scale) {
					scale = r
				}
			}
			for _, a := range axes {
				out[a] = ir.Known(int64(math.Round(float64(d[a].Value) * scale)))
			}
		} else {
			for k, a := range axes {
				out[a] = ir.Known(sizes[k])
			}
		}
	case haveScales:
		if len(scales) != len(axes) {
			c.problem("scales", "%d scales for %d axes", len(scales), len(axes))
			return
		}
		for k, a := range axes {
			switch {
			case scales[k] == 1:
			case d[a].IsKnown():
				out[a] = ir.Known(int64(math.Floor(float64(d[a].Value)*scales[k] + 1e-9)))
			default:
				out[a] = ir.UnknownDim
			}
		}
	default:
		out = unknownDims(len(d))
	}
	c.outTensor(0, elem, out, true)
}

func ruleCompress(c *ctx) {
	elem := c.elem(0)
	a := c.n.Attr("axis")
	if a == nil {
		c.outTensor(0, elem, []ir.Dim{c.e.freshDim()}, true)
		return
	}
	d, ranked := c.shape(0)
	if !ranked {
		c.outTensor(0, elem, nil, false)
		return
	}
	axis, ok := c.normAxis(a.Int, len(d), attrName("axis"))
	if !ok {
		return
	}
	out := cloneDims(d)
	out[axis] = c.e.freshDim()
	c.outTensor(0, elem, out, true)
}

func ruleUnique(c *ctx) {
	elem := c.elem(0)
	count := c.e.freshDim()
	var inverse ir.Dim = ir.UnknownDim
	d, ranked := c.shape(0)
	a := c.n.Attr("axis")
	switch {
	case a == nil:
		c.outTensor(0, elem, []ir.Dim{count}, true)
		if ranked {
			inverse = product(d)
		}
	case ranked:
		axis, ok := c.normAxis(a.Int, len(d), attrName("axis"))
		if !ok {
			return
		}
		out := cloneDims(d)
		out[axis] = count
		c.outTensor(0, elem, out, true)
		inverse = clean(d[axis])
	default:
		c.outTensor(0, elem, nil, false)
	}
	c.outTensor(1, ir.Int64, []ir.Dim{count}, true)
	c.outTensor(2, ir.Int64, []ir.Dim{inverse}, true)
	c.outTensor(3, ir.Int64, []ir.Dim{count}, true)
}

func ruleDet(c *ctx) {
	d, ok := c.shape(0)
	if ok && len(d) < 2 {
		c.problem(inputName(0), "rank %d, want at least 2", len(d))
		return
	}
	if ok {
		d = cloneDims(d[:len(d)-2])
	}
	c.outTensor(0, c.elem(0), d, ok)
}

func ruleWindow(c *ctx) {
	elem := ir.DataType(c.n.AttrInt("output_datatype", int64(ir.Float)))
	size := ir.UnknownDim
	if vals, ok := c.values(0); ok && len(vals) == 1 {
		size = vals[0].dim()
	}
	c.outTensor(0, elem, []ir.Dim{size}, true)
}

func ruleLoss(c *ctx) {
	elem := c.elem(0)
	if c.n.AttrString("reduction", "mean") == "none" {
		d, ok := c.shape(1)
		c.outTensor(0, elem, cloneDims(d), ok)
	} else {
		c.outTensor(0, elem, nil, true)
	}
	if c.n.OpType == "SoftmaxCrossEntropyLoss" {
		d, ok := c.shape(0)
		c.outTensor(1, elem, cloneDims(d), ok)
	}
}

func ruleNMS(c *ctx) {
	c.outTensor(0, ir.Int64, []ir.Dim{c.e.freshDim(), ir.Known(3)}, true)
}

func ruleAffineGrid(c *ctx) {
	elem := c.elem(0)
	vals, ok := c.values(1)
	if !ok {
		c.outTensor(0, elem, nil, false)
		return
	}
	switch len(vals) {
	case 4: // N, C, H, W -> N, H, W, 2
		c.outTensor(0, elem, []ir.Dim{vals[0].dim(), vals[2].dim(), vals[3].dim(), ir.Known(2)}, true)
	case 5: // N, C, D, H, W -> N, D, H, W, 3
		c.outTensor(0, elem, []ir.Dim{vals[0].dim(), vals[2].dim(), vals[3].dim(), vals[4].dim(), ir.Known(3)}, true)
	default:
		c.problem(inputName(1), "size has %d entries, want 4 or 5", len(vals))
	}
}

func ruleQuantize(c *ctx) {
	elem := ir.Uint8
	if e := c.elem(2); e != ir.Undefined {
		elem = e
	} else if c.has(2) {
		elem = ir.Undefined
	} else if dt := c.n.AttrInt("output_dtype", 0); dt != 0 {
		elem = ir.DataType(dt)
	}
	d, ok := c.shape(0)
	c.outTensor(0, elem, cloneDims(d), ok)
}

func ruleDequantize(c *ctx) {
	elem := ir.Float
	if c.opset == 0 || c.opset >= 19 {
		elem = c.elem(1)
	}
	if dt := c.n.AttrInt("output_dtype", 0); dt != 0 {
		elem = ir.DataType(dt)
	}
	d, ok := c.shape(0)
	c.outTensor(0, elem, cloneDims(d), ok)
}

func ruleDynamicQuantize(c *ctx) {
	d, ok := c.shape(0)
	c.outTensor(0, ir.Uint8, cloneDims(d), ok)
	c.outTensor(1, ir.Float, nil, true)
	c.outTensor(2, ir.Uint8, nil, true)
}

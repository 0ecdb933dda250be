package infer

import (
	"github.com/whittle-ml/whittle/ir"
)

// Element-wise operators: one output of the first input's shape (unary) or of the inputs'
// broadcast shape (binary and variadic).

func init() {
	register(sameAsInput0,
		"Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Ceil", "Cos", "Cosh", "Elu",
		"Erf", "Exp", "Floor", "HardSigmoid", "HardSwish", "Identity", "LeakyRelu", "Log", "Mish",
		"Neg", "Reciprocal", "Relu", "Round", "Selu", "Sigmoid", "Sign", "Sin", "Sinh",
		"Softplus", "Softsign", "Sqrt", "Tan", "Tanh", "ThresholdedRelu", "Celu", "Gelu",
		"Shrink", "Softmax", "LogSoftmax", "Hardmax", "BitwiseNot", "Not", "Swish",
		"LpNormalization", "MeanVarianceNormalization", "LRN", "Clip", "CumSum", "CumProd",
		"Trilu", "InstanceNormalization", "GroupNormalization", "RMSNormalization",
		"ReverseSequence", "Scatter", "ScatterElements", "ScatterND", "TensorScatter",
		"RotaryEmbedding", "PRelu")
	register(boolOfInput0, "IsInf", "IsNaN")
	register(broadcastSameType,
		"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Mean", "Sum", "BitShift",
		"BitwiseAnd", "BitwiseOr", "BitwiseXor", "And", "Or", "Xor")
	register(broadcastBool, "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual")
	register(ruleWhere, "Where")
	register(ruleDropout, "Dropout")
	register(ruleBatchNorm, "BatchNormalization")
	register(ruleLayerNorm, "LayerNormalization")
	register(ruleCast, "Cast")
	register(ruleCastLike, "CastLike")
	register(ruleLikeWithDtype, "RandomUniformLike", "RandomNormalLike", "Bernoulli", "EyeLike")
}

// sameAsInput0 gives output 0 input 0's type (any kind: Identity passes sequences too).
func sameAsInput0(c *ctx) {
	if t := c.in(0); t != nil {
		c.out(0, t.Clone())
	}
}

func boolOfInput0(c *ctx) {
	d, ok := c.shape(0)
	c.outTensor(0, ir.Bool, cloneDims(d), ok)
}

// broadcastInputs broadcasts the shapes of the given inputs (all present inputs when nil).
func (c *ctx) broadcastInputs(idx []int) ([]ir.Dim, bool) {
	if idx == nil {
		for i := range c.n.Inputs() {
			if c.has(i) {
				idx = append(idx, i)
			}
		}
	}
	shapes := make([][]ir.Dim, len(idx))
	ranked := make([]bool, len(idx))
	for k, i := range idx {
		shapes[k], ranked[k] = c.shape(i)
	}
	return c.broadcast(shapes, ranked, "inputs")
}

// firstElem returns the first known element type among the inputs.
func (c *ctx) firstElem(idx ...int) ir.DataType {
	for _, i := range idx {
		if e := c.elem(i); e != ir.Undefined {
			return e
		}
	}
	return ir.Undefined
}

func (c *ctx) checkSameElem(idx ...int) {
	var first ir.DataType
	for _, i := range idx {
		e := c.elem(i)
		if e == ir.Undefined {
			continue
		}
		if first == ir.Undefined {
			first = e
		} else if e != first {
			c.problem(inputName(i), "element type %s differs from %s of the other inputs", e, first)
			return
		}
	}
}

func broadcastSameType(c *ctx) {
	var idx []int
	for i := range c.n.Inputs() {
		if c.has(i) {
			idx = append(idx, i)
		}
	}
	if c.n.OpType != "Pow" && c.n.OpType != "BitShift" {
		c.checkSameElem(idx...)
	}
	dims, ok := c.broadcastInputs(idx)
	if len(idx) == 0 {
		return
	}
	if c.n.OpType != "Pow" {
		c.outTensor(0, c.firstElem(idx...), dims, ok)
		return
	}
	c.outTensor(0, c.elem(0), dims, ok)
}

func broadcastBool(c *ctx) {
	c.checkSameElem(0, 1)
	dims, ok := c.broadcastInputs([]int{0, 1})
	c.outTensor(0, ir.Bool, dims, ok)
}

func ruleWhere(c *ctx) {
	if e := c.elem(0); e != ir.Undefined && e != ir.Bool {
		c.problem(inputName(0), "condition is %s, not bool", e)
	}
	c.checkSameElem(1, 2)
	dims, ok := c.broadcastInputs([]int{0, 1, 2})
	c.outTensor(0, c.firstElem(1, 2), dims, ok)
}

func ruleDropout(c *ctx) {
	sameAsInput0(c)
	d, ok := c.shape(0)
	// Dropout before 10 declares the mask as T; from 10 on it is bool.
	mask := ir.Bool
	if c.opset > 0 && c.opset < 10 {
		mask = c.elem(0)
	}
	c.outTensor(1, mask, cloneDims(d), ok)
}

func ruleBatchNorm(c *ctx) {
	sameAsInput0(c)
	if c.numOutputs() <= 1 {
		return
	}
	// Training outputs (running/saved mean and variance) are per channel.
	var ch ir.Dim = ir.UnknownDim
	if d, ok := c.shape(0); ok && len(d) >= 2 {
		ch = d[1]
	}
	elem := c.firstElem(3, 1, 0)
	for i := 1; i < c.numOutputs(); i++ {
		c.outTensor(i, elem, []ir.Dim{clean(ch)}, true)
	}
}

func ruleLayerNorm(c *ctx) {
	sameAsInput0(c)
	if c.numOutputs() <= 1 {
		return
	}
	stash := ir.DataType(c.n.AttrInt("stash_type", int64(ir.Float)))
	d, ok := c.shape(0)
	if !ok {
		c.outTensor(1, stash, nil, false)
		c.outTensor(2, stash, nil, false)
		return
	}
	axis, ok := c.normAxis(c.n.AttrInt("axis", -1), len(d), attrName("axis"))
	if !ok {
		return
	}
	stats := cloneDims(d)
	for k := axis; k < len(stats); k++ {
		stats[k] = ir.Known(1)
	}
	c.outTensor(1, stash, stats, true)
	c.outTensor(2, stash, stats, true)
}

func ruleCast(c *ctx) {
	a := c.n.Attr("to")
	if a == nil || a.Type != ir.AttrInt {
		c.problem(attrName("to"), "missing or not an int")
		return
	}
	to := ir.DataType(a.Int)
	if !to.Valid() {
		c.problem(attrName("to"), "unknown element type %d", a.Int)
		return
	}
	d, ok := c.shape(0)
	c.outTensor(0, to, cloneDims(d), ok)
}

func ruleCastLike(c *ctx) {
	d, ok := c.shape(0)
	c.outTensor(0, c.elem(1), cloneDims(d), ok)
}

// ruleLikeWithDtype covers ops whose output has the input's shape and the element type of
// attribute dtype, or else the input's.
func ruleLikeWithDtype(c *ctx) {
	elem := c.elem(0)
	if c.n.OpType == "Bernoulli" || c.n.OpType == "EyeLike" || c.n.Attr("dtype") != nil {
		if a := c.n.Attr("dtype"); a != nil && a.Type == ir.AttrInt {
			elem = ir.DataType(a.Int)
		}
	}
	d, ok := c.shape(0)
	c.outTensor(0, elem, cloneDims(d), ok)
}

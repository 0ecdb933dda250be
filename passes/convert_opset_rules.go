package passes

import (
	"fmt"
	"math"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// opsetRules maps operator -> version -> how to convert a node from the previous version
// to that one. Versions come from Operators.md (opschema.Versions); what changed at each
// comes from ONNX's Changelog.md. A step that only adds element types, documents
// behaviour or adds an attribute whose default keeps the old behaviour is `same`.
// Versions with no entry make convert_opset refuse the model.
var opsetRules = map[string]map[int64]opStep{}

// same is a step that needs no rewrite.
var same = opStep{}

func init() {
	rules := map[string]map[int64]opStep{
		// Opset 6 dropped the legacy consumed_inputs attribute everywhere; opset 7 replaced
		// the broadcast/axis attributes of binary ops by numpy broadcasting.
		"Add": {6: dropConsumed, 7: legacyBroadcast, 13: same, 14: same},
		"Sub": {6: dropConsumed, 7: legacyBroadcast, 13: same, 14: same},
		"Mul": {6: dropConsumed, 7: legacyBroadcast, 13: same, 14: same},
		"Div": {6: dropConsumed, 7: legacyBroadcast, 13: same, 14: same},
		"Pow": {7: legacyBroadcast, 12: same, 13: same, 15: same},
		"And": {7: legacyBroadcast}, "Or": {7: legacyBroadcast}, "Xor": {7: legacyBroadcast},
		"Equal":   {7: legacyBroadcast, 11: same, 13: same, 19: same},
		"Greater": {7: legacyBroadcast, 9: same, 13: same},
		"Less":    {7: legacyBroadcast, 9: same, 13: same},
		"Gemm":    {6: same, 7: dropAttrs("broadcast"), 9: same, 11: same, 13: same},

		"Abs": {6: dropConsumed, 13: same}, "Ceil": {6: dropConsumed, 13: same},
		"Exp": {6: dropConsumed, 13: same}, "Floor": {6: dropConsumed, 13: same},
		"Log": {6: dropConsumed, 13: same}, "Neg": {6: dropConsumed, 13: same},
		"Reciprocal": {6: dropConsumed, 13: same}, "Sigmoid": {6: dropConsumed, 13: same},
		"Sqrt": {6: dropConsumed, 13: same}, "Tanh": {6: dropConsumed, 13: same},
		"Relu": {6: dropConsumed, 13: same, 14: same},
		"Elu":  {6: dropConsumed, 22: same}, "Selu": {6: dropConsumed, 22: same},
		"HardSigmoid":           {6: dropConsumed, 22: same},
		"LeakyRelu":             {6: dropConsumed, 16: same},
		"InstanceNormalization": {6: dropConsumed, 22: same},
		"Max":                   {6: dropConsumed, 8: same, 12: same, 13: same},
		"Min":                   {6: dropConsumed, 8: same, 12: same, 13: same},
		"Mean":                  {6: dropConsumed, 8: same, 13: same},
		"Sum":                   {6: dropConsumed, 8: same, 13: same},
		"PRelu":                 {6: dropConsumed, 7: preluSlope, 9: same, 16: same},
		"Clip":                  {6: dropConsumed, 11: clipBoundsToInputs, 12: same, 13: same},
		"BatchNormalization": {6: dropConsumed, 7: dropAttrs("is_test"), 9: bnSpatial,
			14: bnTrainingMode, 15: same},
		"Dropout": {6: dropConsumed, 7: dropAttrs("is_test"), 10: dropoutMaskBool,
			12: dropoutRatioToInput, 13: same, 22: same},

		"Reshape":   {5: reshapeShapeToInput, 13: same, 14: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"Squeeze":   {11: same, 13: attrToInput("axes", 1, false), 21: same, 23: same, 24: same, 25: same},
		"Unsqueeze": {11: same, 13: attrToInput("axes", 1, true), 21: same, 23: same, 24: same, 25: same},
		"Split":     {2: splitInputToAttr, 11: same, 13: attrToInput("split", 1, false), 18: same},
		"Slice":     {10: sliceAttrsToInputs, 11: same, 13: same},
		"Pad":       {2: padRename, 11: padAttrsToInputs, 13: same, 18: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"TopK":      {10: attrToInputVec("k", 1), 11: same, 24: same},
		"Tile":      {6: tileRepeats, 13: same},
		"Concat":    {4: concatAxis, 11: same, 13: same},
		"Cast":      {6: castToInt, 9: same, 13: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"CastLike":  {19: same, 21: same, 23: same, 24: same, 25: same},

		"Softmax":    {11: same, 13: softmaxAxis},
		"LogSoftmax": {11: same, 13: softmaxAxis},
		"Hardmax":    {11: same, 13: softmaxAxis},

		"ReduceSum":       {11: same, 13: attrToInput("axes", 1, false)},
		"ReduceMean":      {11: same, 13: same, 18: attrToInput("axes", 1, false)},
		"ReduceProd":      {11: same, 13: same, 18: attrToInput("axes", 1, false)},
		"ReduceL1":        {11: same, 13: same, 18: attrToInput("axes", 1, false)},
		"ReduceL2":        {11: same, 13: same, 18: attrToInput("axes", 1, false)},
		"ReduceLogSum":    {11: same, 13: same, 18: attrToInput("axes", 1, false)},
		"ReduceLogSumExp": {11: same, 13: same, 18: attrToInput("axes", 1, false)},
		"ReduceSumSquare": {11: same, 13: same, 18: attrToInput("axes", 1, false)},
		"ReduceMax":       {11: same, 12: same, 13: same, 18: attrToInput("axes", 1, false), 20: same},
		"ReduceMin":       {11: same, 12: same, 13: same, 18: attrToInput("axes", 1, false), 20: same},

		// Pooling: count_include_pad (7), ceil_mode (10), dilations (10/19) and storage_order
		// (8) default to the old behaviour.
		"AveragePool":  {7: same, 10: same, 11: same, 19: same, 22: same},
		"MaxPool":      {8: same, 10: same, 11: same, 12: same, 22: same},
		"LpPool":       {2: lpPoolIntP, 11: same, 18: same, 22: same},
		"GlobalLpPool": {2: lpPoolIntP, 22: same},

		"Upsample":           {9: attrToInputVec("scales", 1), 10: upsampleToResize},
		"Resize":             {11: resizeRoiAndModes, 13: same, 18: same, 19: same},
		"Scatter":            {11: renameTo("ScatterElements")},
		"ScatterElements":    {13: same, 16: same, 18: same},
		"ScatterND":          {13: same, 16: same, 18: same},
		"GRU":                {3: same, 7: dropAttrs("output_sequence"), 14: same, 22: same},
		"LSTM":               {7: dropAttrs("output_sequence"), 14: same, 22: same},
		"RNN":                {7: dropAttrs("output_sequence"), 14: same, 22: same},
		"RoiAlign":           {16: roiAlignHalfPixel, 22: same},
		"GridSample":         {20: gridSampleModes, 22: same},
		"GroupNormalization": {21: groupNormPerChannel},
		"DFT":                {20: dftAxisToInput},

		// Version changes that only add types, allow negative axes/indices, or add an
		// attribute or optional input whose default keeps the old behaviour.
		"Acos": {22: same}, "Acosh": {22: same}, "Asin": {22: same}, "Asinh": {22: same},
		"Atan": {22: same}, "Atanh": {22: same}, "Cos": {22: same}, "Cosh": {22: same},
		"Sin": {22: same}, "Sinh": {22: same}, "Tan": {22: same}, "Round": {22: same},
		"Softplus": {22: same}, "Softsign": {22: same}, "HardSwish": {22: same},
		"Mish": {22: same}, "ThresholdedRelu": {22: same}, "Celu": {28: same},
		"Bernoulli": {22: same}, "Multinomial": {22: same}, "EyeLike": {22: same},
		"RandomNormal": {22: same}, "RandomNormalLike": {22: same},
		"RandomUniform": {22: same}, "RandomUniformLike": {22: same},
		"GlobalAveragePool": {22: same}, "GlobalMaxPool": {22: same}, "MaxRoiPool": {22: same},
		"LpNormalization": {22: same}, "Det": {22: same}, "DeformConv": {22: same},
		"MaxUnpool": {11: same, 22: same},
		"Conv":      {11: same, 22: same}, "ConvTranspose": {11: same, 22: same},
		"ArgMax": {11: same, 12: same, 13: same}, "ArgMin": {11: same, 12: same, 13: same},
		"Erf": {13: same}, "Sign": {13: same}, "NonZero": {13: same}, "Mod": {13: same},
		"Expand": {13: same}, "MatMul": {9: same, 13: same}, "LRN": {13: same},
		"MeanVarianceNormalization": {13: same}, "SpaceToDepth": {13: same},
		"DepthToSpace": {11: same, 13: same}, "Compress": {11: same}, "OneHot": {11: same},
		"Gather": {11: same, 13: same}, "GatherElements": {13: same}, "GatherND": {12: same, 13: same},
		"Flatten":         {9: same, 11: same, 13: same, 21: same, 23: same, 24: same, 25: same},
		"Transpose":       {13: same, 21: same, 23: same, 24: same, 25: same},
		"Identity":        {13: same, 14: same, 16: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"Shape":           {13: same, 15: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"Size":            {13: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"Constant":        {9: same, 11: same, 12: same, 13: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"ConstantOfShape": {20: same, 21: same, 23: same, 24: same, 25: same},
		"If":              {11: same, 13: same, 16: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"Loop":            {11: same, 13: same, 16: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"Scan":            {11: same, 16: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"Where":           {16: same}, "IsNaN": {13: same, 20: same}, "IsInf": {20: same},
		"CumSum": {14: same}, "Range": {27: same}, "NonMaxSuppression": {11: same},
		"GreaterOrEqual": {16: same}, "LessOrEqual": {16: same},
		"QuantizeLinear":            {13: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"DequantizeLinear":          {13: same, 19: same, 21: same, 23: same, 24: same, 25: same},
		"QLinearMatMul":             {21: same},
		"NegativeLogLikelihoodLoss": {13: same, 22: same}, "SoftmaxCrossEntropyLoss": {13: same},
		"OptionalGetElement": {18: same}, "OptionalHasElement": {18: same},
		"SplitToSequence": {24: same},
	}
	for op, steps := range rules {
		opsetRules[op] = steps
	}
}

// --- generic steps ---

// dropAttrs removes attributes the new version no longer has.
func dropAttrs(names ...string) opStep {
	return opStep{apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		for _, name := range names {
			c.r.deleteAttr(n, name)
		}
		return n, nil
	}}
}

// dropConsumed removes the legacy consumed_inputs attribute (gone in opset 6).
var dropConsumed = dropAttrs("consumed_inputs")

// renameTo replaces the node by the same call of another operator.
func renameTo(op string) opStep {
	return opStep{becomes: op, apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		return c.replaceNode(n, op, n.Inputs(), n.Attrs)
	}}
}

// attrToInput moves an ints attribute to an int64 1-D input at index; required says the
// attribute must be there (else, when absent, the input stays omitted).
func attrToInput(attr string, index int, required bool) opStep {
	return opStep{
		check: func(c *opsetConverter, n *ir.Node) error {
			if required && n.Attr(attr) == nil {
				return fmt.Errorf("attribute %s is missing", attr)
			}
			if a := n.Attr(attr); a != nil && a.Type != ir.AttrInts {
				return fmt.Errorf("attribute %s is %s, want ints", attr, a.Type)
			}
			return nil
		},
		apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
			a := n.Attr(attr)
			if a == nil {
				return n, nil
			}
			v := c.constInput(n, attr, ir.FromInt64("", []int64{int64(len(a.Ints))}, a.Ints))
			c.setInputAt(n, index, v)
			c.r.deleteAttr(n, attr)
			return n, nil
		},
	}
}

// attrToInputVec moves a required scalar int (TopK's k) or floats (Upsample's scales)
// attribute to a 1-D input at index.
func attrToInputVec(attr string, index int) opStep {
	return opStep{
		check: func(c *opsetConverter, n *ir.Node) error {
			if n.Attr(attr) == nil {
				return fmt.Errorf("attribute %s is missing", attr)
			}
			return nil
		},
		apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
			a := n.Attr(attr)
			var t *ir.Tensor
			switch a.Type {
			case ir.AttrInt:
				t = ir.FromInt64("", []int64{1}, []int64{a.Int})
			case ir.AttrFloats:
				t = ir.FromFloat32("", []int64{int64(len(a.Floats))}, a.Floats)
			default:
				return nil, fmt.Errorf("attribute %s is %s", attr, a.Type)
			}
			c.setInputAt(n, index, c.constInput(n, attr, t))
			c.r.deleteAttr(n, attr)
			return n, nil
		},
	}
}

// --- helpers that emit IR valid at the target opset ---

// constInput adds an initializer, named after n and what, beside n.
func (c *opsetConverter) constInput(n *ir.Node, what string, t *ir.Tensor) *ir.Value {
	c.addedConst = true
	return c.r.addConst(n.Graph(), nodeLabel(n)+"_"+what, t)
}

// setInputAt makes input index of n read v, first adding omitted inputs up to index.
func (c *opsetConverter) setInputAt(n *ir.Node, index int, v *ir.Value) {
	for len(n.Inputs()) < index {
		c.r.appendInput(n, nil)
	}
	if index == len(n.Inputs()) {
		c.r.appendInput(n, v)
		return
	}
	c.r.setInput(n, index, v)
}

// trimInputs drops n's inputs from index k on, logging each.
func (c *opsetConverter) trimInputs(n *ir.Node, k int) {
	for i := len(n.Inputs()) - 1; i >= k; i-- {
		c.r.setInput(n, i, nil)
	}
	if len(n.Inputs()) > k {
		n.TrimInputs(k)
	}
}

// replaceNode puts a call of op with inputs and attrs in n's place: it takes n's name, its
// outputs take over n's outputs (and their names), and n is removed.
func (c *opsetConverter) replaceNode(n *ir.Node, op string, inputs []*ir.Value, attrs []*ir.Attr) (*ir.Node, error) {
	hints := make([]string, len(n.Outputs()))
	for i, o := range n.Outputs() {
		if o != nil {
			hints[i] = o.Name + "_" + strings.ToLower(op)
		}
	}
	ins := append([]*ir.Value(nil), inputs...)
	cp := make([]*ir.Attr, len(attrs))
	copy(cp, attrs)
	nn := c.r.newNode(n.Graph(), n, "", op, ins, hints, cp...)
	for _, sub := range nn.Subgraphs() {
		nn.AttachSubgraph(sub)
	}
	if err := c.takeOver(n, nn); err != nil {
		return nil, err
	}
	return nn, nil
}

// takeOver makes nn's outputs stand in for n's, gives nn n's name and removes n.
func (c *opsetConverter) takeOver(n, nn *ir.Node) error {
	for i, o := range n.Outputs() {
		if o == nil {
			continue
		}
		w := nn.Output(i)
		if w == nil {
			return fmt.Errorf("%s has no output %d to replace %q", nn.Describe(), i, o.Name)
		}
		if !c.r.replaceValue(o, w) {
			return fmt.Errorf("cannot replace output %q", o.Name)
		}
	}
	name := n.Name
	if err := c.r.removeNode(n); err != nil {
		return err
	}
	nn.Name = name
	return nil
}

// unsqueeze emits Unsqueeze(x, axes) before ref, in the target opset's form.
func (c *opsetConverter) unsqueeze(ref *ir.Node, x *ir.Value, axes []int64) *ir.Value {
	g := ref.Graph()
	hint := x.Name + "_unsqueezed"
	if c.to >= 13 {
		ax := c.constInput(ref, "axes", ir.FromInt64("", []int64{int64(len(axes))}, axes))
		return c.r.newNode(g, ref, "", "Unsqueeze", []*ir.Value{x, ax}, []string{hint}).Output(0)
	}
	return c.r.newNode(g, ref, "", "Unsqueeze", []*ir.Value{x}, []string{hint}, ir.IntsAttr("axes", axes...)).Output(0)
}

// scalarOf makes a scalar of a float element type (the types of Clip-6 and Pad-2).
func scalarOf(dt ir.DataType, v float64) (*ir.Tensor, error) {
	switch dt {
	case ir.Float, ir.Double, ir.Float16:
		return ir.FromFloat64s("", dt, nil, []float64{v}), nil
	}
	return nil, fmt.Errorf("element type %s is not float, double or float16", dt)
}

// sameRankOps give an output of their first input's rank at every opset (shape inference
// of old opsets may not know it, e.g. after a legacy-broadcast Add).
var sameRankOps = map[string]bool{
	"Relu": true, "Sigmoid": true, "Tanh": true, "Abs": true, "Neg": true, "Exp": true, "Log": true,
	"Sqrt": true, "Ceil": true, "Floor": true, "Reciprocal": true, "Elu": true, "Selu": true,
	"LeakyRelu": true, "HardSigmoid": true, "Softplus": true, "Softsign": true, "Softmax": true,
	"LogSoftmax": true, "Hardmax": true, "Dropout": true, "Identity": true, "Cast": true, "Clip": true,
	"BatchNormalization": true, "InstanceNormalization": true, "LRN": true, "PRelu": true, "Not": true,
	"Erf": true, "Sign": true, "Sin": true, "Cos": true, "Tan": true, "Pad": true,
}

// legacyBroadcastOps had broadcast/axis attributes before opset 7; with broadcast=1 the
// output has the first input's shape.
var legacyBroadcastOps = map[string]bool{
	"Add": true, "Sub": true, "Mul": true, "Div": true, "Pow": true, "And": true, "Or": true,
	"Xor": true, "Equal": true, "Greater": true, "Less": true,
}

// rank returns v's rank: from its type, else from its producer when that keeps its first
// input's rank. -1 when unknown. Answers are remembered: the plan asks before anything
// changes, and conversion (which drops the attributes this reasons from) asks again.
func (c *opsetConverter) rank(v *ir.Value) int {
	if r, ok := c.ranks[v]; ok {
		return r
	}
	r := c.computeRank(v)
	c.ranks[v] = r
	return r
}

func (c *opsetConverter) computeRank(v *ir.Value) int {
	for depth := 0; v != nil && depth < 256; depth++ {
		if r := rankOf(v); r >= 0 {
			return r
		}
		p := v.Producer()
		if p == nil || !ir.IsDefaultDomain(p.Domain) || v.OutputIndex() != 0 {
			return -1
		}
		if !sameRankOps[p.OpType] && !(legacyBroadcastOps[p.OpType] && c.from < 7 && p.AttrInt("broadcast", 0) == 1) {
			return -1
		}
		v = p.Input(0)
	}
	return -1
}

// --- operator-specific steps ---

// legacyBroadcast drops the broadcast/axis attributes of opset < 7 binary ops. With
// broadcast=1, B aligned at A's axis `axis` (suffix when axis is absent); numpy aligns
// trailing dims, so when B does not reach A's last axis it gets trailing 1-dims.
var legacyBroadcast = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		_, _, err := legacyBroadcastAxes(c, n)
		return err
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		axes, _, err := legacyBroadcastAxes(c, n)
		if err != nil {
			return nil, err
		}
		if len(axes) > 0 {
			c.r.setInput(n, 1, c.unsqueeze(n, n.Input(1), axes))
		}
		c.r.deleteAttr(n, "broadcast")
		c.r.deleteAttr(n, "axis")
		return n, nil
	},
}

// legacyBroadcastAxes returns the axes to unsqueeze B at so that numpy broadcasting aligns
// it where the legacy axis attribute did.
func legacyBroadcastAxes(c *opsetConverter, n *ir.Node) ([]int64, bool, error) {
	if n.AttrInt("broadcast", 0) == 0 || n.Attr("axis") == nil {
		return nil, false, nil
	}
	ra, rb := c.rank(n.Input(0)), c.rank(n.Input(1))
	if ra < 0 || rb < 0 {
		return nil, false, fmt.Errorf("broadcast=1 with axis needs the ranks of both inputs, which shape inference does not know")
	}
	axis := n.AttrInt("axis", 0)
	if axis < 0 {
		axis += int64(ra)
	}
	if axis < 0 || axis+int64(rb) > int64(ra) {
		return nil, false, fmt.Errorf("axis %d does not fit B of rank %d in A of rank %d", n.AttrInt("axis", 0), rb, ra)
	}
	var axes []int64
	for r := int64(rb); r < int64(ra)-axis; r++ {
		axes = append(axes, r)
	}
	return axes, true, nil
}

// preluSlope: before opset 7 a 1-D slope of C != 1 values applies per channel (axis 1);
// from 7 it broadcasts numpy-style (trailing axes), so it gets trailing 1-dims.
var preluSlope = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		_, err := preluAxes(c, n)
		return err
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		axes, err := preluAxes(c, n)
		if err != nil {
			return nil, err
		}
		if len(axes) > 0 {
			c.r.setInput(n, 1, c.unsqueeze(n, n.Input(1), axes))
		}
		return n, nil
	},
}

func preluAxes(c *opsetConverter, n *ir.Node) ([]int64, error) {
	slope := n.Input(1)
	sd, ok := staticDims(slope)
	if ok && (len(sd) != 1 || sd[0] == 1) {
		return nil, nil // scalar-like or already full rank: numpy rules agree
	}
	rx := c.rank(n.Input(0))
	if !ok || rx < 0 {
		return nil, fmt.Errorf("needs the slope's shape and the input's rank, which shape inference does not know")
	}
	if rx <= 2 {
		return nil, nil
	}
	if xd := n.Input(0).Type; xd.Rank() == rx && xd.Dims[1].IsKnown() && xd.Dims[1].Value != sd[0] {
		return nil, nil // not per-channel: the legacy kernels broadcast numpy-style too
	}
	var axes []int64
	for a := int64(1); a < int64(rx-1); a++ {
		axes = append(axes, a)
	}
	return axes, nil
}

// clipBoundsToInputs moves Clip-6's min/max attributes to inputs of the input's type.
var clipBoundsToInputs = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		if n.Attr("min") == nil && n.Attr("max") == nil {
			return nil
		}
		_, err := scalarOf(elemOf(n.Input(0)), 0)
		return err
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		dt := elemOf(n.Input(0))
		for i, name := range []string{"min", "max"} {
			a := n.Attr(name)
			if a == nil {
				continue
			}
			t, err := scalarOf(dt, float64(a.Float))
			if err != nil {
				return nil, err
			}
			c.setInputAt(n, i+1, c.constInput(n, name, t))
			c.r.deleteAttr(n, name)
		}
		return n, nil
	},
}

// bnSpatial: BatchNormalization-9 always normalizes per channel, as spatial=1 did.
var bnSpatial = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		if n.AttrInt("spatial", 1) != 1 {
			return fmt.Errorf("spatial=0 (per-activation statistics) has no opset-9 equivalent rule")
		}
		return nil
	},
	apply: dropAttrs("spatial").apply,
}

// bnTrainingMode: BatchNormalization-14 computes batch statistics only with
// training_mode=1 and has 3 outputs; inference nodes (1 output) are unchanged.
var bnTrainingMode = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		for i := 1; i < len(n.Outputs()); i++ {
			if n.Output(i) != nil {
				return fmt.Errorf("training-mode BatchNormalization (%d outputs) is not converted", len(n.Outputs()))
			}
		}
		return nil
	},
}

// dropoutMaskBool: Dropout-10's mask is bool instead of the input's type.
var dropoutMaskBool = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		if m := n.Output(1); m != nil && (len(m.Uses()) > 0 || m.IsGraphOutput()) {
			return fmt.Errorf("the mask output is read, and its type changes to bool")
		}
		return nil
	},
}

// dropoutRatioToInput moves Dropout's ratio attribute to a float input (opset 12).
var dropoutRatioToInput = opStep{
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		a := n.Attr("ratio")
		if a == nil {
			return n, nil
		}
		c.setInputAt(n, 1, c.constInput(n, "ratio", ir.FromFloat32("", nil, []float32{a.Float})))
		c.r.deleteAttr(n, "ratio")
		return n, nil
	},
}

// reshapeShapeToInput moves Reshape-1's shape attribute to an input (opset 5).
var reshapeShapeToInput = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		if a := n.Attr("shape"); a == nil || a.Type != ir.AttrInts {
			return fmt.Errorf("Reshape-1 without an ints shape attribute")
		}
		return nil
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		c.r.deleteAttr(n, "consumed_inputs")
		return attrToInput("shape", 1, true).apply(c, n)
	},
}

// splitInputToAttr: Split-1 took the split sizes as an optional second input or an
// attribute; Split-2 only as an attribute.
var splitInputToAttr = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		if n.Input(1) != nil {
			if _, ok := constInts(n.Input(1)); !ok {
				return fmt.Errorf("the split input is not a constant")
			}
		}
		return nil
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		if n.Input(1) != nil {
			sizes, _ := constInts(n.Input(1))
			c.r.setAttr(n, ir.IntsAttr("split", sizes...))
		}
		c.trimInputs(n, 1)
		return n, nil
	},
}

// sliceAttrsToInputs moves Slice-1's starts/ends/axes attributes to inputs (opset 10).
var sliceAttrsToInputs = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		if n.Attr("starts") == nil || n.Attr("ends") == nil {
			return fmt.Errorf("Slice-1 without starts and ends")
		}
		return nil
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		for i, name := range []string{"starts", "ends", "axes"} {
			a := n.Attr(name)
			if a == nil {
				continue
			}
			c.setInputAt(n, i+1, c.constInput(n, name, ir.FromInt64("", []int64{int64(len(a.Ints))}, a.Ints)))
			c.r.deleteAttr(n, name)
		}
		return n, nil
	},
}

// padRename: Pad-1's paddings attribute is Pad-2's pads.
var padRename = opStep{
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		if a := n.Attr("paddings"); a != nil {
			c.r.setAttr(n, ir.IntsAttr("pads", a.Ints...))
			c.r.deleteAttr(n, "paddings")
		}
		return n, nil
	},
}

// padAttrsToInputs moves Pad-2's pads and value attributes to inputs (opset 11).
var padAttrsToInputs = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		if a := n.Attr("pads"); a == nil && n.Attr("paddings") == nil {
			return fmt.Errorf("Pad without pads")
		}
		if v := n.AttrFloat("value", 0); v != 0 && n.AttrString("mode", "constant") == "constant" {
			if _, err := scalarOf(elemOf(n.Input(0)), 0); err != nil {
				return err
			}
		}
		return nil
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		pads := n.AttrInts("pads", nil)
		c.setInputAt(n, 1, c.constInput(n, "pads", ir.FromInt64("", []int64{int64(len(pads))}, pads)))
		c.r.deleteAttr(n, "pads")
		if v := n.AttrFloat("value", 0); v != 0 && n.AttrString("mode", "constant") == "constant" {
			t, err := scalarOf(elemOf(n.Input(0)), float64(v))
			if err != nil {
				return nil, err
			}
			c.setInputAt(n, 2, c.constInput(n, "value", t))
		}
		c.r.deleteAttr(n, "value")
		return n, nil
	},
}

// tileRepeats: Tile-1 repeated along one axis (tiles, axis inputs); Tile-6 takes a
// repeats vector.
var tileRepeats = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		_, err := tileRepeatsOf(c, n)
		return err
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		reps, err := tileRepeatsOf(c, n)
		if err != nil {
			return nil, err
		}
		c.trimInputs(n, 1)
		c.r.appendInput(n, c.constInput(n, "repeats", ir.FromInt64("", []int64{int64(len(reps))}, reps)))
		return n, nil
	},
}

func tileRepeatsOf(c *opsetConverter, n *ir.Node) ([]int64, error) {
	tiles, ok1 := constInts(n.Input(1))
	axis, ok2 := constInts(n.Input(2))
	rank := c.rank(n.Input(0))
	if !ok1 || !ok2 || len(tiles) != 1 || len(axis) != 1 || rank < 0 {
		return nil, fmt.Errorf("Tile-1 needs constant scalar tiles and axis and a known input rank")
	}
	a := axis[0]
	if a < 0 {
		a += int64(rank)
	}
	if a < 0 || a >= int64(rank) {
		return nil, fmt.Errorf("Tile-1 axis %d is out of range for rank %d", axis[0], rank)
	}
	reps := make([]int64, rank)
	for i := range reps {
		reps[i] = 1
	}
	reps[a] = tiles[0]
	return reps, nil
}

// concatAxis: Concat-1's axis defaulted to 1; from opset 4 it is required.
var concatAxis = opStep{
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		if n.Attr("axis") == nil {
			c.r.setAttr(n, ir.IntAttr("axis", 1))
		}
		return n, nil
	},
}

// castTypeNames are Cast-1's `to` values: TensorProto.DataType names.
var castTypeNames = map[string]ir.DataType{
	"FLOAT": ir.Float, "UINT8": ir.Uint8, "INT8": ir.Int8, "UINT16": ir.Uint16, "INT16": ir.Int16,
	"INT32": ir.Int32, "INT64": ir.Int64, "STRING": ir.String, "BOOL": ir.Bool, "FLOAT16": ir.Float16,
	"DOUBLE": ir.Double, "UINT32": ir.Uint32, "UINT64": ir.Uint64, "COMPLEX64": ir.Complex64,
	"COMPLEX128": ir.Complex128,
}

// castToInt: Cast-1's `to` named the type as a string; Cast-6 takes the enum number.
var castToInt = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		if a := n.Attr("to"); a != nil && a.Type == ir.AttrString {
			if _, ok := castTypeNames[strings.ToUpper(a.String)]; !ok {
				return fmt.Errorf("unknown Cast-1 type name %q", a.String)
			}
		}
		return nil
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		if a := n.Attr("to"); a != nil && a.Type == ir.AttrString {
			c.r.setAttr(n, ir.IntAttr("to", int64(castTypeNames[strings.ToUpper(a.String)])))
		}
		return n, nil
	},
}

// softmaxAxis: before opset 13, Softmax, LogSoftmax and Hardmax coerced the input to 2-D
// at axis (default 1) and normalized each row; from 13 they normalize along axis alone
// (default -1). When axis is the last dimension the two agree (the axis is made explicit,
// since the default changed); otherwise the node becomes Flatten -> op(axis=1) -> Reshape
// back to the input's shape, which is the old definition.
var softmaxAxis = opStep{
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		axis := n.AttrInt("axis", 1)
		if r := c.rank(n.Input(0)); r >= 0 {
			a := axis
			if a < 0 {
				a += int64(r)
			}
			if a == int64(r)-1 {
				if n.Attr("axis") == nil { // the default changes from 1 to -1
					c.r.setAttr(n, ir.IntAttr("axis", axis))
				}
				return n, nil
			}
		}
		g, x, label := n.Graph(), n.Input(0), nodeLabel(n)
		shape := c.r.newNode(g, n, "", "Shape", []*ir.Value{x}, []string{label + "_shape"})
		flat := c.r.newNode(g, n, "", "Flatten", []*ir.Value{x}, []string{label + "_2d"}, ir.IntAttr("axis", axis))
		attrs := []*ir.Attr{ir.IntAttr("axis", 1)}
		for _, a := range n.Attrs {
			if a.Name != "axis" {
				attrs = append(attrs, a)
			}
		}
		op := c.r.newNode(g, n, "", n.OpType, []*ir.Value{flat.Output(0)}, []string{label + "_2d_out"}, attrs...)
		back := c.r.newNode(g, n, "", "Reshape", []*ir.Value{op.Output(0), shape.Output(0)}, []string{label + "_out"})
		if !c.r.replaceValue(n.Output(0), back.Output(0)) {
			return nil, fmt.Errorf("cannot replace output %q", n.Output(0).Name)
		}
		name := n.Name
		if err := c.r.removeNode(n); err != nil {
			return nil, err
		}
		op.Name = name
		return op, nil
	},
}

// lpPoolIntP: LpPool-1's p was a float; from opset 2 it is an int.
var lpPoolIntP = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		if a := n.Attr("p"); a != nil && a.Type == ir.AttrFloat && a.Float != float32(math.Trunc(float64(a.Float))) {
			return fmt.Errorf("p=%g is not an integer", a.Float)
		}
		return nil
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		if a := n.Attr("p"); a != nil && a.Type == ir.AttrFloat {
			c.r.setAttr(n, ir.IntAttr("p", int64(a.Float)))
		}
		return n, nil
	},
}

// upsampleToResize: Upsample-9 is deprecated at 10 by Resize-10, which takes the same
// inputs and mode.
var upsampleToResize = opStep{becomes: "Resize", apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
	nn, err := c.replaceNode(n, "Resize", n.Inputs(), n.Attrs)
	if err != nil {
		return nil, err
	}
	c.fromUpsample[nn] = true
	return nn, nil
}}

// resizeRoiAndModes: Resize-11 adds the roi input (unused here) and the coordinate and
// rounding modes. Resize-10 (and Upsample) mapped output x to input x/scale
// (asymmetric); nearest rounded down when upsampling and up when downsampling (ONNX
// Runtime's "simple" mode), which is nearest_mode floor or ceil when the scales go one way.
var resizeRoiAndModes = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		_, err := resizeNearestMode(c, n)
		return err
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		nearest, err := resizeNearestMode(c, n)
		if err != nil {
			return nil, err
		}
		scales := n.Input(1)
		var roi *ir.Value
		if c.to < 13 { // roi is required until Resize-13
			roi = c.constInput(n, "roi", ir.FromFloat32("", []int64{0}, nil))
		}
		c.r.setInput(n, 1, roi)
		c.setInputAt(n, 2, scales)
		c.r.setAttr(n, ir.StringAttr("coordinate_transformation_mode", "asymmetric"))
		if nearest != "" {
			c.r.setAttr(n, ir.StringAttr("nearest_mode", nearest))
		}
		return n, nil
	},
}

func resizeNearestMode(c *opsetConverter, n *ir.Node) (string, error) {
	if n.AttrString("mode", "nearest") != "nearest" {
		return "", nil
	}
	if n.OpType == "Upsample" || c.fromUpsample[n] {
		return "floor", nil
	}
	t := constOf(n.Input(1))
	if t == nil {
		return "", fmt.Errorf("nearest Resize-10 with non-constant scales: its rounding (floor when upsampling, ceil when downsampling) cannot be fixed")
	}
	s, err := t.Float32s()
	if err != nil {
		return "", err
	}
	up, down := false, false
	for _, v := range s {
		up = up || v > 1
		down = down || v < 1
	}
	if up && down {
		return "", fmt.Errorf("nearest Resize-10 scales %v both up- and downsample: no single nearest_mode matches", s)
	}
	if down {
		return "ceil", nil
	}
	return "floor", nil
}

// roiAlignHalfPixel: RoiAlign-16 added coordinate_transformation_mode defaulting to
// half_pixel; RoiAlign-10 behaved as output_half_pixel.
var roiAlignHalfPixel = opStep{apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
	if n.Attr("coordinate_transformation_mode") == nil {
		c.r.setAttr(n, ir.StringAttr("coordinate_transformation_mode", "output_half_pixel"))
	}
	return n, nil
}}

// gridSampleModes: GridSample-20 renamed modes bilinear -> linear and bicubic -> cubic.
var gridSampleModes = opStep{apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
	switch n.AttrString("mode", "bilinear") {
	case "bilinear":
		c.r.setAttr(n, ir.StringAttr("mode", "linear"))
	case "bicubic":
		c.r.setAttr(n, ir.StringAttr("mode", "cubic"))
	}
	return n, nil
}}

// groupNormPerChannel: GroupNormalization-18's scale and bias had one value per group;
// from 21 one per channel. Constant ones are repeated channels/groups times.
var groupNormPerChannel = opStep{
	check: func(c *opsetConverter, n *ir.Node) error {
		_, err := groupNormRepeat(n)
		return err
	},
	apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
		rep, err := groupNormRepeat(n)
		if err != nil {
			return nil, err
		}
		for i, what := range []string{"scale", "bias"} {
			t := constOf(n.Input(i + 1))
			xs, err := t.Float64s()
			if err != nil {
				return nil, err
			}
			out := make([]float64, 0, len(xs)*int(rep))
			for _, x := range xs {
				for k := int64(0); k < rep; k++ {
					out = append(out, x)
				}
			}
			nt := ir.FromFloat64s("", t.DataType, []int64{int64(len(out))}, out)
			c.r.setInput(n, i+1, c.constInput(n, what, nt))
		}
		return n, nil
	},
}

func groupNormRepeat(n *ir.Node) (int64, error) {
	groups := n.AttrInt("num_groups", 0)
	xt := n.Input(0).Type
	if xt == nil || xt.Rank() < 2 || !xt.Dims[1].IsKnown() || groups <= 0 {
		return 0, fmt.Errorf("needs num_groups and the input's channel count")
	}
	ch := xt.Dims[1].Value
	if ch%groups != 0 {
		return 0, fmt.Errorf("%d channels do not split into %d groups", ch, groups)
	}
	for i := 1; i <= 2; i++ {
		t := constOf(n.Input(i))
		if t == nil || (t.DataType != ir.Float && t.DataType != ir.Double) {
			return 0, fmt.Errorf("scale and bias must be float or double constants")
		}
	}
	return ch / groups, nil
}

// dftAxisToInput: DFT-20 takes axis as an input (default -2); DFT-17's axis attribute
// defaulted to 1.
var dftAxisToInput = opStep{apply: func(c *opsetConverter, n *ir.Node) (*ir.Node, error) {
	axis := n.AttrInt("axis", 1)
	c.setInputAt(n, 2, c.constInput(n, "axis", ir.FromInt64("", nil, []int64{axis})))
	c.r.deleteAttr(n, "axis")
	return n, nil
}}

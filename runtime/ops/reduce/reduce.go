package reduce

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// op identifies one reduction operator.
type op int

const (
	opSum op = iota
	opMean
	opMax
	opMin
	opProd
	opL1
	opL2
	opLogSum
	opLogSumExp
	opSumSquare
)

// operators maps each ONNX op to its kind and the opset from which axes is an input.
var operators = []struct {
	name           string
	op             op
	axesInputSince int64
}{
	{"ReduceSum", opSum, 13},
	{"ReduceMean", opMean, 18},
	{"ReduceMax", opMax, 18},
	{"ReduceMin", opMin, 18},
	{"ReduceProd", opProd, 18},
	{"ReduceL1", opL1, 18},
	{"ReduceL2", opL2, 18},
	{"ReduceLogSum", opLogSum, 18},
	{"ReduceLogSumExp", opLogSumExp, 18},
	{"ReduceSumSquare", opSumSquare, 18},
}

func init() {
	for _, o := range operators {
		o := o
		kernel.Register(
			kernel.KernelDef{Op: o.name, SinceVersion: 1, EndVersion: o.axesInputSince - 1,
				New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newReduce(info, o.op, false) }},
			kernel.KernelDef{Op: o.name, SinceVersion: o.axesInputSince,
				New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newReduce(info, o.op, true) }},
		)
	}
}

// reduceKernel is one compiled Reduce* node.
type reduceKernel struct {
	node      *ir.Node
	op        op
	keepDims  bool
	noopEmpty bool
	// axesFromInput is set from the opset at which axes became an input; attrAxes holds the
	// attribute's axes before that (nil: reduce over all axes).
	axesFromInput bool
	attrAxes      []int64
}

func newReduce(info *kernel.NodeInfo, o op, axesFromInput bool) (kernel.Kernel, error) {
	n := info.Node
	k := &reduceKernel{
		node:          n,
		op:            o,
		keepDims:      n.AttrInt("keepdims", 1) != 0,
		noopEmpty:     n.AttrInt("noop_with_empty_axes", 0) != 0,
		axesFromInput: axesFromInput,
	}
	if !axesFromInput {
		k.attrAxes = n.AttrInts("axes", nil)
	} else if n.Attr("axes") != nil {
		return nil, fmt.Errorf("%s: opset %d takes axes as an input, not an attribute", n.Describe(), info.Opset)
	}
	if len(info.InputTypes) > 0 && info.InputTypes[0] != nil && info.InputTypes[0].Kind == ir.TensorKind {
		if dt := info.InputTypes[0].Elem; dt != ir.Undefined && !supported(o, dt) {
			return nil, fmt.Errorf("%s: element type %s is not supported", n.Describe(), dt)
		}
	}
	return k, nil
}

// supported reports whether op o handles element type dt.
func supported(o op, dt ir.DataType) bool {
	switch dt {
	case ir.Float, ir.Double, ir.Float16, ir.BFloat16,
		ir.Int8, ir.Int16, ir.Int32, ir.Int64, ir.Uint8, ir.Uint16, ir.Uint32, ir.Uint64:
		return true
	case ir.Bool:
		return o == opMax || o == opMin
	}
	return false
}

func (k *reduceKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(inputs) == 0 || inputs[0] == nil {
		return nil, fmt.Errorf("%s: missing input data", k.node.Describe())
	}
	x := inputs[0]
	if !supported(k.op, x.DType) {
		return nil, fmt.Errorf("%s: element type %s is not supported", k.node.Describe(), x.DType)
	}
	axes := k.attrAxes
	if k.axesFromInput && len(inputs) > 1 && inputs[1] != nil {
		a, ok := inputs[1].Data.([]int64)
		if !ok {
			return nil, fmt.Errorf("%s: input axes must be int64, got %s", k.node.Describe(), inputs[1].DType)
		}
		axes = a
	}
	p, err := newPlan(x.Shape, axes, k.noopEmpty, k.keepDims)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	out := ctx.Alloc(x.DType, p.outShape...)
	if err := run(k.op, p, x, out); err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	return []*kernel.Tensor{out}, nil
}

// block is a run of adjacent input dimensions merged into one, all reduced or all kept.
type block struct {
	size      int
	reduced   bool
	inStride  int
	outStride int // 0 for reduced blocks
}

// plan describes one reduction of a concrete input shape.
type plan struct {
	blocks   []block
	outShape []int64
	outSize  int
	// count is the number of input elements folded into each output element.
	count int
}

// newPlan normalizes axes (negative values count from the back; duplicates are an error)
// and merges the input dimensions into blocks.
func newPlan(shape, axes []int64, noopEmpty, keepDims bool) (*plan, error) {
	rank := len(shape)
	reduced := make([]bool, rank)
	switch {
	case len(axes) == 0 && noopEmpty:
		// Reduction over the empty set of axes: every dimension is kept.
	case len(axes) == 0:
		for i := range reduced {
			reduced[i] = true
		}
	default:
		norm, err := kernel.NormalizeAxes(axes, rank)
		if err != nil {
			return nil, err
		}
		for _, a := range norm {
			reduced[a] = true
		}
	}
	p := &plan{count: 1, outSize: 1}
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("input dimension %d is negative (%d)", i, d)
		}
		if reduced[i] {
			p.count *= int(d)
			if keepDims {
				p.outShape = append(p.outShape, 1)
			}
			continue
		}
		p.outShape = append(p.outShape, d)
		p.outSize *= int(d)
	}
	if p.outShape == nil {
		p.outShape = []int64{}
	}
	// Merge dimensions, dropping those of size 1 (they change no index).
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if nb := len(p.blocks); nb > 0 && p.blocks[nb-1].reduced == reduced[i] {
			p.blocks[nb-1].size *= int(d)
			continue
		}
		p.blocks = append(p.blocks, block{size: int(d), reduced: reduced[i]})
	}
	if len(p.blocks) == 0 {
		p.blocks = []block{{size: 1}}
	}
	in, out := 1, 1
	for i := len(p.blocks) - 1; i >= 0; i-- {
		b := &p.blocks[i]
		b.inStride = in
		in *= b.size
		if !b.reduced {
			b.outStride = out
			out *= b.size
		}
	}
	return p, nil
}

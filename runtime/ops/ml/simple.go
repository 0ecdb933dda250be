package ml

import (
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Domain: mlDomain, Op: "ArrayFeatureExtractor", SinceVersion: 1, New: newArrayFeatureExtractor},
		kernel.KernelDef{Domain: mlDomain, Op: "Binarizer", SinceVersion: 1,
			Types: []ir.DataType{ir.Float, ir.Double, ir.Int64, ir.Int32}, New: newBinarizer},
	)
}

// arrayFeatureExtractor selects columns of the last axis of X by the indices Y: the output
// has X's shape with the last dimension replaced by len(Y) (a 1-D X gives [1, len(Y)]).
type arrayFeatureExtractor struct{ node *ir.Node }

func newArrayFeatureExtractor(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return &arrayFeatureExtractor{node: info.Node}, nil
}

func (k *arrayFeatureExtractor) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x, y := kernel.Input(inputs, 0), kernel.Input(inputs, 1)
	if x == nil || y == nil {
		return nil, opErr(k.node, "inputs X and Y are required")
	}
	if y.DType != ir.Int64 {
		return nil, opErr(k.node, "Y must be int64, got %s", y.DType)
	}
	if len(x.Shape) == 0 {
		return nil, opErr(k.node, "X must have rank 1 or more")
	}
	idx := y.Int64s()
	cols := x.Shape[len(x.Shape)-1]
	for _, i := range idx {
		if i < 0 || i >= cols {
			return nil, opErr(k.node, "index %d is outside the %d columns of X", i, cols)
		}
	}
	shape := append([]int64{}, x.Shape...)
	if len(shape) == 1 {
		shape = []int64{1, int64(len(idx))}
	} else {
		shape[len(shape)-1] = int64(len(idx))
	}
	out := ctx.Alloc(x.DType, shape...)
	rows := x.NumElements() / max(int(cols), 1)
	if cols == 0 {
		rows = 0
	}
	for r := 0; r < rows; r++ {
		for j, c := range idx {
			if !copyAny(out.Data, r*len(idx)+j, x.Data, r*int(cols)+int(c)) {
				return nil, opErr(k.node, "element type %s is not supported", x.DType)
			}
		}
	}
	return []*kernel.Tensor{out}, nil
}

// copyAny sets dst[i] = src[j] for slices of the same type; false for an unknown type.
func copyAny(dst any, i int, src any, j int) bool {
	switch d := dst.(type) {
	case []float32:
		d[i] = src.([]float32)[j]
	case []float64:
		d[i] = src.([]float64)[j]
	case []int64:
		d[i] = src.([]int64)[j]
	case []int32:
		d[i] = src.([]int32)[j]
	case []string:
		d[i] = src.([]string)[j]
	default:
		return false
	}
	return true
}

// binarizer maps every element above the threshold to 1 and the others to 0.
type binarizer struct {
	node      *ir.Node
	threshold float64
}

func newBinarizer(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return &binarizer{node: info.Node, threshold: float64(info.Node.AttrFloat("threshold", 0))}, nil
}

func (k *binarizer) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil {
		return nil, opErr(k.node, "input X is required")
	}
	out := ctx.Alloc(x.DType, x.Shape...)
	switch d := x.Data.(type) {
	case []float32:
		binarize(out.Data.([]float32), d, k.threshold)
	case []float64:
		binarize(out.Data.([]float64), d, k.threshold)
	case []int64:
		binarize(out.Data.([]int64), d, k.threshold)
	case []int32:
		binarize(out.Data.([]int32), d, k.threshold)
	default:
		return nil, opErr(k.node, "element type %s is not supported", x.DType)
	}
	return []*kernel.Tensor{out}, nil
}

func binarize[T float32 | float64 | int64 | int32](out, x []T, threshold float64) {
	for i, v := range x {
		if float64(v) > threshold {
			out[i] = 1
		} else {
			out[i] = 0
		}
	}
}

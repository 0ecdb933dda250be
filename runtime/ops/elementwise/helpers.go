package elementwise

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

type float interface{ ~float32 | ~float64 }

type signed interface {
	~int8 | ~int16 | ~int32 | ~int64
}

type unsigned interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

type integer interface{ signed | unsigned }

type number interface{ float | integer }

// Element type lists for KernelDef.Types. Half types are deliberately absent (see doc.go).
var (
	floatTypes   = []ir.DataType{ir.Float, ir.Double}
	intTypes     = []ir.DataType{ir.Int8, ir.Int16, ir.Int32, ir.Int64, ir.Uint8, ir.Uint16, ir.Uint32, ir.Uint64}
	numericTypes = append(append([]ir.DataType{}, floatTypes...), intTypes...)
	uintTypes    = []ir.DataType{ir.Uint8, ir.Uint16, ir.Uint32, ir.Uint64}
	boolTypes    = []ir.DataType{ir.Bool}
	compareTypes = append(append([]ir.DataType{}, numericTypes...), ir.Bool, ir.String)
)

// reg registers one kernel for op from opset `since` on.
func reg(op string, since int64, types []ir.DataType, f kernel.Factory) {
	kernel.Register(kernel.KernelDef{Op: op, SinceVersion: since, Types: types, New: f})
}

// regRange registers a kernel for op over the opset versions [since, end].
func regRange(op string, since, end int64, types []ir.DataType, f kernel.Factory) {
	kernel.Register(kernel.KernelDef{Op: op, SinceVersion: since, EndVersion: end, Types: types, New: f})
}

// fixed wraps a kernel that needs nothing from its node.
func fixed(k kernel.KernelFunc) kernel.Factory {
	return func(*kernel.NodeInfo) (kernel.Kernel, error) { return k, nil }
}

func isHalf(dt ir.DataType) bool { return dt == ir.Float16 || dt == ir.BFloat16 }

// tensorInput returns input i, failing when it is missing or not a tensor.
func tensorInput(inputs []*kernel.Tensor, i int) (*kernel.Tensor, error) {
	if i >= len(inputs) || inputs[i] == nil {
		return nil, fmt.Errorf("input %d is missing", i)
	}
	t := inputs[i]
	if t.Kind != kernel.TensorValue {
		return nil, fmt.Errorf("input %d is a %s, not a tensor", i, t)
	}
	if isHalf(t.DType) {
		// The session converts half types around float kernels; reaching here means a
		// kernel was called directly with one, which would silently compute on the bits.
		return nil, fmt.Errorf("input %d: element type %s must be converted to float before this kernel", i, t.DType)
	}
	return t, nil
}

func unsupported(what string, dt ir.DataType) error {
	return fmt.Errorf("%s: element type %s is not supported", what, dt)
}

// sameType checks that binary operands agree.
func sameType(a, b *kernel.Tensor) error {
	if a.DType != b.DType {
		return fmt.Errorf("inputs have different element types: %s and %s", a.DType, b.DType)
	}
	return nil
}

// legacyBroadcast handles the broadcast/axis attributes of opset < 7 binary ops: with
// broadcast=1 and an axis, B's dimensions line up with A's starting at axis, which is
// numpy broadcasting once B is padded with trailing 1s.
type legacyBroadcast struct {
	enabled bool
	axis    int64
	hasAxis bool
}

func parseLegacy(info *kernel.NodeInfo) legacyBroadcast {
	n := info.Node
	if info.Opset >= 7 || n.AttrInt("broadcast", 0) == 0 {
		return legacyBroadcast{}
	}
	lb := legacyBroadcast{enabled: true}
	if a := n.Attr("axis"); a != nil {
		lb.axis, lb.hasAxis = a.Int, true
	}
	return lb
}

// bShape returns the shape to broadcast B with.
func (lb legacyBroadcast) bShape(aShape, bShape []int64) []int64 {
	if !lb.enabled || !lb.hasAxis {
		return bShape
	}
	axis := lb.axis
	if axis < 0 {
		axis += int64(len(aShape))
	}
	pad := int64(len(aShape)) - axis - int64(len(bShape))
	if axis < 0 || pad < 0 {
		return bShape
	}
	s := append([]int64{}, bShape...)
	for i := int64(0); i < pad; i++ {
		s = append(s, 1)
	}
	return s
}

// isFloat reports whether T is a floating-point type.
func isFloat[T number]() bool {
	half := 0.5
	return T(half) != 0
}

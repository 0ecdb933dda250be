package kernel

import (
	"encoding/binary"
	"unsafe"

	"github.com/whittle-ml/whittle/ir"
)

// hostLittleEndian says whether the machine stores numbers as ONNX raw data does, so that
// a tensor's bytes can be read in place as Go numbers.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// ViewIR is FromIR for tensors that are only ever read, such as a session's constants:
// where the machine is little-endian and t's bytes are aligned for its element type, the
// result's Data is a view of t.Raw rather than a copy, so a model of gigabytes is not held
// twice. IR tensors are immutable (ir.Tensor.Clone shares their bytes), so the view stays
// valid; in return nothing may write to the result's Data. Types whose Go form differs
// from the raw bytes (bool, sub-byte types, strings) and misaligned bytes are copied as
// FromIR does.
func ViewIR(t *ir.Tensor) (*Tensor, error) {
	if out, ok := viewRaw(t); ok {
		return out, nil
	}
	return FromIR(t)
}

// viewRaw returns t as a tensor whose Data aliases t.Raw, or false when it cannot.
func viewRaw(t *ir.Tensor) (*Tensor, bool) {
	if !hostLittleEndian || t.External != nil || len(t.Raw) == 0 {
		return nil, false
	}
	n64, err := ir.NumElements(t.Dims)
	if err != nil || n64 <= 0 {
		return nil, false
	}
	if want, err := t.DataType.ByteSize(n64); err != nil || int64(len(t.Raw)) != want {
		return nil, false // FromIR reports it
	}
	n := int(n64)
	p := unsafe.Pointer(unsafe.SliceData(t.Raw))
	var data any
	switch t.DataType {
	case ir.Float:
		data = viewAs[float32](p, n)
	case ir.Double:
		data = viewAs[float64](p, n)
	case ir.Float16, ir.BFloat16, ir.Uint16:
		data = viewAs[uint16](p, n)
	case ir.Int8:
		data = viewAs[int8](p, n)
	case ir.Int16:
		data = viewAs[int16](p, n)
	case ir.Int32:
		data = viewAs[int32](p, n)
	case ir.Int64:
		data = viewAs[int64](p, n)
	case ir.Uint32:
		data = viewAs[uint32](p, n)
	case ir.Uint64:
		data = viewAs[uint64](p, n)
	case ir.Uint8, ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Float8E8M0:
		data = t.Raw[:n:n]
	default:
		return nil, false
	}
	if data == nil {
		return nil, false
	}
	return &Tensor{DType: t.DataType, Shape: append([]int64{}, t.Dims...), Data: data}, true
}

// viewAs returns the n elements of type E at p, or nil when p is not aligned for E (Go
// requires aligned pointers; checkptr, on under -race, rejects a misaligned conversion).
func viewAs[E any](p unsafe.Pointer, n int) any {
	var zero E
	if uintptr(p)%unsafe.Alignof(zero) != 0 {
		return nil
	}
	return unsafe.Slice((*E)(p), n)
}

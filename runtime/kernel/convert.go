package kernel

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// FromIR converts a constant tensor of the IR to a runtime tensor (copying its data).
// Packed sub-byte types are unpacked to one element per byte.
func FromIR(t *ir.Tensor) (*Tensor, error) {
	if t.External != nil {
		return nil, fmt.Errorf("tensor %q: external data %q was not loaded", t.Name, t.External.Location)
	}
	n64, err := ir.NumElements(t.Dims)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	n := int(n64)
	out := &Tensor{DType: t.DataType, Shape: append([]int64{}, t.Dims...)}
	if t.DataType == ir.String {
		if len(t.Strings) != n {
			return nil, fmt.Errorf("tensor %q: %d strings for %d elements", t.Name, len(t.Strings), n)
		}
		s := make([]string, n)
		for i, b := range t.Strings {
			s[i] = string(b)
		}
		out.Data = s
		return out, nil
	}
	want, err := t.DataType.ByteSize(n64)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if int64(len(t.Raw)) != want {
		return nil, fmt.Errorf("tensor %q: %d data bytes, want %d for %s%v", t.Name, len(t.Raw), want, t.DataType, t.Dims)
	}
	raw := t.Raw
	le := binary.LittleEndian
	switch t.DataType {
	case ir.Float:
		d := make([]float32, n)
		for i := range d {
			d[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		out.Data = d
	case ir.Double:
		d := make([]float64, n)
		for i := range d {
			d[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		out.Data = d
	case ir.Float16, ir.BFloat16, ir.Uint16:
		d := make([]uint16, n)
		for i := range d {
			d[i] = le.Uint16(raw[2*i:])
		}
		out.Data = d
	case ir.Int8:
		d := make([]int8, n)
		for i := range d {
			d[i] = int8(raw[i])
		}
		out.Data = d
	case ir.Int16:
		d := make([]int16, n)
		for i := range d {
			d[i] = int16(le.Uint16(raw[2*i:]))
		}
		out.Data = d
	case ir.Int32:
		d := make([]int32, n)
		for i := range d {
			d[i] = int32(le.Uint32(raw[4*i:]))
		}
		out.Data = d
	case ir.Int64:
		d := make([]int64, n)
		for i := range d {
			d[i] = int64(le.Uint64(raw[8*i:]))
		}
		out.Data = d
	case ir.Uint32:
		d := make([]uint32, n)
		for i := range d {
			d[i] = le.Uint32(raw[4*i:])
		}
		out.Data = d
	case ir.Uint64:
		d := make([]uint64, n)
		for i := range d {
			d[i] = le.Uint64(raw[8*i:])
		}
		out.Data = d
	case ir.Bool:
		d := make([]bool, n)
		for i := range d {
			d[i] = raw[i] != 0
		}
		out.Data = d
	case ir.Complex64:
		d := make([]complex64, n)
		for i := range d {
			d[i] = complex(math.Float32frombits(le.Uint32(raw[8*i:])), math.Float32frombits(le.Uint32(raw[8*i+4:])))
		}
		out.Data = d
	case ir.Complex128:
		d := make([]complex128, n)
		for i := range d {
			d[i] = complex(math.Float64frombits(le.Uint64(raw[16*i:])), math.Float64frombits(le.Uint64(raw[16*i+8:])))
		}
		out.Data = d
	case ir.Uint8, ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Float8E8M0:
		out.Data = append([]uint8(nil), raw...)
	case ir.Uint4, ir.Int4, ir.Float4E2M1:
		d := make([]uint8, n)
		for i := range d {
			d[i] = (raw[i/2] >> (4 * uint(i%2))) & 0x0F
		}
		out.Data = d
	case ir.Uint2, ir.Int2:
		d := make([]uint8, n)
		for i := range d {
			d[i] = (raw[i/4] >> (2 * uint(i%4))) & 0x03
		}
		out.Data = d
	default:
		return nil, fmt.Errorf("tensor %q: element type %s is not supported", t.Name, t.DataType)
	}
	return out, nil
}

// ToIR converts a runtime tensor to an IR tensor named name (packing sub-byte types).
func ToIR(name string, t *Tensor) (*ir.Tensor, error) {
	if t.Kind != TensorValue {
		return nil, fmt.Errorf("tensor %q: a %v value is not a tensor", name, t)
	}
	out := &ir.Tensor{Name: name, DataType: t.DType, Dims: append([]int64{}, t.Shape...)}
	le := binary.LittleEndian
	switch d := t.Data.(type) {
	case []string:
		out.Strings = make([][]byte, len(d))
		for i, s := range d {
			out.Strings[i] = []byte(s)
		}
		return out, nil
	case []float32:
		out.Raw = make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(out.Raw[4*i:], math.Float32bits(v))
		}
	case []float64:
		out.Raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(out.Raw[8*i:], math.Float64bits(v))
		}
	case []uint16:
		out.Raw = make([]byte, 2*len(d))
		for i, v := range d {
			le.PutUint16(out.Raw[2*i:], v)
		}
	case []int8:
		out.Raw = make([]byte, len(d))
		for i, v := range d {
			out.Raw[i] = byte(v)
		}
	case []int16:
		out.Raw = make([]byte, 2*len(d))
		for i, v := range d {
			le.PutUint16(out.Raw[2*i:], uint16(v))
		}
	case []int32:
		out.Raw = make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(out.Raw[4*i:], uint32(v))
		}
	case []int64:
		out.Raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(out.Raw[8*i:], uint64(v))
		}
	case []uint32:
		out.Raw = make([]byte, 4*len(d))
		for i, v := range d {
			le.PutUint32(out.Raw[4*i:], v)
		}
	case []uint64:
		out.Raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint64(out.Raw[8*i:], v)
		}
	case []bool:
		out.Raw = make([]byte, len(d))
		for i, v := range d {
			if v {
				out.Raw[i] = 1
			}
		}
	case []complex64:
		out.Raw = make([]byte, 8*len(d))
		for i, v := range d {
			le.PutUint32(out.Raw[8*i:], math.Float32bits(real(v)))
			le.PutUint32(out.Raw[8*i+4:], math.Float32bits(imag(v)))
		}
	case []complex128:
		out.Raw = make([]byte, 16*len(d))
		for i, v := range d {
			le.PutUint64(out.Raw[16*i:], math.Float64bits(real(v)))
			le.PutUint64(out.Raw[16*i+8:], math.Float64bits(imag(v)))
		}
	case []uint8:
		switch t.DType.BitSize() {
		case 4:
			out.Raw = make([]byte, (len(d)+1)/2)
			for i, v := range d {
				out.Raw[i/2] |= (v & 0x0F) << (4 * uint(i%2))
			}
		case 2:
			out.Raw = make([]byte, (len(d)+3)/4)
			for i, v := range d {
				out.Raw[i/4] |= (v & 0x03) << (2 * uint(i%4))
			}
		default:
			out.Raw = append([]byte(nil), d...)
		}
	default:
		return nil, fmt.Errorf("tensor %q: unsupported data %T", name, t.Data)
	}
	return out, nil
}

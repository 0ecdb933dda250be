package ir

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Tensor is a constant tensor: an initializer, or the value of a tensor attribute.
//
// Every non-string element type is held in Raw, packed little-endian exactly as ONNX's
// raw_data packs it, whichever field the file used; strings are held in Strings. Tensors are
// immutable by convention (see the package doc): replace a Tensor rather than editing Raw.
type Tensor struct {
	Name     string
	DataType DataType
	Dims     []int64
	Raw      []byte
	Strings  [][]byte
	// External, when set, says the bytes live in a file beside the model and have not been
	// loaded; Raw is then empty.
	External  *ExternalData
	DocString string
	Metadata  []StringPair
	// Segment, when set, is the [Begin, End) slice of a larger tensor this chunk holds.
	Segment *Segment
}

// Segment is a chunk of a tensor split across several TensorProtos.
type Segment struct{ Begin, End int64 }

// ExternalData locates tensor bytes in a file beside the model (ExternalData.md).
type ExternalData struct {
	Location string
	Offset   int64
	Length   int64 // -1 when not given
	Checksum string
	// Extra keeps any other keys in file order, so that nothing read is dropped.
	Extra []StringPair
}

// NumElements returns the number of elements the dims describe.
func (t *Tensor) NumElements() (int64, error) { return NumElements(t.Dims) }

// Clone returns a copy of t that shares its data bytes (tensors are immutable).
func (t *Tensor) Clone() *Tensor {
	if t == nil {
		return nil
	}
	c := *t
	c.Dims = append([]int64(nil), t.Dims...)
	if t.Strings != nil {
		c.Strings = append([][]byte(nil), t.Strings...)
	}
	if t.External != nil {
		e := *t.External
		e.Extra = append([]StringPair(nil), t.External.Extra...)
		c.External = &e
	}
	if t.Segment != nil {
		s := *t.Segment
		c.Segment = &s
	}
	c.Metadata = append([]StringPair(nil), t.Metadata...)
	return &c
}

// NewTensor returns a tensor of type dt and shape dims holding raw (packed little-endian).
func NewTensor(name string, dt DataType, dims []int64, raw []byte) *Tensor {
	return &Tensor{Name: name, DataType: dt, Dims: append([]int64(nil), dims...), Raw: raw}
}

// FromFloat32 returns a float tensor holding a copy of data.
func FromFloat32(name string, dims []int64, data []float32) *Tensor {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return NewTensor(name, Float, dims, raw)
}

// FromInt64 returns an int64 tensor holding a copy of data.
func FromInt64(name string, dims []int64, data []int64) *Tensor {
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return NewTensor(name, Int64, dims, raw)
}

// FromInt32 returns an int32 tensor holding a copy of data.
func FromInt32(name string, dims []int64, data []int32) *Tensor {
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(v))
	}
	return NewTensor(name, Int32, dims, raw)
}

// Float32s decodes a float tensor's data.
func (t *Tensor) Float32s() ([]float32, error) {
	if t.DataType != Float {
		return nil, fmt.Errorf("tensor %q is %s, not float", t.Name, t.DataType)
	}
	if len(t.Raw)%4 != 0 {
		return nil, fmt.Errorf("tensor %q: %d data bytes is not a multiple of 4", t.Name, len(t.Raw))
	}
	out := make([]float32, len(t.Raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Raw[4*i:]))
	}
	return out, nil
}

// Int64s decodes the data of an integer or bool tensor, widening each element to int64.
func (t *Tensor) Int64s() ([]int64, error) {
	n := len(t.Raw)
	var out []int64
	switch t.DataType {
	case Int64, Uint64:
		out = make([]int64, n/8)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint64(t.Raw[8*i:]))
		}
	case Int32:
		out = make([]int64, n/4)
		for i := range out {
			out[i] = int64(int32(binary.LittleEndian.Uint32(t.Raw[4*i:])))
		}
	case Uint32:
		out = make([]int64, n/4)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint32(t.Raw[4*i:]))
		}
	case Int16:
		out = make([]int64, n/2)
		for i := range out {
			out[i] = int64(int16(binary.LittleEndian.Uint16(t.Raw[2*i:])))
		}
	case Uint16:
		out = make([]int64, n/2)
		for i := range out {
			out[i] = int64(binary.LittleEndian.Uint16(t.Raw[2*i:]))
		}
	case Int8:
		out = make([]int64, n)
		for i, b := range t.Raw {
			out[i] = int64(int8(b))
		}
	case Uint8, Bool:
		out = make([]int64, n)
		for i, b := range t.Raw {
			out[i] = int64(b)
		}
	default:
		return nil, fmt.Errorf("tensor %q is %s, not an integer type", t.Name, t.DataType)
	}
	return out, nil
}

// IsFloat reports whether dt is one of the floating-point element types that Float64s
// decodes and FromFloat64s encodes: float, double, float16, bfloat16.
func IsFloat(dt DataType) bool {
	return dt == Float || dt == Double || dt == Float16 || dt == BFloat16
}

// Float64s decodes the data of a float, double, float16 or bfloat16 tensor, widening each
// element to float64 (exactly: every such value is a float64).
func (t *Tensor) Float64s() ([]float64, error) {
	le := binary.LittleEndian
	raw := t.Raw
	if !IsFloat(t.DataType) {
		return nil, fmt.Errorf("tensor %q is %s, not a float type", t.Name, t.DataType)
	}
	size := t.DataType.BitSize() / 8
	if len(raw)%size != 0 {
		return nil, fmt.Errorf("tensor %q: %d data bytes is not a multiple of %d", t.Name, len(raw), size)
	}
	out := make([]float64, len(raw)/size)
	switch t.DataType {
	case Float:
		for i := range out {
			out[i] = float64(math.Float32frombits(le.Uint32(raw[4*i:])))
		}
	case Double:
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
	case Float16:
		for i := range out {
			out[i] = float64(Float16ToFloat32(le.Uint16(raw[2*i:])))
		}
	case BFloat16:
		for i := range out {
			out[i] = float64(BFloat16ToFloat32(le.Uint16(raw[2*i:])))
		}
	}
	return out, nil
}

// FromFloat64s encodes xs as a tensor of the float element type dt (float, double, float16
// or bfloat16; the narrower types round to nearest even). Any other dt is a programming
// error and panics.
func FromFloat64s(name string, dt DataType, dims []int64, xs []float64) *Tensor {
	le := binary.LittleEndian
	var raw []byte
	switch dt {
	case Float:
		raw = make([]byte, 4*len(xs))
		for i, x := range xs {
			le.PutUint32(raw[4*i:], math.Float32bits(float32(x)))
		}
	case Double:
		raw = make([]byte, 8*len(xs))
		for i, x := range xs {
			le.PutUint64(raw[8*i:], math.Float64bits(x))
		}
	case Float16:
		raw = make([]byte, 2*len(xs))
		for i, x := range xs {
			le.PutUint16(raw[2*i:], Float32ToFloat16(float32(x)))
		}
	case BFloat16:
		raw = make([]byte, 2*len(xs))
		for i, x := range xs {
			le.PutUint16(raw[2*i:], Float32ToBFloat16(float32(x)))
		}
	default:
		panic(fmt.Sprintf("ir.FromFloat64s: %s is not a float type", dt))
	}
	return NewTensor(name, dt, dims, raw)
}

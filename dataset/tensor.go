package dataset

import (
	"fmt"
	"strings"
)

// DType names the element types this package reads.
type DType int

// The element types, the subset of ONNX and NumPy types that model inputs use.
const (
	Float32 DType = iota + 1
	Float64
	Int64
	Int32
	Uint8
	Bool
)

var dtypeNames = map[DType]string{
	Float32: "float32", Float64: "float64", Int64: "int64",
	Int32: "int32", Uint8: "uint8", Bool: "bool",
}

func (d DType) String() string {
	if s, ok := dtypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Size is the number of bytes one element takes in NumPy and ONNX raw data.
func (d DType) Size() int {
	switch d {
	case Float64, Int64:
		return 8
	case Float32, Int32:
		return 4
	case Uint8, Bool:
		return 1
	}
	return 0
}

// Tensor is a dense, row-major array. Exactly the slice matching DType is set; its length
// is the product of Shape (1 for a scalar, whose Shape is empty).
type Tensor struct {
	// Name is the model input (or output) the tensor belongs to. It is empty when the
	// source gives no name (a single .npy file, an unnamed .pb), meaning "by position".
	Name  string
	Shape []int64
	DType DType

	Float32 []float32
	Float64 []float64
	Int64   []int64
	Int32   []int32
	Uint8   []uint8
	Bool    []bool
}

// NumElements returns the product of the shape.
func (t *Tensor) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Len returns the number of elements actually held, whatever the type.
func (t *Tensor) Len() int {
	switch t.DType {
	case Float32:
		return len(t.Float32)
	case Float64:
		return len(t.Float64)
	case Int64:
		return len(t.Int64)
	case Int32:
		return len(t.Int32)
	case Uint8:
		return len(t.Uint8)
	case Bool:
		return len(t.Bool)
	}
	return 0
}

// String describes the tensor without its data, e.g. `input float32[8 1 28 28]`.
func (t *Tensor) String() string {
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = fmt.Sprint(d)
	}
	name := t.Name
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Sprintf("%s %s[%s]", name, t.DType, strings.Join(dims, " "))
}

// validate checks that the data length matches the shape.
func (t *Tensor) validate() error {
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("tensor %s: negative dimension", t)
		}
	}
	if want := t.NumElements(); int64(t.Len()) != want {
		return fmt.Errorf("tensor %s: holds %d elements, shape needs %d", t, t.Len(), want)
	}
	return nil
}

// AsFloat32 returns the elements converted to float32 (bools become 0 and 1). For a float32
// tensor it returns the tensor's own slice, not a copy.
func (t *Tensor) AsFloat32() ([]float32, error) {
	out := make([]float32, t.Len())
	switch t.DType {
	case Float32:
		return t.Float32, nil
	case Float64:
		for i, v := range t.Float64 {
			out[i] = float32(v)
		}
	case Int64:
		for i, v := range t.Int64 {
			out[i] = float32(v)
		}
	case Int32:
		for i, v := range t.Int32 {
			out[i] = float32(v)
		}
	case Uint8:
		for i, v := range t.Uint8 {
			out[i] = float32(v)
		}
	case Bool:
		for i, v := range t.Bool {
			if v {
				out[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("tensor %s: unknown element type", t)
	}
	return out, nil
}

// AsInt64 returns integer or bool elements as int64 (labels are read through it). Float
// tensors are refused rather than truncated.
func (t *Tensor) AsInt64() ([]int64, error) {
	out := make([]int64, t.Len())
	switch t.DType {
	case Int64:
		return t.Int64, nil
	case Int32:
		for i, v := range t.Int32 {
			out[i] = int64(v)
		}
	case Uint8:
		for i, v := range t.Uint8 {
			out[i] = int64(v)
		}
	case Bool:
		for i, v := range t.Bool {
			if v {
				out[i] = 1
			}
		}
	default:
		return nil, fmt.Errorf("tensor %s: %s elements are not integers", t, t.DType)
	}
	return out, nil
}

// rows returns rows [start, start+n) along the first dimension, sharing t's storage.
func (t *Tensor) rows(start, n int) (Tensor, error) {
	if len(t.Shape) == 0 {
		return Tensor{}, fmt.Errorf("tensor %s: a scalar has no batch dimension", t)
	}
	if start < 0 || n < 0 || int64(start+n) > t.Shape[0] {
		return Tensor{}, fmt.Errorf("tensor %s: rows [%d,%d) out of range [0,%d)", t, start, start+n, t.Shape[0])
	}
	row := 1
	for _, d := range t.Shape[1:] {
		row *= int(d)
	}
	lo, hi := start*row, (start+n)*row
	out := Tensor{Name: t.Name, DType: t.DType, Shape: append([]int64{int64(n)}, t.Shape[1:]...)}
	switch t.DType {
	case Float32:
		out.Float32 = t.Float32[lo:hi:hi]
	case Float64:
		out.Float64 = t.Float64[lo:hi:hi]
	case Int64:
		out.Int64 = t.Int64[lo:hi:hi]
	case Int32:
		out.Int32 = t.Int32[lo:hi:hi]
	case Uint8:
		out.Uint8 = t.Uint8[lo:hi:hi]
	case Bool:
		out.Bool = t.Bool[lo:hi:hi]
	}
	return out, nil
}

// concatRows joins tensors along the first dimension; they must agree on name, type and the
// remaining dimensions.
func concatRows(parts []Tensor) (Tensor, error) {
	if len(parts) == 1 {
		return parts[0], nil
	}
	first := parts[0]
	out := Tensor{Name: first.Name, DType: first.DType, Shape: append([]int64{0}, first.Shape[1:]...)}
	for _, p := range parts {
		if p.DType != first.DType || !equalDims(p.Shape[1:], first.Shape[1:]) {
			return Tensor{}, fmt.Errorf("cannot batch %s with %s: type or trailing dimensions differ", &p, &first)
		}
		out.Shape[0] += p.Shape[0]
		out.Float32 = append(out.Float32, p.Float32...)
		out.Float64 = append(out.Float64, p.Float64...)
		out.Int64 = append(out.Int64, p.Int64...)
		out.Int32 = append(out.Int32, p.Int32...)
		out.Uint8 = append(out.Uint8, p.Uint8...)
		out.Bool = append(out.Bool, p.Bool...)
	}
	return out, nil
}

func equalDims(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

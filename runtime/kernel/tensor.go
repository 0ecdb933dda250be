package kernel

import (
	"errors"
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// Tensor is a runtime value: a dense tensor, or (Kind) a sequence of tensors or an empty
// optional.
//
// Data holds the elements in row-major order, as a slice whose Go type follows DType:
// Float []float32, Double []float64, Float16 and BFloat16 []uint16 (the bits; kernels compute
// in float32), Int8 []int8, Int16 []int16, Int32 []int32, Int64 []int64, Uint8 []uint8,
// Uint16 []uint16, Uint32 []uint32, Uint64 []uint64, Bool []bool, String []string, and the
// float8 / 4-bit / 2-bit types []uint8 (one element per byte, unpacked).
type Tensor struct {
	DType ir.DataType
	Shape []int64
	Data  any

	Kind ValueKind
	// Seq holds the elements of a sequence value.
	Seq []*Tensor
	// SeqType is the element type of a sequence (useful when it is empty).
	SeqType ir.DataType
}

// ValueKind says whether a runtime value is a tensor, a sequence or an empty optional.
type ValueKind uint8

// The kinds of runtime values.
const (
	TensorValue ValueKind = iota
	SequenceValue
	// NoneValue is an optional holding nothing.
	NoneValue
)

// NumElements returns the product of the shape.
func (t *Tensor) NumElements() int {
	n := 1
	for _, d := range t.Shape {
		n *= int(d)
	}
	return n
}

// Len returns the number of elements Data holds.
func (t *Tensor) Len() int { return sliceLen(t.Data) }

// Float32s returns Data as []float32; it panics when DType is not Float, which is a bug in
// the calling kernel (the session checks types before running it).
func (t *Tensor) Float32s() []float32 { return t.Data.([]float32) }

// Int64s returns Data as []int64.
func (t *Tensor) Int64s() []int64 { return t.Data.([]int64) }

func (t *Tensor) String() string {
	switch t.Kind {
	case SequenceValue:
		return fmt.Sprintf("seq(%d × %s)", len(t.Seq), t.SeqType)
	case NoneValue:
		return "none"
	}
	return fmt.Sprintf("%s%v", t.DType, t.Shape)
}

// New returns a zeroed tensor of the given type and shape. A shape past the memory budget
// (see Reserve), or with a negative or overflowing element count, panics with a
// *BudgetError or *ShapeError, which the session turns into an error naming the node;
// NewChecked returns it instead.
func New(dt ir.DataType, shape ...int64) *Tensor {
	t, err := NewChecked(dt, shape...)
	if err != nil {
		panic(err)
	}
	return t
}

// NewChecked is New returning the error.
func NewChecked(dt ir.DataType, shape ...int64) (*Tensor, error) {
	n, err := checkedCount(dt, shape)
	if err != nil {
		return nil, err
	}
	data, err := makeSlice(dt, n)
	if err != nil {
		return nil, &ShapeError{DType: dt, Shape: append([]int64(nil), shape...), Err: err}
	}
	return &Tensor{DType: dt, Shape: append([]int64{}, shape...), Data: data}, nil
}

// CheckedCount returns the element count of a tensor of dt and shape after checking that
// the count is valid and that its buffer fits the memory budget; allocators other than
// New (the runtime's buffer pool) call it first.
func CheckedCount(dt ir.DataType, shape []int64) (int, error) { return checkedCount(dt, shape) }

// FromFloat32 wraps data (not copied) as a float tensor of the given shape.
func FromFloat32(shape []int64, data []float32) *Tensor {
	return &Tensor{DType: ir.Float, Shape: append([]int64{}, shape...), Data: data}
}

// FromInt64 wraps data (not copied) as an int64 tensor of the given shape.
func FromInt64(shape []int64, data []int64) *Tensor {
	return &Tensor{DType: ir.Int64, Shape: append([]int64{}, shape...), Data: data}
}

// MakeSlice allocates the Go slice that holds n elements of dt, after checking that it
// fits the memory budget.
func MakeSlice(dt ir.DataType, n int) (any, error) {
	if n < 0 || int64(n) > int64(maxInt)/elemBytes(dt) {
		return nil, &ShapeError{DType: dt, Shape: []int64{int64(n)}, Err: errors.New("invalid element count")}
	}
	if err := Reserve(int64(n) * elemBytes(dt)); err != nil {
		var be *BudgetError
		if errors.As(err, &be) {
			be.DType = dt
		}
		return nil, err
	}
	return makeSlice(dt, n)
}

// makeSlice allocates without checks; n has been checked.
func makeSlice(dt ir.DataType, n int) (any, error) {
	switch dt {
	case ir.Float:
		return make([]float32, n), nil
	case ir.Double:
		return make([]float64, n), nil
	case ir.Float16, ir.BFloat16, ir.Uint16:
		return make([]uint16, n), nil
	case ir.Int8:
		return make([]int8, n), nil
	case ir.Int16:
		return make([]int16, n), nil
	case ir.Int32:
		return make([]int32, n), nil
	case ir.Int64:
		return make([]int64, n), nil
	case ir.Uint8, ir.Float8E4M3FN, ir.Float8E4M3FNUZ, ir.Float8E5M2, ir.Float8E5M2FNUZ, ir.Float8E8M0,
		ir.Uint4, ir.Int4, ir.Float4E2M1, ir.Uint2, ir.Int2:
		return make([]uint8, n), nil
	case ir.Uint32:
		return make([]uint32, n), nil
	case ir.Uint64:
		return make([]uint64, n), nil
	case ir.Bool:
		return make([]bool, n), nil
	case ir.String:
		return make([]string, n), nil
	case ir.Complex64:
		return make([]complex64, n), nil
	case ir.Complex128:
		return make([]complex128, n), nil
	}
	return nil, fmt.Errorf("runtime: element type %s is not supported", dt)
}

func sliceLen(data any) int {
	switch d := data.(type) {
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []uint16:
		return len(d)
	case []int8:
		return len(d)
	case []int16:
		return len(d)
	case []int32:
		return len(d)
	case []int64:
		return len(d)
	case []uint8:
		return len(d)
	case []uint32:
		return len(d)
	case []uint64:
		return len(d)
	case []bool:
		return len(d)
	case []string:
		return len(d)
	case []complex64:
		return len(d)
	case []complex128:
		return len(d)
	}
	return 0
}

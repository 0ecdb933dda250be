package control

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// copyElems copies n elements from src[soff:] to dst[doff:]; both hold the same Go slice
// type.
func copyElems(dst any, doff int, src any, soff, n int) error {
	switch d := dst.(type) {
	case []float32:
		copy(d[doff:doff+n], src.([]float32)[soff:soff+n])
	case []float64:
		copy(d[doff:doff+n], src.([]float64)[soff:soff+n])
	case []uint16:
		copy(d[doff:doff+n], src.([]uint16)[soff:soff+n])
	case []int8:
		copy(d[doff:doff+n], src.([]int8)[soff:soff+n])
	case []int16:
		copy(d[doff:doff+n], src.([]int16)[soff:soff+n])
	case []int32:
		copy(d[doff:doff+n], src.([]int32)[soff:soff+n])
	case []int64:
		copy(d[doff:doff+n], src.([]int64)[soff:soff+n])
	case []uint8:
		copy(d[doff:doff+n], src.([]uint8)[soff:soff+n])
	case []uint32:
		copy(d[doff:doff+n], src.([]uint32)[soff:soff+n])
	case []uint64:
		copy(d[doff:doff+n], src.([]uint64)[soff:soff+n])
	case []bool:
		copy(d[doff:doff+n], src.([]bool)[soff:soff+n])
	case []string:
		copy(d[doff:doff+n], src.([]string)[soff:soff+n])
	case []complex64:
		copy(d[doff:doff+n], src.([]complex64)[soff:soff+n])
	case []complex128:
		copy(d[doff:doff+n], src.([]complex128)[soff:soff+n])
	default:
		return fmt.Errorf("unsupported data %T", dst)
	}
	return nil
}

// sliceAxis returns t[..., i, ...] along axis (the axis removed).
func sliceAxis(ctx *kernel.Context, t *kernel.Tensor, axis, i int) (*kernel.Tensor, error) {
	shape := append(append([]int64{}, t.Shape[:axis]...), t.Shape[axis+1:]...)
	out := ctx.Alloc(t.DType, shape...)
	outer, inner, dim := kernel.ShapeSize(t.Shape[:axis]), kernel.ShapeSize(t.Shape[axis+1:]), int(t.Shape[axis])
	// An empty slice copies nothing, and outer may then be anything (an empty inner axis).
	for o := 0; o < outer && out.Len() > 0; o++ {
		if err := copyElems(out.Data, o*inner, t.Data, (o*dim+i)*inner, inner); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// stack joins equally shaped tensors along a new axis (inserted at axis of the result).
func stack(ctx *kernel.Context, parts []*kernel.Tensor, axis int, dt ir.DataType, partShape []int64) (*kernel.Tensor, error) {
	if len(parts) > 0 {
		dt, partShape = parts[0].DType, parts[0].Shape
	}
	if axis < 0 || axis > len(partShape) {
		return nil, fmt.Errorf("stack axis %d is out of range for rank %d", axis, len(partShape))
	}
	shape := append(append(append([]int64{}, partShape[:axis]...), int64(len(parts))), partShape[axis:]...)
	out := ctx.Alloc(dt, shape...)
	outer, inner := kernel.ShapeSize(partShape[:axis]), kernel.ShapeSize(partShape[axis:])
	for j, p := range parts {
		if p.Kind != kernel.TensorValue || p.DType != dt || !kernel.SameShape(p.Shape, partShape) {
			return nil, fmt.Errorf("iteration %d produced %s, earlier ones %s%v", j, p, dt, partShape)
		}
		for o := 0; o < outer && inner > 0; o++ { // outer is unbounded by data when inner is 0
			if err := copyElems(out.Data, (o*len(parts)+j)*inner, p.Data, o*inner, inner); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// concat joins tensors along an existing axis.
func concat(ctx *kernel.Context, parts []*kernel.Tensor, axis int) (*kernel.Tensor, error) {
	first := parts[0]
	shape := append([]int64{}, first.Shape...)
	shape[axis] = 0
	for i, p := range parts {
		if p.DType != first.DType || len(p.Shape) != len(first.Shape) {
			return nil, fmt.Errorf("element %d is %s, element 0 is %s", i, p, first)
		}
		for d := range p.Shape {
			if d != axis && p.Shape[d] != first.Shape[d] {
				return nil, fmt.Errorf("element %d has shape %v, element 0 has %v", i, p.Shape, first.Shape)
			}
		}
		shape[axis] += p.Shape[axis]
	}
	out := ctx.Alloc(first.DType, shape...)
	outer, inner := kernel.ShapeSize(shape[:axis]), kernel.ShapeSize(shape[axis+1:])
	rowOut := int(shape[axis]) * inner
	off := 0
	for _, p := range parts {
		rowIn := int(p.Shape[axis]) * inner
		for o := 0; o < outer && rowIn > 0; o++ { // outer is unbounded by data when rowIn is 0
			if err := copyElems(out.Data, o*rowOut+off, p.Data, o*rowIn, rowIn); err != nil {
				return nil, err
			}
		}
		off += rowIn
	}
	return out, nil
}

func scalarInt64(t *kernel.Tensor) (int64, error) {
	if t.Kind != kernel.TensorValue || t.Len() != 1 {
		return 0, fmt.Errorf("want a scalar, got %s", t)
	}
	switch d := t.Data.(type) {
	case []int64:
		return d[0], nil
	case []int32:
		return int64(d[0]), nil
	}
	return 0, fmt.Errorf("want an integer scalar, got %s", t)
}

func scalarBool(t *kernel.Tensor) (bool, error) {
	d, ok := t.Data.([]bool)
	if !ok || len(d) != 1 {
		return false, fmt.Errorf("want a bool scalar, got %s", t)
	}
	return d[0], nil
}

func int64Scalar(v int64) *kernel.Tensor {
	return &kernel.Tensor{DType: ir.Int64, Shape: []int64{}, Data: []int64{v}}
}

func boolScalar(v bool) *kernel.Tensor {
	return &kernel.Tensor{DType: ir.Bool, Shape: []int64{}, Data: []bool{v}}
}

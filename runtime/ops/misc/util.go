package misc

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// floatTypes are the element types that the float kernels of this package accept.
var floatTypes = []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16}

// maxElements bounds the size of outputs whose shape comes from data, so that a bad model
// fails with an error instead of exhausting memory.
const maxElements = 1 << 34

// kfunc wraps a run function so that its errors name the node.
func kfunc(n *ir.Node, f func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error)) kernel.Kernel {
	return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		out, err := f(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Describe(), err)
		}
		return out, nil
	})
}

// isFloat reports whether dt is one of the float types the float kernels take.
func isFloat(dt ir.DataType) bool {
	return dt == ir.Float || dt == ir.Double || dt == ir.Float16 || dt == ir.BFloat16
}

// scalarInt reads a one-element int32 or int64 tensor.
func scalarInt(t *kernel.Tensor, name string) (int64, error) {
	if t.NumElements() != 1 {
		return 0, fmt.Errorf("%s must have one element, got shape %v", name, t.Shape)
	}
	v, err := kernel.Int64sOf(t)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	return v[0], nil
}

// spatialAttr reads a per-spatial-axis attribute, defaulting every axis to def and
// checking the length.
func spatialAttr(n *ir.Node, name string, rank int, def int64) ([]int64, error) {
	v := n.AttrInts(name, nil)
	if v == nil {
		v = make([]int64, rank)
		for i := range v {
			v[i] = def
		}
		return v, nil
	}
	if len(v) != rank {
		return nil, fmt.Errorf("attribute %s has %d values for %d spatial axes", name, len(v), rank)
	}
	return v, nil
}

// padsAttr reads pads ([begin..., end...]), zero by default.
func padsAttr(n *ir.Node, rank int) ([]int64, error) {
	v := n.AttrInts("pads", nil)
	if v == nil {
		return make([]int64, 2*rank), nil
	}
	if len(v) != 2*rank {
		return nil, fmt.Errorf("attribute pads has %d values for %d spatial axes", len(v), rank)
	}
	for _, p := range v {
		if p < 0 {
			return nil, fmt.Errorf("attribute pads %v has a negative value", v)
		}
	}
	return v, nil
}

// windowAttrs reads the dilations and strides (1 by default) and the pads (0 by default) of
// an op sliding a window over rank spatial axes.
func windowAttrs(n *ir.Node, rank int) (dilations, strides, pads []int64, err error) {
	if dilations, err = spatialAttr(n, "dilations", rank, 1); err != nil {
		return nil, nil, nil, err
	}
	if strides, err = spatialAttr(n, "strides", rank, 1); err != nil {
		return nil, nil, nil, err
	}
	if pads, err = padsAttr(n, rank); err != nil {
		return nil, nil, nil, err
	}
	return dilations, strides, pads, nil
}

// copyAt copies n elements from src[sOff:] to dst[dOff:]; dst and src must hold the same
// element type (the callers check the tensors' DType first).
func copyAt(dst any, dOff int, src any, sOff, n int) error {
	switch d := dst.(type) {
	case []float32:
		return copyTyped(d, dOff, src, sOff, n)
	case []float64:
		return copyTyped(d, dOff, src, sOff, n)
	case []uint16:
		return copyTyped(d, dOff, src, sOff, n)
	case []int8:
		return copyTyped(d, dOff, src, sOff, n)
	case []int16:
		return copyTyped(d, dOff, src, sOff, n)
	case []int32:
		return copyTyped(d, dOff, src, sOff, n)
	case []int64:
		return copyTyped(d, dOff, src, sOff, n)
	case []uint8:
		return copyTyped(d, dOff, src, sOff, n)
	case []uint32:
		return copyTyped(d, dOff, src, sOff, n)
	case []uint64:
		return copyTyped(d, dOff, src, sOff, n)
	case []bool:
		return copyTyped(d, dOff, src, sOff, n)
	case []string:
		return copyTyped(d, dOff, src, sOff, n)
	case []complex64:
		return copyTyped(d, dOff, src, sOff, n)
	case []complex128:
		return copyTyped(d, dOff, src, sOff, n)
	}
	return fmt.Errorf("unsupported data %T", dst)
}

func copyTyped[T any](d []T, dOff int, src any, sOff, n int) error {
	s, ok := src.([]T)
	if !ok {
		return fmt.Errorf("cannot copy %T into %T", src, d)
	}
	copy(d[dOff:dOff+n], s[sOff:sOff+n])
	return nil
}

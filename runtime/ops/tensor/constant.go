package tensor

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// ConstantValue converts the value attribute of a Constant node (value, sparse_value,
// value_float(s), value_int(s) or value_string(s); exactly one must be present) into a
// tensor. The runtime's planner uses it too, to fold Constant nodes at build time.
func ConstantValue(n *ir.Node) (*kernel.Tensor, error) {
	var found []*ir.Attr
	for _, a := range n.Attrs {
		switch a.Name {
		case "value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings":
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("needs exactly one value attribute, has %d", len(found))
	}
	a := found[0]
	switch a.Name {
	case "value":
		if a.Tensor == nil {
			return nil, fmt.Errorf("attribute value holds no tensor")
		}
		return kernel.FromIR(a.Tensor)
	case "sparse_value":
		if a.SparseTensor == nil {
			return nil, fmt.Errorf("attribute sparse_value holds no sparse tensor")
		}
		return densify(a.SparseTensor)
	case "value_float":
		return &kernel.Tensor{DType: ir.Float, Shape: []int64{}, Data: []float32{a.Float}}, nil
	case "value_floats":
		return &kernel.Tensor{DType: ir.Float, Shape: []int64{int64(len(a.Floats))}, Data: append([]float32{}, a.Floats...)}, nil
	case "value_int":
		return &kernel.Tensor{DType: ir.Int64, Shape: []int64{}, Data: []int64{a.Int}}, nil
	case "value_ints":
		return &kernel.Tensor{DType: ir.Int64, Shape: []int64{int64(len(a.Ints))}, Data: append([]int64{}, a.Ints...)}, nil
	case "value_string":
		return &kernel.Tensor{DType: ir.String, Shape: []int64{}, Data: []string{a.String}}, nil
	default: // value_strings
		return &kernel.Tensor{DType: ir.String, Shape: []int64{int64(len(a.Strings))}, Data: append([]string{}, a.Strings...)}, nil
	}
}

// densify expands a sparse tensor in COO form: indices are either linear positions ([NNZ])
// or coordinates ([NNZ, rank]).
func densify(s *ir.SparseTensor) (*kernel.Tensor, error) {
	if s.Values == nil || s.Indices == nil {
		return nil, fmt.Errorf("sparse tensor lacks values or indices")
	}
	vals, err := kernel.FromIR(s.Values)
	if err != nil {
		return nil, fmt.Errorf("sparse values: %w", err)
	}
	idxT, err := kernel.FromIR(s.Indices)
	if err != nil {
		return nil, fmt.Errorf("sparse indices: %w", err)
	}
	idx, err := kernel.Int64sOf(idxT)
	if err != nil {
		return nil, fmt.Errorf("sparse indices: %w", err)
	}
	total, err := checkedNumel(s.Dims)
	if err != nil {
		return nil, err
	}
	nnz := vals.Len()
	out := kernel.New(vals.DType, s.Dims...)
	pos, err := kernel.MakeScratch[int](nnz)
	if err != nil {
		return nil, err
	}
	switch {
	case len(idx) == nnz:
		for i, v := range idx {
			pos[i] = int(v)
		}
	case len(s.Dims) > 0 && len(idx) == nnz*len(s.Dims):
		strides := stridesOf(s.Dims)
		for i := range pos {
			for k, st := range strides {
				c := idx[i*len(s.Dims)+k]
				if c < 0 || c >= s.Dims[k] {
					return nil, fmt.Errorf("sparse index %d is out of range for dim %d", c, s.Dims[k])
				}
				pos[i] += int(c) * st
			}
		}
	default:
		return nil, fmt.Errorf("%d sparse indices do not match %d values of rank %d", len(idx), nnz, len(s.Dims))
	}
	for i, p := range pos {
		if p < 0 || p >= total {
			return nil, fmt.Errorf("sparse position %d is out of range", p)
		}
		copyAt(out.Data, p, vals.Data, i, 1)
	}
	return out, nil
}

func newConstant(info *kernel.NodeInfo) (kernel.Kernel, error) {
	val, err := ConstantValue(info.Node)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", describe(info), err)
	}
	return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		return []*kernel.Tensor{val}, nil
	}), nil
}

func newConstantOfShape(info *kernel.NodeInfo) (kernel.Kernel, error) {
	val := &kernel.Tensor{DType: ir.Float, Shape: []int64{1}, Data: []float32{0}}
	if a := info.Node.Attr("value"); a != nil {
		if a.Tensor == nil {
			return nil, fmt.Errorf("%s: attribute value holds no tensor", describe(info))
		}
		v, err := kernel.FromIR(a.Tensor)
		if err != nil {
			return nil, fmt.Errorf("%s: attribute value: %w", describe(info), err)
		}
		if v.Len() != 1 {
			return nil, fmt.Errorf("%s: attribute value has %d elements, want 1", describe(info), v.Len())
		}
		val = v
	}
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		s, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		shape, err := kernel.Int64sOf(s)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		if _, err := checkedNumel(shape); err != nil {
			return nil, err
		}
		out := alloc(ctx, val.DType, append([]int64{}, shape...))
		fillWith(out.Data, val.Data, 0)
		return []*kernel.Tensor{out}, nil
	}), nil
}

// oneOf returns a one-element slice holding 1 in dt's representation.
func oneOf(dt ir.DataType) (any, error) {
	one, err := kernel.MakeSlice(dt, 1)
	if err != nil {
		return nil, err
	}
	if dt == ir.String {
		return nil, fmt.Errorf("element type string has no one")
	}
	if err := storeFloat64s(one, dt, []float64{1}); err != nil {
		return nil, err
	}
	return one, nil
}

func newEyeLike(info *kernel.NodeInfo) (kernel.Kernel, error) {
	k := int(info.Node.AttrInt("k", 0))
	dtAttr := ir.DataType(info.Node.AttrInt("dtype", 0))
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, err := need(in, 0, "input")
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != 2 {
			return nil, fmt.Errorf("input must be 2-D, is %v", x.Shape)
		}
		dt := x.DType
		if dtAttr != ir.Undefined {
			dt = dtAttr
		}
		one, err := oneOf(dt)
		if err != nil {
			return nil, err
		}
		out := ctx.AllocZeroed(dt, x.Shape...)
		rows, cols := int(x.Shape[0]), int(x.Shape[1])
		// Only rows that meet the diagonal inside the matrix are visited: an empty x may
		// declare 2^62 rows of no columns.
		for i := max(0, -k); i < rows && cols > 0 && i+k < cols; i++ {
			if j := i + k; j >= 0 && j < cols {
				copyAt(out.Data, i*cols+j, one, 0, 1)
			}
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

func newRange(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return kfunc(describe(info), func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		var sc [3]*kernel.Tensor
		for i, name := range []string{"start", "limit", "delta"} {
			t, err := need(in, i, name)
			if err != nil {
				return nil, err
			}
			if t.Len() != 1 {
				return nil, fmt.Errorf("input %s must be a scalar, has shape %v", name, t.Shape)
			}
			sc[i] = t
		}
		dt := sc[0].DType
		switch dt {
		case ir.Int16, ir.Int32, ir.Int64, ir.Uint8, ir.Int8, ir.Uint16, ir.Uint32, ir.Uint64:
			v := make([]int64, 3)
			for i, t := range sc {
				x, err := kernel.Int64sOf(t)
				if err != nil {
					return nil, err
				}
				v[i] = x[0]
			}
			start, limit, delta := v[0], v[1], v[2]
			if delta == 0 {
				return nil, fmt.Errorf("delta is zero")
			}
			// ceil((limit-start)/delta) computed without overflowing int64.
			span := float64(limit) - float64(start)
			nf := math.Ceil(span / float64(delta))
			if nf > maxElements {
				return nil, fmt.Errorf("range of %g elements exceeds the limit %d", nf, int64(maxElements))
			}
			n := max(int64(nf), 0)
			vals, err := kernel.MakeScratch[int64](int(n))
			if err != nil {
				return nil, err
			}
			for i := range vals {
				vals[i] = start + int64(i)*delta
			}
			out := alloc(ctx, dt, []int64{n})
			castPlain(out.Data, vals)
			return []*kernel.Tensor{out}, nil
		}
		v := make([]float64, 3)
		for i, t := range sc {
			x, err := kernel.Float64sOf(t)
			if err != nil {
				return nil, err
			}
			v[i] = x[0]
		}
		start, limit, delta := v[0], v[1], v[2]
		if delta == 0 || math.IsNaN(delta) {
			return nil, fmt.Errorf("delta is %g", delta)
		}
		nf := math.Ceil((limit - start) / delta)
		if math.IsNaN(nf) || nf > maxElements {
			return nil, fmt.Errorf("range of %g elements exceeds the limit %d", nf, int64(maxElements))
		}
		n := int(max(nf, 0))
		vals, err := kernel.MakeScratch[float64](n)
		if err != nil {
			return nil, err
		}
		if dt == ir.Float {
			// Accumulate in float32 as the reference does (start + i*delta in float32).
			s32, d32 := float32(start), float32(delta)
			for i := range vals {
				vals[i] = float64(s32 + float32(i)*d32)
			}
		} else {
			for i := range vals {
				vals[i] = start + float64(i)*delta
			}
		}
		out := alloc(ctx, dt, []int64{int64(n)})
		if err := storeFloat64s(out.Data, dt, vals); err != nil {
			return nil, err
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

package kernel

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// BroadcastShapes returns the shape that shapes broadcast to under ONNX's multidirectional
// (numpy) rules: shapes are right-aligned, missing leading dimensions count as 1, and each
// dimension must be 1 or the common size. A 0-sized dimension broadcasts with 1 to 0.
func BroadcastShapes(shapes ...[]int64) ([]int64, error) {
	rank := 0
	for _, s := range shapes {
		rank = max(rank, len(s))
	}
	out := make([]int64, rank)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := rank - len(s)
		for i, d := range s {
			if d < 0 {
				return nil, fmt.Errorf("broadcast: negative dimension in shape %v", s)
			}
			o := &out[off+i]
			switch {
			case d == *o || d == 1:
			case *o == 1:
				*o = d
			default:
				return nil, fmt.Errorf("broadcast: shapes %v are incompatible (dimension %d: %d vs %d)", shapes, off+i, *o, d)
			}
		}
	}
	return out, nil
}

// BroadcastStrides returns, for each dimension of outShape, the element stride of a
// row-major tensor of inShape broadcast to outShape: 0 on dimensions inShape lacks or
// holds as 1 (where the output repeats the same element).
func BroadcastStrides(inShape, outShape []int64) []int64 {
	strides := make([]int64, len(outShape))
	off := len(outShape) - len(inShape)
	stride := int64(1)
	for i := len(inShape) - 1; i >= 0; i-- {
		if inShape[i] != 1 && off+i >= 0 {
			strides[off+i] = stride
		}
		stride *= inShape[i]
	}
	return strides
}

// SameShape reports whether two shapes are equal.
func SameShape(a, b []int64) bool {
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

// loopNest is an iteration over an output shape with one stride per operand, with
// adjacent dimensions merged wherever every operand steps through them contiguously, so
// that the innermost loop is as long as possible.
type loopNest struct {
	dims    []int   // merged dimension sizes, outermost first
	strides [][]int // strides[k][d]: operand k's stride on merged dimension d
}

func newLoopNest(outShape []int64, inShapes ...[]int64) loopNest {
	var ln loopNest
	all := make([][]int64, len(inShapes))
	for k, s := range inShapes {
		all[k] = BroadcastStrides(s, outShape)
	}
	ln.strides = make([][]int, len(inShapes))
	for d := 0; d < len(outShape); d++ {
		size := int(outShape[d])
		if size == 1 {
			continue // contributes nothing to the iteration
		}
		last := len(ln.dims) - 1
		mergeable := last >= 0
		for k := range inShapes {
			if !mergeable {
				break
			}
			// Dimension d continues dimension last for operand k when the stride of last
			// equals stride(d)*size(d) (contiguous) or both are 0 (broadcast).
			sd := int(all[k][d])
			sl := ln.strides[k][last]
			if !(sl == sd*size) {
				mergeable = false
			}
		}
		if mergeable {
			ln.dims[last] *= size
			for k := range inShapes {
				ln.strides[k][last] = int(all[k][d])
			}
			continue
		}
		ln.dims = append(ln.dims, size)
		for k := range inShapes {
			ln.strides[k] = append(ln.strides[k], int(all[k][d]))
		}
	}
	return ln
}

// walk calls inner(offsets, n, steps) for every run of the innermost merged dimension:
// offsets[k] is operand k's start, n the run length and steps[k] operand k's stride along it.
// out is written contiguously, so the caller tracks the output position itself.
func (ln loopNest) walk(inner func(offs []int, n int, steps []int)) {
	nOps := len(ln.strides)
	offs := make([]int, nOps)
	steps := make([]int, nOps)
	if len(ln.dims) == 0 {
		inner(offs, 1, steps)
		return
	}
	last := len(ln.dims) - 1
	for k := range steps {
		steps[k] = ln.strides[k][last]
	}
	idx := make([]int, last)
	for {
		inner(offs, ln.dims[last], steps)
		// Advance the odometer over the outer dimensions.
		d := last - 1
		for ; d >= 0; d-- {
			idx[d]++
			for k := 0; k < nOps; k++ {
				offs[k] += ln.strides[k][d]
			}
			if idx[d] < ln.dims[d] {
				break
			}
			for k := 0; k < nOps; k++ {
				offs[k] -= ln.strides[k][d] * ln.dims[d]
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// Binary computes out[i] = f(a[ia], b[ib]) over outShape, where a and b (of shapes aShape
// and bShape) broadcast to outShape. out must hold exactly the elements of outShape.
// Equal shapes and scalar operands run without index arithmetic.
func Binary[A, B, O any](out []O, outShape []int64, a []A, aShape []int64, b []B, bShape []int64, f func(A, B) O) {
	if len(out) == 0 {
		return
	}
	switch {
	case len(a) == len(out) && len(b) == len(out):
		b = b[:len(a)]
		out = out[:len(a)]
		for i, x := range a {
			out[i] = f(x, b[i])
		}
		return
	case len(b) == 1 && len(a) == len(out):
		y := b[0]
		out = out[:len(a)]
		for i, x := range a {
			out[i] = f(x, y)
		}
		return
	case len(a) == 1 && len(b) == len(out):
		x := a[0]
		out = out[:len(b)]
		for i, y := range b {
			out[i] = f(x, y)
		}
		return
	}
	ln := newLoopNest(outShape, aShape, bShape)
	pos := 0
	ln.walk(func(offs []int, n int, steps []int) {
		ia, ib := offs[0], offs[1]
		sa, sb := steps[0], steps[1]
		o := out[pos : pos+n]
		switch {
		case sa == 1 && sb == 1:
			as, bs := a[ia:ia+n], b[ib:ib+n]
			for i := range o {
				o[i] = f(as[i], bs[i])
			}
		case sa == 1 && sb == 0:
			as, y := a[ia:ia+n], b[ib]
			for i := range o {
				o[i] = f(as[i], y)
			}
		case sa == 0 && sb == 1:
			x, bs := a[ia], b[ib:ib+n]
			for i := range o {
				o[i] = f(x, bs[i])
			}
		default:
			for i := range o {
				o[i] = f(a[ia], b[ib])
				ia += sa
				ib += sb
			}
		}
		pos += n
	})
}

// Ternary is Binary for three operands (Where, Clip with tensor bounds).
func Ternary[A, B, C, O any](out []O, outShape []int64, a []A, aShape []int64, b []B, bShape []int64, c []C, cShape []int64, f func(A, B, C) O) {
	if len(out) == 0 {
		return
	}
	if len(a) == len(out) && len(b) == len(out) && len(c) == len(out) {
		for i := range out {
			out[i] = f(a[i], b[i], c[i])
		}
		return
	}
	ln := newLoopNest(outShape, aShape, bShape, cShape)
	pos := 0
	ln.walk(func(offs []int, n int, steps []int) {
		ia, ib, ic := offs[0], offs[1], offs[2]
		for i := 0; i < n; i++ {
			out[pos+i] = f(a[ia], b[ib], c[ic])
			ia += steps[0]
			ib += steps[1]
			ic += steps[2]
		}
		pos += n
	})
}

// BroadcastTo copies src (of srcShape) into dst, repeating it along the dimensions where it
// broadcasts to dstShape (Expand, and the variadic Max/Min/Sum/Mean).
func BroadcastTo[T any](dst []T, dstShape []int64, src []T, srcShape []int64) {
	if len(dst) == 0 {
		return
	}
	if len(src) == len(dst) {
		copy(dst, src)
		return
	}
	if len(src) == 1 {
		v := src[0]
		for i := range dst {
			dst[i] = v
		}
		return
	}
	ln := newLoopNest(dstShape, srcShape)
	pos := 0
	ln.walk(func(offs []int, n int, steps []int) {
		o := dst[pos : pos+n]
		if steps[0] == 1 {
			copy(o, src[offs[0]:offs[0]+n])
		} else {
			i0, s := offs[0], steps[0]
			for i := range o {
				o[i] = src[i0]
				i0 += s
			}
		}
		pos += n
	})
}

// BroadcastOffsets returns, for every element of outShape in row-major order, the offset
// of the element of a tensor of inShape it reads when broadcast. Kernels with unusual
// access patterns use it; it costs one int per output element, weighed against the memory
// budget (the error says so when it does not fit, or when outShape's count overflows).
func BroadcastOffsets(inShape, outShape []int64) ([]int, error) {
	n, err := CheckedCount(ir.Int64, outShape)
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, n)
	if n == 0 {
		return out, nil
	}
	ln := newLoopNest(outShape, inShape)
	ln.walk(func(offs []int, k int, steps []int) {
		o := offs[0]
		for i := 0; i < k; i++ {
			out = append(out, o)
			o += steps[0]
		}
	})
	return out, nil
}

package misc

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "DeformConv", SinceVersion: 19, Types: floatTypes, New: newDeformConv})
}

type deformConv struct {
	node        *ir.Node
	group       int
	offsetGroup int
}

func newDeformConv(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &deformConv{node: n, group: int(n.AttrInt("group", 1)), offsetGroup: int(n.AttrInt("offset_group", 1))}
	if k.group < 1 || k.offsetGroup < 1 {
		return nil, fmt.Errorf("%s: group %d and offset_group %d must be positive", n.Describe(), k.group, k.offsetGroup)
	}
	return kfunc(n, k.run), nil
}

// run samples the input at the kernel taps displaced by the learned offsets (multilinear
// interpolation, zero outside the image), scales each sample by the mask, and convolves the
// samples with W: an im2col whose columns are interpolated, followed by a grouped product.
func (k *deformConv) run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x, w, off := kernel.Input(in, 0), kernel.Input(in, 1), kernel.Input(in, 2)
	if x == nil || w == nil || off == nil {
		return nil, fmt.Errorf("inputs X, W and offset are required")
	}
	if len(x.Shape) < 3 || len(w.Shape) != len(x.Shape) || len(off.Shape) != len(x.Shape) {
		return nil, fmt.Errorf("X %v, W %v and offset %v must have the same rank, at least 3", x.Shape, w.Shape, off.Shape)
	}
	rank := len(x.Shape) - 2
	n := k.node
	kshape := n.AttrInts("kernel_shape", w.Shape[2:])
	if len(kshape) != rank {
		return nil, fmt.Errorf("kernel_shape %v has %d values for %d spatial axes", kshape, len(kshape), rank)
	}
	for i, d := range kshape {
		if d != w.Shape[2+i] {
			return nil, fmt.Errorf("kernel_shape %v differs from W's spatial shape %v", kshape, w.Shape[2:])
		}
	}
	dil, strides, pads, err := windowAttrs(n, rank)
	if err != nil {
		return nil, err
	}
	batch, inC, outC := int(x.Shape[0]), int(x.Shape[1]), int(w.Shape[0])
	if inC != int(w.Shape[1])*k.group || outC%k.group != 0 {
		return nil, fmt.Errorf("X %v and W %v do not fit group %d", x.Shape, w.Shape, k.group)
	}
	if inC%k.offsetGroup != 0 {
		return nil, fmt.Errorf("%d input channels are not divisible by offset_group %d", inC, k.offsetGroup)
	}
	outSpatial := make([]int64, rank)
	for i := 0; i < rank; i++ {
		if dil[i] < 1 || strides[i] < 1 {
			return nil, fmt.Errorf("dilations %v and strides %v must be positive", dil, strides)
		}
		outSpatial[i] = (x.Shape[2+i]+pads[i]+pads[rank+i]-(dil[i]*(kshape[i]-1)+1))/strides[i] + 1
		if outSpatial[i] < 1 {
			return nil, fmt.Errorf("kernel %v does not fit input %v with pads %v", kshape, x.Shape, pads)
		}
	}
	taps := kernel.ShapeSize(kshape)
	wantOff := append([]int64{int64(batch), int64(k.offsetGroup * taps * rank)}, outSpatial...)
	if !kernel.SameShape(off.Shape, wantOff) {
		return nil, fmt.Errorf("offset shape %v, want %v", off.Shape, wantOff)
	}
	xs, err := kernel.FloatsOf(x)
	if err != nil {
		return nil, fmt.Errorf("X: %w", err)
	}
	ws, err := kernel.FloatsOf(w)
	if err != nil {
		return nil, fmt.Errorf("W: %w", err)
	}
	offs, err := kernel.FloatsOf(off)
	if err != nil {
		return nil, fmt.Errorf("offset: %w", err)
	}
	var bias, mask []float64
	if b := kernel.Input(in, 3); b != nil {
		if b.NumElements() != outC {
			return nil, fmt.Errorf("B shape %v, want [%d]", b.Shape, outC)
		}
		if bias, err = kernel.FloatsOf(b); err != nil {
			return nil, fmt.Errorf("B: %w", err)
		}
	}
	if m := kernel.Input(in, 4); m != nil {
		want := append([]int64{int64(batch), int64(k.offsetGroup * taps)}, outSpatial...)
		if !kernel.SameShape(m.Shape, want) {
			return nil, fmt.Errorf("mask shape %v, want %v", m.Shape, want)
		}
		if mask, err = kernel.FloatsOf(m); err != nil {
			return nil, fmt.Errorf("mask: %w", err)
		}
	}

	inSpatial := x.Shape[2:]
	inSize, outSize := kernel.ShapeSize(inSpatial), kernel.ShapeSize(outSpatial)
	chPerOffGroup := inC / k.offsetGroup
	// cols[(c*taps+t)*outSize + p]: masked sample of channel c at tap t for output p.
	// Counted from the shapes with overflow checks: a product that wrapped would size
	// buffers the loops below index past.
	cols, err := kernel.MakeScratchShaped[float64]([]int64{int64(inC), int64(taps), int64(outSize)})
	if err != nil {
		return nil, err
	}
	res, err := kernel.MakeScratchShaped[float64]([]int64{int64(batch), int64(outC), int64(outSize)})
	if err != nil {
		return nil, err
	}
	tapIdx, outIdx := make([]int64, rank), make([]int64, rank)
	pos := make([]float64, rank)
	s := newSampler(inSpatial)
	// An empty result has nothing to compute, and batch may then be anything (an X with
	// no channels, a W with no outputs); otherwise batch ≤ len(res).
	for b := 0; b < batch && len(res) > 0; b++ {
		for c := 0; c < inC; c++ {
			g := c / chPerOffGroup
			plane := xs[(b*inC+c)*inSize : (b*inC+c+1)*inSize]
			for t := 0; t < taps; t++ {
				unravel(t, kshape, tapIdx)
				for p := 0; p < outSize; p++ {
					unravel(p, outSpatial, outIdx)
					for i := 0; i < rank; i++ {
						o := offs[((b*k.offsetGroup+g)*taps*rank+t*rank+i)*outSize+p]
						pos[i] = float64(outIdx[i]*strides[i]-pads[i]+tapIdx[i]*dil[i]) + o
					}
					v := s.sample(plane, pos)
					if mask != nil {
						v *= mask[((b*k.offsetGroup+g)*taps+t)*outSize+p]
					}
					cols[(c*taps+t)*outSize+p] = v
				}
			}
		}
		inPerGroup, outPerGroup := inC/k.group, outC/k.group
		for oc := 0; oc < outC; oc++ {
			y := res[(b*outC+oc)*outSize : (b*outC+oc+1)*outSize]
			if bias != nil {
				for p := range y {
					y[p] = bias[oc]
				}
			}
			c0 := (oc / outPerGroup) * inPerGroup
			for ci := 0; ci < inPerGroup; ci++ {
				for t := 0; t < taps; t++ {
					wv := ws[(oc*inPerGroup+ci)*taps+t]
					col := cols[((c0+ci)*taps+t)*outSize : ((c0+ci)*taps+t+1)*outSize]
					for p, v := range col {
						y[p] += wv * v
					}
				}
			}
		}
	}
	outShape := append([]int64{int64(batch), int64(outC)}, outSpatial...)
	return kernel.Single(kernel.FromFloat64s(ctx, x.DType, outShape, res))
}

// sampler interpolates an N-D plane multilinearly at fractional positions; each of the 2^N
// corners outside the plane contributes zero.
type sampler struct {
	shape   []int64
	strides []int
	lo      []int
	frac    []float64
}

func newSampler(shape []int64) *sampler {
	s := &sampler{shape: shape, strides: make([]int, len(shape)), lo: make([]int, len(shape)), frac: make([]float64, len(shape))}
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s.strides[i] = acc
		acc *= int(shape[i])
	}
	return s
}

func (s *sampler) sample(plane []float64, pos []float64) float64 {
	rank := len(s.shape)
	for i, p := range pos {
		if math.IsNaN(p) || p <= -1 || p >= float64(s.shape[i]) {
			return 0 // every corner is outside
		}
		f := math.Floor(p)
		s.lo[i], s.frac[i] = int(f), p-f
	}
	var sum float64
corners:
	for c := 0; c < 1<<rank; c++ {
		w, off := 1.0, 0
		for i := 0; i < rank; i++ {
			idx, wi := s.lo[i], 1-s.frac[i]
			if c>>(rank-1-i)&1 == 1 {
				idx, wi = idx+1, s.frac[i]
			}
			if idx < 0 || idx >= int(s.shape[i]) {
				continue corners
			}
			w *= wi
			off += idx * s.strides[i]
		}
		sum += w * plane[off]
	}
	return sum
}

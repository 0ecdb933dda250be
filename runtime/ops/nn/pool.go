package nn

import (
	"math"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	maxPoolTypes := append([]ir.DataType{ir.Int8, ir.Uint8}, floatTypes...)
	kernel.Register(
		kernel.KernelDef{Op: "MaxPool", SinceVersion: 1, Types: maxPoolTypes, New: newPool(poolMax)},
		kernel.KernelDef{Op: "AveragePool", SinceVersion: 1, Types: floatTypes, New: newPool(poolAvg)},
		kernel.KernelDef{Op: "LpPool", SinceVersion: 1, Types: floatTypes, New: newPool(poolLp)},
		kernel.KernelDef{Op: "GlobalMaxPool", SinceVersion: 1, Types: floatTypes, New: newGlobalPool(poolMax)},
		kernel.KernelDef{Op: "GlobalAveragePool", SinceVersion: 1, Types: floatTypes, New: newGlobalPool(poolAvg)},
		kernel.KernelDef{Op: "GlobalLpPool", SinceVersion: 1, Types: floatTypes, New: newGlobalPool(poolLp)},
	)
}

type poolKind int

const (
	poolMax poolKind = iota
	poolAvg
	poolLp
)

type poolKernel struct {
	node            *ir.Node
	kind            poolKind
	win             windowAttrs
	countIncludePad bool
	p               float64
	storageOrder    int64
	global          bool
}

func newPool(kind poolKind) kernel.Factory {
	return func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		n := info.Node
		win, err := parseWindowAttrs(n)
		if err != nil {
			return nil, opErr(n, "%w", err)
		}
		if win.kernel == nil {
			return nil, opErr(n, "attribute kernel_shape is required")
		}
		k := &poolKernel{node: n, kind: kind, win: win,
			countIncludePad: n.AttrInt("count_include_pad", 0) != 0,
			storageOrder:    n.AttrInt("storage_order", 0)}
		if kind == poolLp {
			k.p = lpAttr(n)
		}
		return k, nil
	}
}

// lpAttr reads p, an int from LpPool-2 on and a float before.
func lpAttr(n *ir.Node) float64 {
	if a := n.Attr("p"); a != nil && a.Type == ir.AttrFloat {
		return float64(a.Float)
	}
	return float64(n.AttrInt("p", 2))
}

func newGlobalPool(kind poolKind) kernel.Factory {
	return func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		k := &poolKernel{node: info.Node, kind: kind, global: true}
		if kind == poolLp {
			k.p = lpAttr(info.Node)
		}
		return k, nil
	}
}

func (k *poolKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil {
		return nil, opErr(k.node, "input X is required")
	}
	if len(x.Shape) < 3 {
		return nil, opErr(k.node, "X %v must have rank at least 3", x.Shape)
	}
	in := shapeInts(x.Shape[2:])
	var geo *window
	var err error
	if k.global {
		geo = &window{in: in, out: make([]int, len(in)), kernel: in, strides: make([]int, len(in)),
			dilations: make([]int, len(in)), padBegin: make([]int, len(in)), padEnd: make([]int, len(in))}
		for i := range in {
			geo.out[i], geo.strides[i], geo.dilations[i] = 1, 1, 1
		}
	} else if geo, err = k.win.resolve(in, k.win.kernel); err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	xd, err := asF32(x)
	if err != nil {
		return nil, opErr(k.node, "X: %w", err)
	}
	nc := int(x.Shape[0] * x.Shape[1])
	outShape := append([]int64{x.Shape[0], x.Shape[1]}, toInt64s(geo.out)...)
	out := allocOut(ctx, x.DType, outShape...)
	var indices []int64
	var idxT *kernel.Tensor
	if k.kind == poolMax && wantOutput(k.node, 1) {
		idxT = ctx.Alloc(ir.Int64, outShape...)
		indices = idxT.Int64s()
	}
	inSize, outSize := prodInts(geo.in), prodInts(geo.out)
	nd := len(in)
	// Column-major strides of the spatial plane, for storage_order = 1 indices.
	colStrides := make([]int, nd)
	s := 1
	for d := 0; d < nd; d++ {
		colStrides[d] = s
		s *= in[d]
	}
	if k.kind == poolMax && indices == nil && nd == 2 {
		linalg.ForCost(ctx.Parallelism(), nc, outSize*prodInts(geo.kernel), func(plane int) {
			maxPool2DPlane(xd[plane*inSize:(plane+1)*inSize], out.Buf[plane*outSize:(plane+1)*outSize], geo)
		})
		return []*kernel.Tensor{out.Done()}, nil
	}
	// A global pool over empty spatial axes has an empty window (its other axes may be any
	// size: the odometer would count them out); every output pools nothing.
	emptyWindow := prodInts(geo.kernel) == 0
	linalg.ForCost(ctx.Parallelism(), nc, outSize*prodInts(geo.kernel), func(plane int) {
		xp := xd[plane*inSize : (plane+1)*inSize]
		yp := out.Buf[plane*outSize : (plane+1)*outSize]
		ood, kod := newOdometer(geo.out), newOdometer(geo.kernel)
		for o := 0; o < outSize; o++ {
			kod.reset()
			var acc float64
			best, bestIdx := float32(math.Inf(-1)), -1
			count := 0
			for !emptyWindow {
				off, ok, inPadded := 0, true, true
				colOff := 0
				for d := 0; d < nd; d++ {
					pos := ood.idx[d]*geo.strides[d] - geo.padBegin[d] + kod.idx[d]*geo.dilations[d]
					if pos < 0 || pos >= geo.in[d] {
						ok = false
						if pos < -geo.padBegin[d] || pos >= geo.in[d]+geo.padEnd[d] {
							inPadded = false
						}
						continue
					}
					off = off*geo.in[d] + pos
					colOff += pos * colStrides[d]
				}
				if ok {
					v := xp[off]
					switch k.kind {
					case poolMax:
						if v > best || bestIdx < 0 {
							best, bestIdx = v, off
							if k.storageOrder == 1 {
								bestIdx = colOff
							}
						}
					case poolAvg:
						acc += float64(v)
						count++
					case poolLp:
						acc += math.Pow(math.Abs(float64(v)), k.p)
					}
				} else if inPadded && k.countIncludePad {
					count++
				}
				if !kod.next() {
					break
				}
			}
			switch k.kind {
			case poolMax:
				if bestIdx < 0 {
					yp[o] = float32(math.Inf(-1))
				} else {
					yp[o] = best
				}
				if indices != nil {
					indices[plane*outSize+o] = int64(plane*inSize + max(bestIdx, 0))
				}
			case poolAvg:
				if count == 0 {
					yp[o] = 0
				} else {
					yp[o] = float32(acc / float64(count))
				}
			case poolLp:
				yp[o] = float32(math.Pow(acc, 1/k.p))
			}
			ood.next()
		}
	})
	res := []*kernel.Tensor{out.Done()}
	if idxT != nil {
		res = append(res, idxT)
	}
	return res, nil
}

// maxPool2DPlane is MaxPool over one 2-D plane without the Indices output (ResNet's stem):
// it visits only the window positions inside the image instead of testing every tap, in
// the same row-major order as the general loop so NaN handling matches it (the first
// element seeds the maximum, later ones replace it only when greater). A window entirely
// in the padding yields -Inf.
func maxPool2DPlane(x, y []float32, geo *window) {
	ih, iw := geo.in[0], geo.in[1]
	oh, ow := geo.out[0], geo.out[1]
	kh, kw := geo.kernel[0], geo.kernel[1]
	sh, sw := geo.strides[0], geo.strides[1]
	dh, dw := geo.dilations[0], geo.dilations[1]
	ph, pw := geo.padBegin[0], geo.padBegin[1]
	for oy := 0; oy < oh; oy++ {
		iy0 := oy*sh - ph
		// Taps ky in [ky0, ky1) land inside the image: 0 <= iy0+ky·dh < ih.
		ky0 := ceilDivNonNeg(-iy0, dh)
		ky1 := min(kh, ceilDivNonNeg(ih-iy0, dh))
		yrow := y[oy*ow : (oy+1)*ow]
		for ox := range yrow {
			ix0 := ox*sw - pw
			kx0 := ceilDivNonNeg(-ix0, dw)
			kx1 := min(kw, ceilDivNonNeg(iw-ix0, dw))
			best, seen := float32(math.Inf(-1)), false
			for ky := ky0; ky < ky1; ky++ {
				row := x[(iy0+ky*dh)*iw : (iy0+ky*dh+1)*iw]
				for kx := kx0; kx < kx1; kx++ {
					if v := row[ix0+kx*dw]; v > best || !seen {
						best, seen = v, true
					}
				}
			}
			yrow[ox] = best
		}
	}
}

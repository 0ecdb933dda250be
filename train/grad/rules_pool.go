package grad

import (
	"fmt"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	for _, name := range []string{"MaxPool", "AveragePool"} {
		register(name, ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*poolOp, error) {
			win, err := parseWindow(b.node)
			if err != nil {
				return nil, err
			}
			if win.kernel == nil {
				return nil, fmt.Errorf("attribute kernel_shape is required")
			}
			return &poolOp{kernelFwd: k, win: win, max: b.node.OpType == "MaxPool",
				countIncludePad: b.node.AttrInt("count_include_pad", 0) != 0}, nil
		})})
	}
	for _, name := range []string{"GlobalMaxPool", "GlobalAveragePool"} {
		register(name, ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*poolOp, error) {
			return &poolOp{kernelFwd: k, global: true, max: b.node.OpType == "GlobalMaxPool"}, nil
		})})
	}
}

// poolOp differentiates MaxPool (the gradient goes to the first maximum of each window,
// as PyTorch's kernels pick it) and AveragePool (spread evenly over the elements the
// forward divided by; padding counted only with count_include_pad).
type poolOp struct {
	kernelFwd
	win             windowAttrs
	global, max     bool
	countIncludePad bool
}

func (o *poolOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	x := f.in[0]
	xd, err := floats(x)
	if err != nil {
		return err
	}
	if len(x.Shape) < 3 {
		return fmt.Errorf("X %v must have rank at least 3", x.Shape)
	}
	in := ints(x.Shape[2:])
	var geo *window
	if o.global {
		nd := len(in)
		geo = &window{in: in, out: make([]int, nd), kernel: in, strides: make([]int, nd), dilations: make([]int, nd),
			padBegin: make([]int, nd), padEnd: make([]int, nd)}
		for i := range in {
			geo.out[i], geo.strides[i], geo.dilations[i] = 1, 1, 1
		}
	} else if geo, err = o.win.resolve(in, o.win.kernel); err != nil {
		return err
	}
	gy := gout[0].Float32s()
	gxT := newZeroGrad(c, x.Shape)
	gx := gxT.Float32s()
	planes := int(x.Shape[0] * x.Shape[1])
	inSize, outSize := prod(geo.in), prod(geo.out)
	linalg.ForCost(c.threads, planes, outSize*prod(geo.kernel), func(p int) {
		xp, gxp := xd[p*inSize:(p+1)*inSize], gx[p*inSize:(p+1)*inSize]
		gyp := gy[p*outSize : (p+1)*outSize]
		if o.max && len(in) == 2 {
			maxPoolBack2D(xp, gyp, gxp, geo)
			return
		}
		o.planeBack(xp, gyp, gxp, geo)
	})
	gin[0] = gxT
	return nil
}

// planeBack is the gradient of one plane through any window.
func (o *poolOp) planeBack(x, gy, gx []float32, geo *window) {
	nd := len(geo.in)
	oIdx, kIdx := make([]int, nd), make([]int, nd)
	offs := make([]int, 0, prod(geo.kernel))
	for of := range gy {
		clear(kIdx)
		offs = offs[:0]
		count := 0
		for kf := 0; kf < prod(geo.kernel); kf++ {
			off, inside, inPad := 0, true, true
			for d := 0; d < nd; d++ {
				pos := oIdx[d]*geo.strides[d] - geo.padBegin[d] + kIdx[d]*geo.dilations[d]
				if pos < 0 || pos >= geo.in[d] {
					inside = false
					if pos < -geo.padBegin[d] || pos >= geo.in[d]+geo.padEnd[d] {
						inPad = false
					}
					continue
				}
				off = off*geo.in[d] + pos
			}
			if inside {
				offs = append(offs, off)
				count++
			} else if inPad && o.countIncludePad {
				count++
			}
			next(kIdx, geo.kernel)
		}
		next(oIdx, geo.out)
		if len(offs) == 0 {
			continue
		}
		if o.max {
			best := offs[0]
			for _, off := range offs[1:] {
				if x[off] > x[best] {
					best = off
				}
			}
			gx[best] += gy[of]
			continue
		}
		share := gy[of] / float32(count)
		for _, off := range offs {
			gx[off] += share
		}
	}
}

// maxPoolBack2D is MaxPool's gradient over one 2-D plane, visiting only the taps inside
// the image, in the forward's row-major order.
func maxPoolBack2D(x, gy, gx []float32, geo *window) {
	ih, iw := geo.in[0], geo.in[1]
	oh, ow := geo.out[0], geo.out[1]
	kh, kw := geo.kernel[0], geo.kernel[1]
	sh, sw := geo.strides[0], geo.strides[1]
	dh, dw := geo.dilations[0], geo.dilations[1]
	ph, pw := geo.padBegin[0], geo.padBegin[1]
	for oy := 0; oy < oh; oy++ {
		iy0 := oy*sh - ph
		ky0, ky1 := ceilDivPos(-iy0, dh), min(kh, ceilDivPos(ih-iy0, dh))
		for ox := 0; ox < ow; ox++ {
			ix0 := ox*sw - pw
			kx0, kx1 := ceilDivPos(-ix0, dw), min(kw, ceilDivPos(iw-ix0, dw))
			best := -1
			for ky := ky0; ky < ky1; ky++ {
				rowOff := (iy0 + ky*dh) * iw
				for kx := kx0; kx < kx1; kx++ {
					if off := rowOff + ix0 + kx*dw; best < 0 || x[off] > x[best] {
						best = off
					}
				}
			}
			if best >= 0 {
				gx[best] += gy[oy*ow+ox]
			}
		}
	}
}

package grad

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// window places a sliding window over the spatial axes of an image, as Conv and the pools
// define it: output position o and kernel tap k read input position
// o·stride − padBegin + k·dilation, and positions outside [0, in) are padding.
type window struct {
	in, out, kernel, strides, dilations, padBegin, padEnd []int
}

// windowAttrs are a node's window attributes before an input shape fixes them.
type windowAttrs struct {
	kernel, strides, dilations, pads []int
	autoPad                          string
	ceilMode                         bool
}

func parseWindow(n *ir.Node) (windowAttrs, error) {
	w := windowAttrs{
		kernel:    ints(n.AttrInts("kernel_shape", nil)),
		strides:   ints(n.AttrInts("strides", nil)),
		dilations: ints(n.AttrInts("dilations", nil)),
		pads:      ints(n.AttrInts("pads", nil)),
		autoPad:   n.AttrString("auto_pad", "NOTSET"),
		ceilMode:  n.AttrInt("ceil_mode", 0) != 0,
	}
	switch w.autoPad {
	case "", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID":
	default:
		return w, fmt.Errorf("auto_pad %q is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", w.autoPad)
	}
	for _, group := range [][]int{w.kernel, w.strides, w.dilations} {
		for _, v := range group {
			if v <= 0 {
				return w, fmt.Errorf("kernel_shape %v, strides %v and dilations %v must be positive", w.kernel, w.strides, w.dilations)
			}
		}
	}
	return w, nil
}

// resolve fixes the window for spatial input sizes in and kernel sizes k.
func (w *windowAttrs) resolve(in, k []int) (*window, error) {
	nd := len(in)
	if len(k) != nd || (w.strides != nil && len(w.strides) != nd) || (w.dilations != nil && len(w.dilations) != nd) ||
		(w.pads != nil && len(w.pads) != 2*nd) {
		return nil, fmt.Errorf("window attributes (kernel %v, strides %v, dilations %v, pads %v) do not fit %d spatial axes",
			k, w.strides, w.dilations, w.pads, nd)
	}
	r := &window{in: in, kernel: k, out: make([]int, nd), strides: make([]int, nd), dilations: make([]int, nd),
		padBegin: make([]int, nd), padEnd: make([]int, nd)}
	for i := 0; i < nd; i++ {
		s, d := 1, 1
		if w.strides != nil {
			s = w.strides[i]
		}
		if w.dilations != nil {
			d = w.dilations[i]
		}
		r.strides[i], r.dilations[i] = s, d
		ext := (k[i]-1)*d + 1
		switch w.autoPad {
		case "SAME_UPPER", "SAME_LOWER":
			out := (in[i] + s - 1) / s
			total := max(0, (out-1)*s+ext-in[i])
			if w.autoPad == "SAME_UPPER" {
				r.padBegin[i], r.padEnd[i] = total/2, total-total/2
			} else {
				r.padBegin[i], r.padEnd[i] = total-total/2, total/2
			}
			r.out[i] = out
		default:
			if w.pads != nil && w.autoPad != "VALID" {
				r.padBegin[i], r.padEnd[i] = w.pads[i], w.pads[nd+i]
			}
			span := in[i] + r.padBegin[i] + r.padEnd[i] - ext
			switch {
			case span < 0:
				r.out[i] = 0
			case w.ceilMode:
				out := (span+s-1)/s + 1
				// A window that would start inside the end padding is dropped.
				if (out-1)*s >= in[i]+r.padBegin[i] {
					out--
				}
				r.out[i] = out
			default:
				r.out[i] = span/s + 1
			}
		}
	}
	return r, nil
}

// transposed returns the window seen from the output side: the same taps, with the roles
// of input and output positions exchanged. ConvTranspose's forward scatters through
// w.transposed(); its gradient gathers through it.
func (w *window) transposed() *window {
	return &window{in: w.out, out: w.in, kernel: w.kernel, strides: w.strides, dilations: w.dilations,
		padBegin: w.padBegin, padEnd: w.padEnd}
}

// pointwise reports a 1×1 window with unit strides and no padding: its im2col matrix is
// the image itself.
func (w *window) pointwise() bool {
	for i := range w.in {
		if w.kernel[i] != 1 || w.strides[i] != 1 || w.padBegin[i] != 0 || w.out[i] != w.in[i] {
			return false
		}
	}
	return true
}

// im2col writes, for channels images of w.in, one row per (channel, tap) holding the input
// value each output position reads at that tap (0 in the padding).
func im2col(x []float32, channels int, w *window, col []float32) {
	if len(w.in) == 2 {
		im2col2D(x, channels, w, col, prod(w.out), false)
		return
	}
	walkTaps(channels, w, func(row, of, src int) {
		if src < 0 {
			col[row*prod(w.out)+of] = 0
		} else {
			col[row*prod(w.out)+of] = x[src]
		}
	})
}

// col2im is the adjoint of im2col: it adds every entry of col to the input position it
// was read from (x must be zeroed by the caller, or hold what it accumulates onto).
func col2im(col []float32, channels int, w *window, x []float32) {
	if len(w.in) == 2 {
		im2col2D(x, channels, w, col, prod(w.out), true)
		return
	}
	walkTaps(channels, w, func(row, of, src int) {
		if src >= 0 {
			x[src] += col[row*prod(w.out)+of]
		}
	})
}

// walkTaps calls fn for every (channel·tap row, output position) pair with the offset of
// the input element it reads (channel-major), or -1 in the padding.
func walkTaps(channels int, w *window, fn func(row, of, src int)) {
	nd := len(w.in)
	kSize, outSize, inSize := prod(w.kernel), prod(w.out), prod(w.in)
	kIdx, oIdx := make([]int, nd), make([]int, nd)
	for c := 0; c < channels; c++ {
		clear(kIdx)
		for kf := 0; kf < kSize; kf++ {
			row := c*kSize + kf
			clear(oIdx)
			for of := 0; of < outSize; of++ {
				off, ok := 0, true
				for d := 0; d < nd; d++ {
					pos := oIdx[d]*w.strides[d] - w.padBegin[d] + kIdx[d]*w.dilations[d]
					if pos < 0 || pos >= w.in[d] {
						ok = false
						break
					}
					off = off*w.in[d] + pos
				}
				if ok {
					fn(row, of, c*inSize+off)
				} else {
					fn(row, of, -1)
				}
				next(oIdx, w.out)
			}
			next(kIdx, w.kernel)
		}
	}
}

// im2col2D is im2col for two spatial axes, row by row, the rows of col ld elements apart
// (so several images' columns can sit side by side); with back set it runs the adjoint
// (col2im), adding col into x.
func im2col2D(x []float32, channels int, w *window, col []float32, ld int, back bool) {
	ih, iw := w.in[0], w.in[1]
	oh, ow := w.out[0], w.out[1]
	kh, kw := w.kernel[0], w.kernel[1]
	sh, sw := w.strides[0], w.strides[1]
	dh, dw := w.dilations[0], w.dilations[1]
	ph, pw := w.padBegin[0], w.padBegin[1]
	row := 0
	for c := 0; c < channels; c++ {
		xc := x[c*ih*iw : (c+1)*ih*iw]
		for ky := 0; ky < kh; ky++ {
			for kx := 0; kx < kw; kx++ {
				dst := col[row*ld : row*ld+oh*ow]
				row++
				// Output columns [lo, hi) read inside the row: 0 <= ox·sw + ix0 < iw.
				ix0 := kx*dw - pw
				lo := min(ow, ceilDivPos(-ix0, sw))
				hi := max(lo, min(ow, ceilDivPos(iw-ix0, sw)))
				for oy := 0; oy < oh; oy++ {
					d := dst[oy*ow : (oy+1)*ow]
					iy := oy*sh - ph + ky*dh
					if iy < 0 || iy >= ih {
						if !back {
							clear(d)
						}
						continue
					}
					src := xc[iy*iw : (iy+1)*iw]
					if back {
						if sw == 1 {
							axpy(src[lo+ix0:hi+ix0], d[lo:hi], 1)
							continue
						}
						for ox := lo; ox < hi; ox++ {
							src[ox*sw+ix0] += d[ox]
						}
						continue
					}
					clear(d[:lo])
					clear(d[hi:])
					if sw == 1 {
						copy(d[lo:hi], src[lo+ix0:hi+ix0])
						continue
					}
					for ox := lo; ox < hi; ox++ {
						d[ox] = src[ox*sw+ix0]
					}
				}
			}
		}
	}
}

// ceilDivPos returns ceil(a/b) for b > 0, or 0 when a <= 0.
func ceilDivPos(a, b int) int {
	if a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// next advances a row-major multi-index over shape, wrapping to zero after the last.
func next(idx, shape []int) {
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d]++
		if idx[d] < shape[d] {
			return
		}
		idx[d] = 0
	}
}

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

func ints(v []int64) []int {
	if v == nil {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func int64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

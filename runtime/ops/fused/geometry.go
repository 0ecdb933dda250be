package fused

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// window2D holds the attributes that place a 2-D sliding window (Conv and the pools), as
// ONNX defines them; resolve turns them into a geometry for one input size.
type window2D struct {
	kh, kw, sh, sw, dh, dw int
	autoPad                string
	pads                   [4]int // top, left, bottom, right
	ceil                   bool
}

// parseWindow2D reads the window attributes of n; kh and kw come from kernel_shape or,
// when it is absent (Conv), from the caller (the weight's shape).
func parseWindow2D(n *ir.Node, kh, kw int) (window2D, error) {
	w := window2D{kh: kh, kw: kw, sh: 1, sw: 1, dh: 1, dw: 1,
		autoPad: n.AttrString("auto_pad", "NOTSET"), ceil: n.AttrInt("ceil_mode", 0) != 0}
	if w.autoPad == "" {
		w.autoPad = "NOTSET"
	}
	pair := func(name string, a, b *int) error {
		v := n.AttrInts(name, nil)
		if v == nil {
			return nil
		}
		if len(v) != 2 || v[0] <= 0 || v[1] <= 0 {
			return fmt.Errorf("%s %v: want two positive values", name, v)
		}
		*a, *b = int(v[0]), int(v[1])
		return nil
	}
	for _, p := range []struct {
		name string
		a, b *int
	}{{"kernel_shape", &w.kh, &w.kw}, {"strides", &w.sh, &w.sw}, {"dilations", &w.dh, &w.dw}} {
		if err := pair(p.name, p.a, p.b); err != nil {
			return w, err
		}
	}
	if pads := n.AttrInts("pads", nil); pads != nil {
		if len(pads) != 4 {
			return w, fmt.Errorf("pads %v: want 4 values", pads)
		}
		// ONNX orders 2-D pads as begins then ends: top, left, bottom, right.
		for i, p := range pads {
			if p < 0 {
				return w, fmt.Errorf("pads %v must not be negative", pads)
			}
			w.pads[i] = int(p)
		}
	}
	switch w.autoPad {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID":
	default:
		return w, fmt.Errorf("auto_pad %q is not supported", w.autoPad)
	}
	if w.kh <= 0 || w.kw <= 0 {
		return w, fmt.Errorf("kernel shape %dx%d", w.kh, w.kw)
	}
	return w, nil
}

// geo2D is a window resolved for one input size: output size and the padding before and
// after each axis.
type geo2D struct {
	window2D
	ih, iw, oh, ow int
	pt, pl, pb, pr int
}

// resolve places the window on an ih×iw input. A window larger than its padded input is
// an error: ONNX defines no output for it (the size formula goes negative), and an empty
// tensor flowing on would let a classifier end in a plausible but meaningless answer.
func (w window2D) resolve(ih, iw int) (geo2D, error) {
	g := geo2D{window2D: w, ih: ih, iw: iw}
	g.oh, g.pt, g.pb = resolveAxis(w, ih, w.kh, w.sh, w.dh, w.pads[0], w.pads[2])
	g.ow, g.pl, g.pr = resolveAxis(w, iw, w.kw, w.sw, w.dw, w.pads[1], w.pads[3])
	for axis, a := range [2]struct{ in, k, d, pads int }{{ih, w.kh, w.dh, g.pt + g.pb}, {iw, w.kw, w.dw, g.pl + g.pr}} {
		if ext := (a.k-1)*a.d + 1; a.in+a.pads < ext && w.autoPad != "SAME_UPPER" && w.autoPad != "SAME_LOWER" {
			what := fmt.Sprintf("kernel %d", a.k)
			if a.d != 1 {
				what = fmt.Sprintf("kernel %d with dilation %d spans %d", a.k, a.d, ext)
			}
			return g, fmt.Errorf("spatial axis %d: the input has size %d (%d with padding), smaller than the window (%s): the output would be empty",
				axis, a.in, a.in+a.pads, what)
		}
	}
	return g, nil
}

func resolveAxis(w window2D, in, k, s, d, padBegin, padEnd int) (out, begin, end int) {
	ext := (k-1)*d + 1
	switch w.autoPad {
	case "SAME_UPPER", "SAME_LOWER":
		out = (in + s - 1) / s
		total := max(0, (out-1)*s+ext-in)
		small := total / 2
		if w.autoPad == "SAME_UPPER" {
			return out, small, total - small
		}
		return out, total - small, small
	case "VALID":
		if in < ext {
			return 0, 0, 0
		}
		if w.ceil {
			return (in-ext+s-1)/s + 1, 0, 0
		}
		return (in-ext)/s + 1, 0, 0
	}
	span := in + padBegin + padEnd - ext
	if span < 0 {
		return 0, padBegin, padEnd
	}
	if w.ceil {
		out = (span+s-1)/s + 1
		if (out-1)*s >= in+padBegin { // a window may not start inside the end padding
			out--
		}
		return out, padBegin, padEnd
	}
	return span/s + 1, padBegin, padEnd
}

// paddedSize returns the rows (or columns) a padded copy of the input needs so that every
// window of the output lies inside it.
func paddedSize(in, out, k, s, d, begin int) int {
	return max(in+begin, (out-1)*s+(k-1)*d+1)
}

package nn

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// windowAttrs are the attributes that place a sliding window (Conv, ConvTranspose and the
// pools): per-spatial-axis kernel size, strides, dilations and explicit pads, and auto_pad.
type windowAttrs struct {
	kernel    []int // nil when taken from the weight shape
	strides   []int
	dilations []int
	pads      []int // begins then ends; nil when absent
	autoPad   string
	ceilMode  bool
}

func parseWindowAttrs(n *ir.Node) (windowAttrs, error) {
	w := windowAttrs{
		kernel:    toInts(n.AttrInts("kernel_shape", nil)),
		strides:   toInts(n.AttrInts("strides", nil)),
		dilations: toInts(n.AttrInts("dilations", nil)),
		pads:      toInts(n.AttrInts("pads", nil)),
		autoPad:   n.AttrString("auto_pad", "NOTSET"),
		ceilMode:  n.AttrInt("ceil_mode", 0) != 0,
	}
	switch w.autoPad {
	case "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID":
	case "":
		w.autoPad = "NOTSET"
	default:
		return w, fmt.Errorf("auto_pad %q is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", w.autoPad)
	}
	for _, s := range w.strides {
		if s <= 0 {
			return w, fmt.Errorf("strides %v must be positive", w.strides)
		}
	}
	for _, d := range w.dilations {
		if d <= 0 {
			return w, fmt.Errorf("dilations %v must be positive", w.dilations)
		}
	}
	for _, k := range w.kernel {
		if k <= 0 || k > maxWindow {
			return w, fmt.Errorf("kernel_shape %v must be positive and at most %d", w.kernel, maxWindow)
		}
	}
	for _, v := range [][]int{w.strides, w.dilations, w.pads} {
		for _, x := range v {
			if x < 0 || x > maxWindow {
				return w, fmt.Errorf("strides %v, dilations %v and pads %v must be in [0, %d]", w.strides, w.dilations, w.pads, maxWindow)
			}
		}
	}
	return w, nil
}

func toInts(v []int64) []int {
	if v == nil {
		return nil
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// maxWindow bounds kernel sizes, strides, dilations and pads, so that window arithmetic
// ((k-1)*d+1, in+pads) cannot overflow; real models stay in the thousands.
const maxWindow = 1 << 30

// window is a window geometry resolved for one input shape.
type window struct {
	in, out, kernel, strides, dilations, padBegin, padEnd []int
}

// resolve computes output sizes and pads for spatial input sizes in and kernel sizes k.
func (w *windowAttrs) resolve(in, k []int) (*window, error) {
	nd := len(in)
	r := &window{in: in, kernel: k, out: make([]int, nd), strides: make([]int, nd), dilations: make([]int, nd),
		padBegin: make([]int, nd), padEnd: make([]int, nd)}
	if len(k) != nd {
		return nil, fmt.Errorf("kernel has %d spatial axes, input %d", len(k), nd)
	}
	for _, attr := range []struct {
		name string
		v    []int
		want int
	}{{"strides", w.strides, nd}, {"dilations", w.dilations, nd}, {"pads", w.pads, 2 * nd}} {
		if attr.v != nil && len(attr.v) != attr.want {
			return nil, fmt.Errorf("%s %v: want %d values for %d spatial axes", attr.name, attr.v, attr.want, nd)
		}
	}
	for i := 0; i < nd; i++ {
		if k[i] <= 0 || k[i] > maxWindow {
			return nil, fmt.Errorf("kernel size %v must be in [1, %d]", k, maxWindow)
		}
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
			small := total / 2
			if w.autoPad == "SAME_UPPER" {
				r.padBegin[i], r.padEnd[i] = small, total-small
			} else {
				r.padBegin[i], r.padEnd[i] = total-small, small
			}
			r.out[i] = out
		case "VALID":
			if in[i] < ext {
				return nil, emptyWindowError(i, in[i], 0, k[i], d)
			}
			r.out[i] = (in[i]-ext)/s + 1
			if w.ceilMode {
				r.out[i] = ceilDiv(in[i]-ext, s) + 1
			}
		default:
			if w.pads != nil {
				r.padBegin[i], r.padEnd[i] = w.pads[i], w.pads[nd+i]
			}
			span := in[i] + r.padBegin[i] + r.padEnd[i] - ext
			if span < 0 {
				return nil, emptyWindowError(i, in[i], r.padBegin[i]+r.padEnd[i], k[i], d)
			}
			if w.ceilMode {
				out := ceilDiv(span, s) + 1
				// A window that would start inside the end padding is dropped.
				if (out-1)*s >= in[i]+r.padBegin[i] {
					out--
				}
				r.out[i] = out
			} else {
				r.out[i] = span/s + 1
			}
		}
		if r.out[i] < 0 {
			r.out[i] = 0
		}
	}
	return r, nil
}

// emptyWindowError reports a window larger than its padded input. ONNX defines no output
// for it (the size formula goes negative); producing an empty tensor instead lets a
// classifier end in a plausible but meaningless answer, so it is an error.
func emptyWindowError(axis, in, pads, k, d int) error {
	ext := (k-1)*d + 1
	what := fmt.Sprintf("kernel %d", k)
	if d != 1 {
		what = fmt.Sprintf("kernel %d with dilation %d spans %d", k, d, ext)
	}
	return fmt.Errorf("spatial axis %d: the input has size %d (%d with padding), smaller than the window (%s): the output would be empty", axis, in, in+pads, what)
}

func ceilDiv(a, b int) int {
	if a >= 0 {
		return (a + b - 1) / b
	}
	return -((-a) / b)
}

// odometer steps through the multi-indices of a shape in row-major order.
type odometer struct {
	shape []int
	idx   []int
}

func newOdometer(shape []int) *odometer {
	return &odometer{shape: shape, idx: make([]int, len(shape))}
}

// next advances to the following index; it returns false after the last one.
func (o *odometer) next() bool {
	for d := len(o.shape) - 1; d >= 0; d-- {
		o.idx[d]++
		if o.idx[d] < o.shape[d] {
			return true
		}
		o.idx[d] = 0
	}
	return false
}

func (o *odometer) reset() { clear(o.idx) }

func shapeInts(s []int64) []int { return toInts(s) }

func prodInts(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

func toInt64s(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

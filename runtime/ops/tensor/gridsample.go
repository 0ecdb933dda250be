package tensor

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

// GridSample follows the ONNX reference implementation (op_grid_sample.py) for any number
// of spatial dimensions: each output point's normalized grid coordinates are denormalized,
// adjusted by the padding mode, and interpolated separably (nearest, linear or cubic taps
// per axis, with out-of-range taps read through the padding mode).

type gridSampler struct {
	mode         resizeMode
	padding      string
	alignCorners bool
}

func newGridSample(info *kernel.NodeInfo) (kernel.Kernel, error) {
	g := &gridSampler{
		padding:      info.Node.AttrString("padding_mode", "zeros"),
		alignCorners: info.Node.AttrInt("align_corners", 0) != 0,
	}
	def := "linear"
	if info.Opset < 20 {
		def = "bilinear"
	}
	switch m := info.Node.AttrString("mode", def); m {
	case "nearest":
		g.mode = resizeNearest
	case "linear", "bilinear":
		g.mode = resizeLinear
	case "cubic", "bicubic":
		g.mode = resizeCubic
	default:
		return nil, fmt.Errorf("%s: mode %q is not supported", describe(info), m)
	}
	switch g.padding {
	case "zeros", "border", "reflection":
	default:
		return nil, fmt.Errorf("%s: padding_mode %q is not supported", describe(info), g.padding)
	}
	return kfunc(describe(info), g.run), nil
}

func (g *gridSampler) run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x, err := need(in, 0, "X")
	if err != nil {
		return nil, err
	}
	gt, err := need(in, 1, "grid")
	if err != nil {
		return nil, err
	}
	r := len(x.Shape) - 2
	if r < 1 || len(gt.Shape) != r+2 || gt.Shape[0] != x.Shape[0] || gt.Shape[r+1] != int64(r) {
		return nil, fmt.Errorf("grid %v does not match input %v", gt.Shape, x.Shape)
	}
	n, c := int(x.Shape[0]), int(x.Shape[1])
	dims := ints(x.Shape[2:])
	outSpatial := gt.Shape[1 : r+1]
	outShape := append([]int64{int64(n), int64(c)}, outSpatial...)
	out := alloc(ctx, x.DType, outShape)
	if kernel.ShapeSize(outShape) == 0 {
		return []*kernel.Tensor{out}, nil
	}
	data, err := kernel.Float64sOf(x)
	if err != nil {
		return nil, err
	}
	grid, err := kernel.Float64sOf(gt)
	if err != nil {
		return nil, err
	}
	lo, hi := make([]float64, r), make([]float64, r)
	for k, d := range dims {
		if g.alignCorners {
			lo[k], hi[k] = 0, float64(d-1)
		} else {
			lo[k], hi[k] = -0.5, float64(d)-0.5
		}
	}
	points := kernel.ShapeSize(outSpatial)
	plane := kernel.ShapeSize(x.Shape[2:])
	st := stridesOf(x.Shape[2:])
	res, err := kernel.MakeScratch[float64](kernel.ShapeSize(outShape))
	if err != nil {
		return nil, err
	}
	taps := make([][]int, r) // per axis: source index, or -1 for a zero pixel
	ws := make([][]float64, r)
	for b := 0; b < n; b++ {
		for p := 0; p < points; p++ {
			coords := grid[(b*points+p)*r : (b*points+p+1)*r]
			for k := 0; k < r; k++ {
				// The grid lists coordinates innermost axis first (x, y, z).
				v := coords[r-1-k]
				d := float64(dims[k])
				var xk float64
				if g.alignCorners {
					xk = (v + 1) / 2 * (d - 1)
				} else {
					xk = ((v+1)*d - 1) / 2
				}
				xk = float64(float32(xk))
				if g.mode == resizeNearest {
					xk = math.RoundToEven(xk)
				}
				if xk < lo[k] || xk > hi[k] {
					switch g.padding {
					case "border":
						xk = max(0, min(xk, d-1))
					case "reflection":
						xk = reflectInto(xk, lo[k], hi[k])
					}
				}
				taps[k], ws[k] = g.axisTaps(xk, dims[k], lo[k], hi[k])
			}
			for ch := 0; ch < c; ch++ {
				src := data[(b*c+ch)*plane : (b*c+ch+1)*plane]
				res[(b*c+ch)*points+p] = sumTaps(src, st, taps, ws, 0, 0, 1)
			}
		}
	}
	if err := storeFloat64s(out.Data, x.DType, res); err != nil {
		return nil, err
	}
	return []*kernel.Tensor{out}, nil
}

// sumTaps adds up Π w · pixel over the cartesian product of the per-axis taps.
func sumTaps(src []float64, st []int, taps [][]int, ws [][]float64, k, off int, w float64) float64 {
	if k == len(taps) {
		return w * src[off]
	}
	s := 0.0
	for t, i := range taps[k] {
		if i < 0 || ws[k][t] == 0 {
			continue
		}
		s += sumTaps(src, st, taps, ws, k+1, off+i*st[k], w*ws[k][t])
	}
	return s
}

// axisTaps lists the source pixels (after padding) and weights that coordinate xk reads.
func (g *gridSampler) axisTaps(xk float64, dim int, lo, hi float64) ([]int, []float64) {
	var first int
	var w []float64
	switch g.mode {
	case resizeNearest:
		first, w = int(xk), []float64{1}
	case resizeLinear:
		x0 := math.Floor(xk)
		t := xk - x0
		first, w = int(x0), []float64{1 - t, t}
	default:
		x0 := math.Floor(xk)
		t := xk - x0
		const a = -0.75
		first = int(x0) - 1
		w = []float64{
			((a*(t+1)-5*a)*(t+1)+8*a)*(t+1) - 4*a,
			((a+2)*t-(a+3))*t*t + 1,
			((a+2)*(1-t)-(a+3))*(1-t)*(1-t) + 1,
			((a*(2-t)-5*a)*(2-t)+8*a)*(2-t) - 4*a,
		}
	}
	idx := make([]int, len(w))
	for t := range idx {
		idx[t] = g.pixel(first+t, dim, lo, hi)
	}
	return idx, w
}

// pixel maps a source index through the padding mode: -1 means a zero pixel.
func (g *gridSampler) pixel(i, dim int, lo, hi float64) int {
	if i >= 0 && i < dim {
		return i
	}
	switch g.padding {
	case "border":
		return max(0, min(i, dim-1))
	case "reflection":
		return max(0, min(int(reflectInto(float64(i), lo, hi)), dim-1))
	}
	return -1
}

// reflectInto folds x into [lo, hi] by reflecting at the nearer border repeatedly.
func reflectInto(x, lo, hi float64) float64 {
	rng := hi - lo
	if rng <= 0 {
		return lo
	}
	switch {
	case x < lo:
		dx := lo - x
		n := int(dx / rng)
		r := dx - float64(n)*rng
		if n%2 == 0 {
			return lo + r
		}
		return hi - r
	case x > hi:
		dx := x - hi
		n := int(dx / rng)
		r := dx - float64(n)*rng
		if n%2 == 0 {
			return hi - r
		}
		return lo + r
	}
	return x
}

package misc

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		// RoiAlign-10 has no coordinate_transformation_mode: it behaves as output_half_pixel.
		kernel.KernelDef{Op: "RoiAlign", SinceVersion: 10, EndVersion: 15, Types: floatTypes,
			New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newRoiAlign(info, "output_half_pixel") }},
		kernel.KernelDef{Op: "RoiAlign", SinceVersion: 16, Types: floatTypes,
			New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newRoiAlign(info, "half_pixel") }},
	)
}

type roiAlign struct {
	node          *ir.Node
	max           bool
	halfPixel     bool
	outH, outW    int
	samplingRatio int
	spatialScale  float64
}

func newRoiAlign(info *kernel.NodeInfo, defaultMode string) (kernel.Kernel, error) {
	n := info.Node
	k := &roiAlign{
		node:          n,
		outH:          int(n.AttrInt("output_height", 1)),
		outW:          int(n.AttrInt("output_width", 1)),
		samplingRatio: int(n.AttrInt("sampling_ratio", 0)),
		spatialScale:  float64(n.AttrFloat("spatial_scale", 1)),
	}
	switch m := n.AttrString("mode", "avg"); m {
	case "avg":
	case "max":
		k.max = true
	default:
		return nil, fmt.Errorf("%s: mode %q is not avg or max", n.Describe(), m)
	}
	mode := defaultMode
	if info.Opset >= 16 {
		mode = n.AttrString("coordinate_transformation_mode", defaultMode)
	}
	switch mode {
	case "half_pixel":
		k.halfPixel = true
	case "output_half_pixel":
	default:
		return nil, fmt.Errorf("%s: coordinate_transformation_mode %q is not half_pixel or output_half_pixel", n.Describe(), mode)
	}
	if k.outH < 1 || k.outW < 1 || k.samplingRatio < 0 {
		return nil, fmt.Errorf("%s: output_height %d, output_width %d must be positive and sampling_ratio %d non-negative",
			n.Describe(), k.outH, k.outW, k.samplingRatio)
	}
	return kfunc(n, k.run), nil
}

// tap is one bilinear sample: four plane offsets and their weights.
type tap struct {
	pos [4]int
	w   [4]float64
}

// run follows the ONNX reference (and ONNX Runtime) exactly, including two details that
// change results: samples more than one pixel outside the map are zero, and "max" mode
// takes the maximum of the weighted corner values rather than of the interpolated values.
func (k *roiAlign) run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x, roisT, idxT := kernel.Input(in, 0), kernel.Input(in, 1), kernel.Input(in, 2)
	if x == nil || roisT == nil || idxT == nil {
		return nil, fmt.Errorf("inputs X, rois and batch_indices are required")
	}
	if len(x.Shape) != 4 {
		return nil, fmt.Errorf("X shape %v must be (N, C, H, W)", x.Shape)
	}
	nRois := int(idxT.NumElements())
	if len(roisT.Shape) != 2 || roisT.Shape[1] != 4 || int(roisT.Shape[0]) != nRois {
		return nil, fmt.Errorf("rois shape %v, want [%d 4]", roisT.Shape, nRois)
	}
	batchIdx, err := kernel.Int64sOf(idxT)
	if err != nil {
		return nil, fmt.Errorf("batch_indices: %w", err)
	}
	xs, err := kernel.FloatsOf(x)
	if err != nil {
		return nil, fmt.Errorf("X: %w", err)
	}
	rois, err := kernel.FloatsOf(roisT)
	if err != nil {
		return nil, fmt.Errorf("rois: %w", err)
	}
	nb, channels, height, width := int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2]), int(x.Shape[3])
	if (height == 0 || width == 0) && nRois > 0 && channels > 0 {
		return nil, fmt.Errorf("X shape %v has an empty feature map", x.Shape)
	}
	// output_height/width are attributes: weigh the output against the memory budget.
	count, err := ir.NumElements([]int64{int64(nRois), int64(channels), int64(k.outH), int64(k.outW)})
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	res, err := kernel.MakeScratch[float64](int(count))
	if err != nil {
		return nil, err
	}
	if count == 0 {
		// Nothing to sample; with no channels the output size would bound nothing below
		// (output_height·output_width may be anything).
		shape := []int64{int64(nRois), int64(channels), int64(k.outH), int64(k.outW)}
		return kernel.Single(kernel.FromFloat64s(ctx, x.DType, shape, res))
	}
	offset := 0.0
	if k.halfPixel {
		offset = 0.5
	}
	for r := 0; r < nRois; r++ {
		b := batchIdx[r]
		if b < 0 || b >= int64(nb) {
			return nil, fmt.Errorf("batch index %d of roi %d is outside [0, %d)", b, r, nb)
		}
		startW := rois[r*4]*k.spatialScale - offset
		startH := rois[r*4+1]*k.spatialScale - offset
		endW := rois[r*4+2]*k.spatialScale - offset
		endH := rois[r*4+3]*k.spatialScale - offset
		roiW, roiH := endW-startW, endH-startH
		if !k.halfPixel {
			// Malformed rois are forced to 1×1.
			roiW, roiH = math.Max(roiW, 1), math.Max(roiH, 1)
		}
		binH, binW := roiH/float64(k.outH), roiW/float64(k.outW)
		gridH, gridW := k.samplingRatio, k.samplingRatio
		if k.samplingRatio == 0 {
			gridH, gridW = int(math.Ceil(roiH/float64(k.outH))), int(math.Ceil(roiW/float64(k.outW)))
		}
		// Each factor is bounded first: two of 2^40 multiply to 0 in int and would pass.
		if gridH < 0 || gridW < 0 || gridH > 1<<24 || gridW > 1<<24 || gridH*gridW > 1<<24 {
			return nil, fmt.Errorf("roi %d %v gives a sampling grid of %d×%d", r, rois[r*4:r*4+4], gridH, gridW)
		}
		count := float64(max(gridH*gridW, 1))
		// The sample taps are shared by every channel.
		taps, err := kernel.MakeScratch[tap](k.outH * k.outW * gridH * gridW)
		if err != nil {
			return nil, err
		}
		taps = taps[:0]
		for ph := 0; ph < k.outH; ph++ {
			for pw := 0; pw < k.outW; pw++ {
				for iy := 0; iy < gridH; iy++ {
					y := startH + float64(ph)*binH + (float64(iy)+0.5)*binH/float64(gridH)
					for ix := 0; ix < gridW; ix++ {
						xx := startW + float64(pw)*binW + (float64(ix)+0.5)*binW/float64(gridW)
						taps = append(taps, bilinearTap(y, xx, height, width))
					}
				}
			}
		}
		per := gridH * gridW
		for c := 0; c < channels; c++ {
			plane := xs[(int(b)*channels+c)*height*width : (int(b)*channels+c+1)*height*width]
			out := res[(r*channels+c)*k.outH*k.outW:]
			for bin := 0; bin < k.outH*k.outW; bin++ {
				var v float64
				for i, t := range taps[bin*per : (bin+1)*per] {
					if k.max {
						m := t.w[0] * plane[t.pos[0]]
						for j := 1; j < 4; j++ {
							m = math.Max(m, t.w[j]*plane[t.pos[j]])
						}
						if i == 0 || m > v {
							v = m
						}
						continue
					}
					v += t.w[0]*plane[t.pos[0]] + t.w[1]*plane[t.pos[1]] + t.w[2]*plane[t.pos[2]] + t.w[3]*plane[t.pos[3]]
				}
				if !k.max {
					v /= count
				}
				out[bin] = v
			}
		}
	}
	shape := []int64{int64(nRois), int64(channels), int64(k.outH), int64(k.outW)}
	return kernel.Single(kernel.FromFloat64s(ctx, x.DType, shape, res))
}

// bilinearTap computes the corners and weights of a sample at (y, x), clamping positions
// within one pixel of the map to its edge; farther samples get zero weights.
func bilinearTap(y, x float64, height, width int) tap {
	if y < -1 || y > float64(height) || x < -1 || x > float64(width) || math.IsNaN(x) || math.IsNaN(y) {
		return tap{}
	}
	y, x = math.Max(y, 0), math.Max(x, 0)
	yLow, xLow := int(y), int(x)
	var yHigh, xHigh int
	if yLow >= height-1 {
		yLow, yHigh = height-1, height-1
		y = float64(yLow)
	} else {
		yHigh = yLow + 1
	}
	if xLow >= width-1 {
		xLow, xHigh = width-1, width-1
		x = float64(xLow)
	} else {
		xHigh = xLow + 1
	}
	ly, lx := y-float64(yLow), x-float64(xLow)
	hy, hx := 1-ly, 1-lx
	return tap{
		pos: [4]int{yLow*width + xLow, yLow*width + xHigh, yHigh*width + xLow, yHigh*width + xHigh},
		w:   [4]float64{hy * hx, hy * lx, ly * hx, ly * lx},
	}
}

package misc

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "AffineGrid", SinceVersion: 20, Types: floatTypes, New: newAffineGrid})
}

// newAffineGrid applies each batch's affine matrix theta to a regular grid of normalized
// positions in [-1, 1]: (x, y[, z], 1) with x along the last (width) axis. With
// align_corners the positions are the pixel centres -1 + 2i/(n-1); without, they are the
// centres of n equal cells, (2i+1)/n - 1 (so a one-pixel axis sits at 0).
func newAffineGrid(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	align := n.AttrInt("align_corners", 0) != 0
	return kfunc(n, func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		theta, sizeT := kernel.Input(in, 0), kernel.Input(in, 1)
		if theta == nil || sizeT == nil {
			return nil, fmt.Errorf("inputs theta and size are required")
		}
		size, err := kernel.Int64sOf(sizeT)
		if err != nil {
			return nil, fmt.Errorf("size: %w", err)
		}
		if len(size) != 4 && len(size) != 5 {
			return nil, fmt.Errorf("size %v must be (N, C, H, W) or (N, C, D, H, W)", size)
		}
		dims := len(size) - 2 // 2 or 3 spatial dimensions
		batch := size[0]
		if len(theta.Shape) != 3 || theta.Shape[0] != batch || theta.Shape[1] != int64(dims) || theta.Shape[2] != int64(dims+1) {
			return nil, fmt.Errorf("theta shape %v, want [%d %d %d]", theta.Shape, batch, dims, dims+1)
		}
		spatial := size[2:]
		outShape := append([]int64{batch}, spatial...)
		outShape = append(outShape, int64(dims))
		for _, d := range outShape {
			if d < 0 {
				return nil, fmt.Errorf("size %v has a negative dimension", size)
			}
		}
		// size is data: an overflowing or huge count is refused, and with an empty batch the
		// spatial sizes may be anything, so nothing is sized from them before the output
		// is known to be non-empty.
		count, err := ir.NumElements(outShape)
		if err != nil || count > maxElements {
			return nil, fmt.Errorf("output shape %v is too large", outShape)
		}
		res, err := kernel.MakeScratch[float64](int(count))
		if err != nil {
			return nil, err
		}
		if count == 0 {
			return kernel.Single(kernel.FromFloat64s(ctx, theta.DType, outShape, res))
		}
		th, err := kernel.FloatsOf(theta)
		if err != nil {
			return nil, fmt.Errorf("theta: %w", err)
		}
		// coords[a] are the normalized positions along spatial axis a (outermost first).
		coords := make([][]float64, dims)
		for a, n := range spatial {
			if coords[a], err = kernel.MakeScratch[float64](int(n)); err != nil {
				return nil, err
			}
			for i := range coords[a] {
				switch {
				case !align:
					coords[a][i] = (2*float64(i)+1)/float64(n) - 1
				case n > 1:
					coords[a][i] = -1 + 2*float64(i)/float64(n-1)
				default:
					coords[a][i] = -1
				}
			}
		}
		points := kernel.ShapeSize(spatial)
		pos := make([]float64, dims+1) // (x, y[, z], 1)
		idx := make([]int, dims)
		for b := 0; b < int(batch); b++ {
			t := th[b*dims*(dims+1) : (b+1)*dims*(dims+1)]
			clear(idx)
			for p := 0; p < points; p++ {
				for a := 0; a < dims; a++ {
					// Spatial axis a (outermost first) is coordinate dims-1-a: x is the last axis.
					pos[dims-1-a] = coords[a][idx[a]]
				}
				pos[dims] = 1
				for row := 0; row < dims; row++ {
					var s float64
					for c := 0; c <= dims; c++ {
						s += t[row*(dims+1)+c] * pos[c]
					}
					res[(b*points+p)*dims+row] = s
				}
				for a := dims - 1; a >= 0; a-- {
					if idx[a]++; idx[a] < int(spatial[a]) {
						break
					}
					idx[a] = 0
				}
			}
		}
		return kernel.Single(kernel.FromFloat64s(ctx, theta.DType, outShape, res))
	}), nil
}

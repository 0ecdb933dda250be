package misc

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "Col2Im", SinceVersion: 18, New: newCol2Im})
}

// newCol2Im sums column blocks back into an image (torch.nn.Fold): column entry
// (c·prod(block) + k, l) lands on image position l_i·stride_i − pad_begin_i + k_i·dilation_i
// along each spatial axis i, where l and k are the block index and the offset inside the
// block, both unravelled row-major; positions in the padding are dropped.
func newCol2Im(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	return kfunc(n, func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x, imgT, blockT := kernel.Input(in, 0), kernel.Input(in, 1), kernel.Input(in, 2)
		if x == nil || imgT == nil || blockT == nil {
			return nil, fmt.Errorf("inputs input, image_shape and block_shape are required")
		}
		image, err := kernel.Int64sOf(imgT)
		if err != nil {
			return nil, fmt.Errorf("image_shape: %w", err)
		}
		block, err := kernel.Int64sOf(blockT)
		if err != nil {
			return nil, fmt.Errorf("block_shape: %w", err)
		}
		rank := len(image)
		if rank == 0 || len(block) != rank {
			return nil, fmt.Errorf("image_shape %v and block_shape %v must be non-empty and of equal length", image, block)
		}
		dil, strides, pads, err := windowAttrs(n, rank)
		if err != nil {
			return nil, err
		}
		if len(x.Shape) != 3 {
			return nil, fmt.Errorf("input shape %v must be [N, C·prod(block_shape), L]", x.Shape)
		}
		// block_shape and image_shape are data: their products must not wrap (a block size
		// that wrapped to 0 would divide by zero below, a smaller one mis-size the tables).
		if n, err := ir.NumElements(block); err != nil || n > maxElements {
			return nil, fmt.Errorf("block_shape %v is too large", block)
		}
		blockSize := 1
		blocks := make([]int64, rank) // number of block positions along each axis
		for i := 0; i < rank; i++ {
			if image[i] < 1 || block[i] < 1 || dil[i] < 1 || strides[i] < 1 {
				return nil, fmt.Errorf("image_shape %v, block_shape %v, dilations %v and strides %v must be positive", image, block, dil, strides)
			}
			blockSize *= int(block[i])
			span := dil[i]*(block[i]-1) + 1
			blocks[i] = (image[i]+pads[i]+pads[rank+i]-span)/strides[i] + 1
			if blocks[i] < 1 {
				return nil, fmt.Errorf("block %v (dilated) does not fit image %v with pads %v", block, image, pads)
			}
		}
		nb, cols, l := int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2])
		if cols%blockSize != 0 {
			return nil, fmt.Errorf("input dimension 1 (%d) is not a multiple of the block size %d", cols, blockSize)
		}
		if l != kernel.ShapeSize(blocks) {
			return nil, fmt.Errorf("input has %d blocks, want %d (%v) for these shapes", l, kernel.ShapeSize(blocks), blocks)
		}
		channels := cols / blockSize
		imgSize := kernel.ShapeSize(image)
		outShape := append([]int64{int64(nb), int64(channels)}, image...)
		if n, err := ir.NumElements(outShape); err != nil || n > maxElements {
			return nil, fmt.Errorf("output shape %v is too large", outShape)
		}
		// target[k*l + j] is the image offset that block offset k of block j lands on, or -1.
		target, err := kernel.MakeScratchShaped[int]([]int64{int64(blockSize), int64(l)})
		if err != nil {
			return nil, err
		}
		kIdx, bIdx := make([]int64, rank), make([]int64, rank)
		for k := 0; k < blockSize; k++ {
			unravel(k, block, kIdx)
			for j := 0; j < l; j++ {
				unravel(j, blocks, bIdx)
				off := 0
				for i := 0; i < rank; i++ {
					p := bIdx[i]*strides[i] - pads[i] + kIdx[i]*dil[i]
					if p < 0 || p >= image[i] {
						off = -1
						break
					}
					off = off*int(image[i]) + int(p)
				}
				target[k*l+j] = off
			}
		}
		planes := nb * channels
		if isFloat(x.DType) {
			v, err := kernel.FloatsOf(x)
			if err != nil {
				return nil, err
			}
			res, err := kernel.MakeScratchShaped[float64]([]int64{int64(planes), int64(imgSize)})
			if err != nil {
				return nil, err
			}
			fold(v, res, target, planes, blockSize*l, imgSize)
			return kernel.Single(kernel.FromFloat64s(ctx, x.DType, outShape, res))
		}
		out := ctx.AllocZeroed(x.DType, outShape...)
		switch d := x.Data.(type) {
		case []int8:
			fold(d, out.Data.([]int8), target, planes, blockSize*l, imgSize)
		case []int16:
			fold(d, out.Data.([]int16), target, planes, blockSize*l, imgSize)
		case []int32:
			fold(d, out.Data.([]int32), target, planes, blockSize*l, imgSize)
		case []int64:
			fold(d, out.Data.([]int64), target, planes, blockSize*l, imgSize)
		case []uint8:
			if x.DType != ir.Uint8 {
				return nil, fmt.Errorf("element type %s is not supported", x.DType)
			}
			fold(d, out.Data.([]uint8), target, planes, blockSize*l, imgSize)
		case []uint16:
			fold(d, out.Data.([]uint16), target, planes, blockSize*l, imgSize)
		case []uint32:
			fold(d, out.Data.([]uint32), target, planes, blockSize*l, imgSize)
		case []uint64:
			fold(d, out.Data.([]uint64), target, planes, blockSize*l, imgSize)
		case []complex64:
			fold(d, out.Data.([]complex64), target, planes, blockSize*l, imgSize)
		case []complex128:
			fold(d, out.Data.([]complex128), target, planes, blockSize*l, imgSize)
		default:
			return nil, fmt.Errorf("element type %s is not supported", x.DType)
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

// fold adds each plane's column entries into its image at the precomputed targets.
func fold[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float64 | complex64 | complex128](x, y []T, target []int, planes, colSize, imgSize int) {
	for p := 0; p < planes; p++ {
		src, dst := x[p*colSize:(p+1)*colSize], y[p*imgSize:(p+1)*imgSize]
		for i, t := range target {
			if t >= 0 {
				dst[t] += src[i]
			}
		}
	}
}

// unravel writes the row-major multi-index of flat offset i in shape into idx.
func unravel(i int, shape, idx []int64) {
	for a := len(shape) - 1; a >= 0; a-- {
		idx[a] = int64(i) % shape[a]
		i /= int(shape[a])
	}
}

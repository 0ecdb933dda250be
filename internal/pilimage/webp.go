package pilimage

import "image"

// webpToRGB converts a lossy WebP's 4:2:0 YUV planes to RGB as libwebp does by default:
// "fancy" upsampling of the chroma (each output sample weighs its four nearest chroma
// samples 9:3:3:1) and libwebp's 14-bit fixed-point BT.601 conversion. x/image's decoder
// only returns the planes; converting them its way would differ by up to ~20 levels.
func webpToRGB(img *image.YCbCr) (w, h int, rgb []uint8, err error) {
	b := img.Rect
	w, h = b.Dx(), b.Dy()
	cw, ch := (w+1)/2, (h+1)/2
	row := func(plane []uint8, y int) []int {
		out := make([]int, cw)
		for x := range out {
			out[x] = int(plane[y*img.CStride+x])
		}
		return out
	}
	rgb = make([]uint8, 3*w*h)
	for y := 0; y < h; y++ {
		// The chroma row nearest to output row y, and the one on its other side.
		var near, far int
		switch {
		case y == 0:
		case y%2 == 1:
			near, far = (y-1)/2, min((y+1)/2, ch-1)
		default:
			near, far = y/2, y/2-1
		}
		u := upsampleRowWebP(row(img.Cb, near), row(img.Cb, far), w)
		v := upsampleRowWebP(row(img.Cr, near), row(img.Cr, far), w)
		for x := 0; x < w; x++ {
			yy := int(img.Y[y*img.YStride+x])
			i := 3 * (y*w + x)
			rgb[i] = webpClip(multHi(yy, 19077) + multHi(v[x], 26149) - 14234)
			rgb[i+1] = webpClip(multHi(yy, 19077) - multHi(u[x], 6419) - multHi(v[x], 13320) + 8708)
			rgb[i+2] = webpClip(multHi(yy, 19077) + multHi(u[x], 33050) - 17685)
		}
	}
	return w, h, rgb, nil
}

// upsampleRowWebP doubles a chroma row to width w, given the nearest chroma row and the
// one beyond it (libwebp's UpsampleRgbLinePair, one row at a time).
func upsampleRowWebP(near, far []int, w int) []int {
	out := make([]int, w)
	out[0] = (3*near[0] + far[0] + 2) >> 2
	last := (w - 1) >> 1
	for x := 1; x <= last; x++ {
		avg := near[x-1] + near[x] + far[x-1] + far[x] + 8
		out[2*x-1] = ((avg+2*(near[x]+far[x-1]))>>3 + near[x-1]) >> 1
		out[2*x] = ((avg+2*(near[x-1]+far[x]))>>3 + near[x]) >> 1
	}
	if w%2 == 0 {
		out[w-1] = (3*near[last] + far[last] + 2) >> 2
	}
	return out
}

func multHi(v, coeff int) int { return (v * coeff) >> 8 }

// webpClip is VP8Clip8: the value has 6 fractional bits.
func webpClip(v int) uint8 {
	if v&^(256<<6-1) == 0 {
		return uint8(v >> 6)
	}
	if v < 0 {
		return 0
	}
	return 255
}

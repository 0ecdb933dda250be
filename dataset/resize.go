package dataset

import "math"

// This file is PIL's Image.resize for 8-bit RGB (Pillow's libImaging/Resample.c), which
// torchvision's Resize calls on PIL images. Following it step by step — coefficients
// computed in float64 then rounded to 22-bit fixed point, a horizontal pass whose result is
// clipped to 8 bits, then a vertical pass — gives the same bytes as Pillow, so a model
// sees the pixels it was trained on.

// pilPrecisionBits is PRECISION_BITS in Resample.c: 32 - 8 bits of sample - 2 of headroom.
const pilPrecisionBits = 32 - 8 - 2

type resampleFilter struct {
	support float64
	weight  func(x float64) float64
}

var (
	bilinearFilter = resampleFilter{1, func(x float64) float64 {
		x = math.Abs(x)
		if x < 1 {
			return 1 - x
		}
		return 0
	}}
	bicubicFilter = resampleFilter{2, func(x float64) float64 {
		const a = -0.5
		x = math.Abs(x)
		if x < 1 {
			return ((a+2)*x-(a+3))*x*x + 1
		}
		if x < 2 {
			return (((x-5)*x+8)*x - 4) * a
		}
		return 0
	}}
)

// resampleCoeffs is precompute_coeffs followed by normalize_coeffs_8bpc: for each output
// index, the first input index, the number of inputs, and their fixed-point weights.
func resampleCoeffs(inSize, outSize int, f resampleFilter) (bounds []int, kk []int32, ksize int) {
	scale := float64(inSize) / float64(outSize)
	filterScale := max(scale, 1)
	support := f.support * filterScale
	ksize = int(math.Ceil(support))*2 + 1
	bounds = make([]int, 2*outSize)
	kk = make([]int32, outSize*ksize)
	w := make([]float64, ksize)
	for xx := 0; xx < outSize; xx++ {
		center := (float64(xx) + 0.5) * scale
		ss := 1 / filterScale
		// C's (int) cast truncates toward zero, as Go's conversion does.
		xmin := max(int(center-support+0.5), 0)
		xmax := min(int(center+support+0.5), inSize) - xmin
		total := 0.0
		for x := 0; x < xmax; x++ {
			w[x] = f.weight((float64(x+xmin) - center + 0.5) * ss)
			total += w[x]
		}
		k := kk[xx*ksize : (xx+1)*ksize]
		for x := 0; x < xmax; x++ {
			v := w[x]
			if total != 0 {
				v /= total
			}
			if v < 0 {
				k[x] = int32(-0.5 + v*(1<<pilPrecisionBits))
			} else {
				k[x] = int32(0.5 + v*(1<<pilPrecisionBits))
			}
		}
		bounds[2*xx], bounds[2*xx+1] = xmin, xmax
	}
	return bounds, kk, ksize
}

// pilClip8 is clip8: round-to-nearest was added up front, so this shifts and saturates.
func pilClip8(v int32) uint8 {
	if v >= 1<<pilPrecisionBits<<8 {
		return 255
	}
	if v <= 0 {
		return 0
	}
	return uint8(v >> pilPrecisionBits)
}

// resize scales img to w×h like PIL's Image.resize with the given filter.
func resize(img rgbImage, w, h int, interp Interpolation) rgbImage {
	if interp == Nearest {
		return resizeNearest(img, w, h)
	}
	f := bilinearFilter
	if interp == Bicubic {
		f = bicubicFilter
	}
	if img.w != w {
		img = resampleHorizontal(img, w, f)
	}
	if img.h != h {
		img = resampleVertical(img, h, f)
	}
	return img
}

func resampleHorizontal(img rgbImage, w int, f resampleFilter) rgbImage {
	bounds, kk, ksize := resampleCoeffs(img.w, w, f)
	out := rgbImage{w: w, h: img.h, pix: make([]uint8, 3*w*img.h)}
	for y := 0; y < img.h; y++ {
		in := img.pix[3*y*img.w : 3*(y+1)*img.w]
		o := out.pix[3*y*w : 3*(y+1)*w]
		for xx := 0; xx < w; xx++ {
			xmin, n := bounds[2*xx], bounds[2*xx+1]
			k := kk[xx*ksize : xx*ksize+n]
			s0, s1, s2 := int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1)), int32(1<<(pilPrecisionBits-1))
			px := in[3*xmin : 3*(xmin+n)]
			for x, c := range k {
				s0 += int32(px[3*x]) * c
				s1 += int32(px[3*x+1]) * c
				s2 += int32(px[3*x+2]) * c
			}
			o[3*xx], o[3*xx+1], o[3*xx+2] = pilClip8(s0), pilClip8(s1), pilClip8(s2)
		}
	}
	return out
}

func resampleVertical(img rgbImage, h int, f resampleFilter) rgbImage {
	bounds, kk, ksize := resampleCoeffs(img.h, h, f)
	out := rgbImage{w: img.w, h: h, pix: make([]uint8, 3*img.w*h)}
	row := 3 * img.w
	acc := make([]int32, row)
	for yy := 0; yy < h; yy++ {
		ymin, n := bounds[2*yy], bounds[2*yy+1]
		k := kk[yy*ksize : yy*ksize+n]
		for i := range acc {
			acc[i] = 1 << (pilPrecisionBits - 1)
		}
		for y, c := range k {
			in := img.pix[(ymin+y)*row : (ymin+y+1)*row]
			for i, v := range in {
				acc[i] += int32(v) * c
			}
		}
		o := out.pix[yy*row : (yy+1)*row]
		for i, v := range acc {
			o[i] = pilClip8(v)
		}
	}
	return out
}

// resizeNearest is PIL's NEAREST resize (ImagingScaleAffine): the input coordinate of each
// output pixel's centre is accumulated by repeated addition, as Pillow does, then truncated.
func resizeNearest(img rgbImage, w, h int) rgbImage {
	out := rgbImage{w: w, h: h, pix: make([]uint8, 3*w*h)}
	sx, sy := float64(img.w)/float64(w), float64(img.h)/float64(h)
	xs := make([]int, w)
	xo := sx * 0.5
	for x := range xs {
		xs[x] = min(int(xo), img.w-1)
		xo += sx
	}
	yo := sy * 0.5
	for y := 0; y < h; y++ {
		iy := min(int(yo), img.h-1)
		yo += sy
		in := img.pix[3*iy*img.w:]
		o := out.pix[3*y*w:]
		for x, ix := range xs {
			copy(o[3*x:3*x+3], in[3*ix:3*ix+3])
		}
	}
	return out
}

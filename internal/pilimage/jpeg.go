package pilimage

import "image"

// jpegToRGB converts a baseline JPEG's YCbCr planes to RGB as libjpeg-turbo does by default
// (what PIL decodes with): "fancy" triangle-filter upsampling of subsampled chroma, then the
// fixed-point ycc_rgb_convert tables. image.YCbCr's own conversion upsamples by repetition
// and rounds differently, which moves pixels by several levels at colour edges.
func jpegToRGB(img *image.YCbCr) (w, h int, rgb []uint8, err error) {
	b := img.Rect
	w, h = b.Dx(), b.Dy()
	hx, vy := 1, 1 // horizontal and vertical chroma subsampling factors
	switch img.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		hx = 2
	case image.YCbCrSubsampleRatio420:
		hx, vy = 2, 2
	case image.YCbCrSubsampleRatio440:
		vy = 2
	default:
		// Other ratios: the plain conversion of image.YCbCr.
		w, h, rgb = toRGB(img)
		return w, h, rgb, nil
	}
	cw, ch := (w+hx-1)/hx, (h+vy-1)/vy
	plane := func(src []uint8) []int32 {
		out := make([]int32, cw*ch)
		for y := 0; y < ch; y++ {
			for x, v := range src[y*img.CStride : y*img.CStride+cw] {
				out[y*cw+x] = int32(v)
			}
		}
		return out
	}
	cb := upsample(plane(img.Cb), cw, ch, hx, vy, w, h)
	cr := upsample(plane(img.Cr), cw, ch, hx, vy, w, h)
	rgb = make([]uint8, 3*w*h)
	for y := 0; y < h; y++ {
		ys := img.Y[y*img.YStride : y*img.YStride+w]
		for x, yy := range ys {
			i := y*w + x
			r, g, bl := yccToRGB(int32(yy), cb[i], cr[i])
			rgb[3*i], rgb[3*i+1], rgb[3*i+2] = r, g, bl
		}
	}
	return w, h, rgb, nil
}

// upsample enlarges a cw×ch chroma plane to w×h the way libjpeg-turbo's jdsample.c does:
// fancy (triangle) upsampling where it applies, sample repetition elsewhere.
func upsample(p []int32, cw, ch, hx, vy, w, h int) []int32 {
	out := make([]int32, w*h)
	// libjpeg-turbo upsamples 2:1 horizontally by repetition when a component is at most
	// two samples wide (jinit_upsampler: "downsampled_width > 2").
	fancyH := hx == 2 && cw > 2
	switch {
	case fancyH && vy == 2:
		// h2v2_fancy_upsample: vertical 3:1 sums against the row above (even output rows)
		// or below (odd ones), edge rows repeated, then horizontal 3:1 with +8 / +7 rounding.
		row := make([]int32, cw)
		for oy := 0; oy < h; oy++ {
			cy := oy / 2
			ny := cy - 1
			if oy%2 == 1 {
				ny = cy + 1
			}
			ny = min(max(ny, 0), ch-1)
			for x := 0; x < cw; x++ {
				row[x] = 3*p[cy*cw+x] + p[ny*cw+x]
			}
			o := out[oy*w : (oy+1)*w]
			for x := 0; x < cw; x++ {
				left, right := row[max(x-1, 0)], row[min(x+1, cw-1)]
				o[2*x] = (row[x]*3 + left + 8) >> 4
				if 2*x+1 < w {
					o[2*x+1] = (row[x]*3 + right + 7) >> 4
				}
			}
		}
	case fancyH && vy == 1:
		// h2v1_fancy_upsample: 3:1 with +1 / +2 rounding.
		for y := 0; y < h; y++ {
			r := p[y*cw : (y+1)*cw]
			o := out[y*w : (y+1)*w]
			for x := 0; x < cw; x++ {
				left, right := r[max(x-1, 0)], r[min(x+1, cw-1)]
				o[2*x] = (r[x]*3 + left + 1) >> 2
				if 2*x+1 < w {
					o[2*x+1] = (r[x]*3 + right + 2) >> 2
				}
			}
		}
	case hx == 1 && vy == 2:
		// h1v2_fancy_upsample: vertical 3:1 with +1 (row above) / +2 (row below) rounding.
		for oy := 0; oy < h; oy++ {
			cy, ny, bias := oy/2, oy/2-1, int32(1)
			if oy%2 == 1 {
				ny, bias = cy+1, 2
			}
			ny = min(max(ny, 0), ch-1)
			o := out[oy*w : (oy+1)*w]
			for x := range o {
				o[x] = (3*p[cy*cw+x] + p[ny*cw+x] + bias) >> 2
			}
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				out[y*w+x] = p[(y/vy)*cw+x/hx]
			}
		}
	}
	return out
}

// The ycc_rgb_convert constants: FIX(x) = round(x·2¹⁶).
const (
	fixCrR  = 91881  // FIX(1.40200)
	fixCbB  = 116130 // FIX(1.77200)
	fixCrG  = 46802  // FIX(0.71414)
	fixCbG  = 22554  // FIX(0.34414)
	oneHalf = 1 << 15
)

// yccToRGB is libjpeg's ycc_rgb_convert with its fixed-point tables (SCALEBITS 16).
func yccToRGB(y, cb, cr int32) (uint8, uint8, uint8) {
	cbx, crx := cb-128, cr-128
	r := y + (fixCrR*crx+oneHalf)>>16
	g := y + (-fixCbG*cbx-fixCrG*crx+oneHalf)>>16
	b := y + (fixCbB*cbx+oneHalf)>>16
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int32) uint8 { return uint8(min(max(v, 0), 255)) }

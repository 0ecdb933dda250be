package training

import "image"

// jpegToRGB converts a decoded JPEG's YCbCr planes to RGB the way libjpeg-turbo does by
// default, which is what the ImageDecoder spec prescribes: chroma subsampled by 2 is
// upsampled with the "fancy" triangular filter (3/4 nearer sample + 1/4 farther one, with
// alternating rounding), and the color conversion uses libjpeg's 16-bit fixed-point
// tables. Go's own YCbCr.At would replicate chroma samples instead.
func jpegToRGB(img *image.YCbCr) (w, h int, rgb []uint8, err error) {
	b := img.Rect
	w, h = b.Dx(), b.Dy()
	cw, ch := w, h
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
		// Other ratios: fall back to the plain conversion of image.YCbCr.
		return genericRGB(img)
	}
	cw, ch = (w+hx-1)/hx, (h+vy-1)/vy
	plane := func(src []uint8) []int {
		out := make([]int, cw*ch)
		for y := 0; y < ch; y++ {
			for x := 0; x < cw; x++ {
				out[y*cw+x] = int(src[y*img.CStride+x])
			}
		}
		return out
	}
	cb := upsample(plane(img.Cb), cw, ch, hx, vy, w, h)
	cr := upsample(plane(img.Cr), cw, ch, hx, vy, w, h)
	rgb = make([]uint8, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			yy := int(img.Y[y*img.YStride+x])
			r, g, bl := yccToRGB(yy, cb[y*w+x], cr[y*w+x])
			i := 3 * (y*w + x)
			rgb[i], rgb[i+1], rgb[i+2] = r, g, bl
		}
	}
	return w, h, rgb, nil
}

// upsample enlarges a cw×ch chroma plane to w×h.
func upsample(p []int, cw, ch, hx, vy, w, h int) []int {
	out := make([]int, w*h)
	switch {
	case hx == 2 && vy == 2:
		// h2v2_fancy_upsample: vertical 3:1 sums against the row above (even output rows)
		// or below (odd ones), then horizontal 3:1 interpolation with +8 / +7 rounding.
		row := make([]int, cw)
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
			for x := 0; x < cw; x++ {
				left, right := row[max(x-1, 0)], row[min(x+1, cw-1)]
				o := oy*w + 2*x
				if cw == 1 {
					out[o] = (row[x]*4 + 8) >> 4
					if 2*x+1 < w {
						out[o+1] = (row[x]*4 + 7) >> 4
					}
					continue
				}
				out[o] = (row[x]*3 + left + 8) >> 4
				if 2*x+1 < w {
					out[o+1] = (row[x]*3 + right + 7) >> 4
				}
			}
		}
	case hx == 2 && vy == 1:
		// h2v1_fancy_upsample: 3:1 with +1 / +2 rounding.
		for y := 0; y < h; y++ {
			r := p[y*cw : (y+1)*cw]
			for x := 0; x < cw; x++ {
				left, right := r[max(x-1, 0)], r[min(x+1, cw-1)]
				o := y*w + 2*x
				out[o] = (r[x]*3 + left + 1) >> 2
				if 2*x+1 < w {
					out[o+1] = (r[x]*3 + right + 2) >> 2
				}
			}
		}
	default:
		// 4:4:4 copies; 4:4:0 replicates rows (libjpeg-turbo's default for h1v2 is fancy
		// too, but it is rare enough to keep simple).
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				out[y*w+x] = p[(y/vy)*cw+x/hx]
			}
		}
	}
	return out
}

// yccToRGB is libjpeg's ycc_rgb_convert with its fixed-point tables (SCALEBITS 16).
func yccToRGB(y, cb, cr int) (uint8, uint8, uint8) {
	const half = 1 << 15
	fix := func(x float64) int { return int(x*65536 + 0.5) }
	cbx, crx := cb-128, cr-128
	r := y + (fix(1.40200)*crx+half)>>16
	g := y + (-fix(0.34414)*cbx-fix(0.71414)*crx+half)>>16
	b := y + (fix(1.77200)*cbx+half)>>16
	return clamp8(r), clamp8(g), clamp8(b)
}

func clamp8(v int) uint8 { return uint8(min(max(v, 0), 255)) }

// genericRGB converts through image.YCbCr's own color model.
func genericRGB(img *image.YCbCr) (w, h int, rgb []uint8, err error) {
	b := img.Rect
	w, h = b.Dx(), b.Dy()
	rgb = make([]uint8, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := 3 * (y*w + x)
			rgb[i], rgb[i+1], rgb[i+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
		}
	}
	return w, h, rgb, nil
}

package pilimage

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// ErrUnsupportedFormat marks an encoded stream in a format this package lacks (JPEG 2000),
// as opposed to a corrupt stream of a format it reads.
var ErrUnsupportedFormat = errors.New("image format not supported")

// MaxPixels bounds the images DecodeRGB accepts: the header is read first, so a small file
// claiming a huge image is refused before any pixel memory is allocated.
const MaxPixels = 1 << 26

// TooLargeError reports an image whose header asks for more than MaxPixels pixels.
type TooLargeError struct{ W, H int }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("image is %dx%d, more than the %d megapixels allowed", e.W, e.H, MaxPixels>>20)
}

type format int

const (
	formatUnknown format = iota
	formatPNG
	formatJPEG
	formatBMP
	formatTIFF
	formatWebP
	formatPNM
	formatJPEG2000
)

func sniff(data []byte) format {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		return formatPNG
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}):
		return formatJPEG
	case bytes.HasPrefix(data, []byte("BM")):
		return formatBMP
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		return formatTIFF
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return formatWebP
	case len(data) >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6':
		return formatPNM
	case bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cjP  ")), bytes.HasPrefix(data, []byte{0xFF, 0x4F, 0xFF, 0x51}):
		return formatJPEG2000
	}
	return formatUnknown
}

type codec struct {
	decode func(io.Reader) (image.Image, error)
	config func(io.Reader) (image.Config, error)
}

var codecs = map[format]codec{
	formatPNG:  {png.Decode, png.DecodeConfig},
	formatJPEG: {jpeg.Decode, jpeg.DecodeConfig},
	formatBMP:  {bmp.Decode, bmp.DecodeConfig},
	formatTIFF: {tiff.Decode, tiff.DecodeConfig},
	formatWebP: {webp.Decode, webp.DecodeConfig},
}

// DecodeRGB decodes data by its signature (PNG, JPEG, BMP, TIFF, WebP, PNM) and returns
// interleaved 8-bit RGB, the pixels PIL's Image.open(f).convert("RGB") gives: JPEG and
// lossy WebP chroma is upsampled and converted as libjpeg-turbo and libwebp do by default,
// alpha is dropped (not composited), palettes are looked up, grey is replicated and 16-bit
// samples keep their high byte.
func DecodeRGB(data []byte) (w, h int, rgb []uint8, err error) {
	f := sniff(data)
	switch f {
	case formatPNM:
		return decodePNM(data)
	case formatJPEG2000:
		return 0, 0, nil, fmt.Errorf("JPEG 2000: %w", ErrUnsupportedFormat)
	case formatUnknown:
		return 0, 0, nil, errors.New("unknown image signature (want PNG, JPEG, WebP, BMP, TIFF or PNM)")
	}
	c := codecs[f]
	cfg, err := c.config(bytes.NewReader(data))
	if err != nil {
		return 0, 0, nil, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return 0, 0, nil, fmt.Errorf("image is %dx%d", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return 0, 0, nil, &TooLargeError{cfg.Width, cfg.Height}
	}
	img, err := c.decode(bytes.NewReader(data))
	if err != nil {
		return 0, 0, nil, err
	}
	switch m := img.(type) {
	case *image.YCbCr:
		if f == formatWebP && m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			return webpToRGB(m)
		}
		if f == formatJPEG {
			return jpegToRGB(m)
		}
	case *image.NYCbCrA:
		// Lossy WebP with alpha: the colour planes convert as without alpha.
		if f == formatWebP && m.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			return webpToRGB(&m.YCbCr)
		}
	}
	w, h, rgb = toRGB(img)
	return w, h, rgb, nil
}

// toRGB converts the other decoded types, with direct loops for the common ones.
func toRGB(img image.Image) (w, h int, rgb []uint8) {
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	rgb = make([]uint8, 3*w*h)
	switch m := img.(type) {
	case *image.NRGBA:
		copyRGBX(rgb, m.Pix, m.Stride, w, h)
		return
	case *image.RGBA:
		// PNG yields RGBA only for opaque images, where it equals NRGBA.
		copyRGBX(rgb, m.Pix, m.Stride, w, h)
		return
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				i := 3 * (y*w + x)
				rgb[i], rgb[i+1], rgb[i+2] = v, v, v
			}
		}
		return
	case *image.Paletted:
		pal := make([][3]uint8, len(m.Palette))
		for i, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[i] = [3]uint8{n.R, n.G, n.B}
		}
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for x, v := range row {
				var c [3]uint8
				if int(v) < len(pal) {
					c = pal[v]
				}
				copy(rgb[3*(y*w+x):], c[:])
			}
		}
		return
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			i := 3 * (y*w + x)
			rgb[i], rgb[i+1], rgb[i+2] = uint8(c.R>>8), uint8(c.G>>8), uint8(c.B>>8)
		}
	}
	return
}

// copyRGBX drops the fourth byte of each pixel.
func copyRGBX(dst, src []uint8, stride, w, h int) {
	for y := 0; y < h; y++ {
		row := src[y*stride : y*stride+4*w]
		out := dst[3*y*w : 3*(y+1)*w]
		for x := 0; x < w; x++ {
			out[3*x], out[3*x+1], out[3*x+2] = row[4*x], row[4*x+1], row[4*x+2]
		}
	}
}

// decodePNM reads the binary and ASCII portable formats P1..P6 (8-bit samples; 16-bit
// ones are scaled down).
func decodePNM(data []byte) (w, h int, rgb []uint8, err error) {
	kind := data[1]
	pos := 2
	// token reads the next header integer, skipping whitespace and # comments.
	token := func() (int, error) {
		for pos < len(data) {
			c := data[pos]
			if c == '#' {
				for pos < len(data) && data[pos] != '\n' {
					pos++
				}
				continue
			}
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f' {
				pos++
				continue
			}
			break
		}
		start := pos
		for pos < len(data) && data[pos] >= '0' && data[pos] <= '9' {
			pos++
		}
		if start == pos {
			return 0, errors.New("pnm: malformed header")
		}
		return strconv.Atoi(string(data[start:pos]))
	}
	if w, err = token(); err != nil {
		return
	}
	if h, err = token(); err != nil {
		return
	}
	maxVal := 1
	if kind != '1' && kind != '4' {
		if maxVal, err = token(); err != nil {
			return
		}
		if maxVal <= 0 || maxVal > 65535 {
			return 0, 0, nil, fmt.Errorf("pnm: bad maxval %d", maxVal)
		}
	}
	if w <= 0 || h <= 0 || w > 1<<15 || h > 1<<15 {
		return 0, 0, nil, fmt.Errorf("pnm: bad size %dx%d", w, h)
	}
	pos++ // the single whitespace after the header
	channels := 1
	if kind == '3' || kind == '6' {
		channels = 3
	}
	n := w * h * channels
	samples := make([]int, 0, n)
	switch kind {
	case '1', '2', '3':
		for len(samples) < n {
			v, err := token()
			if err != nil {
				return 0, 0, nil, err
			}
			samples = append(samples, v)
		}
	case '4':
		rowBytes := (w + 7) / 8
		if len(data) < pos+rowBytes*h {
			return 0, 0, nil, errors.New("pnm: truncated data")
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				bit := data[pos+y*rowBytes+x/8] >> (7 - uint(x%8)) & 1
				samples = append(samples, int(bit))
			}
		}
	default:
		size := 1
		if maxVal > 255 {
			size = 2
		}
		if len(data) < pos+n*size {
			return 0, 0, nil, errors.New("pnm: truncated data")
		}
		for i := 0; i < n; i++ {
			if size == 2 {
				samples = append(samples, int(data[pos+2*i])<<8|int(data[pos+2*i+1]))
			} else {
				samples = append(samples, int(data[pos+i]))
			}
		}
	}
	rgb = make([]uint8, 3*w*h)
	for i := 0; i < w*h; i++ {
		for c := 0; c < 3; c++ {
			var v int
			switch {
			case kind == '1' || kind == '4':
				v = 255 * (1 - samples[i]) // PBM: 1 is black
			case channels == 1:
				v = (samples[i]*255 + maxVal/2) / maxVal
			default:
				v = (samples[3*i+c]*255 + maxVal/2) / maxVal
			}
			rgb[3*i+c] = uint8(min(max(v, 0), 255))
		}
	}
	return w, h, rgb, nil
}

package training

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strconv"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "ImageDecoder", SinceVersion: 20, Types: []ir.DataType{ir.Uint8}, New: newImageDecoder})
}

// Output pixel formats of ImageDecoder.
const (
	formatRGB = iota
	formatBGR
	formatGray
)

// errUnsupportedFormat marks an encoded stream in a format this decoder lacks (JPEG 2000):
// that is reported as an error rather than the empty image of a corrupt stream.
var errUnsupportedFormat = errors.New("image format not supported")

// imageDecoder is ImageDecoder-20: it decodes a PNG, JPEG, BMP, TIFF, WebP or PNM stream
// to [H, W, C] uint8 pixels (C = 3 for RGB/BGR, 1 for Grayscale). A stream that fails to
// decode yields an empty [0, 0, C] image, as the spec asks.
type imageDecoder struct {
	node   *ir.Node
	format int
}

func newImageDecoder(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &imageDecoder{node: n}
	switch f := n.AttrString("pixel_format", "RGB"); f {
	case "RGB":
		k.format = formatRGB
	case "BGR":
		k.format = formatBGR
	case "Grayscale":
		k.format = formatGray
	default:
		return nil, opErr(n, "pixel_format %q is not RGB, BGR or Grayscale", f)
	}
	return k, nil
}

func (k *imageDecoder) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || x.DType != ir.Uint8 {
		return nil, opErr(k.node, "encoded_stream must be a uint8 tensor")
	}
	channels := int64(3)
	if k.format == formatGray {
		channels = 1
	}
	w, h, rgb, err := decodeRGB(x.Data.([]uint8))
	if errors.Is(err, errUnsupportedFormat) {
		return nil, opErr(k.node, "%v", err)
	}
	if err != nil {
		return []*kernel.Tensor{ctx.Alloc(ir.Uint8, 0, 0, channels)}, nil
	}
	out := ctx.Alloc(ir.Uint8, int64(h), int64(w), channels)
	d := out.Data.([]uint8)
	for i := 0; i < w*h; i++ {
		r, g, b := rgb[3*i], rgb[3*i+1], rgb[3*i+2]
		switch k.format {
		case formatRGB:
			d[3*i], d[3*i+1], d[3*i+2] = r, g, b
		case formatBGR:
			d[3*i], d[3*i+1], d[3*i+2] = b, g, r
		default:
			// ITU-R 601-2 luma in 16-bit fixed point, as PIL's convert("L") computes it.
			d[i] = uint8((uint32(r)*19595 + uint32(g)*38470 + uint32(b)*7471 + 0x8000) >> 16)
		}
	}
	return []*kernel.Tensor{out}, nil
}

// decodeRGB decodes data by its signature and returns interleaved 8-bit RGB.
func decodeRGB(data []byte) (w, h int, rgb []uint8, err error) {
	var img image.Image
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG")):
		img, err = png.Decode(bytes.NewReader(data))
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8}):
		img, err = jpeg.Decode(bytes.NewReader(data))
		if ycc, ok := img.(*image.YCbCr); ok && err == nil {
			return jpegToRGB(ycc)
		}
	case bytes.HasPrefix(data, []byte("BM")):
		img, err = bmp.Decode(bytes.NewReader(data))
	case bytes.HasPrefix(data, []byte("II*\x00")), bytes.HasPrefix(data, []byte("MM\x00*")):
		img, err = tiff.Decode(bytes.NewReader(data))
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		img, err = webp.Decode(bytes.NewReader(data))
		if ycc, ok := img.(*image.YCbCr); ok && err == nil && ycc.SubsampleRatio == image.YCbCrSubsampleRatio420 {
			return webpToRGB(ycc)
		}
	case len(data) >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6':
		return decodePNM(data)
	case bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cjP  ")), bytes.HasPrefix(data, []byte{0xFF, 0x4F, 0xFF, 0x51}):
		return 0, 0, nil, fmt.Errorf("JPEG 2000: %w", errUnsupportedFormat)
	default:
		return 0, 0, nil, errors.New("unknown image signature")
	}
	if err != nil {
		return 0, 0, nil, err
	}
	b := img.Bounds()
	w, h = b.Dx(), b.Dy()
	rgb = make([]uint8, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			i := 3 * (y*w + x)
			rgb[i], rgb[i+1], rgb[i+2] = c.R, c.G, c.B
		}
	}
	return w, h, rgb, nil
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

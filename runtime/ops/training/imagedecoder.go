package training

import (
	"errors"

	"github.com/whittle-ml/whittle/internal/pilimage"
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
	w, h, rgb, err := pilimage.DecodeRGB(x.Data.([]uint8))
	// A format the decoder lacks (JPEG 2000) is an error, not the empty image of a corrupt stream.
	if errors.Is(err, pilimage.ErrUnsupportedFormat) {
		return nil, opErr(k.node, "%w", err)
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

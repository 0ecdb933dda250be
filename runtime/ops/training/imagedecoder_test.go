package training

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func TestImageDecoder(t *testing.T) {
	// A 2×1 image: a red and a blue pixel.
	img := image.NewNRGBA(image.Rect(0, 0, 2, 1))
	img.Set(0, 0, color.NRGBA{200, 10, 20, 255})
	img.Set(1, 0, color.NRGBA{0, 0, 255, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	pngData := buf.Bytes()
	ppm := []byte("P3\n# comment\n2 1\n255\n200 10 20  0 0 255\n")
	bytesOf := func(b []byte) *kernel.Tensor {
		return &kernel.Tensor{DType: ir.Uint8, Shape: []int64{int64(len(b))}, Data: b}
	}
	tests := []struct {
		name, format string
		data         []byte
		shape        []int64
		want         []uint8
	}{
		{"png rgb", "RGB", pngData, []int64{1, 2, 3}, []uint8{200, 10, 20, 0, 0, 255}},
		{"png bgr", "BGR", pngData, []int64{1, 2, 3}, []uint8{20, 10, 200, 255, 0, 0}},
		// (200·19595 + 10·38470 + 20·7471 + 32768) >> 16 = 68; 255·7471/65536 rounds to 29.
		{"png grayscale", "Grayscale", pngData, []int64{1, 2, 1}, []uint8{68, 29}},
		{"ascii ppm", "RGB", ppm, []int64{1, 2, 3}, []uint8{200, 10, 20, 0, 0, 255}},
		{"corrupt png gives an empty image", "RGB", pngData[:20], []int64{0, 0, 3}, []uint8{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := ir.NewGraph("g")
			n := g.NewNode("", "ImageDecoder", nil, []string{"y"}, ir.StringAttr("pixel_format", tc.format))
			k, err := newImageDecoder(&kernel.NodeInfo{Node: n})
			if err != nil {
				t.Fatal(err)
			}
			out, err := k.Run(&kernel.Context{}, []*kernel.Tensor{bytesOf(tc.data)})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out[0].Shape, tc.shape) || !reflect.DeepEqual(out[0].Data, tc.want) {
				t.Fatalf("got %v %v, want %v %v", out[0].Shape, out[0].Data, tc.shape, tc.want)
			}
		})
	}
}

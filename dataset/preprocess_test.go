package dataset

import (
	"strings"
	"testing"
)

func TestParsePreprocess(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "imagenet", want: "resize=256,crop=224,mean=0.485,0.456,0.406,std=0.229,0.224,0.225,layout=nchw"},
		{in: "imagenet,layout=nhwc", want: "resize=256,crop=224,mean=0.485,0.456,0.406,std=0.229,0.224,0.225,layout=nhwc"},
		{in: "imagenet,resize=232,interpolation=bicubic", want: "resize=232,crop=224,interpolation=bicubic,mean=0.485,0.456,0.406,std=0.229,0.224,0.225,layout=nchw"},
		{in: "", want: "layout=nchw"},
		{in: "none", want: "layout=nchw"},
		{in: "resize=224x320,scale=1/127.5,mean=1,std=1,channels=bgr", want: "resize=224x320,mean=1,std=1,scale=1/127.5,layout=nchw,channels=bgr"},
		{in: "crop=28,channels=gray,scale=1", want: "crop=28,scale=1/1,layout=nchw,channels=gray"},
		{in: "resize=300,dtype=uint8,layout=NHWC", want: "resize=300,layout=nhwc,dtype=uint8"},
		{in: "resize=0", err: "want N or HxW"},
		{in: "resize=2x", err: "want N or HxW"},
		{in: "mean=0.5,0.5", err: "want 1 or 3 values"},
		{in: "mean=0.5,std=0.1,0.2,0.3", err: "1 mean values but 3 std"},
		{in: "std=0", err: "standard deviation is 0"},
		{in: "layout=chw", err: "want nchw or nhwc"},
		{in: "colour=red", err: "unknown key"},
		{in: "imagenette", err: "neither a preset"},
		{in: "resize=256,257", err: "resize takes one value"},
		{in: "scale=-1", err: "positive"},
	}
	for _, tc := range tests {
		p, err := ParsePreprocess(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePreprocess(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePreprocess(%q): %v", tc.in, err)
			continue
		}
		if got := p.String(); got != tc.want {
			t.Errorf("ParsePreprocess(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// The formatted spec parses back to the same thing.
		again, err := ParsePreprocess(p.String())
		if err != nil || again.String() != p.String() {
			t.Errorf("round trip of %q: %q, %v", p.String(), again.String(), err)
		}
	}
}

func TestResizedSize(t *testing.T) {
	// torchvision: the shorter side becomes R, the longer int(R·long/short).
	tests := []struct {
		pre        string
		w, h       int
		wantW, wan int
	}{
		{"resize=256", 500, 375, 341, 256},
		{"resize=256", 375, 500, 256, 341},
		{"resize=256", 256, 256, 256, 256},
		{"resize=224", 640, 427, 335, 224},
		{"resize=10x20", 640, 427, 20, 10},
		{"crop=5", 640, 427, 640, 427},
	}
	for _, tc := range tests {
		p, err := ParsePreprocess(tc.pre)
		if err != nil {
			t.Fatal(err)
		}
		if w, h := p.resizedSize(tc.w, tc.h); w != tc.wantW || h != tc.wan {
			t.Errorf("%s on %dx%d: %dx%d, want %dx%d", tc.pre, tc.w, tc.h, w, h, tc.wantW, tc.wan)
		}
	}
}

func TestCenterCropRoundsHalfToEven(t *testing.T) {
	// A 1×7 row cropped to 2: (7-2)/2 = 2.5, which Python's round makes 2.
	img := rgbImage{w: 7, h: 1, pix: make([]uint8, 21)}
	for i := range img.pix {
		img.pix[i] = uint8(i / 3)
	}
	got := centerCrop(img, 2, 1)
	if got.pix[0] != 2 || got.pix[3] != 3 {
		t.Fatalf("crop starts at pixel %d, want 2", got.pix[0])
	}
	// 1×4 to 3: padding none, offset round(0.5) = 0.
	img = rgbImage{w: 4, h: 1, pix: []uint8{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3}}
	if got := centerCrop(img, 3, 1); got.pix[0] != 0 {
		t.Fatalf("crop starts at pixel %d, want 0", got.pix[0])
	}
}

func TestResizeConstantImageStaysConstant(t *testing.T) {
	// Normalized weights sum to 2^22 (within rounding), so a flat image stays flat.
	for _, interp := range []Interpolation{Bilinear, Bicubic, Nearest} {
		img := rgbImage{w: 97, h: 61, pix: make([]uint8, 3*97*61)}
		for i := range img.pix {
			img.pix[i] = 200
		}
		for _, size := range [][2]int{{13, 7}, {300, 190}, {97, 20}} {
			out := resize(img, size[0], size[1], interp)
			for i, v := range out.pix {
				if v != 200 {
					t.Fatalf("%v to %v: pixel %d = %d", interp, size, i, v)
				}
			}
		}
	}
}

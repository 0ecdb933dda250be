package fused

import (
	"strings"
	"testing"
)

// A window larger than its padded input is an error, as in the NCHW kernels: the NHWC
// convolution and pools used to return an empty tensor (found by the hostile-input table:
// a 3×3 Conv on a 2×2 map ran and printed float[1 1 0 0]).
func TestResolveRefusesEmptyOutput(t *testing.T) {
	for _, tt := range []struct {
		name   string
		w      window2D
		ih, iw int
		want   string // "" when the window fits
	}{
		{"3x3 on 2x2", window2D{kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, autoPad: "NOTSET"}, 2, 2, "spatial axis 0: the input has size 2 (2 with padding), smaller than the window (kernel 3)"},
		{"3x3 on 2x2 padded", window2D{kh: 3, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, autoPad: "NOTSET", pads: [4]int{1, 1, 1, 1}}, 2, 2, ""},
		{"2x2 stride 2 on 1x1", window2D{kh: 2, kw: 2, sh: 2, sw: 2, dh: 1, dw: 1, autoPad: "NOTSET"}, 1, 1, "smaller than the window (kernel 2)"},
		{"VALID, wide only", window2D{kh: 1, kw: 3, sh: 1, sw: 1, dh: 1, dw: 1, autoPad: "VALID"}, 5, 2, "spatial axis 1: the input has size 2"},
		{"dilated", window2D{kh: 2, kw: 2, sh: 1, sw: 1, dh: 3, dw: 1, autoPad: "NOTSET"}, 3, 3, "kernel 2 with dilation 3 spans 4"},
		{"SAME never empties", window2D{kh: 5, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, autoPad: "SAME_UPPER"}, 1, 1, ""},
	} {
		g, err := tt.w.resolve(tt.ih, tt.iw)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want == "" && (g.oh <= 0 || g.ow <= 0):
			t.Errorf("%s: output %dx%d", tt.name, g.oh, g.ow)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want an error saying %q", tt.name, err, tt.want)
		}
	}
}

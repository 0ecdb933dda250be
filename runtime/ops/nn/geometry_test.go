package nn

import (
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/internal/kerneltest"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// A window larger than its padded input has no output in ONNX; an empty tensor would flow
// on into a plausible but meaningless answer, so every windowed op refuses it.
func TestWindowLargerThanInput(t *testing.T) {
	x := kernel.FromFloat32([]int64{1, 1, 1, 1}, []float32{3})
	w := kernel.FromFloat32([]int64{1, 1, 2, 2}, []float32{1, 1, 1, 1})
	for _, tt := range []struct {
		op     string
		attrs  []*ir.Attr
		inputs []*kernel.Tensor
		want   string
	}{
		{"MaxPool", []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)}, []*kernel.Tensor{x},
			"spatial axis 0: the input has size 1 (1 with padding), smaller than the window (kernel 2): the output would be empty"},
		{"AveragePool", []*ir.Attr{ir.IntsAttr("kernel_shape", 3, 3)}, []*kernel.Tensor{x}, "smaller than the window (kernel 3)"},
		{"MaxPool", []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("dilations", 3, 3)}, []*kernel.Tensor{x},
			"kernel 2 with dilation 3 spans 4"},
		{"AveragePool", []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.StringAttr("auto_pad", "VALID")}, []*kernel.Tensor{x}, "the output would be empty"},
		{"Conv", nil, []*kernel.Tensor{x, w}, "the output would be empty"},
		{"MaxPool", []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("pads", 0, 0, -1, 0)}, []*kernel.Tensor{x}, "must be in [0,"},
		{"MaxPool", []*ir.Attr{ir.IntsAttr("kernel_shape", 1<<40, 1)}, []*kernel.Tensor{x}, "at most"},
	} {
		_, err := kerneltest.RunOne(tt.op, 17, tt.attrs, tt.inputs...)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %v: got %v, want an error saying %q", tt.op, tt.attrs, err, tt.want)
		}
	}
	// Padding that makes room for the window is fine: one output.
	out := kerneltest.MustRunOne(t, "MaxPool", 17, []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("pads", 0, 0, 1, 1)}, x)
	if got := out.Shape; len(got) != 4 || got[2] != 1 || got[3] != 1 {
		t.Errorf("padded MaxPool: shape %v, want [1 1 1 1]", got)
	}
}

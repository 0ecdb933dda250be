package signal

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// cosineWindow holds the coefficients of a generalized cosine window:
// w[n] = a0 − a1·cos(2πn/N) + a2·cos(4πn/N).
type cosineWindow struct{ a0, a1, a2 float64 }

var windows = map[string]cosineWindow{
	"HannWindow":     {0.5, 0.5, 0},
	"HammingWindow":  {25.0 / 46, 21.0 / 46, 0},
	"BlackmanWindow": {0.42, 0.5, 0.08},
}

func init() {
	for name, w := range windows {
		w := w
		kernel.Register(kernel.KernelDef{Op: name, SinceVersion: 17,
			New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newWindow(info, w) }})
	}
}

type windowKernel struct {
	node     *ir.Node
	coef     cosineWindow
	periodic bool
	outType  ir.DataType
}

func newWindow(info *kernel.NodeInfo, coef cosineWindow) (kernel.Kernel, error) {
	n := info.Node
	dt := ir.DataType(n.AttrInt("output_datatype", int64(ir.Float)))
	if !numericOutput(dt) {
		return nil, fmt.Errorf("%s: output_datatype %s is not a numeric type", n.Describe(), dt)
	}
	return &windowKernel{node: n, coef: coef, periodic: n.AttrInt("periodic", 1) != 0, outType: dt}, nil
}

func (k *windowKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	t := kernel.Input(inputs, 0)
	if t == nil {
		return nil, fmt.Errorf("%s: input size is required", k.node.Describe())
	}
	size, err := scalarInt(t, "size")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	if size < 0 || size > 1<<30 {
		return nil, fmt.Errorf("%s: window size %d is out of range", k.node.Describe(), size)
	}
	// size is data (up to 2^30): weigh the float64 values before computing them.
	v, err := kernel.MakeScratch[float64](int(size))
	if err != nil {
		return nil, err
	}
	k.fill(v)
	return kernel.Single(kernel.FromFloat64s(ctx, k.outType, []int64{size}, v))
}

// fill computes the window into v, of the window's size. A periodic window is the first
// size points of a symmetric window of size+1 points, so its period is size; a symmetric
// one has period size−1.
func (k *windowKernel) fill(v []float64) {
	size := len(v)
	period := size
	if !k.periodic {
		period = size - 1
	}
	for i := range v {
		if period == 0 {
			v[i] = 1 // a one-point symmetric window, as in torch
			continue
		}
		x := 2 * math.Pi * float64(i) / float64(period)
		v[i] = k.coef.a0 - k.coef.a1*math.Cos(x) + k.coef.a2*math.Cos(2*x)
	}
}

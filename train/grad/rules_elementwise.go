package grad

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Elementwise rules. Derivatives follow PyTorch's autograd formulas
// (tools/autograd/derivatives.yaml) where a choice exists: ReLU's gradient at 0 is 0, Clip
// passes the gradient where min <= x <= max, HardSigmoid and HardSwish use PyTorch's
// boundary conventions.

func init() {
	unary := func(op string, deriv func(n *ir.Node) func(x, y float32) float32) {
		register(op, ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*unaryOp, error) {
			return &unaryOp{kernelFwd: k, deriv: deriv(b.node)}, nil
		})})
	}
	fixed := func(f func(x, y float32) float32) func(*ir.Node) func(x, y float32) float32 {
		return func(*ir.Node) func(x, y float32) float32 { return f }
	}
	register("Relu", ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*reluOp, error) {
		return &reluOp{k}, nil
	})})
	unary("LeakyRelu", func(n *ir.Node) func(x, y float32) float32 {
		alpha := n.AttrFloat("alpha", 0.01)
		return func(x, _ float32) float32 {
			if x > 0 {
				return 1
			}
			return alpha
		}
	})
	unary("Sigmoid", fixed(func(_, y float32) float32 { return y * (1 - y) }))
	unary("Tanh", fixed(func(_, y float32) float32 { return 1 - y*y }))
	unary("HardSigmoid", func(n *ir.Node) func(x, y float32) float32 {
		alpha, beta := n.AttrFloat("alpha", 0.2), n.AttrFloat("beta", 0.5)
		return func(x, _ float32) float32 {
			if v := alpha*x + beta; v > 0 && v < 1 {
				return alpha
			}
			return 0
		}
	})
	unary("HardSwish", fixed(func(x, _ float32) float32 {
		switch {
		case x < -3:
			return 0
		case x <= 3:
			return x/3 + 0.5
		}
		return 1
	}))
	unary("Erf", fixed(func(x, _ float32) float32 {
		return float32(2 / math.SqrtPi * math.Exp(-float64(x)*float64(x)))
	}))
	unary("Gelu", func(n *ir.Node) func(x, y float32) float32 {
		if n.AttrString("approximate", "none") == "tanh" {
			return func(x, _ float32) float32 {
				xf := float64(x)
				k := math.Sqrt(2 / math.Pi)
				inner := k * (xf + 0.044715*xf*xf*xf)
				t := math.Tanh(inner)
				return float32(0.5*(1+t) + 0.5*xf*(1-t*t)*k*(1+3*0.044715*xf*xf))
			}
		}
		return func(x, _ float32) float32 {
			xf := float64(x)
			cdf := 0.5 * (1 + math.Erf(xf/math.Sqrt2))
			pdf := math.Exp(-0.5*xf*xf) / math.Sqrt(2*math.Pi)
			return float32(cdf + xf*pdf)
		}
	})
	unary("Sqrt", fixed(func(_, y float32) float32 { return 0.5 / y }))
	unary("Exp", fixed(func(_, y float32) float32 { return y }))
	unary("Log", fixed(func(x, _ float32) float32 { return 1 / x }))
	unary("Neg", fixed(func(float32, float32) float32 { return -1 }))
	unary("Reciprocal", fixed(func(_, y float32) float32 { return -y * y }))
	unary("Abs", fixed(func(x, _ float32) float32 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}))
	unary("Softplus", fixed(func(x, _ float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }))
	register("Clip", ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*clipOp, error) {
		op := &clipOp{kernelFwd: k, min: float32(math.Inf(-1)), max: float32(math.Inf(1))}
		if b.opset < 11 {
			op.min, op.max = b.node.AttrFloat("min", op.min), b.node.AttrFloat("max", op.max)
			op.attrs = true
		}
		return op, nil
	})})
	for _, name := range []string{"Identity", "Flatten", "Reshape", "Squeeze", "Unsqueeze"} {
		register(name, ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*reshapeOp, error) {
			return &reshapeOp{k}, nil
		})})
	}
	register("Cast", ruleDef{diff: inputs(0), build: withKernel(func(b *nodeBuild, k kernelFwd) (*reshapeOp, error) {
		if to := ir.DataType(b.node.AttrInt("to", 0)); to != ir.Float {
			return nil, fmt.Errorf("gradient through Cast to %s: training runs in float32", to)
		}
		return &reshapeOp{k}, nil
	})})
	for _, name := range []string{"Add", "Sub", "Mul", "Div", "Pow"} {
		register(name, ruleDef{diff: allInputs, build: withKernel(func(b *nodeBuild, k kernelFwd) (*binaryOp, error) {
			return &binaryOp{kernelFwd: k, op: b.node.OpType}, nil
		})})
	}
	register("Where", ruleDef{diff: inputs(1, 2), build: withKernel(func(b *nodeBuild, k kernelFwd) (*whereOp, error) {
		return &whereOp{k}, nil
	})})
}

// unaryOp is y = f(x) elementwise with dy/dx = deriv(x, y).
type unaryOp struct {
	kernelFwd
	deriv func(x, y float32) float32
}

func (o *unaryOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	x, err := floats(f.in[0])
	if err != nil {
		return err
	}
	y := f.out[0].Float32s()
	g := gout[0].Float32s()
	gx := newGrad(c, f.in[0].Shape)
	d := gx.Float32s()
	for i := range d {
		d[i] = g[i] * o.deriv(x[i], y[i])
	}
	gin[0] = gx
	return nil
}

// reluOp is unaryOp for ReLU, with the loops written out: it is the hottest elementwise op
// of a CNN.
type reluOp struct{ kernelFwd }

func (o reluOp) forward(c *runCtx, in []*kernel.Tensor) ([]*kernel.Tensor, any, error) {
	x, ok := in[0].Data.([]float32)
	if !ok {
		return o.kernelFwd.forward(c, in)
	}
	y := c.a.tensor(in[0].Shape)
	yd := y.Float32s()
	size, chunks := linalg.Chunks(len(x), 4*c.threads, 1<<15)
	linalg.For(c.threads, chunks, func(k int) {
		lo, hi := k*size, min(len(x), (k+1)*size)
		for i, v := range x[lo:hi] {
			if v <= 0 {
				v = 0 // NaN stays NaN
			}
			yd[lo+i] = v
		}
	})
	return []*kernel.Tensor{y}, nil, nil
}

func (reluOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	y := f.out[0].Float32s()
	g := gout[0].Float32s()
	gx := newGrad(c, f.in[0].Shape)
	d := gx.Float32s()
	y = y[:len(d)]
	g = g[:len(d)]
	for i := range d {
		if y[i] > 0 {
			d[i] = g[i]
		} else {
			d[i] = 0
		}
	}
	gin[0] = gx
	return nil
}

// clipOp passes the gradient where min <= x <= max.
type clipOp struct {
	kernelFwd
	min, max float32
	attrs    bool // bounds come from attributes (before opset 11), not inputs
}

func (o *clipOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	lo, hi := o.min, o.max
	if !o.attrs {
		for i, bound := range []*float32{&lo, &hi} {
			if t := kernel.Input(f.in, i+1); t != nil {
				v, err := floats(t)
				if err != nil || len(v) != 1 {
					return fmt.Errorf("Clip bound %d must be a float scalar", i+1)
				}
				*bound = v[0]
			}
		}
	}
	x, err := floats(f.in[0])
	if err != nil {
		return err
	}
	g := gout[0].Float32s()
	gx := newGrad(c, f.in[0].Shape)
	d := gx.Float32s()
	for i, v := range x {
		if v >= lo && v <= hi {
			d[i] = g[i]
		} else {
			d[i] = 0
		}
	}
	gin[0] = gx
	return nil
}

// reshapeOp is any op that keeps the elements in order (Reshape, Flatten, Squeeze,
// Unsqueeze, Identity, a float-to-float Cast): the gradient is the output's, reshaped.
type reshapeOp struct{ kernelFwd }

func (reshapeOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	gx := newGrad(c, f.in[0].Shape)
	copy(gx.Float32s(), gout[0].Float32s())
	gin[0] = gx
	return nil
}

// binaryOp is Add, Sub, Mul, Div or Pow with numpy broadcasting: each operand's gradient
// is summed over the axes it was broadcast along.
type binaryOp struct {
	kernelFwd
	op string
}

func (o *binaryOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	a, b, y := f.in[0], f.in[1], f.out[0]
	ad, err := floats(a)
	if err != nil {
		return err
	}
	bd, err := floats(b)
	if err != nil {
		return err
	}
	g := gout[0].Float32s()
	out := y.Shape
	switch o.op {
	case "Add", "Sub":
		if c.needGrad[0] {
			gin[0] = sumTo(c, g, out, a.Shape, 1)
		}
		if c.needGrad[1] {
			sign := float32(1)
			if o.op == "Sub" {
				sign = -1
			}
			gin[1] = sumTo(c, g, out, b.Shape, sign)
		}
	case "Mul":
		if c.needGrad[0] {
			gin[0] = sumProductTo(c, g, out, bd, b.Shape, a.Shape, 1)
		}
		if c.needGrad[1] {
			gin[1] = sumProductTo(c, g, out, ad, a.Shape, b.Shape, 1)
		}
	case "Div":
		yd := y.Float32s()
		if c.needGrad[0] {
			// d(a/b)/da = 1/b.
			gin[0] = pairGrad(c, g, y, yd, a, ad, b, bd, a.Shape, func(gv, _, _, bv float32) float32 { return gv / bv })
		}
		if c.needGrad[1] {
			// d(a/b)/db = -a/b² = -y/b.
			gin[1] = pairGrad(c, g, y, yd, a, ad, b, bd, b.Shape, func(gv, yv, _, bv float32) float32 { return -gv * yv / bv })
		}
	case "Pow":
		yd := y.Float32s()
		if c.needGrad[0] {
			// d(a^b)/da = b·a^(b-1), computed from a and b (y/a fails at a = 0).
			gin[0] = pairGrad(c, g, y, yd, a, ad, b, bd, a.Shape, func(gv, _, av, bv float32) float32 {
				if bv == 0 {
					return 0
				}
				return gv * bv * float32(math.Pow(float64(av), float64(bv)-1))
			})
		}
		if c.needGrad[1] {
			// d(a^b)/db = y·ln(a), taken as 0 where a = 0 and b >= 0 (PyTorch's rule).
			gin[1] = pairGrad(c, g, y, yd, a, ad, b, bd, b.Shape, func(gv, yv, av, bv float32) float32 {
				if av == 0 && bv >= 0 {
					return 0
				}
				return gv * yv * float32(math.Log(float64(av)))
			})
		}
	}
	return nil
}

// pairGrad returns Σ fn(g, y, a, b) over the broadcast, summed down to shape into (that
// of a or of b): the gradient of one operand of a broadcast binary op.
func pairGrad(c *runCtx, g []float32, y *kernel.Tensor, yd []float32, a *kernel.Tensor, ad []float32, b *kernel.Tensor, bd []float32,
	into []int64, fn func(gv, yv, av, bv float32) float32) *kernel.Tensor {
	out := y.Shape
	dst := newZeroGrad(c, into)
	d := dst.Float32s()
	walkRows(out, [][]int64{kernel.BroadcastStrides(into, out), kernel.BroadcastStrides(a.Shape, out), kernel.BroadcastStrides(b.Shape, out)},
		func(o, n int, offs, steps []int) {
			for k := 0; k < n; k++ {
				d[offs[0]+k*steps[0]] += fn(g[o+k], yd[o+k], ad[offs[1]+k*steps[1]], bd[offs[2]+k*steps[2]])
			}
		})
	return dst
}

// whereOp routes the gradient to X where the condition holds and to Y elsewhere.
type whereOp struct{ kernelFwd }

func (whereOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	cond, ok := f.in[0].Data.([]bool)
	if !ok {
		return fmt.Errorf("condition is %s, want bool", f.in[0].DType)
	}
	g := gout[0].Float32s()
	out := f.out[0].Shape
	for i, take := range []bool{true, false} {
		if !c.needGrad[i+1] {
			continue
		}
		into := f.in[i+1].Shape
		dst := newZeroGrad(c, into)
		d := dst.Float32s()
		walkRows(out, [][]int64{kernel.BroadcastStrides(into, out), kernel.BroadcastStrides(f.in[0].Shape, out)},
			func(o, n int, offs, steps []int) {
				for k := 0; k < n; k++ {
					if cond[offs[1]+k*steps[1]] == take {
						d[offs[0]+k*steps[0]] += g[o+k]
					}
				}
			})
		gin[i+1] = dst
	}
	return nil
}

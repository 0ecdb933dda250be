package training

import (
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "Bernoulli", SinceVersion: 15, Types: []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16}, New: newBernoulli},
		kernel.KernelDef{Op: "RandomUniformLike", SinceVersion: 1, New: newRandomUniform(true)},
		kernel.KernelDef{Op: "RandomUniform", SinceVersion: 1, New: newRandomUniform(false)},
	)
}

// seedAttr reads the optional seed attribute.
func seedAttr(n *ir.Node) (float32, bool) {
	if a := n.Attr("seed"); a != nil {
		return a.Float, true
	}
	return 0, false
}

// dtypeAttr reads the dtype attribute, def when absent.
func dtypeAttr(n *ir.Node, def ir.DataType) ir.DataType {
	if a := n.Attr("dtype"); a != nil {
		return ir.DataType(a.Int)
	}
	return def
}

// bernoulli draws 0 or 1 per element with the input's probability. With a seed it
// reproduces the ONNX reference, np.random.RandomState(seed).binomial(1, p=x), re-seeding
// on every run; without one every run draws afresh.
type bernoulli struct {
	node    *ir.Node
	seed    float32
	hasSeed bool
	dtype   ir.DataType // 0: the input's type
}

func newBernoulli(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &bernoulli{node: n, dtype: dtypeAttr(n, ir.Undefined)}
	k.seed, k.hasSeed = seedAttr(n)
	return k, nil
}

func (k *bernoulli) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil {
		return nil, opErr(k.node, "input is required")
	}
	p, err := kernel.FloatsOf(x)
	if err != nil {
		return nil, opErr(k.node, "input: %w", err)
	}
	dt := k.dtype
	if dt == ir.Undefined {
		dt = x.DType
	}
	rng := newRNG(k.seed, k.hasSeed)
	draws, err := kernel.MakeScratch[float64](len(p))
	if err != nil {
		return nil, err
	}
	for i, pi := range p {
		if !(pi >= 0 && pi <= 1) {
			return nil, opErr(k.node, "probability %v at %d is outside [0, 1]", pi, i)
		}
		draws[i] = float64(rng.Binomial1(pi))
	}
	out, err := kernel.FromFloat64s(ctx, dt, x.Shape, draws)
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	return []*kernel.Tensor{out}, nil
}

// randomUniform is RandomUniform (shape attribute) and RandomUniformLike (the input's
// shape): values in [low, high) computed as the ONNX reference does,
// RandomState(seed).rand(shape).astype(dtype) * (high - low) + low, in dtype's precision.
type randomUniform struct {
	node      *ir.Node
	like      bool
	low, high float32
	seed      float32
	hasSeed   bool
	dtype     ir.DataType // 0 for RandomUniformLike: the input's type
	shape     []int64
}

func newRandomUniform(like bool) kernel.Factory {
	return func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		n := info.Node
		k := &randomUniform{node: n, like: like, low: n.AttrFloat("low", 0), high: n.AttrFloat("high", 1)}
		k.seed, k.hasSeed = seedAttr(n)
		if like {
			k.dtype = dtypeAttr(n, ir.Undefined)
		} else {
			k.dtype = dtypeAttr(n, ir.Float)
			a := n.Attr("shape")
			if a == nil {
				return nil, opErr(n, "attribute shape is required")
			}
			for _, d := range a.Ints {
				if d < 0 {
					return nil, opErr(n, "negative dimension in shape %v", a.Ints)
				}
			}
			k.shape = a.Ints
		}
		switch k.dtype {
		case ir.Undefined, ir.Float, ir.Double, ir.Float16, ir.BFloat16:
		default:
			return nil, opErr(n, "dtype %s is not a float type", k.dtype)
		}
		return k, nil
	}
}

func (k *randomUniform) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	shape, dt := k.shape, k.dtype
	if k.like {
		x := kernel.Input(inputs, 0)
		if x == nil {
			return nil, opErr(k.node, "input is required")
		}
		shape = x.Shape
		if dt == ir.Undefined {
			dt = x.DType
		}
	}
	count, err := kernel.CheckedCount(dt, shape)
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	vals, err := kernel.MakeScratch[float64](count)
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	rng := newRNG(k.seed, k.hasSeed)
	span, low := float64(k.high)-float64(k.low), float64(k.low)
	for i := range vals {
		r := rng.Float64()
		if dt == ir.Double {
			vals[i] = r*span + low
		} else {
			// numpy casts the draws to float32 first and scales in float32.
			vals[i] = float64(float32(float32(r)*float32(span)) + float32(low))
		}
	}
	out, err := kernel.FromFloat64s(ctx, dt, shape, vals)
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	return []*kernel.Tensor{out}, nil
}

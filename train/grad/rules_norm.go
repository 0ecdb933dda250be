package grad

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/train/internal/rng"
)

func init() {
	register("BatchNormalization", ruleDef{diff: inputs(0, 1, 2), build: func(b *nodeBuild) (op, error) {
		n := b.node
		if n.AttrInt("spatial", 1) != 1 {
			return nil, fmt.Errorf("BatchNormalization with spatial = 0 is not supported")
		}
		o := &batchNormOp{eps: float64(n.AttrFloat("epsilon", 1e-5)), momentum: n.AttrFloat("momentum", 0.9), freeze: b.freezeBN}
		for _, s := range b.state {
			switch s.index {
			case 3:
				o.runMean = s.state
			case 4:
				o.runVar = s.state
			}
		}
		return o, nil
	}})
	register("LayerNormalization", ruleDef{diff: allInputs, build: withKernel(func(b *nodeBuild, k kernelFwd) (*layerNormOp, error) {
		return &layerNormOp{kernelFwd: k, axis: b.node.AttrInt("axis", -1)}, nil
	})})
	register("Dropout", ruleDef{diff: inputs(0), build: func(b *nodeBuild) (op, error) {
		o := &dropoutOp{ratio: 0.5, ratioInput: b.opset >= 12}
		if !o.ratioInput {
			o.ratio = b.node.AttrFloat("ratio", 0.5)
		}
		return o, nil
	}})
}

// batchNormOp computes BatchNormalization itself, in both modes. In training it normalizes
// with the batch's mean and (biased) variance and moves the running statistics toward them
// with the node's momentum, PyTorch's convention: running = momentum·running +
// (1 − momentum)·batch, the variance unbiased (n/(n−1)). In inference, or with frozen
// statistics, it is the affine map the exported node computes.
type batchNormOp struct {
	eps             float64
	momentum        float32
	freeze          bool
	runMean, runVar *State
}

// bnStats is what batchNormOp's backward needs: the statistics it normalized with.
type bnStats struct {
	mean, invStd []float32
	batch        bool
}

func (o *batchNormOp) forward(c *runCtx, in []*kernel.Tensor) ([]*kernel.Tensor, any, error) {
	x := in[0]
	var d [5][]float32
	for i := range d {
		v, err := floats(kernel.Input(in, i))
		if err != nil {
			return nil, nil, fmt.Errorf("input %d: %w", i, err)
		}
		d[i] = v
	}
	if len(x.Shape) < 2 {
		return nil, nil, fmt.Errorf("X %v must have rank at least 2", x.Shape)
	}
	nb, ch, size := int(x.Shape[0]), int(x.Shape[1]), shapeSize(x.Shape[2:])
	for i := 1; i < 5; i++ {
		if len(d[i]) != ch {
			return nil, nil, fmt.Errorf("input %d has %d elements, want %d channels", i, len(d[i]), ch)
		}
	}
	xd, scale, bias := d[0], d[1], d[2]
	st := &bnStats{mean: c.a.floats(ch), invStd: c.a.floats(ch), batch: c.mode == Training && !o.freeze}
	count := nb * size
	if st.batch && count < 2 {
		return nil, nil, fmt.Errorf("training needs more than one value per channel (input %v)", x.Shape)
	}
	y := c.a.tensor(x.Shape)
	yd := y.Float32s()
	linalg.ForCost(c.threads, ch, len(xd)/max(ch, 1), func(cc int) {
		var mean, variance float64
		if st.batch {
			var s float64
			for n := 0; n < nb; n++ {
				for _, v := range xd[(n*ch+cc)*size : (n*ch+cc+1)*size] {
					s += float64(v)
				}
			}
			mean = s / float64(count)
			var q float64
			for n := 0; n < nb; n++ {
				for _, v := range xd[(n*ch+cc)*size : (n*ch+cc+1)*size] {
					dv := float64(v) - mean
					q += dv * dv
				}
			}
			variance = q / float64(count)
			if o.runMean != nil {
				rm := &o.runMean.Value[cc]
				*rm = o.momentum**rm + (1-o.momentum)*float32(mean)
			}
			if o.runVar != nil {
				rv := &o.runVar.Value[cc]
				*rv = o.momentum**rv + (1-o.momentum)*float32(variance*float64(count)/float64(count-1))
			}
		} else {
			mean, variance = float64(d[3][cc]), float64(d[4][cc])
		}
		inv := 1 / math.Sqrt(variance+o.eps)
		st.mean[cc], st.invStd[cc] = float32(mean), float32(inv)
		a := float32(float64(scale[cc]) * inv)
		b := bias[cc] - a*float32(mean)
		for n := 0; n < nb; n++ {
			src := xd[(n*ch+cc)*size : (n*ch+cc+1)*size]
			dst := yd[(n*ch+cc)*size : (n*ch+cc+1)*size]
			for i, v := range src {
				dst[i] = a*v + b
			}
		}
	})
	outs := []*kernel.Tensor{y}
	// Training-mode nodes (opset 14+) may also output the updated running statistics.
	for _, stat := range [][]float32{d[3], d[4]} {
		t := c.a.tensor([]int64{int64(ch)})
		copy(t.Float32s(), stat)
		outs = append(outs, t)
	}
	return outs, st, nil
}

func (o *batchNormOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	st := f.aux.(*bnStats)
	x := f.in[0]
	xd := x.Float32s()
	scale := f.in[1].Float32s()
	g := gout[0].Float32s()
	nb, ch, size := int(x.Shape[0]), int(x.Shape[1]), shapeSize(x.Shape[2:])
	count := float64(nb * size)
	var gx, gs, gb []float32
	if c.needGrad[0] {
		t := newGrad(c, x.Shape)
		gx, gin[0] = t.Float32s(), t
	}
	if c.needGrad[1] {
		t := newGrad(c, f.in[1].Shape)
		gs, gin[1] = t.Float32s(), t
	}
	if c.needGrad[2] {
		t := newGrad(c, f.in[2].Shape)
		gb, gin[2] = t.Float32s(), t
	}
	linalg.ForCost(c.threads, ch, len(xd)/max(ch, 1), func(cc int) {
		mean, inv := float64(st.mean[cc]), float64(st.invStd[cc])
		var sg, sgx float64 // Σ g and Σ g·x̂
		for n := 0; n < nb; n++ {
			off := (n*ch + cc) * size
			for i, gv := range g[off : off+size] {
				sg += float64(gv)
				sgx += float64(gv) * (float64(xd[off+i]) - mean) * inv
			}
		}
		if gs != nil {
			gs[cc] = float32(sgx)
		}
		if gb != nil {
			gb[cc] = float32(sg)
		}
		if gx == nil {
			return
		}
		k := float64(scale[cc]) * inv
		for n := 0; n < nb; n++ {
			off := (n*ch + cc) * size
			for i, gv := range g[off : off+size] {
				if !st.batch {
					gx[off+i] = float32(k * float64(gv))
					continue
				}
				xh := (float64(xd[off+i]) - mean) * inv
				gx[off+i] = float32(k * (float64(gv) - sg/count - xh*sgx/count))
			}
		}
	})
	return nil
}

// layerNormOp differentiates LayerNormalization from the mean and inverse standard
// deviation its forward kernel returns: with x̂ = (x − μ)·r and h = g·scale,
// dx = r·(h − mean(h) − x̂·mean(h·x̂)) over each normalized block.
type layerNormOp struct {
	kernelFwd
	axis int64
}

func (o *layerNormOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	x := f.in[0]
	xd, err := floats(x)
	if err != nil {
		return err
	}
	if len(f.out) < 3 {
		return fmt.Errorf("the forward kernel returned no statistics")
	}
	axis, err := kernel.NormalizeAxis(o.axis, len(x.Shape))
	if err != nil {
		return err
	}
	trail := x.Shape[axis:]
	blocks, size := shapeSize(x.Shape[:axis]), shapeSize(trail)
	scaleFull, err := expandTo(c, f.in[1], trail)
	if err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	mean, inv := f.out[1].Float32s(), f.out[2].Float32s()
	g := gout[0].Float32s()
	wantS := c.needGrad[1]
	wantB := len(f.in) > 2 && f.in[2] != nil && c.needGrad[2]
	var gsFull, gbFull, gx []float32
	if wantS {
		gsFull = c.a.zeros(size)
	}
	if wantB {
		gbFull = c.a.zeros(size)
	}
	if c.needGrad[0] {
		t := newGrad(c, x.Shape)
		gx, gin[0] = t.Float32s(), t
	}
	for bl := 0; bl < blocks; bl++ {
		xs, gs := xd[bl*size:(bl+1)*size], g[bl*size:(bl+1)*size]
		mu, r := float64(mean[bl]), float64(inv[bl])
		var sh, shx float64 // Σ h and Σ h·x̂
		for i, gv := range gs {
			xh := (float64(xs[i]) - mu) * r
			h := float64(gv) * float64(scaleFull[i])
			sh += h
			shx += h * xh
			if gsFull != nil {
				gsFull[i] += gv * float32(xh)
			}
			if gbFull != nil {
				gbFull[i] += gv
			}
		}
		if gx == nil {
			continue
		}
		n := float64(size)
		dst := gx[bl*size : (bl+1)*size]
		for i, gv := range gs {
			xh := (float64(xs[i]) - mu) * r
			h := float64(gv) * float64(scaleFull[i])
			dst[i] = float32(r * (h - sh/n - xh*shx/n))
		}
	}
	if wantS {
		gin[1] = sumTo(c, gsFull, trail, f.in[1].Shape, 1)
	}
	if wantB {
		gin[2] = sumTo(c, gbFull, trail, f.in[2].Shape, 1)
	}
	return nil
}

// expandTo returns t broadcast to shape, as a flat float32 slice.
func expandTo(c *runCtx, t *kernel.Tensor, shape []int64) ([]float32, error) {
	d, err := floats(t)
	if err != nil {
		return nil, err
	}
	if kernel.SameShape(t.Shape, shape) {
		return d, nil
	}
	if _, err := kernel.BroadcastShapes(t.Shape, shape); err != nil {
		return nil, err
	}
	out := c.a.floats(shapeSize(shape))
	kernel.BroadcastTo(out, shape, d, t.Shape)
	return out, nil
}

// dropoutOp zeroes each element with probability ratio in training and scales the rest by
// 1/(1 − ratio); in inference it is the identity. The mask of each element is a hash of
// the step's seed and the element's index, so it does not depend on thread count or on
// how many steps ran before in this process.
type dropoutOp struct {
	ratio      float32
	ratioInput bool
}

func (o *dropoutOp) forward(c *runCtx, in []*kernel.Tensor) ([]*kernel.Tensor, any, error) {
	x := in[0]
	xd, err := floats(x)
	if err != nil {
		return nil, nil, err
	}
	ratio := o.ratio
	if o.ratioInput {
		if t := kernel.Input(in, 1); t != nil {
			v, err := kernel.Float64sOf(t)
			if err != nil || len(v) != 1 {
				return nil, nil, fmt.Errorf("ratio must be a scalar")
			}
			ratio = float32(v[0])
		}
	}
	if ratio < 0 || ratio >= 1 {
		return nil, nil, fmt.Errorf("ratio %g is not in [0, 1)", ratio)
	}
	y := c.a.tensor(x.Shape)
	yd := y.Float32s()
	mask := &kernel.Tensor{DType: ir.Bool, Shape: x.Shape, Data: make([]bool, len(xd))}
	keep := mask.Data.([]bool)
	if c.mode != Training || ratio == 0 {
		copy(yd, xd)
		for i := range keep {
			keep[i] = true
		}
		return []*kernel.Tensor{y, mask}, nil, nil
	}
	scale := 1 / (1 - ratio)
	factors := c.a.floats(len(xd))
	for i, v := range xd {
		if rng.Float(rng.Mix(c.seed, uint64(i))) >= float64(ratio) {
			keep[i], factors[i] = true, scale
		} else {
			keep[i], factors[i] = false, 0
		}
		yd[i] = v * factors[i]
	}
	return []*kernel.Tensor{y, mask}, factors, nil
}

func (o *dropoutOp) backward(c *runCtx, f *fwd, gout, gin []*kernel.Tensor) error {
	g := gout[0].Float32s()
	gx := newGrad(c, f.in[0].Shape)
	d := gx.Float32s()
	factors, _ := f.aux.([]float32)
	if factors == nil {
		copy(d, g)
	} else {
		for i, v := range g {
			d[i] = v * factors[i]
		}
	}
	gin[0] = gx
	return nil
}

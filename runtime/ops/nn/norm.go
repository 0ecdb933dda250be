package nn

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "BatchNormalization", SinceVersion: 1, Types: floatTypes, New: newBatchNorm},
		kernel.KernelDef{Op: "InstanceNormalization", SinceVersion: 1, Types: floatTypes, New: newInstanceNorm},
		kernel.KernelDef{Op: "LayerNormalization", SinceVersion: 17, Types: floatTypes, New: newLayerNorm(false)},
		kernel.KernelDef{Op: "RMSNormalization", SinceVersion: 23, Types: floatTypes, New: newLayerNorm(true)},
		kernel.KernelDef{Op: "GroupNormalization", SinceVersion: 18, EndVersion: 20, Types: floatTypes, New: newGroupNorm(false)},
		kernel.KernelDef{Op: "GroupNormalization", SinceVersion: 21, Types: floatTypes, New: newGroupNorm(true)},
		kernel.KernelDef{Op: "LRN", SinceVersion: 1, Types: floatTypes, New: newLRN},
		kernel.KernelDef{Op: "LpNormalization", SinceVersion: 1, Types: floatTypes, New: newLpNorm},
	)
}

// readInputs converts the listed inputs to float32, failing on a missing one.
func readInputs(n *ir.Node, inputs []*kernel.Tensor, names ...string) ([][]float32, error) {
	out := make([][]float32, len(names))
	for i, name := range names {
		t := kernel.Input(inputs, i)
		if t == nil {
			return nil, opErr(n, "input %s is required", name)
		}
		d, err := asF32(t)
		if err != nil {
			return nil, opErr(n, "input %s: %v", name, err)
		}
		out[i] = d
	}
	return out, nil
}

type batchNormKernel struct {
	node     *ir.Node
	epsilon  float64
	momentum float32
	training bool
}

func newBatchNorm(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &batchNormKernel{node: n, epsilon: float64(n.AttrFloat("epsilon", 1e-5)),
		momentum: n.AttrFloat("momentum", 0.9), training: n.AttrInt("training_mode", 0) != 0}
	if info.Opset < 14 {
		// Before opset 14 extra outputs meant training (is_test = 0); only inference is served.
		if len(n.Outputs()) > 1 && n.AttrInt("is_test", 1) == 0 {
			return nil, opErr(n, "training-mode BatchNormalization before opset 14 is not supported")
		}
	}
	return k, nil
}

func (k *batchNormKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	d, err := readInputs(k.node, inputs, "X", "scale", "B", "input_mean", "input_var")
	if err != nil {
		return nil, err
	}
	x := inputs[0]
	xd, scale, bias, mean, vr := d[0], d[1], d[2], d[3], d[4]
	if len(x.Shape) < 2 {
		return nil, opErr(k.node, "X %v must have rank at least 2", x.Shape)
	}
	nBatch, c := int(x.Shape[0]), int(x.Shape[1])
	size := kernel.ShapeSize(x.Shape[2:])
	for i, p := range [][]float32{scale, bias, mean, vr} {
		if len(p) != c {
			return nil, opErr(k.node, "input %d has %d elements, want %d channels", i+1, len(p), c)
		}
	}
	out := allocOut(ctx, x.DType, x.Shape...)
	useMean, useVar := mean, vr
	var runMean, runVar outF32
	if k.training {
		if useMean, err = kernel.MakeScratch[float32](c); err != nil {
			return nil, err
		}
		if useVar, err = kernel.MakeScratch[float32](c); err != nil {
			return nil, err
		}
		cnt := float64(nBatch * size)
		for ch := 0; ch < c; ch++ {
			var s, sq float64
			// An empty X may declare any batch over empty spatial axes: the sums are 0
			// without visiting it.
			for n := 0; n < nBatch && len(xd) > 0; n++ {
				for _, v := range xd[(n*c+ch)*size : (n*c+ch+1)*size] {
					s += float64(v)
					sq += float64(v) * float64(v)
				}
			}
			m := s / cnt
			useMean[ch], useVar[ch] = float32(m), float32(sq/cnt-m*m)
		}
		runMean = allocOut(ctx, inputs[3].DType, int64(c))
		runVar = allocOut(ctx, inputs[4].DType, int64(c))
		for ch := 0; ch < c; ch++ {
			runMean.Buf[ch] = mean[ch]*k.momentum + useMean[ch]*(1-k.momentum)
			runVar.Buf[ch] = vr[ch]*k.momentum + useVar[ch]*(1-k.momentum)
		}
	}
	for n := 0; n < nBatch && len(xd) > 0; n++ {
		for ch := 0; ch < c; ch++ {
			a := scale[ch] / float32(math.Sqrt(float64(useVar[ch])+k.epsilon))
			b := bias[ch] - useMean[ch]*a
			src := xd[(n*c+ch)*size : (n*c+ch+1)*size]
			dst := out.Buf[(n*c+ch)*size : (n*c+ch+1)*size]
			for i, v := range src {
				dst[i] = v*a + b
			}
		}
	}
	res := []*kernel.Tensor{out.Done()}
	if k.training {
		res = append(res, runMean.Done(), runVar.Done())
	}
	return res, nil
}

// normalizeBlocks normalizes each of the blocks consecutive runs of size elements of x
// into y: y = (x − mean)·invStd (mean forced to 0 for RMS), returning per-block mean and
// 1/std. The block count comes from the shape alone: an empty x (size 0) may still have
// any number of blocks, so the statistics are weighed against the memory budget.
func normalizeBlocks(x, y []float32, blocks, size int, eps float64, rms bool) (means, invStd []float32, err error) {
	if means, err = kernel.MakeScratch[float32](blocks); err != nil {
		return nil, nil, err
	}
	if invStd, err = kernel.MakeScratch[float32](blocks); err != nil {
		return nil, nil, err
	}
	for b := 0; b < blocks; b++ {
		src := x[b*size : (b+1)*size]
		var s float64
		if !rms {
			for _, v := range src {
				s += float64(v)
			}
		}
		m := s / float64(size)
		var sq float64
		for _, v := range src {
			dv := float64(v) - m
			sq += dv * dv
		}
		inv := 1 / math.Sqrt(sq/float64(size)+eps)
		dst := y[b*size : (b+1)*size]
		for i, v := range src {
			dst[i] = float32((float64(v) - m) * inv)
		}
		means[b], invStd[b] = float32(m), float32(inv)
	}
	return means, invStd, nil
}

type instanceNormKernel struct {
	node    *ir.Node
	epsilon float64
}

func newInstanceNorm(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return &instanceNormKernel{node: info.Node, epsilon: float64(info.Node.AttrFloat("epsilon", 1e-5))}, nil
}

func (k *instanceNormKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	d, err := readInputs(k.node, inputs, "input", "scale", "B")
	if err != nil {
		return nil, err
	}
	x := inputs[0]
	if len(x.Shape) < 3 {
		return nil, opErr(k.node, "input %v must have rank at least 3", x.Shape)
	}
	nBatch, c := int(x.Shape[0]), int(x.Shape[1])
	size := kernel.ShapeSize(x.Shape[2:])
	if len(d[1]) != c || len(d[2]) != c {
		return nil, opErr(k.node, "scale and B must have %d elements", c)
	}
	out := allocOut(ctx, x.DType, x.Shape...)
	if _, _, err := normalizeBlocks(d[0], out.Buf, nBatch*c, size, k.epsilon, false); err != nil {
		return nil, err
	}
	scaleShiftChannels(out.Buf, nBatch, c, size, 1, d[1], d[2])
	return []*kernel.Tensor{out.Done()}, nil
}

// layerNormKernel serves LayerNormalization and RMSNormalization: normalize over the axes
// from axis on, then scale (and shift).
type layerNormKernel struct {
	node    *ir.Node
	axis    int64
	epsilon float64
	rms     bool
}

func newLayerNorm(rms bool) kernel.Factory {
	return func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		n := info.Node
		return &layerNormKernel{node: n, axis: n.AttrInt("axis", -1), epsilon: float64(n.AttrFloat("epsilon", 1e-5)), rms: rms}, nil
	}
}

func (k *layerNormKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || kernel.Input(inputs, 1) == nil {
		return nil, opErr(k.node, "inputs X and scale are required")
	}
	axis, err := kernel.NormalizeAxis(k.axis, len(x.Shape))
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	xd, err := asF32(x)
	if err != nil {
		return nil, opErr(k.node, "X: %w", err)
	}
	blocks, size := kernel.ShapeSize(x.Shape[:axis]), kernel.ShapeSize(x.Shape[axis:])
	scale, err := expandTrailing(inputs[1], x.Shape[axis:])
	if err != nil {
		return nil, opErr(k.node, "scale: %w", err)
	}
	var bias []float32
	if b := kernel.Input(inputs, 2); b != nil && !k.rms {
		if bias, err = expandTrailing(b, x.Shape[axis:]); err != nil {
			return nil, opErr(k.node, "B: %w", err)
		}
	}
	out := allocOut(ctx, x.DType, x.Shape...)
	means, invStd, err := normalizeBlocks(xd, out.Buf, blocks, size, k.epsilon, k.rms)
	if err != nil {
		return nil, err
	}
	for b := 0; b < blocks; b++ {
		row := out.Buf[b*size : (b+1)*size]
		for i := range row {
			row[i] *= scale[i]
			if bias != nil {
				row[i] += bias[i]
			}
		}
	}
	res := []*kernel.Tensor{out.Done()}
	if !k.rms {
		statShape := append([]int64(nil), x.Shape...)
		for i := axis; i < len(statShape); i++ {
			statShape[i] = 1
		}
		// Mean and InvStdDev have the stash type, float unless stash_type says otherwise.
		for _, stat := range [][]float32{means, invStd} {
			t := ctx.Alloc(ir.Float, statShape...)
			copy(t.Float32s(), stat)
			res = append(res, t)
		}
	}
	return res, nil
}

// expandTrailing broadcasts t to shape (the trailing axes of the input) and returns its
// elements in that shape's row-major order.
func expandTrailing(t *kernel.Tensor, shape []int64) ([]float32, error) {
	d, err := asF32(t)
	if err != nil {
		return nil, err
	}
	n := kernel.ShapeSize(shape)
	if len(d) == n && len(t.Shape) <= len(shape) {
		return d, nil
	}
	if len(t.Shape) > len(shape) {
		return nil, errShape(t.Shape, shape)
	}
	// Right-aligned broadcast: stride 0 on axes of size 1.
	off := len(shape) - len(t.Shape)
	strides := make([]int, len(shape))
	s := 1
	for i := len(t.Shape) - 1; i >= 0; i-- {
		switch t.Shape[i] {
		case shape[off+i]:
			strides[off+i] = s
		case 1:
		default:
			return nil, errShape(t.Shape, shape)
		}
		s *= int(t.Shape[i])
	}
	// shape is the input's trailing axes, of any size when the input is empty.
	out, err := kernel.MakeScratch[float32](n)
	if err != nil {
		return nil, err
	}
	od := newOdometer(toInts(shape))
	for i := 0; i < n; i++ {
		src := 0
		for a, v := range od.idx {
			src += v * strides[a]
		}
		out[i] = d[src]
		od.next()
	}
	return out, nil
}

type shapeError struct{ got, want []int64 }

func (e shapeError) Error() string {
	return "shape " + shapeString(e.got) + " does not broadcast to " + shapeString(e.want)
}

func errShape(got, want []int64) error { return shapeError{got, want} }

func shapeString(s []int64) string {
	b := []byte{'['}
	for i, v := range s {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendInt(b, v)
	}
	return string(append(b, ']'))
}

func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

type groupNormKernel struct {
	node       *ir.Node
	numGroups  int
	epsilon    float64
	perChannel bool // opset 21: scale and bias have one value per channel, not per group
}

func newGroupNorm(perChannel bool) kernel.Factory {
	return func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		n := info.Node
		g := int(n.AttrInt("num_groups", 0))
		if g <= 0 {
			return nil, opErr(n, "attribute num_groups must be positive, got %d", g)
		}
		return &groupNormKernel{node: n, numGroups: g, epsilon: float64(n.AttrFloat("epsilon", 1e-5)), perChannel: perChannel}, nil
	}
}

func (k *groupNormKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	d, err := readInputs(k.node, inputs, "X", "scale", "bias")
	if err != nil {
		return nil, err
	}
	x := inputs[0]
	if len(x.Shape) < 2 {
		return nil, opErr(k.node, "X %v must have rank at least 2", x.Shape)
	}
	nBatch, c := int(x.Shape[0]), int(x.Shape[1])
	g := k.numGroups
	if c%g != 0 {
		return nil, opErr(k.node, "%d channels are not divisible into %d groups", c, g)
	}
	want := g
	if k.perChannel {
		want = c
	}
	if len(d[1]) != want || len(d[2]) != want {
		return nil, opErr(k.node, "scale and bias must have %d elements", want)
	}
	spatial := kernel.ShapeSize(x.Shape[2:])
	out := allocOut(ctx, x.DType, x.Shape...)
	if len(out.Buf) == 0 {
		// No channels (any group count divides zero) or an empty batch: nothing to
		// normalize, and nBatch·g below could overflow.
		return []*kernel.Tensor{out.Done()}, nil
	}
	if _, _, err := normalizeBlocks(d[0], out.Buf, nBatch*g, c/g*spatial, k.epsilon, false); err != nil {
		return nil, err
	}
	channelsPerParam := c / g
	if k.perChannel {
		channelsPerParam = 1
	}
	scaleShiftChannels(out.Buf, nBatch, c, spatial, channelsPerParam, d[1], d[2])
	return []*kernel.Tensor{out.Done()}, nil
}

// scaleShiftChannels applies y = y·scale[p] + bias[p] to y laid out [batch, c, spatial],
// where p = ch / channelsPerParam is the parameter index of channel ch.
func scaleShiftChannels(y []float32, nBatch, c, spatial, channelsPerParam int, scale, bias []float32) {
	if len(y) == 0 {
		return // nBatch·c may be anything when spatial is 0
	}
	for n := 0; n < nBatch; n++ {
		for ch := 0; ch < c; ch++ {
			s, b := scale[ch/channelsPerParam], bias[ch/channelsPerParam]
			row := y[(n*c+ch)*spatial : (n*c+ch+1)*spatial]
			for i := range row {
				row[i] = row[i]*s + b
			}
		}
	}
}

type lrnKernel struct {
	node              *ir.Node
	size              int
	alpha, beta, bias float64
}

func newLRN(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	size := int(n.AttrInt("size", 0))
	if size <= 0 {
		return nil, opErr(n, "attribute size must be positive, got %d", size)
	}
	return &lrnKernel{node: n, size: size, alpha: float64(n.AttrFloat("alpha", 1e-4)),
		beta: float64(n.AttrFloat("beta", 0.75)), bias: float64(n.AttrFloat("bias", 1))}, nil
}

func (k *lrnKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	d, err := readInputs(k.node, inputs, "X")
	if err != nil {
		return nil, err
	}
	x := inputs[0]
	if len(x.Shape) < 2 {
		return nil, opErr(k.node, "X %v must have rank at least 2", x.Shape)
	}
	nBatch, c := int(x.Shape[0]), int(x.Shape[1])
	spatial := kernel.ShapeSize(x.Shape[2:])
	out := allocOut(ctx, x.DType, x.Shape...)
	// The window of channel c is [c − floor((size−1)/2), c + ceil((size−1)/2)].
	lo := (k.size - 1) / 2
	hi := k.size - 1 - lo
	xd := d[0]
	// An empty X may declare any nBatch·c over empty spatial axes.
	for n := 0; n < nBatch && len(xd) > 0; n++ {
		for ch := 0; ch < c; ch++ {
			for i := 0; i < spatial; i++ {
				var sq float64
				for cc := max(0, ch-lo); cc <= min(c-1, ch+hi); cc++ {
					v := float64(xd[(n*c+cc)*spatial+i])
					sq += v * v
				}
				idx := (n*c+ch)*spatial + i
				out.Buf[idx] = float32(float64(xd[idx]) / math.Pow(k.bias+k.alpha/float64(k.size)*sq, k.beta))
			}
		}
	}
	return []*kernel.Tensor{out.Done()}, nil
}

type lpNormKernel struct {
	node *ir.Node
	axis int64
	p    int64
}

func newLpNorm(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	p := n.AttrInt("p", 2)
	if p != 1 && p != 2 {
		return nil, opErr(n, "p = %d: only 1 and 2 are defined", p)
	}
	return &lpNormKernel{node: n, axis: n.AttrInt("axis", -1), p: p}, nil
}

func (k *lpNormKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	d, err := readInputs(k.node, inputs, "input")
	if err != nil {
		return nil, err
	}
	x := inputs[0]
	axis, err := kernel.NormalizeAxis(k.axis, len(x.Shape))
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	outer, dim, inner := kernel.ShapeSize(x.Shape[:axis]), int(x.Shape[axis]), kernel.ShapeSize(x.Shape[axis+1:])
	out := allocOut(ctx, x.DType, x.Shape...)
	// An empty x leaves outer·inner unbounded by the data.
	for o := 0; o < outer && len(d[0]) > 0; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			var norm float64
			for j := 0; j < dim; j++ {
				v := float64(d[0][base+j*inner])
				if k.p == 1 {
					norm += math.Abs(v)
				} else {
					norm += v * v
				}
			}
			if k.p == 2 {
				norm = math.Sqrt(norm)
			}
			for j := 0; j < dim; j++ {
				v := d[0][base+j*inner]
				if norm == 0 {
					out.Buf[base+j*inner] = 0
				} else {
					out.Buf[base+j*inner] = float32(float64(v) / norm)
				}
			}
		}
	}
	return []*kernel.Tensor{out.Done()}, nil
}

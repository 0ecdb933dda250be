package quant

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// QLookup is the private operator the QDQ rules put in place of DequantizeLinear → a unary
// float operator (Sigmoid, Tanh, HardSwish, ...) → QuantizeLinear, both quantizations per
// tensor:
//
//	QLookup(x, x_scale, x_zp, y_scale, y_zp[, the operator's other inputs])
//
// with attribute lookup_op (and lookup_opset, the default domain's opset) naming the
// operator, whose own attributes the node carries. An 8-bit input has 256 values, so the
// factory runs the three operators once on all of them and the kernel is a table: exactly
// the unfused result, in any layout.
const OpQLookup = prepare.OpQLookup

func init() {
	kernel.Register(kernel.KernelDef{Domain: Domain, Op: OpQLookup, SinceVersion: 1, New: newQLookup})
}

type qlookup struct {
	node  *ir.Node
	xType ir.DataType
	yType ir.DataType
	table [256]uint8
}

func newQLookup(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	c, err := consts(info, max(len(n.Inputs()), 5))
	if err != nil {
		return nil, err
	}
	table, xType, yType, err := lookupTable(n, c[1], c[2], c[3], c[4], c[min(5, len(c)):])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	return &qlookup{node: n, xType: xType, yType: yType, table: table}, nil
}

// lookupTable runs DequantizeLinear(·, xs, xz) → the node's lookup_op (its attributes, then
// extra as its other inputs) → QuantizeLinear(·, ys, yz) on the 256 input bytes: the table
// of QLookup, and its input and output types.
func lookupTable(n *ir.Node, xs, xz, ys, yz *kernel.Tensor, extra []*kernel.Tensor) (table [256]uint8, xType, yType ir.DataType, err error) {
	if _, _, xType, err = qparams(xs, xz); err != nil {
		return table, 0, 0, err
	}
	if _, _, yType, err = qparams(ys, yz); err != nil {
		return table, 0, 0, err
	}
	op, opset := n.AttrString("lookup_op", ""), n.AttrInt("lookup_opset", 0)
	if op == "" || opset < 1 {
		return table, 0, 0, fmt.Errorf("lookup_op and lookup_opset are required")
	}
	// Every input value, in order of its byte.
	x := kernel.New(xType, 256)
	xb, _ := byteData(x)
	for i := range xb {
		xb[i] = uint8(i)
	}
	run := func(op string, opset int64, attrs []*ir.Attr, in ...*kernel.Tensor) (*kernel.Tensor, error) {
		g := ir.NewGraph("lookup")
		vals := make([]*ir.Value, len(in))
		for i, t := range in {
			if t != nil {
				vals[i] = g.AddInput(fmt.Sprintf("in%d", i), ir.TensorTypeOf(t.DType, t.Shape...))
			}
		}
		node := g.NewNode("", op, vals, []string{"y"}, attrs...)
		def, err := kernel.Lookup("", op, opset, in[0].DType)
		if err != nil {
			return nil, err
		}
		kk, err := def.New(&kernel.NodeInfo{Node: node, Opset: opset, Consts: in})
		if err != nil {
			return nil, err
		}
		out, err := kk.Run(&kernel.Context{}, in)
		if err != nil {
			return nil, err
		}
		return out[0], nil
	}
	f, err := run("DequantizeLinear", 13, nil, x, xs, xz)
	if err != nil {
		return table, 0, 0, err
	}
	var attrs []*ir.Attr
	for _, a := range n.Attrs {
		switch a.Name {
		case "lookup_op", "lookup_opset", "act_min", "act_max":
		default:
			attrs = append(attrs, a)
		}
	}
	f, err = run(op, opset, attrs, append([]*kernel.Tensor{f}, extra...)...)
	if err != nil {
		return table, 0, 0, fmt.Errorf("%s: %w", op, err)
	}
	q, err := run("QuantizeLinear", 13, nil, f, ys, yz)
	if err != nil {
		return table, 0, 0, err
	}
	qb, _ := byteData(q)
	copy(table[:], qb)
	return table, xType, yType, nil
}

// QMulLookup is the private operator for QLookup(x) multiplied by x again with QMul (SiLU,
// x·Sigmoid(x), quantized as QDQ groups):
//
//	QMulLookup(x, x_scale, x_zp, t_scale, t_zp, y_scale, y_zp[, the operator's other inputs])
//
// with QLookup's attributes, and QMul's act_min/act_max. Its table holds, for each byte of
// x, QMul's result on that byte and QLookup's (with t's parameters): exactly the two
// kernels' result.
const OpQMulLookup = prepare.OpQMulLookup

func init() {
	kernel.Register(kernel.KernelDef{Domain: Domain, Op: OpQMulLookup, SinceVersion: 1, New: newQMulLookup})
}

func newQMulLookup(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	c, err := consts(info, max(len(n.Inputs()), 7))
	if err != nil {
		return nil, err
	}
	t, xType, tType, err := lookupTable(n, c[1], c[2], c[3], c[4], c[min(7, len(c)):])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	m, err := newQMulParams(n, c[1], c[2], c[3], c[4], c[5], c[6])
	if err != nil {
		return nil, err
	}
	if m.aType != xType || m.bType != tType {
		return nil, fmt.Errorf("%s: inconsistent types", n.Describe())
	}
	k := &qlookup{node: n, xType: xType, yType: m.yType}
	var x [256]uint8
	for i := range x {
		x[i] = uint8(i)
	}
	m.mulRunGo(x[:], t[:], k.table[:])
	return k, nil
}

func (k *qlookup) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qlookup) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil || x.DType != k.xType {
		return nil, fmt.Errorf("input x must be a %s tensor", k.xType)
	}
	y := ctx.Alloc(k.yType, x.Shape...)
	xb, _ := byteData(x)
	yb, _ := byteData(y)
	size, jobs := linalg.Chunks(len(xb), 4*ctx.Parallelism(), 1<<15)
	if jobs < 2 || ctx.Parallelism() < 2 {
		k.lookup(xb, yb)
		return y, nil
	}
	linalg.ForCost(ctx.Parallelism(), jobs, size, func(j int) {
		lo, hi := j*size, min(len(xb), (j+1)*size)
		k.lookup(xb[lo:hi], yb[lo:hi])
	})
	return y, nil
}

func (k *qlookup) lookup(x, y []uint8) { lookupBytes(&k.table, x, y) }

// lookupBytesGo is lookupBytes' portable loop, the oracle of its vector kernel: y[i] =
// t[x[i]] for i < len(y).
func lookupBytesGo(t *[256]uint8, x, y []uint8) {
	for i, v := range x[:len(y)] {
		y[i] = t[v]
	}
}

// QMul is the private operator for DequantizeLinear(a), DequantizeLinear(b) → Mul →
// QuantizeLinear: QMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp), in float32 exactly
// as the unfused operators compute it. b has a's shape, or is one value per image and
// channel of an NHWC a ([N, 1, 1, C] against [N, H, W, C]: a squeeze-and-excitation scale).
const OpQMul = prepare.OpQMul

func init() {
	kernel.Register(kernel.KernelDef{Domain: Domain, Op: OpQMul, SinceVersion: 1, New: newQMul})
}

type qmul struct {
	node         *ir.Node
	aType, bType ir.DataType
	yType        ir.DataType
	da, db       [256]float32 // the dequantized value of every byte
	sy, zy       float32
	lo, hi       float32
	consts       qaddConsts // the same parameters for the vector kernels
}

func newQMul(info *kernel.NodeInfo) (kernel.Kernel, error) {
	c, err := consts(info, 8, 3)
	if err != nil {
		return nil, err
	}
	return newQMulParams(info.Node, c[1], c[2], c[4], c[5], c[6], c[7])
}

// newQMulParams is the QMul of node n with the given quantization parameters of a, b and y
// (n supplies act_min and act_max).
func newQMulParams(n *ir.Node, as, az, bs, bz, ys, yz *kernel.Tensor) (*qmul, error) {
	k := &qmul{node: n}
	sa, za, aType, e1 := qparams(as, az)
	sb, zb, bType, e2 := qparams(bs, bz)
	sy, zy, yType, e3 := qparams(ys, yz)
	for _, e := range []error{e1, e2, e3} {
		if e != nil {
			return nil, fmt.Errorf("%s: %w", n.Describe(), e)
		}
	}
	k.aType, k.bType, k.yType, k.sy, k.zy = aType, bType, yType, sy, float32(zy)
	fillTable := func(t *[256]float32, dt ir.DataType, s float32, z int32) {
		for b := range t {
			v := int64(b)
			if dt == ir.Int8 {
				v = int64(int8(b))
			}
			t[b] = float32(float64(v-int64(z)) * float64(s))
		}
	}
	fillTable(&k.da, aType, sa, za)
	fillTable(&k.db, bType, sb, zb)
	lo, hi := typeRange(yType)
	lo, hi = actClamp(n, sy, zy, lo, hi)
	k.lo, k.hi = float32(lo), float32(hi)
	k.consts = qaddConsts{za: za, zb: zb, sa: sa, sb: sb, sy: sy, zy: float32(zy), lo: k.lo, hi: k.hi}
	return k, nil
}

func (k *qmul) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qmul) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	a, b := kernel.Input(inputs, 0), kernel.Input(inputs, 3)
	if a == nil || b == nil || a.DType != k.aType || b.DType != k.bType {
		return nil, fmt.Errorf("inputs a and b must be %s and %s tensors", k.aType, k.bType)
	}
	ab, _ := byteData(a)
	bb, _ := byteData(b)
	// per: how many consecutive elements of a share one element of b.
	perImage, channels := 0, 0
	switch {
	case kernel.SameShape(a.Shape, b.Shape):
	case len(a.Shape) == 4 && len(b.Shape) == 4 && b.Shape[0] == a.Shape[0] && b.Shape[1] == 1 && b.Shape[2] == 1 && b.Shape[3] == a.Shape[3]:
		perImage, channels = int(a.Shape[1]*a.Shape[2]*a.Shape[3]), int(a.Shape[3])
	default:
		return nil, fmt.Errorf("shapes %v and %v: b must have a's shape or be per image and channel", a.Shape, b.Shape)
	}
	y := ctx.Alloc(k.yType, a.Shape...)
	yb, _ := byteData(y)
	if perImage == 0 {
		k.mulRun(ab, bb, yb)
		return y, nil
	}
	// Per channel: the factors dequantized once per image, then runs of whole pixels.
	bf := linalg.GetFloat32(channels)
	defer bf.Release()
	pixels := perImage / max(channels, 1)
	for img := 0; img*perImage < len(ab); img++ {
		for j, v := range bb[img*channels : (img+1)*channels] {
			bf.Buf[j] = k.db[v]
		}
		ai, bi, yi := ab[img*perImage:(img+1)*perImage], bb[img*channels:(img+1)*channels], yb[img*perImage:(img+1)*perImage]
		size, jobs := linalg.Chunks(pixels, 4*ctx.Parallelism(), max(1, 1<<12/max(channels, 1)))
		linalg.ForCost(ctx.Parallelism(), jobs, size*channels, func(j int) {
			lo, hi := j*size*channels, min(pixels, (j+1)*size)*channels
			k.mulChannels(ai[lo:hi], bi, bf.Buf[:channels], yi[lo:hi])
		})
	}
	return y, nil
}

// mulChannelsGo is mulChannels' portable loop, the oracle of its vector kernel: mulRunGo
// with b's dequantized value bf[i mod len(bf)].
func (k *qmul) mulChannelsGo(a []uint8, bf []float32, y []uint8) {
	lo, hi, sy, zy := k.lo, k.hi, k.sy, k.zy
	c := len(bf)
	for p := 0; p+c <= len(y); p += c {
		for i, av := range a[p : p+c] {
			q := float32(math.RoundToEven(float64(float32(k.da[av]*bf[i])/sy))) + zy
			if q < lo {
				q = lo
			} else if q > hi {
				q = hi
			}
			y[p+i] = uint8(int32(q))
		}
	}
}

// mulRunGo is mulRun's portable loop, the oracle of its vector kernels.
func (k *qmul) mulRunGo(a, b, y []uint8) {
	lo, hi, sy, zy := k.lo, k.hi, k.sy, k.zy
	b = b[:len(y)]
	for i, av := range a[:len(y)] {
		// Each step rounds to float32, as the unfused operators do (no fused multiply-add).
		p := float32(k.da[av] * k.db[b[i]])
		q := float32(math.RoundToEven(float64(p/sy))) + zy
		if q < lo {
			q = lo
		} else if q > hi {
			q = hi
		}
		y[i] = uint8(int32(q))
	}
}

// QConcat is the private operator for DequantizeLinear(x_i)... → Concat → QuantizeLinear:
// QConcat(x_0, x_scale_0, x_zp_0, x_1, ..., y_scale, y_zp) with Concat's axis (of the
// tensors as given). Each input is requantized to the output's parameters through a table
// of its 256 values — Q(DQ(x)) exactly as the unfused operators compute it — while it is
// copied into place.
const OpQConcat = prepare.OpQConcat

func init() {
	kernel.Register(kernel.KernelDef{Domain: Domain, Op: OpQConcat, SinceVersion: 1, New: newQConcat})
}

type qconcat struct {
	node   *ir.Node
	axis   int64
	yType  ir.DataType
	types  []ir.DataType
	tables [][256]uint8
	same   []bool // input i has the output's parameters: a plain copy
}

func newQConcat(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	nIn := len(n.Inputs())
	if nIn < 5 || (nIn-2)%3 != 0 {
		return nil, fmt.Errorf("%s: want triples of x, x_scale, x_zp, then y_scale and y_zp; got %d inputs", n.Describe(), nIn)
	}
	fail := func(err error) (kernel.Kernel, error) { return nil, fmt.Errorf("%s: %w", n.Describe(), err) }
	constAt := func(i int) (*kernel.Tensor, error) {
		t, ok := constInput(info, i)
		if !ok {
			return nil, fmt.Errorf("input %d must be a constant", i)
		}
		return t, nil
	}
	ysT, err := constAt(nIn - 2)
	if err != nil {
		return fail(err)
	}
	yzT, err := constAt(nIn - 1)
	if err != nil {
		return fail(err)
	}
	sy, zy, yType, err := qparams(ysT, yzT)
	if err != nil {
		return fail(err)
	}
	lo, hi := typeRange(yType)
	k := &qconcat{node: n, axis: n.AttrInt("axis", 0), yType: yType}
	for i := 0; i < nIn-2; i += 3 {
		sT, err := constAt(i + 1)
		if err != nil {
			return fail(err)
		}
		zT, err := constAt(i + 2)
		if err != nil {
			return fail(err)
		}
		s, z, dt, err := qparams(sT, zT)
		if err != nil {
			return fail(err)
		}
		var t [256]uint8
		for b := range t {
			v := int64(b)
			if dt == ir.Int8 {
				v = int64(int8(b))
			}
			f := float32(float64(v-int64(z)) * float64(s))
			t[b] = uint8(quantizeScalar(f, sy, zy, lo, hi))
		}
		k.types = append(k.types, dt)
		k.tables = append(k.tables, t)
		k.same = append(k.same, s == sy && z == zy && dt == yType)
	}
	return k, nil
}

func (k *qconcat) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return runNamed(k.node, k.run, ctx, inputs)
}

func (k *qconcat) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	xs := make([]*kernel.Tensor, 0, len(k.types))
	for i := range k.types {
		x := kernel.Input(inputs, 3*i)
		if x == nil || x.DType != k.types[i] {
			return nil, fmt.Errorf("input %d must be a %s tensor", 3*i, k.types[i])
		}
		xs = append(xs, x)
	}
	rank := len(xs[0].Shape)
	axis, err := kernel.NormalizeAxis(k.axis, rank)
	if err != nil {
		return nil, err
	}
	shape := append([]int64(nil), xs[0].Shape...)
	shape[axis] = 0
	for _, x := range xs {
		if len(x.Shape) != rank {
			return nil, fmt.Errorf("inputs of ranks %d and %d", rank, len(x.Shape))
		}
		for d := range x.Shape {
			if d != axis && x.Shape[d] != xs[0].Shape[d] {
				return nil, fmt.Errorf("shapes %v and %v differ off axis %d", xs[0].Shape, x.Shape, axis)
			}
		}
		shape[axis] += x.Shape[axis]
	}
	y := ctx.Alloc(k.yType, shape...)
	yb, _ := byteData(y)
	outer := kernel.ShapeSize(shape[:axis])
	yInner := kernel.ShapeSize(shape[axis:])
	off := 0
	for i, x := range xs {
		xb, _ := byteData(x)
		inner := kernel.ShapeSize(x.Shape[axis:])
		t := &k.tables[i]
		for o := 0; o < outer; o++ {
			src := xb[o*inner : (o+1)*inner]
			dst := yb[o*yInner+off : o*yInner+off+inner]
			if k.same[i] {
				copy(dst, src)
				continue
			}
			lookupBytes(t, src, dst)
		}
		off += inner
	}
	return y, nil
}

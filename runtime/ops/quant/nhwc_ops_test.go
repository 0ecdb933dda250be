package quant

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"slices"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/internal/kerneltest"
	"github.com/whittle-ml/whittle/runtime/kernel"
	_ "github.com/whittle-ml/whittle/runtime/ops/elementwise"
	_ "github.com/whittle-ml/whittle/runtime/ops/nn"
	_ "github.com/whittle-ml/whittle/runtime/ops/tensor"
)

// newPrivateNode builds a kernel of the private domain with inputs 1.. passed as constants.
func newPrivateNode(t testing.TB, op string, attrs []*ir.Attr, inputs []*kernel.Tensor) kernel.Kernel {
	t.Helper()
	g := ir.NewGraph("test")
	info := &kernel.NodeInfo{Opset: 1}
	var vals []*ir.Value
	for i, in := range inputs {
		var v *ir.Value
		var c *kernel.Tensor
		if in != nil {
			v = g.AddInput(fmt.Sprintf("in%d", i), ir.TensorTypeOf(in.DType, in.Shape...))
			if i > 0 {
				c = in
			}
			info.InputTypes = append(info.InputTypes, v.Type)
		} else {
			info.InputTypes = append(info.InputTypes, nil)
		}
		vals = append(vals, v)
		info.Consts = append(info.Consts, c)
	}
	info.Node = g.NewNode(Domain, op, vals, []string{"y"}, attrs...)
	def, err := kernel.Lookup(Domain, op, 1, inputs[0].DType)
	if err != nil {
		t.Fatal(err)
	}
	k, err := def.New(info)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func run1(t testing.TB, k kernel.Kernel, inputs ...*kernel.Tensor) *kernel.Tensor {
	t.Helper()
	out, err := k.Run(&kernel.Context{Threads: 2}, inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

// nhwcOf returns an NCHW 8-bit tensor in NHWC layout (and back with nchwOf).
func nhwcOf(t *kernel.Tensor) *kernel.Tensor { return transposed(t, true) }

func nchwOf(t *kernel.Tensor) *kernel.Tensor { return transposed(t, false) }

func transposed(t *kernel.Tensor, toNHWC bool) *kernel.Tensor {
	op := map[bool]string{true: OpQToNHWC, false: OpQToNCHW}[toNHWC]
	k := &qtranspose{node: ir.NewGraph("t").NewNode(Domain, op, nil, []string{"y"}), toNHWC: toNHWC}
	out, err := k.Run(&kernel.Context{}, []*kernel.Tensor{t})
	if err != nil {
		panic(err)
	}
	return out[0]
}

// TestQConvNHWC: the private convolution on NHWC tensors equals QLinearConv's reference on
// the NCHW ones, and a folded Relu/Clip clamps at the quantized bounds.
func TestQConvNHWC(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	for _, cs := range convCases() {
		in, attrs := cs.inputs(r)
		ref := newPreparedNode(t, "QLinearConv", attrs, in, []bool{false, true, true, true, true, true, true, true, true}).(*qlinearConv)
		want, err := ref.runReference(&kernel.Context{}, in)
		if err != nil {
			t.Fatal(err)
		}
		nin := append([]*kernel.Tensor{nhwcOf(in[0])}, in[1:]...)
		got := nchwOf(run1(t, newPrivateNode(t, OpQConvNHWC, attrs, nin), nin...))
		if err := quantClose(got, want); err != nil {
			t.Fatalf("%v: NHWC convolution: %v", cs, err)
		}
		// Clip(0.5, 2) before the output's QuantizeLinear.
		ys, yz, yt, _ := qparams(in[6], in[7])
		lo, hi := typeRange(yt)
		qlo, qhi := quantizeScalar(0.5, ys, yz, lo, hi), quantizeScalar(2, ys, yz, lo, hi)
		clipped := newPrivateNode(t, OpQConvNHWC, append(attrs, ir.FloatAttr("act_min", 0.5), ir.FloatAttr("act_max", 2)), nin)
		got = nchwOf(run1(t, clipped, nin...))
		wb, _ := byteData(want)
		gb, _ := byteData(got)
		for i := range wb {
			w := int32(wb[i])
			if yt == ir.Int8 {
				w = int32(int8(wb[i]))
			}
			w = max(qlo, min(qhi, w))
			if d := int32(int8(gb[i] - uint8(w))); d < -1 || d > 1 {
				t.Fatalf("%v: clipped output %d = %d, want %d", cs, i, gb[i], uint8(w))
			}
		}
	}
}

func randTensor(r *rand.Rand, dt ir.DataType, shape ...int64) *kernel.Tensor {
	n := kernel.ShapeSize(shape)
	if dt == ir.Int8 {
		d := make([]int8, n)
		for i := range d {
			d[i] = int8(r.Intn(256) - 128)
		}
		return tensor(dt, shape, d)
	}
	d := make([]uint8, n)
	for i := range d {
		d[i] = uint8(r.Intn(256))
	}
	return tensor(dt, shape, d)
}

func zeroPoint(dt ir.DataType, v int) *kernel.Tensor {
	if dt == ir.Int8 {
		return tensor(dt, []int64{}, []int8{int8(v)})
	}
	return tensor(dt, []int64{}, []uint8{uint8(v)})
}

// refChain runs DequantizeLinear on each of xs, then op, then QuantizeLinear: the unfused
// operators a private one replaces.
func refChain(t *testing.T, op string, attrs []*ir.Attr, xs []*kernel.Tensor, params [][2]*kernel.Tensor, out [2]*kernel.Tensor) *kernel.Tensor {
	t.Helper()
	var fs []*kernel.Tensor
	for i, x := range xs {
		fs = append(fs, kerneltest.MustRunOne(t, "DequantizeLinear", 13, nil, x, params[i][0], params[i][1]))
	}
	y := kerneltest.MustRunOne(t, op, 13, attrs, fs...)
	return kerneltest.MustRunOne(t, "QuantizeLinear", 13, nil, y, out[0], out[1])
}

// TestQAdd: QAdd equals DequantizeLinear → Add → QuantizeLinear exactly, for every type mix
// and every elementwise kernel set this machine runs.
func TestQAdd(t *testing.T) {
	for _, v := range elementwiseVariants() {
		t.Run(v, func(t *testing.T) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			testQAdd(t)
		})
	}
}

func testQAdd(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, types := range [][3]ir.DataType{{ir.Uint8, ir.Uint8, ir.Uint8}, {ir.Int8, ir.Uint8, ir.Int8}, {ir.Uint8, ir.Int8, ir.Uint8}} {
		shape := []int64{1, 7, 5, 33}
		a, b := randTensor(r, types[0], shape...), randTensor(r, types[1], shape...)
		pa := [2]*kernel.Tensor{scalarF(0.031), zeroPoint(types[0], 7)}
		pb := [2]*kernel.Tensor{scalarF(0.017), zeroPoint(types[1], 100)}
		py := [2]*kernel.Tensor{scalarF(0.043), zeroPoint(types[2], 20)}
		want := refChain(t, "Add", nil, []*kernel.Tensor{a, b}, [][2]*kernel.Tensor{pa, pb}, py)
		in := []*kernel.Tensor{a, pa[0], pa[1], b, pb[0], pb[1], py[0], py[1]}
		got := run1(t, newPrivateNode(t, OpQAdd, nil, in), in...)
		if !reflect.DeepEqual(got.Data, want.Data) {
			t.Fatalf("%v: QAdd differs from the unfused operators", types)
		}
	}
}

// TestQMaxPoolNHWC: the NHWC pool equals DequantizeLinear → MaxPool → QuantizeLinear with
// the same parameters (exactly: both quantization steps are monotonic), with every
// elementwise kernel set this machine runs.
func TestQMaxPoolNHWC(t *testing.T) {
	for _, v := range elementwiseVariants() {
		t.Run(v, func(t *testing.T) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			testQMaxPoolNHWC(t)
		})
	}
}

func testQMaxPoolNHWC(t *testing.T) {
	r := rand.New(rand.NewSource(10))
	for _, tc := range []struct {
		dt    ir.DataType
		shape []int64
		attrs []*ir.Attr
	}{
		{ir.Uint8, []int64{1, 64, 9, 9}, []*ir.Attr{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1)}},
		{ir.Int8, []int64{2, 5, 7, 6}, []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 3), ir.IntsAttr("strides", 1, 2), ir.IntsAttr("pads", 0, 1, 1, 0)}},
		{ir.Uint8, []int64{1, 3, 8, 8}, []*ir.Attr{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntAttr("ceil_mode", 1)}},
		{ir.Int8, []int64{1, 40, 6, 6}, []*ir.Attr{ir.IntsAttr("kernel_shape", 3, 3), ir.StringAttr("auto_pad", "SAME_UPPER"), ir.IntsAttr("dilations", 2, 1)}},
		{ir.Int8, []int64{1, 100, 5, 5}, []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 1, 1)}},
		{ir.Uint8, []int64{1, 130, 4, 4}, []*ir.Attr{ir.IntsAttr("kernel_shape", 1, 1)}},
	} {
		x := randTensor(r, tc.dt, tc.shape...)
		p := [2]*kernel.Tensor{scalarF(0.05), zeroPoint(tc.dt, 3)}
		want := refChain(t, "MaxPool", tc.attrs, []*kernel.Tensor{x}, [][2]*kernel.Tensor{p}, p)
		got := nchwOf(run1(t, newPrivateNode(t, OpQMaxPoolNHWC, tc.attrs, []*kernel.Tensor{nhwcOf(x)}), nhwcOf(x)))
		if !reflect.DeepEqual(got.Shape, want.Shape) || !reflect.DeepEqual(got.Data, want.Data) {
			t.Fatalf("%v %v: NHWC MaxPool %v differs from the unfused operators %v", tc.dt, tc.shape, got.Shape, want.Shape)
		}
	}
}

// TestQGlobalAveragePoolNHWC: within one quantization step of the unfused operators (whose
// float32 sum rounds differently).
func TestQGlobalAveragePoolNHWC(t *testing.T) {
	for _, v := range elementwiseVariants() {
		t.Run(v, func(t *testing.T) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			testQGlobalAveragePoolNHWC(t)
		})
	}
}

// testQGlobalAveragePoolNHWC: 37 channels (blocks of 16 and a tail), 150 (blocks of 64 and
// a tail; on 40×40 pixels, enough work for two threads).
func testQGlobalAveragePoolNHWC(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for _, tc := range []struct {
		dt    ir.DataType
		c, hw int64
	}{{ir.Uint8, 37, 7}, {ir.Int8, 37, 7}, {ir.Uint8, 150, 7}, {ir.Int8, 150, 40}} {
		dt := tc.dt
		x := randTensor(r, dt, 2, tc.c, tc.hw, tc.hw)
		px := [2]*kernel.Tensor{scalarF(0.05), zeroPoint(dt, 3)}
		py := [2]*kernel.Tensor{scalarF(0.011), zeroPoint(dt, -5+int(dt))}
		want := refChain(t, "GlobalAveragePool", nil, []*kernel.Tensor{x}, [][2]*kernel.Tensor{px}, py)
		in := []*kernel.Tensor{nhwcOf(x), px[0], px[1], py[0], py[1]}
		got := run1(t, newPrivateNode(t, OpQGlobalAveragePoolNHWC, nil, in), in...)
		if !reflect.DeepEqual(got.Shape, []int64{2, tc.c, 1, 1}) {
			t.Fatalf("shape %v", got.Shape)
		}
		gb, _ := byteData(got)
		wb, _ := byteData(want)
		for i := range gb {
			d := int(gb[i]) - int(wb[i])
			if dt == ir.Int8 {
				d = int(int8(gb[i])) - int(int8(wb[i]))
			}
			if d < -1 || d > 1 {
				t.Fatalf("%v: channel %d = %d, want %d ± 1", dt, i, gb[i], wb[i])
			}
		}
	}
}

// TestQuantizeNHWC: QuantizeLinear then the NHWC transpose, with every elementwise kernel
// set.
func TestQuantizeNHWC(t *testing.T) {
	for _, v := range elementwiseVariants() {
		t.Run(v, func(t *testing.T) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			testQuantizeNHWC(t, []int64{2, 3, 5, 7})
			testQuantizeNHWC(t, []int64{1, 1, 4, 9})
		})
	}
}

func testQuantizeNHWC(t *testing.T, shape []int64) {
	r := rand.New(rand.NewSource(12))
	xs := make([]float32, kernel.ShapeSize(shape))
	for i := range xs {
		xs[i] = float32(r.NormFloat64() * 3)
	}
	xs[0], xs[1] = 0.5*0.04, 1.5*0.04 // ties
	xs[2], xs[3] = float32(math.Inf(1)), float32(math.NaN())
	x := kernel.FromFloat32(shape, xs)
	for _, dt := range []ir.DataType{ir.Uint8, ir.Int8} {
		zp := zeroPoint(dt, 9)
		want := nhwcOf(kerneltest.MustRunOne(t, "QuantizeLinear", 13, nil, x, scalarF(0.04), zp))
		in := []*kernel.Tensor{x, scalarF(0.04), zp}
		got := run1(t, newPrivateNode(t, OpQuantizeNHWC, nil, in), in...)
		if !reflect.DeepEqual(got.Shape, want.Shape) || !reflect.DeepEqual(got.Data, want.Data) {
			t.Fatalf("%v: QuantizeNHWC differs", dt)
		}
	}
}

// TestQGemm: float outputs match DequantizeLinear → Gemm to float rounding; 8-bit outputs
// match QLinearMatMul's reference plus the bias, for transposed and plain weights.
func TestQGemm(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	const m, k, n = 3, 37, 20
	for _, trans := range []bool{false, true} {
		a := randTensor(r, ir.Uint8, m, k)
		wShape := []int64{k, n}
		if trans {
			wShape = []int64{n, k}
		}
		w := randTensor(r, ir.Int8, wShape...)
		ws := make([]float32, n)
		for j := range ws {
			ws[j] = float32(0.01 + 0.01*r.Float64())
		}
		wScale := kernel.FromFloat32([]int64{n}, ws)
		wZero := tensor(ir.Int8, []int64{n}, make([]int8, n))
		as, az := scalarF(0.02), zeroPoint(ir.Uint8, 120)
		bias := make([]int32, n)
		bf := make([]float32, n)
		for j := range bias {
			bias[j] = int32(r.Intn(2001) - 1000)
			bf[j] = float32(bias[j]) * (0.02 * ws[j])
		}
		var attrs []*ir.Attr
		if trans {
			attrs = append(attrs, ir.IntAttr("transB", 1))
		}
		in := []*kernel.Tensor{a, as, az, w, wScale, wZero, tensor(ir.Int32, []int64{n}, bias)}
		got := run1(t, newPrivateNode(t, OpQGemm, attrs, in), in...)
		da := kerneltest.MustRunOne(t, "DequantizeLinear", 13, nil, a, as, az)
		axis := int64(1)
		if trans {
			axis = 0
		}
		dw := kerneltest.MustRunOne(t, "DequantizeLinear", 13, []*ir.Attr{ir.IntAttr("axis", axis)}, w, wScale, wZero)
		want := kerneltest.MustRunOne(t, "Gemm", 13, attrs, da, dw, kernel.FromFloat32([]int64{n}, bf))
		if !reflect.DeepEqual(got.Shape, want.Shape) {
			t.Fatalf("shape %v, want %v", got.Shape, want.Shape)
		}
		for i, wv := range want.Float32s() {
			if gv := got.Float32s()[i]; math.Abs(float64(gv-wv)) > 1e-4*(1+math.Abs(float64(wv))) {
				t.Fatalf("transB %v: y[%d] = %v, want %v", trans, i, gv, wv)
			}
		}
		// With y_scale: the requantized sum.
		ys, yz := scalarF(0.05), zeroPoint(ir.Uint8, 100)
		inq := append(in, ys, yz)
		gotQ := run1(t, newPrivateNode(t, OpQGemm, attrs, inq), inq...)
		wantQ := kerneltest.MustRunOne(t, "QuantizeLinear", 13, nil, want, ys, yz)
		gb, wb := gotQ.Data.([]uint8), wantQ.Data.([]uint8)
		for i := range gb {
			if d := int(gb[i]) - int(wb[i]); d < -1 || d > 1 {
				t.Fatalf("transB %v: quantized y[%d] = %d, want %d ± 1", trans, i, gb[i], wb[i])
			}
		}
	}
}

// TestQuantizeDequantizeFast: the per-tensor 8-bit fast paths of QuantizeLinear and
// DequantizeLinear equal the general code on ties, infinities, NaN and both types, with
// every elementwise kernel set.
func TestQuantizeDequantizeFast(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	xs := make([]float32, 1000)
	for i := range xs {
		xs[i] = float32(r.NormFloat64() * 4)
	}
	xs[0], xs[1], xs[2], xs[3] = 0.5*0.03, 2.5*0.03, float32(math.Inf(-1)), float32(math.NaN())
	x := kernel.FromFloat32([]int64{10, 100}, xs)
	for _, v := range elementwiseVariants() {
		defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
		elementwiseVariant = v
		for _, dt := range []ir.DataType{ir.Uint8, ir.Int8} {
			in := []*kernel.Tensor{x, scalarF(0.03), zeroPoint(dt, 5)}
			for _, op := range []string{"QuantizeLinear", "DequantizeLinear"} {
				if op == "DequantizeLinear" {
					in[0] = randTensor(r, dt, 10, 100)
				}
				g := ir.NewGraph("t")
				node := g.NewNode("", op, nil, []string{"y"})
				def, _ := kernel.Lookup("", op, 13, in[0].DType)
				k, err := def.New(&kernel.NodeInfo{Node: node, Opset: 13})
				if err != nil {
					t.Fatal(err)
				}
				fast, err := k.Run(&kernel.Context{Threads: 2}, in)
				if err != nil {
					t.Fatal(err)
				}
				var want *kernel.Tensor
				switch kk := k.(type) {
				case *quantizeLinear:
					want, err = kk.runGeneral(&kernel.Context{}, in)
				case *dequantizeLinear:
					want, err = kk.runGeneral(&kernel.Context{}, in)
				}
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(fast[0].Data, want.Data) {
					t.Fatalf("%s %s %v: fast path differs from the general code", v, op, dt)
				}
			}
		}
	}
}

// TestQLookup: the table equals DequantizeLinear → op → QuantizeLinear on every input byte,
// for an operator with attributes (LeakyRelu) and one with constant inputs (Clip).
func TestQLookup(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	for _, tc := range []struct {
		op    string
		attrs []*ir.Attr
		extra []*kernel.Tensor
		xt    ir.DataType
		yt    ir.DataType
	}{
		{"Sigmoid", nil, nil, ir.Uint8, ir.Uint8},
		{"LeakyRelu", []*ir.Attr{ir.FloatAttr("alpha", 0.2)}, nil, ir.Int8, ir.Int8},
		{"Clip", nil, []*kernel.Tensor{scalarF(-1), scalarF(2)}, ir.Uint8, ir.Int8},
		{"HardSwish", nil, nil, ir.Int8, ir.Uint8},
	} {
		x := randTensor(r, tc.xt, 2, 3, 5, 7)
		px := [2]*kernel.Tensor{scalarF(0.05), zeroPoint(tc.xt, 9)}
		py := [2]*kernel.Tensor{scalarF(0.02), zeroPoint(tc.yt, 3)}
		dq := kerneltest.MustRunOne(t, "DequantizeLinear", 13, nil, x, px[0], px[1])
		f := kerneltest.MustRunOne(t, tc.op, 17, tc.attrs, append([]*kernel.Tensor{dq}, tc.extra...)...)
		want := kerneltest.MustRunOne(t, "QuantizeLinear", 13, nil, f, py[0], py[1])
		in := append([]*kernel.Tensor{x, px[0], px[1], py[0], py[1]}, tc.extra...)
		attrs := append([]*ir.Attr{ir.StringAttr("lookup_op", tc.op), ir.IntAttr("lookup_opset", 17)}, tc.attrs...)
		got := run1(t, newPrivateNode(t, OpQLookup, attrs, in), in...)
		if !reflect.DeepEqual(got.Data, want.Data) || !reflect.DeepEqual(got.Shape, want.Shape) {
			t.Fatalf("%s: QLookup differs from the unfused operators", tc.op)
		}
	}
}

// TestQMul: QMul equals DequantizeLinear → Mul → QuantizeLinear, for same shapes and for a
// per-channel scale of an NHWC tensor.
func TestQMul(t *testing.T) {
	for _, v := range elementwiseVariants() {
		t.Run(v, func(t *testing.T) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			testQMul(t)
		})
	}
}

func testQMul(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	for _, types := range [][3]ir.DataType{{ir.Uint8, ir.Uint8, ir.Uint8}, {ir.Int8, ir.Uint8, ir.Int8}, {ir.Uint8, ir.Int8, ir.Uint8}, {ir.Int8, ir.Int8, ir.Int8}} {
		pa := [2]*kernel.Tensor{scalarF(0.031), zeroPoint(types[0], 7)}
		pb := [2]*kernel.Tensor{scalarF(0.017), zeroPoint(types[1], 100)}
		py := [2]*kernel.Tensor{scalarF(0.043), zeroPoint(types[2], 20)}
		// 6 channels: the vector kernel's tail only; 21: two vectors and a tail; 100 channels
		// of 40×40 pixels: enough work for two threads.
		for _, bShape := range [][]int64{{2, 5, 4, 6}, {2, 1, 1, 6}, {2, 5, 4, 21}, {2, 1, 1, 21}, {2, 1, 1, 100}} {
			h, w := int64(5), int64(4)
			if bShape[3] == 100 {
				h, w = 40, 40
			}
			a, b := randTensor(r, types[0], 2, h, w, bShape[3]), randTensor(r, types[1], bShape...)
			want := refChain(t, "Mul", nil, []*kernel.Tensor{a, b}, [][2]*kernel.Tensor{pa, pb}, py)
			in := []*kernel.Tensor{a, pa[0], pa[1], b, pb[0], pb[1], py[0], py[1]}
			got := run1(t, newPrivateNode(t, OpQMul, nil, in), in...)
			if !reflect.DeepEqual(got.Data, want.Data) {
				t.Fatalf("%v %v: QMul differs from the unfused operators", types, bShape)
			}
		}
	}
}

// TestQConcat: QConcat equals DequantizeLinear of each input → Concat → QuantizeLinear, with
// inputs of other parameters (requantized) and of the output's own (copied), on two axes.
func TestQConcat(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	for _, axis := range []int64{1, -1} {
		shapes := [][]int64{{2, 3, 4, 5}, {2, 6, 4, 5}, {2, 1, 4, 5}}
		if axis == -1 {
			shapes = [][]int64{{2, 3, 4, 5}, {2, 3, 4, 2}, {2, 3, 4, 7}}
		}
		types := []ir.DataType{ir.Uint8, ir.Int8, ir.Uint8}
		py := [2]*kernel.Tensor{scalarF(0.04), zeroPoint(ir.Uint8, 10)}
		params := [][2]*kernel.Tensor{
			{scalarF(0.02), zeroPoint(ir.Uint8, 3)},
			{scalarF(0.05), zeroPoint(ir.Int8, -4)},
			py, // the output's own parameters
		}
		var xs, in []*kernel.Tensor
		for i, s := range shapes {
			x := randTensor(r, types[i], s...)
			xs = append(xs, x)
			in = append(in, x, params[i][0], params[i][1])
		}
		in = append(in, py[0], py[1])
		want := refChain(t, "Concat", []*ir.Attr{ir.IntAttr("axis", axis)}, xs, params, py)
		got := run1(t, newPrivateNode(t, OpQConcat, []*ir.Attr{ir.IntAttr("axis", axis)}, in), in...)
		if !reflect.DeepEqual(got.Shape, want.Shape) || !reflect.DeepEqual(got.Data, want.Data) {
			t.Fatalf("axis %d: QConcat %v differs from the unfused operators %v", axis, got.Shape, want.Shape)
		}
	}
}

// TestLookupBytes: every lookup kernel this machine runs equals the Go loop on lengths
// around the vector widths and at misaligned offsets, and writes nothing past y.
func TestLookupBytes(t *testing.T) {
	r := rand.New(rand.NewSource(18))
	var table [256]uint8
	for i := range table {
		table[i] = uint8(r.Intn(256))
	}
	const guard = 67
	for _, v := range elementwiseVariants() {
		t.Run(v, func(t *testing.T) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			for _, n := range []int{0, 1, 7, 63, 64, 65, 127, 128, 129, 191, 256, 300, 1000} {
				for _, off := range []int{0, 1, 13} {
					x := make([]uint8, off+n)
					for i := range x {
						x[i] = uint8(r.Intn(256))
					}
					buf := make([]uint8, off+n+guard)
					for i := range buf {
						buf[i] = 0xa5
					}
					y := buf[off : off+n]
					lookupBytes(&table, x[off:], y)
					want := make([]uint8, n)
					lookupBytesGo(&table, x[off:], want)
					if !reflect.DeepEqual(append([]uint8{}, y...), want) {
						t.Fatalf("n %d offset %d: lookup differs from the Go loop", n, off)
					}
					for i, b := range buf {
						if (i < off || i >= off+n) && b != 0xa5 {
							t.Fatalf("n %d offset %d: byte %d outside y written", n, off, i)
						}
					}
				}
			}
		})
	}
}

// TestQMulLookup: QMulLookup equals the unfused operators of x·op(x) in QDQ form —
// DequantizeLinear(x) → op → QuantizeLinear(t) → DequantizeLinear, times DequantizeLinear(x),
// [→ Relu] → QuantizeLinear(y) — on every input byte, for a gate with attributes, one with
// constant inputs and a folded Relu.
func TestQMulLookup(t *testing.T) {
	r := rand.New(rand.NewSource(19))
	for _, tc := range []struct {
		op         string
		attrs      []*ir.Attr
		extra      []*kernel.Tensor
		xt, tt, yt ir.DataType
		relu       bool
	}{
		{"Sigmoid", nil, nil, ir.Uint8, ir.Uint8, ir.Uint8, false},
		{"Sigmoid", nil, nil, ir.Int8, ir.Uint8, ir.Int8, false},
		{"HardSigmoid", []*ir.Attr{ir.FloatAttr("alpha", 0.3)}, nil, ir.Int8, ir.Int8, ir.Uint8, false},
		{"Clip", nil, []*kernel.Tensor{scalarF(-1), scalarF(2)}, ir.Uint8, ir.Int8, ir.Uint8, true},
		{"Tanh", nil, nil, ir.Int8, ir.Int8, ir.Int8, true},
	} {
		// Every byte, in a shape with a vector and a tail.
		x := randTensor(r, tc.xt, 1, 3, 5, 23)
		xb, _ := byteData(x)
		for i := range 256 {
			xb[i] = uint8(i)
		}
		px := [2]*kernel.Tensor{scalarF(0.05), zeroPoint(tc.xt, 9)}
		pt := [2]*kernel.Tensor{scalarF(0.0045), zeroPoint(tc.tt, 3)}
		py := [2]*kernel.Tensor{scalarF(0.027), zeroPoint(tc.yt, 5)}
		dq := kerneltest.MustRunOne(t, "DequantizeLinear", 13, nil, x, px[0], px[1])
		f := kerneltest.MustRunOne(t, tc.op, 17, tc.attrs, append([]*kernel.Tensor{dq}, tc.extra...)...)
		q := kerneltest.MustRunOne(t, "QuantizeLinear", 13, nil, f, pt[0], pt[1])
		gate := kerneltest.MustRunOne(t, "DequantizeLinear", 13, nil, q, pt[0], pt[1])
		prod := kerneltest.MustRunOne(t, "Mul", 13, nil, dq, gate)
		attrs := append([]*ir.Attr{ir.StringAttr("lookup_op", tc.op), ir.IntAttr("lookup_opset", 17)}, tc.attrs...)
		if tc.relu {
			prod = kerneltest.MustRunOne(t, "Relu", 13, nil, prod)
			attrs = append(attrs, ir.FloatAttr("act_min", 0))
		}
		want := kerneltest.MustRunOne(t, "QuantizeLinear", 13, nil, prod, py[0], py[1])
		in := append([]*kernel.Tensor{x, px[0], px[1], pt[0], pt[1], py[0], py[1]}, tc.extra...)
		got := run1(t, newPrivateNode(t, OpQMulLookup, attrs, in), in...)
		if !reflect.DeepEqual(got.Data, want.Data) || !reflect.DeepEqual(got.Shape, want.Shape) {
			t.Fatalf("%s %v: QMulLookup differs from the unfused operators", tc.op, []ir.DataType{tc.xt, tc.tt, tc.yt})
		}
	}
}

// TestColSums: every column-sum kernel this machine runs equals the Go loop, for both
// signednesses, column counts around the block widths, several rows and a row stride
// wider than the columns summed, and leaves sums past n alone.
func TestColSums(t *testing.T) {
	r := rand.New(rand.NewSource(20))
	for _, v := range elementwiseVariants() {
		t.Run(v, func(t *testing.T) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			for _, signed := range []bool{false, true} {
				for _, n := range []int{1, 15, 16, 17, 63, 64, 65, 100, 128, 200} {
					for _, rows := range []int{1, 3, 49} {
						stride := n + r.Intn(9)
						x := make([]uint8, (rows-1)*stride+n)
						for i := range x {
							x[i] = uint8(r.Intn(256))
						}
						init := make([]int32, n+5)
						for i := range init {
							init[i] = int32(r.Intn(1000)) - 500
						}
						got, want := slices.Clone(init), slices.Clone(init)
						colSums(x, rows, stride, got[:n], signed)
						colSumsGo(x, rows, stride, want[:n], signed)
						if !slices.Equal(got, want) {
							t.Fatalf("signed %v, n %d, rows %d: sums differ from the Go loop", signed, n, rows)
						}
					}
				}
			}
		})
	}
}

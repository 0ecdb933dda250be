package quant

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// newPreparedNode builds op's kernel with inputs whose consts entry is non-nil passed as
// constants (as the session does for initializers), so that factories prepare them.
func newPreparedNode(t testing.TB, op string, attrs []*ir.Attr, inputs []*kernel.Tensor, consts []bool) kernel.Kernel {
	t.Helper()
	g := ir.NewGraph("test")
	vals := make([]*ir.Value, len(inputs))
	info := &kernel.NodeInfo{Opset: 21}
	for i, in := range inputs {
		var c *kernel.Tensor
		if in != nil {
			vals[i] = g.AddInput(fmt.Sprintf("in%d", i), ir.TensorTypeOf(in.DType, in.Shape...))
			if consts[i] {
				c = in
			}
		}
		info.Consts = append(info.Consts, c)
		if in != nil {
			info.InputTypes = append(info.InputTypes, vals[i].Type)
		} else {
			info.InputTypes = append(info.InputTypes, nil)
		}
	}
	info.Node = g.NewNode("", op, vals, []string{"y"}, attrs...)
	def, err := kernel.Lookup("", op, 21, inputs[0].DType)
	if err != nil {
		t.Fatal(err)
	}
	k, err := def.New(info)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type convCase struct {
	n, c, h, w, m, kh, kw, group int
	stride, dil                  [2]int
	pads                         [4]int
	autoPad                      string
	xSigned, wUnsigned, ySigned  bool
	perChannel, wZero, bias      bool
}

func (cs convCase) String() string {
	return fmt.Sprintf("n%d_c%d_%dx%d_m%d_k%dx%d_g%d_s%v_d%v_p%v%s_xs%v_wu%v_ys%v_pc%v_wz%v_b%v",
		cs.n, cs.c, cs.h, cs.w, cs.m, cs.kh, cs.kw, cs.group, cs.stride, cs.dil, cs.pads, cs.autoPad,
		cs.xSigned, cs.wUnsigned, cs.ySigned, cs.perChannel, cs.wZero, cs.bias)
}

// inputs makes QLinearConv's nine inputs for the case.
func (cs convCase) inputs(r *rand.Rand) ([]*kernel.Tensor, []*ir.Attr) {
	xType, wType, yType := ir.Uint8, ir.Int8, ir.Uint8
	if cs.xSigned {
		xType = ir.Int8
	}
	if cs.wUnsigned {
		wType = ir.Uint8
	}
	if cs.ySigned {
		yType = ir.Int8
	}
	bytesOf := func(dt ir.DataType, shape []int64, vals []int) *kernel.Tensor {
		if dt == ir.Int8 {
			d := make([]int8, len(vals))
			for i, v := range vals {
				d[i] = int8(v)
			}
			return tensor(dt, shape, d)
		}
		d := make([]uint8, len(vals))
		for i, v := range vals {
			d[i] = uint8(v)
		}
		return tensor(dt, shape, d)
	}
	randVals := func(dt ir.DataType, n int) []int {
		v := make([]int, n)
		for i := range v {
			v[i] = r.Intn(256)
			if dt == ir.Int8 {
				v[i] -= 128
			}
		}
		return v
	}
	cg := cs.c / cs.group
	x := bytesOf(xType, []int64{int64(cs.n), int64(cs.c), int64(cs.h), int64(cs.w)}, randVals(xType, cs.n*cs.c*cs.h*cs.w))
	w := bytesOf(wType, []int64{int64(cs.m), int64(cg), int64(cs.kh), int64(cs.kw)}, randVals(wType, cs.m*cg*cs.kh*cs.kw))
	xz := bytesOf(xType, []int64{}, randVals(xType, 1))
	nw := 1
	if cs.perChannel {
		nw = cs.m
	}
	wzv := make([]int, nw)
	if cs.wUnsigned {
		for i := range wzv {
			wzv[i] = 128
		}
	}
	if cs.wZero {
		for i := range wzv {
			wzv[i] = randVals(wType, 1)[0] / 4
		}
	}
	wzShape := []int64{}
	if cs.perChannel {
		wzShape = []int64{int64(cs.m)}
	}
	wz := bytesOf(wType, wzShape, wzv)
	ws := make([]float32, nw)
	for i := range ws {
		ws[i] = float32(0.5 + r.Float64())
	}
	xs := float32(0.02 + 0.01*r.Float64())
	// y_scale so that a typical accumulator (products of spread ~74·74, summed over the
	// window) lands inside the output range, a few saturating.
	typical := float32(5500 * sqrtInt(cg*cs.kh*cs.kw))
	ys := xs * typical / 40
	yz := bytesOf(yType, []int64{}, randVals(yType, 1))
	var b *kernel.Tensor
	if cs.bias {
		bd := make([]int32, cs.m)
		for i := range bd {
			bd[i] = int32(r.Intn(20001) - 10000)
		}
		b = tensor(ir.Int32, []int64{int64(cs.m)}, bd)
	}
	attrs := []*ir.Attr{ir.IntAttr("group", int64(cs.group)),
		ir.IntsAttr("strides", int64(cs.stride[0]), int64(cs.stride[1])),
		ir.IntsAttr("dilations", int64(cs.dil[0]), int64(cs.dil[1]))}
	if cs.autoPad != "" {
		attrs = append(attrs, ir.StringAttr("auto_pad", cs.autoPad))
	} else {
		attrs = append(attrs, ir.IntsAttr("pads", int64(cs.pads[0]), int64(cs.pads[1]), int64(cs.pads[2]), int64(cs.pads[3])))
	}
	return []*kernel.Tensor{x, scalarF(xs), xz, w, kernel.FromFloat32(wzShape, ws), wz, scalarF(ys), yz, b}, attrs
}

func sqrtInt(n int) int {
	s := 1
	for s*s < n {
		s++
	}
	return s
}

// convCases covers the shapes the fast engine treats differently: 1×1 direct products,
// strided and padded windows, dilation, K not a multiple of 4, grouped and depthwise
// convolutions, every input/output/weight type, per-channel and per-tensor weights with and
// without zero points.
func convCases() []convCase {
	return []convCase{
		{n: 1, c: 8, h: 5, w: 6, m: 16, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}},
		{n: 2, c: 12, h: 7, w: 7, m: 20, kh: 3, kw: 3, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true},
		{n: 1, c: 3, h: 11, w: 13, m: 17, kh: 7, kw: 7, group: 1, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{3, 3, 3, 3}, perChannel: true, bias: true},
		{n: 1, c: 5, h: 9, w: 8, m: 70, kh: 3, kw: 2, group: 1, stride: [2]int{2, 1}, dil: [2]int{2, 1}, pads: [4]int{1, 0, 2, 1}, xSigned: true, ySigned: true, bias: true},
		{n: 1, c: 16, h: 6, w: 6, m: 24, kh: 1, kw: 1, group: 1, stride: [2]int{2, 2}, dil: [2]int{1, 1}, wZero: true, perChannel: true},
		{n: 1, c: 8, h: 6, w: 5, m: 12, kh: 3, kw: 3, group: 2, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true, wUnsigned: true},
		{n: 1, c: 8, h: 5, w: 5, m: 8, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, xSigned: true},
		{n: 2, c: 24, h: 9, w: 10, m: 24, kh: 3, kw: 3, group: 24, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true},
		{n: 1, c: 37, h: 8, w: 9, m: 37, kh: 3, kw: 3, group: 37, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{0, 1, 1, 0}, perChannel: true, bias: true, wZero: true},
		{n: 1, c: 19, h: 12, w: 12, m: 19, kh: 5, kw: 5, group: 19, stride: [2]int{1, 2}, dil: [2]int{2, 1}, autoPad: "SAME_UPPER", xSigned: true, ySigned: true},
		{n: 1, c: 16, h: 3, w: 3, m: 16, kh: 3, kw: 3, group: 16, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{2, 2, 2, 2}, perChannel: true, wUnsigned: true},
		// Depthwise with whole blocks of 16 channels (AVX2's two-taps-per-multiply kernel):
		// odd and even tap counts, signed inputs, weight zero points.
		{n: 2, c: 32, h: 9, w: 11, m: 32, kh: 3, kw: 3, group: 32, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true, xSigned: true},
		{n: 1, c: 48, h: 10, w: 9, m: 48, kh: 2, kw: 2, group: 48, stride: [2]int{2, 2}, dil: [2]int{1, 1}, perChannel: true, bias: true},
		{n: 1, c: 64, h: 12, w: 13, m: 64, kh: 5, kw: 5, group: 64, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{2, 2, 2, 2}, perChannel: true, wZero: true, ySigned: true},
		// 5×5 depthwise (EfficientNet's): a masked channel block, stride 2, uneven pads, signed
		// inputs; two images of a width with few interior windows (copied with their padding).
		{n: 1, c: 37, h: 9, w: 11, m: 37, kh: 5, kw: 5, group: 37, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{1, 2, 2, 1}, perChannel: true, bias: true, xSigned: true},
		{n: 2, c: 20, h: 7, w: 6, m: 20, kh: 5, kw: 5, group: 20, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{2, 2, 2, 2}, bias: true, wZero: true},
		// Small images whose rows are copied with their padding (padWidth): stride 2, where
		// the last window reaches into only part of the right padding, a masked block.
		{n: 1, c: 21, h: 10, w: 14, m: 21, kh: 5, kw: 5, group: 21, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{2, 2, 2, 2}, perChannel: true, bias: true, xSigned: true, ySigned: true},
		{n: 1, c: 32, h: 14, w: 14, m: 96, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, perChannel: true, bias: true},
		// A patch embedding: no padding, runs of 7 bytes (the kernels read whole dwords).
		{n: 2, c: 1, h: 28, w: 28, m: 16, kh: 7, kw: 7, group: 1, stride: [2]int{7, 7}, dil: [2]int{1, 1}, perChannel: true, bias: true},
		{n: 1, c: 3, h: 8, w: 8, m: 8, kh: 3, kw: 3, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}},
		// Weights of more than 512 KiB on a small image (the 7×7 layers): with two threads
		// the product splits B's columns, stride 1 with taps, strided, and a 1×1 product.
		{n: 1, c: 256, h: 5, w: 5, m: 320, kh: 3, kw: 3, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true},
		{n: 1, c: 192, h: 9, w: 9, m: 330, kh: 3, kw: 3, group: 1, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true, ySigned: true},
		{n: 1, c: 1024, h: 4, w: 4, m: 600, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, perChannel: true, bias: true},
	}
}

// TestQLinearConvFastMatchesReference runs QLinearConv with constant weights (the prepared
// NHWC engine) and the reference loop on the same inputs, with every depthwise kernel this
// machine runs, and requires identical outputs.
func TestQLinearConvFastMatchesReference(t *testing.T) {
	for _, variant := range dwVariants() {
		t.Run(variant, func(t *testing.T) {
			defer func(v string) { dwVariant = v }(dwVariant)
			dwVariant = variant
			r := rand.New(rand.NewSource(5))
			for _, cs := range convCases() {
				in, attrs := cs.inputs(r)
				consts := []bool{false, true, true, true, true, true, true, true, true}
				k := newPreparedNode(t, "QLinearConv", attrs, in, consts).(*qlinearConv)
				if k.fast == nil {
					t.Fatalf("%v: the fast engine was not prepared", cs)
				}
				if (cs.group == cs.c && cs.m == cs.c) != (k.fast.dw != nil) {
					t.Fatalf("%v: depthwise path %v", cs, k.fast.dw != nil)
				}
				want, err := k.runReference(&kernel.Context{}, in)
				if err != nil {
					t.Fatalf("%v: reference: %v", cs, err)
				}
				for _, threads := range []int{1, 2} {
					got, err := k.Run(&kernel.Context{Threads: threads}, in)
					if err != nil {
						t.Fatalf("%v: %v", cs, err)
					}
					if err := quantClose(got[0], want); err != nil {
						t.Fatalf("%v, %d threads: %v", cs, threads, err)
					}
				}
			}
		})
	}
}

// BenchmarkConvNHWC times the prepared engine (without the NCHW transposes) on ResNet and
// MobileNetV2 layer shapes, batch 1, one thread, and reports giga multiply-adds per second.
func BenchmarkConvNHWC(b *testing.B) {
	for _, cs := range []convCase{
		{n: 1, c: 3, h: 224, w: 224, m: 64, kh: 7, kw: 7, group: 1, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{3, 3, 3, 3}, perChannel: true, bias: true},
		{n: 1, c: 64, h: 56, w: 56, m: 64, kh: 3, kw: 3, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true},
		{n: 1, c: 256, h: 14, w: 14, m: 256, kh: 3, kw: 3, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true},
		{n: 1, c: 512, h: 7, w: 7, m: 512, kh: 3, kw: 3, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true},
		{n: 1, c: 64, h: 56, w: 56, m: 256, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, perChannel: true, bias: true},
		{n: 1, c: 144, h: 56, w: 56, m: 144, kh: 3, kw: 3, group: 144, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true},
		{n: 1, c: 96, h: 112, w: 112, m: 96, kh: 3, kw: 3, group: 96, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true},
		{n: 1, c: 24, h: 56, w: 56, m: 144, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, perChannel: true, bias: true},
		{n: 1, c: 672, h: 14, w: 14, m: 672, kh: 5, kw: 5, group: 672, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{2, 2, 2, 2}, perChannel: true, bias: true},
		{n: 1, c: 1152, h: 7, w: 7, m: 1152, kh: 5, kw: 5, group: 1152, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{2, 2, 2, 2}, perChannel: true, bias: true},
		{n: 1, c: 1152, h: 7, w: 7, m: 1152, kh: 3, kw: 3, group: 1152, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, perChannel: true, bias: true},
		{n: 1, c: 240, h: 28, w: 28, m: 240, kh: 5, kw: 5, group: 240, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{2, 2, 2, 2}, perChannel: true, bias: true},
	} {
		name := fmt.Sprintf("c%d_%dx%d_m%d_k%d_s%d_g%d", cs.c, cs.h, cs.w, cs.m, cs.kh, cs.stride[0], cs.group)
		b.Run(name, func(b *testing.B) {
			r := rand.New(rand.NewSource(1))
			in, attrs := cs.inputs(r)
			k := newPreparedNode(b, "QLinearConv", attrs, in, []bool{false, true, true, true, true, true, true, true, true}).(*qlinearConv)
			g, err := newConvGeom(k.attrs, in[0].Shape, in[3].Shape)
			if err != nil {
				b.Fatal(err)
			}
			x, _ := byteData(in[0])
			y := make([]uint8, g.n*g.outSize*g.m)
			best := time.Duration(math.MaxInt64)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				k.fast.run(1, g, x, y, nil, g.m)
				best = min(best, time.Since(t0))
			}
			// The fastest run: the machine is shared, and the minimum is what the code can do.
			macs := float64(g.n * g.outSize * g.m * g.kernelSize)
			b.ReportMetric(macs/best.Seconds()/1e9, "best-GMAC/s")
			b.ReportMetric(float64(best.Microseconds()), "best-µs")
		})
	}
}

// TestConvIntegerFastMatchesReference: ConvInteger with constant weights and zero points on
// the NHWC engine (int32 outputs, no requantization) against the reference loop.
func TestConvIntegerFastMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	for _, cs := range convCases() {
		in, attrs := cs.inputs(r)
		ci := []*kernel.Tensor{in[0], in[3], in[2], in[5]} // x, w, x_zp, w_zp
		k := newPreparedNode(t, "ConvInteger", attrs, ci, []bool{false, true, true, true}).(*convInteger)
		if k.fast == nil {
			t.Fatalf("%v: the fast engine was not prepared", cs)
		}
		want, err := k.runReference(&kernel.Context{}, ci)
		if err != nil {
			t.Fatalf("%v: reference: %v", cs, err)
		}
		for _, threads := range []int{1, 2} {
			got, err := k.Run(&kernel.Context{Threads: threads}, ci)
			if err != nil {
				t.Fatalf("%v: %v", cs, err)
			}
			if !reflect.DeepEqual(got[0].Shape, want.Shape) || !reflect.DeepEqual(got[0].Data, want.Data) {
				t.Fatalf("%v, %d threads: fast %v differs from the reference", cs, threads, got[0].Shape)
			}
		}
	}
}

// TestMatMulFastMatchesReference: QLinearMatMul and MatMulInteger with constant B (packed
// for the integer GEMM) against their reference loops, over batched and 1-D A, every type
// combination, per-column and per-tensor B parameters, with and without zero points.
func TestMatMulFastMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	randBytes := func(dt ir.DataType, shape ...int64) *kernel.Tensor { return randTensor(r, dt, shape...) }
	for i, tc := range []struct {
		aShape       []int64
		k, n         int64
		aT, bT, yT   ir.DataType
		perCol, bZP0 bool
	}{
		{[]int64{5, 7}, 7, 9, ir.Uint8, ir.Int8, ir.Uint8, true, true},
		{[]int64{2, 3, 33}, 33, 70, ir.Int8, ir.Int8, ir.Int8, false, false},
		{[]int64{64}, 64, 10, ir.Uint8, ir.Uint8, ir.Uint8, true, false},
		{[]int64{1, 40, 512}, 512, 100, ir.Uint8, ir.Int8, ir.Int8, true, true},
		{[]int64{3, 1, 2, 6}, 6, 1, ir.Int8, ir.Uint8, ir.Uint8, false, true},
	} {
		a := randBytes(tc.aT, tc.aShape...)
		b := randBytes(tc.bT, tc.k, tc.n)
		nb := int64(1)
		if tc.perCol {
			nb = tc.n
		}
		bzShape := []int64{}
		if tc.perCol {
			bzShape = []int64{nb}
		}
		bz := randBytes(tc.bT, bzShape...)
		if tc.bZP0 {
			bz = randBytes(tc.bT, bzShape...)
			switch d := bz.Data.(type) {
			case []int8:
				clear(d)
			case []uint8:
				for j := range d {
					d[j] = 128
				}
			}
		}
		az := randBytes(tc.aT)
		// MatMulInteger.
		mi := []*kernel.Tensor{a, b, az, bz}
		k := newPreparedNode(t, "MatMulInteger", nil, mi, []bool{false, true, true, true}).(*matMulInteger)
		if k.fast == nil {
			t.Fatalf("case %d: MatMulInteger fast path not prepared", i)
		}
		got, err := k.Run(&kernel.Context{}, mi)
		if err != nil {
			t.Fatal(err)
		}
		want, err := k.runReference(&kernel.Context{}, mi)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[0].Shape, want.Shape) || !reflect.DeepEqual(got[0].Data, want.Data) {
			t.Fatalf("case %d: MatMulInteger fast %v differs from the reference %v", i, got[0].Shape, want.Shape)
		}
		// QLinearMatMul, with y_scale putting typical products mid-range.
		bs := make([]float32, nb)
		for j := range bs {
			bs[j] = float32(0.5 + r.Float64())
		}
		ys := float32(0.01 * 5500 * float64(sqrtInt(int(tc.k))) / 40)
		ql := []*kernel.Tensor{a, scalarF(0.01), az, b, kernel.FromFloat32(bzShape, bs), bz, scalarF(ys), randBytes(tc.yT)}
		kq := newPreparedNode(t, "QLinearMatMul", nil, ql, []bool{false, true, true, true, true, true, true, true}).(*qlinearMatMul)
		if kq.fast == nil {
			t.Fatalf("case %d: QLinearMatMul fast path not prepared", i)
		}
		got, err = kq.Run(&kernel.Context{}, ql)
		if err != nil {
			t.Fatal(err)
		}
		want, err = kq.runReference(&kernel.Context{}, ql)
		if err != nil {
			t.Fatal(err)
		}
		if err := quantClose(got[0], want); err != nil {
			t.Fatalf("case %d: QLinearMatMul: %v", i, err)
		}
	}
}

// quantClose checks an 8-bit output of a fast path against the reference loop's: the same
// shape and type, and the same values except where the fast path's float32 requantization
// (MLAS's arithmetic) and the reference's float64 one round a product lying within float32
// rounding of a half differently — by one step, on at most 0.1% of the values.
func quantClose(got, want *kernel.Tensor) error {
	if got.DType != want.DType || !reflect.DeepEqual(got.Shape, want.Shape) {
		return fmt.Errorf("%s, reference %s", got, want)
	}
	gb, _ := byteData(got)
	wb, _ := byteData(want)
	off := 0
	for i := range gb {
		g, w := int(gb[i]), int(wb[i])
		if got.DType == ir.Int8 {
			g, w = int(int8(gb[i])), int(int8(wb[i]))
		}
		if d := g - w; d < -1 || d > 1 {
			return fmt.Errorf("value %d = %d, reference %d", i, g, w)
		} else if d != 0 {
			off++
		}
	}
	if off > len(gb)/1000 {
		return fmt.Errorf("%d of %d values differ from the reference by one step", off, len(gb))
	}
	return nil
}

package nn

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// runOp builds a one-node graph for op with the given attributes, finds its kernel for
// opset and runs it. consts, when set, passes every input as a constant too.
func runOp(t testing.TB, op string, opset int64, attrs []*ir.Attr, nOut int, consts bool, inputs ...*kernel.Tensor) ([]*kernel.Tensor, error) {
	t.Helper()
	g := ir.NewGraph("g")
	var ins []*ir.Value
	for i, in := range inputs {
		if in == nil {
			ins = append(ins, nil)
			continue
		}
		ins = append(ins, g.AddInput(fmt.Sprintf("in%d", i), nil))
	}
	var outs []string
	for i := 0; i < nOut; i++ {
		outs = append(outs, fmt.Sprintf("out%d", i))
	}
	node := g.NewNode("", op, ins, outs, attrs...)
	def, err := kernel.Lookup("", op, opset, inputs[0].DType)
	if err != nil {
		return nil, err
	}
	info := &kernel.NodeInfo{Node: node, Opset: opset}
	if consts {
		info.Consts = inputs
	}
	k, err := def.New(info)
	if err != nil {
		return nil, err
	}
	return k.Run(&kernel.Context{}, inputs)
}

func f32(shape []int64, v ...float32) *kernel.Tensor { return kernel.FromFloat32(shape, v) }

func seq(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(i + 1)
	}
	return s
}

type opCase struct {
	name      string
	op        string
	opset     int64
	attrs     []*ir.Attr
	inputs    []*kernel.Tensor
	wantShape []int64
	want      []float32
	wantErr   bool
}

func runCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		for _, consts := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/consts=%v", c.name, consts), func(t *testing.T) {
				opset := c.opset
				if opset == 0 {
					opset = 22
				}
				outs, err := runOp(t, c.op, opset, c.attrs, 1, consts, c.inputs...)
				if c.wantErr {
					if err == nil {
						t.Fatalf("no error, want one")
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got := outs[0]
				if fmt.Sprint(got.Shape) != fmt.Sprint(c.wantShape) {
					t.Fatalf("shape %v, want %v", got.Shape, c.wantShape)
				}
				checkClose(t, got.Float32s(), c.want, 1e-5)
			})
		}
	}
}

func TestConv(t *testing.T) {
	x3x3 := f32([]int64{1, 1, 3, 3}, seq(9)...) // 1 2 3 / 4 5 6 / 7 8 9
	ones2 := f32([]int64{1, 1, 2, 2}, 1, 1, 1, 1)
	runCases(t, []opCase{
		{name: "2x2 valid", op: "Conv", inputs: []*kernel.Tensor{x3x3, ones2},
			wantShape: []int64{1, 1, 2, 2}, want: []float32{12, 16, 24, 28}},
		{name: "pads 1 stride 2", op: "Conv", attrs: []*ir.Attr{ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2)},
			inputs:    []*kernel.Tensor{x3x3, ones2},
			wantShape: []int64{1, 1, 2, 2}, want: []float32{1, 5, 11, 28}},
		{name: "asymmetric pads", op: "Conv", attrs: []*ir.Attr{ir.IntsAttr("pads", 0, 1, 0, 0)},
			inputs:    []*kernel.Tensor{x3x3, ones2},
			wantShape: []int64{1, 1, 2, 3}, want: []float32{5, 12, 16, 11, 24, 28}},
		{name: "same_upper", op: "Conv", attrs: []*ir.Attr{ir.StringAttr("auto_pad", "SAME_UPPER")},
			inputs:    []*kernel.Tensor{x3x3, ones2},
			wantShape: []int64{1, 1, 3, 3}, want: []float32{12, 16, 9, 24, 28, 15, 15, 17, 9}},
		{name: "same_lower", op: "Conv", attrs: []*ir.Attr{ir.StringAttr("auto_pad", "SAME_LOWER")},
			inputs:    []*kernel.Tensor{x3x3, ones2},
			wantShape: []int64{1, 1, 3, 3}, want: []float32{1, 3, 5, 5, 12, 16, 11, 24, 28}},
		{name: "dilation 2", op: "Conv", attrs: []*ir.Attr{ir.IntsAttr("dilations", 2, 2)},
			inputs:    []*kernel.Tensor{x3x3, ones2},
			wantShape: []int64{1, 1, 1, 1}, want: []float32{1 + 3 + 7 + 9}},
		{name: "bias and two filters", op: "Conv",
			inputs:    []*kernel.Tensor{x3x3, f32([]int64{2, 1, 1, 1}, 1, -1), f32([]int64{2}, 10, 20)},
			wantShape: []int64{1, 2, 3, 3},
			want:      []float32{11, 12, 13, 14, 15, 16, 17, 18, 19, 19, 18, 17, 16, 15, 14, 13, 12, 11}},
		// group 2: channel 0 (1..4) with weight 1, channel 1 (5..8) with weight 2.
		{name: "group 2 (depthwise)", op: "Conv", attrs: []*ir.Attr{ir.IntAttr("group", 2)},
			inputs:    []*kernel.Tensor{f32([]int64{1, 2, 2, 2}, seq(8)...), f32([]int64{2, 1, 2, 2}, 1, 1, 1, 1, 2, 2, 2, 2)},
			wantShape: []int64{1, 2, 1, 1}, want: []float32{10, 52}},
		// group 2 with two input channels per group (GEMM path): sums of each pair of planes.
		{name: "group 2 of 2 channels", op: "Conv", attrs: []*ir.Attr{ir.IntAttr("group", 2)},
			inputs:    []*kernel.Tensor{f32([]int64{1, 4, 1, 2}, seq(8)...), f32([]int64{2, 2, 1, 1}, 1, 1, 1, -1)},
			wantShape: []int64{1, 2, 1, 2}, want: []float32{4, 6, -2, -2}},
		{name: "1-D", op: "Conv", attrs: []*ir.Attr{ir.IntsAttr("pads", 1, 1)},
			inputs:    []*kernel.Tensor{f32([]int64{1, 1, 4}, 1, 2, 3, 4), f32([]int64{1, 1, 3}, 1, 0, -1)},
			wantShape: []int64{1, 1, 4}, want: []float32{-2, -2, -2, 3}},
		{name: "3-D", op: "Conv",
			inputs:    []*kernel.Tensor{f32([]int64{1, 1, 2, 2, 2}, seq(8)...), f32([]int64{1, 1, 2, 2, 2}, 1, 1, 1, 1, 1, 1, 1, 1)},
			wantShape: []int64{1, 1, 1, 1, 1}, want: []float32{36}},
		{name: "group mismatch", op: "Conv", attrs: []*ir.Attr{ir.IntAttr("group", 3)},
			inputs: []*kernel.Tensor{x3x3, ones2}, wantErr: true},
		{name: "bad auto_pad", op: "Conv", attrs: []*ir.Attr{ir.StringAttr("auto_pad", "FULL")},
			inputs: []*kernel.Tensor{x3x3, ones2}, wantErr: true},
	})
}

// TestConvMatchesDirect checks the im2col/GEMM path (and the pre-packed one) against a
// direct convolution over a size that exercises blocking and the parallel split.
func TestConvMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	const n, c, m, h, w = 2, 8, 70, 13, 11
	x := f32([]int64{n, c, h, w}, randSlice(r, n*c*h*w)...)
	wt := f32([]int64{m, c / 2, 3, 3}, randSlice(r, m*c/2*9)...)
	b := f32([]int64{m}, randSlice(r, m)...)
	attrs := []*ir.Attr{ir.IntAttr("group", 2), ir.IntsAttr("pads", 1, 0, 2, 1), ir.IntsAttr("strides", 1, 2)}
	oh, ow := (h+3-3)/1+1, (w+1-3)/2+1
	want := make([]float32, n*m*oh*ow)
	xd, wd := x.Float32s(), wt.Float32s()
	for bi := 0; bi < n; bi++ {
		for oc := 0; oc < m; oc++ {
			g := oc / (m / 2)
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					s := float64(b.Float32s()[oc])
					for ic := 0; ic < c/2; ic++ {
						for ky := 0; ky < 3; ky++ {
							for kx := 0; kx < 3; kx++ {
								iy, ix := oy-1+ky, ox*2+kx
								if iy < 0 || iy >= h || ix < 0 || ix >= w {
									continue
								}
								s += float64(xd[((bi*c+g*c/2+ic)*h+iy)*w+ix]) * float64(wd[((oc*c/2+ic)*3+ky)*3+kx])
							}
						}
					}
					want[((bi*m+oc)*oh+oy)*ow+ox] = float32(s)
				}
			}
		}
	}
	for _, consts := range []bool{false, true} {
		outs, err := runOp(t, "Conv", 22, attrs, 1, consts, x, wt, b)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(outs[0].Shape) != fmt.Sprint([]int{n, m, oh, ow}) {
			t.Fatalf("shape %v", outs[0].Shape)
		}
		checkClose(t, outs[0].Float32s(), want, 1e-4)
	}
}

// TestDepthwiseConvMatchesDirect checks the depthwise path (the 3×3 unit-stride row pass
// and the per-tap loop) against a direct convolution, over pads that leave whole rows or
// columns outside the image, strides, dilations and channel multipliers.
func TestDepthwiseConvMatchesDirect(t *testing.T) {
	cases := []struct {
		name                   string
		c, mult, h, w, kh, kw  int
		padT, padL, padB, padR int
		sh, sw, dh, dw         int
	}{
		{"3x3 s1 p1", 4, 1, 9, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
		{"3x3 s1 no pad", 3, 1, 6, 7, 3, 3, 0, 0, 0, 0, 1, 1, 1, 1},
		{"3x3 s1 wide pads", 2, 2, 5, 4, 3, 3, 2, 3, 1, 2, 1, 1, 1, 1},
		{"3x3 s1 narrow input", 2, 1, 3, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
		{"3x3 s1 one column", 2, 1, 4, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
		{"3x3 s2 p1", 3, 1, 11, 9, 3, 3, 1, 1, 1, 1, 2, 2, 1, 1},
		{"3x3 row stride 2 col stride 1", 2, 1, 8, 8, 3, 3, 1, 1, 1, 1, 2, 1, 1, 1},
		{"3x3 dilation 2", 2, 1, 9, 9, 3, 3, 2, 2, 2, 2, 1, 1, 2, 2},
		{"5x5 s2 p2 mult 3", 2, 3, 12, 13, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1},
		{"2x4 asymmetric", 3, 1, 7, 9, 2, 4, 0, 2, 1, 0, 1, 3, 1, 1},
	}
	r := rand.New(rand.NewSource(3))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const n = 2
			m := tc.c * tc.mult
			oh := (tc.h+tc.padT+tc.padB-(tc.kh-1)*tc.dh-1)/tc.sh + 1
			ow := (tc.w+tc.padL+tc.padR-(tc.kw-1)*tc.dw-1)/tc.sw + 1
			x := f32([]int64{n, int64(tc.c), int64(tc.h), int64(tc.w)}, randSlice(r, n*tc.c*tc.h*tc.w)...)
			wt := f32([]int64{int64(m), 1, int64(tc.kh), int64(tc.kw)}, randSlice(r, m*tc.kh*tc.kw)...)
			b := f32([]int64{int64(m)}, randSlice(r, m)...)
			xd, wd, bd := x.Float32s(), wt.Float32s(), b.Float32s()
			want := make([]float32, n*m*oh*ow)
			for bi := 0; bi < n; bi++ {
				for oc := 0; oc < m; oc++ {
					ic := oc / tc.mult
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							s := float64(bd[oc])
							for ky := 0; ky < tc.kh; ky++ {
								for kx := 0; kx < tc.kw; kx++ {
									iy, ix := oy*tc.sh-tc.padT+ky*tc.dh, ox*tc.sw-tc.padL+kx*tc.dw
									if iy < 0 || iy >= tc.h || ix < 0 || ix >= tc.w {
										continue
									}
									s += float64(xd[((bi*tc.c+ic)*tc.h+iy)*tc.w+ix]) * float64(wd[(oc*tc.kh+ky)*tc.kw+kx])
								}
							}
							want[((bi*m+oc)*oh+oy)*ow+ox] = float32(s)
						}
					}
				}
			}
			attrs := []*ir.Attr{ir.IntAttr("group", int64(tc.c)),
				ir.IntsAttr("pads", int64(tc.padT), int64(tc.padL), int64(tc.padB), int64(tc.padR)),
				ir.IntsAttr("strides", int64(tc.sh), int64(tc.sw)), ir.IntsAttr("dilations", int64(tc.dh), int64(tc.dw))}
			outs, err := runOp(t, "Conv", 22, attrs, 1, false, x, wt, b)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(outs[0].Shape) != fmt.Sprint([]int{n, m, oh, ow}) {
				t.Fatalf("shape %v, want %v", outs[0].Shape, []int{n, m, oh, ow})
			}
			checkClose(t, outs[0].Float32s(), want, 1e-5)
		})
	}
}

func TestConvTranspose(t *testing.T) {
	x := f32([]int64{1, 1, 2, 2}, 1, 2, 3, 4)
	w := f32([]int64{1, 1, 2, 2}, 1, 1, 1, 1)
	runCases(t, []opCase{
		{name: "plain", op: "ConvTranspose", inputs: []*kernel.Tensor{x, w},
			wantShape: []int64{1, 1, 3, 3}, want: []float32{1, 3, 2, 4, 10, 6, 3, 7, 4}},
		{name: "stride 2", op: "ConvTranspose", attrs: []*ir.Attr{ir.IntsAttr("strides", 2, 2)}, inputs: []*kernel.Tensor{x, w},
			wantShape: []int64{1, 1, 4, 4}, want: []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}},
		{name: "pads crop", op: "ConvTranspose", attrs: []*ir.Attr{ir.IntsAttr("pads", 1, 1, 1, 1)}, inputs: []*kernel.Tensor{x, w},
			wantShape: []int64{1, 1, 1, 1}, want: []float32{10}},
		{name: "output_padding", op: "ConvTranspose", attrs: []*ir.Attr{ir.IntsAttr("strides", 2, 2), ir.IntsAttr("output_padding", 1, 0)},
			inputs:    []*kernel.Tensor{x, w},
			wantShape: []int64{1, 1, 5, 4}, want: []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4, 0, 0, 0, 0}},
		{name: "bias", op: "ConvTranspose", inputs: []*kernel.Tensor{f32([]int64{1, 1, 1, 1}, 2), f32([]int64{1, 2, 1, 1}, 1, 3), f32([]int64{2}, 1, -1)},
			wantShape: []int64{1, 2, 1, 1}, want: []float32{3, 5}},
	})
}

func TestPools(t *testing.T) {
	x := f32([]int64{1, 1, 3, 3}, seq(9)...)
	runCases(t, []opCase{
		{name: "max 2x2", op: "MaxPool", attrs: []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2)}, inputs: []*kernel.Tensor{x},
			wantShape: []int64{1, 1, 2, 2}, want: []float32{5, 6, 8, 9}},
		{name: "max ceil", op: "MaxPool", attrs: []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2), ir.IntAttr("ceil_mode", 1)},
			inputs: []*kernel.Tensor{x}, wantShape: []int64{1, 1, 2, 2}, want: []float32{5, 6, 8, 9}},
		{name: "max floor", op: "MaxPool", attrs: []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("strides", 2, 2)},
			inputs: []*kernel.Tensor{x}, wantShape: []int64{1, 1, 1, 1}, want: []float32{5}},
		{name: "avg pads excl", op: "AveragePool", attrs: []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("pads", 1, 1, 0, 0), ir.IntsAttr("strides", 2, 2)},
			inputs: []*kernel.Tensor{x}, wantShape: []int64{1, 1, 2, 2}, want: []float32{1, 2.5, 5.5, 7}},
		{name: "avg pads incl", op: "AveragePool", attrs: []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("pads", 1, 1, 0, 0), ir.IntsAttr("strides", 2, 2), ir.IntAttr("count_include_pad", 1)},
			inputs: []*kernel.Tensor{x}, wantShape: []int64{1, 1, 2, 2}, want: []float32{0.25, 1.25, 2.75, 7}},
		{name: "lp p=2", op: "LpPool", attrs: []*ir.Attr{ir.IntsAttr("kernel_shape", 1, 2), ir.IntAttr("p", 2)},
			inputs: []*kernel.Tensor{f32([]int64{1, 1, 1, 3}, 3, 4, 0)}, wantShape: []int64{1, 1, 1, 2}, want: []float32{5, 4}},
		{name: "global avg", op: "GlobalAveragePool", inputs: []*kernel.Tensor{x}, wantShape: []int64{1, 1, 1, 1}, want: []float32{5}},
		{name: "global max", op: "GlobalMaxPool", inputs: []*kernel.Tensor{x}, wantShape: []int64{1, 1, 1, 1}, want: []float32{9}},
		{name: "global lp", op: "GlobalLpPool", inputs: []*kernel.Tensor{f32([]int64{1, 1, 2}, 3, 4)}, wantShape: []int64{1, 1, 1}, want: []float32{5}},
		{name: "no kernel_shape", op: "MaxPool", inputs: []*kernel.Tensor{x}, wantErr: true},
	})
}

func TestMaxPoolIndices(t *testing.T) {
	x := f32([]int64{1, 2, 2, 2}, 1, 4, 3, 2, 5, 6, 8, 7)
	for _, c := range []struct {
		order int64
		want  []int64
	}{{0, []int64{1, 6}}, {1, []int64{2, 5}}} {
		outs, err := runOp(t, "MaxPool", 12, []*ir.Attr{ir.IntsAttr("kernel_shape", 2, 2), ir.IntAttr("storage_order", c.order)}, 2, false, x)
		if err != nil {
			t.Fatal(err)
		}
		if got := outs[1].Int64s(); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("storage_order %d: indices %v, want %v", c.order, got, c.want)
		}
		checkClose(t, outs[0].Float32s(), []float32{4, 8}, 0)
	}
}

func TestMatMulAndGemm(t *testing.T) {
	runCases(t, []opCase{
		{name: "1d x 1d", op: "MatMul", opset: 13, inputs: []*kernel.Tensor{f32([]int64{3}, 1, 2, 3), f32([]int64{3}, 4, 5, 6)},
			wantShape: []int64{}, want: []float32{32}},
		{name: "1d x 2d", op: "MatMul", opset: 13, inputs: []*kernel.Tensor{f32([]int64{2}, 1, 2), f32([]int64{2, 3}, 1, 2, 3, 4, 5, 6)},
			wantShape: []int64{3}, want: []float32{9, 12, 15}},
		{name: "2d x 1d", op: "MatMul", opset: 13, inputs: []*kernel.Tensor{f32([]int64{2, 3}, 1, 2, 3, 4, 5, 6), f32([]int64{3}, 1, 0, -1)},
			wantShape: []int64{2}, want: []float32{-2, -2}},
		{name: "batch broadcast", op: "MatMul", opset: 13,
			inputs:    []*kernel.Tensor{f32([]int64{2, 1, 1, 2}, 1, 2, 3, 4), f32([]int64{3, 2, 1}, 1, 1, 1, 0, 0, 1)},
			wantShape: []int64{2, 3, 1, 1}, want: []float32{3, 1, 2, 7, 3, 4}},
		{name: "shared B", op: "MatMul", opset: 13,
			inputs:    []*kernel.Tensor{f32([]int64{2, 1, 2}, 1, 2, 3, 4), f32([]int64{2, 1}, 1, 1)},
			wantShape: []int64{2, 1, 1}, want: []float32{3, 7}},
		{name: "inner mismatch", op: "MatMul", opset: 13, inputs: []*kernel.Tensor{f32([]int64{2}, 1, 2), f32([]int64{3}, 1, 2, 3)}, wantErr: true},
		{name: "gemm all attrs", op: "Gemm", opset: 13,
			attrs:     []*ir.Attr{ir.IntAttr("transA", 1), ir.IntAttr("transB", 1), ir.FloatAttr("alpha", 2), ir.FloatAttr("beta", 0.5)},
			inputs:    []*kernel.Tensor{f32([]int64{2, 1}, 1, 2), f32([]int64{2, 2}, 1, 2, 3, 4), f32([]int64{2}, 10, 20)},
			wantShape: []int64{1, 2}, want: []float32{2*5 + 5, 2*11 + 10}},
		{name: "gemm scalar C", op: "Gemm", opset: 13,
			inputs:    []*kernel.Tensor{f32([]int64{1, 2}, 1, 2), f32([]int64{2, 1}, 3, 4), f32([]int64{}, 1)},
			wantShape: []int64{1, 1}, want: []float32{12}},
		{name: "gemm no C", op: "Gemm", opset: 13,
			inputs:    []*kernel.Tensor{f32([]int64{1, 2}, 1, 2), f32([]int64{2, 1}, 3, 4)},
			wantShape: []int64{1, 1}, want: []float32{11}},
	})
}

func TestEinsum(t *testing.T) {
	m := f32([]int64{2, 2}, 1, 2, 3, 4)
	runCases(t, []opCase{
		{name: "trace", op: "Einsum", opset: 12, attrs: []*ir.Attr{ir.StringAttr("equation", "ii")}, inputs: []*kernel.Tensor{m},
			wantShape: []int64{}, want: []float32{5}},
		{name: "diagonal", op: "Einsum", opset: 12, attrs: []*ir.Attr{ir.StringAttr("equation", "ii->i")}, inputs: []*kernel.Tensor{m},
			wantShape: []int64{2}, want: []float32{1, 4}},
		{name: "implicit matmul", op: "Einsum", opset: 12, attrs: []*ir.Attr{ir.StringAttr("equation", "ij,jk")}, inputs: []*kernel.Tensor{m, m},
			wantShape: []int64{2, 2}, want: []float32{7, 10, 15, 22}},
		{name: "implicit transpose", op: "Einsum", opset: 12, attrs: []*ir.Attr{ir.StringAttr("equation", "ji")}, inputs: []*kernel.Tensor{m},
			wantShape: []int64{2, 2}, want: []float32{1, 3, 2, 4}},
		{name: "ellipsis broadcast", op: "Einsum", opset: 12, attrs: []*ir.Attr{ir.StringAttr("equation", "...j,j->...")},
			inputs: []*kernel.Tensor{m, f32([]int64{2}, 1, -1)}, wantShape: []int64{2}, want: []float32{-1, -1}},
		{name: "outer", op: "Einsum", opset: 12, attrs: []*ir.Attr{ir.StringAttr("equation", "i,j->ij")},
			inputs: []*kernel.Tensor{f32([]int64{2}, 1, 2), f32([]int64{2}, 3, 4)}, wantShape: []int64{2, 2}, want: []float32{3, 4, 6, 8}},
		{name: "bad label", op: "Einsum", opset: 12, attrs: []*ir.Attr{ir.StringAttr("equation", "i1->i")}, inputs: []*kernel.Tensor{m}, wantErr: true},
	})
}

func TestSoftmaxFamily(t *testing.T) {
	x := f32([]int64{2, 2}, 0, 0, 1, 1)
	e := float32(math.E)
	runCases(t, []opCase{
		// Opset 13: along the last axis only.
		{name: "softmax 13", op: "Softmax", opset: 13, inputs: []*kernel.Tensor{x}, wantShape: []int64{2, 2}, want: []float32{0.5, 0.5, 0.5, 0.5}},
		// Opset 11, axis 0: the whole tensor is one row.
		{name: "softmax 11 coerced", op: "Softmax", opset: 11, attrs: []*ir.Attr{ir.IntAttr("axis", 0)}, inputs: []*kernel.Tensor{x},
			wantShape: []int64{2, 2}, want: []float32{1 / (2 + 2*e), 1 / (2 + 2*e), e / (2 + 2*e), e / (2 + 2*e)}},
		{name: "logsoftmax", op: "LogSoftmax", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", 0)}, inputs: []*kernel.Tensor{x},
			wantShape: []int64{2, 2}, want: []float32{-float32(math.Log(1 + math.E)), -float32(math.Log(1 + math.E)), -float32(math.Log(1 + 1/math.E)), -float32(math.Log(1 + 1/math.E))}},
		{name: "hardmax first max", op: "Hardmax", opset: 13, inputs: []*kernel.Tensor{f32([]int64{1, 3}, 2, 5, 5)}, wantShape: []int64{1, 3}, want: []float32{0, 1, 0}},
		{name: "axis out of range", op: "Softmax", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", 2)}, inputs: []*kernel.Tensor{x}, wantErr: true},
	})
}

func TestNormalizations(t *testing.T) {
	x := f32([]int64{1, 2, 2}, 1, 3, 2, 6)
	inv := func(v float64) float32 { return float32(1 / math.Sqrt(v)) }
	runCases(t, []opCase{
		{name: "layernorm", op: "LayerNormalization", opset: 17, attrs: []*ir.Attr{ir.FloatAttr("epsilon", 0)},
			inputs:    []*kernel.Tensor{x, f32([]int64{2}, 1, 2), f32([]int64{2}, 0, 1)},
			wantShape: []int64{1, 2, 2}, want: []float32{-1, 3, -1, 3}},
		{name: "rmsnorm", op: "RMSNormalization", opset: 23, attrs: []*ir.Attr{ir.FloatAttr("epsilon", 0)},
			inputs:    []*kernel.Tensor{f32([]int64{1, 2}, 3, 4), f32([]int64{2}, 1, 2)},
			wantShape: []int64{1, 2}, want: []float32{3 * inv(12.5), 8 * inv(12.5)}},
		{name: "batchnorm", op: "BatchNormalization", opset: 15,
			inputs: []*kernel.Tensor{f32([]int64{1, 2, 1}, 3, 5), f32([]int64{2}, 2, 1), f32([]int64{2}, 1, 0),
				f32([]int64{2}, 1, 1), f32([]int64{2}, 4, 16)},
			wantShape: []int64{1, 2, 1}, want: []float32{2*2*inv(4+1e-5) + 1, 4 * inv(16+1e-5)}},
		{name: "instancenorm", op: "InstanceNormalization", attrs: []*ir.Attr{ir.FloatAttr("epsilon", 0)},
			inputs:    []*kernel.Tensor{x, f32([]int64{2}, 1, 2), f32([]int64{2}, 0, 1)},
			wantShape: []int64{1, 2, 2}, want: []float32{-1, 1, -1, 3}},
		// Opset 18: one scale per group; opset 21: one per channel.
		{name: "groupnorm 18", op: "GroupNormalization", opset: 18, attrs: []*ir.Attr{ir.IntAttr("num_groups", 1), ir.FloatAttr("epsilon", 0)},
			inputs:    []*kernel.Tensor{f32([]int64{1, 2, 1}, 1, 3), f32([]int64{1}, 2), f32([]int64{1}, 1)},
			wantShape: []int64{1, 2, 1}, want: []float32{-1, 3}},
		{name: "groupnorm 21", op: "GroupNormalization", opset: 21, attrs: []*ir.Attr{ir.IntAttr("num_groups", 1), ir.FloatAttr("epsilon", 0)},
			inputs:    []*kernel.Tensor{f32([]int64{1, 2, 1}, 1, 3), f32([]int64{2}, 2, 3), f32([]int64{2}, 1, 0)},
			wantShape: []int64{1, 2, 1}, want: []float32{-1, 3}},
		{name: "groupnorm 21 per-group scale rejected", op: "GroupNormalization", opset: 21, attrs: []*ir.Attr{ir.IntAttr("num_groups", 1)},
			inputs: []*kernel.Tensor{f32([]int64{1, 2, 1}, 1, 3), f32([]int64{1}, 2), f32([]int64{1}, 1)}, wantErr: true},
		{name: "lpnorm l1", op: "LpNormalization", attrs: []*ir.Attr{ir.IntAttr("p", 1)},
			inputs: []*kernel.Tensor{f32([]int64{2, 2}, 1, 3, 0, 0)}, wantShape: []int64{2, 2}, want: []float32{0.25, 0.75, 0, 0}},
		{name: "lrn size 1", op: "LRN", opset: 13, attrs: []*ir.Attr{ir.IntAttr("size", 1), ir.FloatAttr("alpha", 1), ir.FloatAttr("beta", 1), ir.FloatAttr("bias", 1)},
			inputs: []*kernel.Tensor{f32([]int64{1, 1, 1}, 2)}, wantShape: []int64{1, 1, 1}, want: []float32{0.4}},
	})
}

func TestAttentionSmall(t *testing.T) {
	// One head, two keys: with a causal mask the first query sees only the first key.
	q := f32([]int64{1, 1, 2, 1}, 1, 1)
	k := f32([]int64{1, 1, 2, 1}, 0, 0)
	v := f32([]int64{1, 1, 2, 2}, 1, 2, 3, 4)
	runCases(t, []opCase{
		{name: "uniform", op: "Attention", opset: 23, inputs: []*kernel.Tensor{q, k, v},
			wantShape: []int64{1, 1, 2, 2}, want: []float32{2, 3, 2, 3}},
		{name: "causal", op: "Attention", opset: 23, attrs: []*ir.Attr{ir.IntAttr("is_causal", 1)}, inputs: []*kernel.Tensor{q, k, v},
			wantShape: []int64{1, 1, 2, 2}, want: []float32{1, 2, 2, 3}},
		{name: "fully masked row is zero", op: "Attention", opset: 23,
			inputs:    []*kernel.Tensor{q, k, v, {DType: ir.Bool, Shape: []int64{2, 2}, Data: []bool{false, false, true, false}}},
			wantShape: []int64{1, 1, 2, 2}, want: []float32{0, 0, 1, 2}},
	})
}

func TestFloatConversions(t *testing.T) {
	for _, v := range []float32{0, 1, -2.5, 65504, 6e-8, 1e-5, float32(math.Inf(1))} {
		if got := f16ToF32(f32ToF16(v)); math.Abs(float64(got-v)) > 1e-3*math.Abs(float64(v))+6e-8 {
			t.Errorf("float16 round trip of %v = %v", v, got)
		}
		if got := bf16ToF32(f32ToBF16(v)); math.Abs(float64(got-v)) > 1e-2*math.Abs(float64(v)) {
			t.Errorf("bfloat16 round trip of %v = %v", v, got)
		}
	}
	// Float16 tensors go through the float32 kernels and come back as float16.
	x := &kernel.Tensor{DType: ir.Float16, Shape: []int64{1, 2}, Data: []uint16{f32ToF16(1), f32ToF16(1)}}
	outs, err := runOp(t, "Softmax", 13, nil, 1, false, x)
	if err != nil {
		t.Fatal(err)
	}
	if d := outs[0].Data.([]uint16); f16ToF32(d[0]) != 0.5 || f16ToF32(d[1]) != 0.5 {
		t.Errorf("float16 softmax = %v", d)
	}
}

func BenchmarkConv3x3_64x64_56(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	x := f32([]int64{1, 64, 56, 56}, randSlice(r, 64*56*56)...)
	w := f32([]int64{64, 64, 3, 3}, randSlice(r, 64*64*9)...)
	bias := f32([]int64{64}, randSlice(r, 64)...)
	g := ir.NewGraph("g")
	node := g.NewNode("", "Conv", []*ir.Value{g.AddInput("x", nil), g.AddInput("w", nil), g.AddInput("b", nil)}, []string{"y"},
		ir.IntsAttr("pads", 1, 1, 1, 1))
	k, err := newConv(&kernel.NodeInfo{Node: node, Opset: 22, Consts: []*kernel.Tensor{nil, w, bias}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := &kernel.Context{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := k.Run(ctx, []*kernel.Tensor{x, w, bias}); err != nil {
			b.Fatal(err)
		}
	}
	flops := 2.0 * 64 * 64 * 9 * 56 * 56
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// TestMaxPool2DFastPathMatchesGeneral compares MaxPool without Indices (the 2-D fast
// path) with MaxPool asked for Indices (the general loop), NaNs included.
func TestMaxPool2DFastPathMatchesGeneral(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	xv := randSlice(r, 2*3*9*8)
	xv[5], xv[100], xv[101] = float32(math.NaN()), float32(math.NaN()), float32(math.NaN())
	x := f32([]int64{2, 3, 9, 8}, xv...)
	cases := [][]*ir.Attr{
		{ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1)},
		{ir.IntsAttr("kernel_shape", 2, 3), ir.IntsAttr("strides", 2, 1), ir.IntAttr("ceil_mode", 1)},
		{ir.IntsAttr("kernel_shape", 3, 2), ir.IntsAttr("dilations", 2, 3), ir.IntsAttr("pads", 2, 0, 1, 3)},
		{ir.IntsAttr("kernel_shape", 4, 4), ir.IntsAttr("strides", 3, 3), ir.IntAttr("ceil_mode", 1), ir.IntsAttr("pads", 2, 2, 2, 2)},
	}
	for i, attrs := range cases {
		fast, err := runOp(t, "MaxPool", 12, attrs, 1, false, x)
		if err != nil {
			t.Fatal(err)
		}
		general, err := runOp(t, "MaxPool", 12, attrs, 2, false, x)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(fast[0].Shape) != fmt.Sprint(general[0].Shape) {
			t.Fatalf("case %d: shape %v, want %v", i, fast[0].Shape, general[0].Shape)
		}
		checkClose(t, fast[0].Float32s(), general[0].Float32s(), 0)
	}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

func checkClose(t *testing.T, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("len %d, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) && math.IsNaN(g) {
			continue
		}
		if math.Abs(g-w) > tol*(1+math.Abs(w)) || math.IsNaN(g) != math.IsNaN(w) {
			t.Fatalf("element %d = %v, want %v", i, g, w)
		}
	}
}

package elementwise

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// run builds op's kernel at opset for a node with the given attributes and runs it.
func run(t *testing.T, op string, opset int64, attrs []*ir.Attr, in ...*kernel.Tensor) ([]*kernel.Tensor, error) {
	t.Helper()
	g := ir.NewGraph("t")
	var vals []*ir.Value
	for i := range in {
		vals = append(vals, g.AddInput(string(rune('a'+i)), nil))
	}
	n := g.NewNode("", op, vals, []string{"y", "mask"}, attrs...)
	dt := ir.Undefined
	if len(in) > 0 && in[0] != nil {
		dt = in[0].DType
	}
	def, err := kernel.Lookup("", op, opset, dt)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	k, err := def.New(&kernel.NodeInfo{Node: n, Opset: opset})
	if err != nil {
		return nil, err
	}
	return k.Run(&kernel.Context{}, in)
}

func mustRun(t *testing.T, op string, opset int64, attrs []*ir.Attr, in ...*kernel.Tensor) *kernel.Tensor {
	t.Helper()
	out, err := run(t, op, opset, attrs, in...)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return out[0]
}

func tensor[T any](dt ir.DataType, shape []int64, data ...T) *kernel.Tensor {
	if data == nil {
		data = []T{}
	}
	return &kernel.Tensor{DType: dt, Shape: shape, Data: data}
}

func f32(shape []int64, v ...float32) *kernel.Tensor { return tensor(ir.Float, shape, v...) }

func check(t *testing.T, name string, got *kernel.Tensor, wantShape []int64, want any) {
	t.Helper()
	if !kernel.SameShape(got.Shape, wantShape) {
		t.Errorf("%s: shape %v, want %v", name, got.Shape, wantShape)
	}
	if !reflect.DeepEqual(got.Data, want) {
		t.Errorf("%s: got %v, want %v", name, got.Data, want)
	}
}

func TestArithmetic(t *testing.T) {
	tests := []struct {
		name      string
		op        string
		attrs     []*ir.Attr
		a, b      *kernel.Tensor
		wantShape []int64
		want      any
	}{
		{"add broadcast row", "Add", nil, f32([]int64{2, 3}, 1, 2, 3, 4, 5, 6), f32([]int64{3}, 10, 20, 30),
			[]int64{2, 3}, []float32{11, 22, 33, 14, 25, 36}},
		{"add scalar first", "Add", nil, f32([]int64{}, 1), f32([]int64{2}, 1, 2), []int64{2}, []float32{2, 3}},
		{"add empty", "Add", nil, f32([]int64{0, 3}), f32([]int64{3}, 1, 2, 3), []int64{0, 3}, []float32{}},
		{"sub column", "Sub", nil, f32([]int64{2, 2}, 5, 6, 7, 8), f32([]int64{2, 1}, 1, 2), []int64{2, 2}, []float32{4, 5, 5, 6}},
		{"int8 add wraps", "Add", nil, tensor(ir.Int8, []int64{2}, int8(127), -128), tensor(ir.Int8, []int64{2}, int8(1), -1),
			[]int64{2}, []int8{-128, 127}},
		{"uint8 sub wraps", "Sub", nil, tensor(ir.Uint8, []int64{1}, uint8(0)), tensor(ir.Uint8, []int64{1}, uint8(1)),
			[]int64{1}, []uint8{255}},
		{"int32 mul wraps", "Mul", nil, tensor(ir.Int32, []int64{1}, int32(1<<30)), tensor(ir.Int32, []int64{1}, int32(4)),
			[]int64{1}, []int32{0}},
		{"int div truncates", "Div", nil, tensor(ir.Int32, []int64{4}, int32(-7), 7, -7, 7), tensor(ir.Int32, []int64{4}, int32(2), -2, -2, 2),
			[]int64{4}, []int32{-3, -3, 3, 3}},
		{"int div by zero", "Div", nil, tensor(ir.Int64, []int64{2}, int64(5), -5), tensor(ir.Int64, []int64{}, int64(0)),
			[]int64{2}, []int64{0, 0}},
		{"float div by zero", "Div", nil, f32([]int64{2}, 1, -1), f32([]int64{}, 0),
			[]int64{2}, []float32{float32(math.Inf(1)), float32(math.Inf(-1))}},
		{"mod sign of divisor", "Mod", nil, tensor(ir.Int32, []int64{4}, int32(-4), 7, 5, -5), tensor(ir.Int32, []int64{4}, int32(3), -3, 0, 3),
			[]int64{4}, []int32{2, -2, 0, 1}},
		{"fmod sign of dividend", "Mod", []*ir.Attr{ir.IntAttr("fmod", 1)}, f32([]int64{3}, -4, 7, 5.5), f32([]int64{3}, 3, -3, 2),
			[]int64{3}, []float32{-1, 1, 1.5}},
		{"pow int exponent", "Pow", nil, f32([]int64{3}, 2, 3, -2), tensor(ir.Int64, []int64{}, int64(3)),
			[]int64{3}, []float32{8, 27, -8}},
		{"pow int64", "Pow", nil, tensor(ir.Int64, []int64{2}, int64(3), 2), tensor(ir.Int64, []int64{2}, int64(4), 40),
			[]int64{2}, []int64{81, 1 << 40}},
		{"max broadcast", "Max", nil, f32([]int64{2}, 1, 5), f32([]int64{2, 1}, 3, 0), []int64{2, 2}, []float32{3, 5, 1, 5}},
		{"legacy axis broadcast", "Add", []*ir.Attr{ir.IntAttr("broadcast", 1), ir.IntAttr("axis", 0)},
			f32([]int64{2, 3}, 0, 0, 0, 0, 0, 0), f32([]int64{2}, 1, 2), []int64{2, 3}, []float32{1, 1, 1, 2, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opset := int64(17)
			if strings.HasPrefix(tt.name, "legacy") {
				opset = 6
			}
			check(t, tt.name, mustRun(t, tt.op, opset, tt.attrs, tt.a, tt.b), tt.wantShape, tt.want)
		})
	}
}

func TestArithmeticErrors(t *testing.T) {
	if _, err := run(t, "Add", 17, nil, f32([]int64{2}), f32([]int64{3})); err == nil {
		t.Error("Add of [2] and [3] succeeded")
	}
	if _, err := run(t, "Add", 17, nil, f32([]int64{1}, 1), tensor(ir.Int64, []int64{1}, int64(1))); err == nil {
		t.Error("Add of float and int64 succeeded")
	}
	// Half types never reach these kernels through a session (it converts them); called
	// directly, the kernel must refuse rather than add the raw bits.
	half := tensor(ir.Float16, []int64{1}, uint16(0x3c00))
	def, err := kernel.Lookup("", "Add", 17, ir.Float)
	if err != nil {
		t.Fatal(err)
	}
	k, err := def.New(&kernel.NodeInfo{Node: ir.NewGraph("t").NewNode("", "Add", nil, []string{"y"}), Opset: 17})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Run(&kernel.Context{}, []*kernel.Tensor{half, half}); err == nil || !strings.Contains(err.Error(), "float16") {
		t.Errorf("Add on raw float16 bits: err = %v, want a refusal", err)
	}
}

func TestVariadic(t *testing.T) {
	a, b, c := f32([]int64{2, 1}, 1, 2), f32([]int64{3}, 10, 20, 30), f32([]int64{}, 100)
	check(t, "Sum", mustRun(t, "Sum", 13, nil, a, b, c), []int64{2, 3}, []float32{111, 121, 131, 112, 122, 132})
	check(t, "Mean", mustRun(t, "Mean", 13, nil, f32([]int64{2}, 1, 2), f32([]int64{2}, 3, 6)), []int64{2}, []float32{2, 4})
	check(t, "Min", mustRun(t, "Min", 13, nil, a, b), []int64{2, 3}, []float32{1, 1, 1, 2, 2, 2})
	check(t, "Max one input", mustRun(t, "Max", 13, nil, a), []int64{2, 1}, []float32{1, 2})
	nan := float32(math.NaN())
	got := mustRun(t, "Max", 13, nil, f32([]int64{2}, nan, 1), f32([]int64{2}, 0, nan)).Data.([]float32)
	if !math.IsNaN(float64(got[0])) || !math.IsNaN(float64(got[1])) {
		t.Errorf("Max with NaN = %v, want NaN propagated", got)
	}
}

func TestUnary(t *testing.T) {
	tests := []struct {
		op    string
		attrs []*ir.Attr
		in    *kernel.Tensor
		want  any
	}{
		{"Round", nil, f32([]int64{6}, 0.5, 1.5, 2.5, -0.5, -1.5, 2.4), []float32{0, 2, 2, 0, -2, 2}},
		{"Neg", nil, tensor(ir.Int8, []int64{2}, int8(-128), 5), []int8{-128, -5}},
		{"Abs", nil, tensor(ir.Int16, []int64{2}, int16(-3), 3), []int16{3, 3}},
		{"Abs", nil, tensor(ir.Uint64, []int64{1}, uint64(math.MaxUint64)), []uint64{math.MaxUint64}},
		{"Sign", nil, f32([]int64{3}, -2, 0, 3), []float32{-1, 0, 1}},
		{"Sign", nil, tensor(ir.Uint8, []int64{2}, uint8(0), 7), []uint8{0, 1}},
		{"Relu", nil, tensor(ir.Int32, []int64{2}, int32(-3), 3), []int32{0, 3}},
		{"LeakyRelu", []*ir.Attr{ir.FloatAttr("alpha", 0.5)}, f32([]int64{2}, -2, 2), []float32{-1, 2}},
		{"ThresholdedRelu", nil, f32([]int64{3}, 0.5, 1, 2), []float32{0, 0, 2}},
		{"HardSigmoid", nil, f32([]int64{3}, -10, 0, 10), []float32{0, 0.5, 1}},
		{"HardSwish", nil, f32([]int64{3}, -4, 0, 4), []float32{0, 0, 4}},
		{"Shrink", []*ir.Attr{ir.FloatAttr("lambd", 1), ir.FloatAttr("bias", 0.5)}, f32([]int64{3}, -2, 0.5, 2), []float32{-1.5, 0, 1.5}},
		{"Shrink", []*ir.Attr{ir.FloatAttr("lambd", 1), ir.FloatAttr("bias", 1)}, tensor(ir.Int32, []int64{3}, int32(-3), 1, 3), []int32{-2, 0, 2}},
		{"Elu", nil, f32([]int64{2}, 0, 2), []float32{0, 2}},
		{"Celu", nil, f32([]int64{1}, 3), []float32{3}},
		{"Sqrt", nil, tensor(ir.Double, []int64{2}, 4.0, 9.0), []float64{2, 3}},
		{"Reciprocal", nil, f32([]int64{2}, 4, -0.5), []float32{0.25, -2}},
		{"Floor", nil, f32([]int64{2}, -1.5, 1.5), []float32{-2, 1}},
		{"Ceil", nil, f32([]int64{2}, -1.5, 1.5), []float32{-1, 2}},
		{"Exp", nil, f32([]int64{0, 2}), []float32{}},
	}
	for _, tt := range tests {
		got := mustRun(t, tt.op, 22, tt.attrs, tt.in)
		check(t, tt.op+" "+tt.in.DType.String(), got, tt.in.Shape, tt.want)
	}
}

func TestActivationValues(t *testing.T) {
	close := func(name string, got *kernel.Tensor, want ...float64) {
		t.Helper()
		for i, g := range got.Data.([]float32) {
			if math.Abs(float64(g)-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
				t.Errorf("%s[%d] = %v, want %v", name, i, g, want[i])
			}
		}
	}
	x := f32([]int64{3}, -1, 0, 2)
	close("Sigmoid", mustRun(t, "Sigmoid", 13, nil, x), 0.2689414213699951, 0.5, 0.8807970779778823)
	close("Gelu", mustRun(t, "Gelu", 20, nil, x), -0.15865525393145707, 0, 1.9544997361036416)
	close("Gelu tanh", mustRun(t, "Gelu", 20, []*ir.Attr{ir.StringAttr("approximate", "tanh")}, x),
		-0.15880800939172324, 0, 1.9545976940871754)
	close("Selu", mustRun(t, "Selu", 6, nil, x), -1.1113307378125625, 0, 2.1014020442962646)
	close("Softplus", mustRun(t, "Softplus", 1, nil, f32([]int64{2}, 100, -100)), 100, 3.720075976020836e-44)
	close("Mish", mustRun(t, "Mish", 18, nil, x), -0.30340146137410895, 0, 1.9439589595339946)
	close("Swish", mustRun(t, "Swish", 24, nil, x), -0.2689414213699951, 0, 1.7615941559557646)
	if _, err := run(t, "Gelu", 20, []*ir.Attr{ir.StringAttr("approximate", "cubic")}, x); err == nil {
		t.Error("Gelu accepted approximate=cubic")
	}
}

func TestComparisonsAndLogic(t *testing.T) {
	a, b := f32([]int64{3}, 1, 2, 3), f32([]int64{}, 2)
	check(t, "Greater", mustRun(t, "Greater", 13, nil, a, b), []int64{3}, []bool{false, false, true})
	check(t, "LessOrEqual", mustRun(t, "LessOrEqual", 16, nil, a, b), []int64{3}, []bool{true, true, false})
	check(t, "Equal strings", mustRun(t, "Equal", 19, nil,
		tensor(ir.String, []int64{2}, "a", "b"), tensor(ir.String, []int64{2}, "a", "c")), []int64{2}, []bool{true, false})
	tf := tensor(ir.Bool, []int64{2, 1}, true, false)
	ft := tensor(ir.Bool, []int64{2}, true, false)
	check(t, "And", mustRun(t, "And", 7, nil, tf, ft), []int64{2, 2}, []bool{true, false, false, false})
	check(t, "Or", mustRun(t, "Or", 7, nil, tf, ft), []int64{2, 2}, []bool{true, true, true, false})
	check(t, "Xor", mustRun(t, "Xor", 7, nil, tf, ft), []int64{2, 2}, []bool{false, true, true, false})
	check(t, "Not", mustRun(t, "Not", 1, nil, ft), []int64{2}, []bool{false, true})
	u := tensor(ir.Uint8, []int64{3}, uint8(1), 2, 255)
	check(t, "BitShift left", mustRun(t, "BitShift", 11, []*ir.Attr{ir.StringAttr("direction", "LEFT")}, u, tensor(ir.Uint8, []int64{}, uint8(1))),
		[]int64{3}, []uint8{2, 4, 254})
	check(t, "BitShift right", mustRun(t, "BitShift", 11, []*ir.Attr{ir.StringAttr("direction", "RIGHT")}, u, tensor(ir.Uint8, []int64{3}, uint8(1), 1, 8)),
		[]int64{3}, []uint8{0, 1, 0})
	i := tensor(ir.Int32, []int64{2}, int32(12), -1)
	check(t, "BitwiseAnd", mustRun(t, "BitwiseAnd", 18, nil, i, tensor(ir.Int32, []int64{}, int32(10))), []int64{2}, []int32{8, 10})
	check(t, "BitwiseNot", mustRun(t, "BitwiseNot", 18, nil, i), []int64{2}, []int32{-13, 0})
	inf := f32([]int64{4}, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1)
	check(t, "IsInf", mustRun(t, "IsInf", 20, nil, inf), []int64{4}, []bool{true, true, false, false})
	check(t, "IsInf positive", mustRun(t, "IsInf", 20, []*ir.Attr{ir.IntAttr("detect_negative", 0)}, inf), []int64{4}, []bool{true, false, false, false})
	check(t, "IsNaN", mustRun(t, "IsNaN", 20, nil, inf), []int64{4}, []bool{false, false, true, false})
}

func TestWhere(t *testing.T) {
	cond := tensor(ir.Bool, []int64{2, 1}, true, false)
	x := tensor(ir.Int64, []int64{3}, int64(1), 2, 3)
	y := tensor(ir.Int64, []int64{}, int64(-1))
	check(t, "Where", mustRun(t, "Where", 16, nil, cond, x, y), []int64{2, 3}, []int64{1, 2, 3, -1, -1, -1})
	s := mustRun(t, "Where", 16, nil, tensor(ir.Bool, []int64{2}, false, true), tensor(ir.String, []int64{2}, "a", "b"), tensor(ir.String, []int64{2}, "c", "d"))
	check(t, "Where strings", s, []int64{2}, []string{"c", "b"})
}

func TestClip(t *testing.T) {
	x := f32([]int64{4}, -5, 0, 5, float32(math.NaN()))
	got := mustRun(t, "Clip", 13, nil, x, f32([]int64{}, -1), f32([]int64{}, 1)).Data.([]float32)
	if got[0] != -1 || got[1] != 0 || got[2] != 1 || !math.IsNaN(float64(got[3])) {
		t.Errorf("Clip = %v, want [-1 0 1 NaN]", got)
	}
	check(t, "Clip max only", mustRun(t, "Clip", 13, nil, f32([]int64{2}, -5, 5), nil, f32([]int64{}, 0)), []int64{2}, []float32{-5, 0})
	check(t, "Clip min>max", mustRun(t, "Clip", 13, nil, f32([]int64{2}, -5, 5), f32([]int64{}, 2), f32([]int64{}, 1)), []int64{2}, []float32{1, 1})
	check(t, "Clip int8 no bounds", mustRun(t, "Clip", 13, nil, tensor(ir.Int8, []int64{2}, int8(-128), 127)), []int64{2}, []int8{-128, 127})
	check(t, "Clip int64", mustRun(t, "Clip", 13, nil, tensor(ir.Int64, []int64{2}, int64(math.MinInt64), math.MaxInt64), tensor(ir.Int64, []int64{}, int64(-3))),
		[]int64{2}, []int64{-3, math.MaxInt64})
	check(t, "Clip-6 attributes", mustRun(t, "Clip", 6, []*ir.Attr{ir.FloatAttr("min", -1), ir.FloatAttr("max", 2)}, f32([]int64{3}, -5, 1, 5)),
		[]int64{3}, []float32{-1, 1, 2})
}

func TestPRelu(t *testing.T) {
	x := f32([]int64{1, 2, 2}, -1, 1, -2, 2)
	check(t, "PRelu per-channel (opset 16)", mustRun(t, "PRelu", 16, nil, x, f32([]int64{2, 1}, 0.5, 0.25)),
		[]int64{1, 2, 2}, []float32{-0.5, 1, -0.5, 2})
	check(t, "PRelu legacy [C]", mustRun(t, "PRelu", 6, nil, x, f32([]int64{2}, 0.5, 0.25)),
		[]int64{1, 2, 2}, []float32{-0.5, 1, -0.5, 2})
}

func TestDropout(t *testing.T) {
	x := f32([]int64{2}, 1, 2)
	out, err := run(t, "Dropout", 13, nil, x)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "Dropout output", out[0], []int64{2}, []float32{1, 2})
	check(t, "Dropout mask", out[1], []int64{2}, []bool{true, true})
	// Seeded training mode follows numpy's legacy generator: np.random.seed(0) draws
	// 0.5488135, 0.71518937, 0.60276338, 0.54488318 first.
	x4 := f32([]int64{4}, 1, 1, 1, 1)
	tr := tensor(ir.Bool, []int64{}, true)
	out, err = run(t, "Dropout", 13, []*ir.Attr{ir.IntAttr("seed", 0)}, x4, f32([]int64{}, 0.625), tr)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "training mask", out[1], []int64{4}, []bool{false, true, false, false})
	check(t, "training output", out[0], []int64{4}, []float32{0, 1 / 0.375, 0, 0})
}

func BenchmarkAddFloat32(b *testing.B) {
	x := f32([]int64{1 << 16}, make([]float32, 1<<16)...)
	ctx := &kernel.Context{}
	for b.Loop() {
		if _, err := arith(ctx, opAdd, x, x, x.Shape); err != nil {
			b.Fatal(err)
		}
	}
}

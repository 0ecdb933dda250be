package reduce

import (
	"math"
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// runOp builds op at opset with attrs and runs it on data (and axes when non-nil).
func runOp(t *testing.T, opType string, opset int64, attrs []*ir.Attr, data *kernel.Tensor, axes []int64) *kernel.Tensor {
	t.Helper()
	g := ir.NewGraph("t")
	ins := []*ir.Value{g.AddInput("data", ir.TensorTypeOf(data.DType, data.Shape...))}
	inputs := []*kernel.Tensor{data}
	if axes != nil {
		ins = append(ins, g.AddInput("axes", ir.TensorTypeOf(ir.Int64, int64(len(axes)))))
		inputs = append(inputs, kernel.FromInt64([]int64{int64(len(axes))}, axes))
	}
	n := g.NewNode("", opType, ins, []string{"y"}, attrs...)
	def, err := kernel.Lookup("", opType, opset, data.DType)
	if err != nil {
		t.Fatal(err)
	}
	k, err := def.New(&kernel.NodeInfo{Node: n, Opset: opset})
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.Run(&kernel.Context{}, inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func f32(shape []int64, v ...float32) *kernel.Tensor { return kernel.FromFloat32(shape, v) }

func TestReduceFloat(t *testing.T) {
	// x is 2x3: [[1 2 3] [4 5 6]]
	x := func() *kernel.Tensor { return f32([]int64{2, 3}, 1, 2, 3, 4, 5, 6) }
	inf := float32(math.Inf(1))
	tests := []struct {
		name      string
		op        string
		opset     int64
		attrs     []*ir.Attr
		axes      []int64
		in        *kernel.Tensor
		wantShape []int64
		want      []float32
	}{
		{"sum all keepdims", "ReduceSum", 13, nil, nil, x(), []int64{1, 1}, []float32{21}},
		{"sum axis0", "ReduceSum", 13, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{0}, x(), []int64{3}, []float32{5, 7, 9}},
		{"sum axis1 attr opset11", "ReduceSum", 11, []*ir.Attr{ir.IntsAttr("axes", 1)}, nil, x(), []int64{2, 1}, []float32{6, 15}},
		{"sum negative axis", "ReduceSum", 13, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{-1}, x(), []int64{2}, []float32{6, 15}},
		{"sum noop empty axes", "ReduceSum", 13, []*ir.Attr{ir.IntAttr("noop_with_empty_axes", 1)}, []int64{}, x(), []int64{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{"mean axis0", "ReduceMean", 18, nil, []int64{0}, x(), []int64{1, 3}, []float32{2.5, 3.5, 4.5}},
		{"mean attr opset13", "ReduceMean", 13, []*ir.Attr{ir.IntsAttr("axes", 1), ir.IntAttr("keepdims", 0)}, nil, x(), []int64{2}, []float32{2, 5}},
		{"max axis1", "ReduceMax", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, x(), []int64{2}, []float32{3, 6}},
		{"min axis0", "ReduceMin", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{0}, x(), []int64{3}, []float32{1, 2, 3}},
		{"prod all", "ReduceProd", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, nil, x(), []int64{}, []float32{720}},
		{"l1", "ReduceL1", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, f32([]int64{2, 2}, -1, 2, -3, -4), []int64{2}, []float32{3, 7}},
		{"l2", "ReduceL2", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, f32([]int64{2, 2}, 3, -4, 6, 8), []int64{2}, []float32{5, 10}},
		{"sumsquare", "ReduceSumSquare", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{0}, x(), []int64{3}, []float32{17, 29, 45}},
		{"logsum", "ReduceLogSum", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, f32([]int64{1, 3}, 1, 0.5, 1.5), []int64{1}, []float32{float32(math.Log(3))}},
		{"logsumexp large", "ReduceLogSumExp", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, f32([]int64{1, 2}, 1000, 1000), []int64{1}, []float32{float32(1000 + math.Log(2))}},
		{"logsumexp outer", "ReduceLogSumExp", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{0}, f32([]int64{2, 2}, 0, 1, 0, 1), []int64{2}, []float32{float32(math.Log(2)), float32(1 + math.Log(2))}},
		// Middle axis of a 2x2x2 tensor: neither inner nor outer.
		{"sum middle axis", "ReduceSum", 13, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, f32([]int64{2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8), []int64{2, 2}, []float32{4, 6, 12, 14}},
		// Axes 0 and 2 of a 2x2x2 tensor: reduced blocks are not adjacent.
		{"sum axes 0,2", "ReduceSum", 13, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{0, 2}, f32([]int64{2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8), []int64{2}, []float32{14, 22}},
		// Empty sets: the identities.
		{"sum empty set", "ReduceSum", 13, nil, []int64{1}, f32([]int64{2, 0, 4}), []int64{2, 1, 4}, []float32{0, 0, 0, 0, 0, 0, 0, 0}},
		{"prod empty set", "ReduceProd", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, f32([]int64{2, 0}), []int64{2}, []float32{1, 1}},
		{"max empty set", "ReduceMax", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, f32([]int64{2, 0}), []int64{2}, []float32{-inf, -inf}},
		{"min empty set", "ReduceMin", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, f32([]int64{1, 0}), []int64{1}, []float32{inf}},
		{"logsumexp empty set", "ReduceLogSumExp", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, []int64{1}, f32([]int64{1, 0}), []int64{1}, []float32{-inf}},
		{"non-reduced axis zero", "ReduceSum", 13, nil, []int64{1}, f32([]int64{0, 3}), []int64{0, 1}, []float32{}},
		{"scalar input", "ReduceSum", 13, nil, nil, f32([]int64{}, 7), []int64{}, []float32{7}},
		{"noop logsum applies log", "ReduceLogSum", 18, []*ir.Attr{ir.IntAttr("noop_with_empty_axes", 1)}, nil, f32([]int64{2}, 1, float32(math.E)), []int64{2}, []float32{0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := runOp(t, tc.op, tc.opset, tc.attrs, tc.in, tc.axes)
			if !reflect.DeepEqual(got.Shape, tc.wantShape) {
				t.Fatalf("shape %v, want %v", got.Shape, tc.wantShape)
			}
			gd := got.Float32s()
			if len(gd) != len(tc.want) {
				t.Fatalf("got %d elements, want %d", len(gd), len(tc.want))
			}
			for i := range gd {
				if d := math.Abs(float64(gd[i] - tc.want[i])); !(d <= 1e-5*math.Abs(float64(tc.want[i]))+1e-6) && gd[i] != tc.want[i] {
					t.Errorf("[%d] = %v, want %v", i, gd[i], tc.want[i])
				}
			}
		})
	}
}

func TestReduceMeanOfEmptySetIsNaN(t *testing.T) {
	got := runOp(t, "ReduceMean", 18, nil, f32([]int64{0, 2}), []int64{0})
	for _, v := range got.Float32s() {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("mean of empty set = %v, want NaN", v)
		}
	}
}

func TestReduceMaxPropagatesNaN(t *testing.T) {
	nan := float32(math.NaN())
	got := runOp(t, "ReduceMax", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)},
		f32([]int64{3, 2}, 1, nan, nan, 2, 3, 4), []int64{0})
	for i, v := range got.Float32s() {
		if !math.IsNaN(float64(v)) {
			t.Errorf("[%d] = %v, want NaN", i, v)
		}
	}
}

// A float32 sum of many small values must not lose them to rounding: accumulating in
// float32 would stall at 2^24.
func TestReduceSumAccumulatesPrecisely(t *testing.T) {
	const n = 1 << 25
	data := make([]float32, n)
	for i := range data {
		data[i] = 1
	}
	got := runOp(t, "ReduceSum", 13, []*ir.Attr{ir.IntAttr("keepdims", 0)}, f32([]int64{n}, data...), nil).Float32s()[0]
	if got != n {
		t.Fatalf("sum = %v, want %v", got, float32(n))
	}
}

func TestReduceIntegers(t *testing.T) {
	i8 := &kernel.Tensor{DType: ir.Int8, Shape: []int64{2, 2}, Data: []int8{100, 100, -7, 2}}
	got := runOp(t, "ReduceSum", 13, []*ir.Attr{ir.IntAttr("keepdims", 0)}, i8, []int64{1})
	// 200 wraps to -56 in int8, as the output type does.
	if want := []int8{-56, -5}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("int8 sum = %v, want %v", got.Data, want)
	}
	got = runOp(t, "ReduceMean", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, &kernel.Tensor{DType: ir.Int32, Shape: []int64{3}, Data: []int32{1, 2, 4}}, nil)
	if want := []int32{2}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("int32 mean = %v, want %v", got.Data, want)
	}
	got = runOp(t, "ReduceMax", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, &kernel.Tensor{DType: ir.Int64, Shape: []int64{2, 0}, Data: []int64{}}, []int64{1})
	if want := []int64{math.MinInt64, math.MinInt64}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("int64 max of empty set = %v, want %v", got.Data, want)
	}
	got = runOp(t, "ReduceMin", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, &kernel.Tensor{DType: ir.Uint64, Shape: []int64{0}, Data: []uint64{}}, nil)
	if want := []uint64{math.MaxUint64}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("uint64 min of empty set = %v, want %v", got.Data, want)
	}
	got = runOp(t, "ReduceMax", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, &kernel.Tensor{DType: ir.Uint64, Shape: []int64{2}, Data: []uint64{1 << 63, 5}}, nil)
	if want := []uint64{1 << 63}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("uint64 max = %v, want %v (compared unsigned)", got.Data, want)
	}
	got = runOp(t, "ReduceL1", 18, []*ir.Attr{ir.IntAttr("keepdims", 0)}, &kernel.Tensor{DType: ir.Int16, Shape: []int64{3}, Data: []int16{-3, 4, -5}}, nil)
	if want := []int16{12}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("int16 l1 = %v, want %v", got.Data, want)
	}
}

func TestReduceBool(t *testing.T) {
	b := &kernel.Tensor{DType: ir.Bool, Shape: []int64{2, 2}, Data: []bool{true, false, false, false}}
	got := runOp(t, "ReduceMax", 20, []*ir.Attr{ir.IntAttr("keepdims", 0)}, b, []int64{1})
	if want := []bool{true, false}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("bool max = %v, want %v", got.Data, want)
	}
	got = runOp(t, "ReduceMin", 20, []*ir.Attr{ir.IntAttr("keepdims", 0)}, b, []int64{0})
	if want := []bool{false, false}; !reflect.DeepEqual(got.Data, want) {
		t.Errorf("bool min = %v, want %v", got.Data, want)
	}
}

func TestReduceFloat16(t *testing.T) {
	h := &kernel.Tensor{DType: ir.Float16, Shape: []int64{3}, Data: []uint16{
		kernel.Float32ToFloat16(1.5), kernel.Float32ToFloat16(2), kernel.Float32ToFloat16(-0.5)}}
	got := runOp(t, "ReduceSum", 13, []*ir.Attr{ir.IntAttr("keepdims", 0)}, h, nil)
	if v := kernel.Float16ToFloat32(got.Data.([]uint16)[0]); v != 3 {
		t.Errorf("float16 sum = %v, want 3", v)
	}
}

func TestReduceErrors(t *testing.T) {
	g := ir.NewGraph("t")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2, 2))
	n := g.NewNode("", "ReduceSum", []*ir.Value{x}, []string{"y"})
	def, err := kernel.Lookup("", "ReduceSum", 13, ir.Float)
	if err != nil {
		t.Fatal(err)
	}
	k, err := def.New(&kernel.NodeInfo{Node: n, Opset: 13})
	if err != nil {
		t.Fatal(err)
	}
	for _, axes := range [][]int64{{2}, {-3}, {0, 0}, {1, -1}} {
		_, err := k.Run(&kernel.Context{}, []*kernel.Tensor{f32([]int64{2, 2}, 1, 2, 3, 4), kernel.FromInt64([]int64{int64(len(axes))}, axes)})
		if err == nil {
			t.Errorf("axes %v: no error", axes)
		}
	}
	s := &kernel.Tensor{DType: ir.String, Shape: []int64{1}, Data: []string{"a"}}
	if _, err := k.Run(&kernel.Context{}, []*kernel.Tensor{s}); err == nil {
		t.Error("string input: no error")
	}
}

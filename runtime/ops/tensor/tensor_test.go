package tensor

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/internal/kerneltest"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// runOp builds a node of op at opset with nOut outputs and runs its kernel once on inputs
// (nil entries are omitted inputs).
func runOp(op string, opset int64, nOut int, attrs []*ir.Attr, inputs ...*kernel.Tensor) ([]*kernel.Tensor, error) {
	return kerneltest.Run(op, opset, attrs, nOut, inputs...)
}

func f32(shape []int64, v ...float32) *kernel.Tensor {
	if v == nil {
		v = []float32{}
	}
	return kernel.FromFloat32(shape, v)
}
func i64(shape []int64, v ...int64) *kernel.Tensor {
	if v == nil {
		v = []int64{}
	}
	return kernel.FromInt64(shape, v)
}
func sh(d ...int64) []int64 { return d }

// iota32 returns a float tensor of shape holding 0, 1, 2, ...
func iota32(shape ...int64) *kernel.Tensor {
	n := kernel.ShapeSize(shape)
	d := make([]float32, n)
	for i := range d {
		d[i] = float32(i)
	}
	return f32(shape, d...)
}

type opCase struct {
	name   string
	op     string
	opset  int64
	attrs  []*ir.Attr
	in     []*kernel.Tensor
	nOut   int
	want   []*kernel.Tensor // nil with wantErr
	errSub string           // non-empty: the run must fail with an error containing it
}

func checkCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			nOut := c.nOut
			if nOut == 0 {
				nOut = max(1, len(c.want))
			}
			got, err := runOp(c.op, c.opset, nOut, c.attrs, c.in...)
			if c.errSub != "" {
				if err == nil || !strings.Contains(err.Error(), c.errSub) {
					t.Fatalf("error = %v, want one containing %q", err, c.errSub)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d outputs, want %d", len(got), len(c.want))
			}
			for i, w := range c.want {
				g := got[i]
				if g.DType != w.DType || !reflect.DeepEqual(append([]int64{}, g.Shape...), append([]int64{}, w.Shape...)) {
					t.Fatalf("output %d is %s, want %s", i, g, w)
				}
				if g.Len() == 0 && w.Len() == 0 && reflect.TypeOf(g.Data) == reflect.TypeOf(w.Data) {
					continue // nil and empty slices of the same type are the same tensor
				}
				if !reflect.DeepEqual(g.Data, w.Data) {
					t.Errorf("output %d = %v, want %v", i, g.Data, w.Data)
				}
			}
		})
	}
}

func TestShapeOps(t *testing.T) {
	x := iota32(2, 3, 4)
	checkCases(t, []opCase{
		{name: "reshape zero copies and -1 infers", op: "Reshape", opset: 14, in: []*kernel.Tensor{x, i64(sh(2), 0, -1)}, want: []*kernel.Tensor{reshaped(x, sh(2, 12))}},
		{name: "reshape allowzero keeps zero", op: "Reshape", opset: 14, attrs: []*ir.Attr{ir.IntAttr("allowzero", 1)}, in: []*kernel.Tensor{iota32(0, 3), i64(sh(2), 3, 0)}, want: []*kernel.Tensor{f32(sh(3, 0))}},
		{name: "reshape two -1", op: "Reshape", opset: 14, in: []*kernel.Tensor{x, i64(sh(2), -1, -1)}, errSub: "more than one -1"},
		{name: "reshape wrong count", op: "Reshape", opset: 14, in: []*kernel.Tensor{x, i64(sh(2), 5, 5)}, errSub: "cannot reshape"},
		{name: "flatten negative axis", op: "Flatten", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", -1)}, in: []*kernel.Tensor{x}, want: []*kernel.Tensor{reshaped(x, sh(6, 4))}},
		{name: "flatten axis 0", op: "Flatten", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", 0)}, in: []*kernel.Tensor{x}, want: []*kernel.Tensor{reshaped(x, sh(1, 24))}},
		{name: "squeeze input axes negative", op: "Squeeze", opset: 13, in: []*kernel.Tensor{iota32(1, 3, 1), i64(sh(1), -1)}, want: []*kernel.Tensor{f32(sh(1, 3), 0, 1, 2)}},
		{name: "squeeze all ones", op: "Squeeze", opset: 13, in: []*kernel.Tensor{iota32(1, 3, 1)}, want: []*kernel.Tensor{f32(sh(3), 0, 1, 2)}},
		{name: "squeeze non-one", op: "Squeeze", opset: 11, attrs: []*ir.Attr{ir.IntsAttr("axes", 1)}, in: []*kernel.Tensor{iota32(1, 3, 1)}, errSub: "size is not 1"},
		{name: "unsqueeze attribute", op: "Unsqueeze", opset: 11, attrs: []*ir.Attr{ir.IntsAttr("axes", 0, -1)}, in: []*kernel.Tensor{iota32(3)}, want: []*kernel.Tensor{f32(sh(1, 3, 1), 0, 1, 2)}},
		{name: "unsqueeze input", op: "Unsqueeze", opset: 13, in: []*kernel.Tensor{iota32(3), i64(sh(1), 1)}, want: []*kernel.Tensor{f32(sh(3, 1), 0, 1, 2)}},
		{name: "shape start end", op: "Shape", opset: 15, attrs: []*ir.Attr{ir.IntAttr("start", 1), ir.IntAttr("end", -1)}, in: []*kernel.Tensor{x}, want: []*kernel.Tensor{i64(sh(1), 3)}},
		{name: "shape clamped", op: "Shape", opset: 15, attrs: []*ir.Attr{ir.IntAttr("start", -10), ir.IntAttr("end", 10)}, in: []*kernel.Tensor{x}, want: []*kernel.Tensor{i64(sh(3), 2, 3, 4)}},
		{name: "size of empty", op: "Size", opset: 13, in: []*kernel.Tensor{iota32(2, 0)}, want: []*kernel.Tensor{i64(sh(), 0)}},
		{name: "expand bidirectional", op: "Expand", opset: 13, in: []*kernel.Tensor{f32(sh(3, 1), 1, 2, 3), i64(sh(2), 1, 2)}, want: []*kernel.Tensor{f32(sh(3, 2), 1, 1, 2, 2, 3, 3)}},
		{name: "expand too large", op: "Expand", opset: 13, in: []*kernel.Tensor{f32(sh(1), 1), i64(sh(3), 1<<20, 1<<20, 1<<20)}, errSub: "limit"},
		{name: "tile", op: "Tile", opset: 13, in: []*kernel.Tensor{f32(sh(2), 1, 2), i64(sh(1), 3)}, want: []*kernel.Tensor{f32(sh(6), 1, 2, 1, 2, 1, 2)}},
		{name: "tile zero", op: "Tile", opset: 13, in: []*kernel.Tensor{f32(sh(2), 1, 2), i64(sh(1), 0)}, want: []*kernel.Tensor{f32(sh(0))}},
	})
}

func TestRangeAndConstants(t *testing.T) {
	checkCases(t, []opCase{
		{name: "int range", op: "Range", opset: 11, in: []*kernel.Tensor{i64(sh(), 10), i64(sh(), 4), i64(sh(), -3)}, want: []*kernel.Tensor{i64(sh(2), 10, 7)}},
		{name: "empty range", op: "Range", opset: 11, in: []*kernel.Tensor{i64(sh(), 1), i64(sh(), 4), i64(sh(), -1)}, want: []*kernel.Tensor{i64(sh(0))}},
		{name: "huge range rejected", op: "Range", opset: 11, in: []*kernel.Tensor{i64(sh(), math.MinInt64), i64(sh(), math.MaxInt64), i64(sh(), 1)}, errSub: "exceeds the limit"},
		{name: "zero delta", op: "Range", opset: 11, in: []*kernel.Tensor{i64(sh(), 1), i64(sh(), 4), i64(sh(), 0)}, errSub: "delta is zero"},
		{name: "float range", op: "Range", opset: 11, in: []*kernel.Tensor{f32(sh(), 1), f32(sh(), 2), f32(sh(), 0.25)}, want: []*kernel.Tensor{f32(sh(4), 1, 1.25, 1.5, 1.75)}},
		{name: "constant of shape int", op: "ConstantOfShape", opset: 9, attrs: []*ir.Attr{ir.TensorAttr("value", ir.FromInt64("", sh(1), []int64{7}))}, in: []*kernel.Tensor{i64(sh(2), 2, 1)}, want: []*kernel.Tensor{i64(sh(2, 1), 7, 7)}},
		{name: "constant of shape default", op: "ConstantOfShape", opset: 9, in: []*kernel.Tensor{i64(sh(1), 0)}, want: []*kernel.Tensor{f32(sh(0))}},
		{name: "constant floats", op: "Constant", opset: 13, attrs: []*ir.Attr{ir.FloatsAttr("value_floats", 1, 2)}, want: []*kernel.Tensor{f32(sh(2), 1, 2)}},
		{name: "constant two values", op: "Constant", opset: 13, attrs: []*ir.Attr{ir.FloatsAttr("value_floats", 1), ir.IntAttr("value_int", 1)}, errSub: "exactly one"},
		{name: "eyelike k", op: "EyeLike", opset: 9, attrs: []*ir.Attr{ir.IntAttr("k", 1)}, in: []*kernel.Tensor{iota32(2, 3)}, want: []*kernel.Tensor{f32(sh(2, 3), 0, 1, 0, 0, 0, 1)}},
		{name: "sparse constant", op: "Constant", opset: 13, attrs: []*ir.Attr{{Name: "sparse_value", Type: ir.AttrSparseTensor, SparseTensor: &ir.SparseTensor{
			Values: ir.FromFloat32("", sh(2), []float32{5, 6}), Indices: ir.FromInt64("", sh(2, 2), []int64{0, 1, 1, 0}), Dims: sh(2, 2)}}},
			want: []*kernel.Tensor{f32(sh(2, 2), 0, 5, 6, 0)}},
	})
}

func TestSliceConcatSplit(t *testing.T) {
	x := iota32(3, 4)
	checkCases(t, []opCase{
		{name: "negative step", op: "Slice", opset: 13, in: []*kernel.Tensor{x, i64(sh(1), -1), i64(sh(1), math.MinInt64), i64(sh(1), 1), i64(sh(1), -2)}, want: []*kernel.Tensor{f32(sh(3, 2), 3, 1, 7, 5, 11, 9)}},
		{name: "clamped ends", op: "Slice", opset: 13, in: []*kernel.Tensor{x, i64(sh(2), 1, -100), i64(sh(2), 100, 2)}, want: []*kernel.Tensor{f32(sh(2, 2), 4, 5, 8, 9)}},
		{name: "empty selection", op: "Slice", opset: 13, in: []*kernel.Tensor{x, i64(sh(1), 3), i64(sh(1), 1)}, want: []*kernel.Tensor{f32(sh(0, 4))}},
		{name: "negative step over an empty axis", op: "Slice", opset: 13, in: []*kernel.Tensor{kernel.New(ir.Float, 0, 2), i64(sh(1), 0), i64(sh(1), 1), i64(sh(1), 0), i64(sh(1), -1)}, want: []*kernel.Tensor{f32(sh(0, 2))}},
		{name: "opset 1 attributes", op: "Slice", opset: 1, attrs: []*ir.Attr{ir.IntsAttr("starts", 1), ir.IntsAttr("ends", 3), ir.IntsAttr("axes", -1)}, in: []*kernel.Tensor{x}, want: []*kernel.Tensor{f32(sh(3, 2), 1, 2, 5, 6, 9, 10)}},
		{name: "zero step", op: "Slice", opset: 13, in: []*kernel.Tensor{x, i64(sh(1), 0), i64(sh(1), 1), i64(sh(1), 0), i64(sh(1), 0)}, errSub: "zero"},
		{name: "concat with empty", op: "Concat", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", -1)}, in: []*kernel.Tensor{f32(sh(2, 1), 1, 2), f32(sh(2, 0)), f32(sh(2, 2), 3, 4, 5, 6)}, want: []*kernel.Tensor{f32(sh(2, 3), 1, 3, 4, 2, 5, 6)}},
		{name: "concat shape mismatch", op: "Concat", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", 0)}, in: []*kernel.Tensor{f32(sh(1, 2), 1, 2), f32(sh(1, 3), 1, 2, 3)}, errSub: "only axis 0 may differ"},
		{name: "split num_outputs uneven", op: "Split", opset: 18, nOut: 2, attrs: []*ir.Attr{ir.IntAttr("axis", 1), ir.IntAttr("num_outputs", 2)}, in: []*kernel.Tensor{iota32(1, 3)}, want: []*kernel.Tensor{f32(sh(1, 2), 0, 1), f32(sh(1, 1), 2)}},
		{name: "split input", op: "Split", opset: 13, in: []*kernel.Tensor{iota32(5), i64(sh(2), 1, 4)}, want: []*kernel.Tensor{f32(sh(1), 0), f32(sh(4), 1, 2, 3, 4)}},
		{name: "split attribute", op: "Split", opset: 11, attrs: []*ir.Attr{ir.IntsAttr("split", 2, 0, 1)}, in: []*kernel.Tensor{iota32(3)}, want: []*kernel.Tensor{f32(sh(2), 0, 1), f32(sh(0)), f32(sh(1), 2)}},
		{name: "split bad sum", op: "Split", opset: 13, nOut: 2, in: []*kernel.Tensor{iota32(5), i64(sh(2), 1, 1)}, errSub: "sums to"},
	})
}

// naiveTranspose is the definition of Transpose, index by index.
func naiveTranspose(x *kernel.Tensor, perm []int) []float32 {
	src := x.Data.([]float32)
	shape := make([]int64, len(perm))
	for i, p := range perm {
		shape[i] = x.Shape[p]
	}
	out := make([]float32, len(src))
	inSt := stridesOf(x.Shape)
	coord := make([]int, len(perm))
	for i := range out {
		rem := i
		for k, s := range stridesOf(shape) {
			coord[k] = rem / s
			rem %= s
		}
		off := 0
		for k, p := range perm {
			off += coord[k] * inSt[p]
		}
		out[i] = src[off]
	}
	return out
}

func TestTransposeMatchesDefinition(t *testing.T) {
	cases := []struct {
		shape []int64
		perm  []int64
	}{
		{sh(37, 45), []int64{1, 0}},
		{sh(2, 3, 33, 35), []int64{0, 2, 3, 1}},
		{sh(2, 33, 35, 3), []int64{0, 3, 1, 2}},
		{sh(2, 3, 4, 5), []int64{3, 1, 0, 2}},
		{sh(1, 3, 1, 5), []int64{2, 3, 0, 1}},
		{sh(4, 0, 3), []int64{2, 0, 1}},
		{sh(), []int64{}},
		{sh(2, 3, 4), []int64{0, 1, 2}},
	}
	for _, c := range cases {
		x := iota32(c.shape...)
		perm := make([]int, len(c.perm))
		for i, p := range c.perm {
			perm[i] = int(p)
		}
		got, err := runOp("Transpose", 13, 1, []*ir.Attr{ir.IntsAttr("perm", c.perm...)}, x)
		if err != nil {
			t.Fatal(err)
		}
		if want := naiveTranspose(x, perm); !reflect.DeepEqual(got[0].Data, want) {
			t.Errorf("Transpose %v perm %v = %v, want %v", c.shape, c.perm, got[0].Data, want)
		}
	}
	// Other element sizes take the same path.
	x := &kernel.Tensor{DType: ir.Int8, Shape: sh(2, 3), Data: []int8{1, 2, 3, 4, 5, 6}}
	got, err := runOp("Transpose", 13, 1, nil, x)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int8{1, 4, 2, 5, 3, 6}; !reflect.DeepEqual(got[0].Data, want) {
		t.Errorf("int8 transpose = %v, want %v", got[0].Data, want)
	}
	s := &kernel.Tensor{DType: ir.String, Shape: sh(2, 2), Data: []string{"a", "b", "c", "d"}}
	if got, err = runOp("Transpose", 13, 1, nil, s); err != nil || !reflect.DeepEqual(got[0].Data, []string{"a", "c", "b", "d"}) {
		t.Errorf("string transpose = %v, %v", got, err)
	}
}

func TestGatherScatter(t *testing.T) {
	x := iota32(3, 2)
	checkCases(t, []opCase{
		{name: "gather negative index", op: "Gather", opset: 13, in: []*kernel.Tensor{x, i64(sh(2), -1, 0)}, want: []*kernel.Tensor{f32(sh(2, 2), 4, 5, 0, 1)}},
		{name: "gather axis 1 scalar", op: "Gather", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", 1)}, in: []*kernel.Tensor{x, i64(sh(), 1)}, want: []*kernel.Tensor{f32(sh(3), 1, 3, 5)}},
		{name: "gather out of range", op: "Gather", opset: 13, in: []*kernel.Tensor{x, i64(sh(1), 3)}, errSub: "out of range"},
		{name: "gather elements", op: "GatherElements", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", 1)}, in: []*kernel.Tensor{x, i64(sh(3, 1), 1, 0, -1)}, want: []*kernel.Tensor{f32(sh(3, 1), 1, 2, 5)}},
		{name: "gathernd batch", op: "GatherND", opset: 13, attrs: []*ir.Attr{ir.IntAttr("batch_dims", 1)}, in: []*kernel.Tensor{x, i64(sh(3, 1), 1, 0, 1)}, want: []*kernel.Tensor{f32(sh(3), 1, 2, 5)}},
		{name: "scatternd add duplicates", op: "ScatterND", opset: 18, attrs: []*ir.Attr{ir.StringAttr("reduction", "add")}, in: []*kernel.Tensor{f32(sh(3), 1, 2, 3), i64(sh(2, 1), 0, 0), f32(sh(2), 10, 20)}, want: []*kernel.Tensor{f32(sh(3), 31, 2, 3)}},
		{name: "scatter elements max", op: "ScatterElements", opset: 18, attrs: []*ir.Attr{ir.StringAttr("reduction", "max")}, in: []*kernel.Tensor{f32(sh(3), 1, 2, 3), i64(sh(2), 2, -3), f32(sh(2), 0, 5)}, want: []*kernel.Tensor{f32(sh(3), 5, 2, 3)}},
		{name: "scatter elements min int", op: "ScatterElements", opset: 18, attrs: []*ir.Attr{ir.StringAttr("reduction", "min")}, in: []*kernel.Tensor{i64(sh(3), 1, 2, 3), i64(sh(1), 2), i64(sh(1), -4)}, want: []*kernel.Tensor{i64(sh(3), 1, 2, -4)}},
		{name: "compress no axis", op: "Compress", opset: 11, in: []*kernel.Tensor{x, {DType: ir.Bool, Shape: sh(3), Data: []bool{false, true, true}}}, want: []*kernel.Tensor{f32(sh(2), 1, 2)}},
		{name: "onehot negative index", op: "OneHot", opset: 11, in: []*kernel.Tensor{i64(sh(2), -1, 5), f32(sh(), 3), f32(sh(2), 0, 1)}, want: []*kernel.Tensor{f32(sh(2, 3), 0, 0, 1, 0, 0, 0)}},
	})
}

func TestPad(t *testing.T) {
	x := f32(sh(3), 1, 2, 3)
	pad := func(mode string, pads ...int64) opCase {
		return opCase{name: mode, op: "Pad", opset: 18, attrs: []*ir.Attr{ir.StringAttr("mode", mode)}, in: []*kernel.Tensor{x, i64(sh(2), pads...)}}
	}
	c := []opCase{pad("constant", 2, 1), pad("reflect", 2, 2), pad("edge", 2, 1), pad("wrap", 4, 1), pad("constant", -1, 1)}
	c[0].want = []*kernel.Tensor{f32(sh(6), 0, 0, 1, 2, 3, 0)}
	c[1].want = []*kernel.Tensor{f32(sh(7), 3, 2, 1, 2, 3, 2, 1)}
	c[2].want = []*kernel.Tensor{f32(sh(6), 1, 1, 1, 2, 3, 3)}
	c[3].want = []*kernel.Tensor{f32(sh(8), 3, 1, 2, 3, 1, 2, 3, 1)}
	c[4].name = "negative pads crop"
	c[4].want = []*kernel.Tensor{f32(sh(3), 2, 3, 0)}
	c = append(c,
		opCase{name: "constant value and axes", op: "Pad", opset: 18, in: []*kernel.Tensor{iota32(2, 2), i64(sh(2), 1, 0), f32(sh(), 9), i64(sh(1), -1)}, want: []*kernel.Tensor{f32(sh(2, 3), 9, 0, 1, 9, 2, 3)}},
		opCase{name: "opset 2 attributes", op: "Pad", opset: 2, attrs: []*ir.Attr{ir.IntsAttr("pads", 0, 1), ir.FloatAttr("value", 7)}, in: []*kernel.Tensor{x}, want: []*kernel.Tensor{f32(sh(4), 1, 2, 3, 7)}},
		opCase{name: "crop below zero", op: "Pad", opset: 18, in: []*kernel.Tensor{x, i64(sh(2), -2, -2)}, errSub: "below zero"},
	)
	checkCases(t, c)
}

func TestOrdering(t *testing.T) {
	x := f32(sh(2, 3), 3, 1, 3, 2, 2, 5)
	checkCases(t, []opCase{
		{name: "topk ties keep lower index", op: "TopK", opset: 11, in: []*kernel.Tensor{x, i64(sh(1), 2)}, want: []*kernel.Tensor{f32(sh(2, 2), 3, 3, 5, 2), i64(sh(2, 2), 0, 2, 2, 0)}},
		{name: "topk smallest axis 0", op: "TopK", opset: 11, attrs: []*ir.Attr{ir.IntAttr("largest", 0), ir.IntAttr("axis", 0)}, in: []*kernel.Tensor{x, i64(sh(1), 1)}, want: []*kernel.Tensor{f32(sh(1, 3), 2, 1, 3), i64(sh(1, 3), 1, 0, 0)}},
		{name: "topk k too big", op: "TopK", opset: 11, nOut: 2, in: []*kernel.Tensor{x, i64(sh(1), 4)}, errSub: "out of range"},
		{name: "argmax first", op: "ArgMax", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", 1)}, in: []*kernel.Tensor{x}, want: []*kernel.Tensor{i64(sh(2, 1), 0, 2)}},
		{name: "argmax last no keepdims", op: "ArgMax", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", 1), ir.IntAttr("keepdims", 0), ir.IntAttr("select_last_index", 1)}, in: []*kernel.Tensor{x}, want: []*kernel.Tensor{i64(sh(2), 2, 2)}},
		{name: "argmin", op: "ArgMin", opset: 13, attrs: []*ir.Attr{ir.IntAttr("axis", -1)}, in: []*kernel.Tensor{x}, want: []*kernel.Tensor{i64(sh(2, 1), 1, 0)}},
		{name: "cumsum exclusive reverse", op: "CumSum", opset: 14, attrs: []*ir.Attr{ir.IntAttr("exclusive", 1), ir.IntAttr("reverse", 1)}, in: []*kernel.Tensor{f32(sh(3), 1, 2, 3), i64(sh(), 0)}, want: []*kernel.Tensor{f32(sh(3), 5, 3, 0)}},
		{name: "nonzero", op: "NonZero", opset: 13, in: []*kernel.Tensor{f32(sh(2, 2), 0, 1, 1, 0)}, want: []*kernel.Tensor{i64(sh(2, 2), 0, 1, 1, 0)}},
		{name: "unique unsorted", op: "Unique", opset: 11, attrs: []*ir.Attr{ir.IntAttr("sorted", 0)}, in: []*kernel.Tensor{f32(sh(5), 2, 1, 2, 3, 1)},
			want: []*kernel.Tensor{f32(sh(3), 2, 1, 3), i64(sh(3), 0, 1, 3), i64(sh(5), 0, 1, 0, 2, 1), i64(sh(3), 2, 2, 1)}},
		{name: "trilu lower k", op: "Trilu", opset: 14, attrs: []*ir.Attr{ir.IntAttr("upper", 0)}, in: []*kernel.Tensor{iota32(2, 3), i64(sh(), -1)}, want: []*kernel.Tensor{f32(sh(2, 3), 0, 0, 0, 3, 0, 0)}},
	})
}

func TestCastTypes(t *testing.T) {
	h := func(v ...float32) *kernel.Tensor {
		d := make([]uint16, len(v))
		for i, x := range v {
			d[i] = kernel.Float32ToFloat16(x)
		}
		return &kernel.Tensor{DType: ir.Float16, Shape: sh(int64(len(v))), Data: d}
	}
	to := func(dt ir.DataType) []*ir.Attr { return []*ir.Attr{ir.IntAttr("to", int64(dt))} }
	checkCases(t, []opCase{
		{name: "float to float16", op: "Cast", opset: 19, attrs: to(ir.Float16), in: []*kernel.Tensor{f32(sh(3), 1, 65520, -0.5)}, want: []*kernel.Tensor{h(1, float32(math.Inf(1)), -0.5)}},
		{name: "float16 to int32 truncates", op: "Cast", opset: 19, attrs: to(ir.Int32), in: []*kernel.Tensor{h(-2.5, 3.75)}, want: []*kernel.Tensor{{DType: ir.Int32, Shape: sh(2), Data: []int32{-2, 3}}}},
		{name: "int wraps", op: "Cast", opset: 19, attrs: to(ir.Int8), in: []*kernel.Tensor{i64(sh(2), 200, -129)}, want: []*kernel.Tensor{{DType: ir.Int8, Shape: sh(2), Data: []int8{-56, 127}}}},
		{name: "string to float", op: "Cast", opset: 19, attrs: to(ir.Float), in: []*kernel.Tensor{{DType: ir.String, Shape: sh(3), Data: []string{"1.5", "-INF", "1e3"}}}, want: []*kernel.Tensor{f32(sh(3), 1.5, float32(math.Inf(-1)), 1000)}},
		{name: "bad string", op: "Cast", opset: 19, attrs: to(ir.Float), in: []*kernel.Tensor{{DType: ir.String, Shape: sh(1), Data: []string{"x"}}}, errSub: "cannot parse"},
		{name: "int to string", op: "Cast", opset: 19, attrs: to(ir.String), in: []*kernel.Tensor{i64(sh(2), -3, 40)}, want: []*kernel.Tensor{{DType: ir.String, Shape: sh(2), Data: []string{"-3", "40"}}}},
		{name: "float to int4 wraps", op: "Cast", opset: 21, attrs: to(ir.Int4), in: []*kernel.Tensor{f32(sh(3), -9, 8, 7)}, want: []*kernel.Tensor{{DType: ir.Int4, Shape: sh(3), Data: []uint8{7, 8, 7}}}},
		{name: "float8 no saturate", op: "Cast", opset: 19, attrs: []*ir.Attr{ir.IntAttr("to", int64(ir.Float8E4M3FN)), ir.IntAttr("saturate", 0)}, in: []*kernel.Tensor{f32(sh(2), 1e6, 1)}, want: []*kernel.Tensor{{DType: ir.Float8E4M3FN, Shape: sh(2), Data: []uint8{0x7f, 0x38}}}},
		{name: "bool to float", op: "Cast", opset: 19, attrs: to(ir.Float), in: []*kernel.Tensor{{DType: ir.Bool, Shape: sh(2), Data: []bool{true, false}}}, want: []*kernel.Tensor{f32(sh(2), 1, 0)}},
		{name: "castlike", op: "CastLike", opset: 19, in: []*kernel.Tensor{f32(sh(2), 0, 2), {DType: ir.Bool, Shape: sh(0), Data: []bool{}}}, want: []*kernel.Tensor{{DType: ir.Bool, Shape: sh(2), Data: []bool{false, true}}}},
		{name: "cast-1 string type name", op: "Cast", opset: 1, attrs: []*ir.Attr{ir.StringAttr("to", "DOUBLE")}, in: []*kernel.Tensor{f32(sh(1), 0.5)}, want: []*kernel.Tensor{{DType: ir.Double, Shape: sh(1), Data: []float64{0.5}}}},
	})
	// float64 -> float16 rounds once (no double rounding through float32): 1 + 2^-11 + 2^-40
	// is just above a float16 tie and must round up.
	x := &kernel.Tensor{DType: ir.Double, Shape: sh(1), Data: []float64{1 + 0x1p-11 + 0x1p-40}}
	got, err := runOp("Cast", 19, 1, to(ir.Float16), x)
	if err != nil {
		t.Fatal(err)
	}
	if bits := got[0].Data.([]uint16)[0]; bits != 0x3c01 {
		t.Errorf("double->float16 = %#04x, want 0x3c01", bits)
	}
}

func TestResizeNearestAndLinear(t *testing.T) {
	x := f32(sh(1, 1, 2, 2), 1, 2, 3, 4)
	checkCases(t, []opCase{
		{name: "nearest upsample x2", op: "Resize", opset: 19, in: []*kernel.Tensor{x, nil, f32(sh(4), 1, 1, 2, 2)},
			want: []*kernel.Tensor{f32(sh(1, 1, 4, 4), 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4)}},
		{name: "linear align corners sizes", op: "Resize", opset: 19, attrs: []*ir.Attr{ir.StringAttr("mode", "linear"), ir.StringAttr("coordinate_transformation_mode", "align_corners"), ir.IntsAttr("axes", 3)},
			in: []*kernel.Tensor{x, nil, nil, i64(sh(1), 3)}, want: []*kernel.Tensor{f32(sh(1, 1, 2, 3), 1, 1.5, 2, 3, 3.5, 4)}},
		{name: "both scales and sizes", op: "Resize", opset: 19, in: []*kernel.Tensor{x, nil, f32(sh(4), 1, 1, 2, 2), i64(sh(4), 1, 1, 4, 4)}, errSub: "exactly one"},
		{name: "upsample-9 integer scale", op: "Upsample", opset: 9, in: []*kernel.Tensor{f32(sh(1, 2), 1, 2), f32(sh(2), 1, 2)}, want: []*kernel.Tensor{f32(sh(1, 4), 1, 1, 2, 2)}},
		{name: "depth to space CRD", op: "DepthToSpace", opset: 13, attrs: []*ir.Attr{ir.IntAttr("blocksize", 2), ir.StringAttr("mode", "CRD")}, in: []*kernel.Tensor{iota32(1, 4, 1, 1)}, want: []*kernel.Tensor{f32(sh(1, 1, 2, 2), 0, 1, 2, 3)}},
		{name: "space to depth", op: "SpaceToDepth", opset: 13, attrs: []*ir.Attr{ir.IntAttr("blocksize", 2)}, in: []*kernel.Tensor{iota32(1, 1, 2, 2)}, want: []*kernel.Tensor{f32(sh(1, 4, 1, 1), 0, 1, 2, 3)}},
	})
}

func TestIdentityAliases(t *testing.T) {
	x := iota32(2, 2)
	for _, op := range []string{"Identity", "Flatten"} {
		got, err := runOp(op, 13, 1, nil, x)
		if err != nil {
			t.Fatal(err)
		}
		if &got[0].Data.([]float32)[0] != &x.Data.([]float32)[0] {
			t.Errorf("%s copied its input instead of aliasing it", op)
		}
	}
}

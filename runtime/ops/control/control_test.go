package control

import (
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func runOp(t *testing.T, op string, attrs []*ir.Attr, in ...*kernel.Tensor) ([]*kernel.Tensor, error) {
	t.Helper()
	n := ir.NewGraph("t").NewNode("", op, nil, []string{"y"}, attrs...)
	def, err := kernel.Lookup("", op, 18, ir.Undefined)
	if err != nil {
		t.Fatal(err)
	}
	k, err := def.New(&kernel.NodeInfo{Node: n, Opset: 18})
	if err != nil {
		t.Fatal(err)
	}
	return k.Run(&kernel.Context{}, in)
}

func i64(shape []int64, v ...int64) *kernel.Tensor { return kernel.FromInt64(shape, v) }

func TestSequenceOps(t *testing.T) {
	a, b, c := i64([]int64{2}, 1, 2), i64([]int64{1}, 3), i64([]int64{2}, 4, 5)
	out, err := runOp(t, "SequenceConstruct", nil, a, b)
	if err != nil {
		t.Fatal(err)
	}
	seq := out[0]
	if out, err = runOp(t, "SequenceInsert", nil, seq, c, i64([]int64{}, 0)); err != nil {
		t.Fatal(err)
	}
	seq2 := out[0]
	if len(seq.Seq) != 2 || len(seq2.Seq) != 3 || seq2.Seq[0] != c {
		t.Fatalf("insert at 0: %v -> %v", seq, seq2)
	}
	if out, err = runOp(t, "SequenceAt", nil, seq2, i64([]int64{}, -1)); err != nil || out[0] != b {
		t.Fatalf("SequenceAt -1 = %v, %v; want the last element", out, err)
	}
	if out, err = runOp(t, "SequenceErase", nil, seq2); err != nil || len(out[0].Seq) != 2 || out[0].Seq[1] != a {
		t.Fatalf("SequenceErase (last) = %v, %v", out, err)
	}
	if _, err = runOp(t, "SequenceAt", nil, seq2, i64([]int64{}, 3)); err == nil {
		t.Error("SequenceAt 3 of a 3-element sequence succeeded")
	}
	if out, err = runOp(t, "SequenceLength", nil, seq2); err != nil || out[0].Data.([]int64)[0] != 3 {
		t.Fatalf("SequenceLength = %v, %v", out, err)
	}
	out, err = runOp(t, "ConcatFromSequence", []*ir.Attr{ir.IntAttr("axis", 0)}, seq2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out[0].Data, []int64{4, 5, 1, 2, 3}) {
		t.Errorf("ConcatFromSequence = %v", out[0].Data)
	}
	pair, _ := runOp(t, "SequenceConstruct", nil, a, c)
	out, err = runOp(t, "ConcatFromSequence", []*ir.Attr{ir.IntAttr("axis", -1), ir.IntAttr("new_axis", 1)}, pair[0])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out[0].Shape, []int64{2, 2}) || !reflect.DeepEqual(out[0].Data, []int64{1, 4, 2, 5}) {
		t.Errorf("stack on the last axis = %v %v", out[0].Shape, out[0].Data)
	}
}

func TestSplitToSequence(t *testing.T) {
	x := i64([]int64{2, 3}, 1, 2, 3, 4, 5, 6)
	tests := []struct {
		name   string
		attrs  []*ir.Attr
		split  *kernel.Tensor
		shapes [][]int64
		data   [][]int64
	}{
		{"scalar split", []*ir.Attr{ir.IntAttr("axis", 1)}, i64([]int64{}, 2),
			[][]int64{{2, 2}, {2, 1}}, [][]int64{{1, 2, 4, 5}, {3, 6}}},
		{"sizes", []*ir.Attr{ir.IntAttr("axis", 1)}, i64([]int64{2}, 1, 2),
			[][]int64{{2, 1}, {2, 2}}, [][]int64{{1, 4}, {2, 3, 5, 6}}},
		{"no split, no keepdims", []*ir.Attr{ir.IntAttr("keepdims", 0)}, nil,
			[][]int64{{3}, {3}}, [][]int64{{1, 2, 3}, {4, 5, 6}}},
	}
	for _, tt := range tests {
		in := []*kernel.Tensor{x}
		if tt.split != nil {
			in = append(in, tt.split)
		}
		out, err := runOp(t, "SplitToSequence", tt.attrs, in...)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(out[0].Seq) != len(tt.shapes) {
			t.Fatalf("%s: %d parts, want %d", tt.name, len(out[0].Seq), len(tt.shapes))
		}
		for i, p := range out[0].Seq {
			if !reflect.DeepEqual(p.Shape, tt.shapes[i]) || !reflect.DeepEqual(p.Data, tt.data[i]) {
				t.Errorf("%s: part %d = %v %v, want %v %v", tt.name, i, p.Shape, p.Data, tt.shapes[i], tt.data[i])
			}
		}
	}
}

func TestOptionalOps(t *testing.T) {
	none, _ := runOp(t, "Optional", nil)
	if none[0].Kind != kernel.NoneValue {
		t.Fatalf("Optional() = %v, want none", none[0])
	}
	has, _ := runOp(t, "OptionalHasElement", nil, none[0])
	if has[0].Data.([]bool)[0] {
		t.Error("OptionalHasElement(none) = true")
	}
	if _, err := runOp(t, "OptionalGetElement", nil, none[0]); err == nil {
		t.Error("OptionalGetElement(none) succeeded")
	}
	x := i64([]int64{1}, 7)
	got, err := runOp(t, "OptionalGetElement", nil, x)
	if err != nil || got[0] != x {
		t.Errorf("OptionalGetElement(x) = %v, %v", got, err)
	}
}

func TestStackAndSlice(t *testing.T) {
	x := i64([]int64{2, 3}, 1, 2, 3, 4, 5, 6)
	col, err := sliceAxis(nil, x, 1, 2)
	if err != nil || !reflect.DeepEqual(col.Data, []int64{3, 6}) {
		t.Fatalf("sliceAxis = %v, %v", col, err)
	}
	parts := []*kernel.Tensor{i64([]int64{2}, 1, 2), i64([]int64{2}, 3, 4)}
	s, err := stack(nil, parts, 1, ir.Int64, nil)
	if err != nil || !reflect.DeepEqual(s.Shape, []int64{2, 2}) || !reflect.DeepEqual(s.Data, []int64{1, 3, 2, 4}) {
		t.Fatalf("stack axis 1 = %v %v, %v", s.Shape, s.Data, err)
	}
	empty, err := stack(nil, nil, 0, ir.Float, []int64{4})
	if err != nil || !reflect.DeepEqual(empty.Shape, []int64{0, 4}) {
		t.Fatalf("stack of nothing = %v, %v", empty, err)
	}
}

package passes

import (
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestEliminateIdentity(t *testing.T) {
	tests := []struct {
		name    string
		opset   int64
		build   func(b *builder) *ir.Model
		wantOps string
		// wantOut names the graph outputs after the pass (stable names).
		wantOut string
	}{
		{
			name: "identity between nodes",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Abs", "X", "A").Node("Identity", "A", "B").Node("Neg", "B", "Y").Output("Y").Model()
			},
			wantOps: "Abs,Neg", wantOut: "Y",
		},
		{
			name: "identity producing the graph output: producer takes the name",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Abs", "X", "A").Node("Identity", "A", "Y").Output("Y").Model()
			},
			wantOps: "Abs", wantOut: "Y",
		},
		{
			name: "identity from graph input to graph output is kept",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Identity", "X", "Y").Output("Y").Model()
			},
			wantOps: "Identity", wantOut: "Y",
		},
		{
			name: "identity whose input is also a graph output is kept",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Abs", "X", "A").Node("Identity", "A", "Y").Output("A", "Y").Model()
			},
			wantOps: "Abs,Identity", wantOut: "A,Y",
		},
		{
			name: "dropout with unused mask",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Dropout", "X", "D,mask").Node("Abs", "D", "Y").Output("Y").Model()
			},
			wantOps: "Abs", wantOut: "Y",
		},
		{
			name: "dropout whose mask is read is kept",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Dropout", "X", "D,mask").Node("Abs", "D", "Y").Output("Y", "mask").Model()
			},
			wantOps: "Dropout,Abs", wantOut: "Y,mask",
		},
		{
			name: "dropout in training mode is kept",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 2).Floats("ratio", nil, 0.5)
				b.Init(&ir.Tensor{Name: "train", DataType: ir.Bool, Raw: []byte{1}})
				return b.Node("Dropout", "X,ratio,train", "D").Node("Abs", "D", "Y").Output("Y").Model()
			},
			wantOps: "Dropout,Abs", wantOut: "Y",
		},
		{
			name: "cast to the same type; cast to another kept",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Node("Cast", "X", "C", ir.IntAttr("to", int64(ir.Float))).
					Node("Cast", "C", "D", ir.IntAttr("to", int64(ir.Double))).Node("Abs", "D", "Y").Output("Y").Model()
			},
			wantOps: "Cast,Abs", wantOut: "Y",
		},
		{
			name: "reshape to the same static shape (with 0 and -1); other reshape kept",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3, 4).Ints("s1", []int64{3}, 0, -1, 4).Ints("s2", []int64{2}, 6, 4).
					Node("Reshape", "X,s1", "R").Node("Reshape", "R,s2", "S").Node("Abs", "S", "Y").Output("Y").Model()
			},
			wantOps: "Reshape,Abs", wantOut: "Y",
		},
		{
			name: "reshape of a symbolic shape is kept",
			build: func(b *builder) *ir.Model {
				return b.InputOf("X", "float[N,3]").Ints("s", []int64{2}, 0, 3).
					Node("Reshape", "X,s", "R").Node("Abs", "R", "Y").Output("Y").Model()
			},
			wantOps: "Reshape,Abs", wantOut: "Y",
		},
		{
			name: "transpose with identity perm; real one kept",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3).Node("Transpose", "X", "T", ir.IntsAttr("perm", 0, 1)).
					Node("Transpose", "T", "U", ir.IntsAttr("perm", 1, 0)).Node("Abs", "U", "Y").Output("Y").Model()
			},
			wantOps: "Transpose,Abs", wantOut: "Y",
		},
		{
			name: "pad with zero pads (input and attribute forms)",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 2, 3).Ints("p", []int64{4}, 0, 0, 0, 0).Ints("q", []int64{4}, 0, 1, 0, 0)
				return b.Node("Pad", "X,p", "P").Node("Pad", "P,q", "Q").Node("Abs", "Q", "Y").Output("Y").Model()
			},
			wantOps: "Pad,Abs", wantOut: "Y",
		},
		{
			name:  "pad-2 attribute form",
			opset: 2,
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3).Node("Pad", "X", "P", ir.IntsAttr("pads", 0, 0, 0, 0)).Node("Abs", "P", "Y").Output("Y").Model()
			},
			wantOps: "Abs", wantOut: "Y",
		},
		{
			name: "slice covering everything (INT64_MAX end, exact end); partial kept",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 4, 6).Ints("s0", []int64{2}, 0, 0).Ints("e0", []int64{2}, 9223372036854775807, 6).
					Ints("ax", []int64{2}, 0, 1).Ints("e1", []int64{1}, 3).Ints("a1", []int64{1}, 1)
				return b.Node("Slice", "X,s0,e0,ax", "S").Node("Slice", "S,s0,e1,a1", "T").Node("Abs", "T", "Y").Output("Y").Model()
			},
			wantOps: "Slice,Abs", wantOut: "Y",
		},
		{
			name: "slice to INT64_MAX of a symbolic dimension",
			build: func(b *builder) *ir.Model {
				b.InputOf("X", "float[N,6]").Ints("s0", []int64{1}, 0).Ints("e0", []int64{1}, 9223372036854775807).Ints("ax", []int64{1}, 0)
				return b.Node("Slice", "X,s0,e0,ax", "S").Node("Abs", "S", "Y").Output("Y").Model()
			},
			wantOps: "Abs", wantOut: "Y",
		},
		{
			name: "expand to the same shape; broadcasting expand kept",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 3, 1).Ints("same", []int64{2}, 1, 1).Ints("grow", []int64{2}, 3, 4)
				return b.Node("Expand", "X,same", "E").Node("Expand", "E,grow", "F").Node("Abs", "F", "Y").Output("Y").Model()
			},
			wantOps: "Expand,Abs", wantOut: "Y",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opset := tc.opset
			if opset == 0 {
				opset = 13
			}
			m := tc.build(newBuilder(t, opset))
			runPasses(t, m, "eliminate_identity")
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops = %q, want %q\n%s", got, tc.wantOps, ir.Format(m))
			}
			if got := outNames(m); got != tc.wantOut {
				t.Errorf("outputs = %q, want %q", got, tc.wantOut)
			}
		})
	}
}

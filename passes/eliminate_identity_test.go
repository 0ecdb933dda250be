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
				return b.input("X", ir.Float, 2).node("Abs", "X", "A").node("Identity", "A", "B").node("Neg", "B", "Y").output("Y").model()
			},
			wantOps: "Abs,Neg", wantOut: "Y",
		},
		{
			name: "identity producing the graph output: producer takes the name",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("Abs", "X", "A").node("Identity", "A", "Y").output("Y").model()
			},
			wantOps: "Abs", wantOut: "Y",
		},
		{
			name: "identity from graph input to graph output is kept",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("Identity", "X", "Y").output("Y").model()
			},
			wantOps: "Identity", wantOut: "Y",
		},
		{
			name: "identity whose input is also a graph output is kept",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("Abs", "X", "A").node("Identity", "A", "Y").output("A", "Y").model()
			},
			wantOps: "Abs,Identity", wantOut: "A,Y",
		},
		{
			name: "dropout with unused mask",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("Dropout", "X", "D,mask").node("Abs", "D", "Y").output("Y").model()
			},
			wantOps: "Abs", wantOut: "Y",
		},
		{
			name: "dropout whose mask is read is kept",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("Dropout", "X", "D,mask").node("Abs", "D", "Y").output("Y", "mask").model()
			},
			wantOps: "Dropout,Abs", wantOut: "Y,mask",
		},
		{
			name: "dropout in training mode is kept",
			build: func(b *builder) *ir.Model {
				b.input("X", ir.Float, 2).floats("ratio", nil, 0.5)
				b.vals["train"] = b.g.AddInitializer(&ir.Tensor{Name: "train", DataType: ir.Bool, Raw: []byte{1}})
				return b.node("Dropout", "X,ratio,train", "D").node("Abs", "D", "Y").output("Y").model()
			},
			wantOps: "Dropout,Abs", wantOut: "Y",
		},
		{
			name: "cast to the same type; cast to another kept",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2).node("Cast", "X", "C", ir.IntAttr("to", int64(ir.Float))).
					node("Cast", "C", "D", ir.IntAttr("to", int64(ir.Double))).node("Abs", "D", "Y").output("Y").model()
			},
			wantOps: "Cast,Abs", wantOut: "Y",
		},
		{
			name: "reshape to the same static shape (with 0 and -1); other reshape kept",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2, 3, 4).ints("s1", []int64{3}, 0, -1, 4).ints("s2", []int64{2}, 6, 4).
					node("Reshape", "X,s1", "R").node("Reshape", "R,s2", "S").node("Abs", "S", "Y").output("Y").model()
			},
			wantOps: "Reshape,Abs", wantOut: "Y",
		},
		{
			name: "reshape of a symbolic shape is kept",
			build: func(b *builder) *ir.Model {
				return b.symInput("X", ir.Float, "N", "3").ints("s", []int64{2}, 0, 3).
					node("Reshape", "X,s", "R").node("Abs", "R", "Y").output("Y").model()
			},
			wantOps: "Reshape,Abs", wantOut: "Y",
		},
		{
			name: "transpose with identity perm; real one kept",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2, 3).node("Transpose", "X", "T", ir.IntsAttr("perm", 0, 1)).
					node("Transpose", "T", "U", ir.IntsAttr("perm", 1, 0)).node("Abs", "U", "Y").output("Y").model()
			},
			wantOps: "Transpose,Abs", wantOut: "Y",
		},
		{
			name: "pad with zero pads (input and attribute forms)",
			build: func(b *builder) *ir.Model {
				b.input("X", ir.Float, 2, 3).ints("p", []int64{4}, 0, 0, 0, 0).ints("q", []int64{4}, 0, 1, 0, 0)
				return b.node("Pad", "X,p", "P").node("Pad", "P,q", "Q").node("Abs", "Q", "Y").output("Y").model()
			},
			wantOps: "Pad,Abs", wantOut: "Y",
		},
		{
			name:  "pad-2 attribute form",
			opset: 2,
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 2, 3).node("Pad", "X", "P", ir.IntsAttr("pads", 0, 0, 0, 0)).node("Abs", "P", "Y").output("Y").model()
			},
			wantOps: "Abs", wantOut: "Y",
		},
		{
			name: "slice covering everything (INT64_MAX end, exact end); partial kept",
			build: func(b *builder) *ir.Model {
				b.input("X", ir.Float, 4, 6).ints("s0", []int64{2}, 0, 0).ints("e0", []int64{2}, 9223372036854775807, 6).
					ints("ax", []int64{2}, 0, 1).ints("e1", []int64{1}, 3).ints("a1", []int64{1}, 1)
				return b.node("Slice", "X,s0,e0,ax", "S").node("Slice", "S,s0,e1,a1", "T").node("Abs", "T", "Y").output("Y").model()
			},
			wantOps: "Slice,Abs", wantOut: "Y",
		},
		{
			name: "slice to INT64_MAX of a symbolic dimension",
			build: func(b *builder) *ir.Model {
				b.symInput("X", ir.Float, "N", "6").ints("s0", []int64{1}, 0).ints("e0", []int64{1}, 9223372036854775807).ints("ax", []int64{1}, 0)
				return b.node("Slice", "X,s0,e0,ax", "S").node("Abs", "S", "Y").output("Y").model()
			},
			wantOps: "Abs", wantOut: "Y",
		},
		{
			name: "expand to the same shape; broadcasting expand kept",
			build: func(b *builder) *ir.Model {
				b.input("X", ir.Float, 3, 1).ints("same", []int64{2}, 1, 1).ints("grow", []int64{2}, 3, 4)
				return b.node("Expand", "X,same", "E").node("Expand", "E,grow", "F").node("Abs", "F", "Y").output("Y").model()
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

package prepare_test

import (
	"fmt"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// qdq quantizes v to uint8 with the given parameters and dequantizes it again: the
// QuantizeLinear's output and the DequantizeLinear's.
func (b *builder) qdq(v *ir.Value, name string, scale float32, zp uint8) (q, dq *ir.Value) {
	s := b.scalar(name+".scale", scale)
	z := b.g.AddInitializer(ir.NewTensor(name+".zp", ir.Uint8, nil, []byte{zp}))
	q = b.op("QuantizeLinear", []*ir.Value{v, s, z}, name+".q")
	return q, b.dequant(q, name, scale, zp)
}

// dequant is a DequantizeLinear of q with its own copy of the parameters.
func (b *builder) dequant(q *ir.Value, name string, scale float32, zp uint8) *ir.Value {
	s := b.scalar(fmt.Sprintf("%s.dq%d.scale", name, len(q.Uses())), scale)
	z := b.g.AddInitializer(ir.NewTensor(fmt.Sprintf("%s.dq%d.zp", name, len(q.Uses())), ir.Uint8, nil, []byte{zp}))
	return b.op("DequantizeLinear", []*ir.Value{q, s, z}, fmt.Sprintf("%s.dq%d", name, len(q.Uses())))
}

// TestFuseQLookupMul: x·Sigmoid(x) in QDQ form becomes one QMulLookup, in either operand
// order and with a Relu folded after the product; a gate read elsewhere, a gate of another
// tensor or x dequantized with other parameters stay QLookup and QMul. Every prepared graph
// computes what the unfused QDQ graph does. (The tensors are 2-D, which the QDQ rules keep
// in their layout; TestQDQRegions's squeeze-and-excitation block has the NHWC case.)
func TestFuseQLookupMul(t *testing.T) {
	for _, tc := range []struct {
		name    string
		swap    bool // Mul(gate, x)
		relu    bool
		shared  bool // the gate is also a graph output
		other   bool // the gate is of another tensor
		rescale bool // x dequantized with another scale for the Mul
		fused   bool
	}{
		{name: "silu", fused: true},
		{name: "operands swapped", swap: true, fused: true},
		{name: "relu after the product", relu: true, fused: true},
		{name: "gate read elsewhere", shared: true},
		{name: "gate of another tensor", other: true},
		{name: "x with other parameters", rescale: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBuilder()
			in := b.input("in", 3, 40)
			xq, xdq := b.qdq(in, "x", 0.02, 128)
			src := xdq
			if tc.other {
				_, src = b.qdq(b.input("in2", 3, 40), "z", 0.02, 128)
			}
			gq, gdq := b.qdq(b.op("Sigmoid", []*ir.Value{src}, "sig"), "g", 1.0/255, 0)
			xm := xdq
			if tc.rescale {
				xm = b.dequant(xq, "x", 0.03, 128)
			}
			operands := []*ir.Value{xm, gdq}
			if tc.swap {
				operands[0], operands[1] = gdq, xm
			}
			prod := b.op("Mul", operands, "prod")
			if tc.relu {
				prod = b.op("Relu", []*ir.Value{prod}, "relu")
			}
			_, ydq := b.qdq(prod, "y", 0.015, 100)
			outs := []*ir.Value{b.op("Identity", []*ir.Value{ydq}, "y")}
			if tc.shared {
				outs = append(outs, b.dequant(gq, "g", 1.0/255, 0))
			}
			m := b.model(outs...)
			pm, err := prepare.Prepare(m, prepare.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := pm.Verify(); err != nil {
				t.Fatal(err)
			}
			count := map[string]int{}
			for _, n := range pm.Graph.Nodes() {
				count[n.OpType]++
			}
			want := map[string]int{prepare.OpQMulLookup: 0, prepare.OpQLookup: 1, prepare.OpQMul: 1}
			if tc.fused {
				want = map[string]int{prepare.OpQMulLookup: 1, prepare.OpQLookup: 0, prepare.OpQMul: 0}
			}
			for op, n := range want {
				if count[op] != n {
					t.Errorf("%d %s, want %d: %s", count[op], op, n, ops(pm))
				}
			}
			checkSameOutputs(t, m)
		})
	}
}

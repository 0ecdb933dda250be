package passes_test

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// Tiny graphs with random weights whose fusions the backend test models do not contain
// (PyTorch folds BatchNormalization into Conv before export): each is optimized with the
// default pipeline, must fuse to the expected ops, and must keep its outputs.

type tinyGraph struct {
	g   *ir.Graph
	m   *ir.Model
	rng *rand.Rand
}

func newTiny(opset int64) *tinyGraph {
	g := ir.NewGraph("tiny")
	return &tinyGraph{g: g, rng: rand.New(rand.NewSource(7)),
		m: &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: opset}}, Graph: g}}
}

func (b *tinyGraph) weight(name string, lo, hi float64, dims ...int64) *ir.Value {
	n, _ := ir.NumElements(dims)
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(lo + (hi-lo)*b.rng.Float64())
	}
	return b.g.AddInitializer(ir.FromFloat32(name, dims, data))
}

func (b *tinyGraph) node(op string, ins []*ir.Value, out string, attrs ...*ir.Attr) *ir.Value {
	n := b.g.NewNode("", op, ins, []string{out}, attrs...)
	b.g.Append(n)
	return n.Output(0)
}

// bn appends an inference BatchNormalization over c channels.
func (b *tinyGraph) bn(x *ir.Value, c int64, out string) *ir.Value {
	return b.node("BatchNormalization", []*ir.Value{x, b.weight(out+"_g", 0.5, 2, c), b.weight(out+"_b", -1, 1, c),
		b.weight(out+"_m", -1, 1, c), b.weight(out+"_v", 0.1, 3, c)}, out, ir.FloatAttr("epsilon", 1e-3))
}

func TestFusionsKeepOutputs(t *testing.T) {
	tests := []struct {
		name    string
		build   func(b *tinyGraph) *ir.Model
		wantOps string
	}{
		{
			name: "grouped Conv + BN",
			build: func(b *tinyGraph) *ir.Model {
				x := b.g.AddInput("X", ir.TensorTypeOf(ir.Float, 1, 4, 5, 5))
				c := b.node("Conv", []*ir.Value{x, b.weight("W", -1, 1, 6, 2, 3, 3), b.weight("B", -1, 1, 6)}, "C", ir.IntAttr("group", 2))
				b.g.Outputs = []*ir.Value{b.bn(c, 6, "Y")}
				return b.m
			},
			wantOps: "Conv",
		},
		{
			name: "grouped ConvTranspose + BN (scales axis 1 per group)",
			build: func(b *tinyGraph) *ir.Model {
				x := b.g.AddInput("X", ir.TensorTypeOf(ir.Float, 1, 4, 3, 3))
				c := b.node("ConvTranspose", []*ir.Value{x, b.weight("W", -1, 1, 4, 3, 2, 2)}, "C", ir.IntAttr("group", 2))
				r := b.node("Relu", []*ir.Value{b.bn(c, 6, "D")}, "Y")
				b.g.Outputs = []*ir.Value{r}
				return b.m
			},
			wantOps: "ConvTranspose,Relu",
		},
		{
			name: "Gemm (transB, beta) + BN",
			build: func(b *tinyGraph) *ir.Model {
				x := b.g.AddInput("X", ir.TensorTypeOf(ir.Float, 3, 4))
				gm := b.node("Gemm", []*ir.Value{x, b.weight("W", -1, 1, 5, 4), b.weight("C", -1, 1, 5)}, "G",
					ir.IntAttr("transB", 1), ir.FloatAttr("beta", 0.5), ir.FloatAttr("alpha", 2))
				b.g.Outputs = []*ir.Value{b.bn(gm, 5, "Y")}
				return b.m
			},
			wantOps: "Gemm",
		},
		{
			name: "MatMul + BN becomes one Gemm",
			build: func(b *tinyGraph) *ir.Model {
				x := b.g.AddInput("X", ir.TensorTypeOf(ir.Float, 3, 4))
				mm := b.node("MatMul", []*ir.Value{x, b.weight("W", -1, 1, 4, 5)}, "M")
				b.g.Outputs = []*ir.Value{b.bn(mm, 5, "Y")}
				return b.m
			},
			wantOps: "Gemm",
		},
		{
			name: "MatMul + [M,1] bias becomes Gemm",
			build: func(b *tinyGraph) *ir.Model {
				x := b.g.AddInput("X", ir.TensorTypeOf(ir.Float, 3, 4))
				mm := b.node("MatMul", []*ir.Value{x, b.weight("W", -1, 1, 4, 5)}, "M")
				b.g.Outputs = []*ir.Value{b.node("Add", []*ir.Value{b.weight("c", -1, 1, 3, 1), mm}, "Y")}
				return b.m
			},
			wantOps: "Gemm",
		},
		{
			name: "three transposes that cancel vanish",
			build: func(b *tinyGraph) *ir.Model {
				x := b.g.AddInput("X", ir.TensorTypeOf(ir.Float, 2, 3, 4))
				t1 := b.node("Transpose", []*ir.Value{x}, "T1", ir.IntsAttr("perm", 1, 0, 2))
				t2 := b.node("Transpose", []*ir.Value{t1}, "T2", ir.IntsAttr("perm", 0, 2, 1))
				t3 := b.node("Transpose", []*ir.Value{t2}, "T3", ir.IntsAttr("perm", 2, 0, 1))
				b.g.Outputs = []*ir.Value{b.node("Relu", []*ir.Value{t3}, "Y")}
				return b.m
			},
			wantOps: "Relu",
		},
		{
			name: "three transposes compose into one",
			build: func(b *tinyGraph) *ir.Model {
				x := b.g.AddInput("X", ir.TensorTypeOf(ir.Float, 2, 3, 4))
				t1 := b.node("Transpose", []*ir.Value{x}, "T1", ir.IntsAttr("perm", 1, 0, 2))
				t2 := b.node("Transpose", []*ir.Value{t1}, "T2", ir.IntsAttr("perm", 0, 2, 1))
				t3 := b.node("Transpose", []*ir.Value{t2}, "T3", ir.IntsAttr("perm", 1, 0, 2))
				b.g.Outputs = []*ir.Value{b.node("Relu", []*ir.Value{t3}, "Y")}
				return b.m
			},
			wantOps: "Transpose,Relu",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newTiny(15))
			if err := m.Verify(); err != nil {
				t.Fatal(err)
			}
			names, inputs := randomInputs(t, m, 3)
			want, err := runModel(m, names, inputs)
			if err != nil {
				t.Fatal(err)
			}
			opt, _ := optimize(t, m, pipelineOf(t, "default"))
			var ops []string
			for _, n := range opt.Graph.Nodes() {
				ops = append(ops, n.OpType)
			}
			if got := strings.Join(ops, ","); got != tc.wantOps {
				t.Errorf("ops = %s, want %s\n%s", got, tc.wantOps, ir.Format(opt))
			}
			got, err := runModel(opt, names, inputs)
			if err != nil {
				t.Fatal(err)
			}
			if err := compareOutputs(m, got, want); err != nil {
				t.Error(err)
			}
		})
	}
}

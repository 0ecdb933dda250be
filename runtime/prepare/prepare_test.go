package prepare_test

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// builder makes small float graphs for the rule tests.
type builder struct {
	g *ir.Graph
	r *rand.Rand
}

func newBuilder() *builder { return &builder{g: ir.NewGraph("g"), r: rand.New(rand.NewSource(1))} }

func (b *builder) input(name string, dims ...int64) *ir.Value {
	return b.g.AddInput(name, ir.TensorTypeOf(ir.Float, dims...))
}

func (b *builder) weight(name string, dims ...int64) *ir.Value {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = b.r.Float32() - 0.5
	}
	return b.g.AddInitializer(ir.FromFloat32(name, dims, v))
}

func (b *builder) scalar(name string, v float32) *ir.Value {
	return b.g.AddInitializer(ir.FromFloat32(name, nil, []float32{v}))
}

func (b *builder) op(op string, ins []*ir.Value, out string, attrs ...*ir.Attr) *ir.Value {
	n := b.g.NewNode("", op, ins, []string{out}, attrs...)
	n.Name = out + "_node"
	b.g.Append(n)
	return n.Output(0)
}

func (b *builder) conv(x *ir.Value, name string, cin, cout int64) *ir.Value {
	w := b.weight(name+".w", cout, cin, 3, 3)
	bias := b.weight(name+".b", cout)
	return b.op("Conv", []*ir.Value{x, w, bias}, name, ir.IntsAttr("pads", 1, 1, 1, 1))
}

func (b *builder) model(outs ...*ir.Value) *ir.Model {
	b.g.Outputs = outs
	return &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: 17}}, Graph: b.g}
}

// ops lists the main graph's nodes as domain-qualified op types, in order.
func ops(m *ir.Model) string {
	var s []string
	for _, n := range m.Graph.Nodes() {
		if n.Domain != "" {
			s = append(s, n.Domain+"::"+n.OpType)
		} else {
			s = append(s, n.OpType)
		}
	}
	return strings.Join(s, " ")
}

func TestRules(t *testing.T) {
	const fc = prepare.Domain + "::" + prepare.OpFusedConv
	tests := []struct {
		name  string
		build func(b *builder) *ir.Model
		keep  []string
		want  string
	}{
		{"conv+relu", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			return b.model(b.op("Relu", []*ir.Value{b.conv(x, "c", 4, 8)}, "y"))
		}, nil, fc},
		{"residual add then relu", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			c1 := b.op("Relu", []*ir.Value{b.conv(x, "c1", 4, 4)}, "r1")
			sum := b.op("Add", []*ir.Value{b.conv(c1, "c2", 4, 4), x}, "sum")
			return b.model(b.op("Relu", []*ir.Value{sum}, "y"))
		}, nil, fc + " " + fc},
		{"clip with constant bounds", func(b *builder) *ir.Model {
			x := b.input("x", 1, 3, 5, 5)
			return b.model(b.op("Clip", []*ir.Value{b.conv(x, "c", 3, 4), b.scalar("lo", 0), b.scalar("hi", 6)}, "y"))
		}, nil, fc},
		{"silu", func(b *builder) *ir.Model {
			x := b.input("x", 2, 3, 5, 5)
			c := b.conv(x, "c", 3, 4)
			return b.model(b.op("Mul", []*ir.Value{c, b.op("Sigmoid", []*ir.Value{c}, "s")}, "y"))
		}, nil, fc},
		{"hardswish, hardsigmoid, leakyrelu, tanh", func(b *builder) *ir.Model {
			x := b.input("x", 1, 3, 5, 5)
			h := b.op("HardSwish", []*ir.Value{b.conv(x, "c1", 3, 3)}, "h")
			s := b.op("HardSigmoid", []*ir.Value{b.conv(h, "c2", 3, 3)}, "s", ir.FloatAttr("alpha", 0.3))
			l := b.op("LeakyRelu", []*ir.Value{b.conv(s, "c3", 3, 3)}, "l", ir.FloatAttr("alpha", 0.1))
			return b.model(b.op("Tanh", []*ir.Value{b.conv(l, "c4", 3, 3)}, "y"))
		}, nil, fc + " " + fc + " " + fc + " " + fc},
		{"a kept intermediate is not fused away", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			return b.model(b.op("Relu", []*ir.Value{b.conv(x, "c", 4, 8)}, "y"))
		}, []string{"c"}, "Conv Relu"},
		{"a conv output read twice keeps its activation apart", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			c := b.conv(x, "c", 4, 4)
			return b.model(b.op("Relu", []*ir.Value{c}, "y"), b.op("Neg", []*ir.Value{c}, "z"))
		}, nil, "Conv Relu Neg"},
		{"broadcast add is not a residual", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			return b.model(b.op("Add", []*ir.Value{b.conv(x, "c", 4, 4), b.weight("bias", 4, 1, 1)}, "y"))
		}, nil, "Conv Add"},
		{"constants fold", func(b *builder) *ir.Model {
			x := b.input("x", 1, 4, 6, 6)
			w := b.op("Neg", []*ir.Value{b.weight("w0", 4, 4, 3, 3)}, "w")
			c := b.op("Conv", []*ir.Value{x, w}, "c", ir.IntsAttr("pads", 1, 1, 1, 1))
			return b.model(b.op("Relu", []*ir.Value{c}, "y"))
		}, nil, fc},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder())
			before := ir.Format(m)
			pm, err := prepare.Prepare(m, prepare.Options{Keep: tc.keep})
			if err != nil {
				t.Fatal(err)
			}
			if ir.Format(m) != before {
				t.Fatal("Prepare modified the caller's model")
			}
			if err := pm.Verify(); err != nil {
				t.Fatalf("prepared model does not verify: %v\n%s", err, ir.Format(pm))
			}
			if got := ops(pm); got != tc.want {
				t.Errorf("prepared ops %q, want %q", got, tc.want)
			}
			for i, v := range pm.Graph.Outputs {
				if v.Name != m.Graph.Outputs[i].Name {
					t.Errorf("output %d renamed %q -> %q", i, m.Graph.Outputs[i].Name, v.Name)
				}
			}
			checkSameOutputs(t, m)
		})
	}
}

// checkSameOutputs runs m prepared and as written (the reference kernels) on random inputs
// and requires the outputs to agree to float32 rounding.
func checkSameOutputs(t *testing.T, m *ir.Model) {
	t.Helper()
	r := rand.New(rand.NewSource(2))
	feeds := map[string]*runtime.Tensor{}
	for _, v := range m.Graph.Inputs {
		var shape []int64
		for _, d := range v.Type.Dims {
			shape = append(shape, d.Value)
		}
		x := kernel.New(ir.Float, shape...)
		for i := range x.Float32s() {
			x.Float32s()[i] = r.Float32()*4 - 2
		}
		feeds[v.Name] = x
	}
	for _, threads := range []int{1, 2} {
		fast, err := runtime.NewSession(m, runtime.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		ref, err := runtime.NewSession(m, runtime.Options{Reference: true})
		if err != nil {
			t.Fatal(err)
		}
		got, err := fast.Run(context.Background(), feeds)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ref.Run(context.Background(), feeds)
		if err != nil {
			t.Fatal(err)
		}
		for name, w := range want {
			g := got[name]
			if g == nil || !slices.Equal(g.Shape, w.Shape) {
				t.Fatalf("output %s: got %v, want shape %v", name, g, w.Shape)
			}
			for i, wv := range w.Float32s() {
				gv := g.Float32s()[i]
				if math.Abs(float64(gv-wv)) > 1e-5*(1+math.Abs(float64(wv))) {
					t.Fatalf("threads %d, output %s[%d] = %v, reference %v", threads, name, i, gv, wv)
				}
			}
		}
	}
}

func ExamplePrepare() {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 1, 2, 4, 4))
	w := g.AddInitializer(ir.FromFloat32("w", []int64{2, 2, 1, 1}, []float32{1, 0, 0, 1}))
	conv := g.NewNode("", "Conv", []*ir.Value{x, w}, []string{"c"})
	g.Append(conv)
	relu := g.NewNode("", "Relu", []*ir.Value{conv.Output(0)}, []string{"y"})
	g.Append(relu)
	g.Outputs = []*ir.Value{relu.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}
	pm, err := prepare.Prepare(m, prepare.Options{})
	if err != nil {
		panic(err)
	}
	for _, n := range pm.Graph.Nodes() {
		fmt.Println(n.Domain, n.OpType, n.AttrString("activation", ""), n.Output(0).Name)
	}
	// Output: whittle.runtime FusedConv Relu y
}

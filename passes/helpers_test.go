package passes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// builder makes tiny models for table tests: values are referred to by name.
type builder struct {
	t    *testing.T
	m    *ir.Model
	g    *ir.Graph
	vals map[string]*ir.Value
}

func newBuilder(t *testing.T, opset int64) *builder {
	g := ir.NewGraph("g")
	return &builder{t: t, g: g, vals: map[string]*ir.Value{},
		m: &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: opset}}, Graph: g}}
}

func (b *builder) input(name string, dt ir.DataType, dims ...int64) *builder {
	b.vals[name] = b.g.AddInput(name, ir.TensorTypeOf(dt, dims...))
	return b
}

// symInput adds an input whose dims are given as strings: numbers or symbols.
func (b *builder) symInput(name string, dt ir.DataType, dims ...string) *builder {
	ds := make([]ir.Dim, len(dims))
	for i, d := range dims {
		var n int64
		if _, err := fmt.Sscan(d, &n); err == nil {
			ds[i] = ir.Known(n)
		} else {
			ds[i] = ir.Symbolic(d)
		}
	}
	b.vals[name] = b.g.AddInput(name, ir.TensorType(dt, ds...))
	return b
}

func (b *builder) floats(name string, dims []int64, data ...float32) *builder {
	b.vals[name] = b.g.AddInitializer(ir.FromFloat32(name, dims, data))
	return b
}

func (b *builder) ints(name string, dims []int64, data ...int64) *builder {
	b.vals[name] = b.g.AddInitializer(ir.FromInt64(name, dims, data))
	return b
}

// node adds op reading ins ("" for an omitted input) and writing outs.
func (b *builder) node(op string, ins, outs string, attrs ...*ir.Attr) *builder {
	var inputs []*ir.Value
	if ins != "" {
		for _, name := range strings.Split(ins, ",") {
			if name == "" || name == "_" {
				inputs = append(inputs, nil)
				continue
			}
			v, ok := b.vals[name]
			if !ok {
				b.t.Fatalf("builder: %s reads undefined %q", op, name)
			}
			inputs = append(inputs, v)
		}
	}
	names := strings.Split(outs, ",")
	n := b.g.NewNode("", op, inputs, names, attrs...)
	n.Name = op + "_" + names[0]
	b.g.Append(n)
	for _, v := range n.Outputs() {
		if v != nil {
			b.vals[v.Name] = v
		}
	}
	return b
}

func (b *builder) output(names ...string) *builder {
	for _, name := range names {
		b.g.Outputs = append(b.g.Outputs, b.vals[name])
	}
	return b
}

func (b *builder) model() *ir.Model {
	if err := b.m.Verify(); err != nil {
		b.t.Fatalf("test model is invalid before the pass: %v", err)
	}
	return b.m
}

// runPasses runs a pipeline with verification after each pass and a fake evaluator.
func runPasses(t *testing.T, m *ir.Model, pipeline string) *Report {
	t.Helper()
	p, err := ParsePipeline(pipeline)
	if err != nil {
		t.Fatal(err)
	}
	ctx := &Context{VerifyEach: true, Eval: fakeEval{}}
	rep, err := Run(ctx, m, p)
	if err != nil {
		t.Fatalf("%s: %v\n%s", pipeline, err, ir.Format(m))
	}
	return rep
}

// ops lists the main graph's op types in order, for compact expectations.
func ops(m *ir.Model) string {
	var out []string
	for _, n := range m.Graph.Nodes() {
		out = append(out, n.OpType)
	}
	return strings.Join(out, ",")
}

func initNames(m *ir.Model) string {
	var out []string
	for _, v := range m.Graph.Initializers {
		out = append(out, v.Name)
	}
	return strings.Join(out, ",")
}

func outNames(m *ir.Model) string {
	var out []string
	for _, v := range m.Graph.Outputs {
		out = append(out, v.Name)
	}
	return strings.Join(out, ",")
}

// fakeEval evaluates the few float ops the fold tests use, elementwise on equal shapes, so
// that the pass is tested without the runtime (differential tests use the real one).
type fakeEval struct{}

func (fakeEval) EvalNode(m *ir.Model, n *ir.Node, inputs []*ir.Tensor) ([]*ir.Tensor, error) {
	switch n.OpType {
	case "Add", "Mul":
		a, err := inputs[0].Float32s()
		if err != nil {
			return nil, err
		}
		c, err := inputs[1].Float32s()
		if err != nil {
			return nil, err
		}
		if len(a) != len(c) {
			return nil, fmt.Errorf("fakeEval: shapes differ")
		}
		out := make([]float32, len(a))
		for i := range a {
			if n.OpType == "Add" {
				out[i] = a[i] + c[i]
			} else {
				out[i] = a[i] * c[i]
			}
		}
		return []*ir.Tensor{ir.FromFloat32("", inputs[0].Dims, out)}, nil
	case "Tile":
		a, _ := inputs[0].Float32s()
		reps, _ := inputs[1].Int64s()
		var out []float32
		for r := int64(0); r < reps[0]; r++ {
			out = append(out, a...)
		}
		return []*ir.Tensor{ir.FromFloat32("", []int64{int64(len(out))}, out)}, nil
	}
	return nil, fmt.Errorf("fakeEval: no %s", n.OpType)
}

func floatsOf(t *testing.T, v *ir.Value) []float32 {
	t.Helper()
	c := constOf(v)
	if c == nil {
		t.Fatalf("%q is not constant", v.Name)
	}
	xs, err := c.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	return xs
}

package irtest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// Builder makes one model. Its methods return the builder so that a model reads as one
// expression; a mistake (an undefined input name, a malformed type) fails the test.
type Builder struct {
	t    testing.TB
	m    *ir.Model
	g    *ir.Graph
	vals map[string]*ir.Value
}

// New starts a model with IR version 8 that imports the default domain at opset.
func New(t testing.TB, opset int64) *Builder {
	g := ir.NewGraph("g")
	return &Builder{t: t, g: g, vals: map[string]*ir.Value{},
		m: &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: opset}}, Graph: g}}
}

// IRVersion sets the model's IR version.
func (b *Builder) IRVersion(v int64) *Builder { b.m.IRVersion = v; return b }

// Input adds a graph input of element type dt and static dims.
func (b *Builder) Input(name string, dt ir.DataType, dims ...int64) *Builder {
	b.vals[name] = b.g.AddInput(name, ir.TensorTypeOf(dt, dims...))
	return b
}

// InputOf adds a graph input whose type is written as ParseType reads it: "float[N,3,?]".
func (b *Builder) InputOf(name, typ string) *Builder {
	b.t.Helper()
	b.vals[name] = b.g.AddInput(name, ParseType(b.t, typ))
	return b
}

// Floats adds a float initializer.
func (b *Builder) Floats(name string, dims []int64, data ...float32) *Builder {
	b.vals[name] = b.g.AddInitializer(ir.FromFloat32(name, dims, data))
	return b
}

// Ints adds an int64 initializer.
func (b *Builder) Ints(name string, dims []int64, data ...int64) *Builder {
	b.vals[name] = b.g.AddInitializer(ir.FromInt64(name, dims, data))
	return b
}

// Init adds an initializer holding t, named after it.
func (b *Builder) Init(t *ir.Tensor) *Builder {
	b.vals[t.Name] = b.g.AddInitializer(t)
	return b
}

// Node appends op in the default domain, reading ins (comma-separated names; "" or "_"
// for an omitted input) and writing outs (comma-separated). The node is named
// op_firstoutput.
func (b *Builder) Node(op, ins, outs string, attrs ...*ir.Attr) *Builder {
	b.t.Helper()
	b.NodeIn("", op, ins, outs, attrs...)
	return b
}

// NodeIn appends a node of domain and returns it, for tests that go on to edit it.
func (b *Builder) NodeIn(domain, op, ins, outs string, attrs ...*ir.Attr) *ir.Node {
	b.t.Helper()
	var inputs []*ir.Value
	if ins != "" {
		for _, name := range strings.Split(ins, ",") {
			if name == "" || name == "_" {
				inputs = append(inputs, nil)
				continue
			}
			v, ok := b.vals[name]
			if !ok {
				b.t.Fatalf("irtest: %s reads undefined %q", op, name)
			}
			inputs = append(inputs, v)
		}
	}
	names := strings.Split(outs, ",")
	n := b.g.NewNode(domain, op, inputs, names, attrs...)
	n.Name = op + "_" + names[0]
	b.g.Append(n)
	// Graph attributes built beforehand get this node as their owner.
	for _, sub := range n.Subgraphs() {
		n.AttachSubgraph(sub)
	}
	for _, v := range n.Outputs() {
		if v != nil {
			b.vals[v.Name] = v
		}
	}
	return n
}

// Output makes the named values the graph's outputs, in order.
func (b *Builder) Output(names ...string) *Builder {
	b.t.Helper()
	for _, name := range names {
		v, ok := b.vals[name]
		if !ok {
			b.t.Fatalf("irtest: output %q is undefined", name)
		}
		b.g.Outputs = append(b.g.Outputs, v)
	}
	return b
}

// Value returns the value called name.
func (b *Builder) Value(name string) *ir.Value {
	b.t.Helper()
	v, ok := b.vals[name]
	if !ok {
		b.t.Fatalf("irtest: no value %q", name)
	}
	return v
}

// Graph returns the main graph, for tests that build parts by hand.
func (b *Builder) Graph() *ir.Graph { return b.g }

// Model verifies the model and returns it; an invalid model fails the test.
func (b *Builder) Model() *ir.Model {
	b.t.Helper()
	if err := b.m.Verify(); err != nil {
		b.t.Fatalf("irtest: the test model is invalid: %v\n%s", err, ir.Format(b.m))
	}
	return b.m
}

// Unverified returns the model as built, without verifying it (for tests of what
// verification or a checker reports).
func (b *Builder) Unverified() *ir.Model { return b.m }

// ParseType reads a tensor type written "float[N,3,?]": an element type, then dims that
// are numbers, symbols or ? (unknown); a bare "float" has an unknown rank and "float[]" is
// a scalar.
func ParseType(t testing.TB, s string) *ir.Type {
	t.Helper()
	elemName, dims, ranked := strings.Cut(s, "[")
	elem, ok := ir.ParseDataType(elemName)
	if !ok {
		t.Fatalf("irtest: bad element type in %q", s)
	}
	if !ranked {
		return &ir.Type{Kind: ir.TensorKind, Elem: elem}
	}
	dims = strings.TrimSuffix(dims, "]")
	out := &ir.Type{Kind: ir.TensorKind, Elem: elem, HasShape: true, Dims: []ir.Dim{}}
	if dims == "" {
		return out
	}
	for _, d := range strings.Split(dims, ",") {
		switch v, err := strconv.ParseInt(d, 10, 64); {
		case d == "?":
			out.Dims = append(out.Dims, ir.UnknownDim)
		case err == nil:
			out.Dims = append(out.Dims, ir.Known(v))
		default:
			out.Dims = append(out.Dims, ir.Symbolic(d))
		}
	}
	return out
}

// Ops lists the main graph's op types in order, comma-separated, for compact expectations.
func Ops(m *ir.Model) string {
	var out []string
	for _, n := range m.Graph.Nodes() {
		out = append(out, n.OpType)
	}
	return strings.Join(out, ",")
}

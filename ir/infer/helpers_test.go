package infer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/irtest"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
)

// builder makes small hand-built graphs for rule tests.
type builder struct {
	t *testing.T
	m *ir.Model
	g *ir.Graph
	n int
}

func newBuilder(t *testing.T, opset int64) *builder {
	g := ir.NewGraph("test")
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: opset}}, Graph: g}
	return &builder{t: t, m: m, g: g}
}

// parseType reads "float[N,3,?]" (a bare "float" has unknown rank).
func parseType(t testing.TB, s string) *ir.Type { return irtest.ParseType(t, s) }

// input adds a graph input of type typ ("float[N,3]").
func (b *builder) input(name, typ string) *ir.Value {
	return b.g.AddInput(name, parseType(b.t, typ))
}

// ints adds a 1-D int64 initializer.
func (b *builder) ints(vals ...int64) *ir.Value {
	b.n++
	return b.g.AddInitializer(ir.FromInt64(fmt.Sprintf("c%d", b.n), []int64{int64(len(vals))}, vals))
}

// scalar adds a scalar int64 initializer.
func (b *builder) scalar(v int64) *ir.Value {
	b.n++
	return b.g.AddInitializer(ir.FromInt64(fmt.Sprintf("c%d", b.n), nil, []int64{v}))
}

// floats adds a 1-D float initializer.
func (b *builder) floats(vals ...float32) *ir.Value {
	b.n++
	return b.g.AddInitializer(ir.FromFloat32(fmt.Sprintf("c%d", b.n), []int64{int64(len(vals))}, vals))
}

// weight adds a float initializer of the given shape (zeros).
func (b *builder) weight(dims ...int64) *ir.Value {
	b.n++
	n, _ := ir.NumElements(dims)
	return b.g.AddInitializer(ir.FromFloat32(fmt.Sprintf("w%d", b.n), dims, make([]float32, n)))
}

// node appends op reading inputs with nOut outputs.
func (b *builder) node(op string, inputs []*ir.Value, nOut int, attrs ...*ir.Attr) *ir.Node {
	b.n++
	names := make([]string, nOut)
	for i := range names {
		names[i] = fmt.Sprintf("%s%d_out%d", strings.ToLower(op), b.n, i)
	}
	n := b.g.NewNode("", op, inputs, names, attrs...)
	n.Name = fmt.Sprintf("%s_%d", op, b.n)
	b.g.Append(n)
	return n
}

func (b *builder) run(opts infer.Options) infer.Report {
	b.t.Helper()
	rep, err := infer.Model(b.m, opts)
	if err != nil {
		b.t.Fatal(err)
	}
	return rep
}

// outTypes renders the types of n's outputs.
func outTypes(n *ir.Node) []string {
	var out []string
	for _, v := range n.Outputs() {
		if v == nil {
			out = append(out, "-")
			continue
		}
		out = append(out, v.Type.String())
	}
	return out
}

// ruleCase builds one node (the last one built is checked) and lists its expected output
// types; wantProblem, when set, must appear in some problem instead.
type ruleCase struct {
	name        string
	opset       int64
	noDataProp  bool
	build       func(b *builder) *ir.Node
	want        []string
	wantProblem string
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opset := tc.opset
			if opset == 0 {
				opset = 17
			}
			b := newBuilder(t, opset)
			n := tc.build(b)
			rep := b.run(infer.Options{DataPropagation: !tc.noDataProp})
			if tc.wantProblem != "" {
				for _, p := range rep.Problems {
					if strings.Contains(p.String(), tc.wantProblem) {
						if p.Node != n.Describe() {
							t.Errorf("problem names %s, want %s", p.Node, n.Describe())
						}
						return
					}
				}
				t.Fatalf("no problem containing %q; problems: %v", tc.wantProblem, rep.Problems)
			}
			if len(rep.Problems) > 0 {
				t.Errorf("unexpected problems: %v", rep.Problems)
			}
			if got := outTypes(n); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("outputs %v, want %v", got, tc.want)
			}
		})
	}
}

package passes

import (
	"reflect"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestFoldConstants(t *testing.T) {
	tests := []struct {
		name     string
		pipeline string
		build    func(b *builder) *ir.Model
		wantOps  string
		// check inspects the model after the pass.
		check func(t *testing.T, m *ir.Model)
	}{
		{
			name: "chain of constant arithmetic folds, keeping the value name",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Floats("a", []int64{2}, 1, 2).Floats("b", []int64{2}, 3, 4).
					Node("Add", "a,b", "S").Node("Mul", "S,S", "P").Node("Add", "X,P", "Y").Output("Y").Model()
			},
			wantOps: "Add",
			check: func(t *testing.T, m *ir.Model) {
				p := m.Graph.Nodes()[0].Input(1)
				if p.Name != "P" {
					t.Errorf("folded value is named %q, want P", p.Name)
				}
				if got := floatsOf(t, p); !reflect.DeepEqual(got, []float32{16, 36}) {
					t.Errorf("P = %v, want [16 36]", got)
				}
			},
		},
		{
			name: "Constant node becomes an initializer",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 2)
				b.Node("Constant", "", "C", ir.FloatsAttr("value_floats", 5, 6))
				return b.Node("Add", "X,C", "Y").Output("Y").Model()
			},
			wantOps: "Add",
			check: func(t *testing.T, m *ir.Model) {
				if got := floatsOf(t, m.Graph.Lookup("C")); !reflect.DeepEqual(got, []float32{5, 6}) {
					t.Errorf("C = %v", got)
				}
			},
		},
		{
			name: "folded graph output keeps its name",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2).Floats("a", []int64{2}, 1, 2).Node("Add", "a,a", "Y").
					Node("Abs", "X", "Z").Output("Y", "Z").Model()
			},
			wantOps: "Abs",
			check: func(t *testing.T, m *ir.Model) {
				if got := outNames(m); got != "Y,Z" {
					t.Errorf("outputs = %q", got)
				}
				if got := floatsOf(t, m.Graph.Outputs[0]); !reflect.DeepEqual(got, []float32{2, 4}) {
					t.Errorf("Y = %v", got)
				}
			},
		},
		{
			name: "Shape of a static shape folds; of a symbolic one it stays",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3).InputOf("Z", "float[N,3]").
					Node("Shape", "X", "S").Node("Shape", "Z", "T").Output("S", "T").Model()
			},
			wantOps: "Shape",
			check: func(t *testing.T, m *ir.Model) {
				if xs, _ := constInts(m.Graph.Outputs[0]); !reflect.DeepEqual(xs, []int64{2, 3}) {
					t.Errorf("S = %v", xs)
				}
			},
		},
		{
			name: "random ops and non-constant inputs are not folded",
			build: func(b *builder) *ir.Model {
				b.Input("X", ir.Float, 2).Floats("a", []int64{2}, 1, 2)
				b.Node("RandomUniform", "", "R", ir.IntsAttr("shape", 2))
				return b.Node("Add", "R,a", "S").Node("Add", "X,a", "Y").Output("S", "Y").Model()
			},
			wantOps: "RandomUniform,Add,Add",
		},
		{
			name:     "a large output bigger than its inputs is not materialized",
			pipeline: "fold_constants:max_bytes=16",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 8).Floats("a", []int64{2}, 1, 2).Ints("r", []int64{1}, 4).
					Node("Tile", "a,r", "T").Node("Add", "X,T", "Y").Output("Y").Model()
			},
			wantOps: "Tile,Add",
		},
		{
			name:     "the same Tile folds under a larger limit",
			pipeline: "fold_constants:max_bytes=64",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 8).Floats("a", []int64{2}, 1, 2).Ints("r", []int64{1}, 4).
					Node("Tile", "a,r", "T").Node("Add", "X,T", "Y").Output("Y").Model()
			},
			wantOps: "Add",
		},
		{
			name: "an initializer that is also a graph input is not constant",
			build: func(b *builder) *ir.Model {
				b.Floats("a", []int64{2}, 1, 2)
				b.Graph().Inputs = append(b.Graph().Inputs, b.Value("a"))
				b.IRVersion(3)
				return b.Node("Add", "a,a", "Y").Output("Y").Model()
			},
			wantOps: "Add",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 13))
			p := tc.pipeline
			if p == "" {
				p = "fold_constants,eliminate_dead"
			} else {
				p += ",eliminate_dead"
			}
			runPasses(t, m, p)
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops = %q, want %q\n%s", got, tc.wantOps, ir.Format(m))
			}
			if tc.check != nil {
				tc.check(t, m)
			}
		})
	}
}

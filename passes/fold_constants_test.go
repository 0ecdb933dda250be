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
				return b.input("X", ir.Float, 2).floats("a", []int64{2}, 1, 2).floats("b", []int64{2}, 3, 4).
					node("Add", "a,b", "S").node("Mul", "S,S", "P").node("Add", "X,P", "Y").output("Y").model()
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
				b.input("X", ir.Float, 2)
				b.node("Constant", "", "C", ir.FloatsAttr("value_floats", 5, 6))
				return b.node("Add", "X,C", "Y").output("Y").model()
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
				return b.input("X", ir.Float, 2).floats("a", []int64{2}, 1, 2).node("Add", "a,a", "Y").
					node("Abs", "X", "Z").output("Y", "Z").model()
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
				return b.input("X", ir.Float, 2, 3).symInput("Z", ir.Float, "N", "3").
					node("Shape", "X", "S").node("Shape", "Z", "T").output("S", "T").model()
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
				b.input("X", ir.Float, 2).floats("a", []int64{2}, 1, 2)
				b.node("RandomUniform", "", "R", ir.IntsAttr("shape", 2))
				return b.node("Add", "R,a", "S").node("Add", "X,a", "Y").output("S", "Y").model()
			},
			wantOps: "RandomUniform,Add,Add",
		},
		{
			name:     "a large output bigger than its inputs is not materialized",
			pipeline: "fold_constants:max_bytes=16",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 8).floats("a", []int64{2}, 1, 2).ints("r", []int64{1}, 4).
					node("Tile", "a,r", "T").node("Add", "X,T", "Y").output("Y").model()
			},
			wantOps: "Tile,Add",
		},
		{
			name:     "the same Tile folds under a larger limit",
			pipeline: "fold_constants:max_bytes=64",
			build: func(b *builder) *ir.Model {
				return b.input("X", ir.Float, 8).floats("a", []int64{2}, 1, 2).ints("r", []int64{1}, 4).
					node("Tile", "a,r", "T").node("Add", "X,T", "Y").output("Y").model()
			},
			wantOps: "Add",
		},
		{
			name: "an initializer that is also a graph input is not constant",
			build: func(b *builder) *ir.Model {
				b.floats("a", []int64{2}, 1, 2)
				b.g.Inputs = append(b.g.Inputs, b.vals["a"])
				b.m.IRVersion = 3
				return b.node("Add", "a,a", "Y").output("Y").model()
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

package passes

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// residual builds X -> Conv A -> Relu -> Conv B -> Add(X) -> Relu R -> Conv C -> Y, and a
// side branch X -> Sigmoid S that the tests use for second entries and exits.
func residual(t *testing.T) *builder {
	return newBuilder(t, 17).Input("X", ir.Float, 1, 2, 3, 3).
		Floats("WA", []int64{2, 2, 1, 1}, seq(4)...).Floats("WB", []int64{2, 2, 1, 1}, seq(4)...).
		Floats("WC", []int64{1, 2, 1, 1}, 1, 2).
		Node("Conv", "X,WA", "A").Node("Relu", "A", "RA").Node("Conv", "RA,WB", "B").
		Node("Add", "X,B", "S").Node("Relu", "S", "R").Node("Conv", "R,WC", "Y")
}

func TestFindRegion(t *testing.T) {
	tests := []struct {
		name     string
		build    func(b *builder) *ir.Model
		from, to string
		nodes    string
		// err is a substring of the error; tensor the tensor it must name.
		err, tensor string
	}{
		{
			name:  "residual block with its shortcut",
			build: func(b *builder) *ir.Model { return b.Output("Y").Model() },
			from:  "X", to: "R",
			nodes: "Conv_A,Relu_RA,Conv_B,Add_S,Relu_R",
		},
		{
			name:  "inner part",
			build: func(b *builder) *ir.Model { return b.Output("Y").Model() },
			from:  "RA", to: "B",
			nodes: "Conv_B",
		},
		{
			name: "Constant nodes are read, not part of the region",
			build: func(b *builder) *ir.Model {
				return b.Node("Constant", "", "K", ir.TensorAttr("value", ir.FromFloat32("", nil, []float32{2}))).
					Node("Mul", "Y,K", "Z").Node("Relu", "Z", "Q").Output("Q").Model()
			},
			from: "Y", to: "Q",
			nodes: "Mul_Z,Relu_Q",
		},
		{
			name:  "unknown tensor",
			build: func(b *builder) *ir.Model { return b.Output("Y").Model() },
			from:  "X", to: "nope",
			err: `no tensor "nope"`, tensor: "nope",
		},
		{
			name:  "exit not computed from the entry",
			build: func(b *builder) *ir.Model { return b.Output("Y").Model() },
			from:  "R", to: "A",
			err: `"A" is not computed from "R"`, tensor: "A",
		},
		{
			name: "second entry",
			build: func(b *builder) *ir.Model {
				return b.Input("X2", ir.Float, 1, 2, 3, 3).Node("Add", "Y,X2", "Z").Output("Z").Model()
			},
			from: "R", to: "Z",
			err: `reads "X2", which is computed outside the region`, tensor: "X2",
		},
		{
			name: "second exit",
			build: func(b *builder) *ir.Model {
				return b.Node("Sigmoid", "RA", "G").Output("Y", "G").Model()
			},
			from: "X", to: "R",
			err: `"RA", computed inside, is read outside`, tensor: "RA",
		},
		{
			name: "graph output inside",
			build: func(b *builder) *ir.Model {
				return b.Output("Y", "B").Model()
			},
			from: "X", to: "R",
			err: `"B", computed inside, is a graph output`, tensor: "B",
		},
		{
			name:  "constant entry",
			build: func(b *builder) *ir.Model { return b.Output("Y").Model() },
			from:  "WA", to: "A",
			err: "is a constant", tensor: "WA",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(residual(t))
			r, err := FindRegion(m, tc.from, tc.to)
			if tc.err != "" {
				var re *RegionError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &re) || re.Tensor != tc.tensor {
					t.Fatalf("error %v, want one containing %q naming %q", err, tc.err, tc.tensor)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, n := range r.Nodes {
				names = append(names, n.Name)
			}
			if got := strings.Join(names, ","); got != tc.nodes {
				t.Errorf("nodes %s, want %s", got, tc.nodes)
			}
			block := r.Extract(m)
			if err := block.Verify(); err != nil {
				t.Fatalf("extracted block: %v", err)
			}
			if block.Graph.Inputs[0].Name != tc.from || block.Graph.Outputs[0].Name != tc.to {
				t.Errorf("block interface %s -> %s", block.Graph.Inputs[0].Name, block.Graph.Outputs[0].Name)
			}
		})
	}
}

// Splicing a region's own extraction back changes no name, weight or wiring that a diff
// would see: the nodes come back under their names, reading the same tensors.
func TestSpliceRegionRoundTrip(t *testing.T) {
	m := residual(t).Node("Constant", "", "K", ir.TensorAttr("value", ir.FromFloat32("", nil, []float32{2}))).
		Node("Mul", "Y,K", "Z").Output("Z").Model()
	checkInference(t, m)
	before := ir.Format(m)
	for _, rg := range [][2]string{{"X", "R"}, {"RA", "B"}, {"Y", "Z"}} {
		r, err := FindRegion(m, rg[0], rg[1])
		if err != nil {
			t.Fatal(err)
		}
		block := r.Extract(m)
		ctx := &Context{VerifyEach: true}
		if err := SpliceRegion(ctx, m, rg[0], rg[1], block); err != nil {
			t.Fatal(err)
		}
		if err := m.Verify(); err != nil {
			t.Fatal(err)
		}
		if ctx.Log.Len() == 0 {
			t.Errorf("%v: nothing logged", rg)
		}
	}
	// Initializers come back at the end of the list; order aside, nothing changed.
	sorted := func(s string) string {
		lines := strings.Split(s, "\n")
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	if after := ir.Format(m); sorted(after) != sorted(before) {
		t.Errorf("round trip changed the model:\n%s\n---\n%s", before, after)
	}
}

func TestSpliceRegionChecksTheBlock(t *testing.T) {
	m := residual(t).Output("Y").Model()
	checkInference(t, m)
	wrong := newBuilder(t, 17).Input("X", ir.Float, 1, 3, 3, 3).Node("Relu", "X", "R").Output("R").Model()
	checkInference(t, wrong)
	err := SpliceRegion(&Context{}, m, "X", "R", wrong)
	if err == nil || !strings.Contains(err.Error(), `does not fit "X"`) {
		t.Errorf("error %v, want a mismatch naming X", err)
	}
	two := newBuilder(t, 17).Input("X", ir.Float, 1, 2, 3, 3).Input("X2", ir.Float, 1, 2, 3, 3).
		Node("Add", "X,X2", "R").Output("R").Model()
	if err := SpliceRegion(&Context{}, m, "X", "R", two); err == nil || !strings.Contains(err.Error(), "one input") {
		t.Errorf("error %v, want one about the block's inputs", err)
	}
}

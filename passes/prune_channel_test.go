package passes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
)

func channelOpts(s float64) PruneOptions {
	o := DefaultPruneOptions()
	o.Pattern, o.Sparsity = PatternChannel, s
	return o
}

// filters builds a weight [m, rest...] whose output channel c is filled with scale[c].
func filters(scale []float32, rest ...int64) []float32 {
	per := int64(1)
	for _, d := range rest {
		per *= d
	}
	out := make([]float32, 0, int64(len(scale))*per)
	for _, s := range scale {
		for i := int64(0); i < per; i++ {
			out = append(out, s)
		}
	}
	return out
}

// seq returns 1, 2, ..., n (distinct values make slicing mistakes visible).
func seq(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(i + 1)
	}
	return out
}

func dimsOf(m *ir.Model, name string) string {
	v := m.Graph.Lookup(name)
	if v == nil {
		return "<none>"
	}
	if t := constOf(v); t != nil {
		return fmt.Sprint(t.Dims)
	}
	return v.Type.String()
}

// checkInference re-infers the pruned model from scratch and requires the types it stores
// to agree, so that the shrunk shapes are consistent end to end.
func checkInference(t *testing.T, m *ir.Model) {
	t.Helper()
	rep, err := infer.Model(m, infer.Options{DataPropagation: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Problems {
		t.Errorf("shape inference after pruning: %s", p)
	}
}

func TestPruneChannels(t *testing.T) {
	tests := []struct {
		name     string
		build    func(b *builder) *ir.Model
		sparsity float64
		// want maps a value name to its dims after pruning; wantVals to exact contents.
		want     map[string]string
		wantVals map[string][]float32
		// groups is "members:kept/channels" per channel group, in order.
		groups  []string
		skipped string
	}{
		{
			name: "Conv -> BN -> Relu -> Conv",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 2, 4, 4).
					Floats("W1", []int64{4, 2, 1, 1}, filters([]float32{3, 0.1, 2, -0.2}, 2, 1, 1)...).
					Floats("B1", []int64{4}, 10, 11, 12, 13).
					Floats("S", []int64{4}, 1, 2, 3, 4).Floats("Bt", []int64{4}, 5, 6, 7, 8).
					Floats("Mu", []int64{4}, 9, 10, 11, 12).Floats("Var", []int64{4}, 1, 1, 1, 1).
					Floats("W2", []int64{3, 4, 1, 1}, seq(12)...).
					Node("Conv", "X,W1,B1", "C").Node("BatchNormalization", "C,S,Bt,Mu,Var", "N").
					Node("Relu", "N", "R").Node("Conv", "R,W2", "Y").Output("Y").Model()
			},
			sparsity: 0.5,
			want:     map[string]string{"W1": "[2 2 1 1]", "W2": "[3 2 1 1]", "R": "float[1,2,4,4]", "Y": "float[1,3,4,4]"},
			wantVals: map[string][]float32{
				"W1": {3, 3, 2, 2}, "B1": {10, 12}, "S": {1, 3}, "Bt": {5, 7}, "Mu": {9, 11}, "Var": {1, 1},
				"W2": {1, 3, 5, 7, 9, 11},
			},
			groups: []string{"Conv_C:2/4", "Conv_Y:3/3"},
		},
		{
			name: "residual Add ties producers, ranked by summed norms",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 2, 3, 3).
					Floats("WA", []int64{4, 2, 1, 1}, filters([]float32{1, 5, 1, 0.1}, 2, 1, 1)...).
					Floats("WB", []int64{4, 2, 1, 1}, filters([]float32{1, 0.1, 3, 0.1}, 2, 1, 1)...).
					Floats("WC", []int64{2, 4, 1, 1}, seq(8)...).
					Node("Conv", "X,WA", "A").Node("Relu", "A", "RA").Node("Conv", "X,WB", "B").
					Node("Add", "RA,B", "S").Node("Conv", "S,WC", "Y").Output("Y").Model()
			},
			// Summed norms 2*(2, 5.1, 4, 0.2): channels 3 and 0 go.
			sparsity: 0.5,
			want:     map[string]string{"WA": "[2 2 1 1]", "WB": "[2 2 1 1]", "WC": "[2 2 1 1]", "S": "float[1,2,3,3]"},
			wantVals: map[string][]float32{"WA": {5, 5, 1, 1}, "WB": {0.1, 0.1, 3, 3}, "WC": {2, 3, 6, 7}},
			groups:   []string{"Conv_A,Conv_B:2/4", "Conv_Y:2/2"},
		},
		{
			name: "Add with a graph input leaves the producer whole",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 4, 3, 3).
					Floats("WA", []int64{4, 4, 1, 1}, filters([]float32{1, 5, 1, 0.1}, 4, 1, 1)...).
					Floats("WC", []int64{2, 4, 1, 1}, seq(8)...).
					Node("Conv", "X,WA", "A").Node("Add", "A,X", "S").Node("Conv", "S,WC", "Y").Output("Y").Model()
			},
			sparsity: 0.5,
			want:     map[string]string{"WA": "[4 4 1 1]", "WC": "[2 4 1 1]"},
			groups:   []string{"Conv_A:4/4", "Conv_Y:2/2"},
			skipped:  `also reads "X"`,
		},
		{
			name: "depthwise conv passes channels through",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 2, 5, 5).
					Floats("W1", []int64{4, 2, 1, 1}, filters([]float32{0.1, 2, 3, 0.2}, 2, 1, 1)...).
					Floats("WD", []int64{4, 1, 3, 3}, filters([]float32{1, 2, 3, 4}, 1, 3, 3)...).
					Floats("BD", []int64{4}, 1, 2, 3, 4).
					Floats("W2", []int64{1, 4, 1, 1}, 1, 2, 3, 4).
					Node("Conv", "X,W1", "C").Node("Clip", "C", "R").
					Node("Conv", "R,WD,BD", "D", ir.IntAttr("group", 4), ir.IntsAttr("pads", 1, 1, 1, 1)).
					Node("Conv", "D,W2", "Y").Output("Y").Model()
			},
			sparsity: 0.5,
			want:     map[string]string{"W1": "[2 2 1 1]", "WD": "[2 1 3 3]", "W2": "[1 2 1 1]", "D": "float[1,2,5,5]"},
			wantVals: map[string][]float32{"BD": {2, 3}, "W2": {2, 3}},
			groups:   []string{"Conv_C:2/4", "Conv_Y:1/1"},
		},
		{
			name: "Flatten -> Gemm drops H*W features per channel",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 2, 2, 2).
					Floats("W1", []int64{3, 2, 1, 1}, filters([]float32{2, 0.1, 3}, 2, 1, 1)...).
					Floats("FC", []int64{12, 2}, seq(24)...).Floats("FB", []int64{2}, 1, 2).
					Node("Conv", "X,W1", "C").Node("Relu", "C", "R").Node("Flatten", "R", "F").
					Node("Gemm", "F,FC,FB", "Y").Output("Y").Model()
			},
			sparsity: 0.34, // round(1.02) = 1 channel: channel 1, features 4..7
			want:     map[string]string{"W1": "[2 2 1 1]", "FC": "[8 2]", "F": "float[1,8]"},
			wantVals: map[string][]float32{"FC": {1, 2, 3, 4, 5, 6, 7, 8, 17, 18, 19, 20, 21, 22, 23, 24}},
			groups:   []string{"Conv_C:2/3", "Gemm_Y:2/2"},
			skipped:  "graph output",
		},
		{
			name: "Flatten -> Gemm with transB",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 2, 1, 2).
					Floats("W1", []int64{2, 2, 1, 1}, filters([]float32{0.1, 3}, 2, 1, 1)...).
					Floats("FC", []int64{2, 4}, seq(8)...).
					Node("Conv", "X,W1", "C").Node("Flatten", "C", "F").
					Node("Gemm", "F,FC", "Y", ir.IntAttr("transB", 1)).Output("Y").Model()
			},
			sparsity: 0.5,
			want:     map[string]string{"FC": "[2 2]"},
			wantVals: map[string][]float32{"FC": {3, 4, 7, 8}},
			groups:   []string{"Conv_C:1/2", "Gemm_Y:2/2"},
		},
		{
			name: "Concat offsets",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 1, 2, 2).
					Floats("WA", []int64{2, 1, 1, 1}, 0.1, 1).
					Floats("WB", []int64{3, 1, 1, 1}, 2, 0.2, 0.3).
					Floats("WC", []int64{1, 6, 1, 1}, 1, 2, 3, 4, 5, 6).
					Node("Conv", "X,WA", "A").Node("Conv", "X,WB", "B").
					Node("Concat", "A,B,X", "K", ir.IntAttr("axis", 1)).Node("Conv", "K,WC", "Y").Output("Y").Model()
			},
			// A drops channel 0 (round 1.0), B drops 2 channels (round 1.5 = 2): 1 and 2; X is fixed.
			sparsity: 0.5,
			want:     map[string]string{"WA": "[1 1 1 1]", "WB": "[1 1 1 1]", "WC": "[1 3 1 1]", "K": "float[1,3,2,2]"},
			wantVals: map[string][]float32{"WA": {1}, "WB": {2}, "WC": {2, 3, 6}},
			groups:   []string{"Conv_A:1/2", "Conv_B:1/3", "Conv_Y:1/1"},
		},
		{
			name: "MLP of Gemm and MatMul",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3).
					Floats("W1", []int64{3, 4}, 1, 0.1, 2, 0.2, 1, 0.1, 2, 0.2, 1, 0.1, 2, 0.2).Floats("B1", []int64{1, 4}, 1, 2, 3, 4).
					Floats("W2", []int64{4, 2}, seq(8)...).
					Node("Gemm", "X,W1,B1", "H").Node("Sigmoid", "H", "S").Node("MatMul", "S,W2", "Y").Output("Y").Model()
			},
			sparsity: 0.5,
			want:     map[string]string{"W1": "[3 2]", "B1": "[1 2]", "W2": "[2 2]"},
			wantVals: map[string][]float32{"W1": {1, 2, 1, 2, 1, 2}, "B1": {1, 3}, "W2": {1, 2, 5, 6}},
			groups:   []string{"Gemm_H:2/4", "MatMul_Y:2/2"},
		},
		{
			name: "grouped conv: every block of its input keeps as many channels",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 2, 3, 3).
					Floats("W1", []int64{4, 2, 1, 1}, filters([]float32{0.1, 2, 3, 0.2}, 2, 1, 1)...).
					Floats("WG", []int64{2, 2, 1, 1}, 1, 2, 3, 4).
					Node("Conv", "X,W1", "C").Node("Conv", "C,WG", "Y", ir.IntAttr("group", 2)).Output("Y").Model()
			},
			// Blocks {0,1} and {2,3} each lose their weakest channel: 0 and 3.
			sparsity: 0.5,
			want:     map[string]string{"W1": "[2 2 1 1]", "WG": "[2 1 1 1]", "C": "float[1,2,3,3]"},
			wantVals: map[string][]float32{"W1": {2, 2, 3, 3}, "WG": {2, 3}},
			groups:   []string{"Conv_C:2/4"},
		},
		{
			name: "grouped conv producer and consumer",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 4, 3, 3).
					// 4 -> 8 channels in 2 groups: block 0 = channels 0-3, block 1 = 4-7.
					Floats("WG", []int64{8, 2, 1, 1}, filters([]float32{1, 0.1, 2, 0.2, 0.3, 3, 0.4, 4}, 2, 1, 1)...).
					Floats("BG", []int64{8}, 1, 2, 3, 4, 5, 6, 7, 8).
					Floats("WH", []int64{4, 4, 1, 1}, seq(16)...).
					Node("Conv", "X,WG,BG", "G", ir.IntAttr("group", 2)).Node("Relu", "G", "R").
					Node("Conv", "R,WH", "H", ir.IntAttr("group", 2)).Node("Relu", "H", "Y").Output("Y").Model()
			},
			// G's blocks drop 1, 3 and 4, 6; H's input block 0 keeps {0, 2}, block 1 {1, 3}.
			sparsity: 0.5,
			want:     map[string]string{"WG": "[4 2 1 1]", "WH": "[4 2 1 1]", "G": "float[1,4,3,3]"},
			wantVals: map[string][]float32{"BG": {1, 3, 6, 8}, "WH": {1, 3, 5, 7, 10, 12, 14, 16}},
			groups:   []string{"Conv_G:4/8", "Conv_H:4/4"},
			skipped:  "graph output",
		},
		{
			name: "transformer MLP over tokens prunes the last axis",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 3, 2).
					Floats("W1", []int64{2, 4}, 1, 0.1, 2, 0.2, 1, 0.1, 2, 0.2).Floats("B1", []int64{4}, 1, 2, 3, 4).
					Floats("K", nil, 1.5).
					Floats("W2", []int64{4, 2}, seq(8)...).
					Node("MatMul", "X,W1", "M").Node("Add", "B1,M", "A").Node("Div", "A,K", "D").Node("Erf", "D", "E").
					Node("Mul", "A,E", "G").Node("MatMul", "G,W2", "Y").Output("Y").Model()
			},
			sparsity: 0.5,
			want:     map[string]string{"W1": "[2 2]", "B1": "[2]", "W2": "[2 2]", "G": "float[2,3,2]"},
			wantVals: map[string][]float32{"W1": {1, 2, 1, 2}, "B1": {1, 3}, "W2": {1, 2, 5, 6}},
			groups:   []string{"MatMul_M:2/4", "MatMul_Y:2/2"},
			skipped:  "graph output",
		},
		{
			name: "a product over tokens cannot follow channels on axis 1",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 2, 3).
					Floats("W1", []int64{4, 2, 1}, filters([]float32{0.1, 2, 3, 0.2}, 2, 1)...).
					Floats("W2", []int64{3, 2}, seq(6)...).
					Node("Conv", "X,W1", "C").Node("MatMul", "C,W2", "Y").Output("Y").Model()
			},
			sparsity: 0.5,
			want:     map[string]string{"W1": "[4 2 1]"},
			groups:   []string{"Conv_C:4/4", "MatMul_Y:2/2"},
			skipped:  "reduces axis 2, the channels are on axis 1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 17))
			checkInference(t, m) // types the pass will infer anyway
			outTypes := map[string]string{}
			for _, v := range m.Graph.Outputs {
				outTypes[v.Name] = v.Type.String()
			}
			rep := mustPrune(t, m, channelOpts(tc.sparsity))
			for name, want := range tc.want {
				if got := dimsOf(m, name); got != want {
					t.Errorf("%s: %s, want %s", name, got, want)
				}
			}
			for name, want := range tc.wantVals {
				if got := floatsOf(t, m.Graph.Lookup(name)); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			var groups []string
			var reasons []string
			for _, g := range rep.Groups {
				groups = append(groups, fmt.Sprintf("%s:%d/%d", strings.Join(g.Members, ","), g.Kept, g.Channels))
				reasons = append(reasons, g.Skipped...)
			}
			if fmt.Sprint(groups) != fmt.Sprint(tc.groups) {
				t.Errorf("groups %v, want %v", groups, tc.groups)
			}
			if tc.skipped != "" && !strings.Contains(strings.Join(reasons, "\n"), tc.skipped) {
				t.Errorf("no skip reason mentions %q: %v", tc.skipped, reasons)
			}
			for _, v := range m.Graph.Outputs {
				if v.Type.String() != outTypes[v.Name] {
					t.Errorf("graph output %s changed type: %s -> %s", v.Name, outTypes[v.Name], v.Type)
				}
			}
			checkInference(t, m)
			if rep.After.MACs > rep.Before.MACs || (rep.Changed && rep.After.MACs == rep.Before.MACs) {
				t.Errorf("MACs %d -> %d", rep.Before.MACs, rep.After.MACs)
			}
		})
	}
}

// With sparsity 0 channel pruning must change nothing at all.
func TestPruneChannelsZeroSparsityChangesNothing(t *testing.T) {
	b := newBuilder(t, 17).Input("X", ir.Float, 1, 2, 4, 4).
		Floats("W1", []int64{4, 2, 1, 1}, seq(8)...).Floats("W2", []int64{4, 2, 1, 1}, seq(8)...).
		Floats("W3", []int64{3, 4, 1, 1}, seq(12)...).
		Node("Conv", "X,W1", "A").Node("Conv", "X,W2", "B").Node("Add", "A,B", "S").Node("Relu", "S", "R").
		Node("Conv", "R,W3", "Y").Output("Y")
	m := b.Model()
	checkInference(t, m)
	before := ir.Format(m)
	rep := mustPrune(t, m, channelOpts(0))
	if rep.Changed || ir.Format(m) != before {
		t.Errorf("sparsity 0 changed the model:\n%s\n---\n%s", before, ir.Format(m))
	}
	if rep.Before.MACs != rep.After.MACs || rep.Before.Params != rep.After.Params {
		t.Errorf("sizes changed: %+v -> %+v", rep.Before, rep.After)
	}
}

// Identity-shared biases (as torch exports them) get their own sliced copy; the orphaned
// Identity and initializer go.
func TestPruneChannelsSharedBiasThroughIdentity(t *testing.T) {
	b := newBuilder(t, 17).Input("X", ir.Float, 1, 2, 3, 3).
		Floats("Z", []int64{4}, 0, 0, 0, 0).
		Floats("W1", []int64{4, 2, 1, 1}, filters([]float32{1, 2, 0.1, 3}, 2, 1, 1)...).
		Floats("W2", []int64{4, 4, 1, 1}, seq(16)...).Floats("W3", []int64{1, 4, 1, 1}, 1, 1, 1, 1).
		Node("Identity", "Z", "Z1").Node("Identity", "Z", "Z2").
		Node("Conv", "X,W1,Z1", "A").Node("Conv", "A,W2,Z2", "B").Node("Conv", "B,W3", "Y").Output("Y")
	m := b.Model()
	mustPrune(t, m, channelOpts(0.25))
	checkInference(t, m)
	if got := ops(m); got != "Conv,Conv,Conv" {
		t.Errorf("ops %s: orphaned Identity nodes left", got)
	}
	if m.Graph.Lookup("Z") != nil {
		t.Errorf("orphaned shared bias left: %s", initNames(m))
	}
	if got := dimsOf(m, "W2"); got != "[3 3 1 1]" {
		t.Errorf("W2 %s, want [3 3 1 1]", got)
	}
}

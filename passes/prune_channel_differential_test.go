package passes_test

import (
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Channel pruning removes output channels whose contribution downstream is exactly what
// the original model computes with those channels' weights and biases zeroed, as long as
// a zero channel stays zero on its way to the consumers (ReLU, GELU, attention products;
// not BatchNormalization, whose shift makes it non-zero). For such models the pruned
// model must match the zero-masked original within float rounding: a differential check
// of the slicing, the grouped-conv block slicing and the attention head constants.

// maskRemoved returns a copy of m with every removed channel of rep's groups zeroed in the
// group members' weights and biases (a Conv/Gemm bias input, or the constant of the Add
// that follows a MatMul).
func maskRemoved(t *testing.T, m *ir.Model, rep *passes.PruneReport) *ir.Model {
	t.Helper()
	c := m.Clone()
	nodes := map[string]*ir.Node{}
	for _, n := range c.Graph.Nodes() {
		nodes[n.Name] = n
	}
	for _, g := range rep.Groups {
		if len(g.Removed) == 0 {
			continue
		}
		for _, name := range g.Members {
			n := nodes[name]
			if n == nil {
				t.Fatalf("group member %q not found", name)
			}
			axis := 0
			switch {
			case n.OpType == "MatMul":
				axis = 1
			case n.OpType == "Gemm" && n.AttrInt("transB", 0) == 0:
				axis = 1
			}
			zeroChannels(t, n.Input(1), axis, g.Removed)
			bias := n.Input(2)
			if n.OpType == "MatMul" && len(n.Output(0).Uses()) == 1 {
				if add := n.Output(0).Uses()[0].Node; add.OpType == "Add" {
					bias = add.Input(0)
					if bias == n.Output(0) {
						bias = add.Input(1)
					}
				}
			}
			if bias != nil && bias.Const != nil {
				zeroChannels(t, bias, len(bias.Const.Dims)-1, g.Removed)
			}
		}
	}
	return c
}

func zeroChannels(t *testing.T, v *ir.Value, axis int, removed []int) {
	t.Helper()
	w, err := v.Const.Float32s()
	if err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	dims := v.Const.Dims
	outer, inner := 1, 1
	for i, d := range dims {
		if i < axis {
			outer *= int(d)
		} else if i > axis {
			inner *= int(d)
		}
	}
	l := int(dims[axis])
	for o := 0; o < outer; o++ {
		for _, c := range removed {
			for i := 0; i < inner; i++ {
				w[(o*l+c)*inner+i] = 0
			}
		}
	}
	v.Const = ir.FromFloat32(v.Const.Name, dims, w)
}

func randomInput(rng *rand.Rand, dims ...int64) *kernel.Tensor {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = rng.Float32()
	}
	return kernel.FromFloat32(dims, xs)
}

// checkMaskedEquivalence prunes a copy of m and compares it with the masked original on
// random inputs of shape dims.
func checkMaskedEquivalence(t *testing.T, m *ir.Model, opts passes.PruneOptions, dims []int64, wantRemoved bool) *ir.Model {
	t.Helper()
	pruned := m.Clone()
	ctx := &passes.Context{VerifyEach: true}
	rep, err := passes.PruneModel(ctx, pruned, opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed != wantRemoved {
		t.Fatalf("changed = %v, want %v", rep.Changed, wantRemoved)
	}
	masked := maskRemoved(t, m, rep)
	// What would be written is what runs.
	p, err := onnx.FromIR(pruned)
	if err != nil {
		t.Fatal(err)
	}
	back, err := onnx.ToIR(p)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	names := []string{feeds(m)[0].Name}
	in := []*kernel.Tensor{randomInput(rng, dims...)}
	want, err := runModel(masked, names, in)
	if err != nil {
		t.Fatalf("masked original: %v", err)
	}
	got, err := runModel(back, names, in)
	if err != nil {
		t.Fatalf("pruned model: %v", err)
	}
	if err := compareScaled(got, want, 1e-5); err != nil {
		t.Errorf("pruned vs masked original: %v", err)
	}
	return back
}

func TestPruneChannelsMatchesMaskedOriginal(t *testing.T) {
	root, ok := testenv.RepoRoot()
	if !ok {
		t.Fatal("no repository root")
	}
	scores := "/layers/layers.0/attn/MatMul_output_0"
	for _, tc := range []struct {
		file      string
		attention string
		// want is the type of the first layer's attention scores and context after pruning.
		scores, context string
	}{
		{"fashion_vit_op17.onnx", passes.AttentionDims, "float[batch,2,17,17]", "float[batch,2,17,16]"},
		{"fashion_vit_op13.onnx", passes.AttentionDims, "float[batch,2,17,17]", "float[batch,2,17,16]"},
		{"fashion_vit_op17.onnx", passes.AttentionHeads, "float[batch,1,17,17]", "float[batch,1,17,32]"},
	} {
		t.Run(tc.file+"/"+tc.attention, func(t *testing.T) {
			m, err := onnx.LoadModel(filepath.Join(root, "testmodels", tc.file))
			if err != nil {
				testenv.Skipf(t, "%v", err)
			}
			opts := passes.DefaultPruneOptions()
			opts.Pattern, opts.Sparsity, opts.Attention = passes.PatternChannel, 0.5, tc.attention
			back := checkMaskedEquivalence(t, m, opts, []int64{3, 1, 28, 28}, true)
			if _, err := infer.Model(back, infer.Options{DataPropagation: true}); err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{scores: tc.scores, "/layers/layers.0/attn/MatMul_1_output_0": tc.context} {
				if v := back.Graph.Lookup(name); v == nil || v.Type.String() != want {
					t.Errorf("%s: %v, want %s", name, v.Type, want)
				}
			}
		})
	}
}

// A chain of grouped convolutions with biases and ReLUs, pruned at several sparsities.
func TestPruneChannelsGroupedConvMatchesMaskedOriginal(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	g := ir.NewGraph("grouped")
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2, 4, 6, 6))
	weight := func(name string, dims ...int64) *ir.Value {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = float32(rng.NormFloat64())
		}
		return g.AddInitializer(ir.FromFloat32(name, dims, xs))
	}
	conv := func(in *ir.Value, name string, w, b *ir.Value, group int64) *ir.Value {
		ins := []*ir.Value{in, w}
		if b != nil {
			ins = append(ins, b)
		}
		n := g.NewNode("", "Conv", ins, []string{name}, ir.IntAttr("group", group), ir.IntsAttr("pads", 1, 1, 1, 1))
		n.Name = name
		g.Append(n)
		r := g.NewNode("", "Relu", []*ir.Value{n.Output(0)}, []string{name + "_relu"})
		g.Append(r)
		return r.Output(0)
	}
	h := conv(x, "c1", weight("w1", 12, 4, 3, 3), weight("b1", 12), 1)
	h = conv(h, "g1", weight("wg1", 12, 4, 3, 3), weight("bg1", 12), 3)
	h = conv(h, "g2", weight("wg2", 24, 3, 3, 3), weight("bg2", 24), 4)
	// No bias on the depthwise conv: it passes channels through, and a bias would make a
	// masked channel non-zero.
	h = conv(h, "dw", weight("wdw", 24, 1, 3, 3), nil, 24)
	out := g.NewNode("", "Conv", []*ir.Value{h, weight("w3", 5, 24, 1, 1)}, []string{"y"})
	out.Name = "c3"
	g.Append(out)
	g.Outputs = []*ir.Value{out.Output(0)}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	for _, s := range []float64{0.25, 0.5, 0.75} {
		opts := passes.DefaultPruneOptions()
		opts.Pattern, opts.Sparsity = passes.PatternChannel, s
		back := checkMaskedEquivalence(t, m, opts, []int64{2, 4, 6, 6}, true)
		// g1 keeps group=3 with fewer channels per group on both sides.
		for _, n := range back.Graph.Nodes() {
			if n.Name == "g1" && n.AttrInt("group", 1) != 3 {
				t.Errorf("sparsity %v: g1 has group %d", s, n.AttrInt("group", 1))
			}
		}
	}
}

// Separate q, k, v projections with constant head shapes (the Hugging Face layout), k
// transposed straight to [N, H, dh, T], in both attention modes.
func TestPruneChannelsSeparateQKVMatchesMaskedOriginal(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	g := ir.NewGraph("attention")
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2, 5, 8))
	add := func(op string, ins []*ir.Value, out string, attrs ...*ir.Attr) *ir.Value {
		n := g.NewNode("", op, ins, []string{out}, attrs...)
		n.Name = out
		g.Append(n)
		return n.Output(0)
	}
	weight := func(name string, dims ...int64) *ir.Value {
		n := int64(1)
		for _, d := range dims {
			n *= d
		}
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = float32(rng.NormFloat64())
		}
		return g.AddInitializer(ir.FromFloat32(name, dims, xs))
	}
	split := g.AddInitializer(ir.FromInt64("split_shape", []int64{4}, []int64{0, 0, 2, 4}))
	proj := func(name string, perm ...int64) *ir.Value {
		h := add("MatMul", []*ir.Value{x, weight("w"+name, 8, 8)}, name+"_mm")
		h = add("Add", []*ir.Value{h, weight("b"+name, 8)}, name+"_add")
		h = add("Reshape", []*ir.Value{h, split}, name+"_split")
		return add("Transpose", []*ir.Value{h}, name+"_t", ir.IntsAttr("perm", perm...))
	}
	q := proj("q", 0, 2, 1, 3)
	k := proj("k", 0, 2, 3, 1)
	v := proj("v", 0, 2, 1, 3)
	s := add("MatMul", []*ir.Value{q, k}, "scores")
	s = add("Div", []*ir.Value{s, g.AddInitializer(ir.FromFloat32("scale", nil, []float32{2}))}, "scaled")
	s = add("Softmax", []*ir.Value{s}, "probs", ir.IntAttr("axis", -1))
	c := add("MatMul", []*ir.Value{s, v}, "context")
	c = add("Transpose", []*ir.Value{c}, "context_t", ir.IntsAttr("perm", 0, 2, 1, 3))
	c = add("Reshape", []*ir.Value{c, g.AddInitializer(ir.FromInt64("merge_shape", []int64{3}, []int64{0, 0, 8}))}, "merged")
	y := add("MatMul", []*ir.Value{c, weight("wo", 8, 3)}, "y")
	g.Outputs = []*ir.Value{y}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	if _, err := infer.Model(m, infer.Options{}); err != nil {
		t.Fatal(err)
	}
	for mode, want := range map[string]string{passes.AttentionDims: "[0 0 2 2]", passes.AttentionHeads: "[0 0 1 4]"} {
		opts := passes.DefaultPruneOptions()
		opts.Pattern, opts.Sparsity, opts.Attention = passes.PatternChannel, 0.5, mode
		back := checkMaskedEquivalence(t, m, opts, []int64{2, 5, 8}, true)
		for _, n := range back.Graph.Nodes() {
			if n.Name == "q_split" {
				xs, _ := n.Input(1).Const.Int64s()
				if fmt.Sprint(xs) != want {
					t.Errorf("%s: head shape %v, want %s", mode, xs, want)
				}
			}
			if n.Name == "merged" {
				if xs, _ := n.Input(1).Const.Int64s(); xs[2] != 4 {
					t.Errorf("%s: merged shape %v, want [0 0 4]", mode, xs)
				}
			}
		}
	}
}

// compareScaled checks outputs within rel times each output's largest magnitude (plus
// 1e-6): the rewrites change which terms a kernel sums and in which order, so an element
// near zero in a large-valued output can move by rounding of the large terms.
func compareScaled(got, want []*kernel.Tensor, rel float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	for k := range want {
		g, w := got[k].Float32s(), want[k].Float32s()
		if len(g) != len(w) {
			return fmt.Errorf("output %d: %d elements, want %d", k, len(g), len(w))
		}
		scale := 0.0
		for _, x := range w {
			scale = math.Max(scale, math.Abs(float64(x)))
		}
		for i := range w {
			if d := math.Abs(float64(g[i] - w[i])); d > rel*scale+1e-6 {
				return fmt.Errorf("output %d: element %d = %v, want %v (diff %.3g, scale %.3g)", k, i, g[i], w[i], d, scale)
			}
		}
	}
	return nil
}

package passes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestPrunePipelineParams(t *testing.T) {
	m := twoGemms(t, []float32{0.5, -0.1, 0.3, -0.7, 0.2, 0.05}, []float32{1, -2, 0.01, 3, -0.02, 0.5, 0.4, -0.03, 2, 1.5})
	rep := runPasses(t, m, "prune:sparsity=0.5:scope=global")
	if rep.Passes[0].Runs != 1 || rep.Passes[0].Changed != 1 {
		t.Errorf("prune ran %d times, changed %d (want once each)", rep.Passes[0].Runs, rep.Passes[0].Changed)
	}
	if got := zeroPattern(floatsOf(t, m.Graph.Lookup("W1"))); got != "100100" {
		t.Errorf("W1 mask %s, want 100100", got)
	}
	// With a cleanup after it the manager repeats rounds; prune must not prune again.
	m2 := newBuilder(t, 17).Input("X", ir.Float, 1, 2, 4, 4).
		Floats("W", []int64{4, 2, 1, 1}, 1, 1, 0.1, 0.1, 2, 2, 0.5, 0.5).
		Floats("W2", []int64{1, 4, 1, 1}, 1, 1, 1, 1).
		Node("Conv", "X,W", "C").Node("Identity", "C", "I").Node("Conv", "I,W2", "Y").Output("Y").Model()
	runPasses(t, m2, "prune:sparsity=0.5:pattern=channel,eliminate_identity")
	if d := constOf(m2.Graph.Lookup("W")).Dims; d[0] != 2 {
		t.Errorf("channel pruning in a repeated pipeline left %v, want 2 channels", d)
	}
	for _, bad := range []string{"prune:sparsity=1", "prune:scope=all", "prune:pattern=4/2", "prune:norm=l3",
		"prune:pattern=2/4:scope=global", "prune:per_layer=x", "prune:bogus=1"} {
		if _, err := ParsePipeline(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	p, err := ParsePipeline("prune:pattern=2/4:exclude=a;b*:per_layer=c=0.3")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := ParsePruneParams(p[0].Params)
	if err != nil || opts.N != 2 || opts.M != 4 || opts.Sparsity != 0.5 || len(opts.Exclude) != 2 || opts.PerLayer[0].Sparsity != 0.3 {
		t.Errorf("parsed %+v, %v", opts, err)
	}
	back, err := ParsePruneParams(opts.Params())
	if err != nil || fmt.Sprint(back) != fmt.Sprint(opts) {
		t.Errorf("Params round trip: %+v -> %+v (%v)", opts, back, err)
	}
}

func TestPruneReport(t *testing.T) {
	m := twoGemms(t, []float32{0.5, -0.1, 0.3, -0.7, 0.2, 0.05}, []float32{1, -2, 0.01, 3, -0.02, 0.5, 0.4, -0.03, 2, 1.5})
	rep := mustPrune(t, m, DefaultPruneOptions())
	if rep.Before.Nonzero != rep.Before.Params || rep.After.Nonzero != rep.Before.Params-8 {
		t.Errorf("nonzero params %d -> %d of %d, want 8 fewer", rep.Before.Nonzero, rep.After.Nonzero, rep.Before.Params)
	}
	// Batch-1 MACs: 3*2 + 2*5.
	if rep.Before.MACs != 16 || rep.After.MACs != 16 || !rep.After.MACsComplete {
		t.Errorf("MACs %d -> %d (complete %v), want 16 -> 16", rep.Before.MACs, rep.After.MACs, rep.After.MACsComplete)
	}
	l := rep.Layers[0]
	if l.Node != "Gemm_H" || l.Target == nil || *l.Target != 0.5 || l.SparsityAfter != 0.5 || l.Sparsity != 0 {
		t.Errorf("layer report %+v", l)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Gemm_H", "0.0% -> 50.0%", "MACs (batch 1)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, text.String())
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}

// TestPruneOwnsData: with Context.OwnsData, float32 weights are pruned in their own bytes
// (no copy), to the same result and with the same log as without; a kept Original (which
// shares the bytes) turns it off.
func TestPruneOwnsData(t *testing.T) {
	w1 := []float32{0.5, -0.1, 0.3, -0.7, 0.2, 0.05, 0.4, -0.6}
	w2 := []float32{1, -2, 0.01, 3, -0.02, 0.5, 0.4, -0.03, 2, 1.5}
	for _, tt := range []struct {
		name     string
		opts     PruneOptions
		owns     bool
		original bool
		inPlace  bool
	}{
		{name: "layer, copied", opts: PruneOptions{Sparsity: 0.5, Scope: ScopeLayer, Pattern: PatternUnstructured}},
		{name: "layer, in place", opts: PruneOptions{Sparsity: 0.5, Scope: ScopeLayer, Pattern: PatternUnstructured}, owns: true, inPlace: true},
		{name: "global, in place", opts: PruneOptions{Sparsity: 0.5, Scope: ScopeGlobal, Pattern: PatternUnstructured}, owns: true, inPlace: true},
		{name: "2:4, in place", opts: PruneOptions{Pattern: PatternNM, N: 2, M: 4}, owns: true, inPlace: true},
		{name: "original kept", opts: PruneOptions{Sparsity: 0.5, Scope: ScopeLayer, Pattern: PatternUnstructured}, owns: true, original: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultPruneOptions()
			opts.Sparsity, opts.Scope, opts.Pattern, opts.N, opts.M = tt.opts.Sparsity, tt.opts.Scope, tt.opts.Pattern, tt.opts.N, tt.opts.M
			if opts.Scope == "" {
				opts.Scope = ScopeLayer
			}
			build := func() *ir.Model {
				// W1 is [4, 2]: 2:4 groups run along the reduction axis.
				return newBuilder(t, 17).Input("X", ir.Float, 1, 4).
					Floats("W1", []int64{4, 2}, w1...).Floats("W2", []int64{2, 5}, w2...).
					Node("Gemm", "X,W1", "H").Node("Gemm", "H,W2", "Y").Output("Y").Model()
			}
			want := build()
			wantCtx := &Context{VerifyEach: true}
			if _, err := Prune(wantCtx, want, opts); err != nil {
				t.Fatal(err)
			}
			m := build()
			w1Bytes := constOf(m.Graph.Lookup("W1")).Raw
			orig := bytes.Clone(w1Bytes)
			ctx := &Context{VerifyEach: true, OwnsData: tt.owns}
			if tt.original {
				ctx.Original = m.Clone()
			}
			if _, err := Prune(ctx, m, opts); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"W1", "W2"} {
				if got, w := fmt.Sprint(floatsOf(t, m.Graph.Lookup(name))), fmt.Sprint(floatsOf(t, want.Graph.Lookup(name))); got != w {
					t.Errorf("%s = %s, want %s", name, got, w)
				}
			}
			if changed := !bytes.Equal(w1Bytes, orig); changed != tt.inPlace {
				t.Errorf("W1's original bytes changed: %v, want %v", changed, tt.inPlace)
			}
			if got, w := fmt.Sprint(ctx.Log.Changes), fmt.Sprint(wantCtx.Log.Changes); got != w {
				t.Errorf("log:\n%s\nwant:\n%s", got, w)
			}
		})
	}
}

// TestPruneOwnsDataSharedBytes: two initializers holding the same bytes (as a clone
// leaves them) are pruned into copies even with OwnsData, so neither changes the other
// behind the log's back.
func TestPruneOwnsDataSharedBytes(t *testing.T) {
	m := newBuilder(t, 17).Input("X", ir.Float, 1, 4).
		Floats("W1", []int64{4, 4}, 0.5, -0.1, 0.3, -0.7, 0.2, 0.05, 0.4, -0.6, 1, -2, 0.01, 3, -0.02, 0.5, 0.4, -0.03).
		Floats("W2", []int64{4, 4}, make([]float32, 16)...).
		Node("MatMul", "X,W1", "H").Node("MatMul", "H,W2", "Y").Output("Y").Model()
	w1, w2 := m.Graph.Lookup("W1"), m.Graph.Lookup("W2")
	w2.Const = w1.Const.Clone() // W2 shares W1's bytes
	w2.Const.Name = "W2"
	shared := w1.Const.Raw
	orig := bytes.Clone(shared)
	if _, err := Prune(&Context{VerifyEach: true, OwnsData: true}, m, DefaultPruneOptions()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, orig) {
		t.Error("the shared bytes were overwritten")
	}
	if got, want := zeroPattern(floatsOf(t, w1)), zeroPattern(floatsOf(t, w2)); got != want || !strings.Contains(got, "1") {
		t.Errorf("W1 zeros %s, W2 zeros %s: want the same, some", got, want)
	}
}

package passes

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/provenance"
)

// registerTestPass registers a pass for one test and removes it afterwards.
func registerTestPass(t *testing.T, name string, run func(ctx *Context, m *ir.Model) (bool, error)) {
	Register(Info{Name: name, Doc: "test", New: noParams(name, run)})
	t.Cleanup(func() { delete(registry, name) })
}

func smallModel(t *testing.T) *ir.Model {
	return newBuilder(t, 13).Input("X", ir.Float, 2).Node("Identity", "X", "A").Node("Abs", "A", "Y").Output("Y").Model()
}

func TestRunNamesThePassThatBreaksTheIR(t *testing.T) {
	registerTestPass(t, "break_edges", func(ctx *Context, m *ir.Model) (bool, error) {
		// Removing a node directly, behind the rewriter's back, leaves a reader dangling.
		n := m.Graph.Nodes()[1]
		n.SetInput(0, m.Graph.Inputs[0])
		m.Graph.Nodes()[0].Output(0).Name = "Y" // a duplicate name
		newRewriter(ctx, m).record(Change{Kind: NodeChanged})
		return true, nil
	})
	p, _ := ParsePipeline("eliminate_dead,break_edges")
	_, err := Run(&Context{VerifyEach: true}, smallModel(t), p)
	if err == nil || !strings.Contains(err.Error(), "pass break_edges (round 1) left an invalid IR") ||
		!strings.Contains(err.Error(), "defined twice") {
		t.Fatalf("error = %v", err)
	}
}

func TestRunChecksChangedAgainstTheLog(t *testing.T) {
	registerTestPass(t, "silent_change", func(ctx *Context, m *ir.Model) (bool, error) {
		newRewriter(ctx, m).setAttr(m.Graph.Nodes()[1], ir.IntAttr("x", 1))
		return false, nil
	})
	p, _ := ParsePipeline("silent_change")
	_, err := Run(&Context{VerifyEach: true}, smallModel(t), p)
	if err == nil || !strings.Contains(err.Error(), "reported changed=false but logged 1 changes") {
		t.Fatalf("error = %v", err)
	}
}

func TestRunRepeatsUntilNothingChanges(t *testing.T) {
	calls := 0
	registerTestPass(t, "count_down", func(ctx *Context, m *ir.Model) (bool, error) {
		calls++
		if calls < 3 {
			newRewriter(ctx, m).record(Change{Kind: NodeChanged})
			return true, nil
		}
		return false, nil
	})
	m := smallModel(t)
	p, _ := ParsePipeline("count_down,eliminate_identity")
	rep, err := Run(&Context{VerifyEach: true}, m, p)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Converged || rep.Iterations != 3 || calls != 3 {
		t.Errorf("converged=%v after %d rounds, %d calls; want 3 rounds", rep.Converged, rep.Iterations, calls)
	}
	// eliminate_identity is a fixed-point pass: it runs in rounds 1 and 2 (count_down
	// changed something before it) and is skipped in round 3, where nothing changed.
	if pr := rep.Passes[1]; pr.Runs != 2 || pr.Changed != 1 || pr.Changes[NodeRemoved] != 1 {
		t.Errorf("eliminate_identity report = %+v", pr)
	}
	if got := ops(m); got != "Abs" {
		t.Errorf("ops = %q", got)
	}
}

func TestRunRecordsPipelineAndChangeLog(t *testing.T) {
	m := smallModel(t)
	p, _ := ParsePipeline("eliminate_identity,fold_constants:max_bytes=10")
	ctx := &Context{VerifyEach: true, ToolVersion: "v-test"}
	if _, err := Run(ctx, m, p); err != nil {
		t.Fatal(err)
	}
	// A second run appends to the history.
	if _, err := Run(&Context{ToolVersion: "v2"}, m, Default()); err != nil {
		t.Fatal(err)
	}
	raw, ok := m.MetadataValue(MetaPasses)
	if !ok {
		t.Fatal("no whittle.passes metadata")
	}
	var history []provenance.Applied
	if err := json.Unmarshal([]byte(raw), &history); err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || history[0].Version != "v-test" || history[0].Pipeline.String() != p.String() ||
		history[1].Pipeline.String() != Default().String() {
		t.Errorf("history = %s", raw)
	}
	// The first run's log names the removed Identity; the stored log is the last run's.
	found := false
	for _, c := range ctx.Log.Changes {
		if c.Pass == "eliminate_identity" && c.Kind == NodeRemoved && c.Op == "Identity" {
			found = true
		}
	}
	if !found {
		t.Errorf("log lacks the Identity removal: %+v", ctx.Log.Changes)
	}
	if raw, ok := m.MetadataValue(MetaChangeLog); !ok || !strings.HasPrefix(raw, `{"changes":`) {
		t.Errorf("whittle.changelog = %q", raw)
	}
}

func TestChangeLogCap(t *testing.T) {
	log := &ChangeLog{}
	for i := 0; i < 1000; i++ {
		log.Add(Change{Pass: "p", Kind: NodeRemoved, Node: strings.Repeat("n", 50)})
	}
	b, err := log.MarshalCapped(10_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 10_000 {
		t.Errorf("capped log is %d bytes", len(b))
	}
	back, truncated, err := ParseChangeLog(b)
	if err != nil {
		t.Fatal(err)
	}
	if truncated == 0 || back.Len()+truncated != 1000 {
		t.Errorf("kept %d, truncated %d of 1000", back.Len(), truncated)
	}
	full, _ := log.MarshalCapped(1 << 20)
	if back, truncated, _ := ParseChangeLog(full); truncated != 0 || back.Len() != 1000 {
		t.Errorf("uncapped log lost changes")
	}
}

func TestRunWarnsWithoutEvaluator(t *testing.T) {
	rep, err := Run(&Context{}, smallModel(t), Pipeline{{Pass: "fold_constants"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 {
		t.Errorf("warnings %v, want one about the missing evaluator", rep.Warnings)
	}
	rep, err = Run(&Context{Eval: fakeEval{}}, smallModel(t), Pipeline{{Pass: "fold_constants"}})
	if err != nil || len(rep.Warnings) != 0 {
		t.Errorf("with an evaluator: %v, %v", rep.Warnings, err)
	}
}

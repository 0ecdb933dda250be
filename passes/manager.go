package passes

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/provenance"
)

// Metadata keys Run writes into the model's metadata_props (see package provenance).
const (
	MetaPasses    = provenance.MetaPasses
	MetaChangeLog = provenance.MetaChangeLog
)

// PassReport is what one step of the pipeline did over the whole run.
type PassReport struct {
	Pass   string `json:"pass"`
	Params Params `json:"params,omitempty"`
	// Runs counts how often the pass ran; Changed how many of those runs changed the model.
	Runs    int                `json:"runs"`
	Changed int                `json:"changed"`
	Changes map[ChangeKind]int `json:"changes,omitempty"`
	Seconds float64            `json:"seconds"`
}

// Report is what Run did.
type Report struct {
	Pipeline   string `json:"pipeline"`
	Iterations int    `json:"iterations"`
	// Converged says the last round changed nothing (false: MaxIterations was reached).
	Converged bool         `json:"converged"`
	Passes    []PassReport `json:"passes"`
	Changes   int          `json:"changes"`
	// Warnings say what the run could not do as asked (fold_constants without an
	// evaluator folds only what needs no kernel).
	Warnings []string `json:"warnings,omitempty"`
}

// Run applies pipeline p to m in place, round after round until a round changes nothing
// (at most ctx.MaxIterations rounds). A pass flagged FixedPoint is skipped when nothing
// changed since it last ran. With ctx.VerifyEach the IR is verified after every pass, and a
// pass whose "changed" answer disagrees with what it logged is an error; either names the
// pass. On success the pipeline and change log are recorded in m's metadata.
func Run(ctx *Context, m *ir.Model, p Pipeline) (*Report, error) {
	passes, err := p.Build()
	if err != nil {
		return nil, err
	}
	if m == nil || m.Graph == nil {
		return nil, fmt.Errorf("optimize: model has no graph")
	}
	for _, st := range p {
		if registry[st.Pass].NeedsOriginal && ctx.Original == nil {
			ctx.Original = m.Clone()
			break
		}
	}
	log := ctx.log()
	start := log.Len()
	rep := &Report{Pipeline: p.String()}
	for _, st := range p {
		rep.Passes = append(rep.Passes, PassReport{Pass: st.Pass, Params: st.Params, Changes: map[ChangeKind]int{}})
		if st.Pass == "fold_constants" && ctx.evaluator() == nil {
			rep.Warnings = append(rep.Warnings, "fold_constants has no evaluator (Context.Eval, or import package whittle): it folds only Constant nodes and static Shape/Size")
		}
	}
	maxIter := ctx.MaxIterations
	if maxIter <= 0 {
		maxIter = DefaultMaxIterations
	}
	// seen[i] is the log length when step i last finished: unchanged since means a
	// fixed-point pass has nothing to do.
	seen := make([]int, len(passes))
	for i := range seen {
		seen[i] = -1
	}
	for iter := 1; iter <= maxIter; iter++ {
		rep.Iterations = iter
		round := false
		for i, ps := range passes {
			info := registry[p[i].Pass]
			if info.FixedPoint && seen[i] == log.Len() {
				continue
			}
			before := log.Len()
			ctx.pass = ps.Name()
			t0 := time.Now()
			changed, err := ps.Run(ctx, m)
			pr := &rep.Passes[i]
			pr.Seconds += time.Since(t0).Seconds()
			pr.Runs++
			if err != nil {
				return rep, fmt.Errorf("pass %s (round %d): %w", ps.Name(), iter, err)
			}
			logged := log.Len() - before
			if ctx.VerifyEach {
				if changed != (logged > 0) {
					return rep, fmt.Errorf("pass %s (round %d) reported changed=%v but logged %d changes", ps.Name(), iter, changed, logged)
				}
				if err := m.Verify(); err != nil {
					return rep, fmt.Errorf("pass %s (round %d) left an invalid IR:\n%w", ps.Name(), iter, err)
				}
			}
			if changed || logged > 0 {
				pr.Changed++
				round = true
			}
			for k, n := range log.Counts(before)[ps.Name()] {
				pr.Changes[k] += n
			}
			seen[i] = log.Len()
		}
		if !round {
			rep.Converged = true
			break
		}
	}
	ctx.pass = ""
	rep.Changes = log.Len() - start
	pruneValueInfo(m)
	if err := recordMetadata(ctx, m, p, &ChangeLog{Changes: log.Changes[start:]}); err != nil {
		return rep, err
	}
	return rep, nil
}

// recordMetadata appends the pipeline to MetaPasses and stores the change log.
func recordMetadata(ctx *Context, m *ir.Model, p Pipeline, log *ChangeLog) error {
	version := ctx.ToolVersion
	if version == "" {
		version = buildVersion()
	}
	return provenance.Record(m, version, provenance.Steps(p), log)
}

func buildVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// pruneValueInfo drops value_info entries of values that no longer exist (removed nodes'
// outputs, removed initializers) and repeats, so that the file written lists only live
// values.
func pruneValueInfo(m *ir.Model) {
	for _, g := range m.Graphs() {
		if len(g.ValueInfoOrder) == 0 {
			continue
		}
		live := map[*ir.Value]bool{}
		for _, v := range g.Inputs {
			live[v] = true
		}
		for _, v := range g.Initializers {
			live[v] = true
		}
		for _, n := range g.Nodes() {
			for _, v := range n.Outputs() {
				if v != nil {
					live[v] = true
				}
			}
		}
		kept := g.ValueInfoOrder[:0]
		for _, v := range g.ValueInfoOrder {
			if live[v] {
				kept = append(kept, v)
				delete(live, v)
			}
		}
		g.ValueInfoOrder = kept
	}
}

package passes

import (
	"fmt"
	"sort"

	"github.com/whittle-ml/whittle/ir"
)

// Budget drives FitQuantizationBudget. Score measures a quantized model (higher is
// better: accuracy in percent, SQNR in dB); Meets says whether a score is within budget.
// Package passes never runs models, so the caller supplies both.
type Budget struct {
	Score func(m *ir.Model) (float64, error)
	Meets func(score float64) bool
	// MaxFloat bounds how many layers may be left float (0: no bound).
	MaxFloat int
	// Progress, when set, is told about every evaluation (for a progress display).
	Progress func(step string)
}

// LayerCost is one layer's sensitivity: how much the score improves when only it stays
// float, all else quantized.
type LayerCost struct {
	Node string  `json:"node"`
	Op   string  `json:"op"`
	Gain float64 `json:"gain"`
}

// BudgetStep is the score after leaving one more layer float.
type BudgetStep struct {
	KeptFloat []string `json:"kept_float"`
	Score     float64  `json:"score"`
}

// BudgetResult is what FitQuantizationBudget found.
type BudgetResult struct {
	// FullScore is the score with every layer quantized.
	FullScore float64 `json:"full_score"`
	// Sensitivity lists every candidate layer, most sensitive first.
	Sensitivity []LayerCost `json:"sensitivity"`
	// Steps are the greedy additions, in order.
	Steps []BudgetStep `json:"steps"`
	// KeptFloat are the layers left float in the final model; Score its score.
	KeptFloat []string `json:"kept_float"`
	Score     float64  `json:"score"`
	Met       bool     `json:"met"`
	Report    *QuantizeReport
}

// FitQuantizationBudget quantizes base statically (as QuantizeStatic with ranges) and,
// while the result misses the budget, leaves layers float: it first measures each
// candidate layer's sensitivity by leaving it alone float (leave-one-out), then adds the
// layers to opts.Exclude from the most sensitive on, scoring after each, until the
// budget holds or MaxFloat is reached. It returns the final model (a quantized copy of
// base; base itself is not changed) and what each layer cost.
func FitQuantizationBudget(ctx *Context, base *ir.Model, opts QuantizeOptions, ranges map[string]Range, b Budget) (*ir.Model, *BudgetResult, error) {
	if b.Score == nil || b.Meets == nil {
		return nil, nil, fmt.Errorf("quantize: budget needs a score and a test")
	}
	say := func(format string, args ...any) {
		if b.Progress != nil {
			b.Progress(fmt.Sprintf(format, args...))
		}
	}
	build := func(exclude []string, c *Context) (*ir.Model, *QuantizeReport, error) {
		m := base.Clone()
		o := opts
		o.Exclude = append(append([]string(nil), opts.Exclude...), exclude...)
		if c == nil {
			c = &Context{}
		}
		rep, err := QuantizeStatic(c, m, o, ranges)
		return m, rep, err
	}
	plan, err := PlanQuantization(base.Clone(), opts)
	if err != nil {
		return nil, nil, err
	}
	say("scoring the fully quantized model")
	full, rep, err := build(nil, nil)
	if err != nil {
		return nil, nil, err
	}
	res := &BudgetResult{}
	if res.FullScore, err = b.Score(full); err != nil {
		return nil, nil, err
	}
	res.Score, res.Report = res.FullScore, rep
	if b.Meets(res.FullScore) {
		res.Met = true
		return rebuild(ctx, build, nil, res)
	}
	ops := map[string]string{}
	for _, n := range plan.order {
		ops[nodeLabel(n)] = opLabel(n)
	}
	cands := plan.SensitivityCandidates()
	for i, name := range cands {
		say("sensitivity %d/%d: %s", i+1, len(cands), name)
		m, _, err := build([]string{name}, nil)
		if err != nil {
			return nil, nil, err
		}
		s, err := b.Score(m)
		if err != nil {
			return nil, nil, err
		}
		res.Sensitivity = append(res.Sensitivity, LayerCost{Node: name, Op: ops[name], Gain: s - res.FullScore})
	}
	sort.SliceStable(res.Sensitivity, func(i, j int) bool { return res.Sensitivity[i].Gain > res.Sensitivity[j].Gain })
	var kept []string
	for _, lc := range res.Sensitivity {
		if b.MaxFloat > 0 && len(kept) >= b.MaxFloat {
			break
		}
		kept = append(kept, lc.Node)
		say("leaving %d layer(s) float", len(kept))
		m, _, err := build(kept, nil)
		if err != nil {
			return nil, nil, err
		}
		s, err := b.Score(m)
		if err != nil {
			return nil, nil, err
		}
		res.Steps = append(res.Steps, BudgetStep{KeptFloat: append([]string(nil), kept...), Score: s})
		res.KeptFloat, res.Score = append([]string(nil), kept...), s
		if b.Meets(s) {
			res.Met = true
			break
		}
	}
	return rebuild(ctx, build, res.KeptFloat, res)
}

// rebuild quantizes the final choice once more with the caller's context, so that its
// change log describes the model returned.
func rebuild(ctx *Context, build func([]string, *Context) (*ir.Model, *QuantizeReport, error), kept []string, res *BudgetResult) (*ir.Model, *BudgetResult, error) {
	m, rep, err := build(kept, ctx)
	if err != nil {
		return nil, nil, err
	}
	res.Report = rep
	return m, res, nil
}

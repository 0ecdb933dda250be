package distill

import (
	"fmt"
	"strconv"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
)

// lowRankStudent factorizes a copy of t: at rank=, energy=, or the largest energy whose
// factorization meets params= (from the layers' singular values, computed once).
func lowRankStudent(ctx *passes.Context, t *ir.Model, spec Spec) (*ir.Model, *passes.LowRankReport, string, error) {
	opts := passes.DefaultLowRankOptions()
	if v, ok := spec.Params["min_size"]; ok {
		n, _ := strconv.ParseInt(v, 10, 64)
		opts.MinSize = n
	}
	search := ""
	if v, ok := spec.Params["rank"]; ok {
		opts.Rank, _ = strconv.Atoi(v)
		search = "rank " + v
	} else if e, ok, _ := spec.fraction("energy"); ok {
		opts.Energy = e
		search = fmt.Sprintf("energy %.4g", e)
	} else if p, ok, _ := spec.fraction("params"); ok {
		spectra, err := passes.SingularValues(t, opts)
		if err != nil {
			return nil, nil, "", fmt.Errorf("lowrank: %w", err)
		}
		total := passes.Summarize(t).Params
		saved := func(e float64) int64 {
			var s int64
			for _, l := range spectra {
				r, _ := passes.ChooseRank(l.Values, e)
				s += l.Saved(r)
			}
			return s
		}
		need := total - int64(p*float64(total))
		if most := saved(0); most < need {
			return nil, nil, "", &BudgetError{What: "parameters", Target: p, Reached: float64(total-most) / float64(total),
				Why: fmt.Sprintf("%d layers can be factorized, every one at rank 1", len(spectra))}
		}
		lo, hi := 0.0, 1.0
		for i := 0; i < 50; i++ {
			mid := (lo + hi) / 2
			if saved(mid) >= need {
				lo = mid
			} else {
				hi = mid
			}
		}
		opts.Energy = max(lo, 1e-9)
		search = fmt.Sprintf("energy %.6g keeps %d of %d parameters (target %.4g)", opts.Energy, total-saved(opts.Energy), total, p)
	} else {
		search = fmt.Sprintf("energy %.4g", opts.Energy)
	}
	m := t.Clone()
	rep, err := passes.FactorizeLowRank(ctx, m, opts)
	if err != nil {
		return nil, nil, "", err
	}
	if !rep.Changed {
		why := "no Gemm, MatMul or 1x1 Conv with a constant weight"
		for _, l := range rep.Layers {
			if l.Skipped != "" {
				why = l.Node + ": " + l.Skipped
				break
			}
		}
		return nil, nil, "", fmt.Errorf("lowrank: no layer factorized (%s)", why)
	}
	return m, rep, search, nil
}

package distill

import (
	"fmt"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
)

// maxSparsity is the most channel pruning an auto student searches.
const maxSparsity = 0.99

// pruneOptions are the channel-pruning options of an auto spec at sparsity s.
func pruneOptions(spec Spec, s float64) passes.PruneOptions {
	o := passes.DefaultPruneOptions()
	o.Pattern, o.Sparsity = passes.PatternChannel, s
	if a := spec.Params["attention"]; a != "" {
		o.Attention = a
	}
	if n := spec.Params["norm"]; n != "" {
		o.Norm = n
	}
	return o
}

// autoStudent channel-prunes a copy of t: to width= directly, or to the smallest uniform
// sparsity that meets macs= or params= (found by bisection: the share falls, in steps, as
// the sparsity grows).
func autoStudent(ctx *passes.Context, t *ir.Model, spec Spec) (*ir.Model, *passes.PruneReport, string, error) {
	var s float64
	search := ""
	if w, ok, _ := spec.fraction("width"); ok {
		s = 1 - w
	} else {
		what, key := "MACs", "macs"
		if _, ok, _ := spec.fraction("params"); ok {
			what, key = "parameters", "params"
		}
		target, _, _ := spec.fraction(key)
		share := func(s float64) (float64, *passes.PruneReport, error) {
			c := t.Clone()
			rep, err := passes.Prune(&passes.Context{}, c, pruneOptions(spec, s))
			if err != nil {
				return 0, nil, err
			}
			if key == "macs" {
				if !rep.Before.MACsComplete || rep.Before.MACs == 0 {
					return 0, nil, fmt.Errorf("auto: the teacher's MACs are unknown (shapes not inferred); use params= or width=")
				}
				return float64(rep.After.MACs) / float64(rep.Before.MACs), rep, nil
			}
			return float64(rep.After.Params) / float64(rep.Before.Params), rep, nil
		}
		best, rep, err := share(maxSparsity)
		if err != nil {
			return nil, nil, "", err
		}
		if best > target {
			return nil, nil, "", &BudgetError{What: what, Target: target, Reached: best, Why: leftWhole(rep)}
		}
		lo, hi := 0.0, maxSparsity
		if r, _, err := share(0); err != nil {
			return nil, nil, "", err
		} else if r <= target {
			hi = 0
		}
		for i := 0; i < 24 && hi-lo > 1e-4; i++ {
			mid := (lo + hi) / 2
			r, _, err := share(mid)
			if err != nil {
				return nil, nil, "", err
			}
			if r <= target {
				hi = mid
			} else {
				lo = mid
			}
		}
		s = hi
		r, _, _ := share(s)
		search = fmt.Sprintf("channel sparsity %.4f leaves %.4g of the teacher's %s (target %.4g)", s, r, what, target)
	}
	m := t.Clone()
	rep, err := passes.Prune(ctx, m, pruneOptions(spec, s))
	if err != nil {
		return nil, nil, "", err
	}
	if !rep.Changed && s > 0 {
		return nil, nil, "", fmt.Errorf("auto: no channel can be pruned (%s)", leftWhole(rep))
	}
	if search == "" {
		search = fmt.Sprintf("channel sparsity %.4g", s)
	}
	return m, rep, search, nil
}

// leftWhole summarizes why channel groups were left whole.
func leftWhole(rep *passes.PruneReport) string {
	if rep == nil {
		return ""
	}
	var whole, reasons []string
	n := 0
	for _, g := range rep.Groups {
		if len(g.Skipped) == 0 {
			continue
		}
		n++
		if len(whole) < 3 {
			whole = append(whole, strings.Join(g.Members, ","))
			reasons = append(reasons, g.Skipped[0])
		}
	}
	if n == 0 {
		return "every channel group is pruned as far as it goes"
	}
	parts := make([]string, len(whole))
	for i := range whole {
		parts[i] = whole[i] + ": " + reasons[i]
	}
	return fmt.Sprintf("%d of %d channel groups cannot be pruned, e.g. %s", n, len(rep.Groups), strings.Join(parts, "; "))
}

package optim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Schedule gives the learning-rate factor of a step (0-based) out of total steps; the
// rate of the step is the base rate times the factor.
type Schedule interface {
	Factor(step, total int) float64
	String() string
}

// Constant keeps the base rate (after an optional linear warm-up).
type Constant struct{ Warmup int }

// Factor implements Schedule.
func (s Constant) Factor(step, _ int) float64 { return warm(step, s.Warmup, 1) }

func (s Constant) String() string { return "constant" + warmSuffix(s.Warmup) }

// StepDecay multiplies the rate by Gamma every Every steps.
type StepDecay struct {
	Every  int
	Gamma  float64
	Warmup int
}

// Factor implements Schedule.
func (s StepDecay) Factor(step, _ int) float64 {
	f := 1.0
	if s.Every > 0 {
		f = math.Pow(s.Gamma, float64(step/s.Every))
	}
	return warm(step, s.Warmup, f)
}

func (s StepDecay) String() string {
	return fmt.Sprintf("step:every=%d:gamma=%g%s", s.Every, s.Gamma, warmSuffix(s.Warmup))
}

// Cosine rises linearly over Warmup steps, then follows half a cosine from 1 toward Min
// over the remaining steps, as torch's CosineAnnealingLR with T_max = those steps.
type Cosine struct {
	Warmup int
	Min    float64
}

// Factor implements Schedule.
func (s Cosine) Factor(step, total int) float64 {
	if step < s.Warmup {
		return warm(step, s.Warmup, 1)
	}
	span := total - s.Warmup
	if span <= 0 {
		return 1
	}
	t := float64(step-s.Warmup) / float64(span)
	return s.Min + (1-s.Min)*0.5*(1+math.Cos(math.Pi*math.Min(t, 1)))
}

func (s Cosine) String() string {
	out := "cosine" + warmSuffix(s.Warmup)
	if s.Min != 0 {
		out += fmt.Sprintf(":min=%g", s.Min)
	}
	return out
}

// warm scales f by (step+1)/warmup during the warm-up steps.
func warm(step, warmup int, f float64) float64 {
	if step < warmup {
		return f * float64(step+1) / float64(warmup)
	}
	return f
}

func warmSuffix(w int) string {
	if w == 0 {
		return ""
	}
	return fmt.Sprintf(":warmup=%d", w)
}

// ParseSchedule reads "constant", "cosine", "step" with optional ":key=value" settings
// (warmup=STEPS, min=FACTOR for cosine, every=STEPS and gamma=G for step).
func ParseSchedule(s string) (Schedule, error) {
	parts := strings.Split(s, ":")
	kv := map[string]float64{}
	for _, p := range parts[1:] {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("schedule %q: %q is not key=value", s, p)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("schedule %q: %s: %v", s, k, err)
		}
		kv[k] = f
	}
	take := func(allowed ...string) error {
		for k := range kv {
			ok := false
			for _, a := range allowed {
				ok = ok || a == k
			}
			if !ok {
				return fmt.Errorf("schedule %q: unknown setting %q (valid: %s)", s, k, strings.Join(allowed, ", "))
			}
		}
		return nil
	}
	warmup := int(kv["warmup"])
	switch parts[0] {
	case "constant", "":
		return Constant{Warmup: warmup}, take("warmup")
	case "cosine":
		return Cosine{Warmup: warmup, Min: kv["min"]}, take("warmup", "min")
	case "step":
		g, ok := kv["gamma"]
		if !ok {
			g = 0.1
		}
		if kv["every"] <= 0 {
			return nil, fmt.Errorf("schedule %q: step decay needs every=STEPS", s)
		}
		return StepDecay{Every: int(kv["every"]), Gamma: g, Warmup: warmup}, take("warmup", "every", "gamma")
	}
	return nil, fmt.Errorf("unknown schedule %q (valid: constant, cosine, step)", parts[0])
}

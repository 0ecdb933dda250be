package compare

import (
	"fmt"
	"math"
)

// Tolerance is what a comparison must meet. A zero field checks nothing: Atol and Rtol
// together form the allclose test (active when either is set), MinSQNR a floor in dB.
type Tolerance struct {
	Atol, Rtol float64
	MinSQNR    float64
	// HasMinSQNR says MinSQNR is set (0 dB is a legal floor).
	HasMinSQNR bool
}

func (t Tolerance) elementwise() bool { return t.Atol > 0 || t.Rtol > 0 }

// Stats accumulates the error of a tensor (B) against a reference (A) over batches.
type Stats struct {
	Name string `json:"name"`
	// Elements compared so far.
	N int64 `json:"elements"`
	// MaxAbs is max|b-a|; MaxRef is max|a|.
	MaxAbs float64 `json:"max_abs_error"`
	MaxRef float64 `json:"max_abs_reference"`
	sumAbs float64
	sumSqE float64
	sumSqA float64
	sumSqB float64
	dot    float64
	// Violations counts elements outside atol + rtol·|a| (when a tolerance is set).
	Violations int64 `json:"violations"`
	// NaNMismatch counts elements where exactly one side is NaN.
	NaNMismatch int64 `json:"nan_mismatch"`
	// Rows is the number of classifier rows ([N, C] outputs) seen; Top1 and Top5 count
	// those where A's top class is B's top class, and among B's top five.
	Rows int64 `json:"rows,omitempty"`
	Top1 int64 `json:"top1_agree,omitempty"`
	Top5 int64 `json:"top5_agree,omitempty"`
	// Problem records a shape or type mismatch that stopped the comparison.
	Problem string `json:"problem,omitempty"`
}

// Add compares one batch: b against the reference a, of the given shape.
func (s *Stats) Add(a, b []float64, shape []int64, tol Tolerance) {
	if len(a) != len(b) {
		s.Problem = fmt.Sprintf("%d elements against %d", len(b), len(a))
		return
	}
	for i := range a {
		x, y := a[i], b[i]
		if math.IsNaN(x) || math.IsNaN(y) {
			if math.IsNaN(x) != math.IsNaN(y) {
				s.NaNMismatch++
				s.Violations++
			}
			continue
		}
		d := math.Abs(y - x)
		s.MaxAbs = math.Max(s.MaxAbs, d)
		s.MaxRef = math.Max(s.MaxRef, math.Abs(x))
		s.sumAbs += d
		s.sumSqE += d * d
		s.sumSqA += x * x
		s.sumSqB += y * y
		s.dot += x * y
		if tol.elementwise() && d > tol.Atol+tol.Rtol*math.Abs(x) {
			s.Violations++
		}
	}
	s.N += int64(len(a))
	if len(shape) == 2 && shape[1] >= 2 {
		rows, cols := int(shape[0]), int(shape[1])
		for r := 0; r < rows; r++ {
			ra, rb := a[r*cols:(r+1)*cols], b[r*cols:(r+1)*cols]
			top := argmax(ra)
			s.Rows++
			if argmax(rb) == top {
				s.Top1++
			}
			if inTopK(rb, top, 5) {
				s.Top5++
			}
		}
	}
}

// MeanAbs is the mean absolute error.
func (s *Stats) MeanAbs() float64 {
	if s.N == 0 {
		return 0
	}
	return s.sumAbs / float64(s.N)
}

// MaxRel is max|b-a| / max|a| (0 when both are 0).
func (s *Stats) MaxRel() float64 {
	if s.MaxRef == 0 {
		if s.MaxAbs == 0 {
			return 0
		}
		return math.Inf(1)
	}
	return s.MaxAbs / s.MaxRef
}

// Cosine is the cosine similarity of the two tensors over every batch (1 when both are
// zero).
func (s *Stats) Cosine() float64 {
	if s.sumSqA == 0 && s.sumSqB == 0 {
		return 1
	}
	if s.sumSqA == 0 || s.sumSqB == 0 {
		return 0
	}
	return s.dot / math.Sqrt(s.sumSqA*s.sumSqB)
}

// SQNR is 10·log10(Σa² / Σ(b-a)²) in dB: +Inf when B equals A exactly.
func (s *Stats) SQNR() float64 {
	if s.sumSqE == 0 {
		return math.Inf(1)
	}
	if s.sumSqA == 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(s.sumSqA/s.sumSqE)
}

// Top1Agreement and Top5Agreement are fractions of classifier rows (NaN without rows).
func (s *Stats) Top1Agreement() float64 { return frac(s.Top1, s.Rows) }

// Top5Agreement is the share of rows where A's top class is among B's five best.
func (s *Stats) Top5Agreement() float64 { return frac(s.Top5, s.Rows) }

func frac(a, b int64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// Failures lists what in s breaks tol (empty when it holds).
func (s *Stats) Failures(tol Tolerance) []string {
	var out []string
	if s.Problem != "" {
		out = append(out, s.Problem)
	}
	if tol.elementwise() && s.Violations > 0 {
		out = append(out, fmt.Sprintf("%d of %d elements exceed atol %g + rtol %g·|a| (max abs error %.3g)", s.Violations, s.N, tol.Atol, tol.Rtol, s.MaxAbs))
	}
	if tol.HasMinSQNR && s.SQNR() < tol.MinSQNR {
		out = append(out, fmt.Sprintf("SQNR %.2f dB is below %.2f dB", s.SQNR(), tol.MinSQNR))
	}
	return out
}

func argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// inTopK reports whether index want is among the k largest of xs (ties favour want).
func inTopK(xs []float64, want, k int) bool {
	larger := 0
	for _, x := range xs {
		if x > xs[want] {
			larger++
		}
	}
	return larger < k
}

// Accuracy counts classifier rows whose top class is the label.
type Accuracy struct {
	Rows    int64 `json:"rows"`
	Correct int64 `json:"correct"`
	// Top5 counts rows whose label is among the five best classes.
	Top5 int64 `json:"top5_correct"`
}

// Add scores one batch of [N, C] logits against labels.
func (a *Accuracy) Add(logits []float64, shape []int64, labels []int64) error {
	if len(shape) != 2 || int(shape[0]) != len(labels) {
		return fmt.Errorf("accuracy needs [N, C] outputs with one label per row; got shape %v for %d labels", shape, len(labels))
	}
	cols := int(shape[1])
	for r, label := range labels {
		row := logits[r*cols : (r+1)*cols]
		a.Rows++
		if int64(argmax(row)) == label {
			a.Correct++
		}
		if label >= 0 && int(label) < cols && inTopK(row, int(label), 5) {
			a.Top5++
		}
	}
	return nil
}

// Top1 is the accuracy in percent (NaN without rows).
func (a *Accuracy) Top1() float64 { return 100 * frac(a.Correct, a.Rows) }

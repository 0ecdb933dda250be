package passes

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// CalibrationStats is what a RangeCollector gathered, in a form that is written to a file
// and merged exactly: minima and maxima merge by min and max, histogram counts (integers)
// by addition after bringing both to the larger power-of-two bin width. Calibration can
// so be spread over shards of the data (machines of a batch job) whose merged statistics
// derive exactly the ranges one run over all the data derives. The moving-average method
// depends on the order of batches and has no such form.
type CalibrationStats struct {
	// Method the statistics were collected for; histograms are present for Percentile and
	// Entropy. Bins is the histogram size.
	Method CalibrationMethod `json:"method"`
	Bins   int               `json:"bins"`
	// Data and Preprocess name the calibration data (all shards together), Shard and
	// Shards which part of it these statistics cover ("2" of "4"); merged statistics
	// have Shard 0.
	Data       string `json:"data"`
	Preprocess string `json:"preprocess,omitempty"`
	Shard      int    `json:"shard"`
	Shards     int    `json:"shards"`
	// Model identifies the model file calibrated (a digest), so that statistics of
	// another model are not merged in.
	Model string `json:"model,omitempty"`
	// Rows counts the rows observed.
	Rows    int                     `json:"rows"`
	Tensors map[string]*TensorStats `json:"tensors"`
}

// TensorStats is one tensor's statistics.
type TensorStats struct {
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Batches int     `json:"batches"`
	// Count is the number of values histogrammed; Hist the counts of |x| in bins of width
	// 2^Log2Width (trailing empty bins left out).
	Count     float64   `json:"count,omitempty"`
	Log2Width *int      `json:"log2_width,omitempty"`
	Hist      []float64 `json:"hist,omitempty"`
}

// StatsSource is a Calibrator that already holds statistics: CollectRanges derives the
// ranges from them instead of running the model.
type StatsSource interface {
	Calibrator
	CalibrationStats() *CalibrationStats
}

// Stats returns the collector's statistics. The moving-average method has none that
// merge.
func (c *RangeCollector) Stats() (*CalibrationStats, error) {
	if c.opts.Method == MovingAverageMinMax {
		return nil, fmt.Errorf("calibrate: %s depends on the order of batches and cannot be merged; use %s, %s or %s", MovingAverageMinMax, MinMax, Percentile, Entropy)
	}
	out := &CalibrationStats{Method: c.opts.Method, Bins: c.opts.Bins, Tensors: map[string]*TensorStats{}}
	for name, s := range c.stats {
		t := &TensorStats{Min: s.min, Max: s.max, Batches: s.batches}
		if c.wantsHistogram() {
			t.Count = s.count
			if s.width > 0 {
				_, e := math.Frexp(s.width) // width = 0.5·2^e
				e--
				t.Log2Width = &e
			}
			n := len(s.hist)
			for n > 0 && s.hist[n-1] == 0 {
				n--
			}
			t.Hist = append([]float64(nil), s.hist[:n]...)
		}
		out.Tensors[name] = t
	}
	return out, nil
}

// MergeCalibrationStats merges the statistics of every shard of one calibration: they
// must agree on method, bins, data, model and shard count, and hold each shard once.
func MergeCalibrationStats(parts []*CalibrationStats) (*CalibrationStats, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("calibration statistics: none to merge")
	}
	first := parts[0]
	seen := map[int]bool{}
	for _, p := range parts {
		switch {
		case p.Method != first.Method || p.Bins != first.Bins:
			return nil, fmt.Errorf("calibration statistics: shards collected with %s/%d bins and %s/%d bins", first.Method, first.Bins, p.Method, p.Bins)
		case p.Data != first.Data || p.Preprocess != first.Preprocess:
			return nil, fmt.Errorf("calibration statistics: shards of different data (%q and %q)", first.Data, p.Data)
		case p.Model != first.Model:
			return nil, fmt.Errorf("calibration statistics: shards of different models")
		case p.Shards != first.Shards || p.Shard < 1 || p.Shard > p.Shards:
			return nil, fmt.Errorf("calibration statistics: shard %d/%d does not belong with %d shards", p.Shard, p.Shards, first.Shards)
		case seen[p.Shard]:
			return nil, fmt.Errorf("calibration statistics: shard %d/%d given twice", p.Shard, p.Shards)
		}
		seen[p.Shard] = true
	}
	if len(seen) != first.Shards {
		var missing []string
		for k := 1; k <= first.Shards; k++ {
			if !seen[k] {
				missing = append(missing, fmt.Sprintf("%d/%d", k, first.Shards))
			}
		}
		return nil, fmt.Errorf("calibration statistics: shard(s) %s missing", strings.Join(missing, ", "))
	}
	out := &CalibrationStats{Method: first.Method, Bins: first.Bins, Data: first.Data, Preprocess: first.Preprocess,
		Shards: first.Shards, Model: first.Model, Tensors: map[string]*TensorStats{}}
	// Merge in shard order, so that even the sums of counts are made in one order.
	sorted := append([]*CalibrationStats(nil), parts...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Shard < sorted[j].Shard })
	for _, p := range sorted {
		out.Rows += p.Rows
		for name, t := range p.Tensors {
			m := out.Tensors[name]
			if m == nil {
				c := *t
				c.Hist = append([]float64(nil), t.Hist...)
				out.Tensors[name] = &c
				continue
			}
			if err := m.merge(t, out.Bins); err != nil {
				return nil, fmt.Errorf("calibration statistics of %s: %w", name, err)
			}
		}
	}
	return out, nil
}

// merge adds o into t.
func (t *TensorStats) merge(o *TensorStats, bins int) error {
	t.Min, t.Max = math.Min(t.Min, o.Min), math.Max(t.Max, o.Max)
	t.Batches += o.Batches
	t.Count += o.Count
	if o.Log2Width == nil {
		// o saw only zeros: they all sit in bin 0.
		if len(o.Hist) > 0 {
			t.Hist = growTo(t.Hist, 1)
			t.Hist[0] += o.Hist[0]
		}
		return nil
	}
	if t.Log2Width == nil {
		zeros := 0.0
		if len(t.Hist) > 0 {
			zeros = t.Hist[0]
		}
		w := *o.Log2Width
		t.Log2Width, t.Hist = &w, append([]float64(nil), o.Hist...)
		t.Hist = growTo(t.Hist, 1)
		t.Hist[0] += zeros
		return nil
	}
	// Bring both to the wider bins: bin k at width 2^a is bin k>>d at width 2^(a+d).
	a, b := *t.Log2Width, *o.Log2Width
	rebin := func(h []float64, d int) []float64 {
		if d == 0 {
			return h
		}
		out := make([]float64, 0, len(h))
		for k, c := range h {
			j := k >> d
			out = growTo(out, j+1)
			out[j] += c
		}
		return out
	}
	hi := max(a, b)
	if hi-a > 62 || hi-b > 62 {
		return fmt.Errorf("bin widths 2^%d and 2^%d too far apart", a, b)
	}
	th, oh := rebin(t.Hist, hi-a), rebin(o.Hist, hi-b)
	th = growTo(th, len(oh))
	for k, c := range oh {
		th[k] += c
	}
	if len(th) > bins {
		return fmt.Errorf("histogram of %d bins, more than %d", len(th), bins)
	}
	t.Hist, t.Log2Width = th, &hi
	return nil
}

func growTo(h []float64, n int) []float64 {
	for len(h) < n {
		h = append(h, 0)
	}
	return h
}

// Ranges derives the range of every one of names from the statistics with opts' method
// (Percentile and Entropy need statistics collected with one of them).
func (s *CalibrationStats) Ranges(names []string, opts CalibrationOptions) (map[string]Range, error) {
	opts.Bins = s.Bins
	c := NewRangeCollector(opts)
	if (c.opts.Method == Percentile || c.opts.Method == Entropy) && s.Method != Percentile && s.Method != Entropy {
		return nil, fmt.Errorf("calibrate: %s needs histograms; the statistics were collected with %s", c.opts.Method, s.Method)
	}
	var missing []string
	for _, name := range names {
		t := s.Tensors[name]
		if t == nil {
			missing = append(missing, name)
			continue
		}
		st := &tensorStats{min: t.Min, max: t.Max, batches: t.Batches, count: t.Count}
		if c.wantsHistogram() {
			st.hist = growTo(append([]float64(nil), t.Hist...), c.opts.Bins)
			if t.Log2Width != nil {
				st.width = math.Ldexp(1, *t.Log2Width)
			}
		}
		c.stats[name] = st
		c.order = append(c.order, name)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("calibrate: the statistics have nothing for %d tensor(s) quantization needs (%s...): were they collected for this model with the same options?", len(missing), missing[0])
	}
	return c.RangesWith(c.opts.Method)
}

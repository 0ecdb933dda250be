package passes

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// Calibrator runs a model over calibration data and hands over, batch by batch, the float
// values of chosen tensors. Package passes never runs models itself (it does not import
// the runtime); datafeed.Calibrator is the implementation the CLI uses, and tests use
// small fakes.
type Calibrator interface {
	// Calibrate runs m on every calibration batch. After each batch it calls observe once
	// for each name in names that the batch computed, with that tensor's float32 elements.
	// data is only valid during the call (its buffer is recycled): observers copy what they
	// keep. An error from observe stops the run and is returned.
	Calibrate(m *ir.Model, names []string, observe func(name string, data []float32) error) error
}

// CalibrationMethod says how a tensor's quantization range is derived from what
// calibration saw.
type CalibrationMethod string

// The calibration methods.
const (
	// MinMax takes the smallest and largest value seen.
	MinMax CalibrationMethod = "minmax"
	// MovingAverageMinMax averages each batch's min and max exponentially (ORT's
	// moving_average option): outliers of single batches weigh less.
	MovingAverageMinMax CalibrationMethod = "ema"
	// Percentile clips |x| at a percentile of its histogram (default 99.999).
	Percentile CalibrationMethod = "percentile"
	// Entropy clips |x| where the KL divergence between the clipped histogram and its
	// 128-level quantization is smallest (TensorRT's and ORT's entropy calibration).
	Entropy CalibrationMethod = "entropy"
)

// ParseCalibrationMethod reads a --method value.
func ParseCalibrationMethod(s string) (CalibrationMethod, error) {
	switch m := CalibrationMethod(strings.ToLower(s)); m {
	case MinMax, MovingAverageMinMax, Percentile, Entropy:
		return m, nil
	case "moving-average", "moving_average":
		return MovingAverageMinMax, nil
	case "kl", "kl-divergence":
		return Entropy, nil
	}
	return "", fmt.Errorf("unknown calibration method %q (valid: minmax, ema, percentile, entropy)", s)
}

// Defaults of CalibrationOptions.
const (
	DefaultHistogramBins     = 2048
	DefaultPercentile        = 99.999
	DefaultEMAConstant       = 0.01
	DefaultEntropyQuantBins  = 128
	DefaultEntropyMaxClipped = 0.001
	minEntropyHistogramCount = 1
)

// CalibrationOptions tune range collection. Zero fields take the defaults above.
type CalibrationOptions struct {
	Method CalibrationMethod
	// Percentile, for Percentile, is the share of |x| kept, in percent.
	Percentile float64
	// Bins is the histogram size for Percentile and Entropy.
	Bins int
	// EMAConstant is the weight of each new batch for MovingAverageMinMax.
	EMAConstant float64
	// EntropyQuantBins is the number of quantization levels Entropy models (128: the
	// magnitudes of int8).
	EntropyQuantBins int
	// EntropyMaxClipped bounds the share of values Entropy may clip (default 0.1%). KL
	// divergence is blind to how much mass it clips when a distribution has a spike: a
	// normalized image input, whose background pixels all share one value, gets clipped
	// at that value (28% of Fashion-MNIST's pixels) unless thresholds are bounded.
	EntropyMaxClipped float64
}

func (o CalibrationOptions) withDefaults() CalibrationOptions {
	if o.Method == "" {
		o.Method = MinMax
	}
	if o.Percentile <= 0 || o.Percentile > 100 {
		o.Percentile = DefaultPercentile
	}
	if o.Bins < 16 {
		o.Bins = DefaultHistogramBins
	}
	if o.EMAConstant <= 0 || o.EMAConstant > 1 {
		o.EMAConstant = DefaultEMAConstant
	}
	if o.EntropyQuantBins <= 1 || o.EntropyQuantBins > o.Bins {
		o.EntropyQuantBins = DefaultEntropyQuantBins
	}
	if o.EntropyMaxClipped <= 0 || o.EntropyMaxClipped > 1 {
		o.EntropyMaxClipped = DefaultEntropyMaxClipped
	}
	return o
}

// Range is the float interval a tensor is quantized over.
type Range struct {
	Min, Max float32
}

func (r Range) String() string {
	return "[" + strconv.FormatFloat(float64(r.Min), 'g', 5, 32) + ", " + strconv.FormatFloat(float64(r.Max), 'g', 5, 32) + "]"
}

// pow2AtLeast returns the smallest power of two >= x (x > 0).
func pow2AtLeast(x float64) float64 {
	frac, exp := math.Frexp(x) // x = frac·2^exp, frac in [0.5, 1)
	if frac == 0.5 {
		return x
	}
	return math.Ldexp(1, exp)
}

// RangeCollector accumulates, tensor by tensor, what calibration needs to derive ranges,
// in memory independent of the amount of data: a min, a max, a moving average, and for the
// histogram methods a histogram of |x| with a fixed number of bins.
//
// The histogram is built in the same single pass as everything else: its range starts at
// the power of two just above the first batch's largest |x| and, when a later batch goes
// beyond it, doubles (merging bins pairwise, which is exact) as often as needed. So at least half of the bins always
// cover the range actually seen, and no first pass over the data is needed.
type RangeCollector struct {
	opts  CalibrationOptions
	stats map[string]*tensorStats
	order []string
}

type tensorStats struct {
	min, max       float64
	emaMin, emaMax float64
	batches        int
	hist           []float64 // counts of |x| in [k*width, (k+1)*width)
	width          float64   // 0 until the first non-zero value
	count          float64
}

// NewRangeCollector returns an empty collector.
func NewRangeCollector(opts CalibrationOptions) *RangeCollector {
	return &RangeCollector{opts: opts.withDefaults(), stats: map[string]*tensorStats{}}
}

// Options returns the options in force (defaults filled in).
func (c *RangeCollector) Options() CalibrationOptions { return c.opts }

func (c *RangeCollector) wantsHistogram() bool {
	return c.opts.Method == Percentile || c.opts.Method == Entropy
}

// Observe adds one batch of tensor name's values. Non-finite values are ignored.
func (c *RangeCollector) Observe(name string, data []float32) error {
	s := c.stats[name]
	if s == nil {
		s = &tensorStats{min: math.Inf(1), max: math.Inf(-1)}
		c.stats[name] = s
		c.order = append(c.order, name)
	}
	lo, hi, absMax := math.Inf(1), math.Inf(-1), 0.0
	for _, f := range data {
		x := float64(f)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
		absMax = math.Max(absMax, math.Abs(x))
	}
	if lo > hi {
		return nil // nothing finite in this batch
	}
	s.min, s.max = math.Min(s.min, lo), math.Max(s.max, hi)
	if s.batches == 0 {
		s.emaMin, s.emaMax = lo, hi
	} else {
		a := c.opts.EMAConstant
		s.emaMin = (1-a)*s.emaMin + a*lo
		s.emaMax = (1-a)*s.emaMax + a*hi
	}
	s.batches++
	if c.wantsHistogram() {
		s.addHistogram(data, absMax, c.opts.Bins)
	}
	return nil
}

func (s *tensorStats) addHistogram(data []float32, absMax float64, bins int) {
	if s.hist == nil {
		s.hist = make([]float64, bins)
	}
	if absMax > 0 {
		if s.width == 0 {
			// A power of two: then the final width is the smallest power of two with
			// width·bins >= the largest |x| of all the data, whatever order batches come
			// in, bin edges nest exactly when the range doubles, and histograms of
			// separate shards merge into exactly the histogram of one run.
			s.width = pow2AtLeast(absMax / float64(bins))
		}
		for absMax > s.width*float64(bins) {
			// Double the range: bin k of the new histogram is bins 2k and 2k+1 of the old.
			for k := 0; k < bins/2; k++ {
				s.hist[k] = s.hist[2*k] + s.hist[2*k+1]
			}
			if bins%2 == 1 {
				s.hist[bins/2] = s.hist[bins-1]
			}
			for k := (bins + 1) / 2; k < bins; k++ {
				s.hist[k] = 0
			}
			s.width *= 2
		}
	}
	for _, f := range data {
		x := math.Abs(float64(f))
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		k := 0
		if s.width > 0 {
			k = int(x / s.width)
		}
		if k >= bins {
			k = bins - 1
		}
		s.hist[k]++
	}
	s.count += float64(len(data))
}

// Names lists the tensors observed, in first-seen order.
func (c *RangeCollector) Names() []string { return append([]string(nil), c.order...) }

// Ranges derives every observed tensor's range with the collector's method.
func (c *RangeCollector) Ranges() map[string]Range {
	r, _ := c.RangesWith(c.opts.Method) // the collector's own method always has its data
	return r
}

// RangesWith derives ranges with another method from the same observations: any method
// for a collector whose method builds histograms (Percentile, Entropy), the min-max
// methods otherwise. It lets one calibration pass serve several methods.
func (c *RangeCollector) RangesWith(method CalibrationMethod) (map[string]Range, error) {
	if (method == Percentile || method == Entropy) && !c.wantsHistogram() {
		return nil, fmt.Errorf("calibrate: %s needs histograms; collect with percentile or entropy", method)
	}
	out := make(map[string]Range, len(c.stats))
	for name, s := range c.stats {
		if s.batches == 0 {
			continue
		}
		lo, hi := s.min, s.max
		switch method {
		case MovingAverageMinMax:
			lo, hi = s.emaMin, s.emaMax
		case Percentile:
			t := s.percentile(c.opts.Percentile)
			lo, hi = math.Max(lo, -t), math.Min(hi, t)
		case Entropy:
			t := s.entropyThreshold(c.opts.EntropyQuantBins, c.opts.EntropyMaxClipped)
			lo, hi = math.Max(lo, -t), math.Min(hi, t)
		}
		out[name] = Range{Min: float32(lo), Max: float32(hi)}
	}
	return out, nil
}

// percentile returns the |x| below which p percent of the values lie (the upper edge of
// the bin where the cumulative count reaches it).
func (s *tensorStats) percentile(p float64) float64 {
	if s.width == 0 || s.count == 0 {
		return 0
	}
	target := s.count * p / 100
	cum := 0.0
	for k, n := range s.hist {
		cum += n
		if cum >= target {
			return float64(k+1) * s.width
		}
	}
	return float64(len(s.hist)) * s.width
}

// entropyThreshold is TensorRT's KL-divergence calibration on the |x| histogram: for
// every candidate clipping bin i (from quantBins to all bins), the reference
// distribution P is the histogram cut at i with the clipped mass added to its last bin,
// and Q is P's first i bins merged into quantBins levels and spread back over the
// non-empty bins; the i whose KL(P||Q) is smallest gives the threshold. Candidates that
// would clip more than maxClipped of the values are not considered (EntropyMaxClipped).
func (s *tensorStats) entropyThreshold(quantBins int, maxClipped float64) float64 {
	bins := len(s.hist)
	if s.width == 0 || s.count < minEntropyHistogramCount {
		return 0
	}
	// The histogram's last non-empty bin bounds the useful candidates.
	last := bins
	for last > 0 && s.hist[last-1] == 0 {
		last--
	}
	if last <= quantBins {
		return float64(last) * s.width // few enough bins to quantize without clipping
	}
	best, bestKL := last, math.Inf(1)
	p := make([]float64, bins)
	q := make([]float64, bins)
	tail := 0.0
	for k := last; k < bins; k++ {
		tail += s.hist[k]
	}
	// suffix[i] = sum(hist[i:last])
	suffix := make([]float64, last+1)
	for k := last - 1; k >= 0; k-- {
		suffix[k] = suffix[k+1] + s.hist[k]
	}
	for i := quantBins; i <= last; i++ {
		if (suffix[i]+tail)/s.count > maxClipped {
			continue
		}
		copy(p[:i], s.hist[:i])
		p[i-1] += suffix[i] + tail
		// Merge hist[:i] into quantBins levels; level j covers [j*i/qb, (j+1)*i/qb).
		for j := 0; j < quantBins; j++ {
			start := j * i / quantBins
			end := (j + 1) * i / quantBins
			if end <= start {
				end = start + 1
			}
			sum, nonzero := 0.0, 0
			for k := start; k < end; k++ {
				sum += s.hist[k]
				if s.hist[k] != 0 {
					nonzero++
				}
			}
			for k := start; k < end; k++ {
				q[k] = 0
				if s.hist[k] != 0 && nonzero > 0 {
					q[k] = sum / float64(nonzero)
				}
			}
		}
		if kl := klDivergence(p[:i], q[:i]); kl < bestKL {
			best, bestKL = i, kl
		}
	}
	return float64(best) * s.width
}

// klDivergence is KL(P||Q) of two unnormalized histograms; bins where P has mass and Q
// has none get a small epsilon in Q (the smoothing TensorRT and ORT apply).
func klDivergence(p, q []float64) float64 {
	sp, sq := 0.0, 0.0
	for k := range p {
		sp += p[k]
		sq += q[k]
	}
	if sp == 0 || sq == 0 {
		return math.Inf(1)
	}
	const eps = 1e-10
	kl := 0.0
	for k := range p {
		if p[k] == 0 {
			continue
		}
		pk := p[k] / sp
		qk := q[k] / sq
		if qk < eps {
			qk = eps
		}
		kl += pk * math.Log(pk/qk)
	}
	return kl
}

// CollectRanges runs cal over m and derives a range for each of names with opts' method,
// in one streaming pass. Tensors calibration never computed are missing from the result.
func CollectRanges(m *ir.Model, names []string, cal Calibrator, opts CalibrationOptions) (map[string]Range, error) {
	if cal == nil {
		return nil, fmt.Errorf("calibrate: no calibrator (static quantization needs calibration data)")
	}
	if sp, ok := cal.(StatsSource); ok {
		// Statistics gathered elsewhere (merged shards): derive the ranges from them.
		return sp.CalibrationStats().Ranges(names, opts)
	}
	c := NewRangeCollector(opts)
	if err := cal.Calibrate(m, names, c.Observe); err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	return c.Ranges(), nil
}

package whittle

import (
	"fmt"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
)

// Shard names part K of N of the calibration data (1 <= K <= N); the zero Shard is all
// of it.
type Shard struct{ K, N int }

// Calibrate runs static quantization's calibration alone, on shard sh of opts.Calibration,
// and returns the statistics (passes.CalibrationStats) for the calibration tensors of the
// model as Quantize with the same options prepares it: m is optimized, upgraded and
// prepared in place exactly as Quantize would do. Statistics of all N shards, merged with
// passes.MergeCalibrationStats and given to Quantize as QuantizeOptions.Stats, quantize m
// to the same bytes as one Quantize over all the data: a shard holds whole calibration
// batches of the unsharded walk (dataset.Shard), and minima, maxima and power-of-two
// histograms merge exactly. The moving-average method cannot be sharded.
func Calibrate(m *ir.Model, opts QuantizeOptions, sh Shard) (*passes.CalibrationStats, error) {
	if opts.Mode != Static {
		return nil, optionsErrorf("calibration is for static quantization")
	}
	if sh == (Shard{}) {
		sh = Shard{1, 1}
	}
	if sh.N < 1 || sh.K < 1 || sh.K > sh.N {
		return nil, optionsErrorf("shard %d/%d", sh.K, sh.N)
	}
	if opts.Method == passes.MovingAverageMinMax {
		return nil, optionsErrorf("%s depends on the order of batches and cannot be gathered in shards; use %s, %s or %s",
			passes.MovingAverageMinMax, passes.MinMax, passes.Percentile, passes.Entropy)
	}
	qo, cal, err := opts.passOptions()
	if err != nil {
		return nil, err
	}
	// The same preparation as Quantize, so that tensor names match.
	if !opts.SkipOptimize {
		if _, err := passes.Run(PassContext(opts.ToolVersion), m, passes.Default()); err != nil {
			return nil, fmt.Errorf("optimize before calibrating: %w", classify(err))
		}
	}
	if _, _, err := passes.UpgradeForQuantization(PassContext(opts.ToolVersion), m, qo); err != nil {
		return nil, classify(err)
	}
	ctx := PassContext(opts.ToolVersion)
	if _, err := passes.PrepareForQuantization(ctx, m); err != nil {
		return nil, classify(err)
	}
	plan, err := passes.PlanQuantization(m, qo)
	if err != nil {
		return nil, classify(err)
	}
	data, err := OpenData(cal.Data, cal.Preprocess)
	if err != nil {
		return nil, err
	}
	batch := cal.BatchSize
	if batch <= 0 {
		batch = datafeed.DefaultBatch
	}
	if fixed := runtime.FixedBatch(m); fixed > 0 {
		batch = fixed
	}
	part, err := dataset.Shard(data, sh.K, sh.N, batch)
	if err != nil {
		return nil, err
	}
	c := &datafeed.Calibrator{Data: part, BatchSize: batch, Ctx: opts.Context}
	if opts.Progress != nil {
		c.Progress = func(done, total int) { opts.Progress(Progress{Stage: "calibrating", Done: done, Total: total}) }
	}
	collector := passes.NewRangeCollector(passes.CalibrationOptions{Method: cal.Method, Percentile: cal.Percentile})
	if err := c.Calibrate(m, plan.CalibrationTensors(), collector.Observe); err != nil {
		return nil, fmt.Errorf("calibrate: %w", classify(err))
	}
	stats, err := collector.Stats()
	if err != nil {
		return nil, err
	}
	stats.Data, stats.Preprocess, stats.Shard, stats.Shards, stats.Rows = cal.Data, cal.Preprocess, sh.K, sh.N, part.Len()
	return stats, nil
}

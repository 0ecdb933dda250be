package whittle

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/distill"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
	"github.com/whittle-ml/whittle/train"
)

// Passes never import the runtime; this package, which may, registers the runtime's
// constant evaluator, a dataset calibration source and the training engine's finetuner as
// the defaults of every passes.Context, so that a pipeline run by hand (passes.Run) folds and calibrates as the
// workflows here do.
func init() {
	passes.SetDefaults(passes.Defaults{Eval: runtime.ConstEvaluator{}, Calibration: DatasetCalibration{},
		Distiller: &distill.Distiller{}, Finetuner: &train.Finetuner{}})
}

// Version is the whittle version recorded in the metadata of models it writes: the main
// module's version, or "(devel)" for a build from a source tree.
func Version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// PassContext returns a passes.Context wired as the workflows wire theirs: the runtime
// evaluates constants, dataset specs open calibration data, and the version recorded is
// version (empty: Version()).
func PassContext(version string) *passes.Context {
	if version == "" {
		version = Version()
	}
	return &passes.Context{Eval: runtime.ConstEvaluator{}, Calibration: DatasetCalibration{}, ToolVersion: version}
}

// Progress is one report of a long-running step: rows done of a total (calibration,
// comparison), or a message (the accuracy-budget search).
type Progress struct {
	// Stage is "calibrating", "comparing" or "budget".
	Stage       string
	Done, Total int
	Message     string
}

// DatasetCalibration opens calibration data from dataset specs (package dataset) and
// runs it through whittle's runtime (datafeed.Calibrator). It is the
// passes.CalibrationSource of PassContext.
type DatasetCalibration struct {
	// Ctx, when set, cancels calibration runs.
	Ctx context.Context
	// Progress, when set, is told about every calibration batch.
	Progress func(Progress)
	// OnCalibrate, when set, is told the rows of the data and the number of tensors
	// observed, before each calibration run.
	OnCalibrate func(spec string, rows, tensors int)
	// Stats, when set, stand in for the data: the calibrator derives ranges from these
	// merged shard statistics.
	Stats *passes.CalibrationStats
}

// Calibrator implements passes.CalibrationSource.
func (d DatasetCalibration) Calibrator(cal passes.CalibrationSpec) (passes.Calibrator, error) {
	if d.Stats != nil {
		if d.OnCalibrate != nil {
			d.OnCalibrate(cal.Data, d.Stats.Rows, len(d.Stats.Tensors))
		}
		return statsCalibrator{d.Stats}, nil
	}
	data, err := OpenData(cal.Data, cal.Preprocess)
	if err != nil {
		return nil, err
	}
	c := &datafeed.Calibrator{Data: data, BatchSize: cal.BatchSize, Ctx: d.Ctx}
	if d.Progress != nil {
		c.Progress = func(done, total int) { d.Progress(Progress{Stage: "calibrating", Done: done, Total: total}) }
	}
	return calibrator{c, func(tensors int) {
		if d.OnCalibrate != nil {
			d.OnCalibrate(cal.Data, data.Len(), tensors)
		}
	}}, nil
}

// OpenData opens the dataset a spec names (dataset.SpecHelp), with preprocess (a
// preprocessing spec, dataset.PreprocessHelp; empty: none) applied to images:DIR data.
// A malformed spec is an error wrapping ErrOptions.
func OpenData(spec, preprocess string) (dataset.Dataset, error) {
	var o dataset.Options
	if preprocess != "" {
		p, err := dataset.ParsePreprocess(preprocess)
		if err != nil {
			return nil, fmt.Errorf("%w: preprocess: %w", ErrOptions, err)
		}
		o.Preprocess = &p
	}
	if _, err := dataset.ParseSpec(spec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	ds, err := dataset.OpenWith(spec, o)
	if err != nil {
		return nil, fmt.Errorf("data %s: %w", spec, err)
	}
	return ds, nil
}

// statsCalibrator hands merged statistics to passes.CollectRanges.
type statsCalibrator struct{ stats *passes.CalibrationStats }

func (s statsCalibrator) CalibrationStats() *passes.CalibrationStats { return s.stats }

func (s statsCalibrator) Calibrate(*ir.Model, []string, func(string, []float32) error) error {
	return fmt.Errorf("calibration statistics run no model")
}

// calibrator tells DatasetCalibration.OnCalibrate what a run observes.
type calibrator struct {
	*datafeed.Calibrator
	starting func(tensors int)
}

func (c calibrator) Calibrate(m *ir.Model, names []string, observe func(string, []float32) error) error {
	c.starting(len(names))
	return classify(c.Calibrator.Calibrate(m, names, observe))
}

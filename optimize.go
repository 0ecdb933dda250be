package whittle

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/provenance"
)

// Applied is embedded in every workflow's result: the pipelines the workflow appended to
// the model's history, in order. Applied to the model as it was before the workflow
// (Replay), they reproduce the result.
type Applied struct {
	Applied passes.Recipe `json:"applied"`
}

// Size is a model's size: nodes, initializers, parameters and bytes of weights.
type Size struct {
	Nodes        int   `json:"nodes"`
	Initializers int   `json:"initializers"`
	Params       int64 `json:"params"`
	Bytes        int64 `json:"bytes"`
}

// SizeOf measures m.
func SizeOf(m *ir.Model) Size {
	s := stats.Measure(m)
	return Size{Nodes: s.Nodes, Initializers: len(s.Initializers), Params: s.Params, Bytes: s.Bytes}
}

// OptimizeOptions tune Optimize. The zero value runs the default pipeline
// (passes.Default: lossless cleanups).
type OptimizeOptions struct {
	// Recipe is the pipelines to apply, in turn (passes.ParsePipeline,
	// passes.ParseRecipe or a model's history through passes.RecipeOf); empty means
	// the default pipeline.
	Recipe passes.Recipe
	// VerifyEach checks the IR after every pass and names a pass that breaks it.
	VerifyEach bool
	// MaxIterations bounds the rounds of each pipeline (0: passes.DefaultMaxIterations).
	MaxIterations int
	// Calibration opens the data of a quantize_static step (nil: DatasetCalibration).
	Calibration passes.CalibrationSource
	// Distiller trains the student of a distill step (nil: a distill.Distiller).
	Distiller passes.Distiller
	// ToolVersion is recorded in the history (empty: Version()).
	ToolVersion string
	// Finetuner trains a finetune step (nil: train.Finetuner with no progress reports).
	Finetuner passes.Finetuner
}

// OptimizeResult is what Optimize did.
type OptimizeResult struct {
	Before, After Size
	// Runs has one report per pipeline of the recipe.
	Runs []*passes.Report `json:"runs"`
	// Changes is every change, in order (also stored, for the last pipeline, in the
	// model's whittle.changelog).
	Changes []passes.Change `json:"changes"`
	// Reports holds what passes that make reports said (*passes.PruneReport,
	// *passes.QuantizeReport), in the order they ran.
	Reports []any `json:"-"`
	Applied
}

// Optimize applies a recipe (by default the lossless cleanup pipeline) to m in place,
// each pipeline until no pass changes anything, and records each in m's history. The
// result is verified: a pass that leaves an invalid IR is an error naming it when
// VerifyEach is set, and a bare verification error otherwise.
func Optimize(m *ir.Model, opts OptimizeOptions) (*OptimizeResult, error) {
	recipe := opts.Recipe
	if len(recipe) == 0 {
		recipe = passes.Recipe{passes.Default()}
	}
	stages := make([]provenance.Applied, len(recipe))
	for i, p := range recipe {
		stages[i] = provenance.Applied{Version: opts.ToolVersion, Pipeline: provenance.Steps(p)}
	}
	return apply(m, stages, opts)
}

// Replay applies a model's history (provenance.History) to the model it was made from,
// each pipeline with the whittle version that first ran it, which reproduces the model
// byte for byte when the calibration data is the same.
func Replay(m *ir.Model, history []provenance.Applied) (*OptimizeResult, error) {
	if len(history) == 0 {
		return nil, optionsErrorf("the history to replay is empty")
	}
	return apply(m, history, OptimizeOptions{})
}

func apply(m *ir.Model, stages []provenance.Applied, opts OptimizeOptions) (*OptimizeResult, error) {
	recipe := make(passes.Recipe, len(stages))
	for i, st := range stages {
		recipe[i] = passes.Pipeline(st.Pipeline)
	}
	if err := recipe.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	ctx := PassContext("")
	ctx.VerifyEach, ctx.MaxIterations = opts.VerifyEach, opts.MaxIterations
	if opts.Calibration != nil {
		ctx.Calibration = opts.Calibration
	}
	if opts.Distiller != nil {
		ctx.Distiller = opts.Distiller
	}
	ctx.Finetuner = opts.Finetuner
	res := &OptimizeResult{Before: SizeOf(m)}
	ctx.OnReport = func(_ string, rep any) { res.Reports = append(res.Reports, rep) }
	for i, p := range recipe {
		ctx.ToolVersion = stages[i].Version
		if ctx.ToolVersion == "" {
			ctx.ToolVersion = Version()
		}
		rep, err := passes.Run(ctx, m, p)
		if err != nil {
			return nil, classify(err)
		}
		res.Runs = append(res.Runs, rep)
		res.Applied.Applied = append(res.Applied.Applied, p)
	}
	// Even without VerifyEach, never hand back a model whose IR is broken.
	if err := m.Verify(); err != nil {
		return nil, fmt.Errorf("the optimized model is invalid (rerun with VerifyEach to find the pass):\n%w", err)
	}
	res.After = SizeOf(m)
	res.Changes = ctx.Log.Changes
	if res.Changes == nil {
		res.Changes = []passes.Change{}
	}
	return res, nil
}

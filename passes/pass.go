package passes

import (
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
)

// Pass is one rewrite of a model, in place. Run reports whether it changed anything; a
// pass that changed nothing must leave the model exactly as it was.
type Pass interface {
	Name() string
	Run(ctx *Context, m *ir.Model) (changed bool, err error)
}

// Evaluator computes a node's outputs from constant inputs; constant folding uses it.
// inputs follow n.Inputs() (nil where an optional input is omitted); the result follows
// n.Outputs() (nil where an output is omitted). Package runtime implements it.
type Evaluator interface {
	EvalNode(m *ir.Model, n *ir.Node, inputs []*ir.Tensor) ([]*ir.Tensor, error)
}

// DefaultMaxFoldBytes is the default Context.MaxFoldBytes: 1 MiB.
const DefaultMaxFoldBytes = 1 << 20

// DefaultMaxIterations bounds how often Run repeats a pipeline.
const DefaultMaxIterations = 16

// Context is what passes share while a pipeline runs.
type Context struct {
	// Log receives every change; Run creates one when nil.
	Log *ChangeLog
	// Eval evaluates constant nodes; nil means the registered default (SetDefaults), and
	// without either fold_constants folds only what needs no kernel (Constant nodes, Shape
	// and Size of static shapes).
	Eval Evaluator
	// VerifyEach checks the IR after every pass (always set in tests).
	VerifyEach bool
	// MaxFoldBytes: a folded output larger than this and larger than the node's inputs
	// together is not materialized (it would grow the file). 0 means DefaultMaxFoldBytes.
	MaxFoldBytes int64
	// MaxIterations bounds the rounds of Run; 0 means DefaultMaxIterations.
	MaxIterations int
	// ToolVersion is recorded in the model's metadata; empty means the build's version.
	ToolVersion string
	// Distiller runs the distill step (package distill implements it); nil means the
	// registered default (SetDefaults), and without either that step fails.
	Distiller Distiller
	// Original is the model as the pipeline received it, for steps that refer back to it
	// (distill with teacher=original); Run keeps a copy when a step's Info.NeedsOriginal
	// says so and none is set.
	Original *ir.Model
	// Finetuner runs the finetune step (package train implements it); nil means the
	// registered default (SetDefaults).
	Finetuner Finetuner
	// Calibration opens the data a quantize_static step names; nil means the registered
	// default (SetDefaults), and without either that step fails.
	Calibration CalibrationSource
	// OnReport, when set, receives the report of a pass that makes one (prune:
	// *PruneReport; quantize_static, quantize_dynamic, quantize_weights: *QuantizeReport)
	// each time the pass runs.
	OnReport func(pass string, report any)
	// OwnsData says that the model's tensor bytes belong to this pipeline alone: no
	// clone, session or other model shares them (ir.Tensor.Clone shares bytes), as with
	// a model just loaded from a file. Passes may then overwrite weights in place rather
	// than copy them: prune holds one copy of the weights instead of two. It is ignored
	// while ctx.Original is set (a clone sharing the bytes), and a tensor whose bytes
	// another tensor of the model shares is still copied.
	OwnsData bool

	// pass is the name of the pass running now, which tags log entries.
	pass string
	// typesFresh says shape inference ran since the last logged change.
	typesFresh bool
	typedAt    int
}

// overwrites says whether passes may write to the model's tensor bytes (OwnsData).
func (c *Context) overwrites() bool { return c.OwnsData && c.Original == nil }

// CalibrationSource opens calibration data by the name a quantize_static step records
// (its calibration parameter, a dataset spec), so that a recorded step can be replayed.
type CalibrationSource interface {
	// Calibrator returns a calibrator over the data cal names (cal.Data, preprocessed as
	// cal.Preprocess says), running cal.BatchSize rows at a time (0: the source's default).
	Calibrator(cal CalibrationSpec) (Calibrator, error)
}

// Defaults are what a Context without its own Eval or Calibration uses. Package passes
// cannot run models (it never imports the runtime), so the package that can registers
// them: importing package whittle sets the runtime's evaluator and a calibration source
// that reads dataset specs, so that a pipeline run by hand folds what whittle optimize
// folds.
type Defaults struct {
	Eval        Evaluator
	Calibration CalibrationSource
	Distiller   Distiller
	Finetuner   Finetuner
}

var defaults Defaults

// SetDefaults registers the evaluator and calibration source of Contexts that set none.
// Call it from an init function (it is not safe to call while passes run).
func SetDefaults(d Defaults) { defaults = d }

func (ctx *Context) evaluator() Evaluator {
	if ctx.Eval != nil {
		return ctx.Eval
	}
	return defaults.Eval
}

func (ctx *Context) distiller() Distiller {
	if ctx.Distiller != nil {
		return ctx.Distiller
	}
	return defaults.Distiller
}

func (ctx *Context) finetuner() Finetuner {
	if ctx.Finetuner != nil {
		return ctx.Finetuner
	}
	return defaults.Finetuner
}

func (ctx *Context) calibration() CalibrationSource {
	if ctx.Calibration != nil {
		return ctx.Calibration
	}
	return defaults.Calibration
}

// As runs fn with the changes it logs attributed to pass, as Run attributes each pass's
// own: for workflows that do a step's work outside Run and then Record it.
func (ctx *Context) As(pass string, fn func() error) error {
	saved := ctx.pass
	ctx.pass = pass
	defer func() { ctx.pass = saved }()
	return fn()
}

func (ctx *Context) report(pass string, rep any) {
	if ctx.OnReport != nil {
		ctx.OnReport(pass, rep)
	}
}

func (ctx *Context) maxFoldBytes() int64 {
	if ctx.MaxFoldBytes > 0 {
		return ctx.MaxFoldBytes
	}
	return DefaultMaxFoldBytes
}

func (ctx *Context) log() *ChangeLog {
	if ctx.Log == nil {
		ctx.Log = &ChangeLog{}
	}
	return ctx.Log
}

// ensureTypes runs shape inference (with data propagation) unless it already ran since
// the last change. Passes that decide from shapes call it first; inference only refines
// Value.Type, so running it is never a change.
func (ctx *Context) ensureTypes(m *ir.Model) {
	if ctx.typesFresh && ctx.typedAt == ctx.log().Len() {
		return
	}
	// Problems (contradictions between declared and inferred types) are not ours to
	// report: where inference is unsure, types stay as declared and passes that need a
	// static shape simply do not fire.
	_, _ = infer.Model(m, infer.Options{DataPropagation: true})
	ctx.typesFresh, ctx.typedAt = true, ctx.log().Len()
}

// simplePass adapts a function to the Pass interface.
type simplePass struct {
	name string
	run  func(ctx *Context, m *ir.Model) (bool, error)
}

func (p simplePass) Name() string                                { return p.name }
func (p simplePass) Run(ctx *Context, m *ir.Model) (bool, error) { return p.run(ctx, m) }

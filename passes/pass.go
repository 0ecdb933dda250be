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
	// Eval evaluates constant nodes; without it fold_constants folds only what needs no
	// kernel (Constant nodes, Shape and Size of static shapes).
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
	// Distiller runs the distill step (package distill implements it); Calibrators opens
	// the calibration data quantize_static names. Steps that need one fail without it.
	Distiller   Distiller
	Calibrators func(spec string) (Calibrator, error)
	// Original is the model as the pipeline received it, for steps that refer back to it
	// (distill with teacher=original); Run keeps a copy when a step's Info.NeedsOriginal
	// says so and none is set.
	Original *ir.Model

	// pass is the name of the pass running now, which tags log entries.
	pass string
	// typesFresh says shape inference ran since the last logged change.
	typesFresh bool
	typedAt    int
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

package passes

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
)

// Distiller replaces a model, in place, by a smaller student trained to behave like it
// (knowledge distillation). Package passes cannot train (it never imports the runtime or a
// training package); package distill implements this interface, and the CLI puts one in
// Context.Distiller so that a recipe can prune, distill and quantize in one run. The
// distiller logs its rewrites in ctx's change log under the step's name.
type Distiller interface {
	Distill(ctx *Context, m *ir.Model, params Params) error
}

// DistillParams documents the distill step's parameters (package distill reads them).
var DistillParams = []ParamInfo{
	{Name: "teacher", Doc: "self (the model is the teacher of a student made from it), original (the pipeline's input is the teacher and the model, e.g. pruned, is the student), or a teacher FILE.onnx", Default: "self"},
	{Name: "student", Doc: "auto:macs=F|params=F|width=F, lowrank:rank=R|energy=E|params=F, FILE.onnx, or block:FROM..TO=KIND[;...]", Default: "auto:macs=0.25"},
	{Name: "data", Doc: "training data spec (labels optional: pure KD without them)", Default: ""},
	{Name: "val", Doc: "validation data spec for accuracy, teacher agreement and the budget", Default: ""},
	{Name: "epochs", Doc: "epochs of knowledge distillation", Default: "5"},
	{Name: "batch", Doc: "batch size", Default: "128"},
	{Name: "lr", Doc: "base learning rate", Default: "0.05 (sgd), 0.002 (adamw)"},
	{Name: "optimizer", Doc: "sgd (Nesterov momentum 0.9) or adamw", Default: "sgd"},
	{Name: "weight_decay", Doc: "weight decay", Default: "5e-4 (sgd), 0.01 (adamw)"},
	{Name: "schedule", Doc: "learning-rate schedule: cosine, constant, step (with :warmup=N ...)", Default: "cosine"},
	{Name: "temperature", Doc: "softmax temperature T of the KD term", Default: "4"},
	{Name: "alpha", Doc: "weight of T²·KL; 1-alpha weighs cross-entropy on labels", Default: "0.9"},
	{Name: "seed", Doc: "seed of data order, augmentation and dropout", Default: "1"},
	{Name: "augment", Doc: "none, flip, crop:P, or crop:P,flip", Default: "flip"},
	{Name: "labels_only", Doc: "train the same student on labels alone (the KD baseline)", Default: "false"},
	{Name: "block_epochs", Doc: "epochs of feature distillation per block (block students)", Default: "3"},
	{Name: "block_loss", Doc: "mse or cosine, between a block's output and the teacher's tensor", Default: "mse"},
	{Name: "max_accuracy_drop", Doc: "fail unless the student's top-1 on val is within this many points of the teacher's", Default: ""},
}

func init() {
	Register(Info{
		Name: "distill",
		Doc: "replace the model by a smaller student (channel-pruned, low-rank, a file, or blocks) " +
			"trained by knowledge distillation on the model's outputs; needs a distiller (whittle's CLI)",
		Params: DistillParams,
		New: func(p Params) (Pass, error) {
			done := false
			return simplePass{name: "distill", run: func(ctx *Context, m *ir.Model) (bool, error) {
				// Once per pipeline: the student must not be distilled again in a later
				// round.
				if done {
					return false, nil
				}
				done = true
				d := ctx.distiller()
				if d == nil {
					return false, fmt.Errorf("no distiller: the distill step trains a model, which needs whittle's CLI or distill.Distiller in the pass context")
				}
				before := ctx.log().Len()
				if err := d.Distill(ctx, m, p); err != nil {
					return false, err
				}
				return ctx.log().Len() > before, nil
			}}, nil
		},
		FixedPoint:    true,
		Lossy:         true,
		NeedsOriginal: true,
	})
}

// StepName is the name of the pass running now ("" outside a pipeline), which tags the
// change-log entries a Distiller adds itself.
func (ctx *Context) StepName() string { return ctx.pass }

// SetStepName names the step that the next changes belong to, for code outside this
// package that runs passes as one step of its own (a distiller outside a pipeline); it
// returns a function that restores the previous name.
func (ctx *Context) SetStepName(name string) (restore func()) {
	old := ctx.pass
	ctx.pass = name
	return func() { ctx.pass = old }
}

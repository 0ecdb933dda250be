package passes

import (
	"fmt"
	"sort"

	"github.com/whittle-ml/whittle/ir"
)

// Finetuner trains a model's weights on labelled data (fine-tuning, to recover the
// accuracy pruning cost). Package passes cannot train (it never imports the runtime or a
// training package); package train implements this interface, and the CLI puts one in
// Context.Finetuner (package whittle registers one as the default) so that a recipe can
// prune and fine-tune in one run.
type Finetuner interface {
	// Finetune trains m as params say (FinetuneParams) without changing it and returns
	// the trained initializer values and the provenance to record.
	Finetune(ctx *Context, m *ir.Model, params Params) (*FinetuneResult, error)
}

// FinetuneResult is what a Finetuner hands back.
type FinetuneResult struct {
	// Initializers holds the new value of every initializer training changed, by name.
	Initializers map[string]*ir.Tensor
	// Metadata holds metadata_props entries to set (recipe, seed, epochs, final loss and
	// accuracy).
	Metadata []ir.StringPair
}

// FinetuneParams documents the finetune step's parameters (package train reads them).
var FinetuneParams = []ParamInfo{
	{Name: "data", Doc: "labelled training data spec", Default: ""},
	{Name: "val", Doc: "validation data spec, evaluated after every epoch", Default: ""},
	{Name: "epochs", Doc: "passes over the training data", Default: "3"},
	{Name: "batch", Doc: "batch size", Default: "128"},
	{Name: "lr", Doc: "base learning rate", Default: "0.01 (sgd), 0.001 (adamw)"},
	{Name: "optimizer", Doc: "sgd or adamw", Default: "sgd"},
	{Name: "momentum", Doc: "SGD momentum", Default: "0.9"},
	{Name: "nesterov", Doc: "Nesterov momentum", Default: "true"},
	{Name: "weight_decay", Doc: "weight decay", Default: "5e-4 (sgd), 0.01 (adamw)"},
	{Name: "schedule", Doc: "learning-rate schedule: cosine, constant or step:every=STEPS:gamma=G, each with :warmup=STEPS", Default: "cosine"},
	{Name: "label_smoothing", Doc: "label smoothing of the cross-entropy", Default: "0"},
	{Name: "clip_norm", Doc: "clip the gradients' L2 norm to this (0: no clipping)", Default: "0"},
	{Name: "seed", Doc: "seed of data order, augmentation and dropout", Default: "1"},
	{Name: "augment", Doc: "none, flip, crop:P, or crop:P,flip", Default: "none"},
	{Name: "keep_masks", Doc: "keep pruned (zero) weights at zero", Default: "true"},
	{Name: "train", Doc: "train only initializers matching these globs (;-separated, * wildcards)", Default: ""},
	{Name: "freeze", Doc: "never train initializers matching these globs (;-separated)", Default: ""},
	{Name: "freeze_bn", Doc: "keep BatchNormalization's running statistics and use them while training", Default: "false"},
	{Name: "keep_best", Doc: "end with the epoch that scored best on val", Default: "true"},
}

func init() {
	Register(Info{
		Name:   "finetune",
		Doc:    "train the model's weights on labelled data (after pruning, to recover accuracy); needs a finetuner (whittle's CLI)",
		Params: FinetuneParams,
		New: func(p Params) (Pass, error) {
			done := false
			return simplePass{name: "finetune", run: func(ctx *Context, m *ir.Model) (bool, error) {
				// Once per pipeline: a later round must not train again.
				if done {
					return false, nil
				}
				done = true
				return finetuneStep(ctx, m, p)
			}}, nil
		},
		FixedPoint: true,
		Lossy:      true,
	})
}

// finetuneStep trains m with the context's finetuner and installs the trained values,
// each logged as a change of the step.
func finetuneStep(ctx *Context, m *ir.Model, p Params) (bool, error) {
	ft := ctx.finetuner()
	if ft == nil {
		return false, fmt.Errorf("no finetuner: the finetune step trains a model, which needs package whittle (or train.Finetuner in the pass context)")
	}
	res, err := ft.Finetune(ctx, m, p)
	if err != nil {
		return false, err
	}
	r := newRewriter(ctx, m)
	for _, v := range m.Graph.Initializers {
		if t, ok := res.Initializers[v.Name]; ok && v.Const != nil {
			r.setConst(v, t)
		}
	}
	meta := append([]ir.StringPair(nil), res.Metadata...)
	sort.SliceStable(meta, func(i, j int) bool { return meta[i].Key < meta[j].Key })
	for _, kv := range meta {
		m.SetMetadata(kv.Key, kv.Value)
	}
	return r.changed, nil
}

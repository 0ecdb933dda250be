package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/train/data"
	"github.com/whittle-ml/whittle/train/grad"
	"github.com/whittle-ml/whittle/train/loss"
	"github.com/whittle-ml/whittle/train/optim"
)

// Recipe is a fine-tuning recipe: the finetune step's parameters (passes.FinetuneParams),
// everything that decides the trained weights. It is recorded in the output model.
type Recipe struct {
	Data, Val      string
	Epochs, Batch  int
	LR             float64 // 0: the optimizer's default
	Optimizer      string  // "sgd" or "adamw"
	Momentum       float64
	Nesterov       bool
	WeightDecay    float64 // negative: the optimizer's default
	Schedule       string
	LabelSmoothing float64
	ClipNorm       float64
	Seed           uint64
	Augment        string
	KeepMasks      bool
	Train, Freeze  []string
	FreezeBN       bool
	KeepBest       bool
}

// DefaultRecipe returns the finetune step's defaults.
func DefaultRecipe() Recipe {
	return Recipe{Epochs: 3, Batch: 128, Optimizer: "sgd", Momentum: 0.9, Nesterov: true, WeightDecay: -1,
		Schedule: "cosine", Seed: 1, Augment: "none", KeepMasks: true, KeepBest: true}
}

// ParseRecipe reads the finetune step's parameters over DefaultRecipe.
func ParseRecipe(p passes.Params) (Recipe, error) {
	r := DefaultRecipe()
	var errs []error
	num := func(key string, dst *float64) {
		if s, ok := p[key]; ok {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				errs = append(errs, fmt.Errorf("%s=%q is not a number", key, s))
				return
			}
			*dst = v
		}
	}
	integer := func(key string, dst *int) {
		if s, ok := p[key]; ok {
			v, err := strconv.Atoi(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not an integer", key, s))
				return
			}
			*dst = v
		}
	}
	flag := func(key string, dst *bool) {
		if s, ok := p[key]; ok {
			v, err := strconv.ParseBool(s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q is not true or false", key, s))
				return
			}
			*dst = v
		}
	}
	globs := func(key string) []string {
		var out []string
		for _, g := range strings.Split(p[key], ";") {
			if g = strings.TrimSpace(g); g != "" {
				out = append(out, g)
			}
		}
		return out
	}
	r.Data, r.Val = p["data"], p["val"]
	integer("epochs", &r.Epochs)
	integer("batch", &r.Batch)
	num("lr", &r.LR)
	if s, ok := p["optimizer"]; ok {
		r.Optimizer = strings.ToLower(s)
	}
	num("momentum", &r.Momentum)
	flag("nesterov", &r.Nesterov)
	num("weight_decay", &r.WeightDecay)
	if s, ok := p["schedule"]; ok {
		r.Schedule = s
	}
	num("label_smoothing", &r.LabelSmoothing)
	num("clip_norm", &r.ClipNorm)
	if s, ok := p["seed"]; ok {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("seed=%q is not a non-negative integer", s))
		}
		r.Seed = v
	}
	if s, ok := p["augment"]; ok {
		r.Augment = s
	}
	flag("keep_masks", &r.KeepMasks)
	r.Train, r.Freeze = globs("train"), globs("freeze")
	flag("freeze_bn", &r.FreezeBN)
	flag("keep_best", &r.KeepBest)
	if err := errors.Join(errs...); err != nil {
		return r, fmt.Errorf("finetune: %w", err)
	}
	return r, r.Validate()
}

// Validate checks the recipe's values.
func (r Recipe) Validate() error {
	switch {
	case r.Data == "":
		return errors.New("finetune: no training data (data=SPEC)")
	case r.Epochs < 1:
		return fmt.Errorf("finetune: epochs %d must be at least 1", r.Epochs)
	case r.Batch < 1:
		return fmt.Errorf("finetune: batch %d must be at least 1", r.Batch)
	case r.LR < 0 || r.LabelSmoothing < 0 || r.LabelSmoothing >= 1 || r.ClipNorm < 0 || r.Momentum < 0 || r.Momentum >= 1:
		return fmt.Errorf("finetune: lr %g, label smoothing %g, clip norm %g and momentum %g out of range", r.LR, r.LabelSmoothing, r.ClipNorm, r.Momentum)
	case r.Optimizer != "sgd" && r.Optimizer != "adamw":
		return fmt.Errorf("finetune: unknown optimizer %q (valid: sgd, adamw)", r.Optimizer)
	}
	if _, err := optim.ParseSchedule(r.Schedule); err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	if _, err := ParseAugment(r.Augment); err != nil {
		return fmt.Errorf("finetune: %w", err)
	}
	return nil
}

// Params writes the recipe as the finetune step's parameters (ParseRecipe reads them).
func (r Recipe) Params() passes.Params {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	p := passes.Params{"data": r.Data, "epochs": strconv.Itoa(r.Epochs), "batch": strconv.Itoa(r.Batch),
		"lr": f(r.lr()), "optimizer": r.Optimizer, "weight_decay": f(r.weightDecay()), "schedule": r.Schedule,
		"seed": strconv.FormatUint(r.Seed, 10), "augment": r.Augment, "keep_masks": strconv.FormatBool(r.KeepMasks)}
	if r.Optimizer == "sgd" {
		p["momentum"], p["nesterov"] = f(r.Momentum), strconv.FormatBool(r.Nesterov)
	}
	if r.Val != "" {
		p["val"], p["keep_best"] = r.Val, strconv.FormatBool(r.KeepBest)
	}
	if r.LabelSmoothing != 0 {
		p["label_smoothing"] = f(r.LabelSmoothing)
	}
	if r.ClipNorm != 0 {
		p["clip_norm"] = f(r.ClipNorm)
	}
	if len(r.Train) > 0 {
		p["train"] = strings.Join(r.Train, ";")
	}
	if len(r.Freeze) > 0 {
		p["freeze"] = strings.Join(r.Freeze, ";")
	}
	if r.FreezeBN {
		p["freeze_bn"] = "true"
	}
	return p
}

func (r Recipe) lr() float64 {
	switch {
	case r.LR > 0:
		return r.LR
	case r.Optimizer == "adamw":
		return 1e-3
	}
	return 0.01
}

func (r Recipe) weightDecay() float64 {
	switch {
	case r.WeightDecay >= 0:
		return r.WeightDecay
	case r.Optimizer == "adamw":
		return 0.01
	}
	return 5e-4
}

// ParseAugment reads "none", "flip", "crop:P" or "crop:P,flip".
func ParseAugment(s string) (data.Augment, error) {
	var a data.Augment
	for _, part := range strings.Split(strings.ToLower(s), ",") {
		switch part = strings.TrimSpace(part); {
		case part == "none" || part == "":
		case part == "flip":
			a.FlipHorizontal = true
		case strings.HasPrefix(part, "crop:"):
			p, err := strconv.Atoi(part[len("crop:"):])
			if err != nil || p < 1 {
				return a, fmt.Errorf("augment %q: crop:P needs a padding P >= 1", s)
			}
			a.CropPadding = p
		default:
			return a, fmt.Errorf("unknown augmentation %q (valid: none, flip, crop:P, crop:P,flip)", part)
		}
	}
	return a, nil
}

// Env is how a fine-tune runs, as opposed to what it computes (the Recipe): none of it is
// recorded in the model, and none of it changes the result except Threads (results are
// reproducible for a given thread count).
type Env struct {
	Context context.Context
	// Threads bounds the goroutines training uses (0: GOMAXPROCS).
	Threads int
	// Open opens data specs; dataset.Open when nil.
	Open func(spec string) (dataset.Dataset, error)
	// Checkpoint, CheckpointEvery and Resume are FitOptions' (see there).
	Checkpoint      string
	CheckpointEvery int
	Resume          string
	Progress        func(Event)
	ToolVersion     string
}

// FinetuneReport is what a fine-tune did.
type FinetuneReport struct {
	Recipe passes.Step `json:"recipe"`
	// Before and After are the validation metrics of the model before training and of the
	// weights it ends with (nil without validation data).
	Before    *Metrics `json:"before,omitempty"`
	After     *Metrics `json:"after,omitempty"`
	Fit       *Report  `json:"fit"`
	Trainable int      `json:"trainable_tensors"`
	Masked    int      `json:"masked_weights"`
	Threads   int      `json:"threads"`
}

// MetaFinetune is the metadata_props key of a fine-tune's provenance (JSON: recipe, seed,
// epochs, thread count, final training loss and accuracy, validation accuracy).
const MetaFinetune = "whittle.finetune"

// Finetuner implements passes.Finetuner: the CLI puts one in passes.Context.Finetuner so
// that the finetune step of a recipe trains with its environment. Reports collects the
// report of every fine-tune it ran.
type Finetuner struct {
	Env     Env
	Reports []*FinetuneReport
}

// Finetune implements passes.Finetuner.
func (f *Finetuner) Finetune(_ *passes.Context, m *ir.Model, p passes.Params) (*passes.FinetuneResult, error) {
	r, err := ParseRecipe(p)
	if err != nil {
		return nil, err
	}
	tr, rep, err := f.run(m, r)
	if err != nil {
		return nil, err
	}
	f.Reports = append(f.Reports, rep)
	res := &passes.FinetuneResult{Initializers: map[string]*ir.Tensor{}}
	trained := tr.Model()
	for _, v := range trained.Graph.Initializers {
		if _, isParam := paramOrState(tr.Program(), v.Name); isParam {
			res.Initializers[v.Name] = v.Const
		}
	}
	// The thread count stays out of the provenance: training gives the same weights on any
	// number of threads, and the model must then be the same bytes too.
	prov := map[string]any{"recipe": rep.Recipe.String(), "seed": r.Seed, "epochs": r.Epochs, "steps": rep.Fit.Steps}
	if n := len(rep.Fit.Epochs); n > 0 {
		last := rep.Fit.Epochs[n-1]
		prov["train_loss"], prov["train_accuracy"] = round6(last.Loss), round6(last.Accuracy)
	}
	if rep.After != nil {
		prov["val_accuracy"], prov["val_correct"], prov["val_rows"] = round6(rep.After.Accuracy), rep.After.Correct, rep.After.Rows
	}
	if rep.Fit.BestEpoch > 0 {
		prov["best_epoch"] = rep.Fit.BestEpoch
	}
	b, err := json.Marshal(prov)
	if err != nil {
		return nil, err
	}
	res.Metadata = []ir.StringPair{{Key: MetaFinetune, Value: string(b)}}
	return res, nil
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func paramOrState(p *grad.Program, name string) (int, bool) {
	for i, pr := range p.Params() {
		if pr.Name == name {
			return i, true
		}
	}
	for i, s := range p.State() {
		if s.Name == name {
			return i, true
		}
	}
	return 0, false
}

// run trains a copy of m with recipe r.
func (f *Finetuner) run(m *ir.Model, r Recipe) (*Trainer, *FinetuneReport, error) {
	env := f.Env
	ctx := env.Context
	if ctx == nil {
		ctx = context.Background()
	}
	open := env.Open
	if open == nil {
		open = dataset.Open
	}
	trainData, err := open(r.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("finetune: data %s: %w", r.Data, err)
	}
	var val dataset.Dataset
	if r.Val != "" {
		if val, err = open(r.Val); err != nil {
			return nil, nil, fmt.Errorf("finetune: val %s: %w", r.Val, err)
		}
	}
	sched, _ := optim.ParseSchedule(r.Schedule)
	aug, _ := ParseAugment(r.Augment)
	var opt optim.Optimizer
	if r.Optimizer == "adamw" {
		a := optim.NewAdamW()
		a.WeightDecay = r.weightDecay()
		opt = a
	} else {
		opt = &optim.SGD{Momentum: r.Momentum, Nesterov: r.Nesterov, WeightDecay: r.weightDecay()}
	}
	logits := ""
	if len(m.Graph.Outputs) > 0 {
		logits = m.Graph.Outputs[0].Name
	}
	tr, err := New(m, Options{Loss: loss.CrossEntropy{Logits: logits, LabelSmoothing: r.LabelSmoothing},
		Train: r.Train, Freeze: r.Freeze, KeepMasks: r.KeepMasks, Optimizer: opt, LR: r.lr(), Schedule: sched,
		ClipNorm: r.ClipNorm, Seed: r.Seed, FreezeBatchNorm: r.FreezeBN, Threads: env.Threads})
	if err != nil {
		return nil, nil, err
	}
	rep := &FinetuneReport{Recipe: passes.Step{Pass: "finetune", Params: r.Params()}, Trainable: len(tr.Program().Params()),
		Masked: tr.Masked(), Threads: tr.Program().Threads()}
	loader := &data.Loader{Data: trainData, BatchSize: r.Batch, Shuffle: true, Augment: aug, Seed: r.Seed,
		InputNames: tr.Program().InputNames()}
	if err := tr.Check(ctx, loader); err != nil {
		return nil, nil, fmt.Errorf("finetune: data %s: %w", r.Data, err)
	}
	if val != nil {
		before, err := tr.Evaluate(ctx, val, 100)
		if err != nil {
			return nil, nil, fmt.Errorf("finetune: val %s: %w", r.Val, err)
		}
		rep.Before = &before
	}
	fit, err := tr.Fit(ctx, FitOptions{Train: loader, Epochs: r.Epochs, Val: val, KeepBest: r.KeepBest && val != nil,
		Checkpoint: env.Checkpoint, CheckpointEvery: env.CheckpointEvery, Resume: env.Resume, Progress: env.Progress})
	if err != nil {
		return nil, nil, fmt.Errorf("finetune: %w", err)
	}
	rep.Fit = fit
	if val != nil {
		after := fit.Epochs[len(fit.Epochs)-1].Val
		if fit.Best != nil {
			after = fit.Best
		}
		rep.After = after
	}
	return tr, rep, nil
}

// Finetune fine-tunes m in place as r says and records the step (pipeline, change log,
// provenance) in m's metadata, so that whittle diff explains every changed weight.
func Finetune(m *ir.Model, r Recipe, env Env) (*FinetuneReport, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	ft := &Finetuner{Env: env}
	ctx := &passes.Context{VerifyEach: true, ToolVersion: env.ToolVersion, Finetuner: ft}
	if _, err := passes.Run(ctx, m, passes.Pipeline{{Pass: "finetune", Params: r.Params()}}); err != nil {
		return nil, err
	}
	if len(ft.Reports) == 0 {
		return nil, errors.New("finetune: the step did not run")
	}
	return ft.Reports[0], nil
}

// PruneReport is what PruneAndFinetune did in each round.
type PruneReport struct {
	Prune    []*passes.PruneReport `json:"prune"`
	Finetune []*FinetuneReport     `json:"finetune"`
}

// PruneAndFinetune prunes m in place and fine-tunes it after every pruning round: with
// steps rounds, round k prunes to k/steps of the target (unstructured: the sparsity
// grows linearly; channel: each round removes the same fraction of the channels left, so
// that the rounds together remove opts.Sparsity). The whole run is recorded as one
// pipeline whose change log explains both the pruning and the trained weights.
func PruneAndFinetune(m *ir.Model, opts passes.PruneOptions, steps int, r Recipe, env Env) (*PruneReport, error) {
	if steps < 1 {
		return nil, fmt.Errorf("prune: %d steps", steps)
	}
	if steps > 1 && opts.Pattern == passes.PatternNM {
		return nil, errors.New("prune: N:M pruning has one fixed sparsity; it cannot be reached in steps")
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	ft := &Finetuner{Env: env}
	ctx := &passes.Context{VerifyEach: true, ToolVersion: env.ToolVersion, Finetuner: ft}
	rep := &PruneReport{}
	ctx.OnReport = func(_ string, r any) {
		if pr, ok := r.(*passes.PruneReport); ok {
			rep.Prune = append(rep.Prune, pr)
		}
	}
	var pipeline passes.Pipeline
	for k := 1; k <= steps; k++ {
		pipeline = append(pipeline, passes.Step{Pass: "prune", Params: roundOptions(opts, k, steps).Params()},
			passes.Step{Pass: "finetune", Params: r.Params()})
	}
	if _, err := passes.Run(ctx, m, pipeline); err != nil {
		return nil, err
	}
	rep.Finetune = ft.Reports
	return rep, nil
}

// roundOptions returns the pruning options of round k of steps.
func roundOptions(opts passes.PruneOptions, k, steps int) passes.PruneOptions {
	if steps == 1 {
		return opts
	}
	o := opts
	scale := func(s float64) float64 {
		if opts.Pattern == passes.PatternChannel {
			// Each round removes the same share of what is left.
			return 1 - math.Pow(1-s, 1/float64(steps))
		}
		return s * float64(k) / float64(steps)
	}
	o.Sparsity = scale(opts.Sparsity)
	o.PerLayer = append([]passes.LayerSparsity(nil), opts.PerLayer...)
	for i := range o.PerLayer {
		o.PerLayer[i].Sparsity = scale(o.PerLayer[i].Sparsity)
	}
	return o
}

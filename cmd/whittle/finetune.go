package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/train"
)

func init() {
	register(&command{
		name:    "finetune",
		args:    "IN -o OUT --data SPEC [--val SPEC] [--epochs N] [--batch B] [--lr LR] [--optimizer sgd|adamw] [--schedule cosine] [--seed S] [--keep-masks] [--checkpoint FILE] [--resume FILE]",
		summary: "train a (pruned) model's weights on labelled data to recover its accuracy",
		help: `
Trains the weights of IN on labelled data with whittle's own training engine (reverse-mode
gradients over the ONNX graph, in Go) and writes OUT: the same inference model, the same
inputs and outputs, BatchNormalization in inference form, with the trained weights and
running statistics. Its metadata records the recipe, seed, epochs and final loss and
accuracy (key whittle.finetune), and 'whittle diff IN OUT' explains every changed weight.

The loss is cross-entropy on the model's first output (class scores) against the labels.
By default every float initializer with more than one element that feeds a
differentiable input trains; --train and --freeze choose by name (* wildcards). Pruned
weights (exact zeros in Conv/Gemm/MatMul weights) stay zero unless --keep-masks=false.

With --val the model is evaluated after every epoch and OUT gets the best epoch's
weights (--keep-best=false: the last epoch's). A progress bar with loss, accuracy and
images/s is drawn when stderr is a terminal; otherwise one line per epoch is printed.
--checkpoint FILE is rewritten after every epoch (and every --checkpoint-every steps);
a run killed or stopped (Ctrl-C) continues with --resume FILE and ends with the same
weights as an uninterrupted run. OUT is written only when training succeeds, through a
temporary file: a failed run (a loss that turns NaN, say) writes nothing and names the
epoch and step. Results are reproducible for a given --seed and --threads.

Data specs: ` + dataset.SpecHelp + `

Examples:
  whittle finetune pruned.onnx -o tuned.onnx --data fashion-mnist:train --val fashion-mnist:test --epochs 3
  whittle finetune pruned.onnx -o tuned.onnx --data fashion-mnist:train --optimizer adamw --lr 1e-3 --augment crop:2,flip
  whittle finetune big.onnx -o tuned.onnx --data train.npz --freeze 'stem.*' --checkpoint run.ckpt
  whittle finetune big.onnx -o tuned.onnx --data train.npz --resume run.ckpt --checkpoint run.ckpt`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "output model `FILE` (required)")
			rf := recipeFlags(fs, "")
			checkpoint := fs.String("checkpoint", "", "write a checkpoint to `FILE` after every epoch")
			every := fs.Int("checkpoint-every", 0, "also checkpoint every `N` steps")
			resume := fs.String("resume", "", "continue the run saved in checkpoint `FILE`")
			asJSON := jsonFlag(fs)
			threads := fs.Int("threads", 0, "goroutines training may use, `N` >= 1 (default: every core)")
			return func(e *env, args []string) error {
				if err := exactArgs(args, 1, "one input MODEL"); err != nil {
					return err
				}
				if *out == "" {
					return usagef("-o OUT is required")
				}
				r, err := rf.recipe()
				if err != nil {
					return err
				}
				if *every < 0 || *threads < 0 {
					return usagef("--checkpoint-every and --threads must not be negative")
				}
				m, err := loadModel(e, args[0])
				if err != nil {
					return err
				}
				ctx := e.ctx
				pr := newTrainProgress(e, *asJSON || *out == "-")
				env := train.Env{Context: ctx, Threads: *threads, Checkpoint: *checkpoint, CheckpointEvery: *every,
					Resume: *resume, Progress: pr.event, ToolVersion: whittle.Version()}
				t0 := time.Now()
				rep, err := train.Finetune(m, r, env)
				pr.finish()
				if err != nil {
					if ctx.Err() != nil && *checkpoint != "" {
						return fmt.Errorf("%s: stopped; continue with --resume %s (%w)", args[0], *checkpoint, err)
					}
					return fmt.Errorf("%s: %w", args[0], err)
				}
				if err := saveModel(e, *out, m, whittle.SaveOptions{}); err != nil {
					return err
				}
				if *asJSON {
					return printFinetuneJSON(e, args[0], *out, rep, time.Since(t0))
				}
				printFinetune(e.textOut(*out), args[0], *out, rep, time.Since(t0))
				return nil
			}
		},
	})
}

// recipeFlagSet holds the flags that make a train.Recipe; prefix names them for whittle
// prune ("finetune-").
type recipeFlagSet struct {
	prefix                                  string
	data, val, optimizer, schedule, augment *string
	epochs, batch, warmup                   *int
	lr, momentum, weightDecay, smoothing    *float64
	clip                                    *float64
	seed                                    *uint64
	nesterov, keepMasks, freezeBN, best     *bool
	trainGlobs, freezeGlobs                 *[]string
}

func recipeFlags(fs *pflag.FlagSet, prefix string) *recipeFlagSet {
	d := train.DefaultRecipe()
	n := func(s string) string { return prefix + s }
	return &recipeFlagSet{prefix: prefix,
		data:        fs.String(n("data"), "", "labelled training data `SPEC`"),
		val:         fs.String(n("val"), "", "validation data `SPEC`, evaluated after every epoch"),
		epochs:      fs.Int(n("epochs"), d.Epochs, "passes over the training data"),
		batch:       fs.Int(n("batch"), d.Batch, "batch size"),
		lr:          fs.Float64(n("lr"), 0, "base learning rate (default 0.01 for sgd, 0.001 for adamw)"),
		optimizer:   fs.String(n("optimizer"), d.Optimizer, "sgd or adamw"),
		momentum:    fs.Float64(n("momentum"), d.Momentum, "SGD momentum"),
		nesterov:    fs.Bool(n("nesterov"), d.Nesterov, "Nesterov momentum"),
		weightDecay: fs.Float64(n("weight-decay"), -1, "weight decay (default 5e-4 for sgd, 0.01 for adamw)"),
		schedule:    fs.String(n("schedule"), d.Schedule, "learning-rate schedule: cosine, constant, step:every=STEPS:gamma=G"),
		warmup:      fs.Int(n("warmup"), 0, "linear learning-rate warm-up over the first `N` steps"),
		smoothing:   fs.Float64(n("label-smoothing"), 0, "label smoothing of the cross-entropy"),
		clip:        fs.Float64(n("clip-norm"), 0, "clip the gradients' L2 norm to this (0: off)"),
		seed:        fs.Uint64(n("seed"), d.Seed, "seed of data order, augmentation and dropout"),
		augment:     fs.String(n("augment"), d.Augment, "image augmentation: none, flip, crop:P, crop:P,flip"),
		keepMasks:   fs.Bool(n("keep-masks"), d.KeepMasks, "keep pruned (zero) weights at zero"),
		trainGlobs:  fs.StringSlice(n("train"), nil, "train only initializers matching these `GLOBS`"),
		freezeGlobs: fs.StringSlice(n("freeze"), nil, "never train initializers matching these `GLOBS`"),
		freezeBN:    fs.Bool(n("freeze-bn"), false, "keep BatchNormalization's running statistics and use them while training"),
		best:        fs.Bool(n("keep-best"), d.KeepBest, "with --val, end with the best epoch's weights"),
	}
}

func (f *recipeFlagSet) recipe() (train.Recipe, error) {
	if *f.data == "" {
		return train.Recipe{}, usagef("--%sdata SPEC is required", f.prefix)
	}
	r := train.DefaultRecipe()
	r.Data, r.Val, r.Epochs, r.Batch, r.LR = *f.data, *f.val, *f.epochs, *f.batch, *f.lr
	r.Optimizer, r.Momentum, r.Nesterov, r.WeightDecay = *f.optimizer, *f.momentum, *f.nesterov, *f.weightDecay
	r.Schedule, r.LabelSmoothing, r.ClipNorm, r.Seed = *f.schedule, *f.smoothing, *f.clip, *f.seed
	r.Augment, r.KeepMasks, r.Train, r.Freeze = *f.augment, *f.keepMasks, *f.trainGlobs, *f.freezeGlobs
	r.FreezeBN, r.KeepBest = *f.freezeBN, *f.best
	if *f.warmup > 0 {
		r.Schedule += ":warmup=" + strconv.Itoa(*f.warmup)
	}
	if err := r.Validate(); err != nil {
		return r, usagef("%v", err)
	}
	return r, nil
}

// trainProgress shows training: a bar per epoch on a terminal, a line per epoch otherwise
// (on stderr when stdout carries JSON or the model).
type trainProgress struct {
	e     *env
	bar   *progressbar.ProgressBar
	lines io.Writer
}

func newTrainProgress(e *env, toStderr bool) *trainProgress {
	p := &trainProgress{e: e, lines: e.stdout}
	if toStderr {
		p.lines = e.stderr
	}
	return p
}

func (p *trainProgress) event(ev train.Event) {
	switch ev.Kind {
	case train.StepDone:
		if !p.e.stderrTerminal {
			return
		}
		if p.bar == nil {
			p.bar = progressbar.NewOptions(ev.Steps, progressbar.OptionSetWriter(p.e.stderr),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
				progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100_000_000))
		}
		p.bar.Describe(fmt.Sprintf("epoch %d/%d  loss %.4f  acc %.2f%%  %.0f img/s", ev.Epoch, ev.Epochs, ev.Loss, ev.Accuracy, ev.SamplesPerSec))
		_ = p.bar.Set(ev.Step)
	case train.EpochDone:
		if p.bar != nil {
			_ = p.bar.Finish()
			p.bar = nil
		}
		line := fmt.Sprintf("epoch %d/%d  loss %.4f  train acc %.2f%%  %.0f img/s", ev.Epoch, ev.Epochs, ev.Loss, ev.Accuracy, ev.SamplesPerSec)
		if ev.Val != nil {
			line += fmt.Sprintf("  val acc %.2f%% (%d/%d)", ev.Val.Accuracy, ev.Val.Correct, ev.Val.Rows)
		}
		fmt.Fprintln(p.lines, line)
	}
}

func (p *trainProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

func printFinetuneJSON(e *env, in, out string, rep *train.FinetuneReport, took time.Duration) error {
	return printJSON(e, "finetune", struct {
		Input   string  `json:"input"`
		Output  string  `json:"output"`
		Seconds float64 `json:"seconds"`
		*train.FinetuneReport
	}{in, out, took.Seconds(), rep})
}

func printFinetune(w io.Writer, in, out string, rep *train.FinetuneReport, took time.Duration) {
	fmt.Fprintf(w, "fine-tuned %s -> %s: %d epochs, %d steps, %d tensors trained", in, out,
		len(rep.Fit.Epochs), rep.Fit.Steps, rep.Trainable)
	if rep.Masked > 0 {
		fmt.Fprintf(w, ", %d pruned weights kept at zero", rep.Masked)
	}
	fmt.Fprintf(w, ", %.1f s\n", took.Seconds())
	if rep.Before != nil && rep.After != nil {
		fmt.Fprintf(w, "val top-1 %.2f%% -> %.2f%% (%+.2f pp)", rep.Before.Accuracy, rep.After.Accuracy, rep.After.Accuracy-rep.Before.Accuracy)
		if rep.Fit.BestEpoch > 0 {
			fmt.Fprintf(w, ", weights of epoch %d", rep.Fit.BestEpoch)
		}
		fmt.Fprintln(w)
	}
}

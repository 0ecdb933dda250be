package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/train"
)

func init() {
	register(&command{
		name:    "prune",
		args:    "IN -o OUT --sparsity S [--scope layer|global] [--pattern unstructured|N:M|channel] [--norm l1|l2] [--exclude NAMES] [--per-layer NAME=S] [--report FILE] [--finetune-data SPEC --finetune-epochs N [--steps K]]",
		summary: "magnitude pruning: zero small weights (unstructured, N:M) or remove whole channels",
		help: `
Prunes the weights of Conv, ConvTranspose, Gemm and MatMul layers by magnitude (biases,
normalizations and everything else are never touched) and writes OUT.

Patterns:
  unstructured  zero the smallest |w|: each layer to S (--scope layer) or with one
                threshold over all weights (--scope global, the same selection as
                torch.nn.utils.prune.global_unstructured with L1Unstructured). The file
                keeps its size; its compressed size shrinks.
  N:M (2:4)     keep the N largest |w| of every M consecutive weights along the input
                channels (the layout sparse tensor cores run); --sparsity is implied.
  channel       remove the S fraction of output channels with the smallest L1/L2 filter
                norm from Conv/Gemm layers and shrink what depends on them (bias,
                BatchNormalization, activations, the next layer's inputs, Flatten->Gemm
                features, Concat offsets, depthwise and grouped convolutions, transformer
                MLP widths and attention heads); layers tied through a residual Add prune
                the same channels. The model gets smaller and faster. --attention heads
                removes whole attention heads, dims (default) the same number of
                dimensions from every head, keep leaves attention alone.

Layers are named by node name or weight initializer name; * is a wildcard. The report
(text on stdout, JSON with --report) gives each layer's sparsity, parameters and MACs
(batch 1) before and after, what was pruned together and what was skipped and why, and
the file size before and after, raw, gzip and zstd.

With --finetune-data the pruned model is fine-tuned on that labelled data (as whittle
finetune does; every --finetune-* flag is that command's flag of the same name) so that
it recovers its accuracy, and with --steps K pruning is iterative: K rounds, each pruning
a share of the target (unstructured: the sparsity grows by S/K per round; channel: each
round removes the same fraction of the channels left) and fine-tuning for
--finetune-epochs epochs. The output records the whole run as one pipeline.

Examples:
  whittle prune model.onnx -o sparse.onnx --sparsity 0.5 --scope global
  whittle prune model.onnx -o sparse24.onnx --pattern 2:4
  whittle prune model.onnx -o slim.onnx --pattern channel --sparsity 0.25 --report prune.json
  whittle prune vit.onnx -o narrow.onnx --pattern channel --sparsity 0.5 --attention heads
  whittle prune model.onnx -o slim.onnx --pattern channel --sparsity 0.5 --exclude '/layer4/*' --per-layer /conv1/Conv=0.1
  whittle prune model.onnx -o slim.onnx --pattern channel --sparsity 0.5 --finetune-data fashion-mnist:train --finetune-val fashion-mnist:test --finetune-epochs 3
  whittle prune model.onnx -o sparse.onnx --sparsity 0.9 --scope global --steps 3 --finetune-data fashion-mnist:train --finetune-epochs 2`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "output model `FILE` (required)")
			sparsity := fs.Float64("sparsity", -1, "fraction to remove, in [0, 1): of weights, or of channels with --pattern channel")
			scope := fs.String("scope", passes.ScopeLayer, "layer or global")
			pattern := fs.String("pattern", passes.PatternUnstructured, "unstructured, N:M (e.g. 2:4) or channel")
			norm := fs.String("norm", "l1", "channel ranking norm: l1 or l2")
			attention := fs.String("attention", passes.AttentionDims, "with --pattern channel, multi-head attention: dims (each head keeps as many dimensions), heads (whole heads go) or keep")
			exclude := fs.StringSlice("exclude", nil, "layers never pruned (node or weight `NAMES`, comma-separated, * wildcards)")
			perLayer := fs.StringArray("per-layer", nil, "sparsity of one layer as `NAME=S`; repeat for more")
			asJSON := jsonFlag(fs)
			report := fs.String("report", "", "write the report as JSON to `FILE` (FILE.html: the HTML page of 'whittle report')")
			ft := recipeFlags(fs, "finetune-")
			steps := fs.Int("steps", 1, "prune in `K` rounds, fine-tuning after each (needs --finetune-data)")
			return func(e *env, args []string) error {
				if err := exactArgs(args, 1, "one input MODEL"); err != nil {
					return err
				}
				if *out == "" {
					return usagef("-o OUT is required")
				}
				opts := whittle.PruneOptions{Scope: strings.ToLower(*scope), Pattern: *pattern, Norm: strings.ToLower(*norm),
					Attention: strings.ToLower(*attention), Exclude: *exclude, MeasureFiles: true,
					Overwrite: true} // runPrune loaded the model and keeps no other copy of it
				if *sparsity >= 0 {
					opts.Sparsity = *sparsity
				}
				for _, s := range *perLayer {
					pl, err := passes.ParseLayerSparsity(s)
					if err != nil {
						return usagef("--per-layer: %v", err)
					}
					opts.PerLayer = append(opts.PerLayer, pl)
				}
				if err := e.startJSON(*asJSON, *out); err != nil {
					return err
				}
				if *ft.data != "" || *steps != 1 {
					if *asJSON {
						return usagef("--json is not yet available with --steps/--finetune-data")
					}
					if *steps < 1 {
						return usagef("--steps must be at least 1")
					}
					r, err := ft.recipe()
					if err != nil {
						return err
					}
					return runPruneFinetune(e, args[0], *out, opts, *steps, r)
				}
				return runPrune(e, args[0], *out, opts, *report)
			}
		},
	})
}

func runPrune(e *env, in, out string, opts whittle.PruneOptions, reportPath string) error {
	if _, err := opts.Options(); err != nil {
		return err // a usage error, before reading the model
	}
	m, err := loadModel(e, in)
	if err != nil {
		return err
	}
	res, err := whittle.Prune(m, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := saveModel(e, out, m, whittle.SaveOptions{}); err != nil {
		return err
	}
	if err := res.Report.WriteText(e.textOut(out)); err != nil {
		return err
	}
	if isHTML(reportPath) {
		if err := writeReport(e, []string{in, out}, reportPath, reportData{samples: 16, runs: 5}); err != nil {
			return err
		}
	} else if reportPath != "" {
		if err := writeJSONFile(reportPath, res.Report); err != nil {
			return err
		}
	}
	if e.jsonOut {
		return printJSON(e, "prune", res.Report)
	}
	return nil
}

// runPruneFinetune prunes and fine-tunes, in one or more rounds.
func runPruneFinetune(e *env, in, out string, opts whittle.PruneOptions, steps int, r train.Recipe) error {
	po, err := opts.Options()
	if err != nil {
		return err // a usage error, before reading the model
	}
	m, err := loadModel(e, in)
	if err != nil {
		return err
	}
	ctx := e.ctx
	pr := newTrainProgress(e, out == "-")
	t0 := time.Now()
	rep, err := train.PruneAndFinetune(m, po, steps, r, train.Env{Context: ctx, Progress: pr.event, ToolVersion: whittle.Version()})
	pr.finish()
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := saveModel(e, out, m, whittle.SaveOptions{}); err != nil {
		return err
	}
	w := e.textOut(out)
	for k, p := range rep.Prune {
		fmt.Fprintf(w, "round %d of %d: prune %s to sparsity %.4g\n", k+1, steps, p.Pattern, p.Sparsity)
		if err := p.WriteText(w); err != nil {
			return err
		}
		if k < len(rep.Finetune) {
			printFinetune(w, in, out, rep.Finetune[k], time.Since(t0))
		}
	}
	return nil
}

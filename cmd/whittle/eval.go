package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/dataset"
)

func init() {
	register(&command{
		name:    "eval",
		args:    "MODEL --data SPEC [--limit N] [--batch B] [--json]",
		summary: "measure a classifier's top-1/top-5 accuracy on labelled data",
		help: `
Runs MODEL on labelled data and prints top-1 and top-5 accuracy, a confusion summary
(per-class accuracy and the most frequent confusions) and throughput. The model's first
output is taken as class scores [N, classes]. A progress bar is drawn on a terminal.

Data specs: ` + dataset.SpecHelp + `

Examples:
  whittle eval testmodels/fashion_cnn_op17.onnx --data fashion-mnist:test
  whittle eval model.onnx --data fashion-mnist:test --limit 1000 --batch 100 --json
  whittle eval model.onnx --data fashion-mnist:test@/data/fmnist
  whittle eval resnet18.onnx --data images:imagenet/val --preprocess imagenet`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			applyThreads := threadsFlag(fs)
			data := fs.String("data", "", "labelled data `SPEC` (required)")
			limit := fs.Int("limit", 0, "evaluate only the first `N` rows")
			batch := fs.Int("batch", 100, "rows per run")
			asJSON := jsonFlag(fs)
			preprocess := preprocessFlag(fs)
			withTimeout := timeoutFlag(fs)
			shard := fs.String("shard", "", "evaluate only shard `K/N` of the data (whole batches; --merge adds shards up)")
			merge := fs.String("merge", "", "add up the --json results of every shard in files matching `GLOB` instead of evaluating")
			return func(e *env, args []string) error {
				if *merge != "" {
					return mergeEval(e, *merge, *asJSON)
				}
				defer applyThreads()()
				ctx, cancel := withTimeout(e.ctx)
				defer cancel()
				if err := exactArgs(args, 1, "one MODEL"); err != nil {
					return err
				}
				if *data == "" {
					return usagef("--data SPEC is required")
				}
				if *batch < 1 || *limit < 0 {
					return usagef("--batch must be >= 1 and --limit >= 0")
				}
				var sh whittle.Shard
				if *shard != "" {
					var err error
					if sh.K, sh.N, err = dataset.ParseShard(*shard); err != nil {
						return usagef("--shard: %v", err)
					}
				}
				m, err := loadModel(e, args[0])
				if err != nil {
					return err
				}
				progress, finish := e.progressFunc()
				res, err := whittle.Evaluate(m, whittle.EvaluateOptions{Data: *data, Preprocess: *preprocess, Limit: *limit,
					BatchSize: *batch, Progress: progress, Context: ctx, Shard: sh})
				finish()
				if cause := stopCause(ctx, err); cause != nil {
					return fmt.Errorf("%s: %w", args[0], cause)
				}
				if err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
				res.Model = args[0]
				if *asJSON {
					return printJSON(e, "eval", res)
				}
				printEval(e, res)
				return nil
			}
		},
	})
}

func printEval(e *env, r *whittle.EvalResult) {
	w := e.stdout
	fmt.Fprintf(w, "%s on %s: %d rows\n", r.Model, r.Data, r.Rows)
	fmt.Fprintf(w, "  top-1 %.2f%% (%d/%d)   top-5 %.2f%% (%d/%d)\n", r.Top1, r.Top1Correct, r.Rows, r.Top5, r.Top5Correct, r.Rows)
	fmt.Fprintf(w, "  %.1f rows/s, %.1f ms per batch of %d\n", r.RowsPerSec, r.MsPerBatch, r.BatchSize)
	if r.Classes == 0 {
		return
	}
	fmt.Fprintf(w, "\nPer-class top-1:\n")
	for c, acc := range r.PerClassTop1 {
		fmt.Fprintf(w, "  class %2d  %6.2f%%\n", c, acc)
	}
	type pair struct{ truth, pred, n int }
	var pairs []pair
	for t, row := range r.Confusion {
		for p, n := range row {
			if t != p && n > 0 {
				pairs = append(pairs, pair{t, p, n})
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].n > pairs[j].n })
	if len(pairs) > 5 {
		pairs = pairs[:5]
	}
	if len(pairs) > 0 {
		fmt.Fprintf(w, "\nMost frequent confusions (true -> predicted):\n")
		for _, p := range pairs {
			fmt.Fprintf(w, "  %2d -> %2d  %d\n", p.truth, p.pred, p.n)
		}
	}
}

// mergeEval adds up shard results written by 'whittle eval --shard K/N --json'.
func mergeEval(e *env, pattern string, asJSON bool) error {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		return usagef("--merge %q matches no file", pattern)
	}
	var parts []*whittle.EvalResult
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var r whittle.EvalResult
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		parts = append(parts, &r)
	}
	res, err := whittle.MergeEvalResults(parts)
	if err != nil {
		return fmt.Errorf("--merge %s: %w", pattern, err)
	}
	if asJSON {
		return printJSON(e, "eval", res)
	}
	printEval(e, res)
	return nil
}

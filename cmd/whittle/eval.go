package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/runtime"
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
			asJSON := fs.Bool("json", false, "print JSON")
			preprocess := preprocessFlag(fs)
			return func(e *env, args []string) error {
				defer applyThreads()()
				if err := exactArgs(args, 1, "one MODEL"); err != nil {
					return err
				}
				if *data == "" {
					return usagef("--data SPEC is required")
				}
				if *batch < 1 || *limit < 0 {
					return usagef("--batch must be >= 1 and --limit >= 0")
				}
				res, err := Evaluate(e, args[0], *data, *preprocess, *limit, *batch)
				if err != nil {
					return err
				}
				if *asJSON {
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(res)
				}
				printEval(e, res)
				return nil
			}
		},
	})
}

// EvalResult is what whittle eval measures.
type EvalResult struct {
	Model        string    `json:"model"`
	Data         string    `json:"data"`
	Rows         int       `json:"rows"`
	Top1Correct  int       `json:"top1_correct"`
	Top1         float64   `json:"top1"` // percent
	Top5Correct  int       `json:"top5_correct"`
	Top5         float64   `json:"top5"` // percent
	Classes      int       `json:"classes"`
	Confusion    [][]int   `json:"confusion"` // [true][predicted]
	Seconds      float64   `json:"seconds"`
	RowsPerSec   float64   `json:"rows_per_second"`
	BatchSize    int       `json:"batch_size"`
	MsPerBatch   float64   `json:"ms_per_batch"`
	PerClassTop1 []float64 `json:"per_class_top1"`
}

// Evaluate runs a classifier over labelled data.
func Evaluate(e *env, path, spec, preprocess string, limit, batch int) (*EvalResult, error) {
	m, err := loadModel(e, path)
	if err != nil {
		return nil, err
	}
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	ds, err := openData(spec, preprocess)
	if err != nil {
		return nil, err
	}
	if limit > 0 {
		ds = dataset.Head(ds, limit)
	}
	inputNames := []string{}
	for _, v := range realInputs(m.Graph) {
		inputNames = append(inputNames, v.Name)
	}
	outName := sess.OutputNames()[0]
	res := &EvalResult{Model: path, Data: spec, BatchSize: batch}
	bar := newProgress(e, ds.Len(), "evaluating")
	ctx := context.Background()
	start := time.Now()
	runs := 0
	err = dataset.Each(ds, batch, func(first int, b dataset.Batch) error {
		if b.Labels == nil {
			return fmt.Errorf("%s has no labels", spec)
		}
		if len(b.Inputs) != len(inputNames) {
			return fmt.Errorf("%s gives %d inputs, the model takes %d (%v)", spec, len(b.Inputs), len(inputNames), inputNames)
		}
		feeds := map[string]*runtime.Tensor{}
		for i, t := range b.Inputs {
			name := inputNames[i]
			if t.Name != "" && contains(inputNames, t.Name) {
				name = t.Name
			}
			rt, err := datafeed.FromDataset(t)
			if err != nil {
				return err
			}
			feeds[name] = rt
		}
		outs, err := sess.Run(ctx, feeds)
		if err != nil {
			return fmt.Errorf("rows %d..%d: %w", first, first+b.Size(), err)
		}
		runs++
		scores := outs[outName]
		logits, ok := scores.Data.([]float32)
		if !ok || len(scores.Shape) != 2 || int(scores.Shape[0]) != len(b.Labels) {
			return fmt.Errorf("output %q is %s; want float scores [%d, classes]", outName, scores, len(b.Labels))
		}
		classes := int(scores.Shape[1])
		if res.Classes == 0 {
			res.Classes = classes
			res.Confusion = make([][]int, classes)
			for i := range res.Confusion {
				res.Confusion[i] = make([]int, classes)
			}
		}
		for r, label := range b.Labels {
			row := logits[r*classes : (r+1)*classes]
			order := topK(row, 5)
			if int(label) < 0 || int(label) >= classes {
				return fmt.Errorf("row %d: label %d outside [0,%d)", first+r, label, classes)
			}
			res.Confusion[label][order[0]]++
			if order[0] == int(label) {
				res.Top1Correct++
			}
			for _, c := range order {
				if c == int(label) {
					res.Top5Correct++
					break
				}
			}
			res.Rows++
		}
		bar.Add(b.Size())
		return nil
	})
	bar.Finish()
	if err != nil {
		return nil, err
	}
	res.Seconds = time.Since(start).Seconds()
	if res.Rows > 0 {
		res.Top1 = 100 * float64(res.Top1Correct) / float64(res.Rows)
		res.Top5 = 100 * float64(res.Top5Correct) / float64(res.Rows)
		res.RowsPerSec = float64(res.Rows) / res.Seconds
		res.MsPerBatch = 1000 * res.Seconds / float64(runs)
	}
	for c := range res.Confusion {
		total := 0
		for _, n := range res.Confusion[c] {
			total += n
		}
		acc := 0.0
		if total > 0 {
			acc = 100 * float64(res.Confusion[c][c]) / float64(total)
		}
		res.PerClassTop1 = append(res.PerClassTop1, acc)
	}
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// topK returns the indices of the k largest scores, best first (lower index first on ties).
func topK(row []float32, k int) []int {
	idx := make([]int, len(row))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return row[idx[a]] > row[idx[b]] })
	if k > len(idx) {
		k = len(idx)
	}
	return idx[:k]
}

func printEval(e *env, r *EvalResult) {
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

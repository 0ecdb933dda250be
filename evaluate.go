package whittle

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
)

// EvaluateOptions tune Evaluate.
type EvaluateOptions struct {
	// Data is labelled data (a dataset spec) and Preprocess how images:DIR data becomes
	// model inputs (a preprocessing spec).
	Data, Preprocess string
	// Limit evaluates only the first rows (0: all); BatchSize is the rows per run (0: 100).
	Limit, BatchSize int
	// Shard, when set, evaluates only that shard of the data (dataset.Shard, batches of
	// BatchSize): the counts of all shards add up to those of one run (MergeEvalResults).
	Shard Shard
	// Progress, when set, is told about every batch.
	Progress func(Progress)
	// Context, when set, cancels the evaluation (between batches and model nodes) with
	// its error.
	Context context.Context
}

// EvalResult is what Evaluate measures.
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
	// Shard and Shards say which part of the data was evaluated (absent: all of it).
	Shard  int `json:"shard,omitempty"`
	Shards int `json:"shards,omitempty"`
}

// MergeEvalResults adds up the counts of shard evaluations of one model on one data set
// (each shard once) into the result of one run over all of it; times add up too.
func MergeEvalResults(parts []*EvalResult) (*EvalResult, error) {
	if len(parts) == 0 {
		return nil, optionsErrorf("no evaluation results to merge")
	}
	first := parts[0]
	out := &EvalResult{Model: first.Model, Data: first.Data, BatchSize: first.BatchSize, Classes: first.Classes}
	seen := map[int]bool{}
	for _, p := range parts {
		if p.Data != first.Data || p.Shards != first.Shards || p.Classes != first.Classes {
			return nil, optionsErrorf("evaluation results of different data, shard counts or classes")
		}
		if p.Shards > 0 && (seen[p.Shard] || p.Shard < 1 || p.Shard > p.Shards) {
			return nil, optionsErrorf("shard %d/%d given twice or out of range", p.Shard, p.Shards)
		}
		seen[p.Shard] = true
		out.Rows += p.Rows
		out.Top1Correct += p.Top1Correct
		out.Top5Correct += p.Top5Correct
		out.Seconds += p.Seconds
		if out.Confusion == nil {
			out.Confusion = make([][]int, len(p.Confusion))
			for i := range out.Confusion {
				out.Confusion[i] = make([]int, len(p.Confusion[i]))
			}
		}
		for i := range p.Confusion {
			for j := range p.Confusion[i] {
				out.Confusion[i][j] += p.Confusion[i][j]
			}
		}
	}
	if first.Shards > 0 && len(seen) != first.Shards {
		return nil, optionsErrorf("%d of %d shards given", len(seen), first.Shards)
	}
	if out.Rows > 0 {
		out.Top1 = 100 * float64(out.Top1Correct) / float64(out.Rows)
		out.Top5 = 100 * float64(out.Top5Correct) / float64(out.Rows)
	}
	if out.Seconds > 0 {
		out.RowsPerSec = float64(out.Rows) / out.Seconds
	}
	out.PerClassTop1 = make([]float64, len(out.Confusion))
	for c, row := range out.Confusion {
		total := 0
		for _, n := range row {
			total += n
		}
		if total > 0 {
			out.PerClassTop1[c] = 100 * float64(row[c]) / float64(total)
		}
	}
	return out, nil
}

// Evaluate runs a classifier over labelled data with whittle's runtime and measures top-1
// and top-5 accuracy, the confusion matrix and throughput. The model's first output is
// taken as class scores [N, classes].
func Evaluate(m *ir.Model, opts EvaluateOptions) (*EvalResult, error) {
	batch := opts.BatchSize
	if batch == 0 {
		batch = 100
	}
	if batch < 0 || opts.Limit < 0 {
		return nil, optionsErrorf("batch size %d and limit %d must not be negative", batch, opts.Limit)
	}
	if opts.Data == "" {
		return nil, optionsErrorf("evaluation needs labelled data")
	}
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return nil, classify(err)
	}
	ds, err := OpenData(opts.Data, opts.Preprocess)
	if err != nil {
		return nil, err
	}
	if opts.Limit > 0 {
		ds = dataset.Head(ds, opts.Limit)
	}
	if opts.Shard != (Shard{}) {
		if ds, err = dataset.Shard(ds, opts.Shard.K, opts.Shard.N, batch); err != nil {
			return nil, optionsErrorf("%v", err)
		}
	}
	outName := sess.OutputNames()[0]
	res := &EvalResult{Data: opts.Data, BatchSize: batch, Shard: opts.Shard.K, Shards: opts.Shard.N}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	start := time.Now()
	runs := 0
	err = dataset.Each(ds, batch, func(first int, b dataset.Batch) error {
		if b.Labels == nil {
			return optionsErrorf("%s has no labels", opts.Data)
		}
		feeds, err := datafeed.BatchFeeds(m, b)
		if err != nil {
			return fmt.Errorf("%s: %w", opts.Data, err)
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
			order := topK(logits[r*classes:(r+1)*classes], 5)
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
		if opts.Progress != nil {
			opts.Progress(Progress{Stage: "evaluating", Done: first + b.Size(), Total: ds.Len()})
		}
		return nil
	})
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

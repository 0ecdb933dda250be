package whittle

import (
	"github.com/whittle-ml/whittle/compare"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/irdiff"
)

// CompareOptions tune Compare: compare.Options, with the data named by a dataset spec.
type CompareOptions struct {
	// Data is a dataset spec (dataset.SpecHelp); empty means random inputs made from A's
	// declared input shapes (Options.RandomSamples rows, Options.Seed).
	Data string
	// Preprocess says how images:DIR data becomes model inputs (dataset.PreprocessHelp).
	Preprocess string
	compare.Options
	// Progress, when set, is told about every batch.
	Progress func(Progress)
}

// Compare runs a (the reference) and b with whittle's runtime on the same inputs and
// measures how far b's outputs are from a's: error metrics and SQNR per output, top-1 and
// top-5 agreement, accuracy when the data has labels and, with Options.PerLayer, where
// error enters layer by layer. A tolerance that fails shows in Result.Failures, not as an
// error.
func Compare(a, b *ir.Model, opts CompareOptions) (*compare.Result, error) {
	o := opts.Options
	if opts.Data != "" {
		data, err := OpenData(opts.Data, opts.Preprocess)
		if err != nil {
			return nil, err
		}
		o.Data = data
	}
	if opts.Progress != nil {
		o.Progress = func(done, total int) { opts.Progress(Progress{Stage: "comparing", Done: done, Total: total}) }
	}
	res, err := compare.Models(a, b, o)
	return res, classify(err)
}

// Diff reports how b differs from a: nodes, attributes, wiring, weights, inputs and
// outputs and totals, each difference explained by the pass of b's change log that made
// it. It is irdiff.Compare; opts.InferShapes is worth setting for models whose files
// state few shapes.
func Diff(a, b *ir.Model, opts irdiff.Options) (*irdiff.Diff, error) {
	return irdiff.Compare(a, b, opts)
}

package whittle

import (
	"bytes"
	"compress/gzip"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
)

// PruneOptions tune Prune. Zero fields take passes.DefaultPruneOptions' values, except
// Sparsity, which must be given unless Pattern is N:M.
type PruneOptions struct {
	// Sparsity is the fraction to remove, in (0, 1): of weights, or of output channels
	// with Pattern "channel". An N:M pattern implies it.
	Sparsity float64
	// Scope is "layer" (each layer to Sparsity) or "global" (one magnitude ranking over
	// all weights, as torch's global_unstructured).
	Scope string
	// Pattern is "unstructured", "N:M" (e.g. "2:4") or "channel".
	Pattern string
	// Norm ranks channels: "l1" or "l2".
	Norm string
	// Attention says how channel pruning treats multi-head attention: "dims", "heads" or
	// "keep".
	Attention string
	// Exclude lists layers never pruned: node or weight names, * wildcards.
	Exclude []string
	// PerLayer overrides Sparsity for matching layers.
	PerLayer []passes.LayerSparsity
	// MeasureFiles encodes the model before and after and reports the sizes raw, gzip'd
	// and zstd'd in the report's Files (unstructured sparsity shrinks the compressed
	// file, channel pruning the raw one). Models whose initializers pass
	// MaxMeasuredBytes are not measured: the two encodings and compressions would cost
	// more time and memory than the pruning (and past 2 GiB there is no inline encoding).
	MeasureFiles bool
	// ToolVersion is recorded in the history (empty: Version()).
	ToolVersion string
	// Overwrite lets Prune write the pruned float32 weights into m's own tensor bytes
	// instead of copies, so a model is pruned holding its weights once: set it only when
	// nothing else shares m's tensors (no clone of m, no session over it), as for a model
	// just loaded (passes.Context.OwnsData).
	Overwrite bool
}

// Options returns the pass options o stands for, checked.
func (o PruneOptions) Options() (passes.PruneOptions, error) {
	p := passes.DefaultPruneOptions()
	for dst, src := range map[*string]string{&p.Scope: o.Scope, &p.Norm: o.Norm, &p.Attention: o.Attention} {
		if src != "" {
			*dst = src
		}
	}
	if o.Pattern != "" {
		if err := p.ParsePattern(o.Pattern); err != nil {
			return p, fmt.Errorf("%w: %w", ErrOptions, err)
		}
	}
	switch {
	case p.Pattern == passes.PatternNM:
		implied := 1 - float64(p.N)/float64(p.M)
		if o.Sparsity != 0 && o.Sparsity != implied {
			return p, optionsErrorf("sparsity %g contradicts pattern %d:%d (which removes %g)", o.Sparsity, p.N, p.M, implied)
		}
		p.Sparsity = implied
	case o.Sparsity <= 0:
		return p, optionsErrorf("give a sparsity in (0, 1) (or an N:M pattern)")
	default:
		p.Sparsity = o.Sparsity
	}
	p.Exclude, p.PerLayer = o.Exclude, o.PerLayer
	if err := p.Validate(); err != nil {
		return p, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	return p, nil
}

// PruneResult is what Prune did.
type PruneResult struct {
	// Report gives each layer before and after, what was pruned together, what was
	// skipped and why.
	Report *passes.PruneReport `json:"report"`
	Applied
}

// Prune prunes m's Conv, ConvTranspose, Gemm and MatMul weights by magnitude, in place:
// zeros (unstructured, N:M) or whole output channels, shrinking everything that depends
// on them. It records the step "prune:..." in m's history.
func Prune(m *ir.Model, opts PruneOptions) (*PruneResult, error) {
	po, err := opts.Options()
	if err != nil {
		return nil, err
	}
	var before []byte
	measure := opts.MeasureFiles && initializerBytes(m) <= MaxMeasuredBytes
	if measure {
		if before, err = Encode(m); err != nil {
			return nil, err
		}
	}
	ctx := PassContext(opts.ToolVersion)
	ctx.VerifyEach = true
	ctx.OwnsData = opts.Overwrite
	res := &PruneResult{}
	ctx.OnReport = func(_ string, rep any) { res.Report, _ = rep.(*passes.PruneReport) }
	p := passes.Pipeline{{Pass: "prune", Params: po.Params()}}
	if _, err := passes.Run(ctx, m, p); err != nil {
		return nil, classify(err)
	}
	res.Applied.Applied = passes.Recipe{p}
	if res.Report == nil {
		return nil, fmt.Errorf("prune: the pass made no report")
	}
	if measure {
		after, err := Encode(m)
		if err != nil {
			return nil, err
		}
		files := &passes.FileSizes{}
		if files.Before, err = MeasureCompressed(before); err != nil {
			return nil, err
		}
		if files.After, err = MeasureCompressed(after); err != nil {
			return nil, err
		}
		res.Report.Files = files
	}
	return res, nil
}

// MaxMeasuredBytes is the largest total of initializer bytes for which
// PruneOptions.MeasureFiles measures the files.
const MaxMeasuredBytes = 512 << 20

// initializerBytes sums the data of every initializer in m's graphs.
func initializerBytes(m *ir.Model) int64 {
	var n int64
	for _, g := range m.Graphs() {
		for _, v := range g.Initializers {
			if v.Const != nil {
				n += int64(len(v.Const.Raw))
			}
		}
	}
	return n
}

// MeasureCompressed compresses data with gzip and zstd and returns the three sizes.
func MeasureCompressed(data []byte) (passes.CompressedSizes, error) {
	s := passes.CompressedSizes{Raw: int64(len(data))}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return s, err
	}
	if _, err := zw.Write(data); err != nil {
		return s, err
	}
	if err := zw.Close(); err != nil {
		return s, err
	}
	s.Gzip = int64(buf.Len())
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return s, err
	}
	s.Zstd = int64(len(enc.EncodeAll(data, nil)))
	if err := enc.Close(); err != nil {
		return s, err
	}
	return s, nil
}

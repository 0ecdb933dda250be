package passes

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/whittle-ml/whittle/ir"
)

// N:M pruning keeps the N largest |w| in every group of M consecutive weights along a
// layer's reduction axis, the layout of NVIDIA's sparse tensor cores (2:4) as TensorRT and
// apex's ASP build it: for Conv W[out, in/g, kh, kw] the groups run along the input-channel
// axis for each output channel and kernel position (w[o, c..c+M-1, y, x]); for Gemm B[K, N]
// along K for each output column (B[N, K] with transB: along K for each row); for MatMul
// with constant B[..., K, N] along K; for ConvTranspose W[in, out/g, k...] along the input
// channels (axis 0). Layers whose reduction size is not a multiple of M are skipped and
// reported. Within a group, of equal magnitudes the earlier index is removed first (the
// tie rule of every prune pattern).

// nmLayout splits dims around axis: outer × L × inner, element (o, l, i) at
// (o*L + l)*inner + i.
func nmLayout(dims []int64, axis int) (outer, l, inner int) {
	outer, inner = 1, 1
	for i, d := range dims {
		switch {
		case i < axis:
			outer *= int(d)
		case i > axis:
			inner *= int(d)
		}
	}
	return outer, int(dims[axis]), inner
}

// nmMask marks the weights an N:M pattern removes: in each group the M-N smallest |w|.
func nmMask(w []float64, dims []int64, axis, n, m int) []bool {
	outer, l, inner := nmLayout(dims, axis)
	mask := make([]bool, len(w))
	keys := make([]float64, m)
	idx := make([]int, m)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			for b := 0; b < l; b += m {
				for k := 0; k < m; k++ {
					idx[k] = (o*l+b+k)*inner + i
					keys[k] = w[idx[k]]
				}
				drop, _ := smallestK(absKeys(keys), m-n)
				for k, d := range drop {
					if d {
						mask[idx[k]] = true
					}
				}
			}
		}
	}
	return mask
}

// nmRaw32 is nmMask and applyMask for float32 weights given as little-endian bytes: in
// each group it zeroes the M-N weights of smallest magnitude (equal magnitudes, the
// earlier index first) and returns the new bytes, or nil when nothing changes. It reads
// the weights where they lie: one copy of them is made, the result; with inPlace none, the
// zeros going into raw itself (after a first pass has checked that every weight can be
// ranked, so that an error leaves raw as it was).
func nmRaw32(raw []byte, dims []int64, axis, n, m int, inPlace bool) ([]byte, error) {
	if inPlace {
		for i := range len(raw) / 4 {
			if bits := binary.LittleEndian.Uint32(raw[4*i:]); bits&^(1<<31) >= 0x7f800000 {
				return nil, unrankable(float64(math.Float32frombits(bits)), i)
			}
		}
	}
	outer, l, inner := nmLayout(dims, axis)
	idx := make([]int, m)
	mags := make([]uint32, m)
	order := make([]int, m)
	var out []byte
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			for b := 0; b < l; b += m {
				for k := 0; k < m; k++ {
					idx[k] = (o*l+b+k)*inner + i
					bits := binary.LittleEndian.Uint32(raw[4*idx[k]:])
					mags[k] = bits &^ (1 << 31)
					if mags[k] >= 0x7f800000 { // infinity or NaN
						return nil, unrankable(float64(math.Float32frombits(bits)), idx[k])
					}
					// Insertion by (magnitude, index): the first m-n of order are dropped.
					j := k
					for ; j > 0 && mags[order[j-1]] > mags[k]; j-- {
						order[j] = order[j-1]
					}
					order[j] = k
				}
				for _, k := range order[:m-n] {
					if mags[k] == 0 {
						continue
					}
					if out == nil {
						out = raw
						if !inPlace {
							out = slices.Clone(raw)
						}
					}
					binary.LittleEndian.PutUint32(out[4*idx[k]:], 0)
				}
			}
		}
	}
	return out, nil
}

func pruneNM(r *rewriter, m *ir.Model, opts PruneOptions, sel *layerSelector, rep *PruneReport) error {
	for _, u := range collectWeights(m, rep) {
		if sel.excluded(u.names()...) {
			rep.skip(u.label(), "excluded")
			continue
		}
		if u.redAxis < 0 || u.redAxis >= len(u.t.Dims) {
			rep.skip(u.label(), "weight %q is read by layers that reduce over different axes", u.init.Name)
			continue
		}
		if red := u.t.Dims[u.redAxis]; red%int64(opts.M) != 0 {
			rep.skip(u.label(), "reduction size %d (axis %d of %q%v) is not a multiple of %d", red, u.redAxis, u.init.Name, u.t.Dims, opts.M)
			continue
		}
		if s, ok := sel.override(u.names()...); ok {
			rep.skip(u.label(), "per-layer sparsity %g does not apply to an N:M pattern; pruned %d:%d", s, opts.N, opts.M)
		}
		if raw, ok := raw32(u); ok {
			before := rawBefore(r, u)
			out, err := nmRaw32(raw, u.t.Dims, u.redAxis, opts.N, opts.M, r.mayOverwrite(u.t))
			if err != nil {
				return fmt.Errorf("weight %q: %w", u.init.Name, err)
			}
			setRaw32(r, u, out, before)
		} else {
			w, err := u.t.Float64s()
			if err == nil {
				err = rankable(w)
			}
			if err != nil {
				return fmt.Errorf("weight %q: %w", u.init.Name, err)
			}
			applyMask(r, u, w, nmMask(w, u.t.Dims, u.redAxis, opts.N, opts.M))
		}
		for _, n := range u.nodes {
			rep.setTarget(n, opts.Sparsity, fmt.Sprintf("%d:%d along axis %d", opts.N, opts.M, u.redAxis))
		}
	}
	return nil
}

package passes

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/whittle-ml/whittle/ir"
)

// weightUnit is one weight initializer that unstructured and N:M pruning edit, with the
// layers that read it (one, unless the model shares the weight).
type weightUnit struct {
	init  *ir.Value
	t     *ir.Tensor
	nodes []*ir.Node
	// redAxis is the reduction (input-channel) axis of t for N:M groups; -1 when the
	// layers sharing t disagree.
	redAxis int
}

func (u *weightUnit) names() []string {
	var out []string
	for _, n := range u.nodes {
		out = append(out, layerNames(n, nil)...)
	}
	return append(out, u.init.Name)
}

func (u *weightUnit) label() string { return nodeLabel(u.nodes[0]) }

// weightSlot says which input of a MAC layer holds its weight and along which axis of that
// weight the layer reduces: Conv W[M, C/g, k...] reduces over axis 1, ConvTranspose
// W[C, M/g, k...] over axis 0, Gemm B over axis 0 (axis 1 with transB), MatMul over the
// second-to-last axis of a constant B or the last axis of a constant A.
func weightSlot(n *ir.Node) (slot, redAxis int, ok bool) {
	if !ir.IsDefaultDomain(n.Domain) {
		return 0, 0, false
	}
	switch n.OpType {
	case "Conv":
		return 1, 1, true
	case "ConvTranspose":
		return 1, 0, true
	case "Gemm":
		if n.AttrInt("transB", 0) != 0 {
			return 1, 1, true
		}
		return 1, 0, true
	case "MatMul":
		if _, t := resolveConst(n.Input(1)); t != nil {
			return 1, len(t.Dims) - 2, true
		}
		if _, t := resolveConst(n.Input(0)); t != nil {
			return 0, len(t.Dims) - 1, true
		}
		return 1, 0, true
	}
	return 0, 0, false
}

// collectWeights finds the prunable weights of every MAC layer in graph order (the order
// torch's parameters follow in an export) and says why the others are skipped.
func collectWeights(m *ir.Model, rep *PruneReport) []*weightUnit {
	var units []*weightUnit
	byInit := map[*ir.Value]*weightUnit{}
	reads := map[*ir.Value]map[*ir.Node]bool{}
	for _, g := range workGraphs(m) {
		for _, n := range g.Nodes() {
			slot, axis, ok := weightSlot(n)
			if !ok {
				continue
			}
			src, t := resolveConst(n.Input(slot))
			switch {
			case t == nil:
				rep.skip(nodeLabel(n), "weight input %d is not a constant", slot)
				continue
			case src.Const == nil:
				rep.skip(nodeLabel(n), "weight %q is a Constant node, not an initializer", src.Name)
				continue
			case !isPrunableFloat(t.DataType):
				rep.skip(nodeLabel(n), "weight %q is %s; pruning handles float and double", src.Name, t.DataType)
				continue
			case len(t.Dims) < 2:
				rep.skip(nodeLabel(n), "weight %q has rank %d", src.Name, len(t.Dims))
				continue
			}
			u := byInit[src]
			if u == nil {
				u = &weightUnit{init: src, t: t, redAxis: axis}
				byInit[src] = u
				units = append(units, u)
				reads[src] = map[*ir.Node]bool{}
			} else if u.redAxis != axis {
				u.redAxis = -1
			}
			u.nodes = append(u.nodes, n)
			reads[src][n] = true
		}
	}
	// A weight also read by something other than a layer's weight slot (directly or through
	// Identity) would change that reader's result too: leave it alone.
	kept := units[:0]
	for _, u := range units {
		if other := foreignReader(u.init, reads[u.init]); other != "" {
			rep.skip(u.label(), "weight %q is also read by %s", u.init.Name, other)
			continue
		}
		kept = append(kept, u)
	}
	return kept
}

// foreignReader names a reader of v (through Identity chains) that is not one of layers'
// weight slots, or returns "".
func foreignReader(v *ir.Value, layers map[*ir.Node]bool) string {
	if v.IsGraphOutput() {
		return "the graph output " + v.Name
	}
	for _, u := range v.Uses() {
		if isOp(u.Node, "Identity") {
			if s := foreignReader(u.Node.Output(0), layers); s != "" {
				return s
			}
			continue
		}
		slot, _, _ := weightSlot(u.Node)
		if !layers[u.Node] || u.Index != slot {
			return fmt.Sprintf("%s input %d", u.Node.Describe(), u.Index)
		}
	}
	return ""
}

// absKeys returns |w| for ranking; NaN ranks as +Inf (never pruned before real values).
func absKeys(w []float64) []float64 {
	out := make([]float64, len(w))
	for i, x := range w {
		a := math.Abs(x)
		if math.IsNaN(a) {
			a = math.Inf(1)
		}
		out[i] = a
	}
	return out
}

// smallestK marks the k smallest keys. Equal keys are taken in index order, the stable
// rule this pass documents for ties (torch.topk leaves their order unspecified). It
// returns the mask and the largest key taken (the threshold).
func smallestK(keys []float64, k int) ([]bool, float64) {
	mask := make([]bool, len(keys))
	if k <= 0 {
		return mask, 0
	}
	if k > len(keys) {
		k = len(keys)
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	thr := sorted[k-1]
	ties := k - sort.SearchFloat64s(sorted, thr) // how many keys equal to thr are taken
	for i, x := range keys {
		switch {
		case x < thr:
			mask[i] = true
		case x == thr && ties > 0:
			mask[i] = true
			ties--
		}
	}
	return mask, thr
}

// applyMask zeroes the masked weights of u and logs the change; it changes nothing when
// every masked weight is already zero.
func applyMask(r *rewriter, u *weightUnit, w []float64, mask []bool) {
	changed := false
	out := slices.Clone(w)
	for i, m := range mask {
		if m && out[i] != 0 {
			out[i] = 0
			changed = true
		}
	}
	if changed {
		r.setConst(u.init, ir.FromFloat64s(u.init.Name, u.t.DataType, u.t.Dims, out))
	}
}

// pruneRaw32 is smallestK and applyMask for float32 weights given as little-endian bytes,
// one or several tensors ranked as if concatenated: it zeroes the k weights of smallest
// magnitude (equal magnitudes in index order, as smallestK does) and returns each
// tensor's new bytes (nil for a tensor it does not change) and the largest magnitude
// taken. The k-th smallest magnitude is found by a two-pass radix select on the bit
// patterns with the sign cleared (for non-negative floats, the order of the bits is the
// order of the values), so no copy of the weights is made besides the results. A NaN or
// infinity is an error naming its tensor (by index in raws) and position. With inPlace
// the zeros are written into raws themselves (outs[t] is then raws[t] where it changed),
// and no copy is made at all; nothing is written before the ranking is complete, so an
// error leaves raws as they were.
func pruneRaw32(raws [][]byte, k int, inPlace bool) (outs [][]byte, thr float64, err error) {
	outs = make([][]byte, len(raws))
	n := 0
	for _, raw := range raws {
		n += len(raw) / 4
	}
	if k <= 0 || n == 0 {
		return outs, 0, nil
	}
	k = min(k, n)
	mag := func(raw []byte, i int) uint32 { return binary.LittleEndian.Uint32(raw[4*i:]) &^ (1 << 31) }
	var hist [1 << 16]int
	for t, raw := range raws {
		for i := range len(raw) / 4 {
			a := mag(raw, i)
			if a >= 0x7f800000 { // exponent all ones: infinity or NaN
				return nil, 0, &rawRankError{tensor: t, err: unrankable(float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))), i)}
			}
			hist[a>>16]++
		}
	}
	below, hi := 0, 0
	for ; below+hist[hi] < k; hi++ {
		below += hist[hi]
	}
	// The threshold lies in bucket hi: rank its low halves.
	clear(hist[:])
	for _, raw := range raws {
		for i := range len(raw) / 4 {
			if a := mag(raw, i); a>>16 == uint32(hi) {
				hist[a&0xffff]++
			}
		}
	}
	lo := 0
	for ; below+hist[lo] < k; lo++ {
		below += hist[lo]
	}
	bits := uint32(hi)<<16 | uint32(lo)
	ties := k - below // magnitudes equal to the threshold that are taken, first in index order
	for t, raw := range raws {
		var out []byte
		for i := range len(raw) / 4 {
			a := mag(raw, i)
			if a > bits || (a == bits && ties == 0) {
				continue
			}
			if a == bits {
				ties--
			}
			if a != 0 {
				if out == nil {
					out = raw
					if !inPlace {
						out = slices.Clone(raw)
					}
				}
				binary.LittleEndian.PutUint32(out[4*i:], 0)
			}
		}
		outs[t] = out
	}
	return outs, float64(math.Float32frombits(bits)), nil
}

// rawRankError is pruneRaw32's error about the tensor-th of its inputs.
type rawRankError struct {
	tensor int
	err    error
}

func (e *rawRankError) Error() string { return e.err.Error() }
func (e *rawRankError) Unwrap() error { return e.err }

// rawBefore returns what the log says of u's weight before pruning, when pruning will
// overwrite its bytes (afterwards the old values are gone).
func rawBefore(r *rewriter, u *weightUnit) string {
	if !r.mayOverwrite(u.t) {
		return ""
	}
	return tensorSummary(u.t)
}

// mayOverwrite says whether t's bytes may be written in place: the context owns the
// model's bytes (Context.OwnsData) and no other tensor of the model shares them (passes
// clone constants by sharing their bytes, so two initializers may hold the same ones).
func (r *rewriter) mayOverwrite(t *ir.Tensor) bool {
	if !r.ctx.overwrites() || len(t.Raw) == 0 {
		return false
	}
	if r.rawUsers == nil {
		r.rawUsers = map[*byte]int{}
		count := func(t *ir.Tensor) {
			if t != nil && len(t.Raw) > 0 {
				r.rawUsers[&t.Raw[0]]++
			}
		}
		for _, g := range r.m.Graphs() {
			for _, v := range g.Initializers {
				count(v.Const)
				if v.SparseConst != nil {
					count(v.SparseConst.Values)
					count(v.SparseConst.Indices)
				}
			}
			for _, n := range g.Nodes() {
				for _, a := range n.Attrs {
					count(a.Tensor)
					for _, at := range a.Tensors {
						count(at)
					}
				}
			}
		}
	}
	return r.rawUsers[&t.Raw[0]] == 1
}

// setRaw32 gives u's weight the pruned float32 bytes out (nil: unchanged), which may be
// its own bytes overwritten in place; before is rawBefore's answer.
func setRaw32(r *rewriter, u *weightUnit, out []byte, before string) {
	switch {
	case out == nil:
	case len(out) > 0 && len(u.t.Raw) > 0 && &out[0] == &u.t.Raw[0]:
		r.constOverwritten(u.init, before)
	default:
		r.setConst(u.init, ir.NewTensor(u.init.Name, ir.Float, u.t.Dims, out))
	}
}

// raw32 returns u's weights as float32 bytes when pruneRaw32 can rank them in place.
func raw32(u *weightUnit) ([]byte, bool) {
	ne, err := u.t.NumElements()
	return u.t.Raw, err == nil && u.t.DataType == ir.Float && int64(len(u.t.Raw)) == 4*ne
}

func pruneUnstructured(r *rewriter, m *ir.Model, opts PruneOptions, sel *layerSelector, rep *PruneReport) error {
	units := collectWeights(m, rep)
	type decoded struct {
		u *weightUnit
		w []float64 // nil while the weights are float32 bytes that pruneRaw32 ranks
	}
	var pool []decoded
	for _, u := range units {
		names := u.names()
		if sel.excluded(names...) {
			rep.skip(u.label(), "excluded")
			continue
		}
		s, override := sel.override(names...)
		if !override {
			s = opts.Sparsity
		}
		global := !override && opts.Scope == ScopeGlobal
		if raw, ok := raw32(u); ok {
			// Float32 weights are ranked in place, from their bytes: a model of gigabytes is
			// pruned with one copy of it, not the ten a float64 ranking takes.
			if global {
				pool = append(pool, decoded{u, nil})
				for _, n := range u.nodes {
					rep.setTarget(n, opts.Sparsity, "global")
				}
				continue
			}
			before := rawBefore(r, u)
			outs, _, err := pruneRaw32([][]byte{raw}, countToPrune(s, len(raw)/4), r.mayOverwrite(u.t))
			if err != nil {
				return fmt.Errorf("weight %q: %w", u.init.Name, err)
			}
			setRaw32(r, u, outs[0], before)
			for _, n := range u.nodes {
				rep.setTarget(n, s, "layer")
			}
			continue
		}
		w, err := u.t.Float64s()
		if err == nil {
			err = rankable(w)
		}
		if err != nil {
			return fmt.Errorf("weight %q: %w", u.init.Name, err)
		}
		if global {
			pool = append(pool, decoded{u, w})
			for _, n := range u.nodes {
				rep.setTarget(n, opts.Sparsity, "global")
			}
			continue
		}
		mask, _ := smallestK(absKeys(w), countToPrune(s, len(w)))
		applyMask(r, u, w, mask)
		for _, n := range u.nodes {
			rep.setTarget(n, s, "layer")
		}
	}
	if len(pool) == 0 {
		return nil
	}
	// One ranking over the weights concatenated in graph order, as global_unstructured
	// concatenates its parameters with parameters_to_vector: in place when they are all
	// float32, else over float64 keys.
	allRaw := true
	var raws [][]byte
	for _, d := range pool {
		raw, ok := raw32(d.u)
		allRaw = allRaw && d.w == nil && ok
		raws = append(raws, raw)
	}
	if allRaw {
		total := 0
		inPlace := true
		for i, raw := range raws {
			total += len(raw) / 4
			inPlace = inPlace && r.mayOverwrite(pool[i].u.t)
		}
		before := make([]string, len(pool))
		if inPlace {
			for i, d := range pool {
				before[i] = rawBefore(r, d.u)
			}
		}
		outs, thr, err := pruneRaw32(raws, countToPrune(opts.Sparsity, total), inPlace)
		var re *rawRankError
		if errors.As(err, &re) {
			return fmt.Errorf("weight %q: %w", pool[re.tensor].u.init.Name, re.err)
		}
		if err != nil {
			return err
		}
		rep.GlobalThreshold = thr
		for i, d := range pool {
			setRaw32(r, d.u, outs[i], before[i])
		}
		return nil
	}
	var all []float64
	for i := range pool {
		if pool[i].w == nil {
			w, err := pool[i].u.t.Float64s()
			if err == nil {
				err = rankable(w)
			}
			if err != nil {
				return fmt.Errorf("weight %q: %w", pool[i].u.init.Name, err)
			}
			pool[i].w = w
		}
		all = append(all, absKeys(pool[i].w)...)
	}
	mask, thr := smallestK(all, countToPrune(opts.Sparsity, len(all)))
	rep.GlobalThreshold = thr
	off := 0
	for _, d := range pool {
		applyMask(r, d.u, d.w, mask[off:off+len(d.w)])
		off += len(d.w)
	}
	return nil
}

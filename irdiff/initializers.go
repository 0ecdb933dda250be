package irdiff

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/stats"
)

func (c *comparer) initializers(gA, gB *ir.Graph, graphs []string) []InitializerDiff {
	index := map[*ir.Value]int{}
	for i, a := range gA.Initializers {
		index[a] = i
	}
	pairA, pairB := map[int]int{}, map[int]int{}
	for j, b := range gB.Initializers {
		if a := c.m.valBA[b]; a != nil {
			if i, ok := index[a]; ok {
				pairA[i], pairB[j] = j, i
			}
		}
	}
	kinds := []string{kindInitializerAdded, kindInitializerRemoved, kindInitializerChanged, kindValueRenamed}
	var out []InitializerDiff
	mergeOrder(len(gA.Initializers), len(gB.Initializers), pairA, pairB, func(i int) {
		a := gA.Initializers[i]
		id := InitializerDiff{Status: Removed, Name: a.Name, OldType: constType(a), DataChanged: true, OldSparsity: sparsity(a)}
		id.Explanation = c.ex.explain(subject{graphs: graphs, kinds: kinds, values: []string{a.Name}})
		c.count(Removed, id.Explanation)
		out = append(out, id)
	}, func(j int) {
		b := gB.Initializers[j]
		i, matched := pairB[j]
		if !matched {
			id := InitializerDiff{Status: Added, Name: b.Name, NewType: constType(b), DataChanged: true, NewSparsity: sparsity(b)}
			id.Explanation = c.ex.explain(subject{graphs: graphs, kinds: kinds, values: []string{b.Name}})
			c.count(Added, id.Explanation)
			out = append(out, id)
			return
		}
		a := gA.Initializers[i]
		id := compareConst(a, b)
		id.MatchedBy = c.m.valHow[b]
		if id.Status == Changed {
			id.Explanation = c.ex.explain(subject{graphs: graphs, kinds: kinds, values: []string{a.Name, b.Name}})
			c.count(Changed, id.Explanation)
		}
		if c.keep(id.Status) {
			out = append(out, id)
		}
	})
	return out
}

func constType(v *ir.Value) string {
	switch {
	case v.Const != nil:
		return ir.TensorTypeString(v.Const)
	case v.SparseConst != nil && v.SparseConst.Values != nil:
		dims := make([]string, len(v.SparseConst.Dims))
		for i, d := range v.SparseConst.Dims {
			dims[i] = strconv.FormatInt(d, 10)
		}
		return "sparse " + v.SparseConst.Values.DataType.String() + "[" + strings.Join(dims, ",") + "]"
	}
	return v.Type.String()
}

// sparsity is the fraction of zero elements of a dense constant; nil when unknown.
func sparsity(v *ir.Value) *float64 {
	t := v.Const
	if t == nil || t.External != nil || t.DataType == ir.String {
		return nil
	}
	n, err := t.NumElements()
	if err != nil || n == 0 {
		return nil
	}
	s := float64(stats.CountZeros(t)) / float64(n)
	return &s
}

func compareConst(a, b *ir.Value) InitializerDiff {
	id := InitializerDiff{Status: Unchanged, Name: b.Name, NewType: constType(b)}
	if a.Name != b.Name {
		id.OldName = a.Name
	}
	id.DataChanged = dataKey(a) != dataKey(b)
	oldType := constType(a)
	if oldType != id.NewType {
		id.OldType = oldType
	}
	if !id.DataChanged && id.OldType == "" && id.OldName == "" {
		return id
	}
	id.Status = Changed
	if id.OldType == "" {
		id.OldType = oldType
	}
	if id.DataChanged {
		id.OldSparsity, id.NewSparsity = sparsity(a), sparsity(b)
		if a.Const != nil && b.Const != nil && a.Const.External == nil && b.Const.External == nil &&
			a.Const.DataType == b.Const.DataType && slices.Equal(a.Const.Dims, b.Const.Dims) {
			fa, errA := a.Const.Float64s()
			fb, errB := b.Const.Float64s()
			if errA == nil && errB == nil && len(fa) == len(fb) {
				maxAbs, diff2, norm2 := 0.0, 0.0, 0.0
				for k := range fa {
					delta := fb[k] - fa[k]
					maxAbs = math.Max(maxAbs, math.Abs(delta))
					diff2 += delta * delta
					norm2 += fa[k] * fa[k]
				}
				id.MaxAbsDelta = finite(maxAbs)
				if norm2 > 0 {
					id.RelL2 = finite(math.Sqrt(diff2) / math.Sqrt(norm2))
				} else if diff2 == 0 {
					id.RelL2 = finite(0)
				}
			}
		}
	}
	return id
}

// finite returns a pointer to x, or nil for NaN and infinities, which JSON cannot hold.
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

package ml

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Domain: mlDomain, Op: "TreeEnsemble", SinceVersion: 5,
		Types: []ir.DataType{ir.Float, ir.Double}, New: newTreeEnsemble})
}

// Node comparison modes of TreeEnsemble-5 (nodes_modes).
const (
	modeLEQ = iota
	modeLT
	modeGTE
	modeGT
	modeEQ
	modeNEQ
	modeMember
)

// Aggregations (aggregate_function) and post transforms (post_transform) of TreeEnsemble-5.
const (
	aggAverage = 0
	aggSum     = 1
	aggMin     = 2
	aggMax     = 3

	postNone     = 0
	postSoftmax  = 1
	postLogistic = 2
)

// treeNode is an interior node: the branch taken is true when the compared feature
// satisfies the mode. true/false point at another interior node, or at a leaf when the
// matching isLeaf flag is set.
type treeNode struct {
	mode        uint8
	feature     int
	split       float64
	members     map[float64]bool
	missingTrue bool
	next        [2]int  // [false, true] child index
	nextIsLeaf  [2]bool // [false, true]
}

// treeEnsemble is TreeEnsemble-5 (ai.onnx.ml): every tree routes each row of X[N, F] to a
// leaf, whose weight is aggregated into its target column of Y[N, n_targets].
type treeEnsemble struct {
	node      *ir.Node
	nodes     []treeNode
	roots     []int
	rootLeaf  []bool // the tree is a single leaf (root index names a leaf)
	leafW     []float64
	leafT     []int
	nTargets  int
	agg       int64
	post      int64
	nFeatures int // the largest feature index + 1
}

func newTreeEnsemble(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	te := &treeEnsemble{node: n, nTargets: int(n.AttrInt("n_targets", 0)),
		agg: n.AttrInt("aggregate_function", aggSum), post: n.AttrInt("post_transform", postNone)}
	if te.agg < aggAverage || te.agg > aggMax {
		return nil, opErr(n, "aggregate_function %d is not 0..3", te.agg)
	}
	if te.post != postNone && te.post != postSoftmax && te.post != postLogistic {
		return nil, opErr(n, "post_transform %d is not supported (NONE, SOFTMAX and LOGISTIC are)", te.post)
	}
	tensorAttr := func(name string) ([]float64, error) {
		a := n.Attr(name)
		if a == nil || a.Tensor == nil {
			return nil, nil
		}
		v, err := tensorFloats(a.Tensor)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		return v, nil
	}
	splits, err := tensorAttr("nodes_splits")
	if err != nil {
		return nil, opErr(n, "%w", err)
	}
	if te.leafW, err = tensorAttr("leaf_weights"); err != nil {
		return nil, opErr(n, "%w", err)
	}
	members, err := tensorAttr("membership_values")
	if err != nil {
		return nil, opErr(n, "%w", err)
	}
	var modes []uint8
	if a := n.Attr("nodes_modes"); a != nil && a.Tensor != nil {
		mt, err := kernel.FromIR(a.Tensor)
		if err != nil {
			return nil, opErr(n, "attribute nodes_modes: %w", err)
		}
		m, ok := mt.Data.([]uint8)
		if !ok {
			return nil, opErr(n, "attribute nodes_modes must be uint8, got %s", mt.DType)
		}
		modes = m
	}
	feats := n.AttrInts("nodes_featureids", nil)
	trueIDs, falseIDs := n.AttrInts("nodes_truenodeids", nil), n.AttrInts("nodes_falsenodeids", nil)
	trueLeafs, falseLeafs := n.AttrInts("nodes_trueleafs", nil), n.AttrInts("nodes_falseleafs", nil)
	missing := n.AttrInts("nodes_missing_value_tracks_true", nil)
	count := len(splits)
	for name, l := range map[string]int{"nodes_modes": len(modes), "nodes_featureids": len(feats),
		"nodes_truenodeids": len(trueIDs), "nodes_falsenodeids": len(falseIDs),
		"nodes_trueleafs": len(trueLeafs), "nodes_falseleafs": len(falseLeafs)} {
		if l != count {
			return nil, opErr(n, "%s has %d entries, nodes_splits %d", name, l, count)
		}
	}
	if missing != nil && len(missing) != count {
		return nil, opErr(n, "nodes_missing_value_tracks_true has %d entries, nodes_splits %d", len(missing), count)
	}
	targets := n.AttrInts("leaf_targetids", nil)
	if len(targets) != len(te.leafW) {
		return nil, opErr(n, "leaf_targetids has %d entries, leaf_weights %d", len(targets), len(te.leafW))
	}
	for _, t := range targets {
		if t < 0 || int(t) >= te.nTargets {
			return nil, opErr(n, "leaf target %d is outside n_targets %d", t, te.nTargets)
		}
		te.leafT = append(te.leafT, int(t))
	}
	// A node takes more memory here than in the attributes that list it.
	if te.nodes, err = kernel.MakeScratch[treeNode](count); err != nil {
		return nil, err
	}
	for i := range te.nodes {
		nd := &te.nodes[i]
		nd.mode, nd.feature, nd.split = modes[i], int(feats[i]), splits[i]
		if nd.mode > modeMember {
			return nil, opErr(n, "node %d: mode %d is not 0..6", i, nd.mode)
		}
		if feats[i] < 0 {
			return nil, opErr(n, "node %d: negative feature id %d", i, feats[i])
		}
		te.nFeatures = max(te.nFeatures, nd.feature+1)
		nd.missingTrue = missing != nil && missing[i] != 0
		nd.next = [2]int{int(falseIDs[i]), int(trueIDs[i])}
		nd.nextIsLeaf = [2]bool{falseLeafs[i] != 0, trueLeafs[i] != 0}
		for b := 0; b < 2; b++ {
			limit := count
			if nd.nextIsLeaf[b] {
				limit = len(te.leafW)
			}
			if nd.next[b] < 0 || nd.next[b] >= limit {
				return nil, opErr(n, "node %d: child index %d is out of range", i, nd.next[b])
			}
		}
	}
	// Set-membership nodes take their sets from membership_values, NaN-separated, in the
	// order a depth-first walk of the trees (true branch first) meets them, as the
	// reference implementation reads them.
	memberPos := 0
	var assign func(i int, depth int) error
	assign = func(i int, depth int) error {
		if depth > count {
			return fmt.Errorf("the trees have a cycle through node %d", i)
		}
		nd := &te.nodes[i]
		if nd.mode == modeMember && nd.members == nil {
			nd.members = map[float64]bool{}
			for memberPos < len(members) && !math.IsNaN(members[memberPos]) {
				nd.members[members[memberPos]] = true
				memberPos++
			}
			memberPos++ // the NaN separator
		}
		for _, b := range []int{1, 0} {
			if !nd.nextIsLeaf[b] {
				if err := assign(nd.next[b], depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, r := range n.AttrInts("tree_roots", nil) {
		if r < 0 || int(r) >= count {
			return nil, opErr(n, "tree root %d is out of range", r)
		}
		nd := te.nodes[r]
		// A tree that is a single leaf is encoded as a root whose branches both name it.
		single := nd.nextIsLeaf[0] && nd.nextIsLeaf[1] && nd.next[0] == nd.next[1]
		te.roots = append(te.roots, int(r))
		te.rootLeaf = append(te.rootLeaf, single)
		if !single {
			if err := assign(int(r), 0); err != nil {
				return nil, opErr(n, "%w", err)
			}
		}
	}
	return te, nil
}

// takesTrue evaluates an interior node's condition on feature value x.
func (nd *treeNode) takesTrue(x float64) bool {
	if math.IsNaN(x) && nd.missingTrue {
		return true
	}
	switch nd.mode {
	case modeLEQ:
		return x <= nd.split
	case modeLT:
		return x < nd.split
	case modeGTE:
		return x >= nd.split
	case modeGT:
		return x > nd.split
	case modeEQ:
		return x == nd.split
	case modeNEQ:
		return x != nd.split
	default:
		return nd.members[x]
	}
}

// leafOf walks one tree for a row and returns the leaf index it ends at.
func (te *treeEnsemble) leafOf(tree int, row []float64) int {
	i := te.roots[tree]
	if te.rootLeaf[tree] {
		return te.nodes[i].next[1]
	}
	for {
		nd := &te.nodes[i]
		b := 0
		if nd.takesTrue(row[nd.feature]) {
			b = 1
		}
		if nd.nextIsLeaf[b] {
			return nd.next[b]
		}
		i = nd.next[b]
	}
}

func (te *treeEnsemble) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil {
		return nil, opErr(te.node, "input X is required")
	}
	if len(x.Shape) != 2 {
		return nil, opErr(te.node, "X must be [N, F], got %v", x.Shape)
	}
	rows, feats := int(x.Shape[0]), int(x.Shape[1])
	if feats < te.nFeatures {
		return nil, opErr(te.node, "X has %d features, the trees read feature %d", feats, te.nFeatures-1)
	}
	xs, err := kernel.Float64sOf(x)
	if err != nil {
		return nil, opErr(te.node, "X: %w", err)
	}
	// An X without features may declare any number of rows.
	count, err := ir.NumElements([]int64{int64(rows), int64(te.nTargets)})
	if err != nil {
		return nil, opErr(te.node, "output [%d %d]: %w", rows, te.nTargets, err)
	}
	res, err := kernel.MakeScratch[float64](int(count))
	if err != nil {
		return nil, err
	}
	// MIN and MAX start from the largest finite value of X's type, as the reference
	// implementation does, so a target no leaf reaches reads that value.
	largest := math.MaxFloat64
	if x.DType == ir.Float {
		largest = math.MaxFloat32
	}
	init := 0.0
	switch te.agg {
	case aggMin:
		init = largest
	case aggMax:
		init = -largest
	}
	for i := range res {
		res[i] = init
	}
	for r := 0; r < rows; r++ {
		row := xs[r*feats : (r+1)*feats]
		acc := res[r*te.nTargets : (r+1)*te.nTargets]
		for t := range te.roots {
			l := te.leafOf(t, row)
			w, tgt := te.leafW[l], te.leafT[l]
			switch te.agg {
			case aggSum:
				acc[tgt] += w
			case aggAverage:
				acc[tgt] += w / float64(len(te.roots))
			case aggMin:
				acc[tgt] = math.Min(acc[tgt], w)
			case aggMax:
				acc[tgt] = math.Max(acc[tgt], w)
			}
		}
		postTransform(acc, te.post)
	}
	out := ctx.Alloc(x.DType, int64(rows), int64(te.nTargets))
	switch d := out.Data.(type) {
	case []float32:
		for i, v := range res {
			d[i] = float32(v)
		}
	case []float64:
		copy(d, res)
	default:
		return nil, opErr(te.node, "element type %s is not supported", x.DType)
	}
	return []*kernel.Tensor{out}, nil
}

// postTransform applies SOFTMAX or LOGISTIC to one row of scores in place.
func postTransform(row []float64, post int64) {
	switch post {
	case postLogistic:
		for i, v := range row {
			row[i] = 1 / (1 + math.Exp(-v))
		}
	case postSoftmax:
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		sum := 0.0
		for i, v := range row {
			row[i] = math.Exp(v - m)
			sum += row[i]
		}
		for i := range row {
			row[i] /= sum
		}
	}
}

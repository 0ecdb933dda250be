package passes

import (
	"fmt"
	"math"
	"sort"

	"github.com/whittle-ml/whittle/ir"
)

// Channel (structured) pruning removes whole output channels of Conv (group 1), Gemm and
// 2-D MatMul layers and shrinks everything that depends on them, so that the model really
// has fewer parameters and MACs.
//
// Dependency analysis walks the main graph in order and gives every value whose axis 1
// carries prunable channels a source: the list of (group, channel range) it is made of.
//   - A producer starts a group of its output channels.
//   - Per-channel nodes pass the source on, and their per-channel constants shrink with it:
//     BatchNormalization (scale, bias, mean, var), InstanceNormalization, elementwise
//     activations, Clip, pools, Dropout/Identity, and Add/Mul/... with a constant operand
//     that broadcasts along the channels (sliced) or not (kept).
//   - A depthwise Conv (group = input channels = output channels) ties its output channels
//     to its input channels: the source passes through, and its weight, bias and group
//     attribute shrink.
//   - A grouped Conv (1 < group, not depthwise) reads and writes channels in group equal
//     blocks: both its input group and its output group must keep the same number of
//     channels in every block, and its weight's input axis shrinks block by block.
//   - The channel axis is 1 for images and 2-D features, and the last axis for MatMul over
//     token sequences ([N, T, C] @ [C, C']); transformer MLP widths prune that way, and an
//     attention unit (prune_channel_attention.go) prunes head dimensions or whole heads.
//   - Add, Sub, Mul, ... of two sourced values (residual connections) tie the producers:
//     their groups are merged and prune the same channel indices, ranked by the sum of the
//     members' norms.
//   - Concat along the channels concatenates the sources (offsets); an input no prunable
//     layer produces becomes a fixed block.
//   - Flatten(axis=1) of [N, C, H, W] maps channel c to features c*H*W ... c*H*W+H*W-1, so
//     it needs a static H*W.
//   - Consumers drop the input channels: Conv (group 1) and ConvTranspose (group 1)
//     weights, Gemm/MatMul weight rows (columns with transB).
//
// Anything else that reads a sourced value (graph outputs, Reshape, Softmax over channels,
// LayerNormalization, subgraphs, ...) makes the groups involved unprunable, and the report
// says which node did it. Channels are ranked by the L1 or L2 norm of their filters (summed
// over a group's members) and the lowest removed, ties by index; every group keeps at
// least one channel.

// chanSeg is channels [start, start+n) of a group.
type chanSeg struct{ group, start, n int }

// chanSrc describes the channel axis of a value as a concatenation of group channels;
// with spatial > 0 the value is flattened and each channel covers spatial consecutive
// features.
type chanSrc struct {
	segs    []chanSeg
	spatial int64
	// axis is the channel axis: 1 for [N, C, ...] and [N, F], the last for [N, T, C].
	axis int
}

func (s *chanSrc) channels() int {
	c := 0
	for _, sg := range s.segs {
		c += sg.n
	}
	return c
}

func (s *chanSrc) mult() int64 {
	if s.spatial > 0 {
		return s.spatial
	}
	return 1
}

func (s *chanSrc) width() int64 { return int64(s.channels()) * s.mult() }

func sameSrc(a, b *chanSrc) bool {
	if a.mult() != b.mult() || a.axis != b.axis || len(a.segs) != len(b.segs) {
		return false
	}
	for i := range a.segs {
		if a.segs[i] != b.segs[i] {
			return false
		}
	}
	return true
}

type chanGroup struct {
	parent  int
	c       int
	members []*ir.Node
	axes    []int // output-channel axis of each member's weight
	tiedBy  []string
	reasons []string
	// fixed groups stand for channels no prunable layer produces (a Concat input).
	fixed bool
	keep  []bool
	// parts > 1: the channels are parts equal thirds (say) kept or removed together: the q,
	// k and v columns of a fused attention projection.
	parts int
	// blocks > 1: each part is that many equal blocks (a grouped Conv's groups, attention
	// heads) that must all keep the same number of channels; wholeBlocks removes whole
	// blocks instead (attention heads).
	blocks      int
	wholeBlocks bool
}

// unitCount is the number of channels a group decides on: c over its tied parts.
func (g *chanGroup) unitCount() int { return g.c / max(g.parts, 1) }

// sliceOp shrinks constant input `input` of a node along axis to the positions src keeps.
type sliceOp struct {
	input, axis int
	src         *chanSrc
	// groups > 0 slices a grouped Conv weight's input axis block by block: output channel
	// m reads the block of input channels of its group.
	groups int
}

type chanPlan struct {
	n      *ir.Node
	slices []sliceOp
	// groupOf, for a depthwise Conv, is the source whose kept count becomes the group.
	groupOf *chanSrc
}

type chanAnalysis struct {
	g      *ir.Graph
	groups []*chanGroup
	src    map[*ir.Value]*chanSrc
	plans  []*chanPlan
	planOf map[*ir.Node]*chanPlan
	// unitOf maps the Reshapes of matched attention units to their unit.
	unitOf map[*ir.Node]*attnUnit
}

func (a *chanAnalysis) find(i int) int {
	for a.groups[i].parent != i {
		a.groups[i].parent = a.groups[a.groups[i].parent].parent
		i = a.groups[i].parent
	}
	return i
}

func (a *chanAnalysis) newGroup(c int, producer *ir.Node, axis int, fixed bool) int {
	id := len(a.groups)
	g := &chanGroup{parent: id, c: c, fixed: fixed, parts: 1, blocks: 1}
	if producer != nil {
		g.members, g.axes = []*ir.Node{producer}, []int{axis}
	}
	if fixed {
		g.reasons = []string{"channels not produced by a prunable layer"}
	}
	a.groups = append(a.groups, g)
	return id
}

func (a *chanAnalysis) union(x, y int, by string) {
	x, y = a.find(x), a.find(y)
	if x == y {
		return
	}
	if x > y {
		x, y = y, x
	}
	gx, gy := a.groups[x], a.groups[y]
	gy.parent = x
	gx.members = append(gx.members, gy.members...)
	gx.axes = append(gx.axes, gy.axes...)
	gx.tiedBy = append(gx.tiedBy, gy.tiedBy...)
	gx.tiedBy = append(gx.tiedBy, by)
	gx.reasons = append(gx.reasons, gy.reasons...)
	gx.fixed = gx.fixed || gy.fixed
	if gx.parts != gy.parts {
		gx.reasons = append(gx.reasons, fmt.Sprintf("%s ties channels split in %d and %d parts", by, gx.parts, gy.parts))
	}
	gx.blocks = lcm(gx.blocks, gy.blocks)
	gx.wholeBlocks = gx.wholeBlocks || gy.wholeBlocks
}

// constrain asks every block of g's parts to keep the same number of channels.
func (a *chanAnalysis) constrain(group, blocks int, whole bool, by string) {
	g := a.groups[a.find(group)]
	b := lcm(g.blocks, blocks)
	if g.unitCount()%b != 0 {
		g.reasons = append(g.reasons, fmt.Sprintf("%s splits %d channels into %d blocks", by, g.unitCount(), b))
		return
	}
	g.blocks = b
	g.wholeBlocks = g.wholeBlocks || whole
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / gcd(a, b) * b }

func (a *chanAnalysis) block(s *chanSrc, format string, args ...any) {
	if s == nil {
		return
	}
	reason := fmt.Sprintf(format, args...)
	for _, sg := range s.segs {
		g := a.groups[a.find(sg.group)]
		dup := false
		for _, r := range g.reasons {
			dup = dup || r == reason
		}
		if !dup {
			g.reasons = append(g.reasons, reason)
		}
	}
}

func (a *chanAnalysis) slice(n *ir.Node, input, axis int, s *chanSrc) {
	a.plan(n).slices = append(a.plan(n).slices, sliceOp{input: input, axis: axis, src: s})
}

func (a *chanAnalysis) plan(n *ir.Node) *chanPlan {
	p := a.planOf[n]
	if p == nil {
		p = &chanPlan{n: n}
		a.planOf[n] = p
		a.plans = append(a.plans, p)
	}
	return p
}

// channelDim returns the static size of v's axis.
func channelDim(v *ir.Value, axis int) (int64, bool) {
	if v == nil || v.Type == nil || !v.Type.HasShape || axis < 0 || len(v.Type.Dims) <= axis || !v.Type.Dims[axis].IsKnown() {
		return 0, false
	}
	return v.Type.Dims[axis].Value, true
}

var (
	chanUnaryOps = map[string]bool{
		"Relu": true, "LeakyRelu": true, "Sigmoid": true, "Tanh": true, "HardSigmoid": true, "HardSwish": true,
		"Elu": true, "Selu": true, "Celu": true, "Softplus": true, "Softsign": true, "Gelu": true, "Mish": true,
		"ThresholdedRelu": true, "Neg": true, "Abs": true, "Exp": true, "Log": true, "Sqrt": true,
		"Reciprocal": true, "Floor": true, "Ceil": true, "Round": true, "Sign": true, "Erf": true,
		"Identity": true, "Dropout": true, "Clip": true,
		"MaxPool": true, "AveragePool": true, "GlobalAveragePool": true, "GlobalMaxPool": true,
		"LpPool": true, "GlobalLpPool": true,
	}
	chanBinaryOps = map[string]bool{
		"Add": true, "Sub": true, "Mul": true, "Div": true, "Max": true, "Min": true, "Sum": true,
		"Mean": true, "PRelu": true, "Pow": true,
	}
)

// analyze walks g and returns the channel sources, groups and slicing plans.
func analyzeChannels(g *ir.Graph, opts PruneOptions) *chanAnalysis {
	a := &chanAnalysis{g: g, src: map[*ir.Value]*chanSrc{}, planOf: map[*ir.Node]*chanPlan{}}
	a.findAttention(opts.Attention)
	for _, n := range g.Nodes() {
		claimed := map[int]bool{}
		if ir.IsDefaultDomain(n.Domain) {
			switch {
			case n.OpType == "Conv":
				a.conv(n, claimed)
			case n.OpType == "ConvTranspose":
				a.convTranspose(n, claimed)
			case n.OpType == "Gemm" || n.OpType == "MatMul":
				a.gemm(n, claimed)
			case n.OpType == "BatchNormalization" || n.OpType == "InstanceNormalization":
				a.norm(n, claimed)
			case chanUnaryOps[n.OpType]:
				a.passThrough(n, claimed)
			case chanBinaryOps[n.OpType]:
				a.elementwise(n, claimed)
			case n.OpType == "Concat":
				a.concat(n, claimed)
			case n.OpType == "Flatten":
				a.flatten(n, claimed)
			case n.OpType == "Reshape" && a.unitOf[n] != nil:
				a.attentionReshape(n, claimed)
			}
		}
		for i, v := range n.Inputs() {
			if s := a.src[v]; s != nil && !claimed[i] {
				a.block(s, "read by %s (input %d), which channel pruning cannot follow", n.Describe(), i)
			}
		}
	}
	for v, s := range a.src {
		if v.IsGraphOutput() {
			a.block(s, "reaches the graph output %q", v.Name)
		}
		for _, u := range v.Uses() {
			if u.Node.Graph() != g {
				a.block(s, "read inside a subgraph by %s", u.Node.Describe())
			}
		}
	}
	return a
}

// extraOutputsUsed reports whether any output after the first is read.
func extraOutputsUsed(n *ir.Node) bool {
	for _, v := range n.Outputs()[1:] {
		if v != nil && (len(v.Uses()) > 0 || v.IsGraphOutput()) {
			return true
		}
	}
	return false
}

// spatialOps work on [N, C, spatial...] with the channels on axis 1.
var spatialOps = map[string]bool{
	"MaxPool": true, "AveragePool": true, "GlobalAveragePool": true, "GlobalMaxPool": true,
	"LpPool": true, "GlobalLpPool": true,
}

func (a *chanAnalysis) passThrough(n *ir.Node, claimed map[int]bool) {
	in := a.src[n.Input(0)]
	if in == nil {
		return
	}
	claimed[0] = true
	if spatialOps[n.OpType] && in.axis != 1 {
		a.block(in, "%s pools a value whose channels are on axis %d", n.Describe(), in.axis)
		return
	}
	if extraOutputsUsed(n) {
		a.block(in, "%s has a second output that is read", n.Describe())
		return
	}
	a.src[n.Output(0)] = in
}

// perChannelConst checks that input i of n is a constant vector of length want.
func perChannelConst(n *ir.Node, i int, want int64) bool {
	_, t := resolveConst(n.Input(i))
	return t != nil && len(t.Dims) == 1 && t.Dims[0] == want && t.DataType.BitSize() >= 8
}

func (a *chanAnalysis) norm(n *ir.Node, claimed map[int]bool) {
	in := a.src[n.Input(0)]
	if in == nil {
		return
	}
	claimed[0] = true
	params := 4
	if n.OpType == "InstanceNormalization" {
		params = 2
	}
	if n.AttrInt("training_mode", 0) != 0 || extraOutputsUsed(n) {
		a.block(in, "%s runs in training mode", n.Describe())
		return
	}
	if in.axis != 1 {
		a.block(in, "%s normalizes axis 1, the channels are on axis %d", n.Describe(), in.axis)
		return
	}
	for i := 1; i <= params; i++ {
		if !perChannelConst(n, i, in.width()) {
			a.block(in, "%s input %d is not a constant vector of %d channels", n.Describe(), i, in.width())
			return
		}
	}
	for i := 1; i <= params; i++ {
		a.slice(n, i, 0, in)
	}
	a.src[n.Output(0)] = in
}

// producerBias checks Conv's optional bias: absent or a constant vector of m.
func producerBias(n *ir.Node, i int, m int64) bool {
	return n.Input(i) == nil || perChannelConst(n, i, m)
}

func (a *chanAnalysis) conv(n *ir.Node, claimed map[int]bool) {
	in := a.src[n.Input(0)]
	claimed[0] = true
	_, w := resolveConst(n.Input(1))
	group := n.AttrInt("group", 1)
	if w == nil || len(w.Dims) < 3 || w.DataType.BitSize() < 8 || group < 1 || w.Dims[0]%group != 0 {
		a.block(in, "%s has no constant weight", n.Describe())
		return
	}
	m := w.Dims[0]
	depthwise := group > 1 && w.Dims[1] == 1 && m == group
	if in != nil {
		switch {
		case in.spatial > 0 || in.axis != 1:
			a.block(in, "%s reads flattened channels", n.Describe())
		case w.Dims[1]*group != in.width():
			a.block(in, "%s expects %d input channels, analysis found %d", n.Describe(), w.Dims[1]*group, in.width())
		case group == 1:
			a.slice(n, 1, 1, in)
		case depthwise:
			if !producerBias(n, 2, m) {
				a.block(in, "depthwise %s has a non-constant bias", n.Describe())
				return
			}
			// Output channel c reads input channel c only: the channels pass through.
			a.slice(n, 1, 0, in)
			if n.Input(2) != nil {
				a.slice(n, 2, 0, in)
			}
			a.planOf[n].groupOf = in
			a.src[n.Output(0)] = in
			return
		case len(in.segs) != 1 || in.segs[0].start != 0 || in.segs[0].n != a.groups[a.find(in.segs[0].group)].c:
			a.block(in, "grouped %s (group=%d) reads channels of several layers", n.Describe(), group)
		default:
			// Group g reads input block g: every block must keep as many channels.
			a.constrain(in.segs[0].group, int(group), false, nodeLabel(n))
			a.plan(n).slices = append(a.plan(n).slices, sliceOp{input: 1, axis: 1, src: in, groups: int(group)})
		}
	}
	if depthwise || (group > 1 && m/group < 2) || !isPrunableFloat(w.DataType) || !producerBias(n, 2, m) {
		return
	}
	id := a.newGroup(int(m), n, 0, false)
	a.constrain(id, int(group), false, nodeLabel(n))
	s := &chanSrc{segs: []chanSeg{{id, 0, int(m)}}, axis: 1}
	a.slice(n, 1, 0, s)
	if n.Input(2) != nil {
		a.slice(n, 2, 0, s)
	}
	a.src[n.Output(0)] = s
}

func (a *chanAnalysis) convTranspose(n *ir.Node, claimed map[int]bool) {
	in := a.src[n.Input(0)]
	if in == nil {
		return
	}
	claimed[0] = true
	_, w := resolveConst(n.Input(1))
	switch {
	case w == nil || len(w.Dims) < 3 || w.DataType.BitSize() < 8:
		a.block(in, "%s has no constant weight", n.Describe())
	case n.AttrInt("group", 1) != 1:
		a.block(in, "grouped %s ties channels in blocks", n.Describe())
	case in.spatial > 0 || in.axis != 1 || w.Dims[0] != in.width():
		a.block(in, "%s expects %d input channels, analysis found %d", n.Describe(), w.Dims[0], in.width())
	default:
		a.slice(n, 1, 0, in)
	}
}

// gemm handles Gemm (transA=0) and MatMul with a constant 2-D right operand over an
// input of rank 2 or more (its last axis reduced): as a consumer its weight's K rows shrink
// (columns with transB), as a producer its N columns (rows with transB) and Gemm's
// per-column C.
func (a *chanAnalysis) gemm(n *ir.Node, claimed map[int]bool) {
	in := a.src[n.Input(0)]
	claimed[0] = true
	_, b := resolveConst(n.Input(1))
	isGemm := n.OpType == "Gemm"
	transB := isGemm && n.AttrInt("transB", 0) != 0
	rank := rankOf(n.Input(0))
	ok := b != nil && len(b.Dims) == 2 && b.DataType.BitSize() >= 8 && rank >= 2 &&
		(!isGemm || (rank == 2 && n.AttrInt("transA", 0) == 0))
	if !ok {
		a.block(in, "%s is not a product with a constant 2-D right operand", n.Describe())
		return
	}
	kAxis, nAxis := 0, 1
	if transB {
		kAxis, nAxis = 1, 0
	}
	if in != nil {
		switch {
		case in.axis != rank-1:
			a.block(in, "%s reduces axis %d, the channels are on axis %d", n.Describe(), rank-1, in.axis)
		case b.Dims[kAxis] != in.width():
			a.block(in, "%s reduces over %d features, analysis found %d", n.Describe(), b.Dims[kAxis], in.width())
		default:
			a.slice(n, 1, kAxis, in)
		}
	}
	cols := b.Dims[nAxis]
	if !isPrunableFloat(b.DataType) {
		return
	}
	cSlice := false
	if isGemm && n.Input(2) != nil {
		_, c := resolveConst(n.Input(2))
		if c == nil {
			return
		}
		switch cn, _ := c.NumElements(); {
		case cn == 1:
		case cn == cols && (len(c.Dims) == 1 || (len(c.Dims) == 2 && c.Dims[0] == 1)):
			cSlice = true
		default:
			return
		}
	}
	s := &chanSrc{segs: []chanSeg{{a.newGroup(int(cols), n, nAxis, false), 0, int(cols)}}, axis: rank - 1}
	a.slice(n, 1, nAxis, s)
	if cSlice {
		_, c := resolveConst(n.Input(2))
		a.slice(n, 2, len(c.Dims)-1, s)
	}
	a.src[n.Output(0)] = s
}

func (a *chanAnalysis) elementwise(n *ir.Node, claimed map[int]bool) {
	var srcs []*chanSrc
	for _, v := range n.Inputs() {
		if s := a.src[v]; s != nil {
			srcs = append(srcs, s)
		}
	}
	if len(srcs) == 0 {
		return
	}
	blockAll := func(format string, args ...any) {
		for _, s := range srcs {
			a.block(s, format, args...)
		}
	}
	for i := range n.Inputs() {
		claimed[i] = true
	}
	rank := rankOf(n.Output(0))
	if rank < 2 {
		blockAll("%s has an output of unknown rank", n.Describe())
		return
	}
	first := srcs[0]
	type constSlice struct{ input, axis int }
	var cs []constSlice
	for i, v := range n.Inputs() {
		if v == nil {
			continue
		}
		if a.src[v] != nil {
			if rankOf(v) != rank {
				blockAll("%s broadcasts %q to another rank", n.Describe(), v.Name)
				return
			}
			continue
		}
		_, t := resolveConst(v)
		if t == nil {
			blockAll("%s also reads %q, whose channels no prunable layer produces", n.Describe(), v.Name)
			return
		}
		r := len(t.Dims)
		ax := first.axis - (rank - r)
		switch {
		case r > rank:
			blockAll("%s broadcasts the constant %q to a higher rank", n.Describe(), v.Name)
			return
		case ax < 0 || t.Dims[ax] == 1:
		case t.Dims[ax] == first.width() && t.DataType.BitSize() >= 8:
			cs = append(cs, constSlice{i, ax})
		default:
			blockAll("%s: constant %q%v does not broadcast along the channels", n.Describe(), v.Name, t.Dims)
			return
		}
	}
	whole := func(s *chanSrc) bool {
		return len(s.segs) == 1 && s.segs[0].start == 0 && s.segs[0].n == a.groups[a.find(s.segs[0].group)].c && s.mult() == 1
	}
	for _, s := range srcs[1:] {
		switch {
		case sameSrc(s, first):
		case whole(s) && whole(first) && s.segs[0].n == first.segs[0].n && s.axis == first.axis:
			a.union(first.segs[0].group, s.segs[0].group, nodeLabel(n))
		default:
			blockAll("%s combines channels of different layouts", n.Describe())
			return
		}
	}
	for _, c := range cs {
		a.slice(n, c.input, c.axis, first)
	}
	a.src[n.Output(0)] = first
}

func (a *chanAnalysis) concat(n *ir.Node, claimed map[int]bool) {
	var srcs []*chanSrc
	for _, v := range n.Inputs() {
		if s := a.src[v]; s != nil {
			srcs = append(srcs, s)
		}
	}
	if len(srcs) == 0 {
		return
	}
	for i := range n.Inputs() {
		claimed[i] = true
	}
	blockAll := func(format string, args ...any) {
		for _, s := range srcs {
			a.block(s, format, args...)
		}
	}
	rank := rankOf(n.Output(0))
	axis := n.AttrInt("axis", 1)
	if rank > 0 && axis < 0 {
		axis += int64(rank)
	}
	if rank < 2 || axis != int64(srcs[0].axis) {
		blockAll("%s concatenates along axis %d, not the channels", n.Describe(), n.AttrInt("axis", 1))
		return
	}
	out := &chanSrc{axis: srcs[0].axis}
	for _, v := range n.Inputs() {
		s := a.src[v]
		if s == nil {
			c, ok := channelDim(v, out.axis)
			if !ok {
				blockAll("%s input %q has an unknown channel count", n.Describe(), nameOf(v))
				return
			}
			s = &chanSrc{segs: []chanSeg{{a.newGroup(int(c), nil, 0, true), 0, int(c)}}, axis: out.axis}
		}
		if s.mult() != 1 || s.axis != out.axis {
			blockAll("%s concatenates flattened features", n.Describe())
			return
		}
		out.segs = append(out.segs, s.segs...)
	}
	a.src[n.Output(0)] = out
}

func (a *chanAnalysis) flatten(n *ir.Node, claimed map[int]bool) {
	v := n.Input(0)
	in := a.src[v]
	if in == nil {
		return
	}
	claimed[0] = true
	rank := rankOf(v)
	axis := n.AttrInt("axis", 1)
	if rank > 0 && axis < 0 {
		axis += int64(rank)
	}
	if rank < 2 || axis != 1 || in.spatial > 0 || in.axis != 1 {
		a.block(in, "%s does not flatten [N, C, ...] at axis 1", n.Describe())
		return
	}
	spatial := int64(1)
	for _, d := range v.Type.Dims[2:] {
		if !d.IsKnown() {
			a.block(in, "%s: the spatial size of %q is not static", n.Describe(), v.Name)
			return
		}
		spatial *= d.Value
	}
	a.src[n.Output(0)] = &chanSrc{segs: in.segs, spatial: spatial, axis: 1}
}

// positions lists the indices along axis 1 of a value with source s that survive.
func (a *chanAnalysis) positions(s *chanSrc) []int {
	var out []int
	off := 0
	mult := int(s.mult())
	for _, sg := range s.segs {
		keep := a.groups[a.find(sg.group)].keep
		for j := 0; j < sg.n; j++ {
			if keep == nil || keep[sg.start+j] {
				for k := 0; k < mult; k++ {
					out = append(out, (off+j)*mult+k)
				}
			}
		}
		off += sg.n
	}
	return out
}

// channelNorms returns, per output channel along axis, the L1 or L2 norm of w.
func channelNorms(t *ir.Tensor, axis int, l2 bool) ([]float64, error) {
	w, err := t.Float64s()
	if err == nil {
		err = rankable(w)
	}
	if err != nil {
		return nil, err
	}
	outer, l, inner := nmLayout(t.Dims, axis)
	norms := make([]float64, l)
	for o := 0; o < outer; o++ {
		for c := 0; c < l; c++ {
			base := (o*l + c) * inner
			for i := 0; i < inner; i++ {
				x := w[base+i]
				if l2 {
					norms[c] += x * x
				} else {
					norms[c] += math.Abs(x)
				}
			}
		}
	}
	if l2 {
		for c := range norms {
			norms[c] = math.Sqrt(norms[c])
		}
	}
	return norms, nil
}

// sliceTensor keeps positions pos along axis of t (any element type of 8 bits or more).
func sliceTensor(t *ir.Tensor, axis int, pos []int) *ir.Tensor {
	es := t.DataType.BitSize() / 8
	outer, l, inner := nmLayout(t.Dims, axis)
	raw := make([]byte, 0, outer*len(pos)*inner*es)
	for o := 0; o < outer; o++ {
		for _, p := range pos {
			start := ((o*l + p) * inner) * es
			raw = append(raw, t.Raw[start:start+inner*es]...)
		}
	}
	dims := append([]int64(nil), t.Dims...)
	dims[axis] = int64(len(pos))
	return ir.NewTensor(t.Name, t.DataType, dims, raw)
}

func pruneChannels(r *rewriter, m *ir.Model, opts PruneOptions, sel *layerSelector, rep *PruneReport) error {
	a := analyzeChannels(m.Graph, opts)
	roots := []int{}
	for i, g := range a.groups {
		if a.find(i) == i && !g.fixed {
			roots = append(roots, i)
		}
	}
	// Rank each prunable group's channels by the summed norms of its members' filters.
	scores := map[int][]float64{}
	sparsity := map[int]float64{}
	var global []int
	for _, root := range roots {
		g := a.groups[root]
		var override bool
		s := opts.Sparsity
		for _, n := range g.members {
			wv, _ := resolveConst(n.Input(1))
			names := layerNames(n, wv)
			if sel.excluded(names...) {
				g.reasons = append(g.reasons, "excluded ("+nodeLabel(n)+")")
			}
			if v, ok := sel.override(names...); ok && !override {
				s, override = v, true
			}
		}
		sparsity[root] = s
		if len(g.reasons) > 0 {
			continue
		}
		sum := make([]float64, g.c)
		for k, n := range g.members {
			_, w := resolveConst(n.Input(1))
			norms, err := channelNorms(w, g.axes[k], opts.Norm == "l2")
			if err != nil {
				return fmt.Errorf("%s weight %q: %w", n.Describe(), n.Input(1).Name, err)
			}
			if len(norms) != g.c {
				return fmt.Errorf("%s: %d channels, group has %d", n.Describe(), len(norms), g.c)
			}
			for c, x := range norms {
				sum[c] += x
			}
		}
		scores[root] = sum
		// Structured groups (blocks, parts) are pruned on their own to the global sparsity:
		// a global ranking could not keep their blocks equal.
		if opts.Scope == ScopeGlobal && !override && g.parts <= 1 && g.blocks <= 1 {
			global = append(global, root)
			continue
		}
		pruneGroup(g, sum, s)
	}
	if len(global) > 0 {
		pruneGlobalChannels(a, global, scores, opts.Sparsity)
	}
	// Report the groups in graph order of their first member.
	changed := false
	for _, root := range roots {
		g := a.groups[root]
		gr := ChannelGroupReport{Channels: g.c, Kept: g.c, TiedBy: g.tiedBy, Skipped: g.reasons}
		for _, n := range g.members {
			gr.Members = append(gr.Members, nodeLabel(n))
		}
		if g.keep != nil {
			gr.Kept = 0
			for c, k := range g.keep {
				if k {
					gr.Kept++
				} else {
					gr.Removed = append(gr.Removed, c)
				}
			}
		}
		changed = changed || gr.Kept < gr.Channels
		for _, n := range g.members {
			how := fmt.Sprintf("channel group %d", len(rep.Groups))
			if len(g.reasons) > 0 {
				how += ", left whole"
			}
			rep.setTarget(n, sparsity[root], how)
		}
		rep.Groups = append(rep.Groups, gr)
	}
	if !changed {
		return nil
	}
	return a.apply(r)
}

// pruneGroup removes the fraction s of g's channels with the lowest scores. Tied parts
// are ranked by their summed scores and removed together; with blocks, every block loses
// the same number of channels (or, with wholeBlocks, the lowest-scoring blocks go whole).
func pruneGroup(g *chanGroup, score []float64, s float64) {
	if g.parts <= 1 && g.blocks <= 1 {
		removeLowest(g, score, countToPrune(s, g.c))
		return
	}
	n := g.unitCount()
	unit := make([]float64, n)
	for c, x := range score {
		unit[c%n] += x
	}
	bs := n / g.blocks
	keep := make([]bool, n)
	for i := range keep {
		keep[i] = true
	}
	removed := 0
	if g.wholeBlocks {
		k := min(countToPrune(s, g.blocks), g.blocks-1)
		bscore := make([]float64, g.blocks)
		for c, x := range unit {
			bscore[c/bs] += x
		}
		for _, b := range sortedIndexByKey(bscore)[:max(k, 0)] {
			for c := b * bs; c < (b+1)*bs; c++ {
				keep[c] = false
				removed++
			}
		}
	} else {
		k := max(min(countToPrune(s, bs), bs-1), 0)
		for b := 0; b < g.blocks; b++ {
			for _, c := range sortedIndexByKey(unit[b*bs : (b+1)*bs])[:k] {
				keep[b*bs+c] = false
				removed++
			}
		}
	}
	if removed == 0 {
		return
	}
	g.keep = make([]bool, g.c)
	for c := range g.keep {
		g.keep[c] = keep[c%n]
	}
}

// removeLowest marks the k lowest-scoring channels of g removed (ties: lower index
// first), keeping at least one.
func removeLowest(g *chanGroup, score []float64, k int) {
	if k >= g.c {
		k = g.c - 1
	}
	if k <= 0 {
		return
	}
	g.keep = make([]bool, g.c)
	for i := range g.keep {
		g.keep[i] = true
	}
	for _, c := range sortedIndexByKey(score)[:k] {
		g.keep[c] = false
	}
}

// pruneGlobalChannels ranks the channels of all groups together. Norms grow with a
// layer's fan-in, so each channel's score is divided by its group's mean score first; the
// lowest fraction s of all channels goes, each group keeping at least one.
func pruneGlobalChannels(a *chanAnalysis, roots []int, scores map[int][]float64, s float64) {
	type cand struct {
		root, c int
		score   float64
	}
	var cands []cand
	total := 0
	for _, root := range roots {
		sc := scores[root]
		mean := 0.0
		for _, x := range sc {
			mean += x
		}
		mean /= float64(len(sc))
		for c, x := range sc {
			v := x
			if mean > 0 {
				v = x / mean
			}
			cands = append(cands, cand{root, c, v})
		}
		total += len(sc)
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].score < cands[j].score })
	k := countToPrune(s, total)
	removed := map[int]int{}
	for _, cd := range cands {
		if k == 0 {
			break
		}
		g := a.groups[cd.root]
		if removed[cd.root] == g.c-1 {
			continue
		}
		if g.keep == nil {
			g.keep = make([]bool, g.c)
			for i := range g.keep {
				g.keep[i] = true
			}
		}
		g.keep[cd.c] = false
		removed[cd.root]++
		k--
	}
}

// apply shrinks every planned constant, depthwise group attribute and value type.
func (a *chanAnalysis) apply(r *rewriter) error {
	var orphans []*ir.Value
	for _, p := range a.plans {
		n := p.n
		byInput := map[int][]sliceOp{}
		var inputs []int
		for _, s := range p.slices {
			if _, ok := byInput[s.input]; !ok {
				inputs = append(inputs, s.input)
			}
			byInput[s.input] = append(byInput[s.input], s)
		}
		for _, i := range inputs {
			_, t := resolveConst(n.Input(i))
			if t == nil {
				return fmt.Errorf("%s input %d is no longer constant", n.Describe(), i)
			}
			nt, shrunk := t, false
			for _, s := range byInput[i] {
				pos := a.positions(s.src)
				if s.groups > 0 {
					if s.axis >= len(nt.Dims) || nt.Dims[s.axis]*int64(s.groups) != s.src.width() {
						return fmt.Errorf("%s input %d: %d groups of axis %d of %v do not hold the %d analysed channels", n.Describe(), i, s.groups, s.axis, nt.Dims, s.src.width())
					}
					if int64(len(pos)) == s.src.width() {
						continue
					}
					st, err := sliceGroupedInput(nt, s.groups, pos)
					if err != nil {
						return fmt.Errorf("%s input %d: %w", n.Describe(), i, err)
					}
					nt, shrunk = st, true
					continue
				}
				if s.axis >= len(nt.Dims) || nt.Dims[s.axis] != s.src.width() {
					return fmt.Errorf("%s input %d: axis %d of %v does not hold the %d analysed channels", n.Describe(), i, s.axis, nt.Dims, s.src.width())
				}
				if int64(len(pos)) == nt.Dims[s.axis] {
					continue
				}
				nt, shrunk = sliceTensor(nt, s.axis, pos), true
			}
			if !shrunk {
				continue
			}
			if old := r.replaceConstInput(n, i, nt); old != nil {
				orphans = append(orphans, old)
			}
		}
		if p.groupOf != nil {
			if k := int64(len(a.positions(p.groupOf))); k != n.AttrInt("group", 1) {
				r.setAttr(n, ir.IntAttr("group", k))
			}
		}
	}
	for v, s := range a.src {
		if v.Type == nil || !v.Type.HasShape || len(v.Type.Dims) <= s.axis {
			continue
		}
		if w := int64(len(a.positions(s))); w != s.width() {
			t := v.Type.Clone()
			t.Dims[s.axis] = ir.Known(w)
			v.Type = t
		}
	}
	if err := a.applyAttention(r); err != nil {
		return err
	}
	return r.dropOrphans(orphans)
}

// sliceGroupedInput keeps, of a grouped Conv weight [M, C/groups, ...], the input
// channels at pos (indices into all C input channels): output channel m keeps those of
// its group's block, re-based. Every block must keep the same number.
func sliceGroupedInput(t *ir.Tensor, groups int, pos []int) (*ir.Tensor, error) {
	cg := int(t.Dims[1])
	rows := int(t.Dims[0])
	if rows%groups != 0 {
		return nil, fmt.Errorf("%d output channels do not split into %d groups", rows, groups)
	}
	local := make([][]int, groups)
	for _, p := range pos {
		if g := p / cg; g < groups {
			local[g] = append(local[g], p-g*cg)
		}
	}
	for g := range local {
		if len(local[g]) != len(local[0]) {
			return nil, fmt.Errorf("group %d keeps %d input channels, group 0 keeps %d", g, len(local[g]), len(local[0]))
		}
	}
	es := t.DataType.BitSize() / 8
	_, _, inner := nmLayout(t.Dims, 1)
	per := rows / groups
	raw := make([]byte, 0, rows*len(local[0])*inner*es)
	for m := 0; m < rows; m++ {
		for _, l := range local[m/per] {
			start := ((m*cg + l) * inner) * es
			raw = append(raw, t.Raw[start:start+inner*es]...)
		}
	}
	dims := append([]int64(nil), t.Dims...)
	dims[1] = int64(len(local[0]))
	return ir.NewTensor(t.Name, t.DataType, dims, raw), nil
}

// replaceConstInput gives input i of n the constant t: in place when the input is an
// initializer only n reads, else as a new initializer. It returns the value n no longer
// reads, or nil.
func (r *rewriter) replaceConstInput(n *ir.Node, i int, t *ir.Tensor) *ir.Value {
	v := n.Input(i)
	if v.Const != nil && constOf(v) != nil && len(v.Uses()) == 1 && !v.IsGraphOutput() {
		r.setConst(v, t)
		return nil
	}
	c := r.addConst(n.Graph(), nameOf(v)+"_pruned", t)
	r.setInput(n, i, c)
	return v
}

// dropOrphans removes the nodes (Identity chains, shape arithmetic, Constant nodes) and
// initializers that pruning disconnected.
func (r *rewriter) dropOrphans(vals []*ir.Value) error {
	gone := map[*ir.Value]bool{}
	for len(vals) > 0 {
		v := vals[len(vals)-1]
		vals = vals[:len(vals)-1]
		if v == nil || gone[v] || len(v.Uses()) > 0 || v.IsGraphOutput() {
			continue
		}
		gone[v] = true
		if p := v.Producer(); p != nil {
			if !ir.IsDefaultDomain(p.Domain) || hasSubgraphs(p) || isRandom(p) {
				continue
			}
			for _, out := range p.Outputs() {
				if out != nil && (len(out.Uses()) > 0 || out.IsGraphOutput()) {
					p = nil
					break
				}
			}
			if p == nil {
				continue
			}
			ins := append([]*ir.Value(nil), p.Inputs()...)
			if err := r.removeNode(p); err != nil {
				return err
			}
			vals = append(vals, ins...)
			continue
		}
		if v.Const != nil && !v.IsGraphInput() {
			if err := r.removeInitializer(v); err != nil {
				return err
			}
		}
	}
	return nil
}

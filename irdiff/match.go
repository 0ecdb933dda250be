package irdiff

import (
	"encoding/binary"
	"hash/fnv"
	"strconv"

	"github.com/whittle-ml/whittle/ir"
)

// How a pair of nodes or values was found; reported as NodeDiff.MatchedBy.
const (
	byName      = "name"
	byStructure = "structure"
	byOrder     = "order"
	byData      = "data"     // initializers with the same type, shape and bytes
	bySlot      = "slot"     // initializers read at the same input of matched nodes
	byPosition  = "position" // graph inputs and outputs
)

// lcsLimit bounds the cells of the longest-common-subsequence table; past it, leftover
// nodes are paired greedily by op type and order, which needs no table.
const lcsLimit = 4 << 20

// matching holds the pairs found between model A and model B. Values of every graph of a
// model are distinct pointers, so one map per direction serves the main graph and all its
// subgraphs: a subgraph sees its enclosing graphs' pairs, as it sees their values.
type matching struct {
	nodeAB, nodeBA map[*ir.Node]*ir.Node
	valAB, valBA   map[*ir.Value]*ir.Value
	// how records the way each B node or value was paired.
	nodeHow map[*ir.Node]string
	valHow  map[*ir.Value]string
	// subgraphs pairs the graphs held by matched nodes, keyed by A's graph.
	subgraphs map[*ir.Graph]*ir.Graph
}

func newMatching() *matching {
	return &matching{
		nodeAB: map[*ir.Node]*ir.Node{}, nodeBA: map[*ir.Node]*ir.Node{},
		valAB: map[*ir.Value]*ir.Value{}, valBA: map[*ir.Value]*ir.Value{},
		nodeHow: map[*ir.Node]string{}, valHow: map[*ir.Value]string{},
		subgraphs: map[*ir.Graph]*ir.Graph{},
	}
}

func (m *matching) pairValues(a, b *ir.Value, how string) {
	if a == nil || b == nil || m.valAB[a] != nil || m.valBA[b] != nil {
		return
	}
	m.valAB[a], m.valBA[b], m.valHow[b] = b, a, how
}

// pairNodes records a and b as the same node, and their outputs, slot by slot, as the same
// values.
func (m *matching) pairNodes(a, b *ir.Node, how string) {
	m.nodeAB[a], m.nodeBA[b], m.nodeHow[b] = b, a, how
	for i, out := range b.Outputs() {
		m.pairValues(a.Output(i), out, how)
	}
}

// sameValue reports whether input a of an A node and input b of a B node are the same
// value under the matching (both omitted counts as the same).
func (m *matching) sameValue(a, b *ir.Value) bool {
	if a == nil || b == nil {
		return a == b
	}
	return m.valAB[a] == b
}

// graphs pairs everything in gA and gB, then recurses into the subgraphs of matched nodes.
func (m *matching) graphs(gA, gB *ir.Graph) {
	m.subgraphs[gA] = gB
	pairByNameThenOrder(m, graphInputs(gA), graphInputs(gB))
	m.initializers(gA, gB)

	nodesA, nodesB := gA.Nodes(), gB.Nodes()
	m.nodesByName(nodesA, nodesB)
	m.nodesByStructure(nodesA, nodesB)
	m.nodesByOrder(nodesA, nodesB)
	m.initializersBySlot(gB)

	for _, b := range nodesB {
		a := m.nodeBA[b]
		if a == nil {
			continue
		}
		for _, pair := range pairSubgraphs(a, b) {
			m.graphs(pair.a, pair.b)
		}
	}
}

// graphInputs lists the inputs a caller feeds: graph inputs that are not initializers
// (before IR version 4 initializers were listed among the inputs too).
func graphInputs(g *ir.Graph) []*ir.Value {
	var out []*ir.Value
	for _, v := range g.Inputs {
		if !v.IsConst() {
			out = append(out, v)
		}
	}
	return out
}

// pairByNameThenOrder pairs values with the same name, then the rest in order.
func pairByNameThenOrder(m *matching, as, bs []*ir.Value) {
	byNameB := map[string]*ir.Value{}
	for _, b := range bs {
		byNameB[b.Name] = b
	}
	for _, a := range as {
		if b := byNameB[a.Name]; b != nil {
			m.pairValues(a, b, byName)
		}
	}
	var restA, restB []*ir.Value
	for _, a := range as {
		if m.valAB[a] == nil {
			restA = append(restA, a)
		}
	}
	for _, b := range bs {
		if m.valBA[b] == nil {
			restB = append(restB, b)
		}
	}
	for i := 0; i < len(restA) && i < len(restB); i++ {
		m.pairValues(restA[i], restB[i], byPosition)
	}
}

// initializers pairs constants by name, then by identical type, shape and bytes (a
// renamed but unchanged weight).
func (m *matching) initializers(gA, gB *ir.Graph) {
	byNameB := map[string]*ir.Value{}
	for _, b := range gB.Initializers {
		byNameB[b.Name] = b
	}
	for _, a := range gA.Initializers {
		if b := byNameB[a.Name]; b != nil {
			m.pairValues(a, b, byName)
		}
	}
	byKeyB := map[string][]*ir.Value{}
	for _, b := range gB.Initializers {
		if m.valBA[b] == nil {
			k := dataKey(b)
			byKeyB[k] = append(byKeyB[k], b)
		}
	}
	for _, a := range gA.Initializers {
		if m.valAB[a] != nil {
			continue
		}
		k := dataKey(a)
		for i, b := range byKeyB[k] {
			if m.valBA[b] == nil {
				m.pairValues(a, b, byData)
				byKeyB[k] = byKeyB[k][i+1:]
				break
			}
		}
	}
}

// dataKey identifies an initializer's content: element type, shape and a hash of its data.
func dataKey(v *ir.Value) string {
	h := fnv.New64a()
	var buf [8]byte
	writeTensor := func(t *ir.Tensor) {
		if t == nil {
			return
		}
		binary.LittleEndian.PutUint64(buf[:], uint64(t.DataType))
		h.Write(buf[:])
		for _, d := range t.Dims {
			binary.LittleEndian.PutUint64(buf[:], uint64(d))
			h.Write(buf[:])
		}
		h.Write([]byte{0xff})
		h.Write(t.Raw)
		for _, s := range t.Strings {
			binary.LittleEndian.PutUint64(buf[:], uint64(len(s)))
			h.Write(buf[:])
			h.Write(s)
		}
		if t.External != nil {
			h.Write([]byte(t.External.Location + "@" + strconv.FormatInt(t.External.Offset, 10)))
		}
	}
	switch {
	case v.Const != nil:
		writeTensor(v.Const)
		return "dense:" + strconv.FormatUint(h.Sum64(), 16)
	case v.SparseConst != nil:
		writeTensor(v.SparseConst.Values)
		writeTensor(v.SparseConst.Indices)
		for _, d := range v.SparseConst.Dims {
			binary.LittleEndian.PutUint64(buf[:], uint64(d))
			h.Write(buf[:])
		}
		return "sparse:" + strconv.FormatUint(h.Sum64(), 16)
	}
	return "none"
}

// nodesByName pairs nodes whose non-empty name occurs once on each side.
func (m *matching) nodesByName(nodesA, nodesB []*ir.Node) {
	uniqueA, uniqueB := uniqueNames(nodesA), uniqueNames(nodesB)
	for name, b := range uniqueB {
		if a := uniqueA[name]; a != nil {
			m.pairNodes(a, b, byName)
		}
	}
}

func uniqueNames(nodes []*ir.Node) map[string]*ir.Node {
	count := map[string]int{}
	for _, n := range nodes {
		if n.Name != "" {
			count[n.Name]++
		}
	}
	out := map[string]*ir.Node{}
	for _, n := range nodes {
		if n.Name != "" && count[n.Name] == 1 {
			out[n.Name] = n
		}
	}
	return out
}

// nodesByStructure pairs a B node with an A node of the same op whose inputs are all the
// same values under the matching. Walking B in topological order pairs producers before
// their consumers, so one walk follows a renamed chain to its end; the loop repeats only
// when a late pair could enable an earlier node (out-of-order input, outer captures).
func (m *matching) nodesByStructure(nodesA, nodesB []*ir.Node) {
	posA := make(map[*ir.Node]int, len(nodesA))
	for i, n := range nodesA {
		posA[n] = i
	}
	for changed := true; changed; {
		changed = false
		for _, b := range nodesB {
			if m.nodeBA[b] != nil {
				continue
			}
			if a := m.structuralPartner(b, posA); a != nil {
				m.pairNodes(a, b, byStructure)
				changed = true
			}
		}
	}
}

// structuralPartner finds the earliest unmatched A node that reads, input by input, what b
// reads and has b's op; candidates come from the use list of b's first input's partner.
func (m *matching) structuralPartner(b *ir.Node, posA map[*ir.Node]int) *ir.Node {
	first := -1
	for i, v := range b.Inputs() {
		if v != nil {
			first = i
			break
		}
	}
	if first < 0 {
		return nil // no inputs to anchor on: left to the order pass
	}
	va := m.valBA[b.Input(first)]
	if va == nil {
		return nil
	}
	var best *ir.Node
	for _, u := range va.Uses() {
		a := u.Node
		if u.Index != first || m.nodeAB[a] != nil || a.OpType != b.OpType || a.Domain != b.Domain {
			continue
		}
		if _, inGraph := posA[a]; !inGraph || len(a.Inputs()) != len(b.Inputs()) {
			continue
		}
		same := true
		for i, in := range b.Inputs() {
			if !m.sameValue(a.Input(i), in) {
				same = false
				break
			}
		}
		if same && (best == nil || posA[a] < posA[best]) {
			best = a
		}
	}
	return best
}

// nodesByOrder pairs the nodes still unmatched by a longest common subsequence of their
// op sequences (in graph order, which is topological).
func (m *matching) nodesByOrder(nodesA, nodesB []*ir.Node) {
	var restA, restB []*ir.Node
	for _, n := range nodesA {
		if m.nodeAB[n] == nil {
			restA = append(restA, n)
		}
	}
	for _, n := range nodesB {
		if m.nodeBA[n] == nil {
			restB = append(restB, n)
		}
	}
	if len(restA) == 0 || len(restB) == 0 {
		return
	}
	keysA, keysB := make([]string, len(restA)), make([]string, len(restB))
	for i, n := range restA {
		keysA[i] = opKey(n)
	}
	for i, n := range restB {
		keysB[i] = opKey(n)
	}
	for _, p := range longestCommonSubsequence(keysA, keysB) {
		m.pairNodes(restA[p[0]], restB[p[1]], byOrder)
	}
}

// longestCommonSubsequence returns index pairs (i in a, j in b) of one longest common
// subsequence of a and b. Tables too large for memory fall back to pairing each key's
// occurrences in order, which is what the subsequence gives when ops do not interleave.
func longestCommonSubsequence(a, b []string) [][2]int {
	if len(a)*len(b) > lcsLimit {
		return greedyPairs(a, b)
	}
	n, w := len(a), len(b)+1
	// length[i*w+j] is the LCS length of a[i:] and b[j:].
	length := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				length[i*w+j] = length[(i+1)*w+j+1] + 1
			} else {
				length[i*w+j] = max(length[(i+1)*w+j], length[i*w+j+1])
			}
		}
	}
	var out [][2]int
	for i, j := 0, 0; i < n && j < len(b); {
		switch {
		case a[i] == b[j]:
			out = append(out, [2]int{i, j})
			i++
			j++
		case length[(i+1)*w+j] >= length[i*w+j+1]:
			i++
		default:
			j++
		}
	}
	return out
}

func greedyPairs(a, b []string) [][2]int {
	queue := map[string][]int{}
	for j, k := range b {
		queue[k] = append(queue[k], j)
	}
	var out [][2]int
	for i, k := range a {
		if q := queue[k]; len(q) > 0 {
			out = append(out, [2]int{i, q[0]})
			queue[k] = q[1:]
		}
	}
	return out
}

// opKey is a node's op qualified by its domain, as the op histogram names it.
func opKey(n *ir.Node) string { return ir.QualifiedOp(n.Domain, n.OpType) }

// initializersBySlot pairs initializers still unmatched when matched nodes read them at the
// same input: a weight that a pass both renamed and rewrote (a folded batch norm's scale
// baked into a new conv weight) then shows as one changed tensor, not a removal and an
// addition.
func (m *matching) initializersBySlot(gB *ir.Graph) {
	for _, b := range gB.Nodes() {
		a := m.nodeBA[b]
		if a == nil {
			continue
		}
		for i, vb := range b.Inputs() {
			va := a.Input(i)
			if va == nil || vb == nil || !va.IsConst() || !vb.IsConst() || va.Graph() != a.Graph() || vb.Graph() != gB {
				continue
			}
			m.pairValues(va, vb, bySlot)
		}
	}
}

// subgraphPair is one graph held by both nodes of a matched pair, under the same attribute.
type subgraphPair struct {
	attr string // attribute name, with [k] for the k-th graph of a GRAPHS attribute
	a, b *ir.Graph
}

func pairSubgraphs(a, b *ir.Node) []subgraphPair {
	var out []subgraphPair
	for _, attrB := range b.Attrs {
		gsB := attrB.Subgraphs()
		attrA := a.Attr(attrB.Name)
		if len(gsB) == 0 || attrA == nil {
			continue
		}
		gsA := attrA.Subgraphs()
		for k := 0; k < len(gsA) && k < len(gsB); k++ {
			name := attrB.Name
			if attrB.Type == ir.AttrGraphs {
				name += "[" + strconv.Itoa(k) + "]"
			}
			out = append(out, subgraphPair{name, gsA[k], gsB[k]})
		}
	}
	return out
}

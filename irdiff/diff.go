package irdiff

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/ir/stats"
)

// SchemaVersion names the JSON layout of a Diff; it changes only when a field is renamed
// or removed (fields may be added).
const SchemaVersion = "whittle.diff/1"

// Status says how an item of B relates to A.
type Status string

// The statuses of compared items.
const (
	Added     Status = "added"
	Removed   Status = "removed"
	Changed   Status = "changed"
	Unchanged Status = "unchanged"
)

// Options tune Compare.
type Options struct {
	// LabelA and LabelB name the models in reports (usually their file paths).
	LabelA, LabelB string
	// All keeps unchanged items (nodes, initializers, inputs, outputs, ops) in the Diff.
	All bool
	// InferShapes runs shape inference on copies of the models, for MACs and for the tensor
	// shapes on DOT edges. What is compared is always the models as given.
	InferShapes bool
}

// Diff is the result of Compare. Its JSON form (WriteJSON) is documented field by field;
// "a" is the first model, "b" the second, and old/new always mean A/B.
type Diff struct {
	// Schema is SchemaVersion.
	Schema string    `json:"schema"`
	A      ModelInfo `json:"a"`
	B      ModelInfo `json:"b"`
	// Equal is true when no difference was found (totals included).
	Equal bool `json:"equal"`
	// Pipelines renders B's whittle.passes: the pipeline of each whittle run that produced
	// it, oldest first, in whittle's syntax ("fold_constants,prune:sparsity=0.5").
	Pipelines []string `json:"pipelines,omitempty"`
	// HasChangelog says whether B carries whittle.changelog; only then are differences
	// attributed to passes (Explanation.By) or marked unexplained.
	HasChangelog bool `json:"has_changelog"`
	// ChangelogTruncated counts log entries the writer left out for size.
	ChangelogTruncated int `json:"changelog_truncated,omitempty"`
	// UnmatchedChanges are log entries that no visible difference accounts for.
	UnmatchedChanges []ChangeEntry `json:"unmatched_changes,omitempty"`
	// Model lists model-level differences (IR version, opsets, producer, metadata, ...).
	Model   []FieldChange `json:"model,omitempty"`
	Graph   *GraphDiff    `json:"graph"`
	Totals  Totals        `json:"totals"`
	Summary Summary       `json:"summary"`
	// Warnings are problems that did not stop the comparison (an unreadable change log).
	Warnings []string `json:"warnings,omitempty"`

	a, b  *ir.Model
	match *matching
	// status of every node of A and B, subgraphs included, for DOT.
	statusA, statusB map[*ir.Node]Status
	// types holds the inferred type of values by ID for each side (nil without inference).
	typesA, typesB map[int]*ir.Type
	all            bool
}

// ModelInfo describes one of the compared models.
type ModelInfo struct {
	Label     string   `json:"label"`
	IRVersion int64    `json:"ir_version"`
	Producer  string   `json:"producer,omitempty"`
	Opsets    []string `json:"opsets"`
}

// FieldChange is a model-level property that differs. Old or New is empty when the
// property is absent on that side.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// Explanation attributes a difference to passes of B's change log.
type Explanation struct {
	// By lists the passes whose logged changes concern the difference, in log order.
	By []string `json:"by,omitempty"`
	// Unexplained is set when B has a change log but no entry concerns the difference.
	Unexplained bool `json:"unexplained,omitempty"`
}

// GraphDiff compares one graph of A with its counterpart in B. Each list holds the items
// that differ (all items with Options.All), in B's order with removed items of A placed
// where they stood.
type GraphDiff struct {
	Name string `json:"name"`
	// OldName is A's graph name when it differs.
	OldName string `json:"old_name,omitempty"`
	// Attribute, for a subgraph, is the owner node's attribute holding it ("body",
	// "branches[1]").
	Attribute    string            `json:"attribute,omitempty"`
	Inputs       []ValueDiff       `json:"inputs,omitempty"`
	Outputs      []ValueDiff       `json:"outputs,omitempty"`
	Initializers []InitializerDiff `json:"initializers,omitempty"`
	Nodes        []NodeDiff        `json:"nodes,omitempty"`
}

// ValueDiff compares a graph input or output.
type ValueDiff struct {
	Status Status `json:"status"`
	// Index is the position in B (in A for removed items).
	Index int `json:"index"`
	// Name is B's name (A's for removed items); OldName is A's name when it differs.
	Name    string `json:"name"`
	OldName string `json:"old_name,omitempty"`
	OldType string `json:"old_type,omitempty"`
	NewType string `json:"new_type,omitempty"`
	// OldSource and NewSource name, for an output, the node output that computes it
	// ("relu:0", or "input"/"initializer"), when that changed.
	OldSource string `json:"old_source,omitempty"`
	NewSource string `json:"new_source,omitempty"`
	MatchedBy string `json:"matched_by,omitempty"`
	Explanation
}

// InitializerDiff compares an initializer.
type InitializerDiff struct {
	Status  Status `json:"status"`
	Name    string `json:"name"`
	OldName string `json:"old_name,omitempty"`
	// OldType and NewType render element type and shape: float[64,3,7,7].
	OldType string `json:"old_type,omitempty"`
	NewType string `json:"new_type,omitempty"`
	// DataChanged is false when the bytes are equal.
	DataChanged bool `json:"data_changed"`
	// OldSparsity and NewSparsity are the fractions of zero elements.
	OldSparsity *float64 `json:"old_sparsity,omitempty"`
	NewSparsity *float64 `json:"new_sparsity,omitempty"`
	// MaxAbsDelta is max |b-a| and RelL2 is ||b-a|| / ||a||, for float tensors of the same
	// type and shape; RelL2 is absent when ||a|| is 0 and b differs.
	MaxAbsDelta *float64 `json:"max_abs_delta,omitempty"`
	RelL2       *float64 `json:"rel_l2,omitempty"`
	MatchedBy   string   `json:"matched_by,omitempty"`
	Explanation
}

// NodeDiff compares a node.
type NodeDiff struct {
	Status Status `json:"status"`
	// Name is B's node name (A's for removed nodes), or "%" and the first output's name for
	// unnamed nodes; OldName is A's when it differs.
	Name    string `json:"name"`
	OldName string `json:"old_name,omitempty"`
	// Op is B's domain-qualified op (A's for removed nodes); OldOp is A's when it differs.
	Op        string `json:"op"`
	OldOp     string `json:"old_op,omitempty"`
	MatchedBy string `json:"matched_by,omitempty"`
	// Attributes, Inputs and Outputs list what differs on a matched node.
	Attributes []AttrChange `json:"attributes,omitempty"`
	Inputs     []EdgeChange `json:"inputs,omitempty"`
	Outputs    []EdgeChange `json:"outputs,omitempty"`
	// Subgraphs compares the graphs the node holds, where they differ.
	Subgraphs []*GraphDiff `json:"subgraphs,omitempty"`
	Explanation

	a, b *ir.Node
}

// AttrChange is an attribute added, removed or changed; values render as in ir.Format.
type AttrChange struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
}

// EdgeChange is an input that now reads another value, or an output renamed; Old or New is
// empty when the slot is absent or omitted on that side.
type EdgeChange struct {
	Index int    `json:"index"`
	Old   string `json:"old"`
	New   string `json:"new"`
	// OldSource and NewSource say what computes each value when both have the same name
	// ("Constant %w:0", "initializer w", "input x").
	OldSource string `json:"old_source,omitempty"`
	NewSource string `json:"new_source,omitempty"`
}

// Totals compares whole-model measures (ir/stats), subgraphs included.
type Totals struct {
	Nodes  Count `json:"nodes"`
	Params Count `json:"params"`
	Bytes  Count `json:"bytes"`
	MACs   Count `json:"macs"`
	// MACsComplete says, per side, whether every MAC-bearing layer's shapes were known.
	MACsComplete [2]bool `json:"macs_complete"`
	// Ops is the op histogram: ops whose count differs (all ops with Options.All).
	Ops []OpCount `json:"ops,omitempty"`
}

// Count is a measure on both sides.
type Count struct {
	A     int64 `json:"a"`
	B     int64 `json:"b"`
	Delta int64 `json:"delta"`
}

// OpCount is one op of the histogram on both sides.
type OpCount struct {
	Op    string `json:"op"`
	A     int    `json:"a"`
	B     int    `json:"b"`
	Delta int    `json:"delta"`
}

// Summary counts the differences of every graph, subgraphs included.
type Summary struct {
	Added       int `json:"added"`
	Removed     int `json:"removed"`
	Changed     int `json:"changed"`
	Unexplained int `json:"unexplained"`
}

// Compare pairs the parts of a and b (see the package doc) and reports how they differ.
// Neither model is modified.
func Compare(a, b *ir.Model, opts Options) (*Diff, error) {
	if a == nil || a.Graph == nil {
		return nil, errors.New("irdiff: model A has no graph")
	}
	if b == nil || b.Graph == nil {
		return nil, errors.New("irdiff: model B has no graph")
	}
	d := &Diff{
		Schema: SchemaVersion, A: modelInfo(a, opts.LabelA), B: modelInfo(b, opts.LabelB),
		a: a, b: b, match: newMatching(), all: opts.All,
		statusA: map[*ir.Node]Status{}, statusB: map[*ir.Node]Status{},
	}
	var ex *explainer
	if raw, ok := b.MetadataValue(PassesKey); ok {
		d.Pipelines = summarizePipelines(raw)
	}
	if raw, ok := b.MetadataValue(ChangelogKey); ok {
		entries, truncated, err := parseChangelog(raw)
		if err != nil {
			d.Warnings = append(d.Warnings, fmt.Sprintf("B's %s is not a change log (%v); differences are not attributed to passes", ChangelogKey, err))
		} else {
			d.HasChangelog, d.ChangelogTruncated = true, truncated
			ex = newExplainer(entries)
		}
	}

	d.match.graphs(a.Graph, b.Graph)
	c := &comparer{d: d, m: d.match, ex: ex, all: opts.All}
	d.Graph = c.graph(a.Graph, b.Graph)
	d.Model = modelChanges(a, b)
	d.UnmatchedChanges = ex.unused()

	ma, mb := a, b
	if opts.InferShapes {
		ma, mb = inferredCopy(a), inferredCopy(b)
		d.typesA, d.typesB = typesByID(ma), typesByID(mb)
	}
	d.Totals = totals(stats.Measure(ma), stats.Measure(mb), opts.All)
	d.Summary = c.summary
	d.Equal = c.summary == (Summary{}) && !d.Graph.differs() && len(d.Model) == 0 && d.Totals.equal()
	return d, nil
}

func (t Totals) equal() bool {
	for _, c := range []Count{t.Nodes, t.Params, t.Bytes, t.MACs} {
		if c.Delta != 0 {
			return false
		}
	}
	for _, o := range t.Ops {
		if o.Delta != 0 {
			return false
		}
	}
	return t.MACsComplete[0] == t.MACsComplete[1]
}

func modelInfo(m *ir.Model, label string) ModelInfo {
	info := ModelInfo{Label: label, IRVersion: m.IRVersion, Producer: strings.TrimSpace(m.ProducerName + " " + m.ProducerVersion)}
	info.Opsets = opsetStrings(m.OpsetImports)
	return info
}

func opsetStrings(imports []ir.OpsetID) []string {
	out := []string{}
	for _, o := range imports {
		out = append(out, ir.DomainName(o.Domain)+" "+strconv.FormatInt(o.Version, 10))
	}
	sort.Strings(out)
	return out
}

// modelChanges compares model-level properties. whittle's own metadata keys are left out:
// the header shows them.
func modelChanges(a, b *ir.Model) []FieldChange {
	var out []FieldChange
	field := func(name, old, new string) {
		if old != new {
			out = append(out, FieldChange{name, old, new})
		}
	}
	field("ir_version", strconv.FormatInt(a.IRVersion, 10), strconv.FormatInt(b.IRVersion, 10))
	field("opset_import", strings.Join(opsetStrings(a.OpsetImports), ", "), strings.Join(opsetStrings(b.OpsetImports), ", "))
	field("producer", strings.TrimSpace(a.ProducerName+" "+a.ProducerVersion), strings.TrimSpace(b.ProducerName+" "+b.ProducerVersion))
	field("domain", a.Domain, b.Domain)
	field("model_version", strconv.FormatInt(a.ModelVersion, 10), strconv.FormatInt(b.ModelVersion, 10))
	field("graph_name", a.Graph.Name, b.Graph.Name)
	metaA, metaB := map[string]string{}, map[string]string{}
	var keys []string
	for _, p := range a.Metadata {
		metaA[p.Key] = p.Value
		keys = append(keys, p.Key)
	}
	for _, p := range b.Metadata {
		metaB[p.Key] = p.Value
		if _, ok := metaA[p.Key]; !ok {
			keys = append(keys, p.Key)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == PassesKey || k == ChangelogKey {
			continue
		}
		field("metadata "+k, metaA[k], metaB[k])
	}
	fa, fb := functionNames(a), functionNames(b)
	for _, f := range fa {
		if !contains(fb, f) {
			field("function "+f, "present", "")
		}
	}
	for _, f := range fb {
		if !contains(fa, f) {
			field("function "+f, "", "present")
		}
	}
	return out
}

func functionNames(m *ir.Model) []string {
	var out []string
	for _, f := range m.Functions {
		out = append(out, f.Domain+"::"+f.Name)
	}
	return out
}

func inferredCopy(m *ir.Model) *ir.Model {
	c := m.Clone()
	// Inference problems only leave some shapes unknown: MACs say so via MACsComplete.
	_, _ = infer.Model(c, infer.Options{DataPropagation: true})
	return c
}

// typesByID maps value IDs to types; Clone keeps IDs, so it indexes the original's values.
func typesByID(m *ir.Model) map[int]*ir.Type {
	out := map[int]*ir.Type{}
	for _, g := range m.Graphs() {
		for _, v := range g.Inputs {
			out[v.ID()] = v.Type
		}
		for _, v := range g.Initializers {
			out[v.ID()] = v.Type
		}
		for _, n := range g.Nodes() {
			for _, v := range n.Outputs() {
				if v != nil && v.Type != nil {
					out[v.ID()] = v.Type
				}
			}
		}
	}
	return out
}

func totals(a, b *stats.Model, all bool) Totals {
	count := func(x, y int64) Count { return Count{x, y, y - x} }
	t := Totals{
		Nodes: count(int64(a.Nodes), int64(b.Nodes)), Params: count(a.Params, b.Params),
		Bytes: count(a.Bytes, b.Bytes), MACs: count(a.MACs, b.MACs),
		MACsComplete: [2]bool{a.MACsComplete, b.MACsComplete},
	}
	ops := map[string]bool{}
	for op := range a.Ops {
		ops[op] = true
	}
	for op := range b.Ops {
		ops[op] = true
	}
	for op := range ops {
		oc := OpCount{Op: op, A: a.Ops[op], B: b.Ops[op], Delta: b.Ops[op] - a.Ops[op]}
		if oc.Delta != 0 || all {
			t.Ops = append(t.Ops, oc)
		}
	}
	sort.Slice(t.Ops, func(i, j int) bool { return t.Ops[i].Op < t.Ops[j].Op })
	return t
}

// comparer walks matched graphs and builds their GraphDiffs.
type comparer struct {
	d       *Diff
	m       *matching
	ex      *explainer
	all     bool
	summary Summary
}

func (c *comparer) count(s Status, e Explanation) {
	switch s {
	case Added:
		c.summary.Added++
	case Removed:
		c.summary.Removed++
	case Changed:
		c.summary.Changed++
	default:
		return
	}
	if e.Unexplained {
		c.summary.Unexplained++
	}
}

func (c *comparer) graph(gA, gB *ir.Graph) *GraphDiff {
	gd := &GraphDiff{Name: gB.Name}
	if gA.Name != gB.Name {
		gd.OldName = gA.Name
	}
	// The pass manager names the graph of a change only outside the main graph.
	graphs := []string{""}
	if gA.Owner() != nil || gB.Owner() != nil {
		graphs = []string{gA.Name, gB.Name, "(subgraph)"}
	}
	gd.Inputs = c.values(graphInputs(gA), graphInputs(gB), graphs, false)
	gd.Outputs = c.values(gA.Outputs, gB.Outputs, graphs, true)
	gd.Initializers = c.initializers(gA, gB, graphs)
	gd.Nodes = c.nodes(gA, gB, graphs)
	return gd
}

func (c *comparer) keep(s Status) bool { return s != Unchanged || c.all }

// values compares graph inputs or outputs. Outputs are paired by name then position
// (their values need not be matched: an output now computed by another node is the same
// output, changed).
func (c *comparer) values(as, bs []*ir.Value, graphs []string, outputs bool) []ValueDiff {
	pairA, pairB := map[int]int{}, map[int]int{}
	how := map[int]string{}
	if outputs {
		usedA := map[int]bool{}
		for j, b := range bs {
			for i, a := range as {
				if !usedA[i] && a.Name == b.Name {
					pairA[i], pairB[j], how[j] = j, i, byName
					usedA[i] = true
					break
				}
			}
		}
		var restA, restB []int
		for i := range as {
			if !usedA[i] {
				restA = append(restA, i)
			}
		}
		for j := range bs {
			if _, ok := pairB[j]; !ok {
				restB = append(restB, j)
			}
		}
		for k := 0; k < len(restA) && k < len(restB); k++ {
			pairA[restA[k]], pairB[restB[k]], how[restB[k]] = restB[k], restA[k], byPosition
		}
	} else {
		index := map[*ir.Value]int{}
		for i, a := range as {
			index[a] = i
		}
		for j, b := range bs {
			if a := c.m.valBA[b]; a != nil {
				if i, ok := index[a]; ok {
					pairA[i], pairB[j], how[j] = j, i, c.m.valHow[b]
				}
			}
		}
	}
	// An output changes when it is redirected or renamed, or when its producer goes or comes.
	kinds := []string{kindOutputChanged, kindValueRenamed, kindNodeRemoved, kindNodeAdded}
	var out []ValueDiff
	emitRemoved := func(i int) {
		a := as[i]
		vd := ValueDiff{Status: Removed, Index: i, Name: a.Name, OldType: a.Type.String()}
		vd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: kinds, values: []string{a.Name}, nodes: producerNames(a)})
		c.count(Removed, vd.Explanation)
		out = append(out, vd)
	}
	mergeOrder(len(as), len(bs), pairA, pairB, emitRemoved, func(j int) {
		b := bs[j]
		i, matched := pairB[j]
		if !matched {
			vd := ValueDiff{Status: Added, Index: j, Name: b.Name, NewType: b.Type.String()}
			vd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: kinds, values: []string{b.Name}, nodes: producerNames(b)})
			c.count(Added, vd.Explanation)
			out = append(out, vd)
			return
		}
		a := as[i]
		vd := ValueDiff{Status: Unchanged, Index: j, Name: b.Name, NewType: b.Type.String(), MatchedBy: how[j]}
		if a.Name != b.Name {
			vd.OldName = a.Name
		}
		if !a.Type.Equal(b.Type) || a.Name != b.Name {
			vd.OldType = a.Type.String()
		}
		if outputs && !c.m.sameValue(a, b) {
			vd.OldSource, vd.NewSource = sourceOf(a), sourceOf(b)
		}
		if vd.OldName != "" || vd.OldType != "" || vd.OldSource != "" {
			vd.Status = Changed
			vd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: kinds, values: []string{a.Name, b.Name},
				nodes: append(producerNames(a), producerNames(b)...)})
			c.count(Changed, vd.Explanation)
		}
		if c.keep(vd.Status) {
			out = append(out, vd)
		}
	})
	return out
}

// mergeOrder visits B's items in order, each preceded by the unmatched A items that stood
// before the next matched pair, so that a removal shows where it happened and, where B
// replaced items, the removals come before the additions (as in diff(1)).
func mergeOrder(nA, nB int, pairA, pairB map[int]int, removed func(i int), visitB func(j int)) {
	// anchor[j] is the A index of the first matched B item at or after j (nA if none).
	anchor := make([]int, nB+1)
	anchor[nB] = nA
	for j := nB - 1; j >= 0; j-- {
		anchor[j] = anchor[j+1]
		if i, ok := pairB[j]; ok {
			anchor[j] = i
		}
	}
	next := 0 // next A index not yet considered for removal
	for j := 0; j < nB; j++ {
		for ; next < anchor[j]; next++ {
			if _, matched := pairA[next]; !matched {
				removed(next)
			}
		}
		visitB(j)
	}
	for ; next < nA; next++ {
		if _, matched := pairA[next]; !matched {
			removed(next)
		}
	}
}

func producerNames(v *ir.Value) []string {
	if p := v.Producer(); p != nil {
		return []string{p.Name, nodeLabel(p)}
	}
	return nil
}

// sourceOf names what computes a graph output: a node output, an input or an initializer.
func sourceOf(v *ir.Value) string {
	switch {
	case v.Producer() != nil:
		return fmt.Sprintf("%s %s:%d", opKey(v.Producer()), nodeLabel(v.Producer()), v.OutputIndex())
	case v.IsConst():
		return "initializer " + v.Name
	default:
		return "input " + v.Name
	}
}

// nodeLabel names a node: its name, else "%" and its first output's name.
func nodeLabel(n *ir.Node) string {
	if n.Name != "" {
		return n.Name
	}
	for _, v := range n.Outputs() {
		if v != nil {
			return "%" + v.Name
		}
	}
	return fmt.Sprintf("#%d", n.ID())
}

// changelogNames lists how the pass manager may name a node: its name and its first
// output's name (what it uses for unnamed nodes).
func changelogNames(n *ir.Node) []string {
	out := []string{}
	if n.Name != "" {
		out = append(out, n.Name)
	}
	if v := n.Output(0); v != nil {
		out = append(out, v.Name)
	}
	return out
}

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
			a.Const.DataType == b.Const.DataType && equalDims(a.Const.Dims, b.Const.Dims) {
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

func equalDims(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (c *comparer) nodes(gA, gB *ir.Graph, graphs []string) []NodeDiff {
	nodesA, nodesB := gA.Nodes(), gB.Nodes()
	posA := make(map[*ir.Node]int, len(nodesA))
	for i, n := range nodesA {
		posA[n] = i
	}
	pairA, pairB := map[int]int{}, map[int]int{}
	for j, b := range nodesB {
		if a := c.m.nodeBA[b]; a != nil {
			if i, ok := posA[a]; ok {
				pairA[i], pairB[j] = j, i
			}
		}
	}
	var out []NodeDiff
	mergeOrder(len(nodesA), len(nodesB), pairA, pairB, func(i int) {
		a := nodesA[i]
		nd := NodeDiff{Status: Removed, Name: nodeLabel(a), Op: opKey(a), a: a}
		nd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: []string{kindNodeRemoved},
			nodes: changelogNames(a), values: outputNames(a)})
		c.count(Removed, nd.Explanation)
		markAll(c.d.statusA, a, Removed)
		out = append(out, nd)
	}, func(j int) {
		b := nodesB[j]
		a := c.m.nodeBA[b]
		if a == nil || posA[a] != pairB[j] {
			nd := NodeDiff{Status: Added, Name: nodeLabel(b), Op: opKey(b), b: b}
			nd.Explanation = c.ex.explain(subject{graphs: graphs, kinds: []string{kindNodeAdded},
				nodes: changelogNames(b), values: outputNames(b)})
			c.count(Added, nd.Explanation)
			markAll(c.d.statusB, b, Added)
			out = append(out, nd)
			return
		}
		nd := c.node(a, b, graphs)
		c.d.statusA[a], c.d.statusB[b] = nd.Status, nd.Status
		if c.keep(nd.Status) {
			out = append(out, nd)
		}
	})
	return out
}

func outputNames(n *ir.Node) []string {
	var out []string
	for _, v := range n.Outputs() {
		if v != nil {
			out = append(out, v.Name)
		}
	}
	return out
}

// markAll records status for n and every node of its subgraphs.
func markAll(status map[*ir.Node]Status, n *ir.Node, s Status) {
	status[n] = s
	for _, g := range n.Subgraphs() {
		for _, m := range g.Nodes() {
			markAll(status, m, s)
		}
	}
}

// node compares a matched pair.
func (c *comparer) node(a, b *ir.Node, graphs []string) NodeDiff {
	nd := NodeDiff{Status: Unchanged, Name: nodeLabel(b), Op: opKey(b), MatchedBy: c.m.nodeHow[b], a: a, b: b}
	if a.Name != b.Name {
		// Unnamed nodes are labelled by their first output, whose renaming Outputs reports.
		nd.OldName = nodeLabel(a)
	}
	if op := opKey(a); op != nd.Op || a.Overload != b.Overload {
		nd.OldOp = op
		if a.Overload != b.Overload {
			nd.OldOp += " overload " + strconv.Quote(a.Overload)
		}
	}
	nd.Attributes = attrChanges(a, b)
	for i := 0; i < max(len(a.Inputs()), len(b.Inputs())); i++ {
		va, vb := a.Input(i), b.Input(i)
		if !c.m.sameValue(va, vb) {
			ec := EdgeChange{Index: i, Old: valueName(va), New: valueName(vb)}
			if va != nil && vb != nil && va.Name == vb.Name {
				// Same name, another value (a folded Constant's output is now an
				// initializer): say what computes each.
				ec.OldSource, ec.NewSource = sourceOf(va), sourceOf(vb)
			}
			nd.Inputs = append(nd.Inputs, ec)
		}
	}
	for i := 0; i < max(len(a.Outputs()), len(b.Outputs())); i++ {
		if na, nb := valueName(a.Output(i)), valueName(b.Output(i)); na != nb {
			nd.Outputs = append(nd.Outputs, EdgeChange{Index: i, Old: na, New: nb})
		}
	}
	own := nd.OldName != "" || nd.OldOp != "" || len(nd.Attributes) > 0 || len(nd.Inputs) > 0 || len(nd.Outputs) > 0
	inner := false
	for _, p := range pairSubgraphs(a, b) {
		gd := c.graph(p.a, p.b)
		gd.Attribute = p.attr
		if gd.differs() {
			inner = true
		}
		if gd.differs() || c.all {
			nd.Subgraphs = append(nd.Subgraphs, gd)
		}
	}
	if own {
		nd.Status = Changed
		var values []string
		for _, v := range append(append([]*ir.Value{}, a.Inputs()...), b.Inputs()...) {
			if v != nil {
				values = append(values, v.Name)
			}
		}
		values = append(append(values, outputNames(a)...), outputNames(b)...)
		nd.Explanation = c.ex.explain(subject{graphs: graphs,
			kinds:  []string{kindNodeChanged, kindInputRewired, kindValueRenamed, kindOutputChanged},
			nodes:  append(changelogNames(a), changelogNames(b)...),
			values: values})
		c.count(Changed, nd.Explanation)
	} else if inner {
		// Only the bodies differ: their items carry the explanations and the counts.
		nd.Status = Changed
	}
	return nd
}

// differs reports whether any item of the graph differs.
func (gd *GraphDiff) differs() bool {
	if gd.OldName != "" {
		return true
	}
	for _, v := range gd.Inputs {
		if v.Status != Unchanged {
			return true
		}
	}
	for _, v := range gd.Outputs {
		if v.Status != Unchanged {
			return true
		}
	}
	for _, v := range gd.Initializers {
		if v.Status != Unchanged {
			return true
		}
	}
	for _, v := range gd.Nodes {
		if v.Status != Unchanged {
			return true
		}
	}
	return false
}

func valueName(v *ir.Value) string {
	if v == nil {
		return ""
	}
	return v.Name
}

// attrChanges compares attributes by name, in B's order then A's removed ones. Graph
// attributes are compared through their subgraphs, not here.
func attrChanges(a, b *ir.Node) []AttrChange {
	var out []AttrChange
	for _, ab := range b.Attrs {
		aa := a.Attr(ab.Name)
		switch {
		case aa == nil:
			out = append(out, AttrChange{Name: ab.Name, Status: Added, New: ab.ValueString()})
		case len(ab.Subgraphs()) > 0 && len(aa.Subgraphs()) == len(ab.Subgraphs()):
			// compared as subgraphs
		default:
			if oldV, newV := aa.ValueString(), ab.ValueString(); oldV != newV || aa.Type != ab.Type {
				out = append(out, AttrChange{Name: ab.Name, Status: Changed, Old: oldV, New: newV})
			}
		}
	}
	for _, aa := range a.Attrs {
		if b.Attr(aa.Name) == nil {
			out = append(out, AttrChange{Name: aa.Name, Status: Removed, Old: aa.ValueString()})
		}
	}
	return out
}

package irdiff

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/ir/stats"
)

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

package irdiff

import (
	"strings"

	"github.com/whittle-ml/whittle/provenance"
)

// Metadata keys whittle writes into the models it produces.
const (
	PassesKey    = provenance.MetaPasses
	ChangelogKey = provenance.MetaChangeLog
)

// ChangeEntry is one change recorded by the pass manager.
type ChangeEntry = provenance.Change

// The change kinds that explain each kind of difference.
var (
	kindNodeAdded          = string(provenance.NodeAdded)
	kindNodeRemoved        = string(provenance.NodeRemoved)
	kindNodeChanged        = string(provenance.NodeChanged)
	kindInputRewired       = string(provenance.InputRewired)
	kindInitializerAdded   = string(provenance.InitializerAdded)
	kindInitializerRemoved = string(provenance.InitializerRemoved)
	kindInitializerChanged = string(provenance.InitializerChanged)
	kindOutputChanged      = string(provenance.OutputChanged)
	kindValueRenamed       = string(provenance.ValueRenamed)
)

// parseChangelog decodes whittle.changelog as the pass manager stores it.
func parseChangelog(s string) (entries []ChangeEntry, truncated int, err error) {
	log, truncated, err := provenance.ParseChangeLog([]byte(s))
	if err != nil {
		return nil, 0, err
	}
	return log.Changes, truncated, nil
}

// summarizePipelines renders whittle.passes as one pipeline per run, in whittle's
// command-line syntax ("fold_constants,prune:sparsity=0.5"); a value in another format is
// shown as it is.
func summarizePipelines(raw string) []string {
	history, err := provenance.ParseHistory([]byte(raw))
	if err != nil {
		return []string{strings.TrimSpace(raw)}
	}
	out := make([]string, 0, len(history))
	for _, run := range history {
		s := run.Pipeline.String()
		if run.Version != "" {
			s += " (whittle " + run.Version + ")"
		}
		out = append(out, s)
	}
	return out
}

// explainer attributes differences to changelog entries.
type explainer struct {
	entries []ChangeEntry
	used    []bool
	// alias links the names a value had over the run: passes rename values on the way
	// (fold_constants writes "x_folded" and renames it "x"), and log entries name a value
	// as it was called at that moment.
	alias map[string]string
}

func newExplainer(entries []ChangeEntry) *explainer {
	e := &explainer{entries: entries, used: make([]bool, len(entries)), alias: map[string]string{}}
	for _, c := range entries {
		if c.Kind == provenance.ValueRenamed && c.From != "" && c.To != "" {
			e.union(c.From, c.To)
		}
	}
	return e
}

// root returns the representative of name's alias class (union-find with path halving).
func (e *explainer) root(name string) string {
	for {
		parent, ok := e.alias[name]
		if !ok || parent == name {
			return name
		}
		if grand, ok := e.alias[parent]; ok {
			e.alias[name] = grand
		}
		name = parent
	}
}

func (e *explainer) union(a, b string) {
	ra, rb := e.root(a), e.root(b)
	if ra != rb {
		e.alias[ra] = rb
	}
}

// valueNames lists the value names an entry mentions: From and To are value names only
// for renames and rewirings (elsewhere they describe tensors).
func valueNames(c ChangeEntry) []string {
	switch c.Kind {
	case provenance.ValueRenamed, provenance.InputRewired, provenance.OutputChanged:
		return []string{c.Value, c.From, c.To}
	}
	return []string{c.Value}
}

// subject is what a difference is about, for finding the entries that account for it.
type subject struct {
	graphs []string // how the log names the graph: "" for the main graph
	kinds  []string // entry kinds that can cause this difference
	nodes  []string // node names (or first-output names) on either side
	values []string // value names on either side
}

// explain returns the passes whose entries concern s, in log order, without repeats, and
// marks those entries as used. An entry concerns s when its kind is one of s.kinds, its
// graph is s's, and it names one of s's nodes or values, under any name the value had
// during the run.
func (e *explainer) explain(s subject) Explanation {
	if e == nil {
		return Explanation{}
	}
	nodes, values := map[string]bool{}, map[string]bool{}
	for _, n := range s.nodes {
		nodes[e.root(n)] = true
	}
	for _, v := range s.values {
		values[e.root(v)] = true
	}
	var by []string
	for i, c := range e.entries {
		if !contains(s.kinds, string(c.Kind)) || !contains(s.graphs, c.Graph) {
			continue
		}
		hit := c.Node != "" && nodes[e.root(c.Node)]
		for _, name := range valueNames(c) {
			hit = hit || (name != "" && values[e.root(name)])
		}
		if !hit {
			continue
		}
		e.used[i] = true
		if !contains(by, c.Pass) {
			by = append(by, c.Pass)
		}
	}
	return Explanation{By: by, Unexplained: len(by) == 0}
}

// unused returns the entries that explained no difference: changes that a later pass
// undid, or that the diff cannot see.
func (e *explainer) unused() []ChangeEntry {
	if e == nil {
		return nil
	}
	var out []ChangeEntry
	for i, c := range e.entries {
		if !e.used[i] {
			out = append(out, c)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package provenance

import (
	"encoding/json"
	"sort"
	"strconv"
)

// ChangeKind says what a change did.
type ChangeKind string

// The kinds of change a pass can make.
const (
	NodeAdded          ChangeKind = "node_added"
	NodeRemoved        ChangeKind = "node_removed"
	NodeChanged        ChangeKind = "node_changed" // an attribute was set or dropped
	InputRewired       ChangeKind = "input_rewired"
	InitializerAdded   ChangeKind = "initializer_added"
	InitializerRemoved ChangeKind = "initializer_removed"
	InitializerChanged ChangeKind = "initializer_changed"
	OutputChanged      ChangeKind = "output_changed"
	ValueRenamed       ChangeKind = "value_renamed"
)

// Change is one rewrite, named by strings only so that it survives serialization.
type Change struct {
	Pass string     `json:"pass"`
	Kind ChangeKind `json:"kind"`
	// Graph names the graph when it is not the main graph.
	Graph string `json:"graph,omitempty"`
	// Node names the node concerned (its name, else its first output's name) and Op its
	// operator.
	Node string `json:"node,omitempty"`
	Op   string `json:"op,omitempty"`
	// Value names the value concerned: the initializer, the rewired input's new value,
	// the graph output.
	Value string `json:"value,omitempty"`
	// Index is the input or output position for rewiring and output changes.
	Index int `json:"index,omitempty"`
	// From and To describe the old and new state: value names, shapes, attribute values.
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// ChangeLog is every change of a pipeline run, in order.
type ChangeLog struct {
	Changes []Change `json:"changes"`
}

// Add appends a change.
func (l *ChangeLog) Add(c Change) { l.Changes = append(l.Changes, c) }

// Len returns the number of changes.
func (l *ChangeLog) Len() int {
	if l == nil {
		return 0
	}
	return len(l.Changes)
}

// Counts returns, for the changes from index from on, how many of each kind each pass
// made.
func (l *ChangeLog) Counts(from int) map[string]map[ChangeKind]int {
	out := map[string]map[ChangeKind]int{}
	for _, c := range l.Changes[from:] {
		if out[c.Pass] == nil {
			out[c.Pass] = map[ChangeKind]int{}
		}
		out[c.Pass][c.Kind]++
	}
	return out
}

// DefaultLogLimit caps the change log stored in a model's metadata.
const DefaultLogLimit = 1 << 20

// cappedLog is the stored form of a change log.
type cappedLog struct {
	Changes []Change `json:"changes"`
	// Truncated counts the changes left out to respect the size limit.
	Truncated int `json:"truncated,omitempty"`
}

// MarshalCapped encodes the log as JSON of at most about limit bytes: when the full log
// is larger, it keeps the first changes that fit and records how many it left out in
// "truncated", so that a reader knows the list is incomplete.
func (l *ChangeLog) MarshalCapped(limit int) ([]byte, error) {
	full, err := json.Marshal(cappedLog{Changes: l.Changes})
	if err != nil || len(full) <= limit {
		return full, err
	}
	// Room for the wrapper and the marker.
	budget := limit - 64
	kept := 0
	for _, c := range l.Changes {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		if budget -= len(b) + 1; budget < 0 {
			break
		}
		kept++
	}
	return json.Marshal(cappedLog{Changes: l.Changes[:kept], Truncated: len(l.Changes) - kept})
}

// ParseChangeLog decodes a log stored by MarshalCapped; truncated is how many changes
// were left out.
func ParseChangeLog(data []byte) (log *ChangeLog, truncated int, err error) {
	var c cappedLog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, 0, err
	}
	return &ChangeLog{Changes: c.Changes}, c.Truncated, nil
}

// Summary renders counts as "2 node_removed, 1 input_rewired" in a stable order.
func Summary(counts map[ChangeKind]int) []string {
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = strconv.Itoa(counts[ChangeKind(k)]) + " " + k
	}
	return out
}

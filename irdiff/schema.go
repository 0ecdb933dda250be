package irdiff

import (
	"github.com/whittle-ml/whittle/ir"
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

package passes

import "github.com/whittle-ml/whittle/provenance"

// The change-log schema lives in package provenance (a leaf that irdiff reads without
// importing passes); these names keep it reachable as passes.Change etc.

// ChangeKind says what a change did.
type ChangeKind = provenance.ChangeKind

// The kinds of change a pass can make.
const (
	NodeAdded          = provenance.NodeAdded
	NodeRemoved        = provenance.NodeRemoved
	NodeChanged        = provenance.NodeChanged
	InputRewired       = provenance.InputRewired
	InitializerAdded   = provenance.InitializerAdded
	InitializerRemoved = provenance.InitializerRemoved
	InitializerChanged = provenance.InitializerChanged
	OutputChanged      = provenance.OutputChanged
	ValueRenamed       = provenance.ValueRenamed
)

// Change is one rewrite (provenance.Change).
type Change = provenance.Change

// ChangeLog is every change of a pipeline run, in order (provenance.ChangeLog).
type ChangeLog = provenance.ChangeLog

// DefaultLogLimit caps the change log stored in a model's metadata.
const DefaultLogLimit = provenance.DefaultLogLimit

// ParseChangeLog decodes a stored change log (provenance.ParseChangeLog).
func ParseChangeLog(data []byte) (log *ChangeLog, truncated int, err error) {
	return provenance.ParseChangeLog(data)
}

// Summary renders counts as "2 node_removed, 1 input_rewired" (provenance.Summary).
func Summary(counts map[ChangeKind]int) []string { return provenance.Summary(counts) }

package irdiff

import (
	"encoding/json"
	"io"
)

// WriteJSON writes the diff as indented JSON. The layout is the Diff type's: field names
// are its json tags and stay stable under SchemaVersion (new fields may appear; none is
// renamed or removed without a new version). Every list is in a deterministic order.
//
// Top level: schema, a and b (label, ir_version, producer, opsets), equal, pipelines,
// has_changelog, changelog_truncated, unmatched_changes, model (field, old, new), graph,
// totals (nodes, params, bytes, macs as {a, b, delta}; macs_complete [a, b];
// ops [{op, a, b, delta}]), summary (added, removed, changed, unexplained), warnings.
//
// A graph holds name, old_name, attribute (for subgraphs), and lists of inputs and outputs
// (status, index, name, old_name, old_type, new_type, old_source, new_source, matched_by),
// initializers (status, name, old_name, old_type, new_type, data_changed, old_sparsity,
// new_sparsity, max_abs_delta, rel_l2, matched_by) and nodes (status, name, old_name, op, old_op, matched_by,
// attributes [{name, status, old, new}], inputs and outputs [{index, old, new}],
// subgraphs). Every item also carries "by" (passes) and "unexplained" when B has a change
// log. status is one of "added", "removed", "changed", "unchanged"; matched_by one of
// "name", "structure", "order" (nodes), "data", "slot" (initializers), "position" (inputs,
// outputs).
func (d *Diff) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // attribute values like "<2 graph(s)>" stay readable
	return enc.Encode(d)
}

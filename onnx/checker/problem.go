package checker

import (
	"errors"
	"fmt"
	"strings"
)

// Options configures CheckModel.
type Options struct {
	// ModelDir is the folder holding the model file. When set, every external-data file
	// must exist inside it (no absolute paths, no ".." escape, no symbolic or hard links).
	ModelDir string
	// FullCheck adds checks that cost file I/O: the byte range an external tensor names
	// (offset, length) must lie inside its file and match the tensor's size. It needs
	// ModelDir. Shape inference, which onnx's full_check also runs, is not done here
	// (see package ir/infer).
	FullCheck bool
	// Warnings also reports, with Problem.Warning set, what onnx's checker only warns
	// about or the specification only recommends: duplicate node names, removed
	// experimental operators, graph inputs shadowing outer names, value_info entries for
	// unknown values, duplicate metadata keys below the model.
	Warnings bool
}

// Problem is one violation of the ONNX specification found in a model.
type Problem struct {
	// Path locates the problem, outermost first, e.g.
	// "graph main_graph / node Conv_3 (Conv)" or "function com.acme.Foo / node #2 (Add)".
	Path string
	// Node and Op name the innermost node concerned, if any. Node is empty for an unnamed
	// node (the Path then gives its index).
	Node, Op string
	// Field names the offending item, e.g. `input "X"`, `attribute "group"`, "ir_version".
	Field string
	Msg   string
	// Warning marks a recommendation rather than a rule (reported only with Options.Warnings).
	Warning bool
}

// Error formats p as "path: field: message".
func (p Problem) Error() string {
	var b strings.Builder
	if p.Warning {
		b.WriteString("warning: ")
	}
	for _, part := range []string{p.Path, p.Field} {
		if part != "" {
			b.WriteString(part)
			b.WriteString(": ")
		}
	}
	b.WriteString(p.Msg)
	return b.String()
}

// AsError returns nil when problems holds no error (warnings are ignored), and otherwise an
// error whose message lists every error-level problem, one per line.
func AsError(problems []Problem) error {
	var errs []error
	for _, p := range problems {
		if !p.Warning {
			errs = append(errs, p)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("model is not valid ONNX (%d problems):\n%w", len(errs), errors.Join(errs...))
}

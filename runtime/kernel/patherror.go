package kernel

import (
	"fmt"
	"strings"
)

// PathError prefixes an error with where it happened (a node, a subgraph) without rendering
// it. An error from deep inside nested subgraphs passes through one prefix per level;
// rendering each level's message as it passes (fmt.Errorf with %w) would cost time and
// memory quadratic in the nesting depth, so the whole path is rendered once, by Error, with
// its middle elided past maxPathParts prefixes.
type PathError struct {
	Where string
	Err   error
}

// WrapPath returns err prefixed with where, or nil for a nil err.
func WrapPath(where string, err error) error {
	if err == nil {
		return nil
	}
	return &PathError{Where: where, Err: err}
}

const maxPathParts = 16

func (e *PathError) Error() string {
	var parts []string
	var inner error = e
	for {
		pe, ok := inner.(*PathError)
		if !ok {
			break
		}
		parts = append(parts, pe.Where)
		inner = pe.Err
	}
	if len(parts) > maxPathParts {
		keep := maxPathParts / 2
		elided := len(parts) - 2*keep
		parts = append(append(parts[:keep:keep], fmt.Sprintf("... (%d more) ...", elided)), parts[len(parts)-keep:]...)
	}
	msg := ""
	if inner != nil {
		msg = inner.Error()
		// Kernels that name their node in their own errors are not named twice.
		if len(parts) > 0 {
			msg = strings.TrimPrefix(msg, parts[len(parts)-1]+": ")
		}
	}
	return strings.Join(append(parts, msg), ": ")
}

func (e *PathError) Unwrap() error { return e.Err }

// AtNode prefixes err with a node's description unless its message already starts with it
// (many kernels and factories name their node themselves).
func AtNode(desc string, err error) error {
	if err == nil || strings.HasPrefix(err.Error(), desc+": ") {
		return err
	}
	return fmt.Errorf("%s: %w", desc, err)
}

package runtime

import (
	"path/filepath"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Operator is one kernel the runtime has: the operator, the opset versions and element
// types it covers, and the source file of its kernel.
type Operator struct {
	Domain string `json:"domain"` // "" for the default ONNX domain
	Op     string `json:"op"`
	// Since and Until bound the opset versions (Until 0: every later one).
	Since int64 `json:"since"`
	Until int64 `json:"until,omitempty"`
	// Types are the element types of the kernel's main input (empty: any). Float16 and
	// bfloat16 inputs also run through a kernel that takes float, widened (HalfByWidening).
	Types          []string `json:"types,omitempty"`
	HalfByWidening bool     `json:"half_by_widening,omitempty"`
	// File is the kernel's source file, relative to the module root.
	File string `json:"file"`
}

// Operators lists every kernel the runtime registers, sorted by domain, operator and
// newest opset first.
func Operators() []Operator {
	var out []Operator
	for _, d := range kernel.Defs() {
		o := Operator{Domain: ir.CanonicalDomain(d.Domain), Op: d.Op, Since: d.SinceVersion, Until: d.EndVersion,
			File: moduleRelative(d.File())}
		for _, t := range d.Types {
			o.Types = append(o.Types, t.String())
		}
		o.HalfByWidening = hasType(d.Types, ir.Float) && !(hasType(d.Types, ir.Float16) && hasType(d.Types, ir.BFloat16))
		out = append(out, o)
	}
	return out
}

// moduleRelative names a source file from the module root ("runtime/ops/nn/conv.go").
func moduleRelative(file string) string {
	file = filepath.ToSlash(file)
	if i := strings.LastIndex(file, "/runtime/"); i >= 0 {
		return file[i+1:]
	}
	return filepath.Base(file)
}

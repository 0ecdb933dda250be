package kernel

import (
	"fmt"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"

	"github.com/whittle-ml/whittle/ir"
)

// Kernel is an operator compiled for one node: attributes are parsed and constant inputs
// prepared when the session is built, so that Run does only the arithmetic.
type Kernel interface {
	// Run computes the node's outputs from its inputs. inputs[i] is nil for an omitted
	// optional input. It returns one tensor per node output (nil for an omitted one).
	// Outputs should be allocated with ctx.Alloc so that their buffers are pooled. Run must
	// not keep inputs or outputs after it returns and must be safe for concurrent calls.
	Run(ctx *Context, inputs []*Tensor) ([]*Tensor, error)
}

// KernelFunc adapts a function to the Kernel interface.
type KernelFunc func(ctx *Context, inputs []*Tensor) ([]*Tensor, error)

// Run calls f.
func (f KernelFunc) Run(ctx *Context, inputs []*Tensor) ([]*Tensor, error) { return f(ctx, inputs) }

// NodeInfo is what a kernel factory knows about its node when the session is built.
type NodeInfo struct {
	Node *ir.Node
	// Opset is the version of the node's domain that the model imports.
	Opset int64
	// InputTypes and OutputTypes are the types known before running (entries may be nil).
	InputTypes  []*ir.Type
	OutputTypes []*ir.Type
	// Consts holds, for each input that is an initializer or the output of a Constant node
	// the session folded, its value; nil for inputs only known at run time. Factories may
	// use them to pre-pack weights; they must not modify them.
	Consts []*Tensor
	// Compile builds a runnable program for a subgraph of the node (the bodies of If, Loop
	// and Scan), resolving its kernels now, so that a missing op is reported at build time.
	Compile func(g *ir.Graph) (Program, error)
}

// Program is a compiled graph that a control-flow kernel runs: the body of If, Loop or
// Scan. Values of enclosing graphs that the body reads are taken from the running context.
type Program interface {
	// Run executes the graph with the given inputs (the body's formal inputs, in order) and
	// returns its outputs in order.
	Run(ctx *Context, inputs []*Tensor) ([]*Tensor, error)
}

// Factory builds the kernel for one node, or reports why it cannot (an unsupported
// attribute value, an element type the kernel lacks).
type Factory func(info *NodeInfo) (Kernel, error)

// KernelDef registers a factory for an operator over a range of opset versions.
type KernelDef struct {
	Domain string // "" for the default ONNX domain
	Op     string
	// SinceVersion and EndVersion (inclusive; 0 for no end) bound the opset versions served.
	SinceVersion, EndVersion int64
	// Types lists the element types of the first input that the kernel handles; empty means
	// any (the factory or Run checks).
	Types []ir.DataType
	New   Factory

	// file is the source file whose init registered the kernel (see File).
	file string
}

// File is the source file that registered the kernel: the file whose init function (or,
// failing that, whose function) called Register, which is where the kernel lives, even
// when a family's helper makes the call.
func (d KernelDef) File() string { return d.file }

// registeringFile finds the caller of Register that is an init function, else the direct
// caller.
func registeringFile() string {
	pcs := make([]uintptr, 16)
	n := goruntime.Callers(3, pcs)
	frames := goruntime.CallersFrames(pcs[:n])
	first := ""
	for {
		f, more := frames.Next()
		if first == "" {
			first = f.File
		}
		if strings.HasSuffix(f.Function, ".init") || strings.Contains(f.Function, ".init.") {
			return f.File
		}
		if !more {
			return first
		}
	}
}

var registry = struct {
	sync.RWMutex
	defs map[string][]KernelDef
}{defs: map[string][]KernelDef{}}

func regKey(domain, op string) string {
	return ir.CanonicalDomain(domain) + "\x00" + op
}

// Register adds kernel definitions; packages call it from init.
func Register(defs ...KernelDef) {
	file := registeringFile()
	registry.Lock()
	defer registry.Unlock()
	for _, d := range defs {
		d.file = file
		k := regKey(d.Domain, d.Op)
		registry.defs[k] = append(registry.defs[k], d)
		sort.SliceStable(registry.defs[k], func(i, j int) bool {
			return registry.defs[k][i].SinceVersion > registry.defs[k][j].SinceVersion
		})
	}
}

// Lookup finds the definition serving op at opset version, for first-input type dt
// (Undefined when unknown).
func Lookup(domain, op string, version int64, dt ir.DataType) (KernelDef, error) {
	registry.RLock()
	defs := registry.defs[regKey(domain, op)]
	registry.RUnlock()
	if len(defs) == 0 {
		return KernelDef{}, fmt.Errorf("operator %s is not implemented", opName(domain, op))
	}
	for _, d := range defs {
		if version < d.SinceVersion || (d.EndVersion != 0 && version > d.EndVersion) {
			continue
		}
		if dt == ir.Undefined || len(d.Types) == 0 || containsType(d.Types, dt) {
			return d, nil
		}
	}
	return KernelDef{}, fmt.Errorf("operator %s has no kernel for opset %d and element type %s", opName(domain, op), version, dt)
}

// Registered lists the registered (domain, op) names, sorted; for reports.
func Registered() []string {
	registry.RLock()
	defer registry.RUnlock()
	var out []string
	for _, defs := range registry.defs {
		out = append(out, opName(defs[0].Domain, defs[0].Op))
	}
	sort.Strings(out)
	return out
}

func containsType(ts []ir.DataType, dt ir.DataType) bool {
	for _, t := range ts {
		if t == dt {
			return true
		}
	}
	return false
}

func opName(domain, op string) string { return ir.QualifiedOp(domain, op) }

// Defs returns every registered kernel definition, sorted by domain, operator and then
// newest opset first (the order Lookup tries them in).
func Defs() []KernelDef {
	registry.RLock()
	defer registry.RUnlock()
	var out []KernelDef
	for _, defs := range registry.defs {
		out = append(out, defs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if da, db := ir.CanonicalDomain(a.Domain), ir.CanonicalDomain(b.Domain); da != db {
			return da < db
		}
		if a.Op != b.Op {
			return a.Op < b.Op
		}
		return a.SinceVersion > b.SinceVersion
	})
	return out
}

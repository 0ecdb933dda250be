package opschema

//go:generate go run ./gen -in ../../../shared/reference/Operators.md -out schemas_gen.go

import (
	"sort"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// Unbounded is the maximum input or output count of an operator whose last parameter
// is variadic.
const Unbounded = 1<<31 - 1

// AttrTypeName returns the onnx.proto spelling of t, such as "INTS", as Operators.md and
// ONNX's checker write it (ir.AttrType's String gives the lower-case "ints").
func AttrTypeName(t ir.AttrType) string {
	if t < ir.AttrUndefined || t > ir.AttrTypeProtos {
		return "AttrType(" + strconv.Itoa(int(t)) + ")"
	}
	return strings.ToUpper(t.String())
}

// Attribute describes one attribute of an operator.
type Attribute struct {
	Name       string
	Type       ir.AttrType
	Required   bool
	HasDefault bool
	// Default is the default value as Operators.md prints it ("1", "NOTSET", "['a', 'b']"),
	// empty when HasDefault is false.
	Default string
}

// Param describes one formal input or output of an operator.
type Param struct {
	Name string
	// Type is a type-constraint symbol such as "T", or a concrete type such as
	// "tensor(int64)".
	Type          string
	Optional      bool
	Variadic      bool
	Heterogeneous bool // the variadic values may have different types
}

// TypeConstraint binds a type symbol to the types it may stand for.
type TypeConstraint struct {
	Symbol string
	// Allowed lists type strings such as "tensor(float)" or "seq(tensor(float))".
	Allowed []string
}

// Schema is an operator signature as in force at one opset version.
//
// Slices are shared with the registry and must not be modified.
type Schema struct {
	Name   string
	Domain string // "" for ai.onnx
	// SinceVersion is the operator-set version that introduced the version in force.
	SinceVersion int64
	// Versions lists every since_version of the operator, ascending.
	Versions []int64
	// Deprecated reports that the version in force is a deprecation: the operator must
	// not be used at this opset.
	Deprecated   bool
	Experimental bool
	// DocumentedVersion is the since_version whose attributes, inputs, outputs and type
	// constraints are recorded below: always the newest version, because Operators.md
	// details only that one. It is 0 for an operator whose newest entry is a deprecation.
	DocumentedVersion int64

	Attributes      []Attribute
	Inputs          []Param
	Outputs         []Param
	MinInputs       int
	MaxInputs       int // Unbounded for a variadic last input
	MinOutputs      int
	MaxOutputs      int // Unbounded for a variadic last output
	TypeConstraints []TypeConstraint
}

// SignatureKnown reports whether Attributes, Inputs, Outputs and TypeConstraints describe
// the version in force. When false (an older version of the operator) they describe the
// newest version and may differ from the one in force.
func (s *Schema) SignatureKnown() bool {
	return s.DocumentedVersion != 0 && s.SinceVersion == s.DocumentedVersion
}

// Attribute returns the attribute called name.
func (s *Schema) Attribute(name string) (Attribute, bool) {
	for _, a := range s.Attributes {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// Constraint returns the allowed types of a type-constraint symbol.
func (s *Schema) Constraint(symbol string) (TypeConstraint, bool) {
	for _, c := range s.TypeConstraints {
		if c.Symbol == symbol {
			return c, true
		}
	}
	return TypeConstraint{}, false
}

// opDef is one generated table row: an operator as documented in Operators.md.
type opDef struct {
	name, domain string
	latest       int64   // since_version of the documented entry
	versions     []int64 // ascending, ending with latest
	deprecated   bool    // the latest entry marks the operator deprecated
	experimental bool
	minIn, maxIn int
	minOut       int
	maxOut       int
	attrs        []Attribute
	inputs       []Param
	outputs      []Param
	constraints  []TypeConstraint
}

type key struct{ domain, name string }

var (
	byKey   = map[key]*opDef{}
	latest  = map[string]int64{}
	domains []string
)

func init() {
	for i := range table {
		d := &table[i]
		byKey[key{d.domain, d.name}] = d
		if _, ok := latest[d.domain]; !ok {
			domains = append(domains, d.domain)
		}
		if d.latest > latest[d.domain] {
			latest[d.domain] = d.latest
		}
	}
	sort.Strings(domains)
}

// Domains returns the operator-set domains the registry has schemas for, sorted.
func Domains() []string {
	return append([]string(nil), domains...)
}

// HasDomain reports whether the registry documents the operators of domain, so that an
// unknown operator name in it is an error rather than a custom extension.
func HasDomain(domain string) bool {
	_, ok := latest[ir.CanonicalDomain(domain)]
	return ok
}

// Known reports whether op exists, in any version, in domain.
func Known(domain, op string) bool {
	_, ok := byKey[key{ir.CanonicalDomain(domain), op}]
	return ok
}

// Versions returns the since_versions of op in domain, ascending; nil if unknown.
func Versions(domain, op string) []int64 {
	d, ok := byKey[key{ir.CanonicalDomain(domain), op}]
	if !ok {
		return nil
	}
	return append([]int64(nil), d.versions...)
}

// LatestOpset returns the highest since_version of any operator in domain: the newest
// opset version Operators.md describes. It is 0 for an unknown domain.
func LatestOpset(domain string) int64 {
	return latest[ir.CanonicalDomain(domain)]
}

// Lookup returns the schema of op in domain in force at opsetVersion: the newest version
// not above opsetVersion. It returns false when op is unknown or introduced later.
func Lookup(domain, op string, opsetVersion int64) (*Schema, bool) {
	d, ok := byKey[key{ir.CanonicalDomain(domain), op}]
	if !ok {
		return nil, false
	}
	// versions is ascending: find the last one <= opsetVersion.
	i := sort.Search(len(d.versions), func(i int) bool { return d.versions[i] > opsetVersion })
	if i == 0 {
		return nil, false
	}
	since := d.versions[i-1]
	s := &Schema{
		Name:            d.name,
		Domain:          d.domain,
		SinceVersion:    since,
		Versions:        d.versions,
		Deprecated:      d.deprecated && since == d.latest,
		Experimental:    d.experimental,
		Attributes:      d.attrs,
		Inputs:          d.inputs,
		Outputs:         d.outputs,
		MinInputs:       d.minIn,
		MaxInputs:       d.maxIn,
		MinOutputs:      d.minOut,
		MaxOutputs:      d.maxOut,
		TypeConstraints: d.constraints,
	}
	if !d.deprecated {
		s.DocumentedVersion = d.latest
	}
	return s, true
}

// Ops returns the names of the operators of domain, sorted.
func Ops(domain string) []string {
	domain = ir.CanonicalDomain(domain)
	var names []string
	for _, d := range table {
		if d.domain == domain {
			names = append(names, d.name)
		}
	}
	sort.Strings(names)
	return names
}

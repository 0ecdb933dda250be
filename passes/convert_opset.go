package passes

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/opschema"
)

func init() {
	Register(Info{
		Name: "convert_opset",
		Doc: "upgrade the model's default-domain (ai.onnx) opset to opset=N, rewriting every node whose " +
			"operator changed between the versions (legacy broadcast attributes, attributes that became " +
			"inputs, Softmax's axis semantics, Upsample->Resize, Scatter->ScatterElements, ...); fails, " +
			"changing nothing, when a node has no conversion rule",
		Params: []ParamInfo{{Name: "opset", Doc: "the default-domain opset version to convert to", Default: "(required)"}},
		New: func(p Params) (Pass, error) {
			if _, ok := p["opset"]; !ok {
				return nil, fmt.Errorf("parameter opset=N is required")
			}
			n, err := p.Int("opset", 0)
			if err != nil {
				return nil, err
			}
			if latest := opschema.LatestOpset(""); n < 1 || n > latest {
				return nil, fmt.Errorf("opset=%d is outside the known versions 1..%d", n, latest)
			}
			return convertOpsetPass{target: n}, nil
		},
		FixedPoint: true,
	})
}

// convertOpsetPass is the convert_opset pass.
type convertOpsetPass struct{ target int64 }

func (p convertOpsetPass) Name() string { return "convert_opset" }

func (p convertOpsetPass) Run(ctx *Context, m *ir.Model) (bool, error) {
	return convertOpset(ctx, m, p.target)
}

// ConversionError lists every node convert_opset cannot convert, grouped by operator and
// version step. The model is left unchanged when it is returned.
type ConversionError struct {
	From, To int64
	// Problems are "Op-vA->vB: reason (N nodes: a, b, ...)" lines, sorted.
	Problems []string
}

func (e *ConversionError) Error() string {
	return fmt.Sprintf("cannot convert opset %d to %d; unsupported:\n  %s", e.From, e.To, strings.Join(e.Problems, "\n  "))
}

// opStep converts a node from the previous version of its operator to the version
// introducing the step. check looks at the node before anything changes (so that a model
// which cannot be converted is left untouched) and returns why it cannot be converted;
// apply rewrites it and returns the node that carries on (n, or the node replacing it).
type opStep struct {
	check func(c *opsetConverter, n *ir.Node) error
	apply func(c *opsetConverter, n *ir.Node) (*ir.Node, error)
	// becomes names the operator that replaces this one at this step (Upsample -> Resize):
	// later steps follow that operator's version history.
	becomes string
}

// opsetConverter carries one conversion's state.
type opsetConverter struct {
	r    *rewriter
	m    *ir.Model
	from int64 // the opset of the scope being converted (model or function)
	to   int64
	// fromUpsample marks Resize-10 nodes made from Upsample, whose scales are >= 1 by
	// Upsample's contract, so nearest rounding is floor whatever the scales are.
	fromUpsample map[*ir.Node]bool
	// ranks remembers c.rank's answers.
	ranks map[*ir.Value]int
	// addedConst says initializers were added (IR 3 would want them listed as inputs).
	addedConst bool
}

// scope is a set of graphs sharing one default-domain opset import: the main graph with
// its subgraphs, or one model-local function's body.
type scope struct {
	graphs []*ir.Graph
	from   int64
	fn     *ir.Function
}

// convertOpset converts m's default domain to opset target (see the pass doc).
func convertOpset(ctx *Context, m *ir.Model, target int64) (bool, error) {
	from, ok := m.Opset("")
	if !ok {
		return false, fmt.Errorf("model imports no default-domain (ai.onnx) opset")
	}
	if from == target && !functionsNeedConversion(m, target) {
		return false, nil
	}
	if target < from {
		return false, downgradeError(m, from, target)
	}
	scopes := []scope{{graphs: workGraphs(m), from: from}}
	for _, f := range m.Functions {
		if v, ok := f.Opset(""); ok && v < target && f.Body != nil {
			scopes = append(scopes, scope{graphs: functionGraphs(f.Body), from: v, fn: f})
		}
	}
	ctx.ensureTypes(m)
	c := &opsetConverter{r: newRewriter(ctx, m), m: m, to: target, fromUpsample: map[*ir.Node]bool{}, ranks: map[*ir.Value]int{}}

	// Plan: every node's steps must exist and accept the node before anything changes.
	problems := map[string][]string{}
	for _, s := range scopes {
		c.from = s.from
		for _, g := range s.graphs {
			for _, n := range g.Nodes() {
				if !ir.IsDefaultDomain(n.Domain) {
					continue
				}
				if key, err := c.plan(n); err != nil {
					problems[key+": "+err.Error()] = append(problems[key+": "+err.Error()], nodeLabel(n))
				}
			}
		}
	}
	if len(problems) > 0 {
		return false, &ConversionError{From: from, To: target, Problems: formatProblems(problems)}
	}

	for _, s := range scopes {
		c.from = s.from
		for _, g := range s.graphs {
			for _, n := range g.Nodes() {
				if !ir.IsDefaultDomain(n.Domain) {
					continue
				}
				if err := c.convert(n); err != nil {
					return c.r.changed, fmt.Errorf("convert opset %d to %d: %s: %w", s.from, target, n.Describe(), err)
				}
			}
		}
		if s.fn != nil {
			c.setImport(&s.fn.OpsetImports, "function "+s.fn.Name, target)
		}
	}
	if from != target {
		c.setImport(&m.OpsetImports, "model", target)
	}
	c.bumpIRVersion()
	return c.r.changed, nil
}

func functionsNeedConversion(m *ir.Model, target int64) bool {
	for _, f := range m.Functions {
		if v, ok := f.Opset(""); ok && v < target {
			return true
		}
	}
	return false
}

// functionGraphs lists a function body and the subgraphs nested in it.
func functionGraphs(body *ir.Graph) []*ir.Graph {
	out := []*ir.Graph{body}
	for i := 0; i < len(out); i++ {
		for _, n := range out[i].Nodes() {
			out = append(out, n.Subgraphs()...)
		}
	}
	return out
}

// checkDefined fails when op is not a standard operator or did not exist at c.from.
func (c *opsetConverter) checkDefined(op string) error {
	versions := opschema.Versions("", op)
	if versions == nil {
		return fmt.Errorf("operator not in the ONNX specification")
	}
	if versions[0] > c.from {
		return fmt.Errorf("operator does not exist at opset %d (introduced in %d)", c.from, versions[0])
	}
	return nil
}

// nextVersion is the first version of op after cur and not after c.to, or 0.
func (c *opsetConverter) nextVersion(op string, cur int64) int64 {
	for _, v := range opschema.Versions("", op) {
		if v > cur && v <= c.to {
			return v
		}
	}
	return 0
}

// inForce is the version of op in force at opset v.
func inForce(op string, v int64) int64 {
	if s, ok := opschema.Lookup("", op, v); ok {
		return s.SinceVersion
	}
	return v
}

// plan checks that every step of n exists and accepts n; key names the failing step.
func (c *opsetConverter) plan(n *ir.Node) (key string, err error) {
	op := n.OpType
	if err := c.checkDefined(op); err != nil {
		return op, err
	}
	for cur := c.from; ; {
		v := c.nextVersion(op, cur)
		if v == 0 {
			return "", nil
		}
		key = fmt.Sprintf("%s-%d->%d", op, inForce(op, cur), v)
		st, ok := opsetRules[op][v]
		if !ok {
			return key, fmt.Errorf("no conversion rule")
		}
		if st.check != nil {
			if err := st.check(c, n); err != nil {
				return key, err
			}
		}
		cur = v
		if st.becomes != "" {
			op = st.becomes
		}
	}
}

// convert applies n's steps in version order.
func (c *opsetConverter) convert(n *ir.Node) error {
	for cur := c.from; ; {
		v := c.nextVersion(n.OpType, cur)
		if v == 0 {
			return nil
		}
		st, ok := opsetRules[n.OpType][v]
		if !ok {
			return fmt.Errorf("%s: no conversion rule to version %d", n.OpType, v)
		}
		if st.apply != nil {
			next, err := st.apply(c, n)
			if err != nil {
				return fmt.Errorf("%s to version %d: %w", n.OpType, v, err)
			}
			n = next
		}
		cur = v
	}
}

func formatProblems(problems map[string][]string) []string {
	var out []string
	for k, nodes := range problems {
		sort.Strings(nodes)
		shown := nodes
		if len(shown) > 5 {
			shown = append(append([]string(nil), shown[:5]...), "...")
		}
		word := "nodes"
		if len(nodes) == 1 {
			word = "node"
		}
		out = append(out, fmt.Sprintf("%s (%d %s: %s)", k, len(nodes), word, strings.Join(shown, ", ")))
	}
	sort.Strings(out)
	return out
}

// downgradeError lists the operators of m whose version differs between target and from.
func downgradeError(m *ir.Model, from, target int64) error {
	counts := map[string]int{}
	for _, g := range workGraphs(m) {
		for _, n := range g.Nodes() {
			if !ir.IsDefaultDomain(n.Domain) {
				continue
			}
			a, okA := opschema.Lookup("", n.OpType, from)
			b, okB := opschema.Lookup("", n.OpType, target)
			switch {
			case !okA:
				counts[n.OpType+" (unknown at opset "+strconv.FormatInt(from, 10)+")"]++
			case !okB:
				counts[fmt.Sprintf("%s-%d (does not exist at opset %d)", n.OpType, a.SinceVersion, target)]++
			case a.SinceVersion != b.SinceVersion:
				counts[fmt.Sprintf("%s-%d->%d", n.OpType, a.SinceVersion, b.SinceVersion)]++
			}
		}
	}
	var lines []string
	for k, n := range counts {
		lines = append(lines, fmt.Sprintf("%s (%d nodes)", k, n))
	}
	sort.Strings(lines)
	msg := fmt.Sprintf("downgrading opset %d to %d is not supported", from, target)
	if len(lines) == 0 {
		return fmt.Errorf("%s (no operator of the model changes version in between; re-export or edit the opset import)", msg)
	}
	return fmt.Errorf("%s; operators whose version would change:\n  %s", msg, strings.Join(lines, "\n  "))
}

// setImport sets the default-domain entry of imports (named "" or "ai.onnx") to v and logs it.
func (c *opsetConverter) setImport(imports *[]ir.OpsetID, owner string, v int64) {
	for i, o := range *imports {
		if ir.IsDefaultDomain(o.Domain) {
			if o.Version == v {
				return
			}
			(*imports)[i].Version = v
			c.r.record(Change{Kind: NodeChanged, Detail: owner + " opset_import " + o.Domain + "(ai.onnx)",
				From: strconv.FormatInt(o.Version, 10), To: strconv.FormatInt(v, 10)})
			return
		}
	}
}

// irVersionFor is the IR version ONNX released with each opset (onnx.helper.VERSION_TABLE);
// a converted model declares at least it. Opsets past 23 are capped at IR 11.
func irVersionFor(opset int64) int64 {
	switch {
	case opset <= 8:
		return 3
	case opset == 9:
		return 4
	case opset == 10:
		return 5
	case opset == 11:
		return 6
	case opset <= 14:
		return 7
	case opset <= 18:
		return 8
	case opset <= 20:
		return 9
	case opset <= 22:
		return 10
	}
	return 11
}

func (c *opsetConverter) bumpIRVersion() {
	want := irVersionFor(c.to)
	if c.addedConst && want < 4 {
		// IR 3 wants every initializer listed as a graph input too; IR 4 does not.
		want = 4
	}
	if c.m.IRVersion >= want {
		return
	}
	c.r.record(Change{Kind: NodeChanged, Detail: "model ir_version",
		From: strconv.FormatInt(c.m.IRVersion, 10), To: strconv.FormatInt(want, 10)})
	c.m.IRVersion = want
}

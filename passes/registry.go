package passes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/provenance"
)

// ParamInfo documents one parameter of a pass.
type ParamInfo struct {
	Name    string
	Doc     string
	Default string
}

// Info describes a registered pass.
type Info struct {
	// Name is snake_case verb_object: "fold_constants", "fuse_bn_into_conv".
	Name string
	Doc  string
	// Params lists the parameters the pass accepts; any other is an error.
	Params []ParamInfo
	// New builds the pass from its parameters (already checked against Params).
	New func(params Params) (Pass, error)
	// FixedPoint says one run reaches a fixed point: running it again right away would
	// change nothing, so the manager skips it until another pass changes the model.
	FixedPoint bool
	// Lossy says the pass may change the model's outputs (pruning, quantization); cleanup
	// passes are not lossy and are tested to keep outputs.
	Lossy bool
	// NeedsOriginal asks Run to keep a copy of the model as the pipeline received it in
	// Context.Original (distill uses it as the teacher of a pruned model).
	NeedsOriginal bool
}

var registry = map[string]Info{}

var passNameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// Register adds a pass to the registry. It panics on a malformed or duplicate name or a
// missing constructor: those are programming errors found at start-up.
func Register(info Info) {
	if !passNameRE.MatchString(info.Name) {
		panic(fmt.Sprintf("passes: pass name %q is not snake_case", info.Name))
	}
	if _, dup := registry[info.Name]; dup {
		panic(fmt.Sprintf("passes: pass %q registered twice", info.Name))
	}
	if info.New == nil {
		panic(fmt.Sprintf("passes: pass %q has no constructor", info.Name))
	}
	registry[info.Name] = info
}

// Lookup returns the registered pass called name.
func Lookup(name string) (Info, bool) {
	info, ok := registry[name]
	return info, ok
}

// All returns every registered pass, sorted by name.
func All() []Info {
	out := make([]Info, 0, len(registry))
	for _, info := range registry {
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func passNames() string {
	var names []string
	for _, info := range All() {
		names = append(names, info.Name)
	}
	return strings.Join(names, ", ")
}

// Params are a pass's parameters as written: key -> value text (provenance.Params).
type Params = provenance.Params

// Step is one entry of a pipeline: a pass and its parameters (provenance.Step).
type Step = provenance.Step

// Pipeline is a list of steps, run in order.
type Pipeline []Step

func (p Pipeline) String() string { return provenance.Steps(p).String() }

// ParsePipeline reads "fold_constants,prune:sparsity=0.5:scope=global": passes separated
// by commas, each with ":key=value" parameters (the syntax of provenance.ParseSteps, which
// Pipeline.String writes). Every pass and parameter is checked.
func ParsePipeline(s string) (Pipeline, error) {
	steps, err := provenance.ParseSteps(s)
	if err != nil {
		return nil, err
	}
	p := Pipeline(steps)
	return p, p.Check()
}

// recipeStep is a recipe entry: parameters may be written as numbers or booleans. An
// entry is either a step (pass, params) or a whole pipeline (pipeline, and the
// whittle_version a model's history records).
type recipeStep struct {
	Pass     string         `json:"pass" yaml:"pass"`
	Params   map[string]any `json:"params" yaml:"params"`
	Pipeline []recipeStep   `json:"pipeline" yaml:"pipeline"`
	Version  string         `json:"whittle_version" yaml:"whittle_version"`
}

// Recipe is pipelines applied one after another: each runs to its fixed point (Run) and
// is recorded as its own entry of the model's history. Most recipes hold one pipeline;
// a model's history (whittle.passes) is a recipe of every pipeline that made it, which
// replayed on the original model reproduces it.
type Recipe []Pipeline

// String renders the pipelines in command-line syntax, separated by " ; ".
func (r Recipe) String() string {
	parts := make([]string, len(r))
	for i, p := range r {
		parts[i] = p.String()
	}
	return strings.Join(parts, " ; ")
}

// Check checks every pipeline of the recipe.
func (r Recipe) Check() error {
	for i, p := range r {
		if err := p.Check(); err != nil {
			if len(r) > 1 {
				return fmt.Errorf("pipeline %d: %w", i+1, err)
			}
			return err
		}
	}
	return nil
}

// RecipeOf turns a model's history (provenance.History) into the recipe that replays it.
func RecipeOf(history []provenance.Applied) Recipe {
	r := make(Recipe, len(history))
	for i, h := range history {
		r[i] = Pipeline(h.Pipeline)
	}
	return r
}

// ParseRecipe reads a recipe, YAML or JSON: a list of {pass, params} entries (one
// pipeline), e.g.
//
//   - pass: fold_constants
//   - pass: prune
//     params: {sparsity: 0.5, scope: global}
//
// or a list of {pipeline: [{pass, params}...]} entries (pipelines applied in turn), the
// form of a model's whittle.passes metadata.
func ParseRecipe(data []byte) (Recipe, error) {
	var entries []recipeStep
	trimmed := bytes.TrimSpace(data)
	var err error
	if len(trimmed) > 0 && trimmed[0] == '[' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		err = dec.Decode(&entries)
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		err = dec.Decode(&entries)
	}
	if err != nil {
		return nil, fmt.Errorf("recipe: %w (want a list of {pass: NAME, params: {KEY: VALUE}}, or of {pipeline: [...]})", err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("recipe lists no pass")
	}
	var r Recipe
	if entries[0].Pipeline != nil {
		for i, e := range entries {
			if e.Pass != "" || e.Pipeline == nil {
				return nil, fmt.Errorf("recipe entry %d: a recipe of pipelines lists {pipeline: [...]} entries only", i+1)
			}
			p, err := pipelineOf(e.Pipeline)
			if err != nil {
				return nil, fmt.Errorf("recipe pipeline %d: %w", i+1, err)
			}
			r = append(r, p)
		}
	} else {
		p, err := pipelineOf(entries)
		if err != nil {
			return nil, err
		}
		r = Recipe{p}
	}
	return r, r.Check()
}

func pipelineOf(steps []recipeStep) (Pipeline, error) {
	var p Pipeline
	for i, rs := range steps {
		if rs.Pipeline != nil || rs.Version != "" {
			return nil, fmt.Errorf("recipe entry %d: a pipeline entry inside a list of steps", i+1)
		}
		if rs.Pass == "" {
			return nil, fmt.Errorf("recipe entry %d: no pass named", i+1)
		}
		st := Step{Pass: rs.Pass}
		for k, v := range rs.Params {
			if st.Params == nil {
				st.Params = Params{}
			}
			switch x := v.(type) {
			case map[string]any, []any:
				return nil, fmt.Errorf("recipe entry %d (%s): parameter %q must be a single value", i+1, rs.Pass, k)
			case nil:
				st.Params[k] = ""
			default:
				st.Params[k] = fmt.Sprint(x)
			}
		}
		p = append(p, st)
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("recipe lists no pass")
	}
	return p, nil
}

// LoadRecipe reads a recipe file.
func LoadRecipe(path string) (Recipe, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := ParseRecipe(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Check verifies that every pass is registered and takes the parameters given, and that
// the pass builds; errors list what is valid.
func (p Pipeline) Check() error {
	_, err := p.Build()
	return err
}

// Build makes the passes of a pipeline.
func (p Pipeline) Build() ([]Pass, error) {
	out := make([]Pass, 0, len(p))
	for _, st := range p {
		info, ok := registry[st.Pass]
		if !ok {
			return nil, fmt.Errorf("unknown pass %q (valid passes: %s)", st.Pass, passNames())
		}
		for k := range st.Params {
			if !hasParam(info, k) {
				return nil, fmt.Errorf("pass %s: unknown parameter %q (%s)", st.Pass, k, validParams(info))
			}
		}
		ps, err := info.New(st.Params)
		if err != nil {
			return nil, fmt.Errorf("pass %s: %w", st.Pass, err)
		}
		out = append(out, ps)
	}
	return out, nil
}

func hasParam(info Info, k string) bool {
	for _, p := range info.Params {
		if p.Name == k {
			return true
		}
	}
	return false
}

func validParams(info Info) string {
	if len(info.Params) == 0 {
		return "it takes none"
	}
	var names []string
	for _, p := range info.Params {
		names = append(names, p.Name)
	}
	return "valid: " + strings.Join(names, ", ")
}

// Default is the pipeline whittle optimize applies: cleanups that keep outputs exactly.
func Default() Pipeline {
	names := []string{
		"eliminate_identity", "fold_constants", "simplify_shape_ops", "fuse_bn_into_conv",
		"fuse_matmul_add_into_gemm", "fuse_consecutive_transposes",
		"eliminate_common_subexpressions", "dedup_initializers", "eliminate_dead",
	}
	p := make(Pipeline, len(names))
	for i, n := range names {
		p[i] = Step{Pass: n}
	}
	return p
}

// noParams is the constructor of passes without parameters.
func noParams(name string, run func(ctx *Context, m *ir.Model) (bool, error)) func(Params) (Pass, error) {
	return func(Params) (Pass, error) { return simplePass{name: name, run: run}, nil }
}

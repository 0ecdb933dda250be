package passes

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir"
)

// Magnitude pruning. Three patterns share this file's options, weight discovery and entry
// point:
//   - unstructured (prune_unstructured.go): zero the smallest |w| of each layer's weight, or
//     of all weights together (scope=global, selecting exactly what PyTorch's
//     torch.nn.utils.prune.global_unstructured with L1Unstructured selects);
//   - N:M (prune_nm.go): keep the N largest |w| of every M consecutive weights along the
//     reduction axis, the 2:4 layout sparse tensor cores run;
//   - channel (prune_channel.go): remove whole output channels of Conv/Gemm/MatMul and
//     shrink everything that reads them, so the model really gets smaller and faster.
//
// The pass runs once per pipeline run: later rounds of the manager (started because
// another pass changed something) must not prune the already pruned model again, which for
// channel pruning would remove another fraction of the channels.

func init() {
	Register(Info{
		Name: "prune",
		Doc: "magnitude pruning of Conv/ConvTranspose/Gemm/MatMul weights: unstructured (per layer or " +
			"one global threshold, matching torch's global_unstructured), N:M (e.g. 2/4 along the " +
			"input channels) or channel (remove whole output channels by L1/L2 norm and shrink " +
			"every dependent node); applied once per pipeline run",
		Params: []ParamInfo{
			{Name: "sparsity", Doc: "fraction of weights (unstructured) or channels (channel) to remove, in [0, 1); implied by N:M", Default: "0.5"},
			{Name: "scope", Doc: "layer (each layer to the sparsity) or global (one ranking over all eligible weights)", Default: "layer"},
			{Name: "pattern", Doc: "unstructured, N:M or N/M (e.g. 2/4 — write / inside pipeline strings), or channel", Default: "unstructured"},
			{Name: "norm", Doc: "channel ranking norm: l1 or l2", Default: "l1"},
			{Name: "attention", Doc: "channel pattern, multi-head attention: dims (each head keeps as many dimensions), heads (remove whole heads) or keep", Default: "dims"},
			{Name: "exclude", Doc: "layers to leave alone: node or weight names, * wildcards, separated by ;", Default: ""},
			{Name: "per_layer", Doc: "per-layer sparsity overrides NAME=S separated by ; (names as for exclude)", Default: ""},
		},
		New: func(p Params) (Pass, error) {
			opts, err := ParsePruneParams(p)
			if err != nil {
				return nil, err
			}
			return &prunePass{opts: opts}, nil
		},
		FixedPoint: true,
		Lossy:      true,
	})
}

// Prune patterns.
const (
	PatternUnstructured = "unstructured"
	PatternNM           = "nm"
	PatternChannel      = "channel"
)

// Prune scopes.
const (
	ScopeLayer  = "layer"
	ScopeGlobal = "global"
)

// PruneOptions says what to prune and how much.
type PruneOptions struct {
	// Sparsity is the fraction to remove: weights for unstructured, channels for channel.
	// For N:M it is implied (1 - N/M).
	Sparsity float64
	// Scope is ScopeLayer or ScopeGlobal.
	Scope string
	// Pattern is PatternUnstructured, PatternNM (with N and M) or PatternChannel.
	Pattern string
	N, M    int
	// Norm ranks channels: "l1" or "l2".
	Norm string
	// Exclude lists layers (node names, or names of their weight initializers; * is a
	// wildcard) that are never pruned.
	Exclude []string
	// PerLayer overrides Sparsity for matching layers (same naming as Exclude). Layers with
	// an override are pruned on their own, outside a global ranking.
	PerLayer []LayerSparsity
	// Attention says how channel pruning treats multi-head attention: AttentionDims (every
	// head keeps the same number of dimensions), AttentionHeads (whole heads go) or
	// AttentionKeep (left whole). Empty means AttentionDims.
	Attention string
}

// Attention modes of channel pruning.
const (
	AttentionDims  = "dims"
	AttentionHeads = "heads"
	AttentionKeep  = "keep"
)

// LayerSparsity is one --per-layer override.
type LayerSparsity struct {
	Name     string
	Sparsity float64
}

// DefaultPruneOptions are the parameters' defaults.
func DefaultPruneOptions() PruneOptions {
	return PruneOptions{Sparsity: 0.5, Scope: ScopeLayer, Pattern: PatternUnstructured, Norm: "l1", Attention: AttentionDims}
}

// ParsePattern reads "unstructured", "channel", or "N:M" / "N/M" into opts.
func (o *PruneOptions) ParsePattern(s string) error {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case PatternUnstructured, PatternChannel:
		o.Pattern = s
		return nil
	}
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		a, b, ok = strings.Cut(s, "/")
	}
	if ok {
		n, err1 := strconv.Atoi(a)
		m, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil && n >= 1 && m >= 2 && n < m {
			o.Pattern, o.N, o.M = PatternNM, n, m
			return nil
		}
	}
	return fmt.Errorf("pattern %q: want unstructured, channel, or N:M with 1 <= N < M (e.g. 2:4)", s)
}

// ParseLayerSparsity reads "NAME=S".
func ParseLayerSparsity(s string) (LayerSparsity, error) {
	i := strings.LastIndex(s, "=")
	if i <= 0 {
		return LayerSparsity{}, fmt.Errorf("per-layer sparsity %q: want NAME=S", s)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s[i+1:]), 64)
	if err != nil || v < 0 || v >= 1 {
		return LayerSparsity{}, fmt.Errorf("per-layer sparsity %q: S must be a number in [0, 1)", s)
	}
	return LayerSparsity{Name: strings.TrimSpace(s[:i]), Sparsity: v}, nil
}

// Validate checks the options' values and combinations.
func (o PruneOptions) Validate() error {
	if math.IsNaN(o.Sparsity) || o.Sparsity < 0 || o.Sparsity >= 1 {
		return fmt.Errorf("sparsity %v must be in [0, 1)", o.Sparsity)
	}
	switch o.Scope {
	case ScopeLayer, ScopeGlobal:
	default:
		return fmt.Errorf("scope %q: want layer or global", o.Scope)
	}
	switch o.Pattern {
	case PatternUnstructured, PatternChannel:
	case PatternNM:
		if o.N < 1 || o.M < 2 || o.N >= o.M {
			return fmt.Errorf("N:M pattern %d:%d: want 1 <= N < M", o.N, o.M)
		}
		if o.Scope == ScopeGlobal {
			return fmt.Errorf("scope global does not apply to an N:M pattern (every group keeps exactly N)")
		}
	default:
		return fmt.Errorf("pattern %q: want unstructured, channel or N:M", o.Pattern)
	}
	switch o.Norm {
	case "l1", "l2":
	default:
		return fmt.Errorf("norm %q: want l1 or l2", o.Norm)
	}
	switch o.Attention {
	case AttentionDims, AttentionHeads, AttentionKeep, "":
	default:
		return fmt.Errorf("attention %q: want dims, heads or keep", o.Attention)
	}
	for _, pl := range o.PerLayer {
		if pl.Sparsity < 0 || pl.Sparsity >= 1 {
			return fmt.Errorf("per-layer sparsity %s=%v must be in [0, 1)", pl.Name, pl.Sparsity)
		}
	}
	return nil
}

// PatternString renders the pattern as the user writes it ("2:4", "channel").
func (o PruneOptions) PatternString() string {
	if o.Pattern == PatternNM {
		return fmt.Sprintf("%d:%d", o.N, o.M)
	}
	return o.Pattern
}

// Params renders the options as pass parameters (lists joined with ";", N:M as N/M so
// that the pipeline syntax can carry it).
func (o PruneOptions) Params() Params {
	p := Params{"pattern": o.PatternString(), "scope": o.Scope, "norm": o.Norm}
	if o.Pattern == PatternChannel && o.Attention != AttentionDims && o.Attention != "" {
		p["attention"] = o.Attention
	}
	if o.Pattern == PatternNM {
		p["pattern"] = fmt.Sprintf("%d/%d", o.N, o.M)
	} else {
		p["sparsity"] = strconv.FormatFloat(o.Sparsity, 'g', -1, 64)
	}
	if len(o.Exclude) > 0 {
		p["exclude"] = strings.Join(o.Exclude, ";")
	}
	if len(o.PerLayer) > 0 {
		var parts []string
		for _, pl := range o.PerLayer {
			parts = append(parts, pl.Name+"="+strconv.FormatFloat(pl.Sparsity, 'g', -1, 64))
		}
		p["per_layer"] = strings.Join(parts, ";")
	}
	return p
}

// ParsePruneParams reads the prune pass's parameters.
func ParsePruneParams(p Params) (PruneOptions, error) {
	o := DefaultPruneOptions()
	var err error
	if o.Sparsity, err = p.Float("sparsity", o.Sparsity); err != nil {
		return o, err
	}
	o.Scope = strings.ToLower(p.String("scope", o.Scope))
	o.Norm = strings.ToLower(p.String("norm", o.Norm))
	o.Attention = strings.ToLower(p.String("attention", o.Attention))
	if err := o.ParsePattern(p.String("pattern", o.Pattern)); err != nil {
		return o, err
	}
	if o.Pattern == PatternNM {
		o.Sparsity = 1 - float64(o.N)/float64(o.M)
	}
	for _, s := range splitList(p.String("exclude", "")) {
		o.Exclude = append(o.Exclude, s)
	}
	for _, s := range splitList(p.String("per_layer", "")) {
		pl, err := ParseLayerSparsity(s)
		if err != nil {
			return o, err
		}
		o.PerLayer = append(o.PerLayer, pl)
	}
	return o, o.Validate()
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ";") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// prunePass applies its options once per pipeline run (see the file comment).
type prunePass struct {
	opts PruneOptions
	done bool
}

func (p *prunePass) Name() string { return "prune" }

func (p *prunePass) Run(ctx *Context, m *ir.Model) (bool, error) {
	if p.done {
		return false, nil
	}
	p.done = true
	rep, err := Prune(ctx, m, p.opts)
	if err != nil {
		return false, err
	}
	ctx.report(p.Name(), rep)
	return rep.Changed, nil
}

// Prune prunes m in place as opts says and reports what it did. Every edit is logged in
// ctx's change log, tagged "prune" unless a pipeline is running another name.
func Prune(ctx *Context, m *ir.Model, opts PruneOptions) (*PruneReport, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	if m == nil || m.Graph == nil {
		return nil, fmt.Errorf("prune: model has no graph")
	}
	if ctx.pass == "" {
		ctx.pass = "prune"
		defer func() { ctx.pass = "" }()
	}
	sel, err := newLayerSelector(opts)
	if err != nil {
		return nil, err
	}
	ctx.ensureTypes(m)
	rep := newPruneReport(m, opts)
	r := newRewriter(ctx, m)
	switch opts.Pattern {
	case PatternUnstructured:
		err = pruneUnstructured(r, m, opts, sel, rep)
	case PatternNM:
		err = pruneNM(r, m, opts, sel, rep)
	case PatternChannel:
		err = pruneChannels(r, m, opts, sel, rep)
	}
	if err != nil {
		return nil, fmt.Errorf("prune (%s): %w", opts.PatternString(), err)
	}
	rep.Changed = r.changed
	rep.finish(m)
	return rep, nil
}

// PruneModel runs Prune as a one-step pipeline would: it verifies the result when
// ctx.VerifyEach is set and records the pipeline and change log in m's metadata, as Run
// does, so that whittle prune's output says how it was made.
func PruneModel(ctx *Context, m *ir.Model, opts PruneOptions) (*PruneReport, error) {
	start := ctx.log().Len()
	rep, err := Prune(ctx, m, opts)
	if err != nil {
		return nil, err
	}
	if ctx.VerifyEach {
		if err := m.Verify(); err != nil {
			return rep, fmt.Errorf("prune left an invalid IR:\n%w", err)
		}
	}
	pruneValueInfo(m)
	p := Pipeline{{Pass: "prune", Params: opts.Params()}}
	if err := recordMetadata(ctx, m, p, &ChangeLog{Changes: ctx.log().Changes[start:]}); err != nil {
		return rep, err
	}
	return rep, nil
}

// layerSelector applies --exclude and --per-layer to layers named by their node and
// weight names.
type layerSelector struct {
	exclude  []*regexp.Regexp
	perLayer []*regexp.Regexp
	perVal   []float64
}

func globRE(pattern string) (*regexp.Regexp, error) {
	parts := strings.Split(pattern, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.Compile("^" + strings.Join(parts, ".*") + "$")
}

func newLayerSelector(o PruneOptions) (*layerSelector, error) {
	s := &layerSelector{}
	for _, e := range o.Exclude {
		re, err := globRE(e)
		if err != nil {
			return nil, fmt.Errorf("exclude %q: %w", e, err)
		}
		s.exclude = append(s.exclude, re)
	}
	for _, pl := range o.PerLayer {
		re, err := globRE(pl.Name)
		if err != nil {
			return nil, fmt.Errorf("per-layer %q: %w", pl.Name, err)
		}
		s.perLayer = append(s.perLayer, re)
		s.perVal = append(s.perVal, pl.Sparsity)
	}
	return s, nil
}

func matchAny(re *regexp.Regexp, names []string) bool {
	for _, n := range names {
		if n != "" && re.MatchString(n) {
			return true
		}
	}
	return false
}

// excluded reports whether any of a layer's names matches --exclude.
func (s *layerSelector) excluded(names ...string) bool {
	for _, re := range s.exclude {
		if matchAny(re, names) {
			return true
		}
	}
	return false
}

// override returns the first --per-layer sparsity matching a layer's names.
func (s *layerSelector) override(names ...string) (float64, bool) {
	for i, re := range s.perLayer {
		if matchAny(re, names) {
			return s.perVal[i], true
		}
	}
	return 0, false
}

// layerNames are the names a layer answers to: its node's name and label, and the weight.
func layerNames(n *ir.Node, weight *ir.Value) []string {
	names := []string{n.Name, nodeLabel(n)}
	if weight != nil {
		names = append(names, weight.Name)
	}
	return names
}

// rankable returns an error for the first NaN or infinity in w: magnitudes rank weights,
// and NaN has no rank (sorting with it is undefined) while an infinity marks a broken model.
func rankable(w []float64) error {
	for i, x := range w {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return unrankable(x, i)
		}
	}
	return nil
}

func unrankable(x float64, i int) error {
	return fmt.Errorf("holds %v at flat index %d: magnitude pruning cannot rank NaN or infinite weights (repair the model, or leave this layer out with --exclude)", x, i)
}

// countToPrune is torch.nn.utils.prune's _compute_nparams_toprune for a fractional amount:
// Python's round(amount * n), which rounds halves to even.
func countToPrune(amount float64, n int) int {
	return int(math.RoundToEven(amount * float64(n)))
}

// resolveConst follows Identity nodes from v to the initializer (or Constant output)
// holding its data; it returns that value and its tensor, or nils.
func resolveConst(v *ir.Value) (*ir.Value, *ir.Tensor) {
	for i := 0; v != nil && i < 64; i++ {
		if t := constOf(v); t != nil {
			return v, t
		}
		p := v.Producer()
		if p == nil || !isOp(p, "Identity") {
			return nil, nil
		}
		v = p.Input(0)
	}
	return nil, nil
}

// isPrunableFloat reports whether weights of type dt can be pruned (decoded exactly to
// float64 and back).
func isPrunableFloat(dt ir.DataType) bool { return dt == ir.Float || dt == ir.Double }

// sortedIndexByKey returns the indices 0..n-1 ordered by key ascending, ties by index:
// the stable rule the prune patterns use wherever magnitudes are equal.
func sortedIndexByKey(keys []float64) []int {
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	return idx
}

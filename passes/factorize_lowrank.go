package passes

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/whittle-ml/whittle/ir"
)

// Low-rank factorization replaces a layer's weight W [K, N] (inputs by outputs) by the
// product of two thinner matrices from its truncated singular value decomposition,
//
//	W ≈ U_r Σ_r V_rᵀ = (U_r √Σ_r) (√Σ_r V_rᵀ) = A [K, r] · B [r, N],
//
// so that x·W becomes (x·A)·B: r(K+N) weights and MACs per row instead of KN. The layers:
//   - MatMul(x, W) with a constant 2-D W, x of rank 2 or more: a MatMul(x, A) is inserted
//     and the original node reads (x·A, B);
//   - Gemm(x, W, C) (transA = 0): the same, B stored in W's orientation (Bᵀ with
//     transB), so alpha, beta and C stay as they were;
//   - Conv with a 1x1 kernel and group 1, W [N, K, 1, 1]: a 1x1 Conv(x, Aᵀ) carrying the
//     original strides, pads and dilations is inserted, and the original becomes a plain
//     1x1 Conv(h, B, bias) (padded border pixels are zero in h, as in x, so the bias alone
//     lands there in both).
//
// Rank: a fixed Rank (clamped to min(K, N)), or the smallest r whose singular values keep
// Energy of the squared Frobenius norm. A layer whose factorization would not have fewer
// weights is skipped (unless Force) and reported. The SVD is gonum's, in float64.

func init() {
	Register(Info{
		Name: "factorize_lowrank",
		Doc: "replace Gemm/MatMul weights and 1x1 Conv weights by two thinner layers from their " +
			"truncated SVD (rank R, or the singular values keeping an energy fraction)",
		Params: []ParamInfo{
			{Name: "rank", Doc: "rank of every factorization (0: chosen by energy)", Default: "0"},
			{Name: "energy", Doc: "fraction of the squared singular values kept, in (0, 1]", Default: "0.9"},
			{Name: "min_size", Doc: "leave layers with fewer weights alone", Default: "1024"},
			{Name: "exclude", Doc: "layers to leave alone: node or weight names, * wildcards, separated by ;", Default: ""},
		},
		New: func(p Params) (Pass, error) {
			o, err := ParseLowRankParams(p)
			if err != nil {
				return nil, err
			}
			done := false
			return simplePass{name: "factorize_lowrank", run: func(ctx *Context, m *ir.Model) (bool, error) {
				// Once per pipeline run: a factorized layer's first half is a MatMul
				// too, which a later round would factorize again.
				if done {
					return false, nil
				}
				done = true
				rep, err := FactorizeLowRank(ctx, m, o)
				return err == nil && rep.Changed, err
			}}, nil
		},
		FixedPoint: true,
		Lossy:      true,
	})
}

// LowRankOptions say which layers to factorize and at which rank.
type LowRankOptions struct {
	// Rank > 0 fixes every layer's rank; 0 chooses it by Energy.
	Rank int
	// Energy is the fraction of Σσ² the kept singular values must reach.
	Energy float64
	// MinSize skips layers with fewer weights.
	MinSize int64
	// Exclude lists layers left alone (node or weight names, * wildcards).
	Exclude []string
	// Force factorizes even where the two factors hold as many weights as W or more
	// (full-rank checks, experiments).
	Force bool
}

// DefaultLowRankOptions keep 90% of the energy of layers of 1024 weights or more.
func DefaultLowRankOptions() LowRankOptions {
	return LowRankOptions{Energy: 0.9, MinSize: 1024}
}

// ParseLowRankParams reads the pass parameters.
func ParseLowRankParams(p Params) (LowRankOptions, error) {
	o := DefaultLowRankOptions()
	r, err := p.Int("rank", 0)
	if err != nil {
		return o, err
	}
	o.Rank = int(r)
	if o.Energy, err = p.Float("energy", o.Energy); err != nil {
		return o, err
	}
	if o.MinSize, err = p.Int("min_size", o.MinSize); err != nil {
		return o, err
	}
	o.Exclude = splitList(p.String("exclude", ""))
	return o, o.Validate()
}

// Validate checks the options.
func (o LowRankOptions) Validate() error {
	if o.Rank < 0 {
		return fmt.Errorf("rank %d must be positive (or 0 to choose by energy)", o.Rank)
	}
	if o.Rank == 0 && (math.IsNaN(o.Energy) || o.Energy <= 0 || o.Energy > 1) {
		return fmt.Errorf("energy %v must be in (0, 1]", o.Energy)
	}
	return nil
}

// Params renders the options as pass parameters.
func (o LowRankOptions) Params() Params {
	p := Params{}
	if o.Rank > 0 {
		p["rank"] = strconv.Itoa(o.Rank)
	} else {
		p["energy"] = strconv.FormatFloat(o.Energy, 'g', -1, 64)
	}
	if o.MinSize != DefaultLowRankOptions().MinSize {
		p["min_size"] = strconv.FormatInt(o.MinSize, 10)
	}
	if len(o.Exclude) > 0 {
		p["exclude"] = joinList(o.Exclude)
	}
	return p
}

func joinList(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ";"
		}
		out += x
	}
	return out
}

// LowRankLayer is one layer considered for factorization.
type LowRankLayer struct {
	Node string `json:"node"`
	Op   string `json:"op"`
	// K and N are the weight's input and output sizes; Rank the rank chosen (0: skipped).
	K, N int64 `json:"-"`
	Rank int   `json:"rank,omitempty"`
	// Energy is the fraction of Σσ² the kept singular values hold.
	Energy       float64 `json:"energy,omitempty"`
	Params       int64   `json:"params"`
	ParamsAfter  int64   `json:"params_after"`
	Skipped      string  `json:"skipped,omitempty"`
	SingularMax  float64 `json:"singular_max,omitempty"`
	SingularKept float64 `json:"singular_min_kept,omitempty"`
}

// LowRankReport is what FactorizeLowRank did.
type LowRankReport struct {
	Changed bool           `json:"changed"`
	Layers  []LowRankLayer `json:"layers"`
}

// lowRankTarget is a layer FactorizeLowRank can rewrite.
type lowRankTarget struct {
	n      *ir.Node
	kind   string // "matmul", "gemm", "conv1x1"
	w      *ir.Tensor
	k, cnt int64 // K inputs, N outputs
	transB bool
}

// lowRankTargetOf recognizes a factorizable layer, or says why it is not one.
func lowRankTargetOf(n *ir.Node) (*lowRankTarget, string) {
	if !ir.IsDefaultDomain(n.Domain) {
		return nil, ""
	}
	switch n.OpType {
	case "MatMul", "Gemm":
		_, w := resolveConst(n.Input(1))
		if w == nil || len(w.Dims) != 2 || !isPrunableFloat(w.DataType) || rankOf(n.Input(0)) < 2 {
			return nil, ""
		}
		t := &lowRankTarget{n: n, kind: "matmul", w: w, k: w.Dims[0], cnt: w.Dims[1]}
		if n.OpType == "Gemm" {
			if n.AttrInt("transA", 0) != 0 {
				return nil, "transA"
			}
			t.kind = "gemm"
			if n.AttrInt("transB", 0) != 0 {
				t.transB, t.k, t.cnt = true, w.Dims[1], w.Dims[0]
			}
		}
		return t, ""
	case "Conv":
		_, w := resolveConst(n.Input(1))
		if w == nil || len(w.Dims) < 3 || !isPrunableFloat(w.DataType) {
			return nil, ""
		}
		for _, d := range w.Dims[2:] {
			if d != 1 {
				return nil, ""
			}
		}
		if n.AttrInt("group", 1) != 1 {
			return nil, "grouped convolution"
		}
		if n.Input(2) != nil && constOf(n.Input(2)) == nil {
			return nil, "non-constant bias"
		}
		return &lowRankTarget{n: n, kind: "conv1x1", w: w, k: w.Dims[1], cnt: w.Dims[0]}, ""
	}
	return nil, ""
}

// matrix returns the weight as K x N.
func (t *lowRankTarget) matrix() (*mat.Dense, error) {
	xs, err := t.w.Float64s()
	if err != nil {
		return nil, err
	}
	k, n := int(t.k), int(t.cnt)
	out := mat.NewDense(k, n, nil)
	for i := 0; i < k; i++ {
		for j := 0; j < n; j++ {
			switch {
			case t.kind == "conv1x1" || t.transB: // stored [N, K, ...]
				out.Set(i, j, xs[j*k+i])
			default:
				out.Set(i, j, xs[i*n+j])
			}
		}
	}
	return out, nil
}

// ChooseRank returns the smallest r whose leading singular values (sorted descending)
// hold at least energy of Σσ², and the fraction they hold.
func ChooseRank(sv []float64, energy float64) (int, float64) {
	total := 0.0
	for _, s := range sv {
		total += s * s
	}
	if total == 0 {
		return 1, 1
	}
	acc := 0.0
	for i, s := range sv {
		acc += s * s
		// A relative slack absorbs the rounding of the sum at energy 1.
		if acc >= energy*total*(1-1e-12) {
			return i + 1, acc / total
		}
	}
	return len(sv), 1
}

// FactorizeLowRank factorizes m's eligible layers in place as opts says.
func FactorizeLowRank(ctx *Context, m *ir.Model, opts LowRankOptions) (*LowRankReport, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("factorize_lowrank: %w", err)
	}
	if m == nil || m.Graph == nil {
		return nil, fmt.Errorf("factorize_lowrank: model has no graph")
	}
	if ctx.pass == "" {
		ctx.pass = "factorize_lowrank"
		defer func() { ctx.pass = "" }()
	}
	sel, err := newLayerSelector(PruneOptions{Exclude: opts.Exclude})
	if err != nil {
		return nil, err
	}
	ctx.ensureTypes(m)
	r := newRewriter(ctx, m)
	rep := &LowRankReport{}
	for _, n := range m.Graph.Nodes() {
		t, why := lowRankTargetOf(n)
		if t == nil {
			if why != "" {
				rep.Layers = append(rep.Layers, LowRankLayer{Node: nodeLabel(n), Op: n.OpType, Skipped: why})
			}
			continue
		}
		wv, _ := resolveConst(n.Input(1))
		layer := LowRankLayer{Node: nodeLabel(n), Op: n.OpType, K: t.k, N: t.cnt, Params: t.k * t.cnt, ParamsAfter: t.k * t.cnt}
		if sel.excluded(layerNames(n, wv)...) {
			layer.Skipped = "excluded"
			rep.Layers = append(rep.Layers, layer)
			continue
		}
		if t.k*t.cnt < opts.MinSize {
			layer.Skipped = fmt.Sprintf("%d weights, fewer than min_size %d", t.k*t.cnt, opts.MinSize)
			rep.Layers = append(rep.Layers, layer)
			continue
		}
		a, b, info, err := factorize(t, opts)
		if err != nil {
			return nil, fmt.Errorf("factorize_lowrank: %s: %w", n.Describe(), err)
		}
		layer.Rank, layer.Energy, layer.SingularMax, layer.SingularKept = info.rank, info.energy, info.first, info.last
		after := int64(info.rank) * (t.k + t.cnt)
		if after >= t.k*t.cnt && !opts.Force {
			layer.Skipped = fmt.Sprintf("rank %d keeps %d weights of %d: no saving", info.rank, after, t.k*t.cnt)
			layer.Rank = 0
			rep.Layers = append(rep.Layers, layer)
			continue
		}
		layer.ParamsAfter = after
		if err := r.splitLowRank(t, a, b, info.rank); err != nil {
			return nil, fmt.Errorf("factorize_lowrank: %s: %w", n.Describe(), err)
		}
		rep.Layers = append(rep.Layers, layer)
	}
	rep.Changed = r.changed
	return rep, nil
}

// LayerSpectrum is the singular values (descending) of a layer FactorizeLowRank would
// consider, so that a caller can choose a rank or energy for a size budget without
// factorizing.
type LayerSpectrum struct {
	Node   string
	K, N   int64
	Values []float64
}

// Saved returns how many weights factorizing at rank r saves (0 when it would not).
func (l LayerSpectrum) Saved(r int) int64 {
	return max(l.K*l.N-int64(r)*(l.K+l.N), 0)
}

// SingularValues returns the spectrum of every layer of m that opts would factorize
// (eligible, not excluded, at least MinSize weights).
func SingularValues(m *ir.Model, opts LowRankOptions) ([]LayerSpectrum, error) {
	sel, err := newLayerSelector(PruneOptions{Exclude: opts.Exclude})
	if err != nil {
		return nil, err
	}
	var out []LayerSpectrum
	for _, n := range m.Graph.Nodes() {
		t, _ := lowRankTargetOf(n)
		if t == nil || t.k*t.cnt < opts.MinSize {
			continue
		}
		if wv, _ := resolveConst(n.Input(1)); sel.excluded(layerNames(n, wv)...) {
			continue
		}
		w, err := t.matrix()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n.Describe(), err)
		}
		var svd mat.SVD
		if !svd.Factorize(w, mat.SVDNone) {
			return nil, fmt.Errorf("%s: SVD did not converge", n.Describe())
		}
		out = append(out, LayerSpectrum{Node: nodeLabel(n), K: t.k, N: t.cnt, Values: svd.Values(nil)})
	}
	return out, nil
}

type svdInfo struct {
	rank        int
	energy      float64
	first, last float64
}

// factorize returns A [K, r] and B [r, N] (row-major float64) with A·B the rank-r
// truncation of the layer's weight, the singular values split evenly between them.
func factorize(t *lowRankTarget, opts LowRankOptions) (a, b []float64, info svdInfo, err error) {
	w, err := t.matrix()
	if err != nil {
		return nil, nil, info, err
	}
	var svd mat.SVD
	if !svd.Factorize(w, mat.SVDThin) {
		return nil, nil, info, fmt.Errorf("SVD of the %dx%d weight did not converge", t.k, t.cnt)
	}
	sv := svd.Values(nil)
	r := opts.Rank
	var energy float64
	if r > 0 {
		r = min(r, len(sv))
		total, kept := 0.0, 0.0
		for i, s := range sv {
			total += s * s
			if i < r {
				kept += s * s
			}
		}
		if total > 0 {
			energy = kept / total
		}
	} else {
		r, energy = ChooseRank(sv, opts.Energy)
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	k, n := int(t.k), int(t.cnt)
	a = make([]float64, k*r)
	b = make([]float64, r*n)
	for j := 0; j < r; j++ {
		s := math.Sqrt(sv[j])
		for i := 0; i < k; i++ {
			a[i*r+j] = u.At(i, j) * s
		}
		for c := 0; c < n; c++ {
			b[j*n+c] = v.At(c, j) * s
		}
	}
	return a, b, svdInfo{rank: r, energy: energy, first: sv[0], last: sv[r-1]}, nil
}

// transpose returns the cols x rows transpose of a row-major rows x cols matrix.
func transpose(x []float64, rows, cols int) []float64 {
	out := make([]float64, len(x))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			out[j*rows+i] = x[i*cols+j]
		}
	}
	return out
}

// splitLowRank inserts the first factor before t's node and gives the node the second.
func (r *rewriter) splitLowRank(t *lowRankTarget, a, b []float64, rank int) error {
	n, g := t.n, t.n.Graph()
	wv := n.Input(1)
	dt := t.w.DataType
	k, cnt := int(t.k), int(t.cnt)
	var first *ir.Node
	var bt *ir.Tensor
	switch t.kind {
	case "matmul", "gemm":
		av := r.addConst(g, nameOf(wv)+"_lowrank_a", ir.FromFloat64s("", dt, []int64{t.k, int64(rank)}, a))
		first = r.newNode(g, n, "", "MatMul", []*ir.Value{n.Input(0), av}, []string{nodeLabel(n) + "_lowrank"})
		if t.transB {
			bt = ir.FromFloat64s("", dt, []int64{t.cnt, int64(rank)}, transpose(b, rank, cnt))
		} else {
			bt = ir.FromFloat64s("", dt, []int64{int64(rank), t.cnt}, b)
		}
	case "conv1x1":
		ones := make([]int64, len(t.w.Dims)-2)
		for i := range ones {
			ones[i] = 1
		}
		aDims := append([]int64{int64(rank), t.k}, ones...)
		av := r.addConst(g, nameOf(wv)+"_lowrank_a", ir.FromFloat64s("", dt, aDims, transpose(a, k, rank)))
		var attrs []*ir.Attr
		for _, name := range []string{"strides", "pads", "dilations", "auto_pad"} {
			if at := n.Attr(name); at != nil {
				attrs = append(attrs, at)
			}
		}
		first = r.newNode(g, n, "", "Conv", []*ir.Value{n.Input(0), av}, []string{nodeLabel(n) + "_lowrank"}, attrs...)
		for _, name := range []string{"strides", "pads", "dilations", "auto_pad"} {
			r.deleteAttr(n, name)
		}
		bt = ir.FromFloat64s("", dt, append([]int64{t.cnt, int64(rank)}, ones...), transpose(b, rank, cnt))
	}
	first.Name = ir.NodeNames(g).Fresh(nodeLabel(n) + "_lowrank")
	if old := r.replaceConstInput(n, 1, bt); old != nil {
		if err := r.dropOrphans([]*ir.Value{old}); err != nil {
			return err
		}
	}
	r.setInput(n, 0, first.Output(0))
	return nil
}

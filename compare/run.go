package compare

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Defaults of Options.
const (
	DefaultBatchSize     = 32
	DefaultRandomSamples = 8
	// sqnrCap stands in for +Inf when ranking (float32 rounding alone is ~140 dB).
	sqnrCap = 150.0
)

// Options tune Models.
type Options struct {
	// Data feeds both models; nil makes RandomSamples rows from A's declared input shapes.
	Data          dataset.Dataset
	RandomSamples int
	Seed          uint64
	// Dims sizes symbolic dimensions of random inputs other than the batch (default 1).
	Dims      map[string]int64
	BatchSize int
	// PerLayer compares every matched intermediate tensor too.
	PerLayer bool
	Tol      Tolerance
	// Progress, when set, is called after every batch with rows done and the total.
	Progress func(done, total int)
}

// Layer is one matched intermediate tensor.
type Layer struct {
	Pair
	// Op is the operator of A that computes the value ("input" for graph inputs).
	Op    string `json:"op"`
	Stats *Stats `json:"stats"`
	// InputSQNR is the worst SQNR among the nearest matched values this one is computed
	// from (capped at 150 dB); Lost = InputSQNR - SQNR is what this layer added.
	InputSQNR float64 `json:"input_sqnr_db"`
	Lost      float64 `json:"lost_db"`
}

// Result is a comparison of B against A.
type Result struct {
	Rows    int      `json:"rows"`
	Random  bool     `json:"random_inputs"`
	Outputs []*Stats `json:"outputs"`
	// AccuracyA and AccuracyB are set when the data has labels.
	AccuracyA *Accuracy `json:"accuracy_a,omitempty"`
	AccuracyB *Accuracy `json:"accuracy_b,omitempty"`
	// Layers are in A's graph order; Ranked are the same sorted by Lost, largest first.
	Layers []*Layer `json:"layers,omitempty"`
	Ranked []*Layer `json:"-"`
	// Failures lists every tolerance broken, by output.
	Failures []string `json:"failures,omitempty"`
}

// Failed reports whether any tolerance was broken.
func (r *Result) Failed() bool { return len(r.Failures) > 0 }

// RandomData makes rows of inputs for m from its declared shapes: floats uniform in
// [0, 1), integers in [0, 10), bools fair. The first dimension is the batch; other
// symbolic dimensions take dims[name], else 1.
func RandomData(m *ir.Model, rows int, seed uint64, dims map[string]int64) (dataset.Dataset, error) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var inputs []dataset.Tensor
	for _, v := range m.Graph.Inputs {
		if v.IsConst() {
			continue
		}
		if v.Type == nil || v.Type.Kind != ir.TensorKind || !v.Type.HasShape || len(v.Type.Dims) == 0 {
			return nil, fmt.Errorf("input %q has no declared tensor shape with a batch dimension; give --data", v.Name)
		}
		shape := []int64{int64(rows)}
		n := rows
		for _, d := range v.Type.Dims[1:] {
			s := int64(1)
			if d.IsKnown() {
				s = d.Value
			} else if dims[d.Param] > 0 {
				s = dims[d.Param]
			}
			shape = append(shape, s)
			n *= int(s)
		}
		t := dataset.Tensor{Name: v.Name, Shape: shape}
		switch v.Type.Elem {
		case ir.Float:
			t.DType, t.Float32 = dataset.Float32, make([]float32, n)
			for i := range t.Float32 {
				t.Float32[i] = rng.Float32()
			}
		case ir.Double:
			t.DType, t.Float64 = dataset.Float64, make([]float64, n)
			for i := range t.Float64 {
				t.Float64[i] = rng.Float64()
			}
		case ir.Int64:
			t.DType, t.Int64 = dataset.Int64, make([]int64, n)
			for i := range t.Int64 {
				t.Int64[i] = rng.Int64N(10)
			}
		case ir.Int32:
			t.DType, t.Int32 = dataset.Int32, make([]int32, n)
			for i := range t.Int32 {
				t.Int32[i] = rng.Int32N(10)
			}
		case ir.Bool:
			t.DType, t.Bool = dataset.Bool, make([]bool, n)
			for i := range t.Bool {
				t.Bool[i] = rng.IntN(2) == 1
			}
		default:
			return nil, fmt.Errorf("input %q: random %s inputs are not supported; give --data", v.Name, v.Type.Elem)
		}
		inputs = append(inputs, t)
	}
	return dataset.NewArrays(inputs, nil, nil)
}

// floats64 converts a numeric or bool runtime tensor to float64 (see kernel.Float64sOf);
// ok is false for a missing value, a sequence or optional, or a string tensor.
func floats64(t *kernel.Tensor) ([]float64, bool) {
	if t == nil || t.Kind != kernel.TensorValue {
		return nil, false
	}
	xs, err := kernel.Float64sOf(t)
	return xs, err == nil
}

// addTensors compares one batch of a tensor pair into s.
func addTensors(s *Stats, ta, tb *kernel.Tensor, tol Tolerance) {
	if s.Problem != "" {
		return
	}
	if ta == nil || tb == nil {
		s.Problem = "missing in one model"
		return
	}
	if !slices.Equal(ta.Shape, tb.Shape) {
		s.Problem = fmt.Sprintf("shape %v against %v", tb.Shape, ta.Shape)
		return
	}
	a, ok1 := floats64(ta)
	b, ok2 := floats64(tb)
	if !ok1 || !ok2 {
		s.Problem = fmt.Sprintf("cannot compare %s with %s", tb, ta)
		return
	}
	s.Add(a, b, ta.Shape, tol)
}

// outputPairs pairs B's graph outputs with A's: by name, else by position.
func outputPairs(a, b *runtime.Session) ([][2]string, error) {
	an, bn := a.OutputNames(), b.OutputNames()
	bset := map[string]bool{}
	for _, n := range bn {
		bset[n] = true
	}
	var out [][2]string
	for i, n := range an {
		switch {
		case bset[n]:
			out = append(out, [2]string{n, n})
		case i < len(bn):
			out = append(out, [2]string{n, bn[i]})
		default:
			return nil, fmt.Errorf("model B has no output matching %q", n)
		}
	}
	return out, nil
}

// Models runs A and B on the same inputs and compares B's outputs (and, with PerLayer,
// matched intermediates) against A's.
func Models(a, b *ir.Model, opts Options) (*Result, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	res := &Result{}
	data := opts.Data
	if data == nil {
		n := opts.RandomSamples
		if n <= 0 {
			n = DefaultRandomSamples
		}
		var err error
		if data, err = RandomData(a, n, opts.Seed, opts.Dims); err != nil {
			return nil, err
		}
		res.Random = true
	}
	if fixed := runtime.FixedBatch(a); fixed > 0 {
		opts.BatchSize = fixed
	}
	sa, err := runtime.NewSession(a, runtime.Options{Intermediates: opts.PerLayer})
	if err != nil {
		return nil, fmt.Errorf("model A: %w", err)
	}
	sb, err := runtime.NewSession(b, runtime.Options{Intermediates: opts.PerLayer})
	if err != nil {
		return nil, fmt.Errorf("model B: %w", err)
	}
	outs, err := outputPairs(sa, sb)
	if err != nil {
		return nil, err
	}
	for _, p := range outs {
		name := p[0]
		if p[1] != p[0] {
			name += " / " + p[1]
		}
		res.Outputs = append(res.Outputs, &Stats{Name: name})
	}
	var pairs []Pair
	if opts.PerLayer {
		pairs = MatchLayers(a, b)
		for _, p := range pairs {
			res.Layers = append(res.Layers, &Layer{Pair: p, Stats: &Stats{Name: p.A}})
		}
	}
	total := data.Len()
	ctx := context.Background()
	err = dataset.Each(data, opts.BatchSize, func(start int, batch dataset.Batch) error {
		fa, err := datafeed.BatchFeeds(a, batch)
		if err != nil {
			return fmt.Errorf("model A: %w", err)
		}
		fb, err := datafeed.BatchFeeds(b, batch)
		if err != nil {
			return fmt.Errorf("model B: %w", err)
		}
		va, err := sa.Run(ctx, fa)
		if err != nil {
			return fmt.Errorf("model A: %w", err)
		}
		vb, err := sb.Run(ctx, fb)
		if err != nil {
			return fmt.Errorf("model B: %w", err)
		}
		for i, p := range outs {
			addTensors(res.Outputs[i], va[p[0]], vb[p[1]], opts.Tol)
		}
		if batch.Labels != nil && len(outs) > 0 {
			if res.AccuracyA == nil {
				res.AccuracyA, res.AccuracyB = &Accuracy{}, &Accuracy{}
			}
			if err := addAccuracy(res.AccuracyA, va[outs[0][0]], batch.Labels); err != nil {
				return fmt.Errorf("model A: %w", err)
			}
			if err := addAccuracy(res.AccuracyB, vb[outs[0][1]], batch.Labels); err != nil {
				return fmt.Errorf("model B: %w", err)
			}
		}
		for _, l := range res.Layers {
			ta, tb := va[l.A], vb[l.B]
			if ta == nil || tb == nil {
				continue // not computed (a branch not taken, a folded constant)
			}
			addTensors(l.Stats, ta, tb, Tolerance{})
		}
		res.Rows += batch.Size()
		if opts.Progress != nil {
			opts.Progress(start+batch.Size(), total)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, s := range res.Outputs {
		for _, f := range s.Failures(opts.Tol) {
			res.Failures = append(res.Failures, s.Name+": "+f)
		}
	}
	if opts.PerLayer {
		res.rankLayers(a)
	}
	return res, nil
}

func addAccuracy(acc *Accuracy, t *kernel.Tensor, labels []int64) error {
	xs, ok := floats64(t)
	if !ok {
		return fmt.Errorf("output %s is not numeric", t)
	}
	return acc.Add(xs, t.Shape, labels)
}

// rankLayers works out, for every matched layer, the SQNR of its nearest matched inputs
// in A's graph and so how many dB it lost, then sorts a copy by that loss.
func (r *Result) rankLayers(a *ir.Model) {
	byName := map[string]*Layer{}
	kept := r.Layers[:0]
	for _, l := range r.Layers {
		if l.Stats.N == 0 && l.Stats.Problem == "" {
			continue
		}
		byName[l.A] = l
		kept = append(kept, l)
	}
	r.Layers = kept
	producer := map[string]*ir.Node{}
	for _, n := range a.Graph.Nodes() {
		for _, v := range n.Outputs() {
			if v != nil {
				producer[v.Name] = n
			}
		}
	}
	// inputSQNR walks back from a value through unmatched values to the matched ones.
	memo := map[string]float64{}
	var upstream func(name string, depth int) float64
	upstream = func(name string, depth int) float64 {
		if v, ok := memo[name]; ok {
			return v
		}
		worst := sqnrCap
		n := producer[name]
		if n != nil && depth < 64 {
			for _, in := range n.Inputs() {
				if in == nil || in.IsConst() {
					continue
				}
				var s float64
				if l, ok := byName[in.Name]; ok {
					s = clampSQNR(l.Stats.SQNR())
				} else {
					s = upstream(in.Name, depth+1)
				}
				worst = math.Min(worst, s)
			}
		}
		memo[name] = worst
		return worst
	}
	for _, l := range r.Layers {
		if n := producer[l.A]; n != nil {
			l.Op = n.OpType
		} else {
			l.Op = "input"
		}
		l.InputSQNR = upstream(l.A, 0)
		l.Lost = l.InputSQNR - clampSQNR(l.Stats.SQNR())
	}
	r.Ranked = append([]*Layer(nil), r.Layers...)
	sort.SliceStable(r.Ranked, func(i, j int) bool { return r.Ranked[i].Lost > r.Ranked[j].Lost })
}

func clampSQNR(s float64) float64 {
	if math.IsNaN(s) {
		return -sqnrCap
	}
	return math.Max(-sqnrCap, math.Min(sqnrCap, s))
}

// Reference holds a model's outputs over a dataset so that many candidates (the layers
// an accuracy budget tries) can be scored against it without running it again. Only
// outputs are kept, batch by batch.
type Reference struct {
	data      dataset.Dataset
	batch     int
	names     []string
	outputs   []map[string]*kernel.Tensor
	labels    bool
	accuracy  *Accuracy
	modelName string
}

// NewReference runs m over data and keeps its outputs.
func NewReference(m *ir.Model, data dataset.Dataset, batch int) (*Reference, error) {
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	if fixed := runtime.FixedBatch(m); fixed > 0 {
		batch = fixed
	}
	s, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return nil, err
	}
	ref := &Reference{data: data, batch: batch, names: s.OutputNames()}
	err = dataset.Each(data, batch, func(_ int, b dataset.Batch) error {
		feeds, err := datafeed.BatchFeeds(m, b)
		if err != nil {
			return err
		}
		outs, err := s.Run(context.Background(), feeds)
		if err != nil {
			return err
		}
		ref.outputs = append(ref.outputs, outs)
		if b.Labels != nil && len(ref.names) > 0 {
			if ref.accuracy == nil {
				ref.accuracy = &Accuracy{}
			}
			if err := addAccuracy(ref.accuracy, outs[ref.names[0]], b.Labels); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ref, nil
}

// Accuracy returns the reference model's accuracy, or nil without labels.
func (r *Reference) Accuracy() *Accuracy { return r.accuracy }

// Compare runs m over the reference's data and compares its outputs (by name, else by
// position) with the reference's.
func (r *Reference) Compare(m *ir.Model, tol Tolerance) (*Result, error) {
	s, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return nil, err
	}
	bn := s.OutputNames()
	res := &Result{}
	pairs := make([][2]string, len(r.names))
	for i, n := range r.names {
		pairs[i] = [2]string{n, n}
		if !contains(bn, n) {
			if i >= len(bn) {
				return nil, fmt.Errorf("model has no output matching %q", n)
			}
			pairs[i][1] = bn[i]
		}
		res.Outputs = append(res.Outputs, &Stats{Name: n})
	}
	k := 0
	err = dataset.Each(r.data, r.batch, func(_ int, b dataset.Batch) error {
		feeds, err := datafeed.BatchFeeds(m, b)
		if err != nil {
			return err
		}
		outs, err := s.Run(context.Background(), feeds)
		if err != nil {
			return err
		}
		ref := r.outputs[k]
		k++
		for i, p := range pairs {
			addTensors(res.Outputs[i], ref[p[0]], outs[p[1]], tol)
		}
		if b.Labels != nil && len(pairs) > 0 {
			if res.AccuracyB == nil {
				res.AccuracyA, res.AccuracyB = r.accuracy, &Accuracy{}
			}
			if err := addAccuracy(res.AccuracyB, outs[pairs[0][1]], b.Labels); err != nil {
				return err
			}
		}
		res.Rows += b.Size()
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, st := range res.Outputs {
		for _, f := range st.Failures(tol) {
			res.Failures = append(res.Failures, st.Name+": "+f)
		}
	}
	return res, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

package rnn

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// cellKind is which recurrence a kernel runs.
type cellKind int

const (
	cellRNN cellKind = iota
	cellGRU
	cellLSTM
)

// cellInfo gives each recurrence's op name, gate count (rows of W per hidden unit) and
// default activations for one direction.
var cellInfo = map[cellKind]struct {
	op       string
	gates    int
	defaults []string
}{
	cellRNN:  {"RNN", 1, []string{"Tanh"}},
	cellGRU:  {"GRU", 3, []string{"Sigmoid", "Tanh"}},
	cellLSTM: {"LSTM", 4, []string{"Sigmoid", "Tanh", "Tanh"}},
}

var floatTypes = []ir.DataType{ir.Float, ir.Double, ir.Float16, ir.BFloat16}

func init() {
	for _, k := range []cellKind{cellRNN, cellGRU, cellLSTM} {
		k := k
		kernel.Register(kernel.KernelDef{
			Op: cellInfo[k].op, SinceVersion: 1, Types: floatTypes,
			New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newRecurrent(info, k) },
		})
	}
}

// recurrent is one compiled RNN, GRU or LSTM node.
type recurrent struct {
	node        *ir.Node
	kind        cellKind
	hidden      int // 0: taken from R's shape
	numDir      int
	reverse     bool // direction "reverse" (bidirectional runs direction 1 reversed)
	layout      int64
	clip        float64 // 0: no clipping
	acts        []activation
	linearReset bool // GRU linear_before_reset
	inputForget bool // LSTM: couple the forget gate to 1 - input gate
	numOutputs  int
}

func newRecurrent(info *kernel.NodeInfo, kind cellKind) (kernel.Kernel, error) {
	n := info.Node
	ci := cellInfo[kind]
	k := &recurrent{
		node:        n,
		kind:        kind,
		hidden:      int(n.AttrInt("hidden_size", 0)),
		layout:      n.AttrInt("layout", 0),
		linearReset: n.AttrInt("linear_before_reset", 0) != 0,
		inputForget: n.AttrInt("input_forget", 0) != 0,
		numOutputs:  len(n.Outputs()),
	}
	switch dir := n.AttrString("direction", "forward"); dir {
	case "forward":
		k.numDir = 1
	case "reverse":
		k.numDir, k.reverse = 1, true
	case "bidirectional":
		k.numDir = 2
	default:
		return nil, fmt.Errorf("%s: direction %q is not forward, reverse or bidirectional", n.Describe(), dir)
	}
	if k.layout != 0 && k.layout != 1 {
		return nil, fmt.Errorf("%s: layout %d is not 0 or 1", n.Describe(), k.layout)
	}
	if k.hidden < 0 {
		return nil, fmt.Errorf("%s: hidden_size %d is negative", n.Describe(), k.hidden)
	}
	if a := n.Attr("clip"); a != nil {
		if a.Float <= 0 {
			return nil, fmt.Errorf("%s: clip %v must be positive", n.Describe(), a.Float)
		}
		k.clip = float64(a.Float)
	}
	acts, err := parseActivations(attrStrings(n, "activations"), n.AttrFloats("activation_alpha", nil),
		n.AttrFloats("activation_beta", nil), ci.defaults, len(ci.defaults), k.numDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	k.acts = acts
	return k, nil
}

func (k *recurrent) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	outs, err := k.run(ctx, inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	return outs, nil
}

// dims are the sizes of one run.
type dims struct {
	seq, batch, input, hidden, gates, numDir int
}

func (k *recurrent) run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	X, W, R := kernel.Input(inputs, 0), kernel.Input(inputs, 1), kernel.Input(inputs, 2)
	if X == nil || W == nil || R == nil {
		return nil, fmt.Errorf("inputs X, W and R are required")
	}
	if len(X.Shape) != 3 || len(W.Shape) != 3 || len(R.Shape) != 3 {
		return nil, fmt.Errorf("X %v, W %v and R %v must have rank 3", X.Shape, W.Shape, R.Shape)
	}
	d := dims{gates: cellInfo[k.kind].gates, numDir: k.numDir, input: int(X.Shape[2])}
	if k.layout == 0 {
		d.seq, d.batch = int(X.Shape[0]), int(X.Shape[1])
	} else {
		d.batch, d.seq = int(X.Shape[0]), int(X.Shape[1])
	}
	d.hidden = k.hidden
	if d.hidden == 0 {
		d.hidden = int(R.Shape[2])
	}
	H, G := d.hidden, d.gates
	if want := []int64{int64(d.numDir), int64(G * H), int64(d.input)}; !kernel.SameShape(W.Shape, want) {
		return nil, fmt.Errorf("W has shape %v, want %v", W.Shape, want)
	}
	if want := []int64{int64(d.numDir), int64(G * H), int64(H)}; !kernel.SameShape(R.Shape, want) {
		return nil, fmt.Errorf("R has shape %v, want %v", R.Shape, want)
	}
	x, err := widen(X, "X")
	if err != nil {
		return nil, err
	}
	w, err := widen(W, "W")
	if err != nil {
		return nil, err
	}
	r, err := widen(R, "R")
	if err != nil {
		return nil, err
	}
	// Sizes here come from shapes and the hidden_size attribute: an empty X may declare
	// any batch and sequence length, so every buffer is counted with overflow checks and
	// weighed against the memory budget.
	bias, err := zeros(d.numDir, 2*G, H)
	if err != nil {
		return nil, err
	}
	if B := kernel.Input(inputs, 3); B != nil {
		if bias, err = widenShaped(B, "B", []int64{int64(d.numDir), int64(2 * G * H)}); err != nil {
			return nil, err
		}
	}
	seqLens, err := kernel.MakeScratch[int](d.batch)
	if err != nil {
		return nil, err
	}
	for i := range seqLens {
		seqLens[i] = d.seq
	}
	if sl := kernel.Input(inputs, 4); sl != nil {
		if sl.NumElements() != d.batch {
			return nil, fmt.Errorf("sequence_lens has %d elements, want %d", sl.NumElements(), d.batch)
		}
		for i := range seqLens {
			var v int64
			switch s := sl.Data.(type) {
			case []int32:
				v = int64(s[i])
			case []int64:
				v = s[i]
			default:
				return nil, fmt.Errorf("sequence_lens must be int32, got %s", sl.DType)
			}
			if v < 0 || v > int64(d.seq) {
				return nil, fmt.Errorf("sequence_lens[%d] = %d is outside [0, %d]", i, v, d.seq)
			}
			seqLens[i] = int(v)
		}
	}
	stateShape := []int64{int64(d.numDir), int64(d.batch), int64(H)}
	if k.layout == 1 {
		stateShape = []int64{int64(d.batch), int64(d.numDir), int64(H)}
	}
	initH, err := zeros(d.numDir, d.batch, H)
	if err != nil {
		return nil, err
	}
	initC, err := zeros(d.numDir, d.batch, H)
	if err != nil {
		return nil, err
	}
	if t := kernel.Input(inputs, 5); t != nil {
		if initH, err = widenShaped(t, "initial_h", stateShape); err != nil {
			return nil, err
		}
	}
	var peep []float64
	if k.kind == cellLSTM {
		if t := kernel.Input(inputs, 6); t != nil {
			if initC, err = widenShaped(t, "initial_c", stateShape); err != nil {
				return nil, err
			}
		}
		if t := kernel.Input(inputs, 7); t != nil {
			if peep, err = widenShaped(t, "P", []int64{int64(d.numDir), int64(3 * H)}); err != nil {
				return nil, err
			}
		}
	}

	// Results in time-major order: y[t][dir][b][:], state[dir][b][:].
	y, err := zeros(d.seq, d.numDir, d.batch, H)
	if err != nil {
		return nil, err
	}
	yh, err := zeros(d.numDir, d.batch, H)
	if err != nil {
		return nil, err
	}
	yc, err := zeros(d.numDir, d.batch, H)
	if err != nil {
		return nil, err
	}
	stateAt := func(s []float64, dir, b int) []float64 {
		if k.layout == 1 {
			return s[(b*d.numDir+dir)*H : (b*d.numDir+dir+1)*H]
		}
		return s[(dir*d.batch+b)*H : (dir*d.batch+b+1)*H]
	}
	perDir := len(cellInfo[k.kind].defaults)
	// With a hidden size the batch·seq steps below are bounded by y; without one every
	// output is empty and the steps, which an empty X may make any number of, are skipped.
	for dir := 0; dir < d.numDir && H > 0; dir++ {
		p := params{
			w:     w[dir*G*H*d.input : (dir+1)*G*H*d.input],
			r:     r[dir*G*H*H : (dir+1)*G*H*H],
			wb:    bias[dir*2*G*H : dir*2*G*H+G*H],
			rb:    bias[dir*2*G*H+G*H : (dir+1)*2*G*H],
			acts:  k.acts[dir*perDir : (dir+1)*perDir],
			input: d.input, hidden: H,
		}
		if peep != nil {
			p.peep = peep[dir*3*H : (dir+1)*3*H]
		}
		reverse := k.reverse || dir == 1
		st := newStep(k, p)
		for b := 0; b < d.batch; b++ {
			h := append([]float64(nil), stateAt(initH, dir, b)...)
			c := append([]float64(nil), stateAt(initC, dir, b)...)
			L := seqLens[b]
			for s := 0; s < L; s++ {
				t := s
				if reverse {
					t = L - 1 - s
				}
				var xt []float64
				if k.layout == 0 {
					xt = x[(t*d.batch+b)*d.input : (t*d.batch+b+1)*d.input]
				} else {
					xt = x[(b*d.seq+t)*d.input : (b*d.seq+t+1)*d.input]
				}
				st.step(xt, h, c)
				copy(y[((t*d.numDir+dir)*d.batch+b)*H:], h)
			}
			copy(yh[(dir*d.batch+b)*H:], h)
			copy(yc[(dir*d.batch+b)*H:], c)
		}
	}

	outs := make([]*kernel.Tensor, k.numOutputs)
	yShape := []int64{int64(d.seq), int64(d.numDir), int64(d.batch), int64(H)}
	if k.layout == 1 {
		yShape = []int64{int64(d.batch), int64(d.seq), int64(d.numDir), int64(H)}
		if y, err = permute(y, []int{d.seq, d.numDir, d.batch, H}, []int{2, 0, 1, 3}); err != nil {
			return nil, err
		}
		if yh, err = permute(yh, []int{d.numDir, d.batch, H}, []int{1, 0, 2}); err != nil {
			return nil, err
		}
		if yc, err = permute(yc, []int{d.numDir, d.batch, H}, []int{1, 0, 2}); err != nil {
			return nil, err
		}
	}
	results := [][]float64{y, yh, yc}
	shapes := [][]int64{yShape, stateShape, stateShape}
	for i := range outs {
		if i >= len(results) || k.node.Output(i) == nil || (i == 2 && k.kind != cellLSTM) {
			continue
		}
		t := ctx.Alloc(X.DType, shapes[i]...)
		if err := kernel.StoreFloat64s(t, results[i]); err != nil {
			return nil, err
		}
		outs[i] = t
	}
	return outs, nil
}

// params are one direction's weights.
type params struct {
	w, r, wb, rb, peep []float64
	acts               []activation
	input, hidden      int
}

// stepper advances the state (h, and c for LSTM) by one time step in place.
type stepper struct {
	k      *recurrent
	p      params
	gx, gh []float64 // per-gate pre-activations from x and from h
	tmp    []float64
}

func newStep(k *recurrent, p params) *stepper {
	G := cellInfo[k.kind].gates
	return &stepper{k: k, p: p, gx: make([]float64, G*p.hidden), gh: make([]float64, G*p.hidden), tmp: make([]float64, p.hidden)}
}

// affine computes out[j] = bias[j] + Σ_i m[(row0+j)*cols + i] * v[i] for rows of m.
func affine(out, m, v, bias []float64, row0, cols int) {
	for j := range out {
		row := m[(row0+j)*cols : (row0+j+1)*cols]
		s := bias[row0+j]
		for i, mv := range row {
			s += mv * v[i]
		}
		out[j] = s
	}
}

func (s *stepper) clip(v float64) float64 {
	if c := s.k.clip; c > 0 {
		return math.Max(-c, math.Min(c, v))
	}
	return v
}

func (s *stepper) step(x, h, c []float64) {
	p, H := s.p, s.p.hidden
	affine(s.gx, p.w, x, p.wb, 0, p.input)
	switch s.k.kind {
	case cellRNN:
		affine(s.gh, p.r, h, p.rb, 0, H)
		f := p.acts[0]
		for j := 0; j < H; j++ {
			h[j] = f.apply(s.clip(s.gx[j] + s.gh[j]))
		}
	case cellGRU:
		// Gates in order z (update), r (reset), h (hidden).
		f, g := p.acts[0], p.acts[1]
		affine(s.gh[:2*H], p.r, h, p.rb, 0, H)
		z, rg := make([]float64, H), make([]float64, H)
		for j := 0; j < H; j++ {
			z[j] = f.apply(s.clip(s.gx[j] + s.gh[j]))
			rg[j] = f.apply(s.clip(s.gx[H+j] + s.gh[H+j]))
		}
		hh := s.gh[2*H:]
		if s.k.linearReset {
			affine(hh, p.r, h, p.rb, 2*H, H)
			for j := range hh {
				hh[j] *= rg[j]
			}
		} else {
			for j := range s.tmp {
				s.tmp[j] = rg[j] * h[j]
			}
			affine(hh, p.r, s.tmp, p.rb, 2*H, H)
		}
		for j := 0; j < H; j++ {
			cand := g.apply(s.clip(s.gx[2*H+j] + hh[j]))
			h[j] = (1-z[j])*cand + z[j]*h[j]
		}
	case cellLSTM:
		// Gates in order i (input), o (output), f (forget), c (cell); P is i, o, f.
		f, g, hAct := p.acts[0], p.acts[1], p.acts[2]
		affine(s.gh, p.r, h, p.rb, 0, H)
		peep := func(gate, j int) float64 {
			if p.peep == nil {
				return 0
			}
			return p.peep[gate*H+j]
		}
		for j := 0; j < H; j++ {
			in := f.apply(s.clip(s.gx[j] + s.gh[j] + peep(0, j)*c[j]))
			var fg float64
			if s.k.inputForget {
				fg = 1 - in
			} else {
				fg = f.apply(s.clip(s.gx[2*H+j] + s.gh[2*H+j] + peep(2, j)*c[j]))
			}
			cell := g.apply(s.clip(s.gx[3*H+j] + s.gh[3*H+j]))
			c[j] = fg*c[j] + in*cell
			o := f.apply(s.clip(s.gx[H+j] + s.gh[H+j] + peep(1, j)*c[j]))
			s.tmp[j] = o * hAct.apply(c[j])
		}
		copy(h, s.tmp)
	}
}

// permute transposes a row-major array of shape dims so that output axis i is input axis
// perm[i].
func permute(v []float64, dims, perm []int) ([]float64, error) {
	out, err := kernel.MakeScratch[float64](len(v))
	if err != nil {
		return nil, err
	}
	inStride := make([]int, len(dims))
	st := 1
	for i := len(dims) - 1; i >= 0; i-- {
		inStride[i] = st
		st *= dims[i]
	}
	outDims := make([]int, len(perm))
	for i, a := range perm {
		outDims[i] = dims[a]
	}
	idx := make([]int, len(perm))
	for o := range out {
		off := 0
		for i, a := range perm {
			off += idx[i] * inStride[a]
		}
		out[o] = v[off]
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < outDims[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out, nil
}

// zeros returns a zeroed buffer of the product of dims, refusing a product that overflows
// or does not fit the memory budget.
func zeros(dims ...int) ([]float64, error) {
	shape := make([]int64, len(dims))
	for i, d := range dims {
		shape[i] = int64(d)
	}
	return kernel.MakeScratchShaped[float64](shape)
}

// widen converts a float tensor to float64 values, naming the input in errors.
func widen(t *kernel.Tensor, name string) ([]float64, error) {
	v, err := kernel.FloatsOf(t)
	if err != nil {
		return nil, fmt.Errorf("input %s: %w", name, err)
	}
	return v, nil
}

func widenShaped(t *kernel.Tensor, name string, shape []int64) ([]float64, error) {
	if !kernel.SameShape(t.Shape, shape) {
		return nil, fmt.Errorf("input %s has shape %v, want %v", name, t.Shape, shape)
	}
	return widen(t, name)
}

// attrStrings returns a strings attribute as Go strings, or nil when absent.
func attrStrings(n *ir.Node, name string) []string {
	if a := n.Attr(name); a != nil && a.Type == ir.AttrStrings {
		return a.Strings
	}
	return nil
}

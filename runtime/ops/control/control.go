package control

import (
	"fmt"
	"unsafe"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "If", SinceVersion: 1, New: newIf},
		kernel.KernelDef{Op: "Loop", SinceVersion: 1, New: newLoop},
		kernel.KernelDef{Op: "Scan", SinceVersion: 8, EndVersion: 8, New: newScan8},
		kernel.KernelDef{Op: "Scan", SinceVersion: 9, New: newScan},
		kernel.KernelDef{Op: "SequenceMap", SinceVersion: 17, New: newSequenceMap},
	)
}

// compileAttr compiles the graph attribute name of the node.
func compileAttr(info *kernel.NodeInfo, name string) (kernel.Program, *ir.Graph, error) {
	a := info.Node.Attr(name)
	if a == nil || a.Type != ir.AttrGraph || a.Graph == nil {
		return nil, nil, fmt.Errorf("graph attribute %q is missing", name)
	}
	if info.Compile == nil {
		return nil, nil, fmt.Errorf("the session cannot compile subgraphs")
	}
	p, err := info.Compile(a.Graph)
	if err != nil {
		return nil, nil, fmt.Errorf("attribute %s: %w", name, err)
	}
	return p, a.Graph, nil
}

type ifKernel struct{ then, els kernel.Program }

func newIf(info *kernel.NodeInfo) (kernel.Kernel, error) {
	then, _, err := compileAttr(info, "then_branch")
	if err != nil {
		return nil, err
	}
	els, _, err := compileAttr(info, "else_branch")
	if err != nil {
		return nil, err
	}
	return &ifKernel{then, els}, nil
}

func (k *ifKernel) Run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("condition is missing")
	}
	c, err := scalarBool(in[0])
	if err != nil {
		return nil, fmt.Errorf("condition: %w", err)
	}
	if c {
		outs, err := k.then.Run(ctx, nil)
		if err != nil {
			return nil, kernel.WrapPath("then_branch", err)
		}
		return outs, nil
	}
	outs, err := k.els.Run(ctx, nil)
	if err != nil {
		return nil, kernel.WrapPath("else_branch", err)
	}
	return outs, nil
}

// loopKernel runs Loop: body(iteration, cond, carried...) -> (cond, carried..., scans...).
type loopKernel struct {
	body     kernel.Program
	nCarried int
	nScan    int
	// scan output types, for the empty result of a loop that runs zero times
	scanTypes []*ir.Type
}

func newLoop(info *kernel.NodeInfo) (kernel.Kernel, error) {
	body, g, err := compileAttr(info, "body")
	if err != nil {
		return nil, err
	}
	nCarried := len(info.Node.Inputs()) - 2
	if nCarried < 0 {
		nCarried = 0
	}
	if len(g.Inputs) != nCarried+2 {
		return nil, fmt.Errorf("body has %d inputs, want %d (iteration, condition and %d carried values)", len(g.Inputs), nCarried+2, nCarried)
	}
	nScan := len(g.Outputs) - 1 - nCarried
	if nScan < 0 {
		return nil, fmt.Errorf("body has %d outputs, want at least %d", len(g.Outputs), 1+nCarried)
	}
	k := &loopKernel{body: body, nCarried: nCarried, nScan: nScan}
	for i := 0; i < nScan; i++ {
		var t *ir.Type
		if j := nCarried + i; j < len(info.OutputTypes) {
			t = info.OutputTypes[j]
		}
		if t == nil {
			t = g.Outputs[1+nCarried+i].Type
		}
		k.scanTypes = append(k.scanTypes, t)
	}
	return k, nil
}

func (k *loopKernel) Run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	get := func(i int) *kernel.Tensor {
		if i < len(in) {
			return in[i]
		}
		return nil
	}
	hasTrip, hasCond := get(0) != nil, get(1) != nil
	var trip int64
	cond := true
	var err error
	if hasTrip {
		if trip, err = scalarInt64(get(0)); err != nil {
			return nil, fmt.Errorf("M: %w", err)
		}
	}
	if hasCond {
		if cond, err = scalarBool(get(1)); err != nil {
			return nil, fmt.Errorf("cond: %w", err)
		}
	}
	carried := make([]*kernel.Tensor, k.nCarried)
	for i := range carried {
		carried[i] = get(2 + i)
	}
	scans := make([][]*kernel.Tensor, k.nScan)
	args := make([]*kernel.Tensor, 2+k.nCarried)
	for i := int64(0); (!hasTrip || i < trip) && (!hasCond || cond); i++ {
		if err := iterationCheck(ctx, k.nScan); err != nil {
			return nil, err
		}
		args[0] = int64Scalar(i)
		args[1] = boolScalar(cond)
		copy(args[2:], carried)
		outs, err := k.body.Run(ctx, args)
		if err != nil {
			return nil, kernel.WrapPath(fmt.Sprintf("body, iteration %d", i), err)
		}
		if hasCond {
			if cond, err = scalarBool(outs[0]); err != nil {
				return nil, fmt.Errorf("body, iteration %d: condition output: %w", i, err)
			}
		}
		copy(carried, outs[1:1+k.nCarried])
		for j := range scans {
			scans[j] = append(scans[j], outs[1+k.nCarried+j])
		}
	}
	result := append([]*kernel.Tensor{}, carried...)
	for j, parts := range scans {
		t, err := k.stackScan(ctx, parts, j)
		if err != nil {
			return nil, fmt.Errorf("scan output %d: %w", j, err)
		}
		result = append(result, t)
	}
	return result, nil
}

// stackScan joins a scan output's per-iteration values: tensors are stacked along a new
// first axis; sequences (Loop-13+) are concatenated into one sequence.
func (k *loopKernel) stackScan(ctx *kernel.Context, parts []*kernel.Tensor, j int) (*kernel.Tensor, error) {
	if len(parts) > 0 && parts[0].Kind == kernel.SequenceValue {
		seq := &kernel.Tensor{Kind: kernel.SequenceValue, SeqType: parts[0].SeqType}
		for _, p := range parts {
			seq.Seq = append(seq.Seq, p.Seq...)
		}
		return seq, nil
	}
	dt, shape := ir.Float, []int64{}
	if t := k.scanTypes[j]; t != nil && t.Kind == ir.TensorKind {
		dt = t.Elem
		// The per-iteration shape is the declared one without its first (iteration) axis.
		if dims, ok := t.StaticDims(); ok && len(dims) > 0 {
			shape = dims[1:]
		}
	}
	return stack(ctx, parts, 0, dt, shape)
}

// scanKernel is Scan-9+.
type scanKernel struct {
	body                kernel.Program
	nState, nIn, nOut   int
	inAxes, outAxes     []int64
	inReverse, outRever []bool
}

func newScan(info *kernel.NodeInfo) (kernel.Kernel, error) {
	body, g, err := compileAttr(info, "body")
	if err != nil {
		return nil, err
	}
	n := info.Node
	m := int(n.AttrInt("num_scan_inputs", -1))
	if m < 0 {
		return nil, fmt.Errorf("attribute num_scan_inputs is missing")
	}
	nState := len(n.Inputs()) - m
	if nState < 0 || len(g.Inputs) != nState+m {
		return nil, fmt.Errorf("%d inputs and num_scan_inputs %d do not match the body's %d inputs", len(n.Inputs()), m, len(g.Inputs))
	}
	k := &scanKernel{body: body, nState: nState, nIn: m, nOut: len(g.Outputs) - nState}
	if k.nOut < 0 {
		return nil, fmt.Errorf("body has %d outputs, fewer than the %d states", len(g.Outputs), nState)
	}
	k.inAxes = n.AttrInts("scan_input_axes", make([]int64, m))
	k.outAxes = n.AttrInts("scan_output_axes", make([]int64, k.nOut))
	dirs := func(name string, count int) ([]bool, error) {
		d := n.AttrInts(name, make([]int64, count))
		if len(d) != count {
			return nil, fmt.Errorf("attribute %s has %d entries, want %d", name, len(d), count)
		}
		out := make([]bool, count)
		for i, v := range d {
			out[i] = v == 1
		}
		return out, nil
	}
	if k.inReverse, err = dirs("scan_input_directions", m); err != nil {
		return nil, err
	}
	if k.outRever, err = dirs("scan_output_directions", k.nOut); err != nil {
		return nil, err
	}
	if len(k.inAxes) != m || len(k.outAxes) != k.nOut {
		return nil, fmt.Errorf("scan_input_axes / scan_output_axes have the wrong length")
	}
	return k, nil
}

func (k *scanKernel) Run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	return k.run(ctx, in)
}

func (k *scanKernel) run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(in) != k.nState+k.nIn {
		return nil, fmt.Errorf("%d inputs, want %d", len(in), k.nState+k.nIn)
	}
	state := append([]*kernel.Tensor{}, in[:k.nState]...)
	scanIn := in[k.nState:]
	axes := make([]int, k.nIn)
	seqLen := -1
	for i, t := range scanIn {
		if t == nil {
			return nil, fmt.Errorf("scan input %d is missing", i)
		}
		a, err := kernel.NormalizeAxis(k.inAxes[i], len(t.Shape))
		if err != nil {
			return nil, fmt.Errorf("scan input %d: %w", i, err)
		}
		axes[i] = a
		l := int(t.Shape[a])
		if seqLen >= 0 && l != seqLen {
			return nil, fmt.Errorf("scan input %d has sequence length %d, earlier ones %d", i, l, seqLen)
		}
		seqLen = l
	}
	if seqLen < 0 {
		seqLen = 0
	}
	outs := make([][]*kernel.Tensor, k.nOut)
	args := make([]*kernel.Tensor, k.nState+k.nIn)
	for t := 0; t < seqLen; t++ {
		if err := iterationCheck(ctx, k.nIn+k.nOut); err != nil {
			return nil, err
		}
		copy(args, state)
		for i, x := range scanIn {
			pos := t
			if k.inReverse[i] {
				pos = seqLen - 1 - t
			}
			s, err := sliceAxis(ctx, x, axes[i], pos)
			if err != nil {
				return nil, err
			}
			args[k.nState+i] = s
		}
		res, err := k.body.Run(ctx, args)
		if err != nil {
			return nil, kernel.WrapPath(fmt.Sprintf("body, iteration %d", t), err)
		}
		copy(state, res[:k.nState])
		for j := range outs {
			outs[j] = append(outs[j], res[k.nState+j])
		}
	}
	result := append([]*kernel.Tensor{}, state...)
	for j, parts := range outs {
		if k.outRever[j] {
			for a, b := 0, len(parts)-1; a < b; a, b = a+1, b-1 {
				parts[a], parts[b] = parts[b], parts[a]
			}
		}
		rank := 1
		if len(parts) > 0 {
			rank = len(parts[0].Shape) + 1
		}
		axis, err := kernel.NormalizeAxis(k.outAxes[j], rank)
		if err != nil {
			return nil, fmt.Errorf("scan output %d: %w", j, err)
		}
		t, err := stack(ctx, parts, axis, ir.Float, nil)
		if err != nil {
			return nil, fmt.Errorf("scan output %d: %w", j, err)
		}
		result = append(result, t)
	}
	return result, nil
}

// scan8 is Scan-8: inputs carry a leading batch axis and an optional first input
// sequence_lens; each batch entry is scanned along axis 1 independently.
type scan8 struct {
	inner *scanKernel
}

func newScan8(info *kernel.NodeInfo) (kernel.Kernel, error) {
	body, g, err := compileAttr(info, "body")
	if err != nil {
		return nil, err
	}
	n := info.Node
	m := int(n.AttrInt("num_scan_inputs", -1))
	nState := len(n.Inputs()) - 1 - m
	if m < 0 || nState < 0 || len(g.Inputs) != nState+m {
		return nil, fmt.Errorf("inputs do not match num_scan_inputs %d and the body's %d inputs", m, len(g.Inputs))
	}
	k := &scanKernel{body: body, nState: nState, nIn: m, nOut: len(g.Outputs) - nState}
	k.inAxes = make([]int64, m)
	k.outAxes = make([]int64, k.nOut)
	k.inReverse = make([]bool, m)
	k.outRever = make([]bool, k.nOut)
	for i, d := range n.AttrInts("directions", nil) {
		if i < m {
			k.inReverse[i] = d == 1
		}
	}
	return &scan8{k}, nil
}

func (s *scan8) Run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	k := s.inner
	if len(in) != 1+k.nState+k.nIn {
		return nil, fmt.Errorf("%d inputs, want %d", len(in), 1+k.nState+k.nIn)
	}
	if in[0] != nil {
		return nil, fmt.Errorf("sequence_lens is not supported")
	}
	vals := in[1:]
	if len(vals) == 0 || vals[0] == nil || len(vals[0].Shape) == 0 {
		return nil, fmt.Errorf("inputs need a batch axis")
	}
	batch := int(vals[0].Shape[0])
	per := make([][]*kernel.Tensor, k.nState+k.nOut)
	for b := 0; b < batch; b++ {
		if err := iterationCheck(ctx, len(vals)+len(per)); err != nil {
			return nil, err
		}
		args := make([]*kernel.Tensor, len(vals))
		for i, v := range vals {
			if v == nil || len(v.Shape) == 0 || int(v.Shape[0]) != batch {
				return nil, fmt.Errorf("input %d does not have batch size %d", i+1, batch)
			}
			sl, err := sliceAxis(ctx, v, 0, b)
			if err != nil {
				return nil, err
			}
			args[i] = sl
		}
		res, err := k.run(ctx, args)
		if err != nil {
			return nil, fmt.Errorf("batch %d: %w", b, err)
		}
		for j, r := range res {
			per[j] = append(per[j], r)
		}
	}
	out := make([]*kernel.Tensor, len(per))
	for j, parts := range per {
		t, err := stack(ctx, parts, 0, ir.Float, nil)
		if err != nil {
			return nil, fmt.Errorf("output %d: %w", j, err)
		}
		out[j] = t
	}
	return out, nil
}

// sequenceMap applies its body to each element of the input sequence (and the matching
// elements of additional sequence inputs; tensor inputs are passed whole).
type sequenceMap struct {
	body kernel.Program
	nOut int
}

func newSequenceMap(info *kernel.NodeInfo) (kernel.Kernel, error) {
	body, g, err := compileAttr(info, "body")
	if err != nil {
		return nil, err
	}
	return &sequenceMap{body: body, nOut: len(g.Outputs)}, nil
}

func (k *sequenceMap) Run(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
	if len(in) == 0 || in[0] == nil || in[0].Kind != kernel.SequenceValue {
		return nil, fmt.Errorf("input 0 must be a sequence")
	}
	n := len(in[0].Seq)
	for i, t := range in {
		if t != nil && t.Kind == kernel.SequenceValue && len(t.Seq) != n {
			return nil, fmt.Errorf("sequence input %d has %d elements, input 0 has %d", i, len(t.Seq), n)
		}
	}
	outs := make([]*kernel.Tensor, k.nOut)
	for j := range outs {
		outs[j] = &kernel.Tensor{Kind: kernel.SequenceValue, Seq: []*kernel.Tensor{}}
	}
	args := make([]*kernel.Tensor, len(in))
	for e := 0; e < n; e++ {
		if err := iterationCheck(ctx, k.nOut); err != nil {
			return nil, err
		}
		for i, t := range in {
			if t != nil && t.Kind == kernel.SequenceValue {
				args[i] = t.Seq[e]
			} else {
				args[i] = t
			}
		}
		res, err := k.body.Run(ctx, args)
		if err != nil {
			return nil, kernel.WrapPath(fmt.Sprintf("body, element %d", e), err)
		}
		for j, r := range res {
			outs[j].Seq = append(outs[j].Seq, r)
			outs[j].SeqType = r.DType
		}
	}
	return outs, nil
}

// iterationCheck runs before each body run of Loop, Scan and SequenceMap. It stops a run
// whose context is done, and weighs the values an iteration keeps (kept of them: scan
// outputs, slices of scan inputs) against the memory budget. The budget sees tensor data
// only, and an empty tensor has none: a body run once per index of a huge axis of an empty
// input, or 2^62 times by a trip count, would grow the heap with headers unchecked.
func iterationCheck(ctx *kernel.Context, kept int) error {
	if ctx != nil && ctx.Ctx != nil {
		if err := ctx.Ctx.Err(); err != nil {
			return err
		}
	}
	return kernel.Reserve(int64(kept) * keptValueBytes)
}

// keptValueBytes is what one kept value costs besides its data: its header, a small shape
// and the pointer that holds it.
const keptValueBytes = int64(unsafe.Sizeof(kernel.Tensor{})) + 4*8 + 8

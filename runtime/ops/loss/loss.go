package loss

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "NegativeLogLikelihoodLoss", SinceVersion: 12, Types: floatTypes,
			New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newLoss(info, false) }},
		kernel.KernelDef{Op: "SoftmaxCrossEntropyLoss", SinceVersion: 12, Types: floatTypes,
			New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newLoss(info, true) }},
	)
}

// reduction is how per-sample losses are combined.
type reduction int

const (
	reduceNone reduction = iota
	reduceSum
	reduceMean
)

// lossKernel serves both operators: SoftmaxCrossEntropyLoss is NegativeLogLikelihoodLoss
// applied to the log-softmax of its scores over the class axis.
type lossKernel struct {
	node      *ir.Node
	softmax   bool
	reduction reduction
	// ignore is the ignore_index attribute; hasIgnore says it was given (no target value
	// is ignored otherwise).
	ignore    int64
	hasIgnore bool
	// wantLogProb says the node asks for SoftmaxCrossEntropyLoss's second output.
	wantLogProb bool
}

func newLoss(info *kernel.NodeInfo, softmax bool) (kernel.Kernel, error) {
	n := info.Node
	k := &lossKernel{node: n, softmax: softmax}
	k.wantLogProb = softmax && n.Output(1) != nil
	switch r := n.AttrString("reduction", "mean"); r {
	case "none":
		k.reduction = reduceNone
	case "sum":
		k.reduction = reduceSum
	case "mean":
		k.reduction = reduceMean
	default:
		return nil, fmt.Errorf("%s: reduction %q is not one of none, sum, mean", n.Describe(), r)
	}
	if a := n.Attr("ignore_index"); a != nil {
		k.ignore, k.hasIgnore = a.Int, true
	}
	return k, nil
}

func (k *lossKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	outs, err := k.run(ctx, inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	return outs, nil
}

func (k *lossKernel) run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x, target := kernel.Input(inputs, 0), kernel.Input(inputs, 1)
	if x == nil || target == nil {
		return nil, fmt.Errorf("inputs scores and target are required")
	}
	if len(x.Shape) < 2 {
		return nil, fmt.Errorf("scores must have shape (N, C, ...), got %v", x.Shape)
	}
	n, c := int(x.Shape[0]), int(x.Shape[1])
	wantTarget := append([]int64{x.Shape[0]}, x.Shape[2:]...)
	if !kernel.SameShape(target.Shape, wantTarget) {
		return nil, fmt.Errorf("target shape %v does not match scores shape %v (want %v)", target.Shape, x.Shape, wantTarget)
	}
	xs, err := kernel.FloatsOf(x)
	if err != nil {
		return nil, fmt.Errorf("scores: %w", err)
	}
	labels, err := kernel.Int64sOf(target)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	var weights []float64
	if w := kernel.Input(inputs, 2); w != nil {
		if len(w.Shape) != 1 || int(w.Shape[0]) != c {
			return nil, fmt.Errorf("weight shape %v, want [%d]", w.Shape, c)
		}
		if weights, err = kernel.FloatsOf(w); err != nil {
			return nil, fmt.Errorf("weight: %w", err)
		}
	}
	inner := 1
	for _, d := range x.Shape[2:] {
		inner *= int(d)
	}
	logp := xs
	if k.softmax {
		if logp, err = logSoftmax(xs, n, c, inner); err != nil {
			return nil, err
		}
	}
	// One loss per target element: the target exists, but its float64 losses are new.
	losses, err := kernel.MakeScratch[float64](len(labels))
	if err != nil {
		return nil, err
	}
	var sum, weightSum float64
	// Without targets there is nothing to add up, and n may then be anything (the other
	// axes of an empty target).
	for b := 0; b < n && len(labels) > 0; b++ {
		for i := 0; i < inner; i++ {
			s := b*inner + i
			label := labels[s]
			if k.hasIgnore && label == k.ignore {
				continue // loss 0, weight 0
			}
			if label < 0 || label >= int64(c) {
				return nil, fmt.Errorf("target value %d at sample %d is outside [0, %d)", label, s, c)
			}
			w := 1.0
			if weights != nil {
				w = weights[label]
			}
			l := -logp[(b*c+int(label))*inner+i] * w
			losses[s] = l
			sum += l
			weightSum += w
		}
	}
	outShape, outVals := wantTarget, losses
	switch k.reduction {
	case reduceSum:
		outShape, outVals = []int64{}, []float64{sum}
	case reduceMean:
		// 0/0 (every sample ignored) is NaN, as in the reference implementation.
		outShape, outVals = []int64{}, []float64{sum / weightSum}
	}
	out, err := kernel.FromFloat64s(ctx, x.DType, outShape, outVals)
	if err != nil {
		return nil, err
	}
	outs := []*kernel.Tensor{out}
	if k.softmax && k.wantLogProb {
		logProb, err := kernel.FromFloat64s(ctx, x.DType, x.Shape, logp)
		if err != nil {
			return nil, err
		}
		outs = append(outs, logProb)
	}
	return outs, nil
}

// logSoftmax computes log(softmax(x)) over the middle axis of an n×c×inner array, shifting
// by the maximum first so that large scores do not overflow.
func logSoftmax(x []float64, n, c, inner int) ([]float64, error) {
	out, err := kernel.MakeScratch[float64](len(x))
	if err != nil {
		return nil, err
	}
	for b := 0; b < n && len(x) > 0; b++ { // n may be anything when x is empty
		base := b * c * inner
		for i := 0; i < inner; i++ {
			m := math.Inf(-1)
			for j := 0; j < c; j++ {
				m = math.Max(m, x[base+j*inner+i])
			}
			var s float64
			for j := 0; j < c; j++ {
				s += math.Exp(x[base+j*inner+i] - m)
			}
			lse := m + math.Log(s)
			for j := 0; j < c; j++ {
				out[base+j*inner+i] = x[base+j*inner+i] - lse
			}
		}
	}
	return out, nil
}

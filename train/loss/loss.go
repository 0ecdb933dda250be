package loss

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Batch is what a loss sees of one training batch besides the model's tensors.
type Batch struct {
	// Labels holds one class index per row, or is nil for unlabelled data.
	Labels []int64
	// Targets holds reference tensors by name: a teacher's logits or features for this
	// batch.
	Targets map[string]*kernel.Tensor
}

// Values gives the tensors of a forward pass by name (a *grad.Tape).
type Values interface {
	Value(name string) *kernel.Tensor
}

// Loss is a training objective or one term of it.
type Loss interface {
	// Tensors names the model tensors the loss reads: the targets a grad.Program must
	// keep and differentiate.
	Tensors() []string
	// Eval returns the loss over the batch and adds dLoss/dTensor into grads, one slice
	// per tensor read, allocating the slice when grads has none yet.
	Eval(v Values, b *Batch, grads map[string][]float32) (float64, error)
}

// Term is a weighted loss.
type Term struct {
	Weight float64
	Loss   Loss
}

// Weighted is Σ Weight·Loss over its terms.
type Weighted []Term

// Tensors lists every tensor the terms read, each once, in order.
func (w Weighted) Tensors() []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range w {
		for _, name := range t.Loss.Tensors() {
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out
}

// Eval implements Loss.
func (w Weighted) Eval(v Values, b *Batch, grads map[string][]float32) (float64, error) {
	total, _, err := w.EvalTerms(v, b, grads)
	return total, err
}

// EvalTerms is Eval that also returns each term's unweighted value, for logs.
func (w Weighted) EvalTerms(v Values, b *Batch, grads map[string][]float32) (float64, []float64, error) {
	var total float64
	terms := make([]float64, len(w))
	for i, t := range w {
		if t.Weight == 0 {
			continue
		}
		part := map[string][]float32{}
		val, err := t.Loss.Eval(v, b, part)
		if err != nil {
			return 0, nil, err
		}
		terms[i] = val
		total += t.Weight * val
		for name, g := range part {
			dst := ensure(grads, name, len(g))
			for k, x := range g {
				dst[k] += float32(t.Weight) * x
			}
		}
	}
	return total, terms, nil
}

// ensure returns grads[name], allocating n zeros when absent.
func ensure(grads map[string][]float32, name string, n int) []float32 {
	g, ok := grads[name]
	if !ok || len(g) != n {
		g = make([]float32, n)
		grads[name] = g
	}
	return g
}

// tensor fetches a float tensor of the pass, as rows of equal length.
func tensor(v Values, name string) (data []float32, rows, cols int, err error) {
	t := v.Value(name)
	if t == nil {
		return nil, 0, 0, fmt.Errorf("loss: the forward pass has no tensor %q", name)
	}
	d, ok := t.Data.([]float32)
	if !ok {
		return nil, 0, 0, fmt.Errorf("loss: tensor %q is %s, not float", name, t.DType)
	}
	rows = 1
	if len(t.Shape) > 0 {
		rows = int(t.Shape[0])
	}
	if rows == 0 {
		return nil, 0, 0, fmt.Errorf("loss: tensor %q is empty (shape %v)", name, t.Shape)
	}
	return d, rows, len(d) / rows, nil
}

// MissingTargetError reports a loss whose reference tensor the batch lacks.
type MissingTargetError struct{ Target, Tensor string }

func (e *MissingTargetError) Error() string {
	return fmt.Sprintf("loss: batch has no target %q (for %q)", e.Target, e.Tensor)
}

// target fetches a reference tensor of the batch, which must have want elements.
func target(b *Batch, name, of string, want int) ([]float32, error) {
	t := b.Targets[name]
	if t == nil {
		return nil, &MissingTargetError{Target: name, Tensor: of}
	}
	d, ok := t.Data.([]float32)
	if !ok {
		return nil, fmt.Errorf("loss: target %q is %s, not float", name, t.DType)
	}
	if len(d) != want {
		return nil, fmt.Errorf("loss: target %q has %d elements (shape %v), tensor %q has %d", name, len(d), t.Shape, of, want)
	}
	return d, nil
}

// paired fetches a model tensor, the batch target it is compared with, and its gradient
// slice.
func paired(v Values, b *Batch, grads map[string][]float32, name, targetName string) (x, t, g []float32, rows, cols int, err error) {
	if x, rows, cols, err = tensor(v, name); err != nil {
		return
	}
	if t, err = target(b, targetName, name, len(x)); err != nil {
		return
	}
	return x, t, ensure(grads, name, len(x)), rows, cols, nil
}

// logSoftmax writes log(softmax(x/temp)) of one row into out.
func logSoftmax(x []float32, temp float64, out []float64) {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v)/temp)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v)/temp - mx)
	}
	ls := math.Log(s) + mx
	for i, v := range x {
		out[i] = float64(v)/temp - ls
	}
}

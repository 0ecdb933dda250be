package loss

import (
	"fmt"
	"math"
)

// CrossEntropy is the mean cross-entropy between softmax(Logits) and the batch labels,
// with label smoothing ε as PyTorch defines it: the target puts 1−ε on the label and
// spreads ε evenly over all classes.
type CrossEntropy struct {
	Logits         string
	LabelSmoothing float64
}

// Tensors implements Loss.
func (l CrossEntropy) Tensors() []string { return []string{l.Logits} }

// Eval implements Loss.
func (l CrossEntropy) Eval(v Values, b *Batch, grads map[string][]float32) (float64, error) {
	x, rows, classes, err := tensor(v, l.Logits)
	if err != nil {
		return 0, err
	}
	if b.Labels == nil {
		return 0, fmt.Errorf("loss: cross-entropy on %q needs labels; the data has none", l.Logits)
	}
	if len(b.Labels) != rows {
		return 0, fmt.Errorf("loss: %d labels for %d rows of %q", len(b.Labels), rows, l.Logits)
	}
	eps := l.LabelSmoothing
	g := ensure(grads, l.Logits, len(x))
	lp := make([]float64, classes)
	var total float64
	for r := 0; r < rows; r++ {
		label := b.Labels[r]
		if label < 0 || int(label) >= classes {
			return 0, fmt.Errorf("loss: label %d of row %d is outside the %d classes of %q", label, r, classes, l.Logits)
		}
		row := x[r*classes : (r+1)*classes]
		logSoftmax(row, 1, lp)
		var smooth float64
		for _, v := range lp {
			smooth -= v
		}
		total += (1-eps)*-lp[label] + eps*smooth/float64(classes)
		for k := range row {
			want := eps / float64(classes)
			if int64(k) == label {
				want += 1 - eps
			}
			g[r*classes+k] += float32((math.Exp(lp[k]) - want) / float64(rows))
		}
	}
	return total / float64(rows), nil
}

// KLDiv is knowledge distillation's soft-target loss: T²·KL(softmax(teacher/T) ‖
// softmax(student/T)), averaged over the batch (PyTorch's kl_div with batchmean, times
// T², which keeps the gradient's scale independent of T).
type KLDiv struct {
	// Logits is the student tensor, Teacher the name of the batch target holding the
	// teacher's logits of the same shape.
	Logits, Teacher string
	Temperature     float64
}

// Tensors implements Loss.
func (l KLDiv) Tensors() []string { return []string{l.Logits} }

// Eval implements Loss.
func (l KLDiv) Eval(v Values, b *Batch, grads map[string][]float32) (float64, error) {
	temp := l.Temperature
	if temp <= 0 {
		return 0, fmt.Errorf("loss: temperature %g must be positive", temp)
	}
	s, t, g, rows, classes, err := paired(v, b, grads, l.Logits, l.Teacher)
	if err != nil {
		return 0, err
	}
	ls, lt := make([]float64, classes), make([]float64, classes)
	var total float64
	for r := 0; r < rows; r++ {
		logSoftmax(s[r*classes:(r+1)*classes], temp, ls)
		logSoftmax(t[r*classes:(r+1)*classes], temp, lt)
		for k := range ls {
			pt := math.Exp(lt[k])
			total += pt * (lt[k] - ls[k])
			// d/ds of T²·KL = T²·(p_s − p_t)/T.
			g[r*classes+k] += float32(temp * (math.Exp(ls[k]) - pt) / float64(rows))
		}
	}
	return temp * temp * total / float64(rows), nil
}

// MSE is the mean squared error between a model tensor and a batch target of the same
// shape, averaged over all elements.
type MSE struct {
	Tensor, Target string
}

// Tensors implements Loss.
func (l MSE) Tensors() []string { return []string{l.Tensor} }

// Eval implements Loss.
func (l MSE) Eval(v Values, b *Batch, grads map[string][]float32) (float64, error) {
	x, t, g, _, _, err := paired(v, b, grads, l.Tensor, l.Target)
	if err != nil {
		return 0, err
	}
	n := float64(len(x))
	var total float64
	for i, xv := range x {
		d := float64(xv) - float64(t[i])
		total += d * d
		g[i] += float32(2 * d / n)
	}
	return total / n, nil
}

// Cosine is 1 − cos(x_i, t_i) averaged over the rows i of a model tensor and a batch
// target of the same shape, each row flattened.
type Cosine struct {
	Tensor, Target string
}

// Tensors implements Loss.
func (l Cosine) Tensors() []string { return []string{l.Tensor} }

// Eval implements Loss.
func (l Cosine) Eval(v Values, b *Batch, grads map[string][]float32) (float64, error) {
	x, t, g, rows, cols, err := paired(v, b, grads, l.Tensor, l.Target)
	if err != nil {
		return 0, err
	}
	const eps = 1e-8 // PyTorch's cosine_similarity floor on the norms
	var total float64
	for r := 0; r < rows; r++ {
		xr, tr := x[r*cols:(r+1)*cols], t[r*cols:(r+1)*cols]
		var xt, xx, tt float64
		for i := range xr {
			xt += float64(xr[i]) * float64(tr[i])
			xx += float64(xr[i]) * float64(xr[i])
			tt += float64(tr[i]) * float64(tr[i])
		}
		nx, nt := math.Max(math.Sqrt(xx), eps), math.Max(math.Sqrt(tt), eps)
		cos := xt / (nx * nt)
		total += 1 - cos
		// d(1 − cos)/dx = −(t/(|x||t|) − cos·x/|x|²), over the batch mean.
		for i := range xr {
			d := float64(tr[i])/(nx*nt) - cos*float64(xr[i])/(nx*nx)
			g[r*cols+i] -= float32(d / float64(rows))
		}
	}
	return total / float64(rows), nil
}

package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/train/data"
	"github.com/whittle-ml/whittle/train/grad"
	"github.com/whittle-ml/whittle/train/loss"
	"github.com/whittle-ml/whittle/train/optim"
)

// Options configure a Trainer.
type Options struct {
	// Loss is the objective. nil means cross-entropy on Logits with labels.
	Loss loss.Loss
	// Logits names the class-score tensor accuracy is counted on: the first graph output
	// when empty.
	Logits string
	// Train, when not empty, limits training to the float initializers whose names match
	// one of its globs (* matches any run of characters); Freeze excludes matches. With
	// both empty the default set trains: every float initializer of more than one element
	// feeding a differentiable input (grad.Config.Trainable).
	Train, Freeze []string
	// KeepMasks holds pruned weights (exact zeros in weights of rank 2 or more) at zero.
	KeepMasks bool
	// Optimizer defaults to SGD with momentum 0.9.
	Optimizer optim.Optimizer
	// LR is the base learning rate; Schedule scales it per step (constant when nil).
	LR       float64
	Schedule optim.Schedule
	// ClipNorm, when positive, clips the gradients' joint L2 norm.
	ClipNorm float64
	// Seed drives Dropout (data order and augmentation take the loader's seed).
	Seed uint64
	// FreezeBatchNorm keeps BatchNormalization's running statistics and normalizes with
	// them while training.
	FreezeBatchNorm bool
	// Threads bounds the goroutines training occupies (0: GOMAXPROCS); results are
	// reproducible for a given thread count.
	Threads int
}

// Trainer trains one model: a grad.Program with an objective and an optimizer. It is not
// safe for concurrent use.
type Trainer struct {
	prog   *grad.Program
	opts   Options
	logits string
	masks  *optim.Masks
	// step counts optimizer updates since training began (checkpoints carry it on); total
	// is the number of steps the schedule spans.
	step, total int
}

// ErrNonFinite reports a loss or gradient that became NaN or infinite.
var ErrNonFinite = errors.New("loss is not finite")

// New compiles m for training with opts. The model is not changed: Model returns a copy
// holding the trained weights.
func New(m *ir.Model, opts Options) (*Trainer, error) {
	if m == nil || m.Graph == nil || len(m.Graph.Outputs) == 0 {
		return nil, errors.New("train: model has no graph outputs")
	}
	t := &Trainer{opts: opts, logits: opts.Logits}
	if t.logits == "" {
		t.logits = m.Graph.Outputs[0].Name
	}
	if t.opts.Loss == nil {
		t.opts.Loss = loss.CrossEntropy{Logits: t.logits}
	}
	if t.opts.Optimizer == nil {
		t.opts.Optimizer = &optim.SGD{Momentum: 0.9}
	}
	if t.opts.Schedule == nil {
		t.opts.Schedule = optim.Constant{}
	}
	trainable, err := selector(opts.Train, opts.Freeze)
	if err != nil {
		return nil, err
	}
	targets := append([]string{t.logits}, t.opts.Loss.Tensors()...)
	p, err := grad.Build(m, grad.Config{Targets: dedup(targets), Trainable: trainable, Seed: opts.Seed,
		FreezeBatchNorm: opts.FreezeBatchNorm, Threads: opts.Threads})
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	t.prog = p
	if opts.KeepMasks {
		t.masks = optim.ZeroMasks(p.Params())
	}
	return t, nil
}

// selector turns --train/--freeze globs into a grad.Config.Trainable (nil: the default set).
func selector(train, freeze []string) (func(string, *ir.Tensor) bool, error) {
	if len(train) == 0 && len(freeze) == 0 {
		return nil, nil
	}
	compile := func(globs []string) ([]*regexp.Regexp, error) {
		var out []*regexp.Regexp
		for _, g := range globs {
			parts := strings.Split(g, "*")
			for i, p := range parts {
				parts[i] = regexp.QuoteMeta(p)
			}
			re, err := regexp.Compile("^" + strings.Join(parts, ".*") + "$")
			if err != nil {
				return nil, fmt.Errorf("train: glob %q: %w", g, err)
			}
			out = append(out, re)
		}
		return out, nil
	}
	tr, err := compile(train)
	if err != nil {
		return nil, err
	}
	fr, err := compile(freeze)
	if err != nil {
		return nil, err
	}
	matches := func(res []*regexp.Regexp, name string) bool {
		for _, re := range res {
			if re.MatchString(name) {
				return true
			}
		}
		return false
	}
	return func(name string, t *ir.Tensor) bool {
		if matches(fr, name) {
			return false
		}
		if len(tr) > 0 {
			return matches(tr, name)
		}
		n, err := t.NumElements()
		return err == nil && n > 1
	}, nil
}

func dedup(names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// Program returns the compiled program (parameters, state, forward passes).
func (t *Trainer) Program() *grad.Program { return t.prog }

// Logits names the tensor accuracy is counted on.
func (t *Trainer) Logits() string { return t.logits }

// Masked returns how many pruned weights KeepMasks holds at zero.
func (t *Trainer) Masked() int {
	if t.masks == nil {
		return 0
	}
	return t.masks.Masked()
}

// SetTotalSteps tells the schedule how many steps the run spans (Fit sets it).
func (t *Trainer) SetTotalSteps(n int) { t.total = n }

// Steps returns the number of optimizer updates made so far.
func (t *Trainer) Steps() int { return t.step }

// StepResult is what one training step measured.
type StepResult struct {
	Loss float64
	// Correct counts rows whose top-1 class is the label (0 without labels); Rows is the
	// batch size.
	Correct, Rows int
	LR            float64
	// GradNorm is the gradients' joint L2 norm before clipping (0 unless ClipNorm is set).
	GradNorm float64
}

// Step runs one training step on a batch: forward in training mode, the loss, backward,
// the optimizer update with the scheduled learning rate, and the masks.
func (t *Trainer) Step(ctx context.Context, inputs map[string]*kernel.Tensor, b *loss.Batch) (StepResult, error) {
	tape, err := t.prog.Forward(ctx, inputs, grad.Training, uint64(t.step))
	if err != nil {
		return StepResult{}, fmt.Errorf("train: %w", err)
	}
	grads := map[string][]float32{}
	l, err := t.opts.Loss.Eval(tape, b, grads)
	if err != nil {
		return StepResult{}, fmt.Errorf("train: %w", err)
	}
	res := StepResult{Loss: l}
	if math.IsNaN(l) || math.IsInf(l, 0) {
		return res, fmt.Errorf("%w (%v)", ErrNonFinite, l)
	}
	res.Correct, res.Rows, err = countCorrect(tape.Value(t.logits), b.Labels)
	if err != nil {
		return res, err
	}
	t.prog.ZeroGrad()
	if err := tape.Backward(ctx, grads); err != nil {
		return res, fmt.Errorf("train: %w", err)
	}
	params := t.prog.Params()
	if t.masks != nil {
		t.masks.Grads()
	}
	if t.opts.ClipNorm > 0 {
		res.GradNorm = optim.ClipGradNorm(params, t.opts.ClipNorm)
		if math.IsNaN(res.GradNorm) || math.IsInf(res.GradNorm, 0) {
			return res, fmt.Errorf("%w: the gradient norm is %v", ErrNonFinite, res.GradNorm)
		}
	}
	res.LR = t.opts.LR * t.opts.Schedule.Factor(t.step, t.total)
	t.opts.Optimizer.Step(params, res.LR)
	if t.masks != nil {
		t.masks.Values()
	}
	t.step++
	return res, nil
}

// countCorrect counts rows of logits [rows, classes] whose arg-max is the label.
func countCorrect(logits *kernel.Tensor, labels []int64) (correct, rows int, err error) {
	if logits == nil {
		return 0, 0, errors.New("train: the forward pass computed no logits")
	}
	rows = 1
	if len(logits.Shape) > 0 {
		rows = int(logits.Shape[0])
	}
	if labels == nil {
		return 0, rows, nil
	}
	if len(labels) != rows {
		return 0, rows, fmt.Errorf("train: %d labels for %d rows", len(labels), rows)
	}
	d, ok := logits.Data.([]float32)
	if !ok || rows == 0 {
		return 0, rows, fmt.Errorf("train: logits %v are not float class scores", logits.Shape)
	}
	classes := len(d) / rows
	for r := 0; r < rows; r++ {
		row := d[r*classes : (r+1)*classes]
		best := 0
		for k, v := range row {
			if v > row[best] {
				best = k
			}
		}
		if int64(best) == labels[r] {
			correct++
		}
	}
	return correct, rows, nil
}

// Metrics is an evaluation's outcome.
type Metrics struct {
	Rows    int `json:"rows"`
	Correct int `json:"correct"`
	// Accuracy is Correct/Rows in percent; Loss the mean cross-entropy (labels given).
	Accuracy float64 `json:"accuracy"`
	Loss     float64 `json:"loss"`
}

// Evaluate runs the model in inference mode over ds in order and counts top-1 accuracy
// and the cross-entropy on Logits.
func (t *Trainer) Evaluate(ctx context.Context, ds dataset.Dataset, batch int) (Metrics, error) {
	var m Metrics
	l := &data.Loader{Data: ds, BatchSize: batch, InputNames: t.prog.InputNames()}
	order := l.Order(0)
	ce := loss.CrossEntropy{Logits: t.logits}
	var lossSum float64
	for s := 0; s < l.Steps(); s++ {
		b, err := l.Batch(0, s, order)
		if err != nil {
			return m, fmt.Errorf("train: %w", err)
		}
		tape, err := t.prog.Forward(ctx, b.Inputs, grad.Inference, 0)
		if err != nil {
			return m, fmt.Errorf("train: evaluate: %w", err)
		}
		c, n, err := countCorrect(tape.Value(t.logits), b.Labels)
		if err != nil {
			return m, err
		}
		if b.Labels != nil {
			v, err := ce.Eval(tape, &loss.Batch{Labels: b.Labels}, map[string][]float32{})
			if err != nil {
				return m, fmt.Errorf("train: evaluate: %w", err)
			}
			lossSum += v * float64(n)
		}
		m.Correct += c
		m.Rows += n
	}
	if m.Rows > 0 {
		m.Accuracy = 100 * float64(m.Correct) / float64(m.Rows)
		m.Loss = lossSum / float64(m.Rows)
	}
	return m, nil
}

// Check runs the first batch of l through the model and the loss without training, so
// that data that does not fit the model (input names, shapes or types; labels outside
// the classes, or none where the loss needs them) fails before anything is trained.
func (t *Trainer) Check(ctx context.Context, l *data.Loader) error {
	if l.Data.Len() == 0 {
		return errors.New("the dataset is empty")
	}
	if l.InputNames == nil {
		l.InputNames = t.prog.InputNames()
	}
	probe := *l
	probe.Shuffle, probe.Augment = false, data.Augment{}
	b, err := probe.Batch(0, 0, probe.Order(0))
	if err != nil {
		return err
	}
	tape, err := t.prog.Forward(ctx, b.Inputs, grad.Inference, 0)
	if err != nil {
		return err
	}
	if _, err := t.opts.Loss.Eval(tape, &loss.Batch{Labels: b.Labels}, map[string][]float32{}); err != nil {
		var missing *loss.MissingTargetError
		if errors.As(err, &missing) {
			return nil // targets come per batch from FitOptions.Prepare
		}
		return err
	}
	return nil
}

// Model returns a copy of the model with the current weights and running statistics.
func (t *Trainer) Model() *ir.Model { return t.prog.Export() }

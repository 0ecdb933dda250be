package distill

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/train"
	"github.com/whittle-ml/whittle/train/data"
	"github.com/whittle-ml/whittle/train/loss"
	"github.com/whittle-ml/whittle/train/optim"
)

// Options is a distillation recipe: the student and how to train it.
type Options struct {
	Student Spec
	// StudentModel, when set, is the student itself (a pruned model distilled from its
	// original, say); Student is then ignored.
	StudentModel *ir.Model
	// Data trains the student (labels optional); Val, when set, measures it after every
	// epoch and at the end (accuracy, agreement with the teacher, the budget).
	Data, Val dataset.Dataset
	Epochs    int
	Batch     int
	// Optimizer is "sgd" (Nesterov momentum 0.9) or "adamw"; LR and WeightDecay < 0 take
	// the optimizer's defaults.
	Optimizer   string
	LR          float64
	WeightDecay float64
	Schedule    optim.Schedule
	// Temperature and Alpha shape the loss alpha·T²·KL(teacher/T ‖ student/T) +
	// (1−alpha)·CE(labels); without labels the loss is the KD term alone.
	Temperature, Alpha float64
	Seed               uint64
	Augment            data.Augment
	// LabelsOnly trains the student on labels alone (alpha = 0, no teacher): the baseline
	// that shows what KD adds.
	LabelsOnly bool
	// BlockEpochs of feature distillation train each block of a block student on the
	// teacher's tensor at its exit (BlockLoss "mse" or "cosine"); Epochs of end-to-end KD
	// follow when Epochs > 0.
	BlockEpochs int
	BlockLoss   string
	// MaxAccuracyDrop >= 0 makes Run fail (an *AccuracyError) when the student's top-1 on
	// Val is more than that many points below the teacher's.
	MaxAccuracyDrop float64
	// KeepBest ends with the epoch that scored best on Val.
	KeepBest bool
	// Progress is told about every step and epoch of every phase ("block N", "kd").
	Progress func(phase string, ev train.Event)
}

// DefaultOptions are the recipe's defaults (whittle distill's flags).
func DefaultOptions() Options {
	return Options{Epochs: 5, Batch: 128, Optimizer: "sgd", LR: -1, WeightDecay: -1, Schedule: optim.Cosine{},
		Temperature: 4, Alpha: 0.9, Seed: 1, Augment: data.Augment{FlipHorizontal: true},
		BlockEpochs: 3, BlockLoss: "mse", MaxAccuracyDrop: -1}
}

// Phase is one training phase's outcome.
type Phase struct {
	Name string        `json:"name"`
	Fit  *train.Report `json:"fit"`
}

// Result is what Run made and measured.
type Result struct {
	// Model is the trained student.
	Model   *ir.Model `json:"-"`
	Student *Student  `json:"-"`
	Phases  []Phase   `json:"phases"`
	// Val compares the trained student with the teacher on Options.Val.
	Val *Agreement `json:"val,omitempty"`
	// TeacherCache counts teacher rows served from the cache and computed.
	TeacherHits, TeacherRuns int64   `json:"-"`
	Seconds                  float64 `json:"seconds"`
}

// AccuracyError is a student that misses the accuracy budget.
type AccuracyError struct {
	Budget float64
	Val    *Agreement
}

func (e *AccuracyError) Error() string {
	return fmt.Sprintf("the student's top-1 is %.2f%% against the teacher's %.2f%% (%.2f points lost, the budget is %.2f; top-1 agreement %.2f%%, KL %.4f)",
		e.Val.StudentAccuracy, e.Val.TeacherAccuracy, e.Val.Drop(), e.Budget, e.Val.Agree, e.Val.KL)
}

func (o *Options) optimizer() (optim.Optimizer, float64, error) {
	switch o.Optimizer {
	case "", "sgd":
		lr, wd := o.LR, o.WeightDecay
		if lr < 0 {
			lr = 0.05
		}
		if wd < 0 {
			wd = 5e-4
		}
		return &optim.SGD{Momentum: 0.9, Nesterov: true, WeightDecay: wd}, lr, nil
	case "adamw":
		a := optim.NewAdamW()
		lr := o.LR
		if lr < 0 {
			lr = 2e-3
		}
		if o.WeightDecay >= 0 {
			a.WeightDecay = o.WeightDecay
		}
		return a, lr, nil
	}
	return nil, 0, fmt.Errorf("optimizer %q: want sgd or adamw", o.Optimizer)
}

// Run builds the student spec describes and trains it on the teacher's outputs. Rewrites
// are logged in pctx's change log, and so is every weight training changed. The teacher
// is not modified.
func Run(ctx context.Context, pctx *passes.Context, teacher *ir.Model, o Options) (*Result, error) {
	start := time.Now()
	if o.Data == nil {
		return nil, fmt.Errorf("no training data")
	}
	if o.Batch <= 0 || o.Epochs < 0 || o.BlockEpochs < 0 {
		return nil, fmt.Errorf("batch %d, epochs %d and block epochs %d must be positive", o.Batch, o.Epochs, o.BlockEpochs)
	}
	if o.Alpha < 0 || o.Alpha > 1 || math.IsNaN(o.Alpha) {
		return nil, fmt.Errorf("alpha %v must be in [0, 1]", o.Alpha)
	}
	if !(o.Temperature > 0) {
		return nil, fmt.Errorf("temperature %v must be positive", o.Temperature)
	}
	if pctx == nil {
		pctx = &passes.Context{}
	}
	var st *Student
	var err error
	if o.StudentModel != nil {
		st, err = given(teacher, o.StudentModel)
	} else {
		st, err = Build(pctx, teacher, o.Student)
	}
	if err != nil {
		return nil, err
	}
	res := &Result{Student: st}
	labelled, err := hasLabels(o.Data)
	if err != nil {
		return nil, err
	}
	if o.LabelsOnly && !labelled {
		return nil, fmt.Errorf("labels_only needs labelled data")
	}
	th, err := NewTeacher(teacher, nil)
	if err != nil {
		return nil, err
	}
	student := st.Model
	if st.Spec.Kind == KindBlock && o.BlockEpochs > 0 {
		for i, b := range st.Blocks {
			rep, trained, err := trainBlock(ctx, teacher, b, o, fmt.Sprintf("block %d", i+1))
			if err != nil {
				return nil, fmt.Errorf("block %s..%s: %w", b.Spec.From, b.Spec.To, err)
			}
			b.Student = trained
			res.Phases = append(res.Phases, Phase{Name: fmt.Sprintf("block %d (%s..%s)", i+1, b.Spec.From, b.Spec.To), Fit: rep})
		}
		// The assembly is logged once, with the trained blocks.
		quiet := &passes.Context{}
		student, err = Assemble(quiet, teacher, st.Blocks)
		if err != nil {
			return nil, err
		}
	}
	if o.Epochs > 0 {
		rep, trained, err := trainKD(ctx, th, student, o, labelled)
		if err != nil {
			return nil, err
		}
		student = trained
		res.Phases = append(res.Phases, Phase{Name: "kd", Fit: rep})
	}
	logTrained(pctx, st.Model, student)
	res.Model = student
	res.TeacherHits, res.TeacherRuns = th.Hits.Load(), th.Misses.Load()
	if err := Check(student); err != nil {
		return res, fmt.Errorf("the trained student: %w", err)
	}
	if o.Val != nil {
		a, err := Compare(ctx, teacher, student, o.Val, 100)
		if err != nil {
			return res, fmt.Errorf("validation: %w", err)
		}
		res.Val = a
		if o.MaxAccuracyDrop >= 0 {
			if !a.Labelled {
				return res, fmt.Errorf("max_accuracy_drop needs labelled validation data")
			}
			if a.Drop() > o.MaxAccuracyDrop {
				return res, &AccuracyError{Budget: o.MaxAccuracyDrop, Val: a}
			}
		}
	} else if o.MaxAccuracyDrop >= 0 {
		return res, fmt.Errorf("max_accuracy_drop needs validation data")
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// hasLabels reads the first row to see whether the data carries labels.
func hasLabels(ds dataset.Dataset) (bool, error) {
	if ds.Len() == 0 {
		return false, fmt.Errorf("the training data is empty")
	}
	b, err := ds.Batch(0, 1)
	if err != nil {
		return false, err
	}
	return b.Labels != nil, nil
}

// teacherKey names the batch target holding the teacher's tensor name.
func teacherKey(name string) string { return "teacher:" + name }

// trainKD trains the whole student on the teacher's logits (and the labels).
func trainKD(ctx context.Context, th *Teacher, student *ir.Model, o Options, labelled bool) (*train.Report, *ir.Model, error) {
	logits := student.Graph.Outputs[0].Name
	tout := th.Model.Graph.Outputs[0].Name
	var obj loss.Weighted
	switch {
	case o.LabelsOnly:
		obj = loss.Weighted{{Weight: 1, Loss: loss.CrossEntropy{Logits: logits}}}
	case labelled && o.Alpha < 1:
		obj = loss.Weighted{
			{Weight: o.Alpha, Loss: loss.KLDiv{Logits: logits, Teacher: teacherKey(tout), Temperature: o.Temperature}},
			{Weight: 1 - o.Alpha, Loss: loss.CrossEntropy{Logits: logits}},
		}
	default:
		obj = loss.Weighted{{Weight: 1, Loss: loss.KLDiv{Logits: logits, Teacher: teacherKey(tout), Temperature: o.Temperature}}}
	}
	opt, lr, err := o.optimizer()
	if err != nil {
		return nil, nil, err
	}
	tr, err := train.New(student, train.Options{Loss: obj, Logits: logits, Optimizer: opt, LR: lr, Schedule: o.Schedule, Seed: o.Seed})
	if err != nil {
		return nil, nil, err
	}
	loader := &data.Loader{Data: o.Data, BatchSize: o.Batch, Shuffle: true, Augment: o.Augment, Seed: o.Seed,
		InputNames: tr.Program().InputNames()}
	fo := train.FitOptions{Train: loader, Epochs: o.Epochs, Val: o.Val, KeepBest: o.KeepBest && o.Val != nil}
	if !o.LabelsOnly {
		fo.Prepare = func(ctx context.Context, b *data.Batch, lb *loss.Batch) error {
			out, err := th.Outputs(ctx, b.Inputs)
			if err != nil {
				return err
			}
			lb.Targets = map[string]*kernel.Tensor{teacherKey(tout): out[tout]}
			return nil
		}
	}
	if o.Progress != nil {
		fo.Progress = func(ev train.Event) { o.Progress("kd", ev) }
	}
	rep, err := tr.Fit(ctx, fo)
	if err != nil {
		return nil, nil, hint(err)
	}
	return rep, tr.Model(), nil
}

// hint adds advice to a loss that diverged.
func hint(err error) error {
	if errors.Is(err, train.ErrNonFinite) {
		return fmt.Errorf("%w (the training diverged: try a smaller learning rate or the adamw optimizer)", err)
	}
	return err
}

// trainBlock trains a block student on the teacher's tensors: the block reads the
// teacher's entry tensor and learns its exit tensor.
func trainBlock(ctx context.Context, teacher *ir.Model, b *Block, o Options, phase string) (*train.Report, *ir.Model, error) {
	from, to := b.Spec.From, b.Spec.To
	th, err := NewTeacher(teacher, []string{from, to})
	if err != nil {
		return nil, nil, err
	}
	th.CacheBytes = 0
	out := b.Student.Graph.Outputs[0].Name
	in := feedInputs(b.Student)[0].Name
	var obj loss.Loss
	switch o.BlockLoss {
	case "", "mse":
		obj = loss.MSE{Tensor: out, Target: teacherKey(to)}
	case "cosine":
		obj = loss.Cosine{Tensor: out, Target: teacherKey(to)}
	default:
		return nil, nil, fmt.Errorf("block loss %q: want mse or cosine", o.BlockLoss)
	}
	opt, lr, err := o.optimizer()
	if err != nil {
		return nil, nil, err
	}
	tr, err := train.New(b.Student, train.Options{Loss: obj, Logits: out, Optimizer: opt, LR: lr, Schedule: o.Schedule, Seed: o.Seed})
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for _, v := range feedInputs(teacher) {
		names = append(names, v.Name)
	}
	loader := &data.Loader{Data: o.Data, BatchSize: o.Batch, Shuffle: true, Augment: o.Augment, Seed: o.Seed, InputNames: names}
	fo := train.FitOptions{Train: loader, Epochs: o.BlockEpochs,
		Prepare: func(ctx context.Context, bt *data.Batch, lb *loss.Batch) error {
			acts, err := th.Outputs(ctx, bt.Inputs)
			if err != nil {
				return err
			}
			bt.Inputs = map[string]*kernel.Tensor{in: acts[from]}
			lb.Labels = nil
			lb.Targets = map[string]*kernel.Tensor{teacherKey(to): acts[to]}
			return nil
		}}
	if o.Progress != nil {
		fo.Progress = func(ev train.Event) { o.Progress(phase, ev) }
	}
	rep, err := tr.Fit(ctx, fo)
	if err != nil {
		return nil, nil, hint(err)
	}
	return rep, tr.Model(), nil
}

// logTrained records, for every initializer whose values training changed, a change of
// the distill step (shapes were logged when the student was built).
func logTrained(pctx *passes.Context, before, after *ir.Model) {
	if pctx.Log == nil {
		pctx.Log = &passes.ChangeLog{}
	}
	old := map[string]*ir.Tensor{}
	for _, v := range before.Graph.Initializers {
		old[v.Name] = v.Const
	}
	step := pctx.StepName()
	if step == "" {
		step = "distill"
	}
	for _, v := range after.Graph.Initializers {
		o := old[v.Name]
		if o == nil || v.Const == nil || string(o.Raw) == string(v.Const.Raw) {
			continue
		}
		pctx.Log.Add(passes.Change{Pass: step, Kind: passes.InitializerChanged, Value: v.Name,
			From: ir.TensorTypeString(o), To: ir.TensorTypeString(v.Const), Detail: "values (trained)"})
	}
}

// OptionsFromParams reads the distill step's parameters (passes.DistillParams); open
// opens data specs.
func OptionsFromParams(p passes.Params, open func(spec string) (dataset.Dataset, error)) (Options, error) {
	o := DefaultOptions()
	var err error
	if spec := p.String("student", ""); spec != "" {
		if o.Student, err = ParseSpec(spec); err != nil {
			return o, err
		}
	} else if o.Student, err = ParseSpec("auto:macs=0.25"); err != nil {
		return o, err
	}
	dspec := p.String("data", "")
	if dspec == "" {
		return o, fmt.Errorf("distill: no training data (data=SPEC)")
	}
	if o.Data, err = open(dspec); err != nil {
		return o, fmt.Errorf("distill: data %s: %w", dspec, err)
	}
	if v := p.String("val", ""); v != "" {
		if o.Val, err = open(v); err != nil {
			return o, fmt.Errorf("distill: val %s: %w", v, err)
		}
	}
	ints := map[string]*int{"epochs": &o.Epochs, "batch": &o.Batch, "block_epochs": &o.BlockEpochs}
	for k, dst := range ints {
		n, err := p.Int(k, int64(*dst))
		if err != nil {
			return o, err
		}
		*dst = int(n)
	}
	floats := map[string]*float64{"lr": &o.LR, "weight_decay": &o.WeightDecay, "temperature": &o.Temperature,
		"alpha": &o.Alpha, "max_accuracy_drop": &o.MaxAccuracyDrop}
	for k, dst := range floats {
		if *dst, err = p.Float(k, *dst); err != nil {
			return o, err
		}
	}
	seed, err := p.Int("seed", int64(o.Seed))
	if err != nil {
		return o, err
	}
	o.Seed = uint64(seed)
	o.Optimizer = p.String("optimizer", o.Optimizer)
	o.BlockLoss = p.String("block_loss", o.BlockLoss)
	if s := p.String("schedule", ""); s != "" {
		if o.Schedule, err = optim.ParseSchedule(s); err != nil {
			return o, err
		}
	}
	if o.Augment, err = ParseAugment(p.String("augment", "flip")); err != nil {
		return o, err
	}
	if v := p.String("labels_only", "false"); v != "" {
		if o.LabelsOnly, err = strconv.ParseBool(v); err != nil {
			return o, fmt.Errorf("labels_only=%q is not a boolean", v)
		}
	}
	return o, nil
}

// ParseAugment reads none, flip, crop:P or crop:P,flip.
func ParseAugment(s string) (data.Augment, error) {
	var a data.Augment
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch {
		case part == "" || part == "none":
		case part == "flip":
			a.FlipHorizontal = true
		case strings.HasPrefix(part, "crop:"):
			n, err := strconv.Atoi(strings.TrimPrefix(part, "crop:"))
			if err != nil || n < 1 {
				return a, fmt.Errorf("augment %q: crop:P needs a positive padding", s)
			}
			a.CropPadding = n
		default:
			return a, fmt.Errorf("augment %q: want none, flip, crop:P or crop:P,flip", s)
		}
	}
	return a, nil
}

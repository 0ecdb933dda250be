package train

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/train/data"
	"github.com/whittle-ml/whittle/train/loss"
)

// FitOptions say what a Trainer trains on and for how long.
type FitOptions struct {
	// Train serves the training batches (order, augmentation and their seed).
	Train *data.Loader
	// Epochs is the number of passes over Train.
	Epochs int
	// Val, when set, is evaluated after every epoch in batches of ValBatch (100 when 0).
	Val      dataset.Dataset
	ValBatch int
	// KeepBest ends the run with the weights of the epoch that scored best on Val.
	KeepBest bool
	// Prepare completes the loss batch of each training batch after augmentation, e.g.
	// with a teacher's outputs on the same inputs (distillation). Labels are set already.
	Prepare func(ctx context.Context, b *data.Batch, lb *loss.Batch) error
	// Checkpoint, when set, is written (atomically) after every epoch and, with
	// CheckpointEvery > 0, every that many steps; Resume continues from such a file.
	Checkpoint      string
	CheckpointEvery int
	Resume          string
	// Progress, when set, is told about every step and every epoch.
	Progress func(Event)
}

// EventKind says what an Event reports.
type EventKind int

// The kinds of progress events.
const (
	StepDone EventKind = iota
	EpochDone
)

// Event is a progress report of Fit.
type Event struct {
	Kind EventKind
	// Epoch (1-based) of Epochs; Step (1-based) of Steps within the epoch.
	Epoch, Epochs, Step, Steps int
	// Loss and Accuracy (percent) are the epoch's running means over the training batches.
	Loss, Accuracy float64
	SamplesPerSec  float64
	// Val holds the epoch's validation metrics (EpochDone with FitOptions.Val).
	Val *Metrics
}

// EpochReport is one epoch's outcome.
type EpochReport struct {
	Epoch    int      `json:"epoch"`
	Loss     float64  `json:"loss"`
	Accuracy float64  `json:"accuracy"`
	Val      *Metrics `json:"val,omitempty"`
	// Seconds is the wall time of the epoch's training steps (validation excluded);
	// CPUSeconds the CPU time the process used meanwhile, every thread counted (0 where
	// the system does not say). On a shared machine the CPU time is the steadier measure.
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
}

// Report is what Fit did.
type Report struct {
	Epochs []EpochReport `json:"epochs"`
	// BestEpoch is the epoch whose weights the model ends with when KeepBest chose one.
	BestEpoch int      `json:"best_epoch,omitempty"`
	Best      *Metrics `json:"best,omitempty"`
	Steps     int      `json:"steps"`
	// ResumedFrom is the epoch and step the run continued from (0, 0 for a fresh run).
	ResumedEpoch int     `json:"resumed_epoch,omitempty"`
	ResumedStep  int     `json:"resumed_step,omitempty"`
	Seconds      float64 `json:"seconds"`
}

// StepError is a failure inside the training loop, located by epoch and step.
type StepError struct {
	Epoch, Step, Steps int
	// Checkpoint names the last good checkpoint, if one was written.
	Checkpoint string
	Err        error
}

func (e *StepError) Error() string {
	msg := fmt.Sprintf("epoch %d, step %d of %d: %v", e.Epoch, e.Step, e.Steps, e.Err)
	if e.Checkpoint != "" {
		msg += fmt.Sprintf("; the last good checkpoint is %s", e.Checkpoint)
	}
	return msg
}

func (e *StepError) Unwrap() error { return e.Err }

// Fit trains for opts.Epochs epochs (continuing a checkpoint with opts.Resume), evaluating
// on opts.Val after each, and leaves the trainer with the final weights, or the best
// epoch's with KeepBest.
func (t *Trainer) Fit(ctx context.Context, opts FitOptions) (*Report, error) {
	if opts.Train == nil || opts.Train.BatchSize <= 0 {
		return nil, errors.New("train: no training data or batch size")
	}
	if opts.Epochs <= 0 {
		return nil, fmt.Errorf("train: %d epochs", opts.Epochs)
	}
	if opts.Train.InputNames == nil {
		opts.Train.InputNames = t.prog.InputNames()
	}
	steps := opts.Train.Steps()
	if steps == 0 {
		return nil, fmt.Errorf("train: %d rows make no batch of %d", opts.Train.Data.Len(), opts.Train.BatchSize)
	}
	valBatch := opts.ValBatch
	if valBatch <= 0 {
		valBatch = 100
	}
	t.SetTotalSteps(opts.Epochs * steps)
	st := &runState{}
	rep := &Report{}
	if opts.Resume != "" {
		if err := t.resume(opts.Resume, st); err != nil {
			return nil, err
		}
		rep.ResumedEpoch, rep.ResumedStep = st.Epoch, st.StepInEpoch
	}
	wrote := ""
	save := func() error {
		if opts.Checkpoint == "" {
			return nil
		}
		if err := t.saveCheckpoint(opts.Checkpoint, st); err != nil {
			return err
		}
		wrote = opts.Checkpoint
		return nil
	}
	start := time.Now()
	for st.Epoch < opts.Epochs {
		epoch := st.Epoch + 1
		order := opts.Train.Order(epoch)
		t0, cpu0 := time.Now(), processCPU()
		rows0 := st.EpochRows
		for s := st.StepInEpoch; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			stepErr := func(err error) error {
				return &StepError{Epoch: epoch, Step: s + 1, Steps: steps, Checkpoint: wrote, Err: err}
			}
			b, err := opts.Train.Batch(epoch, s, order)
			if err != nil {
				return rep, stepErr(err)
			}
			lb := &loss.Batch{Labels: b.Labels}
			if opts.Prepare != nil {
				if err := opts.Prepare(ctx, b, lb); err != nil {
					return rep, stepErr(err)
				}
			}
			res, err := t.Step(ctx, b.Inputs, lb)
			if err != nil {
				return rep, stepErr(err)
			}
			st.EpochLoss += res.Loss * float64(res.Rows)
			st.EpochCorrect += res.Correct
			st.EpochRows += res.Rows
			st.StepInEpoch = s + 1
			if opts.Progress != nil {
				opts.Progress(Event{Kind: StepDone, Epoch: epoch, Epochs: opts.Epochs, Step: s + 1, Steps: steps,
					Loss: st.EpochLoss / float64(st.EpochRows), Accuracy: 100 * float64(st.EpochCorrect) / float64(st.EpochRows),
					SamplesPerSec: float64(st.EpochRows-rows0) / time.Since(t0).Seconds()})
			}
			if opts.CheckpointEvery > 0 && (s+1)%opts.CheckpointEvery == 0 && s+1 < steps {
				if err := save(); err != nil {
					return rep, err
				}
			}
		}
		er := EpochReport{Epoch: epoch, Loss: st.EpochLoss / float64(st.EpochRows),
			Accuracy: 100 * float64(st.EpochCorrect) / float64(st.EpochRows), Seconds: time.Since(t0).Seconds(),
			CPUSeconds: (processCPU() - cpu0).Seconds()}
		if opts.Val != nil {
			m, err := t.Evaluate(ctx, opts.Val, valBatch)
			if err != nil {
				return rep, err
			}
			er.Val = &m
			if opts.KeepBest && (st.Best == nil || m.Correct > st.Best.Metrics.Correct) {
				st.Best = t.snapshot(epoch, m)
			}
		}
		st.History = append(st.History, er)
		st.Epoch, st.StepInEpoch = epoch, 0
		st.EpochLoss, st.EpochCorrect, st.EpochRows = 0, 0, 0
		if opts.Progress != nil {
			opts.Progress(Event{Kind: EpochDone, Epoch: epoch, Epochs: opts.Epochs, Step: steps, Steps: steps,
				Loss: er.Loss, Accuracy: er.Accuracy, Val: er.Val,
				SamplesPerSec: float64(opts.Train.Data.Len()) / er.Seconds})
		}
		if err := save(); err != nil {
			return rep, err
		}
	}
	rep.Epochs = st.History
	rep.Steps = t.step
	if st.Best != nil {
		t.restore(st.Best)
		rep.BestEpoch, rep.Best = st.Best.Epoch, &st.Best.Metrics
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// runState is the part of a Fit run a checkpoint carries besides the weights.
type runState struct {
	// Epoch counts finished epochs; StepInEpoch the steps done of the next one.
	Epoch, StepInEpoch int
	// The running sums of the epoch in progress.
	EpochLoss               float64
	EpochCorrect, EpochRows int
	History                 []EpochReport
	Best                    *snapshot
}

// snapshot is a copy of the weights and running statistics of one epoch.
type snapshot struct {
	Epoch   int
	Metrics Metrics
	Params  map[string][]float32
	State   map[string][]float32
}

func (t *Trainer) snapshot(epoch int, m Metrics) *snapshot {
	s := &snapshot{Epoch: epoch, Metrics: m, Params: map[string][]float32{}, State: map[string][]float32{}}
	for _, p := range t.prog.Params() {
		s.Params[p.Name] = append([]float32(nil), p.Value...)
	}
	for _, v := range t.prog.State() {
		s.State[v.Name] = append([]float32(nil), v.Value...)
	}
	return s
}

func (t *Trainer) restore(s *snapshot) {
	for _, p := range t.prog.Params() {
		copy(p.Value, s.Params[p.Name])
	}
	for _, v := range t.prog.State() {
		copy(v.Value, s.State[v.Name])
	}
}

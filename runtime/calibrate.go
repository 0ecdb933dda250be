package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
)

// DefaultCalibrationBatch is the batch size DatasetCalibrator uses when none is set.
const DefaultCalibrationBatch = 32

// DatasetCalibrator runs a model over a dataset, batch by batch, and hands the float values
// of chosen tensors to an observer as each batch computes them (it implements
// passes.Calibrator). It watches the session through Options.Observer, so no activation
// outlives its batch: memory stays that of one batch whatever the dataset's size.
type DatasetCalibrator struct {
	Data dataset.Dataset
	// BatchSize is the rows per run (0: DefaultCalibrationBatch). Models with a fixed
	// batch dimension get that size instead.
	BatchSize int
	// Progress, when set, is called after every batch with the rows done and the total.
	Progress func(done, total int)
	// Ctx cancels calibration; nil means context.Background().
	Ctx context.Context
}

// Calibrate implements passes.Calibrator.
func (c *DatasetCalibrator) Calibrate(m *ir.Model, names []string, observe func(name string, data []float32) error) error {
	if c.Data == nil || c.Data.Len() == 0 {
		return errors.New("calibration dataset is empty")
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	var observeErr error
	emit := func(name string, t *Tensor) {
		if observeErr != nil || t == nil || !want[name] {
			return
		}
		data, ok := t.Data.([]float32)
		if !ok {
			return
		}
		observeErr = observe(name, data)
	}
	sess, err := NewSession(m, Options{Observer: func(_ int, n *ir.Node, outs []*Tensor) {
		for i, v := range n.Outputs() {
			if v != nil && i < len(outs) {
				emit(v.Name, outs[i])
			}
		}
	}})
	if err != nil {
		return err
	}
	ctx := c.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	batch := c.BatchSize
	if batch <= 0 {
		batch = DefaultCalibrationBatch
	}
	if fixed := FixedBatch(m); fixed > 0 {
		batch = fixed
	}
	total := c.Data.Len()
	return dataset.Each(c.Data, batch, func(start int, b dataset.Batch) error {
		feeds, err := BatchFeeds(m, b)
		if err != nil {
			return err
		}
		for name, t := range feeds {
			emit(name, t)
		}
		if observeErr != nil {
			return observeErr
		}
		if _, err := sess.Run(ctx, feeds); err != nil {
			return fmt.Errorf("calibration rows [%d,%d): %w", start, start+b.Size(), err)
		}
		if observeErr != nil {
			return observeErr
		}
		if c.Progress != nil {
			c.Progress(start+b.Size(), total)
		}
		return nil
	})
}

// FixedBatch returns the first input's leading dimension when the model fixes it (a model
// exported with batch 1 must be fed one row at a time), or 0 when it is symbolic or
// unknown.
func FixedBatch(m *ir.Model) int {
	for _, v := range m.Graph.Inputs {
		if v.IsConst() {
			continue
		}
		if v.Type == nil || !v.Type.HasShape || len(v.Type.Dims) == 0 {
			return 0
		}
		if d := v.Type.Dims[0]; d.IsKnown() {
			return int(d.Value)
		}
		return 0
	}
	return 0
}

// BatchFeeds maps a dataset batch onto a session's inputs: tensors that carry a name go to
// the input of that name, unnamed ones to the model's non-initializer inputs in order.
func BatchFeeds(m *ir.Model, b dataset.Batch) (map[string]*Tensor, error) {
	var order []string
	declared := map[string]bool{}
	for _, v := range m.Graph.Inputs {
		if !v.IsConst() {
			order = append(order, v.Name)
			declared[v.Name] = true
		}
	}
	feeds := make(map[string]*Tensor, len(b.Inputs))
	for i, t := range b.Inputs {
		name := t.Name
		if name == "" || !declared[name] {
			if i >= len(order) {
				return nil, fmt.Errorf("the data has %d inputs, the model %d (%v)", len(b.Inputs), len(order), order)
			}
			name = order[i]
		}
		rt, err := FromDataset(t)
		if err != nil {
			return nil, err
		}
		feeds[name] = rt
	}
	return feeds, nil
}

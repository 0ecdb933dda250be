package datafeed

import (
	"context"
	"errors"
	"fmt"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
)

// DefaultBatch is the batch size Calibrator uses when none is set.
const DefaultBatch = 32

// Calibrator runs a model over a dataset, batch by batch, and hands the float values
// of chosen tensors to an observer as each batch computes them (it implements
// passes.Calibrator). It watches the session through Options.Observer, so no activation
// outlives its batch: memory stays that of one batch whatever the dataset's size.
type Calibrator struct {
	Data dataset.Dataset
	// BatchSize is the rows per run (0: DefaultBatch). Models with a fixed
	// batch dimension get that size instead.
	BatchSize int
	// Progress, when set, is called after every batch with the rows done and the total.
	Progress func(done, total int)
	// Ctx cancels calibration; nil means context.Background().
	Ctx context.Context
}

// Calibrate implements passes.Calibrator.
func (c *Calibrator) Calibrate(m *ir.Model, names []string, observe func(name string, data []float32) error) error {
	if c.Data == nil || c.Data.Len() == 0 {
		return errors.New("calibration dataset is empty")
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	var observeErr error
	emit := func(name string, t *runtime.Tensor) {
		if observeErr != nil || t == nil || !want[name] {
			return
		}
		data, ok := t.Data.([]float32)
		if !ok {
			return
		}
		observeErr = observe(name, data)
	}
	sess, err := runtime.NewSession(m, runtime.Options{Observed: names, Observer: func(_ int, n *ir.Node, outs []*runtime.Tensor) {
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
		batch = DefaultBatch
	}
	if fixed := runtime.FixedBatch(m); fixed > 0 {
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

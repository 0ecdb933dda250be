package dataset

import (
	"errors"
	"fmt"
)

// Batch is rows [start, start+n) of a dataset.
type Batch struct {
	// Inputs holds one tensor per model input, in the source's order; the first dimension
	// of each is the batch.
	Inputs []Tensor
	// Labels holds one class index per row, or is nil when the source has no labels.
	Labels []int64
	// Expected holds reference outputs (output_K.pb beside input_K.pb), or is nil.
	Expected []Tensor
}

// Size returns the number of rows in the batch.
func (b *Batch) Size() int {
	if len(b.Inputs) == 0 || len(b.Inputs[0].Shape) == 0 {
		return 0
	}
	return int(b.Inputs[0].Shape[0])
}

// Dataset is a sequence of rows read in batches.
type Dataset interface {
	// Len returns the number of rows.
	Len() int
	// Batch returns rows [start, start+n); start+n must not pass Len.
	Batch(start, n int) (Batch, error)
}

// Each calls fn with consecutive batches of at most size rows until the dataset ends or fn
// returns an error, which Each returns.
func Each(ds Dataset, size int, fn func(start int, b Batch) error) error {
	if size <= 0 {
		return fmt.Errorf("dataset: batch size %d must be positive", size)
	}
	for start := 0; start < ds.Len(); start += size {
		n := min(size, ds.Len()-start)
		b, err := ds.Batch(start, n)
		if err != nil {
			return fmt.Errorf("dataset: rows [%d,%d): %w", start, start+n, err)
		}
		if err := fn(start, b); err != nil {
			return err
		}
	}
	return nil
}

// Head returns the first n rows of ds (all of them when ds is shorter).
func Head(ds Dataset, n int) Dataset {
	if n >= ds.Len() {
		return ds
	}
	return head{ds, n}
}

type head struct {
	Dataset
	n int
}

func (h head) Len() int { return h.n }

func (h head) Batch(start, n int) (Batch, error) {
	if err := checkRange(start, n, h.n); err != nil {
		return Batch{}, err
	}
	return h.Dataset.Batch(start, n)
}

func checkRange(start, n, length int) error {
	if start < 0 || n < 0 || start+n > length {
		return fmt.Errorf("rows [%d,%d) out of range [0,%d)", start, start+n, length)
	}
	return nil
}

// Arrays is a Dataset over tensors held in memory (the arrays of a .npy or .npz file).
// Every input, the labels and the expected outputs share the first dimension.
type Arrays struct {
	Inputs   []Tensor
	Labels   []int64
	Expected []Tensor
}

// NewArrays checks that all tensors have the same number of rows and returns the dataset.
func NewArrays(inputs []Tensor, labels []int64, expected []Tensor) (*Arrays, error) {
	if len(inputs) == 0 {
		return nil, errors.New("dataset: no input arrays")
	}
	rows := int64(-1)
	for _, group := range [][]Tensor{inputs, expected} {
		for i := range group {
			t := &group[i]
			if err := t.validate(); err != nil {
				return nil, err
			}
			if len(t.Shape) == 0 {
				return nil, fmt.Errorf("dataset: %s is a scalar; arrays need a batch dimension", t)
			}
			if rows >= 0 && t.Shape[0] != rows {
				return nil, fmt.Errorf("dataset: %s has %d rows, %s has %d", t, t.Shape[0], &inputs[0], rows)
			}
			rows = t.Shape[0]
		}
	}
	if labels != nil && int64(len(labels)) != rows {
		return nil, fmt.Errorf("dataset: %d labels for %d rows", len(labels), rows)
	}
	return &Arrays{Inputs: inputs, Labels: labels, Expected: expected}, nil
}

// Len returns the number of rows.
func (a *Arrays) Len() int {
	if len(a.Inputs) == 0 || len(a.Inputs[0].Shape) == 0 {
		return 0
	}
	return int(a.Inputs[0].Shape[0])
}

// Batch returns rows [start, start+n), sharing the arrays' storage.
func (a *Arrays) Batch(start, n int) (Batch, error) {
	if err := checkRange(start, n, a.Len()); err != nil {
		return Batch{}, err
	}
	var b Batch
	for _, group := range []struct {
		src []Tensor
		dst *[]Tensor
	}{{a.Inputs, &b.Inputs}, {a.Expected, &b.Expected}} {
		for i := range group.src {
			r, err := group.src[i].rows(start, n)
			if err != nil {
				return Batch{}, err
			}
			*group.dst = append(*group.dst, r)
		}
	}
	if a.Labels != nil {
		b.Labels = a.Labels[start : start+n : start+n]
	}
	return b, nil
}

package data

import (
	"fmt"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/datafeed"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/train/internal/rng"
)

// Augment says how training images are varied. It applies to float inputs of rank 4
// ([N, C, H, W]); other inputs pass unchanged.
type Augment struct {
	// CropPadding, when positive, pads each image with this many zeros on every side and
	// crops a window of the original size at a random offset.
	CropPadding int
	// FlipHorizontal mirrors each image left to right with probability 1/2.
	FlipHorizontal bool
}

// On reports whether any augmentation is set.
func (a Augment) On() bool { return a.CropPadding > 0 || a.FlipHorizontal }

func (a Augment) String() string {
	s := ""
	if a.CropPadding > 0 {
		s = fmt.Sprintf("crop:%d", a.CropPadding)
	}
	if a.FlipHorizontal {
		if s != "" {
			s += ","
		}
		s += "flip"
	}
	if s == "" {
		s = "none"
	}
	return s
}

// Loader cuts a dataset into batches.
type Loader struct {
	Data      dataset.Dataset
	BatchSize int
	// Shuffle draws a new order of the rows every epoch; without it rows come in order.
	Shuffle bool
	// DropLast leaves out a last batch smaller than BatchSize.
	DropLast bool
	Augment  Augment
	Seed     uint64
	// InputNames names the model inputs for dataset tensors that carry no name, by
	// position.
	InputNames []string
}

// Batch is one batch of inputs, named as the model's inputs, and their labels.
type Batch struct {
	Inputs map[string]*kernel.Tensor
	// Labels is nil when the dataset has none.
	Labels []int64
	// Rows are the dataset rows the batch holds, in batch order.
	Rows []int
}

// Size returns the number of rows.
func (b *Batch) Size() int { return len(b.Rows) }

// Steps returns the number of batches in an epoch.
func (l *Loader) Steps() int {
	n := l.Data.Len()
	if l.BatchSize <= 0 {
		return 0
	}
	if l.DropLast {
		return n / l.BatchSize
	}
	return (n + l.BatchSize - 1) / l.BatchSize
}

// Order returns the rows of an epoch in the order they are served.
func (l *Loader) Order(epoch int) []int {
	if !l.Shuffle {
		order := make([]int, l.Data.Len())
		for i := range order {
			order[i] = i
		}
		return order
	}
	return rng.Perm(rng.Mix(l.Seed, 1, uint64(epoch)), l.Data.Len())
}

// Batch returns batch step of an epoch whose row order is order (from Order).
func (l *Loader) Batch(epoch, step int, order []int) (*Batch, error) {
	if l.BatchSize <= 0 {
		return nil, fmt.Errorf("data: batch size %d must be positive", l.BatchSize)
	}
	lo := step * l.BatchSize
	if lo >= len(order) || step < 0 {
		return nil, fmt.Errorf("data: step %d is past the %d rows of the epoch", step, len(order))
	}
	rows := order[lo:min(len(order), lo+l.BatchSize)]
	var parts []dataset.Batch
	if contiguous(rows) {
		b, err := l.Data.Batch(rows[0], len(rows))
		if err != nil {
			return nil, fmt.Errorf("data: rows [%d,%d): %w", rows[0], rows[0]+len(rows), err)
		}
		parts = append(parts, b)
	} else {
		for _, r := range rows {
			b, err := l.Data.Batch(r, 1)
			if err != nil {
				return nil, fmt.Errorf("data: row %d: %w", r, err)
			}
			parts = append(parts, b)
		}
	}
	out := &Batch{Inputs: map[string]*kernel.Tensor{}, Rows: append([]int(nil), rows...)}
	for i := range parts[0].Inputs {
		t, err := stack(parts, i)
		if err != nil {
			return nil, err
		}
		name := parts[0].Inputs[i].Name
		if name == "" {
			if i >= len(l.InputNames) {
				return nil, fmt.Errorf("data: the dataset has %d inputs, the model %d", len(parts[0].Inputs), len(l.InputNames))
			}
			name = l.InputNames[i]
		}
		if l.Augment.On() && t.DType == ir.Float && len(t.Shape) == 4 {
			// The batch may share the dataset's storage: augment a copy.
			t = kernel.FromFloat32(t.Shape, append([]float32(nil), t.Float32s()...))
			augment(t, l.Augment, rows, rng.Mix(l.Seed, 2, uint64(epoch)))
		}
		out.Inputs[name] = t
	}
	if parts[0].Labels != nil {
		for _, p := range parts {
			out.Labels = append(out.Labels, p.Labels...)
		}
	}
	return out, nil
}

func contiguous(rows []int) bool {
	for i := 1; i < len(rows); i++ {
		if rows[i] != rows[i-1]+1 {
			return false
		}
	}
	return len(rows) > 0
}

// stack joins input i of the parts along the batch axis, as a runtime tensor.
func stack(parts []dataset.Batch, i int) (*kernel.Tensor, error) {
	first, err := datafeed.FromDataset(parts[0].Inputs[i])
	if err != nil {
		return nil, err
	}
	if len(parts) == 1 {
		return first, nil
	}
	if len(first.Shape) == 0 {
		return nil, fmt.Errorf("data: input %d is a scalar; it has no batch axis", i)
	}
	shape := append([]int64(nil), first.Shape...)
	shape[0] = 0
	for _, p := range parts {
		shape[0] += p.Inputs[i].Shape[0]
	}
	out := kernel.New(first.DType, shape...)
	at := 0
	for _, p := range parts {
		t, err := datafeed.FromDataset(p.Inputs[i])
		if err != nil {
			return nil, err
		}
		if !kernel.SameShape(t.Shape[1:], first.Shape[1:]) || t.DType != first.DType {
			return nil, fmt.Errorf("data: input %d has rows of shape %v and %v", i, first.Shape[1:], t.Shape[1:])
		}
		at += copyData(out.Data, at, t.Data)
	}
	return out, nil
}

func copyData(dst any, at int, src any) int {
	switch d := dst.(type) {
	case []float32:
		return copy(d[at:], src.([]float32))
	case []float64:
		return copy(d[at:], src.([]float64))
	case []int64:
		return copy(d[at:], src.([]int64))
	case []int32:
		return copy(d[at:], src.([]int32))
	case []uint8:
		return copy(d[at:], src.([]uint8))
	case []bool:
		return copy(d[at:], src.([]bool))
	}
	panic(fmt.Sprintf("data: unexpected element slice %T", dst))
}

// augment crops and flips each image of t [N, C, H, W] in place. Image k comes from
// dataset row rows[k], whose draws are hashes of seed and the row: offsets dy, dx uniform
// in [−p, p] and a flip with probability 1/2; output pixel (y, x) is input pixel
// (y+dy, x+dx), or (y+dy, W−1−(x+dx)) when flipped, and 0 outside the image.
func augment(t *kernel.Tensor, a Augment, rows []int, seed uint64) {
	d := t.Float32s()
	c, h, w := int(t.Shape[1]), int(t.Shape[2]), int(t.Shape[3])
	img := make([]float32, c*h*w)
	p := a.CropPadding
	for k, row := range rows {
		x := d[k*c*h*w : (k+1)*c*h*w]
		r := uint64(row)
		dy, dx := 0, 0
		if p > 0 {
			dy = rng.Intn(rng.Mix(seed, r, 0), 2*p+1) - p
			dx = rng.Intn(rng.Mix(seed, r, 1), 2*p+1) - p
		}
		flip := a.FlipHorizontal && rng.Float(rng.Mix(seed, r, 2)) < 0.5
		copy(img, x)
		// Output pixel (y, x) reads padded-image pixel (y+dy, x+dx), mirrored first.
		for ch := 0; ch < c; ch++ {
			for y := 0; y < h; y++ {
				sy := y + dy
				for xx := 0; xx < w; xx++ {
					sx := xx + dx
					if flip {
						sx = w - 1 - sx
					}
					var v float32
					if sy >= 0 && sy < h && sx >= 0 && sx < w {
						v = img[(ch*h+sy)*w+sx]
					}
					x[(ch*h+y)*w+xx] = v
				}
			}
		}
	}
}

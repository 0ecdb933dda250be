package optim

import "github.com/whittle-ml/whittle/train/grad"

// Masks keeps the zeros of pruned weights at zero through training: their gradients are
// zeroed before each update and their values after it, so momentum and weight decay cannot
// revive them (what training through torch.nn.utils.prune's weight·mask amounts to).
type Masks struct {
	keep map[*grad.Param][]bool
}

// ZeroMasks masks every weight (a parameter of rank 2 or more) that holds exact zeros, the
// mark pruning leaves; biases and normalization parameters are never masked, so that an
// untrained zero bias can still learn.
func ZeroMasks(params []*grad.Param) *Masks {
	m := &Masks{keep: map[*grad.Param][]bool{}}
	for _, p := range params {
		if len(p.Shape) < 2 {
			continue
		}
		var keep []bool
		for i, v := range p.Value {
			if v == 0 {
				if keep == nil {
					keep = make([]bool, len(p.Value))
					for j := range keep {
						keep[j] = true
					}
				}
				keep[i] = false
			}
		}
		if keep != nil {
			m.keep[p] = keep
		}
	}
	return m
}

// Masked returns how many weights the masks hold at zero.
func (m *Masks) Masked() int {
	n := 0
	for _, keep := range m.keep {
		for _, k := range keep {
			if !k {
				n++
			}
		}
	}
	return n
}

// Grads zeroes the gradients of masked weights.
func (m *Masks) Grads() {
	for p, keep := range m.keep {
		for i, k := range keep {
			if !k {
				p.Grad[i] = 0
			}
		}
	}
}

// Values zeroes masked weights.
func (m *Masks) Values() {
	for p, keep := range m.keep {
		for i, k := range keep {
			if !k {
				p.Value[i] = 0
			}
		}
	}
}

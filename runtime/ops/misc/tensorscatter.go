package misc

import (
	"fmt"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "TensorScatter", SinceVersion: 24, New: newTensorScatter})
}

// newTensorScatter writes update into a copy of past_cache along the sequence axis, at
// write_indices[b] for batch entry b (0 when absent); in circular mode the positions wrap
// modulo the cache length, in linear mode they must fit.
func newTensorScatter(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	axisAttr := n.AttrInt("axis", -2)
	mode := n.AttrString("mode", "linear")
	if mode != "linear" && mode != "circular" {
		return nil, fmt.Errorf("%s: mode %q is not linear or circular", n.Describe(), mode)
	}
	circular := mode == "circular"
	return kfunc(n, func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		past, upd := kernel.Input(in, 0), kernel.Input(in, 1)
		if past == nil || upd == nil {
			return nil, fmt.Errorf("inputs past_cache and update are required")
		}
		if past.DType != upd.DType {
			return nil, fmt.Errorf("update type %s differs from past_cache type %s", upd.DType, past.DType)
		}
		r := len(past.Shape)
		axis := int(axisAttr)
		if axis < 0 {
			axis += r
		}
		if axis < 1 || axis >= r {
			return nil, fmt.Errorf("axis %d is out of range [1, %d) for shape %v (it cannot be the batch axis)", axisAttr, r, past.Shape)
		}
		if len(upd.Shape) != r {
			return nil, fmt.Errorf("update shape %v and past_cache shape %v differ in rank", upd.Shape, past.Shape)
		}
		for i := range past.Shape {
			if i != axis && upd.Shape[i] != past.Shape[i] {
				return nil, fmt.Errorf("update shape %v differs from past_cache shape %v outside axis %d", upd.Shape, past.Shape, axis)
			}
		}
		batch := int(past.Shape[0])
		maxSeq, seq := int(past.Shape[axis]), int(upd.Shape[axis])
		if seq > maxSeq {
			return nil, fmt.Errorf("update sequence length %d exceeds the cache length %d", seq, maxSeq)
		}
		// An empty cache may declare any batch size.
		writes, err := kernel.MakeScratch[int64](batch)
		if err != nil {
			return nil, err
		}
		if w := kernel.Input(in, 2); w != nil {
			if len(w.Shape) != 1 || int(w.Shape[0]) != batch {
				return nil, fmt.Errorf("write_indices shape %v, want [%d]", w.Shape, batch)
			}
			v, err := kernel.Int64sOf(w)
			if err != nil {
				return nil, fmt.Errorf("write_indices: %w", err)
			}
			copy(writes, v)
		}
		for b, w := range writes {
			if w < 0 || (!circular && int(w)+seq > maxSeq) {
				return nil, fmt.Errorf("write index %d for batch %d does not fit %d positions in a cache of %d", w, b, seq, maxSeq)
			}
		}
		out := ctx.Alloc(past.DType, past.Shape...)
		if err := copyAt(out.Data, 0, past.Data, 0, past.Len()); err != nil {
			return nil, err
		}
		if upd.Len() == 0 {
			// Nothing to write; the loops below would still count out the (possibly huge)
			// batch, prefix and sequence sizes of an empty update.
			return []*kernel.Tensor{out}, nil
		}
		// Rows of `inner` contiguous elements; prefix walks the dimensions before axis.
		inner := kernel.ShapeSize(past.Shape[axis+1:])
		perBatch := kernel.ShapeSize(past.Shape[1:axis])
		for b := 0; b < batch; b++ {
			for p := 0; p < perBatch; p++ {
				prefix := b*perBatch + p
				for s := 0; s < seq; s++ {
					pos := int(writes[b]) + s
					if circular {
						pos %= maxSeq
					}
					dst := (prefix*maxSeq + pos) * inner
					src := (prefix*seq + s) * inner
					if err := copyAt(out.Data, dst, upd.Data, src, inner); err != nil {
						return nil, err
					}
				}
			}
		}
		return []*kernel.Tensor{out}, nil
	}), nil
}

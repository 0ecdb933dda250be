package misc

import (
	"fmt"
	"math"
	"sort"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "NonMaxSuppression", SinceVersion: 10, Types: floatTypes, New: newNMS})
}

// newNMS selects, per batch and class, boxes in decreasing score order (ties: lower index
// first), dropping those whose IoU with an already selected box is strictly above
// iou_threshold, until max_output_boxes_per_class are selected. Boxes scoring at or below
// score_threshold (when given) are never candidates. Output rows are
// [batch, class, box], batch-major then class then selection order.
func newNMS(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	center := n.AttrInt("center_point_box", 0)
	if center != 0 && center != 1 {
		return nil, fmt.Errorf("%s: center_point_box %d is not 0 or 1", n.Describe(), center)
	}
	return kfunc(n, func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		boxesT, scoresT := kernel.Input(in, 0), kernel.Input(in, 1)
		if boxesT == nil || scoresT == nil {
			return nil, fmt.Errorf("inputs boxes and scores are required")
		}
		if len(boxesT.Shape) != 3 || boxesT.Shape[2] != 4 {
			return nil, fmt.Errorf("boxes shape %v, want [batches, boxes, 4]", boxesT.Shape)
		}
		nb, nBoxes := int(boxesT.Shape[0]), int(boxesT.Shape[1])
		if len(scoresT.Shape) != 3 || int(scoresT.Shape[0]) != nb || int(scoresT.Shape[2]) != nBoxes {
			return nil, fmt.Errorf("scores shape %v, want [%d, classes, %d]", scoresT.Shape, nb, nBoxes)
		}
		nc := int(scoresT.Shape[1])
		boxes, err := kernel.FloatsOf(boxesT)
		if err != nil {
			return nil, fmt.Errorf("boxes: %w", err)
		}
		scores, err := kernel.FloatsOf(scoresT)
		if err != nil {
			return nil, fmt.Errorf("scores: %w", err)
		}
		var maxOut int64
		if t := kernel.Input(in, 2); t != nil && t.NumElements() > 0 {
			if maxOut, err = scalarInt(t, "max_output_boxes_per_class"); err != nil {
				return nil, err
			}
		}
		iou := 0.0
		if t := kernel.Input(in, 3); t != nil && t.NumElements() > 0 {
			v, err := kernel.FloatsOf(t)
			if err != nil {
				return nil, fmt.Errorf("iou_threshold: %w", err)
			}
			iou = v[0]
		}
		hasScoreThreshold, scoreThreshold := false, 0.0
		if t := kernel.Input(in, 4); t != nil && t.NumElements() > 0 {
			v, err := kernel.FloatsOf(t)
			if err != nil {
				return nil, fmt.Errorf("score_threshold: %w", err)
			}
			hasScoreThreshold, scoreThreshold = true, v[0]
		}
		// Corners (ymin, xmin, ymax, xmax) of every box, normalized once.
		corners, err := kernel.MakeScratch[[4]float64](len(boxes) / 4)
		if err != nil {
			return nil, err
		}
		for i := range corners {
			b := boxes[i*4 : i*4+4]
			if center == 1 {
				corners[i] = [4]float64{b[1] - b[3]/2, b[0] - b[2]/2, b[1] + b[3]/2, b[0] + b[2]/2}
			} else {
				corners[i] = [4]float64{math.Min(b[0], b[2]), math.Min(b[1], b[3]), math.Max(b[0], b[2]), math.Max(b[1], b[3])}
			}
		}
		var selected []int64
		// Without scores there is nothing to order, and an empty scores tensor may declare
		// any box count.
		orderCap := nBoxes
		if len(scores) == 0 {
			orderCap = 0
		}
		order, err := kernel.MakeScratch[int](orderCap)
		if err != nil {
			return nil, err
		}
		order = order[:0]
		var chosen []int
		for b := 0; b < nb; b++ {
			for c := 0; c < nc; c++ {
				sc := scores[(b*nc+c)*nBoxes : (b*nc+c+1)*nBoxes]
				order = order[:0]
				for i, s := range sc {
					if !hasScoreThreshold || s > scoreThreshold {
						order = append(order, i)
					}
				}
				sort.SliceStable(order, func(i, j int) bool { return sc[order[i]] > sc[order[j]] })
				chosen = chosen[:0]
				for _, i := range order {
					if int64(len(chosen)) >= maxOut {
						break
					}
					keep := true
					for _, j := range chosen {
						if overlaps(corners[b*nBoxes+i], corners[b*nBoxes+j], iou) {
							keep = false
							break
						}
					}
					if keep {
						chosen = append(chosen, i)
						selected = append(selected, int64(b), int64(c), int64(i))
					}
				}
			}
		}
		out := ctx.Alloc(ir.Int64, int64(len(selected)/3), 3)
		copy(out.Data.([]int64), selected)
		return []*kernel.Tensor{out}, nil
	}), nil
}

// overlaps reports whether boxes a and b (ymin, xmin, ymax, xmax) have an IoU strictly
// above threshold; boxes without area never overlap.
func overlaps(a, b [4]float64, threshold float64) bool {
	ih := math.Min(a[2], b[2]) - math.Max(a[0], b[0])
	iw := math.Min(a[3], b[3]) - math.Max(a[1], b[1])
	if ih <= 0 || iw <= 0 {
		return false
	}
	inter := ih * iw
	areaA := (a[2] - a[0]) * (a[3] - a[1])
	areaB := (b[2] - b[0]) * (b[3] - b[1])
	union := areaA + areaB - inter
	if areaA <= 0 || areaB <= 0 || union <= 0 {
		return false
	}
	return inter/union > threshold
}

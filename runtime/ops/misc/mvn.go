package misc

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "MeanVarianceNormalization", SinceVersion: 9, Types: floatTypes, New: newMVN})
}

// mvnEpsilon is the constant the ONNX function body adds to the standard deviation.
const mvnEpsilon = 1e-9

// newMVN computes (X − E[X]) / (sqrt(E[X²] − E[X]²) + 1e-9) with the expectations taken
// over axes (default [0, 2, 3]), exactly as the operator's function body defines it.
func newMVN(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	axes := n.AttrInts("axes", []int64{0, 2, 3})
	return kfunc(n, func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x := kernel.Input(in, 0)
		if x == nil {
			return nil, fmt.Errorf("input is required")
		}
		r := len(x.Shape)
		reduced := make([]bool, r)
		for _, a := range axes {
			n, err := kernel.NormalizeAxis(a, r)
			if err != nil {
				return nil, err
			}
			reduced[n] = true
		}
		xs, err := kernel.FloatsOf(x)
		if err != nil {
			return nil, err
		}
		if len(xs) == 0 {
			// The kept axes of an empty tensor may still count any number of groups.
			return kernel.Single(kernel.FromFloat64s(ctx, x.DType, x.Shape, xs))
		}
		// group[i] is the index of element i's statistics: its multi-index with the reduced
		// axes dropped.
		groups, count := 1, 1
		for i, d := range x.Shape {
			if reduced[i] {
				count *= int(d)
			} else {
				groups *= int(d)
			}
		}
		// groups ≤ len(xs) now, but every buffer is as large as the input or its stats.
		sum, err := kernel.MakeScratch[float64](groups)
		if err != nil {
			return nil, err
		}
		sumSq, err := kernel.MakeScratch[float64](groups)
		if err != nil {
			return nil, err
		}
		group, err := kernel.MakeScratch[int](len(xs))
		if err != nil {
			return nil, err
		}
		idx := make([]int64, r)
		for i, v := range xs {
			unravel(i, x.Shape, idx)
			g := 0
			for a, p := range idx {
				if !reduced[a] {
					g = g*int(x.Shape[a]) + int(p)
				}
			}
			group[i] = g
			sum[g] += v
			sumSq[g] += v * v
		}
		std, err := kernel.MakeScratch[float64](groups)
		if err != nil {
			return nil, err
		}
		for g := range sum {
			mean := sum[g] / float64(count)
			sum[g] = mean
			std[g] = math.Sqrt(math.Max(sumSq[g]/float64(count)-mean*mean, 0)) + mvnEpsilon
		}
		res, err := kernel.MakeScratch[float64](len(xs))
		if err != nil {
			return nil, err
		}
		for i, v := range xs {
			res[i] = (v - sum[group[i]]) / std[group[i]]
		}
		return kernel.Single(kernel.FromFloat64s(ctx, x.DType, x.Shape, res))
	}), nil
}

package misc

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "Det", SinceVersion: 11, Types: floatTypes, New: newDet})
}

// newDet computes the determinant of each trailing M×M matrix by LU decomposition with
// partial pivoting in float64.
func newDet(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return kfunc(info.Node, func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
		x := kernel.Input(in, 0)
		if x == nil {
			return nil, fmt.Errorf("input is required")
		}
		r := len(x.Shape)
		if r < 2 || x.Shape[r-1] != x.Shape[r-2] {
			return nil, fmt.Errorf("input shape %v must end in a square matrix", x.Shape)
		}
		m := int(x.Shape[r-1])
		xs, err := kernel.FloatsOf(x)
		if err != nil {
			return nil, err
		}
		// An empty x may declare any batch (the output's size) and any matrix size:
		// check the counts and weigh both buffers.
		batch, err := ir.NumElements(x.Shape[:r-2])
		if err != nil {
			return nil, fmt.Errorf("batch shape %v: %w", x.Shape[:r-2], err)
		}
		res, err := kernel.MakeScratch[float64](int(batch))
		if err != nil {
			return nil, err
		}
		if len(xs) == 0 {
			m = 0 // every matrix is empty (m = 0) or there are none (batch = 0)
		}
		a, err := kernel.MakeScratch[float64](m * m)
		if err != nil {
			return nil, err
		}
		for b := range res {
			copy(a, xs[b*m*m:(b+1)*m*m])
			res[b] = luDet(a, m)
		}
		return kernel.Single(kernel.FromFloat64s(ctx, x.DType, x.Shape[:r-2], res))
	}), nil
}

// luDet overwrites a (m×m, row-major) with its LU factors and returns the determinant.
func luDet(a []float64, m int) float64 {
	det := 1.0
	for col := 0; col < m; col++ {
		pivot := col
		for row := col + 1; row < m; row++ {
			if math.Abs(a[row*m+col]) > math.Abs(a[pivot*m+col]) {
				pivot = row
			}
		}
		if a[pivot*m+col] == 0 {
			return 0
		}
		if pivot != col {
			for j := 0; j < m; j++ {
				a[col*m+j], a[pivot*m+j] = a[pivot*m+j], a[col*m+j]
			}
			det = -det
		}
		p := a[col*m+col]
		det *= p
		for row := col + 1; row < m; row++ {
			f := a[row*m+col] / p
			for j := col + 1; j < m; j++ {
				a[row*m+j] -= f * a[col*m+j]
			}
		}
	}
	return det
}

package passes

import (
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestFuseMatMulAddIntoGemm(t *testing.T) {
	tests := []struct {
		name    string
		build   func(b *builder) *ir.Model
		wantOps string
	}{
		{
			name: "2-D MatMul + vector bias (either operand order)",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 4, 3).Floats("W", []int64{3, 2}, 1, 2, 3, 4, 5, 6).Floats("c", []int64{2}, 1, 2).
					Node("MatMul", "X,W", "M").Node("Add", "c,M", "Y").Output("Y").Model()
			},
			wantOps: "Gemm",
		},
		{
			name: "bias [M,1] broadcasts unidirectionally",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 4, 3).Floats("W", []int64{3, 2}, 1, 2, 3, 4, 5, 6).Floats("c", []int64{4, 1}, 1, 2, 3, 4).
					Node("MatMul", "X,W", "M").Node("Add", "M,c", "Y").Output("Y").Model()
			},
			wantOps: "Gemm",
		},
		{
			name: "symbolic batch with a vector bias",
			build: func(b *builder) *ir.Model {
				return b.InputOf("X", "float[N,3]").Floats("W", []int64{3, 2}, 1, 2, 3, 4, 5, 6).Floats("c", []int64{2}, 1, 2).
					Node("MatMul", "X,W", "M").Node("Add", "M,c", "Y").Output("Y").Model()
			},
			wantOps: "Gemm",
		},
		{
			name: "symbolic batch with a per-row bias is not fused",
			build: func(b *builder) *ir.Model {
				return b.InputOf("X", "float[N,3]").Floats("W", []int64{3, 2}, 1, 2, 3, 4, 5, 6).Floats("c", []int64{4, 1}, 1, 2, 3, 4).
					Node("MatMul", "X,W", "M").Node("Add", "M,c", "Y").Output("Y").Model()
			},
			wantOps: "MatMul,Add",
		},
		{
			name: "bias that would grow the output is not fused",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 1, 3).Floats("W", []int64{3, 2}, 1, 2, 3, 4, 5, 6).Floats("c", []int64{4, 2}, 1, 2, 3, 4, 5, 6, 7, 8).
					Node("MatMul", "X,W", "M").Node("Add", "M,c", "Y").Output("Y").Model()
			},
			wantOps: "MatMul,Add",
		},
		{
			name: "3-D MatMul is not fused",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 2, 4, 3).Floats("W", []int64{3, 2}, 1, 2, 3, 4, 5, 6).Floats("c", []int64{2}, 1, 2).
					Node("MatMul", "X,W", "M").Node("Add", "M,c", "Y").Output("Y").Model()
			},
			wantOps: "MatMul,Add",
		},
		{
			name: "MatMul output read twice is not fused",
			build: func(b *builder) *ir.Model {
				return b.Input("X", ir.Float, 4, 3).Floats("W", []int64{3, 2}, 1, 2, 3, 4, 5, 6).Floats("c", []int64{2}, 1, 2).
					Node("MatMul", "X,W", "M").Node("Add", "M,c", "Y").Output("Y", "M").Model()
			},
			wantOps: "MatMul,Add",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.build(newBuilder(t, 13))
			runPasses(t, m, "fuse_matmul_add_into_gemm")
			if got := ops(m); got != tc.wantOps {
				t.Errorf("ops = %q, want %q\n%s", got, tc.wantOps, ir.Format(m))
			}
			if got := outNames(m); got[0] != 'Y' {
				t.Errorf("outputs = %q", got)
			}
		})
	}
}

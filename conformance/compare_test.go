package conformance

import (
	"math"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func TestCompare(t *testing.T) {
	f := func(v ...float32) *kernel.Tensor { return kernel.FromFloat32([]int64{int64(len(v))}, v) }
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	seq := func(ts ...*kernel.Tensor) *kernel.Tensor { return &kernel.Tensor{Kind: kernel.SequenceValue, Seq: ts} }
	tests := []struct {
		name      string
		got, want *kernel.Tensor
		wantErr   string // "" for equal
	}{
		{"equal", f(1, 2), f(1, 2), ""},
		{"within rtol", f(1000.9), f(1000), ""},
		{"beyond rtol", f(1002), f(1000), "1 of 1 values differ"},
		{"tiny within atol", f(5e-8), f(0), ""},
		{"beyond atol", f(1e-6), f(0), "differ"},
		{"nan equals nan", f(nan), f(nan), ""},
		{"nan vs number", f(nan), f(1), "differ"},
		{"inf must match", f(inf), f(float32(math.MaxFloat32)), "differ"},
		{"shape", kernel.FromFloat32([]int64{1, 2}, []float32{1, 2}), f(1, 2), "shape"},
		{"dtype", kernel.FromInt64([]int64{2}, []int64{1, 2}), f(1, 2), "element type"},
		{"ints exact", kernel.FromInt64([]int64{2}, []int64{1, 3}), kernel.FromInt64([]int64{2}, []int64{1, 2}), "value at [1]"},
		{"strings", &kernel.Tensor{DType: ir.String, Shape: []int64{1}, Data: []string{"a"}},
			&kernel.Tensor{DType: ir.String, Shape: []int64{1}, Data: []string{"b"}}, `got "a"`},
		{"sequence length", seq(f(1)), seq(f(1), f(2)), "1 elements, want 2"},
		{"sequence element", seq(f(1), f(3)), seq(f(1), f(2)), "sequence element 1"},
		{"none", &kernel.Tensor{Kind: kernel.NoneValue}, &kernel.Tensor{Kind: kernel.NoneValue}, ""},
		{"none vs tensor", f(1), &kernel.Tensor{Kind: kernel.NoneValue}, "want none"},
		{"float16 within", &kernel.Tensor{DType: ir.Float16, Shape: []int64{1}, Data: []uint16{kernel.Float32ToFloat16(1.0005)}},
			&kernel.Tensor{DType: ir.Float16, Shape: []int64{1}, Data: []uint16{kernel.Float32ToFloat16(1)}}, ""},
	}
	for _, tt := range tests {
		err := Compare(tt.got, tt.want)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.wantErr)
		}
	}
}

package kernel

import (
	"fmt"
	"reflect"
	"testing"
)

func TestBroadcastShapes(t *testing.T) {
	tests := []struct {
		in      [][]int64
		want    []int64
		wantErr bool
	}{
		{in: [][]int64{{2, 3, 4, 5}, {}}, want: []int64{2, 3, 4, 5}},
		{in: [][]int64{{2, 3, 4, 5}, {5}}, want: []int64{2, 3, 4, 5}},
		{in: [][]int64{{4, 5}, {2, 3, 4, 5}}, want: []int64{2, 3, 4, 5}},
		{in: [][]int64{{1, 4, 5}, {2, 3, 1, 1}}, want: []int64{2, 3, 4, 5}},
		{in: [][]int64{{3, 4, 5}, {2, 1, 1, 1}}, want: []int64{2, 3, 4, 5}},
		{in: [][]int64{{0, 3}, {1, 3}}, want: []int64{0, 3}},
		{in: [][]int64{{0}, {1}}, want: []int64{0}},
		{in: [][]int64{{3}, {2, 1}, {1, 1, 3}}, want: []int64{1, 2, 3}},
		{in: [][]int64{}, want: []int64{}},
		{in: [][]int64{{2, 3}, {3, 2}}, wantErr: true},
		{in: [][]int64{{0}, {3}}, wantErr: true},
		{in: [][]int64{{-1}}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := BroadcastShapes(tt.in...)
		if tt.wantErr {
			if err == nil {
				t.Errorf("BroadcastShapes(%v) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("BroadcastShapes(%v) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestBroadcastStrides(t *testing.T) {
	tests := []struct{ in, out, want []int64 }{
		{[]int64{2, 3}, []int64{2, 3}, []int64{3, 1}},
		{[]int64{3}, []int64{2, 3}, []int64{0, 1}},
		{[]int64{2, 1}, []int64{2, 3}, []int64{1, 0}},
		{[]int64{}, []int64{2, 3}, []int64{0, 0}},
		{[]int64{1, 4, 1}, []int64{2, 3, 4, 5}, []int64{0, 0, 1, 0}},
	}
	for _, tt := range tests {
		if got := BroadcastStrides(tt.in, tt.out); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("BroadcastStrides(%v, %v) = %v, want %v", tt.in, tt.out, got, tt.want)
		}
	}
}

// naiveBinary is the obvious per-element index computation that Binary must agree with.
func naiveBinary(outShape []int64, a []int, aShape []int64, b []int, bShape []int64) []int {
	n := 1
	for _, d := range outShape {
		n *= int(d)
	}
	as, bs := BroadcastStrides(aShape, outShape), BroadcastStrides(bShape, outShape)
	out := make([]int, n)
	idx := make([]int64, len(outShape))
	for i := 0; i < n; i++ {
		rem := int64(i)
		for d := len(outShape) - 1; d >= 0; d-- {
			idx[d] = rem % outShape[d]
			rem /= outShape[d]
		}
		var ia, ib int64
		for d := range idx {
			ia += idx[d] * as[d]
			ib += idx[d] * bs[d]
		}
		out[i] = a[ia]*1000 + b[ib]
	}
	return out
}

func seqFrom1(shape []int64) []int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

func TestBinaryMatchesNaive(t *testing.T) {
	pairs := [][2][]int64{
		{{2, 3}, {2, 3}},
		{{2, 3}, {}},
		{{}, {2, 3}},
		{{2, 3}, {3}},
		{{2, 3}, {2, 1}},
		{{1, 4, 5}, {2, 3, 1, 1}},
		{{3, 4, 5}, {2, 1, 1, 1}},
		{{2, 1, 4}, {1, 3, 1}},
		{{2, 3, 4, 5}, {3, 1, 5}},
		{{1, 1}, {1}},
		{{0, 3}, {3}},
		{{2, 3, 1}, {1, 3, 4}},
	}
	for _, p := range pairs {
		t.Run(fmt.Sprint(p[0], p[1]), func(t *testing.T) {
			outShape, err := BroadcastShapes(p[0], p[1])
			if err != nil {
				t.Fatal(err)
			}
			a, b := seqFrom1(p[0]), seqFrom1(p[1])
			want := naiveBinary(outShape, a, p[0], b, p[1])
			got := make([]int, len(want))
			Binary(got, outShape, a, p[0], b, p[1], func(x, y int) int { return x*1000 + y })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Binary = %v, want %v", got, want)
			}
			// Ternary with a scalar third operand must agree too.
			got3 := make([]int, len(want))
			Ternary(got3, outShape, a, p[0], b, p[1], []int{7}, nil, func(x, y, z int) int { return x*1000 + y + z - 7 })
			if !reflect.DeepEqual(got3, want) {
				t.Errorf("Ternary = %v, want %v", got3, want)
			}
			// BroadcastTo / BroadcastOffsets of a alone.
			offs, err := BroadcastOffsets(p[0], outShape)
			if err != nil {
				t.Fatal(err)
			}
			exp := make([]int, len(offs))
			for i, o := range offs {
				exp[i] = a[o]
			}
			bt := make([]int, len(want))
			BroadcastTo(bt, outShape, a, p[0])
			if !reflect.DeepEqual(bt, exp) {
				t.Errorf("BroadcastTo = %v, offsets give %v", bt, exp)
			}
			for i := range want {
				if want[i]/1000 != exp[i] {
					t.Fatalf("BroadcastOffsets disagree with naive at %d: %d vs %d", i, exp[i], want[i]/1000)
				}
			}
		})
	}
}

func BenchmarkBinarySameShape(b *testing.B) {
	x := make([]float32, 1<<16)
	y := make([]float32, 1<<16)
	out := make([]float32, 1<<16)
	shape := []int64{1 << 16}
	for b.Loop() {
		Binary(out, shape, x, shape, y, shape, func(p, q float32) float32 { return p + q })
	}
}

func BenchmarkBinaryRowBroadcast(b *testing.B) {
	x := make([]float32, 256*256)
	y := make([]float32, 256)
	out := make([]float32, 256*256)
	shape := []int64{256, 256}
	for b.Loop() {
		Binary(out, shape, x, shape, y, []int64{256}, func(p, q float32) float32 { return p + q })
	}
}

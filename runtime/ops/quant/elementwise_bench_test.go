package quant

import (
	"math/rand"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

// BenchmarkElementwise times, with every elementwise kernel set this machine runs, the
// byte kernels of EfficientNet-B0's int8 graph on its largest shapes, one thread: a table
// lookup (QLookup, QMulLookup) over 112×112×96 bytes, the channel sums of a global average
// pool over 56×56×144, and QMul by a per-channel scale over 56×56×144. Bytes/s count the
// input bytes.
//
//	go test ./runtime/ops/quant -run '^$' -bench Elementwise
func BenchmarkElementwise(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	bytes := func(n int) []uint8 {
		x := make([]uint8, n)
		for i := range x {
			x[i] = uint8(r.Intn(256))
		}
		return x
	}
	var table [256]uint8
	copy(table[:], bytes(256))
	lx, ly := bytes(112*112*96), make([]uint8, 112*112*96)
	const hw, c = 56 * 56, 144
	sx, sums := bytes(hw*c), make([]int32, c)
	m, err := newQMulParams(ir.NewGraph("b").NewNode(Domain, OpQMul, nil, []string{"y"}),
		scalarF(0.03), zeroPoint(ir.Uint8, 7), scalarF(0.004), zeroPoint(ir.Uint8, 0), scalarF(0.05), zeroPoint(ir.Uint8, 3))
	if err != nil {
		b.Fatal(err)
	}
	sb, bf := bytes(c), make([]float32, c)
	for i, v := range sb {
		bf[i] = m.db[v]
	}
	my := make([]uint8, hw*c)
	for _, v := range elementwiseVariants() {
		b.Run("lookup/"+v, func(b *testing.B) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			b.SetBytes(int64(len(lx)))
			for i := 0; i < b.N; i++ {
				lookupBytes(&table, lx, ly)
			}
		})
		b.Run("colsums/"+v, func(b *testing.B) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			b.SetBytes(int64(len(sx)))
			for i := 0; i < b.N; i++ {
				clear(sums)
				colSums(sx, hw, c, sums, false)
			}
		})
		b.Run("mulchannels/"+v, func(b *testing.B) {
			defer func(old string) { elementwiseVariant = old }(elementwiseVariant)
			elementwiseVariant = v
			b.SetBytes(int64(len(sx)))
			for i := 0; i < b.N; i++ {
				m.mulChannels(sx, sb, bf, my)
			}
		})
	}
}

package quant

import (
	"github.com/whittle-ml/whittle/internal/linalg"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Fast paths of QuantizeLinear and DequantizeLinear for the case QDQ models are made of:
// per-tensor float scales and 8-bit integers. The general code widens every element
// through float64 and a per-element closure; these run the same arithmetic vectorized
// (quantizePlane) or through a 256-entry table.

// scalarByte reads a one-element int8 or uint8 zero point (absent: 0, type def).
func scalarByte(zp *kernel.Tensor, def ir.DataType) (int32, ir.DataType, bool) {
	if zp == nil {
		return 0, def, true
	}
	if zp.NumElements() != 1 {
		return 0, 0, false
	}
	switch d := zp.Data.(type) {
	case []int8:
		return int32(d[0]), ir.Int8, zp.DType == ir.Int8
	case []uint8:
		return int32(d[0]), ir.Uint8, zp.DType == ir.Uint8
	}
	return 0, 0, false
}

// runFast quantizes float32 x per tensor into int8 or uint8; false when the case is not
// that one (the general code then runs and reports any error).
func (k *quantizeLinear) runFast(ctx *kernel.Context, x, scale, zp *kernel.Tensor) (*kernel.Tensor, bool) {
	if x.DType != ir.Float || scale.DType != ir.Float || scale.NumElements() != 1 || k.blockSize > 0 ||
		(k.precision != 0 && k.precision != ir.Float) {
		return nil, false
	}
	def := ir.Uint8
	if k.outputDType != 0 {
		def = k.outputDType
	}
	z, dt, ok := scalarByte(zp, def)
	if !ok || (k.outputDType != 0 && k.outputDType != dt) || (dt != ir.Uint8 && dt != ir.Int8) {
		return nil, false
	}
	lo, hi := typeRange(dt)
	c := quantizeConsts{scale: scale.Float32s()[0], zp: float32(z), lo: float32(lo), hi: float32(hi)}
	y := ctx.Alloc(dt, x.Shape...)
	xs := x.Float32s()[:x.NumElements()]
	yb, _ := byteData(y)
	size, jobs := linalg.Chunks(len(xs), 4*ctx.Parallelism(), 1<<14)
	if jobs < 2 || ctx.Parallelism() < 2 {
		quantizePlane(xs, &c, yb)
		return y, true
	}
	linalg.ForCost(ctx.Parallelism(), jobs, size, func(j int) {
		lo, hi := j*size, min(len(xs), (j+1)*size)
		quantizePlane(xs[lo:hi], &c, yb[lo:hi])
	})
	return y, true
}

// runFast dequantizes int8 or uint8 x per tensor into float32 through a table of the 256
// possible results (each computed as the general code does).
func (k *dequantizeLinear) runFast(ctx *kernel.Context, x, scale, zp *kernel.Tensor) (*kernel.Tensor, bool) {
	if (x.DType != ir.Uint8 && x.DType != ir.Int8) || scale.DType != ir.Float || scale.NumElements() != 1 ||
		k.blockSize > 0 || (k.outputDType != 0 && k.outputDType != ir.Float) {
		return nil, false
	}
	z, dt, ok := scalarByte(zp, x.DType)
	if !ok || dt != x.DType {
		return nil, false
	}
	s := float64(scale.Float32s()[0])
	var table [256]float32
	for b := range table {
		v := int64(b)
		if x.DType == ir.Int8 {
			v = int64(int8(b))
		}
		table[b] = float32(float64(v-int64(z)) * s)
	}
	y := ctx.Alloc(ir.Float, x.Shape...)
	xb, _ := byteData(x)
	ys := y.Float32s()
	for i, b := range xb[:len(ys)] {
		ys[i] = table[b]
	}
	return y, true
}

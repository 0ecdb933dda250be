package passes

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// qparams are the scale and zero point of a per-tensor quantized activation.
type qparams struct {
	scale float32
	zp    int32
	typ   ir.DataType // ir.Uint8 or ir.Int8
}

// qrange returns the integer interval of an activation type: uint8 [0, 255], symmetric
// int8 [-127, 127] (ORT's choice: zero point 0 and a range symmetric about it).
func qrange(typ ir.DataType) (qmin, qmax int32) {
	if typ == ir.Int8 {
		return -127, 127
	}
	return 0, 255
}

// activationParams turns a calibrated range into a scale and zero point. The range is
// widened to contain 0 (so that zero padding and ReLU's zeros are exact); symmetric int8
// uses the larger magnitude on both sides and zero point 0. An empty range gets scale 1,
// as ORT does.
func activationParams(r Range, typ ir.DataType) qparams {
	lo := math.Min(float64(r.Min), 0)
	hi := math.Max(float64(r.Max), 0)
	qmin, qmax := qrange(typ)
	if typ == ir.Int8 {
		m := math.Max(-lo, hi)
		lo, hi = -m, m
	}
	if hi <= lo || math.IsNaN(hi-lo) {
		return qparams{scale: 1, zp: 0, typ: typ}
	}
	scale := float32((hi - lo) / float64(qmax-qmin))
	if scale == 0 || math.IsInf(float64(scale), 0) {
		return qparams{scale: 1, zp: 0, typ: typ}
	}
	zp := int32(0)
	if typ != ir.Int8 {
		zp = int32(math.RoundToEven(float64(qmin) - lo/float64(scale)))
		zp = max(qmin, min(qmax, zp))
	}
	return qparams{scale: scale, zp: zp, typ: typ}
}

// fixedParams are the parameters of outputs in [0, 1] (Softmax, Sigmoid): uint8 scale
// 1/256 zero point 0 as ORT uses, or symmetric int8 scale 1/127.
func fixedParams(typ ir.DataType) qparams {
	if typ == ir.Int8 {
		return qparams{scale: 1.0 / 127, zp: 0, typ: typ}
	}
	return qparams{scale: 1.0 / 256, zp: 0, typ: typ}
}

// quantizeValue is QuantizeLinear's arithmetic: round half to even, saturate.
func quantizeValue(x float32, scale float32, zp, qmin, qmax int32) int32 {
	q := math.RoundToEven(float64(x)/float64(scale)) + float64(zp)
	if q < float64(qmin) {
		return qmin
	}
	if q > float64(qmax) {
		return qmax
	}
	return int32(q)
}

// weightQuant is a weight tensor quantized symmetric (zero point 0).
type weightQuant struct {
	q      []byte // int8 values (two's complement), in [qmin, qmax]: an int8 tensor's data
	scales []float32
	axis   int // -1: per tensor
	dims   []int64
}

// weightRange is the signed interval of weights: int8 [-127, 127], reduced range
// [-64, 64] (ORT's 7-bit choice), int4 [-8, 7].
func weightRange(bits int, reduce bool) (qmin, qmax int32) {
	switch {
	case bits == 4:
		return -8, 7
	case reduce:
		return -64, 64
	}
	return -127, 127
}

// finite returns an error for the first NaN or infinity in xs. Integer types cannot hold
// either, and their scales would turn the whole tensor (or channel) into garbage: a model
// with such weights is broken, and quantizing it must not hide that.
func finite(xs []float32) error {
	for i, x := range xs {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return notFinite(x, i)
		}
	}
	return nil
}

func notFinite(x float32, i int) error {
	return fmt.Errorf("holds %v at flat index %d: NaN and infinite values cannot be quantized (repair the model, or keep this node float with --exclude)", x, i)
}

// float32Raw returns a float tensor's little-endian bytes and element count, for loops
// that read the weights where they lie (a model's weights may be gigabytes; decoding them
// into a []float32 first would double that).
func float32Raw(t *ir.Tensor) ([]byte, int, error) {
	if t.DataType != ir.Float {
		return nil, 0, fmt.Errorf("tensor %q is %s, not float", t.Name, t.DataType)
	}
	if len(t.Raw)%4 != 0 {
		return nil, 0, fmt.Errorf("tensor %q: %d data bytes is not a multiple of 4", t.Name, len(t.Raw))
	}
	return t.Raw, len(t.Raw) / 4, nil
}

func f32At(raw []byte, i int) float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
}

// quantizeWeights quantizes a float tensor symmetrically, per tensor (axis < 0) or with
// one scale per index of axis, to at most 8 bits. An all-zero channel gets scale 1.
func quantizeWeights(t *ir.Tensor, axis, bits int, reduce bool) (*weightQuant, error) {
	raw, n, err := float32Raw(t)
	if err != nil {
		return nil, err
	}
	for i := range n {
		if x := f32At(raw, i); math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, notFinite(x, i)
		}
	}
	if axis >= len(t.Dims) {
		return nil, fmt.Errorf("weight %q of shape %v has no axis %d", t.Name, t.Dims, axis)
	}
	_, qmax := weightRange(bits, reduce)
	qmin := -qmax
	if bits == 4 {
		qmin = -8
	}
	outer, channels, inner := 1, 1, n
	if axis >= 0 {
		channels = int(t.Dims[axis])
		outer = 1
		for _, d := range t.Dims[:axis] {
			outer *= int(d)
		}
		inner = 1
		for _, d := range t.Dims[axis+1:] {
			inner *= int(d)
		}
	}
	absMax := make([]float64, channels)
	for o := 0; o < outer; o++ {
		for c := 0; c < channels; c++ {
			base := (o*channels + c) * inner
			for i := base; i < base+inner; i++ {
				absMax[c] = math.Max(absMax[c], math.Abs(float64(f32At(raw, i))))
			}
		}
	}
	w := &weightQuant{q: make([]byte, n), scales: make([]float32, channels), axis: axis, dims: t.Dims}
	for c, m := range absMax {
		s := float32(m / float64(qmax))
		if s == 0 || math.IsInf(float64(s), 0) || math.IsNaN(float64(s)) {
			s = 1
		}
		w.scales[c] = s
	}
	for o := 0; o < outer; o++ {
		for c := 0; c < channels; c++ {
			base := (o*channels + c) * inner
			for k := base; k < base+inner; k++ {
				w.q[k] = byte(int8(quantizeValue(f32At(raw, k), w.scales[c], 0, qmin, qmax)))
			}
		}
	}
	return w, nil
}

// quantizeBlocked quantizes a 2-D float tensor in blocks of block elements along axis
// (the reduction axis), symmetric 4-bit: the scale tensor has t's shape with that axis
// divided by block (rounded up), as DequantizeLinear-21's block_size wants.
func quantizeBlocked(t *ir.Tensor, axis, block int) (q []int32, scales []float32, scaleDims []int64, err error) {
	xs, err := t.Float32s()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := finite(xs); err != nil {
		return nil, nil, nil, err
	}
	if len(t.Dims) != 2 || axis < 0 || axis > 1 {
		return nil, nil, nil, fmt.Errorf("weight %q of shape %v: blocked quantization wants a 2-D weight", t.Name, t.Dims)
	}
	rows, cols := int(t.Dims[0]), int(t.Dims[1])
	scaleDims = append([]int64(nil), t.Dims...)
	scaleDims[axis] = (t.Dims[axis] + int64(block) - 1) / int64(block)
	sr, sc := int(scaleDims[0]), int(scaleDims[1])
	absMax := make([]float64, sr*sc)
	sidx := func(i, j int) int {
		if axis == 0 {
			return (i/block)*sc + j
		}
		return i*sc + j/block
	}
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			k := sidx(i, j)
			absMax[k] = math.Max(absMax[k], math.Abs(float64(xs[i*cols+j])))
		}
	}
	scales = make([]float32, len(absMax))
	for k, m := range absMax {
		s := float32(m / 7)
		if s == 0 || math.IsInf(float64(s), 0) {
			s = 1
		}
		scales[k] = s
	}
	q = make([]int32, len(xs))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			q[i*cols+j] = quantizeValue(xs[i*cols+j], scales[sidx(i, j)], 0, -8, 7)
		}
	}
	return q, scales, scaleDims, nil
}

// intTensor packs integer values as an ONNX tensor of type dt (int8, uint8, int32, or the
// 4-bit int4, two per byte with the first element in the low nibble).
func intTensor(name string, dt ir.DataType, dims []int64, vals []int32) *ir.Tensor {
	var raw []byte
	switch dt {
	case ir.Int8, ir.Uint8:
		raw = make([]byte, len(vals))
		for i, v := range vals {
			raw[i] = byte(v)
		}
	case ir.Int32:
		raw = make([]byte, 4*len(vals))
		for i, v := range vals {
			binary.LittleEndian.PutUint32(raw[4*i:], uint32(v))
		}
	case ir.Int4, ir.Uint4:
		raw = make([]byte, (len(vals)+1)/2)
		for i, v := range vals {
			nib := byte(v) & 0x0f
			if i%2 == 0 {
				raw[i/2] |= nib
			} else {
				raw[i/2] |= nib << 4
			}
		}
	default:
		panic("passes: intTensor of " + dt.String())
	}
	return ir.NewTensor(name, dt, dims, raw)
}

// int8Tensor is an ONNX int8 tensor of the given data (not copied).
func int8Tensor(dims []int64, data []byte) *ir.Tensor { return ir.NewTensor("", ir.Int8, dims, data) }

// scalarOrVector returns a float tensor of xs: a scalar when per tensor.
func scalarOrVector(name string, xs []float32, perTensor bool) *ir.Tensor {
	if perTensor {
		return ir.FromFloat32(name, nil, xs[:1])
	}
	return ir.FromFloat32(name, []int64{int64(len(xs))}, xs)
}

// zeros returns n zero values.
func zeros(n int) []int32 { return make([]int32, n) }

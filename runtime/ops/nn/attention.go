package nn

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		kernel.KernelDef{Op: "Attention", SinceVersion: 23, Types: floatTypes, New: newAttention},
		kernel.KernelDef{Op: "RotaryEmbedding", SinceVersion: 23, Types: floatTypes, New: newRotary},
	)
}

// attentionKernel is scaled dot-product attention (opset 23/24): MHA, GQA and MQA, 3-D or
// 4-D inputs, boolean or additive masks, causal masking aligned bottom-right, an internal
// KV cache (past/present) or an external one (nonpad_kv_seqlen), softcap, and the
// qk_matmul_output debug output. Fully masked query rows produce zeros, not NaN.
type attentionKernel struct {
	node                *ir.Node
	isCausal            bool
	qHeads, kvHeads     int
	scale               float32
	hasScale            bool
	softcap             float32
	qkMode              int64
	wantPresent, wantQK bool
}

func newAttention(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	k := &attentionKernel{node: n, isCausal: n.AttrInt("is_causal", 0) != 0,
		qHeads: int(n.AttrInt("q_num_heads", 0)), kvHeads: int(n.AttrInt("kv_num_heads", 0)),
		softcap: n.AttrFloat("softcap", 0), qkMode: n.AttrInt("qk_matmul_output_mode", 0),
		wantPresent: wantOutput(n, 1) || wantOutput(n, 2), wantQK: wantOutput(n, 3)}
	if a := n.Attr("scale"); a != nil {
		k.scale, k.hasScale = a.Float, true
	}
	if k.qkMode < 0 || k.qkMode > 3 {
		return nil, opErr(n, "qk_matmul_output_mode %d is not 0..3", k.qkMode)
	}
	if n.AttrInt("left_window_size", -1) != -1 || n.AttrInt("right_window_size", -1) != -1 {
		return nil, opErr(n, "left_window_size/right_window_size are not supported")
	}
	return k, nil
}

// to4D returns t as [batch, heads, seq, size] data; a 3-D [batch, seq, heads·size] tensor
// is transposed.
func to4D(t *kernel.Tensor, heads int) (data []float32, shape [4]int, err error) {
	d, err := asF32(t)
	if err != nil {
		return nil, shape, err
	}
	switch len(t.Shape) {
	case 4:
		return d, [4]int{int(t.Shape[0]), int(t.Shape[1]), int(t.Shape[2]), int(t.Shape[3])}, nil
	case 3:
		if heads <= 0 || int(t.Shape[2])%heads != 0 {
			return nil, shape, errorf("3-D input %v needs a head count dividing its hidden size (got %d)", t.Shape, heads)
		}
		b, s, size := int(t.Shape[0]), int(t.Shape[1]), int(t.Shape[2])/heads
		out, err := kernel.MakeScratch[float32](len(d))
		if err != nil {
			return nil, shape, err
		}
		if len(d) == 0 {
			// An empty tensor may still declare huge batch and sequence sizes.
			return out, [4]int{b, heads, s, size}, nil
		}
		for bi := 0; bi < b; bi++ {
			for si := 0; si < s; si++ {
				for h := 0; h < heads; h++ {
					copy(out[((bi*heads+h)*s+si)*size:((bi*heads+h)*s+si+1)*size], d[(bi*s+si)*heads*size+h*size:][:size])
				}
			}
		}
		return out, [4]int{b, heads, s, size}, nil
	}
	return nil, shape, errorf("shape %v: want 3-D or 4-D", t.Shape)
}

// concatSeq joins past and cur ([b, h, p, d] and [b, h, s, d]) along the sequence axis.
func concatSeq(past []float32, ps [4]int, cur []float32, cs [4]int) ([]float32, [4]int, error) {
	b, h, d := cs[0], cs[1], cs[3]
	total := ps[2] + cs[2]
	// Both parts exist, so their sum fits the address space, but it is a new buffer.
	out, err := kernel.MakeScratch[float32](len(past) + len(cur))
	if err != nil {
		return nil, cs, err
	}
	if len(out) == 0 {
		return out, [4]int{b, h, total, d}, nil
	}
	for i := 0; i < b*h; i++ {
		copy(out[i*total*d:], past[i*ps[2]*d:(i+1)*ps[2]*d])
		copy(out[(i*total+ps[2])*d:], cur[i*cs[2]*d:(i+1)*cs[2]*d])
	}
	return out, [4]int{b, h, total, d}, nil
}

func (k *attentionKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	qt, kt, vt := kernel.Input(inputs, 0), kernel.Input(inputs, 1), kernel.Input(inputs, 2)
	if qt == nil || kt == nil || vt == nil {
		return nil, opErr(k.node, "inputs Q, K and V are required")
	}
	threeD := len(qt.Shape) == 3
	q, qs, err := to4D(qt, k.qHeads)
	if err != nil {
		return nil, opErr(k.node, "Q: %w", err)
	}
	kd, ks, err := to4D(kt, k.kvHeads)
	if err != nil {
		return nil, opErr(k.node, "K: %w", err)
	}
	vd, vs, err := to4D(vt, k.kvHeads)
	if err != nil {
		return nil, opErr(k.node, "V: %w", err)
	}
	pastLen := 0
	if pk, pv := kernel.Input(inputs, 4), kernel.Input(inputs, 5); pk != nil || pv != nil {
		if pk == nil || pv == nil {
			return nil, opErr(k.node, "past_key and past_value must be given together")
		}
		pkd, pks, err := to4D(pk, 0)
		if err != nil {
			return nil, opErr(k.node, "past_key: %w", err)
		}
		pvd, pvs, err := to4D(pv, 0)
		if err != nil {
			return nil, opErr(k.node, "past_value: %w", err)
		}
		if pks[0] != ks[0] || pks[1] != ks[1] || pks[3] != ks[3] || pvs[0] != vs[0] || pvs[1] != vs[1] || pvs[3] != vs[3] {
			return nil, opErr(k.node, "past_key %v / past_value %v do not match K %v / V %v", pk.Shape, pv.Shape, ks, vs)
		}
		pastLen = pks[2]
		if kd, ks, err = concatSeq(pkd, pks, kd, ks); err != nil {
			return nil, err
		}
		if vd, vs, err = concatSeq(pvd, pvs, vd, vs); err != nil {
			return nil, err
		}
	}
	batch, hq, sq, dh := qs[0], qs[1], qs[2], qs[3]
	hkv, total, dv := ks[1], ks[2], vs[3]
	if ks[0] != batch || vs[0] != batch || ks[3] != dh || vs[1] != hkv || vs[2] != total {
		return nil, opErr(k.node, "Q %v, K %v and V %v do not agree", qt.Shape, kt.Shape, vt.Shape)
	}
	if hkv == 0 || hq%hkv != 0 {
		return nil, opErr(k.node, "%d query heads are not a multiple of %d key/value heads", hq, hkv)
	}
	var nonpad []int64
	if t := kernel.Input(inputs, 6); t != nil {
		if t.DType != ir.Int64 || len(t.Int64s()) != batch {
			return nil, opErr(k.node, "nonpad_kv_seqlen must be int64 of shape [%d]", batch)
		}
		nonpad = t.Int64s()
	}
	// The mask, broadcast to [batch, hq, sq, maskLen] through strides; keys past maskLen
	// are masked out.
	var mask []float32
	var maskBool []bool
	var maskStr [4]int
	maskLen := total
	if mt := kernel.Input(inputs, 3); mt != nil {
		ms := mt.Shape
		if len(ms) == 0 || len(ms) > 4 {
			return nil, opErr(k.node, "attn_mask %v: want rank 1 to 4", ms)
		}
		maskLen = int(ms[len(ms)-1])
		if maskLen > total {
			return nil, opErr(k.node, "attn_mask %v is longer than the %d keys", ms, total)
		}
		full := [4]int{batch, hq, sq, maskLen}
		s := 1
		for i := len(ms) - 1; i >= 0; i-- {
			a := 4 - len(ms) + i
			switch int(ms[i]) {
			case full[a]:
				if ms[i] != 1 {
					maskStr[a] = s
				}
			case 1:
			default:
				return nil, opErr(k.node, "attn_mask %v does not broadcast to %v", ms, full)
			}
			s *= int(ms[i])
		}
		if mt.DType == ir.Bool {
			maskBool = mt.Data.([]bool)
		} else if mask, err = asF32(mt); err != nil {
			return nil, opErr(k.node, "attn_mask: %w", err)
		}
	}
	scale := k.scale
	if !k.hasScale {
		scale = float32(1 / math.Sqrt(float64(dh)))
	}
	// Allocate the outputs before the loops: their sizes bound the rows the loops visit
	// (the allocator refuses what overflows or exceeds the memory budget).
	var y outF32
	if threeD {
		y = allocOut(ctx, qt.DType, int64(batch), int64(sq), int64(hq*dv))
	} else {
		y = allocOut(ctx, qt.DType, int64(batch), int64(hq), int64(sq), int64(dv))
	}
	yBuf := y.Buf
	if threeD {
		if yBuf, err = kernel.MakeScratch[float32](len(y.Buf)); err != nil {
			return nil, err
		}
	}
	var qk outF32
	if k.wantQK {
		qk = allocOut(ctx, qt.DType, int64(batch), int64(hq), int64(sq), int64(total))
	}
	negInf := math.Inf(-1)
	// The key count comes from K's shape, which an empty K may set to anything; one
	// accumulator of the value size serves every row.
	scores, err := kernel.MakeScratch[float64](total)
	if err != nil {
		return nil, err
	}
	raw, err := kernel.MakeScratch[float64](total)
	if err != nil {
		return nil, err
	}
	acc, err := kernel.MakeScratch[float64](dv)
	if err != nil {
		return nil, err
	}
	group := hq / hkv
	rows := batch * hq * sq
	if rows > 0 && len(yBuf) == 0 && (!k.wantQK || len(qk.Buf) == 0) {
		rows = 0 // every output is empty: nothing to compute
	}
	if rows > 0 && dh == 0 {
		// Without a head size the rows are bounded by no input: refuse rather than loop.
		return nil, opErr(k.node, "Q %v and K %v have head size 0", qt.Shape, kt.Shape)
	}
	for b := 0; b < batch && rows > 0; b++ {
		offset := 0
		switch {
		case pastLen > 0:
			offset = pastLen
		case nonpad != nil:
			offset = int(nonpad[b]) - sq
		}
		for h := 0; h < hq; h++ {
			kh := h / group
			for i := 0; i < sq; i++ {
				qrow := q[((b*hq+h)*sq+i)*dh:][:dh]
				for j := 0; j < total; j++ {
					krow := kd[((b*hkv+kh)*total+j)*dh:][:dh]
					var dot float64
					for d, qv := range qrow {
						dot += float64(qv) * float64(krow[d])
					}
					s := dot * float64(scale)
					raw[j] = s
					if k.softcap > 0 {
						s = float64(k.softcap) * math.Tanh(s/float64(k.softcap))
					}
					if k.wantQK && k.qkMode == 1 {
						raw[j] = s
					}
					// Bias: mask, causal frontier, key padding.
					switch {
					case j >= maskLen:
						s = negInf
					case maskBool != nil:
						if !maskBool[b*maskStr[0]+h*maskStr[1]+i*maskStr[2]+j*maskStr[3]] {
							s = negInf
						}
					case mask != nil:
						s += float64(mask[b*maskStr[0]+h*maskStr[1]+i*maskStr[2]+j*maskStr[3]])
					}
					if k.isCausal && j > i+offset {
						s = negInf
					}
					if nonpad != nil && j >= int(nonpad[b]) {
						s = negInf
					}
					scores[j] = s
				}
				if k.wantQK && k.qkMode == 2 {
					copy(raw, scores)
				}
				mx := negInf
				for _, s := range scores {
					mx = math.Max(mx, s)
				}
				yrow := yBuf[((b*hq+h)*sq+i)*dv:][:dv]
				if math.IsInf(mx, -1) || math.IsNaN(mx) {
					// Every key is masked: the row attends nothing and outputs zeros.
					for j := range scores {
						scores[j] = 0
					}
				} else {
					var sum float64
					for j, s := range scores {
						e := math.Exp(s - mx)
						scores[j] = e
						sum += e
					}
					for j := range scores {
						scores[j] /= sum
					}
				}
				if k.wantQK {
					row := qk.Buf[((b*hq+h)*sq+i)*total:][:total]
					src := raw
					if k.qkMode == 3 {
						src = scores
					}
					for j := range row {
						row[j] = float32(src[j])
					}
				}
				clear(acc)
				for j, p := range scores {
					if p == 0 {
						continue
					}
					vrow := vd[((b*hkv+kh)*total+j)*dv:][:dv]
					for d := range acc {
						acc[d] += p * float64(vrow[d])
					}
				}
				for d := range yrow {
					yrow[d] = float32(acc[d])
				}
			}
		}
	}
	if threeD && len(y.Buf) > 0 {
		for b := 0; b < batch; b++ {
			for h := 0; h < hq; h++ {
				for i := 0; i < sq; i++ {
					copy(y.Buf[(b*sq+i)*hq*dv+h*dv:][:dv], yBuf[((b*hq+h)*sq+i)*dv:][:dv])
				}
			}
		}
	}
	res := []*kernel.Tensor{y.Done(), nil, nil, nil}
	if k.wantPresent {
		pk := allocOut(ctx, kt.DType, int64(batch), int64(hkv), int64(total), int64(dh))
		copy(pk.Buf, kd)
		pv := allocOut(ctx, vt.DType, int64(batch), int64(hkv), int64(total), int64(dv))
		copy(pv.Buf, vd)
		res[1], res[2] = pk.Done(), pv.Done()
	}
	if k.wantQK {
		res[3] = qk.Done()
	}
	return res[:len(k.node.Outputs())], nil
}

type rotaryKernel struct {
	node        *ir.Node
	interleaved bool
	numHeads    int
	rotaryDim   int
}

func newRotary(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	return &rotaryKernel{node: n, interleaved: n.AttrInt("interleaved", 0) != 0,
		numHeads: int(n.AttrInt("num_heads", 0)), rotaryDim: int(n.AttrInt("rotary_embedding_dim", 0))}, nil
}

func (k *rotaryKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	d, err := readInputs(k.node, inputs, "X", "cos_cache", "sin_cache")
	if err != nil {
		return nil, err
	}
	x, cosT := inputs[0], inputs[1]
	xd, cosD, sinD := d[0], d[1], d[2]
	// Element (b, h, s, i) lives at b·bStr + h·hStr + s·sStr + i.
	var batch, heads, seq, size, bStr, hStr, sStr int
	switch len(x.Shape) {
	case 4:
		batch, heads, seq, size = int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2]), int(x.Shape[3])
		bStr, hStr, sStr = heads*seq*size, seq*size, size
	case 3:
		if k.numHeads <= 0 || int(x.Shape[2])%k.numHeads != 0 {
			return nil, opErr(k.node, "3-D input %v needs num_heads dividing its hidden size", x.Shape)
		}
		batch, seq, heads = int(x.Shape[0]), int(x.Shape[1]), k.numHeads
		size = int(x.Shape[2]) / heads
		bStr, hStr, sStr = seq*heads*size, size, heads*size
	default:
		return nil, opErr(k.node, "X %v: want 3-D or 4-D", x.Shape)
	}
	rd := k.rotaryDim
	if rd == 0 {
		rd = size
	}
	if rd < 0 || rd > size || rd%2 != 0 {
		return nil, opErr(k.node, "rotary_embedding_dim %d does not fit head size %d", rd, size)
	}
	half := rd / 2
	if len(cosT.Shape) == 0 {
		return nil, opErr(k.node, "cos_cache is a scalar; want [positions, %d]", half)
	}
	cacheW := int(cosT.Shape[len(cosT.Shape)-1])
	if cacheW < half || len(sinD) != len(cosD) {
		return nil, opErr(k.node, "cos_cache %v / sin_cache do not hold %d values per position", cosT.Shape, half)
	}
	var pos []int64
	if p := kernel.Input(inputs, 3); p != nil {
		if p.DType != ir.Int64 || p.NumElements() != batch*seq {
			return nil, opErr(k.node, "position_ids must be int64 of shape [%d, %d]", batch, seq)
		}
		pos = p.Int64s()
	} else if len(cosD) != batch*seq*cacheW {
		return nil, opErr(k.node, "without position_ids cos_cache must be [%d, %d, %d], got %v", batch, seq, half, cosT.Shape)
	}
	out := allocOut(ctx, x.DType, x.Shape...)
	copy(out.Buf, xd)
	// An empty x may declare any batch·seq over empty heads: nothing to rotate.
	for b := 0; b < batch && len(out.Buf) > 0; b++ {
		for s := 0; s < seq; s++ {
			row := b*seq + s
			if pos != nil {
				row = int(pos[b*seq+s])
				if row < 0 || (row+1)*cacheW > len(cosD) {
					return nil, opErr(k.node, "position id %d is outside the cache", row)
				}
			}
			cs, sn := cosD[row*cacheW:][:half], sinD[row*cacheW:][:half]
			for h := 0; h < heads; h++ {
				base := b*bStr + h*hStr + s*sStr
				src, dst := xd[base:base+size], out.Buf[base:base+size]
				for i := 0; i < half; i++ {
					i1, i2 := i, i+half
					if k.interleaved {
						i1, i2 = 2*i, 2*i+1
					}
					x1, x2 := src[i1], src[i2]
					dst[i1] = x1*cs[i] - x2*sn[i]
					dst[i2] = x2*cs[i] + x1*sn[i]
				}
			}
		}
	}
	return []*kernel.Tensor{out.Done()}, nil
}

package prepare

import (
	"math"

	"github.com/whittle-ml/whittle/ir"
)

// fuseConvBatchNorm folds an inference BatchNormalization that reads only a Conv's output
// into the Conv's weights and bias: W'[m] = W[m]·s[m] and B'[m] = (B[m] − mean[m])·s[m] +
// β[m], with s = γ/√(var + ε). Exports of models in training mode (or with batch-norm
// buffers tied to parameters) keep the BatchNormalization, which would otherwise hold
// the whole chain after it (Relu, pooling) in NCHW between reorders, on reference kernels.
var fuseConvBatchNorm = Rule{Name: "fuse_conv_batchnorm", Apply: applyFuseConvBatchNorm}

func applyFuseConvBatchNorm(c *Context, g *ir.Graph) (bool, error) {
	changed := false
	for _, conv := range g.Nodes() {
		if !isOp(conv, "Conv") || !isFloatTensor(conv.Output(0)) || len(conv.Inputs()) < 2 {
			continue
		}
		w, ok := constFloats(conv.Input(1))
		if !ok || len(conv.Input(1).Const.Dims) < 3 {
			continue
		}
		m := int(conv.Input(1).Const.Dims[0])
		var bias []float32
		if len(conv.Inputs()) > 2 && conv.Input(2) != nil {
			if bias, ok = constFloats(conv.Input(2)); !ok || len(bias) != m {
				continue
			}
		}
		bn := c.soleUser(conv.Output(0))
		scale, shift, ok := inferenceBatchNorm(bn, conv.Output(0), m)
		if !ok {
			continue
		}
		per := len(w) / m
		sw := make([]float32, len(w))
		for i, v := range w {
			sw[i] = v * scale[i/per]
		}
		sb := make([]float32, m)
		for j := range sb {
			b := float32(0)
			if bias != nil {
				b = bias[j]
			}
			sb[j] = b*scale[j] + shift[j]
		}
		wv := g.AddInitializer(ir.FromFloat32(c.Fresh(conv.Input(1).Name+"_bn"), conv.Input(1).Const.Dims, sw))
		bv := g.AddInitializer(ir.FromFloat32(c.Fresh(conv.Name+"_bn_bias"), []int64{int64(m)}, sb))
		folded := g.NewNode(conv.Domain, conv.OpType, []*ir.Value{conv.Input(0), wv, bv}, c.tmpNames(bn), conv.Attrs...)
		folded.Name = conv.Name
		if err := replace(g, []*ir.Node{conv, bn}, bn, folded); err != nil {
			return changed, err
		}
		changed = true
	}
	if changed {
		removeUnusedInitializers(g)
	}
	return changed, nil
}

// inferenceBatchNorm recognises bn as an inference BatchNormalization of y (channels on
// axis 1, m of them) with constant parameters, and returns it as y·scale + shift per
// channel.
func inferenceBatchNorm(bn *ir.Node, y *ir.Value, m int) (scale, shift []float32, ok bool) {
	if !isOp(bn, "BatchNormalization") || bn.Input(0) != y || len(bn.Outputs()) != 1 ||
		bn.AttrInt("training_mode", 0) != 0 || len(bn.Inputs()) != 5 {
		return nil, nil, false
	}
	var p [4][]float32 // γ, β, mean, var
	for i := range p {
		vals, ok := constFloats(bn.Input(i + 1))
		if !ok || len(vals) != m {
			return nil, nil, false
		}
		p[i] = vals
	}
	eps := float64(bn.AttrFloat("epsilon", 1e-5))
	scale, shift = make([]float32, m), make([]float32, m)
	for j := range scale {
		s := float64(p[0][j]) / math.Sqrt(float64(p[3][j])+eps)
		scale[j] = float32(s)
		shift[j] = float32(float64(p[1][j]) - float64(p[2][j])*s)
	}
	return scale, shift, true
}

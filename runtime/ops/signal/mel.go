package signal

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "MelWeightMatrix", SinceVersion: 17, New: newMel})
}

type melKernel struct {
	node    *ir.Node
	outType ir.DataType
}

func newMel(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	dt := ir.DataType(n.AttrInt("output_datatype", int64(ir.Float)))
	if !numericOutput(dt) {
		return nil, fmt.Errorf("%s: output_datatype %s is not a numeric type", n.Describe(), dt)
	}
	return &melKernel{node: n, outType: dt}, nil
}

func (k *melKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	out, err := k.run(ctx, inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	return []*kernel.Tensor{out}, nil
}

func mel(hz float64) float64    { return 2595 * math.Log10(1+hz/700) }
func melToHz(m float64) float64 { return 700 * (math.Pow(10, m/2595) - 1) }

// run builds the triangular filters the way the ONNX reference does: num_mel_bins+2 edge
// points equally spaced in mel between the two edges (the step divides the range by
// num_mel_bins+2), each mapped to the spectrogram bin floor((dft_length+1)·f/sample_rate);
// filter i rises from edge i to edge i+1 and falls to edge i+2, peaking at 1.
func (k *melKernel) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	names := []string{"num_mel_bins", "dft_length", "sample_rate", "lower_edge_hertz", "upper_edge_hertz"}
	for i, name := range names {
		if kernel.Input(inputs, i) == nil {
			return nil, fmt.Errorf("input %s is required", name)
		}
	}
	numMel, err := scalarInt(inputs[0], names[0])
	if err != nil {
		return nil, err
	}
	dftLen, err := scalarInt(inputs[1], names[1])
	if err != nil {
		return nil, err
	}
	rate, err := scalarInt(inputs[2], names[2])
	if err != nil {
		return nil, err
	}
	lower, err := scalarFloat(inputs[3], names[3])
	if err != nil {
		return nil, err
	}
	upper, err := scalarFloat(inputs[4], names[4])
	if err != nil {
		return nil, err
	}
	if numMel < 1 || numMel > 1<<20 || dftLen < 1 || dftLen > 1<<30 || rate < 1 {
		return nil, fmt.Errorf("num_mel_bins %d, dft_length %d and sample_rate %d must be positive", numMel, dftLen, rate)
	}
	if lower < 0 || upper <= lower {
		return nil, fmt.Errorf("edges [%v, %v] Hz must satisfy 0 <= lower < upper", lower, upper)
	}
	bins := int(dftLen/2 + 1)
	nMel := int(numMel)
	lowMel, highMel := mel(lower), mel(upper)
	step := (highMel - lowMel) / float64(nMel+2)
	// num_mel_bins and dft_length are data: the matrix alone can be 2^49 elements.
	edges, err := kernel.MakeScratch[int](nMel + 2)
	if err != nil {
		return nil, err
	}
	for i := range edges {
		hz := melToHz(float64(i)*step + lowMel)
		edges[i] = int(math.Floor(float64(dftLen+1) * hz / float64(rate)))
	}
	w, err := kernel.MakeScratch[float64](bins * nMel)
	if err != nil {
		return nil, err
	}
	set := func(j, i int, v float64) {
		if j >= 0 && j < bins {
			w[j*nMel+i] = v
		}
	}
	for i := 0; i < nMel; i++ {
		lo, center, hi := edges[i], edges[i+1], edges[i+2]
		if center == lo {
			set(center, i, 1)
		} else {
			for j := lo; j <= center; j++ {
				set(j, i, float64(j-lo)/float64(center-lo))
			}
		}
		for j := center; j < hi; j++ {
			set(j, i, float64(hi-j)/float64(hi-center))
		}
	}
	return kernel.FromFloat64s(ctx, k.outType, []int64{int64(bins), int64(numMel)}, w)
}

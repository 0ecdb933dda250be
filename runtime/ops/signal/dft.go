package signal

import (
	"fmt"
	"math/cmplx"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(
		// DFT-17 takes the axis as an attribute (default 1); DFT-20 as input 2 (default −2).
		kernel.KernelDef{Op: "DFT", SinceVersion: 17, EndVersion: 19, Types: floatTypes,
			New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newDFT(info, false) }},
		kernel.KernelDef{Op: "DFT", SinceVersion: 20, Types: floatTypes,
			New: func(info *kernel.NodeInfo) (kernel.Kernel, error) { return newDFT(info, true) }},
	)
}

type dftKernel struct {
	node          *ir.Node
	inverse       bool
	onesided      bool
	axisFromInput bool
	attrAxis      int64
}

func newDFT(info *kernel.NodeInfo, axisFromInput bool) (kernel.Kernel, error) {
	n := info.Node
	k := &dftKernel{
		node:          n,
		inverse:       n.AttrInt("inverse", 0) != 0,
		onesided:      n.AttrInt("onesided", 0) != 0,
		axisFromInput: axisFromInput,
		attrAxis:      n.AttrInt("axis", 1),
	}
	if axisFromInput && n.Attr("axis") != nil {
		return nil, fmt.Errorf("%s: opset %d takes axis as an input, not an attribute", n.Describe(), info.Opset)
	}
	return k, nil
}

func (k *dftKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	out, err := k.run(ctx, inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	return []*kernel.Tensor{out}, nil
}

func (k *dftKernel) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil {
		return nil, fmt.Errorf("input is required")
	}
	r := len(x.Shape)
	if r < 2 || (x.Shape[r-1] != 1 && x.Shape[r-1] != 2) {
		return nil, fmt.Errorf("input shape %v: want at least 2 dimensions, the last of size 1 (real) or 2 (complex)", x.Shape)
	}
	axis := k.attrAxis
	if k.axisFromInput {
		axis = -2
		if t := kernel.Input(inputs, 2); t != nil {
			a, err := scalarInt(t, "axis")
			if err != nil {
				return nil, err
			}
			axis = a
		}
	}
	if axis < 0 {
		axis += int64(r)
	}
	if axis < 0 || axis > int64(r-2) {
		return nil, fmt.Errorf("axis is out of range for input shape %v (the last dimension holds the complex parts)", x.Shape)
	}
	nIn := int(x.Shape[axis])
	irfft := k.inverse && k.onesided
	length := nIn
	if irfft {
		length = 2 * (nIn - 1)
	}
	if t := kernel.Input(inputs, 1); t != nil {
		l, err := scalarInt(t, "dft_length")
		if err != nil {
			return nil, err
		}
		length = int(l)
	}
	if length < 1 {
		return nil, fmt.Errorf("dft_length %d must be positive", length)
	}
	xs, err := kernel.FloatsOf(x)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}

	outShape := append([]int64{}, x.Shape...)
	nOut, comps := length, 2
	switch {
	case irfft:
		comps = 1
	case k.onesided:
		nOut = length/2 + 1
	}
	outShape[axis], outShape[r-1] = int64(nOut), int64(comps)

	outer, inner := kernel.ShapeSize(x.Shape[:axis]), kernel.ShapeSize(x.Shape[axis+1:r-1])
	inComps := int(x.Shape[r-1])
	// dft_length comes from the model's data: weigh both buffers and fft's scratch against
	// the memory budget.
	count, err := ir.NumElements(outShape)
	if err != nil {
		return nil, fmt.Errorf("output %v: %w", outShape, err)
	}
	res, err := kernel.MakeScratch[float64](int(count))
	if err != nil {
		return nil, err
	}
	if length > 1<<40 {
		return nil, fmt.Errorf("dft_length %d is too large", length)
	}
	if err := kernel.Reserve(fftScratchBytes(length)); err != nil {
		return nil, err
	}
	buf, err := kernel.MakeScratch[complex128](length)
	if err != nil {
		return nil, err
	}
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			// Gather the line, truncated or zero-padded to length.
			clear(buf)
			for j := 0; j < min(nIn, length); j++ {
				at := ((o*nIn+j)*inner + i) * inComps
				if inComps == 2 {
					buf[j] = complex(xs[at], xs[at+1])
				} else {
					buf[j] = complex(xs[at], 0)
				}
			}
			if irfft {
				hermitian(buf, min(nIn, length/2+1))
			}
			fft(buf, k.inverse)
			scale := 1.0
			if k.inverse {
				scale = 1 / float64(length)
			}
			for j := 0; j < nOut; j++ {
				at := ((o*nOut+j)*inner + i) * comps
				res[at] = real(buf[j]) * scale
				if comps == 2 {
					res[at+1] = imag(buf[j]) * scale
				}
			}
		}
	}
	return kernel.FromFloat64s(ctx, x.DType, outShape, res)
}

// hermitian completes a one-sided spectrum (its first m bins are given in buf, the rest
// zero) into the full spectrum of a real signal of len(buf) points: X[n−k] = conj(X[k]).
// The imaginary parts of the DC bin and, for even lengths, the Nyquist bin cannot come from
// a real signal and are dropped, as numpy.fft.irfft does.
func hermitian(buf []complex128, m int) {
	n := len(buf)
	for j := m; j <= n/2; j++ {
		buf[j] = 0
	}
	buf[0] = complex(real(buf[0]), 0)
	if n%2 == 0 {
		buf[n/2] = complex(real(buf[n/2]), 0)
	}
	for j := n/2 + 1; j < n; j++ {
		buf[j] = cmplx.Conj(buf[n-j])
	}
}

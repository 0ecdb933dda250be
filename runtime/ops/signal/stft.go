package signal

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	kernel.Register(kernel.KernelDef{Op: "STFT", SinceVersion: 17, Types: floatTypes, New: newSTFT})
}

type stftKernel struct {
	node     *ir.Node
	onesided bool
}

func newSTFT(info *kernel.NodeInfo) (kernel.Kernel, error) {
	return &stftKernel{node: info.Node, onesided: info.Node.AttrInt("onesided", 1) != 0}, nil
}

func (k *stftKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	out, err := k.run(ctx, inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.node.Describe(), err)
	}
	return []*kernel.Tensor{out}, nil
}

// run frames the signal (frame f starts at f·frame_step), multiplies each frame by the
// window and transforms it with a DFT of frame_length points. Frames number
// 1 + (signal_length − frame_length) / frame_step, as in torch.stft without centering.
func (k *stftKernel) run(ctx *kernel.Context, inputs []*kernel.Tensor) (*kernel.Tensor, error) {
	x, stepT := kernel.Input(inputs, 0), kernel.Input(inputs, 1)
	if x == nil || stepT == nil {
		return nil, fmt.Errorf("inputs signal and frame_step are required")
	}
	if len(x.Shape) != 3 || (x.Shape[2] != 1 && x.Shape[2] != 2) {
		return nil, fmt.Errorf("signal shape %v: want [batch, length, 1 or 2]", x.Shape)
	}
	batch, sigLen, inComps := int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2])
	step, err := scalarInt(stepT, "frame_step")
	if err != nil {
		return nil, err
	}
	if step < 1 {
		return nil, fmt.Errorf("frame_step %d must be positive", step)
	}
	var window []float64
	if w := kernel.Input(inputs, 2); w != nil {
		if len(w.Shape) != 1 {
			return nil, fmt.Errorf("window must be 1-D, got shape %v", w.Shape)
		}
		if window, err = kernel.FloatsOf(w); err != nil {
			return nil, fmt.Errorf("window: %w", err)
		}
	}
	frameLen := sigLen
	switch {
	case kernel.Input(inputs, 3) != nil:
		l, err := scalarInt(kernel.Input(inputs, 3), "frame_length")
		if err != nil {
			return nil, err
		}
		frameLen = int(l)
	case window != nil:
		frameLen = len(window)
	}
	if frameLen < 1 || frameLen > sigLen {
		return nil, fmt.Errorf("frame_length %d must be in [1, %d] (the signal length)", frameLen, sigLen)
	}
	if window == nil {
		if window, err = kernel.MakeScratch[float64](frameLen); err != nil {
			return nil, err
		}
		for i := range window {
			window[i] = 1
		}
	}
	xs, err := kernel.FloatsOf(x)
	if err != nil {
		return nil, fmt.Errorf("signal: %w", err)
	}
	frames := 1 + (sigLen-frameLen)/int(step)
	bins := frameLen
	if k.onesided {
		bins = frameLen/2 + 1
	}
	// frames × bins grows with the square of the signal length (a step of 1, a frame of
	// half the signal): weigh the result, the frame buffer and fft's scratch first.
	count, err := ir.NumElements([]int64{int64(batch), int64(frames), int64(bins), 2})
	if err != nil {
		return nil, fmt.Errorf("output: %w", err)
	}
	res, err := kernel.MakeScratch[float64](int(count))
	if err != nil {
		return nil, err
	}
	if err := kernel.Reserve(fftScratchBytes(frameLen)); err != nil {
		return nil, err
	}
	buf, err := kernel.MakeScratch[complex128](frameLen)
	if err != nil {
		return nil, err
	}
	for b := 0; b < batch; b++ {
		for f := 0; f < frames; f++ {
			clear(buf)
			start := f * int(step)
			// The window spans len(window) samples; the DFT truncates or zero-pads them to
			// frame_length, and samples past the end of the signal are zero.
			for j := 0; j < min(len(window), frameLen, sigLen-start); j++ {
				at := (b*sigLen + start + j) * inComps
				v := complex(xs[at], 0)
				if inComps == 2 {
					v = complex(xs[at], xs[at+1])
				}
				buf[j] = v * complex(window[j], 0)
			}
			fft(buf, false)
			for j := 0; j < bins; j++ {
				at := ((b*frames+f)*bins + j) * 2
				res[at], res[at+1] = real(buf[j]), imag(buf[j])
			}
		}
	}
	return kernel.FromFloat64s(ctx, x.DType, []int64{int64(batch), int64(frames), int64(bins), 2}, res)
}

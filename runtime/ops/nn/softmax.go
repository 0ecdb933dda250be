package nn

import (
	"fmt"
	"math"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	for _, op := range []struct {
		name string
		kind softmaxKind
	}{{"Softmax", softmaxPlain}, {"LogSoftmax", softmaxLog}, {"Hardmax", softmaxHard}} {
		kernel.Register(
			kernel.KernelDef{Op: op.name, SinceVersion: 1, EndVersion: 12, Types: floatTypes, New: newSoftmax(op.kind, true)},
			kernel.KernelDef{Op: op.name, SinceVersion: 13, Types: floatTypes, New: newSoftmax(op.kind, false)},
		)
	}
}

type softmaxKind int

const (
	softmaxPlain softmaxKind = iota
	softmaxLog
	softmaxHard
)

// softmaxKernel serves Softmax, LogSoftmax and Hardmax. Before opset 13 the input is
// coerced to 2-D at axis (default 1) and the op runs over the whole second dimension; from
// 13 it runs over the single axis (default −1).
type softmaxKernel struct {
	node     *ir.Node
	kind     softmaxKind
	axis     int64
	coerce2D bool
}

func newSoftmax(kind softmaxKind, coerce2D bool) kernel.Factory {
	return func(info *kernel.NodeInfo) (kernel.Kernel, error) {
		def := int64(-1)
		if coerce2D {
			def = 1
		}
		return &softmaxKernel{node: info.Node, kind: kind, axis: info.Node.AttrInt("axis", def), coerce2D: coerce2D}, nil
	}
}

func (k *softmaxKernel) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	x := kernel.Input(inputs, 0)
	if x == nil {
		return nil, opErr(k.node, "input is required")
	}
	xd, err := asF32(x)
	if err != nil {
		return nil, opErr(k.node, "input: %w", err)
	}
	out := allocOut(ctx, x.DType, x.Shape...)
	if len(x.Shape) == 0 {
		// A scalar is a one-element row.
		softmaxRows(k.kind, xd, out.Buf, 1, 1, 1)
		return []*kernel.Tensor{out.Done()}, nil
	}
	axis, err := kernel.NormalizeAxis(k.axis, len(x.Shape))
	if err != nil {
		return nil, opErr(k.node, "%w", err)
	}
	if k.coerce2D {
		softmaxRows(k.kind, xd, out.Buf, kernel.ShapeSize(x.Shape[:axis]), kernel.ShapeSize(x.Shape[axis:]), 1)
	} else {
		softmaxRows(k.kind, xd, out.Buf, kernel.ShapeSize(x.Shape[:axis]), int(x.Shape[axis]), kernel.ShapeSize(x.Shape[axis+1:]))
	}
	return []*kernel.Tensor{out.Done()}, nil
}

// softmaxRows applies the op along the middle axis of an outer×dim×inner array.
func softmaxRows(kind softmaxKind, x, y []float32, outer, dim, inner int) {
	if len(x) == 0 {
		return // outer·inner may be anything when dim is 0
	}
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*dim*inner + i
			mx, arg := float32(math.Inf(-1)), 0
			for j := 0; j < dim; j++ {
				if v := x[base+j*inner]; v > mx {
					mx, arg = v, j
				}
			}
			switch kind {
			case softmaxHard:
				for j := 0; j < dim; j++ {
					y[base+j*inner] = 0
				}
				if dim > 0 {
					y[base+arg*inner] = 1
				}
			case softmaxPlain:
				var s float64
				for j := 0; j < dim; j++ {
					e := math.Exp(float64(x[base+j*inner] - mx))
					y[base+j*inner] = float32(e)
					s += e
				}
				for j := 0; j < dim; j++ {
					y[base+j*inner] = float32(float64(y[base+j*inner]) / s)
				}
			case softmaxLog:
				var s float64
				for j := 0; j < dim; j++ {
					s += math.Exp(float64(x[base+j*inner] - mx))
				}
				ls := float32(math.Log(s))
				for j := 0; j < dim; j++ {
					y[base+j*inner] = x[base+j*inner] - mx - ls
				}
			}
		}
	}
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

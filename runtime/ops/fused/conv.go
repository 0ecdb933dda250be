package fused

import (
	"fmt"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

func init() {
	kernel.Register(kernel.KernelDef{Domain: prepare.Domain, Op: prepare.OpFusedConv, SinceVersion: 1,
		Types: []ir.DataType{ir.Float}, New: newFusedConv})
}

// fusedConv runs the convolution, then adds Z and applies the activation in one pass.
type fusedConv struct {
	node *ir.Node
	conv kernel.Kernel
	act  activation
}

func newFusedConv(info *kernel.NodeInfo) (kernel.Kernel, error) {
	n := info.Node
	act, err := parseActivation(n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", n.Describe(), err)
	}
	def, err := kernel.Lookup("", "Conv", 11, ir.Float)
	if err != nil {
		return nil, err
	}
	convInfo := *info
	convInfo.Consts = trim(info.Consts, 3)
	convInfo.InputTypes = trim(info.InputTypes, 3)
	conv, err := def.New(&convInfo)
	if err != nil {
		return nil, err
	}
	return &fusedConv{node: n, conv: conv, act: act}, nil
}

func trim[T any](s []T, n int) []T {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (k *fusedConv) Run(ctx *kernel.Context, inputs []*kernel.Tensor) ([]*kernel.Tensor, error) {
	outs, err := k.conv.Run(ctx, trim(inputs, 3))
	if err != nil {
		return nil, err
	}
	y := outs[0].Float32s()
	if z := kernel.Input(inputs, 3); z != nil {
		zd, ok := z.Data.([]float32)
		if !ok || len(zd) != len(y) {
			return nil, fmt.Errorf("%s: Z %s does not match Y %v", k.node.Describe(), z, outs[0].Shape)
		}
		for i := range y {
			y[i] += zd[i]
		}
	}
	k.act.apply(y)
	return outs, nil
}

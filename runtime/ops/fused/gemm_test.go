package fused

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// TestFusedGemmUnpackedMatchesPacked builds FusedGemm kernels for few-row products with
// the weights left where they lie (unpackedMinBytes lowered to 0) and packed, and requires
// the same outputs: both layouts of B, a bias, alpha, a residual Z, a clamp and a
// non-clamp activation, and rows that the type fixes or not (which always packs).
func TestFusedGemmUnpackedMatchesPacked(t *testing.T) {
	defer func(old int64) { unpackedMinBytes = old }(unpackedMinBytes)
	r := rand.New(rand.NewPCG(1, 2))
	randT := func(shape ...int64) *kernel.Tensor {
		x := kernel.New(ir.Float, shape...)
		for i := range x.Float32s() {
			x.Float32s()[i] = r.Float32()*2 - 1
		}
		return x
	}
	const k, n = 37, 53
	for _, tt := range []struct {
		name     string
		aDims    []ir.Dim // A's declared shape
		run      []int64  // A's shape when run
		transB   bool
		bias, z  bool
		act      string
		params   []float32
		alpha    float32
		unpacked bool
	}{
		{name: "one row", aDims: []ir.Dim{ir.Known(1), ir.Known(k)}, run: []int64{1, k}, alpha: 1, unpacked: true},
		{name: "one row transB bias relu", aDims: []ir.Dim{ir.Known(1), ir.Known(k)}, run: []int64{1, k}, transB: true, bias: true, act: prepare.ActRelu, alpha: 1, unpacked: true},
		{name: "three rows over two axes, alpha, Z, gelu", aDims: []ir.Dim{ir.Known(3), ir.Known(1), ir.Known(k)}, run: []int64{3, 1, k}, z: true, act: prepare.ActGelu, alpha: 0.5, unpacked: true},
		{name: "two rows clip", aDims: []ir.Dim{ir.Known(2), ir.Known(k)}, run: []int64{2, k}, transB: true, bias: true, act: prepare.ActClip, params: []float32{-0.2, 0.4}, alpha: 1, unpacked: true},
		{name: "four rows pack", aDims: []ir.Dim{ir.Known(4), ir.Known(k)}, run: []int64{4, k}, alpha: 1},
		{name: "symbolic rows pack", aDims: []ir.Dim{ir.Symbolic("N"), ir.Known(k)}, run: []int64{1, k}, alpha: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := ir.NewGraph("g")
			a := g.AddInput("a", &ir.Type{Kind: ir.TensorKind, Elem: ir.Float, HasShape: true, Dims: tt.aDims})
			bShape := []int64{k, n}
			if tt.transB {
				bShape = []int64{n, k}
			}
			bT, biasT := randT(bShape...), randT(n)
			inputs := []*ir.Value{a, g.AddInitializer(ir.FromFloat32("b", bShape, bT.Float32s()))}
			consts := []*kernel.Tensor{nil, bT}
			if tt.bias || tt.z {
				var bias *ir.Value
				var c *kernel.Tensor
				if tt.bias {
					bias, c = g.AddInitializer(ir.FromFloat32("bias", []int64{n}, biasT.Float32s())), biasT
				}
				inputs, consts = append(inputs, bias), append(consts, c)
			}
			outShape := append(append([]int64(nil), tt.run[:len(tt.run)-1]...), n)
			zT := randT(outShape...)
			if tt.z {
				inputs, consts = append(inputs, g.AddInput("z", ir.TensorTypeOf(ir.Float, outShape...))), append(consts, nil)
			}
			attrs := []*ir.Attr{ir.FloatAttr("alpha", tt.alpha)}
			if tt.transB {
				attrs = append(attrs, ir.IntAttr("transB", 1))
			}
			if tt.act != "" {
				attrs = append(attrs, ir.StringAttr("activation", tt.act), ir.FloatsAttr("activation_params", tt.params...))
			}
			node := g.NewNode(prepare.Domain, prepare.OpFusedGemm, inputs, []string{"y"}, attrs...)
			types := make([]*ir.Type, len(inputs))
			for i, v := range inputs {
				if v != nil {
					types[i] = v.Type
				}
			}
			args := []*kernel.Tensor{randT(tt.run...), nil}
			if tt.bias || tt.z {
				args = append(args, nil)
			}
			if tt.z {
				args = append(args, zT)
			}
			var outs [2][]float32
			for i, minBytes := range []int64{0, math.MaxInt64} {
				unpackedMinBytes = minBytes
				kern, err := newFusedGemm(&kernel.NodeInfo{Node: node, Opset: 1, InputTypes: types, Consts: consts})
				if err != nil {
					t.Fatal(err)
				}
				if got := kern.(*fusedGemm).pb == nil; got != (tt.unpacked && i == 0) {
					t.Fatalf("unpacked %v with unpackedMinBytes %d, want %v", got, minBytes, tt.unpacked && i == 0)
				}
				for _, threads := range []int{1, 2} {
					y, err := kern.Run(&kernel.Context{Threads: threads}, args)
					if err != nil {
						t.Fatal(err)
					}
					if fmt.Sprint(y[0].Shape) != fmt.Sprint(outShape) {
						t.Fatalf("shape %v, want %v", y[0].Shape, outShape)
					}
					outs[i] = y[0].Float32s()
				}
			}
			for i, want := range outs[1] {
				if got := outs[0][i]; math.Abs(float64(got-want)) > 1e-5*(1+math.Abs(float64(want))) {
					t.Fatalf("y[%d] = %v unpacked, %v packed", i, got, want)
				}
			}
		})
	}
}

package fused

import (
	"fmt"
	"math/rand"
	"syscall"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// convShape is one convolution layer: channels in and out, kernel, stride and output size.
type convShape struct {
	cin, cout, k, stride, out int
	depthwise                 bool
}

// BenchmarkConvShapes times the channels-last convolution on the layer shapes of the
// torchvision models, single-threaded, reporting GFLOP/s of the best run (a loaded
// machine only ever adds time).
func BenchmarkConvShapes(b *testing.B) {
	shapes := []convShape{
		{64, 64, 3, 1, 56, false}, {128, 128, 3, 1, 28, false}, {256, 256, 3, 1, 14, false}, {512, 512, 3, 1, 7, false},
		{64, 128, 3, 2, 28, false}, {3, 64, 7, 2, 112, false},
		{64, 256, 1, 1, 56, false}, {256, 64, 1, 1, 56, false}, {256, 512, 1, 2, 28, false}, {1024, 256, 1, 1, 14, false},
		{2048, 512, 1, 1, 7, false}, {512, 2048, 1, 1, 7, false},
		{32, 32, 3, 1, 112, true}, {144, 144, 3, 2, 28, true}, {480, 480, 5, 1, 14, true},
		// MobileNetV2 and EfficientNet-B0: the stem, expansions, projections, squeeze-excitation.
		{3, 32, 3, 2, 112, false}, {16, 96, 1, 1, 112, false}, {24, 144, 1, 1, 56, false},
		{192, 1152, 1, 1, 7, false}, {1152, 192, 1, 1, 7, false}, {1152, 48, 1, 1, 1, false}, {48, 1152, 1, 1, 1, false},
		{96, 96, 3, 2, 56, true}, {672, 672, 5, 1, 14, true}, {1152, 1152, 5, 1, 7, true},
	}
	acts := []string{"Relu", prepare.ActSiLU}
	for _, s := range shapes {
		name := fmt.Sprintf("%dx%d_k%d_s%d_out%d", s.cin, s.cout, s.k, s.stride, s.out)
		if s.depthwise {
			name = "dw_" + name
		}
		for _, act := range acts {
			b.Run(name+"_"+act, func(b *testing.B) { benchConv(b, s, act) })
		}
	}
}

func benchConv(b *testing.B, s convShape, act string) {
	r := rand.New(rand.NewSource(1))
	g := ir.NewGraph("g")
	cg := s.cin
	group := int64(1)
	if s.depthwise {
		cg, group = 1, int64(s.cin)
	}
	wt := kernel.New(ir.Float, int64(s.cout), int64(cg), int64(s.k), int64(s.k))
	for i := range wt.Float32s() {
		wt.Float32s()[i] = r.Float32() - 0.5
	}
	in := s.out*s.stride + s.k/2*0
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 1, int64(in), int64(in), int64(s.cin)))
	w := g.AddInput("w", nil)
	pad := int64(s.k / 2)
	n := g.NewNode(prepare.Domain, prepare.OpNhwcConv, []*ir.Value{x, w}, []string{"y"},
		ir.IntsAttr("pads", pad, pad, pad, pad), ir.IntsAttr("strides", int64(s.stride), int64(s.stride)),
		ir.IntAttr("group", group), ir.StringAttr("activation", act))
	k, err := newNhwcConv(&kernel.NodeInfo{Node: n, Opset: 1, Consts: []*kernel.Tensor{nil, wt}})
	if err != nil {
		b.Fatal(err)
	}
	xt := kernel.New(ir.Float, 1, int64(in), int64(in), int64(s.cin))
	for i := range xt.Float32s() {
		xt.Float32s()[i] = r.Float32()
	}
	ctx := &kernel.Context{Threads: 1}
	// The best run by CPU time: on a shared machine the wall clock also counts the time
	// other processes held the core.
	best := time.Duration(1 << 62)
	var outSize int
	for i := 0; i < b.N; i++ {
		start := cpuTime()
		outs, err := k.Run(ctx, []*kernel.Tensor{xt})
		if err != nil {
			b.Fatal(err)
		}
		best = min(best, cpuTime()-start)
		outSize = outs[0].NumElements()
	}
	flops := 2 * float64(outSize) * float64(cg*s.k*s.k)
	b.ReportMetric(flops/max(best.Seconds(), 1e-6)/1e9, "GFLOP/s")
}

// cpuTime is the process's CPU time (the benchmarks run single-threaded).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

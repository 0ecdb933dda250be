package prepare_test

import (
	"context"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/compare"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/runtime/prepare"
)

// quantized quantizes a float model with whittle's static quantizer (calibrated on a few
// random inputs), the layout the QDQ rules are written for.
func quantized(t *testing.T, m *ir.Model, opts passes.QuantizeOptions) *ir.Model {
	t.Helper()
	if _, err := passes.PrepareForQuantization(nil, m); err != nil {
		t.Fatal(err)
	}
	plan, err := passes.PlanQuantization(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	data, err := compare.RandomData(m, 4, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	ranges, err := passes.CollectRanges(m, plan.CalibrationTensors(), &datafeed.Calibrator{Data: data}, passes.CalibrationOptions{Method: passes.MinMax})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.QuantizeStatic(nil, m, opts, ranges); err != nil {
		t.Fatal(err)
	}
	return m
}

// resnetBlock is a stem convolution, max pool, a residual block with a 1×1 projection, a
// depthwise convolution with Clip (ReLU6), global average pooling and a classifier.
func resnetBlock(b *builder) *ir.Model {
	x := b.input("x", 1, 3, 12, 12)
	stem := b.op("Relu", []*ir.Value{b.conv(x, "stem", 3, 8)}, "stem_relu")
	pool := b.op("MaxPool", []*ir.Value{stem}, "pool", ir.IntsAttr("kernel_shape", 3, 3), ir.IntsAttr("strides", 2, 2), ir.IntsAttr("pads", 1, 1, 1, 1))
	c1 := b.op("Relu", []*ir.Value{b.conv(pool, "c1", 8, 8)}, "c1_relu")
	c2 := b.conv(c1, "c2", 8, 16)
	proj := b.op("Conv", []*ir.Value{pool, b.weight("proj.w", 16, 8, 1, 1), b.weight("proj.b", 16)}, "proj")
	sum := b.op("Relu", []*ir.Value{b.op("Add", []*ir.Value{c2, proj}, "sum")}, "sum_relu")
	dw := b.op("Conv", []*ir.Value{sum, b.weight("dw.w", 16, 1, 3, 3), b.weight("dw.b", 16)}, "dw",
		ir.IntAttr("group", 16), ir.IntsAttr("pads", 1, 1, 1, 1), ir.IntsAttr("strides", 2, 2))
	six := b.op("Clip", []*ir.Value{dw, b.scalar("zero", 0), b.scalar("six", 6)}, "dw_clip")
	gap := b.op("GlobalAveragePool", []*ir.Value{six}, "gap")
	flat := b.op("Flatten", []*ir.Value{gap}, "flat")
	return b.model(b.op("Gemm", []*ir.Value{flat, b.weight("fc.w", 5, 16), b.weight("fc.b", 5)}, "y", ir.IntAttr("transB", 1)))
}

// seBlock is EfficientNet's pattern: a convolution with SiLU (Sigmoid and Mul), a
// squeeze-and-excitation scale (pool, two 1×1 convolutions, Sigmoid, per-channel Mul), then
// a channel Concat with the convolution's output and a projection.
func seBlock(b *builder) *ir.Model {
	x := b.input("x", 1, 3, 10, 10)
	c := b.conv(x, "c", 3, 8)
	silu := b.op("Mul", []*ir.Value{c, b.op("Sigmoid", []*ir.Value{c}, "c_sig")}, "silu")
	gap := b.op("GlobalAveragePool", []*ir.Value{silu}, "se_pool")
	s1 := b.op("Relu", []*ir.Value{b.op("Conv", []*ir.Value{gap, b.weight("se1.w", 4, 8, 1, 1), b.weight("se1.b", 4)}, "se1")}, "se1_relu")
	s2 := b.op("Sigmoid", []*ir.Value{b.op("Conv", []*ir.Value{s1, b.weight("se2.w", 8, 4, 1, 1), b.weight("se2.b", 8)}, "se2")}, "se_scale")
	scaled := b.op("Mul", []*ir.Value{silu, s2}, "scaled")
	cat := b.op("Concat", []*ir.Value{scaled, c}, "cat", ir.IntAttr("axis", 1))
	return b.model(b.op("Conv", []*ir.Value{cat, b.weight("proj.w", 6, 16, 1, 1), b.weight("proj.b", 6)}, "y"))
}

func TestQDQRegions(t *testing.T) {
	symmetric := passes.DefaultQuantizeOptions()
	symmetric.ActivationType, symmetric.FloatBias = ir.Int8, true
	for _, tc := range []struct {
		name string
		opts passes.QuantizeOptions
		keep []string
		want map[string]int // private ops expected in the prepared graph
	}{
		{"uint8 asymmetric, int32 biases", passes.DefaultQuantizeOptions(), nil,
			map[string]int{prepare.OpQConvNHWC: 5, prepare.OpQAdd: 1, prepare.OpQMaxPoolNHWC: 1, prepare.OpQGlobalAveragePoolNHWC: 1, prepare.OpQuantizeNHWC: 1, prepare.OpQToNCHW: 0, prepare.OpQGemm: 1}},
		{"int8 symmetric, float biases, activations kept", symmetric, nil,
			map[string]int{prepare.OpQConvNHWC: 5, prepare.OpQAdd: 1, prepare.OpQMaxPoolNHWC: 1, prepare.OpQGlobalAveragePoolNHWC: 1, prepare.OpQuantizeNHWC: 1, prepare.OpQToNCHW: 0, prepare.OpQGemm: 1}},
		{"a kept convolution output stays float", passes.DefaultQuantizeOptions(), []string{"c1_relu"},
			map[string]int{prepare.OpQConvNHWC: 4, prepare.OpQAdd: 1}},
		{"squeeze and excitation with SiLU", passes.DefaultQuantizeOptions(), nil,
			map[string]int{prepare.OpQConvNHWC: 3, prepare.OpQMulLookup: 1, prepare.OpQLookup: 1, prepare.OpQMul: 1, prepare.OpQGlobalAveragePoolNHWC: 1, prepare.OpQConcat: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			build := resnetBlock
			if strings.HasPrefix(tc.name, "squeeze") {
				build = seBlock
			}
			m := quantized(t, build(newBuilder()), tc.opts)
			for _, name := range tc.keep {
				if m.Graph.Lookup(name) == nil {
					t.Fatalf("no value %q to keep", name)
				}
			}
			pm, err := prepare.Prepare(m, prepare.Options{Keep: tc.keep})
			if err != nil {
				t.Fatal(err)
			}
			if err := pm.Verify(); err != nil {
				t.Fatalf("prepared model does not verify: %v\n%s", err, ir.Format(pm))
			}
			got := map[string]int{}
			for _, n := range pm.Graph.Nodes() {
				if n.Domain == prepare.Domain {
					got[n.OpType]++
				}
				if isDefaultOp(n, "Conv", "Relu", "Clip", "Gemm", "Sigmoid", "Mul", "Concat", "QuantizeLinear") && len(tc.keep) == 0 {
					t.Errorf("%s is still a float Conv", n.Describe())
				}
			}
			for op, n := range tc.want {
				if got[op] != n {
					t.Errorf("%d %s, want %d\n%s", got[op], op, n, ops(pm))
				}
			}
			checkQuantizedOutputs(t, m, tc.keep)
		})
	}
}

// checkQuantizedOutputs runs m prepared (integer kernels) and as written (float reference
// kernels on the QDQ graph) on random inputs. The integer kernels round each convolution
// once where the float chain rounds every product, so an 8-bit value may differ by one
// step and move the classifier's output a little: the outputs must agree to a few percent
// of their range and pick the same class.
func checkQuantizedOutputs(t *testing.T, m *ir.Model, keep []string) {
	t.Helper()
	r := rand.New(rand.NewSource(5))
	for trial := 0; trial < 3; trial++ {
		feeds := map[string]*runtime.Tensor{}
		for _, v := range m.Graph.Inputs {
			var shape []int64
			for _, d := range v.Type.Dims {
				shape = append(shape, d.Value)
			}
			x := kernel.New(ir.Float, shape...)
			for i := range x.Float32s() {
				x.Float32s()[i] = r.Float32()*4 - 2
			}
			feeds[v.Name] = x
		}
		for _, threads := range []int{1, 2} {
			fast, err := runtime.NewSession(m, runtime.Options{Threads: threads, Observed: keep, Observer: func(int, *ir.Node, []*runtime.Tensor) {}})
			if err != nil {
				t.Fatal(err)
			}
			ref, err := runtime.NewSession(m, runtime.Options{Reference: true})
			if err != nil {
				t.Fatal(err)
			}
			got, err := fast.Run(context.Background(), feeds)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ref.Run(context.Background(), feeds)
			if err != nil {
				t.Fatal(err)
			}
			w, g := want["y"].Float32s(), got["y"].Float32s()
			var span, worst float64
			wi, gi := 0, 0
			for i := range w {
				span = math.Max(span, math.Abs(float64(w[i])))
				worst = math.Max(worst, math.Abs(float64(g[i]-w[i])))
				if w[i] > w[wi] {
					wi = i
				}
				if g[i] > g[gi] {
					gi = i
				}
			}
			if worst > 0.05*span+1e-6 {
				t.Fatalf("threads %d: outputs differ by %g (range %g): %v vs reference %v", threads, worst, span, g, w)
			}
			if wi != gi && math.Abs(float64(w[wi]-w[gi])) > 0.05*span {
				t.Fatalf("threads %d: class %d, reference %d", threads, gi, wi)
			}
		}
	}
}

func TestQDQRegionsLeavesIntermediatesAlone(t *testing.T) {
	m := quantized(t, resnetBlock(newBuilder()), passes.DefaultQuantizeOptions())
	pm, err := prepare.Prepare(m, prepare.Options{KeepAll: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := ops(pm); strings.Contains(s, prepare.Domain) {
		t.Fatalf("KeepAll fused: %s", s)
	}
}

func isDefaultOp(n *ir.Node, ops ...string) bool {
	return n.Domain == "" && slices.Contains(ops, n.OpType)
}

// TestQDQRegionsConcurrentRuns runs one prepared quantized session from several goroutines
// at once (each run itself on two threads) and requires every run to produce what a lone run
// does; under -race it also checks that the integer kernels share nothing mutable.
func TestQDQRegionsConcurrentRuns(t *testing.T) {
	m := quantized(t, seBlock(newBuilder()), passes.DefaultQuantizeOptions())
	s, err := runtime.NewSession(m, runtime.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewSource(9))
	feeds := make([]map[string]*runtime.Tensor, 4)
	want := make([][]float32, len(feeds))
	for i := range feeds {
		x := kernel.New(ir.Float, 1, 3, 10, 10)
		for j := range x.Float32s() {
			x.Float32s()[j] = r.Float32()*4 - 2
		}
		feeds[i] = map[string]*runtime.Tensor{"x": x}
		out, err := s.Run(context.Background(), feeds[i])
		if err != nil {
			t.Fatal(err)
		}
		want[i] = slices.Clone(out["y"].Float32s())
	}
	errs := make(chan error, 4*len(feeds))
	for rep := 0; rep < 4; rep++ {
		for i := range feeds {
			go func() {
				out, err := s.Run(context.Background(), feeds[i])
				if err == nil && !slices.Equal(out["y"].Float32s(), want[i]) {
					err = fmt.Errorf("input %d: a concurrent run differs from a lone one", i)
				}
				errs <- err
			}()
		}
	}
	for range 4 * len(feeds) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

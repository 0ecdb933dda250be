package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// TestHostileShapesStayInBudget feeds operators shapes, attributes and data that size a
// kernel's scratch (not only its outputs) far past the memory budget, or that declare huge
// dimensions on empty tensors so that loops over the other axes would run for hours. Each
// must end quickly with a memory-budget error naming the node, or (where the output is
// empty and nothing needs computing) succeed; before the budget covered scratch these
// were fatal out-of-memory errors, makeslice panics or hangs.
func TestHostileShapesStayInBudget(t *testing.T) {
	defer kernel.SetMemoryBudget(kernel.SetMemoryBudget(64 << 20))
	f32 := func(shape ...int64) *ir.Tensor {
		return ir.FromFloat32("", shape, make([]float32, int(numelOf(shape))))
	}
	i64 := func(v ...int64) *ir.Tensor { return ir.FromInt64("", []int64{int64(len(v))}, v) }
	scalar := func(v int64) *ir.Tensor { return ir.FromInt64("", nil, []int64{v}) }
	f32s := func(v float32) *ir.Tensor { return ir.FromFloat32("", nil, []float32{v}) }
	i8 := func(shape ...int64) *ir.Tensor {
		return ir.NewTensor("", ir.Int8, shape, make([]byte, int(numelOf(shape))))
	}
	i8s := func(v int8) *ir.Tensor { return ir.NewTensor("", ir.Int8, nil, []byte{byte(v)}) }
	bools := func(n int) *ir.Tensor {
		raw := make([]byte, n)
		for i := range raw {
			raw[i] = 1
		}
		return ir.NewTensor("", ir.Bool, []int64{int64(n)}, raw)
	}
	const budget, ok = "budget", ""
	const huge = int64(1) << 40
	for _, tt := range []struct {
		name   string
		op     string
		attrs  []*ir.Attr
		inputs []*ir.Tensor
		want   string // budget: a *kernel.BudgetError; "": success; else in the error
	}{
		// Scratch sized from shapes or attributes, past the budget.
		{"LayerNormalization scale broadcast over an empty batch", "LayerNormalization", []*ir.Attr{ir.IntAttr("axis", 1)},
			[]*ir.Tensor{f32(0, huge), f32(1)}, budget},
		{"InstanceNormalization statistics of empty planes", "InstanceNormalization", nil,
			[]*ir.Tensor{f32(1<<20, 64, 0), f32(64), f32(64)}, budget},
		{"Det of 2^40 empty matrices", "Det", nil, []*ir.Tensor{f32(huge, 0, 0)}, budget},
		{"MelWeightMatrix of 2^49 weights", "MelWeightMatrix", nil,
			[]*ir.Tensor{scalar(1 << 20), scalar(1 << 30), scalar(16000), f32s(0), f32s(8000)}, budget},
		{"STFT of a quadratic frame count", "STFT", nil,
			[]*ir.Tensor{f32(1, 1<<20, 1), scalar(1), nil, scalar(1 << 19)}, budget},
		{"RNN over an empty input of 2^40 sequences", "RNN", []*ir.Attr{ir.IntAttr("hidden_size", 1)},
			[]*ir.Tensor{f32(1<<20, huge, 0), f32(1, 1, 0), f32(1, 1, 1)}, budget},
		{"Resize planning an axis of 2^34 before the output", "Resize", []*ir.Attr{ir.StringAttr("mode", "linear")},
			[]*ir.Tensor{f32(1, 0), nil, nil, i64(1, 1<<34)}, budget},
		{"Unique along an empty axis of 2^40 slices", "Unique", []*ir.Attr{ir.IntAttr("axis", 0)},
			[]*ir.Tensor{f32(huge, 0)}, budget},
		{"Einsum accumulating a 2^40 product of empty operands", "Einsum", []*ir.Attr{ir.StringAttr("equation", "ij,jk->ik")},
			[]*ir.Tensor{f32(1<<20, 0), f32(0, 1<<20)}, budget},
		{"QLinearMatMul requantizing a 2^40 product of empty operands", "QLinearMatMul", nil,
			[]*ir.Tensor{i8(1<<20, 0), f32s(1), i8s(0), i8(0, 1<<20), f32s(1), i8s(0), f32s(1), i8s(0)}, budget},
		{"SplitToSequence into 2^40 empty parts", "SplitToSequence", []*ir.Attr{ir.IntAttr("axis", 1)},
			[]*ir.Tensor{f32(0, huge)}, budget},

		// Empty outputs whose other dimensions are huge: nothing to allocate or loop over.
		{"MeanVarianceNormalization of an empty batch", "MeanVarianceNormalization", nil, []*ir.Tensor{f32(0, huge, 1, 1)}, ok},
		{"Det of empty matrices", "Det", nil, []*ir.Tensor{f32(0, 1<<31, 1<<31)}, ok},
		{"AffineGrid of an empty batch", "AffineGrid", nil, []*ir.Tensor{f32(0, 2, 3), i64(0, 1, huge, huge)}, ok},
		{"NonMaxSuppression of 2^40 boxes in no batch", "NonMaxSuppression", nil, []*ir.Tensor{f32(0, huge, 4), f32(0, 1, huge)}, ok},
		{"Resize to an empty output", "Resize", nil, []*ir.Tensor{f32(0, 4), nil, nil, i64(0, 1<<34)}, ok},
		{"TopK over an empty axis", "TopK", nil, []*ir.Tensor{f32(0, huge), i64(0)}, ok},
		{"Gather from 2^40 empty rows", "Gather", []*ir.Attr{ir.IntAttr("axis", 1)}, []*ir.Tensor{f32(huge, 5, 0), i64(0, 1, 2, 3, 4)}, ok},
		{"Split 2^40 empty rows", "Split", []*ir.Attr{ir.IntAttr("axis", 1), ir.IntAttr("num_outputs", 1)}, []*ir.Tensor{f32(huge, 0)}, ok},
		{"Concat 2^40 empty rows", "Concat", []*ir.Attr{ir.IntAttr("axis", 1)}, []*ir.Tensor{f32(huge, 0), f32(huge, 0)}, ok},
		{"Compress 2^40 empty rows", "Compress", []*ir.Attr{ir.IntAttr("axis", 1)}, []*ir.Tensor{f32(huge, 3, 0), bools(3)}, ok},
		{"Trilu of 2^40 empty rows", "Trilu", nil, []*ir.Tensor{f32(huge, 1<<20, 0)}, ok},
		{"EyeLike of 2^62 rows without columns", "EyeLike", nil, []*ir.Tensor{f32(1<<62, 0)}, ok},
		{"Transpose of an empty tensor", "Transpose", nil, []*ir.Tensor{f32(1<<50, 0)}, ok},
		{"Softmax over an empty axis", "Softmax", []*ir.Attr{ir.IntAttr("axis", 1)}, []*ir.Tensor{f32(huge, 0, 1<<20)}, ok},
		{"LpNormalization over an empty axis", "LpNormalization", []*ir.Attr{ir.IntAttr("axis", 1)}, []*ir.Tensor{f32(huge, 0, 1<<20)}, ok},
		{"LRN of empty planes", "LRN", []*ir.Attr{ir.IntAttr("size", 3)}, []*ir.Tensor{f32(1<<30, 1<<30, 0)}, ok},
		{"BatchNormalization of empty planes", "BatchNormalization", nil,
			[]*ir.Tensor{f32(huge, 1, 0), f32(1), f32(1), f32(1), f32(1)}, ok},
		{"ReduceSum over 2^40 rows of nothing", "ReduceSum", nil, []*ir.Tensor{f32(huge, 0), i64(0)}, ok},
		{"ReduceMax over 2^40 rows of nothing", "ReduceMax", []*ir.Attr{ir.IntAttr("keepdims", 0)}, []*ir.Tensor{f32(huge, 0), i64(0)}, ok},
		{"ReduceSum of an empty axis and a huge one", "ReduceSum", nil, []*ir.Tensor{f32(huge, 3, 0), i64(0, 2)}, ok},
		{"ArgMax along lines of nothing", "ArgMax", []*ir.Attr{ir.IntAttr("axis", 1)}, []*ir.Tensor{f32(huge, 3, 0)}, ok},
		{"Compress keeping nothing of 2^40 rows", "Compress", []*ir.Attr{ir.IntAttr("axis", 1)}, []*ir.Tensor{f32(huge, 0), ir.NewTensor("", ir.Bool, []int64{0}, nil)}, ok},
		{"LpNormalization of empty lines", "LpNormalization", []*ir.Attr{ir.IntAttr("axis", 1)}, []*ir.Tensor{f32(huge, 3, 0)}, ok},
		{"GlobalAveragePool of empty planes", "GlobalAveragePool", nil, []*ir.Tensor{f32(2, 3, 0, huge)}, ok},
		{"CumSum along rows of nothing", "CumSum", nil, []*ir.Tensor{f32(huge, 0), scalar(1)}, ok},
		{"MatMul over 2^40 empty batches", "MatMul", nil, []*ir.Tensor{f32(huge, 0, 4), f32(4, 5)}, ok},
		{"MatMulInteger over 2^40 empty batches", "MatMulInteger", nil, []*ir.Tensor{i8(huge, 0, 4), i8(4, 5)}, ok},
		{"ConvInteger of 2^40 images without channels", "ConvInteger", nil, []*ir.Tensor{i8(huge, 0, 1, 1), i8(0, 0, 1, 1)}, ok},
		{"NegativeLogLikelihoodLoss of no targets", "NegativeLogLikelihoodLoss", nil,
			[]*ir.Tensor{f32(huge, 3, 0), ir.FromInt64("", []int64{huge, 0}, nil)}, ok},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := runHostile(t, tt.op, tt.attrs, tt.inputs)
			var ie *runtime.InternalError
			switch {
			case errors.As(err, &ie):
				t.Fatalf("internal error: %v\n%s", err, ie.Stack)
			case tt.want == ok:
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
			case tt.want == budget:
				// The budget error names the node, the buffer's shape and the budget.
				if !errors.Is(err, kernel.ErrMemoryBudget) || !strings.Contains(err.Error(), "("+tt.op+")") ||
					!strings.Contains(err.Error(), "past the memory budget of 64.00 MiB") {
					t.Fatalf("got %v, want a memory-budget error naming the node", err)
				}
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// runHostile runs op on inputs (nil for an omitted optional input) as a one-node model,
// failing the test if the run takes more than a few seconds: the loops these cases guard
// against run for hours, so a watchdog ends the test instead of waiting.
func runHostile(t *testing.T, op string, attrs []*ir.Attr, inputs []*ir.Tensor) error {
	t.Helper()
	g := ir.NewGraph("g")
	var ins []*ir.Value
	var feeds []*kernel.Tensor
	for i, in := range inputs {
		if in == nil {
			ins = append(ins, nil)
			continue
		}
		ins = append(ins, g.AddInput(fmt.Sprintf("in%d", i), ir.TensorTypeOf(in.DataType, in.Dims...)))
		kt, err := kernel.FromIR(in)
		if err != nil {
			t.Fatal(err)
		}
		feeds = append(feeds, kt)
	}
	n := g.NewNode("", op, ins, []string{"y"}, attrs...)
	n.Name = "hostile"
	g.Append(n)
	g.Outputs = []*ir.Value{n.Output(0)}
	m := &ir.Model{IRVersion: 10, OpsetImports: []ir.OpsetID{{Domain: "", Version: 23}}, Graph: g}
	done := make(chan error, 1)
	go func() {
		s, err := runtime.NewSession(m, runtime.Options{})
		if err == nil {
			_, err = s.RunOrdered(context.Background(), feeds)
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not finish in 20 s", op)
		return nil
	}
}

// A Conv with constant weights runs channels-last on a padded copy of its input, whose
// size follows the padding and strides rather than the output: 2^30 rows of top padding
// with a stride of 2^30 give two output rows and a 16 GiB copy, which must be refused
// by the budget (it was taken from the buffer pool unchecked). The integer convolution
// with constant weights pads a copy of each image likewise.
func TestPaddedConvInputStaysInBudget(t *testing.T) {
	defer kernel.SetMemoryBudget(kernel.SetMemoryBudget(64 << 20))
	for _, c := range []struct {
		op     string
		x, w   ir.DataType
		wBytes []byte
		want   string
	}{
		{"Conv", ir.Float, ir.Float, make([]byte, 9*4), "padded input: float[1 1073741828 4 1] needs 16.00 GiB"},
		{"ConvInteger", ir.Uint8, ir.Int8, make([]byte, 9), "padded input"},
	} {
		t.Run(c.op, func(t *testing.T) {
			g := ir.NewGraph("g")
			x := g.AddInput("x", ir.TensorTypeOf(c.x, 1, 1, 4, 4))
			w := g.AddInitializer(ir.NewTensor("w", c.w, []int64{1, 1, 3, 3}, c.wBytes))
			n := g.NewNode("", c.op, []*ir.Value{x, w}, []string{"y"},
				ir.IntsAttr("pads", 1<<30, 0, 0, 0), ir.IntsAttr("strides", 1<<30, 1))
			n.Name = "hostile"
			g.Append(n)
			g.Outputs = []*ir.Value{n.Output(0)}
			m := &ir.Model{IRVersion: 10, OpsetImports: []ir.OpsetID{{Domain: "", Version: 23}}, Graph: g}
			s, err := runtime.NewSession(m, runtime.Options{})
			if err != nil {
				t.Fatal(err)
			}
			feed, err := kernel.FromIR(ir.NewTensor("x", c.x, []int64{1, 1, 4, 4}, make([]byte, 16*c.x.BitSize()/8)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.RunOrdered(context.Background(), []*kernel.Tensor{feed})
			if !errors.Is(err, kernel.ErrMemoryBudget) || !strings.Contains(err.Error(), `"hostile"`) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a memory-budget error naming the node and the padded input", err)
			}
		})
	}
}

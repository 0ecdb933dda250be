package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/internal/graphgen"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// FuzzOps builds one node of a default-domain operator from the fuzzer's bytes, with
// awkward inputs and attributes (graphgen.Op: zero-sized and huge shapes, out-of-range and
// enormous attribute values, NaN and infinite data), and runs shape inference and the
// runtime on it under a 256 MiB memory budget. Errors are expected; a panic in inference,
// a kernel or its factory (a runtime.InternalError) is a bug.
func FuzzOps(f *testing.F) {
	for i := 0; i < 24; i++ {
		f.Add(graphgen.SeededSource(uint64(i), 64).Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkOp(t, data) })
}

func checkOp(t *testing.T, data []byte) {
	c, ok := graphgen.Op(graphgen.NewSource(data))
	if !ok {
		return
	}
	defer kernel.SetMemoryBudget(kernel.SetMemoryBudget(256 << 20))
	m := c.Model
	if err := m.Verify(); err != nil {
		t.Fatalf("generated model does not verify: %v", err)
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("shape inference panicked on %s: %v\n%s", c.Op, r, ir.Format(m))
			}
		}()
		rep, _ := infer.Model(m.Clone(), infer.Options{DataPropagation: true})
		for _, p := range rep.Problems {
			if strings.HasPrefix(p.Message, infer.InternalErrorMessage) {
				t.Fatalf("shape inference of %s: %s\n%s", c.Op, p, ir.Format(m))
			}
		}
	}()
	for _, opts := range []runtime.Options{{}, {Reference: true}} {
		s, err := runtime.NewSession(m, opts)
		var ie *runtime.InternalError
		if errors.As(err, &ie) {
			t.Fatalf("building %s: %v\n%s\n%s", c.Op, err, ie.Stack, ir.Format(m))
		}
		if err != nil {
			continue
		}
		feeds := make([]*kernel.Tensor, len(c.Inputs))
		for i, in := range c.Inputs {
			if feeds[i], err = kernel.FromIR(in); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
		_, err = s.RunOrdered(ctx, feeds)
		cancel()
		if errors.As(err, &ie) {
			t.Fatalf("running %s: %v\n%s\n%s", c.Op, err, ie.Stack, ir.Format(m))
		}
	}
}

// TestRandomOps runs seeded random operator cases, so that the default test run keeps
// covering every operator with awkward arguments.
func TestRandomOps(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	for seed := uint64(0); seed < uint64(n); seed++ {
		data := graphgen.SeededSource(seed, 128).Bytes()
		t.Run("", func(t *testing.T) { checkOp(t, data) })
	}
}

// TestOpCrashers keeps the crashes FuzzOps and TestRandomOps found, each now an error
// naming the problem (or a shape-inference problem), never a panic.
func TestOpCrashers(t *testing.T) {
	defer kernel.SetMemoryBudget(kernel.SetMemoryBudget(256 << 20))
	f32 := func(shape ...int64) *ir.Tensor {
		return ir.FromFloat32("", shape, make([]float32, int(numelOf(shape))))
	}
	i8 := func(shape ...int64) *ir.Tensor {
		return ir.NewTensor("", ir.Int8, shape, make([]byte, int(numelOf(shape))))
	}
	for _, tt := range []struct {
		name   string
		op     string
		attrs  []*ir.Attr
		inputs []*ir.Tensor
		want   string // in the run's error
	}{
		{"DepthToSpace with a blocksize whose square overflows", "DepthToSpace", []*ir.Attr{ir.IntAttr("blocksize", 1<<40)},
			[]*ir.Tensor{f32(1, 4, 1, 1)}, "blocksize 1099511627776 must be in [1, 2^31]"},
		{"SpaceToDepth likewise", "SpaceToDepth", []*ir.Attr{ir.IntAttr("blocksize", 1<<40)}, []*ir.Tensor{f32(1, 1, 2, 2)}, "must be in [1, 2^31]"},
		{"RotaryEmbedding with scalar caches", "RotaryEmbedding", nil, []*ir.Tensor{f32(1, 1, 2, 4), f32(), f32()}, "cos_cache is a scalar"},
		{"ConvInteger with an empty kernel", "ConvInteger", nil, []*ir.Tensor{i8(1, 1, 3, 3), i8(0, 1, 0, 0)}, "kernel sizes must be in [1,"},
		{"ConvInteger with a kernel larger than the input", "ConvInteger", nil, []*ir.Tensor{i8(1, 1, 2, 2), i8(1, 1, 3, 3)}, "the output would be empty"},
		{"RandomUniform of 2^30 elements", "RandomUniform", []*ir.Attr{ir.IntsAttr("shape", 1<<20, 1<<10)}, nil, "past the memory budget"},
		{"RandomUniform of 2^62 elements", "RandomUniform", []*ir.Attr{ir.IntsAttr("shape", 1<<31, 1<<31)}, nil, "overflow"},
		{"RandomUniform of an undefined type", "RandomUniform", []*ir.Attr{ir.IntsAttr("shape", 2), ir.IntAttr("dtype", 0)}, nil, "undefined"},
		{"Bernoulli of type -1", "Bernoulli", []*ir.Attr{ir.IntAttr("dtype", -1)}, []*ir.Tensor{f32(2)}, "datatype(-1)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := ir.NewGraph("g")
			var ins []*ir.Value
			var feeds []*kernel.Tensor
			for i, in := range tt.inputs {
				ins = append(ins, g.AddInput(fmt.Sprintf("in%d", i), ir.TensorTypeOf(in.DataType, in.Dims...)))
				kt, err := kernel.FromIR(in)
				if err != nil {
					t.Fatal(err)
				}
				feeds = append(feeds, kt)
			}
			n := g.NewNode("", tt.op, ins, []string{"y"}, tt.attrs...)
			g.Append(n)
			g.Outputs = []*ir.Value{n.Output(0)}
			m := &ir.Model{IRVersion: 10, OpsetImports: []ir.OpsetID{{Domain: "", Version: 23}}, Graph: g}
			rep, _ := infer.Model(m.Clone(), infer.Options{DataPropagation: true})
			for _, p := range rep.Problems {
				if strings.HasPrefix(p.Message, infer.InternalErrorMessage) {
					t.Fatalf("shape inference: %s", p)
				}
			}
			var err error
			if s, serr := runtime.NewSession(m, runtime.Options{}); serr != nil {
				err = serr
			} else {
				_, err = s.RunOrdered(context.Background(), feeds)
			}
			var ie *runtime.InternalError
			if err == nil || errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func numelOf(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

package hostile_test

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/hostile"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/checker"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// stage is one reader of a model, from bytes to outputs.
type stage struct {
	name string
	run  func(t testing.TB, data []byte)
}

func decode(t testing.TB, data []byte) *onnxpb.ModelProto {
	p, err := onnx.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	onnx.HasExternalData(p) // what ReadFile asks next: a walk over every tensor
	return p
}

func load(t testing.TB, data []byte) *ir.Model {
	m, err := onnx.ToIR(decode(t, data))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func runNested(t testing.TB, m *ir.Model, cond bool) []float32 {
	s, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := kernel.New(ir.Bool)
	c.Data.([]bool)[0] = cond
	outs, err := s.RunOrdered(context.Background(), []*kernel.Tensor{c, kernel.FromFloat32([]int64{2}, []float32{-1, 2})})
	if err != nil {
		t.Fatal(err)
	}
	return outs[0].Float32s()
}

// The stages whose cost must grow linearly with nesting depth.
var stages = []stage{
	{"decode", func(t testing.TB, data []byte) { decode(t, data) }},
	{"check", func(t testing.TB, data []byte) {
		p := decode(t, data)
		if probs := checker.CheckModel(p, checker.Options{}); len(probs) > 0 {
			t.Fatal(probs[0])
		}
	}},
	{"to IR + verify", func(t testing.TB, data []byte) {
		if err := load(t, data).Verify(); err != nil {
			t.Fatal(err)
		}
	}},
	{"infer", func(t testing.TB, data []byte) {
		rep, err := infer.Model(load(t, data), infer.Options{DataPropagation: true})
		if err != nil || len(rep.Problems) > 0 {
			t.Fatal(err, rep.Problems)
		}
	}},
	{"session + run", func(t testing.TB, data []byte) { runNested(t, load(t, data), true) }},
}

func encode(t testing.TB, m *onnxpb.ModelProto) []byte {
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestNestedIfComputes(t *testing.T) {
	for _, depth := range []int{1, 2, 7, 300} {
		m := load(t, encode(t, hostile.NestedIf(depth)))
		if got := runNested(t, m, true); got[0] != 0 || got[1] != 2 {
			t.Errorf("depth %d, cond true: got %v, want Relu(x) = [0 2]", depth, got)
		}
		if got := runNested(t, m, false); got[0] != -1 || got[1] != 2 {
			t.Errorf("depth %d, cond false: got %v, want x = [-1 2]", depth, got)
		}
	}
	// Every level's value reaches the innermost graph, each from its own level.
	for _, depth := range []int{1, 5, 300} {
		m := load(t, encode(t, hostile.NestedIfWide(depth)))
		want := float32(depth + 1)
		if got := runNested(t, m, true); got[0] != -want || got[1] != 2*want {
			t.Errorf("wide depth %d: got %v, want %v", depth, got, []float32{-want, 2 * want})
		}
	}
}

// TestNestedCostIsLinear measures the bytes each stage allocates at two depths, four times
// apart: linear stages allocate about 4x as much at the deeper one, stages that copy scopes
// or paths per level about 16x. Allocation counts, unlike time, do not depend on the load
// of the machine.
func TestNestedCostIsLinear(t *testing.T) {
	const small, large = 400, 1600
	for _, model := range []struct {
		name  string
		build func(int) *onnxpb.ModelProto
	}{{"NestedIf", hostile.NestedIf}, {"NestedIfWide", hostile.NestedIfWide}} {
		smallData, largeData := encode(t, model.build(small)), encode(t, model.build(large))
		for _, st := range stages {
			a := allocated(t, st, smallData)
			b := allocated(t, st, largeData)
			ratio := float64(b) / float64(a)
			t.Logf("%s %s: %d B at depth %d, %d B at depth %d (x%.1f)", model.name, st.name, a, small, b, large, ratio)
			if ratio > 6 {
				t.Errorf("%s %s: depth x4 allocates x%.1f (%d -> %d bytes): not linear", model.name, st.name, ratio, a, b)
			}
		}
	}
}

func allocated(t *testing.T, st stage, data []byte) uint64 {
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	st.run(t, data)
	goruntime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestNestingPastTheLimitIsRefused(t *testing.T) {
	limit := onnx.DefaultLimits.MaxSubgraphDepth
	if _, err := onnx.Decode(encode(t, hostile.NestedIf(limit))); err != nil {
		t.Fatalf("depth %d (the limit): %v", limit, err)
	}
	for _, tt := range []struct {
		depth int
		want  string
	}{
		{limit + 1, fmt.Sprintf("subgraph nesting depth %d exceeds whittle's limit of %d", limit+1, limit)},
		{3 * limit, "protobuf message nesting depth exceeds whittle's limit"},
	} {
		_, err := onnx.Decode(encode(t, hostile.NestedIf(tt.depth)))
		if !errors.Is(err, onnx.ErrLimit) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("depth %d: got %v, want an ErrLimit saying %q", tt.depth, err, tt.want)
		}
		// ToIR refuses in-memory models too.
		if _, err := onnx.ToIR(hostile.NestedIf(tt.depth)); !errors.Is(err, onnx.ErrLimit) {
			t.Errorf("ToIR at depth %d: got %v, want ErrLimit", tt.depth, err)
		}
	}
}

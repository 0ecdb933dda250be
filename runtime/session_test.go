package runtime

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func f32(shape []int64, v ...float32) *Tensor { return kernel.FromFloat32(shape, v) }

func model(g *ir.Graph, opset int64) *ir.Model {
	return &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Domain: "", Version: opset}}, Graph: g}
}

// node appends a node to g and returns its outputs.
func node(g *ir.Graph, op string, ins []*ir.Value, outs []string, attrs ...*ir.Attr) []*ir.Value {
	n := g.NewNode("", op, ins, outs, attrs...)
	g.Append(n)
	return n.Outputs()
}

func mustSession(t *testing.T, m *ir.Model, opts Options) *Session {
	t.Helper()
	s, err := NewSession(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func floats(t *testing.T, v *Tensor) []float32 {
	t.Helper()
	if v == nil {
		t.Fatal("nil tensor")
	}
	d, ok := v.Data.([]float32)
	if !ok {
		t.Fatalf("got %s, want float", v)
	}
	return d
}

func TestRunSimpleGraph(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2, 2))
	y := g.AddInput("y", ir.TensorTypeOf(ir.Float, 2))
	sum := node(g, "Add", []*ir.Value{x, y}, []string{"sum"})[0]
	out := node(g, "Relu", []*ir.Value{sum}, []string{"out"})[0]
	g.Outputs = []*ir.Value{out}
	s := mustSession(t, model(g, 17), Options{})

	got, err := s.Run(context.Background(), map[string]*Tensor{
		"x": f32([]int64{2, 2}, 1, -2, 3, -4),
		"y": f32([]int64{2}, 1, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{2, 0, 4, 0}; !reflect.DeepEqual(floats(t, got["out"]), want) {
		t.Errorf("out = %v, want %v", got["out"].Data, want)
	}
	if len(got) != 1 {
		t.Errorf("Run returned %d values, want only the output", len(got))
	}
	ordered, err := s.RunOrdered(context.Background(), []*Tensor{f32([]int64{2, 2}, 0, 0, 0, 0), f32([]int64{2}, -1, 5)})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0, 5, 0, 5}; !reflect.DeepEqual(floats(t, ordered[0]), want) {
		t.Errorf("RunOrdered = %v, want %v", ordered[0].Data, want)
	}
}

func TestInputErrors(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2, 3))
	g.Outputs = []*ir.Value{node(g, "Neg", []*ir.Value{x}, []string{"y"})[0]}
	s := mustSession(t, model(g, 17), Options{})
	tests := []struct {
		name   string
		inputs map[string]*Tensor
		want   string
	}{
		{"missing", map[string]*Tensor{}, `input "x" is missing`},
		{"unknown", map[string]*Tensor{"x": kernel.New(ir.Float, 2, 3), "z": kernel.New(ir.Float)}, `no input named "z"`},
		{"dtype", map[string]*Tensor{"x": kernel.New(ir.Int64, 2, 3)}, "element type int64"},
		{"rank", map[string]*Tensor{"x": kernel.New(ir.Float, 6)}, "rank 1"},
		{"dim", map[string]*Tensor{"x": kernel.New(ir.Float, 2, 4)}, "dimension 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Run(context.Background(), tt.inputs)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestRunErrorNamesNode(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2))
	y := g.AddInput("y", ir.TensorTypeOf(ir.Float, 3))
	n := g.NewNode("", "Add", []*ir.Value{x, y}, []string{"z"})
	n.Name = "bad_add"
	g.Append(n)
	g.Outputs = []*ir.Value{n.Output(0)}
	s := mustSession(t, model(g, 17), Options{})
	_, err := s.Run(context.Background(), map[string]*Tensor{"x": kernel.New(ir.Float, 2), "y": kernel.New(ir.Float, 3)})
	if err == nil || !strings.Contains(err.Error(), `node "bad_add" (Add)`) || !strings.Contains(err.Error(), "broadcast") {
		t.Errorf("err = %v, want it to name node bad_add and the broadcast failure", err)
	}
}

func TestMissingKernelsAllReported(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2))
	c := g.AddInput("c", ir.TensorTypeOf(ir.Bool))
	a := node(g, "NoSuchOpA", []*ir.Value{x}, []string{"a"})[0]
	then := g.NewSubgraph("then")
	then.Outputs = []*ir.Value{nodeIn(then, "NoSuchOpB", []*ir.Value{a}, "b")}
	els := g.NewSubgraph("else")
	els.Outputs = []*ir.Value{nodeIn(els, "Neg", []*ir.Value{a}, "e")}
	ifn := g.NewNode("", "If", []*ir.Value{c}, []string{"r"}, ir.GraphAttr("then_branch", then), ir.GraphAttr("else_branch", els))
	ifn.AttachSubgraph(then)
	ifn.AttachSubgraph(els)
	g.Append(ifn)
	g.Outputs = []*ir.Value{ifn.Output(0)}
	_, err := NewSession(model(g, 17), Options{})
	if err == nil {
		t.Fatal("NewSession succeeded with unknown ops")
	}
	for _, want := range []string{"NoSuchOpA", "NoSuchOpB", "opset 17"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	var mk *MissingKernelError
	if !errors.As(err, &mk) || mk.Op != "NoSuchOpA" {
		t.Errorf("errors.As MissingKernelError = %+v", mk)
	}
}

// nodeIn appends a node to a subgraph and returns its single output.
func nodeIn(g *ir.Graph, op string, ins []*ir.Value, out string) *ir.Value {
	n := g.NewNode("", op, ins, []string{out})
	g.Append(n)
	return n.Output(0)
}

// TestAliasedBufferNotRecycled checks the pool's ownership rule: Identity returns its
// input, so the Add result must not be recycled when Add's value dies, or the later Neg
// would overwrite the graph output b.
func TestAliasedBufferNotRecycled(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 4))
	a := node(g, "Add", []*ir.Value{x, x}, []string{"a"})[0]
	b := node(g, "Identity", []*ir.Value{a}, []string{"b"})[0]
	c := node(g, "Neg", []*ir.Value{x}, []string{"c"})[0]
	d := node(g, "Neg", []*ir.Value{c}, []string{"d"})[0]
	e := node(g, "Mul", []*ir.Value{d, d}, []string{"e"})[0]
	g.Outputs = []*ir.Value{b, e}
	s := mustSession(t, model(g, 17), Options{})
	for run := 0; run < 3; run++ {
		in := f32([]int64{4}, 1, 2, 3, float32(run))
		out, err := s.RunOrdered(context.Background(), []*Tensor{in})
		if err != nil {
			t.Fatal(err)
		}
		if want := []float32{2, 4, 6, 2 * float32(run)}; !reflect.DeepEqual(floats(t, out[0]), want) {
			t.Fatalf("run %d: b = %v, want %v", run, out[0].Data, want)
		}
		if want := []float32{1, 4, 9, float32(run * run)}; !reflect.DeepEqual(floats(t, out[1]), want) {
			t.Fatalf("run %d: e = %v, want %v", run, out[1].Data, want)
		}
	}
}

// TestViewTakesOverDyingBuffer: a Flatten or Reshape of an intermediate that dies there
// takes over its buffer, which goes back to the pool when the view dies (a run then
// allocates little more than its output), while a view of a value read again later does
// not, and every run's outputs stay right while buffers are recycled.
func TestViewTakesOverDyingBuffer(t *testing.T) {
	const n = 1 << 16
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 4, n/4))
	shape := g.AddInitializer(ir.FromInt64("shape", []int64{1}, []int64{n}))
	a := node(g, "Neg", []*ir.Value{x}, []string{"a"})[0]
	flat := node(g, "Flatten", []*ir.Value{a}, []string{"flat"}, ir.IntAttr("axis", 0))[0] // a dies here
	b := node(g, "Neg", []*ir.Value{flat}, []string{"b"})[0]                               // flat dies here
	c := node(g, "Neg", []*ir.Value{b}, []string{"c"})[0]
	view := node(g, "Reshape", []*ir.Value{c, shape}, []string{"view"})[0] // c is read again below
	d := node(g, "Add", []*ir.Value{view, c}, []string{"d"})[0]
	e := node(g, "Neg", []*ir.Value{d}, []string{"e"})[0]
	g.Outputs = []*ir.Value{e}
	s := mustSession(t, model(g, 17), Options{Threads: 1})
	in := kernel.New(ir.Float, 4, n/4)
	run := func(k int) {
		for i := range in.Float32s() {
			in.Float32s()[i] = float32(i%7 + k)
		}
		out, err := s.RunOrdered(context.Background(), []*Tensor{in})
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range floats(t, out[0]) { // e = -(2·(-(-(-x)))) = 2x
			if want := 2 * float32(i%7+k); v != want {
				t.Fatalf("run %d: e[%d] = %v, want %v", k, i, v, want)
			}
		}
	}
	for k := 0; k < 3; k++ {
		run(k)
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	const runs = 10
	for k := 0; k < runs; k++ {
		run(k)
	}
	goruntime.ReadMemStats(&after)
	// Each run's output is a fresh n-float buffer, and c, viewed while it is still read,
	// stays pinned: two buffers. a, pinned by the Flatten, would be a third.
	if perRun := (after.TotalAlloc - before.TotalAlloc) / runs; perRun > 4*n*5/2 {
		t.Fatalf("a run allocates %d bytes; its output and c have %d each", perRun, 4*n)
	}
}

// TestStepTimer: the timer sees the steps the session runs (the prepared graph's fused
// operators, or the nodes as written with Reference), once each per run, with their inputs.
func TestStepTimer(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 1, 3, 8, 8))
	w := g.AddInitializer(ir.FromFloat32("w", []int64{4, 3, 3, 3}, make([]float32, 4*3*3*3)))
	c := node(g, "Conv", []*ir.Value{x, w}, []string{"c"}, ir.IntsAttr("pads", 1, 1, 1, 1))[0]
	g.Outputs = []*ir.Value{node(g, "Relu", []*ir.Value{c}, []string{"y"})[0]}
	for _, tc := range []struct {
		reference bool
		want      string
	}{{false, "Reorder NhwcConv Reorder"}, {true, "Conv Relu"}} {
		var ops []string
		timer := func(n *ir.Node, in []*Tensor, d time.Duration) {
			if d < 0 || len(in) == 0 || in[0] == nil {
				t.Errorf("%s: duration %v, inputs %v", n.OpType, d, in)
			}
			ops = append(ops, n.OpType)
		}
		s := mustSession(t, model(g, 17), Options{Reference: tc.reference, StepTimer: timer, Threads: 1})
		for run := 0; run < 2; run++ {
			ops = ops[:0]
			if _, err := s.RunOrdered(context.Background(), []*Tensor{kernel.New(ir.Float, 1, 3, 8, 8)}); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ops, " "); got != tc.want {
				t.Errorf("reference %v, run %d: steps %q, want %q", tc.reference, run, got, tc.want)
			}
		}
	}
}

// TestBuffersAreReused checks that dead intermediates go back to the pool and that a later
// run takes them from there.
func TestBuffersAreReused(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 1000))
	v := x
	for i := 0; i < 4; i++ {
		v = node(g, "Neg", []*ir.Value{v}, []string{fmt.Sprintf("n%d", i)})[0]
	}
	g.Outputs = []*ir.Value{v}
	s := mustSession(t, model(g, 17), Options{})
	in := kernel.New(ir.Float, 1000)
	if _, err := s.RunOrdered(context.Background(), []*Tensor{in}); err != nil {
		t.Fatal(err)
	}
	class, _ := sizeClass(1000)
	free := len(s.pool.free[stF32][class])
	// n0 dies after n1 runs and n1 after n2: n2 can reuse n0's buffer, so at least one
	// buffer is back in the pool at the end, and never a graph output.
	if free == 0 {
		t.Fatalf("no buffer returned to the pool")
	}
	out, err := s.RunOrdered(context.Background(), []*Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	for _, buf := range s.pool.free[stF32][class] {
		if &buf.([]float32)[0] == &out[0].Data.([]float32)[0] {
			t.Fatal("the graph output's buffer is in the pool")
		}
	}
}

func TestIntermediatesAndObserver(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2))
	a := node(g, "Neg", []*ir.Value{x}, []string{"a"})[0]
	b := node(g, "Abs", []*ir.Value{a}, []string{"b"})[0]
	g.Outputs = []*ir.Value{b}
	var seen []string
	s := mustSession(t, model(g, 17), Options{
		Intermediates: true,
		Observer: func(i int, n *ir.Node, outs []*Tensor) {
			seen = append(seen, fmt.Sprintf("%d:%s:%v", i, n.OpType, outs[0].Data))
		},
	})
	got, err := s.Run(context.Background(), map[string]*Tensor{"x": f32([]int64{2}, 1, -2)})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]float32{"x": {1, -2}, "a": {-1, 2}, "b": {1, 2}} {
		if got[name] == nil || !reflect.DeepEqual(floats(t, got[name]), want) {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
	if want := []string{"0:Neg:[-1 2]", "1:Abs:[1 2]"}; !reflect.DeepEqual(seen, want) {
		t.Errorf("observer saw %v, want %v", seen, want)
	}
}

func TestConcurrentRuns(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 64))
	a := node(g, "Mul", []*ir.Value{x, x}, []string{"a"})[0]
	b := node(g, "Neg", []*ir.Value{a}, []string{"b"})[0]
	c := node(g, "Add", []*ir.Value{b, x}, []string{"c"})[0]
	g.Outputs = []*ir.Value{c}
	s := mustSession(t, model(g, 17), Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for it := 0; it < 50; it++ {
				v := float32(w*100 + it)
				in := kernel.New(ir.Float, 64)
				for i := range in.Data.([]float32) {
					in.Data.([]float32)[i] = v
				}
				out, err := s.RunOrdered(context.Background(), []*Tensor{in})
				if err != nil {
					errs <- err
					return
				}
				for _, got := range out[0].Data.([]float32) {
					if want := -v*v + v; got != want {
						errs <- fmt.Errorf("worker %d: got %v, want %v", w, got, want)
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOutOfOrderGraphIsSorted(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 1))
	n1 := g.NewNode("", "Neg", []*ir.Value{x}, []string{"a"})
	n2 := g.NewNode("", "Abs", []*ir.Value{n1.Output(0)}, []string{"b"})
	g.Append(n2) // consumer first
	g.Append(n1)
	g.Outputs = []*ir.Value{n2.Output(0)}
	s := mustSession(t, model(g, 17), Options{})
	out, err := s.RunOrdered(context.Background(), []*Tensor{f32([]int64{1}, -3)})
	if err != nil {
		t.Fatal(err)
	}
	if got := floats(t, out[0]); got[0] != 3 {
		t.Errorf("got %v, want 3", got)
	}
}

// TestConstsReachFactory checks that initializers and folded Constant nodes arrive in
// NodeInfo.Consts.
func TestConstsReachFactory(t *testing.T) {
	var consts []*Tensor
	kernel.Register(kernel.KernelDef{Domain: "test.whittle", Op: "Probe", SinceVersion: 1,
		New: func(info *kernel.NodeInfo) (kernel.Kernel, error) {
			consts = info.Consts
			return kernel.KernelFunc(func(ctx *kernel.Context, in []*kernel.Tensor) ([]*kernel.Tensor, error) {
				return []*kernel.Tensor{in[0]}, nil
			}), nil
		}})
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 1))
	w := g.AddInitializer(ir.FromFloat32("w", []int64{1}, []float32{7}))
	k := node(g, "Constant", nil, []string{"k"}, ir.IntsAttr("value_ints", 4, 5))[0]
	p := g.NewNode("test.whittle", "Probe", []*ir.Value{x, w, k}, []string{"p"})
	g.Append(p)
	g.Outputs = []*ir.Value{p.Output(0), k}
	m := model(g, 17)
	m.SetOpset("test.whittle", 1)
	s := mustSession(t, m, Options{})
	if len(consts) != 3 || consts[0] != nil || consts[1] == nil || consts[2] == nil {
		t.Fatalf("Consts = %v, want [nil, w, k]", consts)
	}
	if got := consts[1].Data.([]float32); got[0] != 7 {
		t.Errorf("w = %v", got)
	}
	if got := consts[2].Data.([]int64); !reflect.DeepEqual(got, []int64{4, 5}) {
		t.Errorf("k = %v", got)
	}
	out, err := s.RunOrdered(context.Background(), []*Tensor{f32([]int64{1}, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out[1].Data, []int64{4, 5}) {
		t.Errorf("constant output = %v", out[1].Data)
	}
}

func TestHalfFallback(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float16, 3))
	y := node(g, "Sqrt", []*ir.Value{x}, []string{"y"})[0]
	z := node(g, "Add", []*ir.Value{y, y}, []string{"z"})[0] // input type unknown at build
	g.Outputs = []*ir.Value{z}
	s := mustSession(t, model(g, 17), Options{})
	in := &Tensor{DType: ir.Float16, Shape: []int64{3}, Data: []uint16{
		kernel.Float32ToFloat16(4), kernel.Float32ToFloat16(9), kernel.Float32ToFloat16(2)}}
	out, err := s.RunOrdered(context.Background(), []*Tensor{in})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].DType != ir.Float16 {
		t.Fatalf("output is %s, want float16", out[0].DType)
	}
	want := []float32{4, 6, kernel.Float16ToFloat32(kernel.Float32ToFloat16(2 * 1.4142135))}
	for i, h := range out[0].Data.([]uint16) {
		if got := kernel.Float16ToFloat32(h); got != want[i] {
			t.Errorf("element %d = %v, want %v", i, got, want[i])
		}
	}
}

// TestSubgraphOuterScope runs If and Loop bodies that read values of the enclosing graph.
func TestSubgraphOuterScope(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 2))
	cond := g.AddInput("cond", ir.TensorTypeOf(ir.Bool))
	trip := g.AddInput("trip", ir.TensorTypeOf(ir.Int64))
	doubled := node(g, "Add", []*ir.Value{x, x}, []string{"doubled"})[0]

	then := g.NewSubgraph("then")
	then.Outputs = []*ir.Value{nodeIn(then, "Neg", []*ir.Value{doubled}, "t_out")}
	els := g.NewSubgraph("else")
	els.Outputs = []*ir.Value{nodeIn(els, "Abs", []*ir.Value{x}, "e_out")}
	ifn := g.NewNode("", "If", []*ir.Value{cond}, []string{"if_out"}, ir.GraphAttr("then_branch", then), ir.GraphAttr("else_branch", els))
	ifn.AttachSubgraph(then)
	ifn.AttachSubgraph(els)
	g.Append(ifn)

	// Loop: acc = acc + doubled, trip times; the body reads doubled from outside.
	body := g.NewSubgraph("body")
	body.AddInput("i", ir.TensorTypeOf(ir.Int64))
	bc := body.AddInput("c", ir.TensorTypeOf(ir.Bool))
	acc := body.AddInput("acc", ir.TensorTypeOf(ir.Float, 2))
	next := nodeIn(body, "Add", []*ir.Value{acc, doubled}, "next")
	cout := nodeIn(body, "Identity", []*ir.Value{bc}, "c_out")
	body.Outputs = []*ir.Value{cout, next, next}
	loop := g.NewNode("", "Loop", []*ir.Value{trip, nil, x}, []string{"final", "scan"}, ir.GraphAttr("body", body))
	loop.AttachSubgraph(body)
	g.Append(loop)
	g.Outputs = []*ir.Value{ifn.Output(0), loop.Output(0), loop.Output(1)}

	s := mustSession(t, model(g, 17), Options{})
	for _, c := range []bool{true, false} {
		out, err := s.Run(context.Background(), map[string]*Tensor{
			"x":    f32([]int64{2}, 1, -2),
			"cond": {DType: ir.Bool, Shape: []int64{}, Data: []bool{c}},
			"trip": kernel.FromInt64([]int64{}, []int64{3}),
		})
		if err != nil {
			t.Fatal(err)
		}
		wantIf := []float32{1, 2}
		if c {
			wantIf = []float32{-2, 4}
		}
		if got := floats(t, out["if_out"]); !reflect.DeepEqual(got, wantIf) {
			t.Errorf("cond %v: if_out = %v, want %v", c, got, wantIf)
		}
		if got, want := floats(t, out["final"]), []float32{7, -14}; !reflect.DeepEqual(got, want) {
			t.Errorf("final = %v, want %v", got, want)
		}
		if got, want := out["scan"].Shape, []int64{3, 2}; !reflect.DeepEqual(got, want) {
			t.Errorf("scan shape = %v, want %v", got, want)
		}
		if got, want := floats(t, out["scan"]), []float32{3, -6, 5, -10, 7, -14}; !reflect.DeepEqual(got, want) {
			t.Errorf("scan = %v, want %v", got, want)
		}
	}
}

func TestSizeClass(t *testing.T) {
	prevClass, prevCap := 0, 0
	for n := 1; n <= 5000; n++ {
		class, capacity := sizeClass(n)
		if capacity < n {
			t.Fatalf("sizeClass(%d) capacity %d is too small", n, capacity)
		}
		if capacity > n+n/4+1 && n > 8 {
			t.Fatalf("sizeClass(%d) capacity %d wastes more than 25%%", n, capacity)
		}
		if class < prevClass || (class == prevClass && capacity != prevCap) {
			t.Fatalf("sizeClass(%d) = %d,%d after %d,%d: classes must grow with capacity", n, class, capacity, prevClass, prevCap)
		}
		// A buffer of exactly the class capacity maps back to the same class.
		if c2, cap2 := sizeClass(capacity); c2 != class || cap2 != capacity {
			t.Fatalf("sizeClass(%d) = %d,%d, want %d,%d", capacity, c2, cap2, class, capacity)
		}
		prevClass, prevCap = class, capacity
	}
}

// TestConcurrentRunsParallelKernels runs a Conv/MatMul model from many goroutines with
// kernels that split their work over several threads (run it with -race), and requires
// every result to equal the single-threaded session's bit for bit: kernels split output
// tiles, never a sum, so the thread count does not change the arithmetic.
func TestConcurrentRunsParallelKernels(t *testing.T) {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 1, 16, 20, 20))
	w := g.AddInitializer(ir.FromFloat32("w", []int64{32, 16, 3, 3}, rampFloats(32*16*9, 0.01)))
	bias := g.AddInitializer(ir.FromFloat32("b", []int64{32}, rampFloats(32, 0.1)))
	c := node(g, "Conv", []*ir.Value{x, w, bias}, []string{"c"}, ir.IntsAttr("pads", 1, 1, 1, 1))[0]
	r := node(g, "Relu", []*ir.Value{c}, []string{"r"})[0]
	shape := g.AddInitializer(ir.FromInt64("shape", []int64{2}, []int64{32, 400}))
	flat := node(g, "Reshape", []*ir.Value{r, shape}, []string{"flat"})[0]
	m := g.AddInitializer(ir.FromFloat32("m", []int64{400, 48}, rampFloats(400*48, 0.003)))
	y := node(g, "MatMul", []*ir.Value{flat, m}, []string{"y"})[0]
	g.Outputs = []*ir.Value{y}
	mod := model(g, 17)
	input := func(seed int) *Tensor {
		return f32([]int64{1, 16, 20, 20}, rampFloats(16*400, 0.001*float32(seed+1))...)
	}
	serial := mustSession(t, mod, Options{Threads: 1})
	var want [][]float32
	for i := 0; i < 4; i++ {
		out, err := serial.RunOrdered(context.Background(), []*Tensor{input(i)})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, floats(t, out[0]))
	}
	for _, threads := range []int{2, 3} {
		s := mustSession(t, mod, Options{Threads: threads})
		var wg sync.WaitGroup
		errs := make(chan error, 6)
		for gr := 0; gr < 6; gr++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for it := 0; it < 10; it++ {
					i := (gr + it) % 4
					out, err := s.RunOrdered(context.Background(), []*Tensor{input(i)})
					if err != nil {
						errs <- err
						return
					}
					if got := out[0].Data.([]float32); !reflect.DeepEqual(got, want[i]) {
						errs <- fmt.Errorf("threads %d, input %d: result differs from the single-threaded one", threads, i)
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}

// rampFloats returns n values cycling through a small range, scaled by step.
func rampFloats(n int, step float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i%17-8) * step
	}
	return v
}

// convReluChain builds x → Conv → Relu (r1) → Conv → Relu (y), which the preparation
// stage fuses into two FusedConv steps.
func convReluChain() *ir.Model {
	g := ir.NewGraph("g")
	x := g.AddInput("x", ir.TensorTypeOf(ir.Float, 1, 2, 5, 5))
	w1 := g.AddInitializer(ir.FromFloat32("w1", []int64{3, 2, 3, 3}, rampFloats(54, 0.1)))
	w2 := g.AddInitializer(ir.FromFloat32("w2", []int64{2, 3, 1, 1}, rampFloats(6, 0.3)))
	c1 := node(g, "Conv", []*ir.Value{x, w1}, []string{"c1"}, ir.IntsAttr("pads", 1, 1, 1, 1))[0]
	r1 := node(g, "Relu", []*ir.Value{c1}, []string{"r1"})[0]
	c2 := node(g, "Conv", []*ir.Value{r1, w2}, []string{"c2"})[0]
	y := node(g, "Relu", []*ir.Value{c2}, []string{"y"})[0]
	g.Outputs = []*ir.Value{y}
	return model(g, 17)
}

// TestObserverOfFusedSession checks how a prepared session reports to an observer: with
// Observed, fused steps are reported as the original node whose output they compute,
// with the original value; without it, every node runs and is reported.
func TestObserverOfFusedSession(t *testing.T) {
	m := convReluChain()
	in := f32([]int64{1, 2, 5, 5}, rampFloats(50, 0.2)...)
	ref := mustSession(t, m, Options{Reference: true, Intermediates: true})
	want, err := ref.Run(context.Background(), map[string]*Tensor{"x": in})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		observed []string
		seen     string
	}{
		{[]string{"r1"}, "1:Relu:r1 3:Relu:y"},
		{nil, "0:Conv:c1 1:Relu:r1 2:Conv:c2 3:Relu:y"},
		{[]string{"c1"}, "0:Conv:c1 3:Relu:y"},
	} {
		var seen []string
		s := mustSession(t, m, Options{Observed: tc.observed, Observer: func(i int, n *ir.Node, outs []*Tensor) {
			name := n.Output(0).Name
			seen = append(seen, fmt.Sprintf("%d:%s:%s", i, n.OpType, name))
			if !closeFloats(floats(t, outs[0]), floats(t, want[name])) {
				t.Errorf("observed %v: %s differs from the reference value", tc.observed, name)
			}
		}})
		if _, err := s.Run(context.Background(), map[string]*Tensor{"x": in}); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(seen, " "); got != tc.seen {
			t.Errorf("observed %v: observer saw %q, want %q", tc.observed, got, tc.seen)
		}
	}
	// Intermediates return every original value, under its name, as the reference does.
	s := mustSession(t, m, Options{Intermediates: true})
	got, err := s.Run(context.Background(), map[string]*Tensor{"x": in})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("intermediates: %d values, reference %d", len(got), len(want))
	}
	for name, w := range want {
		if w.DType == ir.Float && (got[name] == nil || !closeFloats(floats(t, got[name]), floats(t, w))) {
			t.Errorf("intermediate %s differs from the reference", name)
		}
	}
}

// closeFloats reports whether a and b agree to float32 rounding: fused kernels sum in
// another order than the reference ones.
func closeFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		d := float64(a[i] - b[i])
		if d < 0 {
			d = -d
		}
		m := float64(b[i])
		if m < 0 {
			m = -m
		}
		if d > 1e-5*(1+m) {
			return false
		}
	}
	return true
}

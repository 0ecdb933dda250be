package grad

import (
	"context"
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
)

func TestBuildReportsNodesWithoutRule(t *testing.T) {
	c := gradCase{name: "sin_then_sign", ins: []tin{f("x", 3), f("w", 3)},
		build: func(g *ir.Graph, v map[string]*ir.Value) []*ir.Value {
			mul := g.NewNode("", "Mul", []*ir.Value{v["x"], v["w"]}, []string{"m"})
			sin := g.NewNode("", "Sin", []*ir.Value{mul.Output(0)}, []string{"s"})
			sin.Name = "the_sine"
			cosh := g.NewNode("", "Cosh", []*ir.Value{sin.Output(0)}, []string{"y"})
			cosh.Name = "the_cosh"
			for _, n := range []*ir.Node{mul, sin, cosh} {
				g.Append(n)
			}
			return []*ir.Value{cosh.Output(0)}
		}}
	m := testModel(t, c, rand.New(rand.NewSource(1)))
	_, err := Build(m, Config{})
	var nr *NoRuleError
	if !errors.As(err, &nr) {
		t.Fatalf("Build: %v, want a NoRuleError", err)
	}
	if len(nr.Nodes) != 2 || !strings.Contains(err.Error(), `"the_sine" (Sin)`) || !strings.Contains(err.Error(), `"the_cosh" (Cosh)`) {
		t.Errorf("error %q should name both nodes", err)
	}
}

func TestBuildRejectsIntegerOnlyGraph(t *testing.T) {
	c := gradCase{name: "ints", op: "Add", ins: []tin{i64("a", 1, 2), i64("b", 3, 4)}}
	m := testModel(t, c, rand.New(rand.NewSource(1)))
	if _, err := Build(m, Config{}); !errors.Is(err, ErrNothingToTrain) {
		t.Fatalf("Build: %v, want ErrNothingToTrain", err)
	}
}

func TestDefaultTrainableSetSkipsScalarsAndStatistics(t *testing.T) {
	c := gradCase{name: "bn_scalar", ins: []tin{f("x", 2, 2, 3), f("scale", 2), f("b", 2), f("mean", 2), pos("var", 2), f("k", 1)},
		build: func(g *ir.Graph, v map[string]*ir.Value) []*ir.Value {
			bn := g.NewNode("", "BatchNormalization", []*ir.Value{v["x"], v["scale"], v["b"], v["mean"], v["var"]}, []string{"n"})
			mul := g.NewNode("", "Mul", []*ir.Value{bn.Output(0), v["k"]}, []string{"y"})
			g.Append(bn)
			g.Append(mul)
			return []*ir.Value{mul.Output(0)}
		}}
	m := testModel(t, c, rand.New(rand.NewSource(1)))
	p, err := Build(m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	var params, state []string
	for _, pr := range p.Params() {
		params = append(params, pr.Name)
	}
	for _, s := range p.State() {
		state = append(state, s.Name)
	}
	if strings.Join(params, ",") != "x,scale,b" || strings.Join(state, ",") != "mean,var" {
		t.Errorf("params %v, state %v; want [x scale b] and [mean var]", params, state)
	}
}

func TestShapeSubgraphRunsOncePerSignature(t *testing.T) {
	var c gradCase
	for _, gc := range gradCases {
		if gc.name == "shape_subgraph_reshape" {
			c = gc
		}
	}
	m := testModel(t, c, rand.New(rand.NewSource(1)))
	p, err := Build(m, Config{})
	if err != nil {
		t.Fatal(err)
	}
	static := 0
	for _, st := range p.steps {
		if st.static {
			static++
		}
	}
	if static != 3 {
		t.Fatalf("%d static steps, want 3 (Shape, Gather, Concat)", static)
	}
	for i := 0; i < 2; i++ {
		if _, err := p.Forward(context.Background(), nil, Training, uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.staticCache) != 1 {
		t.Errorf("%d cached signatures after two passes of one shape, want 1", len(p.staticCache))
	}
}

func TestDropoutMasksFollowSeedAndStep(t *testing.T) {
	c := gradCase{name: "dropout", op: "Dropout", ins: []tin{pos("x", 64, 64), constF("r", nil, 0.25)}}
	m := testModel(t, c, rand.New(rand.NewSource(1)))
	zeros := func(seed, step uint64) (int, []float32) {
		p, err := Build(m, Config{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		tape, err := p.Forward(context.Background(), nil, Training, step)
		if err != nil {
			t.Fatal(err)
		}
		y := append([]float32(nil), tape.Value("y0").Float32s()...)
		n := 0
		for _, v := range y {
			if v == 0 {
				n++
			}
		}
		return n, y
	}
	n, a := zeros(1, 7)
	if frac := float64(n) / 4096; frac < 0.22 || frac > 0.28 {
		t.Errorf("dropped %.3f of the elements, want about 0.25", frac)
	}
	_, b := zeros(1, 7)
	_, other := zeros(1, 8)
	same := func(x, y []float32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("the same seed and step drew different masks")
	}
	if same(a, other) {
		t.Error("another step drew the same mask")
	}
}

// TestParallelBackwardIsReproducible runs a convolution large enough to be split over
// threads: two runs with the same thread count agree bit for bit, other counts within
// float rounding. Run it with -race.
func TestParallelBackwardIsReproducible(t *testing.T) {
	c := gradCase{name: "big_conv", ins: []tin{f("x", 8, 16, 16, 16), f("w", 16, 16, 3, 3), f("b", 16)},
		build: func(g *ir.Graph, v map[string]*ir.Value) []*ir.Value {
			conv := g.NewNode("", "Conv", []*ir.Value{v["x"], v["w"], v["b"]}, []string{"c"}, ia("pads", 1, 1, 1, 1))
			pool := g.NewNode("", "MaxPool", []*ir.Value{conv.Output(0)}, []string{"y"}, ia("kernel_shape", 2, 2), ia("strides", 2, 2))
			g.Append(conv)
			g.Append(pool)
			return []*ir.Value{pool.Output(0)}
		}}
	m := testModel(t, c, rand.New(rand.NewSource(1)))
	run := func(threads int) []float32 {
		p, err := Build(m, Config{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		tape, err := p.Forward(context.Background(), nil, Training, 0)
		if err != nil {
			t.Fatal(err)
		}
		y := tape.Value("y")
		seed := make([]float32, y.Len())
		for i := range seed {
			seed[i] = float32(i%7) - 3
		}
		if err := tape.Backward(context.Background(), map[string][]float32{"y": seed}); err != nil {
			t.Fatal(err)
		}
		var out []float32
		for _, pr := range p.Params() {
			out = append(out, pr.Grad...)
		}
		return out
	}
	a, b, one := run(3), run(3), run(1)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("gradient %d differs between two runs with 3 threads: %v, %v", i, a[i], b[i])
		}
		if d := a[i] - one[i]; d > 1e-3 || d < -1e-3 {
			t.Fatalf("gradient %d: 3 threads %v, 1 thread %v", i, a[i], one[i])
		}
	}
}

// TestForwardMatchesRuntime runs every finite-difference case's graph in inference mode
// through the program and through a runtime Session: the program's own forward code
// (Conv in image chunks, BatchNormalization, Dropout) must compute what the runtime does.
func TestForwardMatchesRuntime(t *testing.T) {
	for _, c := range gradCases {
		t.Run(c.name, func(t *testing.T) {
			m := testModel(t, c, rand.New(rand.NewSource(int64(len(c.name)))))
			p, err := Build(m, Config{Trainable: trainedKinds(c)})
			if err != nil {
				t.Fatal(err)
			}
			tape, err := p.Forward(context.Background(), nil, Inference, 0)
			if err != nil {
				t.Fatal(err)
			}
			sess, err := runtime.NewSession(m, runtime.Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, err := sess.Run(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			for name, w := range want {
				got := tape.Value(name)
				if w.DType != ir.Float {
					continue
				}
				a, b := got.Float32s(), w.Float32s()
				if len(a) != len(b) {
					t.Fatalf("%s: %d values, runtime %d", name, len(a), len(b))
				}
				for i := range a {
					if d := a[i] - b[i]; d > 1e-5 || d < -1e-5 {
						t.Fatalf("%s[%d] = %v, runtime %v", name, i, a[i], b[i])
					}
				}
			}
		})
	}
}

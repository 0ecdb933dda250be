package train

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/train/data"
	"github.com/whittle-ml/whittle/train/optim"
)

// mlp builds a two-layer classifier of 4 features into 3 classes with a BatchNorm and a
// Dropout, so checkpoints carry running statistics and the masks depend on the step.
func mlp(t *testing.T) (*ir.Model, dataset.Dataset) {
	t.Helper()
	rng := rand.New(rand.NewSource(2))
	g := ir.NewGraph("mlp")
	x := g.AddInput("x", ir.TensorType(ir.Float, ir.Symbolic("batch"), ir.Known(4)))
	randT := func(name string, shape ...int64) *ir.Value {
		n := 1
		for _, d := range shape {
			n *= int(d)
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * 0.5)
		}
		return g.AddInitializer(ir.FromFloat32(name, shape, v))
	}
	ones := g.AddInitializer(ir.FromFloat32("bn.scale", []int64{8}, []float32{1, 1, 1, 1, 1, 1, 1, 1}))
	zeros := g.AddInitializer(ir.FromFloat32("bn.bias", []int64{8}, make([]float32, 8)))
	mean := g.AddInitializer(ir.FromFloat32("bn.mean", []int64{8}, make([]float32, 8)))
	variance := g.AddInitializer(ir.FromFloat32("bn.var", []int64{8}, []float32{1, 1, 1, 1, 1, 1, 1, 1}))
	ratio := g.AddInitializer(ir.FromFloat32("ratio", nil, []float32{0.2}))
	l1 := g.NewNode("", "Gemm", []*ir.Value{x, randT("w1", 4, 8), randT("b1", 8)}, []string{"h"})
	bn := g.NewNode("", "BatchNormalization", []*ir.Value{l1.Output(0), ones, zeros, mean, variance}, []string{"hn"})
	relu := g.NewNode("", "Relu", []*ir.Value{bn.Output(0)}, []string{"hr"})
	drop := g.NewNode("", "Dropout", []*ir.Value{relu.Output(0), ratio}, []string{"hd"})
	l2 := g.NewNode("", "Gemm", []*ir.Value{drop.Output(0), randT("w2", 8, 3), randT("b2", 3)}, []string{"logits"})
	for _, n := range []*ir.Node{l1, bn, relu, drop, l2} {
		g.Append(n)
	}
	g.Outputs = []*ir.Value{l2.Output(0)}
	m := &ir.Model{IRVersion: 8, OpsetImports: []ir.OpsetID{{Version: 17}}, Graph: g}

	const n = 150
	pts, labels := make([]float32, 4*n), make([]int64, n)
	for i := range labels {
		c := i % 3
		labels[i] = int64(c)
		for k := 0; k < 4; k++ {
			pts[4*i+k] = float32(rng.NormFloat64()) + float32(c*(k%2))
		}
	}
	ds, err := dataset.NewArrays([]dataset.Tensor{{Name: "x", DType: dataset.Float32, Shape: []int64{n, 4}, Float32: pts}}, labels, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m, ds
}

func weights(tr *Trainer) []float32 {
	var out []float32
	for _, p := range tr.Program().Params() {
		out = append(out, p.Value...)
	}
	for _, s := range tr.Program().State() {
		out = append(out, s.Value...)
	}
	return out
}

func newMLPTrainer(t *testing.T, m *ir.Model) *Trainer {
	t.Helper()
	tr, err := New(m, Options{Optimizer: optim.NewAdamW(), LR: 0.01, Schedule: optim.Cosine{Warmup: 3}, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestResumeContinuesExactly(t *testing.T) {
	m, ds := mlp(t)
	loader := func() *data.Loader {
		return &data.Loader{Data: ds, BatchSize: 16, Shuffle: true, Seed: 7, Augment: data.Augment{}}
	}
	whole := newMLPTrainer(t, m)
	if _, err := whole.Fit(context.Background(), FitOptions{Train: loader(), Epochs: 3, Val: ds}); err != nil {
		t.Fatal(err)
	}
	want := weights(whole)

	ck := filepath.Join(t.TempDir(), "run.ckpt")
	first := newMLPTrainer(t, m)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := first.Fit(ctx, FitOptions{Train: loader(), Epochs: 3, Val: ds, Checkpoint: ck, CheckpointEvery: 4,
		Progress: func(e Event) {
			if e.Kind == StepDone && e.Epoch == 2 && e.Step == 9 {
				cancel() // killed after step 9 of epoch 2; the checkpoint holds step 8
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	second := newMLPTrainer(t, m)
	rep, err := second.Fit(context.Background(), FitOptions{Train: loader(), Epochs: 3, Val: ds, Resume: ck})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ResumedEpoch != 1 || rep.ResumedStep != 8 {
		t.Errorf("resumed at epoch %d step %d, want 1 finished and 8 steps", rep.ResumedEpoch, rep.ResumedStep)
	}
	got := weights(second)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("weight %d: resumed run %v, uninterrupted %v", i, got[i], want[i])
		}
	}
	if len(rep.Epochs) != 3 {
		t.Errorf("report has %d epochs, want 3", len(rep.Epochs))
	}
}

func TestNonFiniteLossNamesTheStep(t *testing.T) {
	m, ds := mlp(t)
	tr, err := New(m, Options{LR: 1e30, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	ck := filepath.Join(t.TempDir(), "ck")
	_, err = tr.Fit(context.Background(), FitOptions{Train: &data.Loader{Data: ds, BatchSize: 10}, Epochs: 5, Checkpoint: ck})
	var se *StepError
	if !errors.As(err, &se) || !errors.Is(err, ErrNonFinite) {
		t.Fatalf("Fit: %v, want a StepError wrapping ErrNonFinite", err)
	}
	if !strings.Contains(err.Error(), "epoch ") || !strings.Contains(err.Error(), "step ") {
		t.Errorf("error %q names no epoch and step", err)
	}
	if se.Epoch > 1 && se.Checkpoint != ck {
		t.Errorf("failure in epoch %d does not point at the last checkpoint: %q", se.Epoch, err)
	}
	for _, v := range weights(tr) {
		if math.IsNaN(float64(v)) && se.Epoch == 1 && se.Step == 1 {
			t.Fatal("weights went NaN before the first update")
		}
	}
}

func TestKeepBestAndMasks(t *testing.T) {
	m, ds := mlp(t)
	w1 := m.Graph.Lookup("w1")
	vals, _ := w1.Const.Float32s()
	for i := 0; i < len(vals); i += 2 {
		vals[i] = 0
	}
	w1.Const = ir.FromFloat32("w1", w1.Const.Dims, vals)
	tr, err := New(m, Options{LR: 0.05, KeepMasks: true, Seed: 1, Train: []string{"w*", "b*"}, Freeze: []string{"b1"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range tr.Program().Params() {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "bn.scale,bn.bias,w1,w2,b2" {
		t.Errorf("trainable %v", names)
	}
	if tr.Masked() != 16 {
		t.Errorf("%d masked weights, want 16", tr.Masked())
	}
	rep, err := tr.Fit(context.Background(), FitOptions{Train: &data.Loader{Data: ds, BatchSize: 30, Shuffle: true}, Epochs: 4, Val: ds, KeepBest: true})
	if err != nil {
		t.Fatal(err)
	}
	best := rep.Epochs[rep.BestEpoch-1].Val.Correct
	for _, e := range rep.Epochs {
		if e.Val.Correct > best {
			t.Errorf("epoch %d scored %d, better than the kept epoch %d (%d)", e.Epoch, e.Val.Correct, rep.BestEpoch, best)
		}
	}
	after, err := tr.Evaluate(context.Background(), ds, 50)
	if err != nil || after.Correct != best {
		t.Errorf("evaluation after Fit %d correct (%v), the best epoch had %d", after.Correct, err, best)
	}
	exported := tr.Model().Graph.Lookup("w1").Const
	got, _ := exported.Float32s()
	for i := 0; i < len(got); i += 2 {
		if got[i] != 0 {
			t.Fatalf("pruned weight %d is %v after training", i, got[i])
		}
	}
}

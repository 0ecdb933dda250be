package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/distill"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime/kernel"
	"github.com/whittle-ml/whittle/train"
	"github.com/whittle-ml/whittle/train/data"
	"github.com/whittle-ml/whittle/train/loss"
	"github.com/whittle-ml/whittle/train/optim"
)

func main() {
	teacher, _ := onnx.LoadModel(os.Args[1])
	spec, _ := distill.ParseSpec(os.Args[2])
	st, err := distill.Build(&passes.Context{}, teacher, spec)
	if err != nil {
		panic(err)
	}
	ds, _ := dataset.Open("fashion-mnist:train:2560")
	tr, err := train.New(st.Model, train.Options{Loss: loss.Weighted{{Weight: 0.9, Loss: loss.KLDiv{Logits: "logits", Teacher: "t", Temperature: 4}}, {Weight: 0.1, Loss: loss.CrossEntropy{Logits: "logits"}}},
		Optimizer: &optim.SGD{Momentum: 0.9, Nesterov: true, WeightDecay: 5e-4}, LR: 0.05, Schedule: optim.Cosine{}})
	if err != nil {
		panic(err)
	}
	th, _ := distill.NewTeacher(teacher, nil)
	var tteach time.Duration
	l := &data.Loader{Data: ds, BatchSize: 128, Shuffle: true, Augment: data.Augment{FlipHorizontal: true}, Seed: 1, InputNames: []string{"input"}}
	t0 := time.Now()
	rep, err := tr.Fit(context.Background(), train.FitOptions{Train: l, Epochs: 1, Prepare: func(ctx context.Context, b *data.Batch, lb *loss.Batch) error {
		t1 := time.Now()
		out, err := th.Outputs(ctx, b.Inputs)
		tteach += time.Since(t1)
		lb.Targets = map[string]*kernel.Tensor{"t": out["logits"]}
		return err
	}})
	if err != nil {
		panic(err)
	}
	el := time.Since(t0)
	fmt.Printf("%s: %d rows in %v (teacher %v), %.0f rows/s, loss %.3f; MACs %d\n", os.Args[2], ds.Len(), el, tteach, float64(ds.Len())/el.Seconds(), rep.Epochs[0].Loss, st.After.MACs)
}

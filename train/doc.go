// Package train trains ONNX models in Go: fine-tuning a pruned model back to accuracy,
// distilling a student from a teacher. It ties together the gradient engine (train/grad),
// the objectives (train/loss), the optimizers and schedules (train/optim) and the batch
// feeder (train/data).
//
// A Trainer is built once per model:
//
//	tr, err := train.New(model, train.Options{
//		Loss: loss.Weighted{
//			{Weight: 0.9, Loss: loss.KLDiv{Logits: "logits", Teacher: "teacher", Temperature: 4}},
//			{Weight: 0.1, Loss: loss.CrossEntropy{Logits: "logits"}},
//			{Weight: 1, Loss: loss.MSE{Tensor: "/layer3/Relu_output_0", Target: "teacher_layer3"}},
//		},
//		Freeze:    []string{"stem.*"},       // trainable subset by glob
//		Optimizer: optim.NewAdamW(), LR: 1e-3, Schedule: optim.Cosine{Warmup: 100},
//	})
//
// and then driven either one batch at a time (Trainer.Step: forward, loss, backward,
// update; the loss batch carries labels and per-batch reference tensors such as a
// teacher's logits) or by Fit, which runs epochs over a data.Loader, evaluates on
// validation data, keeps the best epoch, writes checkpoints and resumes from them.
// FitOptions.Prepare is where a distiller computes the teacher's outputs for each
// (augmented) batch. Evaluate measures top-1 accuracy in inference mode; Model returns
// the model with the trained weights, an ordinary inference ONNX graph.
//
// Every random draw (data order, augmentation, dropout) is a hash of the seed and of the
// draw's coordinates, and parallel reductions split work by a fixed rule, so a run is
// reproducible for a given seed and thread count, and a resumed run ends where the
// uninterrupted one would.
package train

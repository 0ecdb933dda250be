// Package grad computes reverse-mode gradients of an ONNX model held as an ir.Model, in
// float32: whittle's training engine.
//
// Build compiles a model once, like a runtime Session: it picks the trainable float
// initializers (Config.Trainable, or the default set), resolves the gradient rule of every
// node on a path from a trainable initializer to a target tensor, folds constant nodes,
// and sets integer shape computations (Shape → Gather → Concat → Reshape, as exporters
// write them) apart to run once per input-shape signature without gradient. A node on a
// differentiated path whose op has no rule is reported by name in a NoRuleError; it is
// never silently treated as a constant.
//
// Each training step is then
//
//	tape, err := prog.Forward(ctx, inputs, grad.Training, step)
//	logits := tape.Value("logits")             // any value the pass computed
//	err = tape.Backward(ctx, map[string][]float32{"logits": dLoss})
//	// prog.Params()[i].Grad now holds dLoss/dParam (accumulated: ZeroGrad clears it)
//
// and an optimizer updates Params()[i].Value in place. Forward values are computed by the
// runtime's kernels (the GEMM micro-kernel for Conv, Gemm and MatMul) except where
// training changes an op: BatchNormalization normalizes with batch statistics and updates
// its running statistics (Program.State) with the node's momentum and PyTorch's unbiased
// running variance; Dropout draws seeded masks. Every buffer of a step comes from an arena
// that takes them all back at the next Forward, so a warm program allocates almost
// nothing per batch. Backward products run through the same float GEMM.
//
// Export returns the model with the trained weights and statistics installed: the same
// inference graph, BatchNormalization still in inference form.
//
// Gradient rules follow the formulas of PyTorch's autograd (derivatives.yaml), including
// its conventions at kinks (ReLU at 0, Clip at the bounds, the first maximum of a MaxPool
// window). Each rule is tested against central finite differences, and whole-model
// gradients against PyTorch on the test models (train/torchref).
package grad

// Package loss holds the training objectives of whittle's training engine: cross-entropy on
// labels (with label smoothing), knowledge distillation (KL divergence between temperature-
// softened teacher and student distributions, scaled by T² as Hinton et al. do), and MSE and
// cosine distances between a model tensor and a reference tensor (feature distillation on
// named intermediate tensors). Weighted combines terms into one objective.
//
// A Loss reads named tensors of a forward pass and returns the batch mean together with
// its gradient with respect to each tensor it read, which is what grad.Tape.Backward takes
// as seeds. Reference tensors (a teacher's logits or features, computed per batch) come in
// Batch.Targets under names the losses choose. Reductions follow PyTorch's defaults
// (cross_entropy and mse_loss: mean; kl_div: batchmean), so a recipe written against
// PyTorch gives the same numbers here.
package loss

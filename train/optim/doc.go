// Package optim updates a grad.Program's parameters from their gradients: SGD (momentum,
// Nesterov, weight decay) and AdamW with PyTorch's update rules, learning-rate schedules
// (constant, step decay, cosine with linear warm-up), gradient-norm clipping, and masks
// that keep pruned weights at zero.
//
// Schedules are functions of the step, so a run resumed from a checkpoint at step k gets
// the learning rate the uninterrupted run had; optimizers expose their buffers (State) for
// the same reason.
package optim

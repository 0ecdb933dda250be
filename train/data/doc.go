// Package data feeds training batches from a dataset.Dataset: seeded shuffling, fixed-size
// batches, and simple image augmentation (random crop with zero padding, horizontal flip)
// for inputs shaped [N, C, H, W].
//
// Every random choice is a hash of the seed, the epoch and the dataset row (package
// train/internal/rng), so batch k of epoch e is the same in every run with the same seed,
// whatever the thread count and whether the run was resumed from a checkpoint.
package data

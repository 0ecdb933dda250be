// Package datafeed feeds rows of a dataset (package dataset: IDX, .npy/.npz, .pb files)
// to whittle's runtime: it converts dataset tensors to runtime tensors, maps a batch onto a
// model's inputs, and runs a model over a dataset for calibration (Calibrator implements
// passes.Calibrator).
//
// It is the bridge between the two packages, so that neither imports the other: the
// runtime runs tensors and knows nothing of files and datasets.
package datafeed

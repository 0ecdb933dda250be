// Package signal implements ONNX's signal-processing operators: DFT (opset 17, axis as an
// attribute, and opset 20, axis as an input), STFT, the HannWindow, HammingWindow and
// BlackmanWindow generators, and MelWeightMatrix.
//
// Transforms run in complex128 whatever the element type, through fft, which handles any
// length: an iterative radix-2 transform for powers of two and Bluestein's chirp-z
// algorithm (a power-of-two convolution) for the others, so every length costs
// O(n log n) and keeps float64 accuracy. Results are rounded once to the output type.
//
// Complex values travel as ONNX represents them: a trailing dimension of size 2 holding the
// real and imaginary parts (size 1 for a real signal). DFT with onesided=1 computes the
// one-sided spectrum of a real signal (RFFT) forward and, with inverse=1, rebuilds the real
// signal from a one-sided spectrum (IRFFT, default length 2·(n−1)), completing the
// spectrum by conjugate symmetry as numpy.fft.irfft does.
package signal

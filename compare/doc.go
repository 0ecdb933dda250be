// Package compare measures how far one model's outputs are from another's on the same
// inputs: a quantized or pruned model against its float original, or whittle's runtime
// against a reference. For every output it reports the largest absolute and relative
// error, the mean absolute error, cosine similarity, the signal-to-quantization-noise
// ratio (SQNR, in dB), top-1 and top-5 agreement for classifier outputs, and each model's
// accuracy when the data has labels.
//
// Metrics are accumulated batch by batch (Stats), so comparing over a 10,000-image test
// set holds one batch at a time. With per-layer comparison, the intermediate tensors of
// the two graphs are paired by name (MatchLayers): a value that B quantizes is read
// through its QuantizeLinear/DequantizeLinear pair, so B's DequantizeLinear output is
// compared with A's float value of the same base name. Layers are then ranked by how
// many dB of SQNR each loses relative to its inputs: where error enters the network.
//
// Relative error is the L∞ error divided by the reference's largest magnitude,
// max|b-a| / max|a|, which stays meaningful for outputs near zero. The tolerance test
// is numpy's allclose: every element must satisfy |b-a| <= atol + rtol·|a|.
package compare

// Package stats measures a model: parameters and bytes by element type, initializer
// sparsity, the operator histogram, and multiply-accumulates per layer where shapes are
// known. whittle inspect prints it; pruning and quantization reports compare it before and
// after. FormatBytes, FormatCount and FormatCountFourDigits render sizes and counts for
// those reports, so that every command prints them alike.
package stats

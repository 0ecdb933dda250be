// Package rnn implements ONNX's recurrent operators RNN, GRU and LSTM at every opset
// version: forward, reverse and bidirectional directions, batch-major or time-major layout
// (layout 0/1, opset 14+), per-batch sequence_lens, initial hidden (and cell) states, GRU's
// linear_before_reset, LSTM's peepholes and input_forget, clip, and the activations,
// activation_alpha and activation_beta attributes.
//
// Kernels widen every input to float64, run the recurrence in float64 and round once when
// writing the outputs, so float32 results do not drift over long sequences. Time steps at
// or past a batch entry's sequence length produce zeros in Y, and that entry's final state
// (Y_h, Y_c) is the state after its last valid step.
package rnn

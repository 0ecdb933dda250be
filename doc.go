// Package whittle makes ONNX models smaller and faster from Go: it loads a model,
// optimizes, prunes or quantizes it, compares and diffs models, and saves the result, each
// in one call. It is the library behind the whittle command, which only parses flags,
// calls these functions and prints what they return.
//
// The packages underneath stay usable on their own: ir (the graph), onnx (files),
// passes (rewrites), runtime (execution), compare, irdiff and dataset. This package wires
// them the way a caller almost always wants:
//
//   - LoadFile verifies the model (LoadOptions.SkipVerify opts out) and SaveFile writes
//     atomically (a temporary file renamed into place).
//   - Passes get the runtime as their constant evaluator and datasets as their
//     calibration source (PassContext; importing this package also makes them the
//     defaults of any passes.Context, see passes.SetDefaults).
//   - Every workflow changes the model in place, returns a result saying what it did, and
//     appends the pipelines it applied to the model's history (metadata key
//     "whittle.passes", package provenance). That history is a recipe: Replay applies it
//     to the original model and reproduces the result byte for byte.
//   - Errors callers branch on are typed: ErrInvalidModel, ErrUnsupportedOp,
//     ErrBudgetMissed and ErrOptions, tested with errors.Is.
//
// The shape every workflow follows, and that new ones (finetuning, distillation) take:
//
//   - a function of the model and an options struct whose zero value is the sensible
//     default, with data named by dataset specs (strings, so that the recorded step can
//     be replayed), returning a result that embeds Applied;
//
//   - the model change is a registered pass (a step passes.ParsePipeline reads), run
//     through passes.Run; what the pass needs from execution or training reaches it
//     through an interface of passes.Context/passes.Defaults that this package's init
//     registers (quantize_static calibrates through CalibrationSource, prune's recovery
//     trains through Finetuner), since passes imports neither runtime nor train;
//
//   - a test that Replay of the recorded history reproduces the result byte for byte
//     (TestReplayReproducesEveryWorkflow, and cmd/whittle's TestEveryCommandReplays for
//     the command).
//
// Load, prune, quantize and save, errors elided:
//
//	m, err := whittle.LoadFile("model.onnx", whittle.LoadOptions{})
//	_, err = whittle.Prune(m, whittle.PruneOptions{Sparsity: 0.5, Scope: "global"})
//	_, err = whittle.Quantize(m, whittle.QuantizeOptions{Calibration: "fashion-mnist:train:512"})
//	err = whittle.SaveFile("model.int8.onnx", m, whittle.SaveOptions{})
package whittle

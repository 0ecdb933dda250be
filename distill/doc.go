// Package distill makes a smaller student from a trained ONNX teacher and trains it to
// behave like the teacher (knowledge distillation), without Python and without the
// model's source code.
//
// A student is specified by a Spec (the --student value of whittle distill):
//
//	auto:macs=0.25            the teacher itself, channel-pruned (dependency-aware, grouped
//	auto:params=0.3           convolutions, transformer MLP widths and attention heads) to a
//	auto:width=0.5            share of its MACs or parameters, or to a width; initialised from
//	                          the teacher's most important channels (largest filter norms)
//	lowrank:rank=16           Gemm/MatMul and 1x1 Conv weights factorised by truncated SVD
//	lowrank:energy=0.9        into two thinner layers (fixed rank, kept energy, or the energy
//	lowrank:params=0.5        that meets a parameter budget)
//	student.onnx              a model the user designed and exported: same inputs, an output
//	                          of the teacher's shape (CheckInterfaces)
//	block:FROM..TO=auto:width=0.5[;FROM..TO=...]
//	                          the single-entry single-exit region between two tensors
//	                          replaced by a smaller block (auto, lowrank or a file), trained
//	                          on the teacher's tensor at TO and spliced in place
//
// Build constructs the untrained student; the graph rewrites it makes are passes
// (prune, factorize_lowrank, SpliceRegion) and are logged, so that whittle diff explains
// every change of the final student by the distill step.
package distill

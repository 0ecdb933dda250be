// Package report writes one self-contained HTML page about a model and its variants
// (pruned, quantized, distilled, fine-tuned): a summary of each model, accuracy against
// size and latency, what changed in the graph with the changed region drawn, where error
// enters layer by layer, sparsity per layer, and training curves when a training run adds
// them. Plots are SVG made with gonum.org/v1/plot and inlined; the page has no script and
// loads nothing, so it opens offline.
//
// Build measures models from their files; Report.Curves and Report.Notes may be filled
// in before Write by the program that produced the variants:
//
//	r, err := report.Build([]string{"base.onnx", "student.onnx"}, report.Options{Data: ds})
//	r.Curves = append(r.Curves, report.Curve{Title: "Distillation", XLabel: "epoch", YLabel: "loss",
//		Series: []report.Series{{Label: "train", X: epochs, Y: losses}}})
//	err = r.WriteFile("report.html")
package report

package report_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/whittle-ml/whittle/report"
)

// A training or distillation run adds its curves to the report of its input and output
// before writing it.
func ExampleReport_Write() {
	r := &report.Report{
		Title:    "student vs teacher",
		Variants: []*report.Variant{{Name: "teacher.onnx", FileBytes: 4_800_000}, {Name: "student.onnx", FileBytes: 1_200_000}},
	}
	r.Curves = append(r.Curves, report.Curve{Title: "distillation", XLabel: "epoch", YLabel: "loss",
		Series: []report.Series{{Label: "train", X: []float64{1, 2, 3}, Y: []float64{1.2, 0.8, 0.7}}}})
	path := filepath.Join(os.TempDir(), "whittle-example-report.html")
	defer os.Remove(path)
	if err := r.WriteFile(path); err != nil {
		fmt.Println(err)
		return
	}
	page, _ := os.ReadFile(path)
	remote := strings.Contains(string(page), `src="http`) || strings.Contains(string(page), "<script")
	fmt.Println(strings.Count(string(page), `<figure class="plot"`), "plot, scripts or remote files:", remote)
	// Output:
	// 1 plot, scripts or remote files: false
}

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/report"
)

func init() {
	register(&command{
		name:    "report",
		args:    "BASE VARIANT... -o REPORT.html [--data SPEC] [--preprocess SPEC]",
		summary: "write one offline HTML page comparing a model with its variants",
		help: `
Measures BASE and every VARIANT (pruned, quantized, distilled...) and writes one
self-contained HTML file: a table of size, parameters, zeros, MACs, accuracy (labelled
data) or top-1 agreement with BASE, output SQNR and latency; plots of quality against
file size and against latency; for each variant what changed in the graph (passes from
its change log, the changed region drawn before and after, every difference); where
error enters layer by layer; and the share of zero weights per layer. The page has inline
SVG plots and no script; it opens offline.

--data (` + dataset.SpecHelp + `) feeds accuracy and error; without it,
--samples random rows are made from BASE's inputs. Latency is the median of --runs runs
of one row in whittle's runtime (0 skips it).

optimize, prune, quantize and compare write the same page for their input and output
with --report FILE.html.

Examples:
  whittle report cnn.onnx cnn.pruned.onnx cnn.int8.onnx --data fashion-mnist:test:1000 -o report.html
  whittle report resnet18.onnx resnet18.int8.onnx --data images:val --preprocess imagenet -o r.html`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "the HTML `FILE` to write (required)")
			data := fs.String("data", "", "data `SPEC` for accuracy and per-layer error (default: random rows)")
			preprocess := preprocessFlag(fs)
			limit := fs.Int("limit", 0, "use only the first `N` rows of --data")
			samples := fs.Int("samples", 16, "random rows when no --data is given")
			runs := fs.Int("runs", 10, "timed runs per model for latency (0: no latency)")
			title := fs.String("title", "", "page title")
			asJSON := jsonFlag(fs)
			return func(e *env, args []string) error {
				if len(args) < 1 {
					return usagef("expected BASE and at least one VARIANT")
				}
				if *out == "" {
					return usagef("-o REPORT.html is required")
				}
				if *runs < 0 || *limit < 0 || *samples < 1 {
					return usagef("--runs and --limit must be >= 0, --samples >= 1")
				}
				e.jsonOut = *asJSON
				return writeReport(e, args, *out, reportData{command: "report", spec: *data, preprocess: *preprocess, limit: *limit, samples: *samples, runs: *runs, title: *title})
			}
		},
	})
}

// reportJSON is the --json output of whittle report (schema whittle.report/1): the page
// written and the figures of its summary table.
type reportJSON struct {
	Output   string              `json:"output"`
	Data     string              `json:"data"`
	Variants []reportVariantJSON `json:"variants"`
}

type reportVariantJSON struct {
	Model     string   `json:"model"`
	FileBytes int64    `json:"file_bytes"`
	Nodes     int      `json:"nodes"`
	Params    int64    `json:"params"`
	Nonzero   int64    `json:"nonzero_params"`
	MACs      int64    `json:"macs"`
	Top1      *float64 `json:"top1,omitempty"`
	Agreement *float64 `json:"top1_agreement,omitempty"`
	SQNR      *float64 `json:"sqnr_db,omitempty"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	// Added, Removed and Changed count graph differences from the base (variants only).
	Added   *int `json:"added,omitempty"`
	Removed *int `json:"removed,omitempty"`
	Changed *int `json:"changed,omitempty"`
}

// reportData is how a command's report is measured.
type reportData struct {
	// command is "report" for whittle report, whose --json describes the page.
	command          string
	spec, preprocess string
	limit, samples   int
	runs             int
	title            string
}

// writeReport measures the models and writes the page.
func writeReport(e *env, paths []string, out string, d reportData) error {
	for _, p := range paths {
		if p == "-" {
			return usagef("the HTML report reads the models from files; name them instead of '-'")
		}
	}
	o := report.Options{Title: d.title, Tool: "whittle " + whittle.Version(), RandomRows: d.samples, LatencyRuns: d.runs, DataSpec: d.spec}
	if d.runs == 0 {
		o.LatencyRuns = -1
	}
	if d.spec != "" {
		ds, err := openData(d.spec, d.preprocess)
		if err != nil {
			return fmt.Errorf("--data: %w", err)
		}
		if d.limit > 0 {
			ds = dataset.Head(ds, d.limit)
			o.DataSpec = fmt.Sprintf("%s (first %d rows)", d.spec, ds.Len())
		}
		o.Data = ds
	}
	r, err := report.Build(paths, o)
	if err != nil {
		return err
	}
	if err := r.WriteFile(out); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	if e.jsonOut && d.command == "report" {
		doc := reportJSON{Output: out, Data: r.Data, Variants: []reportVariantJSON{}}
		for _, v := range r.Variants {
			rv := reportVariantJSON{Model: v.Path, FileBytes: v.FileBytes, Nodes: v.Nodes, Params: v.Params, Nonzero: v.Nonzero,
				MACs: v.MACs, Top1: v.Top1, Agreement: v.Agreement, SQNR: v.SQNR, LatencyMS: v.LatencyMS}
			if v.Diff != nil {
				rv.Added, rv.Removed, rv.Changed = &v.Diff.Summary.Added, &v.Diff.Summary.Removed, &v.Diff.Summary.Changed
			}
			doc.Variants = append(doc.Variants, rv)
		}
		return printJSON(e, "report", doc)
	}
	fmt.Fprintf(e.stderr, "wrote %s\n", out)
	return nil
}

// isHTML tells a --report path that asks for the HTML page rather than JSON.
func isHTML(path string) bool {
	lower := strings.ToLower(path)
	return strings.HasSuffix(lower, ".html") || strings.HasSuffix(lower, ".htm")
}

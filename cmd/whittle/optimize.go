package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle"
	"github.com/whittle-ml/whittle/distill"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/train"
)

func init() {
	register(&command{
		name:    "optimize",
		args:    "IN -o OUT [--passes LIST | --recipe FILE] [--report FILE] [--verify]",
		summary: "apply graph cleanups (constant folding, fusions, dead code) that keep outputs exactly",
		help: `
Runs a pipeline of passes over IN until none changes anything, and writes OUT. The
default pipeline removes no-op nodes, folds constants and static shape arithmetic,
fuses BatchNormalization into the Conv/Gemm before it and MatMul+Add into Gemm, merges
transposes, common subexpressions and duplicate weights, and drops dead code; none of
these changes the model's outputs. --passes gives another list (comma-separated, each
NAME or NAME:key=value:key=value); --recipe reads one from a YAML or JSON file (a list
of {pass, params}, or a list of {pipeline: [...]} applied in turn: the form of a
model's whittle.passes metadata, so that a model's history replays on the original).
--list-passes shows every pass.

The pipeline and a log of every change (node removed, input rewired, initializer
changed...) are stored in OUT's metadata (whittle.passes, whittle.changelog), so that
'whittle diff' can explain the differences. --report FILE writes what each pass did as
JSON. --verify checks the IR's invariants after every pass and names a pass that broke
them. OUT is written to a temporary file and renamed; IN is never overwritten unless
you name it as OUT. Either may be - (standard input or output; the summary then goes
to stderr).

Examples:
  whittle optimize model.onnx -o model.opt.onnx
  whittle optimize model.onnx -o out.onnx --passes fold_constants,eliminate_dead
  whittle optimize model.onnx -o out.onnx --recipe recipe.yaml --report report.json
  whittle optimize - -o - < model.onnx > model.opt.onnx`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "output model `FILE` (required)")
			list := fs.String("passes", "", "comma-separated pass `LIST` (default: the default pipeline)")
			recipe := fs.String("recipe", "", "read the pipeline from a YAML or JSON recipe `FILE`")
			asJSON := jsonFlag(fs)
			report := fs.String("report", "", "write a JSON report of what each pass did to `FILE` (FILE.html: the HTML page of 'whittle report')")
			verify := fs.Bool("verify", false, "verify the IR after every pass")
			listPasses := fs.Bool("list-passes", false, "list the available passes and exit")
			return func(e *env, args []string) error {
				if *listPasses {
					printPasses(e.stdout)
					return nil
				}
				if err := exactArgs(args, 1, "one input MODEL"); err != nil {
					return err
				}
				if *out == "" {
					return usagef("-o OUT is required")
				}
				opts := whittle.OptimizeOptions{VerifyEach: *verify}
				switch {
				case *list != "" && *recipe != "":
					return usagef("give --passes or --recipe, not both")
				case *list != "":
					p, err := passes.ParsePipeline(*list)
					if err != nil {
						return usagef("--passes: %v", err)
					}
					opts.Recipe = passes.Recipe{p}
				case *recipe != "":
					r, err := passes.LoadRecipe(*recipe)
					if err != nil {
						return err
					}
					opts.Recipe = r
				}
				if err := e.startJSON(*asJSON, *out); err != nil {
					return err
				}
				// A finetune step of the recipe trains with a progress display.
				pr := newTrainProgress(e, *out == "-")
				defer pr.finish()
				opts.Finetuner = &train.Finetuner{Env: train.Env{Progress: pr.event, ToolVersion: whittle.Version()}}
				return runOptimize(e, args[0], *out, *report, opts)
			}
		},
	})
}

// optimizeReport is the JSON written by --report.
type optimizeReport struct {
	Input   string           `json:"input"`
	Output  string           `json:"output"`
	Version string           `json:"whittle_version"`
	Before  whittle.Size     `json:"before"`
	After   whittle.Size     `json:"after"`
	Run     *passes.Report   `json:"run"`
	Runs    []*passes.Report `json:"runs,omitempty"`
	Changes []passes.Change  `json:"changes"`
}

func runOptimize(e *env, in, out, report string, opts whittle.OptimizeOptions) error {
	m, err := loadModel(e, in)
	if err != nil {
		return err
	}
	// A distill step in the recipe prints a line per epoch.
	opts.Distiller = &distill.Distiller{Progress: distillProgress(e)}
	res, err := whittle.Optimize(m, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := saveModel(e, out, m, whittle.SaveOptions{}); err != nil {
		return err
	}
	r := optimizeReport{Input: in, Output: out, Version: whittle.Version(), Before: res.Before, After: res.After,
		Run: res.Runs[len(res.Runs)-1], Changes: res.Changes}
	if len(res.Runs) > 1 {
		r.Runs = res.Runs
	}
	if isHTML(report) {
		if err := writeReport(e, []string{in, out}, report, reportData{samples: 16, runs: 5}); err != nil {
			return err
		}
	} else if report != "" {
		if err := writeJSONFile(report, r); err != nil {
			return err
		}
	}
	if e.jsonOut {
		return printJSON(e, "optimize", r)
	}
	w := e.textOut(out)
	fmt.Fprintf(w, "nodes         %8d -> %d\n", res.Before.Nodes, res.After.Nodes)
	fmt.Fprintf(w, "initializers  %8d -> %d\n", res.Before.Initializers, res.After.Initializers)
	fmt.Fprintf(w, "params        %8s -> %s\n", stats.FormatCount(res.Before.Params), stats.FormatCount(res.After.Params))
	fmt.Fprintf(w, "bytes         %8s -> %s\n", stats.FormatBytes(res.Before.Bytes), stats.FormatBytes(res.After.Bytes))
	for _, rep := range res.Runs {
		printOptimizeSummary(w, rep)
	}
	return nil
}

func printOptimizeSummary(w io.Writer, rep *passes.Report) {
	state := "converged"
	if !rep.Converged {
		state = "stopped at the round limit"
	}
	fmt.Fprintf(w, "%d rounds (%s), %d changes:\n", rep.Iterations, state, rep.Changes)
	for _, pr := range rep.Passes {
		what := "no change"
		if len(pr.Changes) > 0 {
			what = strings.Join(passes.Summary(pr.Changes), ", ")
		}
		name := passes.Step{Pass: pr.Pass, Params: pr.Params}.String()
		fmt.Fprintf(w, "  %-34s %s\n", name, what)
	}
}
func printPasses(w io.Writer) {
	infos := passes.All()
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	def := map[string]bool{}
	for _, st := range passes.Default() {
		def[st.Pass] = true
	}
	for _, info := range infos {
		flags := []string{}
		if def[info.Name] {
			flags = append(flags, "default")
		}
		if info.Lossy {
			flags = append(flags, "lossy")
		}
		fmt.Fprintf(w, "%s", info.Name)
		if len(flags) > 0 {
			fmt.Fprintf(w, " [%s]", strings.Join(flags, ", "))
		}
		fmt.Fprintf(w, "\n    %s\n", info.Doc)
		for _, p := range info.Params {
			fmt.Fprintf(w, "    :%s=...  %s (default %s)\n", p.Name, p.Doc, p.Default)
		}
	}
}

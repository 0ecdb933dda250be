package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/passes"
	"github.com/whittle-ml/whittle/runtime"
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
of {pass, params}). --list-passes shows every pass.

The pipeline and a log of every change (node removed, input rewired, initializer
changed...) are stored in OUT's metadata (whittle.passes, whittle.changelog), so that
'whittle diff' can explain the differences. --report FILE writes what each pass did as
JSON. --verify checks the IR's invariants after every pass and names a pass that broke
them. OUT is written to a temporary file and renamed; IN is never overwritten unless
you name it as OUT.

Examples:
  whittle optimize model.onnx -o model.opt.onnx
  whittle optimize model.onnx -o out.onnx --passes fold_constants,eliminate_dead
  whittle optimize model.onnx -o out.onnx --recipe recipe.yaml --report report.json`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			out := fs.StringP("output", "o", "", "output model `FILE` (required)")
			list := fs.String("passes", "", "comma-separated pass `LIST` (default: the default pipeline)")
			recipe := fs.String("recipe", "", "read the pipeline from a YAML or JSON recipe `FILE`")
			report := fs.String("report", "", "write a JSON report of what each pass did to `FILE`")
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
				if *list != "" && *recipe != "" {
					return usagef("give --passes or --recipe, not both")
				}
				pipeline := passes.Default()
				switch {
				case *list != "":
					p, err := passes.ParsePipeline(*list)
					if err != nil {
						return usagef("--passes: %v", err)
					}
					pipeline = p
				case *recipe != "":
					p, err := passes.LoadRecipe(*recipe)
					if err != nil {
						return err
					}
					pipeline = p
				}
				return runOptimize(e, optimizeArgs{in: args[0], out: *out, pipeline: pipeline, report: *report, verify: *verify})
			}
		},
	})
}

type optimizeArgs struct {
	in, out  string
	pipeline passes.Pipeline
	report   string
	verify   bool
}

// sizeJSON is the size of a model, before or after.
type sizeJSON struct {
	Nodes        int   `json:"nodes"`
	Initializers int   `json:"initializers"`
	Params       int64 `json:"params"`
	Bytes        int64 `json:"bytes"`
}

// optimizeReport is the JSON written by --report.
type optimizeReport struct {
	Input   string          `json:"input"`
	Output  string          `json:"output"`
	Version string          `json:"whittle_version"`
	Before  sizeJSON        `json:"before"`
	After   sizeJSON        `json:"after"`
	Run     *passes.Report  `json:"run"`
	Changes []passes.Change `json:"changes"`
}

func sizeOf(m *ir.Model) sizeJSON {
	s := stats.Measure(m)
	return sizeJSON{Nodes: s.Nodes, Initializers: len(s.Initializers), Params: s.Params, Bytes: s.Bytes}
}

func runOptimize(e *env, a optimizeArgs) error {
	m, err := loadModel(a.in)
	if err != nil {
		return err
	}
	before := sizeOf(m)
	ctx := &passes.Context{Eval: runtime.ConstEvaluator{}, VerifyEach: a.verify, ToolVersion: version()}
	dataSteps(e, ctx)
	rep, err := passes.Run(ctx, m, a.pipeline)
	if err != nil {
		return fmt.Errorf("%s: %w", a.in, err)
	}
	// Even without --verify, never write a model whose IR is broken.
	if err := m.Verify(); err != nil {
		return fmt.Errorf("%s: the optimized model is invalid (rerun with --verify to find the pass):\n%w", a.in, err)
	}
	after := sizeOf(m)
	if err := onnx.SaveModel(a.out, m, onnx.WriteOptions{}); err != nil {
		return err
	}
	if a.report != "" {
		r := optimizeReport{Input: a.in, Output: a.out, Version: version(), Before: before, After: after, Run: rep, Changes: ctx.Log.Changes}
		if r.Changes == nil {
			r.Changes = []passes.Change{}
		}
		b, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := onnx.WriteFileAtomic(a.report, func(w io.Writer) error {
			_, err := w.Write(append(b, '\n'))
			return err
		}); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	printOptimizeSummary(e.stdout, before, after, rep)
	fmt.Fprintf(e.stderr, "wrote %s\n", a.out)
	return nil
}

func printOptimizeSummary(w io.Writer, before, after sizeJSON, rep *passes.Report) {
	fmt.Fprintf(w, "nodes         %8d -> %d\n", before.Nodes, after.Nodes)
	fmt.Fprintf(w, "initializers  %8d -> %d\n", before.Initializers, after.Initializers)
	fmt.Fprintf(w, "params        %8s -> %s\n", stats.FormatCount(before.Params), stats.FormatCount(after.Params))
	fmt.Fprintf(w, "bytes         %8s -> %s\n", stats.FormatBytes(before.Bytes), stats.FormatBytes(after.Bytes))
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

package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/irdiff"
)

func init() {
	register(&command{
		name:    "diff",
		args:    "A.onnx B.onnx [--format text|json|dot] [--color auto|always|never] [--all] [--exit-code]",
		summary: "compare two models: nodes, attributes, wiring, weights, inputs/outputs and totals",
		help: `
Matches the nodes of A and B (by name; then by op and matched inputs; then by op order)
and reports what B adds, removes and changes: ops, attributes (old -> new), inputs that
now read another value, outputs renamed; initializers (type, shape, sparsity before and
after, max |Δ| and relative L2 change of float weights); graph inputs and outputs; and the
totals: nodes, parameters, bytes, MACs and the op histogram. Subgraphs (If, Loop, Scan
bodies) are compared through their owner nodes.

When B was written by whittle, the header shows the pipeline that produced it, and each
difference names the pass whose logged change explains it ("by fuse_bn_into_conv");
differences no logged change accounts for are marked "(unexplained)".

Formats: text (default; coloured on a terminal, see --color and NO_COLOR), json (schema
"whittle.diff/1", stable field names, see package irdiff), dot (Graphviz: both graphs
side by side, added green, removed red, changed yellow, unchanged grey, edges labelled
with tensor shapes).

Exit status is 0 whether or not the models differ, 1 when a model cannot be read;
with --exit-code it is 1 when they differ (like git diff --exit-code).

Examples:
  whittle diff model.onnx model.opt.onnx
  whittle diff model.onnx model.opt.onnx --all            # unchanged items too
  whittle diff a.onnx b.onnx --format json | jq '.graph.nodes[] | select(.status=="removed")'
  whittle diff a.onnx b.onnx --format dot | dot -Tsvg > diff.svg
  whittle diff a.onnx b.onnx --exit-code >/dev/null || echo "models differ"`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			format := fs.String("format", "text", "output format: text, json or dot")
			color := fs.String("color", "auto", "colour the text output: auto (when stdout is a terminal), always or never")
			all := fs.Bool("all", false, "list unchanged nodes, initializers, inputs, outputs and ops too")
			exitCode := fs.Bool("exit-code", false, "exit with status 1 when the models differ")
			asJSON := fs.Bool("json", false, "print JSON (the same as --format json; schema whittle.diff/1)")
			return func(e *env, args []string) error {
				if err := exactArgs(args, 2, "two models A and B"); err != nil {
					return err
				}
				if *asJSON {
					if fs.Changed("format") && *format != "json" {
						return usagef("--json and --format %s disagree", *format)
					}
					*format = "json"
				}
				switch *format {
				case "text", "json", "dot":
				default:
					return usagef("--format must be text, json or dot, not %q", *format)
				}
				useColor, err := colorChoice(*color, e.stdoutTerminal)
				if err != nil {
					return err
				}
				return runDiff(e, args[0], args[1], diffOptions{format: *format, color: useColor, all: *all, exitCode: *exitCode})
			}
		},
	})
}

type diffOptions struct {
	format        string
	color         bool
	all, exitCode bool
}

// colorChoice resolves --color: auto colours a terminal unless NO_COLOR is set
// (https://no-color.org).
func colorChoice(flag string, terminal bool) (bool, error) {
	switch flag {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return terminal && os.Getenv("NO_COLOR") == "", nil
	}
	return false, usagef("--color must be auto, always or never, not %q", flag)
}

func runDiff(e *env, pathA, pathB string, opts diffOptions) error {
	a, err := loadModel(e, pathA)
	if err != nil {
		return err
	}
	b, err := loadModel(e, pathB)
	if err != nil {
		return err
	}
	d, err := irdiff.Compare(a, b, irdiff.Options{LabelA: pathA, LabelB: pathB, All: opts.all, InferShapes: true})
	if err != nil {
		return err
	}
	switch opts.format {
	case "json":
		err = d.WriteJSON(e.stdout)
	case "dot":
		err = d.WriteDOT(e.stdout)
	default:
		err = d.WriteText(e.stdout, irdiff.TextOptions{Color: opts.color})
	}
	if err != nil {
		return err
	}
	if opts.exitCode && !d.Equal {
		return codeError{code: exitFail}
	}
	return nil
}

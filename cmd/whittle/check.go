package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/checker"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

func init() {
	register(&command{
		name:    "check",
		args:    "MODEL...",
		summary: "check models against the ONNX rules and infer shapes; print every problem",
		help: `
Runs whittle's checker (the rules of onnx.checker: IR and opset versions, imported
domains, SSA names, topological order, attribute and tensor data consistency, external
data safety) and shape/type inference, and prints every problem found, not only the
first. Each problem names the graph, node, op and the offending input or attribute.

Examples:
  whittle check model.onnx
  whittle check --warnings exported/*.onnx
  whittle check --strict model.onnx     # operators without an inference rule are problems`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			warnings := fs.Bool("warnings", false, "also print what onnx's checker only warns about")
			strict := fs.Bool("strict", false, "treat operators without a shape-inference rule as problems")
			quiet := fs.BoolP("quiet", "q", false, "print problems only, not the 'ok' line")
			return func(e *env, args []string) error {
				if len(args) == 0 {
					return usagef("expected at least one MODEL")
				}
				failed := 0
				for _, path := range args {
					n := checkOne(e, path, *warnings, *strict, *quiet)
					if n > 0 {
						failed++
					}
				}
				if failed > 0 {
					return codeError{code: exitFail}
				}
				return nil
			}
		},
	})
}

// checkOne prints the problems of one model and returns how many errors it has.
func checkOne(e *env, path string, warnings, strict, quiet bool) int {
	var p *onnxpb.ModelProto
	var err error
	dir := filepath.Dir(path)
	if path == "-" {
		dir = "."
		var data []byte
		if data, err = io.ReadAll(io.LimitReader(e.stdin, 2<<30)); err == nil {
			p, err = onnx.Decode(data)
		}
	} else {
		p, err = onnx.ReadFileWithOptions(path, onnx.ReadOptions{SkipExternalData: true})
	}
	if err != nil {
		fmt.Fprintf(e.stdout, "%s: %v\n", path, err)
		return 1
	}
	errorsFound := 0
	problems := checker.CheckModel(p, checker.Options{ModelDir: dir, FullCheck: true, Warnings: warnings})
	for _, pr := range problems {
		if !pr.Warning {
			errorsFound++
		}
		fmt.Fprintf(e.stdout, "%s: %v\n", path, pr)
	}
	if errorsFound == 0 {
		// Inference needs a model the IR can hold, which the checker has just vouched for.
		if onnx.HasExternalData(p) {
			if err := onnx.LoadExternalData(p, dir); err != nil {
				fmt.Fprintf(e.stdout, "%s: %v\n", path, err)
				return errorsFound + 1
			}
		}
		m, err := onnx.ToIR(p)
		if err != nil {
			fmt.Fprintf(e.stdout, "%s: %v\n", path, err)
			return errorsFound + 1
		}
		if err := m.Verify(); err != nil {
			fmt.Fprintf(e.stdout, "%s: IR: %v\n", path, err)
			errorsFound++
		}
		rep, err := infer.Model(m, infer.Options{Strict: strict, DataPropagation: true})
		if err != nil {
			fmt.Fprintf(e.stdout, "%s: shape inference: %v\n", path, err)
			errorsFound++
		}
		for _, pr := range rep.Problems {
			fmt.Fprintf(e.stdout, "%s: shape inference: %s\n", path, pr)
			errorsFound++
		}
		if len(rep.Unknown) > 0 && !quiet {
			fmt.Fprintf(e.stdout, "%s: note: no shape-inference rule for %v\n", path, rep.Unknown)
		}
	}
	if errorsFound == 0 && !quiet {
		fmt.Fprintf(e.stdout, "%s: ok\n", path)
	} else if errorsFound > 0 {
		fmt.Fprintf(e.stdout, "%s: %d problem(s)\n", path, errorsFound)
	}
	return errorsFound
}

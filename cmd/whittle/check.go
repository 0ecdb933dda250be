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
			asJSON := jsonFlag(fs)
			return func(e *env, args []string) error {
				if len(args) == 0 {
					return usagef("expected at least one MODEL")
				}
				out := checkJSON{Models: []*checkResult{}}
				for _, path := range args {
					r := checkOne(e, path, *warnings, *strict)
					if r.Errors > 0 {
						out.Failed++
					}
					if *asJSON {
						out.Models = append(out.Models, r)
					} else {
						printCheck(e, r, *quiet)
					}
				}
				if *asJSON {
					if err := printJSON(e, "check", out); err != nil {
						return err
					}
				}
				if out.Failed > 0 {
					return codeError{code: exitFail}
				}
				return nil
			}
		},
	})
}

// checkJSON is the --json output of whittle check (schema whittle.check/v1).
type checkJSON struct {
	Models []*checkResult `json:"models"`
	// Failed counts the models with at least one error.
	Failed int `json:"failed"`
}

// checkResult is what check found in one model.
type checkResult struct {
	File   string `json:"file"`
	OK     bool   `json:"ok"`
	Errors int    `json:"errors"`
	// Problems lists errors and (with --warnings) warnings in the order found.
	Problems []checkProblem `json:"problems"`
	// NoInferenceRule lists operators shape inference has no rule for.
	NoInferenceRule []string `json:"no_inference_rule,omitempty"`
}

// checkProblem is one problem. Stage is "read", "checker", "ir" or "inference"; the
// checker's problems also locate themselves (path, node, op, field).
type checkProblem struct {
	Stage   string `json:"stage"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
	Node    string `json:"node,omitempty"`
	Op      string `json:"op,omitempty"`
	Field   string `json:"field,omitempty"`
	Warning bool   `json:"warning,omitempty"`
	// text is the line printed without --json, after "FILE: ".
	text string
}

func (r *checkResult) add(p checkProblem) {
	if p.text == "" {
		p.text = p.Message
	}
	if !p.Warning {
		r.Errors++
	}
	r.Problems = append(r.Problems, p)
}

// printCheck prints one model's result as text.
func printCheck(e *env, r *checkResult, quiet bool) {
	for _, p := range r.Problems {
		fmt.Fprintf(e.stdout, "%s: %s\n", r.File, p.text)
	}
	if len(r.NoInferenceRule) > 0 && !quiet {
		fmt.Fprintf(e.stdout, "%s: note: no shape-inference rule for %v\n", r.File, r.NoInferenceRule)
	}
	if r.Errors == 0 && !quiet {
		fmt.Fprintf(e.stdout, "%s: ok\n", r.File)
	} else if r.Errors > 0 {
		fmt.Fprintf(e.stdout, "%s: %d problem(s)\n", r.File, r.Errors)
	}
}

// checkOne checks one model.
func checkOne(e *env, path string, warnings, strict bool) *checkResult {
	r := &checkResult{File: path, Problems: []checkProblem{}}
	defer func() { r.OK = r.Errors == 0 }()
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
		r.add(checkProblem{Stage: "read", Message: err.Error()})
		return r
	}
	for _, pr := range checker.CheckModel(p, checker.Options{ModelDir: dir, FullCheck: true, Warnings: warnings}) {
		r.add(checkProblem{Stage: "checker", Message: pr.Msg, Path: pr.Path, Node: pr.Node, Op: pr.Op, Field: pr.Field,
			Warning: pr.Warning, text: pr.Error()})
	}
	if r.Errors > 0 {
		return r
	}
	// Inference needs a model the IR can hold, which the checker has just vouched for.
	if onnx.HasExternalData(p) {
		if err := onnx.LoadExternalData(p, dir); err != nil {
			r.add(checkProblem{Stage: "read", Message: err.Error()})
			return r
		}
	}
	m, err := onnx.ToIR(p)
	if err != nil {
		r.add(checkProblem{Stage: "ir", Message: err.Error()})
		return r
	}
	if err := m.Verify(); err != nil {
		r.add(checkProblem{Stage: "ir", Message: err.Error(), text: "IR: " + err.Error()})
	}
	rep, err := infer.Model(m, infer.Options{Strict: strict, DataPropagation: true})
	if err != nil {
		r.add(checkProblem{Stage: "inference", Message: err.Error(), text: "shape inference: " + err.Error()})
	}
	for _, pr := range rep.Problems {
		r.add(checkProblem{Stage: "inference", Message: pr.Message, Node: pr.Node, Op: pr.Op, Field: pr.Where,
			text: "shape inference: " + pr.String()})
	}
	r.NoInferenceRule = rep.Unknown
	return r
}

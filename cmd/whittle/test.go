package main

import (
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/conformance"
)

func init() {
	register(&command{
		name:    "test",
		args:    "DIR... [--run REGEX] [--json]",
		summary: "run ONNX backend-test cases (model.onnx + test_data_set_N) and compare outputs",
		help: `
Runs every backend-test-style case under the given folders: each case is a folder with
model.onnx and test_data_set_N/ folders holding input_K.pb and output_K.pb. Outputs are
compared with the ONNX tolerances (rtol 1e-3, atol 1e-7). Prints PASS, FAIL or SKIP per
case with the reason, and ends with the line "N passed, M failed, K skipped". A case is
skipped when the runtime lacks one of its operators. Exit status 1 when any case fails.

Examples:
  whittle test ../shared/onnx-tests/node
  whittle test ../shared/onnx-tests/node --run 'test_conv|test_gemm'
  whittle test /usr/share/libonnx-testdata/data/pytorch-converted --json > results.json
  whittle test testmodels/testdata`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			pattern := fs.String("run", "", "run only cases whose folder name matches `REGEX`")
			asJSON := jsonFlag(fs)
			jobs := fs.IntP("jobs", "j", runtime.GOMAXPROCS(0), "cases to run at once")
			verbose := fs.BoolP("verbose", "v", false, "print passing cases too")
			return func(e *env, args []string) error {
				if len(args) == 0 {
					return usagef("expected at least one DIR")
				}
				var filter conformance.Filter
				if *pattern != "" {
					re, err := regexp.Compile(*pattern)
					if err != nil {
						return usagef("--run: %v", err)
					}
					filter = re
				}
				if *jobs < 1 {
					*jobs = 1
				}
				return runTests(e, args, filter, *asJSON, *verbose, *jobs)
			}
		},
	})
}

type testResultJSON struct {
	Case     string   `json:"case"`
	Dir      string   `json:"dir"`
	Status   string   `json:"status"`
	Category string   `json:"category,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Ops      []string `json:"ops,omitempty"`
	Millis   float64  `json:"ms"`
}

func runTests(e *env, dirs []string, filter conformance.Filter, asJSON, verbose bool, jobs int) error {
	var cases []string
	for _, d := range dirs {
		found, err := conformance.CaseDirs(d)
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		for _, c := range found {
			if filter == nil || filter.MatchString(lastElem(c)) {
				cases = append(cases, c)
			}
		}
	}
	results := make([]conformance.Result, len(cases))
	done := make([]chan struct{}, len(cases))
	for i := range done {
		done[i] = make(chan struct{})
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] = conformance.RunCase(cases[i])
				close(done[i])
			}
		}()
	}
	go func() {
		for i := range cases {
			work <- i
		}
		close(work)
	}()
	bar := newProgress(e, len(cases), "testing")
	// Print in case order as results arrive, so output is deterministic.
	for i := range cases {
		<-done[i]
		bar.Add(1)
		if asJSON {
			continue
		}
		r := results[i]
		if r.Status == conformance.Pass && !verbose {
			continue
		}
		line := fmt.Sprintf("%s %s", r.Status, r.Case)
		if r.Status != conformance.Pass {
			reason := r.Reason
			if i := strings.IndexByte(reason, '\n'); i >= 0 {
				reason = reason[:i]
			}
			line += ": " + reason
		}
		bar.Println(line)
	}
	wg.Wait()
	bar.Finish()
	s := conformance.Summarize(results)
	if asJSON {
		out := make([]testResultJSON, len(results))
		for i, r := range results {
			out[i] = testResultJSON{Case: r.Case, Dir: r.Dir, Status: string(r.Status), Category: r.Category, Reason: r.Reason, Ops: r.Ops, Millis: float64(r.Duration.Microseconds()) / 1000}
		}
		if err := printJSON(e, "test", struct {
			Results []testResultJSON `json:"results"`
			Passed  int              `json:"passed"`
			Failed  int              `json:"failed"`
			Skipped int              `json:"skipped"`
		}{out, s.Pass, s.Fail, s.Skip}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%d passed, %d failed, %d skipped\n", s.Pass, s.Fail, s.Skip)
	}
	if s.Fail > 0 {
		return codeError{code: exitFail}
	}
	return nil
}

func lastElem(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

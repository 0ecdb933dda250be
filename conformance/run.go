package conformance

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Status is the outcome of a case.
type Status string

// The outcomes.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	// Skip is a case the runtime cannot judge: an operator has no kernel, a known gap, or
	// expected values that are random draws (see Result.Category).
	Skip Status = "SKIP"
)

// Result is the outcome of one case.
type Result struct {
	Case   string // the case folder's name, e.g. test_add_bcast
	Dir    string
	Status Status
	// Category groups non-passing results: "not implemented: op X", "build error",
	// "run error", "mismatch", "panic", "load error".
	Category string
	Reason   string // details: the error, or the first mismatching output
	// Ops lists the distinct operators of the main graph (domain::op for non-default
	// domains), in order of first use.
	Ops []string
	// Family is the runtime/ops package whose kernel the case tests when its main graph
	// uses a single operator (Constant aside); "multi-op" otherwise, "none" when that
	// operator has no kernel.
	Family   string
	Duration time.Duration
}

// RunCase loads and runs one case folder. A panic in a kernel becomes a failed result.
func RunCase(dir string) (res Result) {
	res = Result{Case: filepath.Base(dir), Dir: dir}
	start := time.Now()
	defer func() {
		res.Duration = time.Since(start)
		if r := recover(); r != nil {
			stack := string(debug.Stack())
			res.Status, res.Category = Fail, "panic"
			res.Reason = fmt.Sprintf("panic: %v\n%s", r, trimStack(stack))
		}
	}()
	c, err := LoadCase(dir)
	if err != nil {
		res.Status, res.Category, res.Reason = Fail, "load error", err.Error()
		return res
	}
	res.Ops = opsOf(c.Model.Graph)
	res.Family = caseFamily(c.Model)
	sess, err := runtime.NewSession(c.Model, runtime.Options{})
	if err != nil {
		var missing *runtime.MissingKernelError
		if errors.As(err, &missing) {
			res.Status = Skip
			res.Category = "not implemented: op " + opLabel(missing.Domain, missing.Op)
			res.Reason = err.Error()
			return res
		}
		res.Status, res.Category, res.Reason = Fail, "build error", err.Error()
		return res
	}
	for _, ds := range c.DataSets {
		got, err := sess.RunOrdered(context.Background(), ds.Inputs)
		if err != nil && KnownGap(res.Case) != "" {
			res.Status, res.Category = Skip, "known gap"
			res.Reason = fmt.Sprintf("%s (%s: %v)", KnownGap(res.Case), ds.Name, err)
			return res
		}
		if err != nil {
			res.Status, res.Category, res.Reason = Fail, "run error", fmt.Sprintf("%s: %v", ds.Name, err)
			return res
		}
		if len(got) != len(ds.Outputs) {
			res.Status, res.Category = Fail, "mismatch"
			res.Reason = fmt.Sprintf("%s: %d outputs, want %d", ds.Name, len(got), len(ds.Outputs))
			return res
		}
		for i, want := range ds.Outputs {
			if err := CompareWithin(got[i], want, ToleranceFor(res.Case)); err != nil {
				if why := Nondeterministic(res.Case); why != "" {
					// The case ran without error; only its random values cannot match.
					res.Status, res.Category = Skip, "nondeterministic expected output"
					res.Reason = fmt.Sprintf("%s (%s: output %d: %v)", why, ds.Name, i, err)
					return res
				}
				res.Status, res.Category = Fail, "mismatch"
				res.Reason = fmt.Sprintf("%s: output %d (%s): %v", ds.Name, i, c.Model.Graph.Outputs[i].Name, err)
				return res
			}
		}
	}
	res.Status = Pass
	return res
}

// trimStack keeps the frames of a panic stack that point into whittle, which is where the
// bug is.
func trimStack(stack string) string {
	var keep []string
	lines := strings.Split(stack, "\n")
	for i := 0; i+1 < len(lines); i++ {
		if strings.Contains(lines[i], "whittle/runtime") && !strings.Contains(lines[i], "conformance") {
			keep = append(keep, strings.TrimSpace(lines[i]), "  "+strings.TrimSpace(lines[i+1]))
			i++
		}
		if len(keep) >= 12 {
			break
		}
	}
	return strings.Join(keep, "\n")
}

func opLabel(domain, op string) string { return ir.QualifiedOp(domain, op) }

func caseFamily(m *ir.Model) string {
	var only *ir.Node
	for _, n := range m.Graph.Nodes() {
		if n.OpType == "Constant" && n.Domain == "" {
			continue
		}
		if only != nil && (only.OpType != n.OpType || only.Domain != n.Domain) {
			return "multi-op"
		}
		only = n
	}
	if only == nil {
		return "multi-op"
	}
	opset, _ := m.Opset(only.Domain)
	if f := Family(only.Domain, only.OpType, opset); f != "" {
		return f
	}
	return "none"
}

func opsOf(g *ir.Graph) []string {
	var ops []string
	seen := map[string]bool{}
	for _, n := range g.Nodes() {
		l := opLabel(n.Domain, n.OpType)
		if !seen[l] {
			seen[l] = true
			ops = append(ops, l)
		}
	}
	return ops
}

// CaseDirs lists the case folders under dir: dir itself when it holds a model.onnx,
// otherwise its subfolders that do, sorted.
func CaseDirs(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, "model.onnx")); err == nil {
		return []string{dir}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(p, "model.onnx")); err == nil {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Filter selects cases by name; nil selects all.
type Filter interface{ MatchString(string) bool }

// RunDirs runs every case found in dirs (suite folders or case folders) whose name the
// filter matches. A folder that cannot be listed yields one failed result naming it.
func RunDirs(filter Filter, dirs ...string) []Result {
	var results []Result
	for _, d := range dirs {
		cases, err := CaseDirs(d)
		if err != nil {
			results = append(results, Result{Case: filepath.Base(d), Dir: d, Status: Fail, Category: "load error", Reason: err.Error()})
			continue
		}
		for _, c := range cases {
			if filter != nil && !filter.MatchString(filepath.Base(c)) {
				continue
			}
			results = append(results, RunCase(c))
		}
	}
	return results
}

// Summary counts results by status.
type Summary struct{ Total, Pass, Fail, Skip int }

// Summarize counts results.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		s.Total++
		switch r.Status {
		case Pass:
			s.Pass++
		case Fail:
			s.Fail++
		case Skip:
			s.Skip++
		}
	}
	return s
}

func (s Summary) String() string {
	rate := 0.0
	if s.Total > 0 {
		rate = 100 * float64(s.Pass) / float64(s.Total)
	}
	return fmt.Sprintf("%d cases: %d pass (%.1f%%), %d fail, %d skipped", s.Total, s.Pass, rate, s.Fail, s.Skip)
}

// Family names the runtime/ops package whose kernel serves op at opset (for reports):
// "elementwise", "nn", ..., or "" when no kernel is registered.
func Family(domain, op string, opset int64) string {
	def, err := kernel.Lookup(domain, op, opset, ir.Undefined)
	if err != nil || def.New == nil {
		return ""
	}
	return familyOfFunc(def.New)
}

package ortpeer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// Job is one model to run in ONNX Runtime.
type Job struct {
	Model  string
	Inputs map[string]*kernel.Tensor
	// OptimizedModel, when set, is where ORT saves the graph its optimizer produced.
	OptimizedModel string
	// GraphOptimization is ORT's level: "all" (default), "extended", "basic", "disabled".
	GraphOptimization string
	// Threads sets ORT's intra-op threads (0: ORT's default, all cores).
	Threads int
	// Warmup and Runs time Runs runs after Warmup untimed ones.
	Warmup, Runs int
}

// Result is what ORT returned for a Job.
type Result struct {
	Model string
	// Outputs in the session's output order.
	Names   []string
	Outputs []*kernel.Tensor
	// LatencyMS holds each timed run; CPUMS the CPU time the ORT process spent in it (all
	// threads), which a loaded machine disturbs less than the wall clock.
	LatencyMS []float64
	CPUMS     []float64
	Err       error
}

// MedianMS returns the median timed latency.
func (r *Result) MedianMS() float64 {
	if len(r.LatencyMS) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), r.LatencyMS...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// DirEnv names the environment variable that points at a folder holding run.js with
// onnxruntime-node installed beside it (default: interop/ort of the repository).
const DirEnv = "WHITTLE_ORT_DIR"

// Dir returns the folder holding run.js and its node_modules.
func Dir() (string, error) {
	dir := os.Getenv(DirEnv)
	if dir == "" {
		root, ok := testenv.RepoRoot()
		if !ok {
			return "", errors.New("cannot find the repository root (set " + DirEnv + ")")
		}
		dir = filepath.Join(root, "interop", "ort")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node")); err != nil {
		return "", fmt.Errorf("onnxruntime-node is not installed in %s (run scripts/install-test-deps)", dir)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", errors.New("node is not on PATH")
	}
	return dir, nil
}

// Require skips t (or fails it under WHITTLE_STRICT) when ONNX Runtime is unavailable.
func Require(t testing.TB) {
	t.Helper()
	if _, err := Dir(); err != nil {
		testenv.Skipf(t, "ONNX Runtime peer: %v", err)
	}
}

var typeNames = map[ir.DataType]string{
	ir.Float: "float32", ir.Double: "float64", ir.Int8: "int8", ir.Uint8: "uint8", ir.Int16: "int16",
	ir.Uint16: "uint16", ir.Int32: "int32", ir.Uint32: "uint32", ir.Int64: "int64", ir.Uint64: "uint64",
	ir.Bool: "bool", ir.Float16: "float16",
}

type jsonInput struct {
	Name string  `json:"name"`
	Type string  `json:"type"`
	Dims []int64 `json:"dims"`
	File string  `json:"file"`
}

type jsonJob struct {
	Model             string      `json:"model"`
	Inputs            []jsonInput `json:"inputs"`
	OutDir            string      `json:"out_dir"`
	OptimizedModel    string      `json:"optimized_model,omitempty"`
	GraphOptimization string      `json:"graph_optimization,omitempty"`
	Threads           int         `json:"threads,omitempty"`
	Warmup            int         `json:"warmup,omitempty"`
	Runs              int         `json:"runs,omitempty"`
}

type jsonResult struct {
	Model   string `json:"model"`
	Error   string `json:"error"`
	Outputs []struct {
		Name string  `json:"name"`
		Type string  `json:"type"`
		Dims []int64 `json:"dims"`
		File string  `json:"file"`
	} `json:"outputs"`
	LatencyMS []float64 `json:"latency_ms"`
	CPUMS     []float64 `json:"cpu_ms"`
}

// Run runs the jobs in one Node.js process. A job that ORT rejects gets Result.Err; the
// error return is for failures of the harness itself.
func Run(jobs []Job) ([]Result, error) {
	dir, err := Dir()
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "whittle-ort-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	var js []jsonJob
	for i, j := range jobs {
		model, err := filepath.Abs(j.Model)
		if err != nil {
			return nil, err
		}
		jj := jsonJob{Model: model, OutDir: filepath.Join(work, strconv.Itoa(i), "out"), OptimizedModel: j.OptimizedModel,
			GraphOptimization: j.GraphOptimization, Threads: j.Threads, Warmup: j.Warmup, Runs: j.Runs}
		names := make([]string, 0, len(j.Inputs))
		for n := range j.Inputs {
			names = append(names, n)
		}
		sort.Strings(names)
		for k, name := range names {
			t := j.Inputs[name]
			tn, ok := typeNames[t.DType]
			if !ok {
				return nil, fmt.Errorf("%s: input %q: element type %s cannot be passed to ONNX Runtime", j.Model, name, t.DType)
			}
			file := filepath.Join(work, strconv.Itoa(i), fmt.Sprintf("input_%d.bin", k))
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return nil, err
			}
			raw, err := kernel.ToIR(name, t)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(file, raw.Raw, 0o644); err != nil {
				return nil, err
			}
			jj.Inputs = append(jj.Inputs, jsonInput{Name: name, Type: tn, Dims: t.Shape, File: file})
		}
		js = append(js, jj)
	}
	in, err := json.Marshal(js)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", filepath.Join(dir, "run.js"))
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("onnxruntime-node: %v: %s", err, stderr.String())
	}
	var res []jsonResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("onnxruntime-node output: %v", err)
	}
	if len(res) != len(jobs) {
		return nil, fmt.Errorf("onnxruntime-node answered %d of %d jobs", len(res), len(jobs))
	}
	results := make([]Result, len(res))
	for i, r := range res {
		results[i] = Result{Model: jobs[i].Model, LatencyMS: r.LatencyMS, CPUMS: r.CPUMS}
		if r.Error != "" {
			results[i].Err = fmt.Errorf("onnx runtime: %s", r.Error)
			continue
		}
		for _, o := range r.Outputs {
			t, err := readOutput(o.Type, o.Dims, o.File)
			if err != nil {
				results[i].Err = fmt.Errorf("output %q: %w", o.Name, err)
				break
			}
			results[i].Names = append(results[i].Names, o.Name)
			results[i].Outputs = append(results[i].Outputs, t)
		}
	}
	return results, nil
}

func readOutput(typ string, dims []int64, file string) (*kernel.Tensor, error) {
	var dt ir.DataType
	for d, n := range typeNames {
		if n == typ {
			dt = d
		}
	}
	if dt == ir.Undefined {
		return nil, fmt.Errorf("unsupported output type %s", typ)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if dt == ir.Bool {
		// ORT hands bools over as one byte each, which is also ONNX's raw layout.
		_ = binary.LittleEndian
	}
	return kernel.FromIR(&ir.Tensor{Name: "ort", DataType: dt, Dims: dims, Raw: raw})
}

package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/whittle-ml/whittle/runtime/datafeed"

	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/onnx"
	pb "github.com/whittle-ml/whittle/onnx/onnxpb"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

func init() {
	register(&command{
		name:    "run",
		args:    "MODEL [--input NAME=FILE]... [--random] [--seed N] [--output-dir DIR]",
		summary: "run a model on inputs from .pb or .npy files (or random ones) and save its outputs",
		help: `
Runs MODEL with whittle's runtime. Inputs come from TensorProto (.pb) or NumPy (.npy)
files given with --input NAME=FILE (NAME may be omitted when the model has one input), or
are made up from the declared shapes with --random (symbolic dimensions take --dim values,
or 1). Outputs are written as output_K.pb in graph-output order — the backend-test
convention — into --output-dir, with .npy copies beside them when --npy is given, and a
short summary of each output is printed.

Examples:
  whittle run model.onnx --input input=image.npy
  whittle run model.onnx --random --seed 7 --dim N=8 --output-dir out/
  whittle run model.onnx --input test_data_set_0/input_0.pb --output-dir out --npy`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			applyThreads := threadsFlag(fs)
			inputs := fs.StringArrayP("input", "i", nil, "an input as `NAME=FILE` (.pb or .npy); repeat for each input")
			random := fs.Bool("random", false, "make inputs the files do not give from the declared shapes")
			seed := fs.Uint64("seed", 1, "seed for --random")
			dims := fs.StringArray("dim", nil, "size of a symbolic dimension for --random, as `NAME=N`")
			outDir := fs.StringP("output-dir", "o", "", "write output_K.pb files into `DIR`")
			npy := fs.Bool("npy", false, "also write output_K.npy beside the .pb files")
			asJSON := jsonFlag(fs)
			withTimeout := timeoutFlag(fs)
			return func(e *env, args []string) error {
				defer applyThreads()()
				ctx, cancel := withTimeout(e.ctx)
				defer cancel()
				if err := exactArgs(args, 1, "one MODEL"); err != nil {
					return err
				}
				symbolic := map[string]int64{}
				for _, d := range *dims {
					name, val, ok := strings.Cut(d, "=")
					var n int64
					if _, err := fmt.Sscan(val, &n); !ok || err != nil || n < 0 {
						return usagef("--dim %q: want NAME=N", d)
					}
					symbolic[name] = n
				}
				return runModel(ctx, e, args[0], *inputs, *random, *seed, symbolic, *outDir, *npy, *asJSON)
			}
		},
	})
}

// runJSON is the --json output of whittle run (schema whittle.run/1).
type runJSON struct {
	Model   string          `json:"model"`
	Outputs []runOutputJSON `json:"outputs"`
}

// runOutputJSON describes one output; Files are the .pb (and .npy) written for it.
type runOutputJSON struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Shape   []int64  `json:"shape"`
	Summary string   `json:"summary"`
	Files   []string `json:"files,omitempty"`
}

func runModel(ctx context.Context, e *env, path string, inputSpecs []string, random bool, seed uint64, symbolic map[string]int64, outDir string, npy, asJSON bool) error {
	m, err := loadModel(e, path)
	if err != nil {
		return err
	}
	sess, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	declared := map[string]*ir.Value{}
	for _, v := range realInputs(m.Graph) {
		declared[v.Name] = v
	}
	feeds := map[string]*runtime.Tensor{}
	for _, spec := range inputSpecs {
		name, file, ok := strings.Cut(spec, "=")
		if !ok {
			if len(declared) != 1 {
				return usagef("--input %q: name the input (NAME=FILE); the model has %d inputs", spec, len(declared))
			}
			file = spec
			for n := range declared {
				name = n
			}
		}
		if declared[name] == nil {
			return usagef("--input %q: the model has no input %q (inputs: %s)", spec, name, strings.Join(sess.InputNames(), ", "))
		}
		t, err := readTensorFile(file)
		if err != nil {
			return err
		}
		feeds[name] = t
	}
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for _, name := range sess.InputNames() {
		if feeds[name] != nil {
			continue
		}
		v := declared[name]
		if v == nil {
			continue // an initializer the caller may override; its default is used
		}
		if !random {
			return usagef("no value for input %q (%s): give --input %s=FILE or --random", name, v.Type, name)
		}
		t, err := randomTensor(v, symbolic, rng)
		if err != nil {
			return err
		}
		feeds[name] = t
	}
	outs, err := sess.Run(ctx, feeds)
	if err != nil {
		if cause := stopCause(ctx, err); cause != nil {
			return fmt.Errorf("%s: %w", path, cause)
		}
		return fmt.Errorf("%s: %w", path, err)
	}
	if outDir != "" {
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return err
		}
	}
	report := runJSON{Model: path, Outputs: []runOutputJSON{}}
	for k, name := range sess.OutputNames() {
		t := outs[name]
		o := runOutputJSON{Name: name, Summary: summarize(t)}
		if t != nil {
			o.Type, o.Shape = t.DType.String(), t.Shape
		}
		report.Outputs = append(report.Outputs, o)
		cur := &report.Outputs[len(report.Outputs)-1]
		if !asJSON {
			fmt.Fprintf(e.stdout, "%s: %s\n", name, o.Summary)
		}
		if outDir == "" {
			continue
		}
		it, err := kernel.ToIR(name, t)
		if err != nil {
			return fmt.Errorf("output %q: %w", name, err)
		}
		b, err := proto.Marshal(onnx.TensorToProto(it))
		if err != nil {
			return err
		}
		pbPath := filepath.Join(outDir, fmt.Sprintf("output_%d.pb", k))
		if err := writeFileAtomic(pbPath, b); err != nil {
			return err
		}
		cur.Files = append(cur.Files, pbPath)
		if npy {
			data, err := encodeNPY(t)
			if err != nil {
				return fmt.Errorf("output %q: %w", name, err)
			}
			npyPath := filepath.Join(outDir, fmt.Sprintf("output_%d.npy", k))
			if err := writeFileAtomic(npyPath, data); err != nil {
				return err
			}
			cur.Files = append(cur.Files, npyPath)
		}
	}
	if asJSON {
		return printJSON(e, "run", report)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	return onnx.WriteFileAtomic(path, func(w ioWriter) error {
		_, err := w.Write(data)
		return err
	})
}

// readTensorFile reads a TensorProto (.pb) or NumPy (.npy) file.
func readTensorFile(file string) (*runtime.Tensor, error) {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".npy":
		t, err := dataset.ReadNPYFile(file)
		if err != nil {
			return nil, err
		}
		return datafeed.FromDataset(t)
	default:
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var tp pb.TensorProto
		if err := proto.Unmarshal(data, &tp); err != nil {
			return nil, fmt.Errorf("%s: not a TensorProto: %w", file, err)
		}
		it, err := onnx.TensorFromProto(&tp)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		t, err := kernel.FromIR(it)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return t, nil
	}
}

// randomTensor makes an input of v's declared type: floats uniform in [0, 1), integers in
// [0, 10), bools fair coins.
func randomTensor(v *ir.Value, symbolic map[string]int64, rng *rand.Rand) (*runtime.Tensor, error) {
	if v.Type == nil || v.Type.Kind != ir.TensorKind || !v.Type.HasShape {
		return nil, fmt.Errorf("input %q has no declared tensor shape; give it with --input", v.Name)
	}
	shape := make([]int64, len(v.Type.Dims))
	for i, d := range v.Type.Dims {
		switch {
		case d.IsKnown():
			shape[i] = d.Value
		case d.Param != "" && symbolic[d.Param] > 0:
			shape[i] = symbolic[d.Param]
		default:
			shape[i] = 1
		}
	}
	// The shape is the model's word: checked against the memory budget like any tensor.
	t, err := kernel.NewChecked(v.Type.Elem, shape...)
	if err != nil {
		return nil, fmt.Errorf("random input %q: %w", v.Name, err)
	}
	switch d := t.Data.(type) {
	case []float32:
		for i := range d {
			d[i] = rng.Float32()
		}
	case []float64:
		for i := range d {
			d[i] = rng.Float64()
		}
	case []int64:
		for i := range d {
			d[i] = rng.Int64N(10)
		}
	case []int32:
		for i := range d {
			d[i] = rng.Int32N(10)
		}
	case []uint8:
		for i := range d {
			d[i] = uint8(rng.IntN(10))
		}
	case []int8:
		for i := range d {
			d[i] = int8(rng.IntN(10))
		}
	case []bool:
		for i := range d {
			d[i] = rng.IntN(2) == 1
		}
	case []uint16:
		if v.Type.Elem != ir.Float16 {
			return nil, fmt.Errorf("input %q: --random does not make %s", v.Name, v.Type.Elem)
		}
		for i := range d {
			d[i] = kernel.Float32ToFloat16(rng.Float32())
		}
	default:
		return nil, fmt.Errorf("input %q: --random does not make %s", v.Name, v.Type.Elem)
	}
	return t, nil
}

// summarize describes a tensor in one line: type, shape, range and the first values.
func summarize(t *runtime.Tensor) string {
	if t == nil {
		return "none"
	}
	if t.Kind != kernel.TensorValue {
		return t.String()
	}
	desc := t.String()
	vals, err := kernel.Float64sOf(t)
	if err != nil || len(vals) == 0 {
		return desc
	}
	lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
		sum += v
	}
	head := vals
	if len(head) > 6 {
		head = head[:6]
	}
	parts := make([]string, len(head))
	for i, v := range head {
		parts[i] = fmt.Sprintf("%.5g", v)
	}
	more := ""
	if len(vals) > len(head) {
		more = ", ..."
	}
	return fmt.Sprintf("%s min %.5g max %.5g mean %.5g [%s%s]", desc, lo, hi, sum/float64(len(vals)), strings.Join(parts, ", "), more)
}

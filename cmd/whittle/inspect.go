package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/ir/stats"
)

func init() {
	register(&command{
		name:    "inspect",
		args:    "MODEL [--json] [--dim NAME=N]...",
		summary: "summarize a model: opsets, inputs/outputs, op histogram, parameters, sparsity, MACs",
		help: `
Prints the IR version, producer, opset imports, graph inputs and outputs with their
shapes and types, the node count and op histogram, parameters and bytes by element
type, initializer sparsity, and multiply-accumulates per layer and in total where shapes
are known (shape inference fills in shapes the file does not state).

Parameters count initializers and the tensors of Constant nodes, where exporters such
as Paddle2ONNX keep weights ('whittle optimize --passes constants_to_initializers' moves
them into initializers). Symbolic dimensions count as 1 for MACs; --dim NAME=N gives a
symbolic input dimension a size (repeatable), so that layers whose shapes follow from it
(an image's height and width) are counted at that size.

Examples:
  whittle inspect model.onnx
  whittle inspect model.onnx --json | jq .macs
  whittle inspect model.onnx --layers      # every layer's MACs, not just the top 10
  whittle inspect ocr.onnx --dim p2o.DynamicDimension.1=48 --dim p2o.DynamicDimension.2=320`,
		setup: func(fs *pflag.FlagSet) func(*env, []string) error {
			asJSON := jsonFlag(fs)
			layers := fs.Bool("layers", false, "list every layer's MACs and every initializer")
			dims := fs.StringArray("dim", nil, "size of a symbolic input dimension, `NAME=N` (repeatable)")
			return func(e *env, args []string) error {
				if err := exactArgs(args, 1, "one MODEL"); err != nil {
					return err
				}
				sizes, err := parseDims(*dims)
				if err != nil {
					return err
				}
				return runInspect(e, args[0], *asJSON, *layers, sizes)
			}
		},
	})
}

// inspection is the JSON form of whittle inspect.
type inspection struct {
	File            string      `json:"file"`
	FileBytes       int64       `json:"file_bytes"`
	IRVersion       int64       `json:"ir_version"`
	Producer        string      `json:"producer"`
	ProducerVersion string      `json:"producer_version,omitempty"`
	Opsets          []opsetJSON `json:"opset_import"`
	Inputs          []ioJSON    `json:"inputs"`
	Outputs         []ioJSON    `json:"outputs"`
	Functions       int         `json:"functions,omitempty"`
	*stats.Model
	InferenceProblems []string `json:"inference_problems,omitempty"`
}

type opsetJSON struct {
	Domain  string `json:"domain"`
	Version int64  `json:"version"`
}

type ioJSON struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// parseDims reads --dim NAME=N flags.
func parseDims(flags []string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		n, err := strconv.ParseInt(value, 10, 64)
		if !ok || name == "" || err != nil || n <= 0 {
			return nil, usagef("--dim %q: want NAME=N with N > 0", f)
		}
		out[name] = n
	}
	return out, nil
}

// fixDims gives the named symbolic dimensions of m's inputs and outputs their sizes, and
// forgets every intermediate shape so that inference recomputes them.
func fixDims(m *ir.Model, sizes map[string]int64) error {
	found := map[string]bool{}
	var names []string
	g := m.Graph
	for _, group := range [][]*ir.Value{g.Inputs, g.Outputs} {
		for _, v := range group {
			if v.Type == nil || !v.Type.HasShape {
				continue
			}
			for i, d := range v.Type.Dims {
				if d.Param == "" {
					continue
				}
				names = append(names, d.Param)
				if n, ok := sizes[d.Param]; ok {
					v.Type.Dims[i] = ir.Known(n)
					found[d.Param] = true
				}
			}
		}
	}
	for name := range sizes {
		if !found[name] {
			return usagef("--dim %s: no input or output dimension has that name (symbolic dimensions: %s)", name, strings.Join(slices.Compact(slices.Sorted(slices.Values(names))), ", "))
		}
	}
	for _, n := range g.Nodes() {
		for _, v := range n.Outputs() {
			if v != nil && !v.IsGraphOutput() && n.OpType != "Constant" {
				v.Type = nil
			}
		}
	}
	return nil
}

func runInspect(e *env, path string, asJSON, allLayers bool, sizes map[string]int64) error {
	m, err := loadModel(e, path)
	if err != nil {
		return err
	}
	var fileBytes int64
	if path != "-" {
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		fileBytes = fi.Size()
	}
	// Shapes the file does not state come from inference on a copy; the model itself is
	// only read.
	typed := m.Clone()
	if len(sizes) > 0 {
		if err := fixDims(typed, sizes); err != nil {
			return err
		}
	}
	rep, _ := infer.Model(typed, infer.Options{DataPropagation: true})
	ins := inspection{
		File: path, FileBytes: fileBytes, IRVersion: m.IRVersion, Producer: m.ProducerName,
		ProducerVersion: m.ProducerVersion, Functions: len(m.Functions), Model: stats.Measure(typed),
	}
	for _, o := range m.OpsetImports {
		ins.Opsets = append(ins.Opsets, opsetJSON{o.Domain, o.Version})
	}
	for _, v := range realInputs(typed.Graph) {
		ins.Inputs = append(ins.Inputs, ioJSON{v.Name, v.Type.String()})
	}
	for _, v := range typed.Graph.Outputs {
		ins.Outputs = append(ins.Outputs, ioJSON{v.Name, v.Type.String()})
	}
	for _, p := range rep.Problems {
		ins.InferenceProblems = append(ins.InferenceProblems, p.String())
	}
	if asJSON {
		return printJSON(e, "inspect", ins)
	}
	printInspection(e, &ins, allLayers)
	return nil
}

// realInputs lists graph inputs that are not initializers (inputs the caller must feed).
func realInputs(g *ir.Graph) []*ir.Value {
	var out []*ir.Value
	for _, v := range g.Inputs {
		if !v.IsConst() {
			out = append(out, v)
		}
	}
	return out
}

func printInspection(e *env, ins *inspection, allLayers bool) {
	w := e.stdout
	fmt.Fprintf(w, "%s (%s)\n", ins.File, stats.FormatBytes(ins.FileBytes))
	producer := strings.TrimSpace(ins.Producer + " " + ins.ProducerVersion)
	if producer == "" {
		producer = "unknown"
	}
	var opsets []string
	for _, o := range ins.Opsets {
		opsets = append(opsets, fmt.Sprintf("%s %d", ir.DomainName(o.Domain), o.Version))
	}
	fmt.Fprintf(w, "  IR version %d, producer %s, opsets: %s\n", ins.IRVersion, producer, strings.Join(opsets, ", "))
	fmt.Fprintf(w, "\nInputs:\n")
	for _, v := range ins.Inputs {
		fmt.Fprintf(w, "  %-30s %s\n", v.Name, v.Type)
	}
	fmt.Fprintf(w, "Outputs:\n")
	for _, v := range ins.Outputs {
		fmt.Fprintf(w, "  %-30s %s\n", v.Name, v.Type)
	}
	fmt.Fprintf(w, "\nNodes: %d", ins.Nodes)
	if ins.Functions > 0 {
		fmt.Fprintf(w, " (and %d model-local functions)", ins.Functions)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, oc := range ins.TopOps() {
		fmt.Fprintf(tw, "  %d\t %s\n", oc.Count, oc.Op)
	}
	tw.Flush()
	sparsity := 0.0
	if ins.Params > 0 {
		sparsity = float64(ins.Zeros) / float64(ins.Params)
	}
	fmt.Fprintf(w, "\nParameters: %s in %d initializers, %s, %.2f%% zeros\n", stats.FormatCount(ins.Params), len(ins.Initializers)-ins.ConstantNodes, stats.FormatBytes(ins.Bytes), 100*sparsity)
	if ins.ConstantNodes > 0 {
		fmt.Fprintf(w, "  %s of them in %d Constant nodes ('whittle optimize --passes constants_to_initializers' makes them initializers)\n",
			stats.FormatCount(ins.ConstantParams), ins.ConstantNodes)
	}
	for dt, n := range ins.ParamsByType {
		fmt.Fprintf(w, "  %-10s %12s params %12s\n", dt, stats.FormatCount(n), stats.FormatBytes(ins.BytesByType[dt]))
	}
	if allLayers {
		fmt.Fprintf(w, "\nInitializers:\n")
		for _, in := range ins.Initializers {
			where := ""
			if in.Node != "" {
				where = "  in Constant node " + in.Node
			}
			fmt.Fprintf(w, "  %-40s %-22s %10s  sparsity %.2f%%%s\n", in.Name, in.Type, stats.FormatBytes(in.Bytes), 100*in.Sparsity, where)
		}
	}
	if len(ins.Layers) > 0 {
		note := ""
		if !ins.MACsComplete {
			note = " (some layers' shapes are unknown; their MACs are not counted)"
		}
		fmt.Fprintf(w, "\nMACs per sample (symbolic dimensions count as 1): %s%s\n", stats.FormatCount(ins.MACs), note)
		layers := ins.Layers
		if !allLayers {
			layers = topLayers(layers, 10)
			if len(ins.Layers) > len(layers) {
				fmt.Fprintf(w, "  top %d of %d layers (--layers for all):\n", len(layers), len(ins.Layers))
			}
		}
		for _, l := range layers {
			macs := stats.FormatCount(l.MACs)
			if !l.Known {
				macs = "?"
			}
			share := 0.0
			if ins.MACs > 0 {
				share = 100 * float64(l.MACs) / float64(ins.MACs)
			}
			fmt.Fprintf(w, "  %-40s %-12s %10s  %5.1f%%\n", l.Node, l.Op, macs, share)
		}
	}
	if len(ins.InferenceProblems) > 0 {
		fmt.Fprintf(w, "\nShape inference found %d problem(s); run 'whittle check' for details.\n", len(ins.InferenceProblems))
	}
}

func topLayers(layers []stats.Layer, n int) []stats.Layer {
	sorted := append([]stats.Layer(nil), layers...)
	for i := 0; i < len(sorted) && i < n; i++ {
		best := i
		for j := i + 1; j < len(sorted); j++ {
			if sorted[j].MACs > sorted[best].MACs {
				best = j
			}
		}
		sorted[i], sorted[best] = sorted[best], sorted[i]
	}
	if len(sorted) > n {
		sorted = sorted[:n]
	}
	return sorted
}

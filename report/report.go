package report

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/whittle-ml/whittle/compare"
	"github.com/whittle-ml/whittle/dataset"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/irdiff"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/datafeed"
)

// Report is everything the HTML page shows. Build fills it from model files; a caller
// (a training loop, a distillation run) may add Curves or Notes before Write.
type Report struct {
	Title string
	// Tool names the program and version that wrote the report.
	Tool string
	// Data describes the rows accuracy and error were measured on ("" when random).
	Data string
	// Variants are the models compared; the first is the base the others are measured
	// against.
	Variants []*Variant
	// Curves are training curves (loss, accuracy per epoch) when there are any.
	Curves []Curve
	// Notes are free remarks shown under the title.
	Notes []string
}

// Variant is one model of the report.
type Variant struct {
	Name, Path string
	FileBytes  int64
	Nodes      int
	Params     int64
	// Nonzero counts parameters that are not zero.
	Nonzero int64
	MACs    int64
	Ops     map[string]int
	// Top1 is the accuracy in percent on labelled data; nil without labels.
	Top1 *float64
	// Agreement is the top-1 agreement with the base in percent, and SQNR the output's
	// signal-to-quantization-noise ratio against the base in dB (nil for the base, or for
	// an output equal to the base's).
	Agreement, SQNR *float64
	// LatencyMS is the median latency of one row in whittle's runtime.
	LatencyMS *float64
	// Sparsity lists the weight of each Conv/Gemm/MatMul layer and its fraction of zeros.
	Sparsity []LayerSparsity
	// Layers ranks where this variant's error enters, against the base (largest first).
	Layers []LayerError
	// Diff is the graph difference from the base; nil for the base.
	Diff *Diff
}

// LayerSparsity is one weight tensor's share of zeros.
type LayerSparsity struct {
	Layer    string
	Params   int64
	Sparsity float64
}

// LayerError is one compared intermediate tensor: its SQNR against the base and the dB
// this layer lost relative to its inputs.
type LayerError struct {
	Tensor, Op string
	SQNR, Lost float64
}

// Curve is one plot of training progress: several series over the same x axis.
type Curve struct {
	Title, XLabel, YLabel string
	Series                []Series
}

// Series is one line of a Curve.
type Series struct {
	Label string
	X, Y  []float64
}

// Options tell Build what to measure.
type Options struct {
	// Title of the page; Tool names the writer.
	Title, Tool string
	// Data feeds accuracy, agreement and per-layer error; nil uses RandomRows random rows
	// made from the base's input shapes.
	Data       dataset.Dataset
	DataSpec   string
	RandomRows int
	// LatencyRuns timed runs of one row per variant (0: 10; negative: no latency).
	LatencyRuns int
	// TopLayers keeps this many layers of each variant's error ranking (0: 15).
	TopLayers int
}

// Build loads the models (the first is the base) and measures each against the base.
func Build(paths []string, o Options) (*Report, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("report: no models")
	}
	r := &Report{Title: o.Title, Tool: o.Tool, Data: o.DataSpec}
	if r.Title == "" {
		r.Title = "whittle report: " + filepath.Base(paths[0])
	}
	models := make([]*ir.Model, len(paths))
	for i, p := range paths {
		m, err := onnx.LoadModel(p)
		if err != nil {
			return nil, err
		}
		models[i] = m
		v, err := measure(p, m)
		if err != nil {
			return nil, err
		}
		r.Variants = append(r.Variants, v)
	}
	data := o.Data
	if data == nil {
		rows := o.RandomRows
		if rows <= 0 {
			rows = compare.DefaultRandomSamples
		}
		var err error
		if data, err = compare.RandomData(models[0], rows, 1, nil); err != nil {
			return nil, fmt.Errorf("report: random inputs for %s: %w", paths[0], err)
		}
		r.Data = fmt.Sprintf("%d random rows", rows)
	}
	top := o.TopLayers
	if top <= 0 {
		top = 15
	}
	for i, v := range r.Variants {
		if i > 0 {
			d, err := irdiff.Compare(models[0], models[i], irdiff.Options{LabelA: paths[0], LabelB: paths[i], InferShapes: true})
			if err != nil {
				return nil, fmt.Errorf("report: diff %s %s: %w", paths[0], paths[i], err)
			}
			v.Diff = newDiff(d, models[0], models[i])
		}
		res, err := compare.Models(models[0], models[i], compare.Options{Data: data, PerLayer: i > 0})
		if err != nil {
			return nil, fmt.Errorf("report: compare %s with %s: %w", paths[i], paths[0], err)
		}
		if res.AccuracyB != nil {
			t := res.AccuracyB.Top1()
			v.Top1 = &t
		}
		if i > 0 && len(res.Outputs) > 0 {
			out := res.Outputs[0]
			if out.Rows > 0 {
				a := 100 * out.Top1Agreement()
				v.Agreement = &a
			}
			if s := out.SQNR(); !math.IsInf(s, 0) && !math.IsNaN(s) {
				v.SQNR = &s
			}
		}
		for _, l := range res.Ranked {
			if len(v.Layers) == top {
				break
			}
			s := l.Stats.SQNR()
			if math.IsInf(s, 1) || math.IsNaN(s) {
				continue // equal to the base: no error entered here
			}
			v.Layers = append(v.Layers, LayerError{Tensor: l.A, Op: l.Op, SQNR: s, Lost: l.Lost})
		}
		if o.LatencyRuns >= 0 {
			ms, err := latency(models[i], data, max(o.LatencyRuns, 0))
			if err != nil {
				return nil, fmt.Errorf("report: latency of %s: %w", paths[i], err)
			}
			v.LatencyMS = &ms
		}
	}
	return r, nil
}

// measure reads the static figures of one model.
func measure(path string, m *ir.Model) (*Variant, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	typed := m.Clone()
	_, _ = infer.Model(typed, infer.Options{DataPropagation: true})
	s := stats.Measure(typed)
	v := &Variant{Name: filepath.Base(path), Path: path, FileBytes: fi.Size(), Nodes: s.Nodes,
		Params: s.Params, Nonzero: s.Params - s.Zeros, MACs: s.MACs, Ops: s.Ops}
	v.Sparsity = layerSparsity(m)
	return v, nil
}

// layerSparsity finds the weight of each Conv, ConvTranspose, Gemm and MatMul (through a
// DequantizeLinear in QDQ models) and counts its zeros.
func layerSparsity(m *ir.Model) []LayerSparsity {
	var out []LayerSparsity
	for _, n := range m.Graph.Nodes() {
		switch n.OpType {
		case "Conv", "ConvTranspose", "Gemm", "MatMul":
		default:
			continue
		}
		w := n.Input(1)
		if w != nil && w.Const == nil {
			if p := w.Producer(); p != nil && p.OpType == "DequantizeLinear" {
				w = p.Input(0)
			}
		}
		if w == nil || w.Const == nil {
			continue
		}
		ne, err := w.Const.NumElements()
		if err != nil || ne == 0 {
			continue
		}
		name := n.Name
		if name == "" {
			name = w.Name
		}
		out = append(out, LayerSparsity{Layer: name, Params: ne, Sparsity: float64(stats.CountZeros(w.Const)) / float64(ne)})
	}
	return out
}

// latency times runs of the first row of data, after one warm-up run, and returns the
// median in milliseconds.
func latency(m *ir.Model, data dataset.Dataset, runs int) (float64, error) {
	if runs == 0 {
		runs = 10
	}
	s, err := runtime.NewSession(m, runtime.Options{})
	if err != nil {
		return 0, err
	}
	b, err := data.Batch(0, 1)
	if err != nil {
		return 0, err
	}
	feeds, err := datafeed.BatchFeeds(m, b)
	if err != nil {
		return 0, err
	}
	times := make([]float64, 0, runs)
	for i := 0; i <= runs; i++ {
		start := time.Now()
		if _, err := s.Run(context.Background(), feeds); err != nil {
			return 0, err
		}
		if i > 0 {
			times = append(times, float64(time.Since(start).Microseconds())/1000)
		}
	}
	sort.Float64s(times)
	return times[len(times)/2], nil
}

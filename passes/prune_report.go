package passes

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/ir/stats"
)

// PruneReport is what Prune did: per layer, per channel group, what it skipped and why,
// and the model's size before and after. MACs are counted for batch 1 (symbolic input
// dimensions bound to 1).
type PruneReport struct {
	Pattern  string  `json:"pattern"`
	Scope    string  `json:"scope"`
	Norm     string  `json:"norm,omitempty"`
	Sparsity float64 `json:"sparsity"`
	Changed  bool    `json:"changed"`
	// GlobalThreshold is the largest |w| a global unstructured ranking removed.
	GlobalThreshold float64              `json:"global_threshold,omitempty"`
	Layers          []LayerPrune         `json:"layers"`
	Groups          []ChannelGroupReport `json:"channel_groups,omitempty"`
	Skipped         []PruneSkip          `json:"skipped,omitempty"`
	Before          ModelSummary         `json:"before"`
	After           ModelSummary         `json:"after"`
	// Files is filled by callers that serialize the model (whittle.Prune with
	// MeasureFiles).
	Files *FileSizes `json:"files,omitempty"`

	snap    map[int]layerSnapshot
	order   []int // node IDs of MAC layers before pruning, in graph order
	targets map[int]target
}

// LayerPrune is one MAC layer (Conv, ConvTranspose, Gemm, MatMul) before and after.
type LayerPrune struct {
	Node   string `json:"node"`
	Op     string `json:"op"`
	Weight string `json:"weight,omitempty"`
	// Target is the sparsity asked of the layer and How the rule ("layer", "global",
	// "2:4 along axis 1", "channel group 3"); empty for layers only shrunk as consumers.
	Target         *float64 `json:"target_sparsity,omitempty"`
	How            string   `json:"how,omitempty"`
	Params         int64    `json:"params"`
	ParamsAfter    int64    `json:"params_after"`
	Sparsity       float64  `json:"sparsity"`
	SparsityAfter  float64  `json:"sparsity_after"`
	MACs           int64    `json:"macs"`
	MACsAfter      int64    `json:"macs_after"`
	WeightDims     []int64  `json:"weight_dims,omitempty"`
	WeightDimsAfer []int64  `json:"weight_dims_after,omitempty"`
}

// ChannelGroupReport is a set of layers whose output channels are pruned together.
type ChannelGroupReport struct {
	// Members are the producing layers; TiedBy names the nodes (Add, ...) that tie them.
	Members  []string `json:"members"`
	TiedBy   []string `json:"tied_by,omitempty"`
	Channels int      `json:"channels"`
	Kept     int      `json:"kept"`
	Removed  []int    `json:"removed,omitempty"`
	// Skipped says why the group was left whole.
	Skipped []string `json:"skipped,omitempty"`
}

// PruneSkip is a layer (or group) left alone, with the reason.
type PruneSkip struct {
	Layer  string `json:"layer"`
	Reason string `json:"reason"`
}

// ModelSummary is a model's size and work.
type ModelSummary struct {
	Params       int64 `json:"params"`
	Nonzero      int64 `json:"nonzero_params"`
	Bytes        int64 `json:"bytes"`
	MACs         int64 `json:"macs"`
	MACsComplete bool  `json:"macs_complete"`
	Nodes        int   `json:"nodes"`
}

// FileSizes are the serialized model's sizes before and after, raw and compressed:
// unstructured sparsity shrinks the compressed file, channel pruning the raw one.
type FileSizes struct {
	Before CompressedSizes `json:"before"`
	After  CompressedSizes `json:"after"`
}

// CompressedSizes are a file's size raw, gzip'd (level 9) and zstd'd (default level).
type CompressedSizes struct {
	Raw  int64 `json:"raw"`
	Gzip int64 `json:"gzip"`
	Zstd int64 `json:"zstd"`
}

type layerSnapshot struct {
	label, op, weight string
	dims              []int64
	params, zeros     int64
	macs              int64
}

type target struct {
	sparsity float64
	how      string
}

func newPruneReport(m *ir.Model, opts PruneOptions) *PruneReport {
	rep := &PruneReport{Pattern: opts.PatternString(), Scope: opts.Scope, Sparsity: opts.Sparsity,
		targets: map[int]target{}}
	if opts.Pattern == PatternChannel {
		rep.Norm = opts.Norm
	}
	if opts.Pattern == PatternNM {
		rep.Scope = ScopeLayer
	}
	rep.Before, rep.snap = summarize(m)
	for _, g := range workGraphs(m) {
		for _, n := range g.Nodes() {
			if _, ok := rep.snap[n.ID()]; ok {
				rep.order = append(rep.order, n.ID())
			}
		}
	}
	return rep
}

func (rep *PruneReport) skip(layer, format string, args ...any) {
	rep.Skipped = append(rep.Skipped, PruneSkip{Layer: layer, Reason: fmt.Sprintf(format, args...)})
}

func (rep *PruneReport) setTarget(n *ir.Node, s float64, how string) {
	rep.targets[n.ID()] = target{s, how}
}

// finish measures the pruned model and fills Layers.
func (rep *PruneReport) finish(m *ir.Model) {
	var after map[int]layerSnapshot
	rep.After, after = summarize(m)
	for _, id := range rep.order {
		b := rep.snap[id]
		a, ok := after[id]
		if !ok {
			continue
		}
		l := LayerPrune{Node: b.label, Op: b.op, Weight: b.weight, Params: b.params, ParamsAfter: a.params,
			MACs: b.macs, MACsAfter: a.macs, Sparsity: ratio(b.zeros, b.params), SparsityAfter: ratio(a.zeros, a.params)}
		if !slices.Equal(b.dims, a.dims) {
			l.WeightDims, l.WeightDimsAfer = b.dims, a.dims
		}
		if t, ok := rep.targets[id]; ok {
			s := t.sparsity
			l.Target, l.How = &s, t.how
		}
		rep.Layers = append(rep.Layers, l)
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// summarize measures m for batch 1: shapes are inferred on a copy whose symbolic input
// dimensions are bound to 1, so that every layer's MACs are known.
func summarize(m *ir.Model) (ModelSummary, map[int]layerSnapshot) {
	c := m.Clone()
	for _, g := range c.Graphs() {
		for _, n := range g.Nodes() {
			for _, v := range n.Outputs() {
				if v != nil {
					v.Type = nil
				}
			}
		}
	}
	for _, v := range c.Graph.Inputs {
		if v.IsConst() || v.Type == nil {
			continue
		}
		t := v.Type.Clone()
		for i, d := range t.Dims {
			if !d.IsKnown() {
				t.Dims[i] = ir.Known(1)
			}
		}
		v.Type = t
	}
	_, _ = infer.Model(c, infer.Options{DataPropagation: true})
	st := stats.Measure(c)
	sum := ModelSummary{Params: st.Params, Nonzero: st.Params - st.Zeros, Bytes: st.Bytes, MACs: st.MACs,
		MACsComplete: st.MACsComplete, Nodes: st.Nodes}
	layers := map[int]layerSnapshot{}
	for _, g := range workGraphs(c) {
		for _, n := range g.Nodes() {
			macs, _, ok := stats.NodeMACs(n)
			if !ok {
				continue
			}
			s := layerSnapshot{label: nodeLabel(n), op: opLabel(n), macs: macs}
			if slot, _, ok := weightSlot(n); ok {
				if src, t := resolveConst(n.Input(slot)); t != nil {
					s.weight = src.Name
					s.dims = append([]int64(nil), t.Dims...)
					s.params, _ = t.NumElements()
					s.zeros = stats.CountZeros(t)
				}
			}
			layers[n.ID()] = s
		}
	}
	return sum, layers
}

// WriteText renders the report for a terminal.
func (rep *PruneReport) WriteText(w io.Writer) error {
	count := stats.FormatCountFourDigits // small layers' sizes stay exact
	var b strings.Builder
	fmt.Fprintf(&b, "prune: pattern %s, scope %s", rep.Pattern, rep.Scope)
	if rep.Norm != "" {
		fmt.Fprintf(&b, ", norm %s", rep.Norm)
	}
	fmt.Fprintf(&b, ", sparsity %g\n\n", rep.Sparsity)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "layer\top\ttarget\tsparsity\tparams\tMACs\tweight shape\n")
	for _, l := range rep.Layers {
		tgt := "-"
		if l.Target != nil {
			tgt = fmt.Sprintf("%.3g (%s)", *l.Target, l.How)
		}
		shape := ""
		if l.WeightDims != nil {
			shape = fmt.Sprintf("%v -> %v", l.WeightDims, l.WeightDimsAfer)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f%% -> %.1f%%\t%s -> %s\t%s -> %s\t%s\n", l.Node, l.Op, tgt,
			100*l.Sparsity, 100*l.SparsityAfter, count(l.Params), count(l.ParamsAfter), count(l.MACs), count(l.MACsAfter), shape)
	}
	tw.Flush()
	if len(rep.Groups) > 0 {
		fmt.Fprintf(&b, "\nChannel groups (members prune the same channel indices):\n")
		for i, g := range rep.Groups {
			fmt.Fprintf(&b, "  group %d: %d -> %d channels: %s", i, g.Channels, g.Kept, strings.Join(g.Members, ", "))
			if len(g.TiedBy) > 0 {
				fmt.Fprintf(&b, " (tied by %s)", strings.Join(g.TiedBy, ", "))
			}
			if len(g.Skipped) > 0 {
				fmt.Fprintf(&b, "\n    left whole: %s", strings.Join(g.Skipped, "; "))
			}
			b.WriteByte('\n')
		}
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(&b, "\nSkipped:\n")
		for _, s := range rep.Skipped {
			fmt.Fprintf(&b, "  %s: %s\n", s.Layer, s.Reason)
		}
	}
	pct := func(a, b int64) string {
		if b == 0 {
			return ""
		}
		return fmt.Sprintf(" (%+.1f%%)", 100*(float64(a)/float64(b)-1))
	}
	fmt.Fprintf(&b, "\nParameters: %s -> %s%s; nonzero %s -> %s%s\n", count(rep.Before.Params), count(rep.After.Params),
		pct(rep.After.Params, rep.Before.Params), count(rep.Before.Nonzero), count(rep.After.Nonzero), pct(rep.After.Nonzero, rep.Before.Nonzero))
	fmt.Fprintf(&b, "MACs (batch 1): %s -> %s%s\n", count(rep.Before.MACs), count(rep.After.MACs), pct(rep.After.MACs, rep.Before.MACs))
	if f := rep.Files; f != nil {
		fmt.Fprintf(&b, "File: %s -> %s%s; gzip %s -> %s%s; zstd %s -> %s%s\n",
			count(f.Before.Raw), count(f.After.Raw), pct(f.After.Raw, f.Before.Raw),
			count(f.Before.Gzip), count(f.After.Gzip), pct(f.After.Gzip, f.Before.Gzip),
			count(f.Before.Zstd), count(f.After.Zstd), pct(f.After.Zstd, f.Before.Zstd))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Summarize measures m as the prune report does: parameters, bytes, nodes, and MACs for
// batch 1 (symbolic input dimensions bound to 1; m itself is not changed).
func Summarize(m *ir.Model) ModelSummary {
	s, _ := summarize(m)
	return s
}

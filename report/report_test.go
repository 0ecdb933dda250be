package report

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/irtest"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/irdiff"
)

func ptr(x float64) *float64 { return &x }

// handMade is a report as Build would fill it, with a training curve added by a caller.
func handMade() *Report {
	return &Report{
		Title: "t", Tool: "whittle test", Data: "rows",
		Variants: []*Variant{
			{Name: "base.onnx", FileBytes: 4e6, Params: 1e6, Nonzero: 1e6, MACs: 2e7, Top1: ptr(92), LatencyMS: ptr(3),
				Sparsity: []LayerSparsity{{"conv1", 100, 0}, {"fc", 50, 0}}},
			{Name: "pruned.onnx", FileBytes: 4e6, Params: 1e6, Nonzero: 5e5, MACs: 2e7, Top1: ptr(91.5), Agreement: ptr(98), SQNR: ptr(20), LatencyMS: ptr(2.5),
				Sparsity: []LayerSparsity{{"conv1", 100, 0.5}, {"fc", 50, 0.7}},
				Layers:   []LayerError{{"conv1_out", "Conv", 30, 12}, {"fc_out", "Gemm", 25, 5}}},
		},
		Curves: []Curve{{Title: "fine-tuning", XLabel: "epoch", YLabel: "loss", Series: []Series{
			{Label: "train", X: []float64{1, 2, 3}, Y: []float64{0.9, 0.5, 0.4}},
			{Label: "validation", X: []float64{1, 2, 3}, Y: []float64{1, 0.7, 0.6}}}}},
	}
}

func TestWriteShowsEveryFigureWithItsLabels(t *testing.T) {
	var b bytes.Buffer
	if err := handMade().Write(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	figs := regexp.MustCompile(`<figure class="plot" id="([^"]+)" data-labels="([^"]*)">`).FindAllStringSubmatch(page, -1)
	var ids []string
	for _, f := range figs {
		ids = append(ids, f[1])
	}
	if got := strings.Join(ids, " "); got != "tradeoff-size tradeoff-latency layers-1 sparsity curve-0" {
		t.Fatalf("figures %q", got)
	}
	for _, want := range []string{"base.onnx", "pruned.onnx", "conv1_out", "validation", "92.00%", "98.00%", "20.0 dB", "2.50 ms", "50.0%"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := strings.Count(page, "@font-face"); n != 1 {
		t.Errorf("%d @font-face rules, want the font once", n)
	}
	if strings.Contains(page, "<?xml") || strings.Contains(page, "<script") || regexp.MustCompile(`(src|href)="https?:`).MatchString(page) {
		t.Errorf("the page has an XML prologue, a script or a remote resource")
	}
}

func TestWriteRefusesBrokenCurve(t *testing.T) {
	r := handMade()
	r.Curves[0].Series[0].Y = r.Curves[0].Series[0].Y[:2]
	if err := r.Write(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "3 x and 2 y") {
		t.Fatalf("error %v", err)
	}
}

func TestDrawRegion(t *testing.T) {
	m := irtest.New(t, 13).Input("X", ir.Float, 2).
		Node("Abs", "X", "a").Node("Neg", "a", "b").Node("Relu", "b", "c").Node("Exp", "c", "d").Node("Log", "d", "Y").
		Output("Y").Model()
	nodes := m.Graph.Nodes()
	key := func(i int) string { return nodeKey(nodes[i]) }
	tests := []struct {
		name     string
		status   map[string]irdiff.Status
		want     int
		statuses string
	}{
		{"one changed node and its neighbours", map[string]irdiff.Status{key(2): irdiff.Changed}, 3, "context changed context"},
		{"added next to removed", map[string]irdiff.Status{key(1): irdiff.Added, key(2): irdiff.Removed}, 4, "context added removed context"},
		{"nothing changed draws nothing", map[string]irdiff.Status{}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := drawRegion(m.Graph, tc.status, "x")
			if d.Nodes != tc.want {
				t.Fatalf("%d nodes drawn, want %d", d.Nodes, tc.want)
			}
			var got []string
			for _, s := range regexp.MustCompile(`data-status="([a-z]+)"`).FindAllStringSubmatch(d.SVG, -1) {
				got = append(got, s[1])
			}
			if strings.Join(got, " ") != tc.statuses {
				t.Errorf("statuses %q, want %q", strings.Join(got, " "), tc.statuses)
			}
			if tc.want > 0 && strings.Count(d.SVG, "marker-end") != tc.want-1 {
				t.Errorf("%d edges drawn in a chain of %d", strings.Count(d.SVG, "marker-end"), tc.want)
			}
		})
	}
}

package report

import (
	"bytes"
	"fmt"
	"image/color"
	"regexp"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one plot of the page: inline SVG and the labels of its data, which the page
// lists in a data attribute so that a test can check the drawing shows every one.
type Figure struct {
	ID, Title string
	SVG       string
	Labels    []string
}

// palette colours variants in order (the base first).
var palette = []color.RGBA{
	{0x45, 0x5a, 0x64, 0xff}, {0x1e, 0x88, 0xe5, 0xff}, {0xe5, 0x39, 0x35, 0xff}, {0x43, 0xa0, 0x47, 0xff},
	{0xfb, 0x8c, 0x00, 0xff}, {0x8e, 0x24, 0xaa, 0xff}, {0x00, 0x89, 0x7b, 0xff}, {0x6d, 0x4c, 0x41, 0xff},
}

func colour(i int) color.RGBA { return palette[i%len(palette)] }

// render draws p into an SVG string fit for inline HTML (no XML prologue).
func render(p *plot.Plot, w, h vg.Length) (string, error) {
	// The fonts travel with the page: a browser without Liberation would substitute a wider
	// font than the one gonum/plot measured, and labels would run into the axes.
	c := vgsvg.NewWith(vgsvg.UseWH(w, h), vgsvg.EmbedFonts(true))
	p.Draw(draw.New(c))
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i > 0 {
		s = s[i:]
	}
	return s, nil
}

// fontStyle matches the <style> block of @font-face rules vgsvg writes into each SVG.
var fontStyle = regexp.MustCompile(`(?s)<defs>\s*<style>(.*?)</style>\s*</defs>`)

// hoistFonts moves the @font-face rules out of the figures' SVGs and returns each
// distinct rule once, for the page's own style sheet: every plot embeds the same font,
// and a page repeating it per plot would be megabytes.
func hoistFonts(figs []*Figure) []string {
	seen := map[string]bool{}
	var rules []string
	for _, f := range figs {
		f.SVG = fontStyle.ReplaceAllStringFunc(f.SVG, func(m string) string {
			rule := strings.TrimSpace(fontStyle.FindStringSubmatch(m)[1])
			if !seen[rule] {
				seen[rule] = true
				rules = append(rules, rule)
			}
			return ""
		})
	}
	return rules
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = title, x, y
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.Add(plotter.NewGrid())
	return p
}

// score is the quality figure of a variant: accuracy with labels, else top-1 agreement
// with the base (100% for the base itself).
func (r *Report) score(v *Variant, i int) (float64, string, bool) {
	switch {
	case v.Top1 != nil:
		return *v.Top1, "top-1 accuracy (%)", true
	case v.Agreement != nil:
		return *v.Agreement, "top-1 agreement with the base (%)", true
	case i == 0 && len(r.Variants) > 1 && r.Variants[1].Agreement != nil:
		return 100, "top-1 agreement with the base (%)", true
	}
	return 0, "", false
}

// tradeoff plots each variant's score against an x measure, one labelled point each.
func (r *Report) tradeoff(id, title, xLabel string, x func(*Variant) (float64, bool)) (*Figure, error) {
	var yLabel string
	p := newPlot(title, xLabel, "")
	var labels []string
	for i, v := range r.Variants {
		y, yl, ok := r.score(v, i)
		xv, okX := x(v)
		if !ok || !okX {
			continue
		}
		yLabel = yl
		pts := plotter.XYs{{X: xv, Y: y}}
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = colour(i), vg.Points(5), draw.CircleGlyph{}
		l, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: []string{v.Name}})
		if err != nil {
			return nil, err
		}
		for j := range l.TextStyle {
			l.TextStyle[j].Font.Size = vg.Points(9)
			// Alternate heights, so labels of points that coincide stay readable.
			l.Offset = vg.Point{X: vg.Points(7), Y: vg.Points(4 - 11*float64(i%3))}
		}
		p.Add(s, l)
		labels = append(labels, v.Name)
	}
	if len(labels) == 0 {
		return nil, nil
	}
	p.Y.Label.Text = yLabel
	// Room for the labels right of the last point.
	p.X.Max += (p.X.Max - p.X.Min) * 0.35
	if p.X.Max == p.X.Min {
		p.X.Min, p.X.Max = p.X.Min*0.5, p.X.Max*1.5+1
	}
	if p.Y.Max-p.Y.Min < 1 {
		p.Y.Min, p.Y.Max = p.Y.Min-1, p.Y.Max+1
	}
	svg, err := render(p, 7*vg.Inch, 3.6*vg.Inch)
	if err != nil {
		return nil, err
	}
	return &Figure{ID: id, Title: title, SVG: svg, Labels: labels}, nil
}

// horizontalBars draws one group of bars per series over the named rows.
func horizontalBars(id, title, xLabel string, rows []string, series []string, values [][]float64) (*Figure, error) {
	p := newPlot(title, xLabel, "")
	w := vg.Points(min(14, 60/float64(max(len(series), 1))))
	for s, vals := range values {
		b, err := plotter.NewBarChart(plotter.Values(vals), w)
		if err != nil {
			return nil, err
		}
		b.Horizontal, b.Color, b.LineStyle.Width = true, colour(s+1), 0
		b.Offset = vg.Length(float64(s)-float64(len(values)-1)/2) * w
		p.Add(b)
		if len(values) > 1 {
			p.Legend.Add(series[s], b)
		}
	}
	short := make([]string, len(rows))
	for i, r := range rows {
		short[i] = shorten(r, 34)
	}
	p.NominalY(short...)
	p.Legend.Top = true
	// Headroom on the right for the legend.
	if len(values) > 1 {
		p.X.Max += (p.X.Max - p.X.Min) * 0.3
	}
	h := vg.Length(max(2.2, 0.28*float64(len(rows))*max(1, float64(len(values))*0.6)+1)) * vg.Inch
	svg, err := render(p, 7.2*vg.Inch, h)
	if err != nil {
		return nil, err
	}
	return &Figure{ID: id, Title: title, SVG: svg, Labels: short}, nil
}

// lines draws a training curve.
func lines(id string, c Curve) (*Figure, error) {
	p := newPlot(c.Title, c.XLabel, c.YLabel)
	var labels []string
	for i, s := range c.Series {
		if len(s.X) != len(s.Y) || len(s.X) == 0 {
			return nil, fmt.Errorf("report: curve %q series %q has %d x and %d y values", c.Title, s.Label, len(s.X), len(s.Y))
		}
		pts := make(plotter.XYs, len(s.X))
		for j := range s.X {
			pts[j].X, pts[j].Y = s.X[j], s.Y[j]
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return nil, err
		}
		l.Color, sc.Color = colour(i+1), colour(i+1)
		p.Add(l, sc)
		p.Legend.Add(s.Label, l, sc)
		labels = append(labels, s.Label)
	}
	p.Legend.Top = true
	svg, err := render(p, 7*vg.Inch, 3.4*vg.Inch)
	if err != nil {
		return nil, err
	}
	return &Figure{ID: id, Title: c.Title, SVG: svg, Labels: labels}, nil
}

// figures makes every plot the report's data supports.
func (r *Report) figures() (trade []*Figure, layers []*Figure, sparsity *Figure, curves []*Figure, err error) {
	mb := func(v *Variant) (float64, bool) { return float64(v.FileBytes) / 1e6, true }
	ms := func(v *Variant) (float64, bool) {
		if v.LatencyMS == nil {
			return 0, false
		}
		return *v.LatencyMS, true
	}
	for _, t := range []struct {
		id, title, x string
		f            func(*Variant) (float64, bool)
	}{{"tradeoff-size", "Quality against file size", "file size (MB)", mb}, {"tradeoff-latency", "Quality against latency", "latency, one row, whittle runtime (ms)", ms}} {
		fig, err := r.tradeoff(t.id, t.title, t.x, t.f)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if fig != nil {
			trade = append(trade, fig)
		}
	}
	for i, v := range r.Variants {
		if i == 0 || len(v.Layers) == 0 {
			continue
		}
		var rows []string
		var vals []float64
		// The largest loss on top: NominalY puts row 0 at the bottom.
		for j := len(v.Layers) - 1; j >= 0; j-- {
			rows = append(rows, v.Layers[j].Tensor)
			vals = append(vals, v.Layers[j].Lost)
		}
		fig, err := horizontalBars(fmt.Sprintf("layers-%d", i), "Where error enters: "+v.Name, "SQNR lost at the layer (dB)", rows, []string{v.Name}, [][]float64{vals})
		if err != nil {
			return nil, nil, nil, nil, err
		}
		layers = append(layers, fig)
	}
	if fig, err := r.sparsityFigure(); err != nil {
		return nil, nil, nil, nil, err
	} else {
		sparsity = fig
	}
	for i, c := range r.Curves {
		fig, err := lines(fmt.Sprintf("curve-%d", i), c)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		curves = append(curves, fig)
	}
	return trade, layers, sparsity, curves, nil
}

// sparsityFigure plots the share of zero weights per layer for every variant that has any.
func (r *Report) sparsityFigure() (*Figure, error) {
	var rows []string
	index := map[string]int{}
	var series []string
	var values [][]float64
	for _, v := range r.Variants {
		any := false
		for _, l := range v.Sparsity {
			if l.Sparsity > 0 {
				any = true
			}
		}
		if !any {
			continue
		}
		for _, l := range v.Sparsity {
			if _, ok := index[l.Layer]; !ok {
				index[l.Layer] = len(rows)
				rows = append(rows, l.Layer)
			}
		}
		series = append(series, v.Name)
	}
	if len(series) == 0 {
		return nil, nil
	}
	for _, name := range series {
		vals := make([]float64, len(rows))
		for _, v := range r.Variants {
			if v.Name != name {
				continue
			}
			for _, l := range v.Sparsity {
				vals[index[l.Layer]] = 100 * l.Sparsity
			}
		}
		values = append(values, vals)
	}
	// First layer on top.
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
		for _, v := range values {
			v[i], v[j] = v[j], v[i]
		}
	}
	return horizontalBars("sparsity", "Zero weights per layer", "zeros (%)", rows, series, values)
}

package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/whittle-ml/whittle/ir/stats"
	"github.com/whittle-ml/whittle/onnx"
)

// Write renders the report as one self-contained HTML page: inline CSS and SVG, no script
// and nothing fetched, so it opens offline and can be mailed or attached to a review.
func (r *Report) Write(w io.Writer) error {
	trade, layers, sparsity, curves, err := r.figures()
	if err != nil {
		return err
	}
	all := append(append(append([]*Figure(nil), trade...), layers...), curves...)
	if sparsity != nil {
		all = append(all, sparsity)
	}
	fonts := hoistFonts(all)
	page := struct {
		*Report
		Trade, Layers, Curves []*Figure
		Sparsity              *Figure
		Fonts                 []template.CSS
	}{Report: r, Trade: trade, Layers: layers, Curves: curves, Sparsity: sparsity}
	for _, f := range fonts {
		page.Fonts = append(page.Fonts, template.CSS(f))
	}
	return pageTemplate.Execute(w, page)
}

// WriteFile writes the page to path through a temporary file, so a failure leaves no
// half-written report.
func (r *Report) WriteFile(path string) error {
	return onnx.WriteFileAtomic(path, r.Write)
}

var funcs = template.FuncMap{
	"bytes": stats.FormatBytes,
	"count": stats.FormatCount,
	"svg":   func(s string) template.HTML { return template.HTML(s) },
	"labels": func(l []string) string {
		b, _ := json.Marshal(l)
		return string(b)
	},
	"pct": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f%%", *p)
	},
	"db": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.1f dB", *p)
	},
	"ms": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmt.Sprintf("%.2f ms", *p)
	},
	"rel": func(base, v int64) string {
		if base == 0 || base == v {
			return ""
		}
		return fmt.Sprintf("%+.1f%%", 100*float64(v-base)/float64(base))
	},
	"sparsity": func(v *Variant) string {
		if v.Params == 0 {
			return "0%"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(v.Params-v.Nonzero)/float64(v.Params))
	},
	"join": strings.Join,
	"f1":   func(x float64) string { return fmt.Sprintf("%.1f", x) },
}

var pageTemplate = template.Must(template.New("page").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 8px; }
.meta { color: #666; margin-bottom: 16px; }
table { border-collapse: collapse; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.l { text-align: left; }
th { background: #f5f5f5; font-weight: 600; }
.delta { color: #888; font-size: 12px; margin-left: 4px; }
figure { margin: 12px 0; } figcaption { color: #555; font-size: 13px; }
figure.plot svg { max-width: 100%; height: auto; }
.graphs { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
.graphs > div { flex: 1 1 420px; overflow-x: auto; border: 1px solid #eee; border-radius: 6px; padding: 8px; }
.status-added { color: #2e7d32; } .status-removed { color: #c62828; } .status-changed { color: #ef6c00; }
.legend span { display: inline-block; padding: 0 8px; margin-right: 6px; border-radius: 4px; font-size: 12px; }
code { font-size: 12px; background: #f5f5f5; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
details summary { cursor: pointer; color: #1565c0; }
{{range .Fonts}}{{.}}
{{end}}</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">{{if .Tool}}{{.Tool}} · {{end}}measured on {{if .Data}}{{.Data}}{{else}}no data{{end}}</div>
{{range .Notes}}<p>{{.}}</p>{{end}}

<h2 id="summary">Models</h2>
{{$base := index .Variants 0}}
<table id="summary-table">
<tr><th>model</th><th>file</th><th>parameters</th><th>zeros</th><th>MACs / row</th><th>nodes</th><th>top-1</th><th>agreement</th><th>output SQNR</th><th>latency</th></tr>
{{range $i, $v := .Variants}}<tr>
<td class="l" title="{{$v.Path}}">{{$v.Name}}{{if eq $i 0}} <em>(base)</em>{{end}}</td>
<td>{{bytes $v.FileBytes}}<span class="delta">{{rel $base.FileBytes $v.FileBytes}}</span></td>
<td>{{count $v.Params}}<span class="delta">{{rel $base.Params $v.Params}}</span></td>
<td>{{sparsity $v}}</td>
<td>{{count $v.MACs}}<span class="delta">{{rel $base.MACs $v.MACs}}</span></td>
<td>{{$v.Nodes}}</td>
<td>{{pct $v.Top1}}</td><td>{{pct $v.Agreement}}</td><td>{{db $v.SQNR}}</td><td>{{ms $v.LatencyMS}}</td>
</tr>{{end}}
</table>

{{if .Trade}}<h2 id="tradeoffs">Quality, size and latency</h2>
{{range .Trade}}<figure class="plot" id="{{.ID}}" data-labels="{{labels .Labels}}">{{svg .SVG}}<figcaption>{{.Title}}</figcaption></figure>
{{end}}{{end}}

{{range $i, $v := .Variants}}{{if $v.Diff}}{{with $v.Diff}}
<h2 id="diff-{{$i}}">What changed: {{$base.Name}} → {{$v.Name}}</h2>
{{if .Pipelines}}<p>Pipelines recorded in the model: {{range .Pipelines}}<code>{{.}}</code> {{end}}</p>{{end}}
<p><span class="status-removed">{{.Summary.Removed}} removed</span>, <span class="status-added">{{.Summary.Added}} added</span>, <span class="status-changed">{{.Summary.Changed}} changed</span>{{if .Summary.Unexplained}}, {{.Summary.Unexplained}} unexplained by the change log{{end}}.
Nodes {{.Totals.Nodes.A}} → {{.Totals.Nodes.B}}, parameters {{count .Totals.Params.A}} → {{count .Totals.Params.B}}, bytes {{bytes .Totals.Bytes.A}} → {{bytes .Totals.Bytes.B}}, MACs {{count .Totals.MACs.A}} → {{count .Totals.MACs.B}}.</p>
{{if .ByPass}}<table class="bypass"><tr><th>pass</th><th>removed</th><th>added</th><th>changed</th></tr>
{{range .ByPass}}<tr><td class="l"><code>{{.Pass}}</code></td><td>{{.Removed}}</td><td>{{.Added}}</td><td>{{.Changed}}</td></tr>{{end}}</table>{{end}}
{{if or .Before.Nodes .After.Nodes}}
<h3>The changed region</h3>
<div class="legend"><span style="background:#ffebee;color:#c62828">removed</span><span style="background:#e8f5e9;color:#2e7d32">added</span><span style="background:#fff3e0;color:#ef6c00">changed</span><span style="background:#fafafa;color:#777">unchanged neighbour</span></div>
<div class="graphs">
{{if .Before.Nodes}}<div><b>before</b> ({{$base.Name}}){{if .Before.Hidden}}, {{.Before.Hidden}} more changed nodes not drawn{{end}}<br>{{svg .Before.SVG}}</div>{{end}}
{{if .After.Nodes}}<div><b>after</b> ({{$v.Name}}){{if .After.Hidden}}, {{.After.Hidden}} more changed nodes not drawn{{end}}<br>{{svg .After.SVG}}</div>{{end}}
</div>{{end}}
{{if .Changes}}<details><summary>Change log: {{len .Changes}} differences{{if .More}} (and {{.More}} more){{end}}</summary>
<table class="changes"><tr><th>status</th><th>kind</th><th>name</th><th>op</th><th>detail</th><th>by</th></tr>
{{range .Changes}}<tr><td class="l status-{{.Status}}">{{.Status}}</td><td class="l">{{.Kind}}</td><td class="l"><code>{{.Name}}</code></td><td class="l">{{.Op}}</td><td class="l">{{.Detail}}</td><td class="l">{{.By}}</td></tr>{{end}}
</table></details>{{end}}
{{end}}{{end}}{{end}}

{{if .Layers}}<h2 id="layers">Where error enters, layer by layer</h2>
<p>Each variant's intermediate tensors compared with the base's on the same rows; a bar is the SQNR a layer loses relative to its inputs (<code>whittle compare --per-layer</code>).</p>
{{range .Layers}}<figure class="plot" id="{{.ID}}" data-labels="{{labels .Labels}}">{{svg .SVG}}<figcaption>{{.Title}}</figcaption></figure>
{{end}}{{end}}

{{if .Sparsity}}<h2 id="sparsity">Sparsity per layer</h2>
{{with .Sparsity}}<figure class="plot" id="{{.ID}}" data-labels="{{labels .Labels}}">{{svg .SVG}}<figcaption>{{.Title}}</figcaption></figure>{{end}}{{end}}

{{if .Curves}}<h2 id="training">Training</h2>
{{range .Curves}}<figure class="plot" id="{{.ID}}" data-labels="{{labels .Labels}}">{{svg .SVG}}<figcaption>{{.Title}}</figcaption></figure>
{{end}}{{end}}
</body>
</html>
`))

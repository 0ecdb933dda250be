package irdiff

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/whittle-ml/whittle/ir/stats"
)

// TextOptions tune WriteText.
type TextOptions struct {
	// Color marks removals red, additions green and changes yellow with ANSI escapes.
	Color bool
}

// ANSI colours of the text form.
const (
	ansiReset   = "\x1b[0m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiCyan    = "\x1b[36m"
	ansiGrey    = "\x1b[90m"
	ansiBold    = "\x1b[1m"
	ansiMagenta = "\x1b[1;35m"
)

// maxNameWidth caps the name column, so that one long name does not push every line.
const maxNameWidth = 32

// WriteText renders the diff for people: a header naming both models and B's pipeline,
// then, per graph, the inputs, outputs, initializers and nodes that differ, each marked
// "-" (removed), "+" (added), "~" (changed) or "=" (unchanged, with Options.All) and
// followed by the passes that explain it, then the totals.
func (d *Diff) WriteText(w io.Writer, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	t := &textWriter{w: bw, color: opts.Color, changelog: d.HasChangelog}
	t.header(d)
	if d.Equal {
		t.line(0, "no differences")
		return bw.Flush()
	}
	t.line(0, t.summary(d.Summary))
	if len(d.Model) > 0 {
		t.line(0, "")
		t.line(0, "model:")
		for _, f := range d.Model {
			t.line(1, t.paint(ansiYellow, "~ "+f.Field+": "+orNone(f.Old)+" -> "+orNone(f.New)))
		}
	}
	t.graph(d.Graph, 0, true)
	t.totals(d.Totals)
	if len(d.UnmatchedChanges) > 0 {
		t.line(0, "")
		t.line(0, fmt.Sprintf("change log entries with no visible difference (%d):", len(d.UnmatchedChanges)))
		for _, c := range d.UnmatchedChanges {
			t.line(1, t.paint(ansiGrey, describeEntry(c)))
		}
	}
	return bw.Flush()
}

type textWriter struct {
	w         *bufio.Writer
	color     bool
	changelog bool
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *textWriter) line(indent int, s string) {
	t.w.WriteString(strings.Repeat("  ", indent))
	t.w.WriteString(s)
	t.w.WriteByte('\n')
}

func (t *textWriter) header(d *Diff) {
	describe := func(m ModelInfo) string {
		s := fmt.Sprintf("ir %d, %s", m.IRVersion, strings.Join(m.Opsets, ", "))
		if m.Producer != "" {
			s += ", producer " + m.Producer
		}
		return s
	}
	t.line(0, t.paint(ansiBold+ansiRed, "--- "+orDefault(d.A.Label, "a"))+"  "+t.paint(ansiGrey, describe(d.A)))
	t.line(0, t.paint(ansiBold+ansiGreen, "+++ "+orDefault(d.B.Label, "b"))+"  "+t.paint(ansiGrey, describe(d.B)))
	for _, p := range d.Pipelines {
		t.line(0, "pipeline: "+t.paint(ansiCyan, p))
	}
	if d.HasChangelog && d.ChangelogTruncated > 0 {
		t.line(0, fmt.Sprintf("change log truncated: %d entries left out", d.ChangelogTruncated))
	}
	for _, warn := range d.Warnings {
		t.line(0, t.paint(ansiMagenta, "warning: "+warn))
	}
}

func (t *textWriter) summary(s Summary) string {
	var parts []string
	for _, p := range []struct {
		n     int
		label string
	}{{s.Added, "added"}, {s.Removed, "removed"}, {s.Changed, "changed"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.label))
		}
	}
	out := strings.Join(parts, ", ")
	if out == "" {
		out = "no graph differences"
	}
	if t.changelog {
		out += fmt.Sprintf("; %d unexplained", s.Unexplained)
	}
	return out
}

// mark returns the status's marker and colour.
func mark(s Status) (string, string) {
	switch s {
	case Added:
		return "+", ansiGreen
	case Removed:
		return "-", ansiRed
	case Changed:
		return "~", ansiYellow
	}
	return "=", ansiGrey
}

// explanation renders "by pass, pass" or the unexplained marker.
func (t *textWriter) explanation(e Explanation) string {
	switch {
	case len(e.By) > 0:
		return "  " + t.paint(ansiCyan, "by "+strings.Join(e.By, ", "))
	case e.Unexplained && t.changelog:
		return "  " + t.paint(ansiMagenta, "(unexplained)")
	}
	return ""
}

// entry writes one item line: marker, name padded to width, details, explanation.
func (t *textWriter) entry(indent int, s Status, name string, width int, detail string, e Explanation) {
	m, code := mark(s)
	text := m + " " + pad(name, width)
	if detail != "" {
		text += "  " + detail
	}
	t.line(indent, t.paint(code, strings.TrimRight(text, " "))+t.explanation(e))
}

func (t *textWriter) graph(gd *GraphDiff, indent int, main bool) {
	if !main {
		title := gd.Attribute + " " + strconv.Quote(gd.Name)
		if gd.OldName != "" {
			title += " (was " + strconv.Quote(gd.OldName) + ")"
		}
		t.line(indent, title+":")
		indent++
	}
	if len(gd.Inputs) > 0 {
		t.section(indent, main, "inputs:")
		t.values(indent+1, gd.Inputs)
	}
	if len(gd.Outputs) > 0 {
		t.section(indent, main, "outputs:")
		t.values(indent+1, gd.Outputs)
	}
	if len(gd.Initializers) > 0 {
		t.section(indent, main, "initializers:")
		width := 0
		for _, id := range gd.Initializers {
			width = max(width, len(renamed(id.Name, id.OldName)))
		}
		for _, id := range gd.Initializers {
			t.entry(indent+1, id.Status, renamed(id.Name, id.OldName), width, initializerDetail(id), id.Explanation)
		}
	}
	if len(gd.Nodes) > 0 {
		t.section(indent, main, "nodes:")
		width, opWidth := 0, 0
		for _, nd := range gd.Nodes {
			width = max(width, len(renamed(nd.Name, nd.OldName)))
			opWidth = max(opWidth, len(renamed(nd.Op, nd.OldOp)))
		}
		for _, nd := range gd.Nodes {
			t.entry(indent+1, nd.Status, renamed(nd.Name, nd.OldName), width, pad(renamed(nd.Op, nd.OldOp), opWidth), nd.Explanation)
			t.nodeDetails(indent+3, nd)
		}
	}
}

// section writes a section title; the main graph's sections are set apart by a blank line.
func (t *textWriter) section(indent int, main bool, title string) {
	if main {
		t.line(0, "")
	}
	t.line(indent, title)
}

func (t *textWriter) values(indent int, vs []ValueDiff) {
	width := 0
	for _, v := range vs {
		width = max(width, len(renamed(v.Name, v.OldName)))
	}
	for _, v := range vs {
		var detail string
		switch {
		case v.Status == Added:
			detail = v.NewType
		case v.Status == Removed:
			detail = v.OldType
		case v.OldType != "" && v.OldType != v.NewType:
			detail = v.OldType + " -> " + v.NewType
		default:
			detail = v.NewType
		}
		if v.OldSource != "" {
			detail += ", now from " + v.NewSource + " (was " + v.OldSource + ")"
		}
		t.entry(indent, v.Status, renamed(v.Name, v.OldName), width, detail, v.Explanation)
	}
}

func (t *textWriter) nodeDetails(indent int, nd NodeDiff) {
	detail := func(s string) { t.line(indent, t.paint(ansiYellow, s)) }
	for _, a := range nd.Attributes {
		switch a.Status {
		case Added:
			detail("attr " + a.Name + ": added " + a.New)
		case Removed:
			detail("attr " + a.Name + ": removed (was " + a.Old + ")")
		default:
			detail("attr " + a.Name + ": " + a.Old + " -> " + a.New)
		}
	}
	for _, in := range nd.Inputs {
		line := fmt.Sprintf("input %d: %s -> %s", in.Index, orNone(in.Old), orNone(in.New))
		if in.OldSource != "" {
			line += " (was " + in.OldSource + ", now " + in.NewSource + ")"
		}
		detail(line)
	}
	for _, out := range nd.Outputs {
		detail(fmt.Sprintf("output %d: %s -> %s", out.Index, orNone(out.Old), orNone(out.New)))
	}
	for _, gd := range nd.Subgraphs {
		t.graph(gd, indent, false)
	}
}

func initializerDetail(id InitializerDiff) string {
	var parts []string
	switch id.Status {
	case Added:
		parts = append(parts, id.NewType)
		if id.NewSparsity != nil && *id.NewSparsity > 0 {
			parts = append(parts, "sparsity "+percent(*id.NewSparsity))
		}
		return strings.Join(parts, ", ")
	case Removed:
		return id.OldType
	}
	if id.OldType != "" && id.OldType != id.NewType {
		parts = append(parts, id.OldType+" -> "+id.NewType)
	} else {
		parts = append(parts, id.NewType)
	}
	if !id.DataChanged {
		return strings.Join(append(parts, "data unchanged"), ", ")
	}
	if id.OldSparsity != nil && id.NewSparsity != nil && *id.OldSparsity != *id.NewSparsity {
		parts = append(parts, "sparsity "+percent(*id.OldSparsity)+" -> "+percent(*id.NewSparsity))
	}
	if id.MaxAbsDelta != nil {
		parts = append(parts, "max|Δ| "+strconv.FormatFloat(*id.MaxAbsDelta, 'g', 4, 64))
	}
	if id.RelL2 != nil {
		parts = append(parts, "rel L2 "+strconv.FormatFloat(*id.RelL2, 'g', 4, 64))
	}
	if id.MaxAbsDelta == nil && id.RelL2 == nil {
		parts = append(parts, "data changed")
	}
	return strings.Join(parts, ", ")
}

func (t *textWriter) totals(tt Totals) {
	t.line(0, "")
	t.line(0, "totals:")
	row := func(label string, c Count, format func(int64) string, note string) {
		s := fmt.Sprintf("%-7s %s", label, format(c.A))
		if c.Delta != 0 {
			s += " -> " + format(c.B) + " (" + signed(c.Delta, format)
			if c.A != 0 {
				s += fmt.Sprintf(", %+.1f%%", 100*float64(c.Delta)/float64(c.A))
			}
			s += ")"
		}
		t.line(1, s+note)
	}
	row("nodes", tt.Nodes, itoa, "")
	row("params", tt.Params, itoa, "")
	row("bytes", tt.Bytes, stats.FormatBytes, "")
	note := ""
	if !tt.MACsComplete[0] || !tt.MACsComplete[1] {
		note = " (some layers' shapes unknown)"
	}
	row("MACs", tt.MACs, itoa, note)
	if len(tt.Ops) > 0 {
		parts := make([]string, len(tt.Ops))
		for i, o := range tt.Ops {
			if o.Delta == 0 {
				parts[i] = fmt.Sprintf("%s =%d", o.Op, o.B)
			} else {
				parts[i] = fmt.Sprintf("%s %+d", o.Op, o.Delta)
			}
		}
		t.line(1, "ops     "+strings.Join(parts, ", "))
	}
}

func describeEntry(c ChangeEntry) string {
	s := c.Pass + ": " + string(c.Kind)
	if c.Node != "" {
		s += " node " + c.Node
	}
	if c.Op != "" {
		s += " (" + c.Op + ")"
	}
	if c.Value != "" {
		s += " value " + c.Value
	}
	if c.From != "" || c.To != "" {
		s += " " + orNone(c.From) + " -> " + orNone(c.To)
	}
	if c.Detail != "" {
		s += ": " + c.Detail
	}
	return s
}

func renamed(name, old string) string {
	if old == "" {
		return name
	}
	return name + " (was " + old + ")"
}

func pad(s string, width int) string {
	width = min(width, maxNameWidth)
	if n := len([]rune(s)); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func percent(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func signed(n int64, format func(int64) string) string {
	if n < 0 {
		return "-" + format(-n)
	}
	return "+" + format(n)
}

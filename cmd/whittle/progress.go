package main

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
)

// progress draws a bar on stderr when it is a terminal, and prints lines through it so
// they do not tear the bar; elsewhere it only prints the lines.
type progress struct {
	bar *progressbar.ProgressBar
	out io.Writer
}

func newProgress(e *env, total int, what string) *progress {
	p := &progress{out: e.stdout}
	if e.stderrTerminal && total > 1 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(e.stderr),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100_000_000),
		)
	}
	return p
}

// Add advances the bar by n.
func (p *progress) Add(n int) {
	if p.bar != nil {
		p.bar.Add(n)
	}
}

// Println prints a line to stdout without tearing the bar.
func (p *progress) Println(line string) {
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintln(p.out, line)
}

// Finish removes the bar.
func (p *progress) Finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

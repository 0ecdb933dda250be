package main

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
	"github.com/whittle-ml/whittle"
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

// progressFunc returns a library progress callback that draws one bar per stage on a
// terminal, and a function that removes the last bar. Messages (the budget search) go to
// stderr, every fifth one off a terminal.
func (e *env) progressFunc() (report func(whittle.Progress), finish func()) {
	var bar *progress
	stage, done, messages := "", 0, 0
	finish = func() {
		if bar != nil {
			bar.Finish()
			bar = nil
		}
	}
	report = func(p whittle.Progress) {
		if p.Message != "" {
			messages++
			if e.stderrTerminal || messages%5 == 1 {
				fmt.Fprintf(e.stderr, "%s: %s\n", p.Stage, p.Message)
			}
			return
		}
		if bar == nil || p.Stage != stage {
			finish()
			bar, stage, done = newProgress(e, p.Total, p.Stage), p.Stage, 0
		}
		bar.Add(p.Done - done)
		done = p.Done
	}
	return report, finish
}

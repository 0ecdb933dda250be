package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/whittle-ml/whittle/internal/testenv"
)

// ScreenshotEnv names a PNG file the browser test writes a full-page screenshot of the
// report to (how docs/report-prune-quantize.png is made).
const screenshotEnv = "WHITTLE_REPORT_SCREENSHOT"

// TestReportPruneQuantizeInChromium prunes and quantizes the trained CNN, writes the HTML
// report of the three models, and opens it in Debian's headless Chromium: the page must
// log no console error or exception, every plot must be drawn with a real size and show
// every label of its data, and every changed-region drawing must hold the boxes it
// announces.
func TestReportPruneQuantizeInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		testenv.Skipf(t, "Debian's chromium is not installed (scripts/install-test-deps installs it)")
	}
	if _, err := os.Stat(filepath.Join(os.Getenv("WHITTLE_FASHION_MNIST"), "t10k-labels-idx1-ubyte.gz")); err != nil {
		if _, err := os.Stat("/usr/share/datasets/fashion-mnist"); err != nil && os.Getenv("WHITTLE_FASHION_MNIST") == "" {
			testenv.Skipf(t, "Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
		}
	}
	root, _ := testenv.RepoRoot()
	dir := t.TempDir()
	base := filepath.Join(root, "testmodels", "fashion_cnn_op17.onnx")
	pruned, quant, page := filepath.Join(dir, "cnn.pruned.onnx"), filepath.Join(dir, "cnn.pruned.int8.onnx"), filepath.Join(dir, "report.html")
	for _, args := range [][]string{
		{"prune", base, "-o", pruned, "--sparsity", "0.5", "--scope", "global"},
		{"quantize", pruned, "-o", quant, "--calibration", "fashion-mnist:train:64"},
		{"report", base, pruned, quant, "--data", "fashion-mnist:test:100", "--runs", "3", "-o", page, "--title", "Fashion-MNIST CNN: prune 50% → int8"},
	} {
		if code, stdout, stderr := run(t, args...); code != 0 {
			t.Fatalf("whittle %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
		}
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1200, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *cdpruntime.EventConsoleAPICalled:
			if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeWarning {
				problems = append(problems, "console "+string(ev.Type))
			}
		case *cdpruntime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.EntryLevelError {
				problems = append(problems, "log: "+ev.Entry.Text)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	type plotCheck struct {
		ID      string   `json:"id"`
		W       float64  `json:"w"`
		H       float64  `json:"h"`
		Marks   int      `json:"marks"`
		Labels  int      `json:"labels"`
		Missing []string `json:"missing"`
	}
	type graphCheck struct {
		ID    string `json:"id"`
		Want  int    `json:"want"`
		Boxes int    `json:"boxes"`
		W     float64
	}
	var plots []plotCheck
	var graphs []graphCheck
	var buf []byte
	const plotJS = `Array.from(document.querySelectorAll('figure.plot')).map(f => {
		const svg = f.querySelector('svg'); const r = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
		const text = svg ? Array.from(svg.querySelectorAll('text')).map(t => t.textContent).join('\n') : '';
		const labels = JSON.parse(f.dataset.labels);
		return {id: f.id, w: r.width, h: r.height, marks: svg ? svg.querySelectorAll('path,circle,rect,polygon').length : 0,
			labels: labels.length, missing: labels.filter(l => !text.includes(l))};
	})`
	const graphJS = `Array.from(document.querySelectorAll('svg.graph')).map(s => ({id: s.id, want: +s.dataset.nodes,
		boxes: s.querySelectorAll('g.node rect').length, w: s.getBoundingClientRect().width}))`
	tctx, tcancel := context.WithTimeout(ctx, 90*time.Second)
	defer tcancel()
	err = chromedp.Do(tctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			if _, err := chromedp.Call(ctx, cdpruntime.Enable, cdp.Empty{}); err != nil {
				return err
			}
			_, err := chromedp.Call(ctx, cdplog.Enable, cdp.Empty{})
			return err
		}),
		chromedp.Navigate("file://"+page),
		chromedp.WaitReady(chromedp.CSS("body")),
	)
	if err == nil {
		plots, err = chromedp.Run(tctx, chromedp.Evaluate[[]plotCheck](plotJS))
	}
	if err == nil {
		graphs, err = chromedp.Run(tctx, chromedp.Evaluate[[]graphCheck](graphJS))
	}
	if err == nil {
		buf, err = chromedp.Run(tctx, chromedp.FullScreenshot(75))
	}
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("the page logged: %s", strings.Join(problems, "; "))
	}
	// Quality against size and latency, error per layer for both variants, sparsity.
	if len(plots) != 5 {
		b, _ := json.Marshal(plots)
		t.Errorf("%d plots, want 5: %s", len(plots), b)
	}
	for _, p := range plots {
		if p.W < 200 || p.H < 100 || p.Marks < 10 || p.Labels == 0 || len(p.Missing) > 0 {
			t.Errorf("plot %s: %.0fx%.0f px, %d marks, %d labels, missing %q", p.ID, p.W, p.H, p.Marks, p.Labels, p.Missing)
		}
	}
	if len(graphs) != 4 {
		t.Errorf("%d changed-region drawings, want 4 (before and after for each variant)", len(graphs))
	}
	for _, g := range graphs {
		if g.Want == 0 || g.Boxes != g.Want || g.W < 100 {
			t.Errorf("drawing %s: %d boxes drawn of %d, %.0f px wide", g.ID, g.Boxes, g.Want, g.W)
		}
	}
	if path := os.Getenv(screenshotEnv); path != "" {
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d plots and %d drawings rendered; page %s", len(plots), len(graphs), page)
}

// TestReportFlagWritesHTML checks that --report FILE.html on optimize, prune, quantize and
// compare writes the page for the command's input and output, and that a JSON path
// still gets JSON.
func TestReportFlagWritesHTML(t *testing.T) {
	root, _ := testenv.RepoRoot()
	mlp := filepath.Join(root, "testmodels", "fashion_mlp_op17.onnx")
	dir := t.TempDir()
	calib := filepath.Join(dir, "calib")
	writeImageCrops(t, calib, 1, 4)
	pruned := filepath.Join(dir, "p.onnx")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"optimize", []string{"optimize", mlp, "-o", filepath.Join(dir, "o.onnx")}},
		{"prune", []string{"prune", mlp, "-o", pruned, "--sparsity", "0.5"}},
		{"quantize", []string{"quantize", mlp, "-o", filepath.Join(dir, "q.onnx"), "--calibration", "images:" + calib, "--preprocess", "resize=28x28,channels=gray"}},
		{"compare", []string{"compare", mlp, pruned}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := filepath.Join(dir, tc.name+".html")
			args := append(tc.args, "--report", page)
			if code, stdout, stderr := run(t, args...); code != 0 {
				t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
			}
			b, err := os.ReadFile(page)
			if err != nil {
				t.Fatal(err)
			}
			html := string(b)
			for _, want := range []string{"<!DOCTYPE html>", `<figure class="plot" id="tradeoff-size"`, `id="summary-table"`, filepath.Base(mlp)} {
				if !strings.Contains(html, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			if tc.name != "compare" && !strings.Contains(html, "What changed") {
				t.Errorf("the page has no diff section")
			}
		})
	}
	jsonPath := filepath.Join(dir, "prune.json")
	if code, _, stderr := run(t, "prune", mlp, "-o", filepath.Join(dir, "p2.onnx"), "--sparsity", "0.5", "--report", jsonPath); code != 0 {
		t.Fatalf("prune --report json: %s", stderr)
	}
	var v map[string]any
	if b, err := os.ReadFile(jsonPath); err != nil || json.Unmarshal(b, &v) != nil {
		t.Fatalf("--report FILE.json is not JSON: %v", err)
	}
	if code, _, _ := run(t, "compare", mlp, pruned, "--report", filepath.Join(dir, "c.json")); code != exitUsage {
		t.Errorf("compare --report with a non-HTML name: exit %d, want %d", code, exitUsage)
	}
}

package whittle_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEShowsTheExample keeps the README's library example honest: its Go block must
// be, line for line, the body of Example (between the README markers), which go test runs.
func TestREADMEShowsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "## Using whittle from Go")
	if !ok {
		t.Fatal("README has no section \"Using whittle from Go\"")
	}
	_, block, ok := strings.Cut(section, "```go\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("the section has no ```go block")
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := strings.Cut(string(src), "// README begin\n")
	body, _, ok = strings.Cut(body, "// README end")
	if !ok {
		t.Fatal("example_test.go has no README markers")
	}
	want := lines(body)
	got := lines(block)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README block:\n%s\nExample body:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(got) > 12 {
		t.Errorf("the README example has %d lines; keep it short", len(got))
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

package distill

import (
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in   string
		want string // String() of the result
		err  string
	}{
		{in: "auto:macs=0.25", want: "auto:macs=0.25"},
		{in: "auto:width=0.5,attention=heads", want: "auto:attention=heads:width=0.5"},
		{in: "auto:params=0.3:norm=l2", want: "auto:norm=l2:params=0.3"},
		{in: "lowrank:rank=16", want: "lowrank:rank=16"},
		{in: "lowrank:energy=0.9", want: "lowrank:energy=0.9"},
		{in: "lowrank", want: "lowrank"},
		{in: "students/small.onnx", want: "students/small.onnx"},
		{in: "block:/a/x..b/y=auto:width=0.5", want: "block:/a/x..b/y=auto:width=0.5"},
		{in: "block:a..b=lowrank:rank=4; c..d=s.onnx", want: "block:a..b=lowrank:rank=4;c..d=s.onnx"},
		{in: "", err: "empty"},
		{in: "auto", err: "exactly one of macs="},
		{in: "auto:macs=0.25:width=0.5", err: "exactly one"},
		{in: "auto:macs=1.5", err: "in (0, 1]"},
		{in: "auto:macs=x", err: "in (0, 1]"},
		{in: "auto:depth=2", err: `no parameter "depth"`},
		{in: "auto:attention=all:width=0.5", err: "want dims, heads or keep"},
		{in: "lowrank:rank=0", err: "positive integer"},
		{in: "lowrank:rank=4:energy=0.5", err: "one of rank="},
		{in: "lowrank:rank", err: "not key=value"},
		{in: "block:a=auto:width=0.5", err: "not FROM..TO=KIND"},
		{in: "block:a..b=block:c..d=auto:width=0.5", err: "cannot be blocks"},
		{in: "block:", err: "no block"},
		{in: "tiny", err: "want auto:"},
	}
	for _, tc := range tests {
		s, err := ParseSpec(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got := s.String(); got != tc.want {
			t.Errorf("%q parses to %q, want %q", tc.in, got, tc.want)
		}
		// What String writes, ParseSpec reads back the same.
		if again, err := ParseSpec(s.String()); err != nil || again.String() != s.String() {
			t.Errorf("%q: round trip gives %q, %v", tc.in, again.String(), err)
		}
	}
}

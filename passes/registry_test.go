package passes

import (
	"strings"
	"testing"
)

func TestParsePipeline(t *testing.T) {
	tests := []struct {
		in      string
		want    string // Pipeline.String of the result
		wantErr string
	}{
		{in: "fold_constants,eliminate_dead", want: "fold_constants,eliminate_dead"},
		{in: " fold_constants:max_bytes=100 , eliminate_dead", want: "fold_constants:max_bytes=100,eliminate_dead"},
		{in: "fold_constant", wantErr: `unknown pass "fold_constant" (valid passes: constants_to_initializers, convert_opset, dedup_initializers, distill, eliminate_common_subexpressions`},
		{in: "fold_constants:limit=3", wantErr: `pass fold_constants: unknown parameter "limit" (valid: max_bytes)`},
		{in: "eliminate_dead:x=1", wantErr: `unknown parameter "x" (it takes none)`},
		{in: "fold_constants:max_bytes=lots", wantErr: `max_bytes="lots" is not an integer`},
		{in: "fold_constants:max_bytes", wantErr: `is not key=value`},
		{in: "fold_constants:max_bytes=1:max_bytes=2", wantErr: "given twice"},
		{in: " , ", wantErr: "empty pipeline"},
	}
	for _, tc := range tests {
		p, err := ParsePipeline(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParsePipeline(%q) error = %v, want it to contain %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParsePipeline(%q): %v", tc.in, err)
			continue
		}
		if got := p.String(); got != tc.want {
			t.Errorf("ParsePipeline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseRecipe(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{name: "yaml", in: "- pass: fold_constants\n  params: {max_bytes: 4096}\n- pass: eliminate_dead\n",
			want: "fold_constants:max_bytes=4096,eliminate_dead"},
		{name: "json", in: `[{"pass": "eliminate_identity"}, {"pass": "fold_constants", "params": {"max_bytes": 10}}]`,
			want: "eliminate_identity,fold_constants:max_bytes=10"},
		{name: "unknown field", in: "- pass: eliminate_dead\n  parms: {}\n", wantErr: "field parms not found"},
		{name: "unknown pass", in: "- pass: nope\n", wantErr: `unknown pass "nope"`},
		{name: "nested value", in: "- pass: fold_constants\n  params: {max_bytes: [1, 2]}\n", wantErr: "must be a single value"},
		{name: "empty", in: "[]", wantErr: "lists no pass"},
		{name: "history", in: `[{"whittle_version":"(devel)","pipeline":[{"pass":"eliminate_dead"}]},{"pipeline":[{"pass":"prune","params":{"sparsity":"0.5"}}]}]`,
			want: "eliminate_dead ; prune:sparsity=0.5"},
		{name: "yaml stages", in: "- pipeline:\n  - pass: eliminate_dead\n- pipeline:\n  - pass: fold_constants\n",
			want: "eliminate_dead ; fold_constants"},
		{name: "mixed", in: `[{"pipeline":[{"pass":"eliminate_dead"}]},{"pass":"fold_constants"}]`, wantErr: "entries only"},
		{name: "bad stage", in: `[{"pipeline":[{"pass":"nope"}]}]`, wantErr: `unknown pass "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseRecipe([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDefaultPipelineIsRegistered(t *testing.T) {
	if err := Default().Check(); err != nil {
		t.Fatal(err)
	}
	for _, info := range All() {
		if info.Doc == "" {
			t.Errorf("pass %s has no doc", info.Name)
		}
		if info.Lossy {
			for _, st := range Default() {
				if st.Pass == info.Name {
					t.Errorf("lossy pass %s is in the default pipeline", info.Name)
				}
			}
		}
	}
}

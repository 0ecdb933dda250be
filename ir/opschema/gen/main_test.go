package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/internal/testenv"
)

// TestGeneratedFileUpToDate regenerates the table and compares it with the committed
// schemas_gen.go, so an edit to the generator or Operators.md without `go generate` fails.
func TestGeneratedFileUpToDate(t *testing.T) {
	f, err := os.Open("../../../../shared/reference/Operators.md")
	if err != nil {
		testenv.Skipf(t, "Operators.md not available: %v", err)
	}
	defer f.Close()
	ops, err := parse(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := render(ops)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../schemas_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("schemas_gen.go is stale: run go generate ./ir/opschema")
	}
}

func TestParseRejectsUnknownAttributeType(t *testing.T) {
	doc := "## ai.onnx (default)\n### <a name=\"Foo\"></a><a name=\"foo\">**Foo**</a>\n#### Version\n\n" +
		"This version of the operator has been available since version 3 of the default ONNX operator set.\n\n" +
		"#### Attributes\n\n<dl>\n<dt><tt>x</tt> : complex</dt>\n</dl>\n"
	if _, err := parse(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), "unknown attribute type") {
		t.Errorf("parse error = %v, want unknown attribute type", err)
	}
}

func TestParseSmallDoc(t *testing.T) {
	doc := "## ai.onnx (default)\n### <a name=\"Foo\"></a><a name=\"foo\">**Foo**</a>\n#### Version\n\n" +
		"This version of the operator has been available since version 3 of the default ONNX operator set.\n\n" +
		"Other versions of this operator: <a href=\"Changelog.md#Foo-1\">1</a>\n\n" +
		"#### Attributes\n\n<dl>\n<dt><tt>k</tt> : list of ints (required)</dt>\n<dt><tt>m</tt> : string (default is a b)</dt>\n</dl>\n" +
		"#### Inputs (1 - &#8734;)\n\n<dl>\n<dt><tt>x</tt> (variadic, differentiable) : T</dt>\n</dl>\n" +
		"#### Outputs\n\n<dl>\n<dt><tt>y</tt> : tensor(int64)</dt>\n</dl>\n" +
		"#### Type Constraints\n\n<dl>\n<dt><tt>T</tt> : tensor(float), map(int64, tensor(float))</dt>\n</dl>\n"
	ops, err := parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 1 {
		t.Fatalf("got %d ops", len(ops))
	}
	o := ops[0]
	if o.since != 3 || len(o.versions) != 2 || o.versions[0] != 1 {
		t.Errorf("versions = %v since %d", o.versions, o.since)
	}
	if len(o.attrs) != 2 || !o.attrs[0].required || o.attrs[0].typ != "ir.AttrInts" || o.attrs[1].def != "a b" {
		t.Errorf("attrs = %+v", o.attrs)
	}
	if o.minIn != 1 || o.maxIn != unbounded || !o.inputs[0].variadic || o.minOut != 1 || o.maxOut != 1 {
		t.Errorf("counts = %d-%d / %d-%d", o.minIn, o.maxIn, o.minOut, o.maxOut)
	}
	if got := o.constraints[0].allowed; len(got) != 2 || got[1] != "map(int64, tensor(float))" {
		t.Errorf("constraint = %q", got)
	}
}

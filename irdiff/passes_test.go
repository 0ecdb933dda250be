package irdiff

import (
	"bytes"
	"testing"

	"github.com/whittle-ml/whittle/passes"
)

// TestExplainsRealPipeline runs whittle's own passes and checks that the change log they
// record explains every difference the diff finds.
func TestExplainsRealPipeline(t *testing.T) {
	a := buildNet(t, baseSpec())
	b := a.Clone()
	p, err := passes.ParsePipeline("fuse_bn_into_conv,eliminate_identity,eliminate_dead")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(&passes.Context{VerifyEach: true, ToolVersion: "test"}, b, p); err != nil {
		t.Fatal(err)
	}
	d, err := Compare(a, b, Options{LabelA: "a.onnx", LabelB: "b.onnx"})
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := d.WriteText(&text, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
	if !d.HasChangelog || len(d.Pipelines) != 1 || d.Pipelines[0] != "fuse_bn_into_conv,eliminate_identity,eliminate_dead (whittle test)" {
		t.Errorf("changelog %v, pipelines %q", d.HasChangelog, d.Pipelines)
	}
	if d.Summary.Unexplained != 0 {
		t.Errorf("%d differences unexplained", d.Summary.Unexplained)
	}
	if bn := findNode(t, d.Graph, "bn"); bn.Status != Removed || !equalStrings(bn.By, []string{"fuse_bn_into_conv"}) {
		t.Errorf("bn: %+v", bn)
	}
	if v := findInit(t, d.Graph, "bn.var"); v.Status != Removed || !equalStrings(v.By, []string{"eliminate_dead"}) {
		t.Errorf("bn.var: %+v", v)
	}
	if y := d.Graph.Outputs; len(y) != 1 || !equalStrings(y[0].By, []string{"eliminate_identity"}) {
		t.Errorf("output Y: %+v", y)
	}
	if len(d.UnmatchedChanges) != 0 {
		t.Errorf("log entries explaining nothing: %+v", d.UnmatchedChanges)
	}
}

package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
)

// TestIRRoundTripBackendModels converts every backend-test model to the IR and back twice:
// proto -> ir -> proto must reach a fixed point (ir -> proto -> ir is the identity), and
// every model must convert.
func TestIRRoundTripBackendModels(t *testing.T) {
	root := testenv.ONNXTestsDir(t)
	var paths []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "model.onnx" {
			paths = append(paths, p)
		}
		return nil
	})
	if len(paths) == 0 {
		t.Fatalf("no model.onnx under %s", root)
	}
	converted := 0
	for _, p := range paths {
		rel := strings.TrimPrefix(p, root+"/")
		pm, err := ReadFile(p)
		if err != nil {
			t.Errorf("%s: read: %v", rel, err)
			continue
		}
		m1, err := ToIR(pm)
		if err != nil {
			t.Errorf("%s: to IR: %v", rel, err)
			continue
		}
		if err := m1.Verify(); err != nil {
			t.Errorf("%s: Verify: %v", rel, err)
			continue
		}
		if c := m1.Clone(); ir.Format(c) != ir.Format(m1) || c.Verify() != nil {
			t.Errorf("%s: Clone differs from the original or does not verify", rel)
			continue
		}
		p1, err := FromIR(m1)
		if err != nil {
			t.Errorf("%s: from IR: %v", rel, err)
			continue
		}
		m2, err := ToIR(p1)
		if err != nil {
			t.Errorf("%s: to IR again: %v", rel, err)
			continue
		}
		p2, err := FromIR(m2)
		if err != nil {
			t.Errorf("%s: from IR again: %v", rel, err)
			continue
		}
		if !proto.Equal(p1, p2) || ir.Format(m1) != ir.Format(m2) {
			t.Errorf("%s: ir -> proto -> ir is not the identity", rel)
			continue
		}
		converted++
	}
	t.Logf("converted %d of %d models to the IR and back", converted, len(paths))
}

package checker

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// knownOfficialProblems lists backend-test models the checker rejects although onnx's
// checker accepts them, each with the reason; keep it short and justified.
var knownOfficialProblems = map[string]string{}

// TestOfficialModels runs CheckModel over every model.onnx of the ONNX backend tests.
// They are valid by definition, so any problem is a checker bug unless listed above.
func TestOfficialModels(t *testing.T) {
	root := testenv.ONNXTestsDir(t)
	var files []string
	for _, suite := range []string{"node", "pytorch-converted", "simple"} {
		matches, err := filepath.Glob(filepath.Join(root, suite, "*", "model.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 1000 {
		t.Fatalf("found only %d models under %s", len(files), root)
	}
	sort.Strings(files)
	failing, listedSeen := 0, map[string]bool{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := &onnxpb.ModelProto{}
		if err := proto.Unmarshal(data, m); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		problems := CheckModel(m, Options{ModelDir: filepath.Dir(file), FullCheck: true})
		if len(problems) == 0 {
			continue
		}
		failing++
		rel, _ := filepath.Rel(root, filepath.Dir(file))
		if _, ok := knownOfficialProblems[rel]; ok {
			listedSeen[rel] = true
			continue
		}
		var msgs []string
		for _, p := range problems {
			msgs = append(msgs, p.Error())
		}
		t.Errorf("%s: %d problems:\n  %s", rel, len(problems), strings.Join(msgs, "\n  "))
	}
	for rel := range knownOfficialProblems {
		if !listedSeen[rel] {
			t.Errorf("%s is listed in knownOfficialProblems but now passes: remove it", rel)
		}
	}
	t.Logf("checked %d official models: %d with problems (%d listed as known)", len(files), failing, len(listedSeen))
}

package provenance

import (
	"reflect"
	"strings"
	"testing"

	"github.com/whittle-ml/whittle/ir"
)

func TestParseStepsReadsWhatStringWrites(t *testing.T) {
	for _, steps := range []Steps{
		{{Pass: "fold_constants"}},
		{{Pass: "eliminate_identity"}, {Pass: "prune", Params: Params{"sparsity": "0.5", "scope": "global"}}},
		{{Pass: "quantize_static", Params: Params{"calibration": "fashion-mnist:train:512", "method": "entropy"}}},
		{{Pass: "prune", Params: Params{"per_layer": "/conv1/Conv=0.1;fc=0.2", "pattern": "channel"}}},
		{{Pass: "quantize_static", Params: Params{"calibration": "images:/d,labels=/l.txt,limit=8", "method": "minmax", "preprocess": "resize=256,crop=224,mean=0.485,0.456,0.406"}}, {Pass: "eliminate_dead"}},
	} {
		got, err := ParseSteps(steps.String())
		if err != nil {
			t.Fatalf("ParseSteps(%q): %v", steps, err)
		}
		if !reflect.DeepEqual(got, steps) {
			t.Errorf("ParseSteps(%q) = %#v", steps, got)
		}
	}
}

func TestParseStepsErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "empty pipeline",
		"prune:x":          "not key=value",
		"prune:a=1:a=2":    "given twice",
		"prune:=3":         "not key=value",
		" , ,":             "empty pipeline",
		"fold:max_bytes=1": "",
	} {
		_, err := ParseSteps(in)
		if (err == nil) != (want == "") || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("ParseSteps(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestRecordAppendsToHistory(t *testing.T) {
	m := &ir.Model{Graph: ir.NewGraph("g")}
	log := &ChangeLog{}
	log.Add(Change{Pass: "eliminate_dead", Kind: NodeRemoved, Node: "n", Op: "Relu"})
	if err := Record(m, "v1", Steps{{Pass: "eliminate_dead"}}, log); err != nil {
		t.Fatal(err)
	}
	if err := Record(m, "v2", Steps{{Pass: "prune", Params: Params{"sparsity": "0.5"}}}, nil); err != nil {
		t.Fatal(err)
	}
	h, err := History(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].Version != "v1" || h[1].Pipeline.String() != "prune:sparsity=0.5" {
		t.Fatalf("history = %+v", h)
	}
	raw, _ := m.MetadataValue(MetaChangeLog)
	got, truncated, err := ParseChangeLog([]byte(raw))
	if err != nil || truncated != 0 || got.Len() != 0 {
		t.Fatalf("the stored log is the last run's (empty): %v %d %v", got, truncated, err)
	}
}

func TestMarshalCappedTruncates(t *testing.T) {
	log := &ChangeLog{}
	for i := 0; i < 100; i++ {
		log.Add(Change{Pass: "p", Kind: NodeRemoved, Node: strings.Repeat("n", 20)})
	}
	b, err := log.MarshalCapped(1000)
	if err != nil || len(b) > 1000 {
		t.Fatalf("%d bytes, %v", len(b), err)
	}
	got, truncated, err := ParseChangeLog(b)
	if err != nil || truncated == 0 || got.Len()+truncated != 100 {
		t.Fatalf("kept %d, truncated %d, %v", got.Len(), truncated, err)
	}
}

package checker

import (
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// FuzzCheckModel feeds arbitrary bytes that decode as a ModelProto to CheckModel, which
// must never panic. The seeds are the hand-built models of the rule tests.
func FuzzCheckModel(f *testing.F) {
	seeds := []*onnxpb.ModelProto{base()}
	m := base()
	withFunction(nil)(m)
	seeds = append(seeds, m)
	m = base()
	m.Graph.SparseInitializer = []*onnxpb.SparseTensorProto{sparse([]int64{4, 5}, []float32{1, 2}, []int64{2, 2}, 0, 4, 3, 0)}
	m.Graph.Initializer = []*onnxpb.TensorProto{floatTensor("T", []int64{2, 3}, 1, 2, 3, 4, 5, 6), externalTensor("w.bin", []int64{4}, "offset", "0")}
	seeds = append(seeds, m)
	for _, s := range seeds {
		data, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m := &onnxpb.ModelProto{}
		if proto.Unmarshal(data, m) != nil {
			return
		}
		for _, p := range CheckModel(m, Options{ModelDir: t.TempDir(), FullCheck: true}) {
			if strings.TrimSpace(p.Msg) == "" {
				t.Errorf("problem without a message: %+v", p)
			}
		}
	})
}

// TestLongChain checks a 100000-node chain: cycle detection is iterative and linear.
func TestLongChain(t *testing.T) {
	m := base()
	prev := "Y"
	for i := 0; i < 100000; i++ {
		out := "v" + strconv.Itoa(i)
		m.Graph.Node = append(m.Graph.Node, node("", "Relu", []string{prev}, []string{out}))
		prev = out
	}
	if got := CheckModel(m, Options{}); len(got) != 0 {
		t.Fatalf("chain: %v", got[:min(3, len(got))])
	}
	// Close the chain into a cycle through the first node.
	m.Graph.Node[0].Input = []string{prev}
	got := CheckModel(m, Options{})
	if len(got) != 1 || !strings.Contains(got[0].Msg, "nodes form a cycle: relu (Relu) -> #1 (Relu)") {
		t.Fatalf("cycle: %d problems, first %v", len(got), got[:min(1, len(got))])
	}
}

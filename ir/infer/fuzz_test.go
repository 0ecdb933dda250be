package infer_test

import (
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/graphgen"
	"github.com/whittle-ml/whittle/internal/hostile"
	"github.com/whittle-ml/whittle/internal/testenv"
	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/infer"
	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// inferSeedModels are backend test models whose shapes come from data, attributes and
// subgraphs: what inference works hardest on.
var inferSeedModels = []string{
	"node/test_reshape_negative_extended_dims/model.onnx",
	"node/test_expand_dim_changed/model.onnx",
	"node/test_range_int32_type_negative_delta_expanded/model.onnx",
	"node/test_maxpool_2d_ceil/model.onnx",
	"node/test_conv_with_autopad_same/model.onnx",
	"node/test_if_seq/model.onnx",
	"node/test_loop13_seq/model.onnx",
	"node/test_scan9_sum/model.onnx",
	"node/test_slice_negative_axes/model.onnx",
	"node/test_gather_elements_negative_indices/model.onnx",
	"node/test_constantofshape_int_shape_zero/model.onnx",
	"node/test_resize_upsample_sizes_nearest/model.onnx",
	"node/test_split_variable_parts_1d_opset18/model.onnx",
}

// FuzzInfer decodes a model, converts it to the IR and runs shape inference with data
// propagation: inference must never panic, and a model that verified before must still
// verify after (inference only sets types). Seeds: backend test models, hostile models and
// generated graphs; testdata/fuzz/FuzzInfer keeps the committed corpus.
func FuzzInfer(f *testing.F) {
	if dir, ok := testenv.ONNXTestsDirIfPresent(); ok {
		for _, rel := range inferSeedModels {
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				f.Fatalf("seed model: %v", err)
			}
			f.Add(data)
		}
	}
	for _, m := range inferSeeds(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := onnx.Decode(data)
		if err != nil {
			return
		}
		m, err := onnx.ToIR(p)
		if err != nil || m.Verify() != nil {
			return
		}
		if _, err := infer.Model(m, infer.Options{DataPropagation: true}); err != nil {
			return
		}
		if err := m.Verify(); err != nil {
			t.Fatalf("the model verified before inference, not after: %v", err)
		}
	})
}

func inferSeeds(f *testing.F) [][]byte {
	protos := []*onnxpb.ModelProto{hostile.NestedIf(3), hostile.NestedIfWide(4), hostile.ExpandHuge(1 << 33), hostile.LoopForever(5)}
	for _, m := range []*ir.Model{graphgen.Elementwise(graphgen.SeededSource(1, 64), 8).Model, graphgen.CNN(graphgen.SeededSource(2, 64)).Model} {
		p, err := onnx.FromIR(m)
		if err != nil {
			f.Fatal(err)
		}
		protos = append(protos, p)
	}
	var out [][]byte
	for _, p := range protos {
		data, err := proto.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

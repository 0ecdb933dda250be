package onnx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/whittle-ml/whittle/ir"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/internal/testenv"
)

// fuzzSeedModels are small backend test models covering subgraphs, functions, sparse and
// typed tensors; the fuzzer mutates them.
var fuzzSeedModels = []string{
	"node/test_add/model.onnx",
	"node/test_if/model.onnx",
	"node/test_loop11/model.onnx",
	"node/test_constant/model.onnx",
	"node/test_range_float_type_positive_delta_expanded/model.onnx",
	"node/test_ai_onnx_ml_label_encoder_string_int/model.onnx",
	"simple/test_single_relu_model/model.onnx",
}

func FuzzDecode(f *testing.F) {
	if dir, ok := testenv.ONNXTestsDirIfPresent(); ok {
		for _, rel := range fuzzSeedModels {
			data, err := os.ReadFile(filepath.Join(dir, rel))
			if err != nil {
				f.Fatalf("seed model: %v", err) // keep the list in step with the data
			}
			f.Add(data)
		}
	}
	if small, err := proto.Marshal(smallModel()); err == nil {
		f.Add(small)
		f.Add(small[:len(small)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x07})                               // ir_version: 7
	f.Add([]byte{0x3a, 0x00})                               // an empty graph
	f.Add([]byte{0x3a, 0x05, 0x2a, 0x03, 0x08, 0x80, 0x80}) // graph > initializer > truncated dims
	f.Add(protowire.AppendVarint(protowire.AppendTag(nil, 1000, protowire.VarintType), 1))

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		out, err := Encode(m)
		if err != nil {
			t.Fatalf("Encode of a decoded model: %v", err)
		}
		again, err := Decode(out)
		if err != nil {
			t.Fatalf("Decode of re-encoded model: %v", err)
		}
		if !proto.Equal(m, again) {
			t.Fatal("model changed after encode and decode")
		}
		// The walker used by external data must cope with anything that decodes.
		_ = HasExternalData(m)

		// Whatever decodes either fails to convert with an error or yields an IR that
		// Verify judges without panicking; an IR that verifies converts back and forth
		// to the same text form.
		irm, err := ToIR(m)
		if err != nil {
			return
		}
		if irm.Verify() != nil {
			return
		}
		back, err := FromIR(irm)
		if err != nil {
			t.Fatalf("FromIR of a verified model: %v", err)
		}
		irm2, err := ToIR(back)
		if err != nil {
			t.Fatalf("ToIR of FromIR output: %v", err)
		}
		if ir.Format(irm) != ir.Format(irm2) {
			t.Fatal("ir -> proto -> ir changed the model")
		}
	})
}

// onnxTestsDirNoSkip finds the backend test data without skipping: a fuzz target still has
// its hand-made seeds when the data is absent.

package onnx_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx"
	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// A model saved with external data keeps large initializers in a side file, and ReadFile
// loads them back into raw_data.
func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("g"),
			Initializer: []*onnxpb.TensorProto{{
				Name:     proto.String("weight"),
				DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
				Dims:     []int64{64, 64},
				RawData:  make([]byte, 64*64*4), // 16 KiB: over the 1 KiB threshold
			}},
		},
	}
	path := filepath.Join(dir, "model.onnx")
	if err := onnx.WriteFile(path, m, onnx.WriteOptions{ExternalData: true}); err != nil {
		log.Fatal(err)
	}

	stored, err := onnx.ReadFileWithOptions(path, onnx.ReadOptions{SkipExternalData: true})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range stored.GetGraph().GetInitializer()[0].GetExternalData() {
		fmt.Printf("%s=%s\n", e.GetKey(), e.GetValue())
	}

	loaded, err := onnx.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(loaded.GetGraph().GetInitializer()[0].GetRawData()), "bytes loaded")
	// Output:
	// location=model.onnx.data
	// offset=0
	// length=16384
	// 16384 bytes loaded
}

func ExampleTensorDataSize() {
	size, err := onnx.TensorDataSize(int32(onnxpb.TensorProto_INT4), []int64{3, 5})
	fmt.Println(size, err)
	_, err = onnx.TensorDataSize(int32(onnxpb.TensorProto_STRING), []int64{3})
	fmt.Println(err)
	// Output:
	// 8 <nil>
	// tensor size: STRING elements have no fixed size
}

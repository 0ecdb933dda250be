package onnx

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// resnet50Convs lists the weight shapes of ResNet-50 (53 convolutions and the final
// Gemm): 25.5 million floats, 102 MB, the kind of weight-heavy file whittle reads.
func resnet50Convs() [][]int64 {
	shapes := [][]int64{{64, 3, 7, 7}}
	in := int64(64)
	for _, stage := range []struct{ width, blocks int64 }{{64, 3}, {128, 4}, {256, 6}, {512, 3}} {
		out := stage.width * 4
		for b := range stage.blocks {
			shapes = append(shapes,
				[]int64{stage.width, in, 1, 1},
				[]int64{stage.width, stage.width, 3, 3},
				[]int64{out, stage.width, 1, 1})
			if b == 0 {
				shapes = append(shapes, []int64{out, in, 1, 1}) // downsample
			}
			in = out
		}
	}
	return append(shapes, []int64{1000, 2048})
}

// benchModel builds a ResNet-50-sized model whose weights are pseudo-random floats (so
// nothing in the pipeline can profit from runs of equal bytes).
func benchModel() *onnxpb.ModelProto {
	rng := rand.New(rand.NewPCG(7, 8))
	g := &onnxpb.GraphProto{Name: proto.String("resnet50_weights")}
	prev := "input"
	for i, shape := range resnet50Convs() {
		n := int64(1)
		for _, d := range shape {
			n *= d
		}
		raw := make([]byte, 4*n)
		for j := 0; j < len(raw); j += 4 {
			// A float in [-0.5, 0.5): realistic exponents, random mantissas.
			binary.LittleEndian.PutUint32(raw[j:], 0x3e800000|rng.Uint32()&0x807fffff)
		}
		name := fmt.Sprintf("conv%d.weight", i)
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{
			Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Dims: shape, RawData: raw,
		})
		out := fmt.Sprintf("conv%d", i)
		g.Node = append(g.Node, &onnxpb.NodeProto{
			OpType: proto.String("Conv"), Name: proto.String(out),
			Input: []string{prev, name}, Output: []string{out},
		})
		prev = out
	}
	return &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(17)}},
		Graph:       g,
	}
}

// reportMemory reports the bytes allocated per operation as a multiple of the file size,
// "x-filesize". Everything a decode allocates is still live when it returns (it is the
// model), so this is its peak heap; the caller's input buffer is not counted.
func reportMemory(b *testing.B, before *runtime.MemStats, fileSize int) {
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perOp := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
	b.ReportMetric(perOp/float64(fileSize), "x-filesize")
}

func BenchmarkDecode(b *testing.B) {
	data, err := Encode(benchModel())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportMemory(b, &before, len(data))
}

func BenchmarkEncode(b *testing.B) {
	m := benchModel()
	size := proto.Size(m)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		if _, err := Encode(m); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportMemory(b, &before, size)
}

// BenchmarkReadFile reads the model from a file (memory-mapped, from the page cache
// after the first round): the file's bytes are not copied onto the heap.
func BenchmarkReadFile(b *testing.B) {
	m := benchModel()
	path := filepath.Join(b.TempDir(), "resnet50.onnx")
	if err := WriteFile(path, m, WriteOptions{}); err != nil {
		b.Fatal(err)
	}
	size := proto.Size(m)
	m = nil
	b.SetBytes(int64(size))
	b.ReportAllocs()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		if _, err := ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportMemory(b, &before, size)
}

// BenchmarkReadFileExternalData reads the same model saved with its weights in a data
// file, loaded with one ReadAt per tensor.
func BenchmarkReadFileExternalData(b *testing.B) {
	m := benchModel()
	path := filepath.Join(b.TempDir(), "resnet50.onnx")
	if err := WriteFile(path, m, WriteOptions{ExternalData: true}); err != nil {
		b.Fatal(err)
	}
	size := proto.Size(m)
	m = nil
	b.SetBytes(int64(size))
	b.ReportAllocs()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		if _, err := ReadFile(path); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportMemory(b, &before, size)
}

package onnx

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/whittle-ml/whittle/onnx/onnxpb"
)

// largeValue is the pattern the large test fills tensor k with: cheap to compute, and
// different at every position that matters (a shifted or swapped tensor shows up).
func largeValue(k, i int) float32 {
	return float32(i%65521) + float32(k)*0.5
}

// TestLargeModelOver2GiB writes and reads a model of 2.2 GiB, past protobuf's limit, which
// only works with external data. It needs about 2.3 GiB of memory and disk at its peak.
func TestLargeModelOver2GiB(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 2.2 GiB; runs without -short")
	}
	dims := []int64{16384, 18022} // 295,272,448 floats = 1.1 GiB per tensor
	n := int(dims[0] * dims[1])
	start := time.Now()
	m := smallModel()
	m.Graph.Initializer = nil
	for k := range 2 {
		// The pattern repeats every 65521 elements: compute one period, then copy it.
		raw := make([]byte, 4*n)
		for i := range 65521 {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(largeValue(k, i)))
		}
		for filled := 4 * 65521; filled < len(raw); {
			filled += copy(raw[filled:], raw[:filled])
		}
		m.Graph.Initializer = append(m.Graph.Initializer, &onnxpb.TensorProto{
			Name: proto.String("w" + strconv.Itoa(k)), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Dims: dims, RawData: raw,
		})
	}
	t.Logf("built 2 x %d bytes in %v", 4*n, time.Since(start))

	dir := t.TempDir()
	path := filepath.Join(dir, "large.onnx")
	if err := WriteFile(path, m, WriteOptions{}); !errors.Is(err, ErrModelTooLarge) {
		t.Fatalf("WriteFile without external data: got %v, want ErrModelTooLarge", err)
	}
	start = time.Now()
	if err := WriteFile(path, m, WriteOptions{ExternalData: true}); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote with external data in %v", time.Since(start))
	// Free the 2.2 GiB before reading back: other work shares this machine.
	m = nil
	runtime.GC()
	debug.FreeOSMemory()

	fi, err := os.Stat(path + ".data")
	if err != nil {
		t.Fatal(err)
	}
	// Second tensor starts at the first 4096-aligned offset after the first.
	if want := int64(4*n+4095)/4096*4096 + int64(4*n); fi.Size() != want {
		t.Errorf("data file holds %d bytes, want %d", fi.Size(), want)
	}

	start = time.Now()
	got, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read back in %v", time.Since(start))
	inits := got.GetGraph().GetInitializer()
	if len(inits) != 2 {
		t.Fatalf("read %d initializers, want 2", len(inits))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for k, init := range inits {
		if init.GetName() != "w"+strconv.Itoa(k) || len(init.RawData) != 4*n || HasExternalData(got) {
			t.Fatalf("initializer %d: name %q, %d bytes, want w%d with %d bytes, loaded", k, init.GetName(), len(init.RawData), k, 4*n)
		}
		samples := []int{0, 1, 65520, 65521, n / 2, n - 1}
		for range 1000 {
			samples = append(samples, rng.IntN(n))
		}
		for _, i := range samples {
			v := math.Float32frombits(binary.LittleEndian.Uint32(init.RawData[4*i:]))
			if v != largeValue(k, i) {
				t.Fatalf("%s[%d] = %v, want %v", init.GetName(), i, v, largeValue(k, i))
			}
		}
	}
	got = nil
	inits = nil
	runtime.GC()
	debug.FreeOSMemory()
}

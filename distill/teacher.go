package distill

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/runtime"
	"github.com/whittle-ml/whittle/runtime/kernel"
)

// DefaultCacheBytes bounds the teacher-output cache: enough for the logits of a few
// hundred thousand distinct (augmented) images.
const DefaultCacheBytes = 256 << 20

// Teacher runs a teacher model with whittle's runtime and hands over the tensors a
// distillation loss needs for each batch: its outputs and, for block students, named
// intermediate tensors. Rows are cached by content (a hash of the row's input bytes), so
// an image seen before — the same row with the same augmentation — is not run again;
// only the rows of a batch that miss are computed. Tensors of more than CacheRowLimit
// floats per row (feature maps) are never cached.
type Teacher struct {
	Model *ir.Model
	names []string
	sess  *runtime.Session
	feeds []string

	// CacheBytes caps the cache (0: no caching).
	CacheBytes    int64
	CacheRowLimit int

	mu       sync.Mutex
	cache    map[uint64][]float32
	rowShape map[string][]int64
	used     int64
	// Hits and Misses count rows served from the cache and computed.
	Hits, Misses atomic.Int64
}

// NewTeacher compiles m. names are the tensors Outputs returns: graph outputs or
// intermediate values; empty means the graph outputs.
func NewTeacher(m *ir.Model, names []string) (*Teacher, error) {
	sess, err := runtime.NewSession(m, runtime.Options{Intermediates: hasIntermediate(m, names)})
	if err != nil {
		return nil, fmt.Errorf("teacher: %w", err)
	}
	if len(names) == 0 {
		for _, v := range m.Graph.Outputs {
			names = append(names, v.Name)
		}
	}
	for _, n := range names {
		if m.Graph.Lookup(n) == nil {
			return nil, fmt.Errorf("teacher: no tensor %q", n)
		}
	}
	t := &Teacher{Model: m, names: names, sess: sess, CacheBytes: DefaultCacheBytes, CacheRowLimit: 4096,
		cache: map[uint64][]float32{}, rowShape: map[string][]int64{}}
	for _, v := range feedInputs(m) {
		t.feeds = append(t.feeds, v.Name)
	}
	return t, nil
}

func hasIntermediate(m *ir.Model, names []string) bool {
	out := map[string]bool{}
	for _, v := range m.Graph.Outputs {
		out[v.Name] = true
	}
	for _, n := range names {
		if !out[n] {
			return true
		}
	}
	return false
}

// Names lists the tensors Outputs returns.
func (t *Teacher) Names() []string { return t.names }

// Outputs returns the teacher's named tensors for a batch of inputs (first dimension the
// batch), as float32 tensors.
func (t *Teacher) Outputs(ctx context.Context, inputs map[string]*kernel.Tensor) (map[string]*kernel.Tensor, error) {
	rows, err := batchRows(inputs, t.feeds)
	if err != nil {
		return nil, err
	}
	cacheable := t.CacheBytes > 0
	keys := make([]uint64, rows)
	if cacheable {
		for r := range keys {
			keys[r] = rowKey(inputs, t.feeds, r, rows)
		}
	}
	var hit [][]float32
	var miss []int
	if cacheable {
		hit = make([][]float32, rows)
		t.mu.Lock()
		for r, k := range keys {
			if v, ok := t.cache[k]; ok {
				hit[r] = v
			} else {
				miss = append(miss, r)
			}
		}
		t.mu.Unlock()
	} else {
		for r := 0; r < rows; r++ {
			miss = append(miss, r)
		}
	}
	t.Hits.Add(int64(rows - len(miss)))
	t.Misses.Add(int64(len(miss)))
	var computed map[string]*kernel.Tensor
	if len(miss) > 0 {
		sub := inputs
		if len(miss) < rows {
			sub = map[string]*kernel.Tensor{}
			for name, in := range inputs {
				s, err := takeRows(in, miss, rows)
				if err != nil {
					return nil, fmt.Errorf("teacher input %q: %w", name, err)
				}
				sub[name] = s
			}
		}
		res, err := t.sess.Run(ctx, sub)
		if err != nil {
			return nil, fmt.Errorf("teacher: %w", err)
		}
		computed = map[string]*kernel.Tensor{}
		for _, n := range t.names {
			v := res[n]
			if v == nil {
				return nil, fmt.Errorf("teacher: tensor %q was not computed", n)
			}
			f, err := asFloat32(v)
			if err != nil {
				return nil, fmt.Errorf("teacher tensor %q: %w", n, err)
			}
			computed[n] = f
		}
		if len(miss) == rows && !cacheable {
			return computed, nil
		}
	}
	// Row widths, from whichever source has them.
	width := map[string]int{}
	shape := map[string][]int64{}
	for _, n := range t.names {
		if c := computed[n]; c != nil {
			width[n] = c.NumElements() / len(miss)
			shape[n] = c.Shape
		}
	}
	if computed == nil {
		// Every row hit: the cached rows hold the tensors back to back.
		return t.fromCache(hit, rows)
	}
	perRow := 0
	for _, n := range t.names {
		perRow += width[n]
	}
	if cacheable && perRow <= t.CacheRowLimit {
		t.mu.Lock()
		for _, n := range t.names {
			if t.rowShape[n] == nil {
				t.rowShape[n] = append([]int64(nil), shape[n][1:]...)
			}
		}
		for i, r := range miss {
			if t.used+int64(4*perRow) > t.CacheBytes {
				break
			}
			row := make([]float32, 0, perRow)
			for _, n := range t.names {
				d := computed[n].Float32s()
				row = append(row, d[i*width[n]:(i+1)*width[n]]...)
			}
			t.cache[keys[r]] = row
			t.used += int64(4 * perRow)
		}
		t.mu.Unlock()
	}
	if len(miss) == rows {
		return computed, nil
	}
	out := map[string]*kernel.Tensor{}
	pos := map[int]int{}
	for i, r := range miss {
		pos[r] = i
	}
	off := 0
	for _, n := range t.names {
		w := width[n]
		s := append([]int64{int64(rows)}, shape[n][1:]...)
		data := make([]float32, rows*w)
		src := computed[n].Float32s()
		for r := 0; r < rows; r++ {
			if i, ok := pos[r]; ok {
				copy(data[r*w:], src[i*w:(i+1)*w])
			} else {
				copy(data[r*w:], hit[r][off:off+w])
			}
		}
		out[n] = kernel.FromFloat32(s, data)
		off += w
	}
	return out, nil
}

// fromCache assembles a batch whose rows all hit, with the row shapes seen when the rows
// were computed.
func (t *Teacher) fromCache(hit [][]float32, rows int) (map[string]*kernel.Tensor, error) {
	out := map[string]*kernel.Tensor{}
	off := 0
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range t.names {
		rs := t.rowShape[n]
		if rs == nil {
			return nil, fmt.Errorf("teacher: no row shape for %q", n)
		}
		w := 1
		for _, d := range rs {
			w *= int(d)
		}
		data := make([]float32, rows*w)
		for r := 0; r < rows; r++ {
			copy(data[r*w:], hit[r][off:off+w])
		}
		out[n] = kernel.FromFloat32(append([]int64{int64(rows)}, rs...), data)
		off += w
	}
	return out, nil
}

// batchRows returns the batch size of the feeds.
func batchRows(inputs map[string]*kernel.Tensor, feeds []string) (int, error) {
	rows := -1
	for _, n := range feeds {
		in := inputs[n]
		if in == nil {
			return 0, fmt.Errorf("teacher: no input %q in the batch", n)
		}
		if len(in.Shape) == 0 {
			return 0, fmt.Errorf("teacher: input %q is a scalar, not a batch", n)
		}
		if rows >= 0 && int(in.Shape[0]) != rows {
			return 0, fmt.Errorf("teacher: inputs disagree on the batch size (%d and %d)", rows, in.Shape[0])
		}
		rows = int(in.Shape[0])
	}
	if rows < 0 {
		return 0, fmt.Errorf("teacher: the model has no input")
	}
	return rows, nil
}

// rowKey hashes row r of every feed.
func rowKey(inputs map[string]*kernel.Tensor, feeds []string, r, rows int) uint64 {
	h := fnv.New64a()
	for _, n := range feeds {
		b := rawBytes(inputs[n])
		per := len(b) / rows
		h.Write(b[r*per : (r+1)*per])
	}
	return h.Sum64()
}

// rawBytes views a tensor's elements as bytes.
func rawBytes(t *kernel.Tensor) []byte {
	switch d := t.Data.(type) {
	case []float32:
		if len(d) == 0 {
			return nil
		}
		return unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), 4*len(d))
	case []int64:
		if len(d) == 0 {
			return nil
		}
		return unsafe.Slice((*byte)(unsafe.Pointer(&d[0])), 8*len(d))
	case []uint8:
		return d
	}
	return []byte(fmt.Sprint(t.Data))
}

// takeRows copies rows idx of a float or int64 tensor.
func takeRows(t *kernel.Tensor, idx []int, rows int) (*kernel.Tensor, error) {
	shape := append([]int64{int64(len(idx))}, t.Shape[1:]...)
	switch d := t.Data.(type) {
	case []float32:
		w := len(d) / rows
		out := make([]float32, 0, len(idx)*w)
		for _, r := range idx {
			out = append(out, d[r*w:(r+1)*w]...)
		}
		return kernel.FromFloat32(shape, out), nil
	case []int64:
		w := len(d) / rows
		out := make([]int64, 0, len(idx)*w)
		for _, r := range idx {
			out = append(out, d[r*w:(r+1)*w]...)
		}
		return kernel.FromInt64(shape, out), nil
	}
	return nil, fmt.Errorf("rows of a %s tensor cannot be taken", t.DType)
}

// asFloat32 returns a float tensor of v's values (a copy: session outputs may be
// recycled).
func asFloat32(v *kernel.Tensor) (*kernel.Tensor, error) {
	switch d := v.Data.(type) {
	case []float32:
		return kernel.FromFloat32(v.Shape, append([]float32(nil), d...)), nil
	case []float64:
		out := make([]float32, len(d))
		for i, x := range d {
			out[i] = float32(x)
		}
		return kernel.FromFloat32(v.Shape, out), nil
	}
	return nil, fmt.Errorf("%s, not float", v.DType)
}

// logSoftmax64 writes log softmax(x/temp) of one row into out.
func logSoftmax64(x []float32, temp float64, out []float64) {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = math.Max(mx, float64(v)/temp)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(float64(v)/temp - mx)
	}
	ls := math.Log(s) + mx
	for i, v := range x {
		out[i] = float64(v)/temp - ls
	}
}

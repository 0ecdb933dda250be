package kernel

import (
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/whittle-ml/whittle/ir"
	"github.com/whittle-ml/whittle/ir/stats"
)

// The memory budget.
//
// A model of a few bytes can ask for a tensor of any size: an Expand to 2^33 floats is 32
// GiB, and Go answers an allocation it cannot satisfy with "fatal error: runtime: out of
// memory", which no caller can recover from. So every tensor buffer (MakeSlice, which New
// and the runtime's pool call) is first weighed against a process-wide budget: the bytes the
// Go heap holds plus the new buffer must fit. The heap is read from runtime/metrics, which
// counts everything the process holds (the model, its weights, other sessions), so the
// budget means what a user setting --max-memory expects. Small buffers are checked in
// batches (every checkEvery bytes) so that floods of them are caught too without reading
// the metrics on every allocation.

// ErrMemoryBudget is wrapped by every *BudgetError.
var ErrMemoryBudget = errors.New("memory budget exceeded")

// BudgetError reports an allocation refused because it would take the process past its
// memory budget.
type BudgetError struct {
	DType ir.DataType
	Shape []int64 // nil when only the element count is known
	Bytes int64   // the allocation's size
	InUse int64   // heap bytes in use when it was refused
	Limit int64   // the budget
}

func (e *BudgetError) Error() string {
	what := fmt.Sprintf("%s%v", e.DType, e.Shape)
	switch {
	case e.Shape == nil && e.DType == ir.Undefined:
		what = fmt.Sprintf("a %d-byte scratch buffer", e.Bytes)
	case e.Shape == nil:
		what = fmt.Sprintf("%d-byte %s buffer", e.Bytes, e.DType)
	}
	return fmt.Sprintf("%s needs %s, past the memory budget of %s (%s in use); raise it with --max-memory or runtime.SetMemoryBudget",
		what, stats.FormatBytes(e.Bytes), stats.FormatBytes(e.Limit), stats.FormatBytes(e.InUse))
}

func (e *BudgetError) Unwrap() error { return ErrMemoryBudget }

// ShapeError reports a shape whose element count is negative or overflows.
type ShapeError struct {
	DType ir.DataType
	Shape []int64
	Err   error
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("cannot allocate %s%v: %v", e.DType, e.Shape, e.Err)
}

func (e *ShapeError) Unwrap() error { return e.Err }

var (
	budget     atomic.Int64
	sinceCheck atomic.Int64
	checkMu    sync.Mutex
)

// checkEvery is how many bytes of small buffers may be allocated between two heap reads.
const checkEvery = 1 << 20

func init() { budget.Store(DefaultMemoryBudget()) }

// SetMemoryBudget sets the process-wide budget in bytes (<= 0 restores the default) and
// returns the previous one.
func SetMemoryBudget(bytes int64) int64 {
	if bytes <= 0 {
		bytes = DefaultMemoryBudget()
	}
	return budget.Swap(bytes)
}

// MemoryBudget returns the process-wide budget in bytes.
func MemoryBudget() int64 { return budget.Load() }

// DefaultMemoryBudget is three quarters of the memory the process may use: physical
// memory, or the cgroup's limit when a container sets a lower one. The quarter left is
// for what the budget does not see (stacks, memory-mapped files, the rest of the machine).
func DefaultMemoryBudget() int64 {
	total := physicalMemory()
	if c := cgroupLimit(); c > 0 && (total <= 0 || c < total) {
		total = c
	}
	if total <= 0 {
		return 1 << 62 // unknown: no limit beyond what the system enforces
	}
	return total / 4 * 3
}

func physicalMemory() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func cgroupLimit() int64 {
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err == nil && v > 0 && v < 1<<60 {
			return v
		}
	}
	return 0
}

// Reserve checks that bytes more fit in the budget. Call it before an allocation whose
// size comes from a model's data or shapes and that does not go through MakeSlice.
func Reserve(bytes int64) error {
	if bytes < checkEvery && sinceCheck.Add(bytes) < checkEvery {
		return nil
	}
	sinceCheck.Store(0)
	limit := budget.Load()
	if bytes > limit {
		return &BudgetError{Bytes: bytes, InUse: heapInUse(), Limit: limit}
	}
	if heapInUse()+bytes <= limit {
		return nil
	}
	// The heap may hold garbage a collection would free; one caller at a time collects.
	checkMu.Lock()
	defer checkMu.Unlock()
	if heapInUse()+bytes <= limit {
		return nil
	}
	goruntime.GC()
	if inUse := heapInUse(); inUse+bytes > limit {
		return &BudgetError{Bytes: bytes, InUse: inUse, Limit: limit}
	}
	return nil
}

var heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
var heapMu sync.Mutex

// heapInUse returns the bytes of heap objects, live or not yet swept.
func heapInUse() int64 {
	heapMu.Lock()
	defer heapMu.Unlock()
	metrics.Read(heapSample)
	if heapSample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(heapSample[0].Value.Uint64())
}

// elemBytes is the storage size of one element of dt in a Go slice (MakeSlice's layout).
func elemBytes(dt ir.DataType) int64 {
	switch dt {
	case ir.Double, ir.Int64, ir.Uint64, ir.Complex64:
		return 8
	case ir.Complex128, ir.String:
		return 16
	case ir.Float, ir.Int32, ir.Uint32:
		return 4
	case ir.Float16, ir.BFloat16, ir.Uint16, ir.Int16:
		return 2
	}
	return 1
}

// checkedCount returns the element count of shape, or a *ShapeError when it is negative
// or overflows, or a *BudgetError when its buffer would not fit the budget.
func checkedCount(dt ir.DataType, shape []int64) (int, error) {
	n, err := ir.NumElements(shape)
	if err == nil && n > int64(maxInt)/elemBytes(dt) {
		err = fmt.Errorf("%d elements overflow the address space", n)
	}
	if err != nil {
		return 0, &ShapeError{DType: dt, Shape: append([]int64(nil), shape...), Err: err}
	}
	if len(shape) > 16 {
		// A tensor's shape is a slice of its own, copied by NewChecked and by every kernel
		// that derives an output shape: with a rank taken from data (a ConstantOfShape or
		// Reshape to millions of dimensions of 1) that is megabytes per tensor, which the
		// element count does not show.
		if err := Reserve(8 * int64(len(shape))); err != nil {
			return 0, fmt.Errorf("%s tensor of rank %d: its shape: %w", dt, len(shape), err)
		}
	}
	if err := Reserve(n * elemBytes(dt)); err != nil {
		var be *BudgetError
		if errors.As(err, &be) {
			be.DType, be.Shape = dt, append([]int64(nil), shape...)
		}
		return 0, err
	}
	return int(n), nil
}

const maxInt = int(^uint(0) >> 1)

// MakeScratch allocates a kernel's working slice of n elements after checking that it fits
// the memory budget: scratch whose size follows a model's shapes is weighed like outputs.
func MakeScratch[T any](n int) ([]T, error) {
	var zero T
	size := int64(unsafe.Sizeof(zero))
	if size == 0 {
		size = 1
	}
	if n < 0 || int64(n) > int64(maxInt)/size {
		return nil, &ShapeError{DType: ir.Undefined, Shape: []int64{int64(n)}, Err: errors.New("invalid scratch size")}
	}
	if err := Reserve(int64(n) * size); err != nil {
		// Name the buffer as a tensor would be named (double[n]), so that the error the
		// executor prefixes with the node reads like an output's; a struct element type
		// has no tensor type and keeps the byte count alone.
		var be *BudgetError
		if errors.As(err, &be) {
			if dt := scratchType(zero); dt != ir.Undefined {
				be.DType, be.Shape = dt, []int64{int64(n)}
			}
		}
		return nil, err
	}
	return make([]T, n), nil
}

// MakeScratchShaped is MakeScratch for a buffer of shape's element count, for scratch laid
// out like a tensor: a count that is negative or overflows is a *ShapeError, and a refusal
// by the budget names the shape.
func MakeScratchShaped[T any](shape []int64) ([]T, error) {
	var zero T
	size := max(int64(unsafe.Sizeof(zero)), 1)
	n, err := ir.NumElements(shape)
	if err == nil && n > int64(maxInt)/size {
		err = fmt.Errorf("%d elements overflow the address space", n)
	}
	if err != nil {
		return nil, &ShapeError{DType: scratchType(zero), Shape: append([]int64(nil), shape...), Err: err}
	}
	buf, err := MakeScratch[T](int(n))
	var be *BudgetError
	if errors.As(err, &be) && be.DType != ir.Undefined {
		be.Shape = append([]int64(nil), shape...)
	}
	return buf, err
}

// scratchType is the tensor element type stored like v in a Go slice, or Undefined.
func scratchType(v any) ir.DataType {
	switch v.(type) {
	case float32:
		return ir.Float
	case float64:
		return ir.Double
	case int8:
		return ir.Int8
	case uint8:
		return ir.Uint8
	case bool:
		return ir.Bool
	case int16:
		return ir.Int16
	case uint16:
		return ir.Uint16
	case int32:
		return ir.Int32
	case uint32:
		return ir.Uint32
	case int64:
		return ir.Int64
	case int:
		if strconv.IntSize == 32 {
			return ir.Int32
		}
		return ir.Int64
	case uint64:
		return ir.Uint64
	case complex64:
		return ir.Complex64
	case complex128:
		return ir.Complex128
	case string:
		return ir.String
	}
	return ir.Undefined
}

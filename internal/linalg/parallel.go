package linalg

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// For calls fn(job) once for every job in [0, jobs) and returns when all calls are done.
// Up to threads goroutines run them: the caller's own and threads-1 workers from a
// process-wide pool. With threads < 2 or jobs < 2 every call runs on the caller's
// goroutine, in order.
//
// What fn may do: read shared inputs, write disjoint parts of an output, take scratch
// buffers (GetFloat32) and release them, and call For or Sgemm again (a nested call never
// waits for a worker that has not started: the caller does the work itself when every
// worker is busy, so nesting cannot deadlock). What fn must not do: call
// kernel.Context.Alloc or anything else that records state in the run's allocator (it is
// not safe for concurrent use), keep a reference to job-local scratch after returning,
// or assume jobs run in order or on distinct goroutines.
//
// Jobs are split into one contiguous segment per goroutine (the caller's first): each
// goroutine claims the jobs of its own segment in order, then takes what is left of the
// others', one at a time. A goroutine thus computes neighbouring jobs, and the same ones
// from one call to the next (row blocks of one layer's output are the next layer's input:
// they stay in that core's cache), while a helper that starts late or is descheduled only
// leaves its jobs to the others. Each job should carry enough work (tens of microseconds)
// to hide the cost of claiming it; Chunks helps size them.
//
// A job that panics stops the handing out of jobs; once the jobs already running have
// returned, For panics on the caller's goroutine with the first value, where the caller
// (runtime: the kernel guard) can recover it. A panic on a worker would otherwise end the
// whole process.
func For(threads, jobs int, fn func(job int)) {
	if threads < 2 || jobs < 2 {
		for j := 0; j < jobs; j++ {
			fn(j)
		}
		return
	}
	helpers := min(threads, jobs) - 1
	ensureWorkers(helpers)
	t := taskPool.Get().(*task)
	t.fn, t.jobs = fn, int64(jobs)
	t.split(helpers + 1)
	gen := uint32(t.state.Load() >> 32)
	for i := 0; i < helpers; i++ {
		select {
		case offers <- offer{t, gen}:
		default: // every slot is taken: the caller does more of the work itself
		}
	}
	t.workGuarded(0)
	// Close the task: helpers that have not joined yet will not, and the caller waits only
	// for those already running a job.
	for {
		s := t.state.Load()
		if t.state.CompareAndSwap(s, s|closedBit) {
			if s&activeMask != 0 {
				t.wait()
			}
			break
		}
	}
	t.state.Store(uint64(gen+1) << 32) // a new generation: stale offers no longer match
	t.fn = nil
	p := t.panicked
	t.panicked = nil
	taskPool.Put(t)
	if p != nil {
		panic(p.value)
	}
}

// ForCost is For for jobs of about costPerJob units of work each (multiply-adds, element
// visits): below minParallelCost units in all it runs serially, since waking a worker
// would cost more than it saves, and small jobs are handed out in runs of consecutive
// jobs of at least minChunkCost units, so that claiming a job never costs more than doing
// it.
func ForCost(threads, jobs, costPerJob int, fn func(job int)) {
	if threads < 2 || jobs < 2 || jobs*costPerJob < minParallelCost {
		for j := 0; j < jobs; j++ {
			fn(j)
		}
		return
	}
	per := max(1, minChunkCost/max(costPerJob, 1))
	per = min(per, max(1, jobs/(2*threads))) // keep at least two chunks per thread
	if per == 1 {
		For(threads, jobs, fn)
		return
	}
	chunks := (jobs + per - 1) / per
	For(threads, chunks, func(c int) {
		for j := c * per; j < min(jobs, (c+1)*per); j++ {
			fn(j)
		}
	})
}

const (
	minParallelCost = 1 << 17
	minChunkCost    = 1 << 14
)

// Chunks splits n items into at most parts contiguous chunks of at least minChunk items
// (the last may be shorter) and returns the chunk size and count, for use with For:
//
//	size, count := linalg.Chunks(n, 4*threads, 64)
//	linalg.For(threads, count, func(c int) { lo, hi := c*size, min(n, (c+1)*size); ... })
func Chunks(n, parts, minChunk int) (size, count int) {
	if n <= 0 {
		return 1, 0
	}
	parts = max(parts, 1)
	size = max((n+parts-1)/parts, minChunk, 1)
	return size, (n + size - 1) / size
}

// A task is one For call: its jobs are split into segments, one per goroutine that may
// take part (the caller is 0, helpers number themselves through joined), each claimed
// through its own counter. state packs the generation (high 32 bits), the closed flag and
// the number of helpers running jobs.
type task struct {
	fn     func(int)
	jobs   int64
	segs   []segment
	joined atomic.Int32
	state  atomic.Uint64
	done   chan struct{}
	// panicked is the first panic of a job, re-raised by For on the caller's goroutine.
	panicMu  sync.Mutex
	panicked *panicValue
}

type panicValue struct{ value any }

const (
	closedBit  = 1 << 31
	activeMask = closedBit - 1
)

// An offer invites one worker to help with a task of a given generation.
type offer struct {
	t   *task
	gen uint32
}

var taskPool = sync.Pool{New: func() any { return &task{done: make(chan struct{}, 1)} }}

// A segment is the jobs [lo, hi) of one participant; next counts those claimed. Segments
// sit on their own cache lines: each is claimed from mostly by one core.
type segment struct {
	next   atomic.Int64
	lo, hi int64
	_      [40]byte
}

// split divides the jobs into parts segments of nearly equal length.
func (t *task) split(parts int) {
	if cap(t.segs) < parts {
		t.segs = make([]segment, parts)
	}
	t.segs = t.segs[:parts]
	for i := range t.segs {
		sg := &t.segs[i]
		sg.lo, sg.hi = t.jobs*int64(i)/int64(parts), t.jobs*int64(i+1)/int64(parts)
		sg.next.Store(0)
	}
	t.joined.Store(0)
}

// work runs the jobs of segment own, then those left in the others, in turn.
func (t *task) work(own int) {
	n := len(t.segs)
	for k := 0; k < n; k++ {
		sg := &t.segs[(own+k)%n]
		for {
			j := sg.lo + sg.next.Add(1) - 1
			if j >= sg.hi {
				break
			}
			t.fn(int(j))
		}
	}
}

// workGuarded is work that records a panic instead of letting it end the goroutine, and
// stops the handing out of jobs.
func (t *task) workGuarded(own int) {
	defer func() {
		if r := recover(); r != nil {
			t.panicMu.Lock()
			if t.panicked == nil {
				t.panicked = &panicValue{r}
			}
			t.panicMu.Unlock()
			for i := range t.segs {
				t.segs[i].next.Store(t.segs[i].hi - t.segs[i].lo)
			}
		}
	}()
	t.work(own)
}

// wait returns once the last helper has signalled done. It polls the signal before it
// blocks: the helpers are finishing their last jobs, which takes microseconds, and a
// caller parked on the channel would be woken by the helper's send onto the helper's own
// processor (Go readies a woken goroutine on the waker's P), where it waits until that P's
// goroutine yields or another P steals it, and the two goroutines end up trading cores.
// With two threads this made half the short parallel calls no faster than one thread.
func (t *task) wait() {
	deadline := time.Now().Add(spinFor)
	for i := 0; ; i++ {
		select {
		case <-t.done:
			return
		default:
		}
		if i%64 == 63 {
			if time.Now().After(deadline) {
				<-t.done
				return
			}
			runtime.Gosched()
		}
	}
}

// help runs jobs of t if the offer is still current.
func (t *task) help(gen uint32) {
	for {
		s := t.state.Load()
		if uint32(s>>32) != gen || s&closedBit != 0 {
			return
		}
		if t.state.CompareAndSwap(s, s+1) {
			break
		}
	}
	// Helpers take the segments after the caller's in the order they join; one joining
	// after the others (a stale offer of an earlier call cannot: the generation changed)
	// starts on the last.
	t.workGuarded(min(int(t.joined.Add(1)), len(t.segs)-1))
	if s := t.state.Add(^uint64(0)); s&closedBit != 0 && s&activeMask == 0 {
		t.done <- struct{}{}
	}
}

// The worker pool grows to the largest number of helpers any call asked for (at most
// maxWorkers) and never shrinks; idle workers block on offers after spinning briefly.
const maxWorkers = 256

var (
	offers    = make(chan offer, maxWorkers)
	workersMu sync.Mutex
	nWorkers  atomic.Int32
)

func ensureWorkers(n int) {
	n = min(n, maxWorkers)
	if int(nWorkers.Load()) >= n {
		return
	}
	workersMu.Lock()
	defer workersMu.Unlock()
	for int(nWorkers.Load()) < n {
		nWorkers.Add(1)
		go worker()
	}
}

// spinFor is how long an idle worker keeps polling for offers before it blocks. Kernels
// of one model run back to back with serial gaps (small kernels, pools, the classifier)
// of up to a few hundred microseconds; waking a blocked goroutine costs tens of
// microseconds on a quiet machine and more on a virtual one, whose idle virtual CPU the
// host may have given away, a poll costs nanoseconds. So a worker that has just finished
// polls through the gaps of a whole run, and blocks only between runs. On a 2-vCPU EPYC
// VM, MobileNetV2 on two threads in blocks of 17 runs after 300 ms pauses (the pattern of
// BenchmarkInt8Latency): median 5.30/5.46 ms polling 50 us, 4.48/4.56 ms polling 1 ms
// (one thread 5.09 ms); EfficientNet-B0 7.74/7.79 -> 7.32/7.31 ms (one thread 8.09).
const spinFor = time.Millisecond

func worker() {
	for {
		var o offer
		got := false
		select {
		case o = <-offers:
			got = true
		default:
			deadline := time.Now().Add(spinFor)
			for i := 0; !got; i++ {
				select {
				case o = <-offers:
					got = true
				default:
					if i%64 == 63 {
						if time.Now().After(deadline) {
							o = <-offers
							got = true
						} else {
							runtime.Gosched()
						}
					}
				}
			}
		}
		o.t.help(o.gen)
	}
}

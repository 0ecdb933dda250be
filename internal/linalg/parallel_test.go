package linalg

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestForRunsEveryJobOnce covers serial and parallel calls, more threads than jobs, nested
// calls and concurrent callers (run it with -race).
func TestForRunsEveryJobOnce(t *testing.T) {
	for _, threads := range []int{0, 1, 2, 3, 8} {
		for _, jobs := range []int{0, 1, 2, 7, 100} {
			t.Run(fmt.Sprintf("threads%d_jobs%d", threads, jobs), func(t *testing.T) {
				counts := make([]atomic.Int32, jobs)
				For(threads, jobs, func(j int) { counts[j].Add(1) })
				for j := range counts {
					if n := counts[j].Load(); n != 1 {
						t.Fatalf("job %d ran %d times", j, n)
					}
				}
			})
		}
	}
}

func TestForNestedAndConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for caller := 0; caller < 4; caller++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 50; rep++ {
				out := make([]int, 12*9)
				For(3, 12, func(i int) {
					For(2, 9, func(j int) { out[i*9+j] += i*9 + j })
				})
				for k, v := range out {
					if v != k {
						t.Errorf("caller %d: out[%d] = %d", caller, k, v)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestForSerialOrder(t *testing.T) {
	var seen []int
	For(1, 5, func(j int) { seen = append(seen, j) })
	if fmt.Sprint(seen) != "[0 1 2 3 4]" {
		t.Fatalf("serial For ran %v", seen)
	}
}

func TestChunks(t *testing.T) {
	for _, tc := range []struct{ n, parts, min, size, count int }{
		{0, 4, 1, 1, 0}, {10, 4, 1, 3, 4}, {10, 4, 8, 8, 2}, {100, 1, 1, 100, 1}, {5, 10, 1, 1, 5},
	} {
		size, count := Chunks(tc.n, tc.parts, tc.min)
		if size != tc.size || count != tc.count {
			t.Errorf("Chunks(%d, %d, %d) = %d, %d; want %d, %d", tc.n, tc.parts, tc.min, size, count, tc.size, tc.count)
		}
	}
}

func BenchmarkForOverhead(b *testing.B) {
	var sink atomic.Int64
	for i := 0; i < b.N; i++ {
		For(2, 2, func(j int) { sink.Add(int64(j)) })
	}
}

// BenchmarkForScaling reports how many times faster two threads run short For calls than
// one (medians of many calls): each job is a few microseconds of arithmetic, as the jobs
// of a small layer are. It should be near 2 for 8 jobs of 13 us; a pool whose caller
// or helpers are slow to meet each other (a goroutine parked and woken on the other's
// processor) shows about 1, while the fastest calls still look fine.
func BenchmarkForScaling(b *testing.B) {
	for _, tc := range []struct{ jobs, iters int }{{2, 2000}, {8, 2000}, {8, 8000}, {32, 2000}} {
		b.Run(fmt.Sprintf("jobs%d_iters%d", tc.jobs, tc.iters), func(b *testing.B) {
			var sink atomic.Uint64
			job := func(j int) {
				x := uint64(j) + 1
				for i := 0; i < tc.iters; i++ { // a dependent chain: time, not memory
					x = x*6364136223846793005 + 1442695040888963407
				}
				sink.Add(x)
			}
			median := func(threads int) time.Duration {
				ts := make([]time.Duration, 0, 1000)
				for i := 0; i < cap(ts); i++ {
					t0 := time.Now()
					For(threads, tc.jobs, job)
					ts = append(ts, time.Since(t0))
				}
				slices.Sort(ts)
				return ts[len(ts)/2]
			}
			for i := 0; i < b.N; i++ {
				one, two := median(1), median(2)
				b.ReportMetric(float64(one)/float64(two), "x-one-thread")
				b.ReportMetric(float64(two.Nanoseconds())/1e3, "us-two-threads")
			}
		})
	}
}

// A job panicking on a worker reaches the caller of For, after the other jobs stopped,
// instead of ending the process; the pool keeps working afterwards.
func TestForPanicReachesCaller(t *testing.T) {
	for _, threads := range []int{1, 2, 4} {
		func() {
			defer func() {
				if r := recover(); r != "job 37" {
					t.Errorf("threads %d: recovered %v, want the job's panic", threads, r)
				}
			}()
			For(threads, 200, func(j int) {
				if j == 37 {
					panic("job 37")
				}
				time.Sleep(10 * time.Microsecond)
			})
		}()
	}
	var n atomic.Int64
	For(4, 100, func(int) { n.Add(1) })
	if n.Load() != 100 {
		t.Fatalf("after a panic the pool ran %d of 100 jobs", n.Load())
	}
}

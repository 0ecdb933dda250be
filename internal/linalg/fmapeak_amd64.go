//go:build amd64 && !noasm

package linalg

import (
	"sync"
	"time"

	"golang.org/x/sys/cpu"
)

//go:noescape
func fmaPeakAVX512(n int)

//go:noescape
func fmaPeakAVX2(n int)

// FMAPeak measures the single-core float32 multiply-add throughput of the widest vector
// unit this CPU has (AVX-512, else AVX2 with FMA), in GFLOP/s, by timing a loop of
// independent FMAs for about d; the unit's name comes with it. It is what the GEMM
// benchmarks report their efficiency against. Run it on an otherwise idle core.
func FMAPeak(d time.Duration) (gflops float64, unit string) {
	probe, flopsPerIter, unit := fmaPeakAVX2, 192.0, "avx2"
	switch {
	case cpu.X86.HasAVX512F:
		probe, flopsPerIter, unit = fmaPeakAVX512, 768, "avx512"
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
	default:
		return 0, "none"
	}
	const chunk = 1 << 16
	probe(chunk) // warm up the unit (AVX-512 clocks up)
	best := 0.0
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		start := time.Now()
		probe(chunk)
		if s := time.Since(start).Seconds(); s > 0 {
			best = max(best, flopsPerIter*chunk/s/1e9)
		}
	}
	return best, unit
}

// FMAScaling runs the FMAPeak loop on one goroutine for d, then on threads goroutines at
// once for d, and returns how many times more multiply-adds the threads did in all. On
// threads separate cores that is about threads; virtual CPUs that are hyperthreads of
// one core (or cores the host is lending to others) give about 1. Multi-threaded
// benchmarks on a virtual machine mean little unless it is close to threads.
func FMAScaling(threads int, d time.Duration) float64 {
	probe := fmaPeakAVX2
	switch {
	case cpu.X86.HasAVX512F:
		probe = fmaPeakAVX512
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
	default:
		return 0
	}
	run := func(g int) int {
		counts := make([]int, g)
		var wg sync.WaitGroup
		for i := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for deadline := time.Now().Add(d); time.Now().Before(deadline); counts[i]++ {
					probe(1 << 12)
				}
			}()
		}
		wg.Wait()
		n := 0
		for _, c := range counts {
			n += c
		}
		return n
	}
	one := run(1)
	return float64(run(threads)) / float64(max(one, 1))
}

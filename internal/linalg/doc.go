// Package linalg holds whittle's dense linear-algebra routines for the runtime's kernels
// and for training: the float32 GEMM (Sgemm, with pre-packed operands for constant
// weights), its micro-kernels chosen at start-up for the CPU, a pool of scratch buffers,
// and the parallel loop (For) that spreads a kernel's work over a bounded number of
// goroutines.
//
// # Files
//
// The float GEMM lives in the files named sgemm*: sgemm.go (entry points, blocking and
// packing, reference loop), sgemm_kernels.go (the micro-kernel table), sgemm_amd64.go and
// sgemm_*_amd64.s (assembly micro-kernels), sgemm_noasm.go (builds without assembly).
// Integer GEMMs belong in files named qgemm* beside them, following the same pattern: a
// documented Go reference loop, assembly variants behind golang.org/x/sys/cpu checks, a
// portable fallback under the noasm tag, and tests comparing every variant the machine
// supports with the reference.
//
// # Threads
//
// Every routine that may run in parallel takes a threads argument: the number of
// goroutines it may occupy, the caller's included. Values below 2 run everything on the
// caller's goroutine. The runtime passes kernel.Context.Threads, which comes from
// runtime.Options.Threads (and `--threads` on the command line), so a session never uses
// more cores than asked. See For for what a parallel body may and may not do.
//
// # Build tags
//
// Under the noasm tag (or on other architectures) only the portable Go micro-kernels are
// built; CI runs the tests both ways so that the fallback never goes stale.
package linalg

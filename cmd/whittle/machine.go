package main

import (
	"bufio"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"

	"golang.org/x/sys/cpu"
)

// machineDescription names the CPU, its core count and the vector extensions the kernels
// dispatch on, for benchmark reports.
func machineDescription() string {
	name := goruntime.GOARCH
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		s := bufio.NewScanner(f)
		for s.Scan() {
			if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				name = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	var feats []string
	for _, f := range []struct {
		ok   bool
		name string
	}{{cpu.X86.HasAVX2, "AVX2"}, {cpu.X86.HasFMA, "FMA"}, {cpu.X86.HasAVX512F, "AVX-512F"},
		{cpu.X86.HasAVX512BW, "BW"}, {cpu.X86.HasAVX512VL, "VL"}, {cpu.X86.HasAVX512DQ, "DQ"},
		{cpu.X86.HasAVX512VNNI, "AVX512-VNNI"}, {cpu.X86.HasAVXVNNI, "AVX-VNNI"}} {
		if f.ok {
			feats = append(feats, f.name)
		}
	}
	return fmt.Sprintf("%s, %d cores, %s", name, goruntime.NumCPU(), strings.Join(feats, " "))
}

//go:build amd64 && !noasm

package linalg

import "golang.org/x/sys/cpu"

//go:generate go run sgemm_gen.go

// The generated tile kernels (sgemm_tile_*_amd64.s), indexed by rows (1-based) and vectors.
var (
	avx512Tiles = [15][3]func(*tileArgs){
		1:  {1: tileAVX512_1x1, 2: tileAVX512_1x2},
		2:  {1: tileAVX512_2x1, 2: tileAVX512_2x2},
		3:  {1: tileAVX512_3x1, 2: tileAVX512_3x2},
		4:  {1: tileAVX512_4x1, 2: tileAVX512_4x2},
		5:  {1: tileAVX512_5x1, 2: tileAVX512_5x2},
		6:  {1: tileAVX512_6x1, 2: tileAVX512_6x2},
		7:  {1: tileAVX512_7x1, 2: tileAVX512_7x2},
		8:  {1: tileAVX512_8x1, 2: tileAVX512_8x2},
		9:  {1: tileAVX512_9x1, 2: tileAVX512_9x2},
		10: {1: tileAVX512_10x1, 2: tileAVX512_10x2},
		11: {1: tileAVX512_11x1, 2: tileAVX512_11x2},
		12: {1: tileAVX512_12x1, 2: tileAVX512_12x2},
		13: {1: tileAVX512_13x1, 2: tileAVX512_13x2},
		14: {1: tileAVX512_14x1, 2: tileAVX512_14x2},
	}
	avx2Tiles = [7][3]func(*tileArgs){
		1: {1: tileAVX2_1x1, 2: tileAVX2_1x2},
		2: {1: tileAVX2_2x1, 2: tileAVX2_2x2},
		3: {1: tileAVX2_3x1, 2: tileAVX2_3x2},
		4: {1: tileAVX2_4x1, 2: tileAVX2_4x2},
		5: {1: tileAVX2_5x1, 2: tileAVX2_5x2},
		6: {1: tileAVX2_6x1, 2: tileAVX2_6x2},
	}
)

var (
	avx512TileKernel = &tileKernel{name: "avx512", maxMR: 14, nrs: []int{32, 16}, masked: true,
		call: func(mr, nr int, t *tileArgs) { avx512Tiles[mr][nr/16](t) }}
	avx2TileKernel = &tileKernel{name: "avx2", maxMR: 6, nrs: []int{16, 8},
		call: func(mr, nr int, t *tileArgs) { avx2Tiles[mr][nr/8](t) }}
)

func init() {
	switch {
	case cpu.X86.HasAVX512F:
		defaultTileKernel = avx512TileKernel
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		defaultTileKernel = avx2TileKernel
	}
}

// tileKernels lists the tile kernels this machine can run, for tests.
func tileKernels() []*tileKernel {
	ks := []*tileKernel{goTileKernel}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ks = append(ks, avx2TileKernel)
	}
	if cpu.X86.HasAVX512F {
		ks = append(ks, avx512TileKernel)
	}
	return ks
}

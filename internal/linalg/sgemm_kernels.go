package linalg

// defaultTileKernel is the fastest tile kernel this CPU runs, chosen at start-up
// (sgemm_tile_amd64.go). Packed operands remember the kernel they were packed for.
var defaultTileKernel = goTileKernel

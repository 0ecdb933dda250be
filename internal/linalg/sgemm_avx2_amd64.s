//go:build amd64 && !noasm

#include "textflag.h"

// func sgemmKernel6x16(kc int, alpha float32, a, b, c *float32, ldc int)
//
// Y0..Y11 hold the 6×16 accumulator tile: row r is Y(2r) (columns 0-7) and Y(2r+1)
// (columns 8-15). Each step loads one 16-wide row of the B panel into Y12:Y13, broadcasts
// the six A values of that step in turn into Y14/Y15 (alternating, so consecutive
// broadcasts do not wait on each other) and fuses the products into the accumulators.
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DI
	MOVQ c+32(FP), DX
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8                 // row stride of C in bytes

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop:
	VMOVUPS (DI), Y12           // b[p][0:8]
	VMOVUPS 32(DI), Y13         // b[p][8:16]
	VBROADCASTSS (SI), Y14      // a[p][0]
	VFMADD231PS Y12, Y14, Y0    // Y0 += a0 * b[0:8]
	VFMADD231PS Y13, Y14, Y1
	VBROADCASTSS 4(SI), Y15     // a[p][1]
	VFMADD231PS Y12, Y15, Y2
	VFMADD231PS Y13, Y15, Y3
	VBROADCASTSS 8(SI), Y14     // a[p][2]
	VFMADD231PS Y12, Y14, Y4
	VFMADD231PS Y13, Y14, Y5
	VBROADCASTSS 12(SI), Y15    // a[p][3]
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VBROADCASTSS 16(SI), Y14    // a[p][4]
	VFMADD231PS Y12, Y14, Y8
	VFMADD231PS Y13, Y14, Y9
	VBROADCASTSS 20(SI), Y15    // a[p][5]
	VFMADD231PS Y12, Y15, Y10
	VFMADD231PS Y13, Y15, Y11
	ADDQ $24, SI                // next 6 A values
	ADDQ $64, DI                // next 16 B values
	DECQ CX
	JNZ  loop

	// C[r] += alpha * acc[r], one row at a time.
	VBROADCASTSS alpha+8(FP), Y14
	VMOVUPS (DX), Y12
	VMOVUPS 32(DX), Y13
	VFMADD231PS Y0, Y14, Y12
	VFMADD231PS Y1, Y14, Y13
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	ADDQ R8, DX
	VMOVUPS (DX), Y12
	VMOVUPS 32(DX), Y13
	VFMADD231PS Y2, Y14, Y12
	VFMADD231PS Y3, Y14, Y13
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	ADDQ R8, DX
	VMOVUPS (DX), Y12
	VMOVUPS 32(DX), Y13
	VFMADD231PS Y4, Y14, Y12
	VFMADD231PS Y5, Y14, Y13
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	ADDQ R8, DX
	VMOVUPS (DX), Y12
	VMOVUPS 32(DX), Y13
	VFMADD231PS Y6, Y14, Y12
	VFMADD231PS Y7, Y14, Y13
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	ADDQ R8, DX
	VMOVUPS (DX), Y12
	VMOVUPS 32(DX), Y13
	VFMADD231PS Y8, Y14, Y12
	VFMADD231PS Y9, Y14, Y13
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	ADDQ R8, DX
	VMOVUPS (DX), Y12
	VMOVUPS 32(DX), Y13
	VFMADD231PS Y10, Y14, Y12
	VFMADD231PS Y11, Y14, Y13
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	VZEROUPPER
	RET

//go:build amd64 && !noasm

#include "textflag.h"

// Row-broadcast routines (rows.go). Every function takes rows of n columns, ld elements
// apart; n > 0 and rows > 0.

// MASKCX sets K1 to the low CX lanes (0 < CX < 16), using AX.
#define MASKCX \
	MOVL $1, AX \
	SHLL CX, AX \
	DECL AX \
	KMOVW AX, K1

// BROADCAST512 defines func name(dst, a, row *float32, rows, n, ld int) computing
// dst[j] = op(a[j], row[j]) for j < n on every row: 16 columns a step (R11 is the byte
// offset in the row), then the last partial vector masked.
#define BROADCAST512(name, op) \
TEXT name(SB), NOSPLIT, $0-48 \
	MOVQ dst+0(FP), DI \
	MOVQ a+8(FP), SI \
	MOVQ row+16(FP), DX \
	MOVQ rows+24(FP), R8 \
	MOVQ ld+40(FP), R10 \
	SHLQ $2, R10 \
brow: \
	MOVQ n+32(FP), CX \
	XORQ R11, R11 \
bcol: \
	CMPQ CX, $16 \
	JLT  btail \
	VMOVUPS (SI)(R11*1), Z0 \
	op (DX)(R11*1), Z0, Z0 \
	VMOVUPS Z0, (DI)(R11*1) \
	ADDQ $64, R11 \
	SUBQ $16, CX \
	JMP  bcol \
btail: \
	TESTQ CX, CX \
	JZ   bnext \
	MASKCX \
	VMOVUPS.Z (SI)(R11*1), K1, Z0 \
	VMOVUPS.Z (DX)(R11*1), K1, Z1 \
	op Z1, Z0, Z0 \
	VMOVUPS Z0, K1, (DI)(R11*1) \
bnext: \
	ADDQ R10, DI \
	ADDQ R10, SI \
	DECQ R8 \
	JNZ  brow \
	VZEROUPPER \
	RET

BROADCAST512(·mulBroadcastAVX512, VMULPS)
BROADCAST512(·addBroadcastAVX512, VADDPS)

// BROADCAST256 is BROADCAST512 with AVX2 for n a multiple of 8.
#define BROADCAST256(name, op) \
TEXT name(SB), NOSPLIT, $0-48 \
	MOVQ dst+0(FP), DI \
	MOVQ a+8(FP), SI \
	MOVQ row+16(FP), DX \
	MOVQ rows+24(FP), R8 \
	MOVQ ld+40(FP), R10 \
	SHLQ $2, R10 \
crow: \
	MOVQ n+32(FP), CX \
	XORQ R11, R11 \
ccol: \
	VMOVUPS (SI)(R11*1), Y0 \
	op (DX)(R11*1), Y0, Y0 \
	VMOVUPS Y0, (DI)(R11*1) \
	ADDQ $32, R11 \
	SUBQ $8, CX \
	JNZ  ccol \
	ADDQ R10, DI \
	ADDQ R10, SI \
	DECQ R8 \
	JNZ  crow \
	VZEROUPPER \
	RET

BROADCAST256(·mulBroadcastAVX2, VMULPS)
BROADCAST256(·addBroadcastAVX2, VADDPS)

// func sumRowsAVX512(acc, x *float32, rows, n, ld int)
//
// Columns go in blocks of 64, then 32, then 16, then the masked rest; each block keeps
// four partial sums (four vectors over one row, two over two rows, or one over four)
// that it adds to acc after its pass over the rows. R9 is the row stride in bytes, R10
// the row pointer, R8 the rows left.
TEXT ·sumRowsAVX512(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+24(FP), CX
	MOVQ ld+32(FP), R9
	SHLQ $2, R9
block4:
	CMPQ CX, $64
	JLT  block2
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VMOVUPS 128(DI), Z2
	VMOVUPS 192(DI), Z3
	MOVQ SI, R10
	MOVQ rows+16(FP), R8
r4:
	VADDPS (R10), Z0, Z0
	VADDPS 64(R10), Z1, Z1
	VADDPS 128(R10), Z2, Z2
	VADDPS 192(R10), Z3, Z3
	ADDQ R9, R10
	DECQ R8
	JNZ  r4
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ $256, DI
	ADDQ $256, SI
	SUBQ $64, CX
	JMP  block4
block2:
	CMPQ CX, $32
	JLT  block1
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ SI, R10
	MOVQ rows+16(FP), R8
r2:
	CMPQ R8, $2
	JLT  r2one
	VADDPS (R10), Z0, Z0
	VADDPS 64(R10), Z1, Z1
	VADDPS (R10)(R9*1), Z2, Z2
	VADDPS 64(R10)(R9*1), Z3, Z3
	LEAQ (R10)(R9*2), R10
	SUBQ $2, R8
	JMP  r2
r2one:
	TESTQ R8, R8
	JZ   r2done
	VADDPS (R10), Z0, Z0
	VADDPS 64(R10), Z1, Z1
r2done:
	VADDPS Z2, Z0, Z0
	VADDPS Z3, Z1, Z1
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	ADDQ $128, DI
	ADDQ $128, SI
	SUBQ $32, CX
block1:
	TESTQ CX, CX
	JZ   done
	KXNORW K1, K1, K1
	CMPQ CX, $16
	JGE  full1
	MASKCX
full1:
	VMOVUPS.Z (DI), K1, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ SI, R10
	MOVQ rows+16(FP), R8
r1:
	CMPQ R8, $4
	JLT  r1one
	LEAQ (R10)(R9*2), R11
	VMOVUPS.Z (R10), K1, Z4
	VMOVUPS.Z (R10)(R9*1), K1, Z5
	VMOVUPS.Z (R11), K1, Z6
	VMOVUPS.Z (R11)(R9*1), K1, Z7
	VADDPS Z4, Z0, Z0
	VADDPS Z5, Z1, Z1
	VADDPS Z6, Z2, Z2
	VADDPS Z7, Z3, Z3
	LEAQ (R11)(R9*2), R10
	SUBQ $4, R8
	JMP  r1
r1one:
	TESTQ R8, R8
	JZ   r1done
	VMOVUPS.Z (R10), K1, Z4
	VADDPS Z4, Z0, Z0
	ADDQ R9, R10
	DECQ R8
	JMP  r1one
r1done:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JG   block1
done:
	VZEROUPPER
	RET

// func sumRowsAVX2(acc, x *float32, rows, n, ld int), n a multiple of 8: one vector of
// columns at a time, four rows a step into four partial sums.
TEXT ·sumRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+24(FP), CX
	MOVQ ld+32(FP), R9
	SHLQ $2, R9
col2:
	VMOVUPS (DI), Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ SI, R10
	MOVQ rows+16(FP), R8
q4:
	CMPQ R8, $4
	JLT  q1
	LEAQ (R10)(R9*2), R11
	VADDPS (R10), Y0, Y0
	VADDPS (R10)(R9*1), Y1, Y1
	VADDPS (R11), Y2, Y2
	VADDPS (R11)(R9*1), Y3, Y3
	LEAQ (R11)(R9*2), R10
	SUBQ $4, R8
	JMP  q4
q1:
	TESTQ R8, R8
	JZ   qdone
	VADDPS (R10), Y0, Y0
	ADDQ R9, R10
	DECQ R8
	JMP  q1
qdone:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JNZ  col2
	VZEROUPPER
	RET

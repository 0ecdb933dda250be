//go:build amd64 && !noasm

#include "textflag.h"
#include "go_asm.h"

// func depthwiseAVX512(a *dwArgs)
//
// For each output pixel (R8: its window origin, R9: its output, R10: its residual), the
// channels go in blocks of four full vectors (Z0-Z3, four independent chains of taps),
// then one vector at a time with the last one masked (K1). Each tap adds the input vector
// at origin + taps[t] times the weight row t (DI walks the weight rows).
TEXT ·depthwiseAVX512(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), R13
	MOVQ dwArgs_x(R13), R8
	MOVQ dwArgs_y(R13), R9
	MOVQ dwArgs_z(R13), R10
	MOVQ dwArgs_ow(R13), R12
	VBROADCASTSS dwArgs_lo(R13), Z30
	VBROADCASTSS dwArgs_hi(R13), Z31
pixel:
	XORQ BX, BX                    // byte offset of the channel block
	MOVQ dwArgs_c(R13), CX         // channels left
block4:
	CMPQ CX, $64
	JLT  single
	MOVQ dwArgs_bias(R13), AX
	VMOVUPS (AX)(BX*1), Z0
	VMOVUPS 64(AX)(BX*1), Z1
	VMOVUPS 128(AX)(BX*1), Z2
	VMOVUPS 192(AX)(BX*1), Z3
	MOVQ dwArgs_taps(R13), SI
	MOVQ dwArgs_ntaps(R13), DX
	MOVQ dwArgs_w(R13), DI
	ADDQ BX, DI
tap4:
	MOVQ (SI), R11
	ADDQ R8, R11
	VMOVUPS (R11)(BX*1), Z4
	VMOVUPS 64(R11)(BX*1), Z5
	VMOVUPS 128(R11)(BX*1), Z6
	VMOVUPS 192(R11)(BX*1), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ $8, SI
	ADDQ dwArgs_wstride(R13), DI
	DECQ DX
	JNZ  tap4
	MOVQ dwArgs_flags(R13), AX
	TESTQ $1, AX
	JZ   nores4
	VADDPS (R10)(BX*1), Z0, Z0
	VADDPS 64(R10)(BX*1), Z1, Z1
	VADDPS 128(R10)(BX*1), Z2, Z2
	VADDPS 192(R10)(BX*1), Z3, Z3
nores4:
	TESTQ $2, AX
	JZ   noclamp4
	VMAXPS Z30, Z0, Z0
	VMAXPS Z30, Z1, Z1
	VMAXPS Z30, Z2, Z2
	VMAXPS Z30, Z3, Z3
	VMINPS Z31, Z0, Z0
	VMINPS Z31, Z1, Z1
	VMINPS Z31, Z2, Z2
	VMINPS Z31, Z3, Z3
noclamp4:
	VMOVUPS Z0, (R9)(BX*1)
	VMOVUPS Z1, 64(R9)(BX*1)
	VMOVUPS Z2, 128(R9)(BX*1)
	VMOVUPS Z3, 192(R9)(BX*1)
	ADDQ $256, BX
	SUBQ $64, CX
	JMP  block4
single:
	TESTQ CX, CX
	JZ   nextpixel
	KXNORW K1, K1, K1
	CMPQ CX, $16
	JGE  full1
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
full1:
	MOVQ dwArgs_bias(R13), AX
	VMOVUPS (AX)(BX*1), Z0
	MOVQ dwArgs_taps(R13), SI
	MOVQ dwArgs_ntaps(R13), DX
	MOVQ dwArgs_w(R13), DI
	ADDQ BX, DI
tap1:
	MOVQ (SI), R11
	ADDQ R8, R11
	VMOVUPS.Z (R11)(BX*1), K1, Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ $8, SI
	ADDQ dwArgs_wstride(R13), DI
	DECQ DX
	JNZ  tap1
	MOVQ dwArgs_flags(R13), AX
	TESTQ $1, AX
	JZ   nores1
	VADDPS (R10)(BX*1), Z0, K1, Z0
nores1:
	TESTQ $2, AX
	JZ   noclamp1
	VMAXPS Z30, Z0, Z0
	VMINPS Z31, Z0, Z0
noclamp1:
	VMOVUPS Z0, K1, (R9)(BX*1)
	ADDQ $64, BX
	SUBQ $16, CX
	JG   single
nextpixel:
	ADDQ dwArgs_xstep(R13), R8
	MOVQ dwArgs_c(R13), AX
	SHLQ $2, AX
	ADDQ AX, R9
	ADDQ AX, R10
	DECQ R12
	JNZ  pixel
	VZEROUPPER
	RET

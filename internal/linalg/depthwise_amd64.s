//go:build amd64 && !noasm

#include "textflag.h"
#include "go_asm.h"

// func depthwiseAVX512(a *dwArgs)
//
// The taps table holds pairs (input offset, weight row offset), in bytes. Pixels go eight
// at a time first (blocks): for each channel vector (the last one
// masked, K1), eight accumulators Z0-Z7 start at the bias and each tap adds the eight
// pixels' input vectors times the tap's weight vector (Z8), loaded once for all eight.
// Pixel i's input is at origin + i·xstep: bases R11 (pixels 0-2), R14 (3-5) and AX (6-7)
// index it with DX = xstep. The pixels left over go one at a time, with the channels in
// blocks of four full vectors (Z0-Z3, four independent chains of taps) and then one
// vector at a time.
TEXT ·depthwiseAVX512(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), R13
	MOVQ dwArgs_x(R13), R8
	MOVQ dwArgs_y(R13), R9
	MOVQ dwArgs_z(R13), R10
	VBROADCASTSS dwArgs_lo(R13), Z30
	VBROADCASTSS dwArgs_hi(R13), Z31
	MOVQ dwArgs_xstep(R13), DX
	MOVQ dwArgs_blocks(R13), R12
	TESTQ R12, R12
	JZ   ones
block8:
	XORQ BX, BX
	MOVQ dwArgs_c(R13), CX
vec8:
	KXNORW K1, K1, K1
	CMPQ CX, $16
	JGE  full8
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
full8:
	MOVQ dwArgs_bias(R13), AX
	VMOVUPS (AX)(BX*1), Z9
	VMOVAPS Z9, Z0
	VMOVAPS Z9, Z1
	VMOVAPS Z9, Z2
	VMOVAPS Z9, Z3
	VMOVAPS Z9, Z4
	VMOVAPS Z9, Z5
	VMOVAPS Z9, Z6
	VMOVAPS Z9, Z7
	MOVQ dwArgs_taps(R13), SI
tap8:
	MOVQ dwArgs_w(R13), DI
	ADDQ 8(SI), DI
	VMOVUPS (DI)(BX*1), Z8
	MOVQ (SI), R11
	ADDQ BX, R11
	ADDQ R8, R11
	LEAQ (R11)(DX*2), R14
	ADDQ DX, R14
	LEAQ (R14)(DX*2), AX
	ADDQ DX, AX
	VFMADD231PS (R11), Z8, K1, Z0
	VFMADD231PS (R11)(DX*1), Z8, K1, Z1
	VFMADD231PS (R11)(DX*2), Z8, K1, Z2
	VFMADD231PS (R14), Z8, K1, Z3
	VFMADD231PS (R14)(DX*1), Z8, K1, Z4
	VFMADD231PS (R14)(DX*2), Z8, K1, Z5
	VFMADD231PS (AX), Z8, K1, Z6
	VFMADD231PS (AX)(DX*1), Z8, K1, Z7
	ADDQ $16, SI
	CMPQ SI, dwArgs_tapsEnd(R13)
	JNE  tap8
	MOVQ dwArgs_cb(R13), SI
	MOVQ dwArgs_flags(R13), AX
	TESTQ $1, AX
	JZ   nores8
	LEAQ (R10)(BX*1), R11
	VADDPS (R11), Z0, K1, Z0
	ADDQ SI, R11
	VADDPS (R11), Z1, K1, Z1
	ADDQ SI, R11
	VADDPS (R11), Z2, K1, Z2
	ADDQ SI, R11
	VADDPS (R11), Z3, K1, Z3
	ADDQ SI, R11
	VADDPS (R11), Z4, K1, Z4
	ADDQ SI, R11
	VADDPS (R11), Z5, K1, Z5
	ADDQ SI, R11
	VADDPS (R11), Z6, K1, Z6
	ADDQ SI, R11
	VADDPS (R11), Z7, K1, Z7
nores8:
	TESTQ $2, AX
	JZ   noclamp8
	VMAXPS Z30, Z0, Z0
	VMAXPS Z30, Z1, Z1
	VMAXPS Z30, Z2, Z2
	VMAXPS Z30, Z3, Z3
	VMAXPS Z30, Z4, Z4
	VMAXPS Z30, Z5, Z5
	VMAXPS Z30, Z6, Z6
	VMAXPS Z30, Z7, Z7
	VMINPS Z31, Z0, Z0
	VMINPS Z31, Z1, Z1
	VMINPS Z31, Z2, Z2
	VMINPS Z31, Z3, Z3
	VMINPS Z31, Z4, Z4
	VMINPS Z31, Z5, Z5
	VMINPS Z31, Z6, Z6
	VMINPS Z31, Z7, Z7
noclamp8:
	LEAQ (R9)(BX*1), R11
	VMOVUPS Z0, K1, (R11)
	ADDQ SI, R11
	VMOVUPS Z1, K1, (R11)
	ADDQ SI, R11
	VMOVUPS Z2, K1, (R11)
	ADDQ SI, R11
	VMOVUPS Z3, K1, (R11)
	ADDQ SI, R11
	VMOVUPS Z4, K1, (R11)
	ADDQ SI, R11
	VMOVUPS Z5, K1, (R11)
	ADDQ SI, R11
	VMOVUPS Z6, K1, (R11)
	ADDQ SI, R11
	VMOVUPS Z7, K1, (R11)
	ADDQ $64, BX
	SUBQ $16, CX
	JG   vec8
	// Next block of eight pixels: origin += 8·xstep, y and z += 8·cb.
	LEAQ (R8)(DX*8), R8
	MOVQ dwArgs_cb(R13), AX
	SHLQ $3, AX
	ADDQ AX, R9
	ADDQ AX, R10
	DECQ R12
	JNZ  block8
ones:
	MOVQ dwArgs_ow(R13), R12
	MOVQ dwArgs_blocks(R13), AX
	SHLQ $3, AX
	SUBQ AX, R12
	JZ   done
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
tap4:
	MOVQ dwArgs_w(R13), DI
	ADDQ 8(SI), DI
	ADDQ BX, DI
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
	ADDQ $16, SI
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
tap1:
	MOVQ dwArgs_w(R13), DI
	ADDQ 8(SI), DI
	ADDQ BX, DI
	MOVQ (SI), R11
	ADDQ R8, R11
	VMOVUPS.Z (R11)(BX*1), K1, Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ $16, SI
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
done:
	VZEROUPPER
	RET

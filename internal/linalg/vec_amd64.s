//go:build amd64 && !noasm

#include "textflag.h"

// Constants of the exp approximation (Cephes expf): clamp bounds (inside the range where
// 2^n is a normal float, so AVX2 can build it in the exponent field; e^88 and e^-87 are
// beyond what Sigmoid and SiLU can tell apart), log2(e), ln 2 split in
// a high and a low part, the polynomial's coefficients, 1, 1/2, 1/6, 127, 3.
DATA expc<>+0(SB)/4, $88.0
DATA expc<>+4(SB)/4, $-87.0
DATA expc<>+8(SB)/4, $1.44269504088896341
DATA expc<>+12(SB)/4, $0.693359375
DATA expc<>+16(SB)/4, $-2.12194440e-4
DATA expc<>+20(SB)/4, $1.9875691500e-4
DATA expc<>+24(SB)/4, $1.3981999507e-3
DATA expc<>+28(SB)/4, $8.3334519073e-3
DATA expc<>+32(SB)/4, $4.1665795894e-2
DATA expc<>+36(SB)/4, $1.6666665459e-1
DATA expc<>+40(SB)/4, $5.0000001201e-1
DATA expc<>+44(SB)/4, $1.0
DATA expc<>+48(SB)/4, $0.5
DATA expc<>+52(SB)/4, $0.16666666666666666
DATA expc<>+56(SB)/4, $127.0
DATA expc<>+60(SB)/4, $3.0
GLOBL expc<>(SB), RODATA|NOPTR, $64

// EXP512 sets Z0 = e^Z0, using Z1-Z3 and the constants in Z16-Z28.
#define EXP512 \
	VMINPS Z16, Z0, Z0 \
	VMAXPS Z17, Z0, Z0 \
	VMULPS Z18, Z0, Z1 \
	VRNDSCALEPS $0, Z1, Z1 \
	VFNMADD231PS Z19, Z1, Z0 \
	VFNMADD231PS Z20, Z1, Z0 \
	VMOVAPS Z21, Z2 \
	VFMADD213PS Z22, Z0, Z2 \
	VFMADD213PS Z23, Z0, Z2 \
	VFMADD213PS Z24, Z0, Z2 \
	VFMADD213PS Z25, Z0, Z2 \
	VFMADD213PS Z26, Z0, Z2 \
	VMULPS Z0, Z0, Z3 \
	VFMADD213PS Z0, Z3, Z2 \
	VADDPS Z27, Z2, Z2 \
	VSCALEFPS Z1, Z2, Z0

#define LOADEXP512 \
	VBROADCASTSS expc<>+0(SB), Z16 \
	VBROADCASTSS expc<>+4(SB), Z17 \
	VBROADCASTSS expc<>+8(SB), Z18 \
	VBROADCASTSS expc<>+12(SB), Z19 \
	VBROADCASTSS expc<>+16(SB), Z20 \
	VBROADCASTSS expc<>+20(SB), Z21 \
	VBROADCASTSS expc<>+24(SB), Z22 \
	VBROADCASTSS expc<>+28(SB), Z23 \
	VBROADCASTSS expc<>+32(SB), Z24 \
	VBROADCASTSS expc<>+36(SB), Z25 \
	VBROADCASTSS expc<>+40(SB), Z26 \
	VBROADCASTSS expc<>+44(SB), Z27

// EXP512X4 is EXP512 on four vectors at once, Z0, Z4, Z8 and Z12, each with the next
// three registers as its temporaries: interleaving four independent chains keeps the
// vector units busy where one chain waits on its own latencies (about 20% faster per
// element on Zen 5 than EXP512 in a loop).
#define EXP512X4 \
	VMINPS Z16, Z0, Z0 \
	VMINPS Z16, Z4, Z4 \
	VMINPS Z16, Z8, Z8 \
	VMINPS Z16, Z12, Z12 \
	VMAXPS Z17, Z0, Z0 \
	VMAXPS Z17, Z4, Z4 \
	VMAXPS Z17, Z8, Z8 \
	VMAXPS Z17, Z12, Z12 \
	VMULPS Z18, Z0, Z1 \
	VMULPS Z18, Z4, Z5 \
	VMULPS Z18, Z8, Z9 \
	VMULPS Z18, Z12, Z13 \
	VRNDSCALEPS $0, Z1, Z1 \
	VRNDSCALEPS $0, Z5, Z5 \
	VRNDSCALEPS $0, Z9, Z9 \
	VRNDSCALEPS $0, Z13, Z13 \
	VFNMADD231PS Z19, Z1, Z0 \
	VFNMADD231PS Z19, Z5, Z4 \
	VFNMADD231PS Z19, Z9, Z8 \
	VFNMADD231PS Z19, Z13, Z12 \
	VFNMADD231PS Z20, Z1, Z0 \
	VFNMADD231PS Z20, Z5, Z4 \
	VFNMADD231PS Z20, Z9, Z8 \
	VFNMADD231PS Z20, Z13, Z12 \
	VMOVAPS Z21, Z2 \
	VMOVAPS Z21, Z6 \
	VMOVAPS Z21, Z10 \
	VMOVAPS Z21, Z14 \
	VFMADD213PS Z22, Z0, Z2 \
	VFMADD213PS Z22, Z4, Z6 \
	VFMADD213PS Z22, Z8, Z10 \
	VFMADD213PS Z22, Z12, Z14 \
	VFMADD213PS Z23, Z0, Z2 \
	VFMADD213PS Z23, Z4, Z6 \
	VFMADD213PS Z23, Z8, Z10 \
	VFMADD213PS Z23, Z12, Z14 \
	VFMADD213PS Z24, Z0, Z2 \
	VFMADD213PS Z24, Z4, Z6 \
	VFMADD213PS Z24, Z8, Z10 \
	VFMADD213PS Z24, Z12, Z14 \
	VFMADD213PS Z25, Z0, Z2 \
	VFMADD213PS Z25, Z4, Z6 \
	VFMADD213PS Z25, Z8, Z10 \
	VFMADD213PS Z25, Z12, Z14 \
	VFMADD213PS Z26, Z0, Z2 \
	VFMADD213PS Z26, Z4, Z6 \
	VFMADD213PS Z26, Z8, Z10 \
	VFMADD213PS Z26, Z12, Z14 \
	VMULPS Z0, Z0, Z3 \
	VMULPS Z4, Z4, Z7 \
	VMULPS Z8, Z8, Z11 \
	VMULPS Z12, Z12, Z15 \
	VFMADD213PS Z0, Z3, Z2 \
	VFMADD213PS Z4, Z7, Z6 \
	VFMADD213PS Z8, Z11, Z10 \
	VFMADD213PS Z12, Z15, Z14 \
	VADDPS Z27, Z2, Z2 \
	VADDPS Z27, Z6, Z6 \
	VADDPS Z27, Z10, Z10 \
	VADDPS Z27, Z14, Z14 \
	VSCALEFPS Z1, Z2, Z0 \
	VSCALEFPS Z5, Z6, Z4 \
	VSCALEFPS Z9, Z10, Z8 \
	VSCALEFPS Z13, Z14, Z12

// NEG4 loads the four vectors at DI into Z3, Z7, Z11 and Z15 and their negations into
// Z0, Z4, Z8 and Z12, the arguments of EXP512X4.
#define NEG4 \
	VMOVUPS 0(DI), Z3 \
	VMOVUPS 64(DI), Z7 \
	VMOVUPS 128(DI), Z11 \
	VMOVUPS 192(DI), Z15 \
	VXORPS Z0, Z0, Z0 \
	VXORPS Z4, Z4, Z4 \
	VXORPS Z8, Z8, Z8 \
	VXORPS Z12, Z12, Z12 \
	VSUBPS Z3, Z0, Z0 \
	VSUBPS Z7, Z4, Z4 \
	VSUBPS Z11, Z8, Z8 \
	VSUBPS Z15, Z12, Z12


// TAILMASK sets K1 to the lanes of the last (partial) vector: CX holds the count left.
#define TAILMASK \
	MOVL $1, AX \
	SHLL CX, AX \
	DECL AX \
	KMOVW AX, K1

// func sigmoidAVX512(x *float32, n int)
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	LOADEXP512
gfour:
	CMPQ CX, $64
	JLT  gone
	NEG4
	EXP512X4
	VADDPS Z27, Z0, Z0
	VADDPS Z27, Z4, Z4
	VADDPS Z27, Z8, Z8
	VADDPS Z27, Z12, Z12
	VDIVPS Z0, Z27, Z0
	VDIVPS Z4, Z27, Z4
	VDIVPS Z8, Z27, Z8
	VDIVPS Z12, Z27, Z12
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z4, 64(DI)
	VMOVUPS Z8, 128(DI)
	VMOVUPS Z12, 192(DI)
	ADDQ $256, DI
	SUBQ $64, CX
	JMP  gfour
gone:
	KXNORW K1, K1, K1
loop:
	CMPQ CX, $16
	JGE  full
	TESTQ CX, CX
	JZ   done
	TAILMASK
full:
	VMOVUPS.Z (DI), K1, Z4
	VXORPS Z0, Z0, Z0
	VSUBPS Z4, Z0, Z0        // -x
	EXP512                   // e^-x
	VADDPS Z27, Z0, Z0       // 1 + e^-x
	VDIVPS Z0, Z27, Z0       // 1 / (1 + e^-x)
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JG   loop
done:
	VZEROUPPER
	RET

// func siluAVX512(x *float32, n int)
TEXT ·siluAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	LOADEXP512
sfour:
	CMPQ CX, $64
	JLT  sone
	NEG4
	EXP512X4
	VADDPS Z27, Z0, Z0
	VADDPS Z27, Z4, Z4
	VADDPS Z27, Z8, Z8
	VADDPS Z27, Z12, Z12
	VMOVUPS 0(DI), Z3
	VMOVUPS 64(DI), Z7
	VMOVUPS 128(DI), Z11
	VMOVUPS 192(DI), Z15
	VDIVPS Z0, Z3, Z0
	VDIVPS Z4, Z7, Z4
	VDIVPS Z8, Z11, Z8
	VDIVPS Z12, Z15, Z12
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z4, 64(DI)
	VMOVUPS Z8, 128(DI)
	VMOVUPS Z12, 192(DI)
	ADDQ $256, DI
	SUBQ $64, CX
	JMP  sfour
sone:
	KXNORW K1, K1, K1
sloop:
	CMPQ CX, $16
	JGE  sfull
	TESTQ CX, CX
	JZ   sdone
	TAILMASK
sfull:
	VMOVUPS.Z (DI), K1, Z4
	VXORPS Z0, Z0, Z0
	VSUBPS Z4, Z0, Z0
	EXP512
	VADDPS Z27, Z0, Z0
	VDIVPS Z0, Z4, Z0        // x / (1 + e^-x)
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JG   sloop
sdone:
	VZEROUPPER
	RET

// func hardSwishAVX512(x *float32, n int)
TEXT ·hardSwishAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS expc<>+44(SB), Z27  // 1
	VBROADCASTSS expc<>+60(SB), Z28  // 3
	VBROADCASTSS expc<>+52(SB), Z29  // 1/6
	VXORPS Z30, Z30, Z30
	KXNORW K1, K1, K1
hloop:
	CMPQ CX, $16
	JGE  hfull
	TESTQ CX, CX
	JZ   hdone
	TAILMASK
hfull:
	VMOVUPS.Z (DI), K1, Z4
	VADDPS Z28, Z4, Z0       // (x + 3)/6: no cancellation near -3, unlike x/6 + 1/2
	VMULPS Z29, Z0, Z0
	VMAXPS Z30, Z0, Z0
	VMINPS Z27, Z0, Z0
	VMULPS Z4, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JG   hloop
hdone:
	VZEROUPPER
	RET

// func clampAVX512(x *float32, n int, lo, hi float32)
TEXT ·clampAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS lo+16(FP), Z28
	VBROADCASTSS hi+20(FP), Z29
	KXNORW K1, K1, K1
cloop:
	CMPQ CX, $16
	JGE  cfull
	TESTQ CX, CX
	JZ   cdone
	TAILMASK
cfull:
	VMOVUPS.Z (DI), K1, Z0
	VMAXPS Z28, Z0, Z0
	VMINPS Z29, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JG   cloop
cdone:
	VZEROUPPER
	RET

// BINARY512 defines func name(dst, src *float32, n int) computing dst = op(src, dst).
#define BINARY512(name, op) \
TEXT name(SB), NOSPLIT, $0-24 \
	MOVQ dst+0(FP), DI \
	MOVQ src+8(FP), SI \
	MOVQ n+16(FP), CX \
	KXNORW K1, K1, K1 \
bl: \
	CMPQ CX, $16 \
	JGE  bf \
	TESTQ CX, CX \
	JZ   bd \
	TAILMASK \
bf: \
	VMOVUPS.Z (DI), K1, Z0 \
	VMOVUPS.Z (SI), K1, Z1 \
	op Z1, Z0, Z0 \
	VMOVUPS Z0, K1, (DI) \
	ADDQ $64, DI \
	ADDQ $64, SI \
	SUBQ $16, CX \
	JG   bl \
bd: \
	VZEROUPPER \
	RET

BINARY512(·addToAVX512, VADDPS)
BINARY512(·maxToAVX512, VMAXPS)
BINARY512(·mulToAVX512, VMULPS)

// EXP256 sets Y0 = e^Y0 with AVX2, using Y1-Y3 and the constants in Y4-Y15.
#define EXP256 \
	VMINPS Y4, Y0, Y0 \
	VMAXPS Y5, Y0, Y0 \
	VMULPS Y6, Y0, Y1 \
	VROUNDPS $0, Y1, Y1 \
	VFNMADD231PS Y7, Y1, Y0 \
	VFNMADD231PS Y8, Y1, Y0 \
	VMOVAPS Y9, Y2 \
	VFMADD213PS Y10, Y0, Y2 \
	VFMADD213PS Y11, Y0, Y2 \
	VFMADD213PS Y12, Y0, Y2 \
	VFMADD213PS Y13, Y0, Y2 \
	VFMADD213PS Y14, Y0, Y2 \
	VMULPS Y0, Y0, Y3 \
	VFMADD213PS Y0, Y3, Y2 \
	VADDPS Y15, Y2, Y2 \
	VCVTPS2DQ Y1, Y1 \
	VPSLLD $23, Y1, Y1 \
	VPADDD Y15, Y1, Y1 \
	VMULPS Y1, Y2, Y0

// 2^n is built by adding n to the exponent field of 1.0 (the VPADDD of Y15 = 1.0 as
// bits), which is exact for the clamped range.
#define LOADEXP256 \
	VBROADCASTSS expc<>+0(SB), Y4 \
	VBROADCASTSS expc<>+4(SB), Y5 \
	VBROADCASTSS expc<>+8(SB), Y6 \
	VBROADCASTSS expc<>+12(SB), Y7 \
	VBROADCASTSS expc<>+16(SB), Y8 \
	VBROADCASTSS expc<>+20(SB), Y9 \
	VBROADCASTSS expc<>+24(SB), Y10 \
	VBROADCASTSS expc<>+28(SB), Y11 \
	VBROADCASTSS expc<>+32(SB), Y12 \
	VBROADCASTSS expc<>+36(SB), Y13 \
	VBROADCASTSS expc<>+40(SB), Y14 \
	VBROADCASTSS expc<>+44(SB), Y15

// func sigmoidAVX2(x *float32, n int) — n a multiple of 8.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   adone
	LOADEXP256
aloop:
	VMOVUPS (DI), Y1
	VXORPS Y0, Y0, Y0
	VSUBPS Y1, Y0, Y0
	EXP256
	VADDPS Y15, Y0, Y0
	VDIVPS Y0, Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ  aloop
adone:
	VZEROUPPER
	RET

// func siluAVX2(x *float32, n int) — n a multiple of 8.
TEXT ·siluAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	SHRQ $3, CX
	JZ   asdone
	LOADEXP256
asloop:
	VMOVUPS (DI), Y1
	VXORPS Y0, Y0, Y0
	VSUBPS Y1, Y0, Y0
	EXP256
	VADDPS Y15, Y0, Y0
	VMOVUPS (DI), Y1
	VDIVPS Y0, Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ  asloop
asdone:
	VZEROUPPER
	RET

// Abramowitz and Stegun 7.1.26: erf(a) = 1 - (a1·t + ... + a5·t^5)·e^(-a²), t = 1/(1 + p·a),
// for a >= 0; then 1/√2 and 2.
DATA gelc<>+0(SB)/4, $0.3275911
DATA gelc<>+4(SB)/4, $0.254829592
DATA gelc<>+8(SB)/4, $-0.284496736
DATA gelc<>+12(SB)/4, $1.421413741
DATA gelc<>+16(SB)/4, $-1.453152027
DATA gelc<>+20(SB)/4, $1.061405429
DATA gelc<>+24(SB)/4, $0.70710678118654752
DATA gelc<>+28(SB)/4, $2.0
GLOBL gelc<>(SB), RODATA|NOPTR, $32

// func geluAVX512(x *float32, n int)
//
// With a = |x|/√2 and q = (a1·t + ... + a5·t^5)·e^(-a²) (so erf(a) = 1 - q), the result is
// x/2·(2 - q) for x >= 0 and x/2·q for x < 0: both without cancellation.
TEXT ·geluAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	LOADEXP512
	VBROADCASTSS gelc<>+0(SB), Z8
	VBROADCASTSS gelc<>+4(SB), Z9
	VBROADCASTSS gelc<>+8(SB), Z10
	VBROADCASTSS gelc<>+12(SB), Z11
	VBROADCASTSS gelc<>+16(SB), Z12
	VBROADCASTSS gelc<>+20(SB), Z13
	VBROADCASTSS gelc<>+24(SB), Z14
	VBROADCASTSS gelc<>+28(SB), Z15
	VBROADCASTSS expc<>+48(SB), Z28  // 1/2
	VXORPS Z29, Z29, Z29
	KXNORW K1, K1, K1
gloop:
	CMPQ CX, $16
	JGE  gfull
	TESTQ CX, CX
	JZ   gdone
	TAILMASK
gfull:
	VMOVUPS.Z (DI), K1, Z4
	VSUBPS Z4, Z29, Z7             // -x
	VMAXPS Z7, Z4, Z5              // |x|
	VMULPS Z14, Z5, Z5             // a = |x|/√2
	VMOVAPS Z8, Z6
	VFMADD213PS Z27, Z5, Z6        // 1 + p·a
	VDIVPS Z6, Z27, Z6             // t
	VMOVAPS Z13, Z7
	VFMADD213PS Z12, Z6, Z7        // a5·t + a4
	VFMADD213PS Z11, Z6, Z7
	VFMADD213PS Z10, Z6, Z7
	VFMADD213PS Z9, Z6, Z7
	VMULPS Z6, Z7, Z7              // poly(t)
	VMULPS Z5, Z5, Z0
	VSUBPS Z0, Z29, Z0             // -a²
	EXP512                         // e^(-a²)
	VMULPS Z0, Z7, Z7              // q
	VSUBPS Z7, Z15, Z6             // 2 - q
	VCMPPS $1, Z29, Z4, K2         // x < 0
	VMOVAPS Z7, K2, Z6             // q where x < 0
	VMULPS Z28, Z4, Z4             // x/2
	VMULPS Z6, Z4, Z4
	VMOVUPS Z4, K1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JG   gloop
gdone:
	VZEROUPPER
	RET

// SCALAR512 defines func name(dst, a *float32, n int, s float32) computing dst = op(s, a).
#define SCALAR512(name, op) \
TEXT name(SB), NOSPLIT, $0-28 \
	MOVQ dst+0(FP), DI \
	MOVQ a+8(FP), SI \
	MOVQ n+16(FP), CX \
	VBROADCASTSS s+24(FP), Z2 \
	KXNORW K1, K1, K1 \
sl: \
	CMPQ CX, $16 \
	JGE  sf \
	TESTQ CX, CX \
	JZ   sd \
	TAILMASK \
sf: \
	VMOVUPS.Z (SI), K1, Z0 \
	op Z2, Z0, Z0 \
	VMOVUPS Z0, K1, (DI) \
	ADDQ $64, DI \
	ADDQ $64, SI \
	SUBQ $16, CX \
	JG   sl \
sd: \
	VZEROUPPER \
	RET

SCALAR512(·addScalarAVX512, VADDPS)
SCALAR512(·mulScalarAVX512, VMULPS)

// func addScaled4AVX512(dst, b *float32, ldb, n int, s *[4]float32) computes
// dst += s0·b[0:n] + s1·b[ldb:] + s2·b[2·ldb:] + s3·b[3·ldb:], one fused multiply-add per
// row in that order (the rows are SI, R9, R10, R11; Z4-Z7 hold the scales).
TEXT ·addScaled4AVX512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), CX
	MOVQ s+32(FP), AX
	VBROADCASTSS 0(AX), Z4
	VBROADCASTSS 4(AX), Z5
	VBROADCASTSS 8(AX), Z6
	VBROADCASTSS 12(AX), Z7
	LEAQ (SI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
	KXNORW K1, K1, K1
a4l:
	CMPQ CX, $16
	JGE  a4f
	TESTQ CX, CX
	JZ   a4d
	TAILMASK
a4f:
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VMOVUPS.Z (R9), K1, Z2
	VMOVUPS.Z (R10), K1, Z3
	VMOVUPS.Z (R11), K1, Z8
	VFMADD231PS Z4, Z1, Z0
	VFMADD231PS Z5, Z2, Z0
	VFMADD231PS Z6, Z3, Z0
	VFMADD231PS Z7, Z8, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	SUBQ $16, CX
	JG   a4l
a4d:
	VZEROUPPER
	RET

// func addScaledAVX512(dst, a *float32, n int, s float32) computes dst += s·a with one
// rounding per element (vfmadd231ps: Z1 += Z0·Z2).
TEXT ·addScaledAVX512(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Z2
	KXNORW K1, K1, K1
axl:
	CMPQ CX, $16
	JGE  axf
	TESTQ CX, CX
	JZ   axd
	TAILMASK
axf:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z (DI), K1, Z1
	VFMADD231PS Z2, Z0, Z1
	VMOVUPS Z1, K1, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JG   axl
axd:
	VZEROUPPER
	RET

// HSUM512 sums the 16 lanes of Z0 into X0's lowest lane (uses Z1).
#define HSUM512 \
	VEXTRACTF32X8 $1, Z0, Y1 \
	VADDPS Y1, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS X1, X0, X0 \
	VMOVHLPS X0, X1, X1 \
	VADDPS X1, X0, X0 \
	VMOVSHDUP X0, X1 \
	VADDSS X1, X0, X0

// func sumAVX512(x *float32, n int) float32
TEXT ·sumAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VXORPS Z0, Z0, Z0
	VXORPS Z2, Z2, Z2
	KXNORW K1, K1, K1
suml:
	CMPQ CX, $16
	JGE  sumf
	TESTQ CX, CX
	JZ   sumd
	TAILMASK
sumf:
	VMOVUPS.Z (DI), K1, Z3
	VADDPS Z3, Z0, Z0
	ADDQ $64, DI
	SUBQ $16, CX
	JG   suml
sumd:
	HSUM512
	MOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func dotAVX512(x, y *float32, n int) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ y+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Z0, Z0, Z0
	KXNORW K1, K1, K1
dotl:
	CMPQ CX, $16
	JGE  dotf
	TESTQ CX, CX
	JZ   dotd
	TAILMASK
dotf:
	VMOVUPS.Z (DI), K1, Z3
	VMOVUPS.Z (SI), K1, Z4
	VFMADD231PS Z4, Z3, Z0
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JG   dotl
dotd:
	HSUM512
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func maxAVX512(x *float32, n int) float32 — n >= 1.
TEXT ·maxAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS (DI), Z0
	KXNORW K1, K1, K1
maxl:
	CMPQ CX, $16
	JGE  maxf
	TESTQ CX, CX
	JZ   maxd
	TAILMASK
maxf:
	VMOVAPS Z0, Z3
	VMOVUPS (DI), K1, Z3            // lanes past the end keep the running max
	VMAXPS Z3, Z0, Z0
	ADDQ $64, DI
	SUBQ $16, CX
	JG   maxl
maxd:
	VEXTRACTF32X8 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VMOVHLPS X0, X1, X1
	VMAXPS X1, X0, X0
	VMOVSHDUP X0, X1
	VMAXSS X1, X0, X0
	MOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func expAVX512(x *float32, n int)
TEXT ·expAVX512(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	LOADEXP512
	KXNORW K1, K1, K1
expl:
	CMPQ CX, $16
	JGE  expf
	TESTQ CX, CX
	JZ   expd
	TAILMASK
expf:
	VMOVUPS.Z (DI), K1, Z0
	EXP512
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JG   expl
expd:
	VZEROUPPER
	RET

// BINARY256 defines func name(dst, src *float32, n int) computing dst = op(src, dst) with
// AVX2, n a multiple of 8 (the caller does the rest): two vectors a step, then one.
#define BINARY256(name, op) \
TEXT name(SB), NOSPLIT, $0-24 \
	MOVQ dst+0(FP), DI \
	MOVQ src+8(FP), SI \
	MOVQ n+16(FP), CX \
b2l: \
	CMPQ CX, $16 \
	JLT  b1 \
	VMOVUPS (DI), Y0 \
	VMOVUPS 32(DI), Y1 \
	op (SI), Y0, Y0 \
	op 32(SI), Y1, Y1 \
	VMOVUPS Y0, (DI) \
	VMOVUPS Y1, 32(DI) \
	ADDQ $64, DI \
	ADDQ $64, SI \
	SUBQ $16, CX \
	JMP  b2l \
b1: \
	TESTQ CX, CX \
	JZ   b2d \
	VMOVUPS (DI), Y0 \
	op (SI), Y0, Y0 \
	VMOVUPS Y0, (DI) \
b2d: \
	VZEROUPPER \
	RET

BINARY256(·addToAVX2, VADDPS)
BINARY256(·mulToAVX2, VMULPS)
BINARY256(·maxToAVX2, VMAXPS)

// SCALAR256 defines func name(dst, a *float32, n int, s float32) computing dst = op(s, a)
// with AVX2, n a multiple of 8.
#define SCALAR256(name, op) \
TEXT name(SB), NOSPLIT, $0-28 \
	MOVQ dst+0(FP), DI \
	MOVQ a+8(FP), SI \
	MOVQ n+16(FP), CX \
	VBROADCASTSS s+24(FP), Y2 \
s2l: \
	TESTQ CX, CX \
	JZ   s2d \
	VMOVUPS (SI), Y0 \
	op Y2, Y0, Y0 \
	VMOVUPS Y0, (DI) \
	ADDQ $32, DI \
	ADDQ $32, SI \
	SUBQ $8, CX \
	JMP  s2l \
s2d: \
	VZEROUPPER \
	RET

SCALAR256(·addScalarAVX2, VADDPS)
SCALAR256(·mulScalarAVX2, VMULPS)

// func addScaled4AVX2(dst, b *float32, ldb, n int, s *[4]float32) is addScaled4AVX512 for
// n a multiple of 8 (Y4-Y7 hold the scales).
TEXT ·addScaled4AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ b+8(FP), SI
	MOVQ ldb+16(FP), R8
	SHLQ $2, R8
	MOVQ n+24(FP), CX
	MOVQ s+32(FP), AX
	VBROADCASTSS 0(AX), Y4
	VBROADCASTSS 4(AX), Y5
	VBROADCASTSS 8(AX), Y6
	VBROADCASTSS 12(AX), Y7
	LEAQ (SI)(R8*1), R9
	LEAQ (R9)(R8*1), R10
	LEAQ (R10)(R8*1), R11
b4l:
	TESTQ CX, CX
	JZ   b4d
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VMOVUPS (R9), Y2
	VMOVUPS (R10), Y3
	VMOVUPS (R11), Y8
	VFMADD231PS Y4, Y1, Y0
	VFMADD231PS Y5, Y2, Y0
	VFMADD231PS Y6, Y3, Y0
	VFMADD231PS Y7, Y8, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	SUBQ $8, CX
	JMP  b4l
b4d:
	VZEROUPPER
	RET

// func addScaledAVX2(dst, a *float32, n int, s float32) computes dst += s·a with one
// rounding per element, n a multiple of 8 (Y1 += Y0·Y2).
TEXT ·addScaledAVX2(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS s+24(FP), Y2
a2l:
	TESTQ CX, CX
	JZ   a2d
	VMOVUPS (SI), Y0
	VMOVUPS (DI), Y1
	VFMADD231PS Y2, Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  a2l
a2d:
	VZEROUPPER
	RET

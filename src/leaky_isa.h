/*
 * The one ISA ladder: which SIMD tier this compilation unit targets.
 *
 * Each kernel variant (src/meson.build) compiles the same sources with its
 * own flags; every header decides what to emit from LEAKY_ISA alone:
 *
 *   512  AVX-512 F/BW/VL (the avx512 variant; AVX2 and F16C come with it)
 *   256  AVX2 + F16C (the avx2 variant)
 *   128  SSE2 (the x86-64 baseline)
 *   1    NEON (LEAKY_ISA_NEON): little-endian aarch64, where Advanced SIMD
 *        and the float16 conversions (fcvtl/fcvtn) are part of the base
 *        architecture, so this is the aarch64 baseline variant
 *   0    portable C, any CPU (big-endian ones, 32-bit ARM, ...), or forced
 *        with -DLEAKY_PORTABLE (tests/test_packed_portable.py builds that
 *        tier on x86-64, tests/test_cross_isa.py on aarch64 and s390x)
 *
 * The numbers order the x86 tiers by vector width; NEON is a tier of its
 * own, so headers test it by name (LEAKY_ISA == LEAKY_ISA_NEON).
 * LEAKY_F16C says whether float16 converts in x86 hardware (8 lanes at a
 * time); LEAKY_NEON whether it converts with NEON.
 */
#ifndef LEAKY_ISA_H
#define LEAKY_ISA_H

#define LEAKY_ISA_NEON 1

#if defined(LEAKY_PORTABLE)
#define LEAKY_ISA 0
#elif defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) \
    && defined(__AVX2__) && defined(__F16C__)
#define LEAKY_ISA 512
#include <immintrin.h>
#elif defined(__AVX2__) && defined(__F16C__)
#define LEAKY_ISA 256
#include <immintrin.h>
#elif defined(__SSE2__)
#define LEAKY_ISA 128
#include <emmintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON) && defined(__BYTE_ORDER__) \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Little-endian only: the bit writer and reader of leaky_pack.h store and
 * load words in that byte order.  aarch64_be takes the portable tier. */
#define LEAKY_ISA LEAKY_ISA_NEON
#include <arm_neon.h>
#else
#define LEAKY_ISA 0
#endif

#define LEAKY_F16C (LEAKY_ISA >= 256)
#define LEAKY_NEON (LEAKY_ISA == LEAKY_ISA_NEON)

#endif /* LEAKY_ISA_H */

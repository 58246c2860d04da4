/*
 * The one ISA ladder: which SIMD tier this compilation unit targets.
 *
 * Each kernel variant (src/meson.build) compiles the same sources with its
 * own flags; every header decides what to emit from LEAKY_ISA alone:
 *
 *   512  AVX-512 F/BW/VL (the avx512 variant; AVX2 and F16C come with it)
 *   256  AVX2 + F16C (the avx2 variant)
 *   128  SSE2 (the x86-64 baseline)
 *   0    portable C, any CPU (aarch64, ...), or forced with -DLEAKY_PORTABLE
 *        (tests/test_packed_portable.py builds that tier on x86-64)
 *
 * LEAKY_F16C says whether float16 converts in hardware (8 lanes at a time).
 */
#ifndef LEAKY_ISA_H
#define LEAKY_ISA_H

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
#else
#define LEAKY_ISA 0
#endif

#define LEAKY_F16C (LEAKY_ISA >= 256)

#endif /* LEAKY_ISA_H */

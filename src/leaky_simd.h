/*
 * Small C helpers for the Cython kernels in _kernels.pyx.
 *
 * - IEEE binary16 <-> binary32 conversion.  half -> float is exact;
 *   float -> half rounds once to nearest even, which is what PyTorch does for
 *   float16 on the CPU (compute in float32, round the result once).
 * - OpenMP queries that still compile and link when OpenMP is absent.
 */
#ifndef LEAKY_SIMD_H
#define LEAKY_SIMD_H

#include <stdint.h>
#include <string.h>

static inline uint32_t leaky_bits_of(float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static inline float leaky_float_of(uint32_t bits)
{
    float value;
    memcpy(&value, &bits, sizeof value);
    return value;
}

/* Integer and float arithmetic only, with no branches, so the loops
 * vectorize at every ISA level.  Results are bit-identical to the hardware
 * conversions (F16C, FCVT), NaN payloads included (quiet bit set, low
 * mantissa bits truncated).  Measured, this beats _Float16 casts under
 * GCC 12 even with -mf16c: GCC calls libgcc for each element there (about
 * 7 ns) and does not vectorize them; the branch-free code runs at about
 * 1 ns per element with AVX2 and 2 ns with SSE2.  Where F16C is there, the
 * unit-stride loops use the block functions below instead (~0.2 ns). */
#if defined(__F16C__) && defined(__AVX2__)
#define LEAKY_HALF_CONVERSION "F16C blocks (branch-free software for strided loops)"
#else
#define LEAKY_HALF_CONVERSION "branch-free software, vectorized"
#endif

static inline float leaky_half_to_float(uint16_t bits)
{
    uint32_t sign = (uint32_t)(bits & 0x8000u) << 16;
    int32_t magnitude = bits & 0x7fff;                   /* exponent | mantissa */
    int32_t normal = (magnitude << 13) + 0x38000000;     /* rebias 15 -> 127 */
    int32_t inf_or_nan = (magnitude << 13) | 0x7f800000;
    /* Subnormal: mantissa * 2**-24, exact in float32. */
    int32_t subnormal = (int32_t)leaky_bits_of((float)magnitude * 0x1p-24f);
    int32_t result = magnitude < 0x0400 ? subnormal
                   : (magnitude >= 0x7c00 ? inf_or_nan : normal);
    return leaky_float_of((uint32_t)result | sign);
}

static inline uint16_t leaky_float_to_half(float value)
{
    uint32_t w = leaky_bits_of(value);
    uint32_t sign = (w >> 16) & 0x8000u;
    int32_t a = (int32_t)(w & 0x7fffffffu);
    /* Normal range: rebias 127 -> 15, round to nearest even on bit 13;
     * a carry into the exponent gives the next binade or infinity. */
    int32_t normal = (a - 0x38000000 + 0x0fff + ((a >> 13) & 1)) >> 13;
    normal = normal > 0x7c00 ? 0x7c00 : normal;
    /* Below 2**-14: adding 0.5 makes the FPU round |value| to a multiple of
     * 2**-24 (nearest even); the low bits are then the half's mantissa. */
    int32_t subnormal = (int32_t)(leaky_bits_of(leaky_float_of((uint32_t)a) + 0.5f)
                                  - 0x3f000000u);
    int32_t nan = 0x7e00 | ((a & 0x007fffff) >> 13);
    int32_t result = a < 0x38800000 ? subnormal : normal;
    result = a > 0x7f800000 ? nan : result;
    return (uint16_t)(sign | (uint32_t)result);
}

/* bfloat16 is the top half of a float32, so widening is a shift (exact).
 * Narrowing rounds once to nearest even, as PyTorch's c10::BFloat16 and
 * ml_dtypes do; a NaN stays a NaN of the same sign with its quiet bit set
 * (PyTorch's own NaN bits vary with the element's position in the array,
 * so payloads are not part of the contract).  Branch-free: it vectorizes. */
static inline float leaky_bfloat16_to_float(uint16_t bits)
{
    return leaky_float_of((uint32_t)bits << 16);
}

static inline uint16_t leaky_float_to_bfloat16(float value)
{
    uint32_t w = leaky_bits_of(value);
    uint32_t rounded = (w + 0x7fffu + ((w >> 16) & 1u)) >> 16;
    uint32_t nan = (w >> 16) | 0x0040u;
    return (uint16_t)((w & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
}

/* float16 blocks with the CPU's conversion instructions (x86 F16C + AVX2).
 * Each function handles the largest multiple of 8 elements of a unit-stride
 * loop and returns how many it did; the Cython loop finishes the tail with
 * the element functions above.  Results are bit-identical to them (the
 * tests compare every variant with the baseline on all 65536 halves).
 * Without F16C the functions do nothing and return 0. */
#if defined(__F16C__) && defined(__AVX2__)
#include <immintrin.h>

static inline __m128i leaky_f16c_mask16(__m256 keep)
{
    __m256i k = _mm256_castps_si256(keep);
    return _mm_packs_epi32(_mm256_castsi256_si128(k), _mm256_extracti128_si256(k, 1));
}

static inline __m128i leaky_f16c_scaled(__m256 v, __m256 slope)
{
    return _mm256_cvtps_ph(_mm256_mul_ps(v, slope), _MM_FROUND_TO_NEAREST_INT);
}

static inline intptr_t leaky_half_forward_blocks(const uint16_t *x, uint16_t *y,
                                                 intptr_t n, float slope)
{
    const __m256 s = _mm256_set1_ps(slope), zero = _mm256_setzero_ps();
    intptr_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(x + i));
        __m256 v = _mm256_cvtph_ps(h);
        __m128i keep = leaky_f16c_mask16(_mm256_cmp_ps(v, zero, _CMP_GT_OQ));
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm_blendv_epi8(leaky_f16c_scaled(v, s), h, keep));
    }
    return i;
}

static inline intptr_t leaky_half_forward_mask_blocks(const uint16_t *x, uint16_t *y,
                                                      uint8_t *mask, intptr_t n, float slope)
{
    const __m256 s = _mm256_set1_ps(slope), zero = _mm256_setzero_ps();
    const __m128i one = _mm_set1_epi8(1);
    intptr_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(x + i));
        __m256 v = _mm256_cvtph_ps(h);
        __m128i keep = leaky_f16c_mask16(_mm256_cmp_ps(v, zero, _CMP_GT_OQ));
        _mm_storel_epi64((__m128i *)(mask + i), _mm_and_si128(_mm_packs_epi16(keep, keep), one));
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm_blendv_epi8(leaky_f16c_scaled(v, s), h, keep));
    }
    return i;
}

static inline intptr_t leaky_half_backward_blocks(const uint16_t *grad, const uint8_t *mask,
                                                  uint16_t *grad_in, intptr_t n, float slope)
{
    const __m256 s = _mm256_set1_ps(slope);
    const __m128i zero = _mm_setzero_si128();
    intptr_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i g = _mm_loadu_si128((const __m128i *)(grad + i));
        __m128i is_zero = _mm_cmpeq_epi8(_mm_loadl_epi64((const __m128i *)(mask + i)), zero);
        __m128i keep8 = _mm_xor_si128(is_zero, _mm_set1_epi8(-1));
        __m128i keep = _mm_unpacklo_epi8(keep8, keep8);
        _mm_storeu_si128((__m128i *)(grad_in + i),
                         _mm_blendv_epi8(leaky_f16c_scaled(_mm256_cvtph_ps(g), s), g, keep));
    }
    return i;
}

#else
static inline intptr_t leaky_half_forward_blocks(const uint16_t *x, uint16_t *y,
                                                 intptr_t n, float slope)
{ (void)x; (void)y; (void)n; (void)slope; return 0; }
static inline intptr_t leaky_half_forward_mask_blocks(const uint16_t *x, uint16_t *y,
                                                      uint8_t *mask, intptr_t n, float slope)
{ (void)x; (void)y; (void)mask; (void)n; (void)slope; return 0; }
static inline intptr_t leaky_half_backward_blocks(const uint16_t *grad, const uint8_t *mask,
                                                  uint16_t *grad_in, intptr_t n, float slope)
{ (void)grad; (void)mask; (void)grad_in; (void)n; (void)slope; return 0; }
#endif

/* keep ? a : b, as bit operations: no branch even where the compiler would
 * otherwise branch on a scalar floating-point select (the strided loops), and
 * the same and/andnot/or a vectorized loop would use. */
static inline float leaky_select_float(int keep, float a, float b)
{
    uint32_t m = (uint32_t)0 - (uint32_t)(keep != 0);
    return leaky_float_of((leaky_bits_of(a) & m) | (leaky_bits_of(b) & ~m));
}

static inline double leaky_select_double(int keep, double a, double b)
{
    uint64_t m = (uint64_t)0 - (uint64_t)(keep != 0), ua, ub;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    ua = (ua & m) | (ub & ~m);
    memcpy(&a, &ua, sizeof a);
    return a;
}

static inline uint16_t leaky_select_half(int keep, uint16_t a, uint16_t b)
{
    uint16_t m = (uint16_t)((uint16_t)0 - (uint16_t)(keep != 0));
    return (uint16_t)((a & m) | (b & (uint16_t)~m));
}

#ifdef _OPENMP
#include <omp.h>
static inline int leaky_max_threads(void) { return omp_get_max_threads(); }
static inline int leaky_openmp_enabled(void) { return 1; }
#else
static inline int leaky_max_threads(void) { return 1; }
static inline int leaky_openmp_enabled(void) { return 0; }
#endif

#endif /* LEAKY_SIMD_H */

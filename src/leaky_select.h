/*
 * The select ``keep ? a : b`` of every kernel, and the float16 loops built
 * on it where the CPU converts halves in hardware.
 *
 * The scalar selects are bit operations: no branch even where the compiler
 * would otherwise branch on a floating-point select (the strided loops),
 * and the same and/andnot/or a vectorized loop uses.
 */
#ifndef LEAKY_SELECT_H
#define LEAKY_SELECT_H

#include <stdint.h>
#include <string.h>

#include "leaky_convert.h"

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

/* float16 blocks with the CPU's conversion instructions (x86 F16C + AVX2;
 * aarch64 NEON, where bfloat16 has blocks too).  Each function handles the
 * largest multiple of 8 elements of a unit-stride loop and returns how
 * many it did; the Cython loop finishes the tail with the element
 * functions above.  Results are bit-identical to them (the tests compare
 * every variant with the baseline on all 65536 halves; on aarch64,
 * tests/test_cross_isa.py compares NEON with the portable tier).
 * Without F16C or NEON the functions do nothing and return 0. */
#if LEAKY_F16C

static inline intptr_t leaky_half_forward_blocks(const uint16_t *x, uint16_t *y,
                                                 intptr_t n, float slope)
{
    const __m256 s = _mm256_set1_ps(slope), zero = _mm256_setzero_ps();
    intptr_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(x + i));
        __m256 v = _mm256_cvtph_ps(h);
        __m128i keep = leaky_narrow_lanes8(_mm256_cmp_ps(v, zero, _CMP_GT_OQ));
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm_blendv_epi8(leaky_half_times8(v, s), h, keep));
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
        __m128i keep = leaky_narrow_lanes8(_mm256_cmp_ps(v, zero, _CMP_GT_OQ));
        _mm_storel_epi64((__m128i *)(mask + i), _mm_and_si128(_mm_packs_epi16(keep, keep), one));
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm_blendv_epi8(leaky_half_times8(v, s), h, keep));
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
                         _mm_blendv_epi8(leaky_half_times8(_mm256_cvtph_ps(g), s), g, keep));
    }
    return i;
}

#elif LEAKY_NEON

/* The same with NEON (aarch64): fcvtl/fcvtn for halves; and bfloat16,
 * widened by a shift and rounded in integers (leaky_convert.h).  "x > 0"
 * is read off the bit patterns (leaky_positive_lanes8), which is the
 * float compare's answer for every pattern, NaNs and zeros included. */

#define LEAKY_DEFINE_NEON_BLOCKS(t, INF, to_floats8, times8)                                \
    static inline intptr_t leaky_##t##_forward_blocks(const uint16_t *x, uint16_t *y,       \
                                                      intptr_t n, float slope)              \
    {                                                                                       \
        const float32x4_t s = vdupq_n_f32(slope);                                           \
        intptr_t i = 0;                                                                     \
        for (; i + 8 <= n; i += 8) {                                                        \
            uint16x8_t h = vld1q_u16(x + i);                                                \
            uint16x8_t keep = leaky_positive_lanes8(h, INF);                                \
            vst1q_u16(y + i, vbslq_u16(keep, h, times8(to_floats8(h), s)));                 \
        }                                                                                   \
        return i;                                                                           \
    }                                                                                       \
    static inline intptr_t leaky_##t##_forward_mask_blocks(const uint16_t *x, uint16_t *y,  \
                                                           uint8_t *mask, intptr_t n,       \
                                                           float slope)                     \
    {                                                                                       \
        const float32x4_t s = vdupq_n_f32(slope);                                           \
        intptr_t i = 0;                                                                     \
        for (; i + 8 <= n; i += 8) {                                                        \
            uint16x8_t h = vld1q_u16(x + i);                                                \
            uint16x8_t keep = leaky_positive_lanes8(h, INF);                                \
            vst1_u8(mask + i, vand_u8(vmovn_u16(keep), vdup_n_u8(1)));                      \
            vst1q_u16(y + i, vbslq_u16(keep, h, times8(to_floats8(h), s)));                 \
        }                                                                                   \
        return i;                                                                           \
    }                                                                                       \
    static inline intptr_t leaky_##t##_backward_blocks(const uint16_t *grad,                \
                                                       const uint8_t *mask,                 \
                                                       uint16_t *grad_in, intptr_t n,       \
                                                       float slope)                         \
    {                                                                                       \
        const float32x4_t s = vdupq_n_f32(slope);                                           \
        intptr_t i = 0;                                                                     \
        for (; i + 8 <= n; i += 8) {                                                        \
            uint16x8_t g = vld1q_u16(grad + i);                                             \
            /* any nonzero mask byte keeps, as `mask[i] != 0` */                             \
            uint8x8_t keep8 = vtst_u8(vld1_u8(mask + i), vdup_n_u8(0xff));                  \
            uint16x8_t keep = vreinterpretq_u16_s16(vmovl_s8(vreinterpret_s8_u8(keep8)));   \
            vst1q_u16(grad_in + i, vbslq_u16(keep, g, times8(to_floats8(g), s)));           \
        }                                                                                   \
        return i;                                                                           \
    }

LEAKY_DEFINE_NEON_BLOCKS(half, 0x7c00u, leaky_halves_to_floats8, leaky_half_times8)
LEAKY_DEFINE_NEON_BLOCKS(bfloat16, 0x7f80u, leaky_bfloat16s_to_floats8, leaky_bfloat16_times8)

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

/* bfloat16 blocks: NEON only (above).  Elsewhere these return 0 and the
 * element loop of _kernels.pyx does every element (the packed loops have
 * SIMD steps of their own in leaky_pack.h). */
#if !LEAKY_NEON
static inline intptr_t leaky_bfloat16_forward_blocks(const uint16_t *x, uint16_t *y,
                                                     intptr_t n, float slope)
{ (void)x; (void)y; (void)n; (void)slope; return 0; }
static inline intptr_t leaky_bfloat16_forward_mask_blocks(const uint16_t *x, uint16_t *y,
                                                          uint8_t *mask, intptr_t n,
                                                          float slope)
{ (void)x; (void)y; (void)mask; (void)n; (void)slope; return 0; }
static inline intptr_t leaky_bfloat16_backward_blocks(const uint16_t *grad,
                                                      const uint8_t *mask, uint16_t *grad_in,
                                                      intptr_t n, float slope)
{ (void)grad; (void)mask; (void)grad_in; (void)n; (void)slope; return 0; }
#endif

#endif /* LEAKY_SELECT_H */

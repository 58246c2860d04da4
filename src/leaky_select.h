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

/* float16 and bfloat16 blocks with SIMD conversions (x86 AVX2 + F16C;
 * aarch64 NEON).  Each function handles the largest multiple of 8 elements
 * of a unit-stride loop and returns how many it did; the Cython loop
 * finishes the tail with the element functions above.  Results are
 * bit-identical to them (the tests compare every variant with the baseline
 * on all 65536 patterns; on aarch64, tests/test_cross_isa.py compares NEON
 * with the portable tier).
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

/* bfloat16: widened and rounded in integers (leaky_convert.h), 32 elements
 * a step with AVX-512, 16 with AVX2.  "x > 0" is read off the bit patterns,
 * (bits - 1) < +inf unsigned: the float compare's answer for every pattern,
 * NaNs and zeros included.  A mask byte keeps when it is not zero. */
#if LEAKY_ISA == 512

#define LEAKY_BFLOAT16_KEEP32(h) \
    _mm512_cmplt_epu16_mask(_mm512_sub_epi16((h), _mm512_set1_epi16(1)), \
                            _mm512_set1_epi16((short)0x7f80))

static inline intptr_t leaky_bfloat16_forward_blocks(const uint16_t *x, uint16_t *y,
                                                     intptr_t n, float slope)
{
    const __m512 s = _mm512_set1_ps(slope);
    intptr_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512i h = _mm512_loadu_si512((const void *)(x + i));
        _mm512_storeu_si512((void *)(y + i), _mm512_mask_mov_epi16(
            leaky_bfloat16_times32(h, s), LEAKY_BFLOAT16_KEEP32(h), h));
    }
    return i;
}

static inline intptr_t leaky_bfloat16_forward_mask_blocks(const uint16_t *x, uint16_t *y,
                                                          uint8_t *mask, intptr_t n,
                                                          float slope)
{
    const __m512 s = _mm512_set1_ps(slope);
    intptr_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512i h = _mm512_loadu_si512((const void *)(x + i));
        __mmask32 keep = LEAKY_BFLOAT16_KEEP32(h);
        _mm256_storeu_si256((__m256i *)(mask + i), _mm256_maskz_mov_epi8(keep, _mm256_set1_epi8(1)));
        _mm512_storeu_si512((void *)(y + i),
                            _mm512_mask_mov_epi16(leaky_bfloat16_times32(h, s), keep, h));
    }
    return i;
}

static inline intptr_t leaky_bfloat16_backward_blocks(const uint16_t *grad,
                                                      const uint8_t *mask, uint16_t *grad_in,
                                                      intptr_t n, float slope)
{
    const __m512 s = _mm512_set1_ps(slope);
    intptr_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512i g = _mm512_loadu_si512((const void *)(grad + i));
        __m256i m = _mm256_loadu_si256((const __m256i *)(mask + i));
        _mm512_storeu_si512((void *)(grad_in + i), _mm512_mask_mov_epi16(
            leaky_bfloat16_times32(g, s), _mm256_test_epi8_mask(m, m), g));
    }
    return i;
}

#else /* AVX2 */

static inline __m256i leaky_bfloat16_keep16(__m256i h)
{
    const __m256i flip = _mm256_set1_epi16((short)0x8000);
    __m256i v = _mm256_xor_si256(_mm256_sub_epi16(h, _mm256_set1_epi16(1)), flip);
    return _mm256_cmpgt_epi16(_mm256_set1_epi16((short)(0x7f80u ^ 0x8000u)), v);
}

static inline intptr_t leaky_bfloat16_forward_blocks(const uint16_t *x, uint16_t *y,
                                                     intptr_t n, float slope)
{
    const __m256 s = _mm256_set1_ps(slope);
    intptr_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm256_loadu_si256((const __m256i *)(x + i));
        _mm256_storeu_si256((__m256i *)(y + i), _mm256_blendv_epi8(
            leaky_bfloat16_times16(h, s), h, leaky_bfloat16_keep16(h)));
    }
    return i;
}

static inline intptr_t leaky_bfloat16_forward_mask_blocks(const uint16_t *x, uint16_t *y,
                                                          uint8_t *mask, intptr_t n,
                                                          float slope)
{
    const __m256 s = _mm256_set1_ps(slope);
    const __m128i one = _mm_set1_epi8(1);
    intptr_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm256_loadu_si256((const __m256i *)(x + i));
        __m256i keep = leaky_bfloat16_keep16(h);
        __m128i bytes = _mm_packs_epi16(_mm256_castsi256_si128(keep),
                                        _mm256_extracti128_si256(keep, 1));
        _mm_storeu_si128((__m128i *)(mask + i), _mm_and_si128(bytes, one));
        _mm256_storeu_si256((__m256i *)(y + i),
                            _mm256_blendv_epi8(leaky_bfloat16_times16(h, s), h, keep));
    }
    return i;
}

static inline intptr_t leaky_bfloat16_backward_blocks(const uint16_t *grad,
                                                      const uint8_t *mask, uint16_t *grad_in,
                                                      intptr_t n, float slope)
{
    const __m256 s = _mm256_set1_ps(slope);
    const __m128i zero = _mm_setzero_si128(), ones = _mm_set1_epi8(-1);
    intptr_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i g = _mm256_loadu_si256((const __m256i *)(grad + i));
        __m128i m = _mm_loadu_si128((const __m128i *)(mask + i));
        __m256i keep = _mm256_cvtepi8_epi16(_mm_xor_si128(_mm_cmpeq_epi8(m, zero), ones));
        _mm256_storeu_si256((__m256i *)(grad_in + i),
                            _mm256_blendv_epi8(leaky_bfloat16_times16(g, s), g, keep));
    }
    return i;
}

#endif

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
/* Without F16C or NEON these return 0, and the element loop of _kernels.pyx
 * does every element (vectorized by the compiler). */
static inline intptr_t leaky_half_forward_blocks(const uint16_t *x, uint16_t *y,
                                                 intptr_t n, float slope)
{ (void)x; (void)y; (void)n; (void)slope; return 0; }
static inline intptr_t leaky_half_forward_mask_blocks(const uint16_t *x, uint16_t *y,
                                                      uint8_t *mask, intptr_t n, float slope)
{ (void)x; (void)y; (void)mask; (void)n; (void)slope; return 0; }
static inline intptr_t leaky_half_backward_blocks(const uint16_t *grad, const uint8_t *mask,
                                                  uint16_t *grad_in, intptr_t n, float slope)
{ (void)grad; (void)mask; (void)grad_in; (void)n; (void)slope; return 0; }
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

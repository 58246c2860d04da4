/*
 * Packed gradient masks: one bit per element, little bit order (bit k of
 * byte j is element 8 * j + k), as np.packbits(..., bitorder="little").
 *
 * "x > 0" is read off the bit pattern: a value is positive exactly when its
 * sign bit is clear and it is neither zero nor NaN, that is, when
 * (bits - 1), as an unsigned integer, is below the bits of +infinity.  So
 * one integer comparison serves float16, bfloat16, float32 and float64,
 * with no conversion: the pack never reads a value twice through the FPU.
 *
 * Each function handles whole bytes (8 elements) and is written five ways:
 * AVX-512 (a compare gives a mask register, which is the packed bits),
 * AVX2 and SSE2 (compare, then movemask; SSE2 is the x86-64 baseline),
 * NEON (compare, then an add of each lane's weight; aarch64), and a
 * portable loop for every other CPU.  All give identical bytes
 * (tests/test_packed.py runs every variant this CPU has;
 * tests/test_cross_isa.py runs NEON and the portable loop under qemu).
 */
#ifndef LEAKY_PACK_H
#define LEAKY_PACK_H

#include <stdint.h>
#include <string.h>

#include "leaky_isa.h"       /* the tier: LEAKY_ISA */
#include "leaky_convert.h"   /* float16/bfloat16 conversions, one or eight at a time */

/* The bit patterns of +infinity: below them (after subtracting one) lie
 * exactly the positive values. */
#define LEAKY_HALF_INF 0x7c00u
#define LEAKY_BFLOAT16_INF 0x7f80u
#define LEAKY_FLOAT_INF 0x7f800000u
#define LEAKY_DOUBLE_INF 0x7ff0000000000000ull

/* Portable packing for each width: whole bytes, and the last, partial byte
 * (elements 0 .. n-1, n < 8, unused bits 0).  `inf` is the bit pattern of
 * +infinity of the format (LEAKY_*_INF above). */
#define LEAKY_DEFINE_PORTABLE_PACKING(width)                                                \
    static inline unsigned leaky_u##width##_positive(uint##width##_t bits,                  \
                                                     uint##width##_t inf)                   \
    {                                                                                       \
        return (uint##width##_t)(bits - 1u) < inf;                                          \
    }                                                                                       \
    static inline uint8_t leaky_pack_tail_u##width(const uint##width##_t *x, intptr_t n,    \
                                                   uint##width##_t inf)                     \
    {                                                                                       \
        unsigned byte = 0;                                                                  \
        for (intptr_t k = 0; k < n; k++)                                                    \
            byte |= leaky_u##width##_positive(x[k], inf) << k;                              \
        return (uint8_t)byte;                                                               \
    }                                                                                       \
    static inline void leaky_pack_u##width##_portable(const uint##width##_t *x,             \
                                                      uint8_t *bits, intptr_t nbytes,       \
                                                      uint##width##_t inf)                  \
    {                                                                                       \
        for (intptr_t j = 0; j < nbytes; j++)                                               \
            bits[j] = leaky_pack_tail_u##width(x + 8 * j, 8, inf);                          \
    }

LEAKY_DEFINE_PORTABLE_PACKING(16)
LEAKY_DEFINE_PORTABLE_PACKING(32)
LEAKY_DEFINE_PORTABLE_PACKING(64)

/* Unpacking, for the element loops' fallback: bit k of `byte` to out[k]
 * (0 or 1), k < 8, with no loop.  Each byte of the product holds one bit;
 * adding 0x7f to a byte carries into its top bit exactly when that byte is
 * not zero. */
static inline void leaky_spread_byte(uint8_t byte, uint8_t *out)
{
    uint64_t spread = (byte * 0x0101010101010101ull) & 0x8040201008040201ull;
    spread = ((spread + 0x7f7f7f7f7f7f7f7full) >> 7) & 0x0101010101010101ull;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (int k = 0; k < 8; k++)
        out[k] = (uint8_t)(spread >> (8 * k));
#else
    memcpy(out, &spread, 8);            /* little-endian: byte k is bit k */
#endif
}

/* float32 and float64 alone are packed here only where no fused SIMD code
 * exists for them (leaky_<type>_forward_bits below returns 0): the
 * portable tier. */
static inline void leaky_pack_u32(const uint32_t *x, uint8_t *bits, intptr_t nbytes)
{
    leaky_pack_u32_portable(x, bits, nbytes, LEAKY_FLOAT_INF);
}

static inline void leaky_pack_u64(const uint64_t *x, uint8_t *bits, intptr_t nbytes)
{
    leaky_pack_u64_portable(x, bits, nbytes, LEAKY_DOUBLE_INF);
}

/* ------------------------------------------------------------ interface --
 * Per ISA, below:
 *
 *   leaky_pack_u16(x, bits, nbytes, inf)
 *       bits[j] for j < nbytes, from the 8 * nbytes elements of x (float16
 *       or bfloat16 as raw bits; inf is the +infinity of the format).
 *   leaky_<type>_step(x, y, slope)
 *       y = x > 0 ? x : x * slope for one vector of elements (y aligned),
 *       and their bits: one compare gives both.  Driven by
 *       leaky_<type>_forward_bits, after the ISA sections.
 *   leaky_<type>_bstep(grad, bits, grad_in, slope)
 *       grad_in = bit ? grad : grad * slope for one vector (grad_in
 *       aligned), straight from the bits in the low bits of a word (no byte
 *       mask in between).  Driven by leaky_<type>_backward_bits.
 *
 * <type> is float, double, half or bfloat16 (16-bit formats as bits;
 * computed in float32 and rounded once; half needs F16C or NEON).  A
 * function that has no version for this ISA returns 0, and the Cython
 * loops do those elements with the element functions of _kernels.pyx,
 * which give the same bits. */

#if LEAKY_ISA == 512
/* ---------------------------------------------------------------- AVX-512 */

static inline void leaky_pack_u16(const uint16_t *x, uint8_t *bits, intptr_t nbytes,
                                  uint16_t inf)
{
    const __m512i one = _mm512_set1_epi16(1), limit = _mm512_set1_epi16((short)inf);
    intptr_t j = 0;
    for (; j + 4 <= nbytes; j += 4) {       /* 32 elements -> 4 bytes */
        __m512i v = _mm512_sub_epi16(_mm512_loadu_si512(x + 8 * j), one);
        uint32_t k = (uint32_t)_mm512_cmplt_epu16_mask(v, limit);
        memcpy(bits + j, &k, 4);
    }
    leaky_pack_u16_portable(x + 8 * j, bits + j, nbytes - j, inf);
}

static inline uint32_t leaky_float_step(const float *x, float *y, float slope)
{
    __m512 v = _mm512_loadu_ps(x);
    __mmask16 keep = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
    _mm512_store_ps(y, _mm512_mask_mov_ps(_mm512_mul_ps(v, _mm512_set1_ps(slope)), keep, v));
    return (uint32_t)keep;
}

static inline uint32_t leaky_double_step(const double *x, double *y, double slope)
{
    __m512d v = _mm512_loadu_pd(x);
    __mmask8 keep = _mm512_cmp_pd_mask(v, _mm512_setzero_pd(), _CMP_GT_OQ);
    _mm512_store_pd(y, _mm512_mask_mov_pd(_mm512_mul_pd(v, _mm512_set1_pd(slope)), keep, v));
    return (uint32_t)keep;
}

static inline __m256i leaky_half_times16(__m512 v, __m512 s)
{
    return _mm512_cvtps_ph(_mm512_mul_ps(v, s), _MM_FROUND_TO_NEAREST_INT);
}

static inline uint32_t leaky_half_step(const uint16_t *x, uint16_t *y, float slope)
{
    __m256i h = _mm256_loadu_si256((const __m256i *)x);
    __m512 v = _mm512_cvtph_ps(h);
    __mmask16 keep = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
    _mm256_store_si256((__m256i *)y,
                       _mm256_mask_mov_epi16(leaky_half_times16(v, _mm512_set1_ps(slope)), keep, h));
    return (uint32_t)keep;
}

static inline void leaky_float_bstep(const float *g, uint32_t bits, float *out, float slope)
{
    __m512 v = _mm512_loadu_ps(g);
    _mm512_store_ps(out, _mm512_mask_mov_ps(_mm512_mul_ps(v, _mm512_set1_ps(slope)),
                                            (__mmask16)bits, v));
}

static inline void leaky_double_bstep(const double *g, uint32_t bits, double *out, double slope)
{
    __m512d v = _mm512_loadu_pd(g);
    _mm512_store_pd(out, _mm512_mask_mov_pd(_mm512_mul_pd(v, _mm512_set1_pd(slope)),
                                            (__mmask8)bits, v));
}

static inline void leaky_half_bstep(const uint16_t *g, uint32_t bits, uint16_t *out, float slope)
{
    __m256i h = _mm256_loadu_si256((const __m256i *)g);
    __m256i scaled = leaky_half_times16(_mm512_cvtph_ps(h), _mm512_set1_ps(slope));
    _mm256_store_si256((__m256i *)out, _mm256_mask_mov_epi16(scaled, (__mmask16)bits, h));
}

/* bfloat16: widen by a shift, multiply in float32, round once to nearest
 * even (leaky_convert.h). */
static inline __m256i leaky_bfloat16_times(__m256i h, __m512 s)
{
    __m512 v = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtepi32_epi16(leaky_bfloat16_rounded16(_mm512_mul_ps(v, s)));
}

static inline uint32_t leaky_bfloat16_step(const uint16_t *x, uint16_t *y, float slope)
{
    __m256i h = _mm256_loadu_si256((const __m256i *)x);
    __mmask16 keep = _mm256_cmplt_epu16_mask(_mm256_sub_epi16(h, _mm256_set1_epi16(1)),
                                             _mm256_set1_epi16((short)LEAKY_BFLOAT16_INF));
    _mm256_store_si256((__m256i *)y,
                       _mm256_mask_mov_epi16(leaky_bfloat16_times(h, _mm512_set1_ps(slope)), keep, h));
    return (uint32_t)keep;
}

static inline void leaky_bfloat16_bstep(const uint16_t *g, uint32_t bits, uint16_t *out, float slope)
{
    __m256i h = _mm256_loadu_si256((const __m256i *)g);
    _mm256_store_si256((__m256i *)out, _mm256_mask_mov_epi16(
        leaky_bfloat16_times(h, _mm512_set1_ps(slope)), (__mmask16)bits, h));
}

#elif LEAKY_ISA == 256 || LEAKY_ISA == 128
/* ----------------------------------------------------- AVX2+F16C and SSE2
 * 128-bit code serves both (VEX-encoded in the AVX2 build); AVX2 widens
 * float and double to 256 bits and adds float16 through F16C. */

/* Compares are signed: with the sign bit flipped on both sides, a signed
 * compare orders values as unsigned ones. */
static inline void leaky_pack_u16(const uint16_t *x, uint8_t *bits, intptr_t nbytes,
                                  uint16_t inf)
{
    const __m128i one = _mm_set1_epi16(1), flip = _mm_set1_epi16((short)0x8000),
                  limit = _mm_set1_epi16((short)(inf ^ 0x8000u));
    for (intptr_t j = 0; j < nbytes; j++) { /* 8 elements -> 1 byte */
        __m128i v = _mm_loadu_si128((const __m128i *)(x + 8 * j));
        __m128i keep = _mm_cmplt_epi16(_mm_xor_si128(_mm_sub_epi16(v, one), flip), limit);
        bits[j] = (uint8_t)_mm_movemask_epi8(_mm_packs_epi16(keep, keep));
    }
}

/* keep ? a : b on lane masks */
static inline __m128 leaky_blend4f(__m128 keep, __m128 a, __m128 b)
{
    return _mm_or_ps(_mm_and_ps(keep, a), _mm_andnot_ps(keep, b));
}

static inline __m128d leaky_blend2d(__m128d keep, __m128d a, __m128d b)
{
    return _mm_or_pd(_mm_and_pd(keep, a), _mm_andnot_pd(keep, b));
}

/* Bits first..first+3 of a byte -> four 32-bit lane masks; and the same
 * for pairs of bits -> two 64-bit lane masks (each bit tested twice). */
static inline __m128 leaky_lanes4(unsigned byte, int first)
{
    const __m128i w = _mm_setr_epi32(1 << first, 2 << first, 4 << first, 8 << first);
    return _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_and_si128(_mm_set1_epi32((int)byte), w), w));
}

static inline __m128d leaky_lanes2(unsigned byte, int first)
{
    const __m128i w = _mm_setr_epi32(1 << first, 1 << first, 2 << first, 2 << first);
    return _mm_castsi128_pd(_mm_cmpeq_epi32(_mm_and_si128(_mm_set1_epi32((int)byte), w), w));
}

#if LEAKY_ISA == 256

static inline uint32_t leaky_float_step(const float *x, float *y, float slope)
{
    __m256 v = _mm256_loadu_ps(x);
    __m256 keep = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ);
    _mm256_store_ps(y, _mm256_blendv_ps(_mm256_mul_ps(v, _mm256_set1_ps(slope)), v, keep));
    return (uint32_t)_mm256_movemask_ps(keep);
}

static inline uint32_t leaky_double_step(const double *x, double *y, double slope)
{
    const __m256d s = _mm256_set1_pd(slope), zero = _mm256_setzero_pd();
    __m256d lo = _mm256_loadu_pd(x), hi = _mm256_loadu_pd(x + 4);
    __m256d keep_lo = _mm256_cmp_pd(lo, zero, _CMP_GT_OQ);
    __m256d keep_hi = _mm256_cmp_pd(hi, zero, _CMP_GT_OQ);
    _mm256_store_pd(y, _mm256_blendv_pd(_mm256_mul_pd(lo, s), lo, keep_lo));
    _mm256_store_pd(y + 4, _mm256_blendv_pd(_mm256_mul_pd(hi, s), hi, keep_hi));
    return (uint32_t)(_mm256_movemask_pd(keep_lo) | (_mm256_movemask_pd(keep_hi) << 4));
}

static inline uint32_t leaky_half_step(const uint16_t *x, uint16_t *y, float slope)
{
    __m128i h = _mm_loadu_si128((const __m128i *)x);
    __m256 v = _mm256_cvtph_ps(h);
    __m256 keep = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ);
    _mm_store_si128((__m128i *)y, _mm_blendv_epi8(leaky_half_times8(v, _mm256_set1_ps(slope)), h,
                                                  leaky_narrow_lanes8(keep)));
    return (uint32_t)_mm256_movemask_ps(keep);
}

static inline __m256 leaky_lanes8(unsigned byte)
{
    const __m256i w = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)byte), w), w));
}

/* Bits 0..7 -> the sign bits of eight 32-bit lanes: all that blendv reads. */
static inline __m256 leaky_sign_lanes8(uint32_t bits)
{
    const __m256i shifts = _mm256_setr_epi32(31, 30, 29, 28, 27, 26, 25, 24);
    return _mm256_castsi256_ps(_mm256_sllv_epi32(_mm256_set1_epi32((int)bits), shifts));
}

static inline void leaky_float_bstep(const float *g, uint32_t bits, float *out, float slope)
{
    __m256 v = _mm256_loadu_ps(g);
    _mm256_store_ps(out, _mm256_blendv_ps(_mm256_mul_ps(v, _mm256_set1_ps(slope)), v,
                                          leaky_sign_lanes8(bits)));
}

/* The same for 64-bit lanes: bits 0..3 and 4..7 to the lanes' sign bits. */
static inline void leaky_double_bstep(const double *g, uint32_t bits, double *out, double slope)
{
    const __m256d s = _mm256_set1_pd(slope);
    const __m256i word = _mm256_set1_epi64x((long long)bits);
    const __m256i shifts[2] = {_mm256_setr_epi64x(63, 62, 61, 60),
                               _mm256_setr_epi64x(59, 58, 57, 56)};
    for (int half = 0; half < 2; half++) {
        __m256d keep = _mm256_castsi256_pd(_mm256_sllv_epi64(word, shifts[half]));
        __m256d v = _mm256_loadu_pd(g + 4 * half);
        _mm256_store_pd(out + 4 * half, _mm256_blendv_pd(_mm256_mul_pd(v, s), v, keep));
    }
}

static inline void leaky_half_bstep(const uint16_t *g, uint32_t bits, uint16_t *out, float slope)
{
    __m128i h = _mm_loadu_si128((const __m128i *)g);
    __m128i keep = leaky_narrow_lanes8(leaky_lanes8(bits & 0xffu));
    _mm_store_si128((__m128i *)out, _mm_blendv_epi8(leaky_half_times8(_mm256_cvtph_ps(h),
                                                                     _mm256_set1_ps(slope)), h, keep));
}

/* bfloat16, as in the AVX-512 tier, 8 elements at a time (leaky_convert.h). */
static inline __m128i leaky_bfloat16_times(__m128i h, __m256 s)
{
    return leaky_bfloat16_times8(leaky_bfloat16s_to_floats8(h), s);
}

/* Eight bfloat16 bit patterns -> 16-bit lane masks of "x > 0". */
static inline __m128i leaky_bfloat16_positive(__m128i h)
{
    const __m128i flip = _mm_set1_epi16((short)0x8000);
    __m128i v = _mm_xor_si128(_mm_sub_epi16(h, _mm_set1_epi16(1)), flip);
    return _mm_cmplt_epi16(v, _mm_set1_epi16((short)(LEAKY_BFLOAT16_INF ^ 0x8000u)));
}

static inline uint32_t leaky_bfloat16_step(const uint16_t *x, uint16_t *y, float slope)
{
    __m128i h = _mm_loadu_si128((const __m128i *)x);
    __m128i keep = leaky_bfloat16_positive(h);
    _mm_store_si128((__m128i *)y, _mm_blendv_epi8(leaky_bfloat16_times(h, _mm256_set1_ps(slope)), h,
                                                  keep));
    return (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(keep, keep)) & 0xffu;
}

static inline void leaky_bfloat16_bstep(const uint16_t *g, uint32_t bits, uint16_t *out, float slope)
{
    __m128i h = _mm_loadu_si128((const __m128i *)g);
    __m128i keep = leaky_narrow_lanes8(leaky_lanes8(bits & 0xffu));
    _mm_store_si128((__m128i *)out, _mm_blendv_epi8(leaky_bfloat16_times(h, _mm256_set1_ps(slope)),
                                                    h, keep));
}

#else /* SSE2 */

static inline uint32_t leaky_float_step(const float *x, float *y, float slope)
{
    const __m128 s = _mm_set1_ps(slope), zero = _mm_setzero_ps();
    uint32_t bits = 0;
    for (int q = 0; q < 2; q++) {
        __m128 v = _mm_loadu_ps(x + 4 * q);
        __m128 keep = _mm_cmpgt_ps(v, zero);
        _mm_store_ps(y + 4 * q, leaky_blend4f(keep, v, _mm_mul_ps(v, s)));
        bits |= (uint32_t)_mm_movemask_ps(keep) << (4 * q);
    }
    return bits;
}

static inline uint32_t leaky_double_step(const double *x, double *y, double slope)
{
    const __m128d s = _mm_set1_pd(slope), zero = _mm_setzero_pd();
    uint32_t bits = 0;
    for (int q = 0; q < 4; q++) {
        __m128d v = _mm_loadu_pd(x + 2 * q);
        __m128d keep = _mm_cmpgt_pd(v, zero);
        _mm_store_pd(y + 2 * q, leaky_blend2d(keep, v, _mm_mul_pd(v, s)));
        bits |= (uint32_t)_mm_movemask_pd(keep) << (2 * q);
    }
    return bits;
}

static inline void leaky_float_bstep(const float *g, uint32_t bits, float *out, float slope)
{
    const __m128 s = _mm_set1_ps(slope);
    for (int q = 0; q < 2; q++) {
        __m128 v = _mm_loadu_ps(g + 4 * q);
        _mm_store_ps(out + 4 * q, leaky_blend4f(leaky_lanes4(bits, 4 * q), v, _mm_mul_ps(v, s)));
    }
}

static inline void leaky_double_bstep(const double *g, uint32_t bits, double *out, double slope)
{
    const __m128d s = _mm_set1_pd(slope);
    for (int q = 0; q < 4; q++) {
        __m128d v = _mm_loadu_pd(g + 2 * q);
        _mm_store_pd(out + 2 * q, leaky_blend2d(leaky_lanes2(bits, 2 * q), v, _mm_mul_pd(v, s)));
    }
}

#endif /* 256 or SSE2 */

#elif LEAKY_NEON
/* ------------------------------------------------------------ NEON (aarch64)
 * 128-bit vectors; a compare gives lane masks, which become bits by an AND
 * with each lane's weight and an add across the vector (addv), and bits
 * become lane masks by a test against the weights (cmtst).  Halves convert
 * with fcvtl/fcvtn, bfloat16 with shifts (leaky_convert.h). */

static const uint16_t leaky_neon_weights16[8] = {1, 2, 4, 8, 16, 32, 64, 128};
static const uint32_t leaky_neon_weights32[8] = {1, 2, 4, 8, 16, 32, 64, 128};
static const uint64_t leaky_neon_weights64[8] = {1, 2, 4, 8, 16, 32, 64, 128};

/* Eight 16-bit lane masks -> bits 0..7. */
static inline uint32_t leaky_neon_bits8(uint16x8_t keep)
{
    return vaddvq_u16(vandq_u16(keep, vld1q_u16(leaky_neon_weights16)));
}

/* Bits 0..7 -> eight 16-bit lane masks. */
static inline uint16x8_t leaky_neon_lanes8(uint32_t bits)
{
    return vtstq_u16(vdupq_n_u16((uint16_t)bits), vld1q_u16(leaky_neon_weights16));
}

static inline void leaky_pack_u16(const uint16_t *x, uint8_t *bits, intptr_t nbytes,
                                  uint16_t inf)
{
    for (intptr_t j = 0; j < nbytes; j++)   /* 8 elements -> 1 byte */
        bits[j] = (uint8_t)leaky_neon_bits8(leaky_positive_lanes8(vld1q_u16(x + 8 * j), inf));
}

static inline uint32_t leaky_float_step(const float *x, float *y, float slope)
{
    const float32x4_t s = vdupq_n_f32(slope), zero = vdupq_n_f32(0.0f);
    uint32_t bits = 0;
    for (int q = 0; q < 2; q++) {
        float32x4_t v = vld1q_f32(x + 4 * q);
        uint32x4_t keep = vcgtq_f32(v, zero);
        vst1q_f32(y + 4 * q, vbslq_f32(keep, v, vmulq_f32(v, s)));
        bits |= vaddvq_u32(vandq_u32(keep, vld1q_u32(leaky_neon_weights32 + 4 * q)));
    }
    return bits;
}

static inline uint32_t leaky_double_step(const double *x, double *y, double slope)
{
    const float64x2_t s = vdupq_n_f64(slope), zero = vdupq_n_f64(0.0);
    uint32_t bits = 0;
    for (int q = 0; q < 4; q++) {
        float64x2_t v = vld1q_f64(x + 2 * q);
        uint64x2_t keep = vcgtq_f64(v, zero);
        vst1q_f64(y + 2 * q, vbslq_f64(keep, v, vmulq_f64(v, s)));
        bits |= (uint32_t)vaddvq_u64(vandq_u64(keep, vld1q_u64(leaky_neon_weights64 + 2 * q)));
    }
    return bits;
}

static inline void leaky_float_bstep(const float *g, uint32_t bits, float *out, float slope)
{
    const float32x4_t s = vdupq_n_f32(slope);
    const uint32x4_t word = vdupq_n_u32(bits);
    for (int q = 0; q < 2; q++) {
        float32x4_t v = vld1q_f32(g + 4 * q);
        uint32x4_t keep = vtstq_u32(word, vld1q_u32(leaky_neon_weights32 + 4 * q));
        vst1q_f32(out + 4 * q, vbslq_f32(keep, v, vmulq_f32(v, s)));
    }
}

static inline void leaky_double_bstep(const double *g, uint32_t bits, double *out, double slope)
{
    const float64x2_t s = vdupq_n_f64(slope);
    const uint64x2_t word = vdupq_n_u64(bits);
    for (int q = 0; q < 4; q++) {
        float64x2_t v = vld1q_f64(g + 2 * q);
        uint64x2_t keep = vtstq_u64(word, vld1q_u64(leaky_neon_weights64 + 2 * q));
        vst1q_f64(out + 2 * q, vbslq_f64(keep, v, vmulq_f64(v, s)));
    }
}

/* float16 and bfloat16: eight elements a step, "x > 0" off the bits. */
#define LEAKY_DEFINE_NEON_STEPS16(t, INF, to_floats8, times8)                               \
    static inline uint32_t leaky_##t##_step(const uint16_t *x, uint16_t *y, float slope)    \
    {                                                                                       \
        uint16x8_t h = vld1q_u16(x);                                                        \
        uint16x8_t keep = leaky_positive_lanes8(h, INF);                                    \
        vst1q_u16(y, vbslq_u16(keep, h, times8(to_floats8(h), vdupq_n_f32(slope))));        \
        return leaky_neon_bits8(keep);                                                      \
    }                                                                                       \
    static inline void leaky_##t##_bstep(const uint16_t *g, uint32_t bits, uint16_t *out,   \
                                         float slope)                                       \
    {                                                                                       \
        uint16x8_t h = vld1q_u16(g);                                                        \
        vst1q_u16(out, vbslq_u16(leaky_neon_lanes8(bits), h,                                \
                                 times8(to_floats8(h), vdupq_n_f32(slope))));               \
    }

LEAKY_DEFINE_NEON_STEPS16(half, LEAKY_HALF_INF, leaky_halves_to_floats8, leaky_half_times8)
LEAKY_DEFINE_NEON_STEPS16(bfloat16, LEAKY_BFLOAT16_INF, leaky_bfloat16s_to_floats8,
                          leaky_bfloat16_times8)

#else
/* --------------------------------------------------------------- portable */

static inline void leaky_pack_u16(const uint16_t *x, uint8_t *bits, intptr_t nbytes,
                                  uint16_t inf)
{ leaky_pack_u16_portable(x, bits, nbytes, inf); }


#endif

/* ---------------------------------------------- fused forward with bits --
 * leaky_<type>_forward_bits(x, y, bits, n, slope): the whole range, for a
 * range that starts on a whole byte of bits.  The SIMD steps store y on
 * vector-aligned addresses (a store that straddles two cache lines costs
 * about 15% at 1e6 float32 elements, and NumPy's allocator returns 16-byte
 * aligned memory); the elements before that point and after the last full
 * step go one at a time.  The bits are streamed through a 64-bit
 * accumulator, so they need not start a byte where the steps do.
 * Returns 0 (and does nothing) where this ISA has no step for the type. */

/* The writer and the reader below serve the SIMD tiers only, x86 and
 * little-endian aarch64 (leaky_isa.h), so they may store and load words in
 * little-endian byte order; the portable tier (any byte order) packs byte
 * by byte. */
typedef struct {
    uint8_t *out;
    uint64_t acc;       /* pending bits, the oldest in bit 0 */
    int count;          /* how many; below 32 between calls */
} leaky_bit_writer;

/* count <= 32 */
static inline void leaky_put_bits(leaky_bit_writer *w, uint32_t bits, int count)
{
    w->acc |= (uint64_t)bits << w->count;
    w->count += count;
    if (w->count >= 32) {
        uint32_t word = (uint32_t)w->acc;
        memcpy(w->out, &word, 4);       /* little-endian: oldest byte first */
        w->out += 4;
        w->acc >>= 32;
        w->count -= 32;
    }
}

static inline void leaky_flush_bits(leaky_bit_writer *w)
{
    for (; w->count > 0; w->count -= 8, w->acc >>= 8)
        *w->out++ = (uint8_t)w->acc;    /* unused bits of the last byte: 0 */
}

#define LEAKY_DEFINE_FORWARD_BITS(name, type, slope_type, STEP, VECTOR_BYTES, step, one) \
    static inline intptr_t name(const type *x, type *y, uint8_t *bits, intptr_t n,        \
                                slope_type slope)                                         \
    {                                                                                     \
        leaky_bit_writer w = {bits, 0, 0};                                                \
        intptr_t i = 0;                                                                   \
        for (; i < n && ((uintptr_t)(y + i) % (VECTOR_BYTES)) != 0; i++)                  \
            leaky_put_bits(&w, one(x + i, y + i, slope), 1);                              \
        /* 32 elements a word; each stored word is the previous word's last  */          \
        /* bits and this one's first, so no chain runs through the loop.     */          \
        const int shift = 32 - w.count;                                                   \
        uint64_t previous = w.acc << shift;                                               \
        for (; i + 32 <= n; i += 32) {                                                    \
            uint32_t word = 0;                                                            \
            for (int k = 0; k < 32; k += (STEP))                                          \
                word |= step(x + i + k, y + i + k, slope) << k;                           \
            uint32_t out = (uint32_t)((((uint64_t)word << 32) | previous) >> shift);      \
            memcpy(w.out, &out, 4);                                                       \
            w.out += 4;                                                                   \
            previous = word;                                                              \
        }                                                                                 \
        w.acc = previous >> shift;                                                        \
        for (; i < n; i++)                                                                \
            leaky_put_bits(&w, one(x + i, y + i, slope), 1);                              \
        leaky_flush_bits(&w);                                                             \
        return n;                                                                         \
    }

/* One element: read x before writing y, so that y may be x. */
static inline uint32_t leaky_float_one(const float *x, float *y, float slope)
{
    float v = *x;
    int keep = v > 0;
    *y = keep ? v : v * slope;
    return (uint32_t)keep;
}

static inline uint32_t leaky_double_one(const double *x, double *y, double slope)
{
    double v = *x;
    int keep = v > 0;
    *y = keep ? v : v * slope;
    return (uint32_t)keep;
}

#if LEAKY_ISA == 512 || LEAKY_ISA == 256 || LEAKY_NEON
static inline uint32_t leaky_bfloat16_one(const uint16_t *x, uint16_t *y, float slope)
{
    uint16_t h = *x;
    float v = leaky_bfloat16_to_float(h);
    int keep = v > 0;
    *y = keep ? h : leaky_float_to_bfloat16(v * slope);
    return (uint32_t)keep;
}
#endif

#if LEAKY_ISA == 512 || LEAKY_ISA == 256
static inline uint32_t leaky_half_one(const uint16_t *x, uint16_t *y, float slope)
{
    uint16_t h = *x;
    float v = _cvtsh_ss(h);
    int keep = v > 0;
    *y = keep ? h : (uint16_t)_cvtss_sh(v * slope, _MM_FROUND_TO_NEAREST_INT);
    return (uint32_t)keep;
}
#elif LEAKY_NEON
/* The element conversions of leaky_convert.h: the same result bits. */
static inline uint32_t leaky_half_one(const uint16_t *x, uint16_t *y, float slope)
{
    uint16_t h = *x;
    float v = leaky_half_to_float(h);
    int keep = v > 0;
    *y = keep ? h : leaky_float_to_half(v * slope);
    return (uint32_t)keep;
}
#endif

/* ---------------------------------------------------- backward from bits --
 * leaky_<type>_backward_bits(grad, bits, grad_in, n, slope): the whole
 * range, for a range that starts on a whole byte of bits.  As the forward:
 * stores on vector-aligned addresses, the bits read at whatever bit offset
 * that leaves (4-byte reads, kept inside the bits by stopping the steps 32
 * elements before the end).  Returns 0 where this ISA has no step. */

#define LEAKY_DEFINE_BACKWARD_BITS(name, type, slope_type, STEP, VECTOR_BYTES, bstep, bone)  \
    static inline intptr_t name(const type *g, const uint8_t *bits, type *out, intptr_t n,  \
                                slope_type slope)                                           \
    {                                                                                       \
        intptr_t i = 0;                                                                     \
        for (; i < n && ((uintptr_t)(out + i) % (VECTOR_BYTES)) != 0; i++)                  \
            bone(g + i, (bits[i >> 3] >> (i & 7)) & 1u, out + i, slope);                    \
        /* 32 elements a word, read once (8 bytes, so 64 elements ahead). */               \
        const int phase = (int)(i & 7);                                                     \
        for (; i + 64 <= n; i += 32) {                                                      \
            uint64_t bytes;                                                                 \
            memcpy(&bytes, bits + (i >> 3), 8);                                             \
            const uint32_t word = (uint32_t)(bytes >> phase);                               \
            for (int k = 0; k < 32; k += (STEP))                                            \
                bstep(g + i + k, word >> k, out + i + k, slope);                            \
        }                                                                                   \
        for (; i + 32 <= n; i += (STEP)) {                                                  \
            uint32_t word;                                                                  \
            memcpy(&word, bits + (i >> 3), 4);                                              \
            bstep(g + i, word >> (i & 7), out + i, slope);                                  \
        }                                                                                   \
        for (; i < n; i++)                                                                  \
            bone(g + i, (bits[i >> 3] >> (i & 7)) & 1u, out + i, slope);                    \
        return n;                                                                           \
    }

/* One element: read grad before writing, so that grad_in may be grad. */
static inline void leaky_float_bone(const float *g, unsigned keep, float *out, float slope)
{
    float v = *g;
    *out = keep ? v : v * slope;
}

static inline void leaky_double_bone(const double *g, unsigned keep, double *out, double slope)
{
    double v = *g;
    *out = keep ? v : v * slope;
}

#if LEAKY_ISA == 512 || LEAKY_ISA == 256 || LEAKY_NEON
static inline void leaky_bfloat16_bone(const uint16_t *g, unsigned keep, uint16_t *out, float slope)
{
    uint16_t h = *g;
    *out = keep ? h : leaky_float_to_bfloat16(leaky_bfloat16_to_float(h) * slope);
}
#endif

#if LEAKY_ISA == 512 || LEAKY_ISA == 256
static inline void leaky_half_bone(const uint16_t *g, unsigned keep, uint16_t *out, float slope)
{
    uint16_t h = *g;
    *out = keep ? h : (uint16_t)_cvtss_sh(_cvtsh_ss(h) * slope, _MM_FROUND_TO_NEAREST_INT);
}
#elif LEAKY_NEON
static inline void leaky_half_bone(const uint16_t *g, unsigned keep, uint16_t *out, float slope)
{
    uint16_t h = *g;
    *out = keep ? h : leaky_float_to_half(leaky_half_to_float(h) * slope);
}
#endif

/* Both drivers for one type: leaky_<t>_forward_bits and _backward_bits
 * from leaky_<t>_step/_one and leaky_<t>_bstep/_bone; or, where this ISA
 * has no steps for the type, versions that do nothing and return 0. */
#define LEAKY_DEFINE_BITS(t, type, slope_type, STEP, VECTOR_BYTES)                         \
    LEAKY_DEFINE_FORWARD_BITS(leaky_##t##_forward_bits, type, slope_type, STEP,           \
                              VECTOR_BYTES, leaky_##t##_step, leaky_##t##_one)            \
    LEAKY_DEFINE_BACKWARD_BITS(leaky_##t##_backward_bits, type, slope_type, STEP,         \
                               VECTOR_BYTES, leaky_##t##_bstep, leaky_##t##_bone)

#define LEAKY_NO_BITS(t, type, slope_type)                                                 \
    static inline intptr_t leaky_##t##_forward_bits(const type *x, type *y, uint8_t *bits, \
                                                    intptr_t n, slope_type slope)          \
    { (void)x; (void)y; (void)bits; (void)n; (void)slope; return 0; }                      \
    static inline intptr_t leaky_##t##_backward_bits(const type *g, const uint8_t *bits,   \
                                                     type *out, intptr_t n,                \
                                                     slope_type slope)                     \
    { (void)g; (void)bits; (void)out; (void)n; (void)slope; return 0; }

/*                 type    C type    slope   elements/step  store alignment (bytes) */
#if LEAKY_ISA == 512
LEAKY_DEFINE_BITS(float,  float,    float,  16, 64)
LEAKY_DEFINE_BITS(double, double,   double, 8,  64)
LEAKY_DEFINE_BITS(half,   uint16_t, float,  16, 32)
LEAKY_DEFINE_BITS(bfloat16, uint16_t, float, 16, 32)
#elif LEAKY_ISA == 256
LEAKY_DEFINE_BITS(float,  float,    float,  8,  32)
LEAKY_DEFINE_BITS(double, double,   double, 8,  32)
LEAKY_DEFINE_BITS(half,   uint16_t, float,  8,  16)
LEAKY_DEFINE_BITS(bfloat16, uint16_t, float, 8,  16)
#elif LEAKY_ISA == 128
LEAKY_DEFINE_BITS(float,  float,    float,  8,  16)
LEAKY_DEFINE_BITS(double, double,   double, 8,  16)
LEAKY_NO_BITS(half, uint16_t, float)
LEAKY_NO_BITS(bfloat16, uint16_t, float)
#elif LEAKY_NEON
LEAKY_DEFINE_BITS(float,  float,    float,  8,  16)
LEAKY_DEFINE_BITS(double, double,   double, 8,  16)
LEAKY_DEFINE_BITS(half,   uint16_t, float,  8,  16)
LEAKY_DEFINE_BITS(bfloat16, uint16_t, float, 8,  16)
#else
LEAKY_NO_BITS(float, float, float)
LEAKY_NO_BITS(double, double, double)
LEAKY_NO_BITS(half, uint16_t, float)
LEAKY_NO_BITS(bfloat16, uint16_t, float)
#endif

#endif /* LEAKY_PACK_H */

/*
 * Conversions between the value formats, one element or eight at a time.
 *
 * - float <-> its bits (memcpy: no aliasing games);
 * - IEEE binary16 <-> binary32: half -> float is exact; float -> half
 *   rounds once to nearest even, which is what PyTorch does for float16 on
 *   the CPU (compute in float32, round the result once);
 * - bfloat16 <-> binary32, the same way;
 * - with F16C and AVX2 (LEAKY_F16C), eight lanes at once: eight halves or
 *   bfloat16s widened, the product of eight floats rounded to halves or
 *   bfloat16s, and eight float lane masks narrowed to half-width lanes.  The select loops (leaky_select.h) and the packing
 *   (leaky_pack.h) both use these;
 * - with NEON (LEAKY_NEON, aarch64), the same eight lanes at once, halves
 *   through fcvtl/fcvtn, and bfloat16 through shifts and integer rounding.
 */
#ifndef LEAKY_CONVERT_H
#define LEAKY_CONVERT_H

#include <stdint.h>
#include <string.h>

#include "leaky_isa.h"

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
 * vectorize at every ISA level.
 *
 * How they compare with the hardware conversions (x86 F16C, aarch64 FCVT,
 * FCVTL/FCVTN), in the default rounding mode and without flush-to-zero:
 * - float -> half: identical for every float, NaNs included (quiet bit
 *   set, sign kept, the payload's low 13 bits dropped);
 * - half -> float: identical except for signaling NaNs (exponent all ones,
 *   quiet bit clear, payload not zero).  The hardware quiets them and the
 *   software does not: 0x7c01 gives 0x7fc02000 with F16C and 0x7f802000
 *   here.  (The Arm architecture quiets them in FCVT and FCVTL too; the
 *   aarch64 emulation of qemu-user 7.2 does not, so under qemu the two
 *   agree.)  No result of the kernels shows this: a converted value is
 *   only compared with 0 (false for every NaN) or multiplied by the slope,
 *   and the multiply quiets a signaling NaN and keeps its payload, so the
 *   product, and the half it rounds to, are the same bits either way
 *   (tests/test_cross_isa.py compares every half pattern across tiers;
 *   tests/test_cpu_dispatch.py the x86 variants).
 *
 * Measured, this beats _Float16 casts under GCC 12 even with -mf16c: GCC
 * calls libgcc for each element there (about 7 ns) and does not vectorize
 * them; the branch-free code runs at about 1 ns per element with AVX2 and
 * 2 ns with SSE2.  Where F16C or NEON is there, the unit-stride loops use
 * the block functions below and in leaky_select.h instead (~0.2 ns with
 * F16C). */
#if LEAKY_F16C
#define LEAKY_HALF_CONVERSION "F16C blocks (branch-free software for strided loops)"
#elif LEAKY_NEON
#define LEAKY_HALF_CONVERSION "NEON fcvtl/fcvtn blocks (branch-free software for strided loops)"
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

#if LEAKY_F16C
/* v * s for eight floats, each rounded once to a half. */
static inline __m128i leaky_half_times8(__m256 v, __m256 s)
{
    return _mm256_cvtps_ph(_mm256_mul_ps(v, s), _MM_FROUND_TO_NEAREST_INT);
}

/* Eight 32-bit lane masks -> eight 16-bit ones. */
static inline __m128i leaky_narrow_lanes8(__m256 keep)
{
    __m256i k = _mm256_castps_si256(keep);
    return _mm_packs_epi32(_mm256_castsi256_si128(k), _mm256_extracti128_si256(k, 1));
}

/* Eight float32 lanes rounded once to bfloat16, as leaky_float_to_bfloat16
 * does, the result in the low half of each lane: to nearest even by an
 * integer add; a NaN keeps its top half with the quiet bit set. */
static inline __m256i leaky_bfloat16_rounded8(__m256 product)
{
    __m256i p = _mm256_castps_si256(product);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(p, 16), _mm256_set1_epi32(1));
    __m256i rounded = _mm256_add_epi32(_mm256_add_epi32(p, _mm256_set1_epi32(0x7fff)), lsb);
    __m256i quiet = _mm256_or_si256(p, _mm256_set1_epi32(0x00400000));
    __m256 nan = _mm256_cmp_ps(product, product, _CMP_UNORD_Q);
    return _mm256_srli_epi32(_mm256_castps_si256(_mm256_blendv_ps(
        _mm256_castsi256_ps(rounded), _mm256_castsi256_ps(quiet), nan)), 16);
}

/* Eight bfloat16 (as bits) widened to floats: a shift each (exact). */
static inline __m256 leaky_bfloat16s_to_floats8(__m128i h)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/* v * s for eight floats, each rounded once to bfloat16. */
static inline __m128i leaky_bfloat16_times8(__m256 v, __m256 s)
{
    __m256i r = leaky_bfloat16_rounded8(_mm256_mul_ps(v, s));
    return _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
}

/* h * s for sixteen bfloat16s (as bits), each rounded once.  Interleaving
 * with zeros puts each element's bits in the top half of a 32-bit lane,
 * which is its float32; packus undoes the interleave's order (both work
 * within 128-bit lanes), so nothing crosses lanes. */
static inline __m256i leaky_bfloat16_times16(__m256i h, __m256 s)
{
    const __m256i zero = _mm256_setzero_si256();
    __m256 low = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, h));
    __m256 high = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, h));
    return _mm256_packus_epi32(leaky_bfloat16_rounded8(_mm256_mul_ps(low, s)),
                               leaky_bfloat16_rounded8(_mm256_mul_ps(high, s)));
}
#endif

#if LEAKY_ISA == 512
/* The same sixteen lanes at a time with AVX-512 (BW for the 16-bit ops). */
static inline __m512i leaky_bfloat16_rounded16(__m512 product)
{
    __m512i p = _mm512_castps_si512(product);
    __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(p, 16), _mm512_set1_epi32(1));
    __m512i rounded = _mm512_add_epi32(_mm512_add_epi32(p, _mm512_set1_epi32(0x7fff)), lsb);
    __m512i quiet = _mm512_or_si512(p, _mm512_set1_epi32(0x00400000));
    __mmask16 nan = _mm512_cmp_ps_mask(product, product, _CMP_UNORD_Q);
    return _mm512_srli_epi32(_mm512_mask_mov_epi32(rounded, nan, quiet), 16);
}

/* h * s for thirty-two bfloat16s (as bits), as leaky_bfloat16_times16. */
static inline __m512i leaky_bfloat16_times32(__m512i h, __m512 s)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512 low = _mm512_castsi512_ps(_mm512_unpacklo_epi16(zero, h));
    __m512 high = _mm512_castsi512_ps(_mm512_unpackhi_epi16(zero, h));
    return _mm512_packus_epi32(leaky_bfloat16_rounded16(_mm512_mul_ps(low, s)),
                               leaky_bfloat16_rounded16(_mm512_mul_ps(high, s)));
}


#endif

#if LEAKY_NEON
/* Eight halves (as bits) widened to two vectors of four floats: fcvtl,
 * fcvtl2.  Exact; a signaling NaN comes out quiet (see above). */
static inline float32x4x2_t leaky_halves_to_floats8(uint16x8_t h)
{
    float16x8_t f = vreinterpretq_f16_u16(h);
    float32x4x2_t v = {{vcvt_f32_f16(vget_low_f16(f)), vcvt_high_f32_f16(f)}};
    return v;
}

/* v * s for eight floats, each rounded once to a half (fcvtn, fcvtn2: the
 * rounding mode of FPCR, round to nearest even unless a program changed
 * it, as F16C's _MM_FROUND_TO_NEAREST_INT). */
static inline uint16x8_t leaky_half_times8(float32x4x2_t v, float32x4_t s)
{
    float16x4_t low = vcvt_f16_f32(vmulq_f32(v.val[0], s));
    return vreinterpretq_u16_f16(vcvt_high_f16_f32(low, vmulq_f32(v.val[1], s)));
}

/* Two vectors of four 32-bit lane masks -> eight 16-bit ones. */
static inline uint16x8_t leaky_narrow_lanes8(uint32x4_t low, uint32x4_t high)
{
    return vcombine_u16(vmovn_u32(low), vmovn_u32(high));
}

/* Eight bfloat16 (as bits) widened to floats: a shift each (shll). */
static inline float32x4x2_t leaky_bfloat16s_to_floats8(uint16x8_t h)
{
    float32x4x2_t v = {{vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)),
                        vreinterpretq_f32_u32(vshll_high_n_u16(h, 16))}};
    return v;
}

/* Four floats rounded to bfloat16 as leaky_float_to_bfloat16 does: to
 * nearest even by an integer add, the top halves kept (shrn); a NaN keeps
 * its top half with the quiet bit set. */
static inline uint16x4_t leaky_floats_to_bfloat16s4(float32x4_t value)
{
    uint32x4_t w = vreinterpretq_u32_f32(value);
    uint32x4_t lsb = vandq_u32(vshrq_n_u32(w, 16), vdupq_n_u32(1));
    uint16x4_t rounded = vshrn_n_u32(vaddq_u32(vaddq_u32(w, vdupq_n_u32(0x7fff)), lsb), 16);
    uint16x4_t nan = vorr_u16(vshrn_n_u32(w, 16), vdup_n_u16(0x0040));
    uint32x4_t is_nan = vcgtq_u32(vandq_u32(w, vdupq_n_u32(0x7fffffff)),
                                  vdupq_n_u32(0x7f800000));
    return vbsl_u16(vmovn_u32(is_nan), nan, rounded);
}

/* v * s for eight floats, each rounded once to bfloat16. */
static inline uint16x8_t leaky_bfloat16_times8(float32x4x2_t v, float32x4_t s)
{
    return vcombine_u16(leaky_floats_to_bfloat16s4(vmulq_f32(v.val[0], s)),
                        leaky_floats_to_bfloat16s4(vmulq_f32(v.val[1], s)));
}

/* Eight 16-bit patterns -> lane masks of "x > 0" for the format whose
 * +infinity is `inf` (as leaky_pack.h reads it: (bits - 1) < inf). */
static inline uint16x8_t leaky_positive_lanes8(uint16x8_t h, uint16_t inf)
{
    return vcltq_u16(vsubq_u16(h, vdupq_n_u16(1)), vdupq_n_u16(inf));
}
#endif

#endif /* LEAKY_CONVERT_H */

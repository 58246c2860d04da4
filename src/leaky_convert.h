/*
 * Conversions between the value formats, one element or eight at a time.
 *
 * - float <-> its bits (memcpy: no aliasing games);
 * - IEEE binary16 <-> binary32: half -> float is exact; float -> half
 *   rounds once to nearest even, which is what PyTorch does for float16 on
 *   the CPU (compute in float32, round the result once);
 * - bfloat16 <-> binary32, the same way;
 * - with F16C (LEAKY_F16C), eight lanes at once: the product of eight
 *   floats rounded to halves, and eight float lane masks narrowed to
 *   half-width lanes.  The select loops (leaky_select.h) and the packing
 *   (leaky_pack.h) both use these.
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
 * How they compare with the hardware conversions (x86 F16C, aarch64 FCVT),
 * in the default rounding mode and without flush-to-zero:
 * - float -> half: identical for every float, NaNs included (quiet bit
 *   set, sign kept, the payload's low 13 bits dropped);
 * - half -> float: identical except for signaling NaNs (exponent all ones,
 *   quiet bit clear, payload not zero).  The hardware quiets them and the
 *   software does not: 0x7c01 gives 0x7fc02000 with F16C and 0x7f802000
 *   here.  (The Arm architecture quiets them in FCVT and FCVTL too.)  No
 *   result of the kernels shows this: a converted value is only compared
 *   with 0 (false for every NaN) or multiplied by the slope, and the
 *   multiply quiets a signaling NaN and keeps its payload, so the product,
 *   and the half it rounds to, are the same bits either way
 *   (tests/test_cpu_dispatch.py compares the x86 variants on every half).
 *
 * Measured, this beats _Float16 casts under GCC 12 even with -mf16c: GCC
 * calls libgcc for each element there (about 7 ns) and does not vectorize
 * them; the branch-free code runs at about 1 ns per element with AVX2 and
 * 2 ns with SSE2.  Where F16C is there, the unit-stride loops use the
 * block functions below instead (~0.2 ns). */
#if LEAKY_F16C
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
#endif

#endif /* LEAKY_CONVERT_H */

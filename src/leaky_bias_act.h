/*
 * bias_act: StyleGAN's fused bias + activation + gain + clamp, elementwise,
 * in one pass, with the bits its derivative needs.
 *
 *   t = x + b[c]          (c: the element's index along the bias's dim)
 *   a = act(t)            linear: t; relu: torch.relu(t); lrelu: t > 0 ? t : t * alpha
 *   g = a * gain          (when gain != 1)
 *   y = clamp(g, -c, c)   (when clamp >= 0; NaN stays NaN)
 *
 * each step in the compute precision (float32 for float16, bfloat16 and
 * float32; float64 for float64), so float32 and float64 give the bits of
 * the same torch ops run one after another, and the 16-bit types round
 * once, at the end.
 *
 * Bits, packed 8 a byte in the element order (bit k of byte j is element
 * 8 j + k), in two planes of ceil(n / 8) bytes:
 *   pos      whether the activation passes its gradient: lrelu t > 0;
 *            relu torch's relu backward, !(relu(t) <= 0); linear 1;
 *   inside   (with a clamp only) -c <= g <= c: clamp's backward passes it.
 * The derivative is then linear in the incoming gradient v, the reference
 * chain's backward step by step (so its bits, signed zeros included):
 *   w  = inside ? v : +0        clamp's backward
 *   w  = w * gain               when gain != 1
 *   dx = pos ? w : (lrelu ? w * alpha : +0)
 * (a +0 that the clamp stopped still takes the sign of a negative gain or
 * alpha, as it does in the chain).
 *
 * The bias: element i of a range starting at element `start` of the whole
 * tensor (in its memory order) takes bias[((start + i) / inner) % channels];
 * no bias: channels = 0.
 */
#ifndef LEAKY_BIAS_ACT_H
#define LEAKY_BIAS_ACT_H

#include <stdint.h>
#include <string.h>

#include "leaky_convert.h"
#include "leaky_kernel_table.h"   /* enum leaky_act, leaky_bias_act */

/* Elements a block: their bits are packed while the block is in L1. */
#define LEAKY_BIAS_ACT_BLOCK 1024

/* Eight 0/1 bytes -> one byte of bits, element k at bit k. */
static inline uint8_t leaky_pack8(const uint8_t *flags)
{
    uint64_t word;
    memcpy(&word, flags, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    word = __builtin_bswap64(word);
#endif
    return (uint8_t)((word * 0x0102040810204080ull) >> 56);
}

static inline void leaky_pack_flags(const uint8_t *flags, uint8_t *bits, int64_t n)
{
    int64_t j = 0;
    for (; j + 8 <= n; j += 8)
        bits[j / 8] = leaky_pack8(flags + j);
    if (j < n) {
        uint8_t last = 0;
        for (int64_t k = j; k < n; k++)
            last |= (uint8_t)(flags[k] << (k - j));
        bits[j / 8] = last;
    }
}

static inline void leaky_unpack_flags(const uint8_t *bits, uint8_t *flags, int64_t n)
{
    for (int64_t j = 0; j < n; j++)
        flags[j] = (bits[j / 8] >> (j % 8)) & 1u;
}

/*
 * One value type: its element arithmetic and the two block loops.
 * ctype is the compute type; load/store convert (identity for float32 and
 * float64).  A run of elements shares one bias value (inner > 1) or walks
 * the bias (inner == 1, channels last): the two inner loops, each
 * branch-free so that the compiler vectorizes them.
 */
#define LEAKY_DEFINE_BIAS_ACT(t, type, ctype, load, store)                                   \
    static inline ctype leaky_##t##_act(ctype v, const leaky_bias_act *p, ctype alpha,       \
                                        ctype gain, ctype c, uint8_t *pos, uint8_t *inside)  \
    {                                                                                        \
        ctype a = v;                                                                         \
        uint8_t passes = 1;                                                                  \
        if (p->act == LEAKY_ACT_LRELU) {                                                     \
            ctype scaled = v * alpha;                                                        \
            passes = v > 0;                                                                  \
            a = passes ? v : scaled;                                                         \
        } else if (p->act == LEAKY_ACT_RELU) { /* max(v, 0), NaN and -0.0 kept */           \
            a = (v >= 0 || v != v) ? v : (ctype)0;                                           \
            passes = !(a <= 0);                                                              \
        }                                                                                    \
        if (p->gain != 1)                                                                    \
            a = a * gain;                                                                    \
        *pos = passes;                                                                       \
        if (p->clamp >= 0) {                                                                 \
            *inside = (a >= -c) & (a <= c);                                                  \
            a = a < -c ? -c : (a > c ? c : a);                                               \
        }                                                                                    \
        return a;                                                                            \
    }                                                                                        \
                                                                                             \
    static inline void leaky_##t##_bias_act_block(const type *x, type *y, uint8_t *pos,      \
                                                  uint8_t *inside, int64_t start,            \
                                                  int64_t n, const leaky_bias_act *p)        \
    {                                                                                        \
        const ctype alpha = (ctype)p->alpha, gain = (ctype)p->gain, c = (ctype)p->clamp;     \
        const type *bias = (const type *)p->bias;                                            \
        int64_t i = 0;                                                                       \
        while (i < n) {                                                                      \
            int64_t run = n - i, k;                                                          \
            if (bias == NULL) {                                                              \
                for (k = 0; k < run; k++)                                                    \
                    y[i + k] = store(leaky_##t##_act(load(x[i + k]), p, alpha, gain, c,      \
                                                     pos + i + k, inside + i + k));          \
            } else if (p->inner > 1) { /* one bias value for the run */                     \
                int64_t offset = (start + i) % p->inner;                                     \
                ctype b = load(bias[((start + i) / p->inner) % p->channels]);                \
                run = run < p->inner - offset ? run : p->inner - offset;                     \
                for (k = 0; k < run; k++)                                                    \
                    y[i + k] = store(leaky_##t##_act(load(x[i + k]) + b, p, alpha, gain, c,  \
                                                     pos + i + k, inside + i + k));          \
            } else { /* channels last: the run walks the bias */                            \
                int64_t first = (start + i) % p->channels;                                   \
                const type *b = bias + first;                                                \
                run = run < p->channels - first ? run : p->channels - first;                 \
                for (k = 0; k < run; k++)                                                    \
                    y[i + k] = store(leaky_##t##_act(load(x[i + k]) + load(b[k]), p, alpha,  \
                                                     gain, c, pos + i + k, inside + i + k)); \
            }                                                                                \
            i += run;                                                                        \
        }                                                                                    \
    }                                                                                        \
                                                                                             \
    /* Elements [start, start + n) of the whole range; start is a multiple of 8. */          \
    static inline void leaky_##t##_bias_act_forward(const type *x, type *y, uint8_t *bits,   \
                                                    int64_t total, int64_t start, int64_t n, \
                                                    const leaky_bias_act *p)                 \
    {                                                                                        \
        uint8_t pos[LEAKY_BIAS_ACT_BLOCK], inside[LEAKY_BIAS_ACT_BLOCK];                     \
        const int64_t plane = (total + 7) / 8;                                               \
        for (int64_t i = 0; i < n; i += LEAKY_BIAS_ACT_BLOCK) {                              \
            int64_t m = n - i < LEAKY_BIAS_ACT_BLOCK ? n - i : LEAKY_BIAS_ACT_BLOCK;         \
            leaky_##t##_bias_act_block(x + i, y + i, pos, inside, start + i, m, p);          \
            if (bits != NULL) {                                                              \
                leaky_pack_flags(pos, bits + (start + i) / 8, m);                            \
                if (p->clamp >= 0)                                                           \
                    leaky_pack_flags(inside, bits + plane + (start + i) / 8, m);             \
            }                                                                                \
        }                                                                                    \
    }                                                                                        \
                                                                                             \
    static inline void leaky_##t##_bias_act_backward(const type *grad, const uint8_t *bits,  \
                                                     type *grad_in, int64_t total,           \
                                                     int64_t start, int64_t n,               \
                                                     const leaky_bias_act *p)                \
    {                                                                                        \
        uint8_t pos[LEAKY_BIAS_ACT_BLOCK], inside[LEAKY_BIAS_ACT_BLOCK];                     \
        const ctype alpha = (ctype)p->alpha, gain = (ctype)p->gain;                          \
        const int64_t plane = (total + 7) / 8;                                               \
        const int lrelu = p->act == LEAKY_ACT_LRELU, scale = p->gain != 1;                   \
        for (int64_t i = 0; i < n; i += LEAKY_BIAS_ACT_BLOCK) {                              \
            int64_t m = n - i < LEAKY_BIAS_ACT_BLOCK ? n - i : LEAKY_BIAS_ACT_BLOCK;         \
            leaky_unpack_flags(bits + (start + i) / 8, pos, m);                              \
            if (p->clamp >= 0)                                                               \
                leaky_unpack_flags(bits + plane + (start + i) / 8, inside, m);               \
            else                                                                             \
                memset(inside, 1, (size_t)m);                                                \
            for (int64_t k = 0; k < m; k++) {                                                \
                ctype v = inside[k] ? load(grad[i + k]) : (ctype)0;                          \
                ctype g = scale ? v * gain : v;                                              \
                ctype off = lrelu ? g * alpha : (ctype)0;                                    \
                grad_in[i + k] = store(pos[k] ? g : off);                                    \
            }                                                                                \
        }                                                                                    \
    }

static inline float leaky_load_float(float v) { return v; }
static inline double leaky_load_double(double v) { return v; }

LEAKY_DEFINE_BIAS_ACT(float, float, float, leaky_load_float, leaky_load_float)
LEAKY_DEFINE_BIAS_ACT(double, double, double, leaky_load_double, leaky_load_double)
LEAKY_DEFINE_BIAS_ACT(half, uint16_t, float, leaky_half_to_float, leaky_float_to_half)
LEAKY_DEFINE_BIAS_ACT(bfloat16, uint16_t, float, leaky_bfloat16_to_float,
                      leaky_float_to_bfloat16)

#endif /* LEAKY_BIAS_ACT_H */

/*
 * The kernels' loops in C, over the headers of src/, for tests/test_cross_isa.py.
 *
 * The loops of src/_kernels.pyx (forward, forward with a byte mask,
 * backward from a byte mask, packing, forward with packed bits, backward
 * from packed bits; unit-stride and strided) are written here again in C,
 * calling the same header functions in the same order, so that the
 * headers can be compiled for a CPU this machine is not (aarch64, s390x)
 * and run under qemu-user, where Python, NumPy and Cython are not.
 *
 * Usage:
 *   driver isa        prints LEAKY_ISA and LEAKY_HALF_CONVERSION
 *   driver            reads requests on stdin until end of input; answers
 *                     each on stdout
 *
 * A request, every number in the target's own byte order:
 *   int64 op, type, n, offset, stride, inplace; double slope;
 *   then the inputs:
 *     FORWARD, FORWARD_MASK, FORWARD_BITS, PACK:  x, n * stride elements
 *     BACKWARD:       grad, n * stride elements; mask, n bytes
 *     BACKWARD_BITS:  grad, n elements; bits, ceil(n / 8) bytes
 *     BIAS_ACT_FORWARD: x, n elements; BIAS_ACT_BACKWARD: grad, n elements,
 *       bits, 2 ceil(n / 8) bytes (bias_act, leaky_bias_act.h: lrelu with
 *       alpha = slope, gain 1.5, clamp 0.7, x's first 3 elements as the
 *       bias over runs of 4 elements, or none below 3 elements)
 * The answer:
 *     FORWARD: y (n elements); FORWARD_MASK: y, mask (n bytes);
 *     BACKWARD, BACKWARD_BITS, BIAS_ACT_BACKWARD: grad_in (n elements);
 *     FORWARD_BITS: y, bits (ceil(n / 8) bytes); PACK: bits;
 *     BIAS_ACT_FORWARD: y, bits (2 ceil(n / 8) bytes).
 * stride > 1 runs the strided loops (input read every stride elements,
 * output contiguous); the bit loops take stride 1 only.  offset shifts
 * every buffer that many elements past a 64-byte boundary, so the SIMD
 * steps start at every phase.  inplace writes the output over the input
 * (unit stride), as the kernels allow.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "leaky_select.h"
#include "leaky_pack.h"
#include "leaky_bias_act.h"

enum { HALF = 0, FLOAT = 1, DOUBLE = 2, BFLOAT16 = 3 };
enum { FORWARD = 0, FORWARD_MASK = 1, BACKWARD = 2, FORWARD_BITS = 3, BACKWARD_BITS = 4,
       PACK = 5, BIAS_ACT_FORWARD = 6, BIAS_ACT_BACKWARD = 7 };

/* _kernels.pyx's BITS_BLOCK and its scratch of 256 bytes */
#define BITS_BLOCK 1024
#define SCRATCH 256

/* ---------------------------------------------------------- elements -- */

static inline int positive_half(uint16_t x) { return leaky_half_to_float(x) > 0; }
static inline int positive_bfloat16(uint16_t x) { return leaky_bfloat16_to_float(x) > 0; }
static inline int positive_float(float x) { return x > 0; }
static inline int positive_double(double x) { return x > 0; }

static inline uint16_t scaled_half(uint16_t v, double slope)
{ return leaky_float_to_half(leaky_half_to_float(v) * (float)slope); }
static inline uint16_t scaled_bfloat16(uint16_t v, double slope)
{ return leaky_float_to_bfloat16(leaky_bfloat16_to_float(v) * (float)slope); }
static inline float scaled_float(float v, double slope) { return v * (float)slope; }
static inline double scaled_double(double v, double slope) { return v * slope; }

static inline uint16_t bitwise_half(int keep, uint16_t a, uint16_t b)
{ return leaky_select_half(keep, a, b); }
#define bitwise_bfloat16 bitwise_half
#define bitwise_float leaky_select_float
#define bitwise_double leaky_select_double

/* block functions: none for float and double (the compiler vectorizes) */
#define NO_BLOCKS(t, T)                                                                    \
    static inline intptr_t leaky_##t##_forward_blocks(const T *x, T *y, intptr_t n,       \
                                                      float slope)                        \
    { (void)x; (void)y; (void)n; (void)slope; return 0; }                                 \
    static inline intptr_t leaky_##t##_forward_mask_blocks(const T *x, T *y, uint8_t *m,  \
                                                           intptr_t n, float slope)       \
    { (void)x; (void)y; (void)m; (void)n; (void)slope; return 0; }                        \
    static inline intptr_t leaky_##t##_backward_blocks(const T *g, const uint8_t *m,      \
                                                       T *o, intptr_t n, float slope)     \
    { (void)g; (void)m; (void)o; (void)n; (void)slope; return 0; }
NO_BLOCKS(float, float)
NO_BLOCKS(double, double)

/* pack_positive of _kernels.pyx */
static inline void pack_half(const uint16_t *x, uint8_t *bits, intptr_t n)
{
    leaky_pack_u16(x, bits, n / 8, LEAKY_HALF_INF);
    if (n % 8) bits[n / 8] = leaky_pack_tail_u16(x + n / 8 * 8, n % 8, LEAKY_HALF_INF);
}
static inline void pack_bfloat16(const uint16_t *x, uint8_t *bits, intptr_t n)
{
    leaky_pack_u16(x, bits, n / 8, LEAKY_BFLOAT16_INF);
    if (n % 8) bits[n / 8] = leaky_pack_tail_u16(x + n / 8 * 8, n % 8, LEAKY_BFLOAT16_INF);
}
static inline void pack_float(const float *x, uint8_t *bits, intptr_t n)
{
    leaky_pack_u32((const uint32_t *)x, bits, n / 8);
    if (n % 8) bits[n / 8] = leaky_pack_tail_u32((const uint32_t *)x + n / 8 * 8, n % 8,
                                                 LEAKY_FLOAT_INF);
}
static inline void pack_double(const double *x, uint8_t *bits, intptr_t n)
{
    leaky_pack_u64((const uint64_t *)x, bits, n / 8);
    if (n % 8) bits[n / 8] = leaky_pack_tail_u64((const uint64_t *)x + n / 8 * 8, n % 8,
                                                 LEAKY_DOUBLE_INF);
}

/* -------------------------------------------------------------- loops --
 * One set per type, as the fused-type loops of _kernels.pyx.  noinline, so
 * that the disassembly of each loop can be read (test_cross_isa.py looks
 * for fcvtl/fcvtn in leaky_test_forward_half). */
#define NOINLINE __attribute__((noinline))

#define DEFINE_LOOPS(t, T, ST)                                                               \
    NOINLINE void leaky_test_forward_##t(const T *x, intptr_t sx, T *y, intptr_t sy,        \
                                         intptr_t n, double slope)                          \
    {                                                                                       \
        intptr_t i, done = 0;                                                               \
        if (sx == 1 && sy == 1) {                                                           \
            done = leaky_##t##_forward_blocks(x, y, n, (float)slope);                       \
            for (i = done; i < n; i++) {                                                    \
                T v = x[i], product = scaled_##t(v, slope);                                 \
                y[i] = positive_##t(v) ? v : product;                                       \
            }                                                                               \
        } else {                                                                            \
            for (i = 0; i < n; i++)                                                         \
                y[i * sy] = bitwise_##t(positive_##t(x[i * sx]), x[i * sx],                 \
                                        scaled_##t(x[i * sx], slope));                      \
        }                                                                                   \
    }                                                                                       \
    NOINLINE void leaky_test_forward_mask_##t(const T *x, intptr_t sx, T *y, intptr_t sy,   \
                                              uint8_t *mask, intptr_t sm, intptr_t n,       \
                                              double slope)                                 \
    {                                                                                       \
        intptr_t i, done = 0;                                                               \
        int keep;                                                                           \
        if (sx == 1 && sy == 1 && sm == 1) {                                                \
            done = leaky_##t##_forward_mask_blocks(x, y, mask, n, (float)slope);            \
            for (i = done; i < n; i++) {                                                    \
                T v = x[i], product = scaled_##t(v, slope);                                 \
                keep = positive_##t(v);                                                     \
                mask[i] = (uint8_t)keep;                                                    \
                y[i] = keep ? v : product;                                                  \
            }                                                                               \
        } else {                                                                            \
            for (i = 0; i < n; i++) {                                                       \
                keep = positive_##t(x[i * sx]);                                             \
                mask[i * sm] = (uint8_t)keep;                                               \
                y[i * sy] = bitwise_##t(keep, x[i * sx], scaled_##t(x[i * sx], slope));     \
            }                                                                               \
        }                                                                                   \
    }                                                                                       \
    NOINLINE void leaky_test_backward_##t(const T *g, intptr_t sg, const uint8_t *mask,     \
                                          intptr_t sm, T *gi, intptr_t sgi, intptr_t n,     \
                                          double slope)                                     \
    {                                                                                       \
        intptr_t i, done = 0;                                                               \
        if (sg == 1 && sm == 1 && sgi == 1) {                                               \
            done = leaky_##t##_backward_blocks(g, mask, gi, n, (float)slope);               \
            for (i = done; i < n; i++) {                                                    \
                T v = g[i], product = scaled_##t(v, slope);                                 \
                gi[i] = mask[i] != 0 ? v : product;                                         \
            }                                                                               \
        } else {                                                                            \
            for (i = 0; i < n; i++)                                                         \
                gi[i * sgi] = bitwise_##t(mask[i * sm] != 0, g[i * sg],                     \
                                          scaled_##t(g[i * sg], slope));                    \
        }                                                                                   \
    }                                                                                       \
    NOINLINE void leaky_test_forward_bits_##t(const T *x, T *y, uint8_t *bits, intptr_t n,  \
                                              double slope)                                 \
    {                                                                                       \
        intptr_t start = leaky_##t##_forward_bits(x, y, bits, n, (ST)slope), stop;          \
        while (start < n) {                                                                 \
            stop = start + BITS_BLOCK < n ? start + BITS_BLOCK : n;                         \
            pack_##t(x + start, bits + start / 8, stop - start);                            \
            leaky_test_forward_##t(x + start, 1, y + start, 1, stop - start, slope);        \
            start = stop;                                                                   \
        }                                                                                   \
    }                                                                                       \
    NOINLINE void leaky_test_backward_bits_##t(const T *g, const uint8_t *bits, T *gi,      \
                                               intptr_t n, double slope)                    \
    {                                                                                       \
        if (leaky_##t##_backward_bits(g, bits, gi, n, (ST)slope))                           \
            return;                                                                         \
        uint8_t scratch[SCRATCH];                                                           \
        intptr_t start = 0, count, j;                                                       \
        while (start < n) {                                                                 \
            count = n - start < SCRATCH ? n - start : SCRATCH;                              \
            for (j = 0; j < (count + 7) / 8; j++)                                           \
                leaky_spread_byte(bits[start / 8 + j], scratch + 8 * j);                    \
            leaky_test_backward_##t(g + start, 1, scratch, 1, gi + start, 1, count, slope); \
            start += count;                                                                 \
        }                                                                                   \
    }                                                                                       \
    NOINLINE void leaky_test_pack_##t(const T *x, uint8_t *bits, intptr_t n)                \
    {                                                                                       \
        pack_##t(x, bits, n);                                                               \
    }

DEFINE_LOOPS(half, uint16_t, float)
DEFINE_LOOPS(bfloat16, uint16_t, float)
DEFINE_LOOPS(float, float, float)
DEFINE_LOOPS(double, double, double)

/* ------------------------------------------------------------ requests -- */

static void read_exactly(void *to, size_t size)
{
    if (size && fread(to, 1, size, stdin) != size) {
        fprintf(stderr, "driver: short input\n");
        exit(3);
    }
}

static void write_all(const void *from, size_t size)
{
    if (size && fwrite(from, 1, size, stdout) != size) {
        fprintf(stderr, "driver: short output\n");
        exit(4);
    }
}

/* `count` elements of `width` bytes, `offset` elements past a 64-byte
 * boundary, and 64 spare bytes after them (to catch a write past the end:
 * they are filled with 0xa5 and checked). */
static unsigned char *buffer(intptr_t count, intptr_t width, intptr_t offset)
{
    size_t size = 64 + (size_t)((offset + count) * width) + 64;
    unsigned char *base = aligned_alloc(64, (size + 63) / 64 * 64);
    if (!base) exit(5);
    memset(base, 0xa5, (size + 63) / 64 * 64);
    return base + 64 + offset * width;
}

static void release(unsigned char *p, intptr_t count, intptr_t width, intptr_t offset)
{
    unsigned char *end = p + count * width;
    for (int k = 0; k < 64; k++)
        if (end[k] != 0xa5) {
            fprintf(stderr, "driver: wrote past the end of a buffer\n");
            exit(6);
        }
    free(p - offset * width - 64);
}

#define RUN(t, T)                                                                           \
    switch (op) {                                                                           \
    case FORWARD:                                                                           \
        leaky_test_forward_##t((const T *)in, stride, (T *)out, 1, n, slope);               \
        break;                                                                              \
    case FORWARD_MASK:                                                                      \
        leaky_test_forward_mask_##t((const T *)in, stride, (T *)out, 1, bytes, 1, n, slope);\
        break;                                                                              \
    case BACKWARD:                                                                          \
        leaky_test_backward_##t((const T *)in, stride, bytes, 1, (T *)out, 1, n, slope);    \
        break;                                                                              \
    case FORWARD_BITS:                                                                      \
        leaky_test_forward_bits_##t((const T *)in, (T *)out, bytes, n, slope);              \
        break;                                                                              \
    case BACKWARD_BITS:                                                                     \
        leaky_test_backward_bits_##t((const T *)in, bytes, (T *)out, n, slope);             \
        break;                                                                              \
    case BIAS_ACT_FORWARD:                                                                  \
        leaky_##t##_bias_act_forward((const T *)in, (T *)out, bytes, n, 0, n, &params);      \
        break;                                                                              \
    case BIAS_ACT_BACKWARD:                                                                 \
        leaky_##t##_bias_act_backward((const T *)in, bytes, (T *)out, n, 0, n, &params);     \
        break;                                                                              \
    default:                                                                                \
        leaky_test_pack_##t((const T *)in, bytes, n);                                       \
    }

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "isa") == 0) {
        printf("%d %s\n", (int)LEAKY_ISA, LEAKY_HALF_CONVERSION);
        return 0;
    }
    int64_t header[6];
    double slope;
    while (fread(header, sizeof header, 1, stdin) == 1) {
        int64_t op = header[0], type = header[1];
        intptr_t n = (intptr_t)header[2], offset = (intptr_t)header[3],
                 stride = (intptr_t)header[4];
        int inplace = header[5] != 0;
        read_exactly(&slope, sizeof slope);
        if (op < FORWARD || op > BIAS_ACT_BACKWARD || type < HALF || type > BFLOAT16 || n < 0
            || offset < 0 || offset > 64 || stride < 1
            || (stride > 1 && (op >= FORWARD_BITS || inplace))) {
            fprintf(stderr, "driver: bad request\n");
            return 2;
        }
        intptr_t width = type == DOUBLE ? 8 : type == FLOAT ? 4 : 2;
        intptr_t nbytes = op == FORWARD_MASK || op == BACKWARD ? n
                        : op >= BIAS_ACT_FORWARD ? 2 * ((n + 7) / 8) : (n + 7) / 8;
        int has_values_out = op != PACK, has_bytes = op != FORWARD;
        unsigned char *in = buffer(n * stride, width, offset);
        unsigned char *out = inplace ? in : buffer(n, width, offset);
        unsigned char *bytes = buffer(nbytes, 1, 0);
        read_exactly(in, (size_t)(n * stride * width));
        if (op == BACKWARD || op == BACKWARD_BITS || op == BIAS_ACT_BACKWARD)
            read_exactly(bytes, (size_t)nbytes);
        leaky_bias_act params = {LEAKY_ACT_LRELU, slope, 1.5, 0.7, n >= 3 ? in : NULL,
                                 n >= 3 ? 3 : 0, 4};
        switch (type) {
        case HALF: RUN(half, uint16_t) break;
        case BFLOAT16: RUN(bfloat16, uint16_t) break;
        case FLOAT: RUN(float, float) break;
        default: RUN(double, double) break;
        }
        if (has_values_out)
            write_all(out, (size_t)(n * width));
        if (has_bytes && op != BACKWARD && op != BACKWARD_BITS && op != BIAS_ACT_BACKWARD)
            write_all(bytes, (size_t)nbytes);
        release(in, n * stride, width, offset);
        if (!inplace)
            release(out, n, width, offset);
        release(bytes, nbytes, 1, 0);
    }
    fflush(stdout);
    return ferror(stdout) ? 4 : 0;
}

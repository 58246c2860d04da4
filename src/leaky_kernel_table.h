/* The kernels' entry point for other compiled code.
 *
 * leaky's torch operators (leaky/_backends/torch/csrc/leaky_ops.cpp) are
 * compiled against torch, apart from the kernels; they call the kernels of
 * the variant _cpu.py picked, through this table, which the kernel module
 * hands out in a PyCapsule named LEAKY_KERNEL_TABLE_NAME.  So the math,
 * the ISA dispatch and the OpenMP split are the ufuncs' own, written once.
 *
 * One call runs one operation over n elements whose operands are each one
 * contiguous range, in the operation's order:
 *   FORWARD        x, y
 *   FORWARD_MASK   x, y, mask (bool, 1 byte an element)
 *   BACKWARD       grad, mask (bool), grad_in
 *   FORWARD_BITS   x, y, bits (ceil(n / 8) bytes, little bit order)
 *   BACKWARD_BITS  grad, bits, grad_in
 * and bias_act (leaky_bias_act.h) runs StyleGAN's fused bias + activation +
 * gain + clamp over one contiguous range, forward (x -> y and, unless bits
 * is NULL, its bits) or backward (grad and bits -> grad_in).
 * Values are of the kind's type; the slope must be finite and fit the
 * compute type (the caller checks: float32_slope_limit is the contract's
 * largest float32 slope, leaky._contract.SLOPE_LIMITS).  Outputs may be their input exactly (in
 * place); other overlaps run on one thread, in order.  Thread-safe, and it
 * needs no GIL.
 */
#ifndef LEAKY_KERNEL_TABLE_H
#define LEAKY_KERNEL_TABLE_H

#include <stdint.h>

#define LEAKY_KERNEL_TABLE_NAME "leaky.kernel_table"
/* Bumped whenever the table's layout or meaning changes. */
#define LEAKY_KERNEL_TABLE_VERSION 3

enum leaky_kind {
    LEAKY_KIND_HALF = 0,
    LEAKY_KIND_SINGLE = 1,
    LEAKY_KIND_DOUBLE = 2,
    LEAKY_KIND_BFLOAT16 = 3
};

enum leaky_op {
    LEAKY_OP_FORWARD = 0,
    LEAKY_OP_FORWARD_MASK = 1,
    LEAKY_OP_BACKWARD = 2,
    LEAKY_OP_FORWARD_BITS = 3,
    LEAKY_OP_BACKWARD_BITS = 4
};

enum leaky_act { LEAKY_ACT_LINEAR = 0, LEAKY_ACT_RELU = 1, LEAKY_ACT_LRELU = 2 };

/* bias_act's parameters (their meaning: leaky_bias_act.h). */
typedef struct {
    int act;             /* enum leaky_act */
    double alpha;        /* lrelu's slope */
    double gain;         /* 1: no multiply */
    double clamp;        /* < 0: no clamp */
    const void* bias;    /* of the values' type; NULL: none */
    int64_t channels;    /* the bias's length */
    int64_t inner;       /* elements per bias value, in memory order */
} leaky_bias_act;

typedef struct {
    int version;
    void (*run)(int kind, int op, char** data, int64_t n, double slope);
    double float32_slope_limit;
    void (*bias_act)(int kind, int forward, const void* in, void* out, uint8_t* bits,
                     int64_t n, const leaky_bias_act* params);
} leaky_kernel_table;

#endif

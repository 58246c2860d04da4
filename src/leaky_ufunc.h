/*
 * The one piece of NumPy's ufunc object that Cython cannot reach: the type
 * resolver slot.  leaky's ufuncs keep NumPy's own resolver and put a check in
 * front of it that refuses dtypes outside the contract (float8, longdouble,
 * complex, ...) with a TypeError naming them, where NumPy's linear search
 * would otherwise cast them "safely" into a float16 or float32 loop.
 */
#ifndef LEAKY_UFUNC_H
#define LEAKY_UFUNC_H

#include <Python.h>
#include <fenv.h>
#include "numpy/ndarraytypes.h"
#include "numpy/ufuncobject.h"

/* NumPy's PyUFunc_TypeResolutionFunc, with opaque pointers for Cython. */
typedef int (*leaky_type_resolver)(void *ufunc, int casting, PyArrayObject **operands,
                                   void *type_tup, void **out_dtypes);

/* Install ``resolver`` on ``ufunc``; return the resolver it replaces. */
static inline leaky_type_resolver leaky_swap_type_resolver(PyObject *ufunc,
                                                           leaky_type_resolver resolver)
{
    PyUFuncObject *u = (PyUFuncObject *)ufunc;
    leaky_type_resolver previous = (leaky_type_resolver)u->type_resolver;
    u->type_resolver = (PyUFunc_TypeResolutionFunc *)resolver;
    return previous;
}

/* The arithmetic of a select computes both arms, so the arm that is not
 * selected may overflow (x * s for a large positive x) or be invalid
 * (inf * 0).  PyTorch raises nothing there, and neither do we: a loop clears
 * the flags NumPy reports (divide, overflow, underflow, invalid) that it
 * raised itself, and keeps those that were already set (by NumPy's own
 * casts, say).  Inexact is never reported, so it is left alone.  In the
 * common case nothing was raised, and this costs two flag reads: cheap
 * enough for NumPy's where= loops, which call a loop once per run of True. */
#define LEAKY_REPORTED_FLAGS (FE_DIVBYZERO | FE_OVERFLOW | FE_UNDERFLOW | FE_INVALID)

typedef int leaky_fp_flags;

static inline void leaky_save_fp_flags(leaky_fp_flags *flags)
{
    *flags = fetestexcept(LEAKY_REPORTED_FLAGS);
}

static inline void leaky_restore_fp_flags(const leaky_fp_flags *flags)
{
    int raised = fetestexcept(LEAKY_REPORTED_FLAGS) & ~*flags;
    if (raised) {
        feclearexcept(raised);
    }
}

#endif /* LEAKY_UFUNC_H */

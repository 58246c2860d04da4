/*
 * OpenMP queries that still compile and link when OpenMP is absent: the
 * kernels then run on one thread.
 */
#ifndef LEAKY_THREADS_H
#define LEAKY_THREADS_H

#ifdef _OPENMP
#include <omp.h>
static inline int leaky_max_threads(void) { return omp_get_max_threads(); }
static inline int leaky_openmp_enabled(void) { return 1; }
#else
static inline int leaky_max_threads(void) { return 1; }
static inline int leaky_openmp_enabled(void) { return 0; }
#endif

/*
 * The parallel threshold is read by every call, from any thread, with or
 * without the GIL (free-threaded CPython has none), and written by
 * set_parallel_threshold(): relaxed atomic loads and stores, so that there
 * is no data race on it.  Type-generic (GCC and clang builtins); other
 * compilers read and write the aligned word plainly, which their targets do
 * whole.
 */
#if defined(__GNUC__) || defined(__clang__)
#define leaky_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define leaky_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#else
#define leaky_load_relaxed(p) (*(p))
#define leaky_store_relaxed(p, v) ((void)(*(p) = (v)))
#endif

#endif /* LEAKY_THREADS_H */

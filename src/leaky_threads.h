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

#endif /* LEAKY_THREADS_H */

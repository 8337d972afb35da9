/*  bench_util.h — timing and percentiles for the benchmark programs  */
#ifndef BENCH_UTIL_H_INCLUDED
#define BENCH_UTIL_H_INCLUDED

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline int64_t
bench_ns (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
bench_cmp_i64 (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y ? -1 : x > y;
}

//  Sorts samples in place and returns the q-th quantile (0..1).
static inline int64_t
bench_quantile (int64_t *samples, size_t n, double q)
{
    qsort (samples, n, sizeof *samples, bench_cmp_i64);
    size_t i = (size_t) (q * (double) (n - 1));
    return samples[i];
}

#endif

/* What every benchmark needs: a clock, a median, and a temporary file. Header-only, so each
 * bench/bench_*.c stays one program built on its own. */
#ifndef TT_BENCH_H
#define TT_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v. Medians, not means: these machines are shared, and a neighbour's burst should not
 * move the figure. */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A new file in $TMPDIR (or /tmp) open for writing; its name goes to path. NULL on failure. */
static inline FILE *bench_tmpfile(char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, size, "%s/tonetree-bench-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    return fd >= 0 ? fdopen(fd, "w") : NULL;
}

#endif

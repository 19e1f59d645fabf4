/*
 * Menu loading benchmark: how long a 10,000-node menu takes to load, and how much of that is
 * ours. iniparser_load() of the whole file is the reference (its dictionary insert searches
 * every entry, so its cost grows with the square of the file); tt_menu_load() is the whole
 * load (read, line scan, iniparser, building the tree, every check), which hands iniparser the
 * file in chunks of sections to stay linear. The iniparser part of it (tt_menu_ini_read: the
 * chunks written to a memfd and read by iniparser_load) is timed on its own too, so that the
 * rest, our own share, shows; both must stay linear and small.
 *
 * Each is timed 15 times, alternating, with CLOCK_MONOTONIC; the table shows medians.
 * Run: make bench (or build/bench/bench_menu [nodes]).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iniparser/iniparser.h>

#include "bench.h"
#include "core/menu_priv.h"
#include "tonetree.h"

#define RUNS 15

static int write_menu(FILE *f, int nodes)
{
    return bench_write_tree_menu(f, nodes, "bench_menu");
}

int main(int argc, char **argv)
{
    int nodes = argc > 1 ? atoi(argv[1]) : 10000;
    if (nodes < 1) {
        fprintf(stderr, "usage: %s [nodes]\n", argv[0]);
        return 2;
    }
    char path[4096];
    FILE *f = bench_tmpfile(path, sizeof(path));
    if (!f) {
        perror("bench_menu: temp file");
        return 1;
    }
    int err = write_menu(f, nodes);
    long size = ftell(f);
    if (fclose(f) || err) {
        fprintf(stderr, "bench_menu: cannot write %s\n", path);
        unlink(path);
        return 1;
    }

    /* For (c), the bytes as tt_menu_load reads them, scanned once: iniparser's part alone. */
    struct tt_load ld = {.name = path};
    char *data = NULL;
    size_t len = 0;
    f = fopen(path, "rb");
    if (!f || !(data = malloc((size_t)size + 1)) ||
        (len = fread(data, 1, (size_t)size, f)) != (size_t)size ||
        tt_menu_scan(&ld, data, len) || ld.scan.fatal) {
        fprintf(stderr, "bench_menu: cannot read or scan %s\n", path);
        if (f)
            fclose(f);
        free(data);
        unlink(path);
        return 1;
    }
    fclose(f);

    double a[RUNS], b[RUNS], c[RUNS];
    int status = 0;
    tt_diag *diag = tt_diag_new();
    for (int r = 0; r < RUNS && !status; r++) {
        double t0 = bench_now_ms();
        dictionary *d = iniparser_load(path);
        a[r] = bench_now_ms() - t0;
        if (!d) {
            fprintf(stderr, "bench_menu: iniparser could not load %s\n", path);
            status = 1;
            break;
        }
        iniparser_freedict(d);

        tt_menu *m = NULL;
        tt_diag_clear(diag);
        t0 = bench_now_ms();
        err = tt_menu_load(&m, path, diag);
        b[r] = bench_now_ms() - t0;
        if (err || tt_menu_node_count(m) != (size_t)nodes) {
            tt_diag_print(diag, stderr);
            fprintf(stderr, "bench_menu: the generated menu did not load (%d)\n", err);
            status = 1;
        }
        tt_menu_free(m);

        struct tt_ini *ini = NULL;
        t0 = bench_now_ms();
        err = tt_menu_ini_read(&ld, data, len, &ini);
        c[r] = bench_now_ms() - t0;
        if (err || !ini) {
            fprintf(stderr, "bench_menu: iniparser could not read the chunks (%d)\n", err);
            status = 1;
        }
        tt_menu_ini_free(ini);
    }
    tt_diag_free(diag);
    tt_menu_scan_free(&ld.scan);
    free(data);
    unlink(path);
    if (status)
        return status;

    double ma = bench_median(a, RUNS), mb = bench_median(b, RUNS), mc = bench_median(c, RUNS);
    char chunks[64];
    snprintf(chunks, sizeof(chunks), "(c) of (b), iniparser: %d-section chunks", TT_INI_CHUNK);
    printf("menu load, %d nodes (%ld KiB), median of %d runs:\n", nodes, size / 1024, RUNS);
    printf("  %-44s %9.1f ms\n", "(a) iniparser_load, whole file (reference)", ma);
    printf("  %-44s %9.1f ms\n", "(b) tt_menu_load (load + validate)", mb);
    printf("  %-44s %9.1f ms\n", chunks, mc);
    printf("  %-44s %9.1f ms\n", "our own share, b - c", mb - mc);
    printf("  %-44s %9.2f\n", "ratio b / a", mb / ma);
    return 0;
}

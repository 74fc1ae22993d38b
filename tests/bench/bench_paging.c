/* `make bench`, paging part: runs tests/bench/paging_loop.asm for a fixed instruction count under
 * the interpreter, printing guest MIPS and the TLB hit rate from the counters that cpu/paging.c
 * keeps in mem/tlb.h (every access the interpreter translates is a hit or a miss; flushes are CR3
 * writes and the like), then under the JIT for its MIPS (the JIT's inline probes are not counted,
 * so its hit rate would mean nothing). Usage: bench_paging IMAGE [INSNS]. Wall time of the run
 * loop only. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "../../devices/machine.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const uint8_t *image, size_t len, uint64_t n, enum machine_engine engine)
{
    struct machine_config cfg = { .mem_size = 32u << 20, .cpu = CPU_PENTIUM2, .bios = image, .bios_size = len,
                                  .engine = engine };
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "bench_paging: %s\n", err);
        return 2;
    }
    double t0 = now();
    enum machine_stop s = machine_run(m, n);
    double t1 = now();
    if (s != MACHINE_BUDGET) {
        fprintf(stderr, "bench_paging: guest stopped early: %s\n", machine_stop_name(s));
        machine_destroy(m);
        return 1;
    }
    const struct tlb *t = &m->cpu.tlb;
    uint64_t probes = t->hits + t->misses;
    if (engine == ENGINE_INTERP)
        printf("paging, interpreter: %.1f MIPS, TLB hit rate %.2f%% (%" PRIu64 " hits / %" PRIu64 " misses / %" PRIu64
               " flushes) over %" PRIu64 " guest instructions\n",
               (double)m->cpu.icount / (t1 - t0) / 1e6, probes ? 100.0 * (double)t->hits / (double)probes : 0.0,
               t->hits, t->misses, t->flushes, m->cpu.icount);
    else
        printf("paging, JIT: %.1f MIPS (%" PRIu64 " TLB refills / %" PRIu64 " flushes) over %" PRIu64
               " guest instructions\n",
               (double)m->cpu.icount / (t1 - t0) / 1e6, t->misses, t->flushes, m->cpu.icount);
    machine_destroy(m);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "build/bench/paging_loop.bin";
    uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : 100000000ull;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_paging: cannot open %s\n", path);
        return 2;
    }
    static uint8_t image[65536];
    size_t len = fread(image, 1, sizeof(image), f);
    fclose(f);
    int rc = run(image, len, n, ENGINE_INTERP);
    return rc ? rc : run(image, len, n, ENGINE_JIT);
}

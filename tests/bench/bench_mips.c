/* `make bench`: runs a guest loop (tests/bench/mips_loop.asm) for a fixed instruction count under
 * the interpreter and under the JIT, each on its own machine, and prints guest MIPS of both.
 * Time of the run loop only, machine set-up excluded; the JIT's time includes translation. MIPS
 * are given by wall time and by this process's CPU time (steadier on a loaded host). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../devices/machine.h"
#include "../../jit/jit.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs n instructions on a fresh machine; returns MIPS by CPU time, or a negative number on failure. */
static double run(const uint8_t *image, size_t len, uint64_t n, int use_jit, int stats)
{
    struct machine_config cfg = { .mem_size = 32u << 20, .cpu = CPU_PENTIUM2, .bios = image, .bios_size = len,
                                  .engine = use_jit ? ENGINE_JIT : ENGINE_INTERP };
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "bench_mips: %s\n", err);
        return -1;
    }
    double t0 = now(), c0 = cpu_now();
    int ok = machine_run(m, n) == MACHINE_BUDGET;
    double t1 = now(), c1 = cpu_now();
    double mips = (double)m->cpu.icount / (c1 - c0) / 1e6;
    if (!ok) {
        fprintf(stderr, "bench_mips: guest stopped early\n");
        mips = -1;
    } else {
        printf("%-12s %" PRIu64 " guest instructions in %.3f s = %.1f MIPS (CPU time %.3f s = %.1f MIPS)\n",
               use_jit ? "jit:" : "interpreter:", m->cpu.icount, t1 - t0, (double)m->cpu.icount / (t1 - t0) / 1e6,
               c1 - c0, mips);
    }
    if (m->jit && stats)
        jit_print_stats(m->jit, stdout);
    machine_destroy(m);
    return mips;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "build/bench/mips_loop.bin";
    uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 0) : 200000000ull;
    int stats = argc > 3 && !strcmp(argv[3], "--jit-stats");
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_mips: cannot open %s\n", path);
        return 2;
    }
    static uint8_t image[65536];
    size_t len = fread(image, 1, sizeof(image), f);
    fclose(f);
    double interp = run(image, len, n, 0, 0);
    double jit = run(image, len, n, 1, stats);
    if (interp < 0 || jit < 0)
        return 1;
    printf("jit/interpreter: %.2fx (CPU time)\n", jit / interp);
    return 0;
}

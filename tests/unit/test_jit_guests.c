/* Every guest test program (the .bin files in $BUILD/guest, built by `make test`) run three
 * times with --icount time: under the interpreter, under the JIT, and under the JIT's --verify
 * lockstep mode. All must end with the same status and instruction count (so timer interrupts
 * landed on the same instructions), the first two with the same console output. Issue 5: "all
 * must pass with the same exit statuses". */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/machine.h"
#include "../../jit/jit.h"

/* Guests that pass do so in a few million instructions; a stuck one stops here under both. */
#define MAX_INSNS 2000000ull

struct outcome {
    int status;
    uint64_t icount;
    char out[8192];
    size_t len;
};

static void sink(void *opaque, const uint8_t *buf, size_t len)
{
    struct outcome *o = opaque;
    for (size_t i = 0; i < len && o->len + 1 < sizeof(o->out); i++)
        o->out[o->len++] = (char)buf[i];
}

/* machine_run's loop (devices/machine.c) with cpu_run (jit 0), jit_run (1) or jit_verify_run
 * (2); statuses as jitpc's. */
static void run(const uint8_t *image, size_t len, int jit, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    struct machine_config cfg = { .mem_size = 64u << 20, .cpu = CPU_PENTIUM2, .bios = image, .bios_size = len,
                                  .console = sink, .console_opaque = o, .icount = 1 };
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    assert_non_null(m);
    struct jit *j = jit ? jit_create(&m->cpu, 0) : NULL;
    if (jit)
        assert_non_null(j);
    o->status = -1;
    while (o->status < 0) {
        uint64_t done = m->cpu.icount;
        if (done >= MAX_INSNS) {
            o->status = 4;
            break;
        }
        clock_run_timers(&m->clock);
        uint64_t slice = MAX_INSNS - done < 50000 ? MAX_INSNS - done : 50000;
        uint64_t deadline = clock_next_deadline(&m->clock);
        if (deadline != CLOCK_NEVER) {
            uint64_t t = clock_now(&m->clock);
            uint64_t until = deadline > t ? deadline - t : 1;
            if (until < slice)
                slice = until;
        }
        int r = jit == 2 ? jit_verify_run(j, &m->cpu, slice, stderr) : jit ? jit_run(j, &m->cpu, slice) : cpu_run(&m->cpu, slice);
        if (r < 0)
            o->status = 5; /* --verify found a divergence (printed) */
        else if (r == CPU_EXIT_SHUTDOWN)
            o->status = 4;
        else if (r == CPU_EXIT_UNIMPL)
            o->status = 3;
        else if (r == CPU_EXIT_STOP && m->exited)
            o->status = m->exit_status;
        else if (r == CPU_EXIT_STOP && m->reset_pending)
            o->status = 0;
        else if (r == CPU_EXIT_HALT && !(m->cpu.eflags & F_IF) && !m->cpu.nmi)
            o->status = 0;
        else if (r == CPU_EXIT_HALT && !m->cpu.intr && !m->cpu.nmi) {
            if (deadline == CLOCK_NEVER)
                o->status = 0;
            else
                clock_idle_until(&m->clock, deadline, CLOCK_NEVER);
        }
    }
    o->icount = m->cpu.icount;
    jit_destroy(j);
    machine_destroy(m);
}

static void test_guest_program_same_under_jit(void **state)
{
    const char *path = *state;
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t image[1 << 20];
    size_t len = fread(image, 1, sizeof(image), f);
    fclose(f);
    static struct outcome a, b, c;
    run(image, len, 0, &a);
    run(image, len, 1, &b);
    run(image, len, 2, &c);
    assert_int_equal(a.status, c.status);
    assert_int_equal(a.icount, c.icount);
    if (a.status != b.status || a.icount != b.icount || a.len != b.len || memcmp(a.out, b.out, a.len))
        print_error("%s: interpreter status %d after %llu insns, JIT status %d after %llu insns\n", path, a.status,
                    (unsigned long long)a.icount, b.status, (unsigned long long)b.icount);
    assert_int_equal(a.status, b.status);
    assert_int_equal(a.icount, b.icount);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.out, b.out, a.len);
}

int main(void)
{
    const char *build = getenv("BUILD");
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/guest", build && *build ? build : "build");
    static struct CMUnitTest tests[256];
    static char paths[256][768];
    static char names[256][300];
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d)) && n < 256;) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".bin"))
            continue;
        snprintf(paths[n], sizeof(paths[n]), "%s/%s", dir, e->d_name);
        snprintf(names[n], sizeof(names[n]), "test_guest_program_same_under_jit/%s", e->d_name);
        tests[n] = (struct CMUnitTest){ names[n], test_guest_program_same_under_jit, NULL, NULL, paths[n] };
        n++;
    }
    if (d)
        closedir(d);
    if (n == 0) {
        /* Nothing built yet (the binary run on its own): one test that says so and passes. */
        printf("no guest programs in %s\n", dir);
        return 0;
    }
    return _cmocka_run_group_tests("test_jit_guests", tests, (size_t)n, NULL, NULL);
}

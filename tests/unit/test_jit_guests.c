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

/* One run of the image on the given engine; the status is the guest's isa-debug-exit code, or
 * 100 + the machine's other stop reason (MACHINE_DIVERGED when --verify found a difference). */
static void run(const uint8_t *image, size_t len, enum machine_engine engine, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    struct machine_config cfg = { .mem_size = 64u << 20, .cpu = CPU_PENTIUM2, .bios = image, .bios_size = len,
                                  .console = sink, .console_opaque = o, .icount = 1, .engine = engine };
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    assert_non_null(m);
    enum machine_stop s = machine_run(m, MAX_INSNS);
    o->status = s == MACHINE_EXITED ? m->exit_status : 100 + (int)s;
    o->icount = m->cpu.icount;
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
    run(image, len, ENGINE_INTERP, &a);
    run(image, len, ENGINE_JIT, &b);
    run(image, len, ENGINE_VERIFY, &c);
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

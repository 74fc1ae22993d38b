/* The machine object: built from a config, freed cleanly, bad configs rejected with a message,
 * and two machines running different guests at the same time on two threads (no shared state). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../devices/machine.h"

struct guest_run {
    uint8_t image[65536];
    struct machine *m;
    uint8_t out[64];
    size_t outlen;
    enum machine_stop stop;
};

static void sink(void *opaque, const uint8_t *buf, size_t len)
{
    struct guest_run *g = opaque;
    for (size_t i = 0; i < len && g->outlen < sizeof(g->out); i++)
        g->out[g->outlen++] = buf[i];
}

/* A 64 KiB firmware image: code at offset 0 (F000:0000), then the 4 bytes of EAX stored at
 * 0:0500 and written to the debug console, then exit code 0; the reset vector jumps to F000:0. */
static void build_image(struct guest_run *g, const uint8_t *code, size_t len)
{
    static const uint8_t tail[] = {
        0x66, 0xA3, 0x00, 0x05,             /* mov [0x500], eax */
        0xA0, 0x00, 0x05, 0xE6, 0xE9,       /* mov al, [0x500]; out 0xe9, al */
        0xA0, 0x01, 0x05, 0xE6, 0xE9,
        0xA0, 0x02, 0x05, 0xE6, 0xE9,
        0xA0, 0x03, 0x05, 0xE6, 0xE9,
        0xB0, 0x00, 0xE6, 0xF4,             /* mov al, 0; out 0xf4, al: exit */
        0xF4,
    };
    memset(g->image, 0xF4, sizeof(g->image));
    memcpy(g->image, code, len);
    memcpy(g->image + len, tail, sizeof(tail));
    static const uint8_t reset[] = { 0xEA, 0x00, 0x00, 0x00, 0xF0 }; /* jmp f000:0000 */
    memcpy(g->image + 0xFFF0, reset, sizeof(reset));
}

static struct machine *make_opts(struct guest_run *g, int no_reboot)
{
    struct machine_config cfg = {
        .mem_size = 32u << 20, .cpu = CPU_PENTIUM2, .bios = g->image, .bios_size = sizeof(g->image),
        .console = sink, .console_opaque = g, .no_reboot = no_reboot,
    };
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    assert_non_null(m);
    return m;
}

static struct machine *make(struct guest_run *g)
{
    return make_opts(g, 0);
}

static void *run_thread(void *arg)
{
    struct guest_run *g = arg;
    g->stop = machine_run(g->m, UINT64_MAX);
    return NULL;
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_two_machines_run_different_guests_on_two_threads(void **state)
{
    (void)state;
    /* Guest A: EAX = sum of 1..1,000,000 (mod 2^32). */
    static const uint8_t sum[] = {
        0x66, 0x31, 0xC0,                         /* xor eax, eax */
        0x66, 0xB9, 0x40, 0x42, 0x0F, 0x00,       /* mov ecx, 1000000 */
        0x66, 0x01, 0xC8,                         /* add eax, ecx */
        0x66, 0x49,                               /* dec ecx */
        0x75, 0xF9,                               /* jnz add */
    };
    /* Guest B: EAX = the 2,000,000th Fibonacci number (mod 2^32). */
    static const uint8_t fib[] = {
        0x66, 0x31, 0xC0,                         /* xor eax, eax */
        0x66, 0xBB, 0x01, 0x00, 0x00, 0x00,       /* mov ebx, 1 */
        0x66, 0xB9, 0x80, 0x84, 0x1E, 0x00,       /* mov ecx, 2000000 */
        0x66, 0x01, 0xD8,                         /* add eax, ebx */
        0x66, 0x93,                               /* xchg eax, ebx */
        0x66, 0x49,                               /* dec ecx */
        0x75, 0xF7,                               /* jnz add */
    };
    struct guest_run *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    build_image(a, sum, sizeof(sum));
    build_image(b, fib, sizeof(fib));
    a->m = make(a);
    b->m = make(b);

    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, run_thread, a), 0);
    assert_int_equal(pthread_create(&tb, NULL, run_thread, b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);

    uint32_t want_sum = 0;
    for (uint32_t i = 1; i <= 1000000; i++)
        want_sum += i;
    uint32_t fa = 0, fb = 1;
    for (int i = 0; i < 2000000; i++) {
        uint32_t t = fa + fb;
        fa = fb;
        fb = t;
    }
    assert_int_equal(a->stop, MACHINE_EXITED);
    assert_int_equal(b->stop, MACHINE_EXITED);
    assert_int_equal(a->m->exit_status, 1);
    assert_int_equal(a->outlen, 4);
    assert_int_equal(b->outlen, 4);
    assert_int_equal(le32(a->out), want_sum);
    assert_int_equal(le32(b->out), fa);
    machine_destroy(a->m);
    machine_destroy(b->m);
    free(a);
    free(b);
}

static void test_machine_rejects_bad_memory_size(void **state)
{
    (void)state;
    char err[256] = "";
    struct machine_config cfg = { .mem_size = 4096, .cpu = CPU_PENTIUM2 };
    assert_null(machine_create(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "memory"));
    cfg.mem_size = 5ull << 30;
    assert_null(machine_create(&cfg, err, sizeof(err)));
}

static void test_machine_rejects_oversized_firmware(void **state)
{
    (void)state;
    char err[256] = "";
    static const uint8_t byte = 0xF4;
    struct machine_config cfg = { .mem_size = 16u << 20, .cpu = CPU_PENTIUM2, .bios = &byte, .bios_size = 17u << 20 };
    assert_null(machine_create(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "firmware"));
}

/* IDT limit 0 makes every interrupt #GP, which becomes #DF, then shutdown. */
static const uint8_t triple_fault_code[] = {
    0x2E, 0x0F, 0x01, 0x1E, 0x0A, 0x00,       /* lidt cs:[0x000a] */
    0xCD, 0x03,                               /* int 3 */
    0xEB, 0xFE,                               /* jmp $ */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00,       /* limit 0, base 0 */
};

static void test_triple_fault_with_no_reboot_is_reported_as_shutdown(void **state)
{
    (void)state;
    struct guest_run *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    build_image(g, triple_fault_code, sizeof(triple_fault_code));
    g->m = make_opts(g, 1);
    assert_int_equal(machine_run(g->m, 1000), MACHINE_SHUTDOWN);
    assert_int_equal(g->m->resets, 0);
    machine_destroy(g->m);
    free(g);
}

/* Without --no-reboot the chipset turns each shutdown cycle into a reset through the firmware,
 * as a PC does; the instruction budget still ends the run (the count runs on across resets). */
static void test_triple_fault_reboots_through_the_firmware(void **state)
{
    (void)state;
    struct guest_run *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    build_image(g, triple_fault_code, sizeof(triple_fault_code));
    g->m = make(g);
    assert_int_equal(machine_run(g->m, 1000), MACHINE_BUDGET);
    assert_true(g->m->resets >= 100);
    assert_true(g->m->cpu.icount >= 1000);
    machine_destroy(g->m);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_machines_run_different_guests_on_two_threads),
        cmocka_unit_test(test_machine_rejects_bad_memory_size),
        cmocka_unit_test(test_machine_rejects_oversized_firmware),
        cmocka_unit_test(test_triple_fault_with_no_reboot_is_reported_as_shutdown),
        cmocka_unit_test(test_triple_fault_reboots_through_the_firmware),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

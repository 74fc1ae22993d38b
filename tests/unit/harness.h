/* Test harness for unit tests: a machine with RAM and no firmware, into which a test writes a few
 * instructions and runs them one step at a time. Header-only so each test program stands alone. */
#ifndef JITPC_TESTS_HARNESS_H
#define JITPC_TESTS_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../cpu/interp.h"
#include "../../devices/machine.h"

struct harness {
    struct machine *m;
    struct cpu *c;
    char out[4096]; /* what the guest wrote to the 0xE9 debug console */
    size_t outlen;
};

static void h_sink(void *opaque, const uint8_t *buf, size_t len)
{
    struct harness *h = opaque;
    for (size_t i = 0; i < len && h->outlen + 1 < sizeof(h->out); i++)
        h->out[h->outlen++] = (char)buf[i];
    h->out[h->outlen] = 0;
}

/* Protected mode: a GDT whose 0x08 and 0x10 are the flat code and data the caches hold, and an
 * IDT whose 256 gates lead to a HLT at H_HANDLER in a conforming code segment (0x18), so that an
 * exception at any CPL is delivered on the current stack without a TSS (and seen in last_fault/
 * fault_err, the frame at ESP) instead of cascading into a double fault. Tests that build their
 * own tables just load GDTR/IDTR again. All of it lies in the first 4 MiB. */
#define H_GDT 0x3F0000u
#define H_IDT 0x3F0800u
#define H_HANDLER 0x3F1000u
static inline void h_catch_all(struct harness *h)
{
    static const uint32_t gdt[8] = { 0, 0, 0x0000FFFF, 0x00CF9A00, 0x0000FFFF, 0x00CF9200, 0x0000FFFF, 0x00CF9E00 };
    phys_write_buf(&h->m->mem, H_GDT, gdt, sizeof(gdt));
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t g[2] = { (H_HANDLER & 0xFFFF) | (0x18u << 16), (H_HANDLER & 0xFFFF0000u) | 0x8E00u };
        phys_write_buf(&h->m->mem, H_IDT + v * 8, g, 8);
    }
    static const uint8_t hlt = 0xF4;
    phys_write_buf(&h->m->mem, H_HANDLER, &hlt, 1);
    h->c->gdtr = (struct dtr){ H_GDT, sizeof(gdt) - 1 };
    h->c->idtr = (struct dtr){ H_IDT, 256 * 8 - 1 };
}

/* mode32 = 0: real mode, every segment 0 with a 64 KiB limit, SP = 0x8000.
 * mode32 = 1: flat 32-bit protected mode at CPL 0 (caches set directly; h_catch_all's GDT and IDT),
 * ESP = 0x80000. */
static inline struct harness *h_new(int mode32)
{
    struct harness *h = calloc(1, sizeof(*h));
    if (!h)
        abort();
    struct machine_config cfg = { .mem_size = 16u << 20, .cpu = CPU_PENTIUM2, .console = h_sink, .console_opaque = h };
    char err[256];
    h->m = machine_create(&cfg, err, sizeof(err));
    if (!h->m) {
        fprintf(stderr, "harness: %s\n", err);
        abort();
    }
    h->c = &h->m->cpu;
    struct cpu *c = h->c;
    for (int s = 0; s < S_NSEG; s++)
        c->seg[s] = (struct segreg){ 0, 0, 0xFFFF, AR_P | AR_S | 0x3 };
    c->seg[S_CS].ar = AR_P | AR_S | 0xB;
    c->r[R_ESP] = 0x8000;
    if (mode32) {
        c->cr[0] |= CR0_PE;
        for (int s = 0; s < S_NSEG; s++) {
            c->seg[s].limit = 0xFFFFFFFFu;
            c->seg[s].ar |= AR_DB | AR_G;
            c->seg[s].sel = s == S_CS ? 0x08 : 0x10;
        }
        c->r[R_ESP] = 0x80000;
        h_catch_all(h);
    }
    return h;
}

static inline void h_free(struct harness *h)
{
    machine_destroy(h->m);
    free(h);
}

/* Copies bytes into guest physical memory. */
static inline void h_poke(struct harness *h, uint32_t addr, const void *buf, size_t len)
{
    phys_write_buf(&h->m->mem, addr, buf, len);
}

static inline uint32_t h_peek(struct harness *h, uint32_t addr, int size)
{
    return phys_read(&h->m->mem, addr, size);
}

/* Writes code at addr (CS base is 0) and points EIP at it. */
static inline void h_code(struct harness *h, uint32_t addr, const void *code, size_t len)
{
    h_poke(h, addr, code, len);
    h->c->eip = addr;
}

/* Runs n instructions (or until the CPU stops); returns the last cpu_step result. */
static inline int h_step(struct harness *h, int n)
{
    int r = CPU_EXIT_BUDGET;
    for (int i = 0; i < n && r == CPU_EXIT_BUDGET; i++)
        r = cpu_step(h->c);
    return r;
}

/* Places the bytes given at addr and runs n instructions of them, which must all complete. */
#define H_RUN_AT(h, addr, n, ...)                                           \
    do {                                                                    \
        static const uint8_t code_[] = { __VA_ARGS__ };                     \
        h_code((h), (addr), code_, sizeof(code_));                          \
        assert_int_equal(h_step((h), (n)), CPU_EXIT_BUDGET);                \
    } while (0)

/* Real mode: points interrupt vector vec at 0000:handler so a test can see that it was taken. */
static inline void h_set_ivt(struct harness *h, int vec, uint16_t handler)
{
    uint8_t ent[4] = { (uint8_t)handler, (uint8_t)(handler >> 8), 0, 0 };
    h_poke(h, (uint32_t)vec * 4, ent, 4);
}

#endif

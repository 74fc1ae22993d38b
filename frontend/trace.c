/* --trace: each executed instruction as "CS:EIP  bytes  disassembly  ; changed registers".
 * Disassembly by capstone (Intel syntax, 16- or 32-bit by CS.D), lengths by our own decoder. */
#include "trace.h"

#include <capstone/capstone.h>
#include <stdlib.h>
#include <string.h>

#include "../cpu/decode.h"
#include "../cpu/interp.h"

struct tracer {
    FILE *out;
    csh cs16, cs32;
};

struct tracer *tracer_create(FILE *out)
{
    struct tracer *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->out = out;
    if (cs_open(CS_ARCH_X86, CS_MODE_16, &t->cs16) != CS_ERR_OK ||
        cs_open(CS_ARCH_X86, CS_MODE_32, &t->cs32) != CS_ERR_OK) {
        free(t);
        return NULL;
    }
    return t;
}

void tracer_destroy(struct tracer *t)
{
    if (!t)
        return;
    cs_close(&t->cs16);
    cs_close(&t->cs32);
    free(t);
}

static const char *const reg_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
static const char *const seg_names[6] = { "es", "cs", "ss", "ds", "fs", "gs" };

/* Reads instruction bytes without faulting: the tracer must not change what the guest sees. */
static size_t peek_bytes(const struct cpu *c, uint8_t *buf)
{
    const struct segreg *cs = &c->seg[S_CS];
    size_t n = 0;
    for (; n < 15; n++) {
        uint32_t off = c->eip + (uint32_t)n;
        if (off > cs->limit || (c->cr[0] & CR0_PG))
            break;
        buf[n] = (uint8_t)phys_read(c->mem, cs->base + off, 1);
    }
    return n;
}

int tracer_step(struct tracer *t, struct cpu *c)
{
    struct cpu before = *c;
    uint8_t buf[16];
    size_t avail = peek_bytes(c, buf);
    struct insn in;
    int len = decode(buf, avail, (c->seg[S_CS].ar & AR_DB) != 0, &in);
    int r = cpu_step(c);

    fprintf(t->out, "%04x:%08x  ", before.seg[S_CS].sel, before.eip);
    int shown = len > 0 ? len : (in.len ? in.len : 1);
    for (int i = 0; i < 10; i++) {
        if (i < shown && (size_t)i < avail)
            fprintf(t->out, "%02x", buf[i]);
        else
            fputs("  ", t->out);
    }
    cs_insn *ci = NULL;
    size_t n = cs_disasm((before.seg[S_CS].ar & AR_DB) ? t->cs32 : t->cs16, buf, avail, before.eip, 1, &ci);
    if (n)
        fprintf(t->out, "  %-7s %-32s", ci[0].mnemonic, ci[0].op_str);
    else
        fprintf(t->out, "  %-40s", "(bad)");
    if (n)
        cs_free(ci, n);

    fputs(" ;", t->out);
    for (int i = 0; i < 8; i++)
        if (before.r[i] != c->r[i])
            fprintf(t->out, " %s=%08x", reg_names[i], c->r[i]);
    for (int i = 0; i < S_NSEG; i++)
        if (before.seg[i].sel != c->seg[i].sel || before.seg[i].base != c->seg[i].base)
            fprintf(t->out, " %s=%04x", seg_names[i], c->seg[i].sel);
    if (before.eflags != c->eflags)
        fprintf(t->out, " eflags=%08x", cpu_get_eflags(c));
    if (c->last_fault >= 0)
        fprintf(t->out, " [exception %d]", c->last_fault);
    if (c->last_intr >= 0)
        fprintf(t->out, " [interrupt %d delivered; the instruction did not run]", c->last_intr);
    if (c->eip != before.eip + (uint32_t)shown && len > 0)
        fprintf(t->out, " eip=%08x", c->eip);
    fputc('\n', t->out);
    return r;
}

/* Lockstep verification (--verify, box64's idea): each translated block runs in the JIT, its
 * stores are undone from a log, the state before it is put back and the interpreter runs the
 * same number of steps; registers, flags, counts and every byte either side wrote must agree.
 * The interpreter's result is the one the machine goes on with. Stores are logged through
 * physmem's code_write hook, called before each store: while verifying, every RAM page is
 * marked PME_CODE, so no store (inline, handler or device) can bypass it. */
#include <stdlib.h>
#include <string.h>

#include "jit_internal.h"

void jit_verify_log(struct jit *j, uint32_t paddr, int size)
{
    if (j->wlog_n == JIT_WLOG) {
        j->wlog_full = 1;
        return;
    }
    j->wlog[j->wlog_n++] = (struct jit_wlog){ paddr, size, phys_read(j->c->mem, paddr, size) };
}

void jit_verify_mark_all(struct jit *j)
{
    struct physmem *pm = j->c->mem;
    /* RAM is the pages from 0 to ram_size, plus whatever backs 0xA0000-0xFFFFF (PAM shadow RAM,
     * the conformance rig's flat RAM): above that there is only ROM and MMIO, which stay unmarked. */
    uint64_t end = pm->ram_size > (1u << 20) ? pm->ram_size : (1u << 20);
    for (uint32_t pn = 0; pn < PM_PAGES && ((uint64_t)pn << PM_PAGE_BITS) < end; pn++)
        physmem_set_code(pm, pn << PM_PAGE_BITS, 1);
    tlb_slow_writes(&j->c->tlb, 0, 1);
}

/* Port I/O and repeated string instructions would be done twice or overflow the log: such blocks
 * run in the JIT alone. (MMIO inside a verified block is accessed twice: none of our guests'
 * hot blocks do that.) */
static int verifiable(const struct jit_block *b)
{
    for (int i = 0; i < b->ninsn; i++) {
        const struct insn *in = &b->insns[i];
        unsigned op = in->op;
        if ((op >= 0xE4 && op <= 0xE7) || (op >= 0xEC && op <= 0xEF) || (op >= 0x6C && op <= 0x6F))
            return 0;
        if ((in->d->fl & OPF_STRING) && in->rep)
            return 0;
    }
    return 1;
}

static void dump_state(FILE *out, const char *who, const struct cpu *c)
{
    static const char *names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
    fprintf(out, "  %-11s", who);
    for (int i = 0; i < 8; i++)
        fprintf(out, " %s=%08x", names[i], c->r[i]);
    fprintf(out, "\n  %-11s eip=%08x eflags=%08x icount=%llu cs=%04x ss=%04x ds=%04x halted=%d fault=%d\n", "",
            c->eip, c->eflags, (unsigned long long)c->icount, c->seg[S_CS].sel, c->seg[S_SS].sel, c->seg[S_DS].sel,
            c->halted, c->last_fault);
}

static int same_cpu(const struct cpu *a, const struct cpu *b)
{
    if (memcmp(a->r, b->r, sizeof(a->r)) || a->eip != b->eip || a->eflags != b->eflags || a->icount != b->icount ||
        a->tsc != b->tsc || a->cpl != b->cpl || a->halted != b->halted || a->shadow != b->shadow ||
        memcmp(a->cr, b->cr, sizeof(a->cr)))
        return 0;
    for (int s = 0; s < S_NSEG; s++)
        if (a->seg[s].sel != b->seg[s].sel || a->seg[s].base != b->seg[s].base ||
            a->seg[s].limit != b->seg[s].limit || a->seg[s].ar != b->seg[s].ar)
            return 0;
    return 1;
}

/* Runs block b checked against the interpreter; returns 0, or -1 after reporting a divergence. */
static int verify_block(struct jit *j, struct cpu *c, struct jit_block *b, FILE *out, int *result)
{
    struct cpu *before = &j->vstate[0], *after = &j->vstate[1];
    struct physmem *pm = c->mem;
    *before = *c;
    int64_t steps0 = j->steps_left;
    j->wlog_n = 0;
    j->wlog_full = 0;
    j->logging = 1;
    j->invalidated = 0;
    j->tlb_flushes = c->tlb.flushes;
    jit_enter_block(j, c, b);
    int r1 = j->result;
    j->result = CPU_EXIT_BUDGET;
    if (r1 == CPU_EXIT_BUDGET && j->interp_next && j->steps_left > 0) {
        /* An inline access faulted and left the block before the instruction (a page walk may
         * have set accessed bits on the way): the instruction's run by the interpreter belongs
         * to the JIT's side of the comparison, as in jit_run. */
        j->interp_next = 0;
        j->steps_left--;
        r1 = cpu_step(c);
    }
    j->logging = 0;
    int64_t used = steps0 - j->steps_left;
    *after = *c;
    uint32_t n1 = j->wlog_n;
    struct byte_rec *bytes = j->vbytes; /* JIT_WLOG * 4 entries: every byte of every logged store */
    int nb = 0;
    /* The JIT's final bytes, then the undo (newest store first). */
    for (uint32_t k = 0; k < n1; k++)
        for (int q = 0; q < j->wlog[k].size; q++) {
            uint32_t a = j->wlog[k].paddr + (uint32_t)q;
            int dup = 0;
            for (int x = 0; x < nb && !dup; x++)
                dup = bytes[x].addr == a;
            if (!dup)
                bytes[nb++] = (struct byte_rec){ a, (uint8_t)phys_read(pm, a, 1), 1 };
        }
    for (uint32_t k = n1; k-- > 0;) {
        uint8_t *p = phys_host_ptr(pm, j->wlog[k].paddr, 0);
        if (p)
            memcpy(p, &j->wlog[k].old, (size_t)j->wlog[k].size);
    }
    /* The interpreter from the same start. */
    *c = *before;
    j->logging = 1;
    int r2 = CPU_EXIT_BUDGET;
    for (int64_t k = 0; k < used && r2 == CPU_EXIT_BUDGET; k++)
        r2 = cpu_step(c);
    j->logging = 0;
    for (uint32_t k = n1; k < j->wlog_n; k++)
        for (int q = 0; q < j->wlog[k].size; q++) {
            uint32_t a = j->wlog[k].paddr + (uint32_t)q;
            int dup = 0;
            for (int x = 0; x < nb && !dup; x++)
                dup = bytes[x].addr == a;
            if (!dup && nb < JIT_WLOG * 4)
                bytes[nb++] = (struct byte_rec){ a, (uint8_t)(j->wlog[k].old >> (8 * q)), 1 };
        }
    *result = r2;
    j->verified_blocks++;
    if (j->wlog_full)
        return 0; /* too many stores to compare: trust the interpreter's run */
    int bad_mem = -1;
    for (int x = 0; x < nb && bad_mem < 0; x++)
        if ((uint8_t)phys_read(pm, bytes[x].addr, 1) != bytes[x].jit)
            bad_mem = x;
    if (r1 == r2 && same_cpu(after, c) && bad_mem < 0)
        return 0;
    fprintf(out, "jit verify: divergence in the block at %04x:%08x (phys %08x, %u insns, %lld steps run)\n",
            before->seg[S_CS].sel, b->eip, b->phys, b->ninsn, (long long)used);
    dump_state(out, "before:", before);
    dump_state(out, "jit:", after);
    dump_state(out, "interpreter:", c);
    if (r1 != r2)
        fprintf(out, "  exit: jit %d, interpreter %d\n", r1, r2);
    if (bad_mem >= 0)
        fprintf(out, "  memory at %08x: jit %02x, interpreter %02x\n", bytes[bad_mem].addr, bytes[bad_mem].jit,
                (unsigned)phys_read(pm, bytes[bad_mem].addr, 1));
    FILE *saved = j->dump;
    j->dump = out;
    jit_dump_block(j, b, b->host, NULL, 0);
    j->dump = saved;
    return -1;
}

int jit_verify_run(struct jit *j, struct cpu *c, uint64_t budget, FILE *out)
{
    if (!j->vstate) {
        j->vstate = calloc(2, sizeof(struct cpu));
        j->vbytes = calloc(JIT_WLOG * 4, sizeof(struct byte_rec));
        if (!j->vstate || !j->vbytes)
            return -1;
    }
    if (!j->verifying) {
        j->verifying = 1;
        jit_flush_all(j); /* no chains: each block is entered, and checked, on its own */
    }
    j->steps_left = budget > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)budget;
    j->result = CPU_EXIT_BUDGET;
    while (j->steps_left > 0) {
        const struct jit_jc *ent = (c->stop | c->halted | c->shadow | c->nmi | (c->intr && (c->eflags & F_IF)) |
                                    ((c->eflags & (F_TF | F_RF)) != 0) | c->dbg_exec | c->dbg_data | c->dbg_io |
                                    j->interp_next)
                                       ? NULL
                                       : jit_lookup(j, c);
        struct jit_block *b = ent ? ent->block : NULL;
        j->interp_next = 0;
        int r;
        if (!b || b->nsteps == 0 || b->nsteps > j->steps_left) {
            j->steps_left--;
            r = cpu_step(c);
        } else if (!verifiable(b)) {
            j->verify_skipped++;
            j->invalidated = 0;
            j->tlb_flushes = c->tlb.flushes;
            jit_enter_block(j, c, b);
            r = j->result;
            j->result = CPU_EXIT_BUDGET;
        } else if (verify_block(j, c, b, out, &r) < 0) {
            return -1;
        }
        if (r != CPU_EXIT_BUDGET)
            return r;
    }
    return CPU_EXIT_BUDGET;
}

/* Segment descriptors: reading them from the GDT/LDT and loading data-segment and stack-segment
 * registers in protected mode with every check and error code the SDM lists.
 * Intel SDM Vol. 3A §3.4.5 (descriptor format), §5.5-5.7 (privilege checks); Vol. 2B MOV/POP. */
#include "interp.h"

int read_descriptor(struct cpu *c, uint16_t sel, struct segreg *out, uint32_t *addr)
{
    uint32_t index = sel & 0xFFF8u;
    const struct segreg *ldt = &c->ldtr;
    uint32_t base, limit;
    if (sel & 4) {
        if (!(ldt->ar & AR_P) || (ldt->sel & 0xFFFC) == 0)
            return -1; /* no LDT loaded */
        base = ldt->base;
        limit = ldt->limit;
    } else {
        base = c->gdtr.base;
        limit = c->gdtr.limit;
    }
    if (index + 7 > limit)
        return -1;
    /* Descriptor-table reads are supervisor accesses whatever the CPL (SDM Vol. 3A §4.6). */
    uint32_t lo = mmu_read(c, base + index, 4, 0);
    uint32_t hi = mmu_read(c, base + index + 4, 4, 0);
    uint32_t lim = (lo & 0xFFFF) | (hi & 0x000F0000u);
    out->sel = sel;
    out->base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
    out->ar = (uint16_t)(((hi >> 8) & 0xFF) | ((hi >> 8) & 0xF000));
    out->limit = (out->ar & AR_G) ? (lim << 12) | 0xFFF : lim;
    *addr = base + index;
    return 0;
}

void mark_accessed(struct cpu *c, struct segreg *d, uint32_t addr)
{
    if (!(d->ar & 1)) {
        d->ar |= 1;
        mmu_write(c, addr + 5, 1, d->ar & 0xFF, 0);
    }
}

void load_seg_pmode(struct cpu *c, int s, uint16_t sel)
{
    struct segreg d;
    uint32_t addr;
    uint32_t err = sel & 0xFFFC;
    int rpl = sel & 3;
    if (s == S_SS) {
        if ((sel & 0xFFFC) == 0)
            cpu_fault(c, EXC_GP, 0);
        if (read_descriptor(c, sel, &d, &addr))
            cpu_fault(c, EXC_GP, err);
        int dpl = (d.ar & AR_DPL) >> 5;
        int type = d.ar & AR_TYPE;
        if (rpl != c->cpl || !(d.ar & AR_S) || (type & 8) || !(type & 2) || dpl != c->cpl)
            cpu_fault(c, EXC_GP, err);
        if (!(d.ar & AR_P))
            cpu_fault(c, EXC_SS, err);
        mark_accessed(c, &d, addr);
        c->seg[s] = d;
        return;
    }
    if ((sel & 0xFFFC) == 0) {
        /* A null selector may be loaded into DS ES FS GS; using it faults later (access.c). */
        c->seg[s] = (struct segreg){ sel, 0, 0, 0 };
        return;
    }
    if (read_descriptor(c, sel, &d, &addr))
        cpu_fault(c, EXC_GP, err);
    int dpl = (d.ar & AR_DPL) >> 5;
    int type = d.ar & AR_TYPE;
    int code = (type & 8) != 0;
    if (!(d.ar & AR_S) || (code && !(type & 2)))
        cpu_fault(c, EXC_GP, err); /* system segment or execute-only code */
    if ((!code || !(type & 4)) && (rpl > dpl || c->cpl > dpl))
        cpu_fault(c, EXC_GP, err); /* data and non-conforming code need DPL >= max(CPL, RPL) */
    if (!(d.ar & AR_P))
        cpu_fault(c, EXC_NP, err);
    mark_accessed(c, &d, addr);
    c->seg[s] = d;
}

void tss_stack_for(struct cpu *c, int dpl, uint16_t *ss, uint32_t *esp)
{
    int is32 = (c->tr.ar & AR_TYPE) == 0x9 || (c->tr.ar & AR_TYPE) == 0xB;
    uint32_t off = is32 ? 4u + 8u * (uint32_t)dpl : 2u + 4u * (uint32_t)dpl;
    uint32_t size = is32 ? 8u : 4u;
    if (off + size - 1 > c->tr.limit)
        cpu_fault(c, EXC_TS, c->tr.sel & 0xFFFC);
    if (is32) {
        *esp = mmu_read(c, c->tr.base + off, 4, 0);
        *ss = (uint16_t)mmu_read(c, c->tr.base + off + 4, 2, 0);
    } else {
        *esp = mmu_read(c, c->tr.base + off, 2, 0);
        *ss = (uint16_t)mmu_read(c, c->tr.base + off + 2, 2, 0);
    }
}

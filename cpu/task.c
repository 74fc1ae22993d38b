/* Hardware task switching for JMP, CALL, IRET (nested-task return) and task gates, with 32- and
 * 16-bit TSSs: checks, saving the old state, busy bits, NT and back link, loading the new task.
 * Intel SDM Vol. 3A ch. 7 (§7.2 TSS formats, §7.3 Table 7-1 and its step list, §7.4 nesting). */
#include "interp.h"

#define SEL_ERR(s) ((uint32_t)(s) & 0xFFFCu)

/* What a TSS holds of a task's dynamic state, read in full before anything changes. */
struct tss_image {
    uint32_t cr3, eip, eflags, r[8];
    uint16_t seg[S_NSEG], ldt;
    uint8_t t_bit;
};

static void read_tss(struct cpu *c, uint32_t base, int is32, struct tss_image *t)
{
    if (is32) {
        t->cr3 = mmu_read(c, base + 0x1C, 4, 0);
        t->eip = mmu_read(c, base + 0x20, 4, 0);
        t->eflags = mmu_read(c, base + 0x24, 4, 0);
        for (int i = 0; i < 8; i++)
            t->r[i] = mmu_read(c, base + 0x28 + 4u * (uint32_t)i, 4, 0);
        for (int s = 0; s < S_NSEG; s++) /* ES CS SS DS FS GS: the sreg encoding order */
            t->seg[s] = (uint16_t)mmu_read(c, base + 0x48 + 4u * (uint32_t)s, 2, 0);
        t->ldt = (uint16_t)mmu_read(c, base + 0x60, 2, 0);
        t->t_bit = (uint8_t)(mmu_read(c, base + 0x64, 2, 0) & 1);
    } else {
        t->cr3 = 0;
        t->eip = mmu_read(c, base + 0x0E, 2, 0);
        t->eflags = mmu_read(c, base + 0x10, 2, 0);
        for (int i = 0; i < 8; i++)
            t->r[i] = mmu_read(c, base + 0x12 + 2u * (uint32_t)i, 2, 0);
        for (int s = 0; s < 4; s++) /* ES CS SS DS */
            t->seg[s] = (uint16_t)mmu_read(c, base + 0x22 + 2u * (uint32_t)s, 2, 0);
        t->seg[S_FS] = c->seg[S_FS].sel; /* a 16-bit TSS has no FS or GS: they are kept */
        t->seg[S_GS] = c->seg[S_GS].sel;
        t->ldt = (uint16_t)mmu_read(c, base + 0x2A, 2, 0);
        t->t_bit = 0;
    }
}

/* The outgoing task's dynamic fields (SDM §7.2.1): EIP, EFLAGS, general and segment registers. */
static void save_tss(struct cpu *c, uint32_t next_eip, uint32_t eflags)
{
    uint32_t base = c->tr.base;
    if ((c->tr.ar & AR_TYPE) == 0xB || (c->tr.ar & AR_TYPE) == 0x9) {
        mmu_write(c, base + 0x20, 4, next_eip, 0);
        mmu_write(c, base + 0x24, 4, eflags, 0);
        for (int i = 0; i < 8; i++)
            mmu_write(c, base + 0x28 + 4u * (uint32_t)i, 4, c->r[i], 0);
        for (int s = 0; s < S_NSEG; s++)
            mmu_write(c, base + 0x48 + 4u * (uint32_t)s, 2, c->seg[s].sel, 0);
    } else {
        mmu_write(c, base + 0x0E, 2, next_eip & 0xFFFF, 0);
        mmu_write(c, base + 0x10, 2, eflags & 0xFFFF, 0);
        for (int i = 0; i < 8; i++)
            mmu_write(c, base + 0x12 + 2u * (uint32_t)i, 2, c->r[i] & 0xFFFF, 0);
        for (int s = 0; s < 4; s++)
            mmu_write(c, base + 0x22 + 2u * (uint32_t)s, 2, c->seg[s].sel, 0);
    }
}

/* Sets or clears the busy bit (type bit 1) of the TSS descriptor of selector sel in the GDT. */
static void set_busy(struct cpu *c, uint16_t sel, int busy)
{
    uint32_t a = c->gdtr.base + (sel & 0xFFF8u) + 5u;
    uint32_t b = mmu_read(c, a, 1, 0);
    mmu_write(c, a, 1, busy ? b | 2u : b & ~2u, 0);
}

/* Faults after the switch point are taken in the new task's context (SDM §7.3, step 12): the
 * state as it is now becomes what cpu_fault puts back. */
static void commit(struct cpu *c)
{
    cpu_commit_regs(c);
    c->snap_eip = c->eip;
    for (int i = 0; i < S_NSEG; i++)
        c->snap_seg[i] = c->seg[i];
    c->snap_ldtr = c->ldtr;
    c->snap_tr = c->tr;
    c->snap_cpl = c->cpl;
    c->snap_seg_valid = 1;
}

/* Loads the new task's segment registers with the checks of Table 7-1 (#TS, #NP, #SS). */
static void load_task_segs(struct cpu *c, const struct tss_image *t, uint32_t ext)
{
    struct segreg d;
    uint32_t addr;
    /* LDTR: null is allowed; else a GDT selector of a present LDT descriptor, or #TS(LDT). */
    if ((t->ldt & 0xFFFC) != 0) {
        uint32_t e = SEL_ERR(t->ldt) | ext;
        if ((t->ldt & 4) || read_descriptor(c, t->ldt, &d, &addr) || (d.ar & (AR_S | AR_TYPE)) != 0x2 ||
            !(d.ar & AR_P))
            cpu_fault(c, EXC_TS, e);
        c->ldtr = d;
    }
    commit(c);

    if (c->eflags & F_VM) {
        for (int s = 0; s < S_NSEG; s++)
            load_seg(c, s, t->seg[s]); /* virtual-8086 form: base = selector << 4 */
        c->cpl = 3;
        commit(c);
        return;
    }

    /* CS: a code segment whose DPL is the selector's RPL (or <= it when conforming). */
    uint16_t sel = t->seg[S_CS];
    uint32_t e = SEL_ERR(sel) | ext;
    int rpl = sel & 3;
    if ((sel & 0xFFFC) == 0)
        cpu_fault(c, EXC_TS, ext);
    if (read_descriptor(c, sel, &d, &addr) || !(d.ar & AR_S) || !(d.ar & 0x8))
        cpu_fault(c, EXC_TS, e);
    int dpl = (d.ar & AR_DPL) >> 5;
    if ((d.ar & 0x4) ? dpl > rpl : dpl != rpl)
        cpu_fault(c, EXC_TS, e);
    if (!(d.ar & AR_P))
        cpu_fault(c, EXC_NP, e);
    mark_accessed(c, &d, addr);
    pm_set_cs(c, &d, rpl);
    commit(c);

    /* SS: writable data with RPL = DPL = CPL; #SS(SS) when not present. */
    sel = t->seg[S_SS];
    e = SEL_ERR(sel) | ext;
    if ((sel & 0xFFFC) == 0)
        cpu_fault(c, EXC_TS, ext);
    if (read_descriptor(c, sel, &d, &addr) || (sel & 3) != c->cpl || !(d.ar & AR_S) || (d.ar & 0x8) ||
        !(d.ar & 0x2) || (int)((d.ar & AR_DPL) >> 5) != c->cpl)
        cpu_fault(c, EXC_TS, e);
    if (!(d.ar & AR_P))
        cpu_fault(c, EXC_SS, e);
    mark_accessed(c, &d, addr);
    c->seg[S_SS] = d;
    commit(c);

    /* DS ES FS GS: null, or readable with DPL >= max(CPL, RPL) unless conforming code. */
    static const int data[] = { S_DS, S_ES, S_FS, S_GS };
    for (int i = 0; i < 4; i++) {
        int s = data[i];
        sel = t->seg[s];
        e = SEL_ERR(sel) | ext;
        if ((sel & 0xFFFC) == 0) {
            c->seg[s] = (struct segreg){ sel, 0, 0, 0 };
            continue;
        }
        if (read_descriptor(c, sel, &d, &addr) || !(d.ar & AR_S) || ((d.ar & 0x8) && !(d.ar & 0x2)))
            cpu_fault(c, EXC_TS, e);
        dpl = (d.ar & AR_DPL) >> 5;
        if ((!(d.ar & 0x8) || !(d.ar & 0x4)) && (dpl < c->cpl || dpl < (sel & 3)))
            cpu_fault(c, EXC_TS, e);
        if (!(d.ar & AR_P))
            cpu_fault(c, EXC_NP, e);
        mark_accessed(c, &d, addr);
        c->seg[s] = d;
        commit(c);
    }
}

int task_switch(struct cpu *c, uint16_t sel, enum task_reason why, int ext, uint32_t next_eip)
{
    uint32_t x = ext ? 1u : 0u;
    uint32_t e = SEL_ERR(sel) | x;
    /* The new TSS descriptor: in the GDT, a TSS, available (busy for IRET), present, long enough.
     * A bad one is #GP for JMP/CALL/INT and #TS for IRET (SDM IRET "TASK-RETURN"). */
    int bad = why == TS_IRET ? EXC_TS : EXC_GP;
    struct segreg d;
    uint32_t daddr;
    if ((sel & 4) || read_descriptor(c, sel, &d, &daddr))
        cpu_fault(c, bad, e);
    int type = d.ar & (AR_S | AR_TYPE);
    int want = why == TS_IRET ? 0x2 : 0x0;
    if (type != (0x1 | want) && type != (0x9 | want))
        cpu_fault(c, bad, e);
    if (!(d.ar & AR_P))
        cpu_fault(c, EXC_NP, e);
    int new32 = (type & 0x8) != 0;
    if (d.limit < (new32 ? 0x67u : 0x2Bu))
        cpu_fault(c, EXC_TS, e);

    struct tss_image t;
    read_tss(c, d.base, new32, &t);

    /* Save the outgoing task; IRET saves EFLAGS with NT clear (step 7). */
    uint32_t fl = cpu_get_eflags(c);
    if (why == TS_IRET)
        fl &= ~F_NT;
    uint16_t old_tr = c->tr.sel;
    save_tss(c, next_eip, fl);
    if (why == TS_JMP || why == TS_IRET)
        set_busy(c, old_tr, 0);
    if (why != TS_IRET)
        set_busy(c, sel, 1);
    if (why == TS_CALL || why == TS_INT)
        mmu_write(c, d.base, 2, old_tr, 0); /* the back link, for the IRET that returns */

    /* The switch point: TR, CR0.TS, CR3, then the new task's registers. */
    cpu_save_segs(c);
    c->tr = d;
    c->tr.ar |= 0x2;
    c->cr[0] |= CR0_TS;
    if (new32) {
        c->cr[3] = t.cr3 & 0xFFFFF018u;
        if (c->cr[0] & CR0_PG)
            tlb_flush_nonglobal(&c->tlb, (c->cr[4] & CR4_PGE) != 0);
    }
    write_eflags(c, t.eflags, 0xFFFFFFFFu);
    if (!new32)
        c->eflags &= 0xFFFF;
    if (why == TS_CALL || why == TS_INT)
        c->eflags |= F_NT;
    c->eip = t.eip;
    for (int i = 0; i < 8; i++) {
        if (new32)
            c->r[i] = t.r[i];
        else
            c->r[i] = (c->r[i] & 0xFFFF0000u) | t.r[i];
    }
    /* Selectors first, with unusable caches: a fault while loading a descriptor leaves the
     * selectors of the new task in place (SDM §7.3). */
    for (int s = 0; s < S_NSEG; s++)
        if (new32 || (s != S_FS && s != S_GS))
            c->seg[s] = (struct segreg){ t.seg[s], 0, 0, 0 };
    c->ldtr = (struct segreg){ t.ldt, 0, 0, 0 };
    c->cpl = (c->eflags & F_VM) ? 3 : (t.seg[S_CS] & 3);
    if (t.t_bit)
        c->dbg_pending |= DR6_BT; /* debug trap on entry to the task (SDM §17.2.5) */
    c->dr[7] &= ~0x155u; /* L0-L3 and LE are task-local (SDM §17.2.4) */
    debug_dr7_changed(c);
    commit(c);
    load_task_segs(c, &t, x);
    if (c->eip > c->seg[S_CS].limit)
        cpu_fault(c, EXC_GP, 0);
    return new32;
}

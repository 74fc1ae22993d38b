/* Protected-mode far JMP, CALL, RET and IRET: code-segment targets, call gates (stack switch,
 * parameter copy), task gates and TSSs, returns to an outer level, the IRET EFLAGS rules.
 * Intel SDM Vol. 3A §5.8 (control-transfer privilege checks); Vol. 2 CALL, JMP, RET, IRET. */
#include "interp.h"

/* An error code naming a selector (SDM Vol. 3A §6.13): index and TI, with the EXT bit. */
#define SEL_ERR(s) ((uint32_t)(s) & 0xFFFCu)

static int dpl_of(const struct segreg *d) { return (d->ar & AR_DPL) >> 5; }
static int is_code(const struct segreg *d) { return (d->ar & AR_S) && (d->ar & 0x8); }
static int is_conforming(const struct segreg *d) { return is_code(d) && (d->ar & 0x4); }
static int sys_type(const struct segreg *d) { return (d->ar & AR_S) ? -1 : (int)(d->ar & AR_TYPE); }

void pm_set_cs(struct cpu *c, const struct segreg *d, int cpl)
{
    c->seg[S_CS] = *d;
    c->seg[S_CS].sel = (uint16_t)((d->sel & 0xFFFC) | cpl); /* CS.RPL is always the CPL */
    c->cpl = cpl;
}

/* RET/IRET to an outer level: DS ES FS GS that the new CPL may not use become null (SDM RET,
 * "RETURN-TO-OUTER-PRIVILEGE-LEVEL": data or non-conforming code with DPL < CPL, judged by the
 * hidden descriptor cache). */
void pm_null_outer_segs(struct cpu *c)
{
    static const int segs[] = { S_ES, S_DS, S_FS, S_GS };
    for (int i = 0; i < 4; i++) {
        struct segreg *s = &c->seg[segs[i]];
        if (!is_conforming(s) && dpl_of(s) < c->cpl)
            *s = (struct segreg){ 0, 0, 0, 0 };
    }
}

/* Whether `bytes` bytes below esp fit in the stack segment ss (expand-up or expand-down, 16- or
 * 32-bit stack pointer), so that a frame can be checked before anything is pushed. */
int pm_stack_room(const struct segreg *ss, uint32_t esp, uint32_t bytes)
{
    int big = (ss->ar & AR_DB) != 0;
    uint64_t top = big ? 0xFFFFFFFFull : 0xFFFFull;
    uint64_t sp = big ? esp : (esp & 0xFFFF);
    if (!(ss->ar & AR_P))
        return 0;
    uint64_t lo = (sp - bytes) & top;
    uint64_t hi = lo + bytes - 1;
    int expand_down = (ss->ar & 0xC) == 0x4; /* valid offsets are limit+1 .. top */
    if (hi > top) /* the pushes wrap past offset 0: every offset must be valid */
        return !expand_down && ss->limit >= top;
    return expand_down ? lo > ss->limit : hi <= ss->limit;
}

/* The stack for privilege level dpl from the current TSS, with the checks of SDM Vol. 2A CALL
 * ("CALL-GATE-MORE-PRIVILEGE") and INT n ("INTER-PRIVILEGE-LEVEL-INTERRUPT"): #TS(TR) when the TSS
 * is too short, #TS(NewSS) for a bad selector or descriptor, #SS(NewSS) when not present. */
void pm_inner_stack(struct cpu *c, int dpl, uint32_t ext, struct segreg *ss, uint32_t *ss_addr, uint32_t *esp)
{
    int is32 = (c->tr.ar & AR_TYPE) == 0x9 || (c->tr.ar & AR_TYPE) == 0xB;
    uint32_t off = is32 ? 4u + 8u * (uint32_t)dpl : 2u + 4u * (uint32_t)dpl;
    if (off + (is32 ? 5u : 3u) > c->tr.limit)
        cpu_fault(c, EXC_TS, SEL_ERR(c->tr.sel) | ext);
    uint16_t sel;
    if (is32) {
        *esp = mmu_read(c, c->tr.base + off, 4, 0);
        sel = (uint16_t)mmu_read(c, c->tr.base + off + 4, 2, 0);
    } else {
        *esp = mmu_read(c, c->tr.base + off, 2, 0);
        sel = (uint16_t)mmu_read(c, c->tr.base + off + 2, 2, 0);
    }
    uint32_t err = SEL_ERR(sel) | ext;
    if ((sel & 0xFFFC) == 0)
        cpu_fault(c, EXC_TS, ext);
    if (read_descriptor(c, sel, ss, ss_addr) || (sel & 3) != dpl)
        cpu_fault(c, EXC_TS, err);
    int type = ss->ar & AR_TYPE;
    if (dpl_of(ss) != dpl || !(ss->ar & AR_S) || (type & 8) || !(type & 2))
        cpu_fault(c, EXC_TS, err);
    if (!(ss->ar & AR_P))
        cpu_fault(c, EXC_SS, err);
}

/* Selector, offset and parameter count of a call gate at linear address addr (SDM Vol. 3A
 * Figure 5-8); 16-bit gates (type 4) use only the low offset word. */
static void gate_fields(struct cpu *c, uint32_t addr, uint16_t *sel, uint32_t *off, int *count)
{
    uint32_t lo = mmu_read(c, addr, 4, 0);
    uint32_t hi = mmu_read(c, addr + 4, 4, 0);
    *sel = (uint16_t)(lo >> 16);
    *off = (lo & 0xFFFF) | (hi & 0xFFFF0000u);
    if (((hi >> 8) & 0xF) == 0x4)
        *off &= 0xFFFF;
    *count = (int)(hi & 0x1F);
}

/* Reads the descriptor of a non-null selector or raises #GP: #GP(0) for null, #GP(sel) when the
 * selector is outside its table. */
static void read_target(struct cpu *c, uint16_t sel, struct segreg *d, uint32_t *addr)
{
    if ((sel & 0xFFFC) == 0)
        cpu_fault(c, EXC_GP, 0);
    if (read_descriptor(c, sel, d, addr))
        cpu_fault(c, EXC_GP, SEL_ERR(sel));
}

/* A code segment reached directly by JMP or CALL (SDM Vol. 3A §5.8.1): conforming needs
 * DPL <= CPL; non-conforming needs RPL <= CPL and DPL = CPL. Then presence. */
static void check_direct_code(struct cpu *c, const struct segreg *d, int rpl)
{
    uint32_t err = SEL_ERR(d->sel);
    if (!is_code(d))
        cpu_fault(c, EXC_GP, err);
    if (is_conforming(d) ? dpl_of(d) > c->cpl : (rpl > c->cpl || dpl_of(d) != c->cpl))
        cpu_fault(c, EXC_GP, err);
    if (!(d->ar & AR_P))
        cpu_fault(c, EXC_NP, err);
}

/* The gate itself (call gate or task gate) for JMP and CALL: DPL >= max(CPL, RPL), present. */
static void check_gate(struct cpu *c, const struct segreg *g, int rpl)
{
    if (dpl_of(g) < c->cpl || rpl > dpl_of(g))
        cpu_fault(c, EXC_GP, SEL_ERR(g->sel));
    if (!(g->ar & AR_P))
        cpu_fault(c, EXC_NP, SEL_ERR(g->sel));
}

/* The code segment a call gate names: #GP(0) null, #GP(sel) outside the table, not code, or
 * DPL > CPL (for JMP also non-conforming with DPL != CPL: JMP never changes privilege); then
 * #NP(sel) when not present (SDM JMP and CALL, "CALL-GATE"). */
static void gate_code(struct cpu *c, uint16_t csel, struct segreg *cd, uint32_t *caddr, int jmp)
{
    read_target(c, csel, cd, caddr);
    if (!is_code(cd) || dpl_of(cd) > c->cpl || (jmp && !is_conforming(cd) && dpl_of(cd) != c->cpl))
        cpu_fault(c, EXC_GP, SEL_ERR(csel));
    if (!(cd->ar & AR_P))
        cpu_fault(c, EXC_NP, SEL_ERR(csel));
}

/* A task gate's TSS selector, or a TSS descriptor named directly (SDM Vol. 3A §7.3; JMP/CALL
 * "TASK-GATE" and "TASK-STATE-SEGMENT"). Both need DPL >= max(CPL, RPL); a task gate must then be
 * present, while for a TSS descriptor the busy check (#GP) comes before presence (#NP), which
 * task_switch makes. */
static void to_task(struct cpu *c, const struct segreg *d, int rpl, uint32_t addr, enum task_reason why)
{
    uint16_t tss = d->sel;
    if (sys_type(d) == 0x5) {
        check_gate(c, d, rpl);
        tss = (uint16_t)(mmu_read(c, addr, 4, 0) >> 16);
    } else if (dpl_of(d) < c->cpl || rpl > dpl_of(d)) {
        cpu_fault(c, EXC_GP, SEL_ERR(d->sel));
    }
    task_switch(c, tss, why, 0, c->eip);
}

void pm_far_jump(struct cpu *c, uint16_t sel, uint32_t off)
{
    struct segreg d;
    uint32_t addr;
    int rpl = sel & 3;
    read_target(c, sel, &d, &addr);
    if (d.ar & AR_S) {
        check_direct_code(c, &d, rpl);
        if (off > d.limit)
            cpu_fault(c, EXC_GP, 0);
        mark_accessed(c, &d, addr);
        pm_set_cs(c, &d, c->cpl);
        c->eip = off;
        return;
    }
    switch (sys_type(&d)) {
    case 0x4:
    case 0xC: {
        check_gate(c, &d, rpl);
        uint16_t csel;
        uint32_t goff, caddr;
        int count;
        struct segreg cd;
        gate_fields(c, addr, &csel, &goff, &count);
        gate_code(c, csel, &cd, &caddr, 1);
        if (goff > cd.limit)
            cpu_fault(c, EXC_GP, 0);
        mark_accessed(c, &cd, caddr);
        pm_set_cs(c, &cd, c->cpl);
        c->eip = goff;
        return;
    }
    case 0x5:
    case 0x1:
    case 0x9:
        to_task(c, &d, rpl, addr, TS_JMP);
        return;
    default:
        cpu_fault(c, EXC_GP, SEL_ERR(sel));
    }
}

void pm_far_call(struct cpu *c, uint16_t sel, uint32_t off, int opsize)
{
    struct segreg d;
    uint32_t addr;
    int rpl = sel & 3;
    uint16_t old_cs = c->seg[S_CS].sel;
    uint32_t ret = c->eip;
    read_target(c, sel, &d, &addr);
    if (d.ar & AR_S) {
        check_direct_code(c, &d, rpl);
        if (!pm_stack_room(&c->seg[S_SS], c->r[R_ESP], 2u * (uint32_t)opsize))
            cpu_fault(c, EXC_SS, 0);
        if (off > d.limit)
            cpu_fault(c, EXC_GP, 0);
        mark_accessed(c, &d, addr);
        push(c, opsize, old_cs);
        push(c, opsize, ret);
        pm_set_cs(c, &d, c->cpl);
        c->eip = off;
        return;
    }
    int type = sys_type(&d);
    if (type == 0x5 || type == 0x1 || type == 0x9) {
        to_task(c, &d, rpl, addr, TS_CALL);
        return;
    }
    if (type != 0x4 && type != 0xC)
        cpu_fault(c, EXC_GP, SEL_ERR(sel));

    check_gate(c, &d, rpl);
    uint16_t csel;
    uint32_t goff, caddr;
    int count;
    struct segreg cd;
    gate_fields(c, addr, &csel, &goff, &count);
    gate_code(c, csel, &cd, &caddr, 0);
    int gsize = type == 0xC ? 4 : 2;
    int dpl = dpl_of(&cd);

    if (!is_conforming(&cd) && dpl < c->cpl) {
        /* CALL-GATE-MORE-PRIVILEGE: new stack from the TSS, then old SS:ESP, the gate's count of
         * parameters copied from the old stack, and CS:EIP, all in the gate's size. */
        struct segreg ss;
        uint32_t ss_addr, esp;
        pm_inner_stack(c, dpl, 0, &ss, &ss_addr, &esp);
        if (!pm_stack_room(&ss, esp, (uint32_t)(4 + count) * (uint32_t)gsize))
            cpu_fault(c, EXC_SS, SEL_ERR(ss.sel));
        if (goff > cd.limit)
            cpu_fault(c, EXC_GP, 0);
        uint32_t params[31];
        uint32_t osp = sp_get(c), omask = stack32(c) ? 0xFFFFFFFFu : 0xFFFF;
        for (int i = 0; i < count; i++)
            params[i] = mem_read(c, S_SS, (osp + (uint32_t)(i * gsize)) & omask, gsize);
        uint16_t old_ss = c->seg[S_SS].sel;
        uint32_t old_esp = c->r[R_ESP];
        cpu_save_segs(c);
        mark_accessed(c, &ss, ss_addr);
        mark_accessed(c, &cd, caddr);
        c->cpl = dpl; /* the new stack is written with the new privilege (supervisor pages) */
        c->seg[S_SS] = ss;
        c->r[R_ESP] = esp;
        push(c, gsize, old_ss);
        push(c, gsize, gsize == 2 ? old_esp & 0xFFFF : old_esp);
        for (int i = count - 1; i >= 0; i--)
            push(c, gsize, params[i]);
        push(c, gsize, old_cs);
        push(c, gsize, gsize == 2 ? ret & 0xFFFF : ret);
        pm_set_cs(c, &cd, dpl);
        c->eip = goff;
        return;
    }
    /* CALL-GATE-SAME-PRIVILEGE (or a conforming target, which keeps the CPL). */
    if (!pm_stack_room(&c->seg[S_SS], c->r[R_ESP], 2u * (uint32_t)gsize))
        cpu_fault(c, EXC_SS, 0);
    if (goff > cd.limit)
        cpu_fault(c, EXC_GP, 0);
    mark_accessed(c, &cd, caddr);
    push(c, gsize, old_cs);
    push(c, gsize, gsize == 2 ? ret & 0xFFFF : ret);
    pm_set_cs(c, &cd, c->cpl);
    c->eip = goff;
}

/* The code segment a far RET or IRET returns to (SDM RET "Operation"): #GP(0) null, #GP(sel) for
 * RPL < CPL, not code, conforming with DPL > RPL, non-conforming with DPL != RPL; #NP(sel). */
static void check_return_cs(struct cpu *c, uint16_t sel, struct segreg *d, uint32_t *addr)
{
    read_target(c, sel, d, addr);
    int rpl = sel & 3;
    uint32_t err = SEL_ERR(sel);
    if (rpl < c->cpl || !is_code(d))
        cpu_fault(c, EXC_GP, err);
    if (is_conforming(d) ? dpl_of(d) > rpl : dpl_of(d) != rpl)
        cpu_fault(c, EXC_GP, err);
    if (!(d->ar & AR_P))
        cpu_fault(c, EXC_NP, err);
}

/* The outer stack segment of a return to privilege rpl: #GP(0) null, #GP(sel) outside the table,
 * RPL != rpl, not writable data, DPL != rpl; #SS(sel) not present. */
static void check_return_ss(struct cpu *c, uint16_t sel, int rpl, struct segreg *d, uint32_t *addr)
{
    read_target(c, sel, d, addr);
    int type = d->ar & AR_TYPE;
    uint32_t err = SEL_ERR(sel);
    if ((sel & 3) != rpl || !(d->ar & AR_S) || (type & 8) || !(type & 2) || dpl_of(d) != rpl)
        cpu_fault(c, EXC_GP, err);
    if (!(d->ar & AR_P))
        cpu_fault(c, EXC_SS, err);
}

/* Completes a return to CS:EIP (RET or IRET): same level, or outer with SS:ESP popped from
 * offset `outer` of the current stack. Returns nothing; EFLAGS are the caller's business. */
static void do_return(struct cpu *c, uint16_t csel, uint32_t eip, uint32_t outer, int opsize, uint32_t imm,
                      uint32_t same_sp)
{
    struct segreg cd;
    uint32_t caddr;
    check_return_cs(c, csel, &cd, &caddr);
    int rpl = csel & 3;
    if (rpl > c->cpl) {
        uint32_t m = stack32(c) ? 0xFFFFFFFFu : 0xFFFF;
        uint32_t esp = mem_read(c, S_SS, outer & m, opsize);
        uint16_t ssel = (uint16_t)mem_read(c, S_SS, (outer + (uint32_t)opsize) & m, 2);
        struct segreg ss;
        uint32_t ss_addr;
        check_return_ss(c, ssel, rpl, &ss, &ss_addr);
        if (eip > cd.limit)
            cpu_fault(c, EXC_GP, 0);
        cpu_save_segs(c);
        mark_accessed(c, &cd, caddr);
        mark_accessed(c, &ss, ss_addr);
        pm_set_cs(c, &cd, rpl);
        c->seg[S_SS] = ss;
        if (ss.ar & AR_DB)
            c->r[R_ESP] = esp + imm;
        else
            sp_set(c, esp + imm);
        c->eip = eip;
        pm_null_outer_segs(c);
        return;
    }
    if (eip > cd.limit)
        cpu_fault(c, EXC_GP, 0);
    mark_accessed(c, &cd, caddr);
    pm_set_cs(c, &cd, c->cpl);
    c->eip = eip;
    sp_set(c, same_sp);
}

void pm_far_ret(struct cpu *c, int opsize, uint32_t imm)
{
    uint32_t m = stack32(c) ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t sp = sp_get(c);
    uint32_t eip = mem_read(c, S_SS, sp, opsize);
    uint16_t csel = (uint16_t)mem_read(c, S_SS, (sp + (uint32_t)opsize) & m, 2);
    uint32_t after = sp + 2u * (uint32_t)opsize + imm;
    do_return(c, csel, eip, after, opsize, imm, after);
}

/* Protected-mode IRET (SDM IRET "Operation"): nested-task return, return to virtual-8086 mode,
 * or a return to the same or an outer level with the EFLAGS bits the old CPL may change. */
void pm_iret(struct cpu *c, int opsize)
{
    if (cpu_v86(c)) {
        v86_iret(c, opsize);
        return;
    }
    if (c->eflags & F_NT) {
        /* TASK-RETURN: the back link is the first word of the current TSS. */
        uint16_t link = (uint16_t)mmu_read(c, c->tr.base, 2, 0);
        task_switch(c, link, TS_IRET, 0, c->eip);
        return;
    }
    uint32_t m = stack32(c) ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t sp = sp_get(c);
    uint32_t n = (uint32_t)opsize;
    uint32_t eip = mem_read(c, S_SS, sp, opsize);
    uint16_t csel = (uint16_t)mem_read(c, S_SS, (sp + n) & m, 2);
    uint32_t fl = mem_read(c, S_SS, (sp + 2 * n) & m, opsize);
    int old_cpl = c->cpl;

    if (opsize == 4 && (fl & F_VM) && old_cpl == 0) {
        /* RETURN-TO-VIRTUAL-8086-MODE: ESP SS ES DS FS GS follow as dwords. */
        uint32_t v[6];
        for (int i = 0; i < 6; i++)
            v[i] = mem_read(c, S_SS, (sp + 12u + 4u * (uint32_t)i) & m, 4);
        cpu_save_segs(c);
        write_eflags(c, fl, 0xFFFFFFFFu);
        static const int order[] = { S_SS, S_ES, S_DS, S_FS, S_GS };
        for (int i = 0; i < 5; i++)
            load_seg(c, order[i], (uint16_t)v[i + 1]); /* VM is set: base = selector << 4 */
        load_seg(c, S_CS, csel);
        c->r[R_ESP] = v[0];
        c->eip = eip & 0xFFFF;
        c->cpl = 3;
        return;
    }

    do_return(c, csel, eip, sp + 3 * n, opsize, 0, sp + 3 * n);

    uint32_t mask = F_ARITH | F_TF | F_DF | F_NT;
    if (opsize == 4)
        mask |= F_RF | F_AC | F_ID;
    if (old_cpl <= (int)((c->eflags & F_IOPL) >> 12))
        mask |= F_IF;
    if (old_cpl == 0) {
        mask |= F_IOPL;
        if (opsize == 4)
            mask |= F_VIF | F_VIP;
    }
    write_eflags(c, fl, mask);
}

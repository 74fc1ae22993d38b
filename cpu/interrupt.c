/* Protected-mode interrupt and exception delivery through the IDT: interrupt, trap and task gates,
 * the inner-stack switch, frames from virtual-8086 mode, and error codes with the EXT bit.
 * Intel SDM Vol. 3A §6.10-6.14 (IDT, gates, stack switch, error codes); Vol. 2A INT n "Operation". */
#include "interp.h"

#define SEL_ERR(s) ((uint32_t)(s) & 0xFFFCu)

static int dpl_of(const struct segreg *d) { return (d->ar & AR_DPL) >> 5; }

void pm_interrupt(struct cpu *c, int vec, uint32_t next_eip, int has_err, uint32_t err, int is_soft)
{
    /* EXT (bit 0 of error codes raised here) is set for events external to the program: external
     * interrupts, exceptions, and INT1/ICEBP; INT n, INT3 and INTO leave it clear (SDM §6.13). */
    uint32_t ext = is_soft ? 0 : 1;
    uint32_t idt_err = (uint32_t)vec * 8u + 2u; /* IDT bit set: the error code names the vector */
    if ((uint32_t)vec * 8u + 7u > c->idtr.limit)
        cpu_fault(c, EXC_GP, idt_err | ext);
    uint32_t lo = mmu_read(c, c->idtr.base + (uint32_t)vec * 8u, 4, 0);
    uint32_t hi = mmu_read(c, c->idtr.base + (uint32_t)vec * 8u + 4u, 4, 0);
    int type = (int)((hi >> 8) & 0x1F); /* S bit and type */
    int gdpl = (int)((hi >> 13) & 3);
    if (type != 0x05 && type != 0x06 && type != 0x07 && type != 0x0E && type != 0x0F)
        cpu_fault(c, EXC_GP, idt_err | ext);
    /* Software interrupts (INT n, INT3, INTO; not INT1) need gate DPL >= CPL; in V86 the CPL
     * is 3. The error code has EXT clear (SDM INT n, "PROTECTED-MODE"). */
    if (is_soft && gdpl < c->cpl)
        cpu_fault(c, EXC_GP, idt_err);
    if (!(hi & 0x8000))
        cpu_fault(c, EXC_NP, idt_err | ext);

    uint16_t sel = (uint16_t)(lo >> 16);
    if (type == 0x05) {
        /* Task gate: the handler is a task; an error code goes on the new task's stack. */
        int is32 = task_switch(c, sel, TS_INT, (int)ext, next_eip);
        if (has_err) {
            int size = is32 ? 4 : 2;
            if (!pm_stack_room(&c->seg[S_SS], c->r[R_ESP], (uint32_t)size))
                cpu_fault(c, EXC_SS, ext);
            push(c, size, err);
        }
        return;
    }

    int gsize = (type & 0x8) ? 4 : 2;
    uint32_t off = gsize == 4 ? (lo & 0xFFFF) | (hi & 0xFFFF0000u) : lo & 0xFFFF;
    struct segreg cd;
    uint32_t caddr;
    if ((sel & 0xFFFC) == 0)
        cpu_fault(c, EXC_GP, ext);
    if (read_descriptor(c, sel, &cd, &caddr))
        cpu_fault(c, EXC_GP, SEL_ERR(sel) | ext);
    int dpl = dpl_of(&cd);
    if (!(cd.ar & AR_S) || !(cd.ar & 0x8) || dpl > c->cpl)
        cpu_fault(c, EXC_GP, SEL_ERR(sel) | ext);
    if (!(cd.ar & AR_P))
        cpu_fault(c, EXC_NP, SEL_ERR(sel) | ext);

    int conforming = (cd.ar & 0x4) != 0;
    int from_v86 = cpu_v86(c);
    uint32_t eflags = cpu_get_eflags(c);
    uint32_t nerr = has_err ? 1u : 0u;
    uint16_t old_cs = c->seg[S_CS].sel;

    if (!conforming && dpl < c->cpl) {
        /* INTER-PRIVILEGE-LEVEL-INTERRUPT (or INTERRUPT-FROM-VIRTUAL-8086-MODE: ring 0 only). */
        if (from_v86 && dpl != 0)
            cpu_fault(c, EXC_GP, SEL_ERR(sel) | ext);
        struct segreg ss;
        uint32_t ss_addr, esp;
        pm_inner_stack(c, dpl, ext, &ss, &ss_addr, &esp);
        uint32_t words = 5u + nerr + (from_v86 ? 4u : 0u);
        if (!pm_stack_room(&ss, esp, words * (uint32_t)gsize))
            cpu_fault(c, EXC_SS, SEL_ERR(ss.sel) | ext);
        if (off > cd.limit)
            cpu_fault(c, EXC_GP, ext);
        uint16_t old_ss = c->seg[S_SS].sel;
        uint32_t old_esp = c->r[R_ESP];
        cpu_save_segs(c);
        mark_accessed(c, &ss, ss_addr);
        mark_accessed(c, &cd, caddr);
        c->cpl = dpl; /* the frame is written with the handler's privilege */
        c->seg[S_SS] = ss;
        c->r[R_ESP] = esp;
        if (from_v86) {
            push(c, gsize, c->seg[S_GS].sel);
            push(c, gsize, c->seg[S_FS].sel);
            push(c, gsize, c->seg[S_DS].sel);
            push(c, gsize, c->seg[S_ES].sel);
            for (int s = S_ES; s <= S_GS; s++)
                if (s != S_CS && s != S_SS)
                    c->seg[s] = (struct segreg){ 0, 0, 0, 0 };
        }
        push(c, gsize, old_ss);
        push(c, gsize, gsize == 2 ? old_esp & 0xFFFF : old_esp);
    } else {
        /* INTRA-PRIVILEGE-LEVEL-INTERRUPT: conforming or DPL = CPL; never from V86. */
        if (from_v86)
            cpu_fault(c, EXC_GP, SEL_ERR(sel) | ext);
        if (!pm_stack_room(&c->seg[S_SS], c->r[R_ESP], (3u + nerr) * (uint32_t)gsize))
            cpu_fault(c, EXC_SS, ext);
        if (off > cd.limit)
            cpu_fault(c, EXC_GP, ext);
        cpu_save_segs(c);
        mark_accessed(c, &cd, caddr);
        dpl = c->cpl;
    }
    push(c, gsize, gsize == 2 ? eflags & 0xFFFF : eflags);
    push(c, gsize, old_cs);
    push(c, gsize, gsize == 2 ? next_eip & 0xFFFF : next_eip);
    if (has_err)
        push(c, gsize, gsize == 2 ? err & 0xFFFF : err);
    pm_set_cs(c, &cd, dpl);
    c->eip = off;
    /* TF, VM, RF and NT are cleared; an interrupt gate also clears IF (SDM §6.12.1.3). */
    c->eflags &= ~(F_TF | F_VM | F_RF | F_NT);
    if (!(type & 1))
        c->eflags &= ~F_IF;
}

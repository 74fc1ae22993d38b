/* Virtual-8086 mode: the IOPL-sensitive INT n and IRET, the VME extensions (redirection bitmap,
 * VIF/VIP) and protected-mode virtual interrupts (PVI) for CLI/STI. Intel SDM Vol. 3A §20.2.7,
 * §20.3 (Table 20-2, software interrupt methods), §20.4; Vol. 2 INT n, IRET, CLI, STI. */
#include "interp.h"

static int iopl(const struct cpu *c) { return (int)((c->eflags & F_IOPL) >> 12); }

/* Bit vec of the software interrupt redirection bitmap: the 32 bytes below the I/O map base of a
 * 32-bit TSS (SDM §20.3.3). A bitmap outside the TSS limit is treated as #GP(0). */
static int redirection_bit(struct cpu *c, int vec)
{
    int is32 = (c->tr.ar & AR_TYPE) == 0x9 || (c->tr.ar & AR_TYPE) == 0xB;
    if (!is32 || c->tr.limit < 0x67)
        cpu_fault(c, EXC_GP, 0);
    uint32_t iomap = mmu_read(c, c->tr.base + 0x66, 2, 0);
    uint32_t off = iomap - 32u + (uint32_t)vec / 8u;
    if (iomap < 32u || off > c->tr.limit)
        cpu_fault(c, EXC_GP, 0);
    return (mmu_read(c, c->tr.base + off, 1, 0) >> (vec & 7)) & 1;
}

int v86_soft_int(struct cpu *c, int vec)
{
    if (!(c->cr[4] & CR4_VME)) {
        /* Methods 1 and 2 of Table 20-2: IOPL 3 goes to the IDT, else #GP(0) to the monitor. */
        if (iopl(c) < 3)
            cpu_fault(c, EXC_GP, 0);
        return 0;
    }
    if (redirection_bit(c, vec)) {
        /* Methods 3 and 4: not redirected. */
        if (iopl(c) < 3)
            cpu_fault(c, EXC_GP, 0);
        return 0;
    }
    /* Methods 5 and 6: an 8086-style interrupt through the IVT at linear address 0. With IOPL < 3
     * the pushed FLAGS show IOPL 3 and IF = VIF, and VIF (not IF) is cleared. */
    uint32_t ip = lin_read(c, (uint32_t)vec * 4u, 2);
    uint16_t cs = (uint16_t)lin_read(c, (uint32_t)vec * 4u + 2u, 2);
    uint32_t fl = cpu_get_eflags(c) & 0xFFFF;
    if (iopl(c) < 3)
        fl = (fl & ~F_IF) | F_IOPL | ((c->eflags & F_VIF) ? F_IF : 0);
    push(c, 2, fl);
    push(c, 2, c->seg[S_CS].sel);
    push(c, 2, c->eip & 0xFFFF);
    c->eflags &= ~(iopl(c) < 3 ? F_VIF | F_TF : F_IF | F_TF);
    load_seg(c, S_CS, cs);
    c->eip = ip;
    return 1;
}

/* IRET in virtual-8086 mode (SDM IRET "RETURN-FROM-VIRTUAL-8086-MODE"). */
void v86_iret(struct cpu *c, int opsize)
{
    int vme16 = iopl(c) < 3 && (c->cr[4] & CR4_VME) && opsize == 2;
    if (iopl(c) < 3 && !vme16)
        cpu_fault(c, EXC_GP, 0);
    uint32_t sp = sp_get(c), m = stack32(c) ? 0xFFFFFFFFu : 0xFFFF, n = (uint32_t)opsize;
    uint32_t ip = mem_read(c, S_SS, sp, opsize);
    uint16_t cs = (uint16_t)mem_read(c, S_SS, (sp + n) & m, 2);
    uint32_t fl = mem_read(c, S_SS, (sp + 2 * n) & m, opsize);
    if (ip > 0xFFFF) /* the V86 CS limit */
        cpu_fault(c, EXC_GP, 0);
    if (vme16) {
        /* VME: a return that would set IF with an interrupt pending, or set TF, goes to the
         * monitor; otherwise IF of the image lands in VIF and IF and IOPL stay. */
        if ((fl & F_TF) || ((fl & F_IF) && (c->eflags & F_VIP)))
            cpu_fault(c, EXC_GP, 0);
        write_eflags(c, fl, 0xFFFF & ~(F_IF | F_IOPL));
        set_flag(c, F_VIF, (fl & F_IF) != 0);
    } else {
        /* IOPL 3: VM, IOPL, VIP and VIF are not changed by the pop. */
        write_eflags(c, fl, (opsize == 4 ? 0xFFFFFFFFu : 0xFFFF) & ~(F_VM | F_IOPL | F_VIP | F_VIF));
    }
    load_seg(c, S_CS, cs);
    c->eip = ip;
    sp_set(c, sp + 3 * n);
}

/* The flag CLI and STI change (SDM CLI/STI "Operation"): IF when IOPL allows; VIF in V86 with
 * VME, or at CPL 3 with PVI; STI with VIP set faults so the monitor can deliver the pending
 * interrupt. Anything else is #GP(0). Real mode always has IF. */
uint32_t cli_sti_flag(struct cpu *c, int sti)
{
    if (!cpu_pmode(c))
        return F_IF;
    if (cpu_v86(c) ? iopl(c) == 3 : c->cpl <= iopl(c))
        return F_IF;
    if (cpu_v86(c) ? (c->cr[4] & CR4_VME) : (c->cpl == 3 && (c->cr[4] & CR4_PVI))) {
        if (sti && (c->eflags & F_VIP))
            cpu_fault(c, EXC_GP, 0);
        return F_VIF;
    }
    cpu_fault(c, EXC_GP, 0);
}

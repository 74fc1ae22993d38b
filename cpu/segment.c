/* Segment-register loads and far transfers of control, by mode. Real mode and virtual-8086 mode
 * form the base from the selector (SDM Vol. 3A §20.1.1); protected-mode transfers are in
 * far_transfer.c (SDM Vol. 3A §5.8), data-segment loads in descriptor.c (§5.5-5.7). */
#include "interp.h"

void load_seg(struct cpu *c, int s, uint16_t sel)
{
    if (!cpu_pmode(c)) {
        /* Only selector and base change: limits and attributes stay as the descriptor cache has
         * them, which is what lets "unreal mode" keep 4 GiB limits after returning to real mode. */
        cpu_load_seg_real(c, s, sel);
        return;
    }
    if (cpu_v86(c)) {
        c->seg[s] = (struct segreg){ sel, (uint32_t)sel << 4, 0xFFFF, AR_P | AR_S | (3 << 5) | (s == S_CS ? 0xB : 0x3) };
        return;
    }
    if (s == S_CS) {
        /* CS is only ever loaded by a control transfer: treat it as a far JMP to sel:EIP. */
        pm_far_jump(c, sel, c->eip);
        return;
    }
    load_seg_pmode(c, s, sel);
}

void jump_to(struct cpu *c, uint32_t eip, int size)
{
    if (size == 2)
        eip &= 0xFFFF;
    if (eip > c->seg[S_CS].limit)
        cpu_fault(c, EXC_GP, 0);
    c->eip = eip;
}

void far_jump(struct cpu *c, uint16_t sel, uint32_t off)
{
    if (cpu_pmode(c) && !cpu_v86(c)) {
        pm_far_jump(c, sel, off); /* far_transfer.c: descriptors, gates, tasks */
        return;
    }
    /* The offset is checked against the limit the CS cache will hold, before CS changes. */
    if (off > c->seg[S_CS].limit)
        cpu_fault(c, EXC_GP, 0);
    load_seg(c, S_CS, sel);
    c->eip = off;
}

void cpu_enter_flat32(struct cpu *c, uint16_t cs, uint16_t ds, uint32_t eip)
{
    /* The state the Linux 32-bit boot protocol and Multiboot hand a kernel: protected mode,
     * paging off, flat 4 GiB code and data segments, interrupts disabled, CPL 0. */
    c->cr[0] = (c->cr[0] | CR0_PE) & ~CR0_PG;
    for (int s = 0; s < S_NSEG; s++)
        c->seg[s] = (struct segreg){ ds, 0, 0xFFFFFFFFu, AR_P | AR_S | AR_DB | AR_G | 0x3 };
    c->seg[S_CS] = (struct segreg){ cs, 0, 0xFFFFFFFFu, AR_P | AR_S | AR_DB | AR_G | 0xB };
    c->cpl = 0;
    c->eflags = F_FIXED1;
    c->eip = eip;
    tlb_flush_all(&c->tlb);
}

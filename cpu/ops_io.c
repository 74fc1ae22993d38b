/* Port I/O: IN and OUT with an immediate port or DX. Intel SDM Vol. 2 IN/OUT pages; the
 * protected-mode permission check (IOPL, then the TSS I/O bitmap) per Vol. 1 §19.5. */
#include "interp.h"

/* The TSS I/O permission bitmap (SDM Vol. 1 §19.5.2): one bit per port, at the offset the 16-bit
 * field at TSS+66H gives; any set bit for the ports accessed is #GP(0). Only a 32-bit TSS has
 * one. The processor reads two bytes of the map for every access, so both must lie within the
 * TSS limit (ports past the map's end, including when the base is at or past the limit, are
 * denied: that is why the SDM asks for an all-ones byte after the map). */
static void io_bitmap_check(struct cpu *c, uint16_t port, int size)
{
    const struct segreg *tr = &c->tr;
    unsigned type = tr->ar & (AR_S | AR_TYPE);
    if (!(tr->ar & AR_P) || (type != 0x9 && type != 0xB) || tr->limit < 0x67)
        cpu_fault(c, EXC_GP, 0);
    uint32_t off = mmu_read(c, tr->base + 0x66, 2, 0) + (uint32_t)(port >> 3);
    if (off + 1 > tr->limit)
        cpu_fault(c, EXC_GP, 0);
    uint32_t map = mmu_read(c, tr->base + off, 2, 0);
    uint32_t need = ((1u << size) - 1) << (port & 7);
    if (map & need)
        cpu_fault(c, EXC_GP, 0);
}

/* Checks that the current privilege may touch [port, port + size): always in real mode, by IOPL
 * at CPL <= IOPL, else (and always in virtual-8086 mode) by the bitmap. Armed I/O breakpoints
 * (cpu/debug.c) see every IN/OUT/INS/OUTS here. */
void io_permission(struct cpu *c, uint16_t port, int size)
{
    if (__builtin_expect(c->dbg_io != 0, 0))
        debug_io_access(c, port, size);
    if (!cpu_pmode(c))
        return;
    if (!cpu_v86(c) && c->cpl <= (int)((c->eflags & F_IOPL) >> 12))
        return;
    io_bitmap_check(c, port, size);
}

/* E4/E5: port imm8; EC/ED: port DX. */
void op_in(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    uint16_t port = (in->op & 8) ? (uint16_t)c->r[R_EDX] : (uint16_t)in->imm;
    io_permission(c, port, size);
    reg_set(c, R_EAX, size, io_in(c->io, port, size));
}

/* E6/E7: port imm8; EE/EF: port DX. */
void op_out(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    uint16_t port = (in->op & 8) ? (uint16_t)c->r[R_EDX] : (uint16_t)in->imm;
    io_permission(c, port, size);
    io_out(c->io, port, size, reg_get(c, R_EAX, size));
}

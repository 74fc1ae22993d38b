/* Port I/O: IN and OUT with an immediate port or DX. Intel SDM Vol. 2 IN/OUT pages; the
 * protected-mode permission check (IOPL, then the TSS I/O bitmap) per Vol. 1 §19.5. */
#include "interp.h"

/* Checks that the current privilege may touch [port, port + size). */
void io_permission(struct cpu *c, uint16_t port, int size)
{
    (void)port;
    (void)size;
    if (!cpu_pmode(c))
        return;
    if (!cpu_v86(c) && c->cpl <= (int)((c->eflags & F_IOPL) >> 12))
        return;
    cpu_unimplemented(c, "the TSS I/O permission bitmap");
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

/* Stack instructions: PUSH/POP of registers, immediates, segment registers and memory,
 * PUSHA/POPA, PUSHF/POPF, ENTER, LEAVE. Intel SDM Vol. 2 instruction pages of each. */
#include "interp.h"

void op_push_r(struct cpu *c, const struct insn *in)
{
    /* PUSH SP pushes the value SP had before the push (286 and later). */
    push(c, in->opsize, reg_get(c, in->op & 7, in->opsize));
}

void op_pop_r(struct cpu *c, const struct insn *in)
{
    uint32_t v = pop(c, in->opsize);
    reg_set(c, in->op & 7, in->opsize, v); /* POP SP: the popped value wins over the increment */
}

/* 68: imm16/32; 6A: imm8 sign-extended. */
void op_push_imm(struct cpu *c, const struct insn *in)
{
    push(c, in->opsize, in->op == 0x6A ? sext(in->imm, 1) : in->imm);
}

static int sreg_of(uint16_t op)
{
    switch (op) {
    case 0x06: case 0x07: return S_ES;
    case 0x0E: return S_CS;
    case 0x16: case 0x17: return S_SS;
    case 0x1E: case 0x1F: return S_DS;
    case 0x1A0: case 0x1A1: return S_FS;
    default: return S_GS;
    }
}

/* With a 32-bit operand size the stack pointer moves by 4 but only the selector's word is
 * written, as P6-and-later parts do (SDM PUSH, "Operation" notes on segment registers). */
void op_push_sreg(struct cpu *c, const struct insn *in)
{
    uint16_t sel = c->seg[sreg_of(in->op)].sel;
    if (in->opsize == 2) {
        push(c, 2, sel);
        return;
    }
    uint32_t sp = sp_get(c) - 4;
    if (!stack32(c))
        sp &= 0xFFFF;
    mem_check_write(c, S_SS, sp, 4);
    mem_write(c, S_SS, sp, 2, sel);
    sp_set(c, sp);
}

void op_pop_sreg(struct cpu *c, const struct insn *in)
{
    int s = sreg_of(in->op);
    uint32_t sp = sp_get(c);
    uint16_t sel = (uint16_t)mem_read(c, S_SS, sp, in->opsize);
    load_seg(c, s, sel);
    sp_set(c, sp + in->opsize);
    if (s == S_SS)
        c->shadow = 1;
}

/* 8F /0: the address is formed after ESP has been incremented (SDM POP). */
void op_pop_rm(struct cpu *c, const struct insn *in)
{
    uint32_t sp = sp_get(c);
    uint32_t v = mem_read(c, S_SS, sp, in->opsize);
    sp_set(c, sp + in->opsize);
    if (in->mem)
        mem_write(c, in->ea_seg, ea_offset(c, in), in->opsize, v);
    else
        reg_set(c, in->rm, in->opsize, v);
}

void op_pusha(struct cpu *c, const struct insn *in)
{
    uint32_t sp = c->r[R_ESP];
    for (int r = R_EAX; r <= R_EDI; r++)
        push(c, in->opsize, r == R_ESP ? sp : c->r[r]);
}

void op_popa(struct cpu *c, const struct insn *in)
{
    for (int r = R_EDI; r >= R_EAX; r--) {
        uint32_t v = pop(c, in->opsize);
        if (r != R_ESP)
            reg_set(c, r, in->opsize, v);
    }
}

/* PUSHF clears VM and RF in the image it pushes (SDM PUSHF). In virtual-8086 mode with IOPL < 3
 * it faults, unless CR4.VME and a 16-bit operand: then IF shows VIF and IOPL shows 3 (§20.4). */
void op_pushf(struct cpu *c, const struct insn *in)
{
    if (cpu_v86(c) && (c->eflags & F_IOPL) != F_IOPL) {
        if (!(c->cr[4] & CR4_VME) || in->opsize != 2)
            cpu_fault(c, EXC_GP, 0);
        uint32_t f = (cpu_get_eflags(c) & 0xFFFF & ~F_IF) | F_IOPL | ((c->eflags & F_VIF) ? F_IF : 0);
        push(c, 2, f);
        return;
    }
    push(c, in->opsize, cpu_get_eflags(c) & ~(F_VM | F_RF));
}

/* Which EFLAGS bits POPF may change (SDM POPF, Table "Effect of POPF on EFLAGS"). */
static uint32_t popf_mask(const struct cpu *c, int size)
{
    uint32_t m = F_ARITH | F_TF | F_DF | F_NT | F_AC | F_ID | F_IF | F_IOPL;
    if (cpu_pmode(c)) {
        int iopl = (int)((c->eflags & F_IOPL) >> 12);
        if (cpu_v86(c) || c->cpl > 0)
            m &= ~F_IOPL;
        if (!cpu_v86(c) && c->cpl > iopl)
            m &= ~F_IF;
    }
    return size == 2 ? m & 0xFFFF : m;
}

void op_popf(struct cpu *c, const struct insn *in)
{
    if (cpu_v86(c) && (c->eflags & F_IOPL) != F_IOPL) {
        /* VME (SDM POPF, §20.4): a 16-bit POPF loads IF of the image into VIF, keeps IF and IOPL,
         * and faults when it would set TF or set IF with VIP pending. */
        if (!(c->cr[4] & CR4_VME) || in->opsize != 2)
            cpu_fault(c, EXC_GP, 0);
        uint32_t v = mem_read(c, S_SS, sp_get(c), 2);
        if ((v & F_TF) || ((v & F_IF) && (c->eflags & F_VIP)))
            cpu_fault(c, EXC_GP, 0);
        pop(c, 2);
        write_eflags(c, v, 0xFFFF & ~(F_IF | F_IOPL));
        set_flag(c, F_VIF, (v & F_IF) != 0);
        return;
    }
    uint32_t v = pop(c, in->opsize);
    write_eflags(c, v, popf_mask(c, in->opsize) | (in->opsize == 4 ? F_RF : 0));
    if (in->opsize == 4)
        c->eflags &= ~F_RF;
}

/* C8: ENTER imm16, imm8 (SDM ENTER "Operation"; the level is taken modulo 32). Pushes are of the
 * operand size; frame pointers move by the stack-address size. */
void op_enter(struct cpu *c, const struct insn *in)
{
    int size = in->opsize;
    uint32_t alloc = in->imm & 0xFFFF;
    int level = in->imm2 & 31;
    push(c, size, reg_get(c, R_EBP, size));
    uint32_t frame = sp_get(c);
    if (level > 0) {
        uint32_t bp = stack32(c) ? c->r[R_EBP] : c->r[R_EBP] & 0xFFFF;
        for (int i = 1; i < level; i++) {
            bp -= (uint32_t)size;
            if (!stack32(c))
                bp &= 0xFFFF;
            push(c, size, mem_read(c, S_SS, bp, size));
        }
        push(c, size, frame);
    }
    uint32_t sp = sp_get(c) - alloc;
    if (!stack32(c))
        sp &= 0xFFFF;
    /* The new stack top must be writable: the P6 probes it, so a frame that runs off the stack
     * segment or onto an absent page faults here rather than at the first local access. */
    if (alloc)
        mem_check_write(c, S_SS, sp, size);
    reg_set(c, R_EBP, size, frame);
    sp_set(c, sp);
}

/* C9: LEAVE. */
void op_leave(struct cpu *c, const struct insn *in)
{
    uint32_t bp = stack32(c) ? c->r[R_EBP] : c->r[R_EBP] & 0xFFFF;
    uint32_t v = mem_read(c, S_SS, bp, in->opsize);
    sp_set(c, bp + in->opsize);
    reg_set(c, R_EBP, in->opsize, v);
}

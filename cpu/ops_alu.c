/* Two-operand arithmetic and logic (ADD OR ADC SBB AND SUB XOR CMP), INC/DEC, NOT, NEG, TEST.
 * Intel SDM Vol. 2A/2B instruction pages; flags per Appendix A. */
#include "interp.h"

/* op 0..7 = ADD OR ADC SBB AND SUB XOR CMP, as in the opcode's bits 5:3 and group 1's reg field. */
static uint32_t alu_op(struct cpu *c, int op, uint32_t a, uint32_t b, int size)
{
    switch (op) {
    case 0: return alu_add(c, a, b, 0, size);
    case 1: return alu_logic(c, a | b, size);
    case 2: return alu_add(c, a, b, c->eflags & F_CF, size);
    case 3: return alu_sub(c, a, b, c->eflags & F_CF, size);
    case 4: return alu_logic(c, a & b, size);
    case 5: return alu_sub(c, a, b, 0, size);
    case 6: return alu_logic(c, a ^ b, size);
    default: return alu_sub(c, a, b, 0, size);
    }
}

/* 00-3D: the low three bits pick Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev / AL,Ib / eAX,Iv. */
void op_alu(struct cpu *c, const struct insn *in)
{
    int op = (in->op >> 3) & 7;
    int form = in->op & 7;
    int size = (form & 1) ? in->opsize : 1;
    uint32_t a, b, r;
    switch (form) {
    case 0:
    case 1:
        a = rm_get(c, in, size);
        b = reg_get(c, in->reg, size);
        r = alu_op(c, op, a, b, size);
        if (op != 7)
            rm_set(c, in, size, r);
        break;
    case 2:
    case 3:
        a = reg_get(c, in->reg, size);
        b = rm_get(c, in, size);
        r = alu_op(c, op, a, b, size);
        if (op != 7)
            reg_set(c, in->reg, size, r);
        break;
    default:
        a = reg_get(c, R_EAX, size);
        r = alu_op(c, op, a, in->imm, size);
        if (op != 7)
            reg_set(c, R_EAX, size, r);
        break;
    }
}

/* 80-83: Eb,Ib / Ev,Iv / Eb,Ib (alias) / Ev,Ib sign-extended. */
void op_alu_grp1(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    uint32_t imm = in->op == 0x83 ? sext(in->imm, 1) : in->imm;
    uint32_t a = rm_get(c, in, size);
    uint32_t r = alu_op(c, in->reg, a, imm, size);
    if (in->reg != 7)
        rm_set(c, in, size, r);
}

/* INC and DEC leave CF alone (SDM INC/DEC pages). */
static uint32_t inc_dec(struct cpu *c, uint32_t v, int dec, int size)
{
    uint32_t cf = c->eflags & F_CF;
    uint32_t r = dec ? alu_sub(c, v, 1, 0, size) : alu_add(c, v, 1, 0, size);
    c->eflags = (c->eflags & ~F_CF) | cf;
    return r;
}

/* 40-4F: INC/DEC r16/r32. */
void op_inc_dec_r(struct cpu *c, const struct insn *in)
{
    int r = in->op & 7;
    reg_set(c, r, in->opsize, inc_dec(c, reg_get(c, r, in->opsize), in->op & 8, in->opsize));
}

/* FE /0-1, FF /0-1. */
void op_inc_dec_rm(struct cpu *c, const struct insn *in)
{
    int size = in->op == 0xFE ? 1 : in->opsize;
    rm_set(c, in, size, inc_dec(c, rm_get(c, in, size), in->reg & 1, size));
}

void op_not(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    rm_set(c, in, size, ~rm_get(c, in, size)); /* no flags change */
}

/* NEG: CF is set unless the operand is zero (SDM NEG page). */
void op_neg(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    rm_set(c, in, size, alu_sub(c, 0, rm_get(c, in, size), 0, size));
}

/* 84/85 (Eb,Gb / Ev,Gv), A8/A9 (AL/eAX, imm), F6/F7 /0-1 (E, imm). */
void op_test(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    uint32_t a, b;
    if (in->op == 0x84 || in->op == 0x85) {
        a = rm_get(c, in, size);
        b = reg_get(c, in->reg, size);
    } else if (in->op == 0xA8 || in->op == 0xA9) {
        a = reg_get(c, R_EAX, size);
        b = in->imm;
    } else {
        a = rm_get(c, in, size);
        b = in->imm;
    }
    alu_logic(c, a & b, size);
}

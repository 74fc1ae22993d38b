/* Data movement and the small instructions around it: MOV (all forms), LEA, XCHG, MOVZX/MOVSX,
 * CMOVcc, SETcc, BSWAP, XLAT, CBW/CWD families, LAHF/SAHF, SALC, LDS/LES/LSS/LFS/LGS, CMPXCHG,
 * CMPXCHG8B, XADD, the flag-setting one-byte opcodes, NOP. Intel SDM Vol. 2 instruction pages. */
#include "interp.h"

/* 88-8B: Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev. */
void op_mov(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    if (in->op & 2)
        reg_set(c, in->reg, size, rm_get(c, in, size));
    else
        rm_set(c, in, size, reg_get(c, in->reg, size));
}

/* B0-B7: r8, imm8; B8-BF: r16/32, imm. */
void op_mov_imm_r(struct cpu *c, const struct insn *in)
{
    reg_set(c, in->op & 7, in->op < 0xB8 ? 1 : in->opsize, in->imm);
}

/* C6/C7 /0. */
void op_mov_imm_rm(struct cpu *c, const struct insn *in)
{
    rm_set(c, in, in->op == 0xC6 ? 1 : in->opsize, in->imm);
}

/* A0-A3: AL/eAX to and from a direct offset. */
void op_mov_moffs(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    if (in->op & 2)
        mem_write(c, in->ea_seg, c->ea, size, reg_get(c, R_EAX, size));
    else
        reg_set(c, R_EAX, size, mem_read(c, in->ea_seg, c->ea, size));
}

/* 8C: MOV Ew, Sreg; 8E: MOV Sreg, Ew (SDM MOV page: CS is not a legal destination; a register
 * destination of 32-bit size gets the selector zero-extended on P6-family processors). */
void op_mov_sreg(struct cpu *c, const struct insn *in)
{
    if (in->reg >= S_NSEG)
        cpu_fault(c, EXC_UD, 0);
    if (in->op == 0x8C) {
        uint32_t sel = c->seg[in->reg].sel;
        if (in->mem)
            mem_write(c, in->ea_seg, c->ea, 2, sel);
        else
            reg_set(c, in->rm, in->opsize, sel);
        return;
    }
    if (in->reg == S_CS)
        cpu_fault(c, EXC_UD, 0);
    load_seg(c, in->reg, (uint16_t)rm_get(c, in, 2));
    if (in->reg == S_SS)
        c->shadow = 1; /* the next instruction (normally a MOV to SP) runs before any interrupt */
}

void op_lea(struct cpu *c, const struct insn *in)
{
    reg_set(c, in->reg, in->opsize, c->ea);
}

/* 86/87: XCHG with r/m (locked implicitly on memory). */
void op_xchg(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    uint32_t a = rm_get(c, in, size);
    uint32_t b = reg_get(c, in->reg, size);
    rm_set(c, in, size, b);
    reg_set(c, in->reg, size, a);
}

/* 90-97: XCHG eAX, r (90 is NOP). */
void op_xchg_ax(struct cpu *c, const struct insn *in)
{
    int r = in->op & 7;
    uint32_t a = reg_get(c, R_EAX, in->opsize);
    reg_set(c, R_EAX, in->opsize, reg_get(c, r, in->opsize));
    reg_set(c, r, in->opsize, a);
}

/* 0F B6/B7. */
void op_movzx(struct cpu *c, const struct insn *in)
{
    reg_set(c, in->reg, in->opsize, rm_get(c, in, (in->op & 1) ? 2 : 1));
}

/* 0F BE/BF. */
void op_movsx(struct cpu *c, const struct insn *in)
{
    int src = (in->op & 1) ? 2 : 1;
    reg_set(c, in->reg, in->opsize, sext(rm_get(c, in, src), src));
}

/* 0F 40-4F: the source is read (and may fault) whatever the condition. */
void op_cmov(struct cpu *c, const struct insn *in)
{
    uint32_t v = rm_get(c, in, in->opsize);
    if (cond_true(c, in->op & 0xF))
        reg_set(c, in->reg, in->opsize, v);
}

/* 0F 90-9F. */
void op_setcc(struct cpu *c, const struct insn *in)
{
    rm_set(c, in, 1, (uint32_t)cond_true(c, in->op & 0xF));
}

/* 0F C8-CF. With a 16-bit operand the result is undefined; P6-family parts clear the low word. */
void op_bswap(struct cpu *c, const struct insn *in)
{
    int r = in->op & 7;
    if (in->opsize == 2) {
        reg_set(c, r, 2, 0);
        return;
    }
    c->r[r] = __builtin_bswap32(c->r[r]);
}

/* D7: AL = [seg:(E)BX + AL]. */
void op_xlat(struct cpu *c, const struct insn *in)
{
    uint32_t off = c->r[R_EBX] + (c->r[R_EAX] & 0xFF);
    if (!in->addr32)
        off &= 0xFFFF;
    reg_set(c, R_EAX, 1, mem_read(c, in->ea_seg, off, 1));
}

/* 98: CBW / CWDE. */
void op_cbw(struct cpu *c, const struct insn *in)
{
    if (in->opsize == 2)
        reg_set(c, R_EAX, 2, sext(c->r[R_EAX], 1));
    else
        c->r[R_EAX] = sext(c->r[R_EAX], 2);
}

/* 99: CWD / CDQ. */
void op_cwd(struct cpu *c, const struct insn *in)
{
    uint32_t sign = reg_get(c, R_EAX, in->opsize) & sign_bit(in->opsize);
    reg_set(c, R_EDX, in->opsize, sign ? 0xFFFFFFFFu : 0);
}

/* 9F: AH = SF:ZF:0:AF:0:PF:1:CF. */
void op_lahf(struct cpu *c, const struct insn *in)
{
    (void)in;
    reg_set(c, 4 /* AH */, 1, (c->eflags & (F_SF | F_ZF | F_AF | F_PF | F_CF)) | F_FIXED1);
}

/* 9E: SF ZF AF PF CF from AH. */
void op_sahf(struct cpu *c, const struct insn *in)
{
    (void)in;
    uint32_t m = F_SF | F_ZF | F_AF | F_PF | F_CF;
    c->eflags = (c->eflags & ~m) | (reg_get(c, 4, 1) & m);
}

/* D6 (undocumented SALC): AL = CF ? FF : 00, no flags change. */
void op_salc(struct cpu *c, const struct insn *in)
{
    (void)in;
    reg_set(c, R_EAX, 1, (c->eflags & F_CF) ? 0xFF : 0);
}

/* C4 LES, C5 LDS, 0F B2 LSS, 0F B4 LFS, 0F B5 LGS: offset then selector from memory. */
void op_load_far_ptr(struct cpu *c, const struct insn *in)
{
    int s;
    switch (in->op) {
    case 0xC4: s = S_ES; break;
    case 0xC5: s = S_DS; break;
    case 0x1B2: s = S_SS; break;
    case 0x1B4: s = S_FS; break;
    default: s = S_GS; break;
    }
    uint32_t off = mem_read(c, in->ea_seg, c->ea, in->opsize);
    uint16_t sel = (uint16_t)mem_read(c, in->ea_seg, c->ea + in->opsize, 2);
    reg_set(c, in->reg, in->opsize, off);
    load_seg(c, s, sel); /* last: a fault here puts the register back through the snapshot */
}

/* 0F B0/B1: compare the accumulator with the destination (SDM CMPXCHG: the destination is
 * written in both cases, with its own value when the comparison fails). */
void op_cmpxchg(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    uint32_t dst = rm_get(c, in, size);
    uint32_t acc = reg_get(c, R_EAX, size);
    alu_sub(c, acc, dst, 0, size);
    if (c->eflags & F_ZF) {
        rm_set(c, in, size, reg_get(c, in->reg, size));
    } else {
        rm_set(c, in, size, dst);
        reg_set(c, R_EAX, size, dst);
    }
}

/* 0F C7 /1: compare EDX:EAX with m64; only ZF changes. */
void op_cmpxchg8b(struct cpu *c, const struct insn *in)
{
    uint32_t lo = mem_read(c, in->ea_seg, c->ea, 4);
    uint32_t hi = mem_read(c, in->ea_seg, c->ea + 4, 4);
    if (lo == c->r[R_EAX] && hi == c->r[R_EDX]) {
        mem_check_write(c, in->ea_seg, c->ea, 8);
        mem_write(c, in->ea_seg, c->ea, 4, c->r[R_EBX]);
        mem_write(c, in->ea_seg, c->ea + 4, 4, c->r[R_ECX]);
        c->eflags |= F_ZF;
    } else {
        mem_check_write(c, in->ea_seg, c->ea, 8);
        mem_write(c, in->ea_seg, c->ea, 4, lo);
        mem_write(c, in->ea_seg, c->ea + 4, 4, hi);
        c->r[R_EAX] = lo;
        c->r[R_EDX] = hi;
        c->eflags &= ~F_ZF;
    }
}

/* 0F C0/C1: exchange and add; with both operands the same register the sum wins. */
void op_xadd(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    uint32_t dst = rm_get(c, in, size);
    uint32_t src = reg_get(c, in->reg, size);
    uint32_t sum = alu_add(c, dst, src, 0, size);
    if (in->mem)
        mem_check_write(c, in->ea_seg, c->ea, size);
    reg_set(c, in->reg, size, dst);
    rm_set(c, in, size, sum);
}

/* F5 CMC, F8 CLC, F9 STC, FA CLI, FB STI, FC CLD, FD STD. */
void op_flag_op(struct cpu *c, const struct insn *in)
{
    switch (in->op) {
    case 0xF5: c->eflags ^= F_CF; break;
    case 0xF8: c->eflags &= ~F_CF; break;
    case 0xF9: c->eflags |= F_CF; break;
    /* CLI/STI act on IF when IOPL allows, else on VIF under VME/PVI, else #GP(0) (v86.c). */
    case 0xFA: c->eflags &= ~cli_sti_flag(c, 0); break;
    case 0xFB: {
        uint32_t f = cli_sti_flag(c, 1);
        if (f == F_IF && !(c->eflags & F_IF))
            c->shadow = 1; /* interrupts wait until after the next instruction */
        c->eflags |= f;
        break;
    }
    case 0xFC: c->eflags &= ~F_DF; break;
    default: c->eflags |= F_DF; break;
    }
}

/* 0F 18-1F: hint NOPs with a ModRM operand that is decoded but never accessed. */
void op_nop(struct cpu *c, const struct insn *in)
{
    (void)c;
    (void)in;
}

/* Control transfer: Jcc, JMP, CALL, RET (near and far), LOOP family, JCXZ, INT n/INT3/INTO/INT1,
 * IRET, BOUND, and the FF group's indirect forms. Intel SDM Vol. 2 instruction pages. */
#include "interp.h"

void op_jcc(struct cpu *c, const struct insn *in)
{
    if (cond_true(c, in->op & 0xF))
        jump_to(c, c->eip + in->imm, in->opsize);
}

/* E9 / EB. */
void op_jmp_rel(struct cpu *c, const struct insn *in)
{
    jump_to(c, c->eip + in->imm, in->opsize);
}

/* E8: the target is checked before anything is pushed. */
void op_call_rel(struct cpu *c, const struct insn *in)
{
    uint32_t ret = c->eip;
    jump_to(c, c->eip + in->imm, in->opsize);
    push(c, in->opsize, ret);
}

/* EA ptr16:16/32. */
void op_jmp_far(struct cpu *c, const struct insn *in)
{
    far_jump(c, (uint16_t)in->imm2, in->imm);
}

static void call_far(struct cpu *c, const struct insn *in, uint16_t sel, uint32_t off)
{
    if (cpu_pmode(c) && !cpu_v86(c)) {
        pm_far_call(c, sel, off, in->opsize); /* far_transfer.c: checks, gates, tasks */
        return;
    }
    uint16_t old_cs = c->seg[S_CS].sel;
    uint32_t ret = c->eip;
    push(c, in->opsize, old_cs);
    push(c, in->opsize, ret);
    far_jump(c, sel, off);
}

/* 9A ptr16:16/32. */
void op_call_far(struct cpu *c, const struct insn *in)
{
    call_far(c, in, (uint16_t)in->imm2, in->imm);
}

/* C2 imm16 / C3. */
void op_ret(struct cpu *c, const struct insn *in)
{
    uint32_t ip = pop(c, in->opsize);
    jump_to(c, ip, in->opsize);
    if (in->op == 0xC2)
        sp_set(c, sp_get(c) + (in->imm & 0xFFFF));
}

/* CA imm16 / CB. */
void op_retf(struct cpu *c, const struct insn *in)
{
    if (cpu_pmode(c) && !cpu_v86(c)) {
        pm_far_ret(c, in->opsize, in->op == 0xCA ? (in->imm & 0xFFFF) : 0);
        return;
    }
    uint32_t sp = sp_get(c);
    uint32_t ip = mem_read(c, S_SS, sp, in->opsize);
    uint16_t cs = (uint16_t)mem_read(c, S_SS, (sp + in->opsize) & (stack32(c) ? 0xFFFFFFFFu : 0xFFFF), 2);
    far_jump(c, cs, ip & size_mask(in->opsize));
    sp_set(c, sp + 2u * in->opsize + (in->op == 0xCA ? (in->imm & 0xFFFF) : 0));
}

/* The count register is CX or ECX by address size (SDM LOOP/JCXZ). */
static uint32_t count_get(const struct cpu *c, const struct insn *in)
{
    return in->addr32 ? c->r[R_ECX] : c->r[R_ECX] & 0xFFFF;
}

/* E0 LOOPNE, E1 LOOPE, E2 LOOP. */
void op_loop(struct cpu *c, const struct insn *in)
{
    uint32_t n = count_get(c, in) - 1;
    reg_set(c, R_ECX, in->addr32 ? 4 : 2, n);
    if (!in->addr32)
        n &= 0xFFFF;
    int take = n != 0;
    if (in->op == 0xE0)
        take = take && !(c->eflags & F_ZF);
    else if (in->op == 0xE1)
        take = take && (c->eflags & F_ZF);
    if (take)
        jump_to(c, c->eip + in->imm, in->opsize);
}

void op_jcxz(struct cpu *c, const struct insn *in)
{
    if (count_get(c, in) == 0)
        jump_to(c, c->eip + in->imm, in->opsize);
}

/* INT n: in virtual-8086 mode IOPL and CR4.VME decide between the IDT, the monitor's #GP(0) and
 * redirection through the 8086 IVT (SDM Vol. 3A §20.3, Table 20-2; v86.c). */
void op_int(struct cpu *c, const struct insn *in)
{
    if (cpu_v86(c) && v86_soft_int(c, in->imm & 0xFF))
        return;
    cpu_interrupt(c, in->imm & 0xFF, c->eip, 0, 0, 1);
}

void op_int3(struct cpu *c, const struct insn *in)
{
    (void)in;
    cpu_interrupt(c, EXC_BP, c->eip, 0, 0, 1);
}

void op_into(struct cpu *c, const struct insn *in)
{
    (void)in;
    if (c->eflags & F_OF)
        cpu_interrupt(c, EXC_OF, c->eip, 0, 0, 1);
}

/* F1 (ICEBP): a #DB trap that, unlike INT 1, ignores IOPL and gate DPL. */
void op_int1(struct cpu *c, const struct insn *in)
{
    (void)in;
    cpu_interrupt(c, EXC_DB, c->eip, 0, 0, 0);
}

/* CF: real-mode IRET pops IP, CS and FLAGS of the operand size (SDM IRET, real-address mode). */
void op_iret(struct cpu *c, const struct insn *in)
{
    if (cpu_pmode(c)) {
        pm_iret(c, in->opsize); /* far_transfer.c, v86.c */
        return;
    }
    int size = in->opsize;
    uint32_t sp = sp_get(c);
    uint32_t m = stack32(c) ? 0xFFFFFFFFu : 0xFFFF;
    uint32_t ip = mem_read(c, S_SS, sp, size);
    uint16_t cs = (uint16_t)mem_read(c, S_SS, (sp + size) & m, 2);
    uint32_t fl = mem_read(c, S_SS, (sp + 2u * size) & m, size);
    uint32_t mask = size == 4 ? 0x257FD5u : 0xFFFF; /* VM, VIP, VIF keep their values */
    far_jump(c, cs, ip);
    write_eflags(c, fl, mask);
    sp_set(c, sp + 3u * size);
}

/* 62: BOUND r, m: #BR when the signed index is outside [lower, upper]. */
void op_bound(struct cpu *c, const struct insn *in)
{
    int size = in->opsize;
    int32_t lo = (int32_t)sext(mem_read(c, in->ea_seg, c->ea, size), size);
    int32_t hi = (int32_t)sext(mem_read(c, in->ea_seg, c->ea + size, size), size);
    int32_t v = (int32_t)sext(reg_get(c, in->reg, size), size);
    if (v < lo || v > hi)
        cpu_fault(c, EXC_BR, 0);
}

/* FF /2 CALL Ev, /3 CALL Mp, /4 JMP Ev, /5 JMP Mp, /6 PUSH Ev. */
void op_grp5(struct cpu *c, const struct insn *in)
{
    int size = in->opsize;
    switch (in->reg) {
    case 2: {
        uint32_t target = rm_get(c, in, size);
        uint32_t ret = c->eip;
        jump_to(c, target, size);
        push(c, size, ret);
        break;
    }
    case 4:
        jump_to(c, rm_get(c, in, size), size);
        break;
    case 3:
    case 5: {
        uint32_t off = mem_read(c, in->ea_seg, c->ea, size);
        uint16_t sel = (uint16_t)mem_read(c, in->ea_seg, c->ea + size, 2);
        if (in->reg == 3)
            call_far(c, in, sel, off);
        else
            far_jump(c, sel, off);
        break;
    }
    default:
        push(c, size, rm_get(c, in, size));
        break;
    }
}

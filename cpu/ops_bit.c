/* Bit test and scan: BT, BTS, BTR, BTC (register or immediate bit offset) and BSF, BSR.
 * Intel SDM Vol. 2A BT/BTC/BTR/BTS and BSF/BSR pages; bit-string addressing per Vol. 1 §3.5.2.
 * Undefined flags: sandpile.org's table of undefined-flag behaviour lists none of them as a fixed
 * value on the P6 core, so jitpc leaves every flag these instructions do not define unchanged. */
#include "interp.h"

/* The operation: bits 4:3 of the register-offset opcodes (0F A3/AB/B3/BB), or the group-8 reg
 * field minus 4 for the immediate forms (0F BA /4-7). */
enum { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

/* Applies op to bit `bit` of v, sets CF to the bit's old value and says whether v must be written
 * back. ZF is left alone as the SDM specifies; OF SF AF PF are undefined and kept. */
static int bit_apply(struct cpu *c, int op, uint32_t *v, unsigned bit)
{
    uint32_t m = 1u << bit;
    set_flag(c, F_CF, (*v & m) != 0);
    switch (op) {
    case BT_SET: *v |= m; return 1;
    case BT_RESET: *v &= ~m; return 1;
    case BT_COMPLEMENT: *v ^= m; return 1;
    default: return 0;
    }
}

/* A fault on the write-back leaves nothing changed: cpu_fault restores CF with the registers. */
static void bit_op_mem(struct cpu *c, const struct insn *in, int op, uint32_t off, unsigned bit)
{
    uint32_t v = mem_read(c, in->ea_seg, off, in->opsize);
    if (bit_apply(c, op, &v, bit))
        mem_write(c, in->ea_seg, off, in->opsize, v);
}

static void bit_op_reg(struct cpu *c, const struct insn *in, int op, unsigned bit)
{
    uint32_t v = reg_get(c, in->rm, in->opsize);
    if (bit_apply(c, op, &v, bit))
        reg_set(c, in->rm, in->opsize, v);
}

/* 0F A3/AB/B3/BB: Ev,Gv. With a memory operand the register offset is a signed bit index into a
 * bit string starting at the operand, so it can address memory well outside (even below) it. */
void op_bt(struct cpu *c, const struct insn *in)
{
    int op = (in->op >> 3) & 3;
    int size = in->opsize;
    unsigned width = (unsigned)size * 8;
    uint32_t raw = reg_get(c, in->reg, size);
    if (!in->mem) {
        bit_op_reg(c, in, op, raw & (width - 1));
        return;
    }
    int32_t offset = (int32_t)sext(raw, size);
    int32_t units = size == 2 ? offset >> 4 : offset >> 5; /* arithmetic: floor division */
    uint32_t off = c->ea + (uint32_t)units * (uint32_t)size;
    if (!in->addr32)
        off &= 0xFFFF;
    bit_op_mem(c, in, op, off, (uint32_t)offset & (width - 1));
}

/* 0F BA /4-7 Ev,Ib: the immediate is taken modulo the operand width, memory or register. */
void op_bt_imm(struct cpu *c, const struct insn *in)
{
    int op = in->reg - 4;
    unsigned bit = in->imm & ((unsigned)in->opsize * 8 - 1);
    if (in->mem)
        bit_op_mem(c, in, op, c->ea, bit);
    else
        bit_op_reg(c, in, op, bit);
}

/* 0F BC/BD Gv,Ev. A zero source sets ZF and leaves the destination as it was: the SDM calls the
 * destination undefined, but P6 and later parts do not write it (and AMD documents exactly that),
 * and software relies on it. CF OF SF AF PF are undefined and kept. */
static void bit_scan(struct cpu *c, const struct insn *in, int reverse)
{
    uint32_t src = rm_get(c, in, in->opsize);
    if (src == 0) {
        set_flag(c, F_ZF, 1);
        return;
    }
    set_flag(c, F_ZF, 0);
    uint32_t idx = reverse ? 31u - (uint32_t)__builtin_clz(src) : (uint32_t)__builtin_ctz(src);
    reg_set(c, in->reg, in->opsize, idx);
}

void op_bsf(struct cpu *c, const struct insn *in)
{
    bit_scan(c, in, 0);
}

void op_bsr(struct cpu *c, const struct insn *in)
{
    bit_scan(c, in, 1);
}

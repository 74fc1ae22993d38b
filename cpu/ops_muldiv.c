/* Integer multiply and divide: MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV.
 * Intel SDM Vol. 2A/2B MUL, IMUL, DIV, IDIV pages; #DE per Vol. 3A §6.15 (interrupt 0, a fault).
 *
 * Undefined flags. Sandpile's flag survey lists SF ZF AF PF after (I)MUL and all six after (I)DIV
 * as "U" on the P6 core (no stable pattern), so there is no P6 behaviour to copy. We choose:
 *  - MUL/IMUL: SF ZF PF from the low half of the product (the destination for the two- and
 *    three-operand forms), AF cleared: the pattern sandpile records for the P4 core. (A current
 *    Intel core run natively agrees on SF, PF and AF but always clears ZF.)
 *  - DIV/IDIV: all six arithmetic flags unchanged, as a current Intel core does natively.
 * A JIT checked against this interpreter must reproduce exactly these choices. */
#include "interp.h"

/* Flags of every multiply form: CF=OF=overflow, then the documented choice for SF ZF PF AF. */
static void mul_flags(struct cpu *c, uint32_t low, int overflow, int size)
{
    uint32_t f = szp(low, size);
    if (overflow)
        f |= F_CF | F_OF;
    c->eflags = (c->eflags & ~F_ARITH) | f;
}

static int grp3_size(const struct insn *in)
{
    return in->op == 0xF6 ? 1 : in->opsize;
}

/* Writes a double-width product (or dividend-sized pair) to AX / DX:AX / EDX:EAX. */
static void put_pair(struct cpu *c, int size, uint32_t low, uint32_t high)
{
    if (size == 1) {
        reg_set(c, R_EAX, 2, (low & 0xFF) | ((high & 0xFF) << 8));
    } else {
        reg_set(c, R_EAX, size, low);
        reg_set(c, R_EDX, size, high);
    }
}

/* The implicit double-width dividend: AX, DX:AX or EDX:EAX, as an unsigned 2n-bit value. */
static uint64_t get_dividend(const struct cpu *c, int size)
{
    if (size == 1)
        return reg_get(c, R_EAX, 2);
    return ((uint64_t)reg_get(c, R_EDX, size) << (size * 8)) | reg_get(c, R_EAX, size);
}

/* F6/F7 /4: unsigned AL/AX/EAX * r/m. CF=OF=1 when the high half is nonzero. */
void op_mul(struct cpu *c, const struct insn *in)
{
    int size = grp3_size(in);
    int bits = size * 8;
    uint64_t p = (uint64_t)reg_get(c, R_EAX, size) * rm_get(c, in, size);
    uint32_t low = (uint32_t)p & size_mask(size);
    uint32_t high = (uint32_t)(p >> bits) & size_mask(size);
    put_pair(c, size, low, high);
    mul_flags(c, low, high != 0, size);
}

/* Signed product of two sign-extended n-bit values, as a 64-bit two's-complement pattern.
 * Done in unsigned arithmetic: the 32x32 case can reach 2^62 and must not be signed overflow. */
static uint64_t smul(uint32_t a, uint32_t b, int size)
{
    uint64_t x = (uint64_t)(int64_t)(int32_t)sext(a, size);
    uint64_t y = (uint64_t)(int64_t)(int32_t)sext(b, size);
    return x * y;
}

/* Whether a signed product p does not survive truncation to size (CF/OF of every IMUL form). */
static int smul_overflows(uint64_t p, int size)
{
    uint32_t low = (uint32_t)p & size_mask(size);
    return (uint64_t)(int64_t)(int32_t)sext(low, size) != p;
}

/* F6/F7 /5: signed AL/AX/EAX * r/m into AX, DX:AX or EDX:EAX. */
void op_imul1(struct cpu *c, const struct insn *in)
{
    int size = grp3_size(in);
    uint64_t p = smul(reg_get(c, R_EAX, size), rm_get(c, in, size), size);
    uint32_t low = (uint32_t)p & size_mask(size);
    put_pair(c, size, low, (uint32_t)(p >> (size * 8)));
    mul_flags(c, low, smul_overflows(p, size), size);
}

/* Two- and three-operand IMUL: the product is truncated to the operand size. */
static void imul_trunc(struct cpu *c, int dst, uint32_t a, uint32_t b, int size)
{
    uint64_t p = smul(a, b, size);
    uint32_t low = (uint32_t)p & size_mask(size);
    reg_set(c, dst, size, low);
    mul_flags(c, low, smul_overflows(p, size), size);
}

/* 0F AF: IMUL Gv,Ev. */
void op_imul_rm(struct cpu *c, const struct insn *in)
{
    int size = in->opsize;
    imul_trunc(c, in->reg, reg_get(c, in->reg, size), rm_get(c, in, size), size);
}

/* 69: IMUL Gv,Ev,Iv; 6B: IMUL Gv,Ev,Ib with the byte sign-extended to the operand size. */
void op_imul_imm(struct cpu *c, const struct insn *in)
{
    int size = in->opsize;
    uint32_t imm = in->op == 0x6B ? sext(in->imm, 1) : in->imm;
    imul_trunc(c, in->reg, rm_get(c, in, size), imm, size);
}

/* F6/F7 /6: unsigned AX / DX:AX / EDX:EAX by r/m. #DE on a zero divisor or a quotient wider
 * than the operand size (SDM DIV page); the registers are then left as they were. */
void op_div(struct cpu *c, const struct insn *in)
{
    int size = grp3_size(in);
    uint64_t divisor = rm_get(c, in, size);
    if (divisor == 0)
        cpu_fault(c, EXC_DE, 0);
    uint64_t dividend = get_dividend(c, size);
    uint64_t q = dividend / divisor;
    if (q > size_mask(size))
        cpu_fault(c, EXC_DE, 0);
    put_pair(c, size, (uint32_t)q, (uint32_t)(dividend % divisor));
}

/* F6/F7 /7: signed division, quotient truncated toward zero, remainder with the dividend's sign.
 * #DE when the divisor is zero or the quotient lies outside [-2^(n-1), 2^(n-1)-1] (SDM IDIV page:
 * -128 for a byte is a legal quotient on 286 and later). Worked on magnitudes, in unsigned
 * arithmetic, so that -2^63 / -1 cannot overflow in C. */
void op_idiv(struct cpu *c, const struct insn *in)
{
    int size = grp3_size(in);
    int bits = size * 8;
    uint32_t d = rm_get(c, in, size);
    if (d == 0)
        cpu_fault(c, EXC_DE, 0);
    uint64_t n = get_dividend(c, size);
    int n_neg = (n >> (2 * bits - 1)) & 1;
    int d_neg = (d & sign_bit(size)) != 0;
    /* Magnitudes: a 2n-bit dividend of -2^(2n-1) has magnitude 2^(2n-1), which still fits. */
    uint64_t wide_mask = bits == 32 ? ~0ull : (1ull << (2 * bits)) - 1;
    uint64_t n_mag = n_neg ? (0 - n) & wide_mask : n;
    uint64_t d_mag = d_neg ? (0u - d) & size_mask(size) : d;
    uint64_t q_mag = n_mag / d_mag;
    uint64_t r_mag = n_mag % d_mag;
    uint64_t limit = (uint64_t)sign_bit(size) - ((n_neg ^ d_neg) ? 0 : 1);
    if (q_mag > limit)
        cpu_fault(c, EXC_DE, 0);
    uint32_t q = (uint32_t)((n_neg ^ d_neg) ? 0 - q_mag : q_mag);
    uint32_t r = (uint32_t)(n_neg ? 0 - r_mag : r_mag);
    put_pair(c, size, q, r);
}

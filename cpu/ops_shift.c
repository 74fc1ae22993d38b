/* Shifts and rotates: group 2 (ROL ROR RCL RCR SHL SHR SAL SAR) and the double shifts SHLD/SHRD.
 * Intel SDM Vol. 2B "RCL/RCR/ROL/ROR", "SAL/SAR/SHL/SHR", "SHLD", "SHRD" (Operation sections).
 *
 * Choices where the SDM leaves flags or results undefined (a JIT must match them exactly):
 *  - The count is masked to 5 bits for every operand size; a masked count of 0 changes nothing.
 *  - OF is defined only for 1-bit shifts; for other counts we apply the same 1-bit formula to the
 *    final result (ROL, RCL, SHL, SHLD: MSB(res) ^ CF; ROR, RCR, SHR, SHRD: MSB(res) ^ MSB-1(res);
 *    SAR: 0). Sandpile's flag survey marks this OF "U" (no stable pattern) on the P6 core, so the
 *    choice is ours. Note: a current Intel core, run natively, instead gives the OF of the first
 *    1-bit step (computed from the original operand); switching would change only these lines.
 *  - SHL/SHR/SAR with a count beyond the operand width: the SDM's bit-at-a-time loop, i.e. CF is 0
 *    for SHL/SHR once every original bit is gone, and the sign bit for SAR.
 *  - AF after shifts and double shifts: cleared (as sandpile records for the P4, and as a current
 *    Intel core does; P6 is "U").
 *  - SHLD/SHRD with a 16-bit operand and a count of 17-31: shifted as the 48-bit concatenation
 *    dest:src:dest, so bits of dest come back in after those of src; CF is the last bit shifted
 *    out of that value. Result, CF, SF, ZF and PF match a current Intel core run natively. */
#include "interp.h"

/* MSB and the bit below it of an n-bit result, as 0/1. */
static uint32_t msb(uint32_t v, int size) { return (v >> (size * 8 - 1)) & 1; }
static uint32_t msb1(uint32_t v, int size) { return (v >> (size * 8 - 2)) & 1; }

/* Rotates change only CF and OF. */
static void set_cf_of(struct cpu *c, uint32_t cf, uint32_t of)
{
    c->eflags = (c->eflags & ~(F_CF | F_OF)) | (cf ? F_CF : 0) | (of ? F_OF : 0);
}

/* Shifts set SF ZF PF from the result, CF and OF as computed, and clear AF. */
static void set_shift_flags(struct cpu *c, uint32_t res, int size, uint32_t cf, uint32_t of)
{
    c->eflags = (c->eflags & ~F_ARITH) | szp(res, size) | (cf ? F_CF : 0) | (of ? F_OF : 0);
}

/* One group-2 operation on v (already masked to size) by count (already masked to 1-31). */
static uint32_t shift_op(struct cpu *c, int op, uint32_t v, unsigned count, int size)
{
    unsigned n = (unsigned)size * 8;
    uint32_t m = size_mask(size);
    uint32_t res, cf;
    switch (op) {
    case 0: { /* ROL: the result rotates by count mod n, but CF/OF update for any nonzero count */
        unsigned k = count & (n - 1);
        res = k ? ((v << k) | (v >> (n - k))) & m : v;
        cf = res & 1;
        set_cf_of(c, cf, msb(res, size) ^ cf);
        return res;
    }
    case 1: { /* ROR */
        unsigned k = count & (n - 1);
        res = k ? ((v >> k) | (v << (n - k))) & m : v;
        cf = msb(res, size);
        set_cf_of(c, cf, msb(res, size) ^ msb1(res, size));
        return res;
    }
    case 2:
    case 3: { /* RCL/RCR: an (n+1)-bit rotate of CF:v, by count mod 9 / 17 / 33 */
        unsigned w = n + 1;
        unsigned k = count % w;
        uint64_t wm = (1ull << w) - 1;
        uint64_t x = ((uint64_t)(c->eflags & F_CF) << n) | v;
        if (k)
            x = op == 2 ? ((x << k) | (x >> (w - k))) & wm : ((x >> k) | (x << (w - k))) & wm;
        res = (uint32_t)x & m;
        cf = (uint32_t)(x >> n) & 1;
        set_cf_of(c, cf, op == 2 ? msb(res, size) ^ cf : msb(res, size) ^ msb1(res, size));
        return res;
    }
    case 4:
    case 6: { /* SHL/SAL: CF is bit n of the widened shift, which is 0 once count > n */
        uint64_t x = (uint64_t)v << count;
        res = (uint32_t)x & m;
        cf = (uint32_t)(x >> n) & 1;
        set_shift_flags(c, res, size, cf, msb(res, size) ^ cf);
        return res;
    }
    case 5: /* SHR: count <= 31, so v >> count is defined C even for n = 8 or 16 */
        res = v >> count;
        cf = (v >> (count - 1)) & 1;
        set_shift_flags(c, res, size, cf, msb(res, size) ^ msb1(res, size));
        return res;
    default: { /* SAR: on the value sign-extended to 32 bits, the bits past n are copies of the sign */
        uint32_t x = sext(v, size);
        uint32_t fill = (x & 0x80000000u) ? ~(0xFFFFFFFFu >> count) : 0;
        res = ((x >> count) | fill) & m;
        cf = (x >> (count - 1)) & 1;
        set_shift_flags(c, res, size, cf, 0);
        return res;
    }
    }
}

/* C0/C1 Ib, D0/D1 by 1, D2/D3 by CL; the even opcode of each pair is the byte form. */
void op_shift_grp2(struct cpu *c, const struct insn *in)
{
    int size = (in->op & 1) ? in->opsize : 1;
    unsigned count;
    if (in->op == 0xC0 || in->op == 0xC1)
        count = in->imm;
    else if (in->op == 0xD0 || in->op == 0xD1)
        count = 1;
    else
        count = c->r[R_ECX];
    count &= 0x1F;
    uint32_t v = rm_get(c, in, size);
    if (count == 0)
        return; /* no result, no flags; the operand is still read, so a bad address still faults */
    rm_set(c, in, size, shift_op(c, in->reg, v, count, size));
}

/* The double shifts share everything but direction. dest:src (SHLD) or src:dest (SHRD) is laid
 * out in a 64-bit value; for 16-bit operands dest is repeated below/above src (see the top). */
static void double_shift(struct cpu *c, const struct insn *in, int left)
{
    int size = in->opsize;
    /* 0F A4 / 0F AC take an imm8; 0F A5 / 0F AD take CL. */
    unsigned count = ((in->op & 1) ? c->r[R_ECX] : in->imm) & 0x1F;
    uint32_t d = rm_get(c, in, size);
    if (count == 0)
        return;
    uint32_t s = reg_get(c, in->reg, size);
    uint32_t res, cf;
    if (size == 4) {
        if (left) {
            uint64_t x = ((uint64_t)d << 32) | s;
            res = (uint32_t)((x << count) >> 32);
            cf = (d >> (32 - count)) & 1;
        } else {
            uint64_t x = ((uint64_t)s << 32) | d;
            res = (uint32_t)(x >> count);
            cf = (d >> (count - 1)) & 1;
        }
    } else {
        uint64_t x = ((uint64_t)d << 32) | ((uint64_t)s << 16) | d; /* dest:src:dest, 48 bits */
        if (left) {
            res = (uint32_t)((x << count) >> 32) & 0xFFFF;
            cf = (uint32_t)(x >> (48 - count)) & 1;
        } else {
            res = (uint32_t)(x >> count) & 0xFFFF;
            cf = (uint32_t)(x >> (count - 1)) & 1;
        }
    }
    uint32_t of = left ? msb(res, size) ^ cf : msb(res, size) ^ msb1(res, size);
    rm_set(c, in, size, res);
    set_shift_flags(c, res, size, cf, of);
}

/* 0F A4 / 0F A5: SHLD Ev,Gv,Ib / Ev,Gv,CL. */
void op_shld(struct cpu *c, const struct insn *in) { double_shift(c, in, 1); }

/* 0F AC / 0F AD: SHRD Ev,Gv,Ib / Ev,Gv,CL. */
void op_shrd(struct cpu *c, const struct insn *in) { double_shift(c, in, 0); }

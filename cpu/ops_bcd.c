/* Decimal adjust: DAA, DAS (packed BCD) and AAA, AAS, AAM, AAD (unpacked BCD).
 * Defined flags follow the Intel SDM Vol. 2A pseudo-code of each instruction exactly. Flags the
 * SDM leaves undefined follow sandpile.org's "undefined integer FLAGS behavior" table for the P6
 * core where it gives a value, and a documented fixed choice where it does not. */
#include "interp.h"

static uint32_t al_get(const struct cpu *c) { return c->r[R_EAX] & 0xFF; }
static uint32_t ax_get(const struct cpu *c) { return c->r[R_EAX] & 0xFFFF; }

/* SF, ZF, PF from AL; the other arithmetic flags given. */
static void set_flags_al(struct cpu *c, uint32_t al, uint32_t others)
{
    c->eflags = (c->eflags & ~F_ARITH) | szp(al, 1) | others;
}

/* 27. CF and AF as the SDM computes them; SF ZF PF from AL. OF is undefined and sandpile gives
 * no fixed value for the P6, so jitpc uses the P5's: the signed overflow of AL + adjustment. */
void op_daa(struct cpu *c, const struct insn *in)
{
    (void)in;
    uint32_t old_al = al_get(c);
    int old_cf = (c->eflags & F_CF) != 0;
    uint32_t adj = 0, fl = 0;
    if ((old_al & 0x0F) > 9 || (c->eflags & F_AF)) {
        adj = 0x06;
        fl |= F_AF;
    }
    /* The first step's carry only happens when AL >= FAh, which the second test already covers,
     * so CF reduces to the second test (the SDM's ELSE CF <- 0 branch). */
    if (old_al > 0x99 || old_cf) {
        adj += 0x60;
        fl |= F_CF;
    }
    uint32_t al = (old_al + adj) & 0xFF;
    if ((old_al ^ al) & (adj ^ al) & 0x80)
        fl |= F_OF;
    reg_set(c, R_EAX, 1, al);
    set_flags_al(c, al, fl);
}

/* 2F. As DAA, subtracting. Unlike DAA the SDM has no ELSE CF <- 0 for the second test, so a
 * borrow out of the low-nibble step (AL < 6) sets CF even when the high nibble needs nothing.
 * OF (undefined) is the signed overflow of AL - adjustment. */
void op_das(struct cpu *c, const struct insn *in)
{
    (void)in;
    uint32_t old_al = al_get(c);
    int old_cf = (c->eflags & F_CF) != 0;
    uint32_t adj = 0, fl = 0;
    if ((old_al & 0x0F) > 9 || (c->eflags & F_AF)) {
        adj = 0x06;
        fl |= F_AF;
        if (old_al < 6)
            fl |= F_CF;
    }
    if (old_al > 0x99 || old_cf) {
        adj += 0x60;
        fl |= F_CF;
    }
    uint32_t al = (old_al - adj) & 0xFF;
    if ((old_al ^ adj) & (old_al ^ al) & 0x80)
        fl |= F_OF;
    reg_set(c, R_EAX, 1, al);
    set_flags_al(c, al, fl);
}

/* AAA and AAS on the P6 core (sandpile.org): AF and CF as the SDM says, SF = 0, ZF from the whole
 * 16-bit AX result, PF from AL; OF has no fixed value there, so it is left unchanged. */
static void ascii_adjust_flags(struct cpu *c, int adjusted)
{
    uint32_t ax = ax_get(c);
    uint32_t fl = (c->eflags & F_OF) | (adjusted ? F_AF | F_CF : 0);
    fl |= (ax == 0 ? F_ZF : 0) | (parity_table[ax & 0xFF] ? F_PF : 0);
    c->eflags = (c->eflags & ~F_ARITH) | fl;
}

/* 37. The adjustment is AX + 106h: a carry out of AL + 6 reaches AH (SDM, 80286 and later). */
void op_aaa(struct cpu *c, const struct insn *in)
{
    (void)in;
    int adjust = (al_get(c) & 0x0F) > 9 || (c->eflags & F_AF);
    uint32_t ax = ax_get(c);
    if (adjust)
        ax += 0x106;
    reg_set(c, R_EAX, 2, ax & 0xFF0F);
    ascii_adjust_flags(c, adjust);
}

/* 3F. AX - 6 (a borrow out of AL reaches AH), then AH - 1, per the SDM pseudo-code. */
void op_aas(struct cpu *c, const struct insn *in)
{
    (void)in;
    int adjust = (al_get(c) & 0x0F) > 9 || (c->eflags & F_AF);
    uint32_t ax = ax_get(c);
    if (adjust)
        ax = ax - 6 - 0x100;
    reg_set(c, R_EAX, 2, ax & 0xFF0F);
    ascii_adjust_flags(c, adjust);
}

/* D4 ib. AH = AL / base, AL = AL % base; a zero base raises #DE. SF ZF PF from AL (SDM); OF AF
 * CF undefined and cleared, as sandpile reports for the P6. */
void op_aam(struct cpu *c, const struct insn *in)
{
    uint32_t base = in->imm & 0xFF;
    if (base == 0)
        cpu_fault(c, EXC_DE, 0);
    uint32_t al = al_get(c);
    reg_set(c, R_EAX, 2, ((al / base) << 8) | (al % base));
    set_flags_al(c, al % base, 0);
}

/* D5 ib. AL = AL + AH * base, AH = 0. The hardware does this with an 8-bit add, and OF AF CF
 * (undefined in the SDM) come out of that add on every core sandpile lists; SF ZF PF from AL. */
void op_aad(struct cpu *c, const struct insn *in)
{
    uint32_t base = in->imm & 0xFF;
    uint32_t al = al_get(c);
    uint32_t ah = (c->r[R_EAX] >> 8) & 0xFF;
    uint32_t res = alu_add(c, al, (ah * base) & 0xFF, 0, 1);
    reg_set(c, R_EAX, 2, res & 0xFF);
}

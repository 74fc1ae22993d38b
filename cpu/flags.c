/* Arithmetic flag computation shared by the handlers, and EFLAGS writes by mode.
 * Intel SDM Vol. 1 §3.4.3.1 (status flags), Appendix A; Vol. 2B POPF (which bits each mode may change). */
#include "interp.h"

#define P4(n) n, n ^ 1, n ^ 1, n
#define P16(n) P4(n), P4(n ^ 1), P4(n ^ 1), P4(n)
#define P64(n) P16(n), P16(n ^ 1), P16(n ^ 1), P16(n)
const uint8_t parity_table[256] = { P64(1), P64(0), P64(0), P64(1) };

uint32_t alu_add(struct cpu *c, uint32_t a, uint32_t b, uint32_t carry, int size)
{
    uint32_t m = size_mask(size);
    a &= m;
    b &= m;
    uint64_t wide = (uint64_t)a + b + carry;
    uint32_t res = (uint32_t)wide & m;
    uint32_t f = szp(res, size);
    if (wide > m)
        f |= F_CF;
    if ((a ^ b ^ res) & 0x10)
        f |= F_AF;
    if (((a ^ res) & (b ^ res)) & sign_bit(size))
        f |= F_OF;
    c->eflags = (c->eflags & ~F_ARITH) | f;
    return res;
}

uint32_t alu_sub(struct cpu *c, uint32_t a, uint32_t b, uint32_t borrow, int size)
{
    uint32_t m = size_mask(size);
    a &= m;
    b &= m;
    uint32_t res = (a - b - borrow) & m;
    uint32_t f = szp(res, size);
    if ((uint64_t)b + borrow > a)
        f |= F_CF;
    if ((a ^ b ^ res) & 0x10)
        f |= F_AF;
    if (((a ^ b) & (a ^ res)) & sign_bit(size))
        f |= F_OF;
    c->eflags = (c->eflags & ~F_ARITH) | f;
    return res;
}

uint32_t alu_logic(struct cpu *c, uint32_t res, int size)
{
    res &= size_mask(size);
    c->eflags = (c->eflags & ~F_ARITH) | szp(res, size);
    return res;
}

int cond_true(const struct cpu *c, int cc)
{
    uint32_t f = c->eflags;
    int r;
    switch (cc >> 1) {
    case 0: r = (f & F_OF) != 0; break;                                  /* O */
    case 1: r = (f & F_CF) != 0; break;                                  /* B */
    case 2: r = (f & F_ZF) != 0; break;                                  /* Z */
    case 3: r = (f & (F_CF | F_ZF)) != 0; break;                         /* BE */
    case 4: r = (f & F_SF) != 0; break;                                  /* S */
    case 5: r = (f & F_PF) != 0; break;                                  /* P */
    case 6: r = !(f & F_SF) != !(f & F_OF); break;                       /* L */
    default: r = (f & F_ZF) || (!(f & F_SF) != !(f & F_OF)); break;      /* LE */
    }
    return r ^ (cc & 1);
}

void write_eflags(struct cpu *c, uint32_t v, uint32_t mask)
{
    /* Bits a P6 does not implement stay zero; bit 1 stays one. VIF/VIP change only through
     * protected-mode paths that name them in mask. */
    const uint32_t implemented = F_ARITH | F_TF | F_IF | F_DF | F_IOPL | F_NT | F_RF | F_VM | F_AC |
                                 F_VIF | F_VIP | F_ID;
    mask &= implemented;
    c->eflags = ((c->eflags & ~mask) | (v & mask)) | F_FIXED1;
}

/* The x87 instruction dispatcher: D8-DF decoding (valid, reserved and the undocumented aliases a
 * P6 executes), #NM, pending-exception reporting (#MF or FERR#/IRQ13), memory operands, the
 * last-instruction/data pointers, and the hand-off of numeric work to the host bridge.
 * Intel SDM Vol. 1 ch. 8 (§8.1.8 pointers, §8.6-8.7 exception handling), Vol. 2D Tables A-7..A-22. */
#include <string.h>

#include "x87_impl.h"

/* Register forms (mod = 11) a P6 executes, one bit per ModRM C0..FF. Besides the SDM's map this
 * includes the undocumented aliases every Intel x87 from the 8087 on decodes: D9 D8+i (FSTP),
 * DC D0+i/D8+i (FCOM/FCOMP), DD C8+i (FXCH), DE D0+i (FCOMP), DF C0+i (FFREEP), DF C8+i (FXCH),
 * DF D0+i/D8+i (FSTP), and DB E0/E1/E4 (FNENI, FNDISI, FSETPM: no-ops from the 387 on).
 * The blanks are #UD. */
#define RANGE(a, b) ((~0ull >> (63 - (b))) & ~((1ull << (a)) - 1))
static const uint64_t reg_valid[8] = {
    /* D8 */ ~0ull,
    /* D9 */ RANGE(0, 16) | RANGE(24, 33) | RANGE(36, 37) | RANGE(40, 46) | RANGE(48, 63),
    /* DA */ RANGE(0, 31) | RANGE(41, 41),
    /* DB */ RANGE(0, 36) | RANGE(40, 55),
    /* DC */ ~0ull,
    /* DD */ RANGE(0, 47),
    /* DE */ RANGE(0, 23) | RANGE(25, 25) | RANGE(32, 63),
    /* DF */ RANGE(0, 32) | RANGE(40, 55),
};

/* Memory forms by escape and ModRM.reg. Sizes of operands read (R) or written (W); the rest are
 * control instructions handled here, or reserved (#UD: DB /1, DD /1, DF /1 are FISTTP, which is
 * SSE3 and not on a P6; D9 /1, DB /4, DB /6, DD /5 are blank in the map). */
enum { MK_UD, MK_R2, MK_R4, MK_R8, MK_R10, MK_W2, MK_W4, MK_W8, MK_W10,
       MK_LDENV, MK_LDCW, MK_STENV, MK_STCW, MK_RSTOR, MK_SAVE, MK_STSW };
static const uint8_t mem_kind[8][8] = {
    /* D8 m32real arith */ { MK_R4, MK_R4, MK_R4, MK_R4, MK_R4, MK_R4, MK_R4, MK_R4 },
    /* D9 */ { MK_R4, MK_UD, MK_W4, MK_W4, MK_LDENV, MK_LDCW, MK_STENV, MK_STCW },
    /* DA m32int arith */ { MK_R4, MK_R4, MK_R4, MK_R4, MK_R4, MK_R4, MK_R4, MK_R4 },
    /* DB */ { MK_R4, MK_UD, MK_W4, MK_W4, MK_UD, MK_R10, MK_UD, MK_W10 },
    /* DC m64real arith */ { MK_R8, MK_R8, MK_R8, MK_R8, MK_R8, MK_R8, MK_R8, MK_R8 },
    /* DD */ { MK_R8, MK_UD, MK_W8, MK_W8, MK_RSTOR, MK_UD, MK_SAVE, MK_STSW },
    /* DE m16int arith */ { MK_R2, MK_R2, MK_R2, MK_R2, MK_R2, MK_R2, MK_R2, MK_R2 },
    /* DF */ { MK_R2, MK_UD, MK_W2, MK_W2, MK_R10, MK_R8, MK_W10, MK_W8 },
};
static const uint8_t kind_size[] = { [MK_R2] = 2, [MK_R4] = 4, [MK_R8] = 8, [MK_R10] = 10,
                                     [MK_W2] = 2, [MK_W4] = 4, [MK_W8] = 8, [MK_W10] = 10 };

void x87_update_es(struct x87 *f)
{
    if (f->sw & ~x87_cw(f) & FSW_EXC) {
        f->sw |= FSW_ES | FSW_B;
        return;
    }
    f->sw &= (uint16_t)~(FSW_ES | FSW_B);
    if (f->ferr) {
        f->ferr = 0;
        if (f->irq13)
            f->irq13(f->irq13_opaque, 0);
    }
}

/* A waiting instruction first reports an unmasked exception left pending by an earlier one
 * (SDM Vol. 1 §8.6). CR0.NE = 1: #MF, a fault on this instruction. CR0.NE = 0: FERR# is asserted,
 * which the PC routes to IRQ13; the instruction is abandoned so that the interrupt is taken
 * before it runs again. If it comes back with the exception still pending (interrupts off, or a
 * handler that did not clear it), it proceeds, as with IGNNE# asserted (SDM Vol. 1 §D.2.1).
 * Returns 1 when the instruction must be abandoned. */
int x87_report_pending(struct cpu *c)
{
    struct x87 *f = &c->fpu;
    if (!(f->sw & FSW_ES))
        return 0;
    if ((c->cr[0] & CR0_NE) || !f->irq13)
        cpu_fault(c, EXC_MF, 0); /* without a hook there is no IRQ13 to raise: #MF is the fallback */
    if (f->ferr)
        return 0;
    f->ferr = 1;
    f->irq13(f->irq13_opaque, 1);
    c->eip = c->insn_eip;
    return 1;
}

void x87_wait(struct cpu *c)
{
    x87_report_pending(c);
}

static void read_operand(struct cpu *c, const struct insn *in, uint8_t *buf, int size)
{
    for (int k = 0; k < size;) {
        int n = size - k >= 4 ? 4 : 2;
        uint32_t v = mem_read(c, in->ea_seg, c->ea + (uint32_t)k, n);
        memcpy(buf + k, &v, (size_t)n);
        k += n;
    }
}

static void write_operand(struct cpu *c, const struct insn *in, const uint8_t *buf, int size)
{
    for (int k = 0; k < size;) {
        int n = size - k >= 4 ? 4 : 2;
        uint32_t v = 0;
        memcpy(&v, buf + k, (size_t)n);
        mem_write(c, in->ea_seg, c->ea + (uint32_t)k, n, v);
        k += n;
    }
}

/* Puts the guest FPU into the FNSAVE image the host loads: ST(i) in stack order, tags by
 * physical register, and the status word with no exception flags so that what comes back is
 * what this instruction raised. */
static void to_host(const struct x87 *f, struct x87_host_img *img)
{
    int top = x87_top(f);
    memset(img, 0, sizeof(*img));
    img->cw = x87_cw(f);
    img->sw = f->sw & (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3 | FSW_TOP);
    /* Only "empty or not" is taken from a loaded tag word: the P6 and its successors keep one
     * bit per register and classify the contents themselves (SDM Vol. 1 §8.1.7, the FXSAVE
     * abridged tag word), so the full classification (x87_tag_word) would be wasted here. */
    uint32_t tw = 0;
    for (int r = 0; r < 8; r++)
        tw |= ((f->empty >> r) & 1u) * (3u << (2 * r));
    img->tw = tw;
    for (int i = 0; i < 8; i++)
        memcpy(img->st[i], f->reg[(top + i) & 7], 10);
}

static void from_host(struct x87 *f, const struct x87_host_img *img)
{
    uint16_t sw = (uint16_t)img->sw;
    int top = (sw >> 11) & 7;
    f->empty = 0;
    for (int r = 0; r < 8; r++)
        if (((img->tw >> (2 * r)) & 3) == TAG_EMPTY)
            f->empty |= (uint8_t)(1u << r);
    for (int i = 0; i < 8; i++)
        memcpy(f->reg[(top + i) & 7], img->st[i], 10);
    /* The flags are sticky: what was set stays set; the condition codes and TOP are new. */
    f->sw = (uint16_t)((sw & (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3 | FSW_TOP)) |
                       ((f->sw | sw) & (FSW_EXC | FSW_SF)));
    x87_update_es(f);
}

/* FCOMI/FCOMIP/FUCOMI/FUCOMIP: DB E8-F7 and DF E8-F7. */
static int is_fcomi(unsigned esc, const struct insn *in)
{
    return !in->mem && (esc == 3 || esc == 7) && in->modrm >= 0xE8 && in->modrm <= 0xF7;
}

/* ---- Fast paths: the hot data movers done here, bit for bit as the host's x87 does them ----
 * Each FNSAVE/FRSTOR round trip through the host costs ~90 ns, and loads, stores and register
 * moves are most of what guest floating-point code executes. These paths take only the cases
 * whose outcome is fully determined without a model of exceptions: no stack fault, operands
 * normal, zero or infinite, and for stores no overflow, underflow or unmasked precision
 * exception. Everything else (and anything the conditions miss) returns 0 and goes to the host.
 * What they do is what the host does (SDM Vol. 2 FLD, FST, FXCH, FCHS, FABS, FLDZ pages): C1
 * cleared, or set when a store rounded up; C0, C2, C3 left as they were; PE raised on an inexact
 * store. tests/unit/test_x87_host.c compares them with the host on random operands. */

static int is_empty(const struct x87 *f, int i) { return (f->empty >> ((x87_top(f) + i) & 7)) & 1; }

/* Sets C1 to c1 and TOP to top, keeping the rest of the status word. */
static void set_c1_top(struct x87 *f, int c1, int top)
{
    f->sw = (uint16_t)((f->sw & ~(FSW_C1 | FSW_TOP)) | (c1 ? FSW_C1 : 0) | (top << 11));
}

static void put80(uint8_t out[10], uint64_t m, unsigned sexp)
{
    memcpy(out, &m, 8);
    out[8] = (uint8_t)sexp;
    out[9] = (uint8_t)(sexp >> 8);
}

/* An m32/m64 real (fbits fraction bits, ebits exponent bits) to extended: zero, normal and
 * infinity only (denormals raise DE, NaNs may raise IE: those go to the host). */
static int real_to80(uint64_t v, int fbits, int ebits, uint8_t out[10])
{
    unsigned emax = (1u << ebits) - 1, bias = emax >> 1;
    unsigned sign = (unsigned)(v >> (fbits + ebits)) & 1;
    unsigned e = (unsigned)(v >> fbits) & emax;
    uint64_t frac = v & ((1ull << fbits) - 1);
    if (e == 0 && frac == 0)
        put80(out, 0, sign << 15);
    else if (e == emax && frac == 0)
        put80(out, 1ull << 63, (sign << 15) | 0x7FFF);
    else if (e != 0 && e != emax)
        put80(out, (1ull << 63) | (frac << (63 - fbits)), (sign << 15) | (e - bias + 16383));
    else
        return 0;
    return 1;
}

/* Extended to m32/m64 real under rounding control rc: zero, infinity, and normals whose result
 * is normal. *up is C1 (the significand was incremented), *inexact is PE. */
static int real_from80(const uint8_t in[10], int fbits, int ebits, unsigned rc, uint64_t *out, int *up,
                       int *inexact)
{
    uint64_t m;
    memcpy(&m, in, 8);
    unsigned sexp = (unsigned)(in[8] | (in[9] << 8));
    uint64_t sign = (uint64_t)(sexp >> 15) << (fbits + ebits);
    unsigned e = sexp & 0x7FFF;
    int64_t emax = (1 << ebits) - 1, bias = emax >> 1;
    *up = *inexact = 0;
    if (e == 0 && m == 0) {
        *out = sign;
        return 1;
    }
    if (e == 0x7FFF && m == 1ull << 63) {
        *out = sign | ((uint64_t)emax << fbits);
        return 1;
    }
    int64_t re = (int64_t)e - 16383 + bias;
    if (e == 0 || e == 0x7FFF || !(m >> 63) || re < 1 || re >= emax)
        return 0;
    int drop = 63 - fbits;
    uint64_t q = m >> drop, rest = m & ((1ull << drop) - 1), half = 1ull << (drop - 1);
    int neg = sign != 0;
    int inc = 0;
    if (rest) {
        *inexact = 1;
        switch (rc) {
        case 0: inc = rest > half || (rest == half && (q & 1)); break; /* nearest, ties to even */
        case 1: inc = neg; break;                                     /* down, towards -inf */
        case 2: inc = !neg; break;                                    /* up, towards +inf */
        default: break;                                               /* chop */
        }
    }
    if (inc) {
        q++;
        if (q >> (fbits + 1)) {
            q >>= 1;
            re++;
        }
    }
    if (re >= emax)
        return 0; /* overflow: OE and its masked/unmasked responses are the host's */
    *up = inc;
    *out = sign | ((uint64_t)re << fbits) | (q & ((1ull << fbits) - 1));
    return 1;
}

/* The classes the integer and compare fast paths take: zero, normal or infinity (J bit set, or
 * all zero). Denormals raise DE, NaNs IE, unnormals and pseudo-values IE: those are the host's. */
static int plain80(const uint8_t in[10])
{
    uint64_t m;
    memcpy(&m, in, 8);
    unsigned e = (unsigned)(in[8] | (in[9] << 8)) & 0x7FFF;
    if (e == 0)
        return m == 0;
    if (e == 0x7FFF)
        return m == 1ull << 63;
    return (m >> 63) != 0;
}

/* An m16/m32/m64 integer of size bytes to extended: always exact (64 significand bits). */
static void int_to80(const uint8_t *buf, int size, uint8_t out[10])
{
    int64_t x;
    if (size == 2) {
        int16_t y;
        memcpy(&y, buf, 2);
        x = y;
    } else if (size == 4) {
        int32_t y;
        memcpy(&y, buf, 4);
        x = y;
    } else {
        memcpy(&x, buf, 8);
    }
    unsigned sign = x < 0 ? 0x8000u : 0;
    uint64_t mag = x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
    if (mag == 0) {
        put80(out, 0, 0); /* FILD of 0 is +0.0 */
        return;
    }
    int lz = __builtin_clzll(mag);
    put80(out, mag << lz, sign | (unsigned)(16383 + 63 - lz));
}

/* Extended to an integer of size bytes, only when the value is one exactly and fits (so no
 * rounding, no PE, C1 clear); 0 otherwise (inexact or out of range: the host rounds and raises). */
static int int_from80(const uint8_t in[10], int size, uint8_t *out)
{
    uint64_t m;
    memcpy(&m, in, 8);
    unsigned sexp = (unsigned)(in[8] | (in[9] << 8));
    unsigned e = sexp & 0x7FFF;
    int neg = (sexp >> 15) != 0;
    uint64_t mag = 0;
    if (e != 0 || m != 0) {
        if (e < 16383 || e > 16383 + 63 || !(m >> 63))
            return 0; /* |x| < 1, too big, denormal, NaN, infinity or unsupported */
        unsigned sh = e - 16383; /* bits of the integer part, minus one */
        if (sh < 63 && (m << (sh + 1)) != 0)
            return 0; /* a fraction: rounding */
        mag = m >> (63 - sh);
    }
    uint64_t lim = 1ull << (size * 8 - 1); /* the most negative value's magnitude */
    if (mag > lim - 1 + (uint64_t)neg)
        return 0;
    uint64_t x = neg ? 0 - mag : mag;
    memcpy(out, &x, (size_t)size);
    return 1;
}

/* Compares two plain80 values: -1, 0 or 1 (zeros of either sign are equal). */
static int cmp80(const uint8_t a[10], const uint8_t b[10])
{
    uint64_t ma, mb;
    memcpy(&ma, a, 8);
    memcpy(&mb, b, 8);
    unsigned ea = (unsigned)(a[8] | (a[9] << 8)), eb = (unsigned)(b[8] | (b[9] << 8));
    int za = (ea & 0x7FFF) == 0, zb = (eb & 0x7FFF) == 0;
    if (za && zb)
        return 0;
    int sa = za ? 0 : (int)(ea >> 15), sb = zb ? 0 : (int)(eb >> 15);
    if (sa != sb)
        return sa ? -1 : 1;
    int mag = (ea & 0x7FFF) != (eb & 0x7FFF) ? ((ea & 0x7FFF) < (eb & 0x7FFF) ? -1 : 1)
              : ma != mb                     ? (ma < mb ? -1 : 1)
                                             : 0;
    return sa ? -mag : mag;
}

/* Returns 1 when the instruction was completed here (with *raised its exception flags, and *fl
 * the EFLAGS bits of FCOMI), 0 when nothing was changed and the host must run it. buf is the
 * memory operand, read or to be written. */
static int numeric_fast(struct x87 *f, unsigned esc, const struct insn *in, uint8_t *buf, uint16_t *raised,
                        uint8_t *fl)
{
    int top = x87_top(f);
    uint8_t v[10];
    *raised = 0;
    if (in->mem && (esc == 3 || esc == 7) && (in->reg == 0 || (esc == 7 && in->reg == 5))) {
        /* FILD m32 (DB /0), m16 (DF /0), m64 (DF /5): exact, C1 cleared, C0 C2 C3 kept. */
        if (!is_empty(f, 7))
            return 0;
        int_to80(buf, esc == 3 ? 4 : in->reg == 5 ? 8 : 2, v);
        set_c1_top(f, 0, (top - 1) & 7);
        x87_set_st(f, 0, v);
        return 1;
    }
    if (in->mem && (esc == 3 || esc == 7) && (in->reg == 2 || in->reg == 3 || (esc == 7 && in->reg == 7))) {
        /* FIST/FISTP m32 (DB /2 /3), m16 (DF /2 /3), FISTP m64 (DF /7) of an exact integer. */
        if (is_empty(f, 0) || !int_from80(f->reg[top], esc == 3 ? 4 : in->reg == 7 ? 8 : 2, buf))
            return 0;
        if (in->reg != 2) {
            f->empty |= (uint8_t)(1u << top);
            top = (top + 1) & 7;
        }
        set_c1_top(f, 0, top);
        return 1;
    }
    if (in->mem) {
        int fbits = esc == 5 ? 52 : 23, ebits = esc == 5 ? 11 : 8;
        if ((esc != 1 && esc != 5) || in->reg == 1 || in->reg > 3)
            return 0;
        if (in->reg == 0) { /* FLD m32/m64 */
            uint64_t x = 0;
            memcpy(&x, buf, esc == 5 ? 8 : 4);
            if (!is_empty(f, 7) || !real_to80(x, fbits, ebits, v))
                return 0;
            set_c1_top(f, 0, (top - 1) & 7);
            x87_set_st(f, 0, v);
            return 1;
        }
        /* FST/FSTP m32/m64 */
        uint64_t x;
        int up, inexact;
        if (is_empty(f, 0) || !real_from80(f->reg[top], fbits, ebits, (x87_cw(f) >> 10) & 3, &x, &up, &inexact))
            return 0;
        if (inexact && !(x87_cw(f) & FSW_PE))
            return 0; /* an unmasked precision exception: ES and the rest are the host's */
        memcpy(buf, &x, esc == 5 ? 8 : 4);
        if (inexact)
            f->sw |= FSW_PE;
        *raised = inexact ? FSW_PE : 0;
        if (in->reg == 3)
            f->empty |= (uint8_t)(1u << top);
        set_c1_top(f, up, in->reg == 3 ? (top + 1) & 7 : top);
        return 1;
    }
    unsigned i = in->modrm & 7;
    switch ((esc << 8) | (in->modrm & 0xF8)) {
    case 0x1C0: /* FLD ST(i) */
        if (is_empty(f, (int)i) || !is_empty(f, 7))
            return 0;
        x87_get_st(f, (int)i, v);
        set_c1_top(f, 0, (top - 1) & 7);
        x87_set_st(f, 0, v);
        return 1;
    case 0x1C8: /* FXCH ST(i) */
        if (is_empty(f, 0) || is_empty(f, (int)i))
            return 0;
        memcpy(v, f->reg[top], 10);
        memcpy(f->reg[top], f->reg[(top + (int)i) & 7], 10);
        memcpy(f->reg[(top + (int)i) & 7], v, 10);
        set_c1_top(f, 0, top);
        return 1;
    case 0x5D0: /* FST ST(i) */
    case 0x5D8: /* FSTP ST(i) */
        if (is_empty(f, 0))
            return 0;
        x87_get_st(f, 0, v);
        x87_set_st(f, (int)i, v);
        if (in->modrm >= 0xD8) {
            f->empty |= (uint8_t)(1u << top);
            top = (top + 1) & 7;
        }
        set_c1_top(f, 0, top);
        return 1;
    case 0x1E0:
        if (in->modrm == 0xE0 || in->modrm == 0xE1) { /* FCHS, FABS */
            if (is_empty(f, 0))
                return 0;
            f->reg[top][9] = in->modrm == 0xE0 ? (uint8_t)(f->reg[top][9] ^ 0x80) : (uint8_t)(f->reg[top][9] & 0x7F);
            set_c1_top(f, 0, top);
            return 1;
        }
        if (in->modrm == 0xE5 && !is_empty(f, 0)) { /* FXAM: C1 the sign, C3 C2 C0 the class */
            uint64_t m;
            memcpy(&m, f->reg[top], 8);
            unsigned sexp = (unsigned)(f->reg[top][8] | (f->reg[top][9] << 8)), e = sexp & 0x7FFF;
            unsigned cls;
            if (e == 0 && m == 0)
                cls = FSW_C3;                     /* zero */
            else if (e == 0 && !(m >> 63))
                cls = FSW_C3 | FSW_C2;            /* denormal */
            else if (e == 0x7FFF && m == 1ull << 63)
                cls = FSW_C2 | FSW_C0;            /* infinity */
            else if (e == 0x7FFF && (m >> 63))
                cls = FSW_C0;                     /* NaN */
            else if (e != 0 && e != 0x7FFF && (m >> 63))
                cls = FSW_C2;                     /* normal */
            else
                return 0;                         /* pseudo-denormal, unnormal, pseudo-NaN: the host's */
            f->sw = (uint16_t)((f->sw & ~(FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)) | cls | ((sexp >> 15) ? FSW_C1 : 0));
            return 1;
        }
        return 0;
    case 0x3E8: /* FUCOMI */
    case 0x3F0: /* FCOMI */
    case 0x7E8: /* FUCOMIP */
    case 0x7F0: /* FCOMIP */
    case 0x0D0: /* FCOM */
    case 0x4D0: /* FCOM (alias) */
    case 0x0D8: /* FCOMP */
    case 0x4D8: /* FCOMP (alias) */
    case 0x6D0: /* FCOMP (alias) */
    case 0x6D8: /* FCOMPP (DE D9, the only valid one) */
    case 0x5E0: /* FUCOM */
    case 0x5E8: /* FUCOMP */
    case 0x2E8: { /* FUCOMPP (DA E9, the only valid one) */
        /* Ordered operands only (no NaN, denormal or unsupported value: no exception), where the
         * ordered and unordered compares agree. FCOM: C3 C2 C0, C1 cleared (SDM FCOM page).
         * FCOMI: ZF PF CF, C0 C1 C2 C3 kept: the SDM's FCOMI page says C1 is cleared, but the
         * hosts the interpreter runs it on keep it, and tests/unit/test_x87_host.c holds this
         * path to what the host does. */
        unsigned key = (esc << 8) | (in->modrm & 0xF8);
        int other = (top + (int)i) & 7;
        if (is_empty(f, 0) || is_empty(f, (int)i) || !plain80(f->reg[top]) || !plain80(f->reg[other]))
            return 0;
        int r = cmp80(f->reg[top], f->reg[other]);
        int comi = (key & 0x3FF) == 0x3E8 || (key & 0x3FF) == 0x3F0;
        int pops = key == 0x6D8 || key == 0x2E8 ? 2 : key == 0x7E8 || key == 0x7F0 || key == 0x0D8 || key == 0x4D8 ||
                                                      key == 0x6D0 || key == 0x5E8;
        if (comi)
            *fl = (uint8_t)((*fl & ~(F_ZF | F_PF | F_CF)) | (r == 0 ? F_ZF : r < 0 ? F_CF : 0));
        else
            f->sw = (uint16_t)((f->sw & ~(FSW_C0 | FSW_C2 | FSW_C3)) | (r == 0 ? FSW_C3 : r < 0 ? FSW_C0 : 0));
        for (int k = 0; k < pops; k++) {
            f->empty |= (uint8_t)(1u << top);
            top = (top + 1) & 7;
        }
        set_c1_top(f, comi && (f->sw & FSW_C1), top);
        return 1;
    }
    case 0x1E8:
        if ((in->modrm == 0xE8 || in->modrm == 0xEE) && is_empty(f, 7)) { /* FLD1, FLDZ */
            put80(v, in->modrm == 0xE8 ? 1ull << 63 : 0, in->modrm == 0xE8 ? 0x3FFF : 0);
            set_c1_top(f, 0, (top - 1) & 7);
            x87_set_st(f, 0, v);
            return 1;
        }
        return 0;
    default:
        return 0;
    }
}

/* The two-operand arithmetic (ADD MUL SUB SUBR DIV DIVR) through x87_host_arith when every
 * exception is masked and the operands are there: the result and C1 from the host, C0 C2 C3
 * kept (the host leaves them as they were; test_x87_host.c compares), TOP popped for DE.
 * Returns 0, with nothing changed, for the rest. */
static int numeric_arith(struct x87 *f, unsigned esc, const struct insn *in, uint8_t *buf, uint16_t *raised)
{
    unsigned r = in->mem ? in->reg : (in->modrm >> 3) & 7, i = in->modrm & 7;
    uint16_t cw = x87_cw(f);
    if ((cw & FSW_EXC) != FSW_EXC || (esc & 1) || r == 2 || r == 3 || is_empty(f, 0))
        return 0;
    if (!in->mem && (esc == 2 || (esc == 6 && i == 0) || is_empty(f, (int)i)))
        return 0;
    int top = x87_top(f), other = (top + (int)i) & 7;
    uint8_t a[10], b[10];
    uint16_t sw;
    memcpy(a, f->reg[top], 10);
    memcpy(b, f->reg[other], 10);
    unsigned modrm = in->mem ? (r << 3) | 6 : 0xC0 | (r << 3) | (i != 0);
    if (!x87_host_arith(esc, modrm, cw, a, b, in->mem ? buf : NULL, &sw))
        return 0;
    *raised = sw & FSW_EXC;
    if (esc == 6 && !in->mem) {
        memcpy(f->reg[other], b, 10);
        f->empty |= (uint8_t)(1u << top);
        top = (top + 1) & 7;
    } else {
        memcpy(f->reg[top], a, 10);
        if (esc == 4 && !in->mem && i != 0) /* DC: the result is ST(i) (ST(0) itself for i = 0) */
            memcpy(f->reg[other], b, 10);
    }
    f->sw |= *raised;
    set_c1_top(f, (sw & FSW_C1) != 0, top);
    return 1;
}

/* The numeric work of a numeric instruction once nothing can fault any more: its memory operand
 * (if read) is in buf, and it returns 1 when buf holds a result to store. numeric() and
 * x87_step_quiet() share it, so the JIT's quiet path cannot differ from the interpreter. */
static int numeric_exec(struct cpu *c, const struct insn *in, unsigned esc, int kind, uint8_t *buf)
{
    struct x87 *f = &c->fpu;
    uint16_t raised;
    uint8_t fl = (uint8_t)c->eflags;
    if (numeric_fast(f, esc, in, buf, &raised, &fl) || numeric_arith(f, esc, in, buf, &raised)) {
        x87_update_es(f); /* what from_host ends with (it can only find ES as it was) */
    } else {
        struct x87_host_img img;
        to_host(f, &img);
        unsigned modrm = in->mem ? (unsigned)((in->reg << 3) | 6) : in->modrm;
        x87_host_exec(&img, esc, modrm, in->mem ? buf : NULL, &fl);
        raised = (uint16_t)(img.sw & FSW_EXC);
        from_host(f, &img);
    }

    if (is_fcomi(esc, in)) {
        /* ZF PF CF from the compare; OF SF AF cleared, except when an unmasked invalid operation
         * left EFLAGS alone (SDM FCOMI: no flags are changed then). */
        if (!((raised & FSW_IE) && !(x87_cw(f) & FSW_IE)))
            c->eflags = (c->eflags & ~(uint32_t)(F_OF | F_SF | F_AF | F_ZF | F_PF | F_CF)) |
                        (fl & (F_ZF | F_PF | F_CF));
    }
    /* SDM Vol. 1 §8.1.8: pointers and opcode of the last non-control instruction. */
    f->fip = c->insn_eip;
    f->fcs = c->seg[S_CS].sel;
    f->fop = (uint16_t)((esc << 8) | in->modrm);
    if (in->mem) {
        f->fdp = c->ea;
        f->fds = c->seg[in->ea_seg].sel;
    }
    /* A store whose unmasked invalid/denormal/overflow/underflow exception is pending leaves
     * memory untouched (SDM Vol. 1 §8.5.1, §4.9.2): the handler sees the operand as it was. */
    return kind >= MK_W2 && kind <= MK_W10 && !(raised & ~x87_cw(f) & (FSW_IE | FSW_DE | FSW_ZE | FSW_OE | FSW_UE));
}

/* A numeric (non-control) instruction: everything but the control instructions goes here. */
static void numeric(struct cpu *c, const struct insn *in, unsigned esc, int kind)
{
    uint8_t buf[16] = { 0 };
    int size = kind_size[kind];
    if (x87_report_pending(c))
        return;
    /* Memory faults come before any FPU state changes. */
    if (kind >= MK_R2 && kind <= MK_R10)
        read_operand(c, in, buf, size);
    else if (kind >= MK_W2 && kind <= MK_W10)
        mem_check_write(c, in->ea_seg, c->ea, size);
    if (numeric_exec(c, in, esc, kind, buf))
        write_operand(c, in, buf, size);
}

void op_x87(struct cpu *c, const struct insn *in)
{
    struct x87 *f = &c->fpu;
    unsigned esc = in->op & 7;
    /* SDM Vol. 3A Table 2-2: with CR0.EM or CR0.TS every x87 instruction is #NM. */
    if (c->cr[0] & (CR0_EM | CR0_TS))
        cpu_fault(c, EXC_NM, 0);

    if (!in->mem) {
        unsigned n = in->modrm - 0xC0u;
        if (!((reg_valid[esc] >> n) & 1))
            cpu_fault(c, EXC_UD, 0);
        if (esc == 3 && in->modrm >= 0xE0 && in->modrm <= 0xE4) {
            /* No-wait control: FNENI FNDISI FNCLEX FNINIT FSETPM. */
            if (in->modrm == 0xE2)
                x87_fnclex(f);
            else if (in->modrm == 0xE3)
                x87_init(f);
            return;
        }
        if (esc == 7 && in->modrm == 0xE0) {
            /* FNSTSW AX */
            reg_set(c, R_EAX, 2, f->sw);
            return;
        }
        numeric(c, in, esc, MK_UD);
        return;
    }

    int kind = mem_kind[esc][in->reg];
    switch (kind) {
    case MK_UD:
        cpu_fault(c, EXC_UD, 0);
    case MK_LDENV:
        if (!x87_report_pending(c))
            x87_fldenv(c, in);
        return;
    case MK_RSTOR:
        if (!x87_report_pending(c))
            x87_frstor(c, in);
        return;
    case MK_STENV:
        x87_fnstenv(c, in);
        return;
    case MK_SAVE:
        x87_fnsave(c, in);
        return;
    case MK_LDCW:
        if (x87_report_pending(c))
            return;
        f->cw = (uint16_t)(mem_read(c, in->ea_seg, c->ea, 2) & 0x1F3Fu);
        x87_update_es(f); /* unmasking a set flag makes it pending */
        return;
    case MK_STCW:
        mem_write(c, in->ea_seg, c->ea, 2, x87_cw(f));
        return;
    case MK_STSW:
        mem_write(c, in->ea_seg, c->ea, 2, f->sw);
        return;
    default:
        numeric(c, in, esc, kind);
        return;
    }
}

/* ---- The quiet path: an x87 instruction that cannot fault or reach outside the CPU and RAM ----
 * For the JIT's handler calls (jit/dispatch.c), which otherwise pay for a whole cpu_step (fault
 * frame, snapshot, event and debug checks, instruction counts) around work that is often a
 * 10-byte copy. Everything that could make the instruction more than that is left to op_x87 and
 * declined up front, before any change: #NM, #UD, a pending exception to report (#MF or FERR#,
 * and with FERR# asserted, the IRQ13 line a cleared ES would drop), the environment and
 * save/restore instructions, and memory operands the TLB cannot hand over directly. */

int x87_step_quiet(struct cpu *c, const struct insn *in)
{
    struct x87 *f = &c->fpu;
    unsigned esc = in->op & 7;
    if ((c->cr[0] & (CR0_EM | CR0_TS)) | (f->sw & FSW_ES) | f->ferr)
        return 0;
    uint32_t eip = c->eip, next = eip + in->len;
    if (!code32(c))
        next &= 0xFFFF;
    if (!in->mem) {
        if (!((reg_valid[esc] >> (in->modrm - 0xC0u)) & 1) || (esc == 3 && in->modrm >= 0xE0 && in->modrm <= 0xE4))
            return 0; /* #UD, or FNINIT and its kin (rare) */
        c->insn_eip = eip;
        c->eip = next;
        if (esc == 7 && in->modrm == 0xE0)
            reg_set(c, R_EAX, 2, f->sw); /* FNSTSW AX */
        else
            numeric_exec(c, in, esc, MK_UD, NULL);
        return 1;
    }
    int kind = mem_kind[esc][in->reg];
    uint32_t ea = ea_offset(c, in);
    uint8_t *p;
    uint16_t w;
    switch (kind) {
    case MK_LDCW:
        if (!(p = mem_quiet_ptr(c, in->ea_seg, ea, 2, 0)))
            return 0;
        memcpy(&w, p, 2);
        f->cw = (uint16_t)(w & 0x1F3Fu);
        x87_update_es(f); /* unmasking a set flag makes it pending (FERR# is not asserted: no IRQ13) */
        break;
    case MK_STCW:
    case MK_STSW:
        if (!(p = mem_quiet_ptr(c, in->ea_seg, ea, 2, 1)))
            return 0;
        w = kind == MK_STCW ? x87_cw(f) : f->sw;
        memcpy(p, &w, 2);
        break;
    default: {
        if (kind < MK_R2 || kind > MK_W10)
            return 0; /* #UD, or an environment or save/restore instruction */
        int size = kind_size[kind];
        int wr = kind >= MK_W2;
        if (!(p = mem_quiet_ptr(c, in->ea_seg, ea, size, wr)))
            return 0; /* a memory operand for op_x87 */
        uint8_t buf[16] = { 0 };
        if (!wr)
            memcpy(buf, p, (size_t)size);
        c->insn_eip = eip;
        c->eip = next;
        c->ea = ea;
        if (numeric_exec(c, in, esc, kind, buf))
            memcpy(p, buf, (size_t)size);
        return 1;
    }
    }
    c->insn_eip = eip;
    c->eip = next;
    c->ea = ea;
    return 1;
}

/* MMX technology as a Pentium II has it: MOVD/MOVQ, the packed arithmetic, compare, pack/unpack,
 * logic and shift instructions and EMMS, on MM0-MM7 aliased to the x87 physical registers.
 * Intel SDM Vol. 1 ch. 9 (§9.5 x87 compatibility), Vol. 3A §12.2 (aliasing, effect on the tag
 * word) and Table 2-2 (CR0.EM/TS), Vol. 3B Tables 22-7/22-8 (exceptions), Vol. 2 instruction pages. */
#include <string.h>

#include "interp.h"

/* One 64-bit MMX value seen as its lanes (the host is little-endian, like the guest). */
union mmx {
    uint64_t q;
    uint32_t d[2];
    int32_t sd[2];
    uint16_t w[4];
    int16_t sw[4];
    uint8_t b[8];
    int8_t sb[8];
};

/* MMi is the mantissa of physical register Ri, whatever TOP is (SDM Vol. 3A §12.2). */
static uint64_t mm_get(const struct x87 *f, int i)
{
    uint64_t v;
    memcpy(&v, f->reg[i], 8);
    return v;
}

/* A write also sets bits 64-79 (sign and exponent) to all ones, so that the register reads as a
 * NaN to x87 code that forgot EMMS. */
static void mm_set(struct x87 *f, int i, uint64_t v)
{
    memcpy(f->reg[i], &v, 8);
    f->reg[i][8] = 0xFF;
    f->reg[i][9] = 0xFF;
}

/* Every MMX instruction, EMMS included, sets TOP to 0; all but EMMS tag every register valid.
 * Nothing else of the x87 state changes: condition codes, flags, FCW, the instruction and data
 * pointers and the opcode stay (SDM Vol. 3A §12.2). Called only once the instruction can no
 * longer fault, so that a fault leaves the FPU as it was. */
static void mm_touch(struct x87 *f)
{
    f->sw &= (uint16_t)~FSW_TOP;
    f->empty = 0;
}

/* The checks every MMX instruction makes before it does anything; returns 0 when the instruction
 * is abandoned for FERR# (CR0.NE = 0, see x87_report_pending).
 * - 66, F2 and F3 select SSE/SSE2 instructions in these opcodes on later CPUs; the SDM reserves
 *   them with MMX instructions. A CPU without those extensions has nothing to run, so we raise
 *   #UD, which is also what software probing for SSE2 by trial expects to see.
 * - CR0.EM = 1 is #UD (not #NM as for x87), then CR0.TS = 1 is #NM (SDM Vol. 3A Table 2-2).
 * - An unmasked x87 exception left pending is reported first, as by a waiting x87 instruction. */
static int mmx_begin(struct cpu *c, const struct insn *in)
{
    if (in->rep != REP_NONE || (in->opsize == 4) != code32(c))
        cpu_fault(c, EXC_UD, 0);
    if (c->cr[0] & CR0_EM)
        cpu_fault(c, EXC_UD, 0);
    if (c->cr[0] & CR0_TS)
        cpu_fault(c, EXC_NM, 0);
    return !x87_report_pending(c);
}

static uint64_t read_q(struct cpu *c, const struct insn *in)
{
    uint64_t lo = mem_read(c, in->ea_seg, c->ea, 4);
    uint64_t hi = mem_read(c, in->ea_seg, c->ea + 4, 4);
    return lo | hi << 32;
}

/* Both halves are checked before either is written: a fault on the second leaves memory as it was. */
static void write_q(struct cpu *c, const struct insn *in, uint64_t v)
{
    mem_check_write(c, in->ea_seg, c->ea, 8);
    mem_write(c, in->ea_seg, c->ea, 4, (uint32_t)v);
    mem_write(c, in->ea_seg, c->ea + 4, 4, (uint32_t)(v >> 32));
}

/* The source operand mm/m64 of the two-operand forms. */
static uint64_t src_q(struct cpu *c, const struct insn *in)
{
    return in->mem ? read_q(c, in) : mm_get(&c->fpu, in->rm);
}

static int8_t sat_s8(int v) { return (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v); }
static uint8_t sat_u8(int v) { return (uint8_t)(v > 255 ? 255 : v < 0 ? 0 : v); }
static int16_t sat_s16(int32_t v) { return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); }
static uint16_t sat_u16(int32_t v) { return (uint16_t)(v > 65535 ? 65535 : v < 0 ? 0 : v); }

enum { SH_RL, SH_RA, SH_LL };

/* PSRL/PSRA/PSLL on lanes of `bits` bits. The count is the whole 64-bit source (or imm8): a count
 * past the lane width clears the lane, or for PSRA fills it with the sign (SDM PSRLW/PSRAW/PSLLW). */
static uint64_t shift(int kind, int bits, uint64_t v, uint64_t count)
{
    union mmx a = { .q = v }, r = { .q = 0 };
    switch (bits) {
    case 16:
        for (int i = 0; i < 4; i++) {
            if (kind == SH_RA)
                r.sw[i] = (int16_t)(a.sw[i] >> (count > 15 ? 15 : count));
            else if (count <= 15)
                r.w[i] = (uint16_t)(kind == SH_RL ? a.w[i] >> count : a.w[i] << count);
        }
        break;
    case 32:
        for (int i = 0; i < 2; i++) {
            if (kind == SH_RA)
                r.sd[i] = a.sd[i] >> (count > 31 ? 31 : count);
            else if (count <= 31)
                r.d[i] = kind == SH_RL ? a.d[i] >> count : a.d[i] << count;
        }
        break;
    default:
        if (count <= 63)
            r.q = kind == SH_RL ? a.q >> count : a.q << count;
        break;
    }
    return r.q;
}

/* The two-operand instructions: dst op src by the second opcode byte. */
static uint64_t alu(unsigned op, uint64_t dst, uint64_t src)
{
    union mmx a = { .q = dst }, b = { .q = src }, r = { .q = 0 };
    switch (op) {
    case 0x60: /* PUNPCKLBW: interleave the low halves, destination byte first */
        for (int i = 0; i < 4; i++) {
            r.b[2 * i] = a.b[i];
            r.b[2 * i + 1] = b.b[i];
        }
        break;
    case 0x61: /* PUNPCKLWD */
        for (int i = 0; i < 2; i++) {
            r.w[2 * i] = a.w[i];
            r.w[2 * i + 1] = b.w[i];
        }
        break;
    case 0x62: /* PUNPCKLDQ */
        r.d[0] = a.d[0];
        r.d[1] = b.d[0];
        break;
    case 0x63: /* PACKSSWB: destination words to the low bytes, source words to the high */
        for (int i = 0; i < 4; i++) {
            r.sb[i] = sat_s8(a.sw[i]);
            r.sb[i + 4] = sat_s8(b.sw[i]);
        }
        break;
    case 0x64: /* PCMPGTB: signed */
        for (int i = 0; i < 8; i++)
            r.b[i] = a.sb[i] > b.sb[i] ? 0xFF : 0;
        break;
    case 0x65: /* PCMPGTW */
        for (int i = 0; i < 4; i++)
            r.w[i] = a.sw[i] > b.sw[i] ? 0xFFFF : 0;
        break;
    case 0x66: /* PCMPGTD */
        for (int i = 0; i < 2; i++)
            r.d[i] = a.sd[i] > b.sd[i] ? 0xFFFFFFFFu : 0;
        break;
    case 0x67: /* PACKUSWB: signed words to unsigned bytes */
        for (int i = 0; i < 4; i++) {
            r.b[i] = sat_u8(a.sw[i]);
            r.b[i + 4] = sat_u8(b.sw[i]);
        }
        break;
    case 0x68: /* PUNPCKHBW: interleave the high halves */
        for (int i = 0; i < 4; i++) {
            r.b[2 * i] = a.b[i + 4];
            r.b[2 * i + 1] = b.b[i + 4];
        }
        break;
    case 0x69: /* PUNPCKHWD */
        for (int i = 0; i < 2; i++) {
            r.w[2 * i] = a.w[i + 2];
            r.w[2 * i + 1] = b.w[i + 2];
        }
        break;
    case 0x6A: /* PUNPCKHDQ */
        r.d[0] = a.d[1];
        r.d[1] = b.d[1];
        break;
    case 0x6B: /* PACKSSDW */
        for (int i = 0; i < 2; i++) {
            r.sw[i] = sat_s16(a.sd[i]);
            r.sw[i + 2] = sat_s16(b.sd[i]);
        }
        break;
    case 0x74: /* PCMPEQB */
        for (int i = 0; i < 8; i++)
            r.b[i] = a.b[i] == b.b[i] ? 0xFF : 0;
        break;
    case 0x75: /* PCMPEQW */
        for (int i = 0; i < 4; i++)
            r.w[i] = a.w[i] == b.w[i] ? 0xFFFF : 0;
        break;
    case 0x76: /* PCMPEQD */
        for (int i = 0; i < 2; i++)
            r.d[i] = a.d[i] == b.d[i] ? 0xFFFFFFFFu : 0;
        break;
    case 0xD1: return shift(SH_RL, 16, dst, src);
    case 0xD2: return shift(SH_RL, 32, dst, src);
    case 0xD3: return shift(SH_RL, 64, dst, src);
    case 0xE1: return shift(SH_RA, 16, dst, src);
    case 0xE2: return shift(SH_RA, 32, dst, src);
    case 0xF1: return shift(SH_LL, 16, dst, src);
    case 0xF2: return shift(SH_LL, 32, dst, src);
    case 0xF3: return shift(SH_LL, 64, dst, src);
    case 0xD5: /* PMULLW: low half of the signed product (the same bits as unsigned) */
        for (int i = 0; i < 4; i++)
            r.w[i] = (uint16_t)((uint32_t)a.w[i] * b.w[i]);
        break;
    case 0xE5: /* PMULHW: high half of the signed product */
        for (int i = 0; i < 4; i++)
            r.w[i] = (uint16_t)((uint32_t)((int32_t)a.sw[i] * b.sw[i]) >> 16);
        break;
    case 0xF5: /* PMADDWD: pairwise signed products summed; 8000H*8000H twice wraps to 80000000H */
        for (int i = 0; i < 2; i++)
            r.d[i] = (uint32_t)((int64_t)a.sw[2 * i] * b.sw[2 * i] + (int64_t)a.sw[2 * i + 1] * b.sw[2 * i + 1]);
        break;
    case 0xD8: /* PSUBUSB */
        for (int i = 0; i < 8; i++)
            r.b[i] = sat_u8(a.b[i] - b.b[i]);
        break;
    case 0xD9: /* PSUBUSW */
        for (int i = 0; i < 4; i++)
            r.w[i] = sat_u16((int32_t)a.w[i] - b.w[i]);
        break;
    case 0xDC: /* PADDUSB */
        for (int i = 0; i < 8; i++)
            r.b[i] = sat_u8(a.b[i] + b.b[i]);
        break;
    case 0xDD: /* PADDUSW */
        for (int i = 0; i < 4; i++)
            r.w[i] = sat_u16((int32_t)a.w[i] + b.w[i]);
        break;
    case 0xE8: /* PSUBSB */
        for (int i = 0; i < 8; i++)
            r.sb[i] = sat_s8(a.sb[i] - b.sb[i]);
        break;
    case 0xE9: /* PSUBSW */
        for (int i = 0; i < 4; i++)
            r.sw[i] = sat_s16((int32_t)a.sw[i] - b.sw[i]);
        break;
    case 0xEC: /* PADDSB */
        for (int i = 0; i < 8; i++)
            r.sb[i] = sat_s8(a.sb[i] + b.sb[i]);
        break;
    case 0xED: /* PADDSW */
        for (int i = 0; i < 4; i++)
            r.sw[i] = sat_s16((int32_t)a.sw[i] + b.sw[i]);
        break;
    case 0xDB: return dst & src;  /* PAND */
    case 0xDF: return ~dst & src; /* PANDN: the destination is the one inverted */
    case 0xEB: return dst | src;  /* POR */
    case 0xEF: return dst ^ src;  /* PXOR */
    case 0xF8: /* PSUBB: wrapping */
        for (int i = 0; i < 8; i++)
            r.b[i] = (uint8_t)(a.b[i] - b.b[i]);
        break;
    case 0xF9: /* PSUBW */
        for (int i = 0; i < 4; i++)
            r.w[i] = (uint16_t)(a.w[i] - b.w[i]);
        break;
    case 0xFA: /* PSUBD */
        for (int i = 0; i < 2; i++)
            r.d[i] = a.d[i] - b.d[i];
        break;
    case 0xFC: /* PADDB */
        for (int i = 0; i < 8; i++)
            r.b[i] = (uint8_t)(a.b[i] + b.b[i]);
        break;
    case 0xFD: /* PADDW */
        for (int i = 0; i < 4; i++)
            r.w[i] = (uint16_t)(a.w[i] + b.w[i]);
        break;
    default: /* 0xFE PADDD: the table routes nothing else here */
        for (int i = 0; i < 2; i++)
            r.d[i] = a.d[i] + b.d[i];
        break;
    }
    return r.q;
}

/* Every MMX opcode with a ModRM but the shift-by-immediate groups. MOVD/MOVQ have their own
 * operand shapes; the rest are mm <- mm op mm/m64. Operands are read (and stores checked) before
 * the FPU state changes, so a memory fault leaves it as it was. */
void op_mmx(struct cpu *c, const struct insn *in)
{
    struct x87 *f = &c->fpu;
    if (!mmx_begin(c, in))
        return;
    unsigned op = in->op & 0xFF;
    switch (op) {
    case 0x6E: { /* MOVD mm, r/m32: zero-extended */
        uint32_t v = rm_get(c, in, 4);
        mm_touch(f);
        mm_set(f, in->reg, v);
        return;
    }
    case 0x7E: /* MOVD r/m32, mm: reads MMn only, so its exponent bits stay */
        rm_set(c, in, 4, (uint32_t)mm_get(f, in->reg));
        mm_touch(f);
        return;
    case 0x6F: { /* MOVQ mm, mm/m64 */
        uint64_t v = src_q(c, in);
        mm_touch(f);
        mm_set(f, in->reg, v);
        return;
    }
    case 0x7F: { /* MOVQ mm/m64, mm */
        uint64_t v = mm_get(f, in->reg);
        if (in->mem)
            write_q(c, in, v);
        mm_touch(f);
        if (!in->mem)
            mm_set(f, in->rm, v);
        return;
    }
    default: {
        uint64_t b = src_q(c, in);
        uint64_t r = alu(op, mm_get(f, in->reg), b);
        mm_touch(f);
        mm_set(f, in->reg, r);
        return;
    }
    }
}

/* 0F 71/72/73 /2 /4 /6 ib: PSRL/PSRA/PSLL of mm (ModRM.rm, register forms only: the table makes
 * the memory forms and the other reg values #UD) by an immediate count. */
void op_mmx_shift_imm(struct cpu *c, const struct insn *in)
{
    struct x87 *f = &c->fpu;
    if (!mmx_begin(c, in))
        return;
    int bits = in->op == 0x171 ? 16 : in->op == 0x172 ? 32 : 64;
    int kind = in->reg == 2 ? SH_RL : in->reg == 4 ? SH_RA : SH_LL;
    uint64_t r = shift(kind, bits, mm_get(f, in->rm), in->imm & 0xFF);
    mm_touch(f);
    mm_set(f, in->rm, r);
}

/* 0F 77 EMMS: every tag empty, TOP 0, so that x87 code finds a free stack (SDM EMMS). */
void op_emms(struct cpu *c, const struct insn *in)
{
    struct x87 *f = &c->fpu;
    if (!mmx_begin(c, in))
        return;
    f->sw &= (uint16_t)~FSW_TOP;
    f->empty = 0xFF;
}

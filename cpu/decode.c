/* The instruction decoder: prefixes, opcode (through opcode_table), ModRM/SIB, displacement and
 * immediates, into a position-independent struct insn.
 * Intel SDM Vol. 2A ch. 2 (instruction format) and Tables 2-1/2-2 (16- and 32-bit ModRM). */
#include "decode.h"

#include "cpu.h"

#define NOREG 0xFF

/* 16-bit addressing (SDM Vol. 2A Table 2-1): base and index per ModRM.rm. */
static const uint8_t ea16_base[8] = { R_EBX, R_EBX, R_EBP, R_EBP, NOREG, NOREG, R_EBP, R_EBX };
static const uint8_t ea16_index[8] = { R_ESI, R_EDI, R_ESI, R_EDI, R_ESI, R_EDI, NOREG, NOREG };

struct cursor {
    const uint8_t *buf;
    size_t avail;
    size_t pos;
    int err;
};

static uint32_t take(struct cursor *k, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        if (k->pos >= 15) {
            k->err = DEC_TOOLONG;
            return 0;
        }
        if (k->pos >= k->avail) {
            k->err = DEC_SHORT;
            return 0;
        }
        v |= (uint32_t)k->buf[k->pos++] << (8 * i);
    }
    return v;
}

static void decode_modrm(struct cursor *k, struct insn *in, int modreg)
{
    uint8_t m = (uint8_t)take(k, 1);
    in->modrm = m;
    in->mod = m >> 6;
    in->reg = (m >> 3) & 7;
    in->rm = m & 7;
    in->base = in->index = NOREG;
    in->scale = 0;
    in->disp = 0;
    if (in->mod == 3)
        return;
    if (modreg) {
        in->mod = 3; /* MOV CRn/DRn: "the mod bits are ignored" (SDM Vol. 2B, MOV-Move to/from Control Registers) */
        return;
    }
    in->mem = 1;
    int ss_default = 0;
    if (!in->addr32) {
        if (in->mod == 0 && in->rm == 6) {
            in->disp = take(k, 2);
        } else {
            in->base = ea16_base[in->rm];
            in->index = ea16_index[in->rm];
            ss_default = in->base == R_EBP;
            if (in->mod == 1)
                in->disp = (uint32_t)(int8_t)take(k, 1);
            else if (in->mod == 2)
                in->disp = take(k, 2);
        }
    } else {
        uint8_t rm = in->rm;
        if (rm == 4) {
            uint8_t sib = (uint8_t)take(k, 1);
            in->scale = sib >> 6;
            in->index = ((sib >> 3) & 7) == 4 ? NOREG : (sib >> 3) & 7;
            rm = sib & 7;
            if (rm == 5 && in->mod == 0) {
                in->disp = take(k, 4);
                rm = NOREG;
            }
            in->base = rm;
        } else if (rm == 5 && in->mod == 0) {
            in->disp = take(k, 4);
        } else {
            in->base = rm;
        }
        ss_default = in->base == R_EBP || in->base == R_ESP;
        if (in->mod == 1)
            in->disp = (uint32_t)(int8_t)take(k, 1);
        else if (in->mod == 2)
            in->disp = take(k, 4);
    }
    if (in->seg == S_NONE)
        in->ea_seg = ss_default ? S_SS : S_DS;
}

int decode(const uint8_t *buf, size_t avail, int def32, struct insn *in)
{
    struct cursor k = { buf, avail, 0, 0 };
    int opsize_prefix = 0;
    in->seg = S_NONE;
    in->rep = REP_NONE;
    in->lock = 0;
    in->addr32 = (uint8_t)def32;
    in->mem = 0;
    in->mod = 3;
    in->modrm = in->reg = in->rm = 0;
    in->base = in->index = NOREG;
    in->scale = 0;
    in->disp = in->imm = in->imm2 = 0;

    /* Prefixes may repeat and come in any order; the last segment and repeat prefix win. */
    uint32_t b;
    for (;;) {
        b = take(&k, 1);
        if (k.err)
            return k.err;
        switch (b) {
        case 0x26: in->seg = S_ES; continue;
        case 0x2E: in->seg = S_CS; continue;
        case 0x36: in->seg = S_SS; continue;
        case 0x3E: in->seg = S_DS; continue;
        case 0x64: in->seg = S_FS; continue;
        case 0x65: in->seg = S_GS; continue;
        case 0x66: opsize_prefix = 1; continue;
        case 0x67: in->addr32 = (uint8_t)!def32; continue;
        case 0xF0: in->lock = 1; continue;
        case 0xF2: in->rep = REP_F2; continue;
        case 0xF3: in->rep = REP_F3; continue;
        }
        break;
    }
    in->nprefix = (uint8_t)(k.pos - 1);
    in->opsize = (def32 ^ opsize_prefix) ? 4 : 2;
    in->ea_seg = in->seg == S_NONE ? S_DS : in->seg;
    if (b == 0x0F) {
        b = 0x100 | take(&k, 1);
        if (k.err)
            return k.err;
    }
    in->op = (uint16_t)b;
    const struct opdesc *d = &opcode_table[b];
    if (d->fl & OPF_MODRM) {
        decode_modrm(&k, in, (d->fl & OPF_MODREG) != 0);
        if (k.err)
            return k.err;
        if (d->fl & OPF_GROUP)
            d = &d->group[in->reg];
    }
    in->d = d;
    uint32_t fl = d->fl;

    if (fl & OPF_MOFFS) {
        in->mem = 1;
        in->disp = take(&k, in->addr32 ? 4 : 2);
    }
    if (fl & OPF_IMM16)
        in->imm = take(&k, 2);
    if (fl & (OPF_IMM8 | OPF_REL8)) {
        if (fl & OPF_IMM16)
            in->imm2 = take(&k, 1);
        else
            in->imm = take(&k, 1);
    }
    if (fl & (OPF_IMMV | OPF_RELV | OPF_FAR))
        in->imm = take(&k, in->opsize);
    if (fl & OPF_FAR)
        in->imm2 = take(&k, 2);
    if (fl & OPF_REL8)
        in->imm = (uint32_t)(int8_t)in->imm;
    else if ((fl & OPF_RELV) && in->opsize == 2)
        in->imm = (uint32_t)(int16_t)in->imm;
    if (k.err)
        return k.err;
    in->len = (uint8_t)k.pos;

    if (fl & OPF_INVALID)
        return DEC_UD;
    if ((fl & OPF_MEMONLY) && !in->mem)
        return DEC_UD;
    if ((fl & OPF_REGONLY) && in->mem)
        return DEC_UD;
    /* LOCK is legal only on a read-modify-write instruction with a memory destination
     * (SDM Vol. 2A, LOCK: "#UD if the LOCK prefix is used with any other instruction"). */
    if (in->lock && (!(fl & OPF_LOCK) || !in->mem))
        return DEC_UD;
    return in->len;
}

/* x87 control state: tags, FNINIT/FNCLEX, and the environment and full-state images of
 * FNSTENV/FLDENV/FNSAVE/FRSTOR in their 16/32-bit, real/protected-mode forms.
 * Intel SDM Vol. 1 §8.1.7 (tags), §8.1.10 and Figures 8-9 to 8-12 (image layouts); Vol. 2 FSTENV,
 * FLDENV, FSAVE, FRSTOR and FINIT pages. */
#include <string.h>

#include "x87_impl.h"

void x87_reset(struct x87 *f)
{
    void (*hook)(void *, int) = f->irq13;
    void *opaque = f->irq13_opaque;
    memset(f, 0, sizeof(*f));
    f->irq13 = hook;
    f->irq13_opaque = opaque;
}

void x87_init(struct x87 *f)
{
    f->cw = FCW_FNINIT;
    f->sw = 0;
    f->empty = 0xFF;
    f->fop = 0;
    f->fcs = f->fds = 0;
    f->fip = f->fdp = 0;
    x87_update_es(f);
}

void x87_fnclex(struct x87 *f)
{
    f->sw &= (uint16_t)~(FSW_EXC | FSW_SF | FSW_ES | FSW_B);
    x87_update_es(f);
}

int x87_tag_of(const uint8_t v[10])
{
    uint64_t m;
    memcpy(&m, v, 8);
    unsigned exp = (unsigned)(v[8] | (v[9] << 8)) & 0x7FFFu;
    if (exp == 0x7FFF)
        return TAG_SPECIAL;                      /* infinities, NaNs, pseudo-forms */
    if (exp == 0)
        return m == 0 ? TAG_ZERO : TAG_SPECIAL;  /* denormals and pseudo-denormals */
    return (m >> 63) ? TAG_VALID : TAG_SPECIAL;  /* unnormals are special */
}

uint16_t x87_tag_word(const struct x87 *f)
{
    uint16_t tw = 0;
    for (int r = 0; r < 8; r++) {
        int t = (f->empty >> r) & 1 ? TAG_EMPTY : x87_tag_of(f->reg[r]);
        tw |= (uint16_t)(t << (2 * r));
    }
    return tw;
}

void x87_get_st(const struct x87 *f, int i, uint8_t out[10])
{
    memcpy(out, f->reg[(x87_top(f) + i) & 7], 10);
}

void x87_set_st(struct x87 *f, int i, const uint8_t v[10])
{
    int r = (x87_top(f) + i) & 7;
    memcpy(f->reg[r], v, 10);
    f->empty &= (uint8_t)~(1u << r);
}

void x87_push(struct x87 *f, const uint8_t v[10])
{
    int top = (x87_top(f) - 1) & 7;
    f->sw = (uint16_t)((f->sw & ~FSW_TOP) | (top << 11));
    x87_set_st(f, 0, v);
}

/* Real and virtual-8086 mode use the real-mode layouts, which hold 20/32-bit linear pointers
 * (selector * 16 + offset) and the opcode instead of selectors (SDM Vol. 1 §8.1.10). */
static int pm_layout(const struct cpu *c) { return cpu_pmode(c) && !cpu_v86(c); }

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (get16(p + 2) << 16); }

/* Builds the environment (14 or 28 bytes) into buf; returns its size. The words the figures mark
 * "reserved" are written as FFFFH, which is what Intel processors store there. */
static int build_env(const struct cpu *c, int o32, uint8_t *buf)
{
    const struct x87 *f = &c->fpu;
    uint32_t lip = ((uint32_t)f->fcs << 4) + f->fip, ldp = ((uint32_t)f->fds << 4) + f->fdp;
    uint32_t fop = f->fop & 0x7FFu;
    int pm = pm_layout(c);
    if (o32) {
        put32(buf + 0, 0xFFFF0000u | x87_cw(f));
        put32(buf + 4, 0xFFFF0000u | f->sw);
        put32(buf + 8, 0xFFFF0000u | x87_tag_word(f));
        if (pm) {
            put32(buf + 12, f->fip);
            put32(buf + 16, f->fcs | (fop << 16));
            put32(buf + 20, f->fdp);
            put32(buf + 24, 0xFFFF0000u | f->fds);
        } else {
            put32(buf + 12, 0xFFFF0000u | (lip & 0xFFFF));
            put32(buf + 16, ((lip >> 16) << 12 & 0x0FFFF000u) | fop);
            put32(buf + 20, 0xFFFF0000u | (ldp & 0xFFFF));
            put32(buf + 24, (ldp >> 16) << 12 & 0x0FFFF000u);
        }
        return 28;
    }
    put16(buf + 0, x87_cw(f));
    put16(buf + 2, f->sw);
    put16(buf + 4, x87_tag_word(f));
    if (pm) {
        put16(buf + 6, f->fip);
        put16(buf + 8, f->fcs);
        put16(buf + 10, f->fdp);
        put16(buf + 12, f->fds);
    } else {
        put16(buf + 6, lip);
        put16(buf + 8, ((lip >> 16) & 0xF) << 12 | fop);
        put16(buf + 10, ldp);
        put16(buf + 12, ((ldp >> 16) & 0xF) << 12);
    }
    return 14;
}

/* Loads an environment image. The tag word only says which registers are empty: the others are
 * tagged from their contents (SDM FLDENV/FRSTOR). ES and B follow from the loaded flags and masks,
 * so an unmasked flag that was set is reported by the next waiting instruction. */
static void apply_env(struct cpu *c, int o32, const uint8_t *buf)
{
    struct x87 *f = &c->fpu;
    int pm = pm_layout(c);
    uint32_t tw;
    if (o32) {
        f->cw = (uint16_t)(get16(buf + 0) & 0x1F3Fu);
        f->sw = (uint16_t)get16(buf + 4);
        tw = get16(buf + 8);
        if (pm) {
            f->fip = get32(buf + 12);
            f->fcs = (uint16_t)get16(buf + 16);
            f->fop = (uint16_t)(get16(buf + 18) & 0x7FF);
            f->fdp = get32(buf + 20);
            f->fds = (uint16_t)get16(buf + 24);
        } else {
            f->fip = get16(buf + 12) | ((get32(buf + 16) >> 12 & 0xFFFF) << 16);
            f->fop = (uint16_t)(get16(buf + 16) & 0x7FF);
            f->fdp = get16(buf + 20) | ((get32(buf + 24) >> 12 & 0xFFFF) << 16);
            f->fcs = f->fds = 0;
        }
    } else {
        f->cw = (uint16_t)(get16(buf + 0) & 0x1F3Fu);
        f->sw = (uint16_t)get16(buf + 2);
        tw = get16(buf + 4);
        if (pm) {
            f->fip = get16(buf + 6);
            f->fcs = (uint16_t)get16(buf + 8);
            f->fdp = get16(buf + 10);
            f->fds = (uint16_t)get16(buf + 12);
        } else {
            f->fip = get16(buf + 6) | ((get16(buf + 8) >> 12) << 16);
            f->fop = (uint16_t)(get16(buf + 8) & 0x7FF);
            f->fdp = get16(buf + 10) | ((get16(buf + 12) >> 12) << 16);
            f->fcs = f->fds = 0;
        }
    }
    f->empty = 0;
    for (int r = 0; r < 8; r++)
        if (((tw >> (2 * r)) & 3) == TAG_EMPTY)
            f->empty |= (uint8_t)(1u << r);
    x87_update_es(f);
}

static void write_bytes(struct cpu *c, const struct insn *in, const uint8_t *buf, int n)
{
    for (int k = 0; k < n; k += 2)
        mem_write(c, in->ea_seg, c->ea + (uint32_t)k, 2, get16(buf + k));
}

static void read_bytes(struct cpu *c, const struct insn *in, uint8_t *buf, int n)
{
    for (int k = 0; k < n; k += 2)
        put16(buf + k, mem_read(c, in->ea_seg, c->ea + (uint32_t)k, 2));
}

/* FNSTENV: stores the environment, then masks every exception (SDM FSTENV). */
void x87_fnstenv(struct cpu *c, const struct insn *in)
{
    uint8_t buf[28];
    int n = build_env(c, in->opsize == 4, buf);
    mem_check_write(c, in->ea_seg, c->ea, n);
    write_bytes(c, in, buf, n);
    c->fpu.cw |= FSW_EXC;
    x87_update_es(&c->fpu);
}

void x87_fldenv(struct cpu *c, const struct insn *in)
{
    uint8_t buf[28];
    int n = in->opsize == 4 ? 28 : 14;
    read_bytes(c, in, buf, n);
    apply_env(c, in->opsize == 4, buf);
}

/* FNSAVE: the environment, then ST(0)..ST(7) in stack order; then the FPU is reinitialised. */
void x87_fnsave(struct cpu *c, const struct insn *in)
{
    struct x87 *f = &c->fpu;
    uint8_t buf[108];
    int n = build_env(c, in->opsize == 4, buf);
    for (int i = 0; i < 8; i++)
        x87_get_st(f, i, buf + n + 10 * i);
    mem_check_write(c, in->ea_seg, c->ea, n + 80);
    write_bytes(c, in, buf, n + 80);
    x87_init(f);
}

void x87_frstor(struct cpu *c, const struct insn *in)
{
    struct x87 *f = &c->fpu;
    uint8_t buf[108];
    int n = in->opsize == 4 ? 28 : 14;
    read_bytes(c, in, buf, n + 80);
    apply_env(c, in->opsize == 4, buf);
    int top = x87_top(f);
    for (int i = 0; i < 8; i++)
        memcpy(f->reg[(top + i) & 7], buf + n + 10 * i, 10);
}

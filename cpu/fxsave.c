/* FXSAVE/FXRSTOR (0F AE /0, /1): the x87 and MMX state in the 512-byte image of a CPU that has
 * FXSR but no SSE, as the Pentium II introduced them.
 * Intel SDM Vol. 2 FXSAVE and FXRSTOR (Table "Non-64-bit-mode layout"), Vol. 3A §2.5 (CR4.OSFXSR),
 * §12.2.1 (the abridged tag word).
 *
 * The image this CPU reads and writes is bytes 0-159: FCW, FSW, abridged FTW, FOP, FIP/FCS,
 * FDP/FDS and ST0-ST7 (with the reserved bytes of that range written as zero, as Intel
 * processors store them). A Pentium II has no MXCSR and no XMM registers, so bytes 24-31 and
 * 160-511 are neither read nor written: the SDM makes saving them implementation dependent even
 * on SSE CPUs when CR4.OSFXSR is clear, and leaves bytes 464-511 to software always. For the same
 * reason CR4.OSFXSR changes nothing here (it only gates the SSE state), and FXRSTOR has no MXCSR
 * reserved-bit #GP to raise. */
#include <string.h>

#include "x87_impl.h"

#define FX_BYTES 160 /* the x87/MMX part of the image */

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (get16(p + 2) << 16); }

/* The checks both instructions make, in the SDM's order: #NM with CR0.EM or CR0.TS (they are x87
 * state instructions, so EM is #NM as for x87, not #UD as for MMX), then #GP(0) for an operand
 * whose linear address is not 16-byte aligned, "regardless of segment", before any limit or page
 * check. Neither waits: a pending x87 exception is not reported (SDM FXSAVE: "similar to FNSAVE"). */
static void fx_begin(struct cpu *c, const struct insn *in)
{
    if (c->cr[0] & (CR0_EM | CR0_TS))
        cpu_fault(c, EXC_NM, 0);
    if ((c->seg[in->ea_seg].base + c->ea) & 15)
        cpu_fault(c, EXC_GP, 0);
}

/* Bytes 24-31 (MXCSR, MXCSR_MASK) lie inside the x87 part but belong to SSE. */
static int fx_no_state(int k) { return k >= 24 && k < 32; }

/* FIP and FDP: 32-bit offsets with a 32-bit operand size; with a 16-bit one the low 16 bits,
 * the upper half reserved (stored as zero). */
static uint32_t ptr_mask(const struct insn *in) { return in->opsize == 4 ? 0xFFFFFFFFu : 0xFFFFu; }

void op_fxsave(struct cpu *c, const struct insn *in)
{
    const struct x87 *f = &c->fpu;
    uint8_t img[FX_BYTES];
    fx_begin(c, in);
    memset(img, 0, sizeof(img));
    put16(img + 0, x87_cw(f));
    put16(img + 2, f->sw);
    img[4] = (uint8_t)~f->empty; /* abridged: 1 = register in use, by physical register */
    put16(img + 6, f->fop & 0x7FFu);
    put32(img + 8, f->fip & ptr_mask(in));
    put16(img + 12, f->fcs);
    put32(img + 16, f->fdp & ptr_mask(in));
    put16(img + 20, f->fds);
    for (int i = 0; i < 8; i++)
        x87_get_st(f, i, img + 32 + 16 * i);
    /* The whole store is checked first, so a fault on its last page writes nothing. */
    mem_check_write(c, in->ea_seg, c->ea, FX_BYTES);
    for (int k = 0; k < FX_BYTES; k += 4)
        if (!fx_no_state(k))
            mem_write(c, in->ea_seg, c->ea + (uint32_t)k, 4, get32(img + k));
    /* Unlike FNSAVE, the state stays as it was. */
}

void op_fxrstor(struct cpu *c, const struct insn *in)
{
    struct x87 *f = &c->fpu;
    uint8_t img[FX_BYTES];
    fx_begin(c, in);
    memset(img, 0, sizeof(img));
    for (int k = 0; k < FX_BYTES; k += 4)
        if (!fx_no_state(k))
            put32(img + k, mem_read(c, in->ea_seg, c->ea + (uint32_t)k, 4));
    f->cw = (uint16_t)(get16(img + 0) & 0x1F3Fu);
    f->sw = (uint16_t)get16(img + 2);
    /* Registers marked in use get their full tags from their contents (x87_tag_word). */
    f->empty = (uint8_t)~img[4];
    f->fop = (uint16_t)(get16(img + 6) & 0x7FFu);
    f->fip = get32(img + 8) & ptr_mask(in);
    f->fcs = (uint16_t)get16(img + 12);
    f->fdp = get32(img + 16) & ptr_mask(in);
    f->fds = (uint16_t)get16(img + 20);
    int top = x87_top(f);
    for (int i = 0; i < 8; i++)
        memcpy(f->reg[(top + i) & 7], img + 32 + 16 * i, 10);
    /* An unmasked flag that comes back set is pending: the next waiting instruction reports it
     * (SDM FXRSTOR: "does not flush pending x87 FPU exceptions"). */
    x87_update_es(f);
}

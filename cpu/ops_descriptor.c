/* Protected-mode descriptor instructions: SLDT STR LLDT LTR VERR VERW (0F 00), LAR LSL and ARPL.
 * Intel SDM Vol. 2 pages of each (operation sections and the LAR/LSL valid-type tables);
 * Vol. 3A §5.10 (pointer validation), §7.2.2-7.2.4 (TSS descriptors, TR), §3.5.1 (LDT). */
#include "interp.h"

/* System-descriptor types (S = 0) LAR accepts: 16-bit TSS available/busy (1, 3), LDT (2), 16-bit
 * call gate (4), task gate (5), 32-bit TSS available/busy (9, B), 32-bit call gate (C). LSL
 * accepts only the ones with a limit: the TSSs and the LDT. Interrupt/trap gates never. */
#define LAR_SYSTEM_TYPES 0x1A3Eu
#define LSL_SYSTEM_TYPES 0x0A0Eu

static uint32_t sel_err(uint16_t sel) { return sel & 0xFFFCu; }

/* SLDT/STR: a memory destination gets 16 bits; a 32-bit register gets the selector zero-extended
 * (SDM SLDT/STR: "the high-order 16 bits are cleared" on P6-family processors). */
static void store_selector(struct cpu *c, const struct insn *in, uint16_t sel)
{
    if (in->mem)
        mem_write(c, in->ea_seg, c->ea, 2, sel);
    else
        reg_set(c, in->rm, in->opsize, sel);
}

static void require_cpl0(struct cpu *c)
{
    if (c->cpl != 0)
        cpu_fault(c, EXC_GP, 0);
}

/* LLDT: a null selector (bits 2-15 zero) leaves LDTR unusable, so that a later reference
 * through TI = 1 faults; otherwise the selector must name a present LDT descriptor in the GDT. */
static void lldt(struct cpu *c, uint16_t sel)
{
    struct segreg d;
    uint32_t addr;
    if ((sel & 0xFFFC) == 0) {
        c->ldtr = (struct segreg){ sel, 0, 0, 0 };
        return;
    }
    if ((sel & 4) || read_descriptor(c, sel, &d, &addr))
        cpu_fault(c, EXC_GP, sel_err(sel));
    if ((d.ar & (AR_S | AR_TYPE)) != 0x2)
        cpu_fault(c, EXC_GP, sel_err(sel));
    if (!(d.ar & AR_P))
        cpu_fault(c, EXC_NP, sel_err(sel));
    c->ldtr = d;
}

/* LTR: the selector must name a present available TSS (type 1 or 9) in the GDT; the descriptor
 * is marked busy in memory (a locked write of its type byte) and TR caches it (SDM LTR). */
static void ltr(struct cpu *c, uint16_t sel)
{
    struct segreg d;
    uint32_t addr;
    if ((sel & 0xFFFC) == 0)
        cpu_fault(c, EXC_GP, 0);
    if ((sel & 4) || read_descriptor(c, sel, &d, &addr))
        cpu_fault(c, EXC_GP, sel_err(sel));
    unsigned type = d.ar & (AR_S | AR_TYPE);
    if (type != 0x1 && type != 0x9)
        cpu_fault(c, EXC_GP, sel_err(sel)); /* a busy TSS or anything else */
    if (!(d.ar & AR_P))
        cpu_fault(c, EXC_NP, sel_err(sel));
    d.ar |= 0x2;
    mmu_write(c, addr + 5, 1, d.ar & 0xFF, 0);
    c->tr = d;
}

/* Reads the descriptor sel names for LAR/LSL/VERR/VERW, which never fault on a bad selector: a
 * null selector or one past its table's limit (or into an unusable LDT) gives -1. */
static int probe(struct cpu *c, uint16_t sel, struct segreg *d)
{
    uint32_t addr;
    if ((sel & 0xFFFC) == 0)
        return -1;
    return read_descriptor(c, sel, d, &addr);
}

/* The privilege rule of LAR/LSL/VERR/VERW: DPL >= CPL and DPL >= RPL, except that conforming
 * code segments are visible from any level (SDM LAR operation). */
static int visible(const struct cpu *c, const struct segreg *d, uint16_t sel)
{
    int dpl = (d->ar & AR_DPL) >> 5;
    if ((d->ar & AR_S) && (d->ar & 0xC) == 0xC)
        return 1;
    return dpl >= c->cpl && dpl >= (sel & 3);
}

/* VERR/VERW: ZF = 1 when the segment is readable/writable from here; only ZF changes. The P bit
 * is not examined (SDM VERR/VERW operation). */
static void verify(struct cpu *c, uint16_t sel, int write)
{
    struct segreg d;
    int ok = 0;
    if (probe(c, sel, &d) == 0 && (d.ar & AR_S) && visible(c, &d, sel)) {
        unsigned type = d.ar & AR_TYPE;
        int code = (type & 8) != 0;
        ok = write ? !code && (type & 2) : !code || (type & 2);
    }
    set_flag(c, F_ZF, ok);
}

void descriptor_grp6(struct cpu *c, const struct insn *in)
{
    switch (in->reg) {
    case 0: store_selector(c, in, c->ldtr.sel); break;
    case 1: store_selector(c, in, c->tr.sel); break;
    case 2:
        require_cpl0(c);
        lldt(c, (uint16_t)rm_get(c, in, 2));
        break;
    case 3:
        require_cpl0(c);
        ltr(c, (uint16_t)rm_get(c, in, 2));
        break;
    case 4: verify(c, (uint16_t)rm_get(c, in, 2), 0); break;
    case 5: verify(c, (uint16_t)rm_get(c, in, 2), 1); break;
    default: cpu_fault(c, EXC_UD, 0);
    }
}

/* 0F 02 LAR / 0F 03 LSL r, r/m16. On success ZF = 1 and the destination is written; otherwise
 * ZF = 0 and the destination is unchanged. */
void descriptor_lar_lsl(struct cpu *c, const struct insn *in)
{
    uint16_t sel = (uint16_t)rm_get(c, in, 2);
    int lsl = in->op == 0x103;
    struct segreg d;
    int ok = probe(c, sel, &d) == 0 && visible(c, &d, sel);
    if (ok && !(d.ar & AR_S))
        ok = ((lsl ? LSL_SYSTEM_TYPES : LAR_SYSTEM_TYPES) >> (d.ar & AR_TYPE)) & 1;
    set_flag(c, F_ZF, ok);
    if (!ok)
        return;
    uint32_t v;
    if (lsl) {
        v = d.limit; /* byte granular: G already applied to the cached limit */
    } else {
        /* The descriptor's second doubleword masked with 00FxFF00H (32-bit) or FF00H (16-bit).
         * The SDM leaves bits 19:16 ("x") undefined; jitpc returns them as zero. */
        v = ((uint32_t)(d.ar & 0xFF) << 8) | ((uint32_t)(d.ar & 0xF000) << 8);
    }
    reg_set(c, in->reg, in->opsize, v);
}

/* 63 ARPL r/m16, r16: raises the destination selector's RPL to the source's (ZF = 1), else
 * ZF = 0 and the destination is left alone. Always 16-bit, whatever the operand size. */
void descriptor_arpl(struct cpu *c, const struct insn *in)
{
    uint32_t dst = rm_get(c, in, 2);
    uint32_t src = reg_get(c, in->reg, 2);
    if ((dst & 3) < (src & 3)) {
        rm_set(c, in, 2, (dst & ~3u) | (src & 3));
        set_flag(c, F_ZF, 1);
    } else {
        set_flag(c, F_ZF, 0);
    }
}

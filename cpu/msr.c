/* Model-specific registers of a P6 (Pentium II) that firmware and Linux touch: TSC, APIC base,
 * SYSENTER, machine-check globals, performance counters, DEBUGCTL/LBR, and the MTRRs. Intel SDM
 * Vol. 4 (P6 family MSR table), Vol. 3A §11.11 (MTRRs), Vol. 3B §17.17 (TSC) and its P6-family
 * performance-monitoring and last-branch-recording sections. */
#include "interp.h"

#define MSR_TSC 0x10u
#define MSR_PLATFORM_ID 0x17u
#define MSR_APIC_BASE 0x1Bu
#define MSR_EBL_CR_POWERON 0x2Au
#define MSR_BIOS_UPDT_TRIG 0x79u
#define MSR_BIOS_SIGN_ID 0x8Bu
#define MSR_PERFCTR0 0xC1u
#define MSR_PERFCTR1 0xC2u
#define MSR_MTRRCAP 0xFEu
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_MCG_CAP 0x179u
#define MSR_MCG_STATUS 0x17Au
#define MSR_PERFEVTSEL0 0x186u
#define MSR_PERFEVTSEL1 0x187u
#define MSR_DEBUGCTL 0x1D9u
#define MSR_LASTBRANCH_FROM 0x1DBu /* ..0x1DE: LASTBRANCHTOIP, LASTINTFROMIP, LASTINTTOIP */
#define MSR_LASTINT_TO 0x1DEu
#define MSR_MTRR_PHYS_FIRST 0x200u
#define MSR_MTRR_PHYS_LAST 0x20Fu
#define MSR_MTRR_DEF_TYPE 0x2FFu

/* MTRRcap: 8 variable ranges (VCNT), fixed ranges (FIX, bit 8), write-combining (WC, bit 10). */
#define MTRRCAP_VALUE 0x508u
/* A P6 has a 36-bit physical address for MTRR purposes (SDM §11.11.2.3: MAXPHYADDR 36 when CPUID
 * has no leaf 80000008H): bits 63:36 of PHYSBASE/PHYSMASK are reserved. */
#define PHYS_RESERVED 0xFFFFFFF000000000ull
#define PHYSBASE_RESERVED (PHYS_RESERVED | 0xF00u)
#define PHYSMASK_RESERVED (PHYS_RESERVED | 0x7FFu)
#define DEF_TYPE_RESERVED (~0xCFFull) /* type 7:0, FE bit 10, E bit 11 */
/* DEBUGCTL on a P6: LBR, BTF, PB0-PB3, TR (SDM Vol. 3B, P6-family last-branch recording). */
#define DEBUGCTL_VALID 0x7Fu
/* PerfEvtSel: bit 21 and bits 63:32 are reserved. */
#define EVTSEL_RESERVED 0xFFFFFFFF00200000ull
#define MCG_STATUS_VALID 0x7u /* RIPV, EIPV, MCIP */
#define PERFCTR_MASK 0xFFFFFFFFFFull

/* Memory types an MTRR may hold: UC 0, WC 1, WT 4, WP 5, WB 6; any other encoding is #GP
 * (SDM §11.11.2.1). */
static int valid_type(uint64_t t)
{
    t &= 0xFF;
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

/* Index into msrs.mtrr_fixed of a fixed-range MTRR, or -1. */
static int fixed_index(uint32_t idx)
{
    if (idx == 0x250)
        return 0;
    if (idx == 0x258 || idx == 0x259)
        return (int)(idx - 0x258) + 1;
    if (idx >= 0x268 && idx <= 0x26F)
        return (int)(idx - 0x268) + 3;
    return -1;
}

int msr_read(struct cpu *c, uint32_t idx, uint64_t *v)
{
    struct msrs *m = &c->msr;
    int fix = fixed_index(idx);
    if (fix >= 0) {
        *v = m->mtrr_fixed[fix];
        return 0;
    }
    if (idx >= MSR_MTRR_PHYS_FIRST && idx <= MSR_MTRR_PHYS_LAST) {
        *v = m->mtrr_var[idx - MSR_MTRR_PHYS_FIRST];
        return 0;
    }
    switch (idx) {
    case MSR_TSC: *v = cpu_tsc_read(c); return 0;
    case MSR_PLATFORM_ID: *v = 0; return 0; /* platform ID 0 in bits 52:50 */
    case MSR_APIC_BASE: *v = c->apic_base; return 0;
    case MSR_EBL_CR_POWERON: *v = 0; return 0; /* no power-on strapping options are modelled */
    case MSR_BIOS_SIGN_ID: *v = m->bios_sign_id; return 0;
    case MSR_PERFCTR0:
    case MSR_PERFCTR1: *v = m->perfctr[idx - MSR_PERFCTR0]; return 0;
    case MSR_MTRRCAP: *v = MTRRCAP_VALUE; return 0;
    case MSR_SYSENTER_CS: *v = c->sysenter_cs; return 0;
    case MSR_SYSENTER_ESP: *v = c->sysenter_esp; return 0;
    case MSR_SYSENTER_EIP: *v = c->sysenter_eip; return 0;
    case MSR_MCG_CAP: *v = 0; return 0; /* no banks, no MCG_CTL: machine checks are not modelled */
    case MSR_MCG_STATUS: *v = m->mcg_status; return 0;
    case MSR_PERFEVTSEL0:
    case MSR_PERFEVTSEL1: *v = m->perfevtsel[idx - MSR_PERFEVTSEL0]; return 0;
    case MSR_DEBUGCTL: *v = m->debugctl; return 0;
    case MSR_MTRR_DEF_TYPE: *v = m->mtrr_def_type; return 0;
    default:
        if (idx >= MSR_LASTBRANCH_FROM && idx <= MSR_LASTINT_TO) {
            *v = 0; /* last-branch recording is not modelled: the records stay zero */
            return 0;
        }
        return -1;
    }
}

int msr_write(struct cpu *c, uint32_t idx, uint64_t v)
{
    struct msrs *m = &c->msr;
    int fix = fixed_index(idx);
    if (fix >= 0) {
        /* Eight 8-bit type fields, each of which must be a defined type. */
        for (int i = 0; i < 64; i += 8)
            if (!valid_type(v >> i))
                return -1;
        m->mtrr_fixed[fix] = v;
        return 0;
    }
    if (idx >= MSR_MTRR_PHYS_FIRST && idx <= MSR_MTRR_PHYS_LAST) {
        int is_mask = (idx & 1) != 0;
        if (v & (is_mask ? PHYSMASK_RESERVED : PHYSBASE_RESERVED))
            return -1;
        if (!is_mask && !valid_type(v))
            return -1;
        m->mtrr_var[idx - MSR_MTRR_PHYS_FIRST] = v;
        return 0;
    }
    switch (idx) {
    case MSR_TSC:
        /* Before family 0FH model 3 only the low 32 bits can be written; the high 32 bits are
         * cleared (SDM Vol. 3B §17.17). */
        cpu_tsc_write(c, (uint32_t)v);
        return 0;
    case MSR_APIC_BASE:
        if (v & ~0xFFFFF900ull) /* reserved bits: #GP (P6 has a 32-bit physical space) */
            return -1;
        c->apic_base = v;
        return 0;
    case MSR_EBL_CR_POWERON:
        return 0; /* configuration bits latched at reset; writes have no modelled effect */
    case MSR_BIOS_UPDT_TRIG:
        return 0; /* a microcode update: accepted and ignored */
    case MSR_BIOS_SIGN_ID:
        m->bios_sign_id = v;
        return 0;
    case MSR_PERFCTR0:
    case MSR_PERFCTR1:
        /* The low 32 bits are written and sign-extended into bits 39:32 (P6 counters). */
        m->perfctr[idx - MSR_PERFCTR0] = (uint64_t)(int64_t)(int32_t)(uint32_t)v & PERFCTR_MASK;
        return 0;
    case MSR_SYSENTER_CS: c->sysenter_cs = (uint32_t)v; return 0;
    case MSR_SYSENTER_ESP: c->sysenter_esp = (uint32_t)v; return 0;
    case MSR_SYSENTER_EIP: c->sysenter_eip = (uint32_t)v; return 0;
    case MSR_MCG_STATUS:
        if (v & ~(uint64_t)MCG_STATUS_VALID)
            return -1;
        m->mcg_status = v;
        return 0;
    case MSR_PERFEVTSEL0:
    case MSR_PERFEVTSEL1:
        if (v & EVTSEL_RESERVED)
            return -1;
        m->perfevtsel[idx - MSR_PERFEVTSEL0] = v;
        return 0;
    case MSR_DEBUGCTL:
        if (v & ~(uint64_t)DEBUGCTL_VALID)
            return -1;
        m->debugctl = (uint32_t)v;
        return 0;
    case MSR_MTRR_DEF_TYPE:
        if ((v & DEF_TYPE_RESERVED) || !valid_type(v))
            return -1;
        m->mtrr_def_type = v;
        return 0;
    default:
        /* Read-only registers (PLATFORM_ID, MTRRcap, MCG_CAP, the LBR records) and unknown
         * indices: #GP(0). */
        return -1;
    }
}

uint64_t msr_pmc(const struct cpu *c, int n)
{
    return c->msr.perfctr[n & 1];
}

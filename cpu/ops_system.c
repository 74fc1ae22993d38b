/* System instructions as far as real mode reaches them: HLT, CPUID, RDTSC, RDMSR/WRMSR, RDPMC,
 * MOV to/from CRn and DRn, CLTS, INVD/WBINVD, WAIT, the x87 escape, #UD, LGDT/LIDT/SGDT/SIDT/
 * SMSW/LMSW, and the protected-mode-only opcodes' real-mode #UD. Intel SDM Vol. 2 pages of each,
 * Vol. 3A §2.5 (control registers), Vol. 4 (MSRs), CPUID per Vol. 2A CPUID tables. */
#include "interp.h"

/* Privileged instructions need CPL 0 in protected mode and #GP in virtual-8086 mode. */
static void require_cpl0(struct cpu *c)
{
    if (cpu_pmode(c) && (cpu_v86(c) || c->cpl != 0))
        cpu_fault(c, EXC_GP, 0);
}

void op_hlt(struct cpu *c, const struct insn *in)
{
    (void)in;
    require_cpl0(c);
    c->halted = 1;
}

void op_ud(struct cpu *c, const struct insn *in)
{
    (void)in;
    cpu_fault(c, EXC_UD, 0);
}

/* CPUID of a Pentium II (family 6, model 5, stepping 2). Feature bits list only what this CPU
 * model implements (APIC, and PAE, join as they are built). */
void op_cpuid(struct cpu *c, const struct insn *in)
{
    (void)in;
    static const uint32_t feat_fpu = 1u << 0, feat_vme = 1u << 1, feat_de = 1u << 2, feat_pse = 1u << 3,
                          feat_tsc = 1u << 4, feat_msr = 1u << 5, feat_cx8 = 1u << 8, feat_sep = 1u << 11,
                          feat_mtrr = 1u << 12, feat_pge = 1u << 13, feat_cmov = 1u << 15, feat_mmx = 1u << 23,
                          feat_fxsr = 1u << 24;
    uint32_t leaf = c->r[R_EAX];
    switch (leaf) {
    case 0:
        c->r[R_EAX] = 2;
        c->r[R_EBX] = 0x756E6547u; /* "GenuineIntel" */
        c->r[R_EDX] = 0x49656E69u;
        c->r[R_ECX] = 0x6C65746Eu;
        break;
    case 1:
        c->r[R_EAX] = 0x00000652u;
        c->r[R_EBX] = 0;
        c->r[R_ECX] = 0;
        c->r[R_EDX] = feat_fpu | feat_vme | feat_de | feat_pse | feat_tsc | feat_msr | feat_cx8 | feat_sep | feat_mtrr |
                      feat_pge | feat_cmov | feat_mmx | feat_fxsr;
        break;
    case 2:
        /* Cache and TLB descriptors of a Pentium II: 0x01 0x02 0x03 0x04 (TLBs), 0x08 0x0C (L1),
         * 0x43 (512 KiB L2); AL = 1 means one call reports them all. */
        c->r[R_EAX] = 0x03020101u;
        c->r[R_EBX] = 0;
        c->r[R_ECX] = 0;
        c->r[R_EDX] = 0x0C040843u;
        break;
    default:
        /* Leaves above the maximum return the highest basic leaf's data (SDM CPUID). */
        c->r[R_EAX] = 0x03020101u;
        c->r[R_EBX] = 0;
        c->r[R_ECX] = 0;
        c->r[R_EDX] = 0x0C040843u;
        break;
    }
}

/* RDTSC: #GP when CR4.TSD is set outside CPL 0. */
void op_rdtsc(struct cpu *c, const struct insn *in)
{
    (void)in;
    if ((c->cr[4] & 0x4) && cpu_pmode(c) && (cpu_v86(c) || c->cpl != 0))
        cpu_fault(c, EXC_GP, 0);
    uint64_t t = cpu_tsc_read(c);
    c->r[R_EAX] = (uint32_t)t;
    c->r[R_EDX] = (uint32_t)(t >> 32);
}

void op_rdpmc(struct cpu *c, const struct insn *in)
{
    (void)in;
    /* Counters 0 and 1 exist on a P6; CR4.PCE lets CPL > 0 read them. No events are counted:
     * they read back what WRMSR stored in PERFCTR0/1 (cpu/msr.c), 40 bits. */
    if ((c->r[R_ECX] > 1) || (cpu_pmode(c) && (cpu_v86(c) || c->cpl != 0) && !(c->cr[4] & 0x100)))
        cpu_fault(c, EXC_GP, 0);
    uint64_t v = msr_pmc(c, (int)c->r[R_ECX]);
    c->r[R_EAX] = (uint32_t)v;
    c->r[R_EDX] = (uint32_t)(v >> 32);
}

/* RDMSR/WRMSR: the registers live in cpu/msr.c; one this CPU does not implement, a read-only one
 * written, or a reserved bit set raises #GP(0) (SDM RDMSR/WRMSR). */
void op_rdmsr(struct cpu *c, const struct insn *in)
{
    (void)in;
    require_cpl0(c);
    uint64_t v;
    if (msr_read(c, c->r[R_ECX], &v))
        cpu_fault(c, EXC_GP, 0);
    c->r[R_EAX] = (uint32_t)v;
    c->r[R_EDX] = (uint32_t)(v >> 32);
}

void op_wrmsr(struct cpu *c, const struct insn *in)
{
    (void)in;
    require_cpl0(c);
    if (msr_write(c, c->r[R_ECX], ((uint64_t)c->r[R_EDX] << 32) | c->r[R_EAX]))
        cpu_fault(c, EXC_GP, 0);
}

/* 0F 20 / 0F 22: MOV r32, CRn and MOV CRn, r32 (always 32-bit; SDM MOV-Move to/from Control
 * Registers). CR1, CR5-7 are #UD. Writing reserved CR0/CR4 bits is #GP(0). */
void op_mov_cr(struct cpu *c, const struct insn *in)
{
    int n = in->reg;
    if (n == 1 || n > 4)
        cpu_fault(c, EXC_UD, 0);
    require_cpl0(c);
    if (in->op == 0x120) {
        c->r[in->rm] = c->cr[n];
        return;
    }
    uint32_t v = c->r[in->rm];
    uint32_t old_cr0 = c->cr[0], old_cr4 = c->cr[4];
    switch (n) {
    case 0:
        if ((v & CR0_PG) && !(v & CR0_PE))
            cpu_fault(c, EXC_GP, 0);
        if ((v & CR0_NW) && !(v & CR0_CD))
            cpu_fault(c, EXC_GP, 0);
        /* ET is hard-wired to 1 on a P6; reserved bits are kept as written except those. */
        c->cr[0] = (v & (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD |
                         CR0_PG)) | CR0_ET;
        break;
    case 2: c->cr[2] = v; break;
    case 3:
        c->cr[3] = v & 0xFFFFF018u;
        /* A CR3 write flushes every non-global translation (SDM Vol. 3A §4.10.4.1). */
        tlb_flush_nonglobal(&c->tlb, (c->cr[4] & CR4_PGE) != 0);
        break;
    default:
        /* The bits a Pentium II has; PAE (bit 5) is not implemented here, so it is reserved.
         * OSFXSR is writable because CPUID reports FXSR; without SSE it has no effect (fxsave.c).
         * OSXMMEXCPT (bit 10) stays reserved: no SSE, no #XM. */
        if (v & ~(uint32_t)(CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PGE | CR4_PCE |
                            CR4_OSFXSR))
            cpu_fault(c, EXC_GP, 0);
        c->cr[4] = v;
        break;
    }
    mmu_control_changed(c, old_cr0, old_cr4);
}

/* 0F 21 / 0F 23: MOV to/from DRn. DR4/DR5 alias DR6/DR7 while CR4.DE is clear, else #UD; then
 * DR7.GD's general-detect #DB, and the access itself (cpu/debug.c). */
void op_mov_dr(struct cpu *c, const struct insn *in)
{
    int n = in->reg;
    require_cpl0(c);
    if (n == 4 || n == 5) {
        if (c->cr[4] & CR4_DE)
            cpu_fault(c, EXC_UD, 0);
        n += 2;
    }
    debug_mov_dr(c, n, in->op == 0x123, in->rm);
}

void op_clts(struct cpu *c, const struct insn *in)
{
    (void)in;
    require_cpl0(c);
    c->cr[0] &= ~CR0_TS;
}

/* INVD/WBINVD: no caches are modelled. */
void op_invd(struct cpu *c, const struct insn *in)
{
    (void)in;
    require_cpl0(c);
}

/* 9B WAIT: #NM when CR0.MP and CR0.TS are both set (SDM WAIT/FWAIT), then any pending unmasked
 * x87 exception is reported (#MF, or IRQ13 with CR0.NE clear). */
void op_wait(struct cpu *c, const struct insn *in)
{
    (void)in;
    if ((c->cr[0] & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_fault(c, EXC_NM, 0);
    x87_wait(c);
}

/* 0F 00: SLDT STR LLDT LTR VERR VERW are not recognised in real or virtual-8086 mode. */
void op_grp6(struct cpu *c, const struct insn *in)
{
    if (!cpu_pmode(c) || cpu_v86(c))
        cpu_fault(c, EXC_UD, 0);
    descriptor_grp6(c, in);
}

/* 0F 01: SGDT SIDT LGDT LIDT SMSW LMSW INVLPG. */
void op_grp7(struct cpu *c, const struct insn *in)
{
    int size = in->opsize;
    switch (in->reg) {
    case 0:
    case 1: {
        /* SGDT/SIDT: with a 16-bit operand size a P6 stores the base's top byte as zero. */
        const struct dtr *t = in->reg == 0 ? &c->gdtr : &c->idtr;
        mem_check_write(c, in->ea_seg, c->ea, 6);
        mem_write(c, in->ea_seg, c->ea, 2, t->limit);
        mem_write(c, in->ea_seg, c->ea + 2, 4, size == 2 ? t->base & 0x00FFFFFFu : t->base);
        break;
    }
    case 2:
    case 3: {
        require_cpl0(c);
        uint16_t limit = (uint16_t)mem_read(c, in->ea_seg, c->ea, 2);
        uint32_t base = mem_read(c, in->ea_seg, c->ea + 2, 4);
        if (size == 2)
            base &= 0x00FFFFFFu;
        struct dtr *t = in->reg == 2 ? &c->gdtr : &c->idtr;
        t->limit = limit;
        t->base = base;
        break;
    }
    case 4:
        /* SMSW: a register destination of 32-bit size gets all of CR0 (SDM SMSW). */
        if (in->mem)
            mem_write(c, in->ea_seg, c->ea, 2, c->cr[0] & 0xFFFF);
        else
            reg_set(c, in->rm, size, c->cr[0]);
        break;
    case 6: {
        /* LMSW: loads PE MP EM TS; it can set PE but never clear it. */
        require_cpl0(c);
        uint32_t v = rm_get(c, in, 2);
        uint32_t old = c->cr[0];
        c->cr[0] = (c->cr[0] & ~0xEu) | (v & 0xF) | (c->cr[0] & CR0_PE);
        mmu_control_changed(c, old, c->cr[4]);
        break;
    }
    default:
        /* INVLPG: drops the translation of the page holding the linear address of the operand. */
        require_cpl0(c);
        tlb_flush_page(&c->tlb, c->seg[in->ea_seg].base + c->ea);
        break;
    }
}

/* 0F 02/03 LAR, LSL and 63 ARPL are not recognised in real or virtual-8086 mode. */
void op_lar_lsl(struct cpu *c, const struct insn *in)
{
    if (!cpu_pmode(c) || cpu_v86(c))
        cpu_fault(c, EXC_UD, 0);
    descriptor_lar_lsl(c, in);
}

void op_arpl(struct cpu *c, const struct insn *in)
{
    if (!cpu_pmode(c) || cpu_v86(c))
        cpu_fault(c, EXC_UD, 0);
    descriptor_arpl(c, in);
}

/* SYSENTER: #GP(0) in real mode or with a null IA32_SYSENTER_CS; allowed from virtual-8086 mode,
 * which it leaves. SYSEXIT also needs CPL 0 (so never from virtual-8086 mode). SDM SYSENTER and
 * SYSEXIT; the transfers are in cpu/sysenter.c. */
void op_sysenter(struct cpu *c, const struct insn *in)
{
    (void)in;
    if (!cpu_pmode(c) || (c->sysenter_cs & 0xFFFC) == 0)
        cpu_fault(c, EXC_GP, 0);
    sysenter_enter(c);
}

void op_sysexit(struct cpu *c, const struct insn *in)
{
    (void)in;
    if (!cpu_pmode(c) || (c->sysenter_cs & 0xFFFC) == 0 || cpu_v86(c) || c->cpl != 0)
        cpu_fault(c, EXC_GP, 0);
    sysenter_exit(c);
}

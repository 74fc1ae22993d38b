/* The interpreter's loop: interrupts between instructions, fetch and decode, dispatch through the
 * opcode table, precise faults and their delivery (double fault, triple-fault shutdown).
 * Intel SDM Vol. 3A §6.5-6.6 (exception classes), §6.15 Table 6-5 (double faults), §9.1 (reset). */
#include <string.h>

#include "interp.h"

/* Set by cpu_fault before it unwinds; read once by the catch in cpu_step. */
#define FAULT_UNIMPL 0x100

void cpu_reset(struct cpu *c)
{
    struct physmem *mem = c->mem;
    struct ioports *io = c->io;
    enum cpu_model model = c->model;
    int (*ack)(void *) = c->intr_ack;
    void *ack_opaque = c->intr_opaque;
    void (*irq13)(void *, int) = c->fpu.irq13;
    void *irq13_opaque = c->fpu.irq13_opaque;
    uint64_t (*time_ns)(void *) = c->time_ns;
    void *time_opaque = c->time_opaque;
    uint64_t icount = c->icount; /* the machine's instruction count (and --icount clock) runs on across resets */
    memset(c, 0, sizeof(*c)); /* an all-zero x87 is its power-on state (cpu/x87.h) */
    c->mem = mem;
    c->io = io;
    c->model = model;
    c->intr_ack = ack;
    c->intr_opaque = ack_opaque;
    c->fpu.irq13 = irq13;
    c->fpu.irq13_opaque = irq13_opaque;
    c->icount = icount;
    c->time_ns = time_ns;
    c->time_opaque = time_opaque;
    cpu_tsc_write(c, 0); /* RESET clears the TSC (SDM Vol. 3B §17.17) */

    c->eflags = F_FIXED1;
    c->eip = 0xFFF0;
    for (int s = 0; s < S_NSEG; s++)
        c->seg[s] = (struct segreg){ 0, 0, 0xFFFF, AR_P | AR_S | 0x3 }; /* present read/write data, accessed */
    c->seg[S_CS] = (struct segreg){ 0xF000, 0xFFFF0000u, 0xFFFF, AR_P | AR_S | 0xB };
    c->gdtr = c->idtr = (struct dtr){ 0, 0xFFFF };
    c->ldtr = (struct segreg){ 0, 0, 0xFFFF, AR_P | 0x2 };
    c->tr = (struct segreg){ 0, 0, 0xFFFF, AR_P | 0xB };
    c->cr[0] = CR0_ET | CR0_CD | CR0_NW;
    c->dr[6] = 0xFFFF0FF0u;
    c->dr[7] = 0x00000400u;
    /* EDX holds the processor signature after reset: family 6, model 5, stepping 2 (Pentium II). */
    c->r[R_EDX] = 0x00000652u;
    c->apic_base = 0xFEE00900ull;
    c->last_fault = c->last_intr = -1; /* no step yet (blocks of the JIT do not set them) */
    tlb_flush_all(&c->tlb); /* an all-zero entry would map page 0 to host address 0 */
}

void cpu_init(struct cpu *c, enum cpu_model model, struct physmem *mem, struct ioports *io)
{
    memset(c, 0, sizeof(*c));
    c->mem = mem;
    c->io = io;
    c->model = model;
    cpu_reset(c);
}

static uint64_t tsc_ticks(struct cpu *c)
{
    return c->time_ns(c->time_opaque) * CPU_TSC_MHZ / 1000u;
}

uint64_t cpu_tsc_read(struct cpu *c)
{
    if (!c->time_ns)
        return c->tsc;
    uint64_t v = tsc_ticks(c) + (uint64_t)c->tsc_offset;
    if ((int64_t)(v - c->tsc_last) <= 0)
        v = c->tsc_last + 1;
    c->tsc_last = v;
    return v;
}

void cpu_tsc_write(struct cpu *c, uint64_t v)
{
    c->tsc = v;
    if (c->time_ns) {
        c->tsc_offset = (int64_t)(v - tsc_ticks(c));
        c->tsc_last = v - 1;
    }
}

uint32_t cpu_get_eflags(const struct cpu *c)
{
    return c->eflags | F_FIXED1;
}

void cpu_load_seg_real(struct cpu *c, int s, uint16_t sel)
{
    c->seg[s].sel = sel;
    c->seg[s].base = (uint32_t)sel << 4;
}

_Noreturn void cpu_fault(struct cpu *c, int vec, uint32_t err)
{
    if (c->snap_seg_valid) {
        memcpy(c->seg, c->snap_seg, sizeof(c->seg));
        c->ldtr = c->snap_ldtr;
        c->tr = c->snap_tr;
        c->cpl = c->snap_cpl;
        c->snap_seg_valid = 0;
    }
    memcpy(c->r, c->snap_r, sizeof(c->r));
    c->eip = c->snap_eip;
    c->eflags = c->snap_eflags;
    c->fault_err = err;
    longjmp(*c->fault_jb, vec + 1);
}

_Noreturn void cpu_unimplemented(struct cpu *c, const char *what)
{
    c->unimpl = what;
    longjmp(*c->fault_jb, FAULT_UNIMPL + 1);
}

/* Exceptions that push an error code in protected mode (SDM Vol. 3A Table 6-1). */
static int has_error_code(int vec)
{
    return vec == EXC_DF || (vec >= EXC_TS && vec <= EXC_PF) || vec == EXC_AC;
}

static int contributory(int vec)
{
    return vec == EXC_DE || (vec >= EXC_TS && vec <= EXC_GP);
}

/* Applies SDM Table 6-5 to a fault raised while delivering another; returns the vector to deliver,
 * or -1 for shutdown. */
static int combine_faults(struct cpu *c, int vec)
{
    if (c->exc_depth == 0)
        return vec;
    int first = c->exc_first;
    if (first == EXC_DF)
        return -1;
    if ((contributory(first) && contributory(vec)) || (first == EXC_PF && (vec == EXC_PF || contributory(vec))))
        return EXC_DF;
    return vec; /* benign: handled serially */
}

static void take_snapshot(struct cpu *c)
{
    memcpy(c->snap_r, c->r, sizeof(c->r));
    c->snap_eip = c->eip;
    c->snap_eflags = c->eflags;
    c->snap_seg_valid = 0;
    c->insn_eip = c->eip;
    c->dbg_pending = 0; /* breakpoint hits of an instruction that faults (or of event delivery) are dropped */
}

/* Copies instruction bytes [have, n) at CS:EIP into buf, stopping at the end of a page so that a
 * fault on the next page is raised only if the decoder really needs a byte from it (then with
 * CR2 at that page's first byte, as on hardware). Returns the new count of bytes in buf. */
static size_t fetch_chunk(struct cpu *c, uint8_t *buf, size_t have, size_t n)
{
    uint32_t lin = c->seg[S_CS].base + c->eip + (uint32_t)have;
    size_t in_page = PM_PAGE_SIZE - (lin & (PM_PAGE_SIZE - 1));
    size_t m = n - have < in_page ? n - have : in_page;
    uint32_t paddr = mmu_translate(c, lin, acc_cpl(c) | ACC_FETCH);
    const uint8_t *p = phys_host_ptr(c->mem, paddr, 0);
    if (p && have == 0 && in_page >= 16) {
        /* The common case: one fixed-size copy the compiler turns into two vector moves (a
         * variable-length memcpy became `rep movs`, which cost more than decoding). Bytes past m
         * are copied but not offered to the decoder. */
        memcpy(buf, p, 16);
    } else if (p) {
        for (size_t i = 0; i < m; i++)
            buf[have + i] = p[i];
    } else {
        for (size_t i = 0; i < m; i++)
            buf[have + i] = (uint8_t)phys_read(c->mem, paddr + (uint32_t)i, 1);
    }
    return have + m;
}

/* Returns the instruction's table flags (the caller looks at OPF_STRING). pre is an instruction
 * the JIT decoded earlier from the bytes at CS:EIP (jit/ keeps it valid: it re-translates when
 * those bytes are written), or NULL to fetch and decode now. */
static uint32_t execute_one(struct cpu *c, const struct insn *pre)
{
    struct insn dec;
    const struct insn *in = pre;
    if (!in) {
        uint8_t buf[16];
        const struct segreg *cs = &c->seg[S_CS];
        /* Bytes past the CS limit may not be fetched: an instruction that needs them is #GP(0). */
        uint64_t room = c->eip > cs->limit ? 0 : (uint64_t)cs->limit + 1 - c->eip;
        size_t n = room < 15 ? (size_t)room : 15;
        size_t avail = n ? fetch_chunk(c, buf, 0, n) : 0;
        int r;
        while ((r = decode(buf, avail, code32(c), &dec)) == DEC_SHORT) {
            if (avail >= n)
                cpu_fault(c, EXC_GP, 0);
            avail = fetch_chunk(c, buf, avail, n);
        }
        if (r == DEC_TOOLONG)
            cpu_fault(c, EXC_GP, 0);
        if (r == DEC_UD)
            cpu_fault(c, EXC_UD, 0);
        in = &dec;
    }
    c->eip += in->len;
    if (!code32(c))
        c->eip &= 0xFFFF;
    if (in->mem && !(in->d->fl & OPF_MOFFS))
        c->ea = ea_offset(c, in);
    else if (in->mem)
        c->ea = in->disp;
    in->d->exec(c, in);
    return in->d->fl;
}

static void take_external_interrupt(struct cpu *c)
{
    if (c->nmi) {
        c->nmi = 0;
        c->halted = 0;
        c->last_intr = EXC_NMI;
        cpu_interrupt(c, EXC_NMI, c->eip, 0, 0, 0);
        return;
    }
    int vec = c->intr_ack ? c->intr_ack(c->intr_opaque) : -1;
    c->halted = 0;
    if (vec >= 0) {
        c->last_intr = (int16_t)(vec & 0xFF);
        cpu_interrupt(c, vec & 0xFF, c->eip, 0, 0, 0);
    }
}

/* One step of cpu_step, with the instruction pre-decoded (pre) or not (NULL). */
static inline int step(struct cpu *c, const struct insn *pre)
{
    jmp_buf jb;
    jmp_buf *volatile outer = c->fault_jb;
    c->fault_jb = &jb;
    int ret = CPU_EXIT_BUDGET;

    c->last_fault = c->last_intr = -1;
    int v = setjmp(jb);
    if (v == FAULT_UNIMPL + 1) {
        ret = CPU_EXIT_UNIMPL;
        goto out;
    }
    if (v) {
        int vec = combine_faults(c, v - 1);
        if (vec < 0) {
            c->exc_depth = 0;
            ret = CPU_EXIT_SHUTDOWN;
            goto out;
        }
        uint32_t err = vec == EXC_DF ? 0 : c->fault_err;
        c->exc_depth++;
        c->exc_first = (uint8_t)vec;
        c->last_fault = (int16_t)vec;
        /* Every exception raised through cpu_fault is fault-class: the EFLAGS image the handler
         * gets has RF = 1, so that the IRET back does not re-trigger an instruction breakpoint
         * (SDM Vol. 3A §17.3.1.1). Delivery clears RF after saving EFLAGS. */
        c->eflags |= F_RF;
        cpu_interrupt(c, vec, c->eip, has_error_code(vec), err, 0);
        c->exc_depth = 0;
        c->icount++;
        goto out;
    }

    if (c->stop) {
        c->stop = 0;
        ret = CPU_EXIT_STOP;
        goto out;
    }
    take_snapshot(c);
    if (c->shadow) {
        c->shadow = 0; /* the instruction after STI or MOV SS runs before any interrupt */
    } else if (c->nmi || (c->intr && (c->eflags & F_IF))) {
        take_external_interrupt(c);
        goto out;
    }
    if (c->halted) {
        ret = CPU_EXIT_HALT;
        goto out;
    }
    /* Instruction breakpoints are faults taken before the instruction, after interrupts (SDM
     * Vol. 3A Table 6-2); RF suppresses them for one instruction and is cleared here. */
    if (__builtin_expect((c->dbg_exec != 0) | ((c->eflags & F_RF) != 0), 0)) {
        uint32_t hit = debug_insn_start(c);
        if (hit) {
            c->dr[6] |= hit;
            c->last_fault = EXC_DB;
            cpu_interrupt(c, EXC_DB, c->eip, 0, 0, 0); /* RF is pushed as it is: 0 */
            goto out;
        }
    }
    uint32_t fl = execute_one(c, pre);
    c->icount++;
    c->tsc++;
    /* A REP string instruction that stops between iterations (to let an event in, or for TF)
     * resumes with RF = 1, as the hardware pushes it, so that its breakpoint does not fire
     * again mid-instruction (SDM Vol. 3A §17.3.1.1). */
    if (__builtin_expect((fl & OPF_STRING) != 0, 0) && c->eip == c->insn_eip)
        c->eflags |= F_RF;
    /* Debug traps after the instruction: data and I/O breakpoints it hit, and TF at its start
     * (SDM Vol. 3A §17.3.1.2-17.3.1.4); one #DB reports them all in DR6. */
    if (__builtin_expect((c->dbg_pending != 0) | ((c->snap_eflags & F_TF) != 0), 0)) {
        c->dr[6] |= c->dbg_pending | ((c->snap_eflags & F_TF) ? DR6_BS : 0);
        take_snapshot(c);
        c->last_fault = EXC_DB;
        cpu_interrupt(c, EXC_DB, c->eip, 0, 0, 0);
    }
out:
    c->fault_jb = outer;
    return ret;
}

int cpu_step(struct cpu *c)
{
    return step(c, NULL);
}

int cpu_step_decoded(struct cpu *c, const struct insn *in)
{
    return step(c, in);
}

int cpu_run(struct cpu *c, uint64_t max)
{
    for (uint64_t i = 0; i < max; i++) {
        int r = cpu_step(c);
        if (r != CPU_EXIT_BUDGET)
            return r;
    }
    return CPU_EXIT_BUDGET;
}

/* Real-address-mode interrupt: FLAGS, CS, IP pushed, CS:IP from the IVT (SDM Vol. 3A §20.1.4). */
static void real_mode_interrupt(struct cpu *c, int vec, uint32_t next_eip)
{
    if ((uint32_t)vec * 4 + 3 > c->idtr.limit)
        cpu_fault(c, EXC_GP, 0);
    uint32_t ip = lin_read(c, c->idtr.base + (uint32_t)vec * 4, 2);
    uint32_t cs = lin_read(c, c->idtr.base + (uint32_t)vec * 4 + 2, 2);
    push(c, 2, cpu_get_eflags(c) & 0xFFFF);
    push(c, 2, c->seg[S_CS].sel);
    push(c, 2, next_eip & 0xFFFF);
    c->eflags &= ~(F_IF | F_TF | F_AC | F_RF);
    cpu_load_seg_real(c, S_CS, (uint16_t)cs);
    c->eip = ip;
}

void cpu_interrupt(struct cpu *c, int vec, uint32_t next_eip, int has_err, uint32_t err, int is_soft)
{
    if (!cpu_pmode(c)) {
        real_mode_interrupt(c, vec, next_eip);
        return;
    }
    pm_interrupt(c, vec, next_eip, has_err, err, is_soft); /* interrupt.c: the IDT */
}

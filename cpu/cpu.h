/* The architectural state of one i686-class CPU and the interface the machine drives it through.
 * Register layout and reset state per Intel SDM Vol. 3A §9.1 (processor state after reset).
 * The CPU sees memory through mem/physmem and ports through mem/ioport; nothing of the PC. */
#ifndef JITPC_CPU_CPU_H
#define JITPC_CPU_CPU_H

#include <setjmp.h>
#include <stdint.h>

#include "../mem/ioport.h"
#include "../mem/physmem.h"
#include "../mem/tlb.h"
#include "x87.h"

/* General registers in ModRM encoding order. */
enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
/* Segment registers in ModRM "sreg" encoding order; S_NONE marks "no override". */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_NSEG, S_NONE = 7 };

/* EFLAGS bits (SDM Vol. 1 §3.4.3). */
#define F_CF 0x00000001u
#define F_FIXED1 0x00000002u /* bit 1 always reads 1 */
#define F_PF 0x00000004u
#define F_AF 0x00000010u
#define F_ZF 0x00000040u
#define F_SF 0x00000080u
#define F_TF 0x00000100u
#define F_IF 0x00000200u
#define F_DF 0x00000400u
#define F_OF 0x00000800u
#define F_IOPL 0x00003000u
#define F_NT 0x00004000u
#define F_RF 0x00010000u
#define F_VM 0x00020000u
#define F_AC 0x00040000u
#define F_VIF 0x00080000u
#define F_VIP 0x00100000u
#define F_ID 0x00200000u
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* CR0 bits (SDM Vol. 3A §2.5). */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u

/* CR4 bits (SDM Vol. 3A §2.5). */
#define CR4_VME 0x001u
#define CR4_PVI 0x002u
#define CR4_TSD 0x004u
#define CR4_DE 0x008u
#define CR4_PSE 0x010u
#define CR4_MCE 0x040u
#define CR4_PGE 0x080u
#define CR4_PCE 0x100u
#define CR4_OSFXSR 0x200u

/* Exception vectors (SDM Vol. 3A §6.3.1). */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6, EXC_NM = 7,
    EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13, EXC_PF = 14, EXC_MF = 16,
    EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
};

/* A segment register with its hidden descriptor cache (SDM Vol. 3A §3.4.3). The cache is what
 * addressing uses, so a real-mode load that only changes base leaves "unreal mode" limits alone. */
struct segreg {
    uint16_t sel;
    uint32_t base;
    uint32_t limit; /* effective byte limit (granularity already applied) */
    uint16_t ar;    /* bits 0-7: descriptor byte 5 (type, S, DPL, P); bits 12-15: AVL, L, D/B, G */
};
#define AR_TYPE 0x000Fu
#define AR_S 0x0010u    /* code/data (1) or system (0) */
#define AR_DPL 0x0060u
#define AR_P 0x0080u
#define AR_DB 0x4000u   /* CS: 32-bit default operand size; SS: 32-bit stack pointer */
#define AR_G 0x8000u

struct dtr {
    uint32_t base;
    uint16_t limit;
};

enum cpu_model { CPU_PENTIUM2 };

/* Why cpu_run returned. */
enum cpu_exit {
    CPU_EXIT_BUDGET,   /* ran the instructions it was allowed */
    CPU_EXIT_HALT,     /* HLT with nothing pending (the machine decides how to wait) */
    CPU_EXIT_STOP,     /* cpu_request_stop was called (a device, the debugger, the frontend) */
    CPU_EXIT_SHUTDOWN, /* triple fault: the machine resets or ends */
    CPU_EXIT_UNIMPL,   /* the guest used a feature jitpc does not have yet: see cpu->unimpl */
};

struct insn;

/* Model-specific registers kept as stored values (cpu/msr.c; SDM Vol. 4 P6-family table). */
struct msrs {
    uint64_t mtrr_var[16];   /* 0x200-0x20F: IA32_MTRR_PHYSBASE0, PHYSMASK0, ... PHYSMASK7 */
    uint64_t mtrr_fixed[11]; /* 0x250, 0x258, 0x259, 0x268-0x26F */
    uint64_t mtrr_def_type;  /* 0x2FF */
    uint64_t perfevtsel[2];  /* 0x186, 0x187 (no events are counted) */
    uint64_t perfctr[2];     /* 0xC1, 0xC2: 40-bit counters */
    uint64_t bios_sign_id;   /* 0x8B: microcode revision in bits 63:32 */
    uint64_t mcg_status;     /* 0x17A */
    uint32_t debugctl;       /* 0x1D9 */
};

struct cpu {
    /* --- architectural state --- */
    uint32_t r[8];            /* EAX ECX EDX EBX ESP EBP ESI EDI */
    uint32_t eip;
    uint32_t eflags;
    struct segreg seg[S_NSEG];
    struct dtr gdtr, idtr;
    struct segreg ldtr, tr;
    uint32_t cr[5];           /* CR0, (CR1 reserved), CR2, CR3, CR4 */
    uint32_t dr[8];           /* DR0-DR3 addresses, DR6 status, DR7 control (DR4/5 alias 6/7) */
    uint64_t tsc;             /* time-stamp counter when no time source: one tick per retired insn */
    int64_t tsc_offset;       /* with a time source: TSC = source ticks + offset (WRMSR, reset) */
    uint64_t tsc_last;        /*   last value read, so reads strictly increase */
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t apic_base;
    struct msrs msr;
    int cpl;                  /* current privilege level (CS.RPL in protected mode) */
    enum cpu_model model;
    struct x87 fpu;           /* x87 FPU (cpu/x87.h): all-zero is its power-on state */

    /* --- execution bookkeeping --- */
    uint32_t insn_eip;        /* EIP of the instruction being executed (faults return here) */
    uint32_t ea;              /* effective-address offset of the current memory operand */
    uint64_t icount;          /* instructions retired since reset */
    uint8_t halted;           /* in HLT, waiting for an interrupt */
    uint8_t shadow;           /* interrupts are held off until after the next instruction (STI, MOV SS) */
    uint8_t exc_depth;        /* nested exception deliveries: 1 = a fault, 2 = #DF, 3 = shutdown */
    volatile uint8_t stop;    /* set by cpu_request_stop; checked between instructions (the JIT
                               * checks it after each helper; from another thread it would be
                               * seen at the end of the slice) */
    const char *unimpl;       /* what CPU_EXIT_UNIMPL stopped on */
    uint8_t exc_first;        /* vector being delivered when exc_depth > 0 (double-fault rules) */
    /* Debug registers as cpu/debug.c derives them from DR7, so that nothing but a flag test is
     * paid while no breakpoint is armed: bit n = DRn enabled as that kind of breakpoint. */
    uint8_t dbg_exec, dbg_data, dbg_io;
    uint32_t dbg_pending;     /* DR6 bits of trap-class #DB conditions met by this instruction */

    /* Precise faults: the state at the start of the instruction, put back before delivery. */
    uint32_t snap_r[8], snap_eip, snap_eflags;
    /* Segment registers and CPL join the snapshot only when an instruction is about to change
     * them (cpu_save_segs), so ordinary instructions do not pay for copying them. */
    struct segreg snap_seg[S_NSEG];
    struct segreg snap_ldtr, snap_tr;
    int snap_cpl;
    uint8_t snap_seg_valid;
    jmp_buf *fault_jb;        /* where cpu_fault unwinds to while an instruction runs */
    uint32_t fault_err;       /* error code of the fault being unwound */
    int16_t last_fault;       /* vector of the fault the last step delivered, or -1 (tracer) */
    int16_t last_intr;        /* vector of the external interrupt the last step took, or -1 */

    struct tlb tlb;           /* linear -> physical/host translations (mem/tlb.h), filled by paging.c */

    /* --- what the machine hands the CPU --- */
    struct physmem *mem;
    struct ioports *io;
    volatile uint8_t intr;    /* the INTR line: an external interrupt is pending */
    volatile uint8_t nmi;     /* an NMI is pending (edge, cleared when taken) */
    int (*intr_ack)(void *opaque); /* INTA cycle: returns the vector of the pending interrupt */
    void *intr_opaque;
    /* The machine's clock in ns, which the TSC follows at CPU_TSC_MHZ so that it keeps pace with
     * the timers while the CPU idles (Linux's clocksource watchdog checks it against the PIT).
     * NULL: the TSC counts retired instructions. */
    uint64_t (*time_ns)(void *opaque);
    void *time_opaque;
};

#define CPU_TSC_MHZ 400u /* a 400 MHz Pentium II */
uint64_t cpu_tsc_read(struct cpu *c);
void cpu_tsc_write(struct cpu *c, uint64_t v);

/* Puts the CPU in its power-on state (SDM Vol. 3A Table 9-1): CS:EIP = F000:FFF0, base FFFF0000. */
void cpu_init(struct cpu *c, enum cpu_model model, struct physmem *mem, struct ioports *io);
void cpu_reset(struct cpu *c);

/* Executes one instruction (or delivers one pending interrupt); returns enum cpu_exit. */
int cpu_step(struct cpu *c);
/* cpu_step with the instruction at CS:EIP already decoded into *in (by jit/, from the same bytes):
 * the same events, snapshot, faults, debug traps and counting, without the fetch and decode. */
int cpu_step_decoded(struct cpu *c, const struct insn *in);
/* Executes up to max instructions. */
int cpu_run(struct cpu *c, uint64_t max);
static inline void cpu_request_stop(struct cpu *c) { c->stop = 1; }

/* Raises an exception from inside an instruction: puts back the state from the instruction's
 * start and delivers vector vec. err is pushed where the vector has an error code in protected
 * mode. Only valid while cpu_step runs. */
_Noreturn void cpu_fault(struct cpu *c, int vec, uint32_t err);
/* Stops the machine cleanly on a feature that is not built yet (never a host crash). */
_Noreturn void cpu_unimplemented(struct cpu *c, const char *what);

/* Accessors used by the frontend, tracer and tests. */
void cpu_load_seg_real(struct cpu *c, int s, uint16_t sel);
/* Flat 32-bit protected mode at CPL 0 with the given selectors in the caches (boot loaders). */
void cpu_enter_flat32(struct cpu *c, uint16_t cs, uint16_t ds, uint32_t eip);
uint32_t cpu_get_eflags(const struct cpu *c);

#endif

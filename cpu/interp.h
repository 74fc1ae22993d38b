/* What instruction handlers share: register and operand access, segmented memory access,
 * the stack, flag computation, and the handler prototypes named by the opcode table.
 * Flag rules per Intel SDM Vol. 1 §3.4.3 and Appendix A (EFLAGS cross-reference). */
#ifndef JITPC_CPU_INTERP_H
#define JITPC_CPU_INTERP_H

#include "cpu.h"
#include "decode.h"

/* ---- sizes and masks ---- */
static inline uint32_t size_mask(int size) { return size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1; }
static inline uint32_t sign_bit(int size) { return 1u << (size * 8 - 1); }
static inline uint32_t sext(uint32_t v, int size)
{
    return size == 1 ? (uint32_t)(int8_t)v : size == 2 ? (uint32_t)(int16_t)v : v;
}

/* ---- registers ---- */
/* r is the ModRM register number; for size 1, 4-7 are AH CH DH BH. */
static inline uint32_t reg_get(const struct cpu *c, int r, int size)
{
    if (size == 1)
        return r < 4 ? c->r[r] & 0xFF : (c->r[r - 4] >> 8) & 0xFF;
    return size == 2 ? c->r[r] & 0xFFFF : c->r[r];
}

static inline void reg_set(struct cpu *c, int r, int size, uint32_t v)
{
    if (size == 1) {
        if (r < 4)
            c->r[r] = (c->r[r] & ~0xFFu) | (v & 0xFF);
        else
            c->r[r - 4] = (c->r[r - 4] & ~0xFF00u) | ((v & 0xFF) << 8);
    } else if (size == 2) {
        c->r[r] = (c->r[r] & ~0xFFFFu) | (v & 0xFFFF);
    } else {
        c->r[r] = v;
    }
}

/* ---- modes ---- */
static inline int cpu_pmode(const struct cpu *c) { return (c->cr[0] & CR0_PE) != 0; }
static inline int cpu_v86(const struct cpu *c) { return (c->eflags & F_VM) != 0; }
static inline int stack32(const struct cpu *c) { return (c->seg[S_SS].ar & AR_DB) != 0; }
static inline int code32(const struct cpu *c) { return (c->seg[S_CS].ar & AR_DB) != 0; }

/* ---- the MMU (paging.c) ---- */
/* Access kinds: a user access is one made at CPL 3 (system-structure accesses are supervisor). */
#define ACC_WRITE 1
#define ACC_FETCH 2
#define ACC_USER 4
/* Linear-memory access through the TLB and, with CR0.PG, the page tables: #PF with the SDM's
 * error code and CR2 when not allowed. A page-crossing write checks both pages first. */
uint32_t mmu_read(struct cpu *c, uint32_t lin, int size, int acc);
void mmu_write(struct cpu *c, uint32_t lin, int size, uint32_t v, int acc);
void mmu_check_write(struct cpu *c, uint32_t lin, int size, int acc);
uint32_t mmu_translate(struct cpu *c, uint32_t lin, int acc);
/* Fills the TLB's fetch entry for lin at the CPU's privilege if the walk allows it (never faults;
 * sets the accessed bits a fetch there would): 1 when the entry now maps lin. The JIT's
 * dispatcher uses it so that a block's first run after a TLB flush needs no interpreter step. */
int mmu_fill_fetch(struct cpu *c, uint32_t lin);
/* Flushes what a CR0/CR4 change requires (PG, WP, PE, PSE, PGE). */
void mmu_control_changed(struct cpu *c, uint32_t old_cr0, uint32_t old_cr4);
/* The access class of an ordinary data access at the current privilege level. */
static inline int acc_cpl(const struct cpu *c) { return c->cpl == 3 ? ACC_USER : 0; }

/* ---- memory (access.c) ---- */
/* Segmented access at seg:off (off already truncated to the address size). Checks the segment
 * limit and raises #GP(0) or #SS(0) as the hardware does; then goes through linear memory. */
uint32_t mem_read(struct cpu *c, int seg, uint32_t off, int size);
void mem_write(struct cpu *c, int seg, uint32_t off, int size, uint32_t v);
/* Checks that seg:off..off+size-1 may be written, without writing (for read-modify-write
 * instructions whose fault must come before any change). */
void mem_check_write(struct cpu *c, int seg, uint32_t off, int size);
/* The host address of seg:off..off+size-1 when an access of it could neither fault nor take a
 * slow path: seg_check's conditions pass, the bytes lie in one page, and the TLB entry of the
 * access kind holds that page with a plain tag, which it does only for RAM that is present,
 * allowed at this privilege and, for writes, already dirty and free of translated code
 * (mem/tlb.h). An instruction may then do no more than copy the bytes there; NULL: it may not.
 * For the quiet paths the JIT's handler calls take (x87.c, ops_string.c). */
uint8_t *mem_quiet_ptr(struct cpu *c, int s, uint32_t off, uint32_t size, int write);
uint32_t lin_read(struct cpu *c, uint32_t lin, int size);
void lin_write(struct cpu *c, uint32_t lin, int size, uint32_t v);
/* Instruction fetch of one byte at CS:off: #GP(0) past the CS limit. */
uint8_t fetch_byte(struct cpu *c, uint32_t off);

/* The effective-address offset of the current instruction's memory operand. */
static inline uint32_t ea_offset(const struct cpu *c, const struct insn *in)
{
    uint32_t a = in->disp;
    if (in->base != 0xFF)
        a += c->r[in->base];
    if (in->index != 0xFF)
        a += c->r[in->index] << in->scale;
    return in->addr32 ? a : a & 0xFFFF;
}

/* r/m operand: a register, or memory at ea_seg:c->ea (computed before the handler runs). */
static inline uint32_t rm_get(struct cpu *c, const struct insn *in, int size)
{
    return in->mem ? mem_read(c, in->ea_seg, c->ea, size) : reg_get(c, in->rm, size);
}

static inline void rm_set(struct cpu *c, const struct insn *in, int size, uint32_t v)
{
    if (in->mem)
        mem_write(c, in->ea_seg, c->ea, size, v);
    else
        reg_set(c, in->rm, size, v);
}

/* Marks the registers as they are now as the state a later fault in this instruction returns to.
 * String instructions call it after each completed iteration, so that a fault mid-repeat leaves
 * ECX/ESI/EDI as the hardware does (SDM Vol. 1 §7.3.9.1: REP instructions are restartable). */
static inline void cpu_commit_regs(struct cpu *c)
{
    for (int i = 0; i < 8; i++)
        c->snap_r[i] = c->r[i];
    c->snap_eflags = c->eflags;
}

/* Adds the segment registers, LDTR, TR and CPL to the state a fault in this instruction puts
 * back. Call it before the first change to any of them in instructions that can still fault
 * afterwards (far transfers, task switches, interrupt delivery). */
static inline void cpu_save_segs(struct cpu *c)
{
    if (c->snap_seg_valid)
        return;
    for (int i = 0; i < S_NSEG; i++)
        c->snap_seg[i] = c->seg[i];
    c->snap_ldtr = c->ldtr;
    c->snap_tr = c->tr;
    c->snap_cpl = c->cpl;
    c->snap_seg_valid = 1;
}

/* ---- stack (access.c) ---- */
void push(struct cpu *c, int size, uint32_t v);
uint32_t pop(struct cpu *c, int size);
/* Stack-pointer arithmetic that honours SS.B (16- or 32-bit SP). */
static inline uint32_t sp_get(const struct cpu *c) { return stack32(c) ? c->r[R_ESP] : c->r[R_ESP] & 0xFFFF; }
static inline void sp_set(struct cpu *c, uint32_t v)
{
    if (stack32(c))
        c->r[R_ESP] = v;
    else
        c->r[R_ESP] = (c->r[R_ESP] & 0xFFFF0000u) | (v & 0xFFFF);
}

/* ---- flags (flags.c) ---- */
extern const uint8_t parity_table[256]; /* PF for a byte: 1 when the count of set bits is even */
static inline void set_flag(struct cpu *c, uint32_t f, int on)
{
    c->eflags = on ? c->eflags | f : c->eflags & ~f;
}
/* SF, ZF and PF of a result; the other bits of EFLAGS are kept. */
static inline uint32_t szp(uint32_t res, int size)
{
    res &= size_mask(size);
    return (res == 0 ? F_ZF : 0) | ((res & sign_bit(size)) ? F_SF : 0) | (parity_table[res & 0xFF] ? F_PF : 0);
}
/* Each returns the result and sets the six arithmetic flags as the instruction does. */
uint32_t alu_add(struct cpu *c, uint32_t a, uint32_t b, uint32_t carry, int size);
uint32_t alu_sub(struct cpu *c, uint32_t a, uint32_t b, uint32_t borrow, int size);
uint32_t alu_logic(struct cpu *c, uint32_t res, int size); /* CF=OF=0; AF cleared as a P6 does */
/* Condition code cc (the low nibble of Jcc/SETcc/CMOVcc) against the current flags. */
int cond_true(const struct cpu *c, int cc);
/* EFLAGS write with the mask of bits the current mode lets POPF/IRET change (SDM POPF page). */
void write_eflags(struct cpu *c, uint32_t v, uint32_t mask);

/* ---- control (exec.c) ---- */
/* Delivers interrupt vec now (INT n, exceptions, external): real-mode IVT or protected-mode IDT.
 * next_eip is the return address pushed. */
void cpu_interrupt(struct cpu *c, int vec, uint32_t next_eip, int has_err, uint32_t err, int is_soft);
/* Loads a segment register as MOV/POP/LDS do in the current mode (checks in protected mode). */
void load_seg(struct cpu *c, int s, uint16_t sel);
/* descriptor.c: reads the descriptor sel names (GDT or LDT) into out, with its linear address;
 * returns -1 when the selector is outside the table. */
int read_descriptor(struct cpu *c, uint16_t sel, struct segreg *out, uint32_t *addr);
/* Sets the accessed bit of the descriptor at linear address addr (and in d), as a load does. */
void mark_accessed(struct cpu *c, struct segreg *d, uint32_t addr);
/* The stack for privilege level dpl from the current TSS (32- or 16-bit by TR's type): #TS(TR)
 * when the TSS is too short to hold it (SDM Vol. 3A §6.12.1, §7.2.1). */
void tss_stack_for(struct cpu *c, int dpl, uint16_t *ss, uint32_t *esp);
/* Protected-mode load of a data or stack segment register, with the SDM's checks and faults. */
void load_seg_pmode(struct cpu *c, int s, uint16_t sel);
/* Far control transfer to sel:off (JMP/CALL far in real mode; gates later). */
void far_jump(struct cpu *c, uint16_t sel, uint32_t off);
/* Sets EIP, truncated to the operand size, checked against CS's limit (#GP(0) past it). */
void jump_to(struct cpu *c, uint32_t eip, int size);

/* ---- I/O (ops_io.c) ---- */
/* #GP(0) unless the current privilege (IOPL, then the TSS bitmap) allows ports [port, port+size). */
void io_permission(struct cpu *c, uint16_t port, int size);

/* ---- system architecture: descriptors, SYSENTER, debug registers, MSRs ---- */
/* ops_descriptor.c: 0F 00 (SLDT STR LLDT LTR VERR VERW), LAR/LSL, ARPL, in protected mode. */
void descriptor_grp6(struct cpu *c, const struct insn *in);
void descriptor_lar_lsl(struct cpu *c, const struct insn *in);
void descriptor_arpl(struct cpu *c, const struct insn *in);
/* sysenter.c: the transfers themselves, after the opcode's #UD/#GP checks. */
void sysenter_enter(struct cpu *c);
void sysenter_exit(struct cpu *c);
/* debug.c. DR6 bits: */
#define DR6_BD 0x2000u /* the #DB is a general-detect fault (DR7.GD) */
#define DR6_BS 0x4000u /* single step (TF) */
#define DR6_BT 0x8000u /* task switch to a TSS with the T bit: a task switch sets it in dbg_pending */
/* Recomputes dbg_exec/dbg_data/dbg_io: call after any change to DR7 (a task switch clears the
 * local enables L0-L3 and LE, SDM Vol. 3A §17.2.4). */
void debug_dr7_changed(struct cpu *c);
/* MOV to/from DRn after the privilege and DR4/DR5 checks: general detect, then the access. */
void debug_mov_dr(struct cpu *c, int n, int write, int reg);
/* Before an instruction (only when dbg_exec or EFLAGS.RF): returns the DR6 B bits of the
 * instruction breakpoints at CS:EIP, honouring and clearing RF. */
uint32_t debug_insn_start(struct cpu *c);
/* Data and I/O accesses: note matching breakpoints in dbg_pending (reported after the insn). */
void debug_data_access(struct cpu *c, uint32_t lin, int size, int write);
void debug_io_access(struct cpu *c, uint16_t port, int size);
/* msr.c: 0 when idx exists (and, for a write, v is allowed), else -1 and the caller's #GP(0). */
int msr_read(struct cpu *c, uint32_t idx, uint64_t *v);
int msr_write(struct cpu *c, uint32_t idx, uint64_t v);
/* RDPMC: performance counter n (0 or 1), 40 bits. */
uint64_t msr_pmc(const struct cpu *c, int n);

/* ---- protected-mode control transfers (far_transfer.c, interrupt.c, task.c, v86.c) ---- */
/* Why a task switch happens: decides the busy bits, NT and the back link (SDM Vol. 3A §7.3). */
enum task_reason { TS_JMP, TS_CALL, TS_IRET, TS_INT };
/* Far JMP/CALL/RET in protected mode (not virtual-8086): SDM Vol. 3A §5.8, Vol. 2 JMP/CALL/RET. */
void pm_far_jump(struct cpu *c, uint16_t sel, uint32_t off);
void pm_far_call(struct cpu *c, uint16_t sel, uint32_t off, int opsize);
void pm_far_ret(struct cpu *c, int opsize, uint32_t imm);
/* IDT delivery (SDM Vol. 3A §6.10-6.14); ext: the event is external to the program (EXT bit). */
void pm_interrupt(struct cpu *c, int vec, uint32_t next_eip, int has_err, uint32_t err, int is_soft);
void pm_iret(struct cpu *c, int opsize);
/* Switches to the task whose TSS selector is sel; next_eip is saved in the outgoing TSS. Returns
 * 1 when the new TSS is 32-bit (an error code is then pushed as a dword). */
int task_switch(struct cpu *c, uint16_t sel, enum task_reason why, int ext, uint32_t next_eip);
/* Shared checks (far_transfer.c). */
void pm_set_cs(struct cpu *c, const struct segreg *d, int cpl);
void pm_null_outer_segs(struct cpu *c);
int pm_stack_room(const struct segreg *ss, uint32_t esp, uint32_t bytes);
void pm_inner_stack(struct cpu *c, int dpl, uint32_t ext, struct segreg *ss, uint32_t *ss_addr, uint32_t *esp);
/* Virtual-8086 mode (v86.c, SDM Vol. 3A ch. 20): INT n (returns 1 when redirected through the
 * real-mode IVT by VME), IRET, and the flag CLI/STI act on (F_IF or F_VIF, else #GP(0)). */
int v86_soft_int(struct cpu *c, int vec);
void v86_iret(struct cpu *c, int opsize);
uint32_t cli_sti_flag(struct cpu *c, int sti);

/* ---- handlers, one group per file (named after the file) ---- */
#define H(name) void name(struct cpu *c, const struct insn *in)
/* ops_alu.c */
H(op_alu); H(op_alu_grp1); H(op_inc_dec_r); H(op_not); H(op_neg); H(op_test);
H(op_inc_dec_rm);
/* ops_muldiv.c */
H(op_mul); H(op_imul1); H(op_div); H(op_idiv); H(op_imul_rm); H(op_imul_imm);
/* ops_shift.c */
H(op_shift_grp2); H(op_shld); H(op_shrd);
/* ops_bit.c */
H(op_bt); H(op_bt_imm); H(op_bsf); H(op_bsr);
/* ops_bcd.c */
H(op_daa); H(op_das); H(op_aaa); H(op_aas); H(op_aam); H(op_aad);
/* ops_move.c */
H(op_mov); H(op_mov_imm_r); H(op_mov_imm_rm); H(op_mov_moffs); H(op_mov_sreg); H(op_lea);
H(op_xchg); H(op_xchg_ax); H(op_movzx); H(op_movsx); H(op_cmov); H(op_setcc); H(op_bswap);
H(op_xlat); H(op_cbw); H(op_cwd); H(op_lahf); H(op_sahf); H(op_salc); H(op_load_far_ptr);
H(op_cmpxchg); H(op_cmpxchg8b); H(op_xadd); H(op_flag_op); H(op_nop);
/* ops_stack.c */
H(op_push_r); H(op_pop_r); H(op_push_imm); H(op_push_sreg); H(op_pop_sreg); H(op_pop_rm);
H(op_pusha); H(op_popa); H(op_pushf); H(op_popf); H(op_enter); H(op_leave);
/* ops_flow.c */
H(op_jcc); H(op_jmp_rel); H(op_call_rel); H(op_jmp_far); H(op_call_far); H(op_ret); H(op_retf);
H(op_loop); H(op_jcxz); H(op_int); H(op_int3); H(op_into); H(op_int1); H(op_iret); H(op_bound);
H(op_grp5);
/* ops_string.c */
H(op_movs); H(op_cmps); H(op_stos); H(op_lods); H(op_scas); H(op_ins); H(op_outs);
/* ops_io.c */
H(op_in); H(op_out);
/* ops_system.c */
H(op_hlt); H(op_cpuid); H(op_rdtsc); H(op_rdmsr); H(op_wrmsr); H(op_rdpmc); H(op_mov_cr);
H(op_mov_dr); H(op_clts); H(op_invd); H(op_wait); H(op_ud); H(op_grp6); H(op_grp7);
H(op_lar_lsl); H(op_arpl); H(op_sysenter); H(op_sysexit);
/* mmx.c */
H(op_mmx); H(op_mmx_shift_imm); H(op_emms);
/* fxsave.c */
H(op_fxsave); H(op_fxrstor);
#undef H

/* x87.c: the D8-DF instruction in at CS:EIP, pre-decoded, run without a fault frame when it can
 * neither fault nor reach beyond the CPU and RAM (see there): returns 1 with it done exactly as
 * op_x87 does it, EIP past it and insn_eip/ea set as a step sets them, or 0 with nothing changed.
 * The caller guarantees that the step would be just this instruction (no event, halt, shadow,
 * TF, RF or debug register), and counts it. For the JIT's handler calls. */
int x87_step_quiet(struct cpu *c, const struct insn *in);
/* ops_string.c: the same for MOVS, CMPS, STOS, LODS and SCAS with 32-bit addressing, with or
 * without REP, when every element lies in pages mem_quiet_ptr hands over (at most a page). */
int string_step_quiet(struct cpu *c, const struct insn *in);

#endif

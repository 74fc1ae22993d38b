/* The host code every block shares, at the start of the code cache: the trampoline between C and
 * translated code, the inline lookup that lets a block go on to the next one without the
 * dispatcher (jit_lookup's hit path, check for check, after QEMU's lookup_and_goto_ptr), and the
 * short thunks blocks call helpers through. Encodings per Intel SDM Vol. 2 (see emit_x64.c). */
#include <stddef.h>

#include "translate.h"

#define STUBS_SIZE 1024 /* the blocks start after this (checked below) */

#define TE_OFF(f) ((int32_t)offsetof(struct tlb_entry, f))
#define JC_OFF(f) ((int32_t)offsetof(struct jit_jc, f))

/* The trampoline: saves the host's callee-saved registers, keeps struct cpu in RBX, struct jit
 * in R12 and the budget in H_BUDGET for the blocks, and jumps to the block; blocks leave through
 * exit_stub, which stores the budget back, with their result in RAX. The stack stays 16-byte
 * aligned at every call a block makes. */
static void build_trampoline(struct jit *j, struct emit *e)
{
    static const int saved[] = { H_RBP, H_RBX, H_R12, H_R13, H_R14, H_R15 };
    j->enter = (uint8_t *(*)(struct cpu *, struct jit *, const uint8_t *))(void *)e->p;
    for (int i = 0; i < 6; i++)
        emit_push(e, saved[i]);
    emit_alu_imm_reg(e, 8, 5, H_RSP, 8);     /* sub rsp, 8: 8 (return address) + 48 + 8 */
    emit_op_rr(e, 8, 0x89, H_RDI, H_RBX);    /* mov rbx, rdi */
    emit_op_rr(e, 8, 0x89, H_RSI, H_R12);    /* mov r12, rsi */
    emit_op_mem(e, 8, 0x8B, H_BUDGET, H_R12, JIT_OFF(steps_left)); /* mov r9, [r12 + steps_left] */
    emit_jmp_reg(e, H_RDX);
    j->exit_stub = e->p;
    emit_op_mem(e, 8, 0x89, H_BUDGET, H_R12, JIT_OFF(steps_left)); /* mov [r12 + steps_left], r9 */
    emit_alu_imm_reg(e, 8, 0, H_RSP, 8);
    for (int i = 5; i >= 0; i--)
        emit_pop(e, saved[i]);
    emit_ret(e);
    /* "Back to the dispatcher with no exit to chain": where every failed check ends. */
    j->nochain_stub = e->p;
    emit_op_rr(e, 4, 0x31, H_RAX, H_RAX);
    emit_jmp32(e, j->exit_stub);
}

/* The inline lookup, called by a block's exit to an EIP it cannot chain to (a RET, a jump to
 * another page): ECX = the target EIP (already stored in cpu.eip). Returns in RAX the host code to
 * jump to: the target block's, or nochain_stub.
 *
 * It takes the jump cache entry for the target's linear address (way 0 of its set, or way 1 when
 * way 0 has another EIP) and accepts it only on the checks jit_lookup makes: the same EIP, CS base
 * and limit (struct cpu's) and mode (j->cur_mode: the running blocks' mode is the CPU's, as
 * anything that changes it ends its block, and the helper that ran it makes the new mode the
 * running one, next_inline in dispatch.c), and, unless the TLB is unchanged since the entry was
 * last checked, the TLB's fetch entry valid for the page and giving the block's physical address
 * (the same bytes: the page map changes only with a flush of the whole cache; a remapped page, a
 * flushed TLB or a fetch that must fault goes to the dispatcher, whose cpu_step takes it) and the
 * physical page still marked PME_CODE or ROM. An invalidated block is off the jump cache, and a
 * flush empties it, so neither can be reached; a negative entry's code only goes to the
 * dispatcher. The target's prologue then checks the budget, as after a chained jump. Under
 * --verify it always misses: each block is checked on its own. A hit reads the jump-cache entry
 * alone: block records are seldom in the host's cache. */
static void build_inline_lookup(struct jit *j, struct emit *e)
{
    uint8_t *miss[16];
    int nm = 0;
    int32_t cs = CPU_OFF(seg[0]) + S_CS * (int32_t)sizeof(struct segreg);
    j->ic_stub = e->p;
    emit_alu_imm_mem(e, 1, 7, H_R12, JIT_OFF(verifying), 0);
    miss[nm++] = emit_jcc32(e, CC_NE, NULL);
    emit_op_rr(e, 4, 0x31, H_R11, H_R11);                        /* r11d = 0: no fill tried yet */
    uint8_t *top = e->p;
    emit_op_mem(e, 4, 0x8B, H_RAX, H_RBX, cs + (int32_t)offsetof(struct segreg, base)); /* eax = lin */
    emit_op_rr(e, 4, 0x01, H_RCX, H_RAX);
    emit_op_rr(e, 4, 0x89, H_RAX, H_RDX);                        /* edx = jit_jc_index(lin, salt) */
    emit_shift_imm(e, 4, 5, H_RDX, JIT_JC_BITS);
    emit_op_rr(e, 4, 0x31, H_RAX, H_RDX);
    emit_op_mem(e, 4, 0x33, H_RDX, H_R12, JIT_OFF(cur_salt));
    emit_alu_imm_reg(e, 4, 4, H_RDX, (1u << JIT_JC_BITS) - 2);
    emit_shift_imm(e, 4, 4, H_RDX, JIT_JC_SHIFT);                /* rdx = &j->jc[edx]: way 0 */
    emit_op_sib(e, 8, 0x8D, H_RDX, H_R12, H_RDX, 0, JIT_OFF(jc));
    emit_op_mem(e, 4, 0x3B, H_RCX, H_RDX, JC_OFF(eip));
    uint8_t *way0 = emit_jcc32(e, CC_E, NULL);
    emit_op_mem(e, 4, 0x3B, H_RCX, H_RDX, (int32_t)sizeof(struct jit_jc) + JC_OFF(eip));
    miss[nm++] = emit_jcc32(e, CC_NE, NULL);
    emit_alu_imm_reg(e, 8, 0, H_RDX, (uint32_t)sizeof(struct jit_jc)); /* way 1 */
    if (!e->overflow)
        emit_patch_rel32(way0, e->p);
    _Static_assert(offsetof(struct jit_jc, cs_limit) == offsetof(struct jit_jc, cs_base) + 4 &&
                       offsetof(struct segreg, limit) == offsetof(struct segreg, base) + 4,
                   "CS base and limit compared as one quadword");
    emit_op_mem(e, 8, 0x8B, H_RDI, H_RBX, cs + (int32_t)offsetof(struct segreg, base));
    emit_op_mem(e, 8, 0x3B, H_RDI, H_RDX, JC_OFF(cs_base));
    miss[nm++] = emit_jcc32(e, CC_NE, NULL);
    emit_op_mem(e, 4, 0x8B, H_RDI, H_R12, JIT_OFF(cur_mode));
    emit_op_mem(e, 4, 0x3B, H_RDI, H_RDX, JC_OFF(mode));
    miss[nm++] = emit_jcc32(e, CC_NE, NULL);
    emit_op_mem(e, 8, 0x8B, H_RSI, H_RDX, JC_OFF(code));         /* an empty entry has none */
    emit_op_rr(e, 8, 0x85, H_RSI, H_RSI);
    miss[nm++] = emit_jcc32(e, CC_E, NULL);
    /* No TLB flush or eviction since the block's page translation was last checked: it still
     * holds, and so does the page's code marking (a remap of RAM flushes the TLB). */
    emit_op_mem(e, 8, 0x8B, H_RDI, H_RDX, JC_OFF(gen));
    emit_op_mem(e, 8, 0x3B, H_RDI, H_RBX, CPU_OFF(tlb.gen));
    uint8_t *checked = emit_jcc32(e, CC_E, NULL);
    /* edi = offset of the fetch entry: c->tlb.f[c->cpl == 3][tlb_index(lin)] */
    emit_op_rr(e, 4, 0x89, H_RAX, H_RDI);
    emit_shift_imm(e, 4, 5, H_RDI, 12);
    emit_alu_imm_reg(e, 4, 4, H_RDI, TLB_SIZE - 1);
    emit_op_rr(e, 4, 0x69, H_RDI, H_RDI);
    emit_u32(e, (uint32_t)sizeof(struct tlb_entry));
    emit_alu_imm_mem(e, 4, 7, H_RBX, CPU_OFF(cpl), 3);
    uint8_t *super = emit_jcc32(e, CC_NE, NULL);
    emit_alu_imm_reg(e, 4, 0, H_RDI, TLB_SIZE * (uint32_t)sizeof(struct tlb_entry));
    if (!e->overflow)
        emit_patch_rel32(super, e->p);
    int32_t ent = CPU_OFF(tlb.f[0][0]);
    emit_op_rr(e, 4, 0x89, H_RAX, H_R8);                         /* the fetch tag: the page */
    emit_alu_imm_reg(e, 4, 4, H_R8, TLB_PAGE_MASK);
    emit_op_sib(e, 4, 0x3B, H_R8, H_RBX, H_RDI, 0, ent + TE_OFF(fetch));
    uint8_t *nofetch = emit_jcc32(e, CC_NE, NULL);
    emit_op_rr(e, 4, 0x89, H_RAX, H_R8);                         /* phys = paddr | page offset */
    emit_alu_imm_reg(e, 4, 4, H_R8, ~TLB_PAGE_MASK);
    emit_op_sib(e, 4, 0x0B, H_R8, H_RBX, H_RDI, 0, ent + TE_OFF(paddr));
    emit_op_mem(e, 4, 0x3B, H_R8, H_RDX, JC_OFF(phys));
    miss[nm++] = emit_jcc32(e, CC_NE, NULL);
    emit_shift_imm(e, 4, 5, H_R8, PM_PAGE_BITS);                 /* the page map entry */
    emit_op_mem(e, 8, 0x8B, H_R10, H_RBX, CPU_OFF(mem));
    emit_op_mem(e, 8, 0x8B, H_R10, H_R10, (int32_t)offsetof(struct physmem, map));
    emit_op_sib(e, 1, 0xF6, 0, H_R10, H_R8, 3, 0);                /* test byte [r10 + r8 * 8], imm8 */
    emit_byte(e, PME_CODE | PME_ROM);
    miss[nm++] = emit_jcc32(e, CC_E, NULL);
    emit_op_mem(e, 8, 0x8B, H_RDI, H_RBX, CPU_OFF(tlb.gen));
    emit_op_mem(e, 8, 0x89, H_RDI, H_RDX, JC_OFF(gen));
    if (!e->overflow)
        emit_patch_rel32(checked, e->p);
    emit_alu_imm_mem(e, 8, 0, H_R12, JIT_OFF(stats.ic_hits), 1);
    emit_op_rr(e, 8, 0x89, H_RSI, H_RAX);
    emit_ret(e);
    /* No fetch entry for the page (a context switch flushed the process's): filled here, as
     * jit_lookup would, when the walk allows it without a fault (mmu_fill_fetch), and the whole
     * lookup made again, once (the walk's accessed bits may have invalidated a block). Without
     * it, each page of a process's code would cost a round trip through the dispatcher after
     * every switch to it. The stack is 16-byte aligned at the call: the block's call pushed 8,
     * the saved ECX 8 more. The budget register is caller-saved: kept in memory over the call. */
    if (!e->overflow)
        emit_patch_rel32(nofetch, e->p);
    emit_op_rr(e, 4, 0x85, H_R11, H_R11);
    miss[nm++] = emit_jcc32(e, CC_NE, NULL);
    emit_push(e, H_RCX);                                         /* the target EIP */
    emit_op_rr(e, 8, 0x89, H_RBX, H_RDI);
    emit_op_rr(e, 4, 0x89, H_RAX, H_RSI);
    emit_op_mem(e, 8, 0x89, H_BUDGET, H_R12, JIT_OFF(steps_left));
    emit_call_abs(e, (const void *)mmu_fill_fetch);
    emit_op_mem(e, 8, 0x8B, H_BUDGET, H_R12, JIT_OFF(steps_left));
    emit_pop(e, H_RCX);
    emit_op_rr(e, 4, 0x85, H_RAX, H_RAX);
    miss[nm++] = emit_jcc32(e, CC_E, NULL);
    emit_alu_imm_mem(e, 8, 0, H_R12, JIT_OFF(stats.ic_fills), 1);
    emit_mov_imm32(e, H_R11, 1);
    emit_jmp32(e, top);
    for (int k = 0; k < nm; k++)
        if (!e->overflow)
            emit_patch_rel32(miss[k], e->p);
    emit_alu_imm_mem(e, 8, 0, H_R12, JIT_OFF(stats.ic_misses), 1);
    emit_mov_imm64(e, H_RAX, (uint64_t)(uintptr_t)j->nochain_stub);
    emit_ret(e);
}

/* A helper called through a thunk: blocks pass their third argument in RDX and make a 5-byte
 * rel32 call; the thunk stores the budget for the helper, adds struct cpu and struct jit, calls
 * it (RSP 16-byte aligned again after the block's call pushed 8) and loads the budget the helper
 * left before returning to the block with the helper's result in RAX. */
static const uint8_t *build_thunk(struct emit *e, const void *fn)
{
    const uint8_t *start = e->p;
    emit_op_mem(e, 8, 0x89, H_BUDGET, H_R12, JIT_OFF(steps_left));
    emit_op_rr(e, 8, 0x89, H_RBX, H_RDI);
    emit_op_rr(e, 8, 0x89, H_R12, H_RSI);
    emit_alu_imm_reg(e, 8, 5, H_RSP, 8);
    emit_call_abs(e, fn);
    emit_alu_imm_reg(e, 8, 0, H_RSP, 8);
    emit_op_mem(e, 8, 0x8B, H_BUDGET, H_R12, JIT_OFF(steps_left)); /* RAX untouched */
    emit_ret(e);
    return start;
}

int jit_build_stubs(struct jit *j)
{
    struct emit e;
    emit_init(&e, j->code, STUBS_SIZE);
    build_trampoline(j, &e);
    build_inline_lookup(j, &e);
    j->step_thunk = build_thunk(&e, (const void *)jit_helper_step);
    j->cold_thunk = build_thunk(&e, (const void *)jit_helper_cold);
    j->tail_thunk = build_thunk(&e, (const void *)jit_helper_tail);
    j->quiet_thunk = build_thunk(&e, (const void *)jit_helper_quiet);
    j->rdtsc_thunk = build_thunk(&e, (const void *)jit_helper_rdtsc);
    /* A fixed size, checked, so that block addresses do not move when a stub grows. */
    if (e.overflow)
        return -1;
    j->code_start = j->code_used = STUBS_SIZE;
    return 0;
}

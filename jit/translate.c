/* The translator: decodes a guest basic block (to a control transfer, a mode-changing
 * instruction, the end of the page or JIT_MAX_INSNS) and emits its host code: inline code for
 * the simple, hot instructions (translate_inline.c) and a call to the interpreter's own handler,
 * through cpu_step_decoded, for everything else (Blink's approach: complete from day one). */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "translate.h"

void tr_counts(struct tctx *t, int n)
{
    if (n == 0)
        return;
    /* icount and tsc follow from steps_left, held in H_BUDGET while blocks run (jit_enter_block
     * and the helpers derive them) */
    emit_alu_imm_reg(&t->e, 8, 5, H_BUDGET, (uint32_t)n);
}

void tr_flush_counts(struct tctx *t)
{
    tr_counts(t, t->pending);
    t->pending = 0;
}

void tr_to_nochain(struct tctx *t, uint8_t *field)
{
    if (t->nfix < (int)(sizeof(t->fix) / sizeof(t->fix[0])))
        t->fix[t->nfix++] = field;
    else
        t->e.overflow = 1; /* cannot happen with JIT_MAX_INSNS; fail safe */
}

void tr_label(struct tctx *t, int kind, int insn, uint32_t eip, int eip_known)
{
    if (!t->j->dump || t->nlabels >= (int)(sizeof(t->labels) / sizeof(t->labels[0])))
        return;
    t->labels[t->nlabels++] = (struct jit_label){ (uint32_t)(t->e.p - t->b->code), (uint8_t)kind,
                                                  (uint8_t)eip_known, (uint16_t)insn, eip };
}

void tr_lookup_exit(struct tctx *t)
{
    tr_cpu_exit(t); /* the next block (or the dispatcher) reads struct cpu */
    tr_label(t, JL_LOOKUP, t->i, 0, 0);
    emit_call32(&t->e, t->j->ic_stub);
    emit_jmp_reg(&t->e, H_RAX);
}

/* The check a chained exit to another guest page makes (jit_chain fills in what it expects):
 * that page's fetch entry in the TLB, for the block's privilege class, still holds and still
 * maps it to the host bytes the next block was translated from. It is what jit_lookup would
 * check, less the jump cache, which is where the inline lookup spends its time (a cold line per
 * target): the entry is in struct cpu, the expected addend in this code. A global page's entry
 * survives CR3 writes, so kernel calls from page to page stay chained across task switches.
 * Sets *addend and *jmp to the imm64 and the final rel32 to patch, and sends a failed check to
 * fail (patched by the caller). */
static void emit_page_guard(struct tctx *t, uint32_t lin, uint8_t **addend, uint8_t **jmp, uint8_t **fail)
{
    struct emit *e = &t->e;
    uint32_t cls = ((t->mode >> JM_CPL_SHIFT) & 3) == 3 ? TLB_USER : TLB_SUPER;
    int32_t ent = CPU_OFF(tlb.f[0][0]) + (int32_t)((cls * TLB_SIZE + tlb_index(lin)) * sizeof(struct tlb_entry));
    emit_alu_imm_mem(e, 4, 7, H_RBX, ent + (int32_t)offsetof(struct tlb_entry, fetch), lin & TLB_PAGE_MASK);
    fail[0] = emit_jcc32(e, CC_NE, NULL);
    emit_byte(e, 0x48); /* mov rax, imm64: the full form, whatever its value, for jit_chain to patch */
    emit_byte(e, 0xB8);
    *addend = e->p;
    emit_u64(e, 0);
    emit_op_mem(e, 8, 0x3B, H_RAX, H_RBX, ent + (int32_t)offsetof(struct tlb_entry, addend));
    fail[1] = emit_jcc32(e, CC_NE, NULL);
    *jmp = emit_jmp32(e, NULL);
}

void tr_exit(struct tctx *t, uint32_t eip, int counted, int chainable)
{
    struct jit_block *b = t->b;
    tr_cpu_exit(t);
    tr_counts(t, counted);
    /* A jump that skips the lookup must not skip the TLB check of a page it has not been
     * through: within the block's page chaining needs none (the page's mapping is part of what
     * got the block entered), to another page it is guarded (emit_page_guard). QEMU, in system
     * mode, chains within the page only. */
    uint32_t lin0 = b->cs_base + b->eip, lin1 = b->cs_base + eip;
    int other_page = ((lin0 ^ lin1) & TLB_PAGE_MASK) != 0;
    if (b->nexits == 2 || !chainable || eip > b->cs_limit) {
        emit_mov_imm_mem(&t->e, 4, H_RBX, CPU_OFF(eip), eip);
        emit_mov_imm32(&t->e, H_RCX, eip);
        tr_lookup_exit(t);
        return;
    }
    struct jit_exit *x = &b->exits[b->nexits++];
    x->from = b;
    x->eip = eip;
    x->guard_addend = x->guard_jmp = NULL;
    tr_label(t, JL_CHAIN, t->i, eip, 1);
    /* A chained jump leaves cpu.eip behind: the next block stores its own where it may leave
     * (its prologue's exit, below) or call into C (handler calls and slow paths carry theirs). */
    x->patch = emit_jmp32(&t->e, NULL); /* rel32 = 0: falls through to the return below */
    uint8_t *fail[2] = { NULL, NULL };
    if (other_page) {
        /* Laid out after the jmp, which skips it until the exit is chained (unchain, cache.c). */
        tr_label(t, JL_GUARD, t->i, eip, 1);
        emit_page_guard(t, lin1, &x->guard_addend, &x->guard_jmp, fail);
        if (!t->e.overflow)
            emit_patch_rel32(x->patch, t->e.p);
    }
    tr_label(t, JL_EXIT, t->i, eip, 1);
    emit_mov_imm_mem(&t->e, 4, H_RBX, CPU_OFF(eip), eip);
    emit_mov_imm64(&t->e, H_RAX, (uint64_t)(uintptr_t)x);
    emit_jmp32(&t->e, t->j->exit_stub);
    if (other_page) {
        for (int k = 0; k < 2; k++)
            if (!t->e.overflow)
                emit_patch_rel32(fail[k], t->e.p);
        emit_alu_imm_mem(&t->e, 8, 0, H_R12, JIT_OFF(stats.guard_fails), 1);
        emit_mov_imm_mem(&t->e, 4, H_RBX, CPU_OFF(eip), eip);
        emit_mov_imm32(&t->e, H_RCX, eip);
        tr_lookup_exit(t);
    }
}

/* The handler call: EIP of the instruction stored, cpu_step_decoded through jit_helper_step,
 * which counts the step and says whether the block may go on. x87 instructions and MOVS, CMPS,
 * STOS, LODS and SCAS go to jit_helper_quiet instead, which most of the time runs them without
 * a cpu_step around them; it returns what jit_helper_step would. */
static void emit_fallback(struct tctx *t, int i, int last)
{
    const struct insn *in = &t->b->insns[i];
    tr_label(t, JL_HANDLER, i, t->eips[i], 1);
    tr_flush_counts(t);
    tr_cpu_current(t);
    emit_mov_imm_mem(&t->e, 4, H_RBX, CPU_OFF(eip), t->eips[i]);
    emit_mov_imm64(&t->e, H_RDX, (uint64_t)(uintptr_t)in);
    int quiet = (in->op & 0x1F8) == 0xD8 || (in->op >= 0xA4 && in->op <= 0xAF && in->op != 0xA8 && in->op != 0xA9);
    emit_call32(&t->e, quiet ? t->j->quiet_thunk : t->j->step_thunk);
    tr_forget_registers(t);
    if (last && jit_ends_block(in)) {
        /* A branch, a segment load, a mode change: unless the helper asks for the dispatcher
         * (1), the next block is looked up inline (2), in the mode the instruction left
         * (next_inline, dispatch.c). */
        emit_alu_imm_reg(&t->e, 4, 7, H_RAX, 1);
        tr_to_nochain(t, emit_jcc32(&t->e, CC_E, NULL));
        emit_op_mem(&t->e, 4, 0x8B, H_RCX, H_RBX, CPU_OFF(eip));
        tr_lookup_exit(t);
        return;
    }
    emit_op_rr(&t->e, 4, 0x85, H_RAX, H_RAX);
    tr_to_nochain(t, emit_jcc32(&t->e, CC_NE, NULL));
}

/* Where the next block's code goes, with the rest of the code cache for room (*room); NULL when
 * the cache is nearly full. */
static uint8_t *code_start(struct jit *j, size_t *room)
{
    if (j->code_used + 64 > j->code_size)
        return NULL;
    *room = j->code_size - j->code_used;
    return j->code + j->code_used;
}

/* The code of block b is emitted: the cache's next free byte after it, 16-byte aligned. */
static void code_end(struct jit *j, const struct jit_block *b)
{
    j->code_used = (j->code_used + b->code_len + 15) & ~(size_t)15;
}

struct jit_block *jit_translate(struct jit *j, struct cpu *c, uint32_t lin, uint32_t phys, const uint8_t *host,
                                uint32_t mode)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct jit_block *b = jit_meta_alloc_aligned(j, sizeof(*b), 64); /* the lookup's fields in one line */
    struct tctx tc;
    struct tctx *t = &tc;
    if (!b)
        return NULL;
    memset(t, 0, sizeof(*t));
    t->fused_cc = -1;
    t->j = j;
    t->c = c;
    t->b = b;
    t->mode = mode;
    b->phys = phys;
    b->eip = c->eip;
    b->cs_base = c->seg[S_CS].base;
    b->cs_limit = c->seg[S_CS].limit;
    b->mode = mode;
    b->jc_salt = jit_jc_salt(mode);
    b->host = host;

    /* Decode: every instruction whole inside the page and the CS limit, none wrapping IP. */
    struct insn ins[JIT_MAX_INSNS];
    int code32 = (mode & JM_CODE32) != 0;
    uint32_t eip = c->eip, off = lin & (PM_PAGE_SIZE - 1);
    int n = 0, tail = 0;
    while (n < j->max_insns) {
        if (eip > b->cs_limit)
            break;
        uint64_t room = (uint64_t)b->cs_limit + 1 - eip;
        size_t avail = PM_PAGE_SIZE - off;
        if (avail > 15)
            avail = 15;
        if (avail > room)
            avail = (size_t)room;
        if (decode(host + (off - (lin & (PM_PAGE_SIZE - 1))), avail, code32, &ins[n]) < 0) {
            /* Not whole here, or #UD / too long: the interpreter raises what it must. Near the
             * page's end it is (most likely) an instruction that goes on in the next page: the
             * block ends with a call that has the interpreter run it, rather than leaving it to
             * the dispatcher, which would mean a round trip through C for every execution. */
            tail = PM_PAGE_SIZE - off < 15 && eip <= b->cs_limit;
            break;
        }
        if (!code32 && eip + ins[n].len > 0xFFFF)
            break;
        t->eips[n] = eip;
        eip += ins[n].len;
        off += ins[n].len;
        n++;
        if (jit_ends_block(&ins[n - 1]) || off >= PM_PAGE_SIZE)
            break;
    }
    t->eips[n] = eip;
    b->ninsn = (uint16_t)n;
    b->tail = (uint8_t)tail;
    b->nsteps = (uint16_t)(n + tail);
    b->phys_end = phys + (off - (lin & (PM_PAGE_SIZE - 1)));
    size_t room;
    uint8_t *start = code_start(j, &room);
    if (!start)
        return NULL;
    if (n + tail == 0) {
        /* A negative entry: the interpreter runs this instruction. Its code only leaves for the
         * dispatcher, so that the inline lookup may find it in the jump cache like any other. */
        b->phys_end = phys;
        emit_init(&t->e, start, room);
        emit_jmp32(&t->e, j->nochain_stub);
        b->code = start;
        b->code_len = (uint32_t)(t->e.p - start);
        code_end(j, b);
        jit_register_block(j, b);
        return b;
    }
    /* (one element at least: an empty allocation would read as out of room) */
    b->insns = jit_meta_alloc(j, sizeof(struct insn) * (size_t)(n ? n : 1));
    b->insn_off = jit_meta_alloc(j, sizeof(uint32_t) * (size_t)(n ? n : 1));
    if (!b->insns || !b->insn_off)
        return NULL;
    memcpy(b->insns, ins, sizeof(struct insn) * (size_t)n);

    /* Emit. */
    emit_init(&t->e, start, room);
    b->code = start;
    /* Prologue: the one check of a block entry, made again on chained entries: enough budget
     * for the whole block (the dispatcher runs the rest one step at a time). One word suffices:
     * stop requests, interrupts and NMIs come only from device code, which runs only inside a
     * helper, and every helper leaves the block when one is pending (events_pending); timers
     * and host input are looked at between slices, which end the budget (machine_run). */
    t->carry = CARRY_LIVE; /* what the block before left pending (translate_inline.c) */
    tr_label(t, JL_PROLOGUE, 0, b->eip, 1);
    emit_alu_imm_reg(&t->e, 8, 7, H_BUDGET, (uint32_t)(n + tail));
    uint8_t *no_room = emit_jcc32(&t->e, CC_L, NULL); /* to the EIP store after the cold code */

    tr_map_registers(t);
    int done = 0; /* the last instruction emitted its own exits */
    for (int i = 0; i < n; i++) {
        int last = i == n - 1;
        t->i = i;
        b->insn_off[i] = (uint32_t)(t->e.p - start);
        tr_label(t, JL_INSN, i, t->eips[i], 1);
        /* The instruction after an STI is a handler call: its cpu_step holds interrupts off
         * for it, as the STI's shadow says, and the helper leaves for the dispatcher after it
         * when one is pending (SDM Vol. 2B, STI). An STI that ends its block (at the end of a
         * page, or of JIT_MAX_INSNS) leaves by an exit the dispatcher never chains while the
         * shadow is up (needs_interpreter): its cpu_step runs the next instruction. */
        if ((i == 0 || b->insns[i - 1].op != 0xFB) && tr_inline(t, &b->insns[i], last)) {
            b->ninline++;
            done = last && t->exited;
            continue;
        }
        emit_fallback(t, i, last);
        t->fused_cc = -1;
        done = last && jit_ends_block(&b->insns[i]);
    }
    if (tail) {
        /* The page-crossing instruction: counts and flags brought up to date, a step, then on
         * through the inline lookup from wherever it went (or to the dispatcher if it says so). */
        t->i = n;
        tr_label(t, JL_TAIL, n, t->eips[n], 1);
        tr_flush_counts(t);
        tr_cpu_current(t);
        emit_mov_imm_mem(&t->e, 4, H_RBX, CPU_OFF(eip), t->eips[n]);
        emit_mov_imm64(&t->e, H_RDX, (uint64_t)(uintptr_t)b);
        emit_call32(&t->e, j->tail_thunk);
        tr_forget_registers(t);
        emit_op_rr(&t->e, 4, 0x85, H_RAX, H_RAX);
        tr_to_nochain(t, emit_jcc32(&t->e, CC_NE, NULL));
        emit_op_mem(&t->e, 4, 0x8B, H_RCX, H_RBX, CPU_OFF(eip));
        tr_lookup_exit(t);
    } else if (!done) {
        tr_exit(t, t->eips[n], t->pending, 1);
    }
    tr_emit_cold(t);
    /* The prologue's exit: a chained jump here did not store EIP (tr_exit). */
    tr_label(t, JL_EXIT, 0, b->eip, 1);
    if (!t->e.overflow)
        emit_patch_rel32(no_room, t->e.p);
    emit_mov_imm_mem(&t->e, 4, H_RBX, CPU_OFF(eip), b->eip);
    tr_to_nochain(t, emit_jmp32(&t->e, NULL));
    if (t->e.overflow)
        return NULL;
    /* The prologue's, handler calls' and slow paths' exits: back to the dispatcher, no chaining. */
    for (int k = 0; k < t->nfix; k++)
        emit_patch_rel32(t->fix[k], j->nochain_stub);
    b->code_len = (uint32_t)(t->e.p - start);
    code_end(j, b);
    jit_register_block(j, b);

    clock_gettime(CLOCK_MONOTONIC, &t1);
    j->stats.blocks++;
    j->stats.insns += (uint64_t)n;
    j->stats.inline_insns += b->ninline;
    j->stats.code_bytes += b->code_len;
    j->stats.translate_ns += (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull + (uint64_t)(t1.tv_nsec - t0.tv_nsec);
    if (j->dump)
        jit_dump_block(j, b, host, t->labels, t->nlabels);
    if (j->perf_map)
        jit_perf_map_block(j, b);
    return b;
}

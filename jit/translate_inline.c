/* Inline translation of the hot instructions (issue 5): MOV, ALU, INC/DEC, TEST, LEA, Jcc/JMP rel,
 * JMP/CALL r/m, PUSH/POP/CALL/RET, MOVZX/MOVSX, SETcc/CMOVcc, IMUL, MUL/DIV r/m32, the shifts and
 * rotates, SHLD/SHRD, BT* imm, BSF/BSR, BSWAP, NOT/NEG, XCHG, LEAVE, PUSH r/m, CLD/STD, SAHF,
 * PAUSE and RDTSC, CMPXCHG, CMPXCHG8B and XADD with memory, BT* r/m32, r32, PUSHF, PUSH sreg, MOV
 * r/m, sreg, CBW/CWD, CLI/STI at CPL 0, LOCK-prefixed or not, with memory operands through an
 * inline TLB probe and an out-of-line slow path. Guest registers are cached in host registers
 * within a block (below); arithmetic flags come from the host's own (saved by PUSHF, merged into
 * the guest EFLAGS lazily) or, where the host leaves them undefined, from integer operations that
 * reproduce the interpreter's choices; they are saved only when something can read them (a
 * liveness scan over the block), as the operands that produce them when only a slow path can
 * (flags_by_operands), and a Jcc right after the instruction that set its flags tests a SETcc
 * byte. Flags per Intel SDM Vol. 1 Appendix A and cpu/ops_*.c; host encodings per Vol. 2. */
#include "translate.h"

#define MASK6 (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* Offset in struct cpu of guest register r of size bytes (AH-BH are byte 1 of EAX-EBX). */
static int32_t greg(int r, int size)
{
    if (size == 1 && r >= 4)
        return CPU_OFF(r[0]) + (r - 4) * 4 + 1;
    return CPU_OFF(r[0]) + r * 4;
}

/* Guest register caching. Within a block a 32-bit guest register may also live in a host
 * register (hmap), loaded on its first use. A write goes to the host register alone and marks it
 * dirty; dirty registers are written back to struct cpu (spilled) before anything reads struct
 * cpu: a handler call, a slow path's handler (the spills are in its cold code), an exit, and a
 * byte or word access, which works on struct cpu and drops the host copy. After a call into C
 * (which may change guest registers and clobbers R10 and R11) the copies are forgotten and loaded
 * again on next use; a slow path that rejoins the hot path reloads those the hot path holds
 * there. Code that only some paths run (cond_skip .. cond_end) starts with nothing dirty and
 * writes through to struct cpu, so that the state is the same whichever path was taken. QEMU's
 * TCG keeps guest registers in host registers within a block the same way. */
static const int8_t host_pool[] = { H_R13, H_R14, H_R15, H_RBP, H_R10, H_R11 };

/* The guest register an access of size bytes to register number r touches (AH-BH are 4-7). */
static int greg_id(int r, int size)
{
    return size == 1 && r >= 4 ? r - 4 : r;
}

/* The host register holding guest register r, loaded now if it is not yet; -1 when r has none in
 * this block or may not start being cached here. */
static int hreg_get(struct tctx *t, int r)
{
    int h = t->hmap[r];
    if (h < 0)
        return -1;
    if (t->cached & (1u << r))
        return h;
    if (t->cond)
        return -1;
    emit_op_mem(&t->e, 4, 0x8B, h, H_RBX, greg(r, 4));
    t->cached |= (uint8_t)(1u << r);
    return h;
}

/* Writes guest register r back to struct cpu if its host copy is newer. */
static void spill(struct tctx *t, int r)
{
    if (!(t->dirty & (1u << r)))
        return;
    emit_op_mem(&t->e, 4, 0x89, t->hmap[r], H_RBX, greg(r, 4));
    t->dirty &= (uint8_t)~(1u << r);
}

void tr_spill_all(struct tctx *t)
{
    for (int r = 0; r < 8; r++)
        spill(t, r);
}

void tr_cpu_current(struct tctx *t)
{
    tr_flags_now(t);
    tr_spill_all(t);
}

static void tr_flags_out(struct tctx *t);

void tr_cpu_exit(struct tctx *t)
{
    tr_flags_out(t);
    tr_spill_all(t);
}

/* Code that only some paths run: the branch on host condition hcc that skips it (patched by the
 * caller at cond_end), with every dirty register written back before it (the stores leave the
 * host's flags alone). */
static uint8_t *cond_skip(struct tctx *t, int hcc)
{
    tr_spill_all(t);
    uint8_t *skip = emit_jcc32(&t->e, hcc, NULL);
    t->cond++;
    return skip;
}

static void cond_end(struct tctx *t)
{
    t->cond--;
}

/* The offset in struct cpu of guest register r (size bytes), for an access made there: the host
 * copy is written back first if it is newer. */
static int32_t greg_mem(struct tctx *t, int r, int size)
{
    spill(t, greg_id(r, size));
    return greg(r, size);
}

/* Guest register r was written in struct cpu by size bytes (after greg_mem): its host copy is
 * stale. */
static void greg_stale(struct tctx *t, int r, int size)
{
    t->cached &= (uint8_t)~(1u << greg_id(r, size));
}

/* Host register t->hmap[r], which holds guest register r, was just written: dirty, or written
 * through inside conditional code. */
static void greg_written(struct tctx *t, int r)
{
    if (t->cond)
        emit_op_mem(&t->e, 4, 0x89, t->hmap[r], H_RBX, greg(r, 4));
    else
        t->dirty |= (uint8_t)(1u << r);
}

/* Whether a 32-bit write of guest register r can go to its host register here. */
static int host_writable(const struct tctx *t, int r)
{
    return t->hmap[r] >= 0 && (!t->cond || (t->cached & (1u << r)));
}

/* Which host registers the block's guest registers get: the most used first (the pool has
 * one fewer than the guest's eight). */
void tr_map_registers(struct tctx *t)
{
    int uses[8] = { 0 };
    for (int i = 0; i < t->b->ninsn; i++) {
        const struct insn *in = &t->b->insns[i];
        unsigned op = in->op;
        if (in->mem) {
            if (in->base != 0xFF)
                uses[in->base & 7] += 2;
            if (in->index != 0xFF)
                uses[in->index & 7] += 2;
        } else if (in->d->fl & OPF_MODRM) {
            uses[in->rm & 7]++;
        }
        if (in->d->fl & OPF_MODRM)
            uses[in->reg & 7]++;
        if ((op >= 0x40 && op <= 0x5F) || (op >= 0x91 && op <= 0x97) || (op >= 0xB8 && op <= 0xBF))
            uses[op & 7]++;
        if ((op >= 0x50 && op <= 0x5F) || op == 0x68 || op == 0x6A || op == 0xE8 || op == 0xC3 || op == 0xC2 ||
            op == 0xC9 || op == 0xFF)
            uses[R_ESP] += 2;
        if (op < 0x40 && (op & 7) >= 4 && (op & 7) < 6)
            uses[R_EAX]++;
    }
    for (int r = 0; r < 8; r++)
        t->hmap[r] = -1;
    t->cached = t->dirty = 0;
    for (size_t k = 0; k < sizeof(host_pool); k++) {
        int best = -1;
        for (int r = 0; r < 8; r++)
            if (t->hmap[r] < 0 && uses[r] > 0 && (best < 0 || uses[r] > uses[best]))
                best = r;
        if (best < 0)
            break;
        t->hmap[best] = host_pool[k];
    }
}

/* hreg (zero-extended) = guest register r of size bytes. */
static void load_greg(struct tctx *t, int hreg, int r, int size)
{
    int h;
    if (size == 4 && (h = hreg_get(t, r)) >= 0) {
        if (h != hreg)
            emit_op_rr(&t->e, 4, 0x89, h, hreg);
        return;
    }
    if (size == 4) /* no host copy, so nothing newer than struct cpu */
        emit_op_mem(&t->e, 4, 0x8B, hreg, H_RBX, greg(r, 4));
    else
        emit_op_mem(&t->e, 4, size == 2 ? 0x0FB7 : 0x0FB6, hreg, H_RBX, greg_mem(t, r, size));
}

/* A host register holding guest register r (size bytes) as an instruction's source: its own
 * host copy when it has one, else ECX loaded with it. */
static int src_reg(struct tctx *t, int r, int size)
{
    int h = size == 4 ? hreg_get(t, r) : -1;
    if (h >= 0)
        return h;
    load_greg(t, H_RCX, r, size);
    return H_RCX;
}

/* Guest register r of size bytes = hreg. */
static void store_greg(struct tctx *t, int hreg, int r, int size)
{
    if (size == 4 && host_writable(t, r)) {
        int h = t->hmap[r];
        if (h != hreg)
            emit_op_rr(&t->e, 4, 0x89, hreg, h);
        t->cached |= (uint8_t)(1u << r);
        greg_written(t, r);
        return;
    }
    emit_op_mem(&t->e, size, size == 1 ? 0x88 : 0x89, hreg, H_RBX, greg_mem(t, r, size));
    greg_stale(t, r, size);
}

/* Guest register r of size bytes = imm. */
static void store_greg_imm(struct tctx *t, int r, int size, uint32_t imm)
{
    if (size == 4 && host_writable(t, r)) {
        emit_mov_imm32(&t->e, t->hmap[r], imm);
        t->cached |= (uint8_t)(1u << r);
        greg_written(t, r);
        return;
    }
    emit_mov_imm_mem(&t->e, size, H_RBX, greg_mem(t, r, size), imm);
    greg_stale(t, r, size);
}

/* "opc regfield, r" with guest register r (size bytes) as the ModRM r/m operand, followed by an
 * immediate of imm_size bytes (0: none); write: the instruction writes r. 32-bit operands work
 * on the host copy, others on struct cpu. */
static void gop(struct tctx *t, int size, uint32_t opc, int regfield, int r, int write, int imm_size, uint32_t imm)
{
    struct emit *e = &t->e;
    int h;
    if (size == 4 && (h = hreg_get(t, r)) >= 0) {
        emit_op_rr(e, 4, opc, regfield, h);
        if (imm_size)
            emit_imm(e, imm_size, imm);
        if (write)
            greg_written(t, r);
        return;
    }
    emit_op_mem(e, size, opc, regfield, H_RBX, greg_mem(t, r, size));
    if (imm_size)
        emit_imm(e, imm_size, imm);
    if (write)
        greg_stale(t, r, size);
}

/* Group-1 ALU op ext with an immediate on guest register r. */
static void gop_alu_imm(struct tctx *t, int size, int ext, int r, uint32_t imm)
{
    struct emit *e = &t->e;
    int h;
    if (size == 4 && (h = hreg_get(t, r)) >= 0) {
        emit_alu_imm_reg(e, 4, ext, h, imm);
        if (ext != 7)
            greg_written(t, r);
        return;
    }
    emit_alu_imm_mem(e, size, ext, H_RBX, greg_mem(t, r, size), imm);
    if (ext != 7)
        greg_stale(t, r, size);
}

static uint32_t cond_flags(int cc);

static int is_jcc(const struct insn *in)
{
    return (in->op >= 0x70 && in->op <= 0x7F) || (in->op >= 0x180 && in->op <= 0x18F);
}

/* Lazy flags. An instruction whose flags may be read saves them (the host's, by PUSHF, or a
 * computed value) in j->pflags with one store; they are merged into EFLAGS in struct cpu, two
 * read-modify-writes there, only where something reads EFLAGS: a Jcc, SETcc, CMOVcc or ADC/SBB
 * of the block, a handler call, a slow path (whose handler may raise an exception, which
 * pushes EFLAGS), and the block's exits. Another producer that overwrites every pending flag
 * makes the pending ones moot. Never called where the paths split (t->cond): the translator's
 * idea of what is pending must hold on every path. */
static void emit_flags_merge(struct emit *e, int scratch, uint32_t keep, uint32_t clear)
{
    emit_op_mem(e, 4, 0x8B, scratch, H_R12, JIT_OFF(pflags));
    emit_alu_imm_reg(e, 4, 4, scratch, keep);
    emit_alu_imm_mem(e, 4, 4, H_RBX, CPU_OFF(eflags), ~clear);
    emit_op_mem(e, 4, 0x09, scratch, H_RBX, CPU_OFF(eflags));
}

/* Operand B of fs as the source of ALU op ext (0 add, 5 sub, 7 cmp) on scratch. */
static void fsrc_op_b(struct emit *e, const struct fsrc *fs, int ext, int scratch)
{
    if (fs->b_imm)
        emit_alu_imm_reg(e, fs->size, ext, scratch, fs->imm);
    else
        emit_op_mem(e, fs->size, (uint32_t)(ext * 8 + (fs->size == 1 ? 2 : 3)), scratch, H_R12, JIT_OFF(fsrc[1]));
}

/* pflags = the flags fs describes, recomputed on the host from the saved operands (scratch and
 * the host's flags changed). ADD is undone and redone (A holds the sum, B the addend), so the
 * host computes the very operation the guest's flags came from; likewise SUB, INC and DEC. AND,
 * OR and XOR give their flags from the result alone: TEST of it sets SF, ZF and PF and clears
 * CF and OF, as they do (AF is not kept). */
static void emit_fsrc(struct emit *e, int scratch, const struct fsrc *fs)
{
    int sz = fs->size;
    uint32_t test = sz == 1 ? 0x84 : 0x85, incdec = sz == 1 ? 0xFE : 0xFF;
    emit_op_mem(e, 4, 0x8B, scratch, H_R12, JIT_OFF(fsrc[0]));
    switch (fs->op) {
    case FS_ADD:
        fsrc_op_b(e, fs, 5, scratch);
        fsrc_op_b(e, fs, 0, scratch);
        break;
    case FS_SUB:
        fsrc_op_b(e, fs, 0, scratch);
        fsrc_op_b(e, fs, 5, scratch);
        break;
    case FS_CMP:
        fsrc_op_b(e, fs, 7, scratch);
        break;
    case FS_TEST:
        if (fs->b_imm) {
            emit_op_rr(e, sz, sz == 1 ? 0xF6 : 0xF7, 0, scratch);
            emit_imm(e, sz, fs->imm);
        } else {
            emit_op_mem(e, sz, test, scratch, H_R12, JIT_OFF(fsrc[1]));
        }
        break;
    case FS_RESULT:
        emit_op_rr(e, sz, test, scratch, scratch);
        break;
    case FS_INC:
    case FS_DEC:
        emit_op_rr(e, sz, incdec, fs->op == FS_INC, scratch);
        emit_op_rr(e, sz, incdec, fs->op == FS_DEC, scratch);
        break;
    }
    emit_byte(e, 0x9C);                                 /* pushfq */
    emit_op_mem(e, 8, 0x8F, 0, H_R12, JIT_OFF(pflags)); /* pop qword [r12 + pflags] */
}

/* Flags carried across blocks. A block's exit leaves its pending flags in pflags, with their
 * keep and clear masks in j->pmask (one store instead of a merge's two read-modify-writes of
 * EFLAGS, which chain from block to block through memory), and the next block merges them
 * only where it reads EFLAGS or calls into C; most blocks overwrite all of them first (a CMP
 * before their Jcc) and never do. The merge, in translated code, where what is carried is
 * known only when it runs (scratch and the host's flags changed; with pmask 0 it changes
 * nothing): */
static void emit_carry_merge(struct emit *e, int scratch)
{
    emit_op_mem(e, 4, 0x0FB7, scratch, H_R12, JIT_OFF(pmask) + 2); /* movzx: clear */
    emit_op_rr(e, 4, 0xF7, 2, scratch);                              /* not */
    emit_op_mem(e, 4, 0x21, scratch, H_RBX, CPU_OFF(eflags));        /* and [eflags], scratch */
    emit_op_mem(e, 4, 0x0FB7, scratch, H_R12, JIT_OFF(pmask));     /* movzx: keep */
    emit_op_mem(e, 4, 0x23, scratch, H_R12, JIT_OFF(pflags));
    emit_op_mem(e, 4, 0x09, scratch, H_RBX, CPU_OFF(eflags));
    emit_mov_imm_mem(e, 4, H_R12, JIT_OFF(pmask), 0);
}

/* What the carried flags need before code that leaves the block's sight (a call into C, a
 * slow path) or reads EFLAGS, emitted there: the merge while they are live, the zeroing of
 * pmask once the block's own flags took their place in pflags. */
static void carry_settle(struct emit *e, int carry, int scratch)
{
    if (carry == CARRY_LIVE)
        emit_carry_merge(e, scratch);
    else if (carry == CARRY_STALE)
        emit_mov_imm_mem(e, 4, H_R12, JIT_OFF(pmask), 0);
}

void tr_flags_now(struct tctx *t)
{
    carry_settle(&t->e, t->carry, H_RAX);
    t->carry = CARRY_NONE;
    if (!t->pclear)
        return;
    if (t->fs.op)
        emit_fsrc(&t->e, H_RAX, &t->fs);
    emit_flags_merge(&t->e, H_RAX, t->pkeep, t->pclear);
    t->pkeep = t->pclear = 0;
    t->fs.op = FS_NONE;
}

/* At a block exit: the block's pending flags (in pflags, after emit_fsrc for operands) are
 * described by pmask for the next block. What was carried in stays carried when the block
 * has none pending of its own. */
static void tr_flags_out(struct tctx *t)
{
    if (!t->pclear)
        return; /* (not CARRY_STALE: only tr_flags_now merges all of the block's own flags) */
    if ((t->pclear & ~t->pkeep & F_CF) != 0) { /* a CF cleared, not kept: see cf_into_host */
        tr_flags_now(t);
        return;
    }
    if (t->fs.op)
        emit_fsrc(&t->e, H_RAX, &t->fs);
    emit_mov_imm_mem(&t->e, 4, H_R12, JIT_OFF(pmask), t->pkeep | t->pclear << 16);
    t->pkeep = t->pclear = 0;
    t->fs.op = FS_NONE;
    t->carry = CARRY_LIVE;
}

/* The code emitted next stores new flags in pflags, of which EFLAGS takes keep after clearing
 * clear: older pending flags are merged first (with R8, and host flags changed) unless these
 * cover them. Carried flags are covered only by new values of all six (what pmask holds is
 * not known here). */
static void flags_pend(struct tctx *t, uint32_t keep, uint32_t clear)
{
    if (t->carry == CARRY_LIVE) {
        if ((clear & MASK6) == MASK6) {
            t->carry = CARRY_STALE;
        } else {
            emit_carry_merge(&t->e, H_R8);
            t->carry = CARRY_NONE;
        }
    }
    if (t->pclear & ~clear) {
        if (t->fs.op)
            emit_fsrc(&t->e, H_R8, &t->fs); /* PUSHF/POP inside merge_flags' own: they nest */
        emit_flags_merge(&t->e, H_R8, t->pkeep, t->pclear);
    }
    t->fs.op = FS_NONE;
    t->pkeep = keep;
    t->pclear = clear;
}

/* EAX = the host's six arithmetic flags where EFLAGS has them (ECX changed, the host's flags
 * not): LAHF gives SF ZF AF PF CF, SETO the OF. PUSHF gives them too, but the host runs it as
 * microcode: on the machine of the README's speed figures (AMD EPYC) a flag save through PUSHF
 * cost 1.2 ns more than none, this one 0.6 ns, and gzip's hot loop saves three an iteration.
 * Only the six are read from a pending flags word (every reader masks them). */
static void emit_flags_image(struct emit *e)
{
    static const uint8_t code[] = {
        0x0F, 0x90, 0xC1,       /* seto cl */
        0x9F,                   /* lahf */
        0x0F, 0xB6, 0xC4,       /* movzx eax, ah */
        0x0F, 0xB6, 0xC9,       /* movzx ecx, cl */
        0xC1, 0xE1, 11,         /* shl ecx, 11: OF's bit */
        0x09, 0xC8,             /* or eax, ecx */
    };
    for (size_t i = 0; i < sizeof(code); i++)
        emit_byte(e, code[i]);
}

/* The guest arithmetic flags the host just computed, into EFLAGS: bits in keep are taken from
 * the host, bits in clear (a superset) are cleared first. A following Jcc gets its condition in
 * DL before the merge clobbers the host flags. EAX and ECX are changed. */
static void merge_flags(struct tctx *t, uint32_t keep, uint32_t clear, int last)
{
    struct emit *e = &t->e;
    t->fused_cc = -1;
    if (!last && is_jcc(&t->b->insns[t->i + 1])) {
        int cc = t->b->insns[t->i + 1].op & 0xF;
        /* Only a condition on flags the host computed for the guest (after INC/DEC not CF,
         * after BT only CF) can be taken from the host's flags; others read EFLAGS. */
        if (!(cond_flags(cc) & ~keep)) {
            t->fused_cc = cc;
            emit_setcc(e, cc, H_RDX);
        }
    }
    if (!t->j->host_lahf) {
        emit_byte(e, 0x9C);                                 /* pushfq: before a merge changes them */
        flags_pend(t, keep, clear);
        emit_op_mem(e, 8, 0x8F, 0, H_R12, JIT_OFF(pflags)); /* pop qword [r12 + pflags] */
        return;
    }
    emit_flags_image(e); /* before a merge changes them; flags_pend's code leaves EAX alone */
    flags_pend(t, keep, clear);
    emit_op_mem(e, 4, 0x89, H_RAX, H_R12, JIT_OFF(pflags));
}

/* The flags guest condition cc (a Jcc/SETcc/CMOVcc low nibble) tests. */
static uint32_t cond_flags(int cc)
{
    static const uint32_t f[8] = { F_OF, F_CF, F_ZF, F_CF | F_ZF, F_SF, F_PF, F_SF | F_OF, F_SF | F_OF | F_ZF };
    return f[(cc >> 1) & 7];
}

/* What an instruction does to the arithmetic flags, for the liveness scan below: returns 0 when
 * it may observe all of them in EFLAGS (a handler call, a memory access whose slow path may
 * fault or run the handler, an exit), else 1 with *rd the flags it reads and *wr those it
 * overwrites whatever its operands. Only register forms that tr_inline always translates inline
 * (never a handler call) may return 1: keep this in step with tr_inline. */
static int flag_effect(const struct insn *in, uint32_t *rd, uint32_t *wr)
{
    unsigned op = in->op;
    *rd = *wr = 0;
    if (op == 0x8D || (op >= 0x90 && op <= 0x97) || (op >= 0xB0 && op <= 0xBF))
        return 1; /* LEA (no access), NOP, PAUSE, XCHG eAX, MOV r, imm */
    if (in->mem)
        return 0;
    if (op < 0x40 && (op & 7) < 6) {
        int k = (int)(op >> 3);
        *rd = (k == 2 || k == 3) ? F_CF : 0;
        *wr = MASK6;
        return 1;
    }
    if (op >= 0x80 && op <= 0x83) {
        *rd = (in->reg == 2 || in->reg == 3) ? F_CF : 0;
        *wr = MASK6;
        return 1;
    }
    if (op == 0x84 || op == 0x85 || op == 0xA8 || op == 0xA9 || op == 0x1AF || op == 0x69 || op == 0x6B) {
        *wr = MASK6;
        return 1;
    }
    if (op >= 0x40 && op <= 0x4F) {
        *wr = MASK6 & ~F_CF;
        return 1;
    }
    if (op == 0xF6 || op == 0xF7) {
        if (in->reg == 2)
            return 1; /* NOT */
        if (in->reg < 2 || in->reg == 3 || (in->reg == 4 && op == 0xF7 && in->opsize == 4)) {
            *wr = MASK6; /* TEST, NEG, MUL r32 */
            return 1;
        }
        return 0;
    }
    if ((op == 0x1BA && in->reg >= 4) ||
        ((op == 0x1A3 || op == 0x1AB || op == 0x1B3 || op == 0x1BB) && in->opsize == 4)) {
        *wr = F_CF; /* BT BTS BTR BTC r, imm and r32, r32 */
        return 1;
    }
    if (op == 0xFC || op == 0xFD || (op >= 0x1C8 && op <= 0x1CF && in->opsize == 4) || op == 0x98 || op == 0x99)
        return 1; /* CLD, STD, BSWAP r32, CBW/CWDE, CWD/CDQ */
    if (op == 0x9E) {
        *wr = MASK6 & ~F_OF; /* SAHF */
        return 1;
    }
    if ((op == 0x1BC || op == 0x1BD) && in->opsize == 4) {
        *wr = F_ZF; /* BSF, BSR r32, r32 */
        return 1;
    }
    if ((op == 0x1A4 || op == 0x1A5 || op == 0x1AC || op == 0x1AD) && in->opsize == 4) {
        if (!(op & 1) && (in->imm & 31))
            *wr = MASK6; /* SHLD, SHRD r32 by a nonzero immediate (by CL: perhaps none) */
        return 1;
    }
    if ((op == 0xFE || op == 0xFF) && in->reg < 2) {
        *wr = MASK6 & ~F_CF;
        return 1;
    }
    if ((op >= 0x88 && op <= 0x8B) || op == 0xC6 || op == 0xC7 || op == 0x86 || op == 0x87 || op == 0x1B6 ||
        op == 0x1B7 || op == 0x1BE || op == 0x1BF)
        return 1;
    if (op >= 0xC0 && op <= 0xD3 && (op <= 0xC1 || op >= 0xD0)) {
        if (in->reg == 2 || in->reg == 3)
            return 0; /* RCL/RCR: handler calls */
        /* A count in CL may be 0 (nothing written): such a shift kills nothing. */
        unsigned n = op <= 0xC1 ? in->imm & 31 : op <= 0xD1 ? 1 : 0;
        if (n)
            *wr = in->reg < 2 ? F_CF | F_OF : MASK6;
        return 1;
    }
    if ((op >= 0x140 && op <= 0x14F) || (op >= 0x190 && op <= 0x19F)) {
        *rd = cond_flags(op & 0xF);
        return 1;
    }
    return 0;
}

/* The flags in mask that instruction t->i computes are dead: later instructions of the block
 * overwrite each of them before anything can read it, exit or fault (only register-only inline
 * code between), so they need not be materialized in EFLAGS. */
static int flags_dead(const struct tctx *t, uint32_t mask)
{
    for (int k = t->i + 1; k < t->b->ninsn && mask; k++) {
        uint32_t rd, wr;
        if (!flag_effect(&t->b->insns[k], &rd, &wr) || (rd & mask))
            return 0;
        mask &= ~wr;
    }
    return mask == 0;
}

/* Whether instruction t->i must materialize the flags in mask: the block's last instruction
 * always does (its exit reads them). When not, no Jcc can fuse with it either. */
static int flags_live(struct tctx *t, uint32_t mask, int last)
{
    if (last || !flags_dead(t, mask))
        return 1;
    t->fused_cc = -1;
    return 0;
}

/* What an instruction does to the flags as the hot path sees them: as flag_effect, but a memory
 * form counts as its register form (a slow path makes the pending flags current itself, see
 * tr_emit_cold) and PUSH/POP of a register or an immediate touch none. A guide only: whatever
 * ends up a handler call makes them current first. */
static int flag_effect_hot(const struct insn *in, uint32_t *rd, uint32_t *wr)
{
    if ((in->op >= 0x50 && in->op <= 0x5F) || in->op == 0x68 || in->op == 0x6A) {
        *rd = *wr = 0;
        return 1;
    }
    if (in->mem) {
        struct insn r = *in;
        r.mem = 0;
        return flag_effect(&r, rd, wr);
    }
    return flag_effect(in, rd, wr);
}

/* Whether the flags in mask that instruction t->i computes can be read by slow paths alone: one
 * later instruction overwrites all of them before anything else could read them. */
static int flags_slow_only(const struct tctx *t, uint32_t mask)
{
    for (int k = t->i + 1; k < t->b->ninsn; k++) {
        uint32_t rd, wr;
        if (!flag_effect_hot(&t->b->insns[k], &rd, &wr) || (rd & mask))
            return 0;
        if (wr & mask)
            return (wr & mask) == mask;
    }
    return 0;
}

/* Whether flags_by_operands may leave the flags in mask of instruction t->i pending as their
 * operands: only slow paths can read them, on every path from here. */
static int operands_suffice(const struct tctx *t, uint32_t mask, int last)
{
    return !last && !t->cond && flags_slow_only(t, mask);
}

/* The flags of op (FS_*) just done on guest register dst (size bytes) with the source in host
 * register src or imm (src < 0): when only a slow path can read them, they are left pending as
 * their operands, saved with one or two plain stores (a PUSHF costs several cycles), and
 * recomputed by emit_fsrc where they are read. Returns 0 when they must be saved as flags. */
static int flags_by_operands(struct tctx *t, int op, int dst, int size, int src, uint32_t imm, uint32_t keep,
                             uint32_t clear, int last)
{
    struct emit *e = &t->e;
    if (!operands_suffice(t, clear, last))
        return 0;
    t->fused_cc = -1;
    flags_pend(t, keep, clear); /* older pending flags first: they may be in the operand slots */
    int h = size == 4 && (t->cached & (1u << dst)) ? t->hmap[dst] : -1;
    if (h < 0) { /* the operand is current in struct cpu (a 32-bit load: the op takes its low bytes) */
        emit_op_mem(e, 4, 0x8B, H_RAX, H_RBX, greg(dst, size));
        h = H_RAX;
    }
    emit_op_mem(e, 4, 0x89, h, H_R12, JIT_OFF(fsrc[0]));
    if (src >= 0 && (op == FS_ADD || op == FS_SUB || op == FS_CMP || op == FS_TEST))
        emit_op_mem(e, 4, 0x89, src, H_R12, JIT_OFF(fsrc[1]));
    t->fs = (struct fsrc){ (uint8_t)op, (uint8_t)size, (uint8_t)(src < 0), imm };
    return 1;
}

/* Whether the block's own pending flags hold all of mask in pflags: a reader of just those
 * takes them from there and leaves them pending, instead of merging them into EFLAGS first (two
 * read-modify-writes there). (Flags pending as operands are never read in the block: see
 * flags_slow_only.) */
static int flags_pending_hold(const struct tctx *t, uint32_t mask)
{
    return t->pclear && !t->fs.op && (t->pkeep & mask) == mask;
}

/* The flags word that holds the flags in mask, current: pflags or EFLAGS (merged first). EAX
 * and the host's flags changed. */
static int32_t flags_word(struct tctx *t, uint32_t mask, int *base)
{
    if (flags_pending_hold(t, mask)) {
        *base = H_R12;
        return JIT_OFF(pflags);
    }
    tr_flags_now(t);
    *base = H_RBX;
    return CPU_OFF(eflags);
}

/* EFLAGS = (EFLAGS & ~clear) | host register hreg, which holds the new values of those flags
 * (computed with integer operations where the host's flags are undefined or differ). */
static void merge_flags_reg(struct tctx *t, int hreg, uint32_t clear)
{
    struct emit *e = &t->e;
    t->fused_cc = -1;
    if (t->cond) {
        /* Code only some paths run (and nothing pending, see shift): straight into EFLAGS. */
        emit_alu_imm_mem(e, 4, 4, H_RBX, CPU_OFF(eflags), ~clear);
        emit_op_mem(e, 4, 0x09, hreg, H_RBX, CPU_OFF(eflags));
        return;
    }
    flags_pend(t, clear, clear);
    emit_op_mem(e, 8, 0x89, hreg, H_R12, JIT_OFF(pflags));
}

/* dst = SF, ZF and PF of the size-byte result in AL/AX/EAX or CL/CX/ECX (hreg 0-3), as a P6
 * sets them from any result (TEST sets exactly those three from its operand). */
static void szp_of(struct emit *e, int hreg, int size, int dst)
{
    emit_op_rr(e, size, size == 1 ? 0x84 : 0x85, hreg, hreg);
    emit_byte(e, 0x9C); /* pushfq */
    emit_pop(e, dst);
    emit_alu_imm_reg(e, 4, 4, dst, F_SF | F_ZF | F_PF);
}

/* How the flags of ALU op k (0 add .. 7 cmp) follow from its operands (flags_by_operands);
 * ADC and SBB also need the carry in, so they save their flags. */
static const uint8_t alu_fs_op[8] = { FS_ADD, FS_RESULT, FS_NONE, FS_NONE, FS_RESULT, FS_SUB, FS_RESULT, FS_CMP };

/* ALU op k (0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp) on guest register dst with
 * the source in host register src (or the immediate, src < 0). */
static void alu(struct tctx *t, int k, int dst, int size, int src, uint32_t imm, int last)
{
    struct emit *e = &t->e;
    if (k == 2 || k == 3) /* ADC/SBB: the guest CF into the host's (bt leaves it in CF) */
    {
        int base;
        int32_t disp = flags_word(t, F_CF, &base);
        emit_op_mem(e, 4, 0x0FBA, 4, base, disp);
        emit_byte(e, 0);
    }
    if (src < 0)
        gop_alu_imm(t, size, k, dst, imm);
    else
        gop(t, size, (uint32_t)(k * 8 + (size == 1 ? 0 : 1)), src, dst, k != 7, 0, 0);
    /* AND/OR/XOR leave AF undefined on the host; a P6 clears it, as the interpreter does. */
    int logic = k == 1 || k == 4 || k == 6;
    if (!flags_live(t, MASK6, last))
        return; /* materialized only when needed */
    uint32_t keep = logic ? MASK6 & ~F_AF : MASK6;
    /* ADD r, r with the register its own source: the source is the sum now, so the operands
     * no longer give the flags. */
    int own_src = src >= 0 && src == t->hmap[dst];
    if (alu_fs_op[k] && !own_src && flags_by_operands(t, alu_fs_op[k], dst, size, src, imm, keep, MASK6, last))
        return;
    merge_flags(t, keep, MASK6, last);
}

static void test_op(struct tctx *t, int dst, int size, int src, uint32_t imm, int last)
{
    if (src < 0)
        gop(t, size, size == 1 ? 0xF6 : 0xF7, 0, dst, 0, size, imm); /* test r/m, imm: F6/F7 /0 */
    else
        gop(t, size, size == 1 ? 0x84 : 0x85, src, dst, 0, 0, 0);
    if (!flags_live(t, MASK6, last))
        return;
    if (flags_by_operands(t, FS_TEST, dst, size, src, imm, MASK6 & ~F_AF, MASK6, last))
        return;
    merge_flags(t, MASK6 & ~F_AF, MASK6, last);
}

/* The host's CF = the guest's, wherever it is now (scratch and the host's other flags
 * changed), so that an INC or DEC emitted right after, which leaves CF alone, gives all six
 * guest flags: they are pending as a whole, replacing older pending or carried ones, instead of
 * those being merged into EFLAGS first. The guest's CF is in pflags when the block's own
 * pending flags keep it, else in EFLAGS, except while carried flags are live: then in pflags
 * if j->pmask keeps it (a carried CF is always kept when cleared, tr_flags_out), else in
 * EFLAGS. Returns 0 (nothing emitted) for flags pending as operands or a CF cleared but not
 * kept. */
static int cf_into_host(struct tctx *t, int scratch)
{
    struct emit *e = &t->e;
    if (t->fs.op || (t->pclear & ~t->pkeep & F_CF))
        return 0;
    if (t->pkeep & F_CF) {
        emit_op_mem(e, 4, 0x0FBA, 4, H_R12, JIT_OFF(pflags)); /* bt dword [pflags], 0 */
    } else if (!t->pclear && t->carry == CARRY_LIVE) {
        emit_op_mem(e, 4, 0x8B, scratch, H_RBX, CPU_OFF(eflags));
        emit_op_mem(e, 1, 0xF6, 0, H_R12, JIT_OFF(pmask)); /* test byte [pmask], CF: kept */
        emit_byte(e, F_CF);
        emit_op_mem(e, 4, 0x0F45, scratch, H_R12, JIT_OFF(pflags)); /* cmovnz */
        emit_op_rr(e, 4, 0x0FBA, 4, scratch);
    } else {
        emit_op_mem(e, 4, 0x0FBA, 4, H_RBX, CPU_OFF(eflags));
    }
    emit_byte(e, 0);
    return 1;
}

/* INC/DEC (FE/FF /0 or /1) of guest register dst: its flags all six with the guest's CF in the
 * host's first, or five of them (flags_by_operands or merge_flags). */
static void inc_dec(struct tctx *t, int dst, int size, int dec, int last)
{
    const uint32_t m = MASK6 & ~F_CF;
    int live = flags_live(t, m, last);
    int whole = live && !operands_suffice(t, m, last) && cf_into_host(t, H_RCX);
    gop(t, size, size == 1 ? 0xFE : 0xFF, dec, dst, 1, 0, 0);
    if (!live)
        return;
    if (!whole && flags_by_operands(t, dec ? FS_DEC : FS_INC, dst, size, -1, 0, m, m, last))
        return;
    merge_flags(t, whole ? MASK6 : m, whole ? MASK6 : m, last);
}

/* EAX = the effective-address offset of in (ea_offset in cpu/interp.h). */
static void emit_ea(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    int hb = in->base != 0xFF ? hreg_get(t, in->base) : -1;
    int hi = in->index != 0xFF ? hreg_get(t, in->index) : -1;
    if ((in->base == 0xFF || hb >= 0) && (in->index == 0xFF || hi >= 0)) {
        /* Both in host registers: one 32-bit LEA, which wraps as the guest's sum does. */
        if (hb < 0 && hi < 0)
            emit_mov_imm32(e, H_RAX, in->disp);
        else if (hb >= 0 && hi >= 0)
            emit_op_sib(e, 4, 0x8D, H_RAX, hb, hi, in->scale, (int32_t)in->disp);
        else if (hb >= 0)
            emit_op_mem(e, 4, 0x8D, H_RAX, hb, (int32_t)in->disp);
        else if (in->scale == 0)
            emit_op_mem(e, 4, 0x8D, H_RAX, hi, (int32_t)in->disp);
        else
            emit_op_sib(e, 4, 0x8D, H_RAX, H_NONE, hi, in->scale, (int32_t)in->disp);
    } else {
        emit_mov_imm32(e, H_RAX, in->disp);
        if (in->base != 0xFF)
            gop(t, 4, 0x03, H_RAX, in->base, 0, 0, 0);
        if (in->index != 0xFF) {
            load_greg(t, H_RCX, in->index, 4);
            if (in->scale)
                emit_shift_imm(e, 4, 4, H_RCX, in->scale);
            emit_op_rr(e, 4, 0x01, H_RCX, H_RAX);
        }
    }
    if (!in->addr32)
        emit_op_rr(e, 4, 0x0FB7, H_RAX, H_RAX);
}

/* A guest Jcc condition from a flags word in memory, [base + disp]: EFLAGS in struct cpu or
 * the pending image in pflags (cond_from_eflags; slow paths read EFLAGS as it is): returns the
 * host condition on which it is taken, after the flag-setting test emitted here (EAX and ECX
 * changed). */
static int cond_eval(struct emit *e, int cc, int base, int32_t disp)
{
    static const uint32_t bit[6] = { F_OF, F_CF, F_ZF, F_CF | F_ZF, F_SF, F_PF };
    emit_op_mem(e, 4, 0x8B, H_RAX, base, disp);
    int k = cc >> 1;
    if (k < 6) {
        emit_alu_imm_reg(e, 4, 4, H_RAX, bit[k]);
    } else {
        /* L: SF != OF, i.e. bit 7 of EFLAGS ^ (EFLAGS >> 4); LE: that or ZF. */
        emit_op_rr(e, 4, 0x89, H_RAX, H_RCX);
        emit_shift_imm(e, 4, 5, H_RCX, 4);
        emit_op_rr(e, 4, 0x31, H_RAX, H_RCX);
        emit_alu_imm_reg(e, 4, 4, H_RCX, F_SF);
        if (k == 7) {
            emit_alu_imm_reg(e, 4, 4, H_RAX, F_ZF);
            emit_op_rr(e, 4, 0x09, H_RAX, H_RCX);
        }
    }
    return (cc & 1) ? CC_E : CC_NE;
}

static int cond_from_eflags(struct tctx *t, int cc)
{
    int base;
    int32_t disp = flags_word(t, cond_flags(cc), &base);
    return cond_eval(&t->e, cc, base, disp);
}

/* Jcc / JMP rel as the block's last instruction: both exits chainable. */
static int branch(struct tctx *t, const struct insn *in)
{
    uint32_t next = t->eips[t->i + 1];
    uint32_t target = next + in->imm;
    if (in->opsize == 2)
        target &= 0xFFFF;
    if (target > t->b->cs_limit)
        return 0; /* jump_to's #GP(0): the handler raises it */
    int counted = t->pending + 1;
    /* Once, before the paths split; pending flags go on to the next block unless the
     * condition has to be read from EFLAGS. */
    int cc = in->op & 0xF, jcc = in->op != 0xE9 && in->op != 0xEB;
    int from_pending = jcc && t->fused_cc != cc && flags_pending_hold(t, cond_flags(cc));
    if (jcc && t->fused_cc != cc && !from_pending)
        tr_cpu_current(t);
    else
        tr_cpu_exit(t); /* (leaves pflags as it is) */
    if (in->op == 0xE9 || in->op == 0xEB) {
        tr_exit(t, target, counted, 1);
    } else {
        /* Both ways count the same: once, before the test (the condition is in DL or EFLAGS in
         * memory, which the counts' host arithmetic leaves alone). */
        int hcc;
        tr_counts(t, counted);
        if (t->fused_cc == cc) {
            emit_op_rr(&t->e, 1, 0x84, H_RDX, H_RDX); /* test dl, dl */
            hcc = CC_NE;
        } else if (from_pending) {
            hcc = cond_eval(&t->e, cc, H_R12, JIT_OFF(pflags));
        } else {
            hcc = cond_from_eflags(t, cc);
        }
        uint8_t *taken = emit_jcc32(&t->e, hcc, NULL);
        tr_exit(t, next, 0, 1);
        if (!t->e.overflow)
            emit_patch_rel32(taken, t->e.p);
        tr_exit(t, target, 0, 1);
    }
    t->pending = 0;
    t->exited = 1;
    return 1;
}

/* Can an access through segment s be inlined: only an expand-up limit check (or none) needed. */
static int seg_ok(const struct tctx *t, int s)
{
    return (t->mode & (1u << (JM_SIMPLE_SHIFT + s))) && t->ncold + 2 <= (int)(sizeof(t->cold) / sizeof(t->cold[0]));
}

/* A branch of the hot path to cd (its rel32 field), patched when cd is emitted. */
static void to_cold(struct tctx *t, struct cold *cd, uint8_t *field)
{
    if (cd->nj < (int)(sizeof(cd->j) / sizeof(cd->j[0])))
        cd->j[cd->nj++] = field;
    else
        t->e.overflow = 1; /* cannot happen with the forms above; fail safe (no translation) */
}

/* A slow path for instruction t->i, entered before it changes any guest state: the handler
 * runs the whole instruction (and raises whatever it must). The caller points branches at it. */
static struct cold *new_cold(struct tctx *t)
{
    struct cold *cd = &t->cold[t->ncold++];
    cd->i = t->i;
    cd->pending = t->pending;
    cd->nj = 0;
    cd->resume = NULL;
    cd->branch = 0;
    cd->pkeep = t->pkeep;
    cd->pclear = t->pclear;
    cd->fs = t->fs;
    cd->carry = t->carry;
    cd->fused_cc = -1;
    cd->dirty = t->dirty;
    cd->rs_op = FS_NONE;
    cd->rp_from = cd->rp_back = NULL;
    return cd;
}

static void probe_hit(struct emit *e, int32_t ent, unsigned keep);

/* The TLB probe proper: EAX holds the linear address of an access of size bytes (write: by the
 * write tag, which also vouches for reads); on a hit RDX holds the entry's addend, else the
 * code goes to cd. keep: the page and the addend are kept for later reads (bit 0) and writes
 * (bit 1, only when write). */
static void probe_tlb(struct tctx *t, struct cold *cd, int write, int size, unsigned keep)
{
    struct emit *e = &t->e;
    /* The TLB entry of this privilege class for the page. */
    int32_t ent = CPU_OFF(tlb.e[0][0]) + ((t->mode >> JM_CPL_SHIFT & 3) == 3 ? (int32_t)(TLB_SIZE * sizeof(struct tlb_entry)) : 0);
    int32_t tag = ent + (write ? (int32_t)offsetof(struct tlb_entry, write) : (int32_t)offsetof(struct tlb_entry, read));
    /* ecx = tlb_index(lin) * 32, the entry's offset: the page number shifted straight to its
     * place and masked (entries of 32 bytes; three instructions). */
    _Static_assert(TLB_SIZE == 256 && sizeof(struct tlb_entry) == 32, "the probe's index arithmetic");
    emit_op_rr(e, 4, 0x89, H_RAX, H_RCX);
    emit_shift_imm(e, 4, 5, H_RCX, 12 - 5);
    emit_alu_imm_reg(e, 4, 4, H_RCX, (TLB_SIZE - 1) << 5);
    emit_op_mem(e, 4, 0x8D, H_RDX, H_RAX, size - 1);                       /* lea edx, [rax + size - 1] */
    emit_alu_imm_reg(e, 4, 4, H_RDX, TLB_PAGE_MASK);                        /* a page-crossing access misses */
    emit_op_sib(e, 4, 0x3B, H_RDX, H_RBX, H_RCX, 0, tag);
    uint8_t *miss = emit_jcc32(e, CC_NE, NULL);
    probe_hit(e, ent, keep);
    /* A miss tries the second way out of line (tr_emit_cold), then cd. */
    if (t->nway2 < (int)(sizeof(t->way2) / sizeof(t->way2[0])))
        t->way2[t->nway2++] = (struct way2){ miss, e->p, cd, ent - CPU_OFF(tlb.e[0][0]) + CPU_OFF(tlb.v[0][0]),
                                             write, keep };
    else
        e->overflow = 1; /* cannot happen (room for every probe); fail safe (no translation) */
}

/* A TLB probe's hit in the way whose entries (of the class) start at ent, ECX the entry's
 * offset: RDX = the addend, and the page (RDX before) and the addend kept as keep says. */
static void probe_hit(struct emit *e, int32_t ent, unsigned keep)
{
    for (int w = 0; w < 2; w++) /* RDX: the page (the AND cleared the upper half) */
        if (keep & (1u << w))
            emit_op_mem(e, 8, 0x89, H_RDX, H_R12, JIT_OFF(grp_page[w]));
    emit_op_sib(e, 8, 0x8B, H_RDX, H_RBX, H_RCX, 0, ent + (int32_t)offsetof(struct tlb_entry, addend));
    for (int w = 0; w < 2; w++)
        if (keep & (1u << w))
            emit_op_mem(e, 8, 0x89, H_RDX, H_R12, JIT_OFF(grp_addend[w]));
}

/* Which register an access's address comes from, for keeping its page (probe): the base of a
 * memory operand (8: none, an absolute address), ESP for the stack. A guess only: every use
 * of a kept page checks the page. */
static int probe_key(const struct insn *in, int stack)
{
    return stack ? R_ESP : in->base == 0xFF ? 8 : in->base & 7;
}

/* Whether an instruction after t->i in the block may access memory through key (a probe then
 * keeps its page for them); reads: other than by a plain MOV store. */
static int memory_later(const struct tctx *t, int key, int reads)
{
    for (int k = t->i + 1; k < t->b->ninsn; k++) {
        const struct insn *in = &t->b->insns[k];
        unsigned op = in->op;
        int store = op == 0x88 || op == 0x89 || op == 0xC6 || op == 0xC7;
        if (in->mem && probe_key(in, 0) == key && !(reads && store))
            return 1;
        if (key == R_ESP && ((op >= 0x50 && op <= 0x61) || op == 0x68 || op == 0x6A || op == 0x9C ||
                             op == 0x06 || op == 0x0E || op == 0x16 || op == 0x1E || op == 0x1A0 || op == 0x1A8 ||
                             op == 0x9D || op == 0xC2 || op == 0xC3 || op == 0xC9 || op == 0xE8 ||
                             (op == 0xFF && (in->reg == 2 || in->reg == 6)))) /* LEAVE, CALL/PUSH r/m */
            return 1;
    }
    return 0;
}

/* EAX holds an offset in segment s: the limit check (unless flat), the base, and the TLB probe
 * of an access of size bytes (write: the write tag, which also vouches for reads). On a hit
 * RDX + RAX is the host address; anything else (a miss, MMIO, a code page, a limit or page
 * fault) goes to the cold stub returned, which runs the whole instruction through its handler.
 * Nothing of the guest state may change before the probe.
 *
 * Accesses cluster in a few pages (a stack frame, a structure), so the first probe through a
 * register (probe_key) keeps its page and addend in struct jit (grp_page, grp_addend) when
 * later instructions of the block access memory through that register too, and those compare
 * with the kept page first: five instructions instead of the TLB probe's eight. Only an access
 * elsewhere makes the full probe, out of line, and keeps its page in turn. Only probes, which
 * read the TLB, and slow paths, which may replace its entries (they store a page that matches
 * nothing), change what is kept, so a kept page is one the TLB still holds, as the interpreter
 * would find it. */
static struct cold *probe_as(struct tctx *t, int s, int write, int size, int key)
{
    struct emit *e = &t->e;
    struct cold *cd = new_cold(t);
    if (!(t->mode & (1u << (JM_FLAT_SHIFT + s)))) {
        int32_t sr = CPU_OFF(seg[0]) + s * (int32_t)sizeof(struct segreg);
        emit_op_mem(e, 8, 0x8D, H_RCX, H_RAX, size - 1);                  /* lea rcx, [rax + size - 1] */
        emit_op_mem(e, 4, 0x8B, H_RDX, H_RBX, sr + (int32_t)offsetof(struct segreg, limit));
        emit_op_rr(e, 8, 0x39, H_RDX, H_RCX);                              /* cmp rcx, rdx */
        to_cold(t, cd, emit_jcc32(e, CC_A, NULL));
        emit_op_mem(e, 4, 0x03, H_RAX, H_RBX, sr + (int32_t)offsetof(struct segreg, base));
    }
    /* A write's page serves the reads through the same register too (unless reads keep another
     * register's page, or none follow). */
    unsigned also_read = write && ((t->grp & 1) ? t->grp_key[0] == key : memory_later(t, key, 1));
    if ((t->grp & (1u << write)) && t->grp_key[write] == key) {
        /* (lin ^ page) <= 0x1000 - size: lin in the page with all size bytes; a page of ~0
         * leaves the XOR above 2^32 */
        emit_op_rr(e, 4, 0x89, H_RAX, H_RDX);
        emit_op_mem(e, 8, 0x33, H_RDX, H_R12, JIT_OFF(grp_page[write]));
        emit_alu_imm_reg(e, 8, 7, H_RDX, (uint32_t)(0x1000 - size));
        cd->rp_from = emit_jcc32(e, CC_A, NULL);
        cd->rp_write = write;
        cd->rp_size = size;
        cd->rp_keep = (1u << write) | also_read;
        emit_op_mem(e, 8, 0x8B, H_RDX, H_R12, JIT_OFF(grp_addend[write]));
        cd->rp_back = e->p;
        return cd;
    }
    /* A page is kept for the first register used for this kind of access (another one's
     * accesses probe in full, and leave it be). */
    unsigned keep = !(t->grp & (1u << write)) && memory_later(t, key, 0) ? (1u << write) | also_read : 0;
    probe_tlb(t, cd, write, size, keep);
    if (!t->cond) /* kept on every path from here */
        for (int w = 0; w < 2; w++)
            if (keep & (1u << w)) {
                t->grp |= (uint8_t)(1u << w);
                t->grp_key[w] = (int8_t)key;
            }
    return cd;
}

/* probe for instruction t->i's memory operand, and for its stack access. */
static struct cold *probe(struct tctx *t, int s, int write, int size)
{
    return probe_as(t, s, write, size, probe_key(&t->b->insns[t->i], 0));
}

static struct cold *probe_stack(struct tctx *t, int write, int size)
{
    return probe_as(t, S_SS, write, size, R_ESP);
}

/* The hot path goes on here after cd's slow path, with the guest registers it holds now. */
static void resume_here(struct tctx *t, struct cold *cd)
{
    cd->resume = t->e.p;
    cd->cached = t->cached;
    cd->rpend = t->pclear != 0;
    cd->fused_cc = t->fused_cc;
}

/* ECX = the size bytes at [RDX + RAX], zero-extended. */
static void load_host(struct emit *e, int size)
{
    if (size == 4)
        emit_op_sib(e, 4, 0x8B, H_RCX, H_RDX, H_RAX, 0, 0);
    else
        emit_op_sib(e, 4, size == 2 ? 0x0FB7 : 0x0FB6, H_RCX, H_RDX, H_RAX, 0, 0);
}

static void store_host(struct emit *e, int size)
{
    emit_op_sib(e, size, size == 1 ? 0x88 : 0x89, H_RCX, H_RDX, H_RAX, 0, 0);
}

/* MOV between a guest register and memory. */
static int mov_mem(struct tctx *t, const struct insn *in, int load, int r, int size)
{
    struct emit *e = &t->e;
    if (!seg_ok(t, in->ea_seg))
        return 0;
    if (in->d->fl & OPF_MOFFS)
        emit_mov_imm32(e, H_RAX, in->disp);
    else
        emit_ea(t, in);
    struct cold *cd = probe(t, in->ea_seg, !load, size);
    if (load && size == 4 && host_writable(t, r)) {
        /* straight into the guest register's host copy */
        emit_op_sib(e, 4, 0x8B, t->hmap[r], H_RDX, H_RAX, 0, 0);
        t->cached |= (uint8_t)(1u << r);
        greg_written(t, r);
    } else if (load) {
        load_host(e, size);
        store_greg(t, H_RCX, r, size);
    } else if (size == 4) {
        emit_op_sib(e, 4, 0x89, src_reg(t, r, 4), H_RDX, H_RAX, 0, 0);
    } else {
        load_greg(t, H_RCX, r, size);
        store_host(e, size);
    }
    resume_here(t, cd);
    return 1;
}

/* ALU, TEST, INC/DEC and MOV-immediate with a memory operand, on the host copy of the bytes
 * with the host's flags. kind: 0 ALU k r/m,reg; 1 ALU k reg,r/m; 2 ALU k r/m,imm; 3 TEST r/m,reg;
 * 4 TEST r/m,imm; 5 INC/DEC (k = 0/1); 6 MOV r/m,imm. */
static int alu_mem(struct tctx *t, const struct insn *in, int kind, int k, int size, uint32_t imm)
{
    struct emit *e = &t->e;
    if (!seg_ok(t, in->ea_seg))
        return 0;
    int adc = (kind <= 2) && (k == 2 || k == 3), cf_base = H_RBX, incdec_whole = 0;
    int last = t->i == t->b->ninsn - 1;
    int32_t cf_disp = 0;
    if (adc) /* ADC/SBB read CF below, where EAX is taken */
        cf_disp = flags_word(t, F_CF, &cf_base);
    emit_ea(t, in);
    int writes = (kind == 0 || kind == 2) ? k != 7 : (kind == 5 || kind == 6);
    struct cold *cd = probe(t, in->ea_seg, writes, size);
    switch (kind) {
    case 0:
    case 1:
    case 2:
        if (kind == 0)
            load_greg(t, H_RCX, in->reg, size);
        else if (kind == 1)
            load_host(e, size);
        else
            emit_mov_imm32(e, H_RCX, imm);
        if (adc) {
            emit_op_mem(e, 4, 0x0FBA, 4, cf_base, cf_disp);
            emit_byte(e, 0);
        }
        if (kind == 1)
            gop(t, size, (uint32_t)(k * 8 + (size == 1 ? 0 : 1)), H_RCX, in->reg, k != 7, 0, 0);
        else
            emit_op_sib(e, size, (uint32_t)(k * 8 + (size == 1 ? 0 : 1)), H_RCX, H_RDX, H_RAX, 0, 0);
        break;
    case 3:
    case 4:
        if (kind == 3)
            load_greg(t, H_RCX, in->reg, size);
        else
            emit_mov_imm32(e, H_RCX, imm);
        emit_op_sib(e, size, size == 1 ? 0x84 : 0x85, H_RCX, H_RDX, H_RAX, 0, 0);
        break;
    case 5:
        /* CF into the host's when the flags are kept (inc_dec): all six pending then */
        incdec_whole = flags_live(t, MASK6 & ~F_CF, last) && cf_into_host(t, H_RCX);
        emit_op_sib(e, size, size == 1 ? 0xFE : 0xFF, k, H_RDX, H_RAX, 0, 0);
        break;
    case 6:
        emit_mov_imm32(e, H_RCX, imm);
        store_host(e, size);
        break;
    }
    if (kind != 6) {
        int logic = kind == 3 || kind == 4 || (kind <= 2 && (k == 1 || k == 4 || k == 6));
        uint32_t keep = kind == 5 && !incdec_whole ? MASK6 & ~F_CF : logic ? MASK6 & ~F_AF : MASK6;
        /* The cold path leaves the handler's flags in EFLAGS, so dead flags may be skipped. */
        /* A Jcc right after may take its condition from DL, which the slow path sets too. */
        /* CMP leaves its register as it was: the slow path could not derive its operands */
        int rs_op = kind == 1 && size == 4 && alu_fs_op[k] != FS_CMP ? alu_fs_op[k] : FS_NONE;
        if (!flags_live(t, kind == 5 ? MASK6 & ~F_CF : MASK6, last))
            t->fused_cc = -1;
        else if (rs_op && flags_by_operands(t, rs_op, in->reg, 4, H_RCX, 0, keep, MASK6, last)) {
            cd->rs_op = (uint8_t)rs_op; /* ALU reg, r/m32 whose flags only slow paths may read */
            cd->rs_reg = (uint8_t)in->reg;
        } else {
            merge_flags(t, keep, kind == 5 && !incdec_whole ? MASK6 & ~F_CF : MASK6, last);
        }
    } else {
        t->fused_cc = -1;
    }
    resume_here(t, cd);
    return 1;
}

/* The stack pointer offset for a push (delta < 0) or a pop into EAX; the new SP into R8D. */
static void stack_offset(struct tctx *t, int size, int push)
{
    struct emit *e = &t->e;
    int s32 = (t->mode & JM_STACK32) != 0;
    load_greg(t, H_RAX, R_ESP, s32 ? 4 : 2);
    if (push) {
        emit_alu_imm_reg(e, 4, 5, H_RAX, (uint32_t)size);
        if (!s32)
            emit_op_rr(e, 4, 0x0FB7, H_RAX, H_RAX);
        emit_op_rr(e, 4, 0x89, H_RAX, H_R8);
    } else {
        emit_op_mem(e, 4, 0x8D, H_R8, H_RAX, size);                        /* lea r8d, [rax + size] */
    }
}

/* ESP = R8D (SP = R8W with a 16-bit stack). */
static void stack_commit(struct tctx *t)
{
    int s32 = (t->mode & JM_STACK32) != 0;
    store_greg(t, H_R8, R_ESP, s32 ? 4 : 2);
}

/* The start of a push of size bytes: the new SP in R8D and its slot probed for writing (RDX +
 * RAX); the caller puts the value in ECX, then push_end. */
static struct cold *push_begin(struct tctx *t, int size)
{
    stack_offset(t, size, 1);
    return probe_stack(t, 1, size);
}

/* The end of a push: the low n bytes of ECX stored in the slot, ESP updated, and the hot path
 * resumed there after cd's slow path. */
static void push_end(struct tctx *t, struct cold *cd, int n)
{
    store_host(&t->e, n);
    stack_commit(t);
    resume_here(t, cd);
}

/* For a CALL: the RET that ends the callee finds the block at ret_eip by the inline lookup, whose
 * jump-cache entry is seldom still in the host's cache by then (a whole call tree ran since its
 * last use, the kernel's fork path a thousand of them). The entry's set is known here, the
 * RET running in the block's mode and CS, so the CALL asks for the set's two lines and the
 * callee's run hides the fetch. */
static void prefetch_return(struct tctx *t, uint32_t ret_eip)
{
    unsigned idx = jit_jc_index(t->b->cs_base + ret_eip, t->b->jc_salt);
    for (unsigned w = 0; w < 2; w++) /* prefetcht0 of both ways */
        emit_op_mem(&t->e, 4, 0x0F18, 1, H_R12, JIT_OFF(jc) + (int32_t)((idx + w) * sizeof(struct jit_jc)));
}

/* PUSH reg/imm, POP reg, CALL rel (a push, then a chainable exit), RET (a pop, then an exit
 * through the inline lookup with EIP from the stack). */
static int stack_op(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    unsigned op = in->op;
    int v = in->opsize;
    if (!seg_ok(t, S_SS))
        return 0;
    uint32_t next = t->eips[t->i + 1], target = 0;
    if (op == 0xE8) {
        if (!last)
            return 0;
        target = next + in->imm;
        if (v == 2)
            target &= 0xFFFF;
        if (target > t->b->cs_limit)
            return 0;
    }
    if ((op == 0xC3 || op == 0xC2) && !last)
        return 0;
    int push = (op >= 0x50 && op <= 0x57) || op == 0x68 || op == 0x6A || op == 0xE8;
    if (op == 0xE8)
        prefetch_return(t, next);
    stack_offset(t, v, push);
    struct cold *cd = probe_stack(t, push, v);
    if (push) {
        if (op >= 0x50 && op <= 0x57)
            load_greg(t, H_RCX, (int)(op & 7), v);
        else
            emit_mov_imm32(e, H_RCX, op == 0xE8 ? next : op == 0x6A ? sext(in->imm, 1) : in->imm);
        store_host(e, v);
        stack_commit(t);
    } else {
        load_host(e, v);
        if (op == 0xC3 || op == 0xC2) {
            /* jump_to: past the CS limit is #GP(0), which the handler raises on the cold path. */
            emit_alu_imm_reg(e, 4, 7, H_RCX, t->b->cs_limit);
            to_cold(t, cd, emit_jcc32(e, CC_A, NULL));
            if (op == 0xC2)
                emit_alu_imm_reg(e, 4, 0, H_R8, in->imm & 0xFFFF);
            stack_commit(t);
            emit_op_mem(e, 4, 0x89, H_RCX, H_RBX, CPU_OFF(eip));
        } else {
            stack_commit(t);
            store_greg(t, H_RCX, (int)(op & 7), v);
        }
    }
    resume_here(t, cd);
    cd->branch = op == 0xE8 || op == 0xC3 || op == 0xC2;
    t->fused_cc = -1;
    if (op == 0xE8) {
        tr_exit(t, target, t->pending + 1, 1);
        t->pending = 0;
        t->exited = 1;
    } else if (op == 0xC3 || op == 0xC2) {
        tr_counts(t, t->pending + 1);
        t->pending = 0;
        tr_lookup_exit(t); /* ECX = the return address */
        t->exited = 1;
    } else {
        t->pending++;
    }
    return 2; /* counted here */
}

/* MOVZX/MOVSX (0F B6 B7 BE BF), register or memory source: no flags. */
static int movx(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    int src = (in->op & 1) ? 2 : 1;
    uint32_t opc = (in->op & 8) ? (src == 2 ? 0x0FBF : 0x0FBE) : (src == 2 ? 0x0FB7 : 0x0FB6);
    if (in->mem) {
        if (!seg_ok(t, in->ea_seg))
            return 0;
        emit_ea(t, in);
        struct cold *cd = probe(t, in->ea_seg, 0, src);
        emit_op_sib(e, 4, opc, H_RCX, H_RDX, H_RAX, 0, 0);
        store_greg(t, H_RCX, in->reg, in->opsize);
        resume_here(t, cd);
    } else {
        emit_op_mem(e, 4, opc, H_RCX, H_RBX, greg_mem(t, in->rm, src));
        store_greg(t, H_RCX, in->reg, in->opsize);
    }
    return 1;
}

/* 32-bit guest register r = ESI if host condition hcc holds: a host CMOV, so the code does not
 * split in two paths (which would write every dirty register back first, cond_skip). */
static void cmov_host(struct tctx *t, int hcc, int r)
{
    load_greg(t, H_RDX, r, 4);
    emit_op_rr(&t->e, 4, 0x0F40u | (uint32_t)hcc, H_RDX, H_RSI); /* cmovcc edx, esi */
    store_greg(t, H_RDX, r, 4);
}

/* SETcc r/m8 and CMOVcc r, r (register forms): the condition from the flags in memory (EFLAGS
 * or the pending word, cond_from_eflags). */
static struct cold *mem_operand(struct tctx *t, const struct insn *in, int write, int size);

static int setcc_cmov(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    if (in->mem) { /* (CMOVcc from memory is cmov_mem) */
        if (!seg_ok(t, in->ea_seg))
            return 0;
        struct cold *cd = mem_operand(t, in, 1, 1); /* RDI: the byte; the condition after */
        emit_setcc(e, cond_from_eflags(t, in->op & 0xF), H_RCX);
        emit_op_mem(e, 1, 0x88, H_RCX, H_RDI, 0);
        resume_here(t, cd);
        return 1;
    }
    int hcc = cond_from_eflags(t, in->op & 0xF);
    if (in->op >= 0x190) {
        emit_setcc(e, hcc, H_RCX);
        store_greg(t, H_RCX, in->rm, 1);
    } else if (in->opsize == 4) {
        load_greg(t, H_RSI, in->rm, 4); /* (moves: the host's flags stay) */
        cmov_host(t, hcc, in->reg);
    } else {
        uint8_t *skip = cond_skip(t, hcc ^ 1);
        load_greg(t, H_RDX, in->rm, in->opsize);
        store_greg(t, H_RDX, in->reg, in->opsize);
        cond_end(t);
        if (!e->overflow)
            emit_patch_rel32(skip, e->p);
    }
    return 1;
}

/* Where an r/m operand lives once mem_operand has run: the guest register in struct cpu, or
 * the host address of the guest bytes in RDI. */
struct loc {
    int base;
    int32_t disp;
    int greg;             /* the guest register number (ModRM encoding), or -1 for memory */
};

static struct loc rm_loc(const struct insn *in, int size)
{
    return in->mem ? (struct loc){ H_RDI, 0, -1 } : (struct loc){ H_RBX, greg(in->rm, size), in->rm };
}

/* The memory operand of in through the TLB probe (write: the write tag, which also vouches for
 * reads); RDI = its host address. The returned cold stub needs its resume point set. */
static struct cold *mem_operand(struct tctx *t, const struct insn *in, int write, int size)
{
    emit_ea(t, in);
    struct cold *cd = probe(t, in->ea_seg, write, size);
    emit_op_sib(&t->e, 8, 0x8D, H_RDI, H_RDX, H_RAX, 0, 0); /* lea rdi, [rdx + rax] */
    return cd;
}

/* The r/m operand of in, of size bytes, made accessible: nothing to do for a register (*cd =
 * NULL); for memory, the probe through mem_operand (*cd its slow path, to be given a resume
 * point). 0 when the segment needs more checks than the inline code makes: the handler then. */
static int rm_access(struct tctx *t, const struct insn *in, int write, int size, struct cold **cd)
{
    *cd = NULL;
    if (!in->mem)
        return 1;
    if (!seg_ok(t, in->ea_seg))
        return 0;
    *cd = mem_operand(t, in, write, size);
    return 1;
}

/* hreg = the size bytes at l, zero-extended to 64 bits (sign-extended with sx). */
static void load_loc(struct tctx *t, int hreg, struct loc l, int size, int sx)
{
    struct emit *e = &t->e;
    int h;
    if (l.greg >= 0 && size == 4 && (h = hreg_get(t, l.greg)) >= 0) {
        emit_op_rr(e, sx ? 8 : 4, sx ? 0x63 : 0x8B, hreg, h); /* movsxd / mov */
        return;
    }
    if (l.greg >= 0)
        spill(t, greg_id(l.greg, size)); /* read from struct cpu below */
    if (sx)
        emit_op_mem(e, 8, size == 4 ? 0x63 : size == 2 ? 0x0FBF : 0x0FBE, hreg, l.base, l.disp);
    else
        emit_op_mem(e, 4, size == 4 ? 0x8B : size == 2 ? 0x0FB7 : 0x0FB6, hreg, l.base, l.disp);
}

static void store_loc(struct tctx *t, int hreg, struct loc l, int size)
{
    if (l.greg >= 0) {
        store_greg(t, hreg, l.greg, size);
        return;
    }
    emit_op_mem(&t->e, size, size == 1 ? 0x88 : 0x89, hreg, l.base, l.disp);
}

/* "opc regfield, l" (then an immediate of imm_size bytes); write: it writes l. */
static void loc_op(struct tctx *t, struct loc l, int size, uint32_t opc, int regfield, int write, int imm_size,
                   uint32_t imm)
{
    if (l.greg >= 0) {
        gop(t, size, opc, regfield, l.greg, write, imm_size, imm);
        return;
    }
    emit_op_mem(&t->e, size, opc, regfield, l.base, l.disp);
    if (imm_size)
        emit_imm(&t->e, imm_size, imm);
}

/* IMUL r, r/m (0F AF) and IMUL r, r/m, imm (69, 6B): the host's IMUL gives the truncated product
 * and CF = OF = overflow exactly as smul_overflows; SF ZF PF come from the truncated product and
 * AF is cleared, the choices of cpu/ops_muldiv.c (the host leaves those four undefined). */
static int imul(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    int size = in->opsize;
    struct cold *cd;
    if (!rm_access(t, in, 0, size, &cd))
        return 0;
    load_loc(t, H_RCX, rm_loc(in, size), size, 0);
    if (in->op == 0x1AF) {
        gop(t, size, 0x0FAF, H_RCX, in->reg, 0, 0, 0); /* imul ecx, reg */
    } else {
        uint32_t imm = in->op == 0x6B ? sext(in->imm, 1) : in->imm;
        emit_op_rr(e, size, 0x69, H_RCX, H_RCX); /* imul ecx, ecx, imm */
        emit_imm(e, size, imm);
    }
    if (flags_live(t, MASK6, last)) {
        emit_setcc(e, CC_B, H_RAX);
        emit_op_rr(e, 4, 0x0FB6, H_RAX, H_RAX);
        emit_op_rr(e, 4, 0xF7, 3, H_RAX);                  /* neg eax: 0 or all ones */
        emit_alu_imm_reg(e, 4, 4, H_RAX, F_CF | F_OF);
        szp_of(e, H_RCX, size, H_RDX);
        emit_op_rr(e, 4, 0x09, H_RAX, H_RDX);
        merge_flags_reg(t, H_RDX, MASK6);
    }
    store_greg(t, H_RCX, in->reg, size);
    if (cd)
        resume_here(t, cd);
    t->fused_cc = -1;
    return 1;
}

/* The shift or rotate by an immediate n (1-31), or by CL when n is 0, on hreg. */
static void shift_by(struct emit *e, int size, int ext, int hreg, unsigned n)
{
    if (n)
        emit_shift_imm(e, size, ext, hreg, (uint8_t)n);
    else
        emit_shift_cl(e, size, ext, hreg);
}

/* ESI = (bit (bits - 1) of EAX ^ bit (bits - 2) of EAX) << 11: OF as MSB(res) ^ MSB-1(res). */
static void of_msb_xor_msb1(struct emit *e, int bits)
{
    emit_op_rr(e, 4, 0x89, H_RAX, H_RSI);
    emit_op_rr(e, 4, 0x01, H_RSI, H_RSI);
    emit_op_rr(e, 4, 0x31, H_RAX, H_RSI);
    emit_shift_imm(e, 4, 5, H_RSI, (uint8_t)(bits - 1));
    emit_alu_imm_reg(e, 4, 4, H_RSI, 1);
    emit_shift_imm(e, 4, 4, H_RSI, 11);
}

/* ESI = (bit (bits - 1) of EAX ^ EDX) << 11: OF as MSB(res) ^ CF, with CF (0/1) in EDX. */
static void of_msb_xor_cf(struct emit *e, int bits)
{
    emit_op_rr(e, 4, 0x89, H_RAX, H_RSI);
    emit_shift_imm(e, 4, 5, H_RSI, (uint8_t)(bits - 1));
    emit_op_rr(e, 4, 0x31, H_RDX, H_RSI);
    emit_alu_imm_reg(e, 4, 4, H_RSI, 1);
    emit_shift_imm(e, 4, 4, H_RSI, 11);
}

/* A shift by CL (count in ECX): the code up to the matching shift_finish runs only for a count
 * that is not 0 mod 32, since a count of 0 changes neither the operand nor a flag. Returns the
 * branch that skips it. */
static uint8_t *count_zero_skip(struct tctx *t)
{
    tr_flags_now(t); /* nothing may be pending across a path that changes no flag */
    emit_alu_imm_reg(&t->e, 4, 4, H_RCX, 31);
    uint8_t *skip = cond_skip(t, CC_E);
    return skip;
}

/* The end of a shift with its flags computed: flags (EDX, the bits of clear) and result (EAX)
 * stored, the count-0 branch (if any) pointed here, the slow path's resume point here. */
static void shift_finish(struct tctx *t, struct loc l, int size, uint32_t clear, uint8_t *skip, struct cold *cd)
{
    merge_flags_reg(t, H_RDX, clear);
    store_loc(t, H_RAX, l, size);
    if (skip) {
        cond_end(t);
        if (!t->e.overflow)
            emit_patch_rel32(skip, t->e.p);
    }
    if (cd)
        resume_here(t, cd);
}

/* Group 2 (C0 C1 D0 D1 D2 D3) but RCL/RCR: ROL ROR SHL SHR SAL SAR. Results and flags exactly as
 * cpu/ops_shift.c: count masked to 5 bits, a count of 0 changes nothing; CF the last bit out
 * (0 for SHL/SHR past the width); OF by the 1-bit formula for every count; AF cleared; rotates
 * change only CF and OF. The host's shift gives the result (it masks and rotates the same way)
 * but its CF past the width and OF for counts above 1 are undefined, so those are computed
 * with integer operations on a 64-bit copy, from which the last bit out is easy to pick. */
static int shift(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    unsigned op = in->op;
    int ext = in->reg;
    if (ext == 2 || ext == 3)
        return 0;
    int size = (op & 1) ? in->opsize : 1, bits = size * 8;
    int var = op == 0xD2 || op == 0xD3;
    unsigned n = op <= 0xC1 ? in->imm & 31 : op <= 0xD1 ? 1 : 0; /* 0 with var: CL */
    if (!var && n == 0) {
        if (in->mem)
            return 0; /* the read may fault: the handler */
        t->fused_cc = -1;
        return 1; /* changes nothing */
    }
    struct cold *cd;
    if (!rm_access(t, in, 1, size, &cd))
        return 0;
    struct loc l = rm_loc(in, size);
    if (var)
        load_greg(t, H_RCX, R_ECX, 4);
    if (!flags_live(t, ext < 2 ? F_CF | F_OF : MASK6, last)) {
        /* Only the result matters: the host's own shift on the operand (a CL count of 0 changes
         * nothing there either). */
        loc_op(t, l, size, var ? (size == 1 ? 0xD2 : 0xD3) : (size == 1 ? 0xC0 : 0xC1), ext, 1, var ? 0 : 1, n);
        if (cd)
            resume_here(t, cd);
        return 1;
    }
    uint8_t *skip = var ? count_zero_skip(t) : NULL;
    load_loc(t, H_RAX, l, size, ext == 7);
    uint32_t clear = MASK6;
    switch (ext) {
    case 0: /* ROL: CF = LSB(res), OF = MSB(res) ^ CF */
        shift_by(e, size, 0, H_RAX, n);
        emit_op_rr(e, 4, 0x89, H_RAX, H_RDX);
        emit_alu_imm_reg(e, 4, 4, H_RDX, 1);
        of_msb_xor_cf(e, bits);
        clear = F_CF | F_OF;
        break;
    case 1: /* ROR: CF = MSB(res), OF = MSB(res) ^ MSB-1(res) */
        shift_by(e, size, 1, H_RAX, n);
        emit_op_rr(e, 4, 0x89, H_RAX, H_RDX);
        emit_shift_imm(e, 4, 5, H_RDX, (uint8_t)(bits - 1));
        of_msb_xor_msb1(e, bits);
        clear = F_CF | F_OF;
        break;
    case 4:
    case 6: /* SHL: CF = bit `bits` of the 64-bit shift (0 past the width), OF = MSB(res) ^ CF */
        shift_by(e, 8, 4, H_RAX, n);
        emit_op_rr(e, 8, 0x89, H_RAX, H_RDX);
        emit_shift_imm(e, 8, 5, H_RDX, (uint8_t)bits);
        emit_alu_imm_reg(e, 4, 4, H_RDX, 1);
        of_msb_xor_cf(e, bits);
        break;
    case 5: /* SHR: (2v >> count) keeps the last bit out as its bit 0; OF = MSB(res) ^ MSB-1(res) */
        emit_op_rr(e, 8, 0x01, H_RAX, H_RAX);
        shift_by(e, 8, 5, H_RAX, n);
        emit_op_rr(e, 4, 0x89, H_RAX, H_RDX);
        emit_alu_imm_reg(e, 4, 4, H_RDX, 1);
        emit_shift_imm(e, 8, 5, H_RAX, 1);
        of_msb_xor_msb1(e, bits);
        break;
    default: /* SAR: the same on the sign-extended value; OF = 0 */
        emit_op_rr(e, 8, 0x01, H_RAX, H_RAX);
        shift_by(e, 8, 7, H_RAX, n);
        emit_op_rr(e, 4, 0x89, H_RAX, H_RDX);
        emit_alu_imm_reg(e, 4, 4, H_RDX, 1);
        emit_shift_imm(e, 8, 7, H_RAX, 1);
        emit_op_rr(e, 4, 0x31, H_RSI, H_RSI);
        break;
    }
    emit_op_rr(e, 4, 0x09, H_RSI, H_RDX);
    if (ext >= 4) {
        szp_of(e, H_RAX, size, H_R8);
        emit_op_rr(e, 4, 0x09, H_R8, H_RDX);
    }
    shift_finish(t, l, size, clear, skip, cd);
    return 1;
}

/* NOT (no flags) and NEG (F6/F7 /2 /3): the host's NEG sets all six flags as the interpreter's
 * 0 - x does (CF = x != 0). */
static int not_neg(struct tctx *t, const struct insn *in, int last)
{
    int size = in->op == 0xF6 ? 1 : in->opsize;
    struct cold *cd;
    if (!rm_access(t, in, 1, size, &cd))
        return 0;
    struct loc l = rm_loc(in, size);
    loc_op(t, l, size, size == 1 ? 0xF6 : 0xF7, in->reg, 1, 0, 0);
    t->fused_cc = -1;
    /* No SETcc for a Jcc after a memory form: its cold path would not set DL. */
    if (in->reg == 3 && flags_live(t, MASK6, last))
        merge_flags(t, MASK6, MASK6, last || in->mem);
    if (cd)
        resume_here(t, cd);
    return 1;
}

/* CMOVcc r, m: the source is read (and may fault) whatever the condition; the destination is
 * written only when it holds (cpu/ops_move.c op_cmov). */
static int cmov_mem(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    int size = in->opsize;
    if (!seg_ok(t, in->ea_seg))
        return 0;
    struct cold *cd = mem_operand(t, in, 0, size);
    load_loc(t, H_RSI, rm_loc(in, size), size, 0);
    int hcc = cond_from_eflags(t, in->op & 0xF);
    if (size == 4) {
        cmov_host(t, hcc, in->reg);
    } else {
        uint8_t *skip = cond_skip(t, hcc ^ 1);
        store_greg(t, H_RSI, in->reg, size);
        cond_end(t);
        if (!e->overflow)
            emit_patch_rel32(skip, e->p);
    }
    resume_here(t, cd);
    return 1;
}

/* XCHG r, r/m (86, 87) and XCHG eAX, r (91-97): no flags. */
static int xchg(struct tctx *t, const struct insn *in)
{
    int size = in->op == 0x86 ? 1 : in->opsize;
    int r = in->op >= 0x90 ? (int)(in->op & 7) : in->reg;
    struct cold *cd;
    if (!rm_access(t, in, 1, size, &cd))
        return 0;
    struct loc l = in->op >= 0x90 ? (struct loc){ H_RBX, greg(R_EAX, size), R_EAX } : rm_loc(in, size);
    load_loc(t, H_RCX, l, size, 0);
    load_greg(t, H_RDX, r, size);
    store_loc(t, H_RDX, l, size);
    store_greg(t, H_RCX, r, size);
    if (cd)
        resume_here(t, cd);
    return 1;
}

/* LEAVE: ESP (SP) = EBP (BP) + operand size, EBP = the value popped from SS:[EBP]; the same
 * stack-pointer width rules as POP (cpu/ops_stack.c op_leave). */
static int leave(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    int v = in->opsize;
    if (!seg_ok(t, S_SS))
        return 0;
    load_greg(t, H_RAX, R_EBP, (t->mode & JM_STACK32) ? 4 : 2);
    emit_op_mem(e, 4, 0x8D, H_R8, H_RAX, v); /* lea r8d, [rax + v] */
    struct cold *cd = probe_stack(t, 0, v);
    load_host(e, v);
    stack_commit(t);
    store_greg(t, H_RCX, R_EBP, v);
    resume_here(t, cd);
    return 1;
}

/* PUSH r/m (FF /6): the operand is read first (its address formed with the old ESP), then
 * pushed. A memory operand probes twice, both probes before any guest state changes, so either
 * slow path can run the whole instruction through its handler. */
static int push_rm(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    int v = in->opsize;
    struct cold *src;
    if (!seg_ok(t, S_SS) || !rm_access(t, in, 0, v, &src))
        return 0;
    load_loc(t, H_RSI, rm_loc(in, v), v, 0);
    struct cold *cd = push_begin(t, v);
    emit_op_rr(e, 4, 0x89, H_RSI, H_RCX);
    push_end(t, cd, v);
    if (src)
        resume_here(t, src);
    return 1;
}

/* Whether the block runs in real mode or at CPL 0 outside virtual-8086 mode, where CLI, STI,
 * PUSHF and RDTSC cannot fault (IOPL >= CPL always, SDM Vol. 1 §3.4.3.3) nor act on VIF. */
static int cpl0_or_real(const struct tctx *t)
{
    return !(t->mode & JM_PE) || (!(t->mode & (JM_VM | (3u << JM_CPL_SHIFT))));
}

/* CLI (FA) and STI (FB) where they act on IF (cpl0_or_real): the bit in EFLAGS, and for an STI
 * that sets it the interrupt shadow (op_flag_op, cpu/ops_move.c), which the handler call for the
 * instruction after it (translate.c) takes. Nothing else can: interrupts come only from device
 * code, which runs only inside helpers, and an STI that ends its block goes to the handler. */
static void cli_sti(struct tctx *t, int sti)
{
    struct emit *e = &t->e;
    if (!sti) {
        emit_alu_imm_mem(e, 4, 4, H_RBX, CPU_OFF(eflags), ~(uint32_t)F_IF);
        return;
    }
    emit_op_mem(e, 4, 0x0FBA, 5, H_RBX, CPU_OFF(eflags)); /* bts dword [eflags], 9: CF = IF before */
    emit_byte(e, 9);
    _Static_assert(F_IF == 1u << 9, "IF's bit");
    emit_op_mem(e, 1, 0x0F93, 0, H_RBX, CPU_OFF(shadow)); /* setnc byte [shadow] */
}

/* PUSHF (9C) outside virtual-8086 mode, where IOPL cannot make it fault (op_pushf): EFLAGS made
 * current, then pushed with VM and RF clear. */
static int pushf(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    int v = in->opsize;
    if ((t->mode & JM_VM) || !seg_ok(t, S_SS))
        return 0;
    tr_flags_now(t);
    struct cold *cd = push_begin(t, v);
    emit_op_mem(e, 4, 0x8B, H_RCX, H_RBX, CPU_OFF(eflags));
    emit_alu_imm_reg(e, 4, 1, H_RCX, F_FIXED1);
    emit_alu_imm_reg(e, 4, 4, H_RCX, ~(uint32_t)(F_VM | F_RF));
    push_end(t, cd, v);
    t->fused_cc = -1;
    return 1;
}

/* CMPXCHG r/m, r (0F B0/B1) and XADD r/m, r (0F C0/C1) with a memory destination, locked or not,
 * on the host's own instructions, whose flags are the guest's: those of CMP accumulator,
 * destination, and of the ADD. The destination is probed for writing, as a P6 writes it in both
 * outcomes of a CMPXCHG (op_cmpxchg, cpu/ops_move.c). The accumulator is written back in both
 * too: with the value it already had when the comparison succeeds. */
static int cmpxchg_xadd(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    int size = (in->op & 1) ? in->opsize : 1, xadd = in->op >= 0x1C0;
    if (!in->mem || !seg_ok(t, in->ea_seg))
        return 0;
    struct cold *cd = mem_operand(t, in, 1, size);
    load_greg(t, H_RCX, in->reg, size);
    if (!xadd)
        load_greg(t, H_RAX, R_EAX, size);
    emit_op_mem(e, size, (xadd ? 0x0FC0u : 0x0FB0u) | (size > 1), H_RCX, H_RDI, 0);
    if (xadd)
        store_greg(t, H_RCX, in->reg, size); /* moves only: the host's flags stay */
    else
        store_greg(t, H_RAX, R_EAX, size);
    if (flags_live(t, MASK6, last))
        merge_flags(t, MASK6, MASK6, last);
    resume_here(t, cd);
    return 1;
}

/* CMPXCHG8B m64 (0F C7 /1), locked or not: EDX:EAX and ECX:EBX as quadwords for the host's
 * 64-bit CMPXCHG, whose ZF is the guest's (the only flag CMPXCHG8B changes); the destination is
 * probed for writing, as op_cmpxchg8b writes it in both outcomes, and EDX:EAX is written back in
 * both too (with the value it had when they matched). */
static int cmpxchg8b(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    if (!seg_ok(t, in->ea_seg))
        return 0;
    struct cold *cd = mem_operand(t, in, 1, 8);
    load_greg(t, H_RAX, R_EAX, 4);
    load_greg(t, H_RCX, R_EDX, 4);
    emit_shift_imm(e, 8, 4, H_RCX, 32);
    emit_op_rr(e, 8, 0x09, H_RCX, H_RAX);                 /* rax = EDX:EAX */
    load_greg(t, H_RSI, R_ECX, 4);
    load_greg(t, H_RCX, R_EBX, 4);
    emit_shift_imm(e, 8, 4, H_RSI, 32);
    emit_op_rr(e, 8, 0x09, H_RCX, H_RSI);                 /* rsi = ECX:EBX */
    emit_op_mem(e, 8, 0x0FB1, H_RSI, H_RDI, 0);           /* cmpxchg [rdi], rsi */
    emit_op_rr(e, 8, 0x89, H_RAX, H_RSI);                 /* the old value, kept from the merge */
    if (flags_live(t, F_ZF, last))
        merge_flags(t, F_ZF, F_ZF, 1); /* no SETcc: the slow path would not set DL */
    store_greg(t, H_RSI, R_EAX, 4);
    emit_shift_imm(e, 8, 5, H_RSI, 32);
    store_greg(t, H_RSI, R_EDX, 4);
    resume_here(t, cd);
    t->fused_cc = -1;
    return 1;
}

/* BT BTS BTR BTC r/m32, r32 (0F A3/AB/B3/BB). A register operand is the host's instruction on
 * it (the offset taken modulo 32 on both). In memory the offset is a signed index into a bit
 * string (op_bt, cpu/ops_bit.c): the dword at ea + (offset >> 5) * 4, wrapping at 4 GiB, is
 * accessed, with 32-bit addressing only; the host's BT then gets the offset modulo 32. CF is
 * the bit; the host's other flags are undefined and the guest's kept: only CF is taken. */
static int bt_reg(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    unsigned op = in->op & 0xFF;
    int write = op != 0xA3;
    if (!in->mem) {
        /* masked first: on a register held in struct cpu the host's BT would address a bit
         * string from there */
        load_greg(t, H_RSI, in->reg, 4);
        emit_alu_imm_reg(e, 4, 4, H_RSI, 31);
        gop(t, 4, 0x0F00 | op, H_RSI, in->rm, write, 0, 0);
        if (flags_live(t, F_CF, last))
            merge_flags(t, F_CF, F_CF, last);
        return 1;
    }
    if (!in->addr32 || !seg_ok(t, in->ea_seg))
        return 0;
    emit_ea(t, in);
    load_greg(t, H_RSI, in->reg, 4);
    emit_op_rr(e, 4, 0x89, H_RSI, H_RCX);
    emit_shift_imm(e, 4, 7, H_RCX, 5);                    /* sar ecx, 5: the dword's index */
    emit_op_sib(e, 4, 0x8D, H_RAX, H_RAX, H_RCX, 2, 0);   /* lea eax, [rax + rcx * 4] */
    emit_alu_imm_reg(e, 4, 4, H_RSI, 31);
    struct cold *cd = probe(t, in->ea_seg, write, 4);     /* RSI is left alone */
    emit_op_sib(e, 4, 0x0F00 | op, H_RSI, H_RDX, H_RAX, 0, 0);
    if (flags_live(t, F_CF, 0))
        merge_flags(t, F_CF, F_CF, 1); /* no SETcc: the slow path would not set DL */
    resume_here(t, cd);
    t->fused_cc = -1;
    return 1;
}

/* PUSH ES/CS/SS/DS/FS/GS (06 0E 16 1E, 0F A0 A8): the selector, a word; with a 32-bit operand
 * size the whole dword is probed for writing and its upper half left as it was (op_push_sreg,
 * the choice of recent processors in the SDM's PUSH page). */
static int push_sreg(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    int v = in->opsize, s = (int)((in->op >> 3) & 7);
    if (!seg_ok(t, S_SS))
        return 0;
    struct cold *cd = push_begin(t, v);
    emit_op_mem(e, 4, 0x0FB7, H_RCX, H_RBX, CPU_OFF(seg[0]) + s * (int32_t)sizeof(struct segreg) +
                                                (int32_t)offsetof(struct segreg, sel));
    push_end(t, cd, 2);
    return 1;
}

/* MOV r/m, sreg (8C): the selector, zero-extended into a 32-bit register, a word into memory
 * (op_mov_sreg). */
static int mov_from_sreg(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    int32_t sel = CPU_OFF(seg[0]) + in->reg * (int32_t)sizeof(struct segreg) + (int32_t)offsetof(struct segreg, sel);
    struct cold *cd = NULL;
    if (in->mem) {
        if (!seg_ok(t, in->ea_seg))
            return 0;
        cd = mem_operand(t, in, 1, 2);
    }
    emit_op_mem(e, 4, 0x0FB7, H_RCX, H_RBX, sel);
    if (cd) {
        emit_op_mem(e, 2, 0x89, H_RCX, H_RDI, 0);
        resume_here(t, cd);
    } else {
        store_greg(t, H_RCX, in->rm, in->opsize);
    }
    return 1;
}

/* CBW/CWDE (98): eAX = the sign-extended lower half; CWD/CDQ (99): eDX = eAX's sign, copied into
 * every bit (op_cbw, op_cwd). No flags. */
static void sign_extend_ax(struct tctx *t, int cwd, int v)
{
    struct emit *e = &t->e;
    load_greg(t, H_RCX, R_EAX, cwd ? v : v / 2);
    if (!cwd) {
        emit_op_rr(e, 4, v == 4 ? 0x0FBF : 0x0FBE, H_RCX, H_RCX); /* movsx ecx, cx / cl */
        store_greg(t, H_RCX, R_EAX, v);
        return;
    }
    if (v == 2)
        emit_op_rr(e, 4, 0x0FBF, H_RCX, H_RCX);
    emit_shift_imm(e, 4, 7, H_RCX, 31);                           /* sar ecx, 31 */
    store_greg(t, H_RCX, R_EDX, v);
}

/* RDTSC (0F 31) through a small helper, when CR4.TSD cannot make it fault: in real mode and at
 * CPL 0 outside virtual-8086 mode (op_rdtsc in cpu/ops_system.c); the time it reads comes from
 * icount, so the counts are brought up to date first. */
static int rdtsc(struct tctx *t)
{
    struct emit *e = &t->e;
    if (!cpl0_or_real(t))
        return 0;
    tr_flush_counts(t);
    tr_cpu_current(t);
    emit_call32(e, t->j->rdtsc_thunk);
    tr_forget_registers(t);
    t->fused_cc = -1;
    return 1;
}

/* BT BTS BTR BTC r/m, imm (0F BA /4-/7): the host's instruction on the guest's operand. The bit
 * offset is the immediate modulo the operand width on both (no bit-string addressing with an
 * immediate); CF is the bit, and every other flag is kept (cpu/ops_bit.c), which the host's
 * undefined OF SF AF PF are not: only CF is taken. */
static int bt_imm(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    int size = in->opsize, ext = in->reg;
    uint32_t bit = in->imm & (uint32_t)(size * 8 - 1);
    if (!in->mem) {
        gop(t, size, 0x0FBA, ext, in->rm, ext != 4, 1, bit);
        if (flags_live(t, F_CF, last))
            merge_flags(t, F_CF, F_CF, last);
        return 1;
    }
    if (!seg_ok(t, in->ea_seg))
        return 0;
    struct cold *cd = mem_operand(t, in, ext != 4, size);
    emit_op_mem(e, size, 0x0FBA, ext, H_RDI, 0);
    emit_byte(e, (uint8_t)bit);
    if (flags_live(t, F_CF, 0))
        merge_flags(t, F_CF, F_CF, 1); /* no SETcc: the slow path would not set DL */
    resume_here(t, cd);
    t->fused_cc = -1;
    return 1;
}

/* ECX = the 32-bit r/m source of in, read through the TLB probe when in memory (*cd: its slow
 * path, else NULL); 0 when it cannot be inlined. */
static int source_rm32(struct tctx *t, const struct insn *in, struct cold **cd)
{
    if (!rm_access(t, in, 0, 4, cd))
        return 0;
    load_loc(t, H_RCX, rm_loc(in, 4), 4, 0);
    return 1;
}

/* MUL r/m32 (F7 /4) and DIV r/m32 (F7 /6) on the host's MUL and DIV. MUL's flags are
 * cpu/ops_muldiv.c's choices: CF = OF = high half nonzero, SF ZF PF of the low half, AF clear
 * (the host leaves four of them undefined). DIV changes no flag; a zero divisor or a quotient
 * that does not fit (EDX >= divisor) goes to the slow path, whose handler raises #DE. */
static int mul_div32(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    int div = in->reg == 6;
    struct cold *cd;
    if (!source_rm32(t, in, &cd))
        return 0;
    load_greg(t, H_RAX, R_EAX, 4);
    load_greg(t, H_RDX, R_EDX, 4);
    if (div) {
        if (!cd)
            cd = new_cold(t);
        emit_op_rr(e, 4, 0x85, H_RCX, H_RCX);
        to_cold(t, cd, emit_jcc32(e, CC_E, NULL));
        emit_op_rr(e, 4, 0x39, H_RCX, H_RDX); /* cmp edx, ecx */
        to_cold(t, cd, emit_jcc32(e, CC_AE, NULL));
        emit_op_rr(e, 4, 0xF7, 6, H_RCX);     /* div ecx */
        store_greg(t, H_RAX, R_EAX, 4);
        store_greg(t, H_RDX, R_EDX, 4);
    } else {
        emit_op_rr(e, 4, 0xF7, 4, H_RCX);     /* mul ecx */
        emit_op_rr(e, 4, 0x89, H_RAX, H_RSI);
        emit_op_rr(e, 4, 0x89, H_RDX, H_RDI);
        if (flags_live(t, MASK6, last)) {
            emit_setcc(e, CC_B, H_RAX);
            emit_op_rr(e, 4, 0x0FB6, H_RAX, H_RAX);
            emit_op_rr(e, 4, 0xF7, 3, H_RAX); /* neg eax: 0 or all ones */
            emit_alu_imm_reg(e, 4, 4, H_RAX, F_CF | F_OF);
            szp_of(e, H_RSI, 4, H_RDX);
            emit_op_rr(e, 4, 0x09, H_RAX, H_RDX);
            merge_flags_reg(t, H_RDX, MASK6);
        }
        store_greg(t, H_RSI, R_EAX, 4);
        store_greg(t, H_RDI, R_EDX, 4);
    }
    if (cd)
        resume_here(t, cd);
    t->fused_cc = -1;
    return 1;
}

/* JMP r/m and CALL r/m, near (FF /4, /2), as the block's last instruction: the target read, then
 * for CALL the return address pushed, EIP set, and the next block found by the inline lookup.
 * A target past the CS limit is #GP(0), which the handler raises on the slow path. */
static int jmp_call_indirect(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    int v = in->opsize, call = in->reg == 2;
    if (call && !seg_ok(t, S_SS))
        return 0;
    struct cold *src;
    if (!rm_access(t, in, 0, v, &src))
        return 0;
    if (src)
        src->branch = 1;
    load_loc(t, H_RSI, rm_loc(in, v), v, 0);
    struct cold *cd;
    if (call) {
        prefetch_return(t, t->eips[t->i + 1]);
        cd = push_begin(t, v);
    } else {
        cd = new_cold(t);
    }
    cd->branch = 1;
    emit_alu_imm_reg(e, 4, 7, H_RSI, t->b->cs_limit);
    to_cold(t, cd, emit_jcc32(e, CC_A, NULL));
    if (call) {
        emit_mov_imm32(e, H_RCX, t->eips[t->i + 1]);
        store_host(e, v);
        stack_commit(t);
    }
    emit_op_mem(e, 4, 0x89, H_RSI, H_RBX, CPU_OFF(eip));
    tr_counts(t, t->pending + 1);
    t->pending = 0;
    emit_op_rr(e, 4, 0x89, H_RSI, H_RCX);
    tr_lookup_exit(t);
    t->exited = 1;
    t->fused_cc = -1;
    return 1;
}

/* SHLD, SHRD r/m32, r32, imm8 or CL (0F A4 A5 AC AD), exactly as cpu/ops_shift.c: the count
 * masked to 5 bits, 0 changing nothing; the host's result and CF (defined for counts 1-31 with
 * a 32-bit operand), OF by the 1-bit formula for every count (the host defines it for 1 only),
 * SF ZF PF of the result, AF cleared. 16-bit operands (counts past 16) go to the handler. */
static int double_shift(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    if (in->opsize != 4)
        return 0;
    int left = in->op == 0x1A4 || in->op == 0x1A5, var = in->op & 1;
    unsigned n = var ? 0 : in->imm & 31;
    uint32_t opc = left ? (var ? 0x0FA5 : 0x0FA4) : (var ? 0x0FAD : 0x0FAC);
    if (!var && n == 0) {
        if (in->mem)
            return 0; /* the access may fault: the handler */
        t->fused_cc = -1;
        return 1;
    }
    struct cold *cd;
    if (!rm_access(t, in, 1, 4, &cd))
        return 0;
    struct loc l = rm_loc(in, 4);
    load_greg(t, H_RSI, in->reg, 4);
    if (var)
        load_greg(t, H_RCX, R_ECX, 4);
    t->fused_cc = -1;
    if (!flags_live(t, MASK6, last)) {
        loc_op(t, l, 4, opc, H_RSI, 1, var ? 0 : 1, n); /* shld/shrd r/m, esi, imm/cl */
        if (cd)
            resume_here(t, cd);
        return 1;
    }
    uint8_t *skip = var ? count_zero_skip(t) : NULL;
    load_loc(t, H_RAX, l, 4, 0);
    emit_op_rr(e, 4, opc, H_RSI, H_RAX);
    if (!var)
        emit_byte(e, (uint8_t)n);
    emit_setcc(e, CC_B, H_RDX);
    emit_op_rr(e, 4, 0x0FB6, H_RDX, H_RDX);
    if (left)
        of_msb_xor_cf(e, 32);
    else
        of_msb_xor_msb1(e, 32);
    emit_op_rr(e, 4, 0x09, H_RSI, H_RDX);
    szp_of(e, H_RAX, 4, H_R8);
    emit_op_rr(e, 4, 0x09, H_R8, H_RDX);
    shift_finish(t, l, 4, MASK6, skip, cd);
    return 1;
}

/* BSF, BSR r32, r/m32 (0F BC, BD): ZF = source zero, and then the destination is left as it
 * was; else the index of the lowest (highest) set bit. Only ZF is taken from the host: the other
 * flags are undefined there and kept by cpu/ops_bit.c. */
static int bit_scan(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    struct cold *cd;
    if (!source_rm32(t, in, &cd))
        return 0;
    emit_op_rr(e, 4, 0x89, H_RCX, H_RDI);                            /* mov edi, ecx */
    emit_op_rr(e, 4, in->op == 0x1BC ? 0x0FBC : 0x0FBD, H_RSI, H_RDI); /* bsf/bsr esi, edi */
    if (flags_live(t, F_ZF, last))
        merge_flags(t, F_ZF, F_ZF, 1); /* (EAX and ECX changed) */
    t->fused_cc = -1;
    /* Saving the flags may change the host's: the zero test is made again on the source. */
    emit_op_rr(e, 4, 0x85, H_RDI, H_RDI);
    uint8_t *skip = cond_skip(t, CC_E);
    store_greg(t, H_RSI, in->reg, 4);
    cond_end(t);
    if (!e->overflow)
        emit_patch_rel32(skip, e->p);
    if (cd)
        resume_here(t, cd);
    return 1;
}

/* BSWAP r32 (0F C8+r): no flags. (With a 16-bit operand the result is undefined: the handler.) */
static void bswap(struct tctx *t, int r)
{
    struct emit *e = &t->e;
    int h = hreg_get(t, r);
    int x = h >= 0 ? h : H_RCX;
    if (h < 0)
        load_greg(t, H_RCX, r, 4);
    if (x & 8)
        emit_byte(e, 0x41);
    emit_byte(e, 0x0F);
    emit_byte(e, (uint8_t)(0xC8 + (x & 7)));
    if (h >= 0)
        greg_written(t, r);
    else
        store_greg(t, H_RCX, r, 4);
}

/* SAHF (9E): SF ZF AF PF CF from AH; OF and the rest kept. */
static void sahf(struct tctx *t)
{
    struct emit *e = &t->e;
    const uint32_t m = F_SF | F_ZF | F_AF | F_PF | F_CF;
    tr_flags_now(t);
    emit_op_mem(e, 4, 0x0FB6, H_RAX, H_RBX, greg_mem(t, 4, 1)); /* movzx eax, AH */
    emit_alu_imm_reg(e, 4, 4, H_RAX, m);
    emit_alu_imm_mem(e, 4, 4, H_RBX, CPU_OFF(eflags), ~m);
    emit_op_mem(e, 4, 0x09, H_RAX, H_RBX, CPU_OFF(eflags));
    t->fused_cc = -1;
}

int tr_inline(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    int fused = t->fused_cc;
    t->exited = 0;
    /* A REP prefix changes only string and MMX instructions (cpu/ops_string.c, cpu/mmx.c), none
     * of which is inline: on the others (F3 90 PAUSE, the "rep ret" and "rep bsf" compilers
     * emit) a P6 ignores it, and so does the interpreter. LOCK reaches here only where the
     * decoder found it legal (a read-modify-write of memory) and changes nothing on one CPU:
     * no other agent can come between the read and the write (devices run in helpers). */
    unsigned op = in->op;
    int v = in->opsize;
    int size = (op & 1) ? v : 1;
    uint8_t *before = e->p;
    /* What a translation given up half-way must put back (the handler call is emitted instead). */
    uint8_t cached0 = t->cached;
    uint32_t pkeep0 = t->pkeep, pclear0 = t->pclear;
    struct fsrc fs0 = t->fs;
    int ncold0 = t->ncold, nway20 = t->nway2;
    int ok = 1;

    if (op < 0x40 && (op & 7) < 6) {
        /* 00-3D: ALU in its six forms */
        int k = (int)(op >> 3), form = (int)(op & 7);
        if (form < 4 && in->mem) {
            ok = alu_mem(t, in, form < 2 ? 0 : 1, k, size, 0);
            goto done;
        }
        if (form == 4 || form == 5) {
            alu(t, k, R_EAX, form == 4 ? 1 : v, -1, in->imm, last);
        } else {
            int dst = form < 2 ? in->rm : in->reg, src = form < 2 ? in->reg : in->rm;
            alu(t, k, dst, size, src_reg(t, src, size), 0, last);
        }
    } else if (op >= 0x80 && op <= 0x83) {
        uint32_t imm = op == 0x83 ? sext(in->imm, 1) : in->imm;
        if (in->mem)
            ok = alu_mem(t, in, 2, in->reg, size, imm);
        else
            alu(t, in->reg, in->rm, size, -1, imm, last);
    } else if (op == 0x84 || op == 0x85) {
        if (in->mem) {
            ok = alu_mem(t, in, 3, 0, size, 0);
        } else {
            test_op(t, in->rm, size, src_reg(t, in->reg, size), 0, last);
        }
    } else if (op == 0xA8 || op == 0xA9) {
        test_op(t, R_EAX, size, -1, in->imm, last);
    } else if ((op == 0xF6 || op == 0xF7) && in->reg < 2) {
        if (in->mem)
            ok = alu_mem(t, in, 4, 0, size, in->imm);
        else
            test_op(t, in->rm, size, -1, in->imm, last);
    } else if ((op == 0xF6 || op == 0xF7) && (in->reg == 2 || in->reg == 3)) {
        ok = not_neg(t, in, last);
    } else if (op == 0x1AF || op == 0x69 || op == 0x6B) {
        ok = imul(t, in, last);
    } else if ((op >= 0xC0 && op <= 0xC1) || (op >= 0xD0 && op <= 0xD3)) {
        ok = shift(t, in, last);
    } else if (op == 0x86 || op == 0x87 || (op >= 0x91 && op <= 0x97)) {
        ok = xchg(t, in);
    } else if (op == 0xC9) {
        ok = leave(t, in);
    } else if (op == 0xFF && in->reg == 6) {
        ok = push_rm(t, in);
    } else if (op == 0x131) {
        ok = rdtsc(t);
    } else if (op == 0x1BA && in->reg >= 4) {
        ok = bt_imm(t, in, last);
    } else if (op == 0xF7 && (in->reg == 4 || in->reg == 6) && v == 4) {
        ok = mul_div32(t, in, last);
    } else if (op == 0xFF && (in->reg == 2 || in->reg == 4)) {
        if (!last || !jmp_call_indirect(t, in))
            goto undo;
        return 1;
    } else if (op == 0xFC || op == 0xFD) {
        if (op == 0xFC)
            emit_alu_imm_mem(e, 4, 4, H_RBX, CPU_OFF(eflags), ~(uint32_t)F_DF);
        else
            emit_alu_imm_mem(e, 4, 1, H_RBX, CPU_OFF(eflags), F_DF);
    } else if ((op == 0xFA || (op == 0xFB && !last)) && cpl0_or_real(t)) {
        cli_sti(t, op == 0xFB);
    } else if (op == 0x9C) {
        ok = pushf(t, in);
    } else if (op == 0x1B0 || op == 0x1B1 || op == 0x1C0 || op == 0x1C1) {
        ok = cmpxchg_xadd(t, in, last);
    } else if (op == 0x1C7 && in->reg == 1) {
        ok = cmpxchg8b(t, in, last);
    } else if ((op == 0x1A3 || op == 0x1AB || op == 0x1B3 || op == 0x1BB) && v == 4) {
        ok = bt_reg(t, in, last);
    } else if (op == 0x06 || op == 0x0E || op == 0x16 || op == 0x1E || op == 0x1A0 || op == 0x1A8) {
        ok = push_sreg(t, in);
    } else if (op == 0x8C && in->reg < S_NSEG) {
        ok = mov_from_sreg(t, in);
    } else if (op == 0x98 || op == 0x99) {
        sign_extend_ax(t, op == 0x99, v);
    } else if (op >= 0x1C8 && op <= 0x1CF && v == 4) {
        bswap(t, (int)(op & 7));
    } else if (op == 0x9E) {
        sahf(t);
    } else if ((op == 0x1BC || op == 0x1BD) && v == 4) {
        ok = bit_scan(t, in, last);
    } else if (op == 0x1A4 || op == 0x1A5 || op == 0x1AC || op == 0x1AD) {
        ok = double_shift(t, in, last);
    } else if (op >= 0x40 && op <= 0x4F) {
        inc_dec(t, (int)(op & 7), v, (op & 8) != 0, last);
    } else if ((op == 0xFE || op == 0xFF) && in->reg < 2) {
        if (in->mem)
            ok = alu_mem(t, in, 5, in->reg, size, 0);
        else
            inc_dec(t, in->rm, op == 0xFE ? 1 : v, in->reg, last);
    } else if (op >= 0x88 && op <= 0x8B) {
        int load = (op & 2) != 0;
        if (in->mem) {
            ok = mov_mem(t, in, load, in->reg, size);
        } else {
            int dst = load ? in->reg : in->rm, src = load ? in->rm : in->reg;
            store_greg(t, src_reg(t, src, size), dst, size);
        }
    } else if (op >= 0xA0 && op <= 0xA3) {
        ok = mov_mem(t, in, op < 0xA2, R_EAX, size);
    } else if (op >= 0xB0 && op <= 0xBF) {
        int sz = op < 0xB8 ? 1 : v;
        store_greg_imm(t, (int)(op & 7), sz, in->imm);
    } else if (op == 0xC6 || op == 0xC7) {
        if (in->mem)
            ok = alu_mem(t, in, 6, 0, size, in->imm);
        else
            store_greg_imm(t, in->rm, size, in->imm);
    } else if ((op >= 0x50 && op <= 0x5F) || op == 0x68 || op == 0x6A || op == 0xE8 || op == 0xC3 || op == 0xC2) {
        if (!stack_op(t, in, last))
            goto undo;
        return 1;
    } else if (op == 0x8D) {
        emit_ea(t, in);
        store_greg(t, H_RAX, in->reg, v);
    } else if (op == 0x1B6 || op == 0x1B7 || op == 0x1BE || op == 0x1BF) {
        ok = movx(t, in);
    } else if (op >= 0x140 && op <= 0x14F) {
        ok = in->mem ? cmov_mem(t, in) : setcc_cmov(t, in);
    } else if (op >= 0x190 && op <= 0x19F) {
        ok = setcc_cmov(t, in);
    } else if (op == 0x90) {
        /* NOP (XCHG eAX, eAX) */
    } else if (is_jcc(in) || op == 0xE9 || op == 0xEB) {
        if (!last)
            return 0;
        t->fused_cc = fused;
        return branch(t, in);
    } else {
        return 0;
    }
done:
    if (!ok) {
undo:
        e->p = before;
        t->cached = cached0;
        t->pkeep = pkeep0;
        t->pclear = pclear0;
        t->fs = fs0;
        t->fused_cc = fused;
        t->ncold = ncold0;
        t->nway2 = nway20;
        return 0;
    }
    /* Only the instruction right before a Jcc fuses with it (merge_flags set fused_cc); any other
     * instruction in between clears it. */
    if (e->p == before || !(op < 0x40 || (op >= 0x80 && op <= 0x85) || op == 0xA8 || op == 0xA9 ||
                            op == 0xF6 || op == 0xF7 || (op >= 0x40 && op <= 0x4F) || op == 0xFE || op == 0xFF))
        t->fused_cc = -1;
    t->pending++;
    return 1;
}

/* The slow paths: jit_helper_cold with the instruction, its EIP and the count of the inline
 * instructions before it (added around the call), then back to the hot path, or out of the block
 * (the helper fixed EIP and the counts). */
void tr_emit_cold(struct tctx *t)
{
    struct emit *e = &t->e;
    struct jit_cold *d = t->ncold ? jit_meta_alloc(t->j, sizeof(*d) * (size_t)t->ncold) : NULL;
    if (t->ncold && !d) {
        e->overflow = 1; /* out of room for records: flushed and translated again, as for code */
        return;
    }
    for (int k = 0; k < t->ncold; k++) {
        struct cold *cd = &t->cold[k];
        if (cd->rp_from) { /* the full probe of an access outside the kept page, kept in turn */
            tr_label(t, JL_REPROBE, cd->i, t->eips[cd->i], 1);
            if (!e->overflow)
                emit_patch_rel32(cd->rp_from, e->p);
            probe_tlb(t, cd, cd->rp_write, cd->rp_size, cd->rp_keep);
            emit_jmp32(e, cd->rp_back);
        }
        uint8_t *here = e->p;
        cd->entry = here;
        tr_label(t, JL_COLD, cd->i, t->eips[cd->i], 1);
        for (int q = 0; q < cd->nj; q++)
            if (!e->overflow)
                emit_patch_rel32(cd->j[q], here);
        d[k] = (struct jit_cold){ &t->b->insns[cd->i], t->eips[cd->i], cd->pending };
        carry_settle(e, cd->carry, H_RAX); /* the handler sees EFLAGS as they are */
        if (cd->pclear) {
            if (cd->fs.op)
                emit_fsrc(e, H_RAX, &cd->fs);
            emit_flags_merge(e, H_RAX, cd->pkeep, cd->pclear);
        }
        for (int r = 0; r < 8; r++) /* and the guest registers */
            if (cd->dirty & (1u << r))
                emit_op_mem(e, 4, 0x89, t->hmap[r], H_RBX, greg(r, 4));
        if (cd->rs_op == FS_ADD || cd->rs_op == FS_SUB) { /* the register before, for below */
            emit_op_mem(e, 4, 0x8B, H_RAX, H_RBX, greg(cd->rs_reg, 4));
            emit_op_mem(e, 4, 0x89, H_RAX, H_R12, JIT_OFF(fsrc[1]));
        }
        emit_mov_imm64(e, H_RDX, (uint64_t)(uintptr_t)&d[k]);
        emit_call32(e, t->j->cold_thunk);
        if (cd->branch) {
            tr_to_nochain(t, emit_jmp32(e, NULL)); /* the handler made the transfer: leave */
            continue;
        }
        emit_op_rr(e, 4, 0x85, H_RAX, H_RAX);
        tr_to_nochain(t, emit_jcc32(e, CC_NE, NULL));
        /* The handler may have replaced TLB entries: no page is kept (probe). */
        emit_mov_imm_mem(e, 8, H_R12, JIT_OFF(grp_page[0]), 0xFFFFFFFFu);
        emit_mov_imm_mem(e, 8, H_R12, JIT_OFF(grp_page[1]), 0xFFFFFFFFu);
        /* The handler ran the instruction on struct cpu: the host copies the hot path holds at
         * its resume point are loaded from there. */
        for (int r = 0; r < 8; r++)
            if (cd->cached & (1u << r))
                emit_op_mem(e, 4, 0x8B, t->hmap[r], H_RBX, greg(r, 4));
        /* Flags the hot path has pending at resume are in EFLAGS now: pending them again from
         * there changes nothing (the bits a merge clears but does not keep are 0 in both). */
        if (cd->rpend) {
            emit_op_mem(e, 4, 0x8B, H_RAX, H_RBX, CPU_OFF(eflags));
            emit_op_mem(e, 8, 0x89, H_RAX, H_R12, JIT_OFF(pflags));
        }
        /* Flags pending as operands at resume: the operands that give the handler's flags.
         * A = the result; for ADD, B = result - before, for SUB, B = before - result (so the
         * host redoes the very operation); a logic op needs only its result. */
        if (cd->rs_op) {
            emit_op_mem(e, 4, 0x8B, H_RAX, H_RBX, greg(cd->rs_reg, 4));
            emit_op_mem(e, 4, 0x89, H_RAX, H_R12, JIT_OFF(fsrc[0]));
            if (cd->rs_op == FS_ADD) {
                emit_op_mem(e, 4, 0x2B, H_RAX, H_R12, JIT_OFF(fsrc[1]));  /* sub eax, before */
                emit_op_mem(e, 4, 0x89, H_RAX, H_R12, JIT_OFF(fsrc[1]));
            } else if (cd->rs_op == FS_SUB) {
                emit_op_mem(e, 4, 0x8B, H_RCX, H_R12, JIT_OFF(fsrc[1]));
                emit_op_rr(e, 4, 0x29, H_RAX, H_RCX);                     /* sub ecx, eax */
                emit_op_mem(e, 4, 0x89, H_RCX, H_R12, JIT_OFF(fsrc[1]));
            }
        }
        if (cd->fused_cc >= 0) /* the Jcc after it tests DL: set it as the hot path does */
            emit_setcc(e, cond_eval(e, cd->fused_cc, H_RBX, CPU_OFF(eflags)), H_RDX);
        emit_jmp32(e, cd->resume);
    }
    /* The second TLB way, for each probe whose first way missed: EAX, ECX and EDX as the probe
     * left them (the address, the entry's offset, the page). */
    for (int k = 0; k < t->nway2; k++) {
        const struct way2 *w = &t->way2[k];
        tr_label(t, JL_WAY2, w->cd->i, t->eips[w->cd->i], 1);
        if (!e->overflow)
            emit_patch_rel32(w->from, e->p);
        int32_t tag = w->ent + (int32_t)(w->write ? offsetof(struct tlb_entry, write) : offsetof(struct tlb_entry, read));
        emit_op_sib(e, 4, 0x3B, H_RDX, H_RBX, H_RCX, 0, tag);
        emit_jcc32(e, CC_NE, w->cd->entry);
        probe_hit(e, w->ent, w->keep);
        emit_jmp32(e, w->back);
    }
}

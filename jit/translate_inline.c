/* Inline translation of the hottest simple instructions (issue 5, milestone 4): MOV and ALU
 * register/immediate forms, INC/DEC, TEST, LEA, Jcc/JMP rel, and MOV between a register and
 * memory through an inline TLB probe with an out-of-line slow path. Guest registers stay in
 * struct cpu (RBX-relative); arithmetic flags come from the host's own (PUSHF, merged into the
 * guest EFLAGS), and a Jcc right after the instruction that set its flags tests a SETcc byte.
 * Flags per Intel SDM Vol. 1 Appendix A; host encodings per Vol. 2. */
#include "translate.h"

#define MASK6 (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

/* Offset in struct cpu of guest register r of size bytes (AH-BH are byte 1 of EAX-EBX). */
static int32_t greg(int r, int size)
{
    if (size == 1 && r >= 4)
        return CPU_OFF(r[0]) + (r - 4) * 4 + 1;
    return CPU_OFF(r[0]) + r * 4;
}

/* ECX (zero-extended) = guest register. */
static void load_greg(struct emit *e, int hreg, int r, int size)
{
    if (size == 4)
        emit_op_mem(e, 4, 0x8B, hreg, H_RBX, greg(r, 4));
    else
        emit_op_mem(e, 4, size == 2 ? 0x0FB7 : 0x0FB6, hreg, H_RBX, greg(r, size));
}

static void store_greg(struct emit *e, int hreg, int r, int size)
{
    emit_op_mem(e, size, size == 1 ? 0x88 : 0x89, hreg, H_RBX, greg(r, size));
}

static int is_jcc(const struct insn *in)
{
    return (in->op >= 0x70 && in->op <= 0x7F) || (in->op >= 0x180 && in->op <= 0x18F);
}

/* The guest arithmetic flags the host just computed, into EFLAGS: bits in keep are taken from
 * the host, bits in clear (a superset) are cleared first. A following Jcc gets its condition in
 * DL before the merge clobbers the host flags. */
static void merge_flags(struct tctx *t, uint32_t keep, uint32_t clear, int last)
{
    struct emit *e = &t->e;
    t->fused_cc = -1;
    if (!last && is_jcc(&t->b->insns[t->i + 1])) {
        int cc = t->b->insns[t->i + 1].op & 0xF;
        /* After INC/DEC the host's CF is not the guest's: conditions on CF read EFLAGS. */
        int cf_cond = (cc >> 1) == 1 || (cc >> 1) == 3;
        if (!(cf_cond && !(keep & F_CF))) {
            t->fused_cc = cc;
            emit_setcc(e, cc, H_RDX);
        }
    }
    emit_byte(e, 0x9C); /* pushfq */
    emit_pop(e, H_RAX);
    emit_alu_imm_reg(e, 4, 4, H_RAX, keep);
    emit_alu_imm_mem(e, 4, 4, H_RBX, CPU_OFF(eflags), ~clear);
    emit_op_mem(e, 4, 0x09, H_RAX, H_RBX, CPU_OFF(eflags));
}

/* Register-only instructions the translator inlines without touching the flags or memory. */
static int flag_neutral(const struct insn *in)
{
    unsigned op = in->op;
    if (in->lock || in->rep)
        return 0;
    return (op >= 0x88 && op <= 0x8B && !in->mem) || (op >= 0xB0 && op <= 0xBF) ||
           ((op == 0xC6 || op == 0xC7) && !in->mem) || op == 0x8D || op == 0x90;
}

/* Register-only instructions the translator inlines that set all six arithmetic flags without
 * reading any: ADD OR AND SUB XOR CMP, TEST. */
static int writes_all_flags(const struct insn *in)
{
    unsigned op = in->op;
    if (in->lock || in->rep || in->mem)
        return 0;
    if (op < 0x40 && (op & 7) < 6)
        return ((op >> 3) & 7) != 2 && ((op >> 3) & 7) != 3;
    if (op >= 0x80 && op <= 0x83)
        return in->reg != 2 && in->reg != 3;
    return op == 0x84 || op == 0x85 || op == 0xA8 || op == 0xA9 || ((op == 0xF6 || op == 0xF7) && in->reg < 2);
}

/* The flags instruction t->i computes are dead: a later instruction of the block overwrites all
 * of them before anything can read them, exit or fault (only register-only inline code between). */
static int flags_dead(const struct tctx *t)
{
    for (int k = t->i + 1; k < t->b->ninsn; k++) {
        const struct insn *in = &t->b->insns[k];
        if (writes_all_flags(in))
            return 1;
        if (!flag_neutral(in))
            return 0;
    }
    return 0;
}

/* ALU op k (0 add, 1 or, 2 adc, 3 sbb, 4 and, 5 sub, 6 xor, 7 cmp) on guest register dst with
 * source ECX (src_imm < 0) or an immediate. */
static void alu(struct tctx *t, int k, int dst, int size, int use_imm, uint32_t imm, int last)
{
    struct emit *e = &t->e;
    if (k == 2 || k == 3) /* ADC/SBB: the guest CF into the host's (bt leaves it in CF) */
    {
        emit_op_mem(e, 4, 0x0FBA, 4, H_RBX, CPU_OFF(eflags));
        emit_byte(e, 0);
    }
    if (use_imm)
        emit_alu_imm_mem(e, size, k, H_RBX, greg(dst, size), imm);
    else
        emit_op_mem(e, size, (uint32_t)(k * 8 + (size == 1 ? 0 : 1)), H_RCX, H_RBX, greg(dst, size));
    /* AND/OR/XOR leave AF undefined on the host; a P6 clears it, as the interpreter does. */
    int logic = k == 1 || k == 4 || k == 6;
    if (!last && flags_dead(t)) {
        t->fused_cc = -1;
        return; /* materialized only when needed */
    }
    merge_flags(t, logic ? MASK6 & ~F_AF : MASK6, MASK6, last);
}

static void test_op(struct tctx *t, int dst, int size, int use_imm, uint32_t imm, int last)
{
    struct emit *e = &t->e;
    if (use_imm) {
        /* test [rbx+off], imm: F6/F7 /0 */
        emit_op_mem(e, size, size == 1 ? 0xF6 : 0xF7, 0, H_RBX, greg(dst, size));
        if (size == 1)
            emit_byte(e, (uint8_t)imm);
        else if (size == 2)
            emit_byte(e, (uint8_t)imm), emit_byte(e, (uint8_t)(imm >> 8));
        else
            emit_u32(e, imm);
    } else {
        emit_op_mem(e, size, size == 1 ? 0x84 : 0x85, H_RCX, H_RBX, greg(dst, size));
    }
    if (!last && flags_dead(t)) {
        t->fused_cc = -1;
        return;
    }
    merge_flags(t, MASK6 & ~F_AF, MASK6, last);
}

static void inc_dec(struct tctx *t, int dst, int size, int dec, int last)
{
    /* inc/dec [rbx+off]: FE/FF /0 or /1; CF is the guest's own */
    emit_op_mem(&t->e, size, size == 1 ? 0xFE : 0xFF, dec, H_RBX, greg(dst, size));
    merge_flags(t, MASK6 & ~F_CF, MASK6 & ~F_CF, last);
}

/* EAX = the effective-address offset of in (ea_offset in cpu/interp.h). */
static void emit_ea(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    emit_mov_imm32(e, H_RAX, in->disp);
    if (in->base != 0xFF)
        emit_op_mem(e, 4, 0x03, H_RAX, H_RBX, greg(in->base, 4));
    if (in->index != 0xFF) {
        load_greg(e, H_RCX, in->index, 4);
        if (in->scale)
            emit_shift_imm(e, 4, 4, H_RCX, in->scale);
        emit_op_rr(e, 4, 0x01, H_RCX, H_RAX);
    }
    if (!in->addr32)
        emit_op_rr(e, 4, 0x0FB7, H_RAX, H_RAX);
}

/* A guest Jcc condition from the EFLAGS in memory: returns the host condition on which it is
 * taken, after the flag-setting test emitted here. */
static int cond_from_eflags(struct tctx *t, int cc)
{
    struct emit *e = &t->e;
    static const uint32_t bit[6] = { F_OF, F_CF, F_ZF, F_CF | F_ZF, F_SF, F_PF };
    emit_op_mem(e, 4, 0x8B, H_RAX, H_RBX, CPU_OFF(eflags));
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
    if (in->op == 0xE9 || in->op == 0xEB) {
        tr_exit(t, target, counted, 1);
    } else {
        int cc = in->op & 0xF, hcc;
        if (t->fused_cc == cc) {
            emit_op_rr(&t->e, 1, 0x84, H_RDX, H_RDX); /* test dl, dl */
            hcc = CC_NE;
        } else {
            hcc = cond_from_eflags(t, cc);
        }
        uint8_t *taken = emit_jcc32(&t->e, hcc, NULL);
        tr_exit(t, next, counted, 1);
        if (!t->e.overflow)
            emit_patch_rel32(taken, t->e.p);
        tr_exit(t, target, counted, 1);
    }
    t->pending = 0;
    t->exited = 1;
    return 1;
}

/* Can an access through segment s be inlined: only an expand-up limit check (or none) needed. */
static int seg_ok(const struct tctx *t, int s)
{
    return (t->mode & (1u << (JM_SIMPLE_SHIFT + s))) && t->ncold < JIT_MAX_INSNS;
}

/* EAX holds an offset in segment s: the limit check (unless flat), the base, and the TLB probe
 * of an access of size bytes (write: the write tag, which also vouches for reads). On a hit
 * RDX + RAX is the host address; anything else (a miss, MMIO, a code page, a limit or page
 * fault) goes to the cold stub returned, which runs the whole instruction through its handler.
 * Nothing of the guest state may change before the probe. */
static struct cold *probe(struct tctx *t, int s, int write, int size)
{
    struct emit *e = &t->e;
    struct cold *cd = &t->cold[t->ncold++];
    cd->i = t->i;
    cd->pending = t->pending;
    cd->nj = 0;
    cd->resume = NULL;
    cd->branch = 0;
    if (!(t->mode & (1u << (JM_FLAT_SHIFT + s)))) {
        int32_t sr = CPU_OFF(seg[0]) + s * (int32_t)sizeof(struct segreg);
        emit_op_mem(e, 8, 0x8D, H_RCX, H_RAX, size - 1);                  /* lea rcx, [rax + size - 1] */
        emit_op_mem(e, 4, 0x8B, H_RDX, H_RBX, sr + (int32_t)offsetof(struct segreg, limit));
        emit_op_rr(e, 8, 0x39, H_RDX, H_RCX);                              /* cmp rcx, rdx */
        cd->j[cd->nj++] = emit_jcc32(e, CC_A, NULL);
        emit_op_mem(e, 4, 0x03, H_RAX, H_RBX, sr + (int32_t)offsetof(struct segreg, base));
    }
    /* The TLB entry of this privilege class for the page. */
    int32_t ent = CPU_OFF(tlb.e[0][0]) + ((t->mode >> JM_CPL_SHIFT & 3) == 3 ? (int32_t)(TLB_SIZE * sizeof(struct tlb_entry)) : 0);
    int32_t tag = ent + (write ? (int32_t)offsetof(struct tlb_entry, write) : (int32_t)offsetof(struct tlb_entry, read));
    emit_op_rr(e, 4, 0x89, H_RAX, H_RCX);
    emit_shift_imm(e, 4, 5, H_RCX, 12);
    emit_alu_imm_reg(e, 4, 4, H_RCX, TLB_SIZE - 1);
    emit_op_rr(e, 4, 0x69, H_RCX, H_RCX);                                  /* imul ecx, ecx, sizeof entry */
    emit_u32(e, (uint32_t)sizeof(struct tlb_entry));
    emit_op_mem(e, 4, 0x8D, H_RDX, H_RAX, size - 1);                       /* lea edx, [rax + size - 1] */
    emit_alu_imm_reg(e, 4, 4, H_RDX, TLB_PAGE_MASK);                        /* a page-crossing access misses */
    emit_op_sib(e, 4, 0x3B, H_RDX, H_RBX, H_RCX, 0, tag);
    cd->j[cd->nj++] = emit_jcc32(e, CC_NE, NULL);
    emit_op_sib(e, 8, 0x8B, H_RDX, H_RBX, H_RCX, 0, ent + (int32_t)offsetof(struct tlb_entry, addend));
    return cd;
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
    if (load) {
        load_host(e, size);
        store_greg(e, H_RCX, r, size);
    } else {
        load_greg(e, H_RCX, r, size);
        store_host(e, size);
    }
    cd->resume = e->p;
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
    emit_ea(t, in);
    int writes = (kind == 0 || kind == 2) ? k != 7 : (kind == 5 || kind == 6);
    struct cold *cd = probe(t, in->ea_seg, writes, size);
    int adc = (kind <= 2) && (k == 2 || k == 3);
    switch (kind) {
    case 0:
    case 1:
    case 2:
        if (kind == 0)
            load_greg(e, H_RCX, in->reg, size);
        else if (kind == 1)
            load_host(e, size);
        else
            emit_mov_imm32(e, H_RCX, imm);
        if (adc) {
            emit_op_mem(e, 4, 0x0FBA, 4, H_RBX, CPU_OFF(eflags));
            emit_byte(e, 0);
        }
        if (kind == 1)
            emit_op_mem(e, size, (uint32_t)(k * 8 + (size == 1 ? 0 : 1)), H_RCX, H_RBX, greg(in->reg, size));
        else
            emit_op_sib(e, size, (uint32_t)(k * 8 + (size == 1 ? 0 : 1)), H_RCX, H_RDX, H_RAX, 0, 0);
        break;
    case 3:
    case 4:
        if (kind == 3)
            load_greg(e, H_RCX, in->reg, size);
        else
            emit_mov_imm32(e, H_RCX, imm);
        emit_op_sib(e, size, size == 1 ? 0x84 : 0x85, H_RCX, H_RDX, H_RAX, 0, 0);
        break;
    case 5:
        emit_op_sib(e, size, size == 1 ? 0xFE : 0xFF, k, H_RDX, H_RAX, 0, 0);
        break;
    case 6:
        emit_mov_imm32(e, H_RCX, imm);
        store_host(e, size);
        break;
    }
    if (kind != 6) {
        int logic = kind == 3 || kind == 4 || (kind <= 2 && (k == 1 || k == 4 || k == 6));
        uint32_t keep = kind == 5 ? MASK6 & ~F_CF : logic ? MASK6 & ~F_AF : MASK6;
        /* No SETcc for a following Jcc: the cold path (the handler) would not set DL. */
        merge_flags(t, keep, kind == 5 ? MASK6 & ~F_CF : MASK6, 1);
    }
    cd->resume = e->p;
    t->fused_cc = -1;
    return 1;
}

/* The stack pointer offset for a push (delta < 0) or a pop into EAX; the new SP into R8D. */
static void stack_offset(struct tctx *t, int size, int push)
{
    struct emit *e = &t->e;
    int s32 = (t->mode & JM_STACK32) != 0;
    emit_op_mem(e, 4, s32 ? 0x8B : 0x0FB7, H_RAX, H_RBX, greg(R_ESP, 4));
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
    emit_op_mem(&t->e, s32 ? 4 : 2, 0x89, H_R8, H_RBX, greg(R_ESP, 4));
}

/* PUSH reg/imm, POP reg, CALL rel (a push, then a chainable exit), RET (a pop, then an exit to
 * the dispatcher with EIP from the stack). */
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
    stack_offset(t, v, push);
    struct cold *cd = probe(t, S_SS, push, v);
    if (push) {
        if (op >= 0x50 && op <= 0x57)
            load_greg(e, H_RCX, (int)(op & 7), v);
        else
            emit_mov_imm32(e, H_RCX, op == 0xE8 ? next : op == 0x6A ? sext(in->imm, 1) : in->imm);
        store_host(e, v);
        stack_commit(t);
    } else {
        load_host(e, v);
        if (op == 0xC3 || op == 0xC2) {
            /* jump_to: past the CS limit is #GP(0), which the handler raises on the cold path. */
            emit_alu_imm_reg(e, 4, 7, H_RCX, t->b->cs_limit);
            cd->j[cd->nj++] = emit_jcc32(e, CC_A, NULL);
            if (op == 0xC2)
                emit_alu_imm_reg(e, 4, 0, H_R8, in->imm & 0xFFFF);
            stack_commit(t);
            emit_op_mem(e, 4, 0x89, H_RCX, H_RBX, CPU_OFF(eip));
        } else {
            stack_commit(t);
            store_greg(e, H_RCX, (int)(op & 7), v);
        }
    }
    cd->resume = e->p;
    cd->branch = op == 0xE8 || op == 0xC3 || op == 0xC2;
    t->fused_cc = -1;
    if (op == 0xE8) {
        tr_exit(t, target, t->pending + 1, 1);
        t->pending = 0;
        t->exited = 1;
    } else if (op == 0xC3 || op == 0xC2) {
        tr_counts(t, t->pending + 1);
        t->pending = 0;
        tr_to_nochain(t, emit_jmp32(e, NULL));
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
        store_greg(e, H_RCX, in->reg, in->opsize);
        cd->resume = e->p;
    } else {
        emit_op_mem(e, 4, opc, H_RCX, H_RBX, greg(in->rm, src));
        store_greg(e, H_RCX, in->reg, in->opsize);
    }
    return 1;
}

/* SETcc r/m8 and CMOVcc r, r (register forms): the condition from EFLAGS in memory. */
static int setcc_cmov(struct tctx *t, const struct insn *in)
{
    struct emit *e = &t->e;
    if (in->mem)
        return 0; /* CMOV reads memory whatever the condition; SETcc m8 is rare */
    int hcc = cond_from_eflags(t, in->op & 0xF);
    if (in->op >= 0x190) {
        emit_setcc(e, hcc, H_RCX);
        store_greg(e, H_RCX, in->rm, 1);
    } else {
        uint8_t *skip = emit_jcc32(e, hcc ^ 1, NULL);
        load_greg(e, H_RDX, in->rm, in->opsize);
        store_greg(e, H_RDX, in->reg, in->opsize);
        if (!e->overflow)
            emit_patch_rel32(skip, e->p);
    }
    return 1;
}

int tr_inline(struct tctx *t, const struct insn *in, int last)
{
    struct emit *e = &t->e;
    int fused = t->fused_cc;
    t->exited = 0;
    if (in->lock || in->rep)
        return 0;
    unsigned op = in->op;
    int v = in->opsize;
    int size = (op & 1) ? v : 1;
    uint8_t *before = e->p;
    int ok = 1;

    if (op < 0x40 && (op & 7) < 6) {
        /* 00-3D: ALU in its six forms */
        int k = (int)(op >> 3), form = (int)(op & 7);
        if (form < 4 && in->mem) {
            ok = alu_mem(t, in, form < 2 ? 0 : 1, k, size, 0);
            goto done;
        }
        if (form == 4 || form == 5) {
            alu(t, k, R_EAX, form == 4 ? 1 : v, 1, in->imm, last);
        } else {
            int dst = form < 2 ? in->rm : in->reg, src = form < 2 ? in->reg : in->rm;
            load_greg(e, H_RCX, src, size);
            alu(t, k, dst, size, 0, 0, last);
        }
    } else if (op >= 0x80 && op <= 0x83) {
        uint32_t imm = op == 0x83 ? sext(in->imm, 1) : in->imm;
        if (in->mem)
            ok = alu_mem(t, in, 2, in->reg, size, imm);
        else
            alu(t, in->reg, in->rm, size, 1, imm, last);
    } else if (op == 0x84 || op == 0x85) {
        if (in->mem) {
            ok = alu_mem(t, in, 3, 0, size, 0);
        } else {
            load_greg(e, H_RCX, in->reg, size);
            test_op(t, in->rm, size, 0, 0, last);
        }
    } else if (op == 0xA8 || op == 0xA9) {
        test_op(t, R_EAX, size, 1, in->imm, last);
    } else if ((op == 0xF6 || op == 0xF7) && in->reg < 2) {
        if (in->mem)
            ok = alu_mem(t, in, 4, 0, size, in->imm);
        else
            test_op(t, in->rm, size, 1, in->imm, last);
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
            load_greg(e, H_RCX, src, size);
            store_greg(e, H_RCX, dst, size);
        }
    } else if (op >= 0xA0 && op <= 0xA3) {
        ok = mov_mem(t, in, op < 0xA2, R_EAX, size);
    } else if (op >= 0xB0 && op <= 0xBF) {
        int sz = op < 0xB8 ? 1 : v;
        emit_mov_imm_mem(e, sz, H_RBX, greg((int)(op & 7), sz), in->imm);
    } else if (op == 0xC6 || op == 0xC7) {
        if (in->mem)
            ok = alu_mem(t, in, 6, 0, size, in->imm);
        else
            emit_mov_imm_mem(e, size, H_RBX, greg(in->rm, size), in->imm);
    } else if ((op >= 0x50 && op <= 0x5F) || op == 0x68 || op == 0x6A || op == 0xE8 || op == 0xC3 || op == 0xC2) {
        int r = stack_op(t, in, last);
        if (!r) {
            e->p = before;
            return 0;
        }
        return 1;
    } else if (op == 0x8D) {
        emit_ea(t, in);
        store_greg(e, H_RAX, in->reg, v);
    } else if (op == 0x1B6 || op == 0x1B7 || op == 0x1BE || op == 0x1BF) {
        ok = movx(t, in);
    } else if (op >= 0x140 && op <= 0x14F) {
        ok = setcc_cmov(t, in);
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
        e->p = before;
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

/* The slow paths: counts of the instructions before the access added (a device or a fault
 * handler may read icount), jit_helper_mem, then back to the hot path with the counts taken
 * away again, or out of the block (it fixed EIP and the counts). */
void tr_emit_cold(struct tctx *t)
{
    struct emit *e = &t->e;
    for (int k = 0; k < t->ncold; k++) {
        struct cold *cd = &t->cold[k];
        uint8_t *here = e->p;
        for (int q = 0; q < cd->nj; q++)
            if (!e->overflow)
                emit_patch_rel32(cd->j[q], here);
        tr_counts(t, cd->pending);
        emit_op_rr(e, 8, 0x89, H_RBX, H_RDI);
        emit_op_rr(e, 8, 0x89, H_R12, H_RSI);
        emit_mov_imm64(e, H_RDX, (uint64_t)(uintptr_t)&t->b->insns[cd->i]);
        emit_mov_imm32(e, H_RCX, t->eips[cd->i]);
        emit_call_abs(e, (const void *)jit_helper_mem);
        if (cd->branch) {
            tr_to_nochain(t, emit_jmp32(e, NULL)); /* the handler made the transfer: leave */
            continue;
        }
        emit_op_rr(e, 4, 0x85, H_RAX, H_RAX);
        tr_to_nochain(t, emit_jcc32(e, CC_NE, NULL));
        tr_counts(t, -cd->pending);
        emit_jmp32(e, cd->resume);
    }
}

/* The translator's working state and the pieces translate.c (block structure, exits, handler
 * calls) and translate_inline.c (inline instructions, their out-of-line slow paths) share. */
#ifndef JITPC_JIT_TRANSLATE_H
#define JITPC_JIT_TRANSLATE_H

#include <stddef.h>

#include "jit_internal.h"

#define CPU_OFF(f) ((int32_t)offsetof(struct cpu, f))
#define JIT_OFF(f) ((int32_t)offsetof(struct jit, f))

/* Where flags carried in from the block before stand (struct tctx, carry). */
enum { CARRY_NONE, CARRY_LIVE, CARRY_STALE };

/* Pending flags kept as the operands that produce them (translate_inline.c, flags_by_operands):
 * j->fsrc[0] is operand A, j->fsrc[1] operand B unless B is the immediate. */
enum { FS_NONE, FS_ADD, FS_SUB, FS_CMP, FS_TEST, FS_RESULT, FS_INC, FS_DEC };
struct fsrc {
    uint8_t op;    /* FS_*: how A and B give the flags (FS_NONE: they are in j->pflags) */
    uint8_t size;  /* operand size in bytes */
    uint8_t b_imm; /* B is imm */
    uint32_t imm;
};

/* An out-of-line slow path of an inline memory access, emitted after the block's hot code. */
struct cold {
    uint8_t *j[4];        /* the hot path's branches to it (limit check, TLB compare, then per instruction) */
    int nj;
    uint8_t *resume;      /* where the hot path goes on */
    int i;                /* guest instruction index */
    int pending;          /* inline instructions before it not yet counted */
    int branch;           /* a CALL or RET: the handler transfers control, the block is left */
    uint8_t cached;       /* guest registers the hot path holds in host registers at resume */
    uint8_t dirty;        /* those newer than struct cpu when the slow path is entered */
    uint32_t pkeep, pclear; /* the flags pending when the slow path is entered */
    struct fsrc fs;         /* and where they are */
    uint8_t carry;          /* and the block's carried flags (CARRY_*) */
    int rpend;            /* flags are pending at resume */
    int fused_cc;         /* >= 0: the hot path set DL to this condition for the Jcc after */
    /* The hot path left its flags pending as operands (FS_ADD, FS_SUB or FS_RESULT of 32-bit
     * guest register rs_reg): the slow path stores the same operands, derived from the
     * register before and after the handler (a sum less its first addend is the second). */
    uint8_t rs_op, rs_reg;
    /* A probe that first compares with the kept page (translate_inline.c, probe): its branch
     * to the full probe, emitted out of line, and where that returns. */
    uint8_t *rp_from, *rp_back;
    int rp_write, rp_size;
    unsigned rp_keep;     /* what its full probe keeps (probe_tlb) */
    uint8_t *entry;       /* where its code starts, once emitted */
};

/* A TLB probe's check of the second way (mem/tlb.h), emitted out of line where the first way's
 * tag compare failed (translate_inline.c, probe_tlb): that branch, the probe's slow path, what
 * it compares and keeps, and where the hot path goes on. */
struct way2 {
    uint8_t *from, *back;
    struct cold *cd;
    int32_t ent;          /* offset in struct cpu of the class's second-way entries */
    int write;
    unsigned keep;
};

struct tctx {
    struct jit *j;
    struct cpu *c;
    struct jit_block *b;
    struct emit e;
    uint32_t mode;
    int i;                            /* index of the instruction being translated */
    int pending;                      /* inline instructions emitted since counts were last added */
    int exited;                       /* the instruction just translated emitted the block's exits */
    int fused_cc;                     /* >= 0: DL holds this guest condition, set by the previous insn */
    /* Guest register caching (translate_inline.c): hmap[r] is the host register that may hold
     * 32-bit guest register r in this block (or -1), cached the set that does at this point of
     * the code, dirty those of them newer than struct cpu, cond > 0 inside code only some paths
     * run (no register may start being cached, writes go through to struct cpu). */
    int8_t hmap[8];
    uint8_t cached, dirty;
    int cond;
    /* Pending flags: j->pflags holds flags not yet in EFLAGS; EFLAGS = (EFLAGS & ~pclear) |
     * (pflags & pkeep) makes them current. pclear 0: nothing pending. */
    uint32_t pkeep, pclear;
    struct fsrc fs; /* the pending flags are not in pflags yet but follow from saved operands */
    /* Flags carried in from the block before (j->pmask, translate_inline.c): CARRY_LIVE at
     * block entry, while j->pmask and j->pflags may describe flags still to be merged (the
     * block has none pending of its own then); CARRY_STALE once the block's own flags replaced
     * all of them in j->pflags without a merge, so that j->pmask must be zeroed before anything
     * outside the block reads it; CARRY_NONE when j->pmask is 0. */
    uint8_t carry;
    /* A kept page (translate_inline.c, probe): bit 0, j->grp_page[0] and grp_addend[0] hold a
     * page the TLB gave for reading, on every path to this point; bit 1, [1] for writing.
     * Cleared after any call into C. */
    uint8_t grp;
    int8_t grp_key[2]; /* the register (probe_key) whose accesses use them */
    uint32_t eips[JIT_MAX_INSNS + 1]; /* EIP of each instruction, and the one after the last */
    uint8_t *fix[3 * JIT_MAX_INSNS + 8]; /* rel32 fields to point at the "no chain" return */
    int nfix;
    struct cold cold[2 * JIT_MAX_INSNS]; /* PUSH m probes twice: its source and the stack */
    int ncold;
    struct way2 way2[4 * JIT_MAX_INSNS]; /* one per full probe: two an instruction, and reprobes */
    int nway2;
    struct jit_label labels[8 * JIT_MAX_INSNS + 16]; /* for --dump-jit, recorded only then */
    int nlabels;
};

/* translate.c */
void tr_counts(struct tctx *t, int n);      /* steps_left -= n (icount and tsc follow from it) */
void tr_flush_counts(struct tctx *t);       /* tr_counts(pending), pending = 0 */
void tr_to_nochain(struct tctx *t, uint8_t *field);
/* Notes for --dump-jit that the code emitted next is a place of kind (enum jit_label_kind). */
void tr_label(struct tctx *t, int kind, int insn, uint32_t eip, int eip_known);
/* A block exit to guest EIP eip, counting counted instructions first: chainable in the page,
 * else through the inline lookup. */
void tr_exit(struct tctx *t, uint32_t eip, int counted, int chainable);
/* An exit through the inline lookup (stubs.c) with ECX = the EIP, already stored in cpu.eip and
 * the counts added. */
void tr_lookup_exit(struct tctx *t);

/* translate_inline.c: emits instruction t->i inline and returns 1, or returns 0 (handler call). */
int tr_inline(struct tctx *t, const struct insn *in, int last);
void tr_map_registers(struct tctx *t);
/* Pending flags merged into EFLAGS in struct cpu (uses EAX): before anything reads EFLAGS there. */
void tr_flags_now(struct tctx *t);
/* Dirty host copies of guest registers written back to struct cpu. */
void tr_spill_all(struct tctx *t);
/* struct cpu made current (pending flags merged, dirty registers written back; uses EAX): before
 * a call into C or an exit. */
void tr_cpu_current(struct tctx *t);
/* The same before a block exit, but pending flags are left in j->pflags and described by
 * j->pmask (one store) for whatever runs next to merge where it reads them. */
void tr_cpu_exit(struct tctx *t);
/* A call into C (after tr_spill_all): the host copies of guest registers are gone (and the
 * guest's may have changed). */
static inline void tr_forget_registers(struct tctx *t)
{
    t->cached = t->dirty = 0;
    t->grp = 0; /* and C may have replaced TLB entries: the next access probes in full */
}
void tr_emit_cold(struct tctx *t);

#endif

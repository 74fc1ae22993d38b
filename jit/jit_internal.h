/* What the JIT's files share: the translation block, the per-page block lists, the code cache
 * and the struct jit that holds them all (no globals: one per CPU).
 * Layout after QEMU TCG's TranslationBlock and page descriptors (see ../shared/STYLE.md). */
#ifndef JITPC_JIT_JIT_INTERNAL_H
#define JITPC_JIT_JIT_INTERNAL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../cpu/decode.h"
#include "../cpu/interp.h"
#include "emit_x64.h"
#include "jit.h"

#define JIT_MAX_INSNS 64        /* size cap of a block, in guest instructions */
#define JIT_JC_BITS 16          /* jump cache: 65536 entries by virtual EIP */
#define JIT_HASH_BITS 16        /* block hash: 65536 chains by physical address */
#define JIT_PAGE_HASH_BITS 10   /* pages holding code */
#define JIT_GRANULE_BITS 6
#define JIT_WLOG 4096           /* stores one verified block may make */      /* 64-byte granules: 64 per 4 KiB page, one uint64_t of bits */

/* Mode bits of the block key: what changes how bytes decode or what checks an access needs. */
#define JM_CODE32 0x001u     /* CS.D */
#define JM_STACK32 0x002u    /* SS.B */
#define JM_CPL_SHIFT 2       /* 2 bits of CPL */
#define JM_PE 0x010u
#define JM_VM 0x020u
#define JM_PG 0x040u
#define JM_SIMPLE_SHIFT 8    /* per segment: reads and writes need only an expand-up limit check */
#define JM_FLAT_SHIFT 16     /* per segment: simple, base 0 and limit 4 GiB: no check, no base add */

/* The host register that holds j->steps_left while translated code runs: each block compares it
 * at entry and subtracts from it at exits and calls. In memory, that count was a load at every
 * entry and a read-modify-write at every exit, one chain through memory from block to block that
 * gzip's three-block inner loops waited on. The trampoline loads it; the way back to C
 * (exit_stub) and every call into C (the helper thunks, the inline lookup's TLB fill) store it
 * first and load it again after, as a helper may count steps too (stubs.c). */
#define H_BUDGET H_R9

struct jit_block;

/* An exit of a block to a known guest EIP that can be chained: its jmp rel32 first falls through
 * to "return to the dispatcher", and is patched to jump straight into the next block. An exit
 * to another guest page is guarded (translate.c, tr_exit): once chained, its jmp goes to a check
 * that the TLB still maps that page to the bytes the next block was translated from, whose own
 * jmp then goes to the block. */
struct jit_exit {
    struct jit_block *from;
    uint8_t *patch;           /* the rel32 field; NULL when this exit cannot be chained */
    uint8_t *guard_addend;    /* a guarded exit's imm64: the TLB addend its check expects */
    uint8_t *guard_jmp;       /* a guarded exit's rel32 from its check to the next block */
    uint32_t eip;             /* guest EIP the exit continues at */
    struct jit_block *to;     /* the block it is chained to, or NULL */
    struct jit_exit *next_in; /* the next exit chained into the same block */
};

struct jit_block {
    /* The key, first: blocks are allocated 64-byte aligned, so that jit_lookup's compares read
     * one cache line. */
    uint32_t phys;            /* the key: guest physical address of the first byte */
    uint32_t eip;             /* virtual EIP of the first instruction */
    uint32_t cs_base, cs_limit;
    uint32_t mode;            /* JM_* */
    uint32_t jc_salt;         /* jc_salt_of(mode): mixed into its jump-cache index (cache.c) */
    const uint8_t *host;      /* host address of the first byte (a remapped page no longer matches) */
    uint8_t *code;            /* the translation, in the code cache */
    uint32_t phys_end;        /* one past the last guest byte (same page as phys) */
    uint16_t ninsn;
    uint16_t nsteps;          /* ninsn, plus one for a tail step: the instructions a run of it takes */
    uint16_t ninline;         /* instructions translated inline (the rest call handlers) */
    uint8_t tail;             /* it ends with an instruction that crosses into the next page, which
                               * the interpreter runs (jit_helper_tail) */
    uint8_t valid;
    uint32_t code_len;
    struct insn *insns;       /* pre-decoded, for the handler calls */
    uint32_t *insn_off;       /* offset in code where each instruction's host code starts (--dump-jit) */
    struct jit_exit exits[2];
    int nexits;
    struct jit_exit *incoming; /* exits of other blocks chained into this one */
    struct jit_block *hash_next, *page_next;
    struct jit_tail *tailc;   /* the tail instruction as last decoded (dispatch.c), or NULL */
};

/* A block's page-crossing instruction, decoded from the bytes it had when last run: the tail step
 * uses the decode while the bytes are the same. */
struct jit_tail {
    uint8_t bytes[15], len;
    struct insn in;
};

/* A jump-cache entry: everything the inline lookup (stubs.c) and jit_lookup's hit check, and
 * what the dispatcher needs of the block, in one cache line, so that a hit reads nothing else
 * (a block's record is seldom in the host's cache, and reading it, and a header once kept
 * before each block's code, was most of a lookup's cost; the table itself, 4 MiB, already
 * misses the host's L2 often). code NULL: empty. */
struct jit_jc {
    uint32_t eip, mode;       /* the block's */
    uint32_t cs_base, cs_limit;
    uint32_t phys;            /* its first byte's physical address, checked after a TLB change */
    uint32_t nsteps;          /* its nsteps (0: a negative entry, which the interpreter runs) */
    uint64_t gen;             /* c->tlb.gen when its page's translation was last checked */
    const uint8_t *code;
    struct jit_block *block;
    uint32_t salt;            /* jit_jc_salt(mode) */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct jit_jc) == 64, "jump-cache entries are indexed by a shift");
#define JIT_JC_SHIFT 6


/* A guest physical page holding the start of translated code. */
struct jit_page {
    uint32_t page;            /* physical page number */
    uint64_t granules;        /* bit g: some valid block has bytes in granule g */
    struct jit_block *blocks;
    struct jit_page *next;    /* hash chain */
};

struct jit_stats {
    uint64_t blocks, insns, inline_insns, code_bytes;
    uint64_t translate_ns;
    uint64_t flushes, invalidations, chains;
    uint64_t entries;         /* blocks entered from the dispatcher */
    uint64_t interp_steps;    /* steps the dispatcher gave to cpu_step (no block, or events) */
    uint64_t tail_steps;      /* page-crossing instructions run by blocks' tail steps */
    uint64_t tail_decoded;    /* of them, run from their last decode (dispatch.c, tail_decoded) */
    uint64_t smc_exits;       /* blocks left early because a store invalidated code */
    uint64_t slow_mem;        /* inline memory accesses that took the out-of-line path */
    uint64_t ic_hits;         /* exits that found the next block by the inline lookup (stubs.c) */
    uint64_t ic_misses;       /* exits whose inline lookup sent them to the dispatcher */
    uint64_t ic_fills;        /* inline lookups that filled the TLB's fetch entry (stubs.c) */
    uint64_t guard_fails;     /* chained exits to another page whose page check failed (translate.c) */
    uint64_t quiet;           /* handler calls done by a quiet path, without a cpu_step */
    uint64_t fallback[512 * 8]; /* handler calls by opcode (0x000-0x1FF) * 8 + ModRM.reg of groups */
};

struct jit {
    struct cpu *c;
    int64_t steps_left;       /* steps of jit_run's budget not yet used: block prologues read it */
    int result;               /* an enum cpu_exit other than BUDGET that a handler call returned */
    uint8_t invalidated;      /* the write hook invalidated a block since the dispatcher entered one */
    uint8_t interp_next;      /* an inline access faulted: the interpreter runs that instruction again */
    uint64_t tlb_flushes;     /* c->tlb.flushes when the running block was entered */
    uint64_t pflags;          /* flags a block computed and has not yet merged into EFLAGS (translate_inline.c) */
    /* Flags a block left pending at its exit, for the next block (chained or found by the
     * inline lookup) or the dispatcher: EFLAGS = (EFLAGS & ~(pmask >> 16)) | (pflags & pmask &
     * 0xFFFF) makes them current; 0 when nothing is pending. Only translated code leaves it
     * nonzero, and jit_enter_block merges it before C sees the CPU. */
    uint32_t pmask;
    uint32_t fsrc[2];         /* or the operands that give them, when only a slow path may read them */
    /* The page a block's probe kept for reading ([0]) and for writing ([1]), and its addend:
     * the block's later accesses in that page skip the TLB (translate_inline.c, probe). A page
     * of ~0 matches nothing: slow paths, which may replace TLB entries, store it. */
    uint64_t grp_page[2], grp_addend[2];
    /* The mode of the blocks running (jit_run sets it on entry from the dispatcher; chaining
     * and the inline lookup keep to it, anything that changes it leaves through the dispatcher)
     * and its jump-cache salt: the inline lookup reads them here rather than from the exiting
     * block, whose record is seldom in the host's cache. */
    uint32_t cur_mode, cur_salt;
    /* Translated code counts instructions only in steps_left; icount and tsc are derived when
     * C code needs them: base + (base_steps - steps_left) (dispatch.c, jit_counts_sync). */
    uint64_t base_icount, base_tsc;
    int64_t base_steps;

    /* code cache: trampoline at the start, then blocks; flushed whole when full */
    uint8_t *code;
    size_t code_size, code_used, code_start;
    uint8_t *(*enter)(struct cpu *c, struct jit *j, const uint8_t *code); /* returns a jit_exit or NULL */
    const uint8_t *exit_stub;   /* blocks jump here to return to the dispatcher (RAX = result) */
    const uint8_t *nochain_stub; /* the same with RAX = 0: no exit to chain */
    const uint8_t *ic_stub;     /* the inline lookup: ECX = EIP, RSI = exiting block; RAX = where to go */
    const uint8_t *step_thunk;  /* jit_helper_step(c, j, RDX) */
    const uint8_t *cold_thunk;  /* jit_helper_cold(c, j, RDX) */
    const uint8_t *tail_thunk;  /* jit_helper_tail(c, j, b) */
    const uint8_t *quiet_thunk; /* jit_helper_quiet(c, j, RDX) */
    const uint8_t *rdtsc_thunk; /* jit_helper_rdtsc(c, j) */
    /* block records, decoded instructions and page records: a bump arena flushed with the code */
    uint8_t *meta;
    size_t meta_size, meta_used;

    struct jit_block *hash[1u << JIT_HASH_BITS];
    struct jit_jc jc[1u << JIT_JC_BITS];
    struct jit_page *pages[1u << JIT_PAGE_HASH_BITS];

    FILE *dump;
    FILE *perf_map;           /* --perf-map (dump.c) */
    int max_insns;            /* block size cap, 1..JIT_MAX_INSNS (jit_set_max_insns) */
    struct jit_stats stats;

    /* --verify (verify.c) */
    uint8_t verifying;        /* every RAM page stays PME_CODE, so every store passes the hook */
    uint8_t host_lahf;        /* the host has LAHF in 64-bit mode (CPUID 8000_0001h ECX bit 0) */
    uint8_t logging;          /* the hook records each store's old bytes in wlog */
    uint8_t wlog_full;
    uint32_t wlog_n;
    struct jit_wlog {
        uint32_t paddr;
        int size;
        uint32_t old;         /* bytes before the store */
    } wlog[JIT_WLOG];
    struct cpu *vstate;       /* two CPU copies: before the block, and after it under the JIT */
    /* Each byte either run stored to, with its value as the JIT left it (or, for bytes only the
     * interpreter stored to, as it was before the block). */
    struct byte_rec {
        uint32_t addr;
        uint8_t jit, ok;
    } *vbytes;
    uint64_t verified_blocks, verify_skipped;
};

/* An inline memory access's out-of-line path, as its cold code passes it to jit_helper_cold. */
struct jit_cold {
    const struct insn *in;
    uint32_t eip;             /* of the instruction */
    int32_t pending;          /* instructions before it in the block not yet counted */
};

/* stubs.c: the trampoline, the inline lookup and the helper thunks, at the start of the code
 * cache; 0, or -1 if they do not fit their room. */
int jit_build_stubs(struct jit *j);

/* cache.c */
void *jit_meta_alloc(struct jit *j, size_t n);
void *jit_meta_alloc_aligned(struct jit *j, size_t n, size_t align); /* align: a power of two */
uint32_t jit_mode_of(const struct cpu *c);
uint32_t jit_jc_salt(uint32_t mode);
/* The jump-cache set of linear address lin in a mode of that salt (the inline lookup, stubs.c,
 * computes the same): the index of its first entry (way 0); way 1 follows. Two ways: a Linux
 * kernel's hot code (megabytes of it) maps onto the table's 65,536 entries, and a block whose
 * entry another one took cost a trip through the dispatcher and a walk of a hash chain. The
 * most recently filled entry of a set is in way 0; the two never hold the same EIP. */
static inline unsigned jit_jc_index(uint32_t lin, uint32_t salt)
{
    return (lin ^ (lin >> JIT_JC_BITS) ^ salt) & ((1u << JIT_JC_BITS) - 2);
}
const struct jit_jc *jit_lookup(struct jit *j, struct cpu *c);
void jit_register_block(struct jit *j, struct jit_block *b);
void jit_invalidate_block(struct jit *j, struct jit_block *b);
void jit_chain(struct jit *j, struct jit_exit *x, struct jit_block *to);
void jit_code_write(void *opaque, uint32_t paddr, int size);
void jit_flush_all(struct jit *j);

/* Whether instruction in ends its block: a control transfer, an instruction that changes what
 * the block key or the inline code assumed (OPF_SYSTEM, and LES LDS LFS LGS, POP FS, POP GS,
 * which load segment caches without the table marking them so). CLI and STI do not: they change
 * only IF, which no block assumes (an STI's interrupt shadow is kept by a handler call for the
 * instruction after it, translate.c). */
static inline int jit_ends_block(const struct insn *in)
{
    switch (in->op) {
    case 0xC4: case 0xC5: case 0x1B4: case 0x1B5: case 0x1A1: case 0x1A9: return 1;
    case 0xFA: case 0xFB: return 0;
    }
    return (in->d->fl & (OPF_BRANCH | OPF_SYSTEM)) != 0;
}

/* translate.c: a block for the instruction at CS:EIP (lin, phys, host as the TLB gave them), or
 * NULL when it cannot start one there (the dispatcher lets the interpreter run it). */
struct jit_block *jit_translate(struct jit *j, struct cpu *c, uint32_t lin, uint32_t phys, const uint8_t *host,
                                uint32_t mode);

/* dispatch.c: entering translated code at block b, with icount and tsc brought up to date
 * when it returns; the helpers translated code calls. */
struct jit_exit *jit_enter_block(struct jit *j, struct cpu *c, const struct jit_block *b);
uint64_t jit_helper_step(struct cpu *c, struct jit *j, const struct insn *in);
uint64_t jit_helper_mem(struct cpu *c, struct jit *j, const struct insn *in, uint32_t eip);
uint64_t jit_helper_cold(struct cpu *c, struct jit *j, const struct jit_cold *d);
uint64_t jit_helper_quiet(struct cpu *c, struct jit *j, const struct insn *in); /* x87 and string handler calls */
uint64_t jit_helper_tail(struct cpu *c, struct jit *j, struct jit_block *b);
void jit_helper_rdtsc(struct cpu *c, struct jit *j);

/* verify.c */
void jit_verify_log(struct jit *j, uint32_t paddr, int size);
void jit_verify_mark_all(struct jit *j);

/* dump.c: --dump-jit. The translator records, while it emits a block, where in the host code
 * each guest instruction starts and where the special places are; the dump prints them. */
enum jit_label_kind {
    JL_PROLOGUE,  /* the block's entry check: budget for the whole block */
    JL_INSN,      /* guest instruction insn starts here */
    JL_HANDLER,   /* instruction insn calls the interpreter's handler */
    JL_CHAIN,     /* exit to eip: the patchable jmp chaining may point at the next block */
    JL_GUARD,     /* a chained exit to eip on another page: the check of its page (tr_exit) */
    JL_EXIT,      /* exit to eip (or, with eip_known 0, to EIP as the code left it): to the dispatcher */
    JL_LOOKUP,    /* exit through the inline lookup: the next block if the jump cache has it */
    JL_COLD,      /* the out-of-line slow path of instruction insn's inline memory access */
    JL_REPROBE,   /* the full TLB probe of insn's access, when it is not in the kept page */
    JL_WAY2,      /* the check of the TLB's second way for insn's access */
    JL_TAIL,      /* the instruction at eip crosses into the next page: cpu_step runs it */
};

struct jit_label {
    uint32_t off;             /* offset in the block's host code */
    uint8_t kind;             /* enum jit_label_kind */
    uint8_t eip_known;
    uint16_t insn;            /* guest instruction index */
    uint32_t eip;             /* guest EIP: of insn, or the exit's target */
};

/* --perf-map: block b's line. */
void jit_perf_map_block(struct jit *j, const struct jit_block *b);
/* labels NULL (a block dumped after the fact, by --verify): only the instruction starts. */
void jit_dump_block(struct jit *j, const struct jit_block *b, const uint8_t *guest, const struct jit_label *labels,
                    int nlabels);

#endif

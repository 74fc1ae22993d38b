/* The dispatcher: jit_run (cpu_run's contract), the helpers translated code calls, and the
 * JIT's creation (the host code all blocks share is in stubs.c). Events, faults and budget
 * follow cpu_step exactly: blocks run only when no event is pending, and every handler call goes
 * through cpu_step_decoded, so interrupts land at the interpreter's instruction boundaries. */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cpuid.h>
#include <sys/mman.h>

#include "jit_internal.h"

#define DEFAULT_CODE_CACHE (128u << 20) /* QEMU system mode allows up to 1 GiB; a boot plus the benchmark workloads translate 70-90 MiB */

struct jit *jit_create(struct cpu *c, size_t code_cache_bytes)
{
    if (!code_cache_bytes)
        code_cache_bytes = DEFAULT_CODE_CACHE;
    if (code_cache_bytes < 65536)
        code_cache_bytes = 65536;
    /* In 2 MiB pages where the host has them: the jump cache's 4 MiB are probed at random, which
     * in 4 KiB pages would cost a host TLB miss besides the cache miss. */
    size_t huge = (size_t)2 << 20, jit_bytes = (sizeof(struct jit) + huge - 1) & ~(huge - 1);
    struct jit *j = aligned_alloc(huge, jit_bytes);
    if (!j)
        return NULL;
    madvise(j, jit_bytes, MADV_HUGEPAGE);
    memset(j, 0, sizeof(*j));
    j->c = c;
    j->max_insns = JIT_MAX_INSNS;
    /* The first x86-64 processors lacked LAHF in 64-bit mode (Intel SDM Vol. 2A, LAHF). */
    unsigned a, b, cx, d;
    j->host_lahf = __get_cpuid(0x80000001u, &a, &b, &cx, &d) && (cx & 1);
    j->code_size = code_cache_bytes;
    /* Read, write and execute at once: patching chains in place is then a plain store (W^X is
     * not required here; see issue 5). */
    j->code = mmap(NULL, code_cache_bytes, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    /* Block records and decoded instructions: as much again, committed only where used. */
    j->meta_size = code_cache_bytes;
    j->meta = mmap(NULL, j->meta_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (j->code == MAP_FAILED || j->meta == MAP_FAILED) {
        if (j->code != MAP_FAILED)
            munmap(j->code, j->code_size);
        if (j->meta != MAP_FAILED)
            munmap(j->meta, j->meta_size);
        free(j);
        return NULL;
    }
    /* Hot blocks lie all over the cache: 2 MiB pages spare the host's instruction TLB. */
    madvise(j->code, j->code_size, MADV_HUGEPAGE);
    madvise(j->meta, j->meta_size, MADV_HUGEPAGE);
    if (jit_build_stubs(j) < 0) {
        munmap(j->code, j->code_size);
        munmap(j->meta, j->meta_size);
        free(j);
        return NULL;
    }
    j->result = CPU_EXIT_BUDGET;
    c->mem->code_write = jit_code_write;
    c->mem->code_write_opaque = j;
    return j;
}

void jit_destroy(struct jit *j)
{
    if (!j)
        return;
    if (j->verifying) {
        j->verifying = 0;
        for (uint32_t pn = 0; pn < PM_PAGES; pn++)
            physmem_set_code(j->c->mem, pn << PM_PAGE_BITS, 0);
    }
    jit_flush_all(j); /* clears the PME_CODE bits it set */
    if (j->c->mem->code_write_opaque == j) {
        j->c->mem->code_write = NULL;
        j->c->mem->code_write_opaque = NULL;
    }
    munmap(j->code, j->code_size);
    munmap(j->meta, j->meta_size);
    free(j->vstate);
    free(j->vbytes);
    free(j);
}

void jit_flush(struct jit *j)
{
    jit_flush_all(j);
}

void jit_set_max_insns(struct jit *j, int n)
{
    j->max_insns = n >= 1 && n <= JIT_MAX_INSNS ? n : JIT_MAX_INSNS;
    jit_flush_all(j);
}

void jit_set_dump(struct jit *j, FILE *out)
{
    j->dump = out;
}

/* Anything that makes the next step more than "run the instruction at CS:EIP": an event to
 * deliver, HLT, an interrupt shadow, single-step or debug registers. The interpreter takes
 * those steps; blocks run only between them. */
static int needs_interpreter(const struct cpu *c)
{
    return c->stop | c->halted | c->shadow | c->nmi | (c->intr && (c->eflags & F_IF)) |
           ((c->eflags & (F_TF | F_RF)) != 0) | c->dbg_exec | c->dbg_data | c->dbg_io;
}

static int events_pending(const struct cpu *c)
{
    return c->stop | c->nmi | (c->intr && (c->eflags & F_IF));
}

/* Blocks subtract the instructions they run from steps_left and leave icount and tsc alone (one
 * read-modify-write per exit instead of three): anything in C that may read or change them
 * first brings them up to date from the steps used since the anchor, and anchors again after. */
static void counts_sync(struct cpu *c, const struct jit *j)
{
    uint64_t used = (uint64_t)(j->base_steps - j->steps_left);
    c->icount = j->base_icount + used;
    c->tsc = j->base_tsc + used;
}

static void counts_anchor(const struct cpu *c, struct jit *j)
{
    j->base_icount = c->icount;
    j->base_tsc = c->tsc;
    j->base_steps = j->steps_left;
}

/* Runs host code from a block's entry: mode and salt are the block's, which are the CPU's (it was
 * looked up in them), for the inline lookup. */
static struct jit_exit *enter_code(struct jit *j, struct cpu *c, const uint8_t *code, uint32_t mode, uint32_t salt)
{
    j->cur_mode = mode;
    j->cur_salt = salt;
    counts_anchor(c, j);
    struct jit_exit *x = (struct jit_exit *)(void *)j->enter(c, j, code);
    counts_sync(c, j);
    if (j->pmask) { /* flags the last block left pending (translate_inline.c, tr_flags_out) */
        c->eflags = (c->eflags & ~(j->pmask >> 16)) | ((uint32_t)j->pflags & j->pmask & 0xFFFF);
        j->pmask = 0;
    }
    return x;
}

struct jit_exit *jit_enter_block(struct jit *j, struct cpu *c, const struct jit_block *b)
{
    return enter_code(j, c, b->code, b->mode, b->jc_salt);
}

/* After the instruction that ends a block (a handler call or a tail step): whether the block may
 * find the next one by the inline lookup (0) or must leave for the dispatcher (1), which
 * steps the interpreter when the next step is more than running an instruction
 * (needs_interpreter: an interrupt shadow after MOV SS, TF after POPF or IRET). A changed mode
 * (a segment load, a privilege change) is no reason to leave: the inline lookup then looks up
 * in the new one, which becomes the running mode, as the dispatcher would make it. Saves a
 * round trip through jit_run for each of the thousands of segment loads, IRETs, SYSENTERs and
 * POPFs of a Linux fork+exec. */
static uint64_t next_inline(struct cpu *c, struct jit *j)
{
    if (needs_interpreter(c))
        return 1;
    uint32_t mode = jit_mode_of(c);
    if (mode != j->cur_mode) {
        j->cur_mode = mode;
        j->cur_salt = jit_jc_salt(mode);
    }
    return 0;
}

/* Whether the block must leave after an instruction the interpreter ran for it (a handler call
 * or a tail step): a fault or interrupt was delivered (EIP is the handler's), a store went into
 * code (the block may be stale; counted), an event is pending, or the TLB was flushed (the
 * block's kept pages and page checks assumed the old one). */
static int leave_after_step(const struct cpu *c, struct jit *j)
{
    if (j->invalidated) {
        j->stats.smc_exits++;
        return 1;
    }
    return (c->last_fault >= 0) | (c->last_intr >= 0) | events_pending(c) | (c->tlb.flushes != j->tlb_flushes);
}

/* A handler call from translated code: one cpu_step with the instruction already decoded.
 * Returns 0 when the block may go on with the next instruction; for the instruction that ends
 * the block (jit_ends_block), 2 when the block may look up the next one inline (next_inline);
 * else 1 (left at a boundary). */
static uint64_t helper_step(struct cpu *c, struct jit *j, const struct insn *in)
{
    j->steps_left--;
    j->stats.fallback[((unsigned)in->op << 3) | ((opcode_table[in->op].fl & OPF_GROUP) ? in->reg : 0)]++;
    int r = cpu_step_decoded(c, in);
    if (r != CPU_EXIT_BUDGET) {
        j->result = r;
        return 1;
    }
    uint32_t next = c->insn_eip + in->len;
    if (!code32(c))
        next &= 0xFFFF;
    if (leave_after_step(c, j))
        return 1;
    if (jit_ends_block(in))
        return next_inline(c, j) ? 1 : 2;
    return c->eip != next;
}

uint64_t jit_helper_step(struct cpu *c, struct jit *j, const struct insn *in)
{
    counts_sync(c, j);
    uint64_t r = helper_step(c, j, in);
    counts_anchor(c, j);
    return r;
}

/* A handler call of an x87 or string instruction (translate.c, jit_quiet_op): when the step
 * would be just the instruction (needs_interpreter) and its quiet path (x87_step_quiet,
 * string_step_quiet) can run it (no fault or device possible), that is all that happens: no
 * cpu_step around it, and icount and tsc, which nothing it does reads, stay derived from
 * steps_left. Otherwise, and before any change, the full handler call. Nothing a quiet path does
 * can end the block early: no store into code (the TLB's write tag excludes those pages), no
 * event, no TLB flush, no branch. */
uint64_t jit_helper_quiet(struct cpu *c, struct jit *j, const struct insn *in)
{
    if (__builtin_expect(needs_interpreter(c), 0) ||
        !((in->op & 0x1F8) == 0xD8 ? x87_step_quiet(c, in) : string_step_quiet(c, in)))
        return jit_helper_step(c, j, in);
    j->steps_left--;
    j->stats.fallback[(unsigned)in->op << 3]++;
    j->stats.quiet++;
    return 0;
}

/* The slow path of an inline instruction with a memory access (translate_inline.c): the whole
 * instruction through its interpreter handler, with its start as the fault snapshot (nothing of
 * the guest state changed before the probe). On a fault the state is put back to the
 * instruction's start and the block left there (returns 1): the dispatcher's cpu_step runs the
 * instruction again and delivers the fault exactly as the interpreter does (its accesses had no
 * side effect before the fault but accessed/dirty bits, which the run sets again). After a
 * branch, a store into code, an event raised by MMIO or a TLB flush, the block is left after
 * the instruction, counted (returns 1 too). */
uint64_t jit_helper_mem(struct cpu *c, struct jit *j, const struct insn *in, uint32_t eip)
{
    j->stats.slow_mem++;
    uint32_t next = eip + in->len;
    if (!code32(c))
        next &= 0xFFFF;
    memcpy(c->snap_r, c->r, sizeof(c->r));
    c->snap_eip = eip;
    c->snap_eflags = c->eflags;
    c->snap_seg_valid = 0;
    c->insn_eip = eip;
    c->eip = next;
    jmp_buf jb;
    jmp_buf *volatile outer = c->fault_jb;
    volatile uint32_t cr2 = c->cr[2];
    c->fault_jb = &jb;
    if (setjmp(jb)) {
        c->fault_jb = outer;
        c->eip = eip;
        c->cr[2] = cr2; /* #PF set it: the interpreter's run of the instruction sets it again */
        j->interp_next = 1;
        return 1;
    }
    if (in->mem)
        c->ea = (in->d->fl & OPF_MOFFS) ? in->disp : ea_offset(c, in);
    in->d->exec(c, in);
    c->fault_jb = outer;
    if ((in->d->fl & OPF_BRANCH) | j->invalidated | events_pending(c) | (c->tlb.flushes != j->tlb_flushes)) {
        if (j->invalidated)
            j->stats.smc_exits++;
        c->icount++;
        c->tsc++;
        j->steps_left--;
        return 1;
    }
    return 0;
}

/* The tail instruction of block b at CS:EIP, decoded, when its bytes are where the TLB's fetch
 * entries say without a walk, within the CS limit, and the same as when b->tailc was decoded
 * (decoded again when they differ); else NULL, and cpu_step fetches it (and takes the fault, or
 * sees a store into either page, which nothing watches for these bytes). Without this, gzip's
 * inner loops spent a fetch and a decode on 300,000 page-crossing instructions a run. */
static const struct insn *tail_decoded(struct cpu *c, struct jit *j, struct jit_block *b)
{
    uint32_t lin = c->seg[S_CS].base + c->eip, lin2 = (lin | (PM_PAGE_SIZE - 1)) + 1;
    uint32_t first = lin2 - lin;
    const struct tlb_entry *e1 = &c->tlb.f[c->cpl == 3][tlb_index(lin)];
    const struct tlb_entry *e2 = &c->tlb.f[c->cpl == 3][tlb_index(lin2)];
    if (first >= 15 || e1->fetch != (lin & TLB_PAGE_MASK) || e2->fetch != lin2)
        return NULL;
    uint8_t buf[15];
    memcpy(buf, (const uint8_t *)(e1->addend + lin), first);
    memcpy(buf + first, (const uint8_t *)(e2->addend + lin2), 15 - first);
    struct jit_tail *tc = b->tailc;
    if (!tc || !tc->len || memcmp(buf, tc->bytes, tc->len) != 0) {
        if (!tc && !(tc = b->tailc = jit_meta_alloc(j, sizeof(*tc))))
            return NULL;
        int n = decode(buf, 15, code32(c), &tc->in);
        if (n <= (int)first) { /* #UD, too long: cpu_step raises it */
            tc->len = 0;
            return NULL;
        }
        memcpy(tc->bytes, buf, (size_t)n);
        tc->len = (uint8_t)n;
    }
    uint64_t end = (uint64_t)c->eip + tc->len - 1;
    if (end > c->seg[S_CS].limit || (!code32(c) && end > 0xFFFF))
        return NULL;
    return &tc->in;
}

/* A block's tail step (translate.c): the instruction that crosses into the next page, run by the
 * interpreter as the dispatcher would (its bytes in the next page are not watched for stores,
 * nor is that page's mapping part of the block's key, so the translation does not decode it),
 * from its last decode when tail_decoded allows. Returns 0 when the block may look up the next
 * one inline (next_inline), else 1. */
uint64_t jit_helper_tail(struct cpu *c, struct jit *j, struct jit_block *b)
{
    counts_sync(c, j);
    j->steps_left--;
    j->stats.tail_steps++;
    const struct insn *in = tail_decoded(c, j, b);
    j->stats.tail_decoded += in != NULL;
    int r = in ? cpu_step_decoded(c, in) : cpu_step(c);
    counts_anchor(c, j);
    if (r != CPU_EXIT_BUDGET) {
        j->result = r;
        return 1;
    }
    if (leave_after_step(c, j))
        return 1;
    return next_inline(c, j);
}

/* jit_helper_mem from a block's cold code (through cold_thunk): the counts of the instructions
 * before the access are added first (a device or a fault handler may read icount) and taken
 * back when the block goes on; when it is left, they stay. */
uint64_t jit_helper_cold(struct cpu *c, struct jit *j, const struct jit_cold *d)
{
    j->steps_left -= d->pending;
    counts_sync(c, j);
    uint64_t r = jit_helper_mem(c, j, d->in, d->eip);
    counts_anchor(c, j);
    if (!r)
        j->steps_left += d->pending; /* and so icount and tsc, derived, go back as well */
    return r;
}

/* RDTSC where it cannot fault (translate_inline.c checks the mode): op_rdtsc without the
 * check, and without a whole cpu_step around it. The block has subtracted its instructions so
 * far from steps_left, from which the TSC is brought up to date here. */
void jit_helper_rdtsc(struct cpu *c, struct jit *j)
{
    counts_sync(c, j);
    uint64_t t = cpu_tsc_read(c);
    c->r[R_EAX] = (uint32_t)t;
    c->r[R_EDX] = (uint32_t)(t >> 32);
}

int jit_run(struct jit *j, struct cpu *c, uint64_t budget)
{
    j->steps_left = budget > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)budget;
    j->result = CPU_EXIT_BUDGET;
    struct jit_exit *from = NULL;
    while (j->steps_left > 0) {
        uint64_t flushes = j->stats.flushes;
        /* The jump-cache entry has what a block entry needs: the block's record, seldom in the
         * host's cache, is read only to chain an exit to it. */
        const struct jit_jc *b = (needs_interpreter(c) | j->interp_next) ? NULL : jit_lookup(j, c);
        j->interp_next = 0;
        if (j->stats.flushes != flushes)
            from = NULL; /* the exit it names was in the cache just emptied */
        if (!b || b->nsteps == 0 || b->nsteps > j->steps_left) {
            j->steps_left--;
            j->stats.interp_steps++;
            int r = cpu_step(c);
            if (r != CPU_EXIT_BUDGET)
                return r;
            from = NULL;
            continue;
        }
        if (from)
            jit_chain(j, from, b->block);
        j->invalidated = 0;
        j->tlb_flushes = c->tlb.flushes;
        j->stats.entries++;
        from = enter_code(j, c, b->code, b->mode, b->salt);
        if (j->result != CPU_EXIT_BUDGET) {
            int r = j->result;
            j->result = CPU_EXIT_BUDGET;
            return r;
        }
    }
    return CPU_EXIT_BUDGET;
}

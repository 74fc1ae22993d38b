/* The block cache: key (physical address + virtual EIP + CS base/limit + mode bits), the hash and
 * the per-CPU jump cache, per-page block lists with 64-byte granule bitmaps for self-modifying
 * code, chaining and unchaining, and the whole-cache flush. After QEMU TCG (tb_lookup,
 * tb_invalidate_phys_range, tb_flush), with our own data structures. */
#include <string.h>

#include "jit_internal.h"

void *jit_meta_alloc_aligned(struct jit *j, size_t n, size_t align)
{
    size_t at = (j->meta_used + align - 1) & ~(align - 1);
    n = (n + 15) & ~(size_t)15;
    if (at + n > j->meta_size)
        return NULL;
    void *p = j->meta + at;
    j->meta_used = at + n;
    memset(p, 0, n);
    return p;
}

void *jit_meta_alloc(struct jit *j, size_t n)
{
    return jit_meta_alloc_aligned(j, n, 16);
}

/* A segment whose accesses need only the expand-up limit check: in protected mode a present,
 * writable data segment (so neither read nor write can fault on its type); in real and
 * virtual-8086 mode any segment that is not expand-down (seg_check in cpu/access.c). */
static int seg_simple(const struct cpu *c, int s)
{
    const struct segreg *sr = &c->seg[s];
    if ((sr->ar & (AR_S | 0xC)) == (AR_S | 0x4))
        return 0;
    if (cpu_pmode(c) && !cpu_v86(c))
        return (sr->ar & AR_P) && (sr->ar & AR_S) && !(sr->ar & 8) && (sr->ar & 2);
    return 1;
}

uint32_t jit_mode_of(const struct cpu *c)
{
    uint32_t m = (code32(c) ? JM_CODE32 : 0) | (stack32(c) ? JM_STACK32 : 0) | ((uint32_t)c->cpl << JM_CPL_SHIFT) |
                 (cpu_pmode(c) ? JM_PE : 0) | (cpu_v86(c) ? JM_VM : 0) | ((c->cr[0] & CR0_PG) ? JM_PG : 0);
    for (int s = 0; s < S_NSEG; s++) {
        if (!seg_simple(c, s))
            continue;
        m |= 1u << (JM_SIMPLE_SHIFT + s);
        if (c->seg[s].base == 0 && c->seg[s].limit == 0xFFFFFFFFu)
            m |= 1u << (JM_FLAT_SHIFT + s);
    }
    return m;
}

/* The block hash's chain of a block key: its physical address and its EIP. Not the physical
 * address alone: Linux maps its vDSO, through whose __kernel_vsyscall a 32-bit process makes
 * its system calls, at a random address in each process, and the blocks of that one page at
 * every address it ever had would share a chain, walked, a cache miss per record, by every
 * lookup that missed the jump cache (330 records a fork+exec). */
static unsigned hash_of(uint32_t phys, uint32_t eip)
{
    return ((phys ^ (eip * 0x85EBCA6Bu)) * 0x9E3779B1u) >> (32 - JIT_HASH_BITS);
}

/* Mixed into the jump-cache index: the same code entered in two modes gets two blocks (kernel
 * code entered from a process whose GS is unusable and from one whose GS holds its TLS), which
 * would otherwise evict each other from one slot on every switch between them. */
uint32_t jit_jc_salt(uint32_t mode)
{
    return (mode * 0x9E3779B1u) >> (32 - JIT_JC_BITS);
}

static struct jit_page *page_find(struct jit *j, uint32_t pn)
{
    for (struct jit_page *p = j->pages[pn & ((1u << JIT_PAGE_HASH_BITS) - 1)]; p; p = p->next)
        if (p->page == pn)
            return p;
    return NULL;
}

/* Bits of the granules [off, off + len) touches. */
static uint64_t granule_bits(uint32_t off, uint32_t len)
{
    uint32_t g0 = off >> JIT_GRANULE_BITS, g1 = (off + len - 1) >> JIT_GRANULE_BITS;
    uint64_t hi = g1 >= 63 ? ~0ull : (2ull << g1) - 1;
    return hi & ~((1ull << g0) - 1);
}

static int matches(const struct jit_block *b, const struct cpu *c, uint32_t phys, const uint8_t *host, uint32_t mode)
{
    return b->phys == phys && b->host == host && b->eip == c->eip && b->mode == mode &&
           b->cs_base == c->seg[S_CS].base && b->cs_limit == c->seg[S_CS].limit;
}

/* The page of a block lost its PME_CODE bit behind our back (physmem_map_ram over it): its
 * stores were not watched, so none of its blocks can be trusted. */
static void drop_page(struct jit *j, struct jit_page *p)
{
    while (p->blocks)
        jit_invalidate_block(j, p->blocks);
}

const struct jit_jc *jit_lookup(struct jit *j, struct cpu *c)
{
    uint32_t lin = c->seg[S_CS].base + c->eip;
    uint32_t mode = jit_mode_of(c);
    struct jit_jc *set = &j->jc[jit_jc_index(lin, jit_jc_salt(mode))];
    __builtin_prefetch(set, 1); /* seldom in the host's cache: fetched while the TLB is read */
    const struct tlb_entry *e = &c->tlb.f[c->cpl == 3][tlb_index(lin)];
    /* Only a TLB hit on a RAM or ROM page. A miss is filled here when the walk allows it, as the
     * interpreter's fetch of this instruction would (no event is pending: the dispatcher asked);
     * MMIO and a fetch that faults are the interpreter's to take. */
    if (e->fetch != (lin & TLB_PAGE_MASK) && !mmu_fill_fetch(c, lin))
        return NULL;
    const uint8_t *host = (const uint8_t *)(e->addend + lin);
    uint32_t phys = e->paddr | (lin & ~TLB_PAGE_MASK);
    uintptr_t pme = c->mem->map[phys >> PM_PAGE_BITS];
    /* The inline lookup's checks (stubs.c), on the entry alone: an invalidated block is off the
     * jump cache, and the same physical address holds the same bytes (the page map changes only
     * with a flush of the whole cache). A negative entry (a block with no instructions: the
     * interpreter runs what starts there) also holds where the page is not code. */
    for (int w = 0; w < 2; w++) {
        struct jit_jc *ent = &set[w];
        if (ent->code && ent->eip == c->eip && ent->mode == mode && ent->cs_base == c->seg[S_CS].base &&
            ent->cs_limit == c->seg[S_CS].limit && ent->phys == phys &&
            ((pme & (PME_CODE | PME_ROM)) || ent->nsteps == 0)) {
            ent->gen = c->tlb.gen;
            return ent;
        }
    }
    struct jit_block *b;
    if (!(pme & (PME_CODE | PME_ROM | PME_MMIO))) {
        struct jit_page *p = page_find(j, phys >> PM_PAGE_BITS);
        if (p && p->blocks)
            drop_page(j, p);
    }
    /* The chain is walked only when the jump cache missed; the block found moves to its head,
     * so that a block looked up again soon (jump-cache conflicts between processes running the
     * same code) is found by its first compare, not after a cache miss per record. */
    struct jit_block **head = &j->hash[hash_of(phys, c->eip)], **pp = head;
    for (; (b = *pp) != NULL; pp = &b->hash_next)
        if (matches(b, c, phys, host, mode))
            break;
    if (b && pp != head) {
        *pp = b->hash_next;
        b->hash_next = *head;
        *head = b;
    }
    if (!b) {
        b = jit_translate(j, c, lin, phys, host, mode);
        if (!b) {
            /* Out of room: start over with an empty cache (issue 5: flushed whole when full). */
            jit_flush_all(j);
            b = jit_translate(j, c, lin, phys, host, mode);
            if (!b)
                return NULL;
        }
    }
    /* Into way 0, the entry there moving to way 1 unless it has this EIP (the inline lookup
     * looks in way 1 only when way 0's EIP differs). */
    if (set[0].eip != b->eip)
        set[1] = set[0];
    struct jit_jc *ent = &set[0];
    *ent = (struct jit_jc){ .eip = b->eip, .mode = b->mode, .cs_base = b->cs_base, .cs_limit = b->cs_limit,
                            .phys = b->phys, .nsteps = b->nsteps, .gen = c->tlb.gen, .code = b->code,
                            .block = b, .salt = b->jc_salt };
    return ent;
}

/* Marks a page as holding code: RAM pages get PME_CODE, and the TLB's write entries for it are
 * sent to the slow path (entries filled later get no writable host pointer from physmem). */
static struct jit_page *page_get(struct jit *j, uint32_t phys)
{
    uint32_t pn = phys >> PM_PAGE_BITS;
    struct jit_page *p = page_find(j, pn);
    if (!p) {
        p = jit_meta_alloc(j, sizeof(*p));
        if (!p)
            return NULL;
        p->page = pn;
        p->next = j->pages[pn & ((1u << JIT_PAGE_HASH_BITS) - 1)];
        j->pages[pn & ((1u << JIT_PAGE_HASH_BITS) - 1)] = p;
    }
    if (!p->blocks && physmem_set_code(j->c->mem, phys, 1))
        tlb_slow_writes(&j->c->tlb, pn << PM_PAGE_BITS, 0);
    return p;
}

void jit_register_block(struct jit *j, struct jit_block *b)
{
    struct jit_page *p = page_get(j, b->phys);
    unsigned h = hash_of(b->phys, b->eip);
    b->hash_next = j->hash[h];
    j->hash[h] = b;
    b->valid = 1;
    if (p && b->phys_end > b->phys) {
        b->page_next = p->blocks;
        p->blocks = b;
        p->granules |= granule_bits(b->phys & (PM_PAGE_SIZE - 1), b->phys_end - b->phys);
    }
}

/* Points an exit's jmp back at its own "return to the dispatcher" tail (a guarded exit's is
 * after its page check, which the jmp then skips). */
static void unchain(struct jit_exit *x)
{
    emit_patch_rel32(x->patch, x->guard_jmp ? x->guard_jmp + 4 : x->patch + 4);
    x->to = NULL;
}

void jit_chain(struct jit *j, struct jit_exit *x, struct jit_block *to)
{
    /* Same mode and the EIP the exit named: a chained jump skips the lookup that checks them. */
    if (!x->patch || x->to || !to->valid || !x->from->valid || to->nsteps == 0 || x->eip != to->eip ||
        x->from->mode != to->mode || x->from->cs_base != to->cs_base)
        return;
    if (x->guard_jmp) {
        /* The page check's expected addend: the one that maps to's first byte to to->host. */
        uint64_t addend = (uint64_t)(uintptr_t)to->host - (uint32_t)(to->cs_base + to->eip);
        memcpy(x->guard_addend, &addend, sizeof(addend));
        emit_patch_rel32(x->guard_jmp, to->code);
        emit_patch_rel32(x->patch, x->patch + 4); /* into the check */
    } else {
        emit_patch_rel32(x->patch, to->code);
    }
    x->to = to;
    x->next_in = to->incoming;
    to->incoming = x;
    j->stats.chains++;
}

void jit_invalidate_block(struct jit *j, struct jit_block *b)
{
    if (!b->valid)
        return;
    b->valid = 0;
    j->invalidated = 1;
    j->stats.invalidations++;
    for (struct jit_block **pp = &j->hash[hash_of(b->phys, b->eip)]; *pp; pp = &(*pp)->hash_next)
        if (*pp == b) {
            *pp = b->hash_next;
            break;
        }
    struct jit_jc *set = &j->jc[jit_jc_index(b->cs_base + b->eip, b->jc_salt)];
    for (int w = 0; w < 2; w++)
        if (set[w].code == b->code)
            set[w] = (struct jit_jc){ 0 };
    for (struct jit_exit *x = b->incoming; x; x = x->next_in)
        if (x->to == b)
            unchain(x);
    b->incoming = NULL;
    /* Its own chained exits stay: the code is not freed before a flush, and a block that jumps
     * into an invalid one can no longer be entered, except by the instance now running. */
    struct jit_page *p = page_find(j, b->phys >> PM_PAGE_BITS);
    if (!p)
        return;
    uint64_t g = 0;
    for (struct jit_block **pp = &p->blocks; *pp;) {
        if (*pp == b) {
            *pp = b->page_next;
            continue;
        }
        g |= granule_bits((*pp)->phys & (PM_PAGE_SIZE - 1), (*pp)->phys_end - (*pp)->phys);
        pp = &(*pp)->page_next;
    }
    p->granules = g;
    if (!p->blocks && !j->verifying)
        physmem_set_code(j->c->mem, p->page << PM_PAGE_BITS, 0);
}

/* physmem's code_write hook: a store of size bytes at paddr hit a page marked PME_CODE. Blocks
 * holding any of those bytes are invalidated; a granule with no code costs a bit test. A store
 * into the running block takes effect from the next instruction: the handler call (or slow path)
 * that made it sees j->invalidated and leaves the block. */
void jit_code_write(void *opaque, uint32_t paddr, int size)
{
    struct jit *j = opaque;
    if (j->logging)
        jit_verify_log(j, paddr, size);
    struct jit_page *p = page_find(j, paddr >> PM_PAGE_BITS);
    if (!p)
        return;
    uint32_t off = paddr & (PM_PAGE_SIZE - 1);
    if (!(p->granules & granule_bits(off, (uint32_t)size)))
        return;
    for (struct jit_block *b = p->blocks, *next; b; b = next) {
        next = b->page_next;
        if (paddr < b->phys_end && paddr + (uint32_t)size > b->phys)
            jit_invalidate_block(j, b);
    }
}

void jit_flush_all(struct jit *j)
{
    for (unsigned i = 0; i < (1u << JIT_PAGE_HASH_BITS); i++)
        for (struct jit_page *p = j->pages[i]; p; p = p->next)
            if (p->blocks)
                physmem_set_code(j->c->mem, p->page << PM_PAGE_BITS, 0);
    memset(j->hash, 0, sizeof(j->hash));
    memset(j->jc, 0, sizeof(j->jc));
    memset(j->pages, 0, sizeof(j->pages));
    j->code_used = j->code_start;
    j->meta_used = 0;
    j->invalidated = 1;
    j->stats.flushes++;
    if (j->verifying)
        jit_verify_mark_all(j);
}

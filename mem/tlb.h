/* The TLB: linear page -> host address, per privilege class, shaped for an inline probe by
 * translated code: index by the page number, compare one tag, add one addend. Anything that must
 * not take the fast path (MMIO, a page not yet dirty, a page holding translated code, a miss) is
 * a tag mismatch. It knows pages and host pointers, not x86 paging: cpu/paging.c fills it. */
#ifndef JITPC_MEM_TLB_H
#define JITPC_MEM_TLB_H

#include <stdint.h>

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_PAGE_MASK 0xFFFFF000u

/* Low bits of a tag. A valid tag is the page's linear address; any of these bits set makes the
 * inline compare fail, sending the access to the slow path. */
#define TLB_INVALID 0x001u /* empty entry (also: this access type is not permitted) */
#define TLB_SLOW 0x002u    /* permitted, but through the slow path (MMIO, code page, A20 alias) */

/* The two privilege classes: supervisor (CPL 0-2, and implicit system accesses) and user. */
enum { TLB_SUPER = 0, TLB_USER = 1 };

struct tlb_entry {
    uint32_t read;     /* tag for loads */
    uint32_t write;    /* tag for stores: TLB_INVALID until the page is known writable and dirty */
    uint32_t fetch;    /* tag for instruction fetch */
    uint32_t vpage;    /* linear page address this entry maps (valid when any tag is) */
    uintptr_t addend;  /* host address = linear address + addend (for RAM/ROM pages) */
    uint32_t paddr;    /* physical page address (after addend: the entry fits in 32 bytes) */
    uint8_t global;    /* from a global page: survives CR3 writes while CR4.PGE is set */
    uint8_t large;     /* from a 4 MiB page (INVLPG must flush every piece of it) */
};
/* A power of two, so that the JIT's inline probe finds an entry with a shift and a mask. */
_Static_assert(sizeof(struct tlb_entry) == 32, "struct tlb_entry is 32 bytes");

struct tlb {
    struct tlb_entry e[2][TLB_SIZE]; /* loads and stores (their fetch tags stay invalid) */
    /* A second way for loads and stores: the entry e[][i] last held, moved here when another
     * page took its place, and swapped back on its next miss (cpu/paging.c, fill; the JIT's
     * inline probe checks it out of line). Two hot pages whose numbers agree in the index bits
     * (a stack and an array 1 MiB apart, gzip's) would otherwise evict each other on every
     * access. */
    struct tlb_entry v[2][TLB_SIZE];
    /* Instruction fetch, apart as in the hardware's split TLBs: a hot code page and a hot data
     * page whose numbers agree in the index bits would otherwise evict each other on every
     * access, and each eviction of the code page sends the JIT back through its lookup. */
    struct tlb_entry f[2][TLB_SIZE];
    uint8_t has_large;   /* some entry came from a 4 MiB page */
    uint64_t hits;       /* counted by the slow-path-capable accessors, for the hit rate */
    uint64_t misses;
    uint64_t flushes;
    /* Bumped by every flush and by every fetch fill that replaces an entry in use: while it stays
     * the same, every fetch translation the TLB held still holds (the JIT's inline lookup relies
     * on it). */
    uint64_t gen;
};

static inline unsigned tlb_index(uint32_t lin) { return (lin >> 12) & (TLB_SIZE - 1); }

void tlb_flush_all(struct tlb *t);
/* A CR3 write: everything except global entries (when keep_global). */
void tlb_flush_nonglobal(struct tlb *t, int keep_global);
/* INVLPG: the page holding lin, in both privilege classes (and every 4 MiB piece, if any). */
void tlb_flush_page(struct tlb *t, uint32_t lin);
/* Sends the stores that entries give a host pointer for to the slow path: those to physical
 * page paddr (page-aligned), or all of them when all (the JIT, when a page gets code). */
void tlb_slow_writes(struct tlb *t, uint32_t paddr, int all);

#endif

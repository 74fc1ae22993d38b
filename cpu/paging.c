/* The MMU: linear to physical translation through 32-bit paging (4 KiB and 4 MiB pages), the
 * permission checks, accessed/dirty updates and #PF, and the linear-memory accessors that go
 * through the TLB (mem/tlb.h). Intel SDM Vol. 3A §4.3 (32-bit paging), §4.6 (access rights),
 * §4.7 (page-fault error code), §4.8 (accessed and dirty flags), §4.10 (TLBs). */
#include <string.h>

#include "interp.h"

#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_US 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PDE_PS 0x080u
#define PTE_G 0x100u

#define PFEC_P 0x1u
#define PFEC_W 0x2u
#define PFEC_U 0x4u
#define PFEC_RSVD 0x8u

/* Bits 21:12 of a PDE that maps a 4 MiB page: reserved on a Pentium II, which has neither PSE-36
 * nor the PAT (SDM Vol. 3A §3.7.6 of the P6-era manual, "For Pentium II and earlier processors";
 * today's §4.3 Table 4-4 with M = 32 and no PAT). With CR4.PSE set, a 1 in any of them is a #PF
 * with RSVD and P set (§4.7). */
#define PDE4M_RSVD 0x003FF000u

static _Noreturn void page_fault(struct cpu *c, uint32_t lin, uint32_t err)
{
    c->cr[2] = lin;
    cpu_fault(c, EXC_PF, err);
}

/* Sets flag bits in a paging-structure entry in memory, as the processor's locked update does. */
static void set_bits(struct cpu *c, uint32_t addr, uint32_t *entry, uint32_t bits)
{
    if ((*entry & bits) != bits) {
        *entry |= bits;
        phys_write(c->mem, addr, 4, *entry);
    }
}

/* The TLB entry an access of kind acc to lin uses: the fetch TLB for instruction fetch. */
static inline struct tlb_entry *tlb_entry_of(struct cpu *c, uint32_t lin, int acc)
{
    int user = (acc & ACC_USER) != 0;
    return (acc & ACC_FETCH) ? &c->tlb.f[user][tlb_index(lin)] : &c->tlb.e[user][tlb_index(lin)];
}

/* Walks the page tables for lin with access kind acc, faults if it is not allowed, updates A/D,
 * and fills the TLB entry for lin's page in acc's privilege class. probe: where it would fault,
 * returns NULL instead (the accessed bits set on the way are those the faulting walk sets). */
#define WALK_FAULT(err)                  \
    do {                                 \
        if (probe)                       \
            return NULL;                 \
        page_fault(c, lin, (err));       \
    } while (0)

static struct tlb_entry *walk(struct cpu *c, uint32_t lin, int acc, int probe)
{
    int user = (acc & ACC_USER) != 0;
    int write = (acc & ACC_WRITE) != 0;
    int fetch = (acc & ACC_FETCH) != 0;
    struct tlb_entry *e = tlb_entry_of(c, lin, acc);
    uint32_t page = lin & TLB_PAGE_MASK;
    uint32_t paddr, perm = PTE_RW | PTE_US, dirty = 1;
    int global = 0, large = 0;

    c->tlb.misses++;
    if (fetch && !(e->fetch & TLB_INVALID))
        c->tlb.gen++; /* a fetch translation in use is replaced */
    /* A load or store entry of another page goes to the second way (a probe is fetch only). */
    struct tlb_entry *v = &c->tlb.v[user][tlb_index(lin)];
    if (!fetch && !(e->read & e->write & TLB_INVALID) && e->vpage != page)
        *v = *e;
    if (!(c->cr[0] & CR0_PG)) {
        paddr = page;
    } else {
        uint32_t err = (write ? PFEC_W : 0) | (user ? PFEC_U : 0);
        uint32_t pde_addr = (c->cr[3] & TLB_PAGE_MASK) | ((lin >> 20) & 0xFFC);
        uint32_t pde = phys_read(c->mem, pde_addr, 4);
        if (!(pde & PTE_P))
            WALK_FAULT(err);
        if ((pde & PDE_PS) && (c->cr[4] & CR4_PSE)) {
            if (pde & PDE4M_RSVD)
                WALK_FAULT(err | PFEC_P | PFEC_RSVD);
            perm = pde;
            if ((user && !(perm & PTE_US)) || (write && !(perm & PTE_RW) && (user || (c->cr[0] & CR0_WP))))
                WALK_FAULT(err | PFEC_P);
            set_bits(c, pde_addr, &pde, write ? PTE_A | PTE_D : PTE_A);
            paddr = (pde & 0xFFC00000u) | (lin & 0x003FF000u);
            dirty = (pde & PTE_D) != 0;
            global = (pde & PTE_G) != 0;
            large = 1;
        } else {
            /* The walk has used this PDE once it reads the PTE, so the PDE's accessed bit is set
             * now, even if the PTE then faults (not present, or the combined rights refuse the
             * access); the PTE's A and D are set only for an access that is allowed. SDM Vol. 3A
             * §4.8 (A is set in every entry used for a translation); MindShare, "The Unabridged
             * Pentium 4", ch. 12 "Page Faults" describes the same for a fault at the PTE. */
            set_bits(c, pde_addr, &pde, PTE_A);
            uint32_t pte_addr = (pde & TLB_PAGE_MASK) | ((lin >> 10) & 0xFFC);
            uint32_t pte = phys_read(c->mem, pte_addr, 4);
            if (!(pte & PTE_P))
                WALK_FAULT(err);
            perm = pde & pte;
            if ((user && !(perm & PTE_US)) || (write && !(perm & PTE_RW) && (user || (c->cr[0] & CR0_WP))))
                WALK_FAULT(err | PFEC_P);
            set_bits(c, pte_addr, &pte, write ? PTE_A | PTE_D : PTE_A);
            paddr = pte & TLB_PAGE_MASK;
            dirty = (pte & PTE_D) != 0;
            global = (pte & PTE_G) != 0;
        }
    }

    /* Reads are allowed in both classes once the walk passed for this class; writes only when
     * the page is writable for it and already dirty, so the first write takes the walk above. */
    int writable = (perm & PTE_RW) || (!user && !(c->cr[0] & CR0_WP));
    uint8_t *host = phys_host_ptr(c->mem, paddr, 0);
    uint8_t *host_w = phys_host_ptr(c->mem, paddr, 1);
    uint32_t slow = host ? 0 : TLB_SLOW;
    e->vpage = page;
    e->paddr = paddr & c->mem->a20_mask;
    e->addend = host ? (uintptr_t)host - page : 0;
    if (fetch) {
        e->fetch = page | slow;
        e->read = e->write = TLB_INVALID;
    } else {
        e->read = page | slow;
        e->write = (writable && dirty) ? page | (host_w ? 0 : TLB_SLOW) : TLB_INVALID;
        e->fetch = TLB_INVALID;
    }
    e->global = (uint8_t)(global && (c->cr[4] & CR4_PGE));
    e->large = (uint8_t)large;
    if (large)
        c->tlb.has_large = 1;
    return e;
}

static struct tlb_entry *fill(struct cpu *c, uint32_t lin, int acc)
{
    /* The second way holds the page for this access: the two entries change places. */
    if (!(acc & ACC_FETCH)) {
        struct tlb_entry *e = tlb_entry_of(c, lin, acc), *v = &c->tlb.v[(acc & ACC_USER) != 0][tlb_index(lin)];
        uint32_t tag = (acc & ACC_WRITE) ? v->write : v->read;
        if ((tag & ~(uint32_t)TLB_SLOW) == (lin & TLB_PAGE_MASK)) {
            struct tlb_entry old = *e;
            *e = *v;
            *v = old;
            return e;
        }
    }
    return walk(c, lin, acc, 0);
}

int mmu_fill_fetch(struct cpu *c, uint32_t lin)
{
    int acc = ACC_FETCH | acc_cpl(c);
    struct tlb_entry *e = tlb_entry_of(c, lin, acc);
    if (e->fetch == (lin & TLB_PAGE_MASK))
        return 1;
    return walk(c, lin, acc, 1) && e->fetch == (lin & TLB_PAGE_MASK);
}

uint32_t mmu_translate(struct cpu *c, uint32_t lin, int acc)
{
    struct tlb_entry *e = tlb_entry_of(c, lin, acc);
    uint32_t page = lin & TLB_PAGE_MASK;
    uint32_t tag = (acc & ACC_WRITE) ? e->write : (acc & ACC_FETCH) ? e->fetch : e->read;
    if ((tag & ~(uint32_t)TLB_SLOW) != page)
        e = fill(c, lin, acc);
    else
        c->tlb.hits++;
    return e->paddr | (lin & ~TLB_PAGE_MASK);
}

/* One access inside a page. */
static uint32_t read_page(struct cpu *c, uint32_t lin, int size, int acc)
{
    struct tlb_entry *e = tlb_entry_of(c, lin, acc);
    uint32_t tag = (acc & ACC_FETCH) ? e->fetch : e->read;
    if (tag == (lin & TLB_PAGE_MASK)) {
        c->tlb.hits++;
        const uint8_t *p = (const uint8_t *)(e->addend + lin);
        uint32_t v = 0;
        memcpy(&v, p, (size_t)size);
        return v;
    }
    return phys_read(c->mem, mmu_translate(c, lin, acc), size);
}

static void write_page(struct cpu *c, uint32_t lin, uint32_t paddr, int size, uint32_t v, int acc)
{
    struct tlb_entry *e = &c->tlb.e[(acc & ACC_USER) != 0][tlb_index(lin)];
    if (e->write == (lin & TLB_PAGE_MASK)) {
        memcpy((uint8_t *)(e->addend + lin), &v, (size_t)size);
        return;
    }
    phys_write(c->mem, paddr, size, v);
}

uint32_t mmu_read(struct cpu *c, uint32_t lin, int size, int acc)
{
    uint32_t in_page = PM_PAGE_SIZE - (lin & (PM_PAGE_SIZE - 1));
    if ((uint32_t)size <= in_page)
        return read_page(c, lin, size, acc);
    /* Split at the page boundary; both halves are translated before the value is assembled. */
    uint32_t lo = read_page(c, lin, (int)in_page, acc);
    uint32_t hi = read_page(c, lin + in_page, size - (int)in_page, acc);
    return lo | (hi << (8 * in_page));
}

void mmu_write(struct cpu *c, uint32_t lin, int size, uint32_t v, int acc)
{
    acc |= ACC_WRITE;
    uint32_t in_page = PM_PAGE_SIZE - (lin & (PM_PAGE_SIZE - 1));
    if ((uint32_t)size <= in_page) {
        struct tlb_entry *e = &c->tlb.e[(acc & ACC_USER) != 0][tlb_index(lin)];
        if (e->write == (lin & TLB_PAGE_MASK)) {
            c->tlb.hits++;
            memcpy((uint8_t *)(e->addend + lin), &v, (size_t)size);
            return;
        }
        phys_write(c->mem, mmu_translate(c, lin, acc), size, v);
        return;
    }
    /* A write that crosses a page checks both pages before it changes either (no torn write
     * when the second page faults). */
    uint32_t p1 = mmu_translate(c, lin, acc);
    uint32_t p2 = mmu_translate(c, lin + in_page, acc);
    write_page(c, lin, p1, (int)in_page, v, acc);
    write_page(c, lin + in_page, p2, size - (int)in_page, v >> (8 * in_page), acc);
}

void mmu_check_write(struct cpu *c, uint32_t lin, int size, int acc)
{
    mmu_translate(c, lin, acc | ACC_WRITE);
    uint32_t last = lin + (uint32_t)size - 1;
    if ((last ^ lin) & TLB_PAGE_MASK)
        mmu_translate(c, last, acc | ACC_WRITE);
}

void mmu_control_changed(struct cpu *c, uint32_t old_cr0, uint32_t old_cr4)
{
    const uint32_t cr0_bits = CR0_PG | CR0_WP | CR0_PE;
    const uint32_t cr4_bits = CR4_PSE | CR4_PGE;
    if (((old_cr0 ^ c->cr[0]) & cr0_bits) || ((old_cr4 ^ c->cr[4]) & cr4_bits))
        tlb_flush_all(&c->tlb);
}

/* Segmented and linear memory access for the interpreter: segment limit and type checks, the
 * stack, instruction fetch. Intel SDM Vol. 3A §3.4.5 (segment descriptors, expand-down limits),
 * §5.3 (limit checking), §6.15 (#GP and #SS for segment-limit violations). */
#include "interp.h"

/* The fault a bad access through segment s raises: #SS(0) for the stack segment, else #GP(0). */
static _Noreturn void seg_fault(struct cpu *c, int s)
{
    cpu_fault(c, s == S_SS ? EXC_SS : EXC_GP, 0);
}

/* Checks seg:off..off+size-1 against the hidden descriptor cache. */
static inline void seg_check(struct cpu *c, int s, uint32_t off, int size, int write)
{
    const struct segreg *sr = &c->seg[s];
    uint64_t last = (uint64_t)off + (uint64_t)size - 1;
    if (cpu_pmode(c) && !cpu_v86(c)) {
        if (!(sr->ar & AR_P))
            seg_fault(c, s); /* a null selector was loaded: the cache is unusable */
        int type = sr->ar & AR_TYPE;
        if (write && ((type & 8) || !(type & 2)))
            seg_fault(c, s); /* code, or read-only data */
        if (!write && (type & 8) && !(type & 2))
            seg_fault(c, s); /* execute-only code */
    }
    if ((sr->ar & (AR_S | 0xC)) == (AR_S | 0x4)) {
        /* Expand-down data: valid offsets run from limit + 1 to 0xFFFF or 0xFFFFFFFF. */
        uint64_t top = (sr->ar & AR_DB) ? 0xFFFFFFFFull : 0xFFFFull;
        if (off <= sr->limit || last > top)
            seg_fault(c, s);
    } else if (last > sr->limit) {
        seg_fault(c, s);
    }
}

uint8_t *mem_quiet_ptr(struct cpu *c, int s, uint32_t off, uint32_t size, int write)
{
    const struct segreg *sr = &c->seg[s];
    if ((sr->ar & (AR_S | 0xC)) == (AR_S | 0x4) || (uint64_t)off + (uint64_t)size - 1 > sr->limit)
        return NULL; /* expand-down (rare in practice), or past the limit */
    if (cpu_pmode(c) && !cpu_v86(c)) {
        int type = sr->ar & AR_TYPE;
        if (!(sr->ar & AR_P) || (write ? (type & 8) || !(type & 2) : (type & 8) && !(type & 2)))
            return NULL;
    }
    uint32_t lin = sr->base + off;
    if ((lin ^ (lin + size - 1)) & TLB_PAGE_MASK)
        return NULL;
    const struct tlb_entry *e = &c->tlb.e[c->cpl == 3][tlb_index(lin)];
    if ((write ? e->write : e->read) != (lin & TLB_PAGE_MASK))
        return NULL;
    return (uint8_t *)(e->addend + lin);
}

/* Data accesses of instructions come through here: with a data breakpoint armed (DR7), the
 * match is noted for the #DB trap after the instruction (SDM Vol. 3A §17.3.1.2); otherwise the
 * cost is one flag test. */
uint32_t lin_read(struct cpu *c, uint32_t lin, int size)
{
    if (__builtin_expect(c->dbg_data != 0, 0))
        debug_data_access(c, lin, size, 0);
    return mmu_read(c, lin, size, acc_cpl(c));
}

void lin_write(struct cpu *c, uint32_t lin, int size, uint32_t v)
{
    if (__builtin_expect(c->dbg_data != 0, 0))
        debug_data_access(c, lin, size, 1);
    mmu_write(c, lin, size, v, acc_cpl(c));
}

uint32_t mem_read(struct cpu *c, int seg, uint32_t off, int size)
{
    seg_check(c, seg, off, size, 0);
    return lin_read(c, c->seg[seg].base + off, size);
}

void mem_write(struct cpu *c, int seg, uint32_t off, int size, uint32_t v)
{
    seg_check(c, seg, off, size, 1);
    lin_write(c, c->seg[seg].base + off, size, v);
}

void mem_check_write(struct cpu *c, int seg, uint32_t off, int size)
{
    seg_check(c, seg, off, size, 1);
    mmu_check_write(c, c->seg[seg].base + off, size, acc_cpl(c));
}

uint8_t fetch_byte(struct cpu *c, uint32_t off)
{
    const struct segreg *cs = &c->seg[S_CS];
    if (off > cs->limit)
        cpu_fault(c, EXC_GP, 0);
    return (uint8_t)mmu_read(c, cs->base + off, 1, acc_cpl(c) | ACC_FETCH);
}

void push(struct cpu *c, int size, uint32_t v)
{
    uint32_t sp = sp_get(c) - (uint32_t)size;
    if (!stack32(c))
        sp &= 0xFFFF;
    mem_write(c, S_SS, sp, size, v);
    sp_set(c, sp);
}

uint32_t pop(struct cpu *c, int size)
{
    uint32_t sp = sp_get(c);
    uint32_t v = mem_read(c, S_SS, sp, size);
    sp_set(c, sp + (uint32_t)size);
    return v;
}

/* TLB flushes: all, all but global pages (CR3 writes with CR4.PGE), one page (INVLPG).
 * When the architecture requires a flush is the caller's business (Intel SDM Vol. 3A §4.10.4). */
#include "tlb.h"

#include <string.h>

static void clear(struct tlb_entry *e)
{
    e->read = e->write = e->fetch = TLB_INVALID;
    e->global = e->large = 0;
}

void tlb_flush_all(struct tlb *t)
{
    for (int c = 0; c < 2; c++)
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            clear(&t->e[c][i]);
            clear(&t->v[c][i]);
            clear(&t->f[c][i]);
        }
    t->has_large = 0;
    t->flushes++;
    t->gen++;
}

void tlb_flush_nonglobal(struct tlb *t, int keep_global)
{
    if (!keep_global) {
        tlb_flush_all(t);
        return;
    }
    for (int c = 0; c < 2; c++)
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            if (!t->e[c][i].global)
                clear(&t->e[c][i]);
            if (!t->v[c][i].global)
                clear(&t->v[c][i]);
            if (!t->f[c][i].global)
                clear(&t->f[c][i]);
        }
    t->flushes++;
    t->gen++;
}

/* Entry i of array k: the two classes of e, then of v, then of f. */
static struct tlb_entry *entry(struct tlb *t, int k, unsigned i)
{
    return k < 2 ? &t->e[k][i] : k < 4 ? &t->v[k - 2][i] : &t->f[k - 4][i];
}

static int in_use(const struct tlb_entry *e)
{
    return !(e->read & e->write & e->fetch & TLB_INVALID);
}

void tlb_flush_page(struct tlb *t, uint32_t lin)
{
    t->gen++;
    for (int c = 0; c < 6; c++) {
        struct tlb_entry *e = entry(t, c, tlb_index(lin));
        if (in_use(e) && e->vpage == (lin & TLB_PAGE_MASK))
            clear(e);
    }
    if (!t->has_large)
        return;
    /* A 4 MiB page sits in the TLB as 4 KiB pieces at many indexes: drop every piece of it. */
    for (int c = 0; c < 6; c++)
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            struct tlb_entry *e = entry(t, c, i);
            if (e->large && in_use(e) && ((e->vpage ^ lin) & 0xFFC00000u) == 0)
                clear(e);
        }
}

void tlb_slow_writes(struct tlb *t, uint32_t paddr, int all)
{
    for (int k = 0; k < 4; k++) /* e and v: the fetch entries give no stores */
        for (unsigned i = 0; i < TLB_SIZE; i++) {
            struct tlb_entry *e = entry(t, k, i);
            if ((all || e->paddr == paddr) && !(e->write & TLB_INVALID))
                e->write |= TLB_SLOW;
        }
}

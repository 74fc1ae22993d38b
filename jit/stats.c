/* --jit-stats: how much was translated and what it cost, how the cache fared, and which
 * instructions still run through the interpreter's handlers, most frequent first (the list of
 * what to translate inline next). */
#include <inttypes.h>
#include <stdlib.h>

#include "jit_internal.h"

struct row {
    unsigned key;
    uint64_t n;
};

static int by_count(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : 0;
}

void jit_print_stats(const struct jit *j, FILE *out)
{
    const struct jit_stats *s = &j->stats;
    fprintf(out, "jit: %" PRIu64 " blocks, %" PRIu64 " guest insns translated (%" PRIu64 " inline), %" PRIu64
                 " bytes of host code\n",
            s->blocks, s->insns, s->inline_insns, s->code_bytes);
    fprintf(out, "jit: translation %.3f ms total, %.2f us per block\n", (double)s->translate_ns / 1e6,
            s->blocks ? (double)s->translate_ns / 1e3 / (double)s->blocks : 0.0);
    fprintf(out, "jit: %" PRIu64 " block entries from the dispatcher, %" PRIu64 " chains patched, %" PRIu64
                 " interpreter steps, %" PRIu64 " page-crossing instructions run by tail steps (%" PRIu64
                 " from their last decode)\n",
            s->entries, s->chains, s->interp_steps, s->tail_steps, s->tail_decoded);
    fprintf(out, "jit: %" PRIu64 " inline lookups found the next block (%" PRIu64 " after filling a TLB fetch entry), %" PRIu64
                 " went to the dispatcher; %" PRIu64 " page checks of chained exits to another page failed\n",
            s->ic_hits, s->ic_fills, s->ic_misses, s->guard_fails);
    fprintf(out, "jit: %" PRIu64 " cache flushes, %" PRIu64 " blocks invalidated by stores, %" PRIu64
                 " early exits after a store into code, %" PRIu64 " inline memory slow paths\n",
            s->flushes, s->invalidations, s->smc_exits, s->slow_mem);
    struct row *rows = malloc(sizeof(struct row) * 512 * 8);
    if (!rows)
        return;
    int n = 0;
    uint64_t total = 0;
    for (unsigned k = 0; k < 512 * 8; k++)
        if (s->fallback[k]) {
            rows[n++] = (struct row){ k, s->fallback[k] };
            total += s->fallback[k];
        }
    qsort(rows, (size_t)n, sizeof(*rows), by_count);
    fprintf(out, "jit: %" PRIu64 " handler calls (instructions not translated inline), %" PRIu64
                 " of them done by a quiet path (x87, string) without a full interpreter step:\n",
            total, s->quiet);
    for (int i = 0; i < n && i < 40; i++) {
        unsigned op = rows[i].key >> 3, reg = rows[i].key & 7;
        const struct opdesc *d = &opcode_table[op];
        const char *mnem = (d->fl & OPF_GROUP) ? d->group[reg].mnem : d->mnem;
        if (d->fl & OPF_GROUP)
            fprintf(out, "  %12" PRIu64 "  %5.1f%%  %s%02X /%u  %s\n", rows[i].n, 100.0 * (double)rows[i].n / (double)total,
                    op > 0xFF ? "0F " : "", op & 0xFF, reg, mnem);
        else
            fprintf(out, "  %12" PRIu64 "  %5.1f%%  %s%02X     %s\n", rows[i].n, 100.0 * (double)rows[i].n / (double)total,
                    op > 0xFF ? "0F " : "", op & 0xFF, mnem);
    }
    free(rows);
}

/* Two identical machines for the JIT's unit tests: one run by the interpreter (cpu_run), one by
 * the JIT (jit_run), from the same code and state, compared after each run. Header-only, as
 * harness.h is; each test program adds the state it cares about beyond the common part. */
#ifndef JITPC_TESTS_JIT_PAIR_H
#define JITPC_TESTS_JIT_PAIR_H

#include "harness.h"
#include "../../jit/jit_internal.h"

struct pair {
    struct harness *ref; /* the interpreter */
    struct harness *jh;  /* the JIT */
    struct jit *j;
};

/* Both machines in mode32 (harness.h's h_new) with code at 0x1000, and the JIT's engine. */
static inline struct pair pair_open(int mode32, const uint8_t *code, size_t len)
{
    struct pair p = { h_new(mode32), h_new(mode32), NULL };
    h_code(p.ref, 0x1000, code, len);
    h_code(p.jh, 0x1000, code, len);
    p.j = jit_create(p.jh->c, 0);
    assert_non_null(p.j);
    return p;
}

static inline void pair_free(struct pair *p)
{
    jit_destroy(p->j);
    h_free(p->ref);
    h_free(p->jh);
}

/* The same bytes into both machines' memory. */
static inline void pair_poke(struct pair *p, uint32_t addr, const void *buf, size_t len)
{
    h_poke(p->ref, addr, buf, len);
    h_poke(p->jh, addr, buf, len);
}

/* Both machines resume at eip, out of the HLT their last run ended on. */
static inline void pair_restart(struct pair *p, uint32_t eip)
{
    p->ref->c->eip = p->jh->c->eip = eip;
    p->ref->c->halted = p->jh->c->halted = 0;
}

/* Up to n steps on each engine: both must stop for the same reason. */
static inline void pair_run(struct pair *p, uint64_t n)
{
    int ra = cpu_run(p->ref->c, n);
    int rb = jit_run(p->j, p->jh->c, n);
    assert_int_equal(ra, rb);
}

/* What every JIT test compares: registers, EIP, EFLAGS, the counts, HLT, the first MiB. */
static inline void pair_assert_same(const struct pair *p)
{
    const struct cpu *a = p->ref->c, *b = p->jh->c;
    for (int i = 0; i < 8; i++)
        assert_int_equal(a->r[i], b->r[i]);
    assert_int_equal(a->eip, b->eip);
    assert_int_equal(a->eflags, b->eflags);
    assert_int_equal(a->icount, b->icount);
    assert_int_equal(a->tsc, b->tsc);
    assert_int_equal(a->halted, b->halted);
    static uint8_t ma[1 << 20], mb[1 << 20];
    phys_read_buf(&p->ref->m->mem, 0, ma, sizeof(ma));
    phys_read_buf(&p->jh->m->mem, 0, mb, sizeof(mb));
    assert_memory_equal(ma, mb, sizeof(ma));
}

#endif

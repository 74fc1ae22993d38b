/* String instructions in translated code against the interpreter: the JIT runs most MOVS, CMPS,
 * STOS, LODS and SCAS through string_step_quiet (cpu/ops_string.c, jit/dispatch.c), without a
 * cpu_step around them, and must end in the same registers, flags, instruction count and memory
 * as the interpreter: with and without REP/REPE/REPNE, every element size, both directions,
 * overlapping copies, counts of zero, runs that cross a page (which it declines) and 16-bit
 * addressing (declined too). Issue 5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"
#include "../../jit/jit_internal.h"

#define PROGRAMS 300
#define INSNS 40
#define DATA_LO 0x20000u /* the data window the programs work in */
#define DATA_LEN 0x9000u

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static unsigned pick(uint64_t *s, unsigned n)
{
    return (unsigned)(next(s) % n);
}

static size_t mov_imm(uint8_t *p, int reg, uint32_t v)
{
    p[0] = (uint8_t)(0xB8 + reg);
    memcpy(p + 1, &v, 4);
    return 5;
}

/* An index inside the window, often near a page boundary (so that some runs cross it). */
static uint32_t index_value(uint64_t *s)
{
    uint32_t page = DATA_LO + 0x1000u + 0x1000u * pick(s, 6);
    return pick(s, 2) ? page - 16 + pick(s, 32) : page + pick(s, 0x1000);
}

/* One instruction (or a setup move) at p; returns its length. */
static size_t gen(uint8_t *p, uint64_t *s)
{
    size_t n = 0;
    switch (pick(s, 10)) {
    case 0: return mov_imm(p, R_ESI, index_value(s));
    case 1: return mov_imm(p, R_EDI, pick(s, 4) ? index_value(s) : 0); /* EDI patched below */
    case 2: return mov_imm(p, R_ECX, pick(s, 8) ? pick(s, 24) : pick(s, 1600));
    case 3: /* STOS stores one byte repeated with memset: zero (the kernel's page clearing) and others */
        return mov_imm(p, R_EAX, pick(s, 3) ? (uint32_t)next(s) : pick(s, 2) ? 0 : 0x01010101u * pick(s, 256));
    case 4: p[0] = pick(s, 3) ? 0xFC : 0xFD; return 1; /* CLD mostly, STD */
    default: break;
    }
    static const uint8_t ops[] = { 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF };
    uint8_t op = ops[pick(s, sizeof(ops))];
    if (pick(s, 12) == 0)
        p[n++] = 0x67; /* 16-bit addressing: declined */
    if ((op & 1) && pick(s, 3) == 0)
        p[n++] = 0x66;
    unsigned rep = pick(s, 4);
    if (rep == 1 || rep == 2)
        p[n++] = 0xF3;
    else if (rep == 3)
        p[n++] = 0xF2;
    if ((op == 0xA4 || op == 0xA5 || op == 0xA6 || op == 0xA7 || op == 0xAC || op == 0xAD) && pick(s, 8) == 0)
        p[n++] = 0x26; /* ES: source */
    p[n++] = op;
    return n;
}

static void run_programs(int verify)
{
    struct harness *a = h_new(1), *b = h_new(1);
    struct jit *j = jit_create(b->c, 0);
    assert_non_null(j);
    uint64_t s = 0x9E3779B97F4A7C15ull ^ (uint64_t)verify;
    static uint8_t prog[INSNS * 8 + 1];
    static uint8_t data[DATA_LEN];
    for (int k = 0; k < PROGRAMS; k++) {
        size_t len = 0;
        for (int i = 0; i < INSNS; i++) {
            size_t at = len;
            len += gen(prog + len, &s);
            /* A MOV EDI of 0 becomes ESI's neighbourhood: overlapping copies. */
            if (prog[at] == 0xB8 + R_EDI && !memcmp(prog + at + 1, "\0\0\0\0", 4)) {
                uint32_t v = 0;
                for (size_t q = 0; q < at; q++)
                    if (prog[q] == 0xB8 + R_ESI && q + 5 <= at)
                        memcpy(&v, prog + q + 1, 4);
                v = (v ? v : DATA_LO + 0x3000u) + pick(&s, 9) - 4;
                memcpy(prog + at + 1, &v, 4);
            }
        }
        prog[len++] = 0xF4; /* hlt */
        for (size_t i = 0; i < sizeof(data); i++)
            data[i] = (uint8_t)(pick(&s, 4) ? pick(&s, 4) : next(&s)); /* repeats for REPE to run on */
        struct harness *hs[2] = { a, b };
        for (int q = 0; q < 2; q++) {
            h_code(hs[q], 0x1000, prog, len);
            h_poke(hs[q], DATA_LO, data, sizeof(data));
            struct cpu *c = hs[q]->c;
            for (int r = 0; r < 8; r++)
                c->r[r] = 0;
            c->r[R_ESI] = c->r[R_EDI] = DATA_LO + 0x2000u;
            c->r[R_ESP] = 0x80000;
            c->eflags = F_FIXED1;
            c->eip = 0x1000;
            c->halted = 0;
        }
        int ra = cpu_run(a->c, 100000);
        int rb = verify ? jit_verify_run(j, b->c, 100000, stderr) : jit_run(j, b->c, 100000);
        assert_int_equal(ra, rb);
        assert_int_equal(a->c->halted, 1);
        for (int r = 0; r < 8; r++)
            if (a->c->r[r] != b->c->r[r])
                fail_msg("program %d: r%d interpreter %08x, JIT %08x", k, r, a->c->r[r], b->c->r[r]);
        assert_int_equal(a->c->eflags, b->c->eflags);
        assert_int_equal(a->c->eip, b->c->eip);
        assert_int_equal(a->c->icount, b->c->icount);
        static uint8_t ma[DATA_LEN + 0x2000], mb[DATA_LEN + 0x2000];
        phys_read_buf(&a->m->mem, DATA_LO - 0x1000, ma, sizeof(ma));
        phys_read_buf(&b->m->mem, DATA_LO - 0x1000, mb, sizeof(mb));
        assert_memory_equal(ma, mb, sizeof(ma));
    }
    if (!verify)
        assert_true(j->stats.quiet > PROGRAMS); /* the quiet path ran, and was compared */
    jit_destroy(j);
    h_free(a);
    h_free(b);
}

static void test_jit_string_programs_match_interpreter(void **state)
{
    (void)state;
    run_programs(0);
}

static void test_jit_string_programs_pass_verify_mode(void **state)
{
    (void)state;
    run_programs(1);
}

/* The quiet path itself: a REP MOVSB that crosses a page is declined with nothing changed, and
 * one inside a page is done whole, as one step would. */
static void test_string_step_quiet_declines_across_pages(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    static const uint8_t code[] = { 0xF3, 0xA4, 0xF4 }; /* rep movsb / hlt */
    h_code(h, 0x1000, code, sizeof(code));
    struct insn in;
    assert_true(decode(code, sizeof(code), 1, &in) > 0);
    uint8_t src[64];
    for (int i = 0; i < 64; i++)
        src[i] = (uint8_t)(i * 7 + 1);
    h_poke(h, 0x21FE0, src, sizeof(src));
    struct cpu *c = h->c;
    c->eip = 0x1000;
    /* Prime the TLB the way the interpreter's accesses would. */
    (void)mem_read(c, S_DS, 0x21FE0, 1);
    (void)mem_read(c, S_DS, 0x22000, 1);
    mem_write(c, S_ES, 0x23000, 1, 0);
    c->r[R_ESI] = 0x21FE0;
    c->r[R_EDI] = 0x23000;
    c->r[R_ECX] = 64; /* the source crosses into the next page */
    assert_int_equal(string_step_quiet(c, &in), 0);
    assert_int_equal(c->r[R_ECX], 64);
    assert_int_equal(c->eip, 0x1000);
    c->r[R_ECX] = 32; /* inside one page */
    assert_int_equal(string_step_quiet(c, &in), 1);
    assert_int_equal(c->r[R_ECX], 0);
    assert_int_equal(c->r[R_ESI], 0x22000);
    assert_int_equal(c->r[R_EDI], 0x23020);
    assert_int_equal(c->eip, 0x1002);
    uint8_t got[32];
    phys_read_buf(&h->m->mem, 0x23000, got, sizeof(got));
    assert_memory_equal(got, src, sizeof(got));
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jit_string_programs_match_interpreter),
        cmocka_unit_test(test_jit_string_programs_pass_verify_mode),
        cmocka_unit_test(test_string_step_quiet_declines_across_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

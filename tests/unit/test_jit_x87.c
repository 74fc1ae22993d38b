/* x87 instructions in translated code against the interpreter: the JIT runs most of them through
 * x87_step_quiet (cpu/x87.c, jit/dispatch.c), without a cpu_step around them, and must end in the
 * same registers, flags, FPU state (every field the guest can see), instruction count and memory
 * as the interpreter, including when it must decline: a store into the block's own code, an
 * unmasked exception reported by the next waiting instruction (#MF), #NM, a memory fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "jit_pair.h"

/* loop (bits 32, org 0x1000), 150 passes over doubles and integers at ESI (pseudo-random bits:
 * normals, denormals, NaNs and infinities alike), results stored at EDI:
 *   fninit / mov ecx,150 / mov esi,0x2000 / mov edi,0x6000
 *   .l: fld qword [esi] / fadd qword [esi+8] / fmul qword [esi+16] / fild dword [esi+24]
 *   fxch st1 / fucomi st0,st1 / fstp qword [edi] / fst dword [edi+8] / fnstsw ax
 *   mov [edi+12],ax / fnstcw [edi+14] / fldcw [edi+14] / fld1 / fldz / fchs / fabs
 *   faddp st1,st0 / fcomp st1 / fld st0 / fxam / fistp dword [edi+16] / fild qword [esi+32]
 *   fsubr qword [esi+40] / fucomip st0,st1 / fstp st0 / fstp qword [edi+20]
 *   add esi,8 / and esi,0x2FF8 / add edi,28 / dec ecx / jnz .l
 *   fld qword [val] / fstp qword [patch] / patch: times 8 nop   (becomes mov eax,42 / 3 nops)
 *   fldcw [cw] (IE unmasked) / fld qword [nan] / fldz / fsqrt / fchs / fsqrt (IE pending)
 *   fld qword [esi] (#MF) / hlt / val: dq 0x9090900000002AB8 / nan: dq 0xFFF0000000000001
 *   cw: dw 0x037E */
static const uint8_t code_loop[] = {
    0xdb, 0xe3, 0xb9, 0x96, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x20, 0x00, 0x00, 0xbf, 0x00, 0x60, 0x00, 0x00, 0xdd,
    0x06, 0xdc, 0x46, 0x08, 0xdc, 0x4e, 0x10, 0xdb, 0x46, 0x18, 0xd9, 0xc9, 0xdb, 0xe9, 0xdd, 0x1f, 0xd9, 0x57,
    0x08, 0xdf, 0xe0, 0x66, 0x89, 0x47, 0x0c, 0xd9, 0x7f, 0x0e, 0xd9, 0x6f, 0x0e, 0xd9, 0xe8, 0xd9, 0xee, 0xd9,
    0xe0, 0xd9, 0xe1, 0xde, 0xc1, 0xd8, 0xd9, 0xd9, 0xc0, 0xd9, 0xe5, 0xdb, 0x5f, 0x10, 0xdf, 0x6e, 0x20, 0xdc,
    0x6e, 0x28, 0xdf, 0xe9, 0xdd, 0xd8, 0xdd, 0x5f, 0x14, 0x83, 0xc6, 0x08, 0x81, 0xe6, 0xf8, 0x2f, 0x00, 0x00,
    0x83, 0xc7, 0x1c, 0x49, 0x75, 0xb1, 0xdd, 0x05, 0x90, 0x10, 0x00, 0x00, 0xdd, 0x1d, 0x6c, 0x10, 0x00, 0x00,
    0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xd9, 0x2d, 0xa0, 0x10, 0x00, 0x00, 0xdd, 0x05, 0x98, 0x10,
    0x00, 0x00, 0xd9, 0xee, 0xd9, 0xfa, 0xd9, 0xe0, 0xd9, 0xfa, 0xdd, 0x06, 0xf4, 0x90, 0x90, 0x90, 0x90, 0x90,
    0xb8, 0x2a, 0x00, 0x00, 0x00, 0x90, 0x90, 0x90, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0xf0, 0xff, 0x7e, 0x03
};
/* faults: fninit / fld1 / fstp qword [0x7000] / fld qword [0x7000] / fld qword [0x7000] / hlt */
static const uint8_t code_faults[] = { 0xdb, 0xe3, 0xd9, 0xe8, 0xdd, 0x1d, 0x00, 0x70, 0x00, 0x00, 0xdd, 0x05, 0x00,
                                       0x70, 0x00, 0x00, 0xdd, 0x05, 0x00, 0x70, 0x00, 0x00, 0xf4 };

static struct pair pair_new(const uint8_t *code, size_t len)
{
    struct pair p = pair_open(1, code, len);
    p.ref->c->cr[0] |= CR0_NE; /* unmasked x87 exceptions as #MF */
    p.jh->c->cr[0] |= CR0_NE;
    for (uint32_t a = 0; a < 0x1000; a += 4) {
        uint32_t v = a * 2654435761u ^ (a << 20);
        pair_poke(&p, 0x2000 + a, &v, 4);
    }
    return p;
}

static void assert_same_fpu(const struct x87 *a, const struct x87 *b)
{
    assert_memory_equal(a->reg, b->reg, sizeof(a->reg));
    assert_int_equal(a->cw, b->cw);
    assert_int_equal(a->sw, b->sw);
    assert_int_equal(a->empty, b->empty);
    assert_int_equal(a->ferr, b->ferr);
    assert_int_equal(a->fop, b->fop);
    assert_int_equal(a->fcs, b->fcs);
    assert_int_equal(a->fds, b->fds);
    assert_int_equal(a->fip, b->fip);
    assert_int_equal(a->fdp, b->fdp);
}

static void assert_same_state(struct pair *p)
{
    const struct cpu *a = p->ref->c, *b = p->jh->c;
    pair_assert_same(p);
    assert_int_equal(a->cr[0], b->cr[0]);
    assert_same_fpu(&a->fpu, &b->fpu);
}

static void run_both(struct pair *p, uint64_t n)
{
    pair_run(p, n);
    assert_same_state(p);
}

static void test_jit_x87_loop_matches_interpreter(void **state)
{
    (void)state;
    struct pair p = pair_new(code_loop, sizeof(code_loop));
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->r[R_EAX], 42);            /* the patched code ran */
    assert_int_equal(p.jh->c->eip, H_HANDLER + 1);      /* the #MF handler's HLT */
    assert_true(p.j->stats.fallback[0xDD << 3] >= 600); /* the x87 went through handler calls */
    pair_free(&p);
}

/* Budgets that end inside the blocks: every slice stops at the same instruction. */
static void test_jit_x87_small_budgets_match_interpreter(void **state)
{
    (void)state;
    struct pair p = pair_new(code_loop, sizeof(code_loop));
    static const uint64_t slices[] = { 1, 2, 3, 5, 7, 11, 13, 64, 100, 1 };
    for (int k = 0; k < 3000 && !p.jh->c->halted; k++)
        run_both(&p, slices[k % 10]);
    assert_int_equal(p.jh->c->halted, 1);
    pair_free(&p);
}

static void test_jit_x87_nm_with_cr0_ts_matches_interpreter(void **state)
{
    (void)state;
    struct pair p = pair_new(code_faults, sizeof(code_faults));
    p.ref->c->cr[0] |= CR0_TS;
    p.jh->c->cr[0] |= CR0_TS;
    run_both(&p, 1000);
    uint32_t frame_eip;
    phys_read_buf(&p.jh->m->mem, p.jh->c->r[R_ESP], &frame_eip, 4); /* #NM has no error code */
    assert_int_equal(frame_eip, 0x1000); /* FNINIT */
    assert_int_equal(p.jh->c->eip, H_HANDLER + 1);
    pair_free(&p);
}

/* fstp qword [0x7000] with a DS limit of 0x7003: #GP(0) at it. */
static void test_jit_x87_store_past_limit_faults_as_interpreter(void **state)
{
    (void)state;
    struct pair p = pair_new(code_faults, sizeof(code_faults));
    p.ref->c->seg[S_DS].limit = 0x7003;
    p.jh->c->seg[S_DS].limit = 0x7003;
    run_both(&p, 1000);
    assert_int_equal(p.jh->c->eip, H_HANDLER + 1);
    uint32_t frame_eip;
    phys_read_buf(&p.jh->m->mem, p.jh->c->r[R_ESP] + 4, &frame_eip, 4); /* error code, then EIP */
    assert_int_equal(frame_eip, 0x1004);
    pair_free(&p);
}

/* The quiet path itself: it runs FLD m64 from a page the TLB maps for reads, and declines under CR0.TS
 * (#NM) with nothing changed. */
static void test_x87_step_quiet_runs_or_declines_untouched(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h_code(h, 0x1000, code_faults, sizeof(code_faults));
    assert_int_equal(cpu_run(h->c, 4), CPU_EXIT_BUDGET); /* to the last FLD: the TLB maps 0x7000 */
    struct insn in;
    assert_true(decode(code_faults + 16, 6, 1, &in) > 0);
    h->c->cr[0] |= CR0_TS;
    struct cpu before = *h->c;
    assert_int_equal(x87_step_quiet(h->c, &in), 0);
    assert_memory_equal(&before, h->c, sizeof(before));
    h->c->cr[0] &= ~CR0_TS;
    assert_int_equal(x87_step_quiet(h->c, &in), 1);
    assert_int_equal(h->c->eip, 0x1016);
    assert_int_equal(x87_top(&h->c->fpu), 6);
    assert_int_equal(h->c->fpu.fip, 0x1010);
    assert_int_equal(h->c->fpu.fdp, 0x7000);
    assert_int_equal(h->c->fpu.fop, 0x505);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jit_x87_loop_matches_interpreter),
        cmocka_unit_test(test_jit_x87_small_budgets_match_interpreter),
        cmocka_unit_test(test_jit_x87_nm_with_cr0_ts_matches_interpreter),
        cmocka_unit_test(test_jit_x87_store_past_limit_faults_as_interpreter),
        cmocka_unit_test(test_x87_step_quiet_runs_or_declines_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

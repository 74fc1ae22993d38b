/* Unit tests of the x87 FPU: loads and stores, conversions, the stack's overflow and underflow,
 * compares into EFLAGS, FCMOVcc, environment and state images, BCD, FPREM, exception delivery,
 * precision control, FXAM and the tag word. Expected values are worked from the Intel SDM Vol. 1
 * ch. 8 and the Vol. 2 instruction pages; the random comparison with the host is test_x87_host.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define CODE_AT 0x1000u
#define DATA 0x2000u
#define MF_HANDLER 0x3000u

/* Places code at CODE_AT and executes n instructions of it. */
#define RUN(h, n, ...) H_RUN_AT(h, CODE_AT, n, __VA_ARGS__)

#define FNINIT 0xDB, 0xE3
#define M16(a) (uint8_t)(a), (uint8_t)((a) >> 8) /* a disp16 in [disp16] forms (mod 00 rm 110) */

static void put_ld(struct harness *h, uint32_t addr, long double v)
{
    uint8_t b[10];
    memcpy(b, &v, 10);
    h_poke(h, addr, b, 10);
}

static long double st(struct harness *h, int i)
{
    long double v = 0;
    uint8_t b[10];
    x87_get_st(&h->c->fpu, i, b);
    memcpy(&v, b, 10);
    return v;
}

static void st_bytes(struct harness *h, int i, uint8_t out[10]) { x87_get_st(&h->c->fpu, i, out); }

static uint16_t sw(struct harness *h) { return h->c->fpu.sw; }

static const uint8_t indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF };

static void test_power_on_state_is_fcw_0040_and_all_zero_registers(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    RUN(h, 2, 0xD9, 0x3E, M16(DATA), 0xDF, 0xE0); /* fnstcw [DATA]; fnstsw ax */
    assert_int_equal(h_peek(h, DATA, 2), 0x0040);
    assert_int_equal(h->c->r[R_EAX] & 0xFFFF, 0);
    assert_int_equal(x87_tag_word(&h->c->fpu), 0x5555);
    h_free(h);
}

static void test_fld_fstp_round_trip_m32_m64_m80(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    float f = -1.625e-20f;
    double d = 6.02214076e23;
    h_poke(h, DATA, &f, 4);
    h_poke(h, DATA + 0x10, &d, 8);
    put_ld(h, DATA + 0x20, -1.2345678901234567890123L);
    RUN(h, 7, FNINIT,
        0xD9, 0x06, M16(DATA), 0xD9, 0x1E, M16(DATA + 0x40),         /* fld m32; fstp m32 */
        0xDD, 0x06, M16(DATA + 0x10), 0xDD, 0x1E, M16(DATA + 0x50),  /* fld m64; fstp m64 */
        0xDB, 0x2E, M16(DATA + 0x20), 0xDB, 0x3E, M16(DATA + 0x60)); /* fld m80; fstp m80 */
    uint8_t a[10], b[10];
    for (int k = 0; k < 3; k++) {
        int n = k == 0 ? 4 : k == 1 ? 8 : 10;
        phys_read_buf(&h->m->mem, DATA + 0x10u * (unsigned)k, a, (size_t)n);
        phys_read_buf(&h->m->mem, DATA + 0x40u + 0x10u * (unsigned)k, b, (size_t)n);
        assert_memory_equal(a, b, (size_t)n);
    }
    assert_int_equal(x87_top(&h->c->fpu), 0);
    assert_int_equal(h->c->fpu.empty, 0xFF);
    assert_int_equal(sw(h) & FSW_EXC, 0);
    h_free(h);
}

/* FISTP m32 of +-2.5 and 3.7 under each RC (SDM Vol. 1 Table 4-8). */
static void test_fild_fistp_with_each_rounding_mode(void **state)
{
    (void)state;
    static const double in[3] = { 2.5, -2.5, 3.7 };
    static const int32_t want[4][3] = { { 2, -2, 4 }, { 2, -3, 3 }, { 3, -2, 4 }, { 2, -2, 3 } };
    struct harness *h = h_new(0);
    for (int rc = 0; rc < 4; rc++) {
        for (int k = 0; k < 3; k++) {
            uint16_t cw = (uint16_t)(0x037F | (rc << 10));
            h_poke(h, DATA, &cw, 2);
            h_poke(h, DATA + 8, &in[k], 8);
            RUN(h, 4, FNINIT, 0xD9, 0x2E, M16(DATA), 0xDD, 0x06, M16(DATA + 8), /* fldcw; fld m64 */
                0xDB, 0x1E, M16(DATA + 0x10));                                 /* fistp m32 */
            assert_int_equal((int32_t)h_peek(h, DATA + 0x10, 4), want[rc][k]);
            assert_int_equal(sw(h) & FSW_PE, FSW_PE);
        }
    }
    /* FILD m16 / m64 back: exact. */
    int16_t i16 = -12345;
    int64_t i64 = -1234567890123456789ll;
    h_poke(h, DATA, &i16, 2);
    h_poke(h, DATA + 8, &i64, 8);
    RUN(h, 3, FNINIT, 0xDF, 0x06, M16(DATA), 0xDF, 0x2E, M16(DATA + 8)); /* fild m16; fild m64 */
    assert_true(st(h, 1) == -12345.0L);
    assert_true(st(h, 0) == -1234567890123456789.0L);
    RUN(h, 1, 0xDF, 0x3E, M16(DATA + 0x20)); /* fistp m64 */
    int64_t back;
    phys_read_buf(&h->m->mem, DATA + 0x20, &back, 8);
    assert_true(back == i64);
    assert_int_equal(sw(h) & FSW_EXC, 0);
    h_free(h);
}

static void test_stack_overflow_sets_ie_sf_c1_and_loads_indefinite(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    RUN(h, 10, FNINIT, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8, 0xD9, 0xE8,
        0xD9, 0xE8, 0xD9, 0xEE); /* 8 x fld1, then fldz onto a full stack */
    assert_int_equal(sw(h) & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF | FSW_C1);
    uint8_t b[10];
    st_bytes(h, 0, b);
    assert_memory_equal(b, indefinite, 10);
    assert_int_equal(sw(h) & FSW_ES, 0); /* masked */
    h_free(h);
}

static void test_stack_underflow_sets_ie_sf_c1_clear_and_integer_indefinite(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    RUN(h, 2, FNINIT, 0xD8, 0xC1); /* fadd st, st(1) on an empty stack */
    assert_int_equal(sw(h) & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF);
    uint8_t b[10];
    st_bytes(h, 0, b);
    assert_memory_equal(b, indefinite, 10);
    RUN(h, 3, FNINIT, 0xDF, 0x1E, M16(DATA), 0xDB, 0x1E, M16(DATA + 4)); /* fistp m16; fistp m32 */
    assert_int_equal(h_peek(h, DATA, 2), 0x8000);
    assert_int_equal(h_peek(h, DATA + 4, 4), 0x80000000u);
    assert_int_equal(sw(h) & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF);
    h_free(h);
}

static void test_fcomi_sets_zf_pf_cf_and_clears_of_sf_af(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->eflags |= F_OF | F_SF | F_AF | F_ZF | F_PF;
    RUN(h, 4, FNINIT, 0xD9, 0xE8, 0xD9, 0xEE, 0xDB, 0xF1); /* fld1; fldz; fcomi st, st(1): 0 < 1 */
    assert_int_equal(h->c->eflags & F_ARITH, F_CF);
    RUN(h, 1, 0xDF, 0xF1); /* fcomip: 0 < 1 again, and pop */
    assert_int_equal(h->c->eflags & F_ARITH, F_CF);
    assert_int_equal(x87_top(&h->c->fpu), 7);
    RUN(h, 2, 0xD9, 0xE8, 0xDB, 0xE9); /* fld1; fucomi st, st(1): equal */
    assert_int_equal(h->c->eflags & F_ARITH, F_ZF);
    h_poke(h, DATA, (const uint8_t[]){ 0, 0, 0xC0, 0x7F }, 4); /* QNaN m32 */
    RUN(h, 2, 0xD9, 0x06, M16(DATA), 0xDB, 0xE9); /* fld m32 QNaN; fucomi: unordered, no IE */
    assert_int_equal(h->c->eflags & F_ARITH, F_ZF | F_PF | F_CF);
    assert_int_equal(sw(h) & FSW_IE, 0);
    RUN(h, 1, 0xDB, 0xF1); /* fcomi with a QNaN: IE */
    assert_int_equal(sw(h) & FSW_IE, FSW_IE);
    h_free(h);
}

static void test_fcmovcc_moves_only_when_the_condition_holds(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    RUN(h, 3, FNINIT, 0xD9, 0xE8, 0xD9, 0xEE); /* st0 = 0, st1 = 1 */
    h->c->eflags &= ~(uint32_t)F_ARITH;
    RUN(h, 1, 0xDA, 0xC1); /* fcmovb: CF = 0, no move */
    assert_true(st(h, 0) == 0.0L);
    RUN(h, 1, 0xDB, 0xC1); /* fcmovnb: moves */
    assert_true(st(h, 0) == 1.0L);
    RUN(h, 1, 0xD9, 0xEE);
    h->c->eflags |= F_PF;
    RUN(h, 1, 0xDA, 0xD9); /* fcmovu st(1) */
    assert_true(st(h, 0) == 1.0L);
    RUN(h, 1, 0xD9, 0xEE);
    RUN(h, 1, 0xDB, 0xD9); /* fcmovnu: PF = 1, no move */
    assert_true(st(h, 0) == 0.0L);
    h->c->eflags |= F_ZF;
    RUN(h, 1, 0xDA, 0xC9); /* fcmove */
    assert_true(st(h, 0) == 1.0L);
    h_free(h);
}

/* Real-mode 16-bit FNSTENV (SDM Vol. 1 Figure 8-12): linear IP and DP, opcode beside IP[19:16]. */
static void test_fnstenv_16bit_real_mode_layout_and_fldenv_round_trip(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    cpu_load_seg_real(h->c, S_DS, 0x0100);
    double d = 3.0;
    h_poke(h, 0x1000 + DATA, &d, 8);
    /* fninit; fld qword [DATA] (at CODE_AT+2, DS = 100h); fnstenv [DATA+0x20] */
    RUN(h, 3, FNINIT, 0xDD, 0x06, M16(DATA), 0xD9, 0x36, M16(DATA + 0x20));
    uint32_t e = 0x1000 + DATA + 0x20;
    assert_int_equal(h_peek(h, e + 0, 2), 0x037F);
    assert_int_equal(h_peek(h, e + 2, 2), 0x3800); /* TOP = 7 */
    assert_int_equal(h_peek(h, e + 4, 2), 0x3FFF); /* R7 valid, the rest empty */
    assert_int_equal(h_peek(h, e + 6, 2), CODE_AT + 2);
    assert_int_equal(h_peek(h, e + 8, 2), 0x506);  /* IP[19:16] = 0, opcode DD 06 -> 5 06 */
    assert_int_equal(h_peek(h, e + 10, 2), (0x1000 + DATA) & 0xFFFF);
    assert_int_equal(h_peek(h, e + 12, 2), ((0x1000 + DATA) >> 16) << 12);
    /* FNSTENV masks all exceptions afterwards. */
    assert_int_equal(x87_cw(&h->c->fpu), 0x037F);
    /* Load an environment with other values and store it back. */
    static const uint8_t env[14] = { 0x72, 0x02, 0x01, 0x38, 0xFF, 0x3F, 0x34, 0x12, 0xD9, 0x17, 0x78, 0x56, 0x00, 0x90 };
    h_poke(h, 0x1000 + DATA + 0x40, env, 14);
    RUN(h, 2, 0xD9, 0x26, M16(DATA + 0x40), 0xD9, 0x36, M16(DATA + 0x60)); /* fldenv; fnstenv */
    uint8_t back[14];
    phys_read_buf(&h->m->mem, 0x1000 + DATA + 0x60, back, 14);
    uint8_t want[14];
    memcpy(want, env, 14);
    want[0] = 0x72 | 0x40; /* bit 6 reads as 1 */
    want[2] = 0x81; want[3] = 0xB8; /* IE unmasked by FCW 0272: ES and B are set */
    assert_memory_equal(back, want, 14);
    assert_int_equal(h->c->fpu.fip, 0x11234);
    assert_int_equal(h->c->fpu.fdp, 0x95678);
    h_free(h);
}

/* 32-bit protected-mode FNSTENV (SDM Vol. 1 Figure 8-9): selectors, opcode in 16-26, reserved FFFFH. */
static void test_fnstenv_32bit_protected_layout(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    static const uint8_t code[] = { 0xDB, 0xE3, 0xD9, 0x05, 0x00, 0x20, 0x00, 0x00,  /* fld dword [0x2000] */
                                    0xD9, 0x35, 0x00, 0x21, 0x00, 0x00 };            /* fnstenv [0x2100] */
    float one = 1.0f;
    h_poke(h, DATA, &one, 4);
    h_code(h, CODE_AT, code, sizeof(code));
    assert_int_equal(h_step(h, 3), CPU_EXIT_BUDGET);
    uint32_t e = 0x2100;
    assert_int_equal(h_peek(h, e + 0, 4), 0xFFFF037Fu);
    assert_int_equal(h_peek(h, e + 4, 4), 0xFFFF3800u);
    assert_int_equal(h_peek(h, e + 8, 4), 0xFFFF3FFFu);
    assert_int_equal(h_peek(h, e + 12, 4), CODE_AT + 2);
    assert_int_equal(h_peek(h, e + 16, 4), 0x01050008u);
    assert_int_equal(h_peek(h, e + 20, 4), DATA);
    assert_int_equal(h_peek(h, e + 24, 4), 0xFFFF0010u);
    h_free(h);
}

static void test_fnsave_frstor_round_trip_and_fnsave_reinitialises(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    put_ld(h, DATA, 1e4000L);
    RUN(h, 5, FNINIT, 0xD9, 0xEB, 0xD9, 0xEE, 0xDB, 0x2E, M16(DATA), 0xD9, 0xE4); /* fldpi; fldz; fld m80; ftst */
    struct x87 before = h->c->fpu;
    RUN(h, 1, 0xDD, 0x36, M16(DATA + 0x100)); /* fnsave */
    assert_int_equal(x87_cw(&h->c->fpu), 0x037F);
    assert_int_equal(h->c->fpu.empty, 0xFF);
    assert_int_equal(h->c->fpu.sw, 0);
    /* Tags in the image come from contents: R7 pi valid, R6 zero, R5 1e4000 valid, rest empty. */
    assert_int_equal(h_peek(h, DATA + 0x100 + 4, 2), 0x13FF);
    RUN(h, 1, 0xDD, 0x26, M16(DATA + 0x100)); /* frstor */
    const struct x87 *f = &h->c->fpu;
    assert_int_equal(f->sw, before.sw);
    assert_int_equal(f->cw | 0x40, before.cw | 0x40);
    assert_int_equal(f->empty, before.empty);
    for (int i = 0; i < 3; i++) {
        uint8_t a[10], b[10];
        x87_get_st(f, i, a);
        x87_get_st(&before, i, b);
        assert_memory_equal(a, b, 10);
    }
    assert_int_equal(f->fip, before.fip);
    assert_int_equal(f->fop, before.fop);
    h_free(h);
}

static void test_tag_word_after_fnsave_tells_valid_zero_special_empty(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t inf[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x7F };
    h_poke(h, DATA, inf, 10);
    RUN(h, 5, FNINIT, 0xD9, 0xE8, 0xD9, 0xEE, 0xDB, 0x2E, M16(DATA), 0xDD, 0x36, M16(DATA + 0x20));
    /* TOP = 5: R7 = 1.0 valid (00), R6 = 0 zero (01), R5 = inf special (10), R4-R0 empty (11). */
    assert_int_equal(h_peek(h, DATA + 0x20 + 4, 2), 0x1BFF);
    h_free(h);
}

static void test_fbstp_fbld_round_trip_packed_bcd(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    double d = -987654321.0;
    h_poke(h, DATA, &d, 8);
    RUN(h, 3, FNINIT, 0xDD, 0x06, M16(DATA), 0xDF, 0x36, M16(DATA + 0x10)); /* fld m64; fbstp */
    static const uint8_t want[10] = { 0x21, 0x43, 0x65, 0x87, 0x09, 0, 0, 0, 0, 0x80 };
    uint8_t got[10];
    phys_read_buf(&h->m->mem, DATA + 0x10, got, 10);
    assert_memory_equal(got, want, 10);
    static const uint8_t bcd[10] = { 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00 };
    h_poke(h, DATA + 0x20, bcd, 10);
    RUN(h, 1, 0xDF, 0x26, M16(DATA + 0x20)); /* fbld */
    assert_true(st(h, 0) == 999999999999999999.0L);
    h_free(h);
}

/* FPREM of 23 by 3: remainder 2, quotient 7 -> C0 = q2, C3 = q1, C1 = q0 (SDM FPREM). */
static void test_fprem_sets_quotient_bits_and_c2_when_incomplete(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    double a = 23.0, b = 3.0;
    h_poke(h, DATA, &b, 8);
    h_poke(h, DATA + 8, &a, 8);
    RUN(h, 4, FNINIT, 0xDD, 0x06, M16(DATA), 0xDD, 0x06, M16(DATA + 8), 0xD9, 0xF8);
    assert_true(st(h, 0) == 2.0L);
    assert_int_equal(sw(h) & (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3), FSW_C0 | FSW_C1 | FSW_C3);
    /* A huge exponent difference makes it partial: C2 = 1. */
    put_ld(h, DATA + 0x10, 1e300L);
    RUN(h, 4, FNINIT, 0xDD, 0x06, M16(DATA), 0xDB, 0x2E, M16(DATA + 0x10), 0xD9, 0xF8);
    assert_int_equal(sw(h) & FSW_C2, FSW_C2);
    h_free(h);
}

/* Unmasked zero-divide: the destination keeps its value, ES and B are set, and the next waiting
 * instruction takes #MF (vector 16 through the real-mode IVT with CR0.NE = 1), a fault whose
 * return address is that instruction; the pointers still name the FDIV. */
#define ZDIV_SETUP FNINIT, 0xD9, 0x2E, M16(DATA), 0xD9, 0xE8, 0xD9, 0xEE, 0xDC, 0xF9 /* ..fdiv st(1), st */

static struct harness *zero_divide_pending(int ne)
{
    struct harness *h = h_new(0);
    if (ne)
        h->c->cr[0] |= CR0_NE;
    h_set_ivt(h, EXC_MF, MF_HANDLER);
    uint16_t cw = 0x037B; /* ZM clear */
    h_poke(h, DATA, &cw, 2);
    return h;
}

static void test_unmasked_zero_divide_leaves_destination_and_next_fpu_insn_raises_mf(void **state)
{
    (void)state;
    struct harness *h = zero_divide_pending(1);
    RUN(h, 5, ZDIV_SETUP, 0xD9, 0xE8);
    assert_true(st(h, 1) == 1.0L);
    assert_true(st(h, 0) == 0.0L);
    assert_int_equal(sw(h) & (FSW_ZE | FSW_ES | FSW_B), FSW_ZE | FSW_ES | FSW_B);
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET); /* fld1: waiting, so #MF */
    assert_int_equal(h->c->last_fault, EXC_MF);
    assert_int_equal(h->c->eip, MF_HANDLER);
    assert_int_equal(h_peek(h, 0x7FFA, 2), CODE_AT + 12);
    assert_int_equal(h->c->fpu.fip, CODE_AT + 10);
    assert_int_equal(h->c->fpu.fop, 0x4F9);
    assert_int_equal(x87_top(&h->c->fpu), 6); /* the FLD1 did not run */
    h_free(h);
}

static void test_unmasked_zero_divide_then_fwait_raises_mf(void **state)
{
    (void)state;
    struct harness *h = zero_divide_pending(1);
    RUN(h, 6, ZDIV_SETUP, 0x9B);
    assert_int_equal(h->c->last_fault, EXC_MF);
    assert_int_equal(h->c->eip, MF_HANDLER);
    assert_int_equal(h_peek(h, 0x7FFA, 2), CODE_AT + 12); /* IP of the FWAIT */
    h_free(h);
}

static void irq13_hook(void *opaque, int level) { *(int *)opaque = level; }

/* CR0.NE = 0: FERR# goes to the IRQ13 hook and the waiting instruction is retried; with no hook,
 * #MF is the fallback. FNCLEX deasserts FERR#. */
static void test_ne_clear_signals_irq13_hook_or_falls_back_to_mf(void **state)
{
    (void)state;
    struct harness *h = zero_divide_pending(0);
    h->c->fpu.irq13 = NULL; /* the board wires FERR# to the PIC; this CPU stands alone */
    RUN(h, 6, ZDIV_SETUP, 0xD9, 0xE8);
    assert_int_equal(h->c->last_fault, EXC_MF); /* no hook */
    h_free(h);

    int level = 0;
    h = zero_divide_pending(0);
    h->c->fpu.irq13 = irq13_hook;
    h->c->fpu.irq13_opaque = &level;
    RUN(h, 6, ZDIV_SETUP, 0xD9, 0xE8);
    assert_int_equal(level, 1);
    assert_int_equal(h->c->eip, CODE_AT + 12); /* FLD1 will run again */
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(x87_top(&h->c->fpu), 6);
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET); /* second time: proceeds, as with IGNNE# */
    assert_int_equal(h->c->eip, CODE_AT + 14);
    assert_int_equal(x87_top(&h->c->fpu), 5);
    RUN(h, 1, 0xDB, 0xE2); /* fnclex */
    assert_int_equal(level, 0);
    assert_int_equal(sw(h) & (FSW_ES | FSW_ZE), 0);
    h_free(h);
}

/* PC = 24 bits: 1 + (1 + 2^-30) rounds to 2 (SDM Vol. 1 §8.1.5.2). */
static void test_precision_control_24_bits_rounds_fadd(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    uint16_t cw = 0x007F;
    double d = 1.0 + 0x1p-30;
    h_poke(h, DATA, &cw, 2);
    h_poke(h, DATA + 8, &d, 8);
    RUN(h, 4, FNINIT, 0xD9, 0x2E, M16(DATA), 0xD9, 0xE8, 0xDC, 0x06, M16(DATA + 8)); /* fadd m64 */
    assert_true(st(h, 0) == 2.0L);
    assert_int_equal(sw(h) & FSW_PE, FSW_PE);
    cw = 0x037F;
    h_poke(h, DATA, &cw, 2);
    RUN(h, 4, FNINIT, 0xD9, 0x2E, M16(DATA), 0xD9, 0xE8, 0xDC, 0x06, M16(DATA + 8));
    assert_true(st(h, 0) == 2.0L + 0x1p-30L);
    h_free(h);
}

/* FXAM: C3 C2 C0 give the class, C1 the sign (SDM FXAM table). */
static void test_fxam_classes(void **state)
{
    (void)state;
    static const struct { uint8_t v[10]; uint16_t cc; } cases[] = {
        { { 0 }, FSW_C3 },                                                  /* +0 */
        { { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 }, FSW_C3 | FSW_C2 | FSW_C1 },  /* -denormal */
        { { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F }, FSW_C2 },              /* +1.0 */
        { { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0xFF }, FSW_C2 | FSW_C0 | FSW_C1 }, /* -inf */
        { { 0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0x7F }, FSW_C0 },              /* QNaN */
        { { 0, 0, 0, 0, 0, 0, 0, 0x40, 0xFF, 0x3F }, 0 },                   /* unnormal: unsupported */
    };
    struct harness *h = h_new(0);
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        h_poke(h, DATA, cases[k].v, 10);
        RUN(h, 3, FNINIT, 0xDB, 0x2E, M16(DATA), 0xD9, 0xE5);
        assert_int_equal(sw(h) & (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3), cases[k].cc);
    }
    RUN(h, 2, FNINIT, 0xD9, 0xE5); /* empty */
    assert_int_equal(sw(h) & (FSW_C0 | FSW_C2 | FSW_C3), FSW_C3 | FSW_C0);
    h_free(h);
}

static void test_reserved_encodings_are_ud_and_cr0_em_ts_are_nm(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h_set_ivt(h, EXC_UD, 0x4000);
    h_set_ivt(h, EXC_NM, 0x5000);
    static const uint8_t bad[][3] = { { 0xD9, 0xD1 }, { 0xD9, 0xE2 }, { 0xDB, 0xE5 }, { 0xDE, 0xD8 },
                                      { 0xDF, 0xF8 }, { 0xDD, 0xF0 }, { 0xD9, 0x0E }, { 0xDB, 0x26 },
                                      { 0xDF, 0x0E }, { 0xDD, 0x2E } };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        uint8_t code[4] = { bad[k][0], bad[k][1], 0, 0x20 };
        h->c->r[R_ESP] = 0x8000;
        h_code(h, CODE_AT, code, 4);
        h_step(h, 1);
        assert_int_equal(h->c->last_fault, EXC_UD);
    }
    /* The aliases a P6 executes: FSTP1, FCOM2, FXCH4, FFREEP, FSTP8. */
    RUN(h, 6, FNINIT, 0xD9, 0xE8, 0xD9, 0xD8, 0xDC, 0xD0, 0xDD, 0xC8, 0xDF, 0xC0);
    assert_int_equal(h->c->last_fault, -1);
    h->c->cr[0] |= CR0_TS;
    h->c->r[R_ESP] = 0x8000;
    RUN(h, 1, 0xD9, 0xE8);
    assert_int_equal(h->c->last_fault, EXC_NM);
    RUN(h, 1, 0x9B); /* WAIT: #NM only with MP and TS */
    assert_int_equal(h->c->last_fault, -1);
    h->c->cr[0] |= CR0_MP;
    RUN(h, 1, 0x9B);
    assert_int_equal(h->c->last_fault, EXC_NM);
    h_free(h);
}

/* A memory fault comes before any change: the FPU state, pointers included, stays as it was. */
static void test_memory_fault_leaves_fpu_state_unchanged(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h_set_ivt(h, EXC_GP, 0x4000);
    RUN(h, 2, FNINIT, 0xD9, 0xE8);
    struct x87 before = h->c->fpu;
    RUN(h, 1, 0xDD, 0x06, M16(0xFFFC)); /* fld qword [0xFFFC]: past the 64 KiB limit */
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_memory_equal(&h->c->fpu, &before, sizeof(before));
    RUN(h, 1, 0xDD, 0x1E, M16(0xFFFC)); /* fstp qword [0xFFFC] */
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_memory_equal(&h->c->fpu, &before, sizeof(before));
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_power_on_state_is_fcw_0040_and_all_zero_registers),
        cmocka_unit_test(test_fld_fstp_round_trip_m32_m64_m80),
        cmocka_unit_test(test_fild_fistp_with_each_rounding_mode),
        cmocka_unit_test(test_stack_overflow_sets_ie_sf_c1_and_loads_indefinite),
        cmocka_unit_test(test_stack_underflow_sets_ie_sf_c1_clear_and_integer_indefinite),
        cmocka_unit_test(test_fcomi_sets_zf_pf_cf_and_clears_of_sf_af),
        cmocka_unit_test(test_fcmovcc_moves_only_when_the_condition_holds),
        cmocka_unit_test(test_fnstenv_16bit_real_mode_layout_and_fldenv_round_trip),
        cmocka_unit_test(test_fnstenv_32bit_protected_layout),
        cmocka_unit_test(test_fnsave_frstor_round_trip_and_fnsave_reinitialises),
        cmocka_unit_test(test_tag_word_after_fnsave_tells_valid_zero_special_empty),
        cmocka_unit_test(test_fbstp_fbld_round_trip_packed_bcd),
        cmocka_unit_test(test_fprem_sets_quotient_bits_and_c2_when_incomplete),
        cmocka_unit_test(test_unmasked_zero_divide_leaves_destination_and_next_fpu_insn_raises_mf),
        cmocka_unit_test(test_unmasked_zero_divide_then_fwait_raises_mf),
        cmocka_unit_test(test_ne_clear_signals_irq13_hook_or_falls_back_to_mf),
        cmocka_unit_test(test_precision_control_24_bits_rounds_fadd),
        cmocka_unit_test(test_fxam_classes),
        cmocka_unit_test(test_reserved_encodings_are_ud_and_cr0_em_ts_are_nm),
        cmocka_unit_test(test_memory_fault_leaves_fpu_state_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

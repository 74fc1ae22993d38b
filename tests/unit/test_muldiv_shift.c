/* Unit tests of MUL/IMUL/DIV/IDIV and the shift, rotate and double-shift instructions.
 * Expected values are worked by hand from the Intel SDM Vol. 2 instruction pages; where the SDM
 * leaves a flag undefined the test pins the choice documented in cpu/ops_muldiv.c / ops_shift.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define CODE_AT 0x1000u
#define DE_HANDLER 0x2000u

/* Places the instruction bytes at CODE_AT and executes exactly that one instruction. */
#define RUN1(h, ...)                                                        \
    do {                                                                    \
        static const uint8_t code_[] = { __VA_ARGS__ };                     \
        h_code((h), CODE_AT, code_, sizeof(code_));                         \
        assert_int_equal(h_step((h), 1), CPU_EXIT_BUDGET);                  \
    } while (0)

#define FLAGS(h, mask) ((h)->c->eflags & (mask))

/* Real mode with interrupt 0 pointing at DE_HANDLER, so a #DE is visible as a jump there. */
static struct harness *real_with_de_handler(void)
{
    struct harness *h = h_new(0);
    h_set_ivt(h, EXC_DE, DE_HANDLER);
    return h;
}

/* A #DE in real mode: CS:IP at the handler, and FLAGS, CS, IP pushed with IP = the faulting
 * instruction's first byte (a fault, not a trap: SDM Vol. 3A §6.15, interrupt 0). */
static void assert_de_taken(struct harness *h, uint32_t flags_before)
{
    struct cpu *c = h->c;
    assert_int_equal(c->eip, DE_HANDLER);
    assert_int_equal(c->seg[S_CS].sel, 0);
    assert_int_equal(c->r[R_ESP] & 0xFFFF, 0x8000 - 6);
    assert_int_equal(h_peek(h, 0x7FFA, 2), CODE_AT);              /* IP: the DIV itself */
    assert_int_equal(h_peek(h, 0x7FFC, 2), 0);                    /* CS */
    assert_int_equal(h_peek(h, 0x7FFE, 2) & F_ARITH, flags_before & F_ARITH); /* FLAGS */
}

/* ---------------- MUL ---------------- */

static void test_mul8_sets_cf_of_when_ah_nonzero(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EAX] = 0x12345680; /* AL = 0x80 */
    h->c->r[R_EBX] = 0x02;
    RUN1(h, 0xF6, 0xE3); /* mul bl */
    assert_int_equal(h->c->r[R_EAX], 0x12340100);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_mul8_clears_cf_of_and_sets_szp_from_low_half(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->eflags |= F_CF | F_OF | F_ZF | F_AF;
    h->c->r[R_EAX] = 0xFF10; /* AH garbage is overwritten by the product */
    h->c->r[R_EBX] = 0x0F;
    RUN1(h, 0xF6, 0xE3); /* mul bl: 0x10 * 0x0F = 0x00F0 */
    assert_int_equal(h->c->r[R_EAX], 0x00F0);
    /* Documented choice: SF ZF PF from AL = 0xF0 (negative, nonzero, four ones), AF cleared. */
    assert_int_equal(FLAGS(h, F_ARITH), F_SF | F_PF);
    h_free(h);
}

static void test_mul16_writes_dx_ax_and_keeps_upper_halves(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EAX] = 0xAAAA1234;
    h->c->r[R_EDX] = 0x5555FFFF;
    h->c->r[R_EBX] = 0x0100;
    RUN1(h, 0xF7, 0xE3); /* mul bx: 0x1234 * 0x100 = 0x00123400 */
    assert_int_equal(h->c->r[R_EAX], 0xAAAA3400);
    assert_int_equal(h->c->r[R_EDX], 0x55550012);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_mul32_full_64_bit_product(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EAX] = 0xFFFFFFFF;
    h->c->r[R_EBX] = 0xFFFFFFFF;
    RUN1(h, 0xF7, 0xE3); /* mul ebx: (2^32-1)^2 = 0xFFFFFFFE_00000001 */
    assert_int_equal(h->c->r[R_EDX], 0xFFFFFFFE);
    assert_int_equal(h->c->r[R_EAX], 0x00000001);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_mul8_memory_operand(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    uint8_t v = 0x11;
    h_poke(h, 0x3000, &v, 1);
    h->c->r[R_EAX] = 0x0F;
    RUN1(h, 0xF6, 0x26, 0x00, 0x30); /* mul byte [0x3000] */
    assert_int_equal(h->c->r[R_EAX] & 0xFFFF, 0x00FF);
    assert_int_equal(FLAGS(h, F_CF | F_OF), 0);
    h_free(h);
}

/* ---------------- IMUL ---------------- */

static void test_imul1_8bit_in_range_product_clears_cf_of(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->eflags |= F_CF | F_OF;
    h->c->r[R_EAX] = 0xFE; /* -2 */
    h->c->r[R_EBX] = 0x03;
    RUN1(h, 0xF6, 0xEB); /* imul bl: -6, sign-extended into AH */
    assert_int_equal(h->c->r[R_EAX] & 0xFFFF, 0xFFFA);
    assert_int_equal(FLAGS(h, F_CF | F_OF), 0);
    h_free(h);
}

static void test_imul1_8bit_product_128_sets_cf_of(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EAX] = 0x40;
    h->c->r[R_EBX] = 0x02;
    RUN1(h, 0xF6, 0xEB); /* imul bl: +128 does not fit a signed byte */
    assert_int_equal(h->c->r[R_EAX] & 0xFFFF, 0x0080);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_imul1_32bit_negative_product_fills_edx(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EAX] = 0x80000000; /* -2^31 */
    h->c->r[R_EBX] = 2;
    RUN1(h, 0xF7, 0xEB); /* imul ebx: -2^32 */
    assert_int_equal(h->c->r[R_EDX], 0xFFFFFFFF);
    assert_int_equal(h->c->r[R_EAX], 0x00000000);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_imul_2op_truncates_and_sets_cf_of(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_ESI] = 0x10000;
    h->c->r[R_EBX] = 0x10000;
    RUN1(h, 0x0F, 0xAF, 0xF3); /* imul esi, ebx: 2^32 truncates to 0 */
    assert_int_equal(h->c->r[R_ESI], 0);
    assert_int_equal(h->c->r[R_EBX], 0x10000);
    /* CF=OF=1; ZF from the truncated result (documented choice). */
    assert_int_equal(FLAGS(h, F_CF | F_OF | F_ZF), F_CF | F_OF | F_ZF);
    h_free(h);
}

static void test_imul_2op_16bit_minus_one_times_most_negative_overflows(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_ESI] = 0xABCDFFFF; /* SI = -1 */
    h->c->r[R_EBX] = 0x00008000; /* BX = -32768 */
    RUN1(h, 0x66, 0x0F, 0xAF, 0xF3); /* imul si, bx: +32768 does not fit */
    assert_int_equal(h->c->r[R_ESI], 0xABCD8000);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_imul_3op_sets_cf_of_on_overflow(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EBX] = 4;
    RUN1(h, 0x69, 0xF3, 0x00, 0x00, 0x00, 0x40); /* imul esi, ebx, 0x40000000 = 2^32 */
    assert_int_equal(h->c->r[R_ESI], 0);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_imul_3op_negative_product_in_range_clears_cf_of(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->eflags |= F_CF | F_OF;
    h->c->r[R_EBX] = 0xFFFFFFFF; /* -1 */
    RUN1(h, 0x69, 0xF3, 0x00, 0x00, 0x00, 0x40); /* imul esi, ebx, 0x40000000 = -2^30 */
    assert_int_equal(h->c->r[R_ESI], 0xC0000000);
    assert_int_equal(FLAGS(h, F_CF | F_OF), 0);
    h_free(h);
}

static void test_imul_6b_sign_extends_imm8(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 5;
    h->c->r[R_ESI] = 0x77770000;
    RUN1(h, 0x6B, 0xF3, 0xFF); /* imul si, bx, -1: 5 * 255 would give 0x04FB */
    assert_int_equal(h->c->r[R_ESI], 0x7777FFFB);
    assert_int_equal(FLAGS(h, F_CF | F_OF), 0);
    h_free(h);
}

static void test_imul_69_16bit_immediate(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x0100;
    RUN1(h, 0x69, 0xF3, 0x00, 0x01); /* imul si, bx, 0x100 = 0x10000 truncates to 0 */
    assert_int_equal(h->c->r[R_ESI] & 0xFFFF, 0);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

/* ---------------- DIV ---------------- */

static void test_div8_quotient_in_al_remainder_in_ah(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EAX] = 0x000003E8; /* 1000 */
    h->c->r[R_EBX] = 7;
    RUN1(h, 0xF6, 0xF3); /* div bl: 1000 = 7 * 142 + 6 */
    assert_int_equal(h->c->r[R_EAX] & 0xFFFF, (6 << 8) | 142);
    h_free(h);
}

static void test_div32_divides_edx_eax(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EDX] = 1;
    h->c->r[R_EAX] = 5;
    h->c->r[R_EBX] = 0x10;
    RUN1(h, 0xF7, 0xF3); /* div ebx: (2^32 + 5) / 16 */
    assert_int_equal(h->c->r[R_EAX], 0x10000000);
    assert_int_equal(h->c->r[R_EDX], 5);
    h_free(h);
}

static void test_div_leaves_flags_unchanged(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint32_t f = F_CF | F_ZF | F_OF | F_AF;
    h->c->eflags = (h->c->eflags & ~F_ARITH) | f;
    h->c->r[R_EDX] = 0;
    h->c->r[R_EAX] = 0x81; /* quotient 0x81 would set SF/PF if flags followed it */
    h->c->r[R_EBX] = 1;
    RUN1(h, 0xF7, 0xF3); /* div ebx */
    assert_int_equal(h->c->r[R_EAX], 0x81);
    assert_int_equal(FLAGS(h, F_ARITH), f);
    h_free(h);
}

static void test_div_by_zero_raises_de(void **state)
{
    (void)state;
    struct harness *h = real_with_de_handler();
    h->c->r[R_EAX] = 0x1234;
    h->c->r[R_EBX] = 0xFF00; /* BL = 0 */
    uint32_t fl = h->c->eflags;
    RUN1(h, 0xF6, 0xF3); /* div bl */
    assert_de_taken(h, fl);
    assert_int_equal(h->c->r[R_EAX], 0x1234);
    h_free(h);
}

static void test_div_by_zero_memory_divisor_raises_de(void **state)
{
    (void)state;
    struct harness *h = real_with_de_handler();
    h->c->r[R_EAX] = 0x5678;
    h->c->r[R_EDX] = 0x0001;
    uint32_t fl = h->c->eflags;
    RUN1(h, 0xF7, 0x36, 0x00, 0x30); /* div word [0x3000] (zeroed RAM) */
    assert_de_taken(h, fl);
    assert_int_equal(h->c->r[R_EAX], 0x5678);
    assert_int_equal(h->c->r[R_EDX], 0x0001);
    h_free(h);
}

static void test_div8_quotient_overflow_raises_de(void **state)
{
    (void)state;
    struct harness *h = real_with_de_handler();
    h->c->r[R_EAX] = 0x1000;
    h->c->r[R_EBX] = 0x10; /* 0x1000 / 0x10 = 0x100: one bit too wide */
    uint32_t fl = h->c->eflags;
    RUN1(h, 0xF6, 0xF3);
    assert_de_taken(h, fl);
    assert_int_equal(h->c->r[R_EAX], 0x1000);
    h_free(h);
}

static void test_div32_overflow_with_prefix_pushes_ip_of_prefix(void **state)
{
    (void)state;
    struct harness *h = real_with_de_handler();
    h->c->r[R_EDX] = 5;
    h->c->r[R_EAX] = 0xCAFEBABE;
    h->c->r[R_EBX] = 5; /* EDX >= divisor: the quotient needs more than 32 bits */
    uint32_t fl = h->c->eflags;
    RUN1(h, 0x66, 0xF7, 0xF3); /* div ebx */
    assert_de_taken(h, fl);    /* the pushed IP is the 66 prefix, the instruction's start */
    assert_int_equal(h->c->r[R_EDX], 5);
    assert_int_equal(h->c->r[R_EAX], 0xCAFEBABE);
    h_free(h);
}

/* ---------------- IDIV ---------------- */

static void test_idiv_truncates_toward_zero_remainder_takes_dividend_sign(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EAX] = 0xFFF9; /* -7 */
    h->c->r[R_EBX] = 2;
    RUN1(h, 0xF6, 0xFB); /* idiv bl: -7 / 2 = -3 remainder -1 */
    assert_int_equal(h->c->r[R_EAX] & 0xFFFF, 0xFFFD);
    h_free(h);
}

static void test_idiv32_positive_by_negative(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EDX] = 0;
    h->c->r[R_EAX] = 7;
    h->c->r[R_EBX] = 0xFFFFFFFE; /* -2 */
    RUN1(h, 0xF7, 0xFB); /* idiv ebx: 7 / -2 = -3 remainder 1 */
    assert_int_equal(h->c->r[R_EAX], 0xFFFFFFFD);
    assert_int_equal(h->c->r[R_EDX], 1);
    h_free(h);
}

static void test_idiv8_quotient_minus_128_is_legal(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EAX] = 0xFF00; /* -256 */
    h->c->r[R_EBX] = 2;
    RUN1(h, 0xF6, 0xFB); /* idiv bl: -128 fits a signed byte */
    assert_int_equal(h->c->r[R_EAX] & 0xFFFF, 0x0080);
    assert_int_equal(h->c->eip, CODE_AT + 2);
    h_free(h);
}

static void test_idiv8_quotient_plus_128_raises_de(void **state)
{
    (void)state;
    struct harness *h = real_with_de_handler();
    h->c->r[R_EAX] = 0x0100; /* 256 */
    h->c->r[R_EBX] = 2;
    uint32_t fl = h->c->eflags;
    RUN1(h, 0xF6, 0xFB); /* idiv bl: +128 does not fit */
    assert_de_taken(h, fl);
    assert_int_equal(h->c->r[R_EAX], 0x0100);
    h_free(h);
}

static void test_idiv_most_negative_by_minus_one_raises_de(void **state)
{
    (void)state;
    struct harness *h = real_with_de_handler();
    h->c->r[R_EAX] = 0xFF80; /* -128 */
    h->c->r[R_EBX] = 0xFF;   /* -1: the quotient +128 does not fit a signed byte */
    uint32_t fl = h->c->eflags;
    RUN1(h, 0xF6, 0xFB); /* idiv bl */
    assert_de_taken(h, fl);
    assert_int_equal(h->c->r[R_EAX], 0xFF80);
    h_free(h);
}

static void test_idiv32_most_negative_by_minus_one_raises_de(void **state)
{
    (void)state;
    struct harness *h = real_with_de_handler();
    h->c->r[R_EDX] = 0x80000000;
    h->c->r[R_EAX] = 0x00000000; /* -2^63: the C expression INT64_MIN / -1 would be UB */
    h->c->r[R_EBX] = 0xFFFFFFFF;
    uint32_t fl = h->c->eflags;
    RUN1(h, 0x66, 0xF7, 0xFB); /* idiv ebx */
    assert_de_taken(h, fl);
    assert_int_equal(h->c->r[R_EDX], 0x80000000);
    assert_int_equal(h->c->r[R_EAX], 0);
    h_free(h);
}

static void test_idiv32_quotient_minus_2_pow_31_is_legal(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EDX] = 0xFFFFFFFF;
    h->c->r[R_EAX] = 0x00000000; /* -2^32 */
    h->c->r[R_EBX] = 2;
    RUN1(h, 0xF7, 0xFB); /* idiv ebx: -2^31 */
    assert_int_equal(h->c->r[R_EAX], 0x80000000);
    assert_int_equal(h->c->r[R_EDX], 0);
    h_free(h);
}

static void test_idiv16_most_negative_divisor(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EDX] = 0x0000;
    h->c->r[R_EAX] = 0x8001; /* 32769 */
    h->c->r[R_EBX] = 0x8000; /* -32768: 32769 / -32768 = -1 remainder 1 */
    RUN1(h, 0xF7, 0xFB);
    assert_int_equal(h->c->r[R_EAX] & 0xFFFF, 0xFFFF);
    assert_int_equal(h->c->r[R_EDX] & 0xFFFF, 1);
    h_free(h);
}

/* ---------------- group 2 shifts ---------------- */

static void test_shl8_by_one_sets_cf_of_szp(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x40;
    RUN1(h, 0xD0, 0xE3); /* shl bl, 1: 0x40 -> 0x80, sign changed */
    assert_int_equal(h->c->r[R_EBX], 0x80);
    assert_int_equal(FLAGS(h, F_ARITH), F_OF | F_SF);
    h_free(h);
}

static void test_shl8_by_one_carry_out_without_sign_change(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0xC0;
    RUN1(h, 0xD0, 0xE3); /* shl bl, 1: 0xC0 -> 0x80, CF = 1, OF = 1 ^ 1 = 0 */
    assert_int_equal(h->c->r[R_EBX], 0x80);
    assert_int_equal(FLAGS(h, F_ARITH), F_CF | F_SF);
    h_free(h);
}

static void test_shift_count_masked_to_5_bits(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EBX] = 0x00000003;
    h->c->r[R_ECX] = 0x21; /* 33 & 31 = 1 */
    RUN1(h, 0xD3, 0xE3); /* shl ebx, cl */
    assert_int_equal(h->c->r[R_EBX], 0x00000006);
    h_free(h);
}

static void test_shift_masked_count_zero_changes_nothing(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    uint32_t f = F_CF | F_OF | F_ZF | F_AF | F_PF;
    h->c->eflags = (h->c->eflags & ~F_ARITH) | f;
    h->c->r[R_EBX] = 0x81;
    h->c->r[R_ECX] = 0x20; /* 32 masks to 0, even for a byte operand */
    RUN1(h, 0xD2, 0xE3);   /* shl bl, cl */
    assert_int_equal(h->c->r[R_EBX], 0x81);
    assert_int_equal(FLAGS(h, F_ARITH), f);
    RUN1(h, 0xC0, 0xCB, 0x00); /* ror bl, 0 */
    assert_int_equal(h->c->r[R_EBX], 0x81);
    assert_int_equal(FLAGS(h, F_ARITH), f);
    h_free(h);
}

static void test_shr16_by_one_of_is_original_msb(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x8001;
    RUN1(h, 0xD1, 0xEB); /* shr bx, 1 */
    assert_int_equal(h->c->r[R_EBX], 0x4000);
    assert_int_equal(FLAGS(h, F_ARITH), F_CF | F_OF | F_PF);
    h_free(h);
}

static void test_shr16_count_above_width_gives_zero_and_cf_zero(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->eflags |= F_CF;
    h->c->r[R_EBX] = 0xFFFF;
    RUN1(h, 0xC1, 0xEB, 17); /* shr bx, 17: every bit, then a zero, shifted out */
    assert_int_equal(h->c->r[R_EBX], 0);
    assert_int_equal(FLAGS(h, F_CF | F_ZF | F_PF | F_SF), F_ZF | F_PF);
    h_free(h);
}

static void test_shl16_count_equal_width_moves_lsb_into_cf(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x0001;
    RUN1(h, 0xC1, 0xE3, 16); /* shl bx, 16 */
    assert_int_equal(h->c->r[R_EBX], 0);
    assert_int_equal(FLAGS(h, F_CF | F_ZF), F_CF | F_ZF);
    h_free(h);
}

static void test_sar8_fills_with_sign_and_cf_is_last_bit_out(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x94; /* 1001 0100 */
    RUN1(h, 0xC0, 0xFB, 3); /* sar bl, 3 -> 1111 0010, last out = bit 2 = 1 */
    assert_int_equal(h->c->r[R_EBX], 0xF2);
    assert_int_equal(FLAGS(h, F_CF | F_SF | F_ZF | F_OF), F_CF | F_SF);
    h_free(h);
}

static void test_sar8_count_beyond_width_fills_result_and_cf_with_sign(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x80;
    h->c->r[R_ECX] = 20;
    RUN1(h, 0xD2, 0xFB); /* sar bl, cl */
    assert_int_equal(h->c->r[R_EBX], 0xFF);
    assert_int_equal(FLAGS(h, F_CF | F_SF), F_CF | F_SF);
    h_free(h);
}

static void test_sar32_fills_with_sign(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EBX] = 0x80000010;
    RUN1(h, 0xC1, 0xFB, 4); /* sar ebx, 4: last out = bit 3 = 0 */
    assert_int_equal(h->c->r[R_EBX], 0xF8000001);
    assert_int_equal(FLAGS(h, F_CF | F_SF | F_OF), F_SF);
    h_free(h);
}

static void test_sal_reg6_is_an_alias_of_shl(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EBX] = 0x80000001;
    RUN1(h, 0xD1, 0xF3); /* sal ebx, 1 (ModRM reg 6) */
    assert_int_equal(h->c->r[R_EBX], 0x00000002);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_shift_clears_af(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->eflags |= F_AF;
    h->c->r[R_EBX] = 0x0F;
    RUN1(h, 0xC1, 0xE3, 4); /* shl ebx, 4: AF undefined, documented as cleared */
    assert_int_equal(h->c->r[R_EBX], 0xF0);
    assert_int_equal(FLAGS(h, F_AF), 0);
    h_free(h);
}

static void test_shl_multi_bit_of_uses_result_formula(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x20;
    RUN1(h, 0xC0, 0xE3, 3); /* shl bl, 3: 0x20 -> 0x00, CF = 1 */
    assert_int_equal(h->c->r[R_EBX], 0);
    /* Documented choice for count > 1: OF = MSB(result) ^ CF = 0 ^ 1. */
    assert_int_equal(FLAGS(h, F_CF | F_OF | F_ZF), F_CF | F_OF | F_ZF);
    h_free(h);
}

static void test_shl16_memory_operand(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t v[2] = { 0x01, 0x80 };
    h_poke(h, 0x3000, v, 2);
    RUN1(h, 0xD1, 0x26, 0x00, 0x30); /* shl word [0x3000], 1 */
    assert_int_equal(h_peek(h, 0x3000, 2), 0x0002);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

/* ---------------- rotates ---------------- */

static void test_rol8_by_one_sets_cf_of(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x80;
    RUN1(h, 0xD0, 0xC3); /* rol bl, 1: 0x80 -> 0x01, CF = 1, OF = 0 ^ 1 */
    assert_int_equal(h->c->r[R_EBX], 0x01);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_rotates_change_only_cf_and_of(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint32_t others = F_ZF | F_SF | F_PF | F_AF;
    h->c->eflags = (h->c->eflags & ~F_ARITH) | others;
    h->c->r[R_EBX] = 0x12345678;
    RUN1(h, 0xC1, 0xCB, 4); /* ror ebx, 4 */
    assert_int_equal(h->c->r[R_EBX], 0x81234567);
    /* CF = MSB(result) = 1; OF = MSB ^ MSB-1 = 1 (the count-1 formula, documented choice). */
    assert_int_equal(FLAGS(h, F_ARITH), others | F_CF | F_OF);
    h_free(h);
}

static void test_rol8_count_multiple_of_8_keeps_value_but_sets_cf(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x01;
    RUN1(h, 0xC0, 0xC3, 8); /* rol bl, 8: value unchanged, CF = LSB = 1 */
    assert_int_equal(h->c->r[R_EBX], 0x01);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_CF | F_OF);
    h_free(h);
}

static void test_rol8_count_above_width_rotates_mod_8(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x81;
    h->c->r[R_ECX] = 10; /* rotates by 10 mod 8 = 2: 1000 0001 -> 0000 0110 */
    RUN1(h, 0xD2, 0xC3); /* rol bl, cl */
    assert_int_equal(h->c->r[R_EBX], 0x06);
    assert_int_equal(FLAGS(h, F_CF), 0);
    h_free(h);
}

static void test_ror16_count_16_sets_cf_from_msb(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->eflags |= F_CF;
    h->c->r[R_EBX] = 0x4000;
    RUN1(h, 0xC1, 0xCB, 16); /* ror bx, 16: value unchanged, CF = MSB = 0 */
    assert_int_equal(h->c->r[R_EBX], 0x4000);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_OF); /* OF = 0 ^ 1 */
    h_free(h);
}

static void test_rcl8_count_taken_mod_9(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->eflags |= F_CF;
    h->c->r[R_EBX] = 0x80;
    h->c->r[R_ECX] = 9; /* 9 mod 9 = 0: CF:BL rotates back to itself */
    RUN1(h, 0xD2, 0xD3); /* rcl bl, cl */
    assert_int_equal(h->c->r[R_EBX], 0x80);
    assert_int_equal(FLAGS(h, F_CF), F_CF);
    h->c->r[R_ECX] = 19; /* 19 mod 9 = 1: 1:1000 0000 -> 1:0000 0001 */
    RUN1(h, 0xD2, 0xD3);
    assert_int_equal(h->c->r[R_EBX], 0x01);
    assert_int_equal(FLAGS(h, F_CF), F_CF);
    h_free(h);
}

static void test_rcl8_by_one_shifts_cf_in(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->eflags |= F_CF;
    h->c->r[R_EBX] = 0x40;
    RUN1(h, 0xD0, 0xD3); /* rcl bl, 1: CF=1, 0100 0000 -> CF=0, 1000 0001 */
    assert_int_equal(h->c->r[R_EBX], 0x81);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_OF);
    h_free(h);
}

static void test_rcr16_count_taken_mod_17(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->eflags &= ~F_CF;
    h->c->r[R_EBX] = 0x0001;
    h->c->r[R_ECX] = 17; /* 17 mod 17 = 0 */
    RUN1(h, 0xD3, 0xDB); /* rcr bx, cl */
    assert_int_equal(h->c->r[R_EBX], 0x0001);
    assert_int_equal(FLAGS(h, F_CF), 0);
    h->c->r[R_ECX] = 18; /* 18 mod 17 = 1 */
    RUN1(h, 0xD3, 0xDB);
    assert_int_equal(h->c->r[R_EBX], 0x0000);
    assert_int_equal(FLAGS(h, F_CF), F_CF);
    h_free(h);
}

static void test_rcr8_by_one_of_is_msb_xor_old_cf(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->eflags |= F_CF;
    h->c->r[R_EBX] = 0x02;
    RUN1(h, 0xD0, 0xDB); /* rcr bl, 1: 1:0000 0010 -> 0:1000 0001 */
    assert_int_equal(h->c->r[R_EBX], 0x81);
    assert_int_equal(FLAGS(h, F_CF | F_OF), F_OF); /* OF = MSB(dest) 0 ^ CF 1 */
    h_free(h);
}

static void test_rcl32_count_31_is_not_reduced(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->eflags &= ~F_CF;
    h->c->r[R_EBX] = 0x00000002;
    RUN1(h, 0xC1, 0xD3, 31); /* rcl ebx, 31 on 33 bits = rcr by 2: 0:..0010 -> 1:0000..0000 */
    assert_int_equal(h->c->r[R_EBX], 0x00000000);
    assert_int_equal(FLAGS(h, F_CF), F_CF);
    h_free(h);
}

/* ---------------- SHLD / SHRD ---------------- */

static void test_shld32_imm_shifts_in_source_bits(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EBX] = 0x12345678;
    h->c->r[R_EDX] = 0x9ABCDEF0;
    RUN1(h, 0x0F, 0xA4, 0xD3, 4); /* shld ebx, edx, 4 */
    assert_int_equal(h->c->r[R_EBX], 0x23456789);
    assert_int_equal(h->c->r[R_EDX], 0x9ABCDEF0);
    assert_int_equal(FLAGS(h, F_CF | F_SF | F_ZF), F_CF); /* last out: bit 28 of 0x12345678 */
    h_free(h);
}

static void test_shrd32_cl_shifts_in_source_bits(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EBX] = 0x12345678;
    h->c->r[R_EDX] = 0x9ABCDEF0;
    h->c->r[R_ECX] = 8;
    RUN1(h, 0x0F, 0xAD, 0xD3); /* shrd ebx, edx, cl */
    assert_int_equal(h->c->r[R_EBX], 0xF0123456);
    assert_int_equal(FLAGS(h, F_CF | F_SF | F_ZF), F_SF); /* last out: bit 7 of 0x78 = 0 */
    h_free(h);
}

static void test_shld32_by_one_of_is_sign_change(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EBX] = 0x40000000;
    h->c->r[R_EDX] = 0;
    RUN1(h, 0x0F, 0xA4, 0xD3, 1);
    assert_int_equal(h->c->r[R_EBX], 0x80000000);
    assert_int_equal(FLAGS(h, F_CF | F_OF | F_SF | F_PF), F_OF | F_SF | F_PF);
    h_free(h);
}

static void test_shrd16_by_one_of_is_sign_change(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x8000;
    h->c->r[R_EDX] = 0x0000;
    RUN1(h, 0x0F, 0xAC, 0xD3, 1); /* shrd bx, dx, 1: 0x8000 -> 0x4000 */
    assert_int_equal(h->c->r[R_EBX], 0x4000);
    assert_int_equal(FLAGS(h, F_CF | F_OF | F_SF), F_OF);
    h_free(h);
}

static void test_shld_count_zero_changes_nothing(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint32_t f = F_CF | F_SF | F_OF;
    h->c->eflags = (h->c->eflags & ~F_ARITH) | f;
    h->c->r[R_EBX] = 0x12345678;
    h->c->r[R_EDX] = 0xFFFFFFFF;
    h->c->r[R_ECX] = 32; /* masks to 0 */
    RUN1(h, 0x0F, 0xA5, 0xD3); /* shld ebx, edx, cl */
    assert_int_equal(h->c->r[R_EBX], 0x12345678);
    assert_int_equal(FLAGS(h, F_ARITH), f);
    h_free(h);
}

static void test_shld16_count_above_16_shifts_dest_src_dest(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x1234;
    h->c->r[R_EDX] = 0x5678;
    h->c->r[R_ECX] = 20;
    RUN1(h, 0x0F, 0xA5, 0xD3); /* shld bx, dx, cl */
    /* 0x1234_5678_1234 << 20, top 16 bits: 0x6781; CF = bit 28 of the 48 = bit 12 of DX = 1. */
    assert_int_equal(h->c->r[R_EBX], 0x6781);
    assert_int_equal(FLAGS(h, F_CF | F_ZF | F_SF), F_CF);
    h_free(h);
}

static void test_shrd16_count_above_16_shifts_dest_src_dest(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x1234;
    h->c->r[R_EDX] = 0x5678;
    RUN1(h, 0x0F, 0xAC, 0xD3, 20); /* shrd bx, dx, 20 */
    /* 0x1234_5678_1234 >> 20, low 16 bits: 0x4567; CF = bit 19 of the 48 = bit 3 of DX = 1. */
    assert_int_equal(h->c->r[R_EBX], 0x4567);
    assert_int_equal(FLAGS(h, F_CF | F_ZF | F_SF), F_CF);
    h_free(h);
}

static void test_shld16_count_16_moves_source_in_whole(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EBX] = 0x0001;
    h->c->r[R_EDX] = 0xBEEF;
    RUN1(h, 0x0F, 0xA4, 0xD3, 16); /* shld bx, dx, 16 */
    assert_int_equal(h->c->r[R_EBX], 0xBEEF);
    assert_int_equal(FLAGS(h, F_CF | F_SF), F_CF | F_SF); /* CF = bit 0 of the old BX */
    h_free(h);
}

static void test_shrd32_memory_destination(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    static const uint8_t v[4] = { 0x01, 0x00, 0x00, 0x00 };
    h_poke(h, 0x3000, v, 4);
    h->c->r[R_EDX] = 0x00000003;
    RUN1(h, 0x0F, 0xAC, 0x15, 0x00, 0x30, 0x00, 0x00, 2); /* shrd dword [0x3000], edx, 2 */
    assert_int_equal(h_peek(h, 0x3000, 4), 0xC0000000);
    assert_int_equal(FLAGS(h, F_CF | F_SF), F_SF); /* last out: bit 1 of 1 = 0 */
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mul8_sets_cf_of_when_ah_nonzero),
        cmocka_unit_test(test_mul8_clears_cf_of_and_sets_szp_from_low_half),
        cmocka_unit_test(test_mul16_writes_dx_ax_and_keeps_upper_halves),
        cmocka_unit_test(test_mul32_full_64_bit_product),
        cmocka_unit_test(test_mul8_memory_operand),
        cmocka_unit_test(test_imul1_8bit_in_range_product_clears_cf_of),
        cmocka_unit_test(test_imul1_8bit_product_128_sets_cf_of),
        cmocka_unit_test(test_imul1_32bit_negative_product_fills_edx),
        cmocka_unit_test(test_imul_2op_truncates_and_sets_cf_of),
        cmocka_unit_test(test_imul_2op_16bit_minus_one_times_most_negative_overflows),
        cmocka_unit_test(test_imul_3op_sets_cf_of_on_overflow),
        cmocka_unit_test(test_imul_3op_negative_product_in_range_clears_cf_of),
        cmocka_unit_test(test_imul_6b_sign_extends_imm8),
        cmocka_unit_test(test_imul_69_16bit_immediate),
        cmocka_unit_test(test_div8_quotient_in_al_remainder_in_ah),
        cmocka_unit_test(test_div32_divides_edx_eax),
        cmocka_unit_test(test_div_leaves_flags_unchanged),
        cmocka_unit_test(test_div_by_zero_raises_de),
        cmocka_unit_test(test_div_by_zero_memory_divisor_raises_de),
        cmocka_unit_test(test_div8_quotient_overflow_raises_de),
        cmocka_unit_test(test_div32_overflow_with_prefix_pushes_ip_of_prefix),
        cmocka_unit_test(test_idiv_truncates_toward_zero_remainder_takes_dividend_sign),
        cmocka_unit_test(test_idiv32_positive_by_negative),
        cmocka_unit_test(test_idiv8_quotient_minus_128_is_legal),
        cmocka_unit_test(test_idiv8_quotient_plus_128_raises_de),
        cmocka_unit_test(test_idiv_most_negative_by_minus_one_raises_de),
        cmocka_unit_test(test_idiv32_most_negative_by_minus_one_raises_de),
        cmocka_unit_test(test_idiv32_quotient_minus_2_pow_31_is_legal),
        cmocka_unit_test(test_idiv16_most_negative_divisor),
        cmocka_unit_test(test_shl8_by_one_sets_cf_of_szp),
        cmocka_unit_test(test_shl8_by_one_carry_out_without_sign_change),
        cmocka_unit_test(test_shift_count_masked_to_5_bits),
        cmocka_unit_test(test_shift_masked_count_zero_changes_nothing),
        cmocka_unit_test(test_shr16_by_one_of_is_original_msb),
        cmocka_unit_test(test_shr16_count_above_width_gives_zero_and_cf_zero),
        cmocka_unit_test(test_shl16_count_equal_width_moves_lsb_into_cf),
        cmocka_unit_test(test_sar8_fills_with_sign_and_cf_is_last_bit_out),
        cmocka_unit_test(test_sar8_count_beyond_width_fills_result_and_cf_with_sign),
        cmocka_unit_test(test_sar32_fills_with_sign),
        cmocka_unit_test(test_sal_reg6_is_an_alias_of_shl),
        cmocka_unit_test(test_shift_clears_af),
        cmocka_unit_test(test_shl_multi_bit_of_uses_result_formula),
        cmocka_unit_test(test_shl16_memory_operand),
        cmocka_unit_test(test_rol8_by_one_sets_cf_of),
        cmocka_unit_test(test_rotates_change_only_cf_and_of),
        cmocka_unit_test(test_rol8_count_multiple_of_8_keeps_value_but_sets_cf),
        cmocka_unit_test(test_rol8_count_above_width_rotates_mod_8),
        cmocka_unit_test(test_ror16_count_16_sets_cf_from_msb),
        cmocka_unit_test(test_rcl8_count_taken_mod_9),
        cmocka_unit_test(test_rcl8_by_one_shifts_cf_in),
        cmocka_unit_test(test_rcr16_count_taken_mod_17),
        cmocka_unit_test(test_rcr8_by_one_of_is_msb_xor_old_cf),
        cmocka_unit_test(test_rcl32_count_31_is_not_reduced),
        cmocka_unit_test(test_shld32_imm_shifts_in_source_bits),
        cmocka_unit_test(test_shrd32_cl_shifts_in_source_bits),
        cmocka_unit_test(test_shld32_by_one_of_is_sign_change),
        cmocka_unit_test(test_shrd16_by_one_of_is_sign_change),
        cmocka_unit_test(test_shld_count_zero_changes_nothing),
        cmocka_unit_test(test_shld16_count_above_16_shifts_dest_src_dest),
        cmocka_unit_test(test_shrd16_count_above_16_shifts_dest_src_dest),
        cmocka_unit_test(test_shld16_count_16_moves_source_in_whole),
        cmocka_unit_test(test_shrd32_memory_destination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

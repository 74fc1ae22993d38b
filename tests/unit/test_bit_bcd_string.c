/* Unit tests of the bit-test/scan, decimal-adjust and string instruction handlers.
 * Expected values are worked out by hand from the Intel SDM Vol. 2 pseudo-code and examples
 * (DAA/DAS examples are the SDM's own), and Vol. 1 §7.3.9.1 for interrupted REP strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define CODE 0x1000u
#define HANDLER 0x5000u

static uint32_t ax(const struct harness *h) { return h->c->r[R_EAX] & 0xFFFF; }
static int flag(const struct harness *h, uint32_t f) { return (h->c->eflags & f) != 0; }

/* Real mode: the IP word an exception or interrupt pushed (the last of FLAGS, CS, IP). */
static uint32_t pushed_ip(struct harness *h)
{
    return h_peek(h, h->c->seg[S_SS].base + (h->c->r[R_ESP] & 0xFFFF), 2);
}

/* ---------------- BT BTS BTR BTC BSF BSR ---------------- */

static void test_bt_mem_negative_offset_addresses_below_operand(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    /* bt [bx],ax ; bts [bx],eax */
    static const uint8_t code[] = { 0x0F, 0xA3, 0x07, 0x66, 0x0F, 0xAB, 0x07 };
    h_code(h, CODE, code, sizeof(code));
    h_poke(h, 0x1FFE, (uint8_t[]){ 0x00, 0x80 }, 2); /* bit 15 of the word below the operand */
    h->c->r[R_EBX] = 0x2000;
    h->c->r[R_EAX] = 0xFFFF; /* -1: the word at EA - 2, bit 15 */
    h->c->eflags |= F_ZF;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->last_fault, -1);
    assert_true(flag(h, F_CF));
    assert_true(flag(h, F_ZF)); /* ZF is not affected */

    /* -33 with a 32-bit operand: dword at EA + (-33 >> 5) * 4 = EA - 8, bit -33 & 31 = 31. */
    h->c->r[R_EAX] = (uint32_t)-33;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_false(flag(h, F_CF));
    assert_int_equal(h_peek(h, 0x1FF8, 4), 0x80000000u);
    assert_int_equal(h_peek(h, 0x2000, 4), 0);
    h_free(h);
}

/* 32-bit addressing: no wrap hides the sign, so the offset must be shifted arithmetically. */
static void test_bt_mem_negative_offset_32bit_addressing(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    static const uint8_t code[] = { 0x0F, 0xA3, 0x03 }; /* bt [ebx],eax */
    h_code(h, CODE, code, sizeof(code));
    h_poke(h, 0x1FFC, (uint8_t[]){ 0x00, 0x00, 0x00, 0x80 }, 4);
    h->c->r[R_EBX] = 0x2000;
    h->c->r[R_EAX] = 0xFFFFFFFF; /* -1: dword at EA - 4, bit 31 */
    h->c->seg[S_DS].limit = 0xFFFFF; /* a logical shift would land near 2000_0000h, past it */
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->last_fault, -1);
    assert_true(flag(h, F_CF));
    h_free(h);
}

static void test_bt_mem_offset_wraps_in_16bit_addressing(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0x0F, 0xB3, 0x07 }; /* btr [bx],ax */
    h_code(h, CODE, code, sizeof(code));
    h_poke(h, 0xFFFA, (uint8_t[]){ 0x01, 0x00 }, 2);
    h->c->r[R_EBX] = 0x0002;
    h->c->r[R_EAX] = 0xFFC0; /* -64: word at 2 - 8 = FFFAh after the 16-bit wrap, bit 0 */
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->last_fault, -1);
    assert_true(flag(h, F_CF));
    assert_int_equal(h_peek(h, 0xFFFA, 2), 0x0000);
    h_free(h);
}

static void test_bt_reg_and_imm_offsets_are_modulo_width(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    /* bt ax,cx ; btc word [bx],21h */
    static const uint8_t code[] = { 0x0F, 0xA3, 0xC8, 0x0F, 0xBA, 0x3F, 0x21 };
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EAX] = 0x00000002;
    h->c->r[R_ECX] = 17; /* bit 17 mod 16 = 1 */
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_true(flag(h, F_CF));

    h->c->r[R_EBX] = 0x2000;
    h_poke(h, 0x2000, (uint8_t[]){ 0x03, 0x00, 0x00, 0x00, 0x55, 0x55 }, 6);
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET); /* 21h mod 16 = bit 1 of the word at EA itself */
    assert_true(flag(h, F_CF));
    assert_int_equal(h_peek(h, 0x2000, 2), 0x0001);
    assert_int_equal(h_peek(h, 0x2004, 2), 0x5555);
    h_free(h);
}

static void test_bsf_zero_source_leaves_dest(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0x0F, 0xBC, 0xC3, 0x0F, 0xBC, 0xC3 }; /* bsf ax,bx twice */
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EAX] = 0xCAFE1234;
    h->c->r[R_EBX] = 0;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->r[R_EAX], 0xCAFE1234u);
    assert_true(flag(h, F_ZF));

    h->c->r[R_EBX] = 0x0050;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->r[R_EAX], 0xCAFE0004u);
    assert_false(flag(h, F_ZF));
    h_free(h);
}

static void test_bsr_finds_highest_set_bit(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0x66, 0x0F, 0xBD, 0xC3 }; /* bsr eax,ebx */
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EBX] = 0x00400001;
    h->c->eflags |= F_ZF;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->r[R_EAX], 22);
    assert_false(flag(h, F_ZF));
    h_free(h);
}

/* ---------------- DAA DAS AAA AAS AAM AAD ---------------- */

/* SDM DAA example: ADD AL,BL with 79h + 35h gives AEh; DAA gives 14h with CF = AF = 1. */
static void test_daa_adjusts_both_nibbles_after_add(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0x04, 0x35, 0x27 }; /* add al,35h ; daa */
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EAX] = 0x1279;
    assert_int_equal(h_step(h, 2), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x1214);
    assert_true(flag(h, F_CF));
    assert_true(flag(h, F_AF));
    assert_true(flag(h, F_PF)); /* 14h has two bits set */
    assert_false(flag(h, F_ZF));
    assert_false(flag(h, F_SF));
    h_free(h);
}

/* SDM DAS example: SUB AL,BL with 35h - 47h gives EEh; DAS gives 88h with CF = AF = 1. */
static void test_das_adjusts_both_nibbles_after_sub(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0x2C, 0x47, 0x2F }; /* sub al,47h ; das */
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EAX] = 0x0035;
    assert_int_equal(h_step(h, 2), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x0088);
    assert_true(flag(h, F_CF));
    assert_true(flag(h, F_AF));
    assert_true(flag(h, F_SF));
    assert_true(flag(h, F_PF));
    assert_false(flag(h, F_ZF));
    h_free(h);
}

/* DAS has no ELSE CF <- 0: the borrow of AL - 6 with AL < 6 stays in CF. */
static void test_das_low_nibble_borrow_sets_cf(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0x2F };
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EAX] = 0x0003;
    h->c->eflags = (h->c->eflags & ~F_CF) | F_AF;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x00FD);
    assert_true(flag(h, F_CF));
    assert_true(flag(h, F_AF));
    h_free(h);
}

static void test_aaa_adds_106h_to_ax(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0x37, 0x37, 0x37 };
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EAX] = 0x000C; /* 5 + 7 */
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x0102);
    assert_true(flag(h, F_CF) && flag(h, F_AF));

    /* AL = FAh: AL + 6 carries into AH on top of the AH + 1 (AX + 106h, SDM). */
    h->c->r[R_EAX] = 0x00FA;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x0200);

    h->c->r[R_EAX] = 0x0134; /* low nibble 4, AF clear: only the mask */
    h->c->eflags &= ~F_AF;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x0104);
    assert_false(flag(h, F_CF) || flag(h, F_AF));
    h_free(h);
}

static void test_aas_borrows_from_ah(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0x3F };
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EAX] = 0x0205;
    h->c->eflags |= F_AF;
    /* AX - 6 = 01FFh (the borrow reaches AH), AH - 1 = 00h, AL & 0Fh = 0Fh. */
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x000F);
    assert_true(flag(h, F_CF) && flag(h, F_AF));
    h_free(h);
}

static void test_aam_zero_raises_de(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xD4, 0x00 };
    h_code(h, CODE, code, sizeof(code));
    h_set_ivt(h, EXC_DE, HANDLER);
    h->c->r[R_EAX] = 0x1234;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->last_fault, EXC_DE);
    assert_int_equal(h->c->eip, HANDLER);
    assert_int_equal(pushed_ip(h), CODE); /* #DE is a fault: IP of the AAM itself */
    assert_int_equal(ax(h), 0x1234);
    h_free(h);
}

static void test_aam_aad_split_and_join_digits(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xD4, 0x0A, 0xD5, 0x0A, 0xD4, 0x10 }; /* aam ; aad ; aam 16 */
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EAX] = 0xAB4F; /* 79 */
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x0709);
    assert_true(flag(h, F_PF)); /* 09h: two bits */
    assert_false(flag(h, F_ZF));
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x004F);
    assert_false(flag(h, F_PF)); /* 4Fh: five bits */
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(ax(h), 0x040F);
    h_free(h);
}

/* ---------------- string instructions ---------------- */

static void test_rep_movsw_16bit_addressing_wraps_si_di(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xF3, 0xA5 }; /* rep movsw */
    h_code(h, CODE, code, sizeof(code));
    cpu_load_seg_real(h->c, S_DS, 0x2000);
    cpu_load_seg_real(h->c, S_ES, 0x3000);
    h_poke(h, 0x2FFFE, (uint8_t[]){ 0x11, 0x11 }, 2);
    h_poke(h, 0x20000, (uint8_t[]){ 0x22, 0x22, 0x33, 0x33 }, 4);
    h->c->r[R_ESI] = 0xABCDFFFE;
    h->c->r[R_EDI] = 0x1234FFFE;
    h->c->r[R_ECX] = 0x55550003;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->eip, CODE + 2);
    assert_int_equal(h->c->r[R_ECX], 0x55550000u);
    assert_int_equal(h->c->r[R_ESI], 0xABCD0004u);
    assert_int_equal(h->c->r[R_EDI], 0x12340004u);
    assert_int_equal(h_peek(h, 0x3FFFE, 2), 0x1111);
    assert_int_equal(h_peek(h, 0x30000, 2), 0x2222);
    assert_int_equal(h_peek(h, 0x30002, 2), 0x3333);
    h_free(h);
}

static void test_rep_stos_fault_midway_keeps_completed_iterations(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xF3, 0xAB }; /* rep stosw */
    h_code(h, CODE, code, sizeof(code));
    h_set_ivt(h, EXC_GP, HANDLER);
    cpu_load_seg_real(h->c, S_ES, 0x3000);
    h->c->r[R_EAX] = 0xBEEF;
    h->c->r[R_EDI] = 0xFFFB; /* FFFB and FFFD fit; the word at FFFF crosses the limit */
    h->c->r[R_ECX] = 5;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->eip, HANDLER);
    assert_int_equal(pushed_ip(h), CODE); /* the REP prefix, to resume */
    assert_int_equal(h->c->r[R_ECX], 3);
    assert_int_equal(h->c->r[R_EDI], 0xFFFF);
    assert_int_equal(h_peek(h, 0x3FFFB, 4), 0xBEEFBEEFu);
    assert_int_equal(h_peek(h, 0x3FFFF, 1), 0);
    h_free(h);
}

static void test_repe_cmpsb_stops_on_mismatch(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xF3, 0xA6 }; /* repe cmpsb */
    h_code(h, CODE, code, sizeof(code));
    h_poke(h, 0x2000, "ABCD", 4);
    h_poke(h, 0x3000, "ABXD", 4);
    h->c->r[R_ESI] = 0x2000;
    h->c->r[R_EDI] = 0x3000;
    h->c->r[R_ECX] = 4;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->eip, CODE + 2);
    assert_int_equal(h->c->r[R_ECX], 1);
    assert_int_equal(h->c->r[R_ESI], 0x2003);
    assert_int_equal(h->c->r[R_EDI], 0x3003);
    assert_false(flag(h, F_ZF));
    assert_true(flag(h, F_CF)); /* 'C' - 'X' borrows */
    h_free(h);
}

static void test_repne_scasb_stops_on_match(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xF2, 0xAE }; /* repne scasb */
    h_code(h, CODE, code, sizeof(code));
    h_poke(h, 0x3000, "ABCD", 4);
    h->c->r[R_EAX] = 'C';
    h->c->r[R_EDI] = 0x3000;
    h->c->r[R_ECX] = 10;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->r[R_ECX], 7);
    assert_int_equal(h->c->r[R_EDI], 0x3003);
    assert_true(flag(h, F_ZF));
    h_free(h);
}

static void test_rep_with_zero_count_touches_nothing(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xF3, 0xA5, 0xF3, 0xA6 }; /* rep movsw ; repe cmpsb */
    h_code(h, CODE, code, sizeof(code));
    /* Both addresses would fault (a word at FFFFh) if anything were accessed. */
    h->c->r[R_ESI] = 0xFFFF;
    h->c->r[R_EDI] = 0xFFFF;
    h->c->r[R_ECX] = 0xABCD0000;
    h->c->eflags |= F_ZF | F_CF;
    assert_int_equal(h_step(h, 2), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->eip, CODE + 4);
    assert_int_equal(h->c->r[R_ESI], 0xFFFF);
    assert_int_equal(h->c->r[R_EDI], 0xFFFF);
    assert_int_equal(h->c->r[R_ECX], 0xABCD0000u);
    assert_true(flag(h, F_ZF) && flag(h, F_CF)); /* CMPS never ran */
    h_free(h);
}

static void test_std_rep_movsd_32bit_moves_backward(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    static const uint8_t code[] = { 0xF3, 0xA5 }; /* rep movsd (32-bit code) */
    h_code(h, CODE, code, sizeof(code));
    h_poke(h, 0x20004, (uint8_t[]){ 1, 2, 3, 4, 5, 6, 7, 8 }, 8);
    h->c->r[R_ESI] = 0x20008;
    h->c->r[R_EDI] = 0x30008;
    h->c->r[R_ECX] = 2;
    h->c->eflags |= F_DF;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->r[R_ESI], 0x20000);
    assert_int_equal(h->c->r[R_EDI], 0x30000);
    assert_int_equal(h->c->r[R_ECX], 0);
    assert_int_equal(h_peek(h, 0x30004, 4), 0x04030201u);
    assert_int_equal(h_peek(h, 0x30008, 4), 0x08070605u);
    assert_int_equal(h_peek(h, 0x3000C, 4), 0);
    h_free(h);
}

static void test_rep_movsb_long_count_resumes_in_chunks(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xF3, 0xA4 }; /* rep movsb */
    h_code(h, CODE, code, sizeof(code));
    cpu_load_seg_real(h->c, S_DS, 0x2000);
    cpu_load_seg_real(h->c, S_ES, 0x3000);
    h_poke(h, 0x20000 + 4999, (uint8_t[]){ 0x77 }, 1);
    h->c->r[R_ECX] = 5000;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->eip, CODE); /* yielded: will re-execute */
    assert_int_equal(h->c->r[R_ECX], 5000 - 4096);
    assert_int_equal(h->c->r[R_ESI], 4096);
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->eip, CODE + 2);
    assert_int_equal(h->c->r[R_ECX], 0);
    assert_int_equal(h->c->r[R_EDI], 5000);
    assert_int_equal(h_peek(h, 0x30000 + 4999, 1), 0x77);
    h_free(h);
}

/* REP MOVS and REP STOS of every element size, both directions, overlapping or not, across page
 * boundaries and chunk ends, in flat 32-bit mode (where cpu/ops_string.c moves runs of elements
 * on the host bytes at once), against a model that moves one element at a time. */
static void test_rep_movs_stos_runs_match_element_by_element(void **state)
{
    (void)state;
    static const struct {
        uint8_t op;       /* A4 A5 AA AB (with 66: word) */
        int o16, df;
        uint32_t si, di, count;
    } cases[] = {
        { 0xA4, 0, 0, 0x20010, 0x30000, 10000 },  /* 3 chunks, 3 pages each side */
        { 0xA5, 0, 0, 0x20ffe, 0x31003, 3000 },   /* unaligned, elements across page ends */
        { 0xA4, 0, 0, 0x20100, 0x20101, 700 },    /* dst = src + 1: a byte fill */
        { 0xA5, 0, 0, 0x20100, 0x20102, 700 },    /* overlapping dwords, forwards */
        { 0xA5, 1, 0, 0x20102, 0x20100, 900 },    /* words, dst below src */
        { 0xA5, 0, 1, 0x23ff0, 0x24ff3, 2500 },   /* backwards across pages */
        { 0xA4, 0, 1, 0x20900, 0x208ff, 1300 },   /* backwards, dst = src - 1 */
        { 0xAA, 0, 0, 0, 0x30ffd, 9000 },         /* stosb */
        { 0xAB, 0, 1, 0, 0x33001, 1500 },         /* stosd backwards, unaligned */
        { 0xAB, 1, 0, 0, 0x30001, 2049 },         /* stosw */
    };
    static uint8_t model[0x20000], got[0x20000];
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct harness *h = h_new(1);
        uint8_t code[4];
        size_t n = 0;
        if (cases[k].o16)
            code[n++] = 0x66;
        code[n++] = 0xF3;
        code[n++] = cases[k].op;
        h_code(h, CODE, code, n);
        for (uint32_t a = 0; a < sizeof(model); a++)
            model[a] = (uint8_t)(a * 7 + (a >> 8) + k);
        h_poke(h, 0x20000, model, sizeof(model));
        int size = (cases[k].op & 1) ? (cases[k].o16 ? 2 : 4) : 1, movs = cases[k].op < 0xA8;
        int32_t step = cases[k].df ? -size : size;
        uint32_t si = cases[k].si, di = cases[k].di, eax = 0x89ABCDEFu;
        h->c->r[R_ESI] = si;
        h->c->r[R_EDI] = di;
        h->c->r[R_ECX] = cases[k].count;
        h->c->r[R_EAX] = eax;
        if (cases[k].df)
            h->c->eflags |= F_DF;
        for (uint32_t i = 0; i < cases[k].count; i++, si += (uint32_t)step, di += (uint32_t)step) {
            uint8_t v[4];
            memcpy(v, movs ? &model[si - 0x20000] : (const uint8_t *)&eax, (size_t)size);
            memcpy(&model[di - 0x20000], v, (size_t)size);
        }
        int steps = 0;
        while (h->c->eip != CODE + n && steps < 100) {
            steps += h_step(h, 1) == CPU_EXIT_BUDGET ? 1 : 100;
            /* Each step but the last ends after exactly 4096 iterations, as element by element. */
            if (h->c->eip != CODE + n)
                assert_int_equal(h->c->r[R_ECX], cases[k].count - 4096u * (uint32_t)steps);
        }
        assert_int_equal(steps, (cases[k].count + 4095) / 4096); /* one step per 4096 iterations */
        assert_int_equal(h->c->last_fault, -1);
        assert_int_equal(h->c->r[R_ECX], 0);
        assert_int_equal(h->c->r[R_EDI], di);
        assert_int_equal(h->c->r[R_ESI], movs ? si : cases[k].si);
        phys_read_buf(&h->m->mem, 0x20000, got, sizeof(got));
        assert_memory_equal(got, model, sizeof(model));
        h_free(h);
    }
}

/* A run stops at the segment limit: the element that crosses it faults (#GP) with ECX and EDI
 * as after the last element that fit, and nothing past the limit written. */
static void test_rep_stosd_run_faults_at_exact_element_past_limit(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    static const uint8_t code[] = { 0xF3, 0xAB }; /* rep stosd */
    h_code(h, CODE, code, sizeof(code));
    h->c->seg[S_ES].limit = 0x30FFE; /* the dword at 0x30FFC ends past it */
    h->c->seg[S_ES].ar &= (uint16_t)~AR_G;
    h->c->r[R_EAX] = 0x11223344;
    h->c->r[R_EDI] = 0x30000;
    h->c->r[R_ECX] = 0x500;
    h_step(h, 1);
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->r[R_ECX], 0x500 - 0x3FF);
    assert_int_equal(h->c->r[R_EDI], 0x30FFC);
    assert_int_equal(h_peek(h, 0x30FF8, 4), 0x11223344u);
    assert_int_equal(h_peek(h, 0x30FFC, 4), 0);
    h_free(h);
}

/* With TF set the single-step trap comes after every iteration, with IP still at the REP. */
static void test_rep_stosb_single_steps_each_iteration(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    static const uint8_t code[] = { 0xF3, 0xAA }; /* rep stosb */
    h_code(h, CODE, code, sizeof(code));
    h_set_ivt(h, EXC_DB, HANDLER);
    h->c->r[R_EDI] = 0x3000;
    h->c->r[R_ECX] = 3;
    h->c->eflags |= F_TF;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->eip, HANDLER);
    assert_int_equal(pushed_ip(h), CODE);
    assert_int_equal(h->c->r[R_ECX], 2);
    assert_int_equal(h->c->r[R_EDI], 0x3001);
    h_free(h);
}

/* ---------------- INS OUTS ---------------- */

struct fake_port {
    uint32_t next_in;  /* value the next read returns; incremented by 0x11 per read */
    int reads;
    uint8_t out[8];
    int writes;
};

static uint32_t fake_in(void *opaque, uint16_t port, int size)
{
    (void)port;
    (void)size;
    struct fake_port *p = opaque;
    p->reads++;
    uint32_t v = p->next_in;
    p->next_in += 0x11;
    return v;
}

static void fake_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)port;
    (void)size;
    struct fake_port *p = opaque;
    if (p->writes < (int)sizeof(p->out))
        p->out[p->writes] = (uint8_t)val;
    p->writes++;
}

static void attach_port(struct harness *h, struct fake_port *p)
{
    struct io_handler ioh = { .in = fake_in, .out = fake_out, .opaque = p, .wide = 0 };
    assert_int_equal(ioports_register(&h->m->io, 0x300, 1, &ioh), 0);
    h->c->r[R_EDX] = 0x300;
}

static void test_ins_reads_port_into_memory(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    struct fake_port p = { .next_in = 0x11 };
    attach_port(h, &p);
    static const uint8_t code[] = { 0xF3, 0x6C }; /* rep insb */
    h_code(h, CODE, code, sizeof(code));
    h->c->r[R_EDI] = 0x2000;
    h->c->r[R_ECX] = 3;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(p.reads, 3);
    assert_int_equal(h_peek(h, 0x2000, 4), 0x00332211u);
    assert_int_equal(h->c->r[R_EDI], 0x2003);
    assert_int_equal(h->c->r[R_ECX], 0);
    h_free(h);
}

static void test_ins_fault_does_not_consume_port_data(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    struct fake_port p = { .next_in = 0x11 };
    attach_port(h, &p);
    static const uint8_t code[] = { 0x6D }; /* insw */
    h_code(h, CODE, code, sizeof(code));
    h_set_ivt(h, EXC_GP, HANDLER);
    h->c->r[R_EDI] = 0xFFFF; /* the word would cross the ES limit */
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(pushed_ip(h), CODE);
    assert_int_equal(p.reads, 0);
    assert_int_equal(h->c->r[R_EDI], 0xFFFF);
    h_free(h);
}

static void test_outs_honours_segment_override(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    struct fake_port p = { 0 };
    attach_port(h, &p);
    static const uint8_t code[] = { 0x26, 0xF3, 0x6E }; /* rep outsb from ES:SI */
    h_code(h, CODE, code, sizeof(code));
    cpu_load_seg_real(h->c, S_ES, 0x3000);
    h_poke(h, 0x30010, "xy", 2);
    h_poke(h, 0x00010, "ab", 2);
    h->c->r[R_ESI] = 0x0010;
    h->c->r[R_ECX] = 2;
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(p.writes, 2);
    assert_memory_equal(p.out, "xy", 2);
    assert_int_equal(h->c->r[R_ESI], 0x0012);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bt_mem_negative_offset_addresses_below_operand),
        cmocka_unit_test(test_bt_mem_negative_offset_32bit_addressing),
        cmocka_unit_test(test_bt_mem_offset_wraps_in_16bit_addressing),
        cmocka_unit_test(test_bt_reg_and_imm_offsets_are_modulo_width),
        cmocka_unit_test(test_bsf_zero_source_leaves_dest),
        cmocka_unit_test(test_bsr_finds_highest_set_bit),
        cmocka_unit_test(test_daa_adjusts_both_nibbles_after_add),
        cmocka_unit_test(test_das_adjusts_both_nibbles_after_sub),
        cmocka_unit_test(test_das_low_nibble_borrow_sets_cf),
        cmocka_unit_test(test_aaa_adds_106h_to_ax),
        cmocka_unit_test(test_aas_borrows_from_ah),
        cmocka_unit_test(test_aam_zero_raises_de),
        cmocka_unit_test(test_aam_aad_split_and_join_digits),
        cmocka_unit_test(test_rep_movsw_16bit_addressing_wraps_si_di),
        cmocka_unit_test(test_rep_stos_fault_midway_keeps_completed_iterations),
        cmocka_unit_test(test_repe_cmpsb_stops_on_mismatch),
        cmocka_unit_test(test_repne_scasb_stops_on_match),
        cmocka_unit_test(test_rep_with_zero_count_touches_nothing),
        cmocka_unit_test(test_std_rep_movsd_32bit_moves_backward),
        cmocka_unit_test(test_rep_movs_stos_runs_match_element_by_element),
        cmocka_unit_test(test_rep_stosd_run_faults_at_exact_element_past_limit),
        cmocka_unit_test(test_rep_movsb_long_count_resumes_in_chunks),
        cmocka_unit_test(test_rep_stosb_single_steps_each_iteration),
        cmocka_unit_test(test_ins_reads_port_into_memory),
        cmocka_unit_test(test_ins_fault_does_not_consume_port_data),
        cmocka_unit_test(test_outs_honours_segment_override),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Debug registers and #DB: instruction breakpoints (faults, RF), data and I/O breakpoints (traps
 * after the instruction, merged with single-step in one DR6), general detect, DR4/DR5 aliasing.
 * Intel SDM Vol. 3A ch. 17. Run in real mode, where delivery goes through the IVT to 0000:2000. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define HANDLER 0x2000u
#define CODE 0x1000u
/* DR7 fields. */
#define L(n) (1u << (2 * (n)))
#define G(n) (2u << (2 * (n)))
#define RW(n, v) ((uint32_t)(v) << (16 + 4 * (n)))
#define LEN(n, v) ((uint32_t)(v) << (18 + 4 * (n)))
#define DR7_GD 0x2000u

static struct harness *rm(void)
{
    struct harness *h = h_new(0);
    h_set_ivt(h, EXC_DB, HANDLER);
    h_set_ivt(h, EXC_UD, HANDLER + 0x100);
    static const uint8_t hlt = 0xF4;
    h_poke(h, HANDLER, &hlt, 1);
    return h;
}

static void arm(struct harness *h, int n, uint32_t addr, uint32_t dr7)
{
    h->c->dr[n] = addr;
    h->c->dr[7] = dr7 | 0x400;
    debug_dr7_changed(h->c);
}

/* Runs one instruction at CODE with a fresh stack and DR6. */
static void run(struct harness *h, const uint8_t *code, size_t len)
{
    h_code(h, CODE, code, len);
    h->c->r[R_ESP] = 0x8000;
    h->c->dr[6] = 0xFFFF0FF0u;
    h->c->last_fault = -1;
    h_step(h, 1);
}

static uint16_t pushed_ip(struct harness *h) { return (uint16_t)h_peek(h, 0x7FFA, 2); }

static void test_instruction_breakpoint_is_a_fault_with_rf(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    static const uint8_t code[] = { 0x90, 0x40, 0x90 }; /* nop; inc ax; nop */
    arm(h, 0, CODE + 1, L(0) | RW(0, 0) | LEN(0, 0));
    c->r[R_EAX] = 5;
    run(h, code, sizeof(code)); /* the nop: no breakpoint */
    assert_int_equal(c->last_fault, -1);
    assert_int_equal(c->eip, CODE + 1);
    h_step(h, 1); /* the inc: a fault before it runs */
    assert_int_equal(c->last_fault, EXC_DB);
    assert_int_equal(c->dr[6] & 0xF, 1);
    assert_int_equal(c->eip, HANDLER);
    assert_int_equal(pushed_ip(h), CODE + 1); /* the faulting instruction itself */
    assert_int_equal(c->r[R_EAX], 5);
    /* Resuming with RF = 1 runs it once; RF is clear afterwards. */
    c->eip = CODE + 1;
    c->r[R_ESP] = 0x8000;
    c->eflags |= F_RF;
    c->last_fault = -1;
    h_step(h, 1);
    assert_int_equal(c->last_fault, -1);
    assert_int_equal(c->r[R_EAX], 6);
    assert_int_equal(c->eip, CODE + 2);
    assert_false(c->eflags & F_RF);
    /* Without RF it faults again. */
    c->eip = CODE + 1;
    h_step(h, 1);
    assert_int_equal(c->last_fault, EXC_DB);
    assert_int_equal(c->r[R_EAX], 6);
    h_free(h);
}

static void test_breakpoint_needs_an_enable_bit(void **state)
{
    (void)state;
    struct harness *h = rm();
    static const uint8_t code[] = { 0x90 };
    arm(h, 2, CODE, RW(2, 0)); /* address and type set, neither L2 nor G2 */
    run(h, code, sizeof(code));
    assert_int_equal(h->c->last_fault, -1);
    arm(h, 2, CODE, G(2) | RW(2, 0));
    run(h, code, sizeof(code));
    assert_int_equal(h->c->last_fault, EXC_DB);
    assert_int_equal(h->c->dr[6] & 0xF, 4);
    h_free(h);
}

static void test_data_breakpoint_traps_after_write(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    arm(h, 1, 0x5002, G(1) | RW(1, 1) | LEN(1, 1)); /* writes to 0x5002-0x5003 */
    c->r[R_EAX] = 0x77;
    static const uint8_t st_5003[] = { 0xA2, 0x03, 0x50 }; /* mov [0x5003], al */
    run(h, st_5003, sizeof(st_5003));
    assert_int_equal(c->last_fault, EXC_DB);
    assert_int_equal(c->dr[6] & 0xF, 2);
    assert_int_equal(h_peek(h, 0x5003, 1), 0x77); /* the write happened: a trap */
    assert_int_equal(pushed_ip(h), CODE + 3);      /* the next instruction */
    assert_int_equal(c->eip, HANDLER);
    /* A read does not match a write-only breakpoint; a write next to it does not either. */
    static const uint8_t ld_5002[] = { 0xA0, 0x02, 0x50 };
    run(h, ld_5002, sizeof(ld_5002));
    assert_int_equal(c->last_fault, -1);
    static const uint8_t st_5004[] = { 0xA2, 0x04, 0x50 };
    run(h, st_5004, sizeof(st_5004));
    assert_int_equal(c->last_fault, -1);
    /* A word write at 0x5001 overlaps it. */
    static const uint8_t stw_5001[] = { 0xA3, 0x01, 0x50 };
    run(h, stw_5001, sizeof(stw_5001));
    assert_int_equal(c->last_fault, EXC_DB);
    /* PUSH writes through the stack segment: a breakpoint on the stack slot catches it. */
    arm(h, 1, 0x7FFE, L(1) | RW(1, 1) | LEN(1, 1));
    static const uint8_t push_ax[] = { 0x50 };
    run(h, push_ax, sizeof(push_ax));
    assert_int_equal(c->last_fault, EXC_DB);
    assert_int_equal(c->dr[6] & 0xF, 2);
    h_free(h);
}

static void test_read_write_breakpoint_covers_aligned_length(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    arm(h, 2, 0x6005, L(2) | RW(2, 3) | LEN(2, 3)); /* 4 bytes: 0x6004-0x6007 */
    static const uint8_t ld_6007[] = { 0xA0, 0x07, 0x60 };
    run(h, ld_6007, sizeof(ld_6007));
    assert_int_equal(c->last_fault, EXC_DB);
    assert_int_equal(c->dr[6] & 0xF, 4);
    static const uint8_t ld_6008[] = { 0xA0, 0x08, 0x60 };
    run(h, ld_6008, sizeof(ld_6008));
    assert_int_equal(c->last_fault, -1);
    static const uint8_t ld_6003[] = { 0xA0, 0x03, 0x60 };
    run(h, ld_6003, sizeof(ld_6003));
    assert_int_equal(c->last_fault, -1);
    /* An instruction fetched from the range is not a data access. */
    arm(h, 2, CODE, L(2) | RW(2, 3) | LEN(2, 3));
    static const uint8_t nop[] = { 0x90 };
    run(h, nop, sizeof(nop));
    assert_int_equal(c->last_fault, -1);
    h_free(h);
}

static void test_single_step_and_data_breakpoint_report_together(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    arm(h, 3, 0x5000, L(3) | RW(3, 1));
    c->eflags |= F_TF;
    static const uint8_t st[] = { 0xA2, 0x00, 0x50 };
    run(h, st, sizeof(st));
    assert_int_equal(c->last_fault, EXC_DB);
    assert_int_equal(c->dr[6] & (DR6_BS | 0xF), DR6_BS | 8);
    assert_int_equal(c->eip, HANDLER);
    assert_int_equal(c->r[R_ESP] & 0xFFFF, 0x7FFA); /* one delivery */
    h_free(h);
}

static void test_faulting_instruction_reports_no_data_breakpoint(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    h_set_ivt(h, EXC_GP, HANDLER + 0x200);
    static const uint8_t nop = 0x90;
    h_poke(h, HANDLER + 0x200, &nop, 1);
    arm(h, 0, 0x5000, L(0) | RW(0, 3));
    /* movsw reads DS:SI = 0x5000, then writes ES:DI = 0xFFFF, which crosses the 64 KiB limit. */
    c->r[R_ESI] = 0x5000;
    c->r[R_EDI] = 0xFFFF;
    static const uint8_t movsw[] = { 0xA5 };
    run(h, movsw, sizeof(movsw));
    assert_int_equal(c->last_fault, EXC_GP);
    assert_int_equal(c->dr[6] & 0xF, 0);
    assert_int_equal(c->eip, HANDLER + 0x200);
    /* The next instruction does not inherit the dropped hit. */
    c->last_fault = -1;
    h_step(h, 1); /* the handler's NOP */
    assert_int_equal(c->last_fault, -1);
    h_free(h);
}

static void test_io_breakpoint_needs_cr4_de(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    arm(h, 3, 0x80, L(3) | RW(3, 2) | LEN(3, 0));
    static const uint8_t out_80[] = { 0xE6, 0x80 }; /* out 0x80, al */
    run(h, out_80, sizeof(out_80));
    assert_int_equal(c->last_fault, -1);
    c->cr[4] |= CR4_DE;
    run(h, out_80, sizeof(out_80));
    assert_int_equal(c->last_fault, EXC_DB);
    assert_int_equal(c->dr[6] & 0xF, 8);
    assert_int_equal(pushed_ip(h), CODE + 2); /* a trap */
    /* A word IN at 0x7F covers port 0x80; a byte at 0x81 does not. */
    static const uint8_t in_ax_dx[] = { 0xED };
    c->r[R_EDX] = 0x7F;
    run(h, in_ax_dx, sizeof(in_ax_dx));
    assert_int_equal(c->last_fault, EXC_DB);
    static const uint8_t in_al_dx[] = { 0xEC };
    c->r[R_EDX] = 0x81;
    run(h, in_al_dx, sizeof(in_al_dx));
    assert_int_equal(c->last_fault, -1);
    /* OUTSB goes through the same check. */
    c->r[R_EDX] = 0x80;
    c->r[R_ESI] = 0x5000;
    static const uint8_t outsb[] = { 0x6E };
    run(h, outsb, sizeof(outsb));
    assert_int_equal(c->last_fault, EXC_DB);
    h_free(h);
}

static void test_gd_bit_faults_mov_dr(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    static const uint8_t code[] = {
        0x66, 0xB8, 0x00, 0x24, 0x00, 0x00, /* mov eax, 0x2400 */
        0x0F, 0x23, 0xF8,                   /* mov dr7, eax */
        0x0F, 0x21, 0xC0,                   /* mov eax, dr0 */
    };
    c->dr[0] = 0x1234;
    h_code(h, CODE, code, sizeof(code));
    h_step(h, 2);
    assert_int_equal(c->dr[7], 0x2400);
    c->last_fault = -1;
    h_step(h, 1);
    assert_int_equal(c->last_fault, EXC_DB);
    assert_true(c->dr[6] & DR6_BD);
    assert_false(c->dr[7] & DR7_GD); /* cleared for the handler */
    assert_int_equal(pushed_ip(h), CODE + 9); /* a fault: the MOV did not run */
    assert_int_equal(c->r[R_EAX], 0x2400);
    /* Now the same MOV goes through. */
    c->eip = CODE + 9;
    c->last_fault = -1;
    h_step(h, 1);
    assert_int_equal(c->last_fault, -1);
    assert_int_equal(c->r[R_EAX], 0x1234);
    h_free(h);
}

static void test_mov_dr7_arms_and_dr6_dr7_fixed_bits(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    static const uint8_t code[] = {
        0x0F, 0x23, 0xF8, /* mov dr7, eax */
        0x0F, 0x23, 0xF1, /* mov dr6, ecx */
        0x0F, 0x21, 0xF2, /* mov edx, dr6 */
        0x90,             /* nop: the breakpoint */
    };
    c->r[R_EAX] = L(0) | RW(0, 0);
    c->dr[0] = CODE + 9;
    c->r[R_ECX] = 0;
    h_code(h, CODE, code, sizeof(code));
    h_step(h, 3);
    assert_int_equal(c->dr[7], 0x401);
    assert_int_equal(c->r[R_EDX], 0xFFFF0FF0u);
    c->last_fault = -1;
    h_step(h, 1);
    assert_int_equal(c->last_fault, EXC_DB);
    /* Bits 11, 12, 14, 15 of DR7 read as 0 and bit 10 as 1. */
    c->r[R_EAX] = 0xFFFFFFFFu & ~(uint32_t)DR7_GD;
    static const uint8_t w7[] = { 0x0F, 0x23, 0xF8, 0x0F, 0x21, 0xFB }; /* mov dr7, eax; mov ebx, dr7 */
    h_code(h, CODE + 0x100, w7, sizeof(w7));
    c->eflags |= F_RF; /* the armed breakpoint is elsewhere; RF is harmless here */
    h_step(h, 2);
    assert_int_equal(c->r[R_EBX], 0xFFFF07FFu);
    h_free(h);
}

static void test_cr4_de_makes_dr4_dr5_undefined(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    static const uint8_t mov_eax_dr4[] = { 0x0F, 0x21, 0xE0 };
    c->dr[6] = 0xFFFF4FF1u;
    h_code(h, CODE, mov_eax_dr4, sizeof(mov_eax_dr4));
    h_step(h, 1);
    assert_int_equal(c->r[R_EAX], 0xFFFF4FF1u); /* DR4 aliases DR6 */
    c->cr[4] |= CR4_DE;
    h_code(h, CODE, mov_eax_dr4, sizeof(mov_eax_dr4));
    c->last_fault = -1;
    h_step(h, 1);
    assert_int_equal(c->last_fault, EXC_UD);
    h_free(h);
}

static void test_rep_string_resumes_without_refiring_instruction_breakpoint(void **state)
{
    (void)state;
    struct harness *h = rm();
    struct cpu *c = h->c;
    static const uint8_t rep_stosb[] = { 0xF3, 0xAA, 0x90 };
    arm(h, 0, CODE, L(0) | RW(0, 0));
    c->r[R_ECX] = 0x3000; /* more than one interpreter chunk */
    c->r[R_EDI] = 0x4000;
    run(h, rep_stosb, sizeof(rep_stosb));
    assert_int_equal(c->last_fault, EXC_DB); /* before the first iteration */
    assert_int_equal(c->r[R_ECX], 0x3000);
    /* The handler returns with RF = 1. */
    c->eip = CODE;
    c->r[R_ESP] = 0x8000;
    c->eflags |= F_RF;
    for (int i = 0; i < 10 && c->eip == CODE; i++) {
        c->last_fault = -1;
        h_step(h, 1);
        assert_int_equal(c->last_fault, -1);
    }
    assert_int_equal(c->eip, CODE + 2);
    assert_int_equal(c->r[R_ECX], 0);
    assert_false(c->eflags & F_RF);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_instruction_breakpoint_is_a_fault_with_rf),
        cmocka_unit_test(test_breakpoint_needs_an_enable_bit),
        cmocka_unit_test(test_data_breakpoint_traps_after_write),
        cmocka_unit_test(test_read_write_breakpoint_covers_aligned_length),
        cmocka_unit_test(test_single_step_and_data_breakpoint_report_together),
        cmocka_unit_test(test_faulting_instruction_reports_no_data_breakpoint),
        cmocka_unit_test(test_io_breakpoint_needs_cr4_de),
        cmocka_unit_test(test_gd_bit_faults_mov_dr),
        cmocka_unit_test(test_mov_dr7_arms_and_dr6_dr7_fixed_bits),
        cmocka_unit_test(test_cr4_de_makes_dr4_dr5_undefined),
        cmocka_unit_test(test_rep_string_resumes_without_refiring_instruction_breakpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of MMX's aliasing onto the x87 (TOP, tags, exponent bits, physical registers,
 * EMMS), the faults MMX instructions take (#UD with CR0.EM or a 66/F2/F3 prefix, #NM with CR0.TS,
 * #MF for a pending x87 exception, memory faults before any change), FXSAVE/FXRSTOR (image
 * layout, against the host's FXSAVE where the host can be compared, alignment, #NM, non-waiting),
 * CR0.EM/MP/TS for WAIT, and CPUID/CR4 for MMX and FXSR.
 * Intel SDM Vol. 1 ch. 9, Vol. 3A §2.5, Table 2-2 and §12.2, Vol. 2 FXSAVE/FXRSTOR/EMMS/WAIT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define CODE_AT 0x1000u
#define DATA 0x2000u

/* Places code at CODE_AT and executes n instructions of it. */
#define RUN(h, n, ...) H_RUN_AT(h, CODE_AT, n, __VA_ARGS__)

#define D32(a) (uint8_t)(a), (uint8_t)((a) >> 8), (uint8_t)((a) >> 16), (uint8_t)((a) >> 24)
#define M16(a) (uint8_t)(a), (uint8_t)((a) >> 8)
#define FNINIT 0xDB, 0xE3
#define FLD1 0xD9, 0xE8
#define FLDPI 0xD9, 0xEB
#define FLDZ 0xD9, 0xEE
/* 32-bit code, [disp32] operands (ModRM mod 00 rm 101). */
#define MOVQ_MM_M(r, a) 0x0F, 0x6F, (uint8_t)(0x05 | (r) << 3), D32(a)
#define MOVQ_M_MM(a, r) 0x0F, 0x7F, (uint8_t)(0x05 | (r) << 3), D32(a)
#define FXSAVE(a) 0x0F, 0xAE, 0x05, D32(a)
#define FXRSTOR(a) 0x0F, 0xAE, 0x0D, D32(a)
#define EMMS 0x0F, 0x77

static uint64_t mm(struct harness *h, int i)
{
    uint64_t v;
    memcpy(&v, h->c->fpu.reg[i], 8);
    return v;
}

static uint16_t exponent(struct harness *h, int i)
{
    return (uint16_t)(h->c->fpu.reg[i][8] | h->c->fpu.reg[i][9] << 8);
}

/* The error code of the exception just delivered through h_catch_all's gates. */
static uint32_t pushed_err(struct harness *h) { return h_peek(h, h->c->r[R_ESP], 4); }

/* An unmasked zero divide left pending: with CR0.NE = 1 the next waiting instruction gets #MF,
 * with NE = 0 it asserts FERR# (the IRQ13 hook). */
static void make_pending_zero_divide(struct harness *h, int ne)
{
    uint16_t cw = 0x037B; /* ZM clear */
    h_poke(h, DATA + 0x100, &cw, 2);
    if (ne)
        h->c->cr[0] |= CR0_NE;
    else
        h->c->cr[0] &= ~CR0_NE;
    RUN(h, 5, FNINIT, 0xD9, 0x2D, D32(DATA + 0x100), FLD1, FLDZ, 0xDE, 0xF9); /* fdivp: 1/0 */
    assert_int_equal(h->c->fpu.sw & FSW_ES, FSW_ES);
}

/* ---- aliasing ---- */

static void test_mmx_write_sets_top_0_tags_valid_and_exponent_all_ones(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint64_t v = 0x0123456789ABCDEFull;
    h_poke(h, DATA, &v, 8);
    RUN(h, 3, FNINIT, FLD1, MOVQ_MM_M(3, DATA));
    const struct x87 *f = &h->c->fpu;
    assert_int_equal(x87_top(f), 0);
    assert_int_equal(f->empty, 0);
    assert_true(mm(h, 3) == v);
    assert_int_equal(exponent(h, 3), 0xFFFF);
    assert_int_equal(exponent(h, 7), 0x3FFF); /* the 1.0 in R7 is untouched */
    h_free(h);
}

static void test_mmx_leaves_condition_codes_flags_pointers_and_control_word(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    RUN(h, 4, FNINIT, FLDZ, FLD1, 0xD8, 0xD1); /* fcom: 1 > 0, C0 = C2 = C3 = 0 */
    struct x87 *f = &h->c->fpu;
    f->sw |= FSW_C0 | FSW_C2 | FSW_PE; /* a masked flag and some condition codes to keep */
    struct x87 before = *f;
    RUN(h, 1, 0x0F, 0xFC, 0xC1); /* paddb mm0, mm1 */
    assert_int_equal(f->sw, before.sw & ~FSW_TOP);
    assert_int_equal(f->cw, before.cw);
    assert_int_equal(f->fip, before.fip);
    assert_int_equal(f->fcs, before.fcs);
    assert_int_equal(f->fop, before.fop);
    assert_int_equal(f->fdp, before.fdp);
    h_free(h);
}

static void test_mmx_register_read_tags_valid_but_keeps_exponent(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    RUN(h, 3, FNINIT, FLDPI, 0x0F, 0x7E, 0xF8); /* movd eax, mm7: R7 holds pi */
    assert_int_equal(h->c->r[R_EAX], 0x2168C235u); /* low half of pi's mantissa */
    assert_int_equal(exponent(h, 7), 0x4000);
    assert_int_equal(x87_top(&h->c->fpu), 0);
    assert_int_equal(h->c->fpu.empty, 0);
    h_free(h);
}

/* MMi is physical register Ri, not ST(i): with TOP = 6, MM7 is R7 (ST(1)). */
static void test_mmx_registers_are_physical_not_stack_relative(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    RUN(h, 4, FNINIT, FLD1, FLDPI, 0x0F, 0x6F, 0xC7); /* movq mm0, mm7 */
    assert_true(mm(h, 0) == 0x8000000000000000ull);   /* 1.0's mantissa */
    h_free(h);
}

static void test_emms_empties_every_tag_and_sets_top_0(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    RUN(h, 4, FNINIT, FLD1, FLD1, EMMS);
    assert_int_equal(h->c->fpu.empty, 0xFF);
    assert_int_equal(x87_top(&h->c->fpu), 0);
    /* Eight loads now fit: no stack overflow. */
    RUN(h, 8, FLD1, FLD1, FLD1, FLD1, FLD1, FLD1, FLD1, FLD1);
    assert_int_equal(h->c->fpu.sw & FSW_IE, 0);
    h_free(h);
}

/* Without EMMS the stack is full after any MMX instruction: the next load overflows. */
static void test_x87_load_after_mmx_without_emms_overflows(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    RUN(h, 3, FNINIT, 0x0F, 0xEF, 0xC0, FLD1); /* pxor mm0, mm0; fld1 */
    assert_int_equal(h->c->fpu.sw & (FSW_IE | FSW_SF | FSW_C1), FSW_IE | FSW_SF | FSW_C1);
    h_free(h);
}

/* FNSTENV after an MMX write computes every tag from the contents, as the host does: the
 * register written reads as special (exponent all ones), zeros as zero, 1.0 as valid. */
static void test_fnstenv_tag_word_after_mmx_write_matches_host(void **state)
{
    (void)state;
    uint64_t v = 0x1234;
    uint8_t env[28];
    __asm__ volatile("fninit\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\t"
                     "fninit\n\tfld1\n\tfld1\n\tmovq %1, %%mm3\n\tfnstenv %0\n\temms\n\tfninit"
                     : "=m"(env) : "m"(v) : "mm3");
    uint16_t host_tw = (uint16_t)(env[8] | env[9] << 8), host_sw = (uint16_t)(env[4] | env[5] << 8);

    struct harness *h = h_new(1);
    h_poke(h, DATA, &v, 8);
    RUN(h, 14, FLDZ, FLDZ, FLDZ, FLDZ, FLDZ, FLDZ, FLDZ, FLDZ, FNINIT, FLD1, FLD1, MOVQ_MM_M(3, DATA),
        0xD9, 0x35, D32(DATA + 0x40), EMMS); /* fnstenv [DATA+0x40] */
    assert_int_equal(h_peek(h, DATA + 0x40 + 8, 2), host_tw);
    assert_int_equal(h_peek(h, DATA + 0x40 + 4, 2), host_sw);
    assert_int_equal(host_tw, 0x0595); /* R7 R6 valid, R3 special, the rest zero */
    h_free(h);
}

/* ---- faults ---- */

static void test_mmx_with_cr0_em_is_ud(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->cr[0] |= CR0_EM | CR0_TS; /* EM wins: #UD, not #NM */
    RUN(h, 1, 0x0F, 0xFC, 0xC1);
    assert_int_equal(h->c->last_fault, EXC_UD);
    h->c->r[R_ESP] = 0x80000;
    RUN(h, 1, EMMS);
    assert_int_equal(h->c->last_fault, EXC_UD);
    h_free(h);
}

static void test_mmx_with_cr0_ts_is_nm(void **state)
{
    (void)state;
    static const uint8_t insns[][3] = { { 0x0F, 0xFC, 0xC1 }, { 0x0F, 0x77 }, { 0x0F, 0x7E, 0xC0 },
                                        { 0x0F, 0x71, 0xD0 } };
    struct harness *h = h_new(1);
    h->c->cr[0] |= CR0_TS;
    for (size_t k = 0; k < sizeof(insns) / sizeof(insns[0]); k++) {
        uint8_t code[4] = { insns[k][0], insns[k][1], insns[k][2], 3 };
        h->c->r[R_ESP] = 0x80000;
        h_code(h, CODE_AT, code, sizeof(code));
        h_step(h, 1);
        assert_int_equal(h->c->last_fault, EXC_NM);
        assert_int_equal(h_peek(h, h->c->r[R_ESP], 4), CODE_AT); /* a fault: EIP of the instruction */
    }
    h_free(h);
}

static void test_clts_lets_mmx_run_again(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->cr[0] |= CR0_TS;
    RUN(h, 2, 0x0F, 0x06, 0x0F, 0xEF, 0xC0); /* clts; pxor mm0, mm0 */
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->cr[0] & CR0_TS, 0);
    h_free(h);
}

static void test_mmx_reports_pending_x87_exception_as_mf(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    make_pending_zero_divide(h, 1);
    struct x87 before = h->c->fpu;
    RUN(h, 1, 0x0F, 0xFC, 0xC1); /* paddb */
    assert_int_equal(h->c->last_fault, EXC_MF);
    assert_memory_equal(&h->c->fpu, &before, sizeof(before)); /* TOP and tags as they were */
    h->c->r[R_ESP] = 0x80000;
    RUN(h, 1, EMMS);
    assert_int_equal(h->c->last_fault, EXC_MF);
    h_free(h);
}

static void irq13_hook(void *opaque, int level) { *(int *)opaque = level; }

/* CR0.NE = 0: as for a waiting x87 instruction, FERR# goes out and the MMX instruction is
 * abandoned so that IRQ13 is taken first; run again with the exception still pending, it
 * proceeds (SDM Vol. 1 §D.2.1). */
static void test_mmx_with_ne_clear_asserts_ferr_and_proceeds_when_retried(void **state)
{
    (void)state;
    int level = 0;
    struct harness *h = h_new(1);
    h->c->fpu.irq13 = irq13_hook;
    h->c->fpu.irq13_opaque = &level;
    make_pending_zero_divide(h, 0);
    RUN(h, 1, 0x0F, 0xFC, 0xC1); /* paddb */
    assert_int_equal(level, 1);
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->eip, CODE_AT);
    assert_int_equal(x87_top(&h->c->fpu), 6); /* not run (the unmasked FDIVP did not pop) */
    assert_int_equal(h_step(h, 1), CPU_EXIT_BUDGET);
    assert_int_equal(h->c->eip, CODE_AT + 3);
    assert_int_equal(x87_top(&h->c->fpu), 0);
    h_free(h);
}

/* 66/F2/F3 + these opcodes are SSE/SSE2 instructions, which a Pentium II does not have. */
static void test_mmx_opcodes_with_66_f2_f3_prefix_are_ud(void **state)
{
    (void)state;
    static const uint8_t insns[][4] = { { 0x66, 0x0F, 0xFC, 0xC1 }, { 0xF3, 0x0F, 0x6F, 0xC1 },
                                        { 0xF2, 0x0F, 0xEF, 0xC1 }, { 0x66, 0x0F, 0x7E, 0xC0 },
                                        { 0xF3, 0x0F, 0x7E, 0xC1 }, { 0x66, 0x0F, 0x77 } };
    struct harness *h = h_new(1);
    for (size_t k = 0; k < sizeof(insns) / sizeof(insns[0]); k++) {
        h->c->r[R_ESP] = 0x80000;
        h_code(h, CODE_AT, insns[k], 4);
        h_step(h, 1);
        assert_int_equal(h->c->last_fault, EXC_UD);
    }
    h_free(h);
}

/* In 16-bit code the 32-bit operand size needs a 66 prefix elsewhere; MOVD does not (always 32). */
static void test_movd_in_real_mode_moves_32_bits_without_prefix(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h->c->r[R_EAX] = 0xDEADBEEFu;
    RUN(h, 2, 0x0F, 0x6E, 0xC0, 0x0F, 0x7E, 0xC3); /* movd mm0, eax; movd ebx, mm0 */
    assert_int_equal(h->c->last_fault, -1);
    assert_true(mm(h, 0) == 0xDEADBEEFull);
    assert_int_equal(h->c->r[R_EBX], 0xDEADBEEFu);
    h_free(h);
}

static void test_sse_and_blank_opcodes_near_mmx_are_ud(void **state)
{
    (void)state;
    static const uint8_t insns[][4] = {
        { 0x0F, 0x70, 0xC1, 0 }, /* PSHUFW */    { 0x0F, 0xD7, 0xC1 }, /* PMOVMSKB */
        { 0x0F, 0xE7, 0x00 },    /* MOVNTQ */    { 0x0F, 0xD4, 0xC1 }, /* PADDQ */
        { 0x0F, 0xF4, 0xC1 },    /* PMULUDQ */   { 0x0F, 0xE0, 0xC1 }, /* PAVGB */
        { 0x0F, 0x6C, 0xC1 },    { 0x0F, 0x78, 0xC1 }, { 0x0F, 0xFF, 0xC1 }, { 0x0F, 0xD0, 0xC1 },
        { 0x0F, 0x71, 0xC0, 1 }, /* 71 /0 */     { 0x0F, 0x73, 0xD8, 1 }, /* 73 /3: PSRLDQ */
        { 0x0F, 0x72, 0x10, 1 }, /* 72 /2 with a memory operand */
    };
    struct harness *h = h_new(1);
    for (size_t k = 0; k < sizeof(insns) / sizeof(insns[0]); k++) {
        h->c->r[R_ESP] = 0x80000;
        h_code(h, CODE_AT, insns[k], 4);
        h_step(h, 1);
        assert_int_equal(h->c->last_fault, EXC_UD);
    }
    h_free(h);
}

static void test_mmx_with_lock_prefix_is_ud(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    RUN(h, 1, 0xF0, 0x0F, 0xFC, 0x05, D32(DATA));
    assert_int_equal(h->c->last_fault, EXC_UD);
    h_free(h);
}

/* Operands are read and stores checked before anything changes: TOP, tags and memory stay. */
static void test_mmx_memory_fault_leaves_fpu_state_and_memory_unchanged(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h_set_ivt(h, EXC_GP, 0x4000);
    RUN(h, 2, FNINIT, FLD1);
    struct x87 before = h->c->fpu;
    RUN(h, 1, 0x0F, 0xFC, 0x06, M16(0xFFFC)); /* paddb mm0, [0xFFFC]: past the 64 KiB limit */
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_memory_equal(&h->c->fpu, &before, sizeof(before));
    h_poke(h, 0xFFFC, "\x11\x22\x33\x44", 4);
    RUN(h, 1, 0x0F, 0x7F, 0x06, M16(0xFFFC)); /* movq [0xFFFC], mm0 */
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_memory_equal(&h->c->fpu, &before, sizeof(before));
    assert_int_equal(h_peek(h, 0xFFFC, 4), 0x44332211u);
    h_free(h);
}

static void test_movq_and_movd_store_to_memory_and_register(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint64_t v = 0xFEDCBA9876543210ull;
    h_poke(h, DATA, &v, 8);
    RUN(h, 4, MOVQ_MM_M(1, DATA), MOVQ_M_MM(DATA + 8, 1), 0x0F, 0x7E, 0x0D, D32(DATA + 0x10), /* movd [m], mm1 */
        0x0F, 0x7F, 0xCA); /* movq mm2, mm1 (the 7F form: rm is the destination) */
    assert_int_equal(h_peek(h, DATA + 8, 4), 0x76543210u);
    assert_int_equal(h_peek(h, DATA + 12, 4), 0xFEDCBA98u);
    assert_int_equal(h_peek(h, DATA + 0x10, 4), 0x76543210u);
    assert_true(mm(h, 2) == v);
    assert_int_equal(exponent(h, 2), 0xFFFF);
    h_free(h);
}

/* ---- FXSAVE / FXRSTOR ---- */

/* FCW, FSW, the abridged tag byte, its reserved neighbour and the eight register slots (with
 * their reserved bytes) must be what the host's FXSAVE stores for the same state. FOP, FIP, FCS,
 * FDP and FDS are left out: they hold host addresses, and recent hosts no longer save them
 * (FOP only on unmasked exceptions, FCS/FDS as zero); test_fxsave_stores_pointers_and_opcode
 * checks them instead. */
static void test_fxsave_x87_part_matches_host(void **state)
{
    (void)state;
    static const uint8_t den[10] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 }; /* -denormal */
    uint16_t cw = 0x0B7F;                                                /* RC up, all masked */
    uint8_t host[512] __attribute__((aligned(16)));
    __asm__ volatile("fninit\n\tfldcw %1\n\tfld1\n\tfldpi\n\tfldz\n\tfldt %2\n\tftst\n\tfxsave %0\n\tfninit"
                     : "=m"(host) : "m"(cw), "m"(den));

    struct harness *h = h_new(1);
    h_poke(h, DATA + 0x100, &cw, 2);
    h_poke(h, DATA + 0x110, den, 10);
    RUN(h, 8, FNINIT, 0xD9, 0x2D, D32(DATA + 0x100), FLD1, FLDPI, FLDZ, 0xDB, 0x2D, D32(DATA + 0x110),
        0xD9, 0xE4, FXSAVE(DATA + 0x200));
    uint8_t img[512];
    phys_read_buf(&h->m->mem, DATA + 0x200, img, sizeof(img));
    assert_memory_equal(img, host, 6);
    assert_memory_equal(img + 32, host + 32, 128);
    h_free(h);
}

/* The parts a CPU without SSE has no state for (MXCSR, MXCSR_MASK, XMM0-7, the reserved and
 * software areas) are not written. */
static void test_fxsave_leaves_mxcsr_and_xmm_areas_untouched(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint8_t fill[512], img[512];
    memset(fill, 0xAA, sizeof(fill));
    h_poke(h, DATA, fill, sizeof(fill));
    RUN(h, 3, FNINIT, FLD1, FXSAVE(DATA));
    phys_read_buf(&h->m->mem, DATA, img, sizeof(img));
    assert_memory_equal(img + 24, fill, 8);
    assert_memory_equal(img + 160, fill, 512 - 160);
    assert_int_equal(img[5], 0); /* reserved bytes inside the x87 part are zero */
    assert_int_equal(img[32 + 10], 0);
    h_free(h);
}

static void test_fxsave_stores_pointers_opcode_and_abridged_tags(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    double d = 2.0;
    h_poke(h, DATA + 0x100, &d, 8);
    RUN(h, 3, FNINIT, 0xDD, 0x05, D32(DATA + 0x100), FXSAVE(DATA)); /* fld qword [DATA+0x100] at CODE_AT+2 */
    assert_int_equal(h_peek(h, DATA + 0, 2), 0x037F);
    assert_int_equal(h_peek(h, DATA + 2, 2), 0x3800); /* TOP = 7 */
    assert_int_equal(h_peek(h, DATA + 4, 1), 0x80);   /* R7 in use */
    assert_int_equal(h_peek(h, DATA + 6, 2), 0x505);  /* DD 05: low 3 bits of DD, then ModRM */
    assert_int_equal(h_peek(h, DATA + 8, 4), CODE_AT + 2);
    assert_int_equal(h_peek(h, DATA + 12, 4), 0x0008);
    assert_int_equal(h_peek(h, DATA + 16, 4), DATA + 0x100);
    assert_int_equal(h_peek(h, DATA + 20, 4), 0x0010);
    h_free(h);
}

/* With a 16-bit operand size FIP and FDP keep their low 16 bits, the rest reserved (zero). */
static void test_fxsave_16bit_operand_size_stores_low_half_of_pointers(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->fpu.fip = 0x12345678u;
    h->c->fpu.fdp = 0x9ABCDEF0u;
    RUN(h, 1, 0x66, FXSAVE(DATA));
    assert_int_equal(h_peek(h, DATA + 8, 4), 0x5678);
    assert_int_equal(h_peek(h, DATA + 16, 4), 0xDEF0);
    h_free(h);
}

/* Unlike FNSAVE, FXSAVE leaves the FPU as it was. */
static void test_fxsave_keeps_the_fpu_state(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    RUN(h, 3, FNINIT, FLD1, FLDPI);
    struct x87 before = h->c->fpu;
    RUN(h, 1, FXSAVE(DATA));
    assert_memory_equal(&h->c->fpu, &before, sizeof(before));
    h_free(h);
}

static void test_fxrstor_restores_what_fxsave_saved(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint64_t v = 0x8000000000000001ull;
    h_poke(h, DATA + 0x300, &v, 8);
    RUN(h, 5, FNINIT, FLD1, FLDPI, 0xD8, 0xD1, FXSAVE(DATA)); /* fcom sets condition codes */
    h->c->fpu.fop = 0x123;
    h->c->fpu.fip = 0x1234;
    h->c->fpu.fdp = 0x5678;
    RUN(h, 1, FXSAVE(DATA));
    struct x87 before = h->c->fpu;
    RUN(h, 3, FNINIT, MOVQ_MM_M(5, DATA + 0x300), FXRSTOR(DATA));
    const struct x87 *f = &h->c->fpu;
    assert_int_equal(f->sw, before.sw);
    assert_int_equal(x87_cw(f), x87_cw(&before));
    assert_int_equal(f->empty, before.empty);
    assert_int_equal(x87_tag_word(f), x87_tag_word(&before));
    assert_memory_equal(f->reg, before.reg, sizeof(f->reg));
    assert_int_equal(f->fop, 0x123);
    assert_int_equal(f->fip, 0x1234);
    assert_int_equal(f->fdp, 0x5678);
    assert_int_equal(f->fcs, before.fcs);
    h_free(h);
}

/* The abridged tag byte only says which registers are in use; full tags follow from contents. */
static void test_fxrstor_abridged_tags_mark_empty_and_contents_give_the_rest(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint8_t img[160];
    memset(img, 0, sizeof(img));
    img[0] = 0x7F; img[1] = 0x03; /* FCW 037F */
    img[4] = 0x83;                /* R0 R1 R7 in use, TOP = 0 so ST(i) = Ri */
    static const uint8_t one[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x3F };
    static const uint8_t inf[10] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0xFF, 0x7F };
    memcpy(img + 32, one, 10);       /* R0 valid */
    memcpy(img + 32 + 16, inf, 10);  /* R1 special; R7 zero */
    h_poke(h, DATA, img, sizeof(img));
    RUN(h, 1, FXRSTOR(DATA));
    assert_int_equal(h->c->fpu.empty, 0x7C);
    assert_int_equal(x87_tag_word(&h->c->fpu), 0x7FF8); /* R7 01, R6-R2 11, R1 10, R0 00 */
    h_free(h);
}

/* FXRSTOR neither waits nor reports: an unmasked flag it loads is reported by the next waiting
 * instruction (SDM FXRSTOR). */
static void test_fxrstor_loaded_unmasked_flag_is_reported_by_next_fwait(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint8_t img[160];
    memset(img, 0, sizeof(img));
    img[0] = 0x7B; img[1] = 0x03; /* FCW 037B: ZM clear */
    img[2] = FSW_ZE;              /* ZE set */
    h_poke(h, DATA, img, sizeof(img));
    h->c->cr[0] |= CR0_NE;
    RUN(h, 1, FXRSTOR(DATA));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->fpu.sw & (FSW_ES | FSW_B), FSW_ES | FSW_B);
    RUN(h, 1, FXRSTOR(DATA)); /* a pending exception does not stop FXRSTOR either */
    assert_int_equal(h->c->last_fault, -1);
    RUN(h, 1, 0x9B); /* fwait */
    assert_int_equal(h->c->last_fault, EXC_MF);
    h_free(h);
}

static void test_fxsave_does_not_report_a_pending_exception(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    make_pending_zero_divide(h, 1);
    RUN(h, 1, FXSAVE(DATA));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h_peek(h, DATA + 2, 2) & (FSW_ZE | FSW_ES), FSW_ZE | FSW_ES);
    h_free(h);
}

static void test_fxsave_and_fxrstor_misaligned_are_gp0(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    RUN(h, 1, FXSAVE(DATA + 8));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(pushed_err(h), 0);
    h->c->r[R_ESP] = 0x80000;
    RUN(h, 1, FXRSTOR(DATA + 4));
    assert_int_equal(h->c->last_fault, EXC_GP);
    h_free(h);
}

/* Alignment is of the linear address: a segment base of 8 and an offset of 8 make 16. */
static void test_fxsave_alignment_is_checked_on_the_linear_address(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->seg[S_DS].base = 8;
    RUN(h, 1, FXSAVE(DATA + 8));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h_peek(h, DATA + 0x10, 2), 0x0040); /* power-on FCW, at linear DATA + 16 */
    h->c->r[R_ESP] = 0x80000;
    RUN(h, 1, FXSAVE(DATA));
    assert_int_equal(h->c->last_fault, EXC_GP);
    h_free(h);
}

/* FXSAVE/FXRSTOR are x87 state instructions: CR0.EM makes them #NM (not #UD as for MMX), as
 * CR0.TS does; #NM comes before the alignment #GP. */
static void test_fxsave_and_fxrstor_with_cr0_ts_or_em_are_nm(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    static const uint32_t bits[] = { CR0_TS, CR0_EM };
    for (int k = 0; k < 2; k++) {
        h->c->cr[0] = (h->c->cr[0] & ~(CR0_TS | CR0_EM)) | bits[k];
        h->c->r[R_ESP] = 0x80000;
        RUN(h, 1, FXSAVE(DATA + 8));
        assert_int_equal(h->c->last_fault, EXC_NM);
        h->c->r[R_ESP] = 0x80000;
        RUN(h, 1, FXRSTOR(DATA));
        assert_int_equal(h->c->last_fault, EXC_NM);
    }
    h_free(h);
}

static void test_fxsave_limit_fault_writes_nothing(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h_set_ivt(h, EXC_GP, 0x4000);
    uint8_t fill[160], img[160];
    memset(fill, 0xAA, sizeof(fill));
    h_poke(h, 0xFF80, fill, 0x80);
    RUN(h, 1, 0x0F, 0xAE, 0x06, M16(0xFF80)); /* fxsave [0xFF80]: 160 bytes cross the 64 KiB limit */
    assert_int_equal(h->c->last_fault, EXC_GP);
    phys_read_buf(&h->m->mem, 0xFF80, img, 0x80);
    assert_memory_equal(img, fill, 0x80);
    h_free(h);
}

static void test_0f_ae_forms_other_than_fxsave_fxrstor_memory_are_ud(void **state)
{
    (void)state;
    static const uint8_t insns[][7] = {
        { 0x0F, 0xAE, 0x15, D32(DATA) }, /* /2 LDMXCSR */ { 0x0F, 0xAE, 0x1D, D32(DATA) }, /* /3 STMXCSR */
        { 0x0F, 0xAE, 0x25, D32(DATA) }, /* /4 XSAVE */   { 0x0F, 0xAE, 0x3D, D32(DATA) }, /* /7 CLFLUSH */
        { 0x0F, 0xAE, 0xE8 },            /* LFENCE */     { 0x0F, 0xAE, 0xF0 },            /* MFENCE */
        { 0x0F, 0xAE, 0xF8 },            /* SFENCE */     { 0x0F, 0xAE, 0xC0 },            /* /0 mod 11 */
        { 0x0F, 0xAE, 0xC8 },            /* /1 mod 11 */
    };
    struct harness *h = h_new(1);
    for (size_t k = 0; k < sizeof(insns) / sizeof(insns[0]); k++) {
        h->c->r[R_ESP] = 0x80000;
        h_code(h, CODE_AT, insns[k], 7);
        h_step(h, 1);
        assert_int_equal(h->c->last_fault, EXC_UD);
    }
    h_free(h);
}

/* ---- CR0.EM/MP/TS for x87 and WAIT, CPUID, CR4 ---- */

/* SDM Vol. 3A Table 2-2: WAIT faults only with MP and TS both set, whatever EM is. */
static void test_wait_is_nm_only_with_mp_and_ts_whatever_em(void **state)
{
    (void)state;
    static const struct { uint32_t cr0; int nm; } cases[] = {
        { CR0_EM | CR0_TS, 0 }, { CR0_EM | CR0_MP, 0 }, { CR0_EM | CR0_MP | CR0_TS, 1 },
        { CR0_MP | CR0_TS, 1 }, { CR0_TS, 0 },          { CR0_EM, 0 },
    };
    struct harness *h = h_new(1);
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        h->c->cr[0] = (h->c->cr[0] & ~(CR0_EM | CR0_MP | CR0_TS)) | cases[k].cr0;
        h->c->r[R_ESP] = 0x80000;
        RUN(h, 1, 0x9B);
        assert_int_equal(h->c->last_fault, cases[k].nm ? EXC_NM : -1);
    }
    h_free(h);
}

static void test_x87_with_cr0_em_alone_is_nm(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->cr[0] |= CR0_EM;
    RUN(h, 1, FNINIT); /* even the no-wait forms */
    assert_int_equal(h->c->last_fault, EXC_NM);
    h_free(h);
}

static void test_cpuid_reports_mmx_and_fxsr(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EAX] = 1;
    RUN(h, 1, 0x0F, 0xA2);
    assert_int_equal(h->c->r[R_EDX] & (1u << 23 | 1u << 24), 1u << 23 | 1u << 24);
    assert_int_equal(h->c->r[R_EDX] & (1u << 25 | 1u << 26), 0); /* no SSE, no SSE2 */
    h_free(h);
}

static void test_cr4_osfxsr_is_writable_and_osxmmexcpt_reserved(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    h->c->r[R_EAX] = CR4_OSFXSR;
    RUN(h, 1, 0x0F, 0x22, 0xE0); /* mov cr4, eax */
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->cr[4], CR4_OSFXSR);
    h->c->r[R_EAX] = CR4_OSFXSR | 0x400;
    RUN(h, 1, 0x0F, 0x22, 0xE0);
    assert_int_equal(h->c->last_fault, EXC_GP);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmx_write_sets_top_0_tags_valid_and_exponent_all_ones),
        cmocka_unit_test(test_mmx_leaves_condition_codes_flags_pointers_and_control_word),
        cmocka_unit_test(test_mmx_register_read_tags_valid_but_keeps_exponent),
        cmocka_unit_test(test_mmx_registers_are_physical_not_stack_relative),
        cmocka_unit_test(test_emms_empties_every_tag_and_sets_top_0),
        cmocka_unit_test(test_x87_load_after_mmx_without_emms_overflows),
        cmocka_unit_test(test_fnstenv_tag_word_after_mmx_write_matches_host),
        cmocka_unit_test(test_mmx_with_cr0_em_is_ud),
        cmocka_unit_test(test_mmx_with_cr0_ts_is_nm),
        cmocka_unit_test(test_clts_lets_mmx_run_again),
        cmocka_unit_test(test_mmx_reports_pending_x87_exception_as_mf),
        cmocka_unit_test(test_mmx_with_ne_clear_asserts_ferr_and_proceeds_when_retried),
        cmocka_unit_test(test_mmx_opcodes_with_66_f2_f3_prefix_are_ud),
        cmocka_unit_test(test_movd_in_real_mode_moves_32_bits_without_prefix),
        cmocka_unit_test(test_sse_and_blank_opcodes_near_mmx_are_ud),
        cmocka_unit_test(test_mmx_with_lock_prefix_is_ud),
        cmocka_unit_test(test_mmx_memory_fault_leaves_fpu_state_and_memory_unchanged),
        cmocka_unit_test(test_movq_and_movd_store_to_memory_and_register),
        cmocka_unit_test(test_fxsave_x87_part_matches_host),
        cmocka_unit_test(test_fxsave_leaves_mxcsr_and_xmm_areas_untouched),
        cmocka_unit_test(test_fxsave_stores_pointers_opcode_and_abridged_tags),
        cmocka_unit_test(test_fxsave_16bit_operand_size_stores_low_half_of_pointers),
        cmocka_unit_test(test_fxsave_keeps_the_fpu_state),
        cmocka_unit_test(test_fxrstor_restores_what_fxsave_saved),
        cmocka_unit_test(test_fxrstor_abridged_tags_mark_empty_and_contents_give_the_rest),
        cmocka_unit_test(test_fxrstor_loaded_unmasked_flag_is_reported_by_next_fwait),
        cmocka_unit_test(test_fxsave_does_not_report_a_pending_exception),
        cmocka_unit_test(test_fxsave_and_fxrstor_misaligned_are_gp0),
        cmocka_unit_test(test_fxsave_alignment_is_checked_on_the_linear_address),
        cmocka_unit_test(test_fxsave_and_fxrstor_with_cr0_ts_or_em_are_nm),
        cmocka_unit_test(test_fxsave_limit_fault_writes_nothing),
        cmocka_unit_test(test_0f_ae_forms_other_than_fxsave_fxrstor_memory_are_ud),
        cmocka_unit_test(test_wait_is_nm_only_with_mp_and_ts_whatever_em),
        cmocka_unit_test(test_x87_with_cr0_em_alone_is_nm),
        cmocka_unit_test(test_cpuid_reports_mmx_and_fxsr),
        cmocka_unit_test(test_cr4_osfxsr_is_writable_and_osxmmexcpt_reserved),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

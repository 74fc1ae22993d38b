/* Protected-mode system instructions: LLDT LTR SLDT STR VERR VERW LAR LSL ARPL, SYSENTER/SYSEXIT,
 * the TSS I/O permission bitmap, and the model-specific registers. Intel SDM Vol. 2 instruction
 * pages, Vol. 1 §19.5, Vol. 3A §11.11, Vol. 4. Faults are observed through last_fault/fault_err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define GDT 0x10000u
#define IDT 0x11000u
#define TSS 0x20000u
#define LDT 0x30000u
#define HANDLER 0x3000u
#define CODE 0x1000u

/* GDT selectors. */
enum {
    SEL_CODE0 = 0x08, SEL_DATA0 = 0x10, SEL_CODE3 = 0x18, SEL_DATA3 = 0x20, SEL_TSS32 = 0x28,
    SEL_LDT = 0x30, SEL_TSS16 = 0x38, SEL_LDT_NP = 0x40, SEL_CONF = 0x48, SEL_XONLY = 0x50,
    SEL_PAGED = 0x58, SEL_CALLGATE = 0x60, SEL_INTGATE = 0x68, SEL_DATA0_RO = 0x70, SEL_TSS32_NP = 0x78,
    GDT_ENTRIES = 16,
};
#define TSS_LIMIT 0x2068u /* 0x68 bytes of TSS, a bitmap for 65536 ports, and the trailing 0xFF */

static void put_desc(struct harness *h, uint32_t addr, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint32_t d[2];
    d[0] = (limit & 0xFFFF) | (base << 16);
    d[1] = ((base >> 16) & 0xFF) | ((uint32_t)access << 8) | (limit & 0xF0000u) | ((uint32_t)(flags & 0xF0) << 16) |
           (base & 0xFF000000u);
    h_poke(h, addr, d, 8);
}

static void gdt_entry(struct harness *h, int sel, uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    put_desc(h, GDT + (uint32_t)sel, base, limit, access, flags);
}

static uint8_t gdt_access(struct harness *h, int sel) { return (uint8_t)h_peek(h, GDT + (uint32_t)sel + 5, 1); }

/* Flat 32-bit protected mode with a real GDT, an IDT whose 32 exception gates lead to a HLT at
 * HANDLER, and a 32-bit TSS (ring-0 stack, an I/O bitmap that allows every port) that TR holds. */
static struct harness *pm(void)
{
    struct harness *h = h_new(1);
    struct cpu *c = h->c;
    gdt_entry(h, SEL_CODE0, 0, 0xFFFFF, 0x9A, 0xC0);
    gdt_entry(h, SEL_DATA0, 0, 0xFFFFF, 0x92, 0xC0);
    gdt_entry(h, SEL_CODE3, 0, 0xFFFFF, 0xFA, 0xC0);
    gdt_entry(h, SEL_DATA3, 0, 0xFFFFF, 0xF2, 0xC0);
    gdt_entry(h, SEL_TSS32, TSS, TSS_LIMIT, 0x8B, 0x00); /* busy: TR holds it */
    gdt_entry(h, SEL_LDT, LDT, 0xFF, 0x82, 0x00);
    gdt_entry(h, SEL_TSS16, 0x28000, 0x2B, 0x81, 0x00);
    gdt_entry(h, SEL_LDT_NP, LDT, 0xFF, 0x02, 0x00);
    gdt_entry(h, SEL_CONF, 0, 0xFFFFF, 0x9E, 0xC0);     /* conforming readable code, DPL 0 */
    gdt_entry(h, SEL_XONLY, 0, 0xFFFFF, 0xF8, 0xC0);    /* execute-only code, DPL 3 */
    gdt_entry(h, SEL_PAGED, 0x123456, 0x0000F, 0xF2, 0xD0); /* G = 1, D = 1, AVL = 1: limit 0xFFFF */
    gdt_entry(h, SEL_CALLGATE, 0, 0, 0xEC, 0x00);       /* call gate (type C), DPL 3 */
    gdt_entry(h, SEL_INTGATE, 0, 0, 0xEE, 0x00);        /* interrupt gate: not valid for LAR */
    gdt_entry(h, SEL_DATA0_RO, 0, 0xFFFFF, 0x90, 0xC0); /* read-only data, DPL 0 */
    gdt_entry(h, SEL_TSS32_NP, TSS, TSS_LIMIT, 0x09, 0x00);
    c->gdtr = (struct dtr){ GDT, GDT_ENTRIES * 8 - 1 };
    for (int v = 0; v < 32; v++) {
        uint32_t g[2] = { (HANDLER & 0xFFFF) | ((uint32_t)SEL_CODE0 << 16), (HANDLER & 0xFFFF0000u) | 0x8E00u };
        h_poke(h, IDT + (uint32_t)v * 8, g, 8);
    }
    c->idtr = (struct dtr){ IDT, 32 * 8 - 1 };
    static const uint8_t hlt = 0xF4;
    h_poke(h, HANDLER, &hlt, 1);
    uint32_t esp0 = 0x90000, ss0 = SEL_DATA0, iomap = 0x68;
    h_poke(h, TSS + 4, &esp0, 4);
    h_poke(h, TSS + 8, &ss0, 4);
    h_poke(h, TSS + 0x66, &iomap, 2);
    uint8_t ff = 0xFF;
    h_poke(h, TSS + 0x68 + 0x2000, &ff, 1);
    c->tr = (struct segreg){ SEL_TSS32, TSS, TSS_LIMIT, AR_P | 0xB };
    c->ldtr = (struct segreg){ 0, 0, 0, 0 };
    return h;
}

/* Puts the CPU at CPL 3 with ring-3 flat selectors in the caches. */
static void ring3(struct harness *h)
{
    struct cpu *c = h->c;
    c->seg[S_CS].sel = SEL_CODE3 | 3;
    c->seg[S_CS].ar |= 3 << 5;
    for (int s = 0; s < S_NSEG; s++) {
        if (s != S_CS) {
            c->seg[s].sel = SEL_DATA3 | 3;
            c->seg[s].ar |= 3 << 5;
        }
    }
    c->cpl = 3;
}

static void run(struct harness *h, const uint8_t *code, size_t len)
{
    h_code(h, CODE, code, len);
    h->c->last_fault = -1;
    h_step(h, 1);
}

/* The same at CPL 3 (a fault delivered by the previous run left the CPU in the ring-0 handler). */
static void run3(struct harness *h, const uint8_t *code, size_t len)
{
    ring3(h);
    run(h, code, len);
}

static int zf(struct harness *h) { return (h->c->eflags & F_ZF) != 0; }

/* ---- LLDT / SLDT ---- */

static const uint8_t lldt_ax[] = { 0x0F, 0x00, 0xD0 };

static void test_lldt_loads_ldt_and_sldt_stores_it(void **state)
{
    (void)state;
    struct harness *h = pm();
    h->c->r[R_EAX] = SEL_LDT;
    run(h, lldt_ax, sizeof(lldt_ax));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->ldtr.sel, SEL_LDT);
    assert_int_equal(h->c->ldtr.base, LDT);
    assert_int_equal(h->c->ldtr.limit, 0xFF);
    /* SLDT to a 32-bit register zero-extends; to memory it writes 16 bits. */
    h->c->r[R_ECX] = 0xDEADBEEF;
    static const uint8_t sldt_ecx[] = { 0x0F, 0x00, 0xC1 };
    run(h, sldt_ecx, sizeof(sldt_ecx));
    assert_int_equal(h->c->r[R_ECX], SEL_LDT);
    h->c->r[R_ECX] = 0xDEADBEEF;
    static const uint8_t sldt_cx[] = { 0x66, 0x0F, 0x00, 0xC1 };
    run(h, sldt_cx, sizeof(sldt_cx));
    assert_int_equal(h->c->r[R_ECX], 0xDEAD0000u | SEL_LDT);
    uint32_t fill = 0xAAAAAAAA;
    h_poke(h, 0x5000, &fill, 4);
    h->c->r[R_EBX] = 0x5000;
    static const uint8_t sldt_mem[] = { 0x0F, 0x00, 0x03 };
    run(h, sldt_mem, sizeof(sldt_mem));
    assert_int_equal(h_peek(h, 0x5000, 4), 0xAAAA0000u | SEL_LDT);
    h_free(h);
}

static void test_lldt_null_makes_ldtr_unusable(void **state)
{
    (void)state;
    struct harness *h = pm();
    h->c->ldtr = (struct segreg){ SEL_LDT, LDT, 0xFF, AR_P | 0x2 };
    h->c->r[R_EAX] = 0x0003; /* bits 2-15 clear: null, whatever the RPL */
    run(h, lldt_ax, sizeof(lldt_ax));
    assert_int_equal(h->c->last_fault, -1);
    assert_false(h->c->ldtr.ar & AR_P);
    /* A reference through the LDT now faults: MOV DS with TI = 1 is #GP(selector). */
    static const uint8_t mov_ds[] = { 0x8E, 0xD9 }; /* mov ds, cx */
    h->c->r[R_ECX] = 0x0004;
    run(h, mov_ds, sizeof(mov_ds));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, 0x0004);
    h_free(h);
}

static void test_lldt_rejects_ldt_selector_wrong_type_and_absent(void **state)
{
    (void)state;
    struct harness *h = pm();
    h->c->r[R_EAX] = SEL_LDT | 4; /* TI = 1 */
    run(h, lldt_ax, sizeof(lldt_ax));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, SEL_LDT | 4);
    h->c->r[R_EAX] = SEL_DATA0;
    run(h, lldt_ax, sizeof(lldt_ax));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, SEL_DATA0);
    h->c->r[R_EAX] = GDT_ENTRIES * 8; /* past the GDT limit */
    run(h, lldt_ax, sizeof(lldt_ax));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, GDT_ENTRIES * 8);
    h->c->r[R_EAX] = SEL_LDT_NP;
    run(h, lldt_ax, sizeof(lldt_ax));
    assert_int_equal(h->c->last_fault, EXC_NP);
    assert_int_equal(h->c->fault_err, SEL_LDT_NP);
    h_free(h);
}

static void test_lldt_and_ltr_need_cpl0(void **state)
{
    (void)state;
    struct harness *h = pm();
    ring3(h);
    h->c->r[R_EAX] = SEL_LDT;
    run3(h, lldt_ax, sizeof(lldt_ax));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, 0);
    static const uint8_t ltr_ax[] = { 0x0F, 0x00, 0xD8 };
    run3(h, ltr_ax, sizeof(ltr_ax));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, 0);
    /* SLDT and STR are allowed at any CPL on a P6. */
    static const uint8_t str_ecx[] = { 0x0F, 0x00, 0xC9 };
    run3(h, str_ecx, sizeof(str_ecx));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->r[R_ECX], SEL_TSS32);
    h_free(h);
}

static void test_descriptor_instructions_are_ud_in_real_mode(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    h_set_ivt(h, EXC_UD, 0x2000);
    static const uint8_t sldt[] = { 0x0F, 0x00, 0xC0 };
    h_code(h, 0x1000, sldt, sizeof(sldt));
    h_step(h, 1);
    assert_int_equal(h->c->last_fault, EXC_UD);
    static const uint8_t lar[] = { 0x0F, 0x02, 0xC1 };
    h_code(h, 0x1000, lar, sizeof(lar));
    h_step(h, 1);
    assert_int_equal(h->c->last_fault, EXC_UD);
    static const uint8_t arpl[] = { 0x63, 0xC3 };
    h_code(h, 0x1000, arpl, sizeof(arpl));
    h_step(h, 1);
    assert_int_equal(h->c->last_fault, EXC_UD);
    h_free(h);
}

/* ---- LTR / STR ---- */

static const uint8_t ltr_ax[] = { 0x0F, 0x00, 0xD8 };

static void test_ltr_marks_tss_busy(void **state)
{
    (void)state;
    struct harness *h = pm();
    gdt_entry(h, SEL_TSS32, TSS, TSS_LIMIT, 0x89, 0x00); /* available */
    h->c->tr = (struct segreg){ 0, 0, 0, 0 };
    h->c->r[R_EAX] = SEL_TSS32;
    run(h, ltr_ax, sizeof(ltr_ax));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(gdt_access(h, SEL_TSS32), 0x8B); /* busy in memory */
    assert_int_equal(h->c->tr.sel, SEL_TSS32);
    assert_int_equal(h->c->tr.base, TSS);
    assert_int_equal(h->c->tr.limit, TSS_LIMIT);
    assert_int_equal(h->c->tr.ar & AR_TYPE, 0xB);
    static const uint8_t str_ecx[] = { 0x0F, 0x00, 0xC9 };
    h->c->r[R_ECX] = 0xFFFFFFFF;
    run(h, str_ecx, sizeof(str_ecx));
    assert_int_equal(h->c->r[R_ECX], SEL_TSS32);
    /* A 16-bit TSS (type 1) is loadable too and becomes type 3. */
    h->c->r[R_EAX] = SEL_TSS16;
    run(h, ltr_ax, sizeof(ltr_ax));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(gdt_access(h, SEL_TSS16), 0x83);
    h_free(h);
}

static void test_ltr_busy_tss_raises_gp(void **state)
{
    (void)state;
    struct harness *h = pm();
    struct segreg before = h->c->tr;
    h->c->r[R_EAX] = SEL_TSS32; /* already busy */
    run(h, ltr_ax, sizeof(ltr_ax));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, SEL_TSS32);
    assert_int_equal(h->c->tr.sel, before.sel);
    h_free(h);
}

static void test_ltr_rejects_null_ldt_type_and_absent(void **state)
{
    (void)state;
    struct harness *h = pm();
    h->c->r[R_EAX] = 0;
    run(h, ltr_ax, sizeof(ltr_ax));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, 0);
    h->c->r[R_EAX] = SEL_LDT;
    run(h, ltr_ax, sizeof(ltr_ax));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, SEL_LDT);
    h->c->r[R_EAX] = SEL_TSS32_NP;
    run(h, ltr_ax, sizeof(ltr_ax));
    assert_int_equal(h->c->last_fault, EXC_NP);
    assert_int_equal(h->c->fault_err, SEL_TSS32_NP);
    assert_int_equal(gdt_access(h, SEL_TSS32_NP), 0x09); /* not marked busy */
    h_free(h);
}

/* ---- VERR / VERW ---- */

static void verr_verw(struct harness *h, uint16_t sel, int *r, int *w)
{
    static const uint8_t verr[] = { 0x0F, 0x00, 0xE0 }; /* verr ax */
    static const uint8_t verw[] = { 0x0F, 0x00, 0xE8 }; /* verw ax */
    h->c->r[R_EAX] = sel;
    run(h, verr, sizeof(verr));
    assert_int_equal(h->c->last_fault, -1);
    *r = zf(h);
    run(h, verw, sizeof(verw));
    assert_int_equal(h->c->last_fault, -1);
    *w = zf(h);
}

static void test_verr_code_segment_readability(void **state)
{
    (void)state;
    struct harness *h = pm();
    int r, w;
    verr_verw(h, SEL_CODE0, &r, &w); /* readable code: read yes, write never */
    assert_true(r);
    assert_false(w);
    verr_verw(h, SEL_XONLY | 3, &r, &w); /* execute-only */
    assert_false(r);
    assert_false(w);
    verr_verw(h, SEL_DATA0, &r, &w);
    assert_true(r);
    assert_true(w);
    verr_verw(h, SEL_DATA0_RO, &r, &w);
    assert_true(r);
    assert_false(w);
    verr_verw(h, SEL_TSS32, &r, &w); /* system segment */
    assert_false(r);
    assert_false(w);
    verr_verw(h, 0, &r, &w); /* null: no fault, ZF = 0 */
    assert_false(r);
    verr_verw(h, 0x400, &r, &w); /* past the GDT limit */
    assert_false(r);
    /* At CPL 3: a DPL 0 data segment is out of reach, a conforming code segment is not. */
    ring3(h);
    verr_verw(h, SEL_DATA0 | 3, &r, &w);
    assert_false(r);
    assert_false(w);
    verr_verw(h, SEL_CONF | 3, &r, &w);
    assert_true(r);
    assert_false(w);
    verr_verw(h, SEL_DATA3 | 3, &r, &w);
    assert_true(r);
    assert_true(w);
    h_free(h);
}

/* ---- LAR / LSL ---- */

static const uint8_t lar_eax_ecx[] = { 0x0F, 0x02, 0xC1 };
static const uint8_t lsl_eax_ecx[] = { 0x0F, 0x03, 0xC1 };

static void test_lar_masks_access_rights(void **state)
{
    (void)state;
    struct harness *h = pm();
    h->c->r[R_ECX] = SEL_PAGED;
    run(h, lar_eax_ecx, sizeof(lar_eax_ecx));
    assert_true(zf(h));
    /* Byte 5 (F2) in bits 15:8, G/D/L/AVL (D) in bits 23:20; base and limit bits masked. */
    assert_int_equal(h->c->r[R_EAX], 0x00D0F200u);
    /* 16-bit operand size: only bits 15:8; the upper half of EAX is kept. */
    h->c->r[R_EAX] = 0x12345678;
    static const uint8_t lar16[] = { 0x66, 0x0F, 0x02, 0xC1 };
    run(h, lar16, sizeof(lar16));
    assert_true(zf(h));
    assert_int_equal(h->c->r[R_EAX], 0x1234F200u);
    /* A call gate is valid for LAR, an interrupt gate is not (and leaves EAX alone). */
    h->c->r[R_ECX] = SEL_CALLGATE;
    run(h, lar_eax_ecx, sizeof(lar_eax_ecx));
    assert_true(zf(h));
    assert_int_equal(h->c->r[R_EAX], 0x0000EC00u);
    h->c->r[R_EAX] = 0x55;
    h->c->r[R_ECX] = SEL_INTGATE;
    run(h, lar_eax_ecx, sizeof(lar_eax_ecx));
    assert_false(zf(h));
    assert_int_equal(h->c->r[R_EAX], 0x55);
    /* Privilege: RPL 3 cannot see a DPL 0 segment. */
    h->c->r[R_ECX] = SEL_DATA0 | 3;
    run(h, lar_eax_ecx, sizeof(lar_eax_ecx));
    assert_false(zf(h));
    /* Busy 32-bit TSS and LDT are valid; null is not. */
    h->c->r[R_ECX] = SEL_TSS32;
    run(h, lar_eax_ecx, sizeof(lar_eax_ecx));
    assert_true(zf(h));
    assert_int_equal(h->c->r[R_EAX], 0x00008B00u);
    h->c->r[R_ECX] = 0;
    run(h, lar_eax_ecx, sizeof(lar_eax_ecx));
    assert_false(zf(h));
    h_free(h);
}

static void test_lsl_applies_granularity(void **state)
{
    (void)state;
    struct harness *h = pm();
    h->c->r[R_ECX] = SEL_PAGED; /* limit field 0xF with G = 1 */
    run(h, lsl_eax_ecx, sizeof(lsl_eax_ecx));
    assert_true(zf(h));
    assert_int_equal(h->c->r[R_EAX], 0xFFFF);
    h->c->r[R_ECX] = SEL_CODE0;
    run(h, lsl_eax_ecx, sizeof(lsl_eax_ecx));
    assert_int_equal(h->c->r[R_EAX], 0xFFFFFFFFu);
    h->c->r[R_ECX] = SEL_TSS32;
    run(h, lsl_eax_ecx, sizeof(lsl_eax_ecx));
    assert_true(zf(h));
    assert_int_equal(h->c->r[R_EAX], TSS_LIMIT);
    /* 16-bit operand size: the low 16 bits of the limit. */
    h->c->r[R_EAX] = 0xABCD0000u;
    h->c->r[R_ECX] = SEL_CODE0;
    static const uint8_t lsl16[] = { 0x66, 0x0F, 0x03, 0xC1 };
    run(h, lsl16, sizeof(lsl16));
    assert_int_equal(h->c->r[R_EAX], 0xABCDFFFFu);
    /* Gates have no limit: LSL fails on a call gate that LAR accepts. */
    h->c->r[R_EAX] = 7;
    h->c->r[R_ECX] = SEL_CALLGATE;
    run(h, lsl_eax_ecx, sizeof(lsl_eax_ecx));
    assert_false(zf(h));
    assert_int_equal(h->c->r[R_EAX], 7);
    h_free(h);
}

/* ---- ARPL ---- */

static void test_arpl_adjusts_rpl(void **state)
{
    (void)state;
    struct harness *h = pm();
    static const uint8_t arpl_bx_ax[] = { 0x63, 0xC3 };
    h->c->r[R_EBX] = 0xFFFF0010; /* RPL 0 */
    h->c->r[R_EAX] = 0x0023;     /* RPL 3 */
    run(h, arpl_bx_ax, sizeof(arpl_bx_ax));
    assert_true(zf(h));
    assert_int_equal(h->c->r[R_EBX], 0xFFFF0013u);
    run(h, arpl_bx_ax, sizeof(arpl_bx_ax));
    assert_false(zf(h));
    assert_int_equal(h->c->r[R_EBX], 0xFFFF0013u);
    /* Memory destination. */
    uint16_t sel = 0x0029;
    h_poke(h, 0x5000, &sel, 2);
    static const uint8_t arpl_mem[] = { 0x63, 0x05, 0x00, 0x50, 0x00, 0x00 }; /* arpl [0x5000], ax */
    run(h, arpl_mem, sizeof(arpl_mem));
    assert_true(zf(h));
    assert_int_equal(h_peek(h, 0x5000, 2), 0x002B);
    h_free(h);
}

/* ---- SYSENTER / SYSEXIT ---- */

static const uint8_t sysenter[] = { 0x0F, 0x34 };
static const uint8_t sysexit[] = { 0x0F, 0x35 };

static void test_sysenter_loads_flat_ring0(void **state)
{
    (void)state;
    struct harness *h = pm();
    struct cpu *c = h->c;
    ring3(h);
    c->sysenter_cs = SEL_CODE0 | 3; /* RPL is forced to 0 */
    c->sysenter_esp = 0x70000;
    c->sysenter_eip = 0x4000;
    c->eflags |= F_IF | F_RF;
    run(h, sysenter, sizeof(sysenter));
    assert_int_equal(c->last_fault, -1);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->eip, 0x4000);
    assert_int_equal(c->r[R_ESP], 0x70000);
    assert_false(c->eflags & (F_IF | F_RF | F_VM));
    assert_int_equal(c->seg[S_CS].sel, SEL_CODE0);
    assert_int_equal(c->seg[S_CS].base, 0);
    assert_int_equal(c->seg[S_CS].limit, 0xFFFFFFFFu);
    assert_int_equal(c->seg[S_CS].ar, AR_P | AR_S | AR_DB | AR_G | 0xB);
    assert_int_equal(c->seg[S_SS].sel, SEL_CODE0 + 8);
    assert_int_equal(c->seg[S_SS].ar, AR_P | AR_S | AR_DB | AR_G | 0x3);
    assert_int_equal(c->seg[S_SS].limit, 0xFFFFFFFFu);
    h_free(h);
}

static void test_sysexit_returns_to_ring3(void **state)
{
    (void)state;
    struct harness *h = pm();
    struct cpu *c = h->c;
    c->sysenter_cs = SEL_CODE0;
    c->r[R_ECX] = 0x7FF00;
    c->r[R_EDX] = 0x6000;
    run(h, sysexit, sizeof(sysexit));
    assert_int_equal(c->last_fault, -1);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->eip, 0x6000);
    assert_int_equal(c->r[R_ESP], 0x7FF00);
    assert_int_equal(c->seg[S_CS].sel, (SEL_CODE0 + 16) | 3);
    assert_int_equal(c->seg[S_CS].ar, AR_P | AR_S | AR_DB | AR_G | (3 << 5) | 0xB);
    assert_int_equal(c->seg[S_SS].sel, (SEL_CODE0 + 24) | 3);
    assert_int_equal(c->seg[S_SS].ar, AR_P | AR_S | AR_DB | AR_G | (3 << 5) | 0x3);
    /* SYSEXIT again, now at CPL 3: #GP(0). */
    run(h, sysexit, sizeof(sysexit));
    assert_int_equal(c->last_fault, EXC_GP);
    assert_int_equal(c->fault_err, 0);
    h_free(h);
}

static void test_sysenter_with_null_cs_raises_gp(void **state)
{
    (void)state;
    struct harness *h = pm();
    h->c->sysenter_cs = 0x0003; /* bits 15:2 zero */
    run(h, sysenter, sizeof(sysenter));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, 0);
    h_free(h);
    /* Real mode: #GP(0) whatever the MSR holds. */
    h = h_new(0);
    h_set_ivt(h, EXC_GP, 0x2000);
    h->c->sysenter_cs = SEL_CODE0;
    h_code(h, 0x1000, sysenter, sizeof(sysenter));
    h_step(h, 1);
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->eip, 0x2000);
    h_free(h);
}

/* ---- the I/O permission bitmap ---- */

static void set_port_bit(struct harness *h, uint16_t port, int on)
{
    uint32_t a = TSS + 0x68 + port / 8;
    uint8_t b = (uint8_t)h_peek(h, a, 1);
    b = on ? (uint8_t)(b | (1u << (port & 7))) : (uint8_t)(b & ~(1u << (port & 7)));
    h_poke(h, a, &b, 1);
}

static void test_io_bitmap_allows_and_denies_ports(void **state)
{
    (void)state;
    struct harness *h = pm();
    ring3(h); /* CPL 3 > IOPL 0 */
    set_port_bit(h, 0x81, 1);
    static const uint8_t in_al_80[] = { 0xE4, 0x80 };
    run3(h, in_al_80, sizeof(in_al_80));
    assert_int_equal(h->c->last_fault, -1);
    static const uint8_t in_al_81[] = { 0xE4, 0x81 };
    run3(h, in_al_81, sizeof(in_al_81));
    assert_int_equal(h->c->last_fault, EXC_GP);
    assert_int_equal(h->c->fault_err, 0);
    /* A word or dword access checks every port it touches: 0x80-0x81 includes the denied bit. */
    static const uint8_t in_ax_80[] = { 0x66, 0xE5, 0x80 };
    run3(h, in_ax_80, sizeof(in_ax_80));
    assert_int_equal(h->c->last_fault, EXC_GP);
    /* A dword straddling a bitmap byte: ports 0x7E-0x81 (bits in two bytes). */
    static const uint8_t in_eax_dx[] = { 0xED };
    h->c->r[R_EDX] = 0x7E;
    run3(h, in_eax_dx, sizeof(in_eax_dx));
    assert_int_equal(h->c->last_fault, EXC_GP);
    set_port_bit(h, 0x81, 0);
    run3(h, in_eax_dx, sizeof(in_eax_dx));
    assert_int_equal(h->c->last_fault, -1);
    /* IOPL 3 skips the bitmap. */
    set_port_bit(h, 0x81, 1);
    h->c->eflags |= F_IOPL;
    run3(h, in_al_81, sizeof(in_al_81));
    assert_int_equal(h->c->last_fault, -1);
    h_free(h);
}

static void test_io_bitmap_beyond_tss_limit_denies(void **state)
{
    (void)state;
    struct harness *h = pm();
    ring3(h);
    /* Map of 0x10 bytes (ports 0-0x7F) and its trailing byte: the limit ends at 0x68 + 0x10. */
    h->c->tr.limit = 0x68 + 0x10;
    static const uint8_t in_al_dx[] = { 0xEC };
    h->c->r[R_EDX] = 0x70;
    run3(h, in_al_dx, sizeof(in_al_dx));
    assert_int_equal(h->c->last_fault, -1);
    h->c->r[R_EDX] = 0x80; /* its bit is beyond the limit */
    run3(h, in_al_dx, sizeof(in_al_dx));
    assert_int_equal(h->c->last_fault, EXC_GP);
    /* Port 0x78 is mapped, but the processor reads two bytes and the second is past the limit. */
    h->c->tr.limit = 0x68 + 0x0F;
    h->c->r[R_EDX] = 0x78;
    run3(h, in_al_dx, sizeof(in_al_dx));
    assert_int_equal(h->c->last_fault, EXC_GP);
    /* A bitmap base at or past the limit: no map, everything denied. */
    h->c->tr.limit = TSS_LIMIT;
    uint16_t base = 0x3000;
    h_poke(h, TSS + 0x66, &base, 2);
    h->c->r[R_EDX] = 0;
    run3(h, in_al_dx, sizeof(in_al_dx));
    assert_int_equal(h->c->last_fault, EXC_GP);
    h_free(h);
}

static void test_io_bitmap_16bit_tss_denies(void **state)
{
    (void)state;
    struct harness *h = pm();
    ring3(h);
    h->c->tr = (struct segreg){ SEL_TSS16, 0x28000, 0x2B, AR_P | 0x3 };
    uint16_t sp0 = 0xF000, ss0 = SEL_DATA0; /* the ring-0 stack the #GP is delivered on */
    h_poke(h, 0x28002, &sp0, 2);
    h_poke(h, 0x28004, &ss0, 2);
    static const uint8_t in_al_80[] = { 0xE4, 0x80 };
    run3(h, in_al_80, sizeof(in_al_80));
    assert_int_equal(h->c->last_fault, EXC_GP);
    h_free(h);
}

/* ---- MSRs ---- */

static const uint8_t wrmsr[] = { 0x0F, 0x30 };
static const uint8_t rdmsr[] = { 0x0F, 0x32 };

static int wr(struct harness *h, uint32_t idx, uint64_t v)
{
    h->c->r[R_ECX] = idx;
    h->c->r[R_EAX] = (uint32_t)v;
    h->c->r[R_EDX] = (uint32_t)(v >> 32);
    run(h, wrmsr, sizeof(wrmsr));
    return h->c->last_fault;
}

static int rd(struct harness *h, uint32_t idx, uint64_t *v)
{
    h->c->r[R_ECX] = idx;
    run(h, rdmsr, sizeof(rdmsr));
    *v = ((uint64_t)h->c->r[R_EDX] << 32) | h->c->r[R_EAX];
    return h->c->last_fault;
}

static void test_mtrr_reserved_bits_raise_gp(void **state)
{
    (void)state;
    struct harness *h = pm();
    uint64_t v;
    assert_int_equal(rd(h, 0xFE, &v), -1);
    assert_int_equal(v, 0x508); /* VCNT 8, FIX, WC */
    /* PHYSBASE0: WB at 1 MiB; bits 11:8 and 63:36 are reserved; type 2 is undefined. */
    assert_int_equal(wr(h, 0x200, 0x00100006ull), -1);
    assert_int_equal(rd(h, 0x200, &v), -1);
    assert_int_equal(v, 0x00100006ull);
    assert_int_equal(wr(h, 0x200, 0x00100106ull), EXC_GP);
    assert_int_equal(h->c->fault_err, 0);
    assert_int_equal(wr(h, 0x200, 0x1000000000ull | 6), EXC_GP);
    assert_int_equal(wr(h, 0x200, 0x00100002ull), EXC_GP);
    assert_int_equal(rd(h, 0x200, &v), -1);
    assert_int_equal(v, 0x00100006ull); /* unchanged by the faulting writes */
    /* PHYSMASK0: a 36-bit mask with V (bit 11); bits 10:0 are reserved. */
    assert_int_equal(wr(h, 0x201, 0xFFFF00800ull), -1);
    assert_int_equal(wr(h, 0x201, 0xFFFF00801ull), EXC_GP);
    /* Fixed ranges: every byte must be a defined type. */
    assert_int_equal(wr(h, 0x250, 0x0606060606060606ull), -1);
    assert_int_equal(wr(h, 0x26F, 0x0505050505050505ull), -1);
    assert_int_equal(rd(h, 0x26F, &v), -1);
    assert_int_equal(v, 0x0505050505050505ull);
    assert_int_equal(wr(h, 0x259, 0x0006060606060607ull), EXC_GP);
    assert_int_equal(wr(h, 0x251, 0), EXC_GP); /* not an MTRR */
    /* MTRRdefType: E, FE and the type; others reserved. */
    assert_int_equal(wr(h, 0x2FF, 0xC06), -1);
    assert_int_equal(wr(h, 0x2FF, 0x1C06), EXC_GP);
    assert_int_equal(wr(h, 0x2FF, 0xC03), EXC_GP);
    /* MTRRcap is read-only. */
    assert_int_equal(wr(h, 0xFE, 0x508), EXC_GP);
    h_free(h);
}

static void test_unknown_msr_raises_gp(void **state)
{
    (void)state;
    struct harness *h = pm();
    uint64_t v;
    assert_int_equal(rd(h, 0x1A0, &v), EXC_GP); /* IA32_MISC_ENABLE is not a P6 MSR */
    assert_int_equal(h->c->fault_err, 0);
    assert_int_equal(wr(h, 0x1A0, 0), EXC_GP);
    assert_int_equal(rd(h, 0xC0000080u, &v), EXC_GP);
    assert_int_equal(rd(h, 0x17B, &v), EXC_GP); /* MCG_CTL: absent with MCG_CAP.CTL_P = 0 */
    /* At CPL 3 even a known one is #GP(0). */
    ring3(h);
    assert_int_equal(rd(h, 0x10, &v), EXC_GP);
    h_free(h);
}

static void test_p6_msrs_store_and_read_back(void **state)
{
    (void)state;
    struct harness *h = pm();
    uint64_t v;
    /* TSC: only the low 32 bits are written, the high half is cleared. */
    assert_int_equal(wr(h, 0x10, 0x1234567800000010ull), -1);
    assert_int_equal(rd(h, 0x10, &v), -1);
    assert_true(v >= 0x10 && v < 0x100);
    assert_int_equal(rd(h, 0x17, &v), -1);
    assert_int_equal(rd(h, 0x2A, &v), -1);
    assert_int_equal(wr(h, 0x79, 0x12345), -1); /* microcode trigger: ignored */
    assert_int_equal(wr(h, 0x8B, 0), -1);
    assert_int_equal(rd(h, 0x8B, &v), -1);
    assert_int_equal(rd(h, 0x179, &v), -1);
    assert_int_equal(v, 0); /* no machine-check banks */
    assert_int_equal(wr(h, 0x17A, 0), -1);
    assert_int_equal(wr(h, 0x17A, 8), EXC_GP);
    assert_int_equal(wr(h, 0x174, SEL_CODE0), -1);
    assert_int_equal(h->c->sysenter_cs, SEL_CODE0);
    assert_int_equal(wr(h, 0x176, 0xC0001000u), -1);
    assert_int_equal(rd(h, 0x176, &v), -1);
    assert_int_equal(v, 0xC0001000u);
    /* DEBUGCTL: LBR..TR stored, bit 7 and up reserved. LBR records read as zero. */
    assert_int_equal(wr(h, 0x1D9, 0x3), -1);
    assert_int_equal(rd(h, 0x1D9, &v), -1);
    assert_int_equal(v, 3);
    assert_int_equal(wr(h, 0x1D9, 0x80), EXC_GP);
    assert_int_equal(rd(h, 0x1DB, &v), -1);
    assert_int_equal(v, 0);
    /* PerfEvtSel: bit 21 reserved. */
    assert_int_equal(wr(h, 0x186, 0x00430079ull), -1);
    assert_int_equal(rd(h, 0x186, &v), -1);
    assert_int_equal(v, 0x00430079ull);
    assert_int_equal(wr(h, 0x187, 0x00200000ull), EXC_GP);
    h_free(h);
}

static void test_rdpmc_reads_stored_counters(void **state)
{
    (void)state;
    struct harness *h = pm();
    uint64_t v;
    /* The low 32 bits are written and sign-extended to 40 bits. */
    assert_int_equal(wr(h, 0xC2, 0x80000001ull), -1);
    assert_int_equal(rd(h, 0xC2, &v), -1);
    assert_int_equal(v, 0xFF80000001ull);
    static const uint8_t rdpmc[] = { 0x0F, 0x33 };
    h->c->r[R_ECX] = 1;
    run(h, rdpmc, sizeof(rdpmc));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->r[R_EAX], 0x80000001u);
    assert_int_equal(h->c->r[R_EDX], 0xFF);
    h->c->r[R_ECX] = 2;
    run(h, rdpmc, sizeof(rdpmc));
    assert_int_equal(h->c->last_fault, EXC_GP);
    h_free(h);
}

static void test_cpuid_reports_de_sep_and_mtrr(void **state)
{
    (void)state;
    struct harness *h = pm();
    static const uint8_t cpuid[] = { 0x0F, 0xA2 };
    h->c->r[R_EAX] = 1;
    run(h, cpuid, sizeof(cpuid));
    assert_true(h->c->r[R_EDX] & (1u << 2));  /* DE */
    assert_true(h->c->r[R_EDX] & (1u << 11)); /* SEP */
    assert_true(h->c->r[R_EDX] & (1u << 12)); /* MTRR */
    assert_false(h->c->r[R_EDX] & (1u << 14)); /* no MCA */
    assert_false(h->c->r[R_EDX] & (1u << 7));  /* no MCE */
    h_free(h);
}

/* ---- RF in the image a fault handler gets ---- */

static void test_fault_pushes_rf_in_eflags_image(void **state)
{
    (void)state;
    struct harness *h = pm();
    struct cpu *c = h->c;
    static const uint8_t mov_ds_ax[] = { 0x8E, 0xD8 };
    c->r[R_EAX] = SEL_TSS32; /* a system segment: #GP(selector) */
    run(h, mov_ds_ax, sizeof(mov_ds_ax));
    assert_int_equal(c->last_fault, EXC_GP);
    uint32_t esp = c->r[R_ESP];
    assert_int_equal(esp, 0x80000 - 16);
    assert_int_equal(h_peek(h, esp, 4), SEL_TSS32);
    assert_int_equal(h_peek(h, esp + 4, 4), CODE);
    /* Fault-class: RF = 1 in the image (SDM Vol. 3A §17.3.1.1), clear in the handler. */
    assert_true(h_peek(h, esp + 12, 4) & F_RF);
    assert_false(c->eflags & F_RF);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lldt_loads_ldt_and_sldt_stores_it),
        cmocka_unit_test(test_lldt_null_makes_ldtr_unusable),
        cmocka_unit_test(test_lldt_rejects_ldt_selector_wrong_type_and_absent),
        cmocka_unit_test(test_lldt_and_ltr_need_cpl0),
        cmocka_unit_test(test_descriptor_instructions_are_ud_in_real_mode),
        cmocka_unit_test(test_ltr_marks_tss_busy),
        cmocka_unit_test(test_ltr_busy_tss_raises_gp),
        cmocka_unit_test(test_ltr_rejects_null_ldt_type_and_absent),
        cmocka_unit_test(test_verr_code_segment_readability),
        cmocka_unit_test(test_lar_masks_access_rights),
        cmocka_unit_test(test_lsl_applies_granularity),
        cmocka_unit_test(test_arpl_adjusts_rpl),
        cmocka_unit_test(test_sysenter_loads_flat_ring0),
        cmocka_unit_test(test_sysexit_returns_to_ring3),
        cmocka_unit_test(test_sysenter_with_null_cs_raises_gp),
        cmocka_unit_test(test_io_bitmap_allows_and_denies_ports),
        cmocka_unit_test(test_io_bitmap_beyond_tss_limit_denies),
        cmocka_unit_test(test_io_bitmap_16bit_tss_denies),
        cmocka_unit_test(test_mtrr_reserved_bits_raise_gp),
        cmocka_unit_test(test_unknown_msr_raises_gp),
        cmocka_unit_test(test_p6_msrs_store_and_read_back),
        cmocka_unit_test(test_rdpmc_reads_stored_counters),
        cmocka_unit_test(test_cpuid_reports_de_sep_and_mtrr),
        cmocka_unit_test(test_fault_pushes_rf_in_eflags_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

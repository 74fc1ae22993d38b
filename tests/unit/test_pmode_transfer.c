/* Protected-mode transfers a unit test sees better than a guest: EXT bits, rollback of a faulting
 * privilege-changing CALL, LDTR and 16-bit TSSs, faults after the task-switch point, IRET to V86,
 * 16-bit gates from V86, RETF onto a 16-bit stack. Intel SDM Vol. 3A §5.8, §6.12-6.13, ch. 7, 20. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define GDT 0x20000u
#define IDT 0x21000u
#define TSS 0x22000u
#define TSS2 0x22100u
#define TSS16 0x22200u
#define LDT 0x22400u
#define TSS3 0x22300u
#define STACK0 0x9000u
#define STACK3 0x8000u

static void put_desc(struct harness *h, uint32_t table, uint16_t sel, uint32_t base, uint32_t limit, uint8_t acc,
                     uint8_t flags)
{
    uint32_t d[2] = { ((base & 0xFFFF) << 16) | (limit & 0xFFFF),
                      (base & 0xFF000000u) | ((uint32_t)flags << 20) | (limit & 0xF0000u) | ((uint32_t)acc << 8) |
                          ((base >> 16) & 0xFF) };
    h_poke(h, table + (sel & 0xFFF8u), d, 8);
}

static void put_gate(struct harness *h, uint32_t addr, uint16_t sel, uint32_t off, uint16_t attr)
{
    uint32_t d[2] = { (off & 0xFFFF) | ((uint32_t)sel << 16), (off & 0xFFFF0000u) | attr };
    h_poke(h, addr, d, 8);
}

static uint32_t peek32(struct harness *h, uint32_t a) { return h_peek(h, a, 4); }

/* Loads a segment register's cache from its GDT descriptor, as a load would. */
static void set_seg(struct harness *h, int s, uint16_t sel)
{
    struct segreg d;
    uint32_t addr;
    assert_int_equal(read_descriptor(h->c, sel, &d, &addr), 0);
    h->c->seg[s] = d;
}

/* Flat protected mode with a real GDT (the selectors of tests/guest/pm.inc, all bases 0), an IDT
 * of not-present gates, and a busy 32-bit TSS with SS0:ESP0 = 10:9000. */
static struct harness *pm_new(void)
{
    struct harness *h = h_new(1);
    struct cpu *c = h->c;
    put_desc(h, GDT, 0x08, 0, 0xFFFFF, 0x9A, 0xC);
    put_desc(h, GDT, 0x10, 0, 0xFFFFF, 0x92, 0xC);
    put_desc(h, GDT, 0x18, 0, 0xFFFFF, 0xFA, 0xC);
    put_desc(h, GDT, 0x20, 0, 0xFFFFF, 0xF2, 0xC);
    put_desc(h, GDT, 0x28, TSS, 0x67, 0x8B, 0);
    put_desc(h, GDT, 0x40, 0, 0xFFFFF, 0x9E, 0xC); /* conforming, DPL 0 */
    put_desc(h, GDT, 0x48, 0, 0xFFFF, 0x92, 0x0);  /* 16-bit data */
    put_desc(h, GDT, 0x50, 0, 0xFFFF, 0x9A, 0x0);  /* 16-bit code */
    c->gdtr = (struct dtr){ GDT, 0x1FF };
    c->idtr = (struct dtr){ IDT, 0x7FF };
    uint32_t esp0 = STACK0, ss0 = 0x10;
    h_poke(h, TSS + 4, &esp0, 4);
    h_poke(h, TSS + 8, &ss0, 4);
    set_seg(h, S_CS, 0x08);
    for (int s = S_ES; s <= S_GS; s++)
        if (s != S_CS)
            set_seg(h, s, 0x10);
    struct segreg tr;
    uint32_t a;
    read_descriptor(c, 0x28, &tr, &a);
    c->tr = tr;
    c->cpl = 0;
    c->r[R_ESP] = STACK0;
    return h;
}

static void to_ring3(struct harness *h)
{
    set_seg(h, S_CS, 0x1B);
    for (int s = S_ES; s <= S_GS; s++)
        if (s != S_CS)
            set_seg(h, s, 0x23);
    h->c->cpl = 3;
    h->c->r[R_ESP] = STACK3;
}

static int vec_ack_0x30(void *opaque)
{
    (void)opaque;
    return 0x30;
}

/* An external interrupt whose gate is not present: #NP(0x30*8 + 2 + EXT). */
static void test_external_interrupt_fault_sets_ext(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    struct cpu *c = h->c;
    put_gate(h, IDT + 0x30 * 8, 0x08, 0x6000, 0x0E00);
    put_gate(h, IDT + 11 * 8, 0x08, 0x5000, 0x8E00);
    static const uint8_t nop[] = { 0x90 };
    h_code(h, 0x1000, nop, 1);
    c->eflags |= F_IF;
    c->intr = 1;
    c->intr_ack = vec_ack_0x30;
    h_step(h, 1);
    assert_int_equal(c->eip, 0x5000);
    assert_int_equal(c->r[R_ESP], STACK0 - 16);
    assert_int_equal(peek32(h, STACK0 - 16), 0x30 * 8 + 2 + 1); /* error code */
    assert_int_equal(peek32(h, STACK0 - 12), 0x1000);           /* the interrupted EIP */
    h_free(h);
}

/* A software INT n through the same gate has EXT clear. */
static void test_software_int_fault_has_no_ext(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    put_gate(h, IDT + 0x30 * 8, 0x08, 0x6000, 0x0E00);
    put_gate(h, IDT + 11 * 8, 0x08, 0x5000, 0x8E00);
    static const uint8_t code[] = { 0xCD, 0x30 };
    h_code(h, 0x1000, code, sizeof(code));
    h_step(h, 1);
    assert_int_equal(h->c->eip, 0x5000);
    assert_int_equal(peek32(h, STACK0 - 16), 0x30 * 8 + 2);
    assert_int_equal(peek32(h, STACK0 - 12), 0x1000); /* a fault: the INT itself */
    h_free(h);
}

#define PD 0x100000u
#define PT 0x101000u

/* A call gate from ring 3 whose inner-stack push page-faults: the #PF (to a conforming handler,
 * so it stays at CPL 3) sees the state from before the CALL: CPL, CS, SS, ESP all put back. */
static void test_call_gate_fault_mid_push_rolls_back(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    struct cpu *c = h->c;
    uint32_t pde = PT | 7;
    h_poke(h, PD, &pde, 4);
    for (uint32_t a = 0; a < 0x400000; a += 0x1000) {
        uint32_t pte = a | 7;
        if (a == 0x8000) /* the page below ESP0 = 0x9008 */
            pte = 0;
        h_poke(h, PT + (a >> 12) * 4, &pte, 4);
    }
    c->cr[3] = PD;
    c->cr[0] |= CR0_PG;
    tlb_flush_all(&c->tlb);
    uint32_t esp0 = 0x9008;
    h_poke(h, TSS + 4, &esp0, 4);
    put_gate(h, GDT + 0x60, 0x08, 0x7000, 0xEC00);
    put_gate(h, IDT + 14 * 8, 0x40, 0x5000, 0xEE00); /* conforming handler: no stack switch */
    to_ring3(h);
    static const uint8_t call[] = { 0x9A, 0, 0, 0, 0, 0x63, 0x00 }; /* call 0x63:0 */
    h_code(h, 0x1000, call, sizeof(call));
    h_step(h, 1);
    assert_int_equal(c->last_fault, EXC_PF);
    assert_int_equal(c->cr[2], 0x8FFC);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->seg[S_SS].sel, 0x23);
    assert_int_equal(c->seg[S_CS].sel, 0x43); /* the conforming handler, RPL = CPL 3 */
    assert_int_equal(c->eip, 0x5000);
    /* #PF frame on the ring-3 stack: error code, then the EIP of the CALL. */
    assert_int_equal(c->r[R_ESP], STACK3 - 16);
    assert_int_equal(peek32(h, STACK3 - 16), 0x2); /* write, not present, supervisor (the new CPL) */
    assert_int_equal(peek32(h, STACK3 - 12), 0x1000);
    assert_int_equal(peek32(h, STACK3 - 8), 0x1B);
    h_free(h);
}

/* JMP to a TSS naming an LDT: LDTR is loaded from the GDT descriptor the TSS names. */
static void test_task_switch_loads_ldtr(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    struct cpu *c = h->c;
    put_desc(h, GDT, 0x60, TSS2, 0x67, 0x89, 0);
    put_desc(h, GDT, 0x68, LDT, 0x17, 0x82, 0);
    put_desc(h, LDT, 0x0C, 0, 0xFFFFF, 0x92, 0xC); /* LDT entry 1: data */
    uint32_t v;
    v = 0x2000; h_poke(h, TSS2 + 0x20, &v, 4);      /* EIP */
    v = 0x2; h_poke(h, TSS2 + 0x24, &v, 4);
    v = 0x7000; h_poke(h, TSS2 + 0x38, &v, 4);      /* ESP */
    uint16_t segs[6] = { 0x0C, 0x08, 0x10, 0x0C, 0, 0 }; /* ES, DS from the LDT */
    for (int i = 0; i < 6; i++)
        h_poke(h, TSS2 + 0x48 + 4 * (uint32_t)i, &segs[i], 2);
    uint16_t ldt = 0x68;
    h_poke(h, TSS2 + 0x60, &ldt, 2);
    static const uint8_t jmp[] = { 0xEA, 0, 0, 0, 0, 0x60, 0x00 };
    h_code(h, 0x1000, jmp, sizeof(jmp));
    h_step(h, 1);
    assert_int_equal(c->last_fault, -1);
    assert_int_equal(c->tr.sel, 0x60);
    assert_int_equal(c->ldtr.sel, 0x68);
    assert_int_equal(c->ldtr.base, LDT);
    assert_int_equal(c->ldtr.limit, 0x17);
    assert_int_equal(c->seg[S_DS].sel, 0x0C);
    assert_int_equal(c->seg[S_DS].ar & (AR_P | AR_S), AR_P | AR_S);
    assert_int_equal(c->seg[S_FS].ar & AR_P, 0); /* null */
    assert_int_equal(c->eip, 0x2000);
    assert_int_equal(c->r[R_ESP], 0x7000);
    assert_true(c->cr[0] & CR0_TS);
    /* the old TSS: available, EIP after the JMP saved */
    assert_int_equal(h_peek(h, GDT + 0x28 + 5, 1), 0x89);
    assert_int_equal(peek32(h, TSS + 0x20), 0x1007);
    h_free(h);
}

/* Writes a ring-0 32-bit TSS at base: EIP, ESP, flat segments, and the LDT selector ldt. */
static void put_task(struct harness *h, uint32_t base, uint32_t eip, uint32_t esp, uint16_t ldt)
{
    uint32_t v;
    v = eip; h_poke(h, base + 0x20, &v, 4);
    v = 0x2; h_poke(h, base + 0x24, &v, 4);
    v = esp; h_poke(h, base + 0x38, &v, 4);
    uint16_t segs[6] = { 0x10, 0x08, 0x10, 0x10, 0x10, 0x10 };
    for (int i = 0; i < 6; i++)
        h_poke(h, base + 0x48 + 4 * (uint32_t)i, &segs[i], 2);
    h_poke(h, base + 0x60, &ldt, 2);
}

/* A new task whose LDT selector is not an LDT: #TS(LDT) is raised after the switch point, so
 * it is delivered in the new task's context (SDM §7.3 step 13; #TS wants a task gate, §6.15):
 * the #TS handler task finds the faulting task's state, EIP included, saved in the new TSS. */
static void test_bad_ldt_faults_in_new_task(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    struct cpu *c = h->c;
    put_desc(h, GDT, 0x60, TSS2, 0x67, 0x89, 0);
    put_desc(h, GDT, 0x68, TSS3, 0x67, 0x89, 0);
    put_task(h, TSS2, 0x2000, 0x7000, 0x10); /* LDT selector names a data segment */
    put_task(h, TSS3, 0x5000, 0x6000, 0);
    put_gate(h, IDT + 10 * 8, 0x68, 0, 0x8500); /* #TS through a task gate */
    static const uint8_t jmp[] = { 0xEA, 0, 0, 0, 0, 0x60, 0x00 };
    h_code(h, 0x1000, jmp, sizeof(jmp));
    h_step(h, 1);
    assert_int_equal(c->last_fault, EXC_TS);
    assert_int_equal(c->tr.sel, 0x68);
    assert_int_equal(c->eip, 0x5000);
    assert_int_equal(c->r[R_ESP], 0x6000 - 4);
    assert_int_equal(peek32(h, 0x6000 - 4), 0x10);   /* #TS(LDT selector), EXT clear (JMP) */
    assert_int_equal(h_peek(h, TSS3, 2), 0x60);    /* back link: the faulting new task */
    assert_int_equal(peek32(h, TSS2 + 0x20), 0x2000); /* its EIP: the new task's first one */
    assert_int_equal(h_peek(h, GDT + 0x28 + 5, 1), 0x89); /* the JMP did free the old task */
    assert_int_equal(h_peek(h, GDT + 0x60 + 5, 1), 0x8B);
    h_free(h);
}

/* CALL to a 16-bit TSS and IRET back: the 16-bit layout is used for load and save. */
static void test_16bit_tss_call_and_iret(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    struct cpu *c = h->c;
    put_desc(h, GDT, 0x70, TSS16, 0x2B, 0x81, 0);
    uint16_t t[0x16] = { 0 };
    t[0x0E / 2] = 0x2000;  /* IP */
    t[0x10 / 2] = 0x0002;  /* FLAGS */
    t[0x12 / 2] = 0x1616;  /* AX */
    t[0x1A / 2] = 0x6000;  /* SP */
    t[0x22 / 2] = 0x48;    /* ES */
    t[0x24 / 2] = 0x50;    /* CS: 16-bit code */
    t[0x26 / 2] = 0x48;    /* SS */
    t[0x28 / 2] = 0x48;    /* DS */
    h_poke(h, TSS16, t, sizeof(t));
    static const uint8_t call[] = { 0x9A, 0, 0, 0, 0, 0x70, 0x00 };
    static const uint8_t iret[] = { 0x40, 0xCF }; /* inc ax; iret (16-bit) */
    h_poke(h, 0x2000, iret, sizeof(iret));
    h_code(h, 0x1000, call, sizeof(call));
    c->r[R_EAX] = 0xAAAA0000u;
    h_step(h, 1);
    assert_int_equal(c->tr.sel, 0x70);
    assert_int_equal(c->r[R_EAX] & 0xFFFF, 0x1616);
    assert_int_equal(c->r[R_ESP] & 0xFFFF, 0x6000);
    assert_int_equal(c->seg[S_CS].sel, 0x50);
    assert_true(c->eflags & F_NT);
    assert_int_equal(h_peek(h, TSS16, 2), 0x28); /* back link */
    assert_int_equal(h_peek(h, GDT + 0x70 + 5, 1), 0x83);
    h_step(h, 2);
    assert_int_equal(c->tr.sel, 0x28);
    assert_int_equal(c->eip, 0x1007);
    assert_int_equal(c->r[R_EAX], 0xAAAA0000u); /* reloaded from the 32-bit TSS */
    assert_int_equal(h_peek(h, TSS16 + 0x0E, 2), 0x2002); /* IP after the IRET */
    assert_int_equal(h_peek(h, TSS16 + 0x12, 2), 0x1617); /* AX saved */
    assert_int_equal(h_peek(h, TSS16 + 0x10, 2) & F_NT, 0); /* NT clear in the saved FLAGS */
    assert_int_equal(h_peek(h, GDT + 0x70 + 5, 1), 0x81);
    h_free(h);
}

/* IRET at CPL 0 with VM in the image: the V86 frame (ESP SS ES DS FS GS) and 8086 segments. */
static void test_iret_to_v86(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    struct cpu *c = h->c;
    uint32_t frame[9] = { 0x0123, 0x2000, F_VM | 0x3202, 0x0FFE, 0x3000, 0x1111, 0x2222, 0x3333, 0x4444 };
    h_poke(h, STACK0 - sizeof(frame), frame, sizeof(frame));
    c->r[R_ESP] = STACK0 - sizeof(frame);
    static const uint8_t iret[] = { 0xCF };
    h_code(h, 0x1000, iret, 1);
    h_step(h, 1);
    assert_int_equal(c->last_fault, -1);
    assert_true(c->eflags & F_VM);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->eip, 0x0123);
    assert_int_equal(c->seg[S_CS].base, 0x20000);
    assert_int_equal(c->seg[S_SS].base, 0x30000);
    assert_int_equal(c->r[R_ESP], 0x0FFE);
    assert_int_equal(c->seg[S_ES].base, 0x11110);
    assert_int_equal(c->seg[S_DS].base, 0x22220);
    assert_int_equal(c->seg[S_FS].base, 0x33330);
    assert_int_equal(c->seg[S_GS].base, 0x44440);
    assert_int_equal(c->seg[S_DS].limit, 0xFFFF);
    assert_int_equal((c->eflags >> 12) & 3, 3);
    h_free(h);
}

/* Interrupt from V86 through a 16-bit gate: word frame with GS FS DS ES SS SP FLAGS CS IP. */
static void test_v86_interrupt_16bit_gate(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    struct cpu *c = h->c;
    put_gate(h, IDT + 0x40 * 8, 0x08, 0x5000, 0xE600);
    c->eflags = F_FIXED1 | F_VM | F_IOPL;
    c->cpl = 3;
    for (int s = 0; s < S_NSEG; s++)
        load_seg(c, s, (uint16_t)(0x100 + s));
    c->r[R_ESP] = 0x800;
    static const uint8_t code[] = { 0xCD, 0x40 };
    h_poke(h, 0x1010 + 0x10, code, sizeof(code)); /* CS = 0x101 -> base 0x1010 */
    c->eip = 0x10;
    h_step(h, 1);
    assert_int_equal(c->last_fault, -1);
    assert_int_equal(c->cpl, 0);
    assert_int_equal(c->eflags & F_VM, 0);
    assert_int_equal(c->eip, 0x5000);
    assert_int_equal(c->r[R_ESP], STACK0 - 18);
    uint16_t f[9];
    for (int i = 0; i < 9; i++)
        f[i] = (uint16_t)h_peek(h, STACK0 - 18 + 2 * (uint32_t)i, 2);
    assert_int_equal(f[0], 0x12);   /* IP */
    assert_int_equal(f[1], 0x101);  /* CS */
    assert_int_equal(f[2], (F_IOPL | F_FIXED1) & 0xFFFF); /* FLAGS (VM is bit 17: not in a word) */
    assert_int_equal(f[3], 0x800);  /* SP */
    assert_int_equal(f[4], 0x102);  /* SS */
    assert_int_equal(f[5], 0x100);  /* ES */
    assert_int_equal(f[6], 0x103);  /* DS */
    assert_int_equal(f[7], 0x104);  /* FS */
    assert_int_equal(f[8], 0x105);  /* GS */
    assert_int_equal(c->seg[S_DS].sel, 0);
    assert_int_equal(c->seg[S_DS].ar & AR_P, 0);
    h_free(h);
}

/* RETF to an outer level onto a 16-bit stack: only SP changes, by the popped SP plus imm16. */
static void test_retf_outer_imm_16bit_stack(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    struct cpu *c = h->c;
    put_desc(h, GDT, 0x78, 0, 0xFFFF, 0xF2, 0x0); /* DPL 3, 16-bit stack */
    uint32_t frame[4] = { 0x3000, 0x1B, 0x0F00, 0x7B };
    h_poke(h, STACK0 - 24, frame, 8);
    h_poke(h, STACK0 - 24 + 8 + 8, &frame[2], 8); /* 8 bytes of parameters skipped by imm */
    c->r[R_ESP] = STACK0 - 24;
    static const uint8_t retf[] = { 0xCA, 0x08, 0x00 };
    h_code(h, 0x1000, retf, sizeof(retf));
    h_step(h, 1);
    assert_int_equal(c->last_fault, -1);
    assert_int_equal(c->cpl, 3);
    assert_int_equal(c->seg[S_CS].sel, 0x1B);
    assert_int_equal(c->seg[S_SS].sel, 0x7B);
    assert_int_equal(c->r[R_ESP] & 0xFFFF, 0x0F08);
    assert_int_equal(c->eip, 0x3000);
    assert_int_equal(c->seg[S_DS].sel, 0); /* DPL 0 data nulled */
    h_free(h);
}

/* A TSS with the T bit: the switch records a pending task-switch #DB (DR6.BT). */
static void test_tss_t_bit_sets_pending_debug_trap(void **state)
{
    (void)state;
    struct harness *h = pm_new();
    struct cpu *c = h->c;
    put_desc(h, GDT, 0x60, TSS2, 0x67, 0x89, 0);
    uint32_t v;
    v = 0x2000; h_poke(h, TSS2 + 0x20, &v, 4);
    v = 0x2; h_poke(h, TSS2 + 0x24, &v, 4);
    v = 0x7000; h_poke(h, TSS2 + 0x38, &v, 4);
    uint16_t segs[6] = { 0x10, 0x08, 0x10, 0x10, 0x10, 0x10 };
    for (int i = 0; i < 6; i++)
        h_poke(h, TSS2 + 0x48 + 4 * (uint32_t)i, &segs[i], 2);
    uint16_t tbit = 1;
    h_poke(h, TSS2 + 0x64, &tbit, 2);
    put_gate(h, IDT + 1 * 8, 0x08, 0x5000, 0x8E00);
    static const uint8_t jmp[] = { 0xEA, 0, 0, 0, 0, 0x60, 0x00 };
    h_code(h, 0x1000, jmp, sizeof(jmp));
    h_step(h, 1);
    assert_int_equal(c->tr.sel, 0x60);
    assert_true((c->dbg_pending & DR6_BT) || (c->dr[6] & DR6_BT));
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_external_interrupt_fault_sets_ext),
        cmocka_unit_test(test_software_int_fault_has_no_ext),
        cmocka_unit_test(test_call_gate_fault_mid_push_rolls_back),
        cmocka_unit_test(test_task_switch_loads_ldtr),
        cmocka_unit_test(test_bad_ldt_faults_in_new_task),
        cmocka_unit_test(test_16bit_tss_call_and_iret),
        cmocka_unit_test(test_iret_to_v86),
        cmocka_unit_test(test_v86_interrupt_16bit_gate),
        cmocka_unit_test(test_retf_outer_imm_16bit_stack),
        cmocka_unit_test(test_tss_t_bit_sets_pending_debug_trap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* 32-bit paging: page-fault error codes and CR2, accessed/dirty bits, CR0.WP, 4 MiB pages,
 * global pages across CR3 writes, INVLPG, and the TLB's counters.
 * Intel SDM Vol. 3A §4.3, §4.6-4.8, §4.10. Faults are observed through last_fault/fault_err. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define PD 0x100000u
#define PT 0x101000u
#define P 1u
#define RW 2u
#define US 4u
#define A 0x20u
#define D 0x40u
#define PS 0x80u
#define G 0x100u

static void map(struct harness *h, uint32_t lin, uint32_t phys, uint32_t flags)
{
    uint32_t pte = phys | flags;
    h_poke(h, PT + ((lin >> 12) & 0x3FF) * 4, &pte, 4);
}

/* Identity-maps the first 4 MiB as user read/write pages (code at 0x1000, stack below 0x80000),
 * with test pages at 0x200000 (user read-only), 0x201000 (supervisor), 0x202000 (absent). */
static struct harness *paged(void)
{
    struct harness *h = h_new(1);
    uint32_t pde = PT | P | RW | US;
    h_poke(h, PD, &pde, 4);
    for (uint32_t a = 0; a < 0x400000; a += 0x1000)
        map(h, a, a, P | RW | US);
    map(h, 0x200000, 0x200000, P | US);
    map(h, 0x201000, 0x201000, P | RW);
    map(h, 0x202000, 0x202000, 0);
    h->c->cr[3] = PD;
    h->c->cr[0] |= CR0_PG;
    tlb_flush_all(&h->c->tlb);
    return h;
}

static void run(struct harness *h, const uint8_t *code, size_t len)
{
    h_code(h, 0x1000, code, len);
    h->c->last_fault = -1;
    h_step(h, 1);
}

static uint32_t pte_of(struct harness *h, uint32_t lin)
{
    return h_peek(h, PT + ((lin >> 12) & 0x3FF) * 4, 4);
}

static const uint8_t load_200000[] = { 0xA1, 0x00, 0x00, 0x20, 0x00 };  /* mov eax, [0x200000] */
static const uint8_t store_200000[] = { 0xA3, 0x00, 0x00, 0x20, 0x00 }; /* mov [0x200000], eax */

static void test_pf_error_code_user_write_to_readonly(void **state)
{
    (void)state;
    struct harness *h = paged();
    h->c->cpl = 3;
    run(h, store_200000, sizeof(store_200000));
    assert_int_equal(h->c->last_fault, EXC_PF);
    assert_int_equal(h->c->fault_err, 7); /* present, write, user */
    assert_int_equal(h->c->cr[2], 0x200000);
    /* registers put back: the store did not retire, and the #PF frame returns to it */
    assert_int_equal(h_peek(h, h->c->r[R_ESP] + 4, 4), 0x1000);
    h_free(h);
}

static void test_pf_error_code_user_read_of_supervisor_page(void **state)
{
    (void)state;
    struct harness *h = paged();
    h->c->cpl = 3;
    static const uint8_t code[] = { 0xA1, 0x00, 0x10, 0x20, 0x00 }; /* mov eax, [0x201000] */
    run(h, code, sizeof(code));
    assert_int_equal(h->c->last_fault, EXC_PF);
    assert_int_equal(h->c->fault_err, 5); /* present, read, user */
    assert_int_equal(h->c->cr[2], 0x201000);
    h_free(h);
}

static void test_pf_error_code_supervisor_read_not_present(void **state)
{
    (void)state;
    struct harness *h = paged();
    static const uint8_t code[] = { 0xA1, 0x04, 0x20, 0x20, 0x00 }; /* mov eax, [0x202004] */
    run(h, code, sizeof(code));
    assert_int_equal(h->c->last_fault, EXC_PF);
    assert_int_equal(h->c->fault_err, 0);
    assert_int_equal(h->c->cr[2], 0x202004);
    h_free(h);
}

static void test_supervisor_write_to_readonly_allowed_unless_wp(void **state)
{
    (void)state;
    struct harness *h = paged();
    h->c->r[R_EAX] = 0x11223344;
    run(h, store_200000, sizeof(store_200000));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h_peek(h, 0x200000, 4), 0x11223344);

    h->c->cr[0] |= CR0_WP;
    tlb_flush_all(&h->c->tlb);
    run(h, store_200000, sizeof(store_200000));
    assert_int_equal(h->c->last_fault, EXC_PF);
    assert_int_equal(h->c->fault_err, 3); /* present, write, supervisor */
    h_free(h);
}

static void test_accessed_and_dirty_bits_set_by_read_then_write(void **state)
{
    (void)state;
    struct harness *h = paged();
    map(h, 0x203000, 0x203000, P | RW | US);
    static const uint8_t ld[] = { 0xA1, 0x00, 0x30, 0x20, 0x00 };
    static const uint8_t st[] = { 0xA3, 0x00, 0x30, 0x20, 0x00 };
    run(h, ld, sizeof(ld));
    assert_int_equal(pte_of(h, 0x203000) & (A | D), A);
    assert_true(h_peek(h, PD, 4) & A);
    run(h, st, sizeof(st));
    assert_int_equal(pte_of(h, 0x203000) & (A | D), A | D);
    h_free(h);
}

static void test_faulting_access_sets_no_accessed_bit(void **state)
{
    (void)state;
    struct harness *h = paged();
    h->c->cpl = 3;
    static const uint8_t code[] = { 0xA1, 0x00, 0x10, 0x20, 0x00 }; /* user read of a supervisor page */
    run(h, code, sizeof(code));
    assert_int_equal(h->c->last_fault, EXC_PF);
    assert_int_equal(pte_of(h, 0x201000) & A, 0);
    h_free(h);
}

static void test_4mib_page_with_pse(void **state)
{
    (void)state;
    struct harness *h = paged();
    uint32_t big = 0x00800000u | P | RW | PS;
    h_poke(h, PD + 1 * 4, &big, 4); /* linear 4-8 MiB -> physical 8-12 MiB */
    h->c->cr[4] |= CR4_PSE;
    uint32_t v = 0xCAFEF00D;
    h_poke(h, 0x00812340, &v, 4);
    static const uint8_t code[] = { 0xA1, 0x40, 0x23, 0x41, 0x00 }; /* mov eax, [0x412340] */
    run(h, code, sizeof(code));
    assert_int_equal(h->c->last_fault, -1);
    assert_int_equal(h->c->r[R_EAX], 0xCAFEF00D);
    assert_true(h_peek(h, PD + 4, 4) & A);
    h_free(h);
}

static void test_global_page_survives_cr3_write_only_with_pge(void **state)
{
    (void)state;
    struct harness *h = paged();
    uint32_t one = 1, two = 2;
    h_poke(h, 0x204000, &one, 4);
    h_poke(h, 0x205000, &two, 4);
    map(h, 0x204000, 0x204000, P | RW | G);
    h->c->cr[4] |= CR4_PGE;
    static const uint8_t ld[] = { 0xA1, 0x00, 0x40, 0x20, 0x00 };         /* mov eax, [0x204000] */
    static const uint8_t cr3[] = { 0x0F, 0x22, 0xDB };                     /* mov cr3, ebx */
    run(h, ld, sizeof(ld));
    assert_int_equal(h->c->r[R_EAX], 1);
    map(h, 0x204000, 0x205000, P | RW | G); /* remap without INVLPG */
    h->c->r[R_EBX] = PD;
    run(h, cr3, sizeof(cr3));
    run(h, ld, sizeof(ld));
    assert_int_equal(h->c->r[R_EAX], 1); /* global: the old translation is kept */

    h->c->cr[4] &= ~CR4_PGE;
    tlb_flush_all(&h->c->tlb);
    run(h, ld, sizeof(ld));
    assert_int_equal(h->c->r[R_EAX], 2);
    map(h, 0x204000, 0x204000, P | RW | G);
    run(h, cr3, sizeof(cr3));
    run(h, ld, sizeof(ld));
    assert_int_equal(h->c->r[R_EAX], 1); /* without PGE, CR3 flushes it like any other */
    h_free(h);
}

static void test_invlpg_drops_a_stale_translation(void **state)
{
    (void)state;
    struct harness *h = paged();
    uint32_t one = 1, two = 2;
    h_poke(h, 0x206000, &one, 4);
    h_poke(h, 0x207000, &two, 4);
    static const uint8_t ld[] = { 0xA1, 0x00, 0x60, 0x20, 0x00 };               /* mov eax, [0x206000] */
    static const uint8_t inv[] = { 0x0F, 0x01, 0x3D, 0x00, 0x60, 0x20, 0x00 };  /* invlpg [0x206000] */
    run(h, ld, sizeof(ld));
    map(h, 0x206000, 0x207000, P | RW | US);
    run(h, ld, sizeof(ld));
    assert_int_equal(h->c->r[R_EAX], 1); /* stale until invalidated, as on hardware */
    run(h, inv, sizeof(inv));
    run(h, ld, sizeof(ld));
    assert_int_equal(h->c->r[R_EAX], 2);
    h_free(h);
}

/* 0x210000 and 0x310000 share a TLB index (mem/tlb.h): the second way keeps the first page's
 * translation when the other takes its place, and a load from it needs no walk. */
static const uint8_t ld_210000[] = { 0xA1, 0x00, 0x00, 0x21, 0x00 }; /* mov eax, [0x210000] */
static const uint8_t ld_310000[] = { 0xA1, 0x00, 0x00, 0x31, 0x00 }; /* mov eax, [0x310000] */

static void test_two_pages_of_one_tlb_index_both_stay(void **state)
{
    (void)state;
    struct harness *h = paged();
    uint32_t one = 1, two = 2;
    h_poke(h, 0x210000, &one, 4);
    h_poke(h, 0x310000, &two, 4);
    run(h, ld_210000, sizeof(ld_210000));
    run(h, ld_310000, sizeof(ld_310000));
    uint64_t misses = h->c->tlb.misses;
    run(h, ld_210000, sizeof(ld_210000));
    assert_int_equal(h->c->r[R_EAX], 1);
    run(h, ld_310000, sizeof(ld_310000));
    assert_int_equal(h->c->r[R_EAX], 2);
    assert_int_equal(h->c->tlb.misses, misses);
    h_free(h);
}

/* A translation the second way holds goes with INVLPG and with a CR3 write, as one in the first
 * does. */
static void test_second_tlb_way_flushed_by_invlpg_and_cr3_write(void **state)
{
    (void)state;
    struct harness *h = paged();
    uint32_t vals[3] = { 1, 2, 3 };
    h_poke(h, 0x210000, &vals[0], 4);
    h_poke(h, 0x211000, &vals[1], 4);
    h_poke(h, 0x212000, &vals[2], 4);
    static const uint8_t inv[] = { 0x0F, 0x01, 0x3D, 0x00, 0x00, 0x21, 0x00 }; /* invlpg [0x210000] */
    static const uint8_t cr3[] = { 0x0F, 0x22, 0xDB };                         /* mov cr3, ebx */
    run(h, ld_210000, sizeof(ld_210000));
    run(h, ld_310000, sizeof(ld_310000)); /* 0x210000's entry into the second way */
    map(h, 0x210000, 0x211000, P | RW | US);
    run(h, inv, sizeof(inv));
    run(h, ld_210000, sizeof(ld_210000));
    assert_int_equal(h->c->r[R_EAX], 2);
    run(h, ld_310000, sizeof(ld_310000));
    map(h, 0x210000, 0x212000, P | RW | US);
    h->c->cr[4] |= CR4_PGE; /* the write keeps global entries: each one is looked at */
    h->c->r[R_EBX] = PD;
    run(h, cr3, sizeof(cr3));
    run(h, ld_210000, sizeof(ld_210000));
    assert_int_equal(h->c->r[R_EAX], 3);
    h_free(h);
}

static void test_page_crossing_write_faults_before_writing_either_page(void **state)
{
    (void)state;
    struct harness *h = paged();
    uint32_t before = 0x55555555;
    h_poke(h, 0x201ffc, &before, 4);
    map(h, 0x201000, 0x201000, P | RW | US);
    h->c->r[R_EAX] = 0xAABBCCDD;
    static const uint8_t st[] = { 0xA3, 0xFE, 0x1F, 0x20, 0x00 }; /* mov [0x201ffe], eax: into absent 0x202000 */
    run(h, st, sizeof(st));
    assert_int_equal(h->c->last_fault, EXC_PF);
    assert_int_equal(h->c->cr[2], 0x202000);
    assert_int_equal(h->c->fault_err, 2);
    assert_int_equal(h_peek(h, 0x201ffc, 4), 0x55555555); /* nothing torn */
    h_free(h);
}

static void test_instruction_fetch_from_absent_page_faults_with_cr2_there(void **state)
{
    (void)state;
    struct harness *h = paged();
    /* A 5-byte instruction whose last 2 bytes lie on the absent page at 0x202000. */
    static const uint8_t code[] = { 0xB8, 0x01, 0x02 };
    h_poke(h, 0x201ffd, code, sizeof(code));
    map(h, 0x201000, 0x201000, P | RW | US);
    h->c->eip = 0x201ffd;
    h->c->last_fault = -1;
    h_step(h, 1);
    assert_int_equal(h->c->last_fault, EXC_PF);
    assert_int_equal(h->c->cr[2], 0x202000);
    assert_int_equal(h->c->fault_err, 0);
    h_free(h);
}

static void test_tlb_counts_hits_and_misses(void **state)
{
    (void)state;
    struct harness *h = paged();
    run(h, load_200000, sizeof(load_200000));
    uint64_t misses = h->c->tlb.misses, hits = h->c->tlb.hits;
    run(h, load_200000, sizeof(load_200000));
    assert_int_equal(h->c->tlb.misses, misses);
    assert_true(h->c->tlb.hits > hits);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pf_error_code_user_write_to_readonly),
        cmocka_unit_test(test_pf_error_code_user_read_of_supervisor_page),
        cmocka_unit_test(test_pf_error_code_supervisor_read_not_present),
        cmocka_unit_test(test_supervisor_write_to_readonly_allowed_unless_wp),
        cmocka_unit_test(test_accessed_and_dirty_bits_set_by_read_then_write),
        cmocka_unit_test(test_faulting_access_sets_no_accessed_bit),
        cmocka_unit_test(test_4mib_page_with_pse),
        cmocka_unit_test(test_global_page_survives_cr3_write_only_with_pge),
        cmocka_unit_test(test_invlpg_drops_a_stale_translation),
        cmocka_unit_test(test_two_pages_of_one_tlb_index_both_stay),
        cmocka_unit_test(test_second_tlb_way_flushed_by_invlpg_and_cr3_write),
        cmocka_unit_test(test_page_crossing_write_faults_before_writing_either_page),
        cmocka_unit_test(test_instruction_fetch_from_absent_page_faults_with_cr2_there),
        cmocka_unit_test(test_tlb_counts_hits_and_misses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The ACPI platform of direct kernel boot: the PM block (timer rate and wrap, TMR_STS, the SCI,
 * SLP_EN with S5 and with other sleep types) and the tables (found by the RSDP scan Linux does,
 * checksums, pointers, FADT blocks that match the device, \_S5 matching the device's S5). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "../../devices/acpi_pm.h"
#include "../../devices/acpi_tables.h"

#define S 1000000000ull

struct fx {
    struct ioports io;
    struct vclock vc;
    uint64_t icount; /* guest ns: ns_per_insn = 1 */
    struct acpi_pm pm;
    int sci, sci_pin;
    int poweroffs;
};

static void sci_set(void *opaque, int pin, int level)
{
    struct fx *f = opaque;
    f->sci_pin = pin;
    f->sci = level;
}

static void on_poweroff(void *opaque)
{
    ((struct fx *)opaque)->poweroffs++;
}

static struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    ioports_init(&f->io);
    clock_init(&f->vc, CLOCK_ICOUNT, &f->icount, 1);
    assert_int_equal(acpi_pm_init(&f->pm, &f->io, &f->vc, (struct irq_line){ sci_set, f, ACPI_SCI_IRQ },
                                  on_poweroff, f), 0);
    return f;
}

/* The first guest ns at which the counter has reached ticks. */
static uint64_t ns_for_ticks(uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * S + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
}

/* Moves guest time to ns, firing due timers on the way as the machine's loop would. */
static void advance_to(struct fx *f, uint64_t ns)
{
    for (uint64_t d; (d = clock_next_deadline(&f->vc)) <= ns;) {
        if (d > f->icount)
            f->icount = d;
        clock_run_timers(&f->vc);
    }
    f->icount = ns;
    clock_run_timers(&f->vc);
}

static uint16_t pm1_sts(struct fx *f) { return (uint16_t)io_in(&f->io, ACPI_PM1_EVT_BLK, 2); }

static void test_pm_timer_counts_at_3_579545_mhz(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_int_equal(io_in(&f->io, ACPI_PM_TMR_BLK, 4), 0);
    f->icount = 1000000; /* 1 ms */
    assert_int_equal(io_in(&f->io, ACPI_PM_TMR_BLK, 4), 3579);
    f->icount = S;
    assert_int_equal(io_in(&f->io, ACPI_PM_TMR_BLK, 4), ACPI_PM_TIMER_HZ);
    /* Byte reads see the same count. */
    uint32_t v = io_in(&f->io, ACPI_PM_TMR_BLK, 1) | io_in(&f->io, ACPI_PM_TMR_BLK + 1, 1) << 8 |
                 io_in(&f->io, ACPI_PM_TMR_BLK + 2, 1) << 16 | io_in(&f->io, ACPI_PM_TMR_BLK + 3, 1) << 24;
    assert_int_equal(v, ACPI_PM_TIMER_HZ);
    /* One tick is about 279.4 ns. */
    f->icount = ns_for_ticks(1000) - 1;
    assert_int_equal(acpi_pm_timer(&f->pm), 999);
    f->icount++;
    assert_int_equal(acpi_pm_timer(&f->pm), 1000);
    free(f);
}

static void test_pm_timer_wraps_at_24_bits(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->icount = ns_for_ticks((1u << 24) - 1);
    assert_int_equal(io_in(&f->io, ACPI_PM_TMR_BLK, 4), 0xFFFFFF);
    f->icount = ns_for_ticks((1u << 24) + 5);
    assert_int_equal(io_in(&f->io, ACPI_PM_TMR_BLK, 4), 5);
    /* Hours in, past the point where ns times the rate overflows 64 bits, still exact. */
    uint64_t ticks = 200000ull << 24 | 0x123456;
    f->icount = ns_for_ticks(ticks);
    assert_int_equal(io_in(&f->io, ACPI_PM_TMR_BLK, 4), 0x123456);
    free(f);
}

static void test_tmr_sts_set_by_bit23_toggle_and_cleared_by_writing_one(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    f->icount = ns_for_ticks(1u << 23) - 1;
    assert_int_equal(pm1_sts(f) & ACPI_TMR_STS, 0);
    f->icount++;
    assert_int_equal(pm1_sts(f) & ACPI_TMR_STS, ACPI_TMR_STS);
    io_out(&f->io, ACPI_PM1_EVT_BLK, 2, 0); /* writing 0 leaves it */
    assert_int_equal(pm1_sts(f) & ACPI_TMR_STS, ACPI_TMR_STS);
    io_out(&f->io, ACPI_PM1_EVT_BLK, 2, ACPI_TMR_STS);
    assert_int_equal(pm1_sts(f) & ACPI_TMR_STS, 0);
    /* The 1 -> 0 change of bit 23 sets it too. */
    f->icount = ns_for_ticks(2u << 23) - 1;
    assert_int_equal(pm1_sts(f) & ACPI_TMR_STS, 0);
    f->icount++;
    assert_int_equal(pm1_sts(f) & ACPI_TMR_STS, ACPI_TMR_STS);
    assert_int_equal(f->sci, 0); /* TMR_EN clear: no SCI */
    free(f);
}

static void test_tmr_en_raises_sci_at_the_toggle(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    io_out(&f->io, ACPI_PM1_EVT_BLK + 2, 2, ACPI_TMR_EN);
    assert_int_equal(io_in(&f->io, ACPI_PM1_EVT_BLK + 2, 2), ACPI_TMR_EN);
    advance_to(f, ns_for_ticks(1u << 23) - 1);
    assert_int_equal(f->sci, 0);
    advance_to(f, ns_for_ticks(1u << 23));
    assert_int_equal(f->sci, 1);
    assert_int_equal(f->sci_pin, ACPI_SCI_IRQ);
    /* A 32-bit write to PM1_EVT_BLK clears the status and keeps the enable: the line drops. */
    io_out(&f->io, ACPI_PM1_EVT_BLK, 4, (uint32_t)ACPI_TMR_EN << 16 | ACPI_TMR_STS);
    assert_int_equal(f->sci, 0);
    advance_to(f, ns_for_ticks(2u << 23));
    assert_int_equal(f->sci, 1);
    io_out(&f->io, ACPI_PM1_EVT_BLK + 2, 2, 0); /* disabling the event drops it as well */
    assert_int_equal(f->sci, 0);
    free(f);
}

static void test_pm1_cnt_sci_en_reads_one_and_slp_en_reads_zero(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_int_equal(io_in(&f->io, ACPI_PM1_CNT_BLK, 2), ACPI_SCI_EN);
    io_out(&f->io, ACPI_PM1_CNT_BLK, 2, 3u << ACPI_SLP_TYP_SHIFT); /* SCI_EN written 0 */
    assert_int_equal(io_in(&f->io, ACPI_PM1_CNT_BLK, 2), 3u << ACPI_SLP_TYP_SHIFT | ACPI_SCI_EN);
    assert_int_equal(f->poweroffs, 0);
    free(f);
}

static void test_s5_sleep_enable_powers_off(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    /* ACPICA's order: SLP_TYP first, then SLP_TYP | SLP_EN. */
    io_out(&f->io, ACPI_PM1_CNT_BLK, 2, ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT | ACPI_SCI_EN);
    assert_int_equal(f->poweroffs, 0);
    io_out(&f->io, ACPI_PM1_CNT_BLK, 2, ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN | ACPI_SCI_EN);
    assert_int_equal(f->poweroffs, 1);
    assert_int_equal(io_in(&f->io, ACPI_PM1_CNT_BLK, 2) & ACPI_SLP_EN, 0);
    /* A byte write of the high half (SLP_TYP and SLP_EN live in bits 13:10) works the same. */
    io_out(&f->io, ACPI_PM1_CNT_BLK + 1, 1, (ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN) >> 8);
    assert_int_equal(f->poweroffs, 2);
    free(f);
}

static void test_other_sleep_types_do_not_power_off(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    for (unsigned typ = 0; typ < 8; typ++) {
        if (typ == ACPI_SLP_TYP_S5)
            continue;
        io_out(&f->io, ACPI_PM1_EVT_BLK, 2, ACPI_WAK_STS);
        assert_int_equal(pm1_sts(f) & ACPI_WAK_STS, 0);
        io_out(&f->io, ACPI_PM1_CNT_BLK, 2, typ << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN);
        assert_int_equal(f->poweroffs, 0);
        /* Not modelled: the machine "wakes" at once, so a guest polling WAK_STS goes on. */
        assert_int_equal(pm1_sts(f) & ACPI_WAK_STS, ACPI_WAK_STS);
    }
    free(f);
}

/* --- tables --- */

static uint32_t rd32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* The BIOS area 0xE0000-0xFFFFF as a guest sees it. */
#define AREA 0xE0000u
#define AREA_SIZE 0x20000u

/* Linux's scan: 16-byte boundaries, signature and a 20-byte checksum. Returns the offset or -1. */
static long find_rsdp(const uint8_t *area)
{
    for (uint32_t off = 0; off + 20 <= AREA_SIZE; off += 16)
        if (!memcmp(area + off, "RSD PTR ", 8) && sum(area + off, 20) == 0)
            return off;
    return -1;
}

/* A table inside the area at physical address pa: checks signature, length and checksum. */
static const uint8_t *table(const uint8_t *area, uint32_t pa, const char *sig)
{
    assert_true(pa >= AREA && pa + 36 <= AREA + AREA_SIZE);
    const uint8_t *t = area + (pa - AREA);
    assert_memory_equal(t, sig, 4);
    assert_true(pa + rd32(t + 4) <= AREA + AREA_SIZE);
    assert_int_equal(sum(t, rd32(t + 4)), 0);
    return t;
}

/* Walks RSDP -> RSDT -> FADT -> DSDT/FACS in an image of the BIOS area and checks each. */
static void check_tables(const uint8_t *area, uint64_t ram_size)
{
    (void)ram_size;
    long off = find_rsdp(area);
    assert_int_equal(off, ACPI_TABLES_BASE - AREA + ACPI_RSDP_OFF);
    const uint8_t *rsdp = area + off;
    assert_int_equal(rsdp[15], 0); /* ACPI 1.0 */
    const uint8_t *rsdt = table(area, rd32(rsdp + 16), "RSDT");
    assert_int_equal(rd32(rsdt + 4), 40);
    const uint8_t *fadt = table(area, rd32(rsdt + 36), "FACP");
    assert_int_equal(rd32(fadt + 4), 116);
    assert_int_equal(fadt[8], 1);
    uint32_t facs_pa = rd32(fadt + 36);
    assert_int_equal(facs_pa % 64, 0);
    const uint8_t *facs = area + (facs_pa - AREA);
    assert_memory_equal(facs, "FACS", 4);
    assert_int_equal(rd32(facs + 4), 64);
    const uint8_t *dsdt = table(area, rd32(fadt + 40), "DSDT");
    assert_true(rd32(dsdt + 4) > 36);
}

static void test_tables_found_by_scan_with_valid_checksums_and_pointers(void **state)
{
    (void)state;
    uint8_t *area = calloc(1, AREA_SIZE);
    assert_non_null(area);
    size_t n = acpi_tables_build(area + (ACPI_TABLES_BASE - AREA), ACPI_TABLES_BASE, 256u << 20);
    assert_true(n > ACPI_DSDT_OFF + 36 && n <= ACPI_TABLES_MAX);
    check_tables(area, 256u << 20);
    free(area);
}

static void test_fadt_register_blocks_match_the_device(void **state)
{
    (void)state;
    uint8_t buf[ACPI_TABLES_MAX];
    acpi_tables_build(buf, ACPI_TABLES_BASE, 64u << 20);
    const uint8_t *fadt = buf + ACPI_FADT_OFF;
    assert_int_equal(fadt[44], 0);                         /* INT_MODEL: dual 8259 */
    assert_int_equal(rd16(fadt + 46), ACPI_SCI_IRQ);       /* SCI_INT */
    assert_int_equal(rd32(fadt + 48), 0);                  /* SMI_CMD: always ACPI mode */
    assert_int_equal(rd32(fadt + 56), ACPI_PM1_EVT_BLK);
    assert_int_equal(rd32(fadt + 60), 0);                  /* no PM1b */
    assert_int_equal(rd32(fadt + 64), ACPI_PM1_CNT_BLK);
    assert_int_equal(rd32(fadt + 68), 0);
    assert_int_equal(rd32(fadt + 76), ACPI_PM_TMR_BLK);
    assert_int_equal(rd32(fadt + 80), 0);                  /* no GPE blocks */
    assert_int_equal(fadt[88], 4);
    assert_int_equal(fadt[89], 2);
    assert_int_equal(fadt[91], 4);
    uint32_t flags = rd32(fadt + 112);
    assert_true(flags & 1);                                /* WBINVD */
    assert_false(flags & (1u << 8));                       /* TMR_VAL_EXT: 24-bit timer */
    /* The blocks are where the device answers. */
    struct fx *f = fx_new();
    assert_int_equal(io_in(&f->io, (uint16_t)rd32(fadt + 64), 2) & ACPI_SCI_EN, ACPI_SCI_EN);
    free(f);
}

/* Finds Name (_S5_, Package (4) {...}) in the DSDT's AML and decodes its first element. */
static void test_dsdt_s5_package_matches_the_device(void **state)
{
    (void)state;
    uint8_t buf[ACPI_TABLES_MAX];
    acpi_tables_build(buf, ACPI_TABLES_BASE, 64u << 20);
    const uint8_t *dsdt = buf + ACPI_DSDT_OFF;
    uint32_t len = rd32(dsdt + 4);
    const uint8_t *p = NULL;
    for (uint32_t i = 36; i + 5 < len; i++)
        if (dsdt[i] == 0x08 && !memcmp(dsdt + i + 1, "_S5_", 4))
            p = dsdt + i + 5;
    assert_non_null(p);
    assert_int_equal(p[0], 0x12);        /* PackageOp */
    assert_int_equal(p[1] & 0xC0, 0);    /* one-byte PkgLength */
    assert_int_equal(p[2], 4);           /* NumElements */
    const uint8_t *e = p + 3;
    uint32_t typ = e[0] == 0x0A ? e[1] : e[0]; /* BytePrefix, or ZeroOp/OneOp */
    assert_true(e[0] <= 1 || e[0] == 0x0A);
    assert_int_equal(typ, ACPI_SLP_TYP_S5);
    assert_int_equal(p[1], (e[0] == 0x0A ? 2 : 1) * 2 + 2 + 1 + 1); /* PkgLength covers the 4 elements */
}

static void test_install_puts_write_protected_tables_in_the_bios_area(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    char err[128];
    assert_int_equal(acpi_tables_install(h->m, err, sizeof(err)), 0);
    uint8_t *area = malloc(AREA_SIZE);
    assert_non_null(area);
    phys_read_buf(&h->m->mem, AREA, area, AREA_SIZE);
    check_tables(area, h->m->mem.ram_size);
    /* Shadowed read-only, as firmware leaves it: a guest store does not change the tables. */
    phys_write(&h->m->mem, ACPI_TABLES_BASE, 1, 0);
    assert_int_equal(h_peek(h, ACPI_TABLES_BASE, 1), 'R');
    free(area);
    h_free(h);
}

static void test_guest_s5_write_stops_machine_with_poweroff(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    uint16_t v = ACPI_SLP_TYP_S5 << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN;
    const uint8_t code[] = {
        0xBA, ACPI_PM1_CNT_BLK & 0xFF, ACPI_PM1_CNT_BLK >> 8, /* mov dx, PM1a_CNT */
        0xB8, (uint8_t)v, (uint8_t)(v >> 8),                  /* mov ax, S5 | SLP_EN */
        0xEF,                                                 /* out dx, ax */
        0xEB, 0xFE,                                           /* jmp $ */
    };
    h_code(h, 0x7C00, code, sizeof(code));
    assert_int_equal(machine_run(h->m, 1000), MACHINE_POWEROFF);
    assert_int_equal(h->c->eip, 0x7C07); /* stopped right after the OUT */
    assert_string_equal(machine_stop_name(MACHINE_POWEROFF), "guest powered off (ACPI S5)");
    h_free(h);
}

static void test_guest_other_sleep_type_keeps_running(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    uint16_t v = (ACPI_SLP_TYP_S5 ^ 1) << ACPI_SLP_TYP_SHIFT | ACPI_SLP_EN;
    const uint8_t code[] = {
        0xBA, ACPI_PM1_CNT_BLK & 0xFF, ACPI_PM1_CNT_BLK >> 8,
        0xB8, (uint8_t)v, (uint8_t)(v >> 8),
        0xEF,
        0xEB, 0xFE,
    };
    h_code(h, 0x7C00, code, sizeof(code));
    assert_int_equal(machine_run(h->m, 1000), MACHINE_BUDGET);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pm_timer_counts_at_3_579545_mhz),
        cmocka_unit_test(test_pm_timer_wraps_at_24_bits),
        cmocka_unit_test(test_tmr_sts_set_by_bit23_toggle_and_cleared_by_writing_one),
        cmocka_unit_test(test_tmr_en_raises_sci_at_the_toggle),
        cmocka_unit_test(test_pm1_cnt_sci_en_reads_one_and_slp_en_reads_zero),
        cmocka_unit_test(test_s5_sleep_enable_powers_off),
        cmocka_unit_test(test_other_sleep_types_do_not_power_off),
        cmocka_unit_test(test_tables_found_by_scan_with_valid_checksums_and_pointers),
        cmocka_unit_test(test_fadt_register_blocks_match_the_device),
        cmocka_unit_test(test_dsdt_s5_package_matches_the_device),
        cmocka_unit_test(test_install_puts_write_protected_tables_in_the_bios_area),
        cmocka_unit_test(test_guest_s5_write_stops_machine_with_poweroff),
        cmocka_unit_test(test_guest_other_sleep_type_keeps_running),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

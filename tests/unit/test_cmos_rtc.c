/* Unit tests of the MC146818A RTC/CMOS model: register formats, time keeping against an
 * instruction-counted clock the test drives, interrupt flags on IRQ8, and the NVRAM bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../devices/cmos_rtc.h"

#define MS 1000000ull
#define S 1000000000ull
#define T_LEAP_EVE 1709251198 /* 2024-02-29 23:59:58 UTC, a Thursday */
#define T_AFTERNOON 1709211900 /* 2024-02-29 13:05:00 UTC */

struct fx {
    struct ioports io;
    struct vclock vc;
    uint64_t icount; /* guest ns: ns_per_insn = 1 */
    struct cmos_rtc rtc;
    int level, edges;
    int ack;         /* act as the guest's IRQ8 handler: read register C whenever IRQ8 is high */
};

static void irq8(void *opaque, int pin, int level)
{
    struct fx *f = opaque;
    assert_int_equal(pin, 8);
    if (level && !f->level)
        f->edges++;
    f->level = level;
}

static struct fx *fx_new(int64_t t)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    ioports_init(&f->io);
    clock_init(&f->vc, CLOCK_ICOUNT, &f->icount, 1);
    assert_int_equal(cmos_rtc_init(&f->rtc, &f->io, &f->vc, (struct irq_line){ irq8, f, 8 }, t), 0);
    return f;
}

static uint8_t rd(struct fx *f, uint8_t idx)
{
    io_out(&f->io, 0x70, 1, idx);
    return (uint8_t)io_in(&f->io, 0x71, 1);
}

static void wr(struct fx *f, uint8_t idx, uint8_t v)
{
    io_out(&f->io, 0x70, 1, idx);
    io_out(&f->io, 0x71, 1, v);
}

/* Runs guest time forward by ns, stopping at each timer deadline as the machine's loop would. */
static void advance(struct fx *f, uint64_t ns)
{
    uint64_t target = f->icount + ns;
    for (;;) {
        uint64_t d = clock_next_deadline(&f->vc);
        if (d > target)
            break;
        if (d > f->icount)
            f->icount = d;
        clock_run_timers(&f->vc);
        if (f->ack && f->level)
            rd(f, RTC_REG_C);
    }
    f->icount = target;
    clock_run_timers(&f->vc);
    if (f->ack && f->level)
        rd(f, RTC_REG_C);
}

static void test_bcd_and_binary_reads(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    assert_int_equal(rd(f, RTC_SEC), 0x58);
    assert_int_equal(rd(f, RTC_MIN), 0x59);
    assert_int_equal(rd(f, RTC_HOUR), 0x23);
    assert_int_equal(rd(f, RTC_DOW), 5);
    assert_int_equal(rd(f, RTC_DAY), 0x29);
    assert_int_equal(rd(f, RTC_MONTH), 0x02);
    assert_int_equal(rd(f, RTC_YEAR), 0x24);
    assert_int_equal(rd(f, RTC_CENTURY), 0x20);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_DM);
    assert_int_equal(rd(f, RTC_SEC), 58);
    assert_int_equal(rd(f, RTC_MIN), 59);
    assert_int_equal(rd(f, RTC_HOUR), 23);
    assert_int_equal(rd(f, RTC_DAY), 29);
    assert_int_equal(rd(f, RTC_MONTH), 2);
    assert_int_equal(rd(f, RTC_YEAR), 24);
    assert_int_equal(rd(f, RTC_CENTURY), 20);
    assert_int_equal(rd(f, RTC_REG_D), RTC_D_VRT);
    free(f);
}

static void test_twelve_hour_mode_sets_pm_bit(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_AFTERNOON);
    wr(f, RTC_REG_B, 0); /* 12-hour, BCD */
    assert_int_equal(rd(f, RTC_HOUR), 0x81); /* 1 PM */
    wr(f, RTC_REG_B, RTC_B_DM);
    assert_int_equal(rd(f, RTC_HOUR), 0x81);
    /* Noon is 12 PM, midnight 12 AM. */
    wr(f, RTC_REG_B, RTC_B_SET);
    wr(f, RTC_HOUR, 0x92);
    wr(f, RTC_REG_B, 0);
    wr(f, RTC_REG_B, RTC_B_24H);
    assert_int_equal(rd(f, RTC_HOUR), 0x12);
    wr(f, RTC_REG_B, RTC_B_SET | RTC_B_24H);
    wr(f, RTC_HOUR, 0x00);
    wr(f, RTC_REG_B, RTC_B_24H);
    wr(f, RTC_REG_B, 0);
    assert_int_equal(rd(f, RTC_HOUR), 0x12);
    free(f);
}

static void test_time_advances_with_guest_time(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    advance(f, 999 * MS);
    assert_int_equal(rd(f, RTC_SEC), 0x58);
    advance(f, 1 * MS);
    assert_int_equal(rd(f, RTC_SEC), 0x59);
    advance(f, 1 * S); /* past midnight of a leap day */
    assert_int_equal(rd(f, RTC_SEC), 0x00);
    assert_int_equal(rd(f, RTC_MIN), 0x00);
    assert_int_equal(rd(f, RTC_HOUR), 0x00);
    assert_int_equal(rd(f, RTC_DAY), 0x01);
    assert_int_equal(rd(f, RTC_MONTH), 0x03);
    assert_int_equal(rd(f, RTC_DOW), 6);
    advance(f, 3600 * S + 61 * S);
    assert_int_equal(rd(f, RTC_HOUR), 0x01);
    assert_int_equal(rd(f, RTC_MIN), 0x01);
    assert_int_equal(rd(f, RTC_SEC), 0x01);
    free(f);
}

static void test_set_freezes_and_guest_set_time_is_kept(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET);
    assert_int_equal(rd(f, RTC_REG_B), RTC_B_24H | RTC_B_SET); /* SET clears UIE */
    advance(f, 5 * S);
    assert_int_equal(rd(f, RTC_SEC), 0x58);
    assert_int_equal(rd(f, RTC_REG_C) & RTC_C_UF, 0); /* no updates while SET */
    wr(f, RTC_SEC, 0x59);
    wr(f, RTC_MIN, 0x59);
    wr(f, RTC_HOUR, 0x23);
    wr(f, RTC_DAY, 0x31);
    wr(f, RTC_MONTH, 0x12);
    wr(f, RTC_YEAR, 0x99);
    wr(f, RTC_CENTURY, 0x19);
    wr(f, RTC_DOW, 6);
    advance(f, 2 * S);
    assert_int_equal(rd(f, RTC_SEC), 0x59);
    assert_int_equal(rd(f, RTC_YEAR), 0x99);
    wr(f, RTC_REG_B, RTC_B_24H);
    assert_int_equal(rd(f, RTC_SEC), 0x59);
    assert_int_equal(rd(f, RTC_CENTURY), 0x19);
    advance(f, 1 * S);
    assert_int_equal(rd(f, RTC_SEC), 0x00);
    assert_int_equal(rd(f, RTC_HOUR), 0x00);
    assert_int_equal(rd(f, RTC_DAY), 0x01);
    assert_int_equal(rd(f, RTC_MONTH), 0x01);
    assert_int_equal(rd(f, RTC_YEAR), 0x00);
    assert_int_equal(rd(f, RTC_CENTURY), 0x20);
    assert_int_equal(rd(f, RTC_DOW), 7); /* the guest's day of week runs on from its value */
    free(f);
}

static void test_register_c_read_clears_flags_and_lowers_irq8(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    advance(f, 1 * S);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_UF | RTC_C_PF);
    assert_int_equal(f->level, 0);
    assert_int_equal(rd(f, RTC_REG_C), 0);
    free(f);
}

static void test_flags_set_without_enables_and_no_timer(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    assert_true(clock_next_deadline(&f->vc) == CLOCK_NEVER);
    advance(f, 1 * S);
    assert_int_equal(f->edges, 0);
    assert_int_equal(rd(f, RTC_REG_C), RTC_C_PF | RTC_C_UF); /* flags, but no IRQF */
    /* Enabling an interrupt whose flag is already set asserts IRQ8 at once. */
    advance(f, 1 * MS);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    assert_int_equal(f->level, 1);
    free(f);
}

static void test_periodic_interrupt_at_programmed_rate(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    f->ack = 1;
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE); /* rate 6: 1024 Hz */
    advance(f, 1 * S);
    assert_int_equal(f->edges, 1024);
    f->edges = 0;
    wr(f, RTC_REG_A, 0x2F); /* 2 Hz */
    advance(f, 2 * S);
    assert_int_equal(f->edges, 4);
    f->edges = 0;
    wr(f, RTC_REG_A, 0x21); /* rate 1 = 256 Hz with a 32.768 kHz base */
    advance(f, 1 * S);
    assert_int_equal(f->edges, 256);
    f->edges = 0;
    wr(f, RTC_REG_A, 0x23); /* 8192 Hz */
    advance(f, 1 * S);
    assert_int_equal(f->edges, 8192);
    f->edges = 0;
    wr(f, RTC_REG_A, 0x20); /* rate 0: off */
    advance(f, 1 * S);
    assert_int_equal(f->edges, 0);
    free(f);
}

static void test_unacknowledged_periodic_interrupt_stays_one_edge(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
    advance(f, 100 * MS);
    assert_int_equal(f->edges, 1);
    assert_true(clock_next_deadline(&f->vc) == CLOCK_NEVER); /* nothing to do until C is read */
    rd(f, RTC_REG_C);
    assert_true(clock_next_deadline(&f->vc) != CLOCK_NEVER);
    free(f);
}

static void test_alarm_fires_at_the_set_time(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    f->ack = 1;
    wr(f, RTC_HOUR_ALARM, 0x00);
    wr(f, RTC_MIN_ALARM, 0x00);
    wr(f, RTC_SEC_ALARM, 0x03);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
    advance(f, 4 * S + 500 * MS); /* 00:00:02.5 */
    assert_int_equal(f->edges, 0);
    advance(f, 1 * S);
    assert_int_equal(f->edges, 1);
    advance(f, 10 * S);
    assert_int_equal(f->edges, 1);
    free(f);
}

static void test_alarm_dont_care_matches_every_second(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    f->ack = 1;
    wr(f, RTC_HOUR_ALARM, 0xC0);
    wr(f, RTC_MIN_ALARM, 0xFF);
    wr(f, RTC_SEC_ALARM, 0xC5);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
    advance(f, 5 * S);
    assert_int_equal(f->edges, 5);
    free(f);
}

static void test_alarm_flag_found_lazily(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    wr(f, RTC_HOUR_ALARM, 0x12);
    wr(f, RTC_MIN_ALARM, 0x00);
    wr(f, RTC_SEC_ALARM, 0x00);
    advance(f, 3600 * S);
    assert_int_equal(rd(f, RTC_REG_C) & RTC_C_AF, 0);
    advance(f, 12 * 3600 * S); /* passes 12:00:00 with no interrupt enabled */
    assert_int_equal(rd(f, RTC_REG_C) & RTC_C_AF, RTC_C_AF);
    free(f);
}

static void test_update_ended_once_per_second(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    f->ack = 1;
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    advance(f, 10 * S + 500 * MS);
    assert_int_equal(f->edges, 10);
    free(f);
}

static void test_uip_visible_before_an_update(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    advance(f, S - 300000);
    assert_int_equal(rd(f, RTC_REG_A), 0x26);
    advance(f, 200000); /* 100 us before the update */
    assert_int_equal(rd(f, RTC_REG_A), 0x26 | RTC_A_UIP);
    assert_int_equal(rd(f, RTC_SEC), 0x58);
    advance(f, 100000);
    assert_int_equal(rd(f, RTC_REG_A), 0x26);
    assert_int_equal(rd(f, RTC_SEC), 0x59);
    free(f);
}

static void test_divider_reset_holds_time_and_restarts_half_a_second_later(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    wr(f, RTC_REG_A, 0x76); /* divider in reset */
    advance(f, 5 * S);
    assert_int_equal(rd(f, RTC_SEC), 0x58);
    wr(f, RTC_REG_A, 0x26);
    advance(f, 499 * MS);
    assert_int_equal(rd(f, RTC_SEC), 0x58);
    advance(f, 1 * MS);
    assert_int_equal(rd(f, RTC_SEC), 0x59);
    free(f);
}

static void test_time_write_without_set_rebases_running_clock(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    advance(f, 300 * MS);
    wr(f, RTC_MIN, 0x30);
    assert_int_equal(rd(f, RTC_MIN), 0x30);
    assert_int_equal(rd(f, RTC_HOUR), 0x23);
    advance(f, 700 * MS); /* the update keeps its phase */
    assert_int_equal(rd(f, RTC_SEC), 0x59);
    assert_int_equal(rd(f, RTC_MIN), 0x30);
    free(f);
}

static void test_machine_peek_of_register_c_does_not_clear_it(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
    advance(f, 1 * S);
    assert_int_equal(cmos_rtc_get_byte(&f->rtc, RTC_REG_C) & RTC_C_UF, RTC_C_UF);
    assert_int_equal(f->level, 1);
    assert_int_equal(rd(f, RTC_REG_C) & RTC_C_UF, RTC_C_UF);
    assert_int_equal(f->level, 0);
    assert_int_equal(cmos_rtc_get_byte(&f->rtc, RTC_SEC), 0x59);
    free(f);
}

static void test_nmi_mask_captured_from_port_70(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    assert_int_equal(cmos_rtc_nmi_masked(&f->rtc), 0);
    io_out(&f->io, 0x70, 1, 0x80 | RTC_REG_A);
    assert_int_equal(cmos_rtc_nmi_masked(&f->rtc), 1);
    assert_int_equal(io_in(&f->io, 0x71, 1), 0x26); /* the index is without the NMI bit */
    io_out(&f->io, 0x70, 1, RTC_REG_A);
    assert_int_equal(cmos_rtc_nmi_masked(&f->rtc), 0);
    free(f);
}

static void test_nvram_banks_hold_bytes(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    wr(f, 0x40, 0xA5);
    io_out(&f->io, 0x72, 1, 0x40);
    io_out(&f->io, 0x73, 1, 0x5A);
    assert_int_equal(rd(f, 0x40), 0xA5);
    assert_int_equal(io_in(&f->io, 0x73, 1), 0x5A);
    assert_int_equal(cmos_rtc_get_byte(&f->rtc, 0xC0), 0x5A);
    cmos_rtc_set_byte(&f->rtc, 0x7F, 0x11);
    assert_int_equal(rd(f, 0x7F), 0x11);
    free(f);
}

static unsigned checksum_of(struct fx *f)
{
    unsigned sum = 0;
    for (uint8_t i = 0x10; i <= 0x2D; i++)
        sum += rd(f, i);
    return sum & 0xFFFF;
}

static void test_memory_size_bytes_and_checksum_128mib(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    cmos_rtc_set_memory_size(&f->rtc, 128ull << 20);
    assert_int_equal(rd(f, 0x10), 0);
    assert_int_equal(rd(f, 0x12), 0);
    assert_int_equal(rd(f, 0x14), 0x02);
    assert_int_equal(rd(f, 0x15) | rd(f, 0x16) << 8, 640);
    assert_int_equal(rd(f, 0x17) | rd(f, 0x18) << 8, 0xFFFF);
    assert_int_equal(rd(f, 0x30) | rd(f, 0x31) << 8, 0xFFFF);
    assert_int_equal(rd(f, 0x34) | rd(f, 0x35) << 8, (128 - 16) * 16);
    assert_int_equal(rd(f, 0x5B) | rd(f, 0x5C) << 8 | rd(f, 0x5D) << 16, 0);
    assert_int_equal(rd(f, 0x2E) << 8 | rd(f, 0x2F), checksum_of(f));
    assert_int_equal(checksum_of(f), 0x02 + 0x80 + 0x02 + 2 * 0xFF);
    /* Below the 16-bit cap, extended memory is exact. */
    cmos_rtc_set_memory_size(&f->rtc, 32ull << 20);
    assert_int_equal(rd(f, 0x17) | rd(f, 0x18) << 8, 31 * 1024);
    assert_int_equal(rd(f, 0x34) | rd(f, 0x35) << 8, 16 * 16);
    assert_int_equal(rd(f, 0x2E) << 8 | rd(f, 0x2F), checksum_of(f));
    free(f);
}

static void test_memory_size_bytes_4gib_class(void **state)
{
    (void)state;
    struct fx *f = fx_new(T_LEAP_EVE);
    cmos_rtc_set_memory_size(&f->rtc, 4075ull << 20); /* the machine's largest */
    assert_int_equal(rd(f, 0x17) | rd(f, 0x18) << 8, 0xFFFF);
    assert_int_equal(rd(f, 0x34) | rd(f, 0x35) << 8, (4075 - 16) * 16);
    assert_int_equal(rd(f, 0x5B) | rd(f, 0x5C) << 8 | rd(f, 0x5D) << 16, 0);
    assert_int_equal(rd(f, 0x2E) << 8 | rd(f, 0x2F), checksum_of(f));
    cmos_rtc_set_memory_size(&f->rtc, 6ull << 30);
    assert_int_equal(rd(f, 0x34) | rd(f, 0x35) << 8, 0xFF00);
    assert_int_equal(rd(f, 0x5B) | rd(f, 0x5C) << 8 | rd(f, 0x5D) << 16, (2u << 30) >> 16);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bcd_and_binary_reads),
        cmocka_unit_test(test_twelve_hour_mode_sets_pm_bit),
        cmocka_unit_test(test_time_advances_with_guest_time),
        cmocka_unit_test(test_set_freezes_and_guest_set_time_is_kept),
        cmocka_unit_test(test_register_c_read_clears_flags_and_lowers_irq8),
        cmocka_unit_test(test_flags_set_without_enables_and_no_timer),
        cmocka_unit_test(test_periodic_interrupt_at_programmed_rate),
        cmocka_unit_test(test_unacknowledged_periodic_interrupt_stays_one_edge),
        cmocka_unit_test(test_alarm_fires_at_the_set_time),
        cmocka_unit_test(test_alarm_dont_care_matches_every_second),
        cmocka_unit_test(test_alarm_flag_found_lazily),
        cmocka_unit_test(test_update_ended_once_per_second),
        cmocka_unit_test(test_uip_visible_before_an_update),
        cmocka_unit_test(test_divider_reset_holds_time_and_restarts_half_a_second_later),
        cmocka_unit_test(test_time_write_without_set_rebases_running_clock),
        cmocka_unit_test(test_machine_peek_of_register_c_does_not_clear_it),
        cmocka_unit_test(test_nmi_mask_captured_from_port_70),
        cmocka_unit_test(test_nvram_banks_hold_bytes),
        cmocka_unit_test(test_memory_size_bytes_and_checksum_128mib),
        cmocka_unit_test(test_memory_size_bytes_4gib_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

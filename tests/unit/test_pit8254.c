/* Unit tests of the 8254 PIT and port 0x61 through their I/O ports, on an instruction-counted
 * clock the test moves by hand (1 ns per "instruction"). Tick k of the 1,193,182 Hz input happens
 * at guest ns ceil(k * 1e9 / 1193182); a count written during tick w is loaded at tick w + 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../devices/pit8254.h"

struct rig {
    struct ioports io;
    struct vclock vc;
    uint64_t ns;      /* the "retired instruction" counter: guest ns */
    struct pit8254 pit;
    int irq0;         /* IRQ0 level */
    int rises;        /* IRQ0 0 -> 1 transitions */
    uint64_t wakeups; /* timer callbacks the machine loop ran */
};

static void irq0_set(void *opaque, int pin, int level)
{
    (void)pin;
    struct rig *r = opaque;
    if (level && !r->irq0)
        r->rises++;
    r->irq0 = level;
}

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    ioports_init(&r->io);
    clock_init(&r->vc, CLOCK_ICOUNT, &r->ns, 1);
    struct irq_line l = { irq0_set, r, 0 };
    assert_int_equal(pit8254_init(&r->pit, &r->io, &r->vc, l), 0);
    return r;
}

static uint64_t tick_ns(uint64_t k) { return (k * 1000000000ull + PIT_HZ - 1) / PIT_HZ; }

/* The machine loop: fire timers at their deadlines up to guest time t. */
static void run_until(struct rig *r, uint64_t t)
{
    uint64_t d;
    while ((d = clock_next_deadline(&r->vc)) <= t) {
        if (d > r->ns)
            r->ns = d;
        clock_run_timers(&r->vc);
        r->wakeups++;
        assert_true(r->wakeups < 10000000); /* a timer that re-arms in the past would spin */
    }
    r->ns = t;
    clock_run_timers(&r->vc);
}

static void at_tick(struct rig *r, uint64_t k) { run_until(r, tick_ns(k)); }

static void outb(struct rig *r, uint16_t port, uint8_t v) { io_out(&r->io, port, 1, v); }
static uint8_t inb(struct rig *r, uint16_t port) { return (uint8_t)io_in(&r->io, port, 1); }

static void write16(struct rig *r, uint16_t port, uint16_t v)
{
    outb(r, port, (uint8_t)v);
    outb(r, port, (uint8_t)(v >> 8));
}

static uint16_t read16(struct rig *r, uint16_t port)
{
    uint16_t lo = inb(r, port);
    return (uint16_t)(lo | inb(r, port) << 8);
}

/* Counter latch command, then the latched LSB and MSB. */
static uint16_t latch_read(struct rig *r, int ch)
{
    outb(r, 0x43, (uint8_t)(ch << 6));
    return read16(r, (uint16_t)(0x40 + ch));
}

static int ch2_out(struct rig *r) { return (inb(r, 0x61) >> 5) & 1; }

static void test_mode2_rate_generator_raises_irq0_at_programmed_period(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x34); /* channel 0, LSB then MSB, mode 2 */
    write16(r, 0x40, 11932);
    r->rises = 0; /* the control word itself raised OUT (power-on OUT is low) */
    r->wakeups = 0;
    /* Loaded at tick 1; OUT rises every 11932 ticks from tick 11933: in the first second
     * (1,193,182 ticks) that is (1193182 - 1) / 11932 = 99 edges, the 100th at 1.0000159 s. */
    run_until(r, 1000000000);
    assert_int_equal(r->rises, 99);
    assert_true(r->wakeups <= 100); /* one wake-up per interrupt, no per-tick work */
    run_until(r, tick_ns(1 + 100 * 11932) - 1);
    assert_int_equal(r->rises, 99);
    run_until(r, tick_ns(1 + 100 * 11932));
    assert_int_equal(r->rises, 100);
    run_until(r, 10000000000ull);
    assert_int_equal(r->rises, (11931820 - 1) / 11932); /* 999 */
    free(r);
}

static void test_mode2_edges_survive_late_timers(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x34);
    write16(r, 0x40, 11932);
    r->rises = 0;
    /* The CPU runs long blocks: timers run only every 1 ms, past the one-tick low pulse. */
    for (uint64_t t = 0; t < 1000000000; t += 1000000) {
        r->ns = t;
        clock_run_timers(&r->vc);
    }
    r->ns = 1000000000;
    clock_run_timers(&r->vc);
    assert_int_equal(r->rises, 99);
    free(r);
}

static void test_mode2_new_count_takes_effect_at_end_of_period(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x34);
    write16(r, 0x40, 1000);
    r->rises = 0;
    at_tick(r, 500);
    write16(r, 0x40, 2000); /* no control word: the current period finishes first */
    at_tick(r, 1000);
    assert_int_equal(r->rises, 0);
    at_tick(r, 1001);
    assert_int_equal(r->rises, 1);
    assert_int_equal(latch_read(r, 0), 2000);
    at_tick(r, 3000);
    assert_int_equal(r->rises, 1);
    at_tick(r, 3001);
    assert_int_equal(r->rises, 2);
    at_tick(r, 5001);
    assert_int_equal(r->rises, 3);
    free(r);
}

static void test_mode0_interrupt_on_terminal_count(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x30); /* channel 0, LSB then MSB, mode 0: OUT low */
    write16(r, 0x40, 1000);
    assert_int_equal(r->irq0, 0);
    /* Loaded at tick 1, terminal count 1000 ticks later. */
    run_until(r, tick_ns(1001) - 1);
    assert_int_equal(r->irq0, 0);
    assert_int_equal(latch_read(r, 0), 1);
    run_until(r, tick_ns(1001));
    assert_int_equal(r->irq0, 1);
    assert_int_equal(r->rises, 1);
    /* One-shot: OUT stays high while the counter wraps and keeps counting down. */
    run_until(r, 1000000000);
    assert_int_equal(r->irq0, 1);
    assert_int_equal(r->rises, 1);
    free(r);
}

static void test_mode0_first_byte_stops_counting_and_lowers_out(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x30);
    write16(r, 0x40, 100);
    at_tick(r, 200);
    assert_int_equal(r->irq0, 1);
    outb(r, 0x40, 0x50); /* LSB only: counting stops, OUT low at once */
    assert_int_equal(r->irq0, 0);
    at_tick(r, 1000);
    assert_int_equal(r->irq0, 0);
    outb(r, 0x40, 0x00); /* MSB: 0x0050 = 80, loaded at tick 1001 */
    at_tick(r, 1080);
    assert_int_equal(r->irq0, 0);
    at_tick(r, 1081);
    assert_int_equal(r->irq0, 1);
    free(r);
}

static void test_mode3_square_wave_on_channel2_via_port61(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x61, 0x01); /* channel 2 gate on, speaker off */
    outb(r, 0x43, 0xB6); /* channel 2, LSB then MSB, mode 3 */
    write16(r, 0x42, 1000);
    /* Loaded at tick 1: high for ticks 1-500, low for 501-1000, high again from 1001. */
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 250);
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 500);
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 501);
    assert_int_equal(ch2_out(r), 0);
    at_tick(r, 1000);
    assert_int_equal(ch2_out(r), 0);
    at_tick(r, 1001);
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 1011);
    assert_int_equal(latch_read(r, 2), 1000 - 20); /* mode 3 counts down by two */
    at_tick(r, 1750);
    assert_int_equal(ch2_out(r), 0);
    /* Odd count 5: high for 3 ticks, low for 2. */
    outb(r, 0x43, 0xB6);
    write16(r, 0x42, 5); /* written at tick 1750, loaded at 1751 */
    at_tick(r, 1753);
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 1754);
    assert_int_equal(ch2_out(r), 0);
    at_tick(r, 1755);
    assert_int_equal(ch2_out(r), 0);
    at_tick(r, 1756);
    assert_int_equal(ch2_out(r), 1);
    uint32_t hz = 0;
    assert_int_equal(pit8254_speaker(&r->pit, &hz), 0); /* speaker data not enabled */
    outb(r, 0x61, 0x03);
    assert_int_equal(pit8254_speaker(&r->pit, &hz), 1);
    assert_int_equal(hz, PIT_HZ / 5);
    free(r);
}

static void test_mode3_new_count_takes_effect_at_end_of_half_cycle(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x61, 0x01);
    outb(r, 0x43, 0xB6);
    write16(r, 0x42, 1000); /* high 1-500, low 501-1000 */
    at_tick(r, 200);
    write16(r, 0x42, 400); /* from tick 501: the new wave's low half, 200 ticks, then high 200 */
    at_tick(r, 500);
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 501);
    assert_int_equal(ch2_out(r), 0);
    at_tick(r, 700);
    assert_int_equal(ch2_out(r), 0);
    at_tick(r, 701);
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 900);
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 901);
    assert_int_equal(ch2_out(r), 0);
    free(r);
}

static void test_mode3_on_channel0_interrupts_once_per_period(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x36); /* what a PC BIOS programs: mode 3, count 0, 18.2 Hz */
    write16(r, 0x40, 0);
    r->rises = 0;
    r->wakeups = 0;
    run_until(r, 1000000000);
    assert_int_equal(r->rises, 18);
    assert_true(r->wakeups <= 2 * 18 + 1); /* one wake-up per OUT transition */
    free(r);
}

static void test_latch_command_freezes_read_value(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x34);
    write16(r, 0x40, 50000);
    at_tick(r, 1001);
    outb(r, 0x43, 0x00); /* latch channel 0: 50000 - 1000 */
    at_tick(r, 2001);
    assert_int_equal(read16(r, 0x40), 49000);
    assert_int_equal(read16(r, 0x40), 48000); /* the latch is released: live count */
    at_tick(r, 3001);
    outb(r, 0x43, 0x00);
    at_tick(r, 4001);
    outb(r, 0x43, 0x00); /* a second latch before the first is read is ignored */
    assert_int_equal(read16(r, 0x40), 47000);
    free(r);
}

static void test_readback_status_byte(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x34);
    outb(r, 0x43, 0xE2); /* read-back, status only, channel 0 */
    /* OUT high (mode 2 after its control word), null count, LSB/MSB, mode 2, binary. */
    assert_int_equal(inb(r, 0x40), 0xF4);
    write16(r, 0x40, 100);
    outb(r, 0x43, 0xE2);
    assert_int_equal(inb(r, 0x40), 0xF4); /* not loaded until the next clock */
    at_tick(r, 1);
    outb(r, 0x43, 0xE2);
    assert_int_equal(inb(r, 0x40), 0xB4);
    /* Count and status together: the status byte comes first. */
    at_tick(r, 11);
    outb(r, 0x43, 0xC2);
    assert_int_equal(inb(r, 0x40), 0xB4);
    assert_int_equal(read16(r, 0x40), 90);
    /* Channel 2 in mode 0, BCD: OUT low, null count, LSB/MSB, mode 0, BCD. */
    outb(r, 0x43, 0xB1);
    outb(r, 0x43, 0xE8);
    assert_int_equal(inb(r, 0x42), 0x71);
    /* Several counters in one command; mode 6 reads back as programmed and runs as mode 2. */
    outb(r, 0x43, 0x7C); /* channel 1, LSB/MSB, mode 6 */
    write16(r, 0x41, 18);
    at_tick(r, 12 + 17);
    outb(r, 0x43, 0xC6); /* count and status of channels 0 and 1 */
    assert_int_equal(inb(r, 0x41), 0x3C); /* OUT low for the count-of-1 clock of mode 2 */
    assert_int_equal(read16(r, 0x41), 1);
    assert_int_equal(inb(r, 0x40), 0xB4);
    free(r);
}

static void test_bcd_mode_counts_in_decimal(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x61, 0x01);
    outb(r, 0x43, 0xB1); /* channel 2, LSB/MSB, mode 0, BCD */
    write16(r, 0x42, 0x1234);
    at_tick(r, 1 + 34);
    assert_int_equal(latch_read(r, 2), 0x1200);
    at_tick(r, 1 + 35);
    assert_int_equal(latch_read(r, 2), 0x1199);
    /* Count 0 in BCD is 10000: one clock after the load it reads 9999. */
    write16(r, 0x42, 0x0000);
    at_tick(r, 1 + 36);
    assert_int_equal(latch_read(r, 2), 0x0000);
    at_tick(r, 1 + 37);
    assert_int_equal(latch_read(r, 2), 0x9999);
    assert_int_equal(ch2_out(r), 0);
    at_tick(r, 1 + 36 + 10000);
    assert_int_equal(ch2_out(r), 1); /* terminal count after 10000 clocks */
    free(r);
}

static void test_lsb_msb_flipflop_order(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    /* Channel 2 with its gate low: mode 0 loads the count but does not count, so reads are stable. */
    outb(r, 0x43, 0xB0);
    outb(r, 0x42, 0x34);
    outb(r, 0x42, 0x12);
    at_tick(r, 5);
    assert_int_equal(inb(r, 0x42), 0x34);
    assert_int_equal(inb(r, 0x42), 0x12);
    /* Reads and writes have their own flip-flops and may interleave (datasheet example). */
    assert_int_equal(inb(r, 0x42), 0x34);
    outb(r, 0x42, 0x78);
    assert_int_equal(inb(r, 0x42), 0x12);
    outb(r, 0x42, 0x56);
    at_tick(r, 10);
    assert_int_equal(read16(r, 0x42), 0x5678);
    /* LSB only, then MSB only. */
    outb(r, 0x43, 0x90);
    outb(r, 0x42, 0x56);
    at_tick(r, 15);
    assert_int_equal(inb(r, 0x42), 0x56);
    assert_int_equal(inb(r, 0x42), 0x56);
    outb(r, 0x43, 0xA0);
    outb(r, 0x42, 0x78);
    at_tick(r, 20);
    assert_int_equal(inb(r, 0x42), 0x78);
    outb(r, 0x43, 0x80); /* latched in MSB-only mode: one byte */
    assert_int_equal(inb(r, 0x42), 0x78);
    outb(r, 0x43, 0xE8);
    assert_int_equal(inb(r, 0x42), 0x20); /* OUT low, loaded, MSB only, mode 0, binary */
    free(r);
}

static void test_count_zero_means_65536(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x34);
    write16(r, 0x40, 0);
    r->rises = 0;
    at_tick(r, 1);
    assert_int_equal(latch_read(r, 0), 0x0000);
    at_tick(r, 2);
    assert_int_equal(latch_read(r, 0), 0xFFFF);
    run_until(r, tick_ns(1 + 65536) - 1);
    assert_int_equal(r->rises, 0);
    run_until(r, tick_ns(1 + 65536));
    assert_int_equal(r->rises, 1);
    run_until(r, 1000000000);
    assert_int_equal(r->rises, (1193182 - 1) / 65536); /* 18.2 Hz: 18 in the first second */
    free(r);
}

static void test_gate_low_stops_mode2_counting_on_channel2(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x61, 0x01);
    outb(r, 0x43, 0xB4); /* channel 2, LSB/MSB, mode 2 */
    write16(r, 0x42, 1000);
    at_tick(r, 101);
    outb(r, 0x61, 0x00); /* gate low at count 900 */
    at_tick(r, 999);
    assert_int_equal(latch_read(r, 2), 900);
    assert_int_equal(ch2_out(r), 1); /* would have pulsed low at tick 1000 */
    at_tick(r, 1000);
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 5000);
    assert_int_equal(latch_read(r, 2), 900);
    outb(r, 0x61, 0x01); /* a rising gate restarts from the full count */
    at_tick(r, 5001);
    assert_int_equal(latch_read(r, 2), 1000);
    at_tick(r, 5011);
    assert_int_equal(latch_read(r, 2), 990);
    at_tick(r, 5999);
    assert_int_equal(ch2_out(r), 1);
    at_tick(r, 6000);
    assert_int_equal(ch2_out(r), 0); /* count 1: the one-clock low pulse */
    at_tick(r, 6001);
    assert_int_equal(ch2_out(r), 1);
    free(r);
}

static void test_gate_triggers_mode1_one_shot(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0xB2); /* channel 2, LSB/MSB, mode 1 */
    write16(r, 0x42, 100);
    at_tick(r, 50);
    assert_int_equal(ch2_out(r), 1); /* no trigger yet */
    outb(r, 0x61, 0x01); /* trigger at tick 50: loaded at 51, OUT low until 151 */
    at_tick(r, 51);
    assert_int_equal(ch2_out(r), 0);
    at_tick(r, 100);
    outb(r, 0x61, 0x00);
    outb(r, 0x61, 0x01); /* retrigger: 100 more clocks from tick 101 */
    at_tick(r, 200);
    assert_int_equal(ch2_out(r), 0);
    at_tick(r, 201);
    assert_int_equal(ch2_out(r), 1);
    free(r);
}

static void test_mode4_software_strobe_interrupts_once(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x43, 0x38); /* channel 0, LSB/MSB, mode 4 */
    write16(r, 0x40, 100);
    r->rises = 0;
    at_tick(r, 100);
    assert_int_equal(r->irq0, 1);
    at_tick(r, 101);
    outb(r, 0x43, 0xE2);
    assert_int_equal(inb(r, 0x40) & 0x80, 0x00); /* OUT: the one-clock strobe */
    at_tick(r, 102);
    assert_int_equal(r->irq0, 1);
    assert_int_equal(r->rises, 1);
    run_until(r, 1000000000);
    assert_int_equal(r->rises, 1);
    free(r);
}

static void test_port61_refresh_bit_toggles_with_guest_time(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    assert_int_equal(inb(r, 0x61) & 0x10, 0x00);
    run_until(r, 15084);
    assert_int_equal(inb(r, 0x61) & 0x10, 0x00);
    run_until(r, 15085);
    assert_int_equal(inb(r, 0x61) & 0x10, 0x10);
    run_until(r, 30169);
    assert_int_equal(inb(r, 0x61) & 0x10, 0x10);
    run_until(r, 30170);
    assert_int_equal(inb(r, 0x61) & 0x10, 0x00);
    /* A BIOS-style delay: count toggles for 1 ms of guest time. */
    int toggles = 0, last = inb(r, 0x61) & 0x10;
    for (uint64_t t = 30170; t < 30170 + 1000000; t += 100) {
        r->ns = t;
        int b = inb(r, 0x61) & 0x10;
        toggles += b != last;
        last = b;
    }
    assert_int_equal(toggles, 1000000 / 15085);
    /* Bits 0-3 read back as written; 6-7 read 0. */
    outb(r, 0x61, 0xFF);
    assert_int_equal(inb(r, 0x61) & 0xCF, 0x0F);
    outb(r, 0x61, 0x0C);
    assert_int_equal(inb(r, 0x61) & 0xCF, 0x0C);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode2_rate_generator_raises_irq0_at_programmed_period),
        cmocka_unit_test(test_mode2_edges_survive_late_timers),
        cmocka_unit_test(test_mode2_new_count_takes_effect_at_end_of_period),
        cmocka_unit_test(test_mode0_interrupt_on_terminal_count),
        cmocka_unit_test(test_mode0_first_byte_stops_counting_and_lowers_out),
        cmocka_unit_test(test_mode3_square_wave_on_channel2_via_port61),
        cmocka_unit_test(test_mode3_new_count_takes_effect_at_end_of_half_cycle),
        cmocka_unit_test(test_mode3_on_channel0_interrupts_once_per_period),
        cmocka_unit_test(test_latch_command_freezes_read_value),
        cmocka_unit_test(test_readback_status_byte),
        cmocka_unit_test(test_bcd_mode_counts_in_decimal),
        cmocka_unit_test(test_lsb_msb_flipflop_order),
        cmocka_unit_test(test_count_zero_means_65536),
        cmocka_unit_test(test_gate_low_stops_mode2_counting_on_channel2),
        cmocka_unit_test(test_gate_triggers_mode1_one_shot),
        cmocka_unit_test(test_mode4_software_strobe_interrupts_once),
        cmocka_unit_test(test_port61_refresh_bit_toggles_with_guest_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

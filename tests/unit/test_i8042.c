/* Unit tests of the 8042 keyboard controller with its PS/2 keyboard and mouse, and port 0x92:
 * controller commands, the device protocols, translation, IRQ1/IRQ12, A20 and reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../devices/i8042.h"

struct fx {
    struct ioports io;
    struct i8042 k;
    int level[16], edges[16];
    int a20, a20_calls, resets;
};

static void irq(void *opaque, int pin, int level)
{
    struct fx *f = opaque;
    if (level && !f->level[pin])
        f->edges[pin]++;
    f->level[pin] = level;
}

static void on_a20(void *opaque, int on)
{
    struct fx *f = opaque;
    f->a20 = on;
    f->a20_calls++;
}

static void on_reset(void *opaque)
{
    struct fx *f = opaque;
    f->resets++;
}

static struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    ioports_init(&f->io);
    f->a20 = 1;
    assert_int_equal(i8042_init(&f->k, &f->io, (struct irq_line){ irq, f, 1 },
                                (struct irq_line){ irq, f, 12 }, on_a20, on_reset, f), 0);
    assert_int_equal(i8042_port92_init(&f->k, &f->io), 0);
    return f;
}

static uint8_t status(struct fx *f) { return (uint8_t)io_in(&f->io, 0x64, 1); }
static void cmd(struct fx *f, uint8_t c) { io_out(&f->io, 0x64, 1, c); }
static void dat(struct fx *f, uint8_t v) { io_out(&f->io, 0x60, 1, v); }

static void set_ctr(struct fx *f, uint8_t v)
{
    cmd(f, 0x60);
    dat(f, v);
}

/* Reads the next byte, which must be waiting (OBF) and from the expected device. */
static uint8_t next(struct fx *f, int aux)
{
    uint8_t s = status(f);
    assert_true(s & I8042_STR_OBF);
    assert_int_equal(!!(s & I8042_STR_AUXB), aux);
    return (uint8_t)io_in(&f->io, 0x60, 1);
}

static void expect_bytes(struct fx *f, int aux, const uint8_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(next(f, aux), want[i]);
    assert_int_equal(status(f) & I8042_STR_OBF, 0);
}

#define EXPECT(f, aux, ...)                                                                        \
    do {                                                                                           \
        static const uint8_t want_[] = { __VA_ARGS__ };                                            \
        expect_bytes(f, aux, want_, sizeof(want_));                                                \
    } while (0)

static void test_self_test_replies_55_and_sets_system_flag(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_int_equal(status(f) & (I8042_STR_SYS | I8042_STR_OBF | I8042_STR_IBF), 0);
    cmd(f, 0xAA);
    EXPECT(f, 0, 0x55);
    assert_true(status(f) & I8042_STR_SYS);
    cmd(f, 0xAB);
    EXPECT(f, 0, 0x00);
    cmd(f, 0xA9);
    EXPECT(f, 0, 0x00);
    free(f);
}

static void test_command_byte_read_and_write(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    cmd(f, 0x20);
    assert_true(status(f) & I8042_STR_CMD);
    EXPECT(f, 0, I8042_CTR_XLATE | I8042_CTR_AUXDIS);
    set_ctr(f, 0x47);
    assert_int_equal(status(f) & I8042_STR_CMD, 0);
    assert_true(status(f) & I8042_STR_SYS); /* the status register copies bit 2 */
    cmd(f, 0x20);
    EXPECT(f, 0, 0x47);
    cmd(f, 0xAD);
    cmd(f, 0xA8);
    cmd(f, 0x20);
    EXPECT(f, 0, 0x47 | I8042_CTR_KBDDIS);
    free(f);
}

static void test_keyboard_reset_sequence(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    dat(f, 0xFF);
    EXPECT(f, 0, 0xFA, 0xAA);
    dat(f, 0xEE);
    EXPECT(f, 0, 0xEE);
    dat(f, 0x12); /* not a command */
    EXPECT(f, 0, 0xFE);
    dat(f, 0xED); /* LEDs take a parameter byte */
    EXPECT(f, 0, 0xFA);
    dat(f, 0x07);
    EXPECT(f, 0, 0xFA);
    assert_int_equal(f->k.kbd.leds, 7);
    free(f);
}

static void test_identify_with_and_without_translation(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, I8042_CTR_XLATE);
    dat(f, 0xF2);
    EXPECT(f, 0, 0xFA, 0xAB, 0x41);
    dat(f, 0xF0);
    dat(f, 0x00);
    EXPECT(f, 0, 0xFA, 0xFA, 0x41); /* scan set 2 as translated */
    set_ctr(f, 0);
    dat(f, 0xF2);
    EXPECT(f, 0, 0xFA, 0xAB, 0x83);
    dat(f, 0xF0);
    dat(f, 0x00);
    EXPECT(f, 0, 0xFA, 0xFA, 0x02);
    free(f);
}

static void test_key_in_set2_translated_to_set1(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, I8042_CTR_XLATE | I8042_CTR_KBDINT);
    i8042_key(&f->k, 0x1C, 1); /* 'A' */
    i8042_key(&f->k, 0x1C, 0);
    EXPECT(f, 0, 0x1E, 0x9E);
    set_ctr(f, I8042_CTR_KBDINT);
    i8042_key(&f->k, 0x1C, 1);
    i8042_key(&f->k, 0x1C, 0);
    EXPECT(f, 0, 0x1C, 0xF0, 0x1C);
    /* A keyboard switched to set 1 sends set 1 itself. */
    dat(f, 0xF0);
    dat(f, 0x01);
    EXPECT(f, 0, 0xFA, 0xFA);
    i8042_key(&f->k, 0x76, 1); /* Esc */
    i8042_key(&f->k, 0x76, 0);
    EXPECT(f, 0, 0x01, 0x81);
    free(f);
}

static void test_extended_keys_keep_e0_prefix(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, I8042_CTR_XLATE);
    i8042_key(&f->k, 0xE014, 1); /* right Ctrl */
    i8042_key(&f->k, 0xE014, 0);
    i8042_key(&f->k, 0xE075, 1); /* up arrow */
    EXPECT(f, 0, 0xE0, 0x1D, 0xE0, 0x9D, 0xE0, 0x48);
    set_ctr(f, 0);
    i8042_key(&f->k, 0xE014, 1);
    i8042_key(&f->k, 0xE014, 0);
    EXPECT(f, 0, 0xE0, 0x14, 0xE0, 0xF0, 0x14);
    free(f);
}

static void test_irq1_raised_only_when_enabled_in_command_byte(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, I8042_CTR_XLATE);
    i8042_key(&f->k, 0x1C, 1);
    assert_true(status(f) & I8042_STR_OBF);
    assert_int_equal(f->edges[1], 0);
    set_ctr(f, I8042_CTR_XLATE | I8042_CTR_KBDINT);
    assert_int_equal(f->edges[1], 1);
    assert_int_equal(f->level[1], 1);
    i8042_key(&f->k, 0x1C, 0);
    assert_int_equal(next(f, 0), 0x1E);
    assert_int_equal(f->edges[1], 2); /* the next byte is a new edge */
    assert_int_equal(next(f, 0), 0x9E);
    assert_int_equal(f->level[1], 0);
    assert_int_equal(f->edges[12], 0);
    free(f);
}

static void test_mouse_reset_enable_and_packet_on_irq12(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, I8042_CTR_XLATE | I8042_CTR_KBDINT | I8042_CTR_AUXINT);
    cmd(f, 0xD4);
    dat(f, 0xFF);
    assert_int_equal(f->level[12], 1);
    EXPECT(f, 1, 0xFA, 0xAA, 0x00);
    assert_int_equal(f->edges[12], 3);
    assert_int_equal(f->edges[1], 0);
    i8042_mouse(&f->k, 5, 5, 0, 1); /* not streaming yet: nothing */
    assert_int_equal(status(f) & I8042_STR_OBF, 0);
    cmd(f, 0xD4);
    dat(f, 0xF4);
    EXPECT(f, 1, 0xFA);
    i8042_mouse(&f->k, 5, -3, 0, 1); /* right and up, left button */
    EXPECT(f, 1, 0x09, 0x05, 0x03);
    i8042_mouse(&f->k, -2, 4, 0, 0);
    EXPECT(f, 1, 0x38, 0xFE, 0xFC);
    assert_int_equal(f->edges[12], 10);
    cmd(f, 0xD4);
    dat(f, 0xF2);
    EXPECT(f, 1, 0xFA, 0x00);
    free(f);
}

static void test_mouse_wheel_after_intellimouse_knock(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, I8042_CTR_XLATE);
    static const uint8_t knock[] = { 0xF3, 200, 0xF3, 100, 0xF3, 80, 0xF2, 0xF4 };
    for (size_t i = 0; i < sizeof(knock); i++) {
        cmd(f, 0xD4);
        dat(f, knock[i]);
    }
    EXPECT(f, 1, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x03, 0xFA);
    i8042_mouse(&f->k, 0, 0, -1, 4);
    EXPECT(f, 1, 0x0C, 0x00, 0x00, 0xFF);
    cmd(f, 0xD4);
    dat(f, 0xE9); /* status: streaming, middle button down, resolution 2, 80 samples/s */
    EXPECT(f, 1, 0xFA, 0x22, 0x02, 80);
    free(f);
}

static void test_mouse_port_disabled_holds_bytes_back(void **state)
{
    (void)state;
    struct fx *f = fx_new(); /* power-on: mouse port disabled */
    cmd(f, 0xD4);
    dat(f, 0xF2);
    assert_int_equal(status(f) & I8042_STR_OBF, 0);
    cmd(f, 0xA8);
    EXPECT(f, 1, 0xFA, 0x00);
    free(f);
}

static void test_write_output_buffer_commands_loop_back(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, I8042_CTR_KBDINT | I8042_CTR_AUXINT);
    cmd(f, 0xD2);
    dat(f, 0x5A);
    assert_int_equal(f->level[1], 1);
    EXPECT(f, 0, 0x5A);
    cmd(f, 0xD3);
    dat(f, 0xA5);
    assert_int_equal(f->level[12], 1);
    EXPECT(f, 1, 0xA5);
    free(f);
}

static void test_a20_via_output_port(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    cmd(f, 0xD0);
    assert_int_equal(next(f, 0) & 3, 3);
    cmd(f, 0xD1);
    dat(f, 0xDD);
    assert_int_equal(f->a20, 0);
    assert_int_equal(f->a20_calls, 1);
    cmd(f, 0xD0);
    assert_int_equal(next(f, 0) & 3, 1);
    cmd(f, 0xD1);
    dat(f, 0xDF);
    assert_int_equal(f->a20, 1);
    cmd(f, 0xDD); /* the HP Vectra-style commands */
    assert_int_equal(f->a20, 0);
    cmd(f, 0xDF);
    assert_int_equal(f->a20, 1);
    assert_int_equal(f->a20_calls, 4);
    assert_int_equal(f->resets, 0);
    free(f);
}

static void test_a20_and_reset_via_port92(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_int_equal(io_in(&f->io, 0x92, 1), 0x02);
    io_out(&f->io, 0x92, 1, 0x00);
    assert_int_equal(f->a20, 0);
    assert_int_equal(io_in(&f->io, 0x92, 1), 0x00);
    io_out(&f->io, 0x92, 1, 0x02);
    assert_int_equal(f->a20, 1);
    assert_int_equal(io_in(&f->io, 0x92, 1), 0x02);
    /* The same gate as the 8042's output port. */
    cmd(f, 0xD0);
    assert_int_equal(next(f, 0) & 2, 2);
    assert_int_equal(f->resets, 0);
    io_out(&f->io, 0x92, 1, 0x03);
    assert_int_equal(f->resets, 1);
    assert_int_equal(io_in(&f->io, 0x92, 1), 0x02);
    free(f);
}

static void test_reset_via_pulse_command_and_output_port(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    cmd(f, 0xFF); /* pulses nothing */
    assert_int_equal(f->resets, 0);
    cmd(f, 0xFE);
    assert_int_equal(f->resets, 1);
    cmd(f, 0xD1);
    dat(f, 0x02); /* bit 0 low asserts reset */
    assert_int_equal(f->resets, 2);
    assert_int_equal(f->a20, 1);
    free(f);
}

static void test_keyboard_disabled_holds_keys_back(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, I8042_CTR_XLATE | I8042_CTR_KBDINT);
    cmd(f, 0xAD);
    i8042_key(&f->k, 0x1C, 1);
    assert_int_equal(status(f) & I8042_STR_OBF, 0);
    assert_int_equal(f->edges[1], 0);
    cmd(f, 0xAE);
    assert_int_equal(f->edges[1], 1);
    EXPECT(f, 0, 0x1E);
    free(f);
}

static void test_keyboard_disabled_by_f5_drops_keys(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, 0);
    dat(f, 0xF5);
    EXPECT(f, 0, 0xFA);
    i8042_key(&f->k, 0x1C, 1);
    assert_int_equal(status(f) & I8042_STR_OBF, 0);
    dat(f, 0xF4);
    EXPECT(f, 0, 0xFA);
    i8042_key(&f->k, 0x1C, 1);
    EXPECT(f, 0, 0x1C);
    free(f);
}

static void test_keyboard_buffer_overflow_reports_overrun(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    set_ctr(f, I8042_CTR_XLATE | I8042_CTR_KBDDIS);
    for (int i = 0; i < 40; i++)
        i8042_key(&f->k, 0x1C, i & 1 ? 0 : 1);
    cmd(f, 0xAE);
    /* 1E 9E ... while a whole key fits with a byte to spare, then one overrun (0x00 -> 0xFF). */
    int n = 0, last = -1;
    while (status(f) & I8042_STR_OBF) {
        last = next(f, 0);
        n++;
    }
    assert_int_equal(last, 0xFF);
    assert_true(n <= I8042_QUEUE);
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_self_test_replies_55_and_sets_system_flag),
        cmocka_unit_test(test_command_byte_read_and_write),
        cmocka_unit_test(test_keyboard_reset_sequence),
        cmocka_unit_test(test_identify_with_and_without_translation),
        cmocka_unit_test(test_key_in_set2_translated_to_set1),
        cmocka_unit_test(test_extended_keys_keep_e0_prefix),
        cmocka_unit_test(test_irq1_raised_only_when_enabled_in_command_byte),
        cmocka_unit_test(test_mouse_reset_enable_and_packet_on_irq12),
        cmocka_unit_test(test_mouse_wheel_after_intellimouse_knock),
        cmocka_unit_test(test_mouse_port_disabled_holds_bytes_back),
        cmocka_unit_test(test_write_output_buffer_commands_loop_back),
        cmocka_unit_test(test_a20_via_output_port),
        cmocka_unit_test(test_a20_and_reset_via_port92),
        cmocka_unit_test(test_reset_via_pulse_command_and_output_port),
        cmocka_unit_test(test_keyboard_disabled_holds_keys_back),
        cmocka_unit_test(test_keyboard_disabled_by_f5_drops_keys),
        cmocka_unit_test(test_keyboard_buffer_overflow_reports_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

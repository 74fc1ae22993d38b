/* Unit tests of the I/O-port space (mem/ioport.c): registration and overlap, unclaimed ports
 * reading all ones, and the splitting of 16/32-bit accesses to byte-only devices into byte
 * accesses in ascending port order (Intel SDM Vol. 1 §19.2-19.3), while wide devices see them whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>

#include "../../mem/ioport.h"

/* A device that logs its accesses; reads return tag + port offset in every byte. */
struct dev {
    uint8_t tag;
    uint16_t base;
    int n;
    struct { int out; uint16_t port; int size; uint32_t val; } e[16];
};

static uint32_t dev_in(void *opaque, uint16_t port, int size)
{
    struct dev *d = opaque;
    if (d->n < 16)
        d->e[d->n] = (typeof(d->e[0])){ 0, port, size, 0 };
    d->n++;
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)(uint8_t)(d->tag + port - d->base + i) << (8 * i);
    return v;
}

static void dev_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    struct dev *d = opaque;
    if (d->n < 16)
        d->e[d->n] = (typeof(d->e[0])){ 1, port, size, val };
    d->n++;
}

static struct ioports *new_io(void)
{
    struct ioports *io = malloc(sizeof(*io));
    assert_non_null(io);
    ioports_init(io);
    return io;
}

static void reg(struct ioports *io, uint16_t port, uint32_t count, struct dev *d, int wide)
{
    d->base = port;
    struct io_handler h = { dev_in, dev_out, d, wide };
    assert_int_equal(ioports_register(io, port, count, &h), 0);
}

static void test_registration_and_overlap(void **state)
{
    (void)state;
    struct ioports *io = new_io();
    struct dev a = { .tag = 0x10 }, b = { .tag = 0x20 };
    reg(io, 0x60, 5, &a, 0); /* 0x60-0x64 */
    struct io_handler h = { dev_in, dev_out, &b, 0 };
    assert_int_equal(ioports_register(io, 0x64, 2, &h), -1); /* last port taken */
    assert_int_equal(ioports_register(io, 0x5E, 3, &h), -1); /* first port free, third taken */
    assert_int_equal(ioports_register(io, 0x50, 0x100, &h), -1); /* covers the whole range */
    assert_int_equal(ioports_register(io, 0x70, 0, &h), -1);  /* empty range */
    assert_int_equal(ioports_register(io, 0xFFFF, 2, &h), -1); /* past port 0xFFFF */
    assert_int_equal(io_in(io, 0x66, 1), 0xFF); /* a failed registration claims nothing */
    reg(io, 0x65, 1, &b, 0);                   /* the neighbour right after is fine */
    assert_int_equal(io_in(io, 0x62, 1), 0x12);
    assert_int_equal(io_in(io, 0x65, 1), 0x20);
    assert_int_equal(a.n, 1);
    assert_int_equal(b.n, 1);
    io_out(io, 0x64, 1, 0xAB);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.e[1].out, 1);
    assert_int_equal(a.e[1].port, 0x64);
    assert_int_equal(a.e[1].val, 0xAB);
    free(io);
}

static void test_table_full(void **state)
{
    (void)state;
    struct ioports *io = new_io();
    struct dev d = { 0 };
    struct io_handler h = { dev_in, dev_out, &d, 0 };
    for (int i = 0; i < IO_MAX_HANDLERS; i++)
        assert_int_equal(ioports_register(io, (uint16_t)(0x1000 + i), 1, &h), 0);
    assert_int_equal(ioports_register(io, 0x2000, 1, &h), -1);
    assert_int_equal(io_in(io, 0x2000, 1), 0xFF);
    free(io);
}

static void test_unclaimed_all_ones(void **state)
{
    (void)state;
    struct ioports *io = new_io();
    assert_int_equal(io_in(io, 0x300, 1), 0xFF);
    assert_int_equal(io_in(io, 0x300, 2), 0xFFFF);
    assert_int_equal(io_in(io, 0x300, 4), 0xFFFFFFFFu);
    assert_int_equal(io_in(io, 0xFFFF, 1), 0xFF);
    io_out(io, 0x300, 4, 0x12345678); /* dropped */
    /* A device claiming only the low port of a word: the high byte floats. */
    struct dev d = { .tag = 0x40 };
    reg(io, 0x301, 1, &d, 0);
    assert_int_equal(io_in(io, 0x301, 2), 0xFF40);
    assert_int_equal(io_in(io, 0x300, 2), 0x40FF);
    assert_int_equal(io_in(io, 0x2FF, 4), 0xFF40FFFFu); /* ports 2FF 300 301 302 */
    free(io);
}

static void test_byte_device_split_in_order(void **state)
{
    (void)state;
    struct ioports *io = new_io();
    struct dev d = { .tag = 0x80 };
    reg(io, 0x3F8, 8, &d, 0);
    assert_int_equal(io_in(io, 0x3F8, 2), 0x8180);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.e[0].port, 0x3F8);
    assert_int_equal(d.e[0].size, 1);
    assert_int_equal(d.e[1].port, 0x3F9);
    assert_int_equal(d.e[1].size, 1);
    d.n = 0;
    io_out(io, 0x3FA, 4, 0x44332211u);
    assert_int_equal(d.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(d.e[i].out, 1);
        assert_int_equal(d.e[i].port, 0x3FA + i);
        assert_int_equal(d.e[i].size, 1);
        assert_int_equal(d.e[i].val, 0x11 * (i + 1));
    }
    d.n = 0;
    assert_int_equal(io_in(io, 0x3FC, 4), 0x87868584u);
    assert_int_equal(d.n, 4);
    assert_int_equal(d.e[3].port, 0x3FF);
    free(io);
}

static void test_split_across_devices(void **state)
{
    (void)state;
    struct ioports *io = new_io();
    struct dev a = { .tag = 0x10 }, b = { .tag = 0x20 };
    reg(io, 0x70, 2, &a, 0);
    reg(io, 0x72, 2, &b, 0);
    assert_int_equal(io_in(io, 0x71, 2), 0x2011); /* one byte from each device */
    io_out(io, 0x71, 2, 0xBBAA);
    assert_int_equal(a.e[a.n - 1].port, 0x71);
    assert_int_equal(a.e[a.n - 1].val, 0xAA);
    assert_int_equal(b.e[b.n - 1].port, 0x72);
    assert_int_equal(b.e[b.n - 1].val, 0xBB);
    free(io);
}

static void test_wide_device_gets_wide_access(void **state)
{
    (void)state;
    struct ioports *io = new_io();
    struct dev d = { .tag = 0x50 };
    reg(io, 0xCF8, 8, &d, 1);
    assert_int_equal(io_in(io, 0xCF8, 4), 0x53525150u);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.e[0].size, 4);
    assert_int_equal(d.e[0].port, 0xCF8);
    io_out(io, 0xCFC, 2, 0xBEEF);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.e[1].out, 1);
    assert_int_equal(d.e[1].port, 0xCFC);
    assert_int_equal(d.e[1].size, 2);
    assert_int_equal(d.e[1].val, 0xBEEF);
    io_out(io, 0xCFD, 4, 0x80000000u);
    assert_int_equal(d.n, 3);
    assert_int_equal(d.e[2].size, 4);
    assert_int_equal(d.e[2].val, 0x80000000u);
    assert_int_equal(io_in(io, 0xCF9, 1), 0x51); /* bytes still work */
    assert_int_equal(d.e[3].size, 1);
    free(io);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration_and_overlap),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_unclaimed_all_ones),
        cmocka_unit_test(test_byte_device_split_in_order),
        cmocka_unit_test(test_split_across_devices),
        cmocka_unit_test(test_wide_device_gets_wide_access),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

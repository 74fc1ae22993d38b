/* Unit tests of the PCI bus: configuration mechanism #1 through the port space, the i440FX and
 * PIIX3 functions, write masks, BAR sizing, PIRQ routing, PAM and reset-control hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>

#include "../../devices/pci.h"

struct fx {
    struct ioports io;
    struct pci_bus b;
    int pam_calls, pam_reg, pam_val;
    int pirq_calls, pirq_last, irq_last;
    int resets, hard;
    int cb_calls, cb_addr, cb_size;
};

static void pam_hook(void *opaque, int reg, uint8_t val)
{
    struct fx *f = opaque;
    f->pam_calls++;
    f->pam_reg = reg;
    f->pam_val = val;
}

static void pirq_hook(void *opaque, int pirq, int irq)
{
    struct fx *f = opaque;
    f->pirq_calls++;
    f->pirq_last = pirq;
    f->irq_last = irq;
}

static void reset_hook(void *opaque, int hard)
{
    struct fx *f = opaque;
    f->resets++;
    f->hard = hard;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    ioports_init(&f->io);
    assert_int_equal(pci_bus_init(&f->b, &f->io), 0);
    assert_non_null(pci_add_i440fx(&f->b, pam_hook, f));
    assert_non_null(pci_add_piix3(&f->b, pirq_hook, f));
    pci_bus_set_reset_handler(&f->b, reset_hook, f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pci_bus_free(&f->b);
    free(f);
    return 0;
}

static uint32_t cfg_addr(int bus, int dev, int fn, int reg)
{
    return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (uint32_t)(reg & 0xFC);
}

/* Reads like a BIOS: dword address, then data at 0xCFC + (reg & 3). */
static uint32_t cfg_read(struct fx *f, int dev, int fn, int reg, int size)
{
    io_out(&f->io, 0xCF8, 4, cfg_addr(0, dev, fn, reg));
    return io_in(&f->io, (uint16_t)(0xCFC + (reg & 3)), size);
}

static void cfg_write(struct fx *f, int dev, int fn, int reg, int size, uint32_t val)
{
    io_out(&f->io, 0xCF8, 4, cfg_addr(0, dev, fn, reg));
    io_out(&f->io, (uint16_t)(0xCFC + (reg & 3)), size, val);
}

static void test_config_address_readback(void **state)
{
    struct fx *f = *state;
    io_out(&f->io, 0xCF8, 4, 0x80123456);
    assert_int_equal(io_in(&f->io, 0xCF8, 4), 0x80123454); /* bits 1-0 read 0 */
    io_out(&f->io, 0xCF8, 4, 0xFFFFFFFF);
    assert_int_equal(io_in(&f->io, 0xCF8, 4), 0x80FFFFFC); /* reserved 30-24 read 0 */
    /* byte and word accesses do not reach CONFIG_ADDRESS */
    io_out(&f->io, 0xCF8, 1, 0x00);
    io_out(&f->io, 0xCFA, 2, 0x0000);
    assert_int_equal(io_in(&f->io, 0xCF8, 4), 0x80FFFFFC);
    assert_int_equal(io_in(&f->io, 0xCFA, 2), 0xFFFF);
}

static void test_absent_device_reads_ones(void **state)
{
    struct fx *f = *state;
    assert_int_equal(cfg_read(f, 5, 0, 0, 4), 0xFFFFFFFF);
    assert_int_equal(cfg_read(f, 31, 7, 0x3C, 4), 0xFFFFFFFF);
    assert_int_equal(cfg_read(f, 0, 1, 0, 2), 0xFFFF); /* the host bridge is single-function */
    io_out(&f->io, 0xCF8, 4, cfg_addr(1, 0, 0, 0)); /* no bus 1 */
    assert_int_equal(io_in(&f->io, 0xCFC, 4), 0xFFFFFFFF);
    cfg_write(f, 5, 0, 0x3C, 1, 0x0B); /* writes to nobody vanish */
    assert_int_equal(cfg_read(f, 5, 0, 0x3C, 1), 0xFF);
}

static void test_bridge_ids(void **state)
{
    struct fx *f = *state;
    assert_int_equal(cfg_read(f, 0, 0, 0x00, 4), 0x12378086);
    assert_int_equal(cfg_read(f, 0, 0, 0x08, 4), 0x06000002);
    assert_int_equal(cfg_read(f, 0, 0, 0x0E, 1), 0x00);
    assert_int_equal(cfg_read(f, 1, 0, 0x00, 4), 0x70008086);
    assert_int_equal(cfg_read(f, 1, 0, 0x08, 4) >> 16, 0x0601);
    assert_int_equal(cfg_read(f, 1, 0, 0x0E, 1), 0x80);
}

static void test_byte_word_data_access(void **state)
{
    struct fx *f = *state;
    io_out(&f->io, 0xCF8, 4, cfg_addr(0, 0, 0, 0x00));
    assert_int_equal(io_in(&f->io, 0xCFC, 1), 0x86);
    assert_int_equal(io_in(&f->io, 0xCFD, 1), 0x80);
    assert_int_equal(io_in(&f->io, 0xCFE, 1), 0x37);
    assert_int_equal(io_in(&f->io, 0xCFF, 1), 0x12);
    assert_int_equal(io_in(&f->io, 0xCFE, 2), 0x1237);
    assert_int_equal(io_in(&f->io, 0xCFD, 2), 0x3780);
    /* word write at 0xCFE lands in the upper half of the dword: PIRQRC C and D */
    io_out(&f->io, 0xCF8, 4, cfg_addr(0, 1, 0, 0x60));
    io_out(&f->io, 0xCFE, 2, 0x0A0B);
    assert_int_equal(io_in(&f->io, 0xCFC, 4), 0x0A0B8080);
    io_out(&f->io, 0xCFD, 1, 0x05);
    assert_int_equal(io_in(&f->io, 0xCFC, 4), 0x0A0B0580);
    assert_int_equal(io_in(&f->io, 0xCFF, 1), 0x0A);
}

static void test_read_only_fields(void **state)
{
    struct fx *f = *state;
    cfg_write(f, 0, 0, 0x00, 4, 0xDEADBEEF);
    assert_int_equal(cfg_read(f, 0, 0, 0x00, 4), 0x12378086);
    cfg_write(f, 1, 0, 0x08, 4, 0);
    assert_int_equal(cfg_read(f, 1, 0, 0x08, 4) >> 16, 0x0601);
    cfg_write(f, 1, 0, 0x0E, 1, 0);
    assert_int_equal(cfg_read(f, 1, 0, 0x0E, 1), 0x80);
    /* interrupt line is writable, the pin next to it is not */
    cfg_write(f, 1, 0, 0x3C, 2, 0xFF0B);
    assert_int_equal(cfg_read(f, 1, 0, 0x3C, 2), 0x000B);
    /* PIRQRC reserved bits 6:4 stay 0 */
    cfg_write(f, 1, 0, 0x60, 1, 0xFF);
    assert_int_equal(cfg_read(f, 1, 0, 0x60, 1), 0x8F);
    /* status error bits are write-one-to-clear */
    struct pci_device *d = pci_find_device(&f->b, 1, 0);
    pci_config_set(d, PCI_STATUS, 2, 0x3200);
    cfg_write(f, 1, 0, 0x06, 2, 0x1000);
    assert_int_equal(cfg_read(f, 1, 0, 0x06, 2), 0x2200);
}

static void test_bar_sizing(void **state)
{
    struct fx *f = *state;
    struct pci_device *d = pci_add_device(&f->b, 3, 0, 0x1234, 0x1111, 0x03000000, NULL, NULL);
    assert_non_null(d);
    assert_null(pci_add_device(&f->b, 3, 0, 0x1234, 0x1111, 0x03000000, NULL, NULL));
    assert_int_equal(pci_set_bar(d, 0, 16 << 20, PCI_BAR_MEM32 | PCI_BAR_PREFETCH), 0);
    assert_int_equal(pci_set_bar(d, 1, 0x20, PCI_BAR_IO), 0);
    assert_int_equal(pci_set_bar(d, 2, 0x4000, PCI_BAR_MEM64), 0);
    assert_int_equal(pci_set_bar(d, PCI_ROM_SLOT, 0x10000, 0), 0);
    assert_int_equal(pci_set_bar(d, 4, 24, PCI_BAR_MEM32), -1); /* not a power of two */

    static const struct { int reg; uint32_t sized; } exp[] = {
        { 0x10, 0xFF000008 }, { 0x14, 0xFFFFFFE1 }, { 0x18, 0xFFFFC004 },
        { 0x1C, 0xFFFFFFFF }, { 0x20, 0x00000000 }, { 0x30, 0xFFFF0001 },
    };
    for (size_t i = 0; i < sizeof(exp) / sizeof(exp[0]); i++) {
        uint32_t orig = cfg_read(f, 3, 0, exp[i].reg, 4);
        cfg_write(f, 3, 0, exp[i].reg, 4, 0xFFFFFFFF);
        assert_int_equal(cfg_read(f, 3, 0, exp[i].reg, 4), exp[i].sized);
        cfg_write(f, 3, 0, exp[i].reg, 4, orig);
    }
    cfg_write(f, 3, 0, 0x10, 4, 0xE0000000);
    cfg_write(f, 3, 0, 0x14, 4, 0xC123);
    assert_int_equal(cfg_read(f, 3, 0, 0x10, 4), 0xE0000008);
    assert_int_equal(cfg_read(f, 3, 0, 0x14, 4), 0xC121);
    assert_int_equal(pci_bar_address(d, 0), 0xE0000000);
    assert_int_equal(pci_bar_address(d, 1), 0xC120);
}

static void cb(void *opaque, struct pci_device *d, int addr, int size, uint32_t val)
{
    struct fx *f = opaque;
    assert_int_equal(d->devfn, 4 << 3);
    assert_int_equal(val, 0x0007);
    f->cb_calls++;
    f->cb_addr = addr;
    f->cb_size = size;
}

static void test_config_write_callback(void **state)
{
    struct fx *f = *state;
    assert_non_null(pci_add_device(&f->b, 4, 0, 0x1234, 0x2222, 0x02000000, cb, f));
    cfg_write(f, 4, 0, 0x04, 2, 0x0007);
    assert_int_equal(f->cb_calls, 1);
    assert_int_equal(f->cb_addr, 0x04);
    assert_int_equal(f->cb_size, 2);
    assert_int_equal(cfg_read(f, 4, 0, 0x04, 2), 0x0007);
}

static void test_pirq_routing(void **state)
{
    struct fx *f = *state;
    for (int p = 0; p < 4; p++) {
        assert_int_equal(cfg_read(f, 1, 0, 0x60 + p, 1), 0x80);
        assert_int_equal(pci_pirq_to_irq(&f->b, p), -1);
    }
    cfg_write(f, 1, 0, 0x60, 4, 0x0B0A0B0A); /* SeaBIOS: A,C -> 10, B,D -> 11 */
    assert_int_equal(f->pirq_calls, 4);
    assert_int_equal(f->pirq_last, 3);
    assert_int_equal(f->irq_last, 11);
    assert_int_equal(pci_pirq_to_irq(&f->b, 0), 10);
    assert_int_equal(pci_pirq_to_irq(&f->b, 1), 11);
    cfg_write(f, 1, 0, 0x63, 1, 0x8B); /* disabled again */
    assert_int_equal(pci_pirq_to_irq(&f->b, 3), -1);
    assert_int_equal(f->irq_last, -1);
    cfg_write(f, 1, 0, 0x62, 1, 0x0D); /* IRQ 13 is a reserved encoding */
    assert_int_equal(pci_pirq_to_irq(&f->b, 2), -1);
    cfg_write(f, 1, 0, 0x62, 1, 0x05);
    int before = f->pirq_calls;
    cfg_write(f, 1, 0, 0x62, 1, 0x05); /* unchanged: no callback */
    assert_int_equal(f->pirq_calls, before);

    /* swizzle: PIRQ = (device + pin - 1) & 3 */
    assert_int_equal(pci_slot_pirq(1, 1), 1);
    assert_int_equal(pci_slot_pirq(3, 1), 3);
    assert_int_equal(pci_slot_pirq(3, 2), 0);
    assert_int_equal(pci_slot_pirq(4, 4), 3);
    assert_int_equal(pci_slot_pirq(4, 0), -1);
    assert_int_equal(pci_intx_to_irq(&f->b, 3, 2), 10); /* PIRQA */
    assert_int_equal(pci_intx_to_irq(&f->b, 2, 1), 5);  /* PIRQC */
}

static void test_pam_registers(void **state)
{
    struct fx *f = *state;
    for (int r = 0x59; r <= 0x5F; r++)
        assert_int_equal(cfg_read(f, 0, 0, r, 1), 0);
    cfg_write(f, 0, 0, 0x59, 1, 0x30);
    assert_int_equal(f->pam_calls, 1);
    assert_int_equal(f->pam_reg, 0x59);
    assert_int_equal(f->pam_val, 0x30);
    cfg_write(f, 0, 0, 0x5C, 4, 0x33333333); /* 0x5C-0x5F */
    assert_int_equal(f->pam_calls, 5);
    assert_int_equal(f->pam_reg, 0x5F);
    assert_int_equal(cfg_read(f, 0, 0, 0x5C, 4), 0x33333333);
    cfg_write(f, 0, 0, 0x5A, 1, 0xFF); /* reserved bits stay 0 */
    assert_int_equal(cfg_read(f, 0, 0, 0x5A, 1), 0x33);
    cfg_write(f, 0, 0, 0x59, 1, 0x30); /* no change, no call */
    assert_int_equal(f->pam_calls, 6);
}

static void test_disabled_config_data(void **state)
{
    struct fx *f = *state;
    io_out(&f->io, 0xCF8, 4, cfg_addr(0, 0, 0, 0) & 0x7FFFFFFF);
    assert_int_equal(io_in(&f->io, 0xCFC, 4), 0xFFFFFFFF);
    assert_int_equal(io_in(&f->io, 0xCFE, 2), 0xFFFF);
    io_out(&f->io, 0xCF8, 4, cfg_addr(0, 1, 0, 0x60) & 0x7FFFFFFF);
    io_out(&f->io, 0xCFC, 1, 0x05); /* ignored */
    assert_int_equal(cfg_read(f, 1, 0, 0x60, 1), 0x80);
}

static void test_reset_control(void **state)
{
    struct fx *f = *state;
    io_out(&f->io, 0xCF9, 1, 0x02);
    assert_int_equal(f->resets, 0);
    assert_int_equal(io_in(&f->io, 0xCF9, 1), 0x02);
    io_out(&f->io, 0xCF9, 1, 0x06);
    assert_int_equal(f->resets, 1);
    assert_int_equal(f->hard, 1);
    io_out(&f->io, 0xCF9, 1, 0x04);
    assert_int_equal(f->resets, 2);
    assert_int_equal(f->hard, 0);
}

static void test_bus_reset(void **state)
{
    struct fx *f = *state;
    struct pci_device *d = pci_add_device(&f->b, 3, 0, 0x1234, 0x1111, 0x03000000, NULL, NULL);
    assert_int_equal(pci_set_bar(d, 0, 0x1000, PCI_BAR_MEM32), 0);
    cfg_write(f, 0, 0, 0x5A, 1, 0x33);
    cfg_write(f, 1, 0, 0x61, 1, 0x0B);
    cfg_write(f, 3, 0, 0x10, 4, 0xFEBF0000);
    cfg_write(f, 3, 0, 0x04, 2, 0x0002);
    int pam = f->pam_calls, pirq = f->pirq_calls;
    pci_bus_reset(&f->b);
    assert_int_equal(io_in(&f->io, 0xCF8, 4), 0);
    assert_int_equal(cfg_read(f, 0, 0, 0x5A, 1), 0);
    assert_int_equal(cfg_read(f, 1, 0, 0x61, 1), 0x80);
    assert_int_equal(cfg_read(f, 3, 0, 0x10, 4), 0);
    assert_int_equal(cfg_read(f, 3, 0, 0x04, 2), 0);
    assert_int_equal(cfg_read(f, 0, 0, 0x00, 4), 0x12378086);
    assert_int_equal(f->pam_calls, pam + 1);
    assert_int_equal(f->pam_reg, 0x5A);
    assert_int_equal(f->pam_val, 0);
    assert_int_equal(f->pirq_calls, pirq + 1);
    assert_int_equal(f->pirq_last, 1);
    assert_int_equal(f->irq_last, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_address_readback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_device_reads_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bridge_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_byte_word_data_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_sizing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_write_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pirq_routing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_config_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bus_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the i440FX Programmable Attribute Map (devices/i440fx_pam.c): each RE/WE mode of a
 * segment, the segment boundaries of PAM0-6, and the PAM registers reached through PCI
 * configuration cycles on a whole machine, where the CPU must see the new routing at once
 * (Intel 82441FX PMC datasheet, PAM[6:0] at 59h-5Fh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../devices/i440fx_pam.h"
#include "../../devices/machine.h"

#define ROM_SIZE (128u << 10) /* the firmware alias at 0xE0000-0xFFFFF */
#define ROM_BASE 0xE0000u

struct fx {
    struct physmem pm;
    struct i440fx_pam pam;
    uint8_t *rom;
    int remaps;
};

static void count_remap(void *opaque) { ((struct fx *)opaque)->remaps++; }

/* The ROM holds 0x40 + (page number within it) in every byte, so a read says where it came from. */
static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(posix_memalign((void **)&f->rom, PM_PAGE_SIZE, ROM_SIZE), 0);
    for (uint32_t i = 0; i < ROM_SIZE; i++)
        f->rom[i] = (uint8_t)(0x40 + i / PM_PAGE_SIZE);
    assert_int_equal(physmem_init(&f->pm, 4u << 20), 0);
    assert_int_equal(physmem_map_rom(&f->pm, ROM_BASE, f->rom, ROM_SIZE), 0);
    assert_int_equal(i440fx_pam_init(&f->pam, &f->pm, count_remap, f), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    physmem_free(&f->pm);
    free(f->rom);
    free(f);
    return 0;
}

static uint8_t rom_byte(uint32_t addr) { return (uint8_t)(0x40 + (addr - ROM_BASE) / PM_PAGE_SIZE); }

static void test_power_on_routes_the_bios_area_to_rom(void **state)
{
    struct fx *f = *state;
    assert_int_equal(phys_read(&f->pm, 0xFFFF0, 1), rom_byte(0xFFFF0));
    phys_write(&f->pm, 0xFFFF0, 1, 0x99);
    assert_int_equal(phys_read(&f->pm, 0xFFFF0, 1), rom_byte(0xFFFF0));
    assert_int_equal(f->rom[ROM_SIZE - 16], rom_byte(0xFFFF0)); /* the ROM image is never written */
    assert_int_equal(phys_read(&f->pm, 0xC0000, 1), 0xFF);     /* no option ROM there */
    assert_int_equal(f->remaps, 0);
}

static void test_pam_disabled_reads_rom_and_drops_writes(void **state)
{
    struct fx *f = *state;
    i440fx_pam_write(&f->pam, 0x59, 0x30); /* make the DRAM copy differ from the ROM */
    phys_write(&f->pm, 0xF1000, 1, 0x77);
    i440fx_pam_write(&f->pam, 0x59, 0x00);
    assert_int_equal(phys_read(&f->pm, 0xF1000, 1), rom_byte(0xF1000));
    phys_write(&f->pm, 0xF1000, 1, 0x55);
    assert_int_equal(phys_read(&f->pm, 0xF1000, 1), rom_byte(0xF1000));
    i440fx_pam_write(&f->pam, 0x59, 0x10);
    assert_int_equal(phys_read(&f->pm, 0xF1000, 1), 0x77); /* the DRAM kept its byte */
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xF1000), PAM_RE);
}

static void test_pam_read_only_reads_dram_and_drops_writes(void **state)
{
    struct fx *f = *state;
    i440fx_pam_write(&f->pam, 0x59, 0x30);
    phys_write(&f->pm, 0xF8000, 4, 0x11223344);
    i440fx_pam_write(&f->pam, 0x59, 0x10);
    assert_int_equal(phys_read(&f->pm, 0xF8000, 4), 0x11223344);
    phys_write(&f->pm, 0xF8000, 4, 0xDEADBEEF); /* goes to the PCI bus: lost */
    assert_int_equal(phys_read(&f->pm, 0xF8000, 4), 0x11223344);
    assert_null(phys_host_ptr(&f->pm, 0xF8000, 1));
}

static void test_pam_write_only_reads_rom_and_writes_dram(void **state)
{
    struct fx *f = *state;
    i440fx_pam_write(&f->pam, 0x59, 0x20);
    /* The classic shadowing loop: read a byte (from ROM), write it back (into DRAM). */
    for (uint32_t a = 0xF0000; a < 0x100000; a += 4)
        phys_write(&f->pm, a, 4, phys_read(&f->pm, a, 4));
    assert_int_equal(phys_read(&f->pm, 0xF2345, 1), rom_byte(0xF2345));
    phys_write(&f->pm, 0xF2345, 1, 0xAB);
    assert_int_equal(phys_read(&f->pm, 0xF2345, 1), rom_byte(0xF2345)); /* still the ROM */
    phys_write(&f->pm, 0xF2FFF, 2, 0xCDEF); /* crosses into the next page */
    i440fx_pam_write(&f->pam, 0x59, 0x10);
    assert_int_equal(phys_read(&f->pm, 0xF2345, 1), 0xAB);
    assert_int_equal(phys_read(&f->pm, 0xF2344, 1), rom_byte(0xF2344)); /* the shadowed copy */
    assert_int_equal(phys_read(&f->pm, 0xF2FFF, 2), 0xCDEF);
    assert_int_equal(phys_read(&f->pm, 0xFFFF0, 1), rom_byte(0xFFFF0));
}

static void test_pam_read_write_is_plain_ram(void **state)
{
    struct fx *f = *state;
    i440fx_pam_write(&f->pam, 0x59, 0x30);
    phys_write(&f->pm, 0xFFFF0, 2, 0xBEEF);
    assert_int_equal(phys_read(&f->pm, 0xFFFF0, 2), 0xBEEF);
    assert_non_null(phys_host_ptr(&f->pm, 0xFFFF0, 1));
    assert_int_equal(f->pm.ram[0xFFFF0], 0xEF); /* the DRAM behind the window is guest RAM */
    assert_int_equal(f->remaps, 1);
}

static void test_pam_segments_and_reserved_bits(void **state)
{
    struct fx *f = *state;
    /* PAM1 low nibble: 0xC0000-0xC3FFF; high nibble: 0xC4000-0xC7FFF. */
    i440fx_pam_write(&f->pam, 0x5A, 0x03);
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xC0000), PAM_RE | PAM_WE);
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xC3FFF), PAM_RE | PAM_WE);
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xC4000), 0);
    phys_write(&f->pm, 0xC3FFE, 2, 0x1234);
    assert_int_equal(phys_read(&f->pm, 0xC3FFE, 2), 0x1234);
    phys_write(&f->pm, 0xC4000, 1, 0x56);
    assert_int_equal(phys_read(&f->pm, 0xC4000, 1), 0xFF); /* nothing on the bus there */
    /* PAM6 high nibble: 0xEC000-0xEFFFF, inside the ROM alias. */
    i440fx_pam_write(&f->pam, 0x5F, 0x10);
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xEBFFF), 0);
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xEC000), PAM_RE);
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xEFFFF), PAM_RE);
    assert_int_equal(phys_read(&f->pm, 0xE8000, 1), rom_byte(0xE8000));
    assert_int_equal(phys_read(&f->pm, 0xEC000, 1), 0); /* untouched DRAM */
    /* PAM0's low nibble is reserved on the 82441FX: it maps nothing. */
    i440fx_pam_write(&f->pam, 0x59, 0x03);
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xF0000), 0);
    assert_int_equal(phys_read(&f->pm, 0xF0000, 1), rom_byte(0xF0000));
    /* The cache-enable bits (6 and 2) are reserved too: 0x77 is 0x33. */
    i440fx_pam_write(&f->pam, 0x5B, 0x77);
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xC8000), PAM_RE | PAM_WE);
    assert_int_equal(i440fx_pam_attr(&f->pam, 0xCC000), PAM_RE | PAM_WE);
}

static void test_pam_same_value_does_not_remap(void **state)
{
    struct fx *f = *state;
    i440fx_pam_write(&f->pam, 0x5C, 0x00);
    assert_int_equal(f->remaps, 0);
    i440fx_pam_write(&f->pam, 0x5C, 0x11);
    i440fx_pam_write(&f->pam, 0x5C, 0x11);
    assert_int_equal(f->remaps, 1);
}

/* --- On a whole machine, through PCI configuration cycles --- */

static void pci_cfg_write8(struct machine *m, int reg, uint8_t val)
{
    io_out(&m->io, 0xCF8, 4, 0x80000000u | (uint32_t)(reg & 0xFC));
    io_out(&m->io, (uint16_t)(0xCFC + (reg & 3)), 1, val);
}

static struct machine *bios_machine(uint8_t **img)
{
    *img = malloc(ROM_SIZE);
    assert_non_null(*img);
    for (uint32_t i = 0; i < ROM_SIZE; i++)
        (*img)[i] = (uint8_t)(0x40 + i / PM_PAGE_SIZE);
    struct machine_config cfg = { .mem_size = 16u << 20, .cpu = CPU_PENTIUM2, .bios = *img, .bios_size = ROM_SIZE };
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    assert_non_null(m);
    return m;
}

/* Runs `mov al, [es:0]` with ES based at 0xF0000 from code in low RAM; returns AL. */
static uint8_t cpu_read_f0000(struct machine *m)
{
    static const uint8_t code[] = { 0x26, 0xA0, 0x00, 0x00 };
    struct cpu *c = &m->cpu;
    phys_write_buf(&m->mem, 0x1000, code, sizeof(code));
    c->seg[S_CS] = (struct segreg){ 0, 0, 0xFFFF, AR_P | AR_S | 0xB };
    c->seg[S_ES] = (struct segreg){ 0xF000, 0xF0000, 0xFFFF, AR_P | AR_S | 0x3 };
    c->eip = 0x1000;
    c->r[R_EAX] = 0;
    assert_int_equal(cpu_step(c), CPU_EXIT_BUDGET);
    return (uint8_t)c->r[R_EAX];
}

static void test_machine_pam_write_is_seen_by_the_cpu_at_once(void **state)
{
    (void)state;
    uint8_t *img;
    struct machine *m = bios_machine(&img);
    assert_int_equal(cpu_read_f0000(m), 0x50); /* ROM page 16 of 32: fills the TLB */
    pci_cfg_write8(m, 0x59, 0x30);
    assert_int_equal(cpu_read_f0000(m), 0x00); /* fresh DRAM, not the stale ROM translation */
    phys_write(&m->mem, 0xF0000, 1, 0x5A);
    pci_cfg_write8(m, 0x59, 0x10);
    assert_int_equal(cpu_read_f0000(m), 0x5A);
    /* A reset puts the PAM registers back to 0: the ROM answers again, the DRAM keeps its copy. */
    pc_board_reset(m);
    assert_int_equal(cpu_read_f0000(m), 0x50);
    pci_cfg_write8(m, 0x59, 0x10);
    assert_int_equal(cpu_read_f0000(m), 0x5A);
    /* The high copy at the top of 4 GiB is never affected. */
    assert_int_equal(phys_read(&m->mem, 0xFFFF0000u, 1), 0x50);
    machine_destroy(m);
    free(img);
}

static void test_machine_pam_registers_read_back(void **state)
{
    (void)state;
    uint8_t *img;
    struct machine *m = bios_machine(&img);
    pci_cfg_write8(m, 0x5A, 0xFF);
    io_out(&m->io, 0xCF8, 4, 0x80000058u);
    assert_int_equal(io_in(&m->io, 0xCFE, 1), 0x33); /* reserved bits read as 0 */
    machine_destroy(m);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_power_on_routes_the_bios_area_to_rom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_disabled_reads_rom_and_drops_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_read_only_reads_dram_and_drops_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_write_only_reads_rom_and_writes_dram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_read_write_is_plain_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_segments_and_reserved_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pam_same_value_does_not_remap, setup, teardown),
        cmocka_unit_test(test_machine_pam_write_is_seen_by_the_cpu_at_once),
        cmocka_unit_test(test_machine_pam_registers_read_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of the guest physical address space (mem/physmem.c): unaligned and page-crossing
 * accesses, RAM/MMIO boundaries, ROM, unmapped space, the A20 gate, the 640K-1M hole and lazily
 * committed RAM. PC memory map per the IBM PC/AT reference; A20 per Intel SDM Vol. 3A §21.33. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../mem/physmem.h"

#define MiB (1024u * 1024u)

/* An MMIO device that logs every access and reads back 0xA0 + offset per byte. */
struct mmio_log {
    int n;
    struct { int write; uint32_t addr; int size; uint32_t val; } e[16];
};

static uint32_t log_read(void *opaque, uint32_t addr, int size)
{
    struct mmio_log *l = opaque;
    if (l->n < 16)
        l->e[l->n] = (typeof(l->e[0])){ 0, addr, size, 0 };
    l->n++;
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= ((0xA0u + addr + (uint32_t)i) & 0xFF) << (8 * i);
    return v;
}

static void log_write(void *opaque, uint32_t addr, int size, uint32_t val)
{
    struct mmio_log *l = opaque;
    if (l->n < 16)
        l->e[l->n] = (typeof(l->e[0])){ 1, addr, size, val };
    l->n++;
}

static const struct mmio_ops log_ops = { log_read, log_write };

static struct physmem *new_mem(uint64_t size)
{
    struct physmem *pm = calloc(1, sizeof(*pm));
    assert_non_null(pm);
    assert_int_equal(physmem_init(pm, size), 0);
    return pm;
}

static void free_mem(struct physmem *pm)
{
    physmem_free(pm);
    free(pm);
}

static void test_unaligned(void **state)
{
    (void)state;
    struct physmem *pm = new_mem(16 * MiB);
    phys_write(pm, 0x1001, 4, 0x44332211u);
    assert_int_equal(phys_read(pm, 0x1001, 1), 0x11);
    assert_int_equal(phys_read(pm, 0x1004, 1), 0x44);
    assert_int_equal(phys_read(pm, 0x1002, 2), 0x3322);
    assert_int_equal(phys_read(pm, 0x1001, 4), 0x44332211u);
    assert_int_equal(phys_read(pm, 0x1000, 4), 0x33221100u); /* little-endian, byte 0x1000 still 0 */
    phys_write(pm, 0x1003, 2, 0xBEEF);
    assert_int_equal(phys_read(pm, 0x1001, 4), 0xBEEF2211u);
    free_mem(pm);
}

static void test_page_crossing_ram(void **state)
{
    (void)state;
    struct physmem *pm = new_mem(16 * MiB);
    phys_write(pm, 0x1FFE, 4, 0xDDCCBBAAu); /* two bytes in each page */
    assert_int_equal(phys_read(pm, 0x1FFE, 1), 0xAA);
    assert_int_equal(phys_read(pm, 0x1FFF, 1), 0xBB);
    assert_int_equal(phys_read(pm, 0x2000, 1), 0xCC);
    assert_int_equal(phys_read(pm, 0x2001, 1), 0xDD);
    assert_int_equal(phys_read(pm, 0x1FFE, 4), 0xDDCCBBAAu);
    assert_int_equal(phys_read(pm, 0x1FFF, 2), 0xCCBB);
    phys_write(pm, 0x1FFF, 2, 0x2211);
    assert_int_equal(phys_read(pm, 0x1FFE, 4), 0xDD2211AAu);
    /* A buffer copy across several pages, high memory included. */
    uint8_t buf[10000], back[10000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    phys_write_buf(pm, 0x200FF0, buf, sizeof(buf));
    phys_read_buf(pm, 0x200FF0, back, sizeof(back));
    assert_memory_equal(buf, back, sizeof(buf));
    /* The host pointers of neighbouring pages are contiguous views of the same RAM. */
    uint8_t *p = phys_host_ptr(pm, 0x2000, 1);
    assert_non_null(p);
    assert_int_equal(p[0], 0x22);
    free_mem(pm);
}

static void test_crossing_ram_into_mmio(void **state)
{
    (void)state;
    struct physmem *pm = new_mem(16 * MiB);
    struct mmio_log log = { 0 };
    assert_int_equal(physmem_map_mmio(pm, 0x400000, 0x1000, &log_ops, &log), 0);

    /* Inside the region: one access of the full size at the region-relative offset. */
    assert_int_equal(phys_read(pm, 0x400010, 4), 0xB3B2B1B0u);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.e[0].addr, 0x10);
    assert_int_equal(log.e[0].size, 4);
    phys_write(pm, 0x400020, 2, 0x1234);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.e[1].write, 1);
    assert_int_equal(log.e[1].addr, 0x20);
    assert_int_equal(log.e[1].size, 2);
    assert_int_equal(log.e[1].val, 0x1234);
    assert_null(phys_host_ptr(pm, 0x400000, 0));

    /* A dword at 0x3FFFFE: two bytes of RAM, then the first two bytes of the device. */
    log.n = 0;
    phys_write(pm, 0x3FFFFE, 4, 0x44332211u);
    assert_int_equal(phys_read(pm, 0x3FFFFE, 1), 0x11);
    assert_int_equal(phys_read(pm, 0x3FFFFF, 1), 0x22);
    int writes = 0;
    uint32_t seen = 0;
    for (int i = 0; i < log.n && i < 16; i++) {
        if (!log.e[i].write)
            continue;
        /* however the bytes are split, they land at offsets 0 and 1 with the right values */
        for (int b = 0; b < log.e[i].size; b++)
            seen |= ((log.e[i].val >> (8 * b)) & 0xFF) << (8 * (log.e[i].addr + (uint32_t)b));
        writes++;
    }
    assert_true(writes >= 1);
    assert_int_equal(seen, 0x4433);
    /* and the read back: RAM bytes, then the device's 0xA0, 0xA1 */
    assert_int_equal(phys_read(pm, 0x3FFFFE, 4), 0xA1A02211u);
    /* the RAM page below was not disturbed past the boundary */
    assert_int_equal(phys_read(pm, 0x3FFFFC, 2), 0);

    /* The other way round: the device's last byte, then RAM. */
    assert_int_equal(physmem_map_mmio(pm, 0x500000, 0x1000, &log_ops, &log), 0);
    phys_write(pm, 0x501000, 1, 0x77);
    assert_int_equal(phys_read(pm, 0x500FFF, 2), 0x77u << 8 | ((0xA0u + 0xFFF) & 0xFF));
    free_mem(pm);
}

static void test_rom_writes_dropped(void **state)
{
    (void)state;
    struct physmem *pm = new_mem(16 * MiB);
    uint8_t *rom = aligned_alloc(PM_PAGE_SIZE, 2 * PM_PAGE_SIZE);
    assert_non_null(rom);
    for (uint32_t i = 0; i < 2 * PM_PAGE_SIZE; i++)
        rom[i] = (uint8_t)i;
    assert_int_equal(physmem_map_rom(pm, 0xE0000, rom, 2 * PM_PAGE_SIZE), 0);
    assert_int_equal(phys_read(pm, 0xE0004, 4), 0x07060504u);
    phys_write(pm, 0xE0004, 4, 0xFFFFFFFFu);
    phys_write(pm, 0xE0FFF, 2, 0); /* crossing between the two ROM pages */
    assert_int_equal(phys_read(pm, 0xE0004, 4), 0x07060504u);
    assert_int_equal(phys_read(pm, 0xE0FFF, 2), 0x00FF);
    assert_int_equal(rom[4], 4); /* the shared host buffer is never written */
    assert_non_null(phys_host_ptr(pm, 0xE0000, 0));
    assert_null(phys_host_ptr(pm, 0xE0000, 1));
    /* A word spanning the ROM's end and the unmapped hole above it. */
    assert_int_equal(phys_read(pm, 0xE1FFF, 2), 0xFFFF);
    assert_int_equal(physmem_map_rom(pm, 0xE0001, rom, PM_PAGE_SIZE), -1); /* unaligned base */
    free_mem(pm);
    free(rom);
}

static void test_unmapped_reads_all_ones(void **state)
{
    (void)state;
    struct physmem *pm = new_mem(16 * MiB);
    uint32_t hole = 0x10000000u; /* far above the 16 MiB of RAM */
    assert_int_equal(phys_read(pm, hole, 1), 0xFF);
    assert_int_equal(phys_read(pm, hole, 2), 0xFFFF);
    assert_int_equal(phys_read(pm, hole, 4), 0xFFFFFFFFu);
    phys_write(pm, hole, 4, 0); /* dropped, no crash */
    assert_int_equal(phys_read(pm, hole, 4), 0xFFFFFFFFu);
    assert_null(phys_host_ptr(pm, hole, 0));
    /* The last RAM page and the first unmapped one. */
    phys_write(pm, 16 * MiB - 2, 2, 0x1234);
    assert_int_equal(phys_read(pm, 16 * MiB - 2, 4), 0xFFFF1234u);
    /* Top of the 4 GiB space (where a BIOS would be mapped) is empty here. */
    assert_int_equal(phys_read(pm, 0xFFFFFFFCu, 4), 0xFFFFFFFFu);
    assert_int_equal(phys_read(pm, 0xFFFFFFFFu, 1), 0xFF);
    free_mem(pm);
}

static void test_a20_gate(void **state)
{
    (void)state;
    struct physmem *pm = new_mem(16 * MiB);
    phys_write(pm, 0x100, 4, 0x11111111u);
    phys_write(pm, 0x100100, 4, 0x22222222u);
    physmem_set_a20(pm, 0);
    assert_int_equal(phys_read(pm, 0x100100, 4), 0x11111111u); /* 1 MiB + x aliases x */
    phys_write(pm, 0x100104, 2, 0xABCD);
    assert_int_equal(phys_read(pm, 0x104, 2), 0xABCD);
    assert_int_equal(phys_read(pm, 0x300100, 4), phys_read(pm, 0x200100, 4)); /* only bit 20 */
    assert_ptr_equal(phys_host_ptr(pm, 0x100100, 1), phys_host_ptr(pm, 0x100, 1));
    /* The 8086 wrap: a word at 0xFFFFF ends at 0x100000, which is byte 0 again */
    phys_write(pm, 0, 1, 0x5A);
    assert_int_equal(phys_read(pm, 0xFFFFF, 2), 0x5AFF); /* 0xFFFFF is the hole, 0x100000 is byte 0 */
    physmem_set_a20(pm, 1);
    assert_int_equal(phys_read(pm, 0x100100, 4), 0x22222222u);
    assert_int_equal(phys_read(pm, 0x100, 4), 0x11111111u);
    free_mem(pm);
}

static void test_low_hole_not_ram(void **state)
{
    (void)state;
    struct physmem *pm = new_mem(16 * MiB);
    phys_write(pm, 0x9FFFC, 4, 0x12345678u); /* the last dword of conventional memory */
    assert_int_equal(phys_read(pm, 0x9FFFC, 4), 0x12345678u);
    for (uint32_t a = 0xA0000; a < 0x100000; a += 0x8000) {
        phys_write(pm, a, 4, 0);
        assert_int_equal(phys_read(pm, a, 4), 0xFFFFFFFFu);
        assert_null(phys_host_ptr(pm, a, 0));
    }
    assert_int_equal(phys_read(pm, 0x9FFFE, 4), 0xFFFF1234u); /* RAM, then the VGA window */
    phys_write(pm, 0x100000, 4, 0xCAFEF00Du);              /* extended memory starts at 1 MiB */
    assert_int_equal(phys_read(pm, 0x100000, 4), 0xCAFEF00Du);
    /* physmem_map_ram can back the window later (e.g. VGA RAM). */
    uint8_t *vram = aligned_alloc(PM_PAGE_SIZE, PM_PAGE_SIZE);
    assert_non_null(vram);
    memset(vram, 0, PM_PAGE_SIZE);
    assert_int_equal(physmem_map_ram(pm, 0xA0000, vram, PM_PAGE_SIZE), 0);
    phys_write(pm, 0xA0010, 2, 0x0741);
    assert_int_equal(vram[0x10], 0x41);
    assert_int_equal(phys_read(pm, 0xA1000, 1), 0xFF); /* the next page is still unbacked */
    free_mem(pm);
    free(vram);
}

static void test_lazy_ram(void **state)
{
    (void)state;
    /* 3 GiB must be creatable on a small host: RAM is reserved, and committed on first touch. */
    struct physmem *pm = new_mem(3072ull * MiB);
    assert_int_equal(pm->ram_size, 3072ull * MiB);
    uint32_t top = 0xC0000000u - 4;
    assert_int_equal(phys_read(pm, top, 4), 0); /* untouched RAM reads zero */
    phys_write(pm, top, 4, 0x600DF00Du);
    assert_int_equal(phys_read(pm, top, 4), 0x600DF00Du);
    assert_int_equal(phys_read(pm, 0xC0000000u, 1), 0xFF); /* past the end: nothing */
    phys_write(pm, 0x80000000u, 1, 1);
    assert_int_equal(phys_read(pm, 0x80000000u, 1), 1);
    free_mem(pm);

    struct physmem bad;
    assert_int_equal(physmem_init(&bad, 512 * 1024), -1);      /* below 1 MiB */
    assert_int_equal(physmem_init(&bad, 0x100000000ull), -1); /* the whole 4 GiB: no room for ROM */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unaligned),
        cmocka_unit_test(test_page_crossing_ram),
        cmocka_unit_test(test_crossing_ram_into_mmio),
        cmocka_unit_test(test_rom_writes_dropped),
        cmocka_unit_test(test_unmapped_reads_all_ones),
        cmocka_unit_test(test_a20_gate),
        cmocka_unit_test(test_low_hole_not_ram),
        cmocka_unit_test(test_lazy_ram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Guest physical address space: RAM, ROM and MMIO on a 4 KiB page map, and the A20 gate.
 * PC memory map per the IBM PC/AT technical reference; A20 per Intel SDM Vol. 3A §21.33. */
#include "physmem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define LOW_RAM_TOP 0xA0000u  /* 640 KiB: the VGA window and ROMs sit above */
#define HIGH_RAM_BASE 0x100000u
#define RAM_LIMIT 0xFEC00000u /* leave room for the IOAPIC, LAPIC and BIOS ROM at the top */

int physmem_init(struct physmem *pm, uint64_t ram_size)
{
    memset(pm, 0, sizeof(*pm));
    if (ram_size < HIGH_RAM_BASE || ram_size > RAM_LIMIT) {
        errno = EINVAL;
        return -1;
    }
    ram_size = (ram_size + PM_PAGE_SIZE - 1) & ~(uint64_t)(PM_PAGE_SIZE - 1);
    /* MAP_NORESERVE: the guest's RAM costs host memory only where the guest touches it. */
    void *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    if (ram == MAP_FAILED)
        return -1;
    /* 2 MiB pages where the host has them (as QEMU asks for its RAM): the guest's accesses then
     * cost the host far fewer TLB misses; a touched 2 MiB is then committed whole. */
    madvise(ram, ram_size, MADV_HUGEPAGE);
    void *map = mmap(NULL, PM_PAGES * sizeof(uintptr_t), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        munmap(ram, ram_size);
        return -1;
    }
    pm->ram = ram;
    pm->ram_size = ram_size;
    pm->map = map;
    pm->a20_mask = 0xFFFFFFFFu;
    for (uint32_t a = 0; a < LOW_RAM_TOP; a += PM_PAGE_SIZE)
        pm->map[a >> PM_PAGE_BITS] = (uintptr_t)(pm->ram + a);
    for (uint64_t a = HIGH_RAM_BASE; a < ram_size; a += PM_PAGE_SIZE)
        pm->map[a >> PM_PAGE_BITS] = (uintptr_t)(pm->ram + a);
    return 0;
}

void physmem_free(struct physmem *pm)
{
    if (pm->ram)
        munmap(pm->ram, pm->ram_size);
    if (pm->map)
        munmap(pm->map, PM_PAGES * sizeof(uintptr_t));
    memset(pm, 0, sizeof(*pm));
}

static int check_range(uint32_t base, uint32_t size)
{
    if ((base | size) & (PM_PAGE_SIZE - 1) || size == 0 || (uint64_t)base + size > 0x100000000ull) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int physmem_map_rom(struct physmem *pm, uint32_t base, const uint8_t *data, uint32_t size)
{
    if (check_range(base, size) || ((uintptr_t)data & (PM_PAGE_SIZE - 1))) {
        errno = EINVAL;
        return -1;
    }
    for (uint32_t off = 0; off < size; off += PM_PAGE_SIZE)
        pm->map[(base + off) >> PM_PAGE_BITS] = (uintptr_t)(data + off) | PME_ROM;
    return 0;
}

int physmem_map_ram(struct physmem *pm, uint32_t base, uint8_t *host, uint32_t size)
{
    if (check_range(base, size) || ((uintptr_t)host & (PM_PAGE_SIZE - 1))) {
        errno = EINVAL;
        return -1;
    }
    for (uint32_t off = 0; off < size; off += PM_PAGE_SIZE)
        pm->map[(base + off) >> PM_PAGE_BITS] = (uintptr_t)(host + off);
    return 0;
}

int physmem_map_mmio(struct physmem *pm, uint32_t base, uint32_t size, const struct mmio_ops *ops,
                     void *opaque)
{
    if (check_range(base, size))
        return -1;
    if (pm->nmmio == PM_MAX_MMIO) {
        errno = ENOSPC;
        return -1;
    }
    int idx = pm->nmmio++;
    pm->mmio[idx] = (struct mmio_region){ base, size, ops, opaque };
    for (uint32_t off = 0; off < size; off += PM_PAGE_SIZE)
        pm->map[(base + off) >> PM_PAGE_BITS] = ((uintptr_t)idx << 2) | PME_MMIO;
    return 0;
}

void physmem_set_a20(struct physmem *pm, int enabled)
{
    pm->a20_mask = enabled ? 0xFFFFFFFFu : ~(1u << 20);
}

int physmem_set_code(struct physmem *pm, uint32_t addr, int on)
{
    uintptr_t *e = &pm->map[(addr & pm->a20_mask) >> PM_PAGE_BITS];
    if (*e == 0 || (*e & (PME_MMIO | PME_ROM)))
        return 0;
    *e = on ? *e | PME_CODE : *e & ~(uintptr_t)PME_CODE;
    return 1;
}

uint8_t *phys_host_ptr(struct physmem *pm, uint32_t addr, int writable)
{
    addr &= pm->a20_mask;
    uintptr_t e = pm->map[addr >> PM_PAGE_BITS];
    if (e == 0 || (e & PME_MMIO) || (writable && (e & (PME_ROM | PME_CODE))))
        return NULL;
    return (uint8_t *)(e & ~(uintptr_t)(PM_PAGE_SIZE - 1)) + (addr & (PM_PAGE_SIZE - 1));
}

/* One access that stays inside a page. */
static uint32_t read_in_page(struct physmem *pm, uint32_t addr, int size)
{
    uintptr_t e = pm->map[addr >> PM_PAGE_BITS];
    if (e & PME_MMIO) {
        struct mmio_region *r = &pm->mmio[e >> 2];
        return r->ops->read(r->opaque, addr - r->base, size);
    }
    if (e == 0)
        return size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    const uint8_t *p = (const uint8_t *)(e & ~(uintptr_t)(PM_PAGE_SIZE - 1)) + (addr & (PM_PAGE_SIZE - 1));
    switch (size) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    default: { uint32_t v; memcpy(&v, p, 4); return v; }
    }
}

static void write_in_page(struct physmem *pm, uint32_t addr, int size, uint32_t val)
{
    uintptr_t e = pm->map[addr >> PM_PAGE_BITS];
    if (e & PME_MMIO) {
        struct mmio_region *r = &pm->mmio[e >> 2];
        r->ops->write(r->opaque, addr - r->base, size, val);
        return;
    }
    if (e == 0 || (e & PME_ROM))
        return;
    uint8_t *p = (uint8_t *)(e & ~(uintptr_t)(PM_PAGE_SIZE - 1)) + (addr & (PM_PAGE_SIZE - 1));
    /* Before the store: the hook may want the old bytes (the JIT's --verify undo log). */
    if ((e & PME_CODE) && pm->code_write)
        pm->code_write(pm->code_write_opaque, addr, size);
    memcpy(p, &val, (size_t)size); /* little-endian host: the low bytes go first */
}

uint32_t phys_read(struct physmem *pm, uint32_t addr, int size)
{
    addr &= pm->a20_mask;
    if (((addr & (PM_PAGE_SIZE - 1)) + (uint32_t)size) <= PM_PAGE_SIZE)
        return read_in_page(pm, addr, size);
    /* A page-crossing access is two bus cycles on hardware too: assemble it byte by byte. */
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= read_in_page(pm, (addr + (uint32_t)i) & pm->a20_mask, 1) << (8 * i);
    return v;
}

void phys_write(struct physmem *pm, uint32_t addr, int size, uint32_t val)
{
    addr &= pm->a20_mask;
    if (((addr & (PM_PAGE_SIZE - 1)) + (uint32_t)size) <= PM_PAGE_SIZE) {
        write_in_page(pm, addr, size, val);
        return;
    }
    for (int i = 0; i < size; i++)
        write_in_page(pm, (addr + (uint32_t)i) & pm->a20_mask, 1, (val >> (8 * i)) & 0xFF);
}

/* Bulk copies go a page at a time through host pointers where RAM backs the page (loading a
 * kernel is megabytes), and byte by byte through the bus elsewhere. */
void phys_read_buf(struct physmem *pm, uint32_t addr, void *dst, size_t len)
{
    uint8_t *d = dst;
    while (len) {
        size_t chunk = PM_PAGE_SIZE - (addr & (PM_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        const uint8_t *p = phys_host_ptr(pm, addr, 0);
        if (p) {
            memcpy(d, p, chunk);
        } else {
            for (size_t i = 0; i < chunk; i++)
                d[i] = (uint8_t)phys_read(pm, addr + (uint32_t)i, 1);
        }
        d += chunk;
        addr += (uint32_t)chunk;
        len -= chunk;
    }
}

void phys_write_buf(struct physmem *pm, uint32_t addr, const void *src, size_t len)
{
    const uint8_t *s = src;
    while (len) {
        size_t chunk = PM_PAGE_SIZE - (addr & (PM_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        uint8_t *p = phys_host_ptr(pm, addr, 1);
        if (p) { /* NULL for code pages too: their bytes go through phys_write and code_write */
            memcpy(p, s, chunk);
        } else {
            for (size_t i = 0; i < chunk; i++)
                phys_write(pm, addr + (uint32_t)i, 1, s[i]);
        }
        s += chunk;
        addr += (uint32_t)chunk;
        len -= chunk;
    }
}

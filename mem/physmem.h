/* Guest physical address space: RAM, ROM and MMIO regions on a 4 KiB page map, plus the A20 gate.
 * Follows the PC memory map (IBM PC/AT technical reference; Intel SDM Vol. 3A §21.33 for A20).
 * Depends on nothing above mem/. */
#ifndef JITPC_MEM_PHYSMEM_H
#define JITPC_MEM_PHYSMEM_H

#include <stddef.h>
#include <stdint.h>

#define PM_PAGE_BITS 12
#define PM_PAGE_SIZE (1u << PM_PAGE_BITS)
#define PM_PAGES (1u << (32 - PM_PAGE_BITS)) /* the 4 GiB physical space of a P6 without PAE */

/* A device's view of an MMIO region: addr is the offset inside the region. */
struct mmio_ops {
    uint32_t (*read)(void *opaque, uint32_t addr, int size);
    void (*write)(void *opaque, uint32_t addr, int size, uint32_t val);
};

struct mmio_region {
    uint32_t base, size;
    const struct mmio_ops *ops;
    void *opaque;
};

#define PM_MAX_MMIO 32

/* Page-map entry: a 4 KiB-aligned host pointer with flag bits below it, or an MMIO index.
 * Zero means "nothing there": reads float high (0xFF), writes are dropped, as on an ISA bus. */
#define PME_ROM 1u  /* host-backed, read-only: writes are dropped */
#define PME_MMIO 2u /* (index << 2) | PME_MMIO, no host pointer */
/* On a RAM entry only (never with PME_MMIO, whose index bits overlap it): the page holds bytes
 * that jit/ translated. Its writable host pointer is withheld (phys_host_ptr), so the TLB sends
 * stores to the slow path, and every store to it calls code_write (QEMU's "has code" bit). */
#define PME_CODE 4u

struct physmem {
    uint8_t *ram;           /* guest RAM, mapped lazily: pages commit on first touch */
    uint64_t ram_size;      /* bytes of RAM at physical 0 (minus the 640K-1M hole) */
    uintptr_t *map;         /* PM_PAGES entries, see PME_* */
    uint32_t a20_mask;      /* ~(1 << 20) while the A20 gate is closed, else all ones */
    struct mmio_region mmio[PM_MAX_MMIO];
    int nmmio;
    /* Called just before a CPU or device store to a page marked PME_CODE (installed by jit/). */
    void (*code_write)(void *opaque, uint32_t paddr, int size);
    void *code_write_opaque;
};

/* Returns 0, or -1 with errno set. RAM below 640 KiB and from 1 MiB up; 0xA0000-0xFFFFF is left
 * for the VGA window and ROMs. */
int physmem_init(struct physmem *pm, uint64_t ram_size);
void physmem_free(struct physmem *pm);

/* Maps a read-only host buffer (shared between machines: never written) at base. */
int physmem_map_rom(struct physmem *pm, uint32_t base, const uint8_t *data, uint32_t size);
/* Maps RAM pages (host-backed, writable) at base; used to back the 0xA0000-0xFFFFF window. */
int physmem_map_ram(struct physmem *pm, uint32_t base, uint8_t *host, uint32_t size);
int physmem_map_mmio(struct physmem *pm, uint32_t base, uint32_t size, const struct mmio_ops *ops,
                     void *opaque);

void physmem_set_a20(struct physmem *pm, int enabled);

uint32_t phys_read(struct physmem *pm, uint32_t addr, int size);
void phys_write(struct physmem *pm, uint32_t addr, int size, uint32_t val);
void phys_read_buf(struct physmem *pm, uint32_t addr, void *dst, size_t len);
void phys_write_buf(struct physmem *pm, uint32_t addr, const void *src, size_t len);

/* Marks (on = 1) or unmarks the RAM page holding addr as holding translated code (PME_CODE);
 * ROM, MMIO and unmapped pages are left alone. Returns 1 when the page is RAM. */
int physmem_set_code(struct physmem *pm, uint32_t addr, int on);

/* Host pointer for a byte of RAM or ROM, or NULL (MMIO, unmapped). writable selects RAM only,
 * and not a page marked PME_CODE (its stores must go through phys_write). */
uint8_t *phys_host_ptr(struct physmem *pm, uint32_t addr, int writable);

#endif

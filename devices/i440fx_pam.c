/* The i440FX's Programmable Attribute Map (PAM0-6, config 59h-5Fh of the 82441FX PMC): per segment
 * of 0xC0000-0xFFFFF, RE sends reads and WE sends writes to DRAM instead of the PCI bus, so firmware
 * can copy itself to RAM ("shadowing") and then write-protect the copy. */
#include "i440fx_pam.h"

#include <errno.h>
#include <string.h>

/* An unclaimed PCI memory read floats to all ones. Read-only and shared: never written. */
static const uint8_t floating_bus[PM_PAGE_SIZE] __attribute__((aligned(PM_PAGE_SIZE))) = {
    [0 ... PM_PAGE_SIZE - 1] = 0xFF,
};

/* Write-only pages (RE=0, WE=1) are the one mode a page-map entry cannot express, since reads and
 * writes go to different places: they go through this MMIO window covering the whole PAM range. */
static uint32_t wo_read(void *opaque, uint32_t addr, int size)
{
    struct i440fx_pam *p = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        uint32_t a = addr + (uint32_t)i;
        const uint8_t *src = p->bus[a / PM_PAGE_SIZE];
        v |= (uint32_t)(src ? src[a % PM_PAGE_SIZE] : 0xFF) << (8 * i);
    }
    return v;
}

static void wo_write(void *opaque, uint32_t addr, int size, uint32_t val)
{
    struct i440fx_pam *p = opaque;
    /* physmem splits page-crossing accesses, and the window is page-aligned: addr + size fits. */
    for (int i = 0; i < size; i++)
        p->dram[addr + (uint32_t)i] = (uint8_t)(val >> (8 * i));
}

static const struct mmio_ops wo_ops = { wo_read, wo_write };

int i440fx_pam_init(struct i440fx_pam *p, struct physmem *mem, void (*remapped)(void *opaque), void *opaque)
{
    memset(p, 0, sizeof(*p));
    if (!mem->ram || mem->ram_size < PAM_BASE + PAM_SIZE) {
        errno = EINVAL;
        return -1;
    }
    p->mem = mem;
    /* The DRAM behind the window is the guest RAM at the same addresses, which the page map leaves
     * unmapped at power-on; it keeps its contents across a reset, as DRAM does. */
    p->dram = mem->ram + PAM_BASE;
    for (uint32_t i = 0; i < PAM_PAGES; i++)
        p->bus[i] = phys_host_ptr(mem, PAM_BASE + i * PM_PAGE_SIZE, 0);
    p->mmio_index = -1;
    p->remapped = remapped;
    p->remapped_opaque = opaque;
    return 0;
}

/* Points one page of the window where its attribute routes it. */
static void map_page(struct i440fx_pam *p, uint32_t i)
{
    struct physmem *pm = p->mem;
    uint32_t addr = PAM_BASE + i * PM_PAGE_SIZE;
    uint8_t *dram = p->dram + i * PM_PAGE_SIZE;
    switch (p->attr[i]) {
    case 0: /* disabled: both directions reach the PCI bus, where a ROM ignores writes */
        physmem_map_rom(pm, addr, p->bus[i] ? p->bus[i] : floating_bus, PM_PAGE_SIZE);
        break;
    case PAM_RE: /* read-only: DRAM is read, writes go to the PCI bus and are lost */
        physmem_map_rom(pm, addr, dram, PM_PAGE_SIZE);
        break;
    case PAM_WE:
        /* Write-only: the page-map entry is set directly in the encoding physmem.h documents,
         * (index << 2) | PME_MMIO, because physmem has no call to point a page at an existing
         * region (each physmem_map_mmio takes a new slot). */
        pm->map[addr >> PM_PAGE_BITS] = ((uintptr_t)p->mmio_index << 2) | PME_MMIO;
        break;
    default: /* read/write: plain RAM */
        physmem_map_ram(pm, addr, dram, PM_PAGE_SIZE);
        break;
    }
}

/* The window's pages a PAM register's field covers: PAM0 bits 5:4 the 64 KiB BIOS area at
 * 0xF0000 (its low nibble is reserved on the 82441FX); PAMn (n = 1-6), bits 1:0 the 16 KiB at
 * 0xC0000 + (n - 1) * 32 KiB and bits 5:4 the 16 KiB after it. */
static void field_pages(int reg, int hi, uint32_t *first, uint32_t *count)
{
    int n = reg - PAM_REG0;
    if (n == 0) {
        *first = (0xF0000u - PAM_BASE) / PM_PAGE_SIZE;
        *count = 0x10000u / PM_PAGE_SIZE;
    } else {
        *first = ((uint32_t)(n - 1) * 0x8000u + (hi ? 0x4000u : 0)) / PM_PAGE_SIZE;
        *count = 0x4000u / PM_PAGE_SIZE;
    }
}

void i440fx_pam_write(struct i440fx_pam *p, int reg, uint8_t val)
{
    if (reg < PAM_REG0 || reg >= PAM_REG0 + PAM_NREGS)
        return;
    p->regs[reg - PAM_REG0] = val;
    int changed = 0, need_wo = 0;
    for (int hi = reg == PAM_REG0; hi < 2; hi++) {
        uint8_t attr = (uint8_t)((val >> (hi ? 4 : 0)) & (PAM_RE | PAM_WE));
        uint32_t first, count;
        field_pages(reg, hi, &first, &count);
        for (uint32_t i = first; i < first + count; i++) {
            changed |= p->attr[i] != attr;
            need_wo |= attr == PAM_WE;
            p->attr[i] = attr;
        }
    }
    if (!changed)
        return;
    if (need_wo && p->mmio_index < 0) {
        /* Taking the MMIO slot maps the whole window to it: every page is put back below. */
        int idx = p->mem->nmmio;
        if (physmem_map_mmio(p->mem, PAM_BASE, PAM_SIZE, &wo_ops, p) == 0)
            p->mmio_index = idx;
    }
    /* Until the first change the page map holds what the machine mapped (the BIOS alias, or
     * nothing), which is the power-on routing; from then on the PAM owns the window. Remapping
     * all 64 pages is cheap next to the TLB flush that follows. */
    for (uint32_t i = 0; i < PAM_PAGES; i++) {
        if (p->attr[i] == PAM_WE && p->mmio_index < 0)
            p->attr[i] = 0; /* no MMIO slot left (not on the PC board): the segment stays on PCI */
        map_page(p, i);
    }
    if (p->remapped)
        p->remapped(p->remapped_opaque);
}

unsigned i440fx_pam_attr(const struct i440fx_pam *p, uint32_t addr)
{
    if (addr < PAM_BASE || addr - PAM_BASE >= PAM_SIZE)
        return 0;
    return p->attr[(addr - PAM_BASE) / PM_PAGE_SIZE];
}

/* The i440FX's Programmable Attribute Map: routes reads and writes to 0xC0000-0xFFFFF either to
 * the DRAM behind that window (shadow RAM) or to the PCI bus, where the BIOS ROM answers
 * (Intel 82441FX PMC datasheet, PAM[6:0] registers at 59h-5Fh; the same encoding as the 440LX/GX). */
#ifndef JITPC_DEVICES_I440FX_PAM_H
#define JITPC_DEVICES_I440FX_PAM_H

#include <stdint.h>

#include "../mem/physmem.h"

#define PAM_BASE 0xC0000u
#define PAM_SIZE 0x40000u
#define PAM_PAGES (PAM_SIZE / PM_PAGE_SIZE)
#define PAM_REG0 0x59 /* PAM0: 0xF0000-0xFFFFF in bits 5:4 */
#define PAM_NREGS 7   /* PAM1-6: two 16 KiB segments each, 0xC0000-0xEFFFF */

/* A segment's attribute: the RE (read enable) and WE (write enable) bits of its PAM field. */
#define PAM_RE 1u /* reads go to DRAM, else to the PCI bus */
#define PAM_WE 2u /* writes go to DRAM, else to the PCI bus */

struct i440fx_pam {
    struct physmem *mem;
    uint8_t *dram;                  /* the RAM behind the window: guest RAM at 0xC0000 */
    const uint8_t *bus[PAM_PAGES];  /* the PCI side of each page (BIOS ROM alias), or NULL */
    uint8_t attr[PAM_PAGES];        /* PAM_RE | PAM_WE per 4 KiB page */
    uint8_t regs[PAM_NREGS];        /* PAM0-6 as last written */
    int mmio_index;                 /* physmem MMIO slot for write-only pages, -1 until needed */
    void (*remapped)(void *opaque); /* the page map changed: cached translations are stale */
    void *remapped_opaque;
};

/* Records what the PCI side holds in the window now (the firmware's low alias, which the machine
 * maps before this), with every segment routed to it as at power-on. The page map is not touched
 * until an attribute changes. remapped (may be NULL) is called after each change of the map.
 * Returns 0, or -1 (the guest RAM does not reach 1 MiB). */
int i440fx_pam_init(struct i440fx_pam *p, struct physmem *mem, void (*remapped)(void *opaque), void *opaque);
/* A PAM register (0x59-0x5F) took a new value: remaps the segments whose attributes changed. */
void i440fx_pam_write(struct i440fx_pam *p, int reg, uint8_t val);
/* The attribute (PAM_RE | PAM_WE) that applies at physical address addr in the window. */
unsigned i440fx_pam_attr(const struct i440fx_pam *p, uint32_t addr);

#endif

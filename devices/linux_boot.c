/* The Linux/x86 boot protocol, 32-bit entry (Documentation/arch/x86/boot.rst in the kernel tree):
 * the protected-mode kernel at 1 MiB, a zero page with the setup header, e820 map, command line
 * and initrd, and the CPU in flat protected mode at code32_start with ESI pointing at the page. */
#include <stdio.h>
#include <string.h>

#include "acpi_tables.h"
#include "kernel_boot.h"
#include "machine.h"

/* Where things go in guest memory (all below 640 KiB except the kernel and initrd). */
#define GDT_ADDR 0x00500u
#define ZERO_PAGE 0x10000u
#define CMDLINE_ADDR 0x20000u
#define CMDLINE_MAX 0x10000u
#define KERNEL_ADDR 0x100000u

/* Offsets in the zero page (struct boot_params) and in the setup header within it. */
#define BP_E820_ENTRIES 0x1E8
#define BP_SETUP_SECTS 0x1F1
#define BP_HEADER_MAGIC 0x202
#define BP_VERSION 0x206
#define BP_TYPE_OF_LOADER 0x210
#define BP_LOADFLAGS 0x211
#define BP_CODE32_START 0x214
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21C
#define BP_CMD_LINE_PTR 0x228
#define BP_INITRD_ADDR_MAX 0x22C
#define BP_CMDLINE_SIZE 0x238
#define BP_E820_TABLE 0x2D0
#define LOADED_HIGH 0x01

#define BOOT_CS 0x10
#define BOOT_DS 0x18

static uint32_t le32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

int linux_is_bzimage(const uint8_t *k, size_t len)
{
    return len > 0x250 && !memcmp(k + BP_HEADER_MAGIC, "HdrS", 4);
}

static void e820_add(uint8_t *zp, uint64_t addr, uint64_t size, uint32_t type)
{
    uint8_t n = zp[BP_E820_ENTRIES];
    uint8_t *e = zp + BP_E820_TABLE + 20 * n;
    put64(e, addr);
    put64(e + 8, size);
    put32(e + 16, type);
    zp[BP_E820_ENTRIES] = (uint8_t)(n + 1);
}

/* The GDT the protocol asks for: __BOOT_CS (0x10) and __BOOT_DS (0x18), flat 4 GiB. */
static void write_boot_gdt(struct machine *m)
{
    static const uint8_t gdt[32] = {
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,
        0xFF, 0xFF, 0, 0, 0, 0x9B, 0xCF, 0, /* 0x10: code, base 0, limit 4 GiB, 32-bit */
        0xFF, 0xFF, 0, 0, 0, 0x93, 0xCF, 0, /* 0x18: data */
    };
    phys_write_buf(&m->mem, GDT_ADDR, gdt, sizeof(gdt));
    m->cpu.gdtr = (struct dtr){ GDT_ADDR, sizeof(gdt) - 1 };
}

int linux_boot(struct machine *m, const uint8_t *k, size_t len, const struct boot_file *initrd,
               const char *cmdline, char *err, size_t errlen)
{
    if (!linux_is_bzimage(k, len)) {
        snprintf(err, errlen, "not a Linux bzImage (no HdrS boot-protocol header)");
        return -1;
    }
    uint16_t version = le16(k + BP_VERSION);
    if (version < 0x0202 || !(k[BP_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "kernel boot protocol %u.%02u is too old (need a bzImage, 2.02 or later)",
                 version >> 8, version & 0xFF);
        return -1;
    }
    size_t setup_sects = k[BP_SETUP_SECTS] ? k[BP_SETUP_SECTS] : 4;
    size_t pm_off = (setup_sects + 1) * 512;
    uint64_t ram = m->mem.ram_size;
    if (pm_off >= len || KERNEL_ADDR + (len - pm_off) > ram) {
        snprintf(err, errlen, "kernel image is truncated or larger than guest memory");
        return -1;
    }
    size_t cmdlen = cmdline ? strlen(cmdline) : 0;
    uint32_t cmdline_max = version >= 0x0206 ? le32(k + BP_CMDLINE_SIZE) : 255;
    if (cmdlen > cmdline_max || cmdlen >= CMDLINE_MAX) {
        snprintf(err, errlen, "kernel command line is longer than the kernel accepts (%u bytes)", cmdline_max);
        return -1;
    }

    uint8_t zp[4096];
    memset(zp, 0, sizeof(zp));
    /* The setup header runs from 0x1F1 to the end given by the jump at 0x200 (boot.rst). */
    size_t hdr_end = 0x202 + k[0x201];
    if (hdr_end > len || hdr_end > 0x290)
        hdr_end = 0x290 < len ? 0x290 : len;
    memcpy(zp + BP_SETUP_SECTS, k + BP_SETUP_SECTS, hdr_end - BP_SETUP_SECTS);
    zp[BP_TYPE_OF_LOADER] = 0xFF; /* "undefined" loader ID */
    put32(zp + BP_CODE32_START, KERNEL_ADDR);
    put32(zp + BP_CMD_LINE_PTR, CMDLINE_ADDR);

    if (initrd && initrd->data) {
        uint64_t max = le32(k + BP_INITRD_ADDR_MAX);
        uint64_t top = ram < max + 1 ? ram : max + 1;
        uint64_t kernel_end = KERNEL_ADDR + (len - pm_off);
        if (initrd->size > top || ((top - initrd->size) & ~0xFFFull) < ((kernel_end + 0xFFFFF) & ~0xFFFFFull)) {
            snprintf(err, errlen, "initrd of %zu bytes does not fit in guest memory above the kernel", initrd->size);
            return -1;
        }
        uint32_t addr = (uint32_t)((top - initrd->size) & ~0xFFFull);
        phys_write_buf(&m->mem, addr, initrd->data, initrd->size);
        put32(zp + BP_RAMDISK_IMAGE, addr);
        put32(zp + BP_RAMDISK_SIZE, (uint32_t)initrd->size);
    }

    /* The memory map: conventional memory, the EBDA-sized hole and ROM area, then RAM from 1 MiB. */
    e820_add(zp, 0, 0x9FC00, 1);
    e820_add(zp, 0x9FC00, 0x400, 2);
    e820_add(zp, 0xF0000, 0x10000, 2);
    e820_add(zp, 0x100000, ram - 0x100000, 1);

    phys_write_buf(&m->mem, ZERO_PAGE, zp, sizeof(zp));
    phys_write_buf(&m->mem, CMDLINE_ADDR, cmdline ? cmdline : "", cmdlen + 1);
    phys_write_buf(&m->mem, KERNEL_ADDR, k + pm_off, len - pm_off);
    write_boot_gdt(m);
    /* ACPI tables in the e820-reserved BIOS segment, standing in for firmware (a --bios image
     * builds its own). */
    if (!m->bios_rom && acpi_tables_install(m, err, errlen))
        return -1;

    cpu_enter_flat32(&m->cpu, BOOT_CS, BOOT_DS, KERNEL_ADDR);
    for (int r = 0; r < 8; r++)
        m->cpu.r[r] = 0;
    m->cpu.r[R_ESI] = ZERO_PAGE;
    physmem_set_a20(&m->mem, 1);
    return 0;
}

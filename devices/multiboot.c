/* Multiboot v1 (the GNU Multiboot Specification 0.6.96): finds the header in the first 8 KiB,
 * loads the ELF segments (or the a.out-kludge range), places modules, command lines and the
 * information structure after the kernel, and enters it with EAX = 0x2BADB002, EBX = the info. */
#include <stdio.h>
#include <string.h>

#include "acpi_tables.h"
#include "kernel_boot.h"
#include "machine.h"

#define MB_MAGIC 0x1BADB002u
#define MB_BOOTLOADER_MAGIC 0x2BADB002u
#define MB_SEARCH 8192
#define MB_PAGE_ALIGN 0x00001u   /* modules on page boundaries */
#define MB_MEMORY_INFO 0x00002u  /* mem_* fields required */
#define MB_VIDEO_MODE 0x00004u   /* a video mode is requested: we run without a framebuffer */
#define MB_AOUT_KLUDGE 0x10000u  /* the header's address fields say where to load */

#define INFO_MEM 0x001u
#define INFO_CMDLINE 0x004u
#define INFO_MODS 0x008u
#define INFO_MMAP 0x040u
#define INFO_LOADER_NAME 0x200u

static uint32_t le32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* Offset of a valid header, or -1. */
static long find_header(const uint8_t *k, size_t len)
{
    size_t end = len < MB_SEARCH ? len : MB_SEARCH;
    for (size_t off = 0; off + 12 <= end; off += 4) {
        uint32_t magic = le32(k + off), flags = le32(k + off + 4), sum = le32(k + off + 8);
        if (magic == MB_MAGIC && magic + flags + sum == 0)
            return (long)off;
    }
    return -1;
}

int multiboot_detect(const uint8_t *k, size_t len)
{
    return find_header(k, len) >= 0;
}

/* Copies [src, src + filesz) to physical dst and zeroes up to memsz, inside guest RAM. */
static int load_range(struct machine *m, uint32_t dst, const uint8_t *src, uint32_t filesz, uint32_t memsz,
                      char *err, size_t errlen)
{
    if (memsz < filesz || (uint64_t)dst + memsz > m->mem.ram_size || dst < 0x100000u) {
        snprintf(err, errlen, "multiboot: segment at 0x%x+0x%x is outside guest RAM above 1 MiB", dst, memsz);
        return -1;
    }
    phys_write_buf(&m->mem, dst, src, filesz);
    static const uint8_t zeros[4096];
    for (uint32_t off = filesz; off < memsz;) {
        uint32_t n = memsz - off < sizeof(zeros) ? memsz - off : (uint32_t)sizeof(zeros);
        phys_write_buf(&m->mem, dst + off, zeros, n);
        off += n;
    }
    return 0;
}

/* ELF32 executable for i386 (System V ABI, Intel386 supplement): loads PT_LOAD segments at their
 * physical addresses; the entry point is translated to physical through its segment. */
static int load_elf(struct machine *m, const uint8_t *k, size_t len, uint32_t *entry, uint32_t *end,
                    char *err, size_t errlen)
{
    if (len < 52 || memcmp(k, "\177ELF", 4) || k[4] != 1 || k[5] != 1 || le16(k + 18) != 3) {
        snprintf(err, errlen, "multiboot: not a 32-bit little-endian i386 ELF file, and no address fields");
        return -1;
    }
    uint32_t phoff = le32(k + 28), e_entry = le32(k + 24);
    uint16_t phentsize = le16(k + 42), phnum = le16(k + 44);
    if (phentsize < 32 || (uint64_t)phoff + (uint64_t)phnum * phentsize > len) {
        snprintf(err, errlen, "multiboot: ELF program headers lie outside the file");
        return -1;
    }
    *entry = e_entry;
    *end = 0;
    int loaded = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = k + phoff + (size_t)i * phentsize;
        if (le32(ph) != 1) /* PT_LOAD */
            continue;
        uint32_t off = le32(ph + 4), vaddr = le32(ph + 8), paddr = le32(ph + 12);
        uint32_t filesz = le32(ph + 16), memsz = le32(ph + 20);
        if ((uint64_t)off + filesz > len) {
            snprintf(err, errlen, "multiboot: ELF segment %u runs past the end of the file", i);
            return -1;
        }
        if (load_range(m, paddr, k + off, filesz, memsz, err, errlen))
            return -1;
        if (e_entry >= vaddr && e_entry - vaddr < memsz)
            *entry = e_entry - vaddr + paddr;
        if (paddr + memsz > *end)
            *end = paddr + memsz;
        loaded++;
    }
    if (!loaded) {
        snprintf(err, errlen, "multiboot: the ELF file has no loadable segment");
        return -1;
    }
    return 0;
}

/* The a.out kludge (header flag 16): the file is loaded as one range from the header's fields. */
static int load_kludge(struct machine *m, const uint8_t *k, size_t len, long hoff, uint32_t *entry, uint32_t *end,
                       char *err, size_t errlen)
{
    if ((size_t)hoff + 32 > len) {
        snprintf(err, errlen, "multiboot: truncated header");
        return -1;
    }
    const uint8_t *h = k + hoff;
    uint32_t header_addr = le32(h + 12), load_addr = le32(h + 16), load_end = le32(h + 20);
    uint32_t bss_end = le32(h + 24);
    *entry = le32(h + 28);
    if (load_addr > header_addr || header_addr - load_addr > (uint32_t)hoff) {
        snprintf(err, errlen, "multiboot: header address fields are inconsistent");
        return -1;
    }
    size_t file_off = (size_t)hoff - (header_addr - load_addr);
    uint32_t filesz = load_end ? load_end - load_addr : (uint32_t)(len - file_off);
    if (load_end && load_end < load_addr) {
        snprintf(err, errlen, "multiboot: load_end_addr is below load_addr");
        return -1;
    }
    if (file_off + filesz > len) {
        snprintf(err, errlen, "multiboot: the load range runs past the end of the file");
        return -1;
    }
    uint32_t memsz = bss_end > load_addr + filesz ? bss_end - load_addr : filesz;
    if (load_range(m, load_addr, k + file_off, filesz, memsz, err, errlen))
        return -1;
    *end = load_addr + memsz;
    return 0;
}

/* Appends bytes at *cursor (in guest RAM below the top), returning their address. */
static uint32_t place(struct machine *m, uint32_t *cursor, const void *data, size_t len, uint32_t align)
{
    uint32_t addr = (*cursor + align - 1) & ~(align - 1);
    phys_write_buf(&m->mem, addr, data, len);
    *cursor = addr + (uint32_t)len;
    return addr;
}

int multiboot_boot(struct machine *m, const uint8_t *k, size_t len, const struct boot_file *mods, int nmods,
                   const char *cmdline, char *err, size_t errlen)
{
    long hoff = find_header(k, len);
    if (hoff < 0) {
        snprintf(err, errlen, "no Multiboot header in the first 8 KiB");
        return -1;
    }
    uint32_t flags = le32(k + hoff + 4);
    if (flags & 0xFFF8u) {
        snprintf(err, errlen, "multiboot: the kernel requires features (flags 0x%x) jitpc does not provide", flags);
        return -1;
    }
    uint32_t entry, end;
    int r = (flags & MB_AOUT_KLUDGE) ? load_kludge(m, k, len, hoff, &entry, &end, err, errlen)
                                     : load_elf(m, k, len, &entry, &end, err, errlen);
    if (r)
        return -1;

    /* Everything else goes after the kernel, page-aligned, as the module alignment flag wants. */
    uint32_t cur = (end + 0xFFF) & ~0xFFFu;
    uint64_t ram = m->mem.ram_size;
    uint64_t need = 0x10000;
    for (int i = 0; i < nmods; i++)
        need += mods[i].size + 0x1000 + (mods[i].args ? strlen(mods[i].args) : 0);
    if (cur + need + (cmdline ? strlen(cmdline) : 0) > ram) {
        snprintf(err, errlen, "multiboot: kernel and modules do not fit in guest memory");
        return -1;
    }

    uint8_t info[88];
    memset(info, 0, sizeof(info));
    uint32_t iflags = INFO_MEM | INFO_CMDLINE | INFO_MMAP | INFO_LOADER_NAME;
    put32(info + 4, 640);                                   /* mem_lower, KiB */
    put32(info + 8, (uint32_t)((ram - 0x100000) >> 10));    /* mem_upper, KiB above 1 MiB */
    put32(info + 16, place(m, &cur, cmdline ? cmdline : "", (cmdline ? strlen(cmdline) : 0) + 1, 1));
    if (nmods > 0) {
        uint8_t entry16[16];
        uint32_t list_addr = 0;
        uint32_t addrs[64][3];
        if (nmods > 64) {
            snprintf(err, errlen, "multiboot: at most 64 modules");
            return -1;
        }
        for (int i = 0; i < nmods; i++) {
            addrs[i][0] = place(m, &cur, mods[i].data, mods[i].size, 0x1000);
            addrs[i][1] = addrs[i][0] + (uint32_t)mods[i].size;
            const char *a = mods[i].args ? mods[i].args : "";
            addrs[i][2] = place(m, &cur, a, strlen(a) + 1, 1);
        }
        for (int i = 0; i < nmods; i++) {
            put32(entry16, addrs[i][0]);
            put32(entry16 + 4, addrs[i][1]);
            put32(entry16 + 8, addrs[i][2]);
            put32(entry16 + 12, 0);
            uint32_t a = place(m, &cur, entry16, sizeof(entry16), i == 0 ? 16 : 1);
            if (i == 0)
                list_addr = a;
        }
        iflags |= INFO_MODS;
        put32(info + 20, (uint32_t)nmods);
        put32(info + 24, list_addr);
    }
    /* Memory map entries: size (20, not counting itself), base, length, type. */
    uint8_t mmap[3][24];
    const uint64_t regions[3][3] = { { 0, 0x9FC00, 1 }, { 0xF0000, 0x10000, 2 }, { 0x100000, ram - 0x100000, 1 } };
    for (int i = 0; i < 3; i++) {
        put32(mmap[i], 20);
        for (int b = 0; b < 8; b++) {
            mmap[i][4 + b] = (uint8_t)(regions[i][0] >> (8 * b));
            mmap[i][12 + b] = (uint8_t)(regions[i][1] >> (8 * b));
        }
        put32(mmap[i] + 20, (uint32_t)regions[i][2]);
    }
    put32(info + 44, sizeof(mmap));
    put32(info + 48, place(m, &cur, mmap, sizeof(mmap), 8));
    put32(info + 64, place(m, &cur, "jitpc", 6, 1));
    put32(info, iflags);
    uint32_t info_addr = place(m, &cur, info, sizeof(info), 8);
    /* ACPI tables in the e820-reserved BIOS segment, standing in for firmware (a --bios image
     * builds its own). */
    if (!m->bios_rom && acpi_tables_install(m, err, errlen))
        return -1;

    cpu_enter_flat32(&m->cpu, 0x10, 0x18, entry);
    for (int i = 0; i < 8; i++)
        m->cpu.r[i] = 0;
    m->cpu.r[R_EAX] = MB_BOOTLOADER_MAGIC;
    m->cpu.r[R_EBX] = info_addr;
    physmem_set_a20(&m->mem, 1);
    return 0;
}

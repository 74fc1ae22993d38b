/* QEMU's firmware configuration device (fw_cfg), the channel SeaBIOS uses to learn RAM size, CPU
 * count, boot order, the e820 map and kernel images: selector 0x510, data 0x511, DMA 0x514.
 * Implemented from the interface description in QEMU's docs/specs/fw_cfg.rst. */
#ifndef JITPC_DEVICES_FW_CFG_H
#define JITPC_DEVICES_FW_CFG_H

#include <stdint.h>

#include "../mem/ioport.h"
#include "../mem/physmem.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA 0x514

/* Selector keys (docs/specs/fw_cfg.rst and QEMU's fw_cfg_keys.h numbering). */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MACHINE_ID 0x06
#define FW_CFG_KERNEL_ADDR 0x07
#define FW_CFG_KERNEL_SIZE 0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR 0x0a
#define FW_CFG_INITRD_SIZE 0x0b
#define FW_CFG_BOOT_DEVICE 0x0c
#define FW_CFG_NUMA 0x0d
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_KERNEL_ENTRY 0x10
#define FW_CFG_KERNEL_DATA 0x11
#define FW_CFG_INITRD_DATA 0x12
#define FW_CFG_CMDLINE_ADDR 0x13
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_SETUP_ADDR 0x16
#define FW_CFG_SETUP_SIZE 0x17
#define FW_CFG_SETUP_DATA 0x18
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_WRITE_CHANNEL 0x4000 /* selector bit 14: write mode (writes are not supported) */
#define FW_CFG_ARCH_LOCAL 0x8000    /* selector bit 15: architecture-specific items */
/* x86 architecture-local keys */
#define FW_CFG_ACPI_TABLES (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET (FW_CFG_ARCH_LOCAL + 4)

/* FW_CFG_ID feature bits */
#define FW_CFG_VERSION 0x01     /* the traditional selector/data interface */
#define FW_CFG_VERSION_DMA 0x02 /* the DMA interface */

/* FWCfgDmaAccess.control bits */
#define FW_CFG_DMA_CTL_ERROR 0x01
#define FW_CFG_DMA_CTL_READ 0x02
#define FW_CFG_DMA_CTL_SKIP 0x04
#define FW_CFG_DMA_CTL_SELECT 0x08 /* the new selector is in bits 31-16 */
#define FW_CFG_DMA_CTL_WRITE 0x10

#define FW_CFG_MAX_FILE_PATH 56
#define FW_CFG_MAX_FILES 64
#define FW_CFG_MAX_ITEMS (FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES + 16)

/* "etc/e820" entries are 20 packed bytes: le64 address, le64 length, le32 type. */
#define FW_CFG_E820_ENTRY_SIZE 20

struct fw_cfg_item {
    uint16_t key;
    uint32_t len;
    uint8_t *data; /* owned copy */
};

struct fw_cfg {
    struct physmem *mem;
    uint16_t sel;
    int cur;          /* index into items of the selected item, or -1 */
    uint32_t offset;  /* read position in the selected item */
    uint8_t dma[8];   /* the DMA address register as the port bytes hold it (big-endian) */
    struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
    int nitems;
    char files[FW_CFG_MAX_FILES][FW_CFG_MAX_FILE_PATH];
    int nfiles; /* file i has key FW_CFG_FILE_FIRST + i */
};

/* Claims ports 0x510-0x511 and 0x514-0x51B and adds the signature, ID (traditional + DMA) and the
 * empty file directory, plus defaults the machine may replace: RAM size (from mem->ram_size), one
 * CPU, boot menu off. mem is where DMA transfers go (may be NULL: DMA then reports errors). f must
 * stay at this address. Returns 0, or -1. */
int fw_cfg_init(struct fw_cfg *f, struct ioports *io, struct physmem *mem);
void fw_cfg_free(struct fw_cfg *f);

/* Adds or replaces the item at key with a copy of data. Returns 0, or -1 (table full, no memory,
 * or a key in the file range, which belongs to fw_cfg_add_file). */
int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len);
/* Little-endian integer items, the encoding QEMU uses for the numeric keys. */
int fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t v);
int fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t v);
int fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t v);
/* Adds a named file (or replaces the data of an existing one) and lists it in the directory.
 * Returns its selector key (>= 0x20), or -1 (name too long, too many files, no memory). */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len);

/* Packs one "etc/e820" entry into out[FW_CFG_E820_ENTRY_SIZE]. type: 1 RAM, 2 reserved. */
void fw_cfg_e820_pack(uint8_t *out, uint64_t addr, uint64_t len, uint32_t type);

#endif

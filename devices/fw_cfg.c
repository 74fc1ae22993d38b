/* The fw_cfg device: keyed blobs the firmware reads through a selector/data port pair or through
 * the DMA interface, and the file directory naming the blobs above 0x20. Written from the
 * interface description in QEMU's docs/specs/fw_cfg.rst (x86 I/O-port variant). */
#include "fw_cfg.h"

#include <stdlib.h>
#include <string.h>

#define DIR_ENTRY_SIZE (4 + 2 + 2 + FW_CFG_MAX_FILE_PATH)

/* Reading the DMA address register returns this, so firmware can confirm DMA exists. */
static const uint8_t dma_signature[8] = { 'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G' };
/* Source of zeros for DMA reads past the end of an item. */
static const uint8_t zeros[256];

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p) { return (uint64_t)get_be32(p) << 32 | get_be32(p + 4); }

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int find_item(const struct fw_cfg *f, uint16_t key)
{
    for (int i = 0; i < f->nitems; i++)
        if (f->items[i].key == key)
            return i;
    return -1;
}

/* Stores a copy under key, replacing any previous data. */
static int set_item(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    if (len)
        memcpy(copy, data, len);
    int i = find_item(f, key);
    if (i < 0) {
        if (f->nitems == FW_CFG_MAX_ITEMS) {
            free(copy);
            return -1;
        }
        i = f->nitems++;
        f->items[i].key = key;
    } else {
        free(f->items[i].data);
    }
    f->items[i].data = copy;
    f->items[i].len = len;
    return 0;
}

int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len)
{
    /* Bit 14 is the write-mode flag of the selector, not part of a key; 0x20-0x3FFF are files. */
    if ((key & FW_CFG_WRITE_CHANNEL) || (key >= FW_CFG_FILE_FIRST && key < FW_CFG_WRITE_CHANNEL))
        return -1;
    return set_item(f, key, data, len);
}

int fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t v)
{
    uint8_t b[2];
    put_le(b, v, 2);
    return fw_cfg_add_bytes(f, key, b, 2);
}

int fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    put_le(b, v, 4);
    return fw_cfg_add_bytes(f, key, b, 4);
}

int fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t v)
{
    uint8_t b[8];
    put_le(b, v, 8);
    return fw_cfg_add_bytes(f, key, b, 8);
}

/* Regenerates item 0x19: be32 count, then per file be32 size, be16 select, be16 reserved, name. */
static int rebuild_directory(struct fw_cfg *f)
{
    uint8_t dir[4 + FW_CFG_MAX_FILES * DIR_ENTRY_SIZE];
    memset(dir, 0, sizeof(dir));
    put_be32(dir, (uint32_t)f->nfiles);
    for (int i = 0; i < f->nfiles; i++) {
        uint8_t *e = dir + 4 + i * DIR_ENTRY_SIZE;
        uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + i);
        int it = find_item(f, key);
        put_be32(e, it < 0 ? 0 : f->items[it].len);
        put_be16(e + 4, key);
        memcpy(e + 8, f->files[i], FW_CFG_MAX_FILE_PATH);
    }
    return set_item(f, FW_CFG_FILE_DIR, dir, (uint32_t)(4 + f->nfiles * DIR_ENTRY_SIZE));
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, uint32_t len)
{
    size_t n = strlen(name);
    if (n == 0 || n >= FW_CFG_MAX_FILE_PATH)
        return -1; /* the name and its NUL must fit the directory's 56 bytes */
    int i;
    for (i = 0; i < f->nfiles; i++)
        if (!strcmp(f->files[i], name))
            break;
    if (i == FW_CFG_MAX_FILES)
        return -1;
    uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + i);
    if (set_item(f, key, data, len) < 0)
        return -1;
    if (i == f->nfiles) {
        memset(f->files[i], 0, FW_CFG_MAX_FILE_PATH);
        memcpy(f->files[i], name, n);
        f->nfiles++;
    }
    if (rebuild_directory(f) < 0)
        return -1;
    return key;
}

void fw_cfg_e820_pack(uint8_t *out, uint64_t addr, uint64_t len, uint32_t type)
{
    put_le(out, addr, 8);
    put_le(out + 8, len, 8);
    put_le(out + 16, type, 4);
}

static void select_key(struct fw_cfg *f, uint16_t sel)
{
    f->sel = sel;
    f->cur = find_item(f, (uint16_t)(sel & ~FW_CFG_WRITE_CHANNEL));
    f->offset = 0;
}

/* One byte of the selected item; 0 past its end or with nothing selected (spec: "Data Register"). */
static uint8_t data_read(struct fw_cfg *f)
{
    if (f->cur < 0)
        return 0;
    const struct fw_cfg_item *it = &f->items[f->cur];
    if (f->offset >= it->len)
        return 0;
    return it->data[f->offset++];
}

static uint32_t ctl_in(void *opaque, uint16_t port, int size)
{
    struct fw_cfg *f = opaque;
    if (port != FW_CFG_PORT_DATA)
        return 0; /* the selector is write-only */
    /* Wider reads are byte arrays: the first byte read sits in the lowest address. */
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= (uint32_t)data_read(f) << (8 * i);
    return v;
}

static void ctl_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    struct fw_cfg *f = opaque;
    if (port == FW_CFG_PORT_SEL)
        select_key(f, (uint16_t)(size == 1 ? val & 0xFF : val & 0xFFFF));
    /* Data-port writes have been no-ops since QEMU 2.4; writing is only offered through DMA. */
}

static uint32_t dma_transfer_read(struct fw_cfg *f, uint32_t addr, uint32_t len)
{
    if (f->cur < 0)
        return FW_CFG_DMA_CTL_ERROR;
    const struct fw_cfg_item *it = &f->items[f->cur];
    uint32_t avail = it->len > f->offset ? it->len - f->offset : 0;
    uint32_t n = len < avail ? len : avail;
    if (n)
        phys_write_buf(f->mem, addr, it->data + f->offset, n);
    /* Beyond the end of the item the guest's buffer is filled with zeros. */
    for (uint32_t done = n; done < len;) {
        uint32_t chunk = len - done < sizeof(zeros) ? len - done : (uint32_t)sizeof(zeros);
        phys_write_buf(f->mem, addr + done, zeros, chunk);
        done += chunk;
    }
    f->offset = f->offset + len < f->offset ? UINT32_MAX : f->offset + len;
    return 0;
}

/* Runs the FWCfgDmaAccess at addr: be32 control, be32 length, be64 address. The transfer is done
 * before the port write returns, so the guest's first poll of control already reads the result. */
static void dma_run(struct fw_cfg *f, uint64_t addr)
{
    if (!f->mem || addr > UINT32_MAX - 15)
        return; /* no place to report to */
    uint8_t acc[16];
    phys_read_buf(f->mem, (uint32_t)addr, acc, sizeof(acc));
    uint32_t control = get_be32(acc), len = get_be32(acc + 4);
    uint64_t buf = get_be64(acc + 8);
    uint32_t result = 0;
    if (control & FW_CFG_DMA_CTL_SELECT)
        select_key(f, (uint16_t)(control >> 16));
    if (control & FW_CFG_DMA_CTL_READ) {
        if (buf + len > (uint64_t)UINT32_MAX + 1)
            result = FW_CFG_DMA_CTL_ERROR; /* our physical space ends at 4 GiB */
        else
            result = dma_transfer_read(f, (uint32_t)buf, len);
    } else if (control & FW_CFG_DMA_CTL_WRITE) {
        result = FW_CFG_DMA_CTL_ERROR; /* no item is writable */
    } else if (control & FW_CFG_DMA_CTL_SKIP) {
        if (f->cur < 0)
            result = FW_CFG_DMA_CTL_ERROR;
        else
            f->offset = f->offset + len < f->offset ? UINT32_MAX : f->offset + len;
    }
    uint8_t out[4];
    put_be32(out, result);
    phys_write_buf(f->mem, (uint32_t)addr, out, 4);
}

static uint32_t dma_in(void *opaque, uint16_t port, int size)
{
    (void)opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        int off = port - FW_CFG_PORT_DMA + i;
        if (off < 8)
            v |= (uint32_t)dma_signature[off] << (8 * i);
    }
    return v;
}

static void dma_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    struct fw_cfg *f = opaque;
    int trigger = 0;
    /* The register is big-endian in port order: 0x514 holds the most significant byte, so an
     * outl of htonl(x) at 0x514 / 0x518 stores the high / low half of the address. */
    for (int i = 0; i < size; i++) {
        int off = port - FW_CFG_PORT_DMA + i;
        if (off >= 8)
            break;
        f->dma[off] = (uint8_t)(val >> (8 * i));
        if (off == 7)
            trigger = 1; /* writing the low half starts the transfer */
    }
    if (trigger) {
        uint64_t addr = get_be64(f->dma);
        memset(f->dma, 0, sizeof(f->dma));
        dma_run(f, addr);
    }
}

int fw_cfg_init(struct fw_cfg *f, struct ioports *io, struct physmem *mem)
{
    memset(f, 0, sizeof(*f));
    f->mem = mem;
    f->cur = -1;
    uint8_t id[4];
    put_le(id, FW_CFG_VERSION | FW_CFG_VERSION_DMA, 4);
    if (set_item(f, FW_CFG_SIGNATURE, "QEMU", 4) < 0 || set_item(f, FW_CFG_ID, id, 4) < 0 ||
        rebuild_directory(f) < 0 || fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, mem ? mem->ram_size : 0) < 0 ||
        fw_cfg_add_i16(f, FW_CFG_NB_CPUS, 1) < 0 || fw_cfg_add_i16(f, FW_CFG_MAX_CPUS, 1) < 0 ||
        fw_cfg_add_i16(f, FW_CFG_BOOT_MENU, 0) < 0) {
        fw_cfg_free(f);
        return -1;
    }
    select_key(f, FW_CFG_SIGNATURE);
    struct io_handler ctl = { ctl_in, ctl_out, f, 1 };
    struct io_handler dma = { dma_in, dma_out, f, 1 };
    if (ioports_register(io, FW_CFG_PORT_SEL, 2, &ctl) < 0 || ioports_register(io, FW_CFG_PORT_DMA, 8, &dma) < 0) {
        fw_cfg_free(f);
        return -1;
    }
    return 0;
}

void fw_cfg_free(struct fw_cfg *f)
{
    for (int i = 0; i < f->nitems; i++)
        free(f->items[i].data);
    f->nitems = 0;
    f->nfiles = 0;
    f->cur = -1;
}

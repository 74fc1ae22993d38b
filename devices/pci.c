/* PCI configuration mechanism #1 and generic type-0 configuration spaces (PCI Local Bus Spec 2.1
 * §3.2.2.3.2, §6.1-6.2), plus the i440FX host bridge and PIIX3 ISA bridge functions as described by
 * the Intel 82441FX PMC and 82371SB PIIX3 datasheets. */
#include "pci.h"

#include <stdlib.h>
#include <string.h>

#define PORT_CONFIG_ADDRESS 0xCF8
#define PORT_RCR 0xCF9
#define PORT_CONFIG_DATA 0xCFC

#define CA_ENABLE 0x80000000u
/* Bits 30-24 are reserved and 1-0 read as 0 (type-0 translation): neither is stored. */
#define CA_WRITABLE 0x80FFFFFCu

#define I440FX_PAM0 0x59
#define I440FX_PAM6 0x5F
#define I440FX_SMRAM 0x72
#define PIIX3_PIRQRC 0x60

static uint32_t ones(int size) { return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1; }

uint32_t pci_config_read(const struct pci_device *d, int addr, int size)
{
    uint32_t v = 0;
    for (int i = 0; i < size && addr + i < 256; i++)
        v |= (uint32_t)d->config[addr + i] << (8 * i);
    return v;
}

void pci_config_set(struct pci_device *d, int addr, int size, uint32_t val)
{
    for (int i = 0; i < size && addr + i < 256; i++)
        d->config[addr + i] = (uint8_t)(val >> (8 * i));
}

static void set_mask(uint8_t *m, int addr, int size, uint32_t val)
{
    for (int i = 0; i < size && addr + i < 256; i++)
        m[addr + i] = (uint8_t)(val >> (8 * i));
}

void pci_config_write(struct pci_device *d, int addr, int size, uint32_t val)
{
    for (int i = 0; i < size && addr + i < 256; i++) {
        int a = addr + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t c = (uint8_t)((d->config[a] & ~d->wmask[a]) | (b & d->wmask[a]));
        d->config[a] = (uint8_t)(c & ~(b & d->w1cmask[a]));
    }
    if (d->config_write)
        d->config_write(d->opaque, d, addr, size, val);
}

/* Records power-on configuration spaces for pci_bus_reset, once host-side setup is over. */
static void snapshot(struct pci_bus *b)
{
    for (int i = 0; i < PCI_MAX_DEVFN; i++) {
        struct pci_device *d = b->dev[i];
        if (d && !d->has_reset_config) {
            memcpy(d->reset_config, d->config, sizeof(d->config));
            d->has_reset_config = 1;
        }
    }
}

/* The function CONFIG_ADDRESS selects, or NULL (disabled, another bus, nobody there). */
static struct pci_device *selected(struct pci_bus *b)
{
    uint32_t ca = b->config_address;
    if (!(ca & CA_ENABLE) || ((ca >> 16) & 0xFF) != 0)
        return NULL;
    snapshot(b);
    int devfn = (ca >> 8) & 0xFF;
    /* A device without function 0 does not exist: configuration software only looks further
     * when function 0 answers (spec §3.2.2.3.2, multifunction devices). */
    if (!b->dev[devfn & ~7])
        return NULL;
    return b->dev[devfn];
}

static uint32_t pci_io_in(void *opaque, uint16_t port, int size)
{
    struct pci_bus *b = opaque;
    if (port < PORT_CONFIG_DATA) {
        if (port == PORT_CONFIG_ADDRESS && size == 4)
            return b->config_address;
        if (port == PORT_RCR && size == 1)
            return b->rcr;
        /* Narrower accesses to 0xCF8-0xCFB are ordinary I/O cycles, which nothing claims. */
        return ones(size);
    }
    struct pci_device *d = selected(b);
    if (!d)
        return ones(size);
    int off = port & 3;
    int n = size < 4 - off ? size : 4 - off; /* an access cannot run past the dword */
    uint32_t v = pci_config_read(d, (int)(b->config_address & 0xFC) + off, n);
    return v | (ones(size) & ~ones(n));
}

static void pci_io_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    struct pci_bus *b = opaque;
    if (port < PORT_CONFIG_DATA) {
        if (port == PORT_CONFIG_ADDRESS && size == 4) {
            b->config_address = val & CA_WRITABLE;
        } else if (port == PORT_RCR && size == 1) {
            /* RCR: bit 1 selects a hard (system) reset, a 0 -> 1 edge of bit 2 performs it. */
            uint8_t old = b->rcr;
            b->rcr = (uint8_t)(val & 0x06);
            if ((b->rcr & 0x04) && !(old & 0x04) && b->reset) {
                b->rcr &= (uint8_t)~0x04;
                b->reset(b->reset_opaque, !!(b->rcr & 0x02));
            }
        }
        return;
    }
    struct pci_device *d = selected(b);
    if (!d)
        return;
    int off = port & 3;
    int n = size < 4 - off ? size : 4 - off;
    pci_config_write(d, (int)(b->config_address & 0xFC) + off, n, val);
}

int pci_bus_init(struct pci_bus *b, struct ioports *io)
{
    memset(b, 0, sizeof(*b));
    for (int i = 0; i < 4; i++)
        b->pirq[i] = 0x80;
    struct io_handler h = { pci_io_in, pci_io_out, b, 1 };
    return ioports_register(io, PORT_CONFIG_ADDRESS, 8, &h);
}

static void i440fx_write(void *opaque, struct pci_device *d, int addr, int size, uint32_t val);
static void piix3_write(void *opaque, struct pci_device *d, int addr, int size, uint32_t val);

void pci_bus_reset(struct pci_bus *b)
{
    b->config_address = 0;
    b->rcr = 0;
    for (int i = 0; i < PCI_MAX_DEVFN; i++) {
        struct pci_device *d = b->dev[i];
        if (d && d->has_reset_config)
            memcpy(d->config, d->reset_config, sizeof(d->config));
    }
    /* Report PAM and PIRQ changes through the same comparison a guest write goes through. */
    struct pci_device *host = b->dev[0];
    if (host && host->config_write == i440fx_write)
        i440fx_write(b, host, 0, 256, 0);
    if (b->piix3)
        piix3_write(b, b->piix3, 0, 256, 0);
}

void pci_bus_free(struct pci_bus *b)
{
    for (int i = 0; i < PCI_MAX_DEVFN; i++) {
        free(b->dev[i]);
        b->dev[i] = NULL;
    }
    b->piix3 = NULL;
}

void pci_bus_set_reset_handler(struct pci_bus *b, void (*reset)(void *opaque, int hard), void *opaque)
{
    b->reset = reset;
    b->reset_opaque = opaque;
}

struct pci_device *pci_add_device(struct pci_bus *b, int dev, int fn, uint16_t vendor, uint16_t device,
                                  uint32_t class_rev, pci_config_write_fn config_write, void *opaque)
{
    if (dev < 0 || dev > 31 || fn < 0 || fn > 7)
        return NULL;
    int devfn = dev << 3 | fn;
    if (b->dev[devfn])
        return NULL;
    struct pci_device *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->bus = b;
    d->devfn = devfn;
    d->config_write = config_write;
    d->opaque = opaque;
    pci_config_set(d, PCI_VENDOR_ID, 2, vendor);
    pci_config_set(d, PCI_DEVICE_ID, 2, device);
    pci_config_set(d, PCI_REVISION, 4, class_rev);
    /* Command: I/O, memory, bus master, parity response, SERR#, interrupt disable. */
    set_mask(d->wmask, PCI_COMMAND, 2, 0x0547);
    /* Status: parity/abort/SERR bits are write-one-to-clear (bits 8 and 11-15). */
    set_mask(d->w1cmask, PCI_STATUS, 2, 0xF900);
    d->wmask[0x0C] = 0xFF; /* cache line size */
    d->wmask[0x0D] = 0xFF; /* latency timer */
    d->wmask[PCI_INTERRUPT_LINE] = 0xFF; /* scratch for the BIOS's routing decision */
    memset(d->wmask + 0x40, 0xFF, 0xC0);
    b->dev[devfn] = d;
    return d;
}

struct pci_device *pci_find_device(const struct pci_bus *b, int dev, int fn)
{
    if (dev < 0 || dev > 31 || fn < 0 || fn > 7)
        return NULL;
    return b->dev[dev << 3 | fn];
}

static int bar_offset(int idx) { return idx == PCI_ROM_SLOT ? PCI_ROM_BAR : PCI_BAR0 + 4 * idx; }

int pci_set_bar(struct pci_device *d, int idx, uint32_t size, int kind)
{
    if (idx < 0 || idx > PCI_ROM_SLOT || size == 0 || (size & (size - 1)))
        return -1;
    int off = bar_offset(idx);
    uint32_t mask, init;
    if (idx == PCI_ROM_SLOT) {
        if (size < 2048)
            return -1;
        mask = ~(size - 1) | 1; /* address bits and the ROM enable bit */
        init = 0;
    } else if (kind & PCI_BAR_IO) {
        if (size < 4 || size > 256)
            return -1;
        mask = ~(size - 1) & ~3u;
        init = PCI_BAR_IO;
    } else {
        if (size < 16)
            return -1;
        if ((kind & PCI_BAR_MEM64) && idx == 5)
            return -1;
        mask = ~(size - 1) & ~0xFu;
        init = (uint32_t)kind & (PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
    }
    /* The kind bits are read-only, so "write ones, read back" yields ~(size - 1) | kind. */
    d->bar_size[idx] = size;
    set_mask(d->wmask, off, 4, mask);
    pci_config_set(d, off, 4, init);
    if (idx != PCI_ROM_SLOT && !(kind & PCI_BAR_IO) && (kind & PCI_BAR_MEM64)) {
        d->bar_size[idx + 1] = 0; /* the upper half belongs to this BAR */
        set_mask(d->wmask, off + 4, 4, 0xFFFFFFFFu);
        pci_config_set(d, off + 4, 4, 0);
    }
    return 0;
}

uint32_t pci_bar_address(const struct pci_device *d, int idx)
{
    if (idx < 0 || idx > PCI_ROM_SLOT)
        return 0;
    uint32_t v = pci_config_read(d, bar_offset(idx), 4);
    if (idx == PCI_ROM_SLOT)
        return v & ~0x7FFu;
    return (v & PCI_BAR_IO) ? v & ~3u : v & ~0xFu;
}

/* --- i440FX (82441FX PMC), 00.0 --- */

/* The chips themselves leave 2Ch-2Fh reserved (zero); QEMU's board puts its subsystem IDs there,
 * Red Hat 1AF4:1100, and SeaBIOS finds "QEMU (i440fx)" by them on the host bridge (qemu_detect). */
static void qemu_subsystem(struct pci_device *d)
{
    pci_config_set(d, 0x2C, 2, 0x1AF4);
    pci_config_set(d, 0x2E, 2, 0x1100);
}

static void i440fx_write(void *opaque, struct pci_device *d, int addr, int size, uint32_t val)
{
    (void)val;
    struct pci_bus *b = opaque;
    for (int a = addr; a < addr + size; a++) {
        if (a < I440FX_PAM0 || a > I440FX_PAM6)
            continue;
        uint8_t v = d->config[a];
        if (v != b->pam[a - I440FX_PAM0]) {
            b->pam[a - I440FX_PAM0] = v;
            if (b->pam_changed)
                b->pam_changed(b->pam_opaque, a, v);
        }
    }
}

struct pci_device *pci_add_i440fx(struct pci_bus *b, void (*pam_changed)(void *opaque, int reg, uint8_t val),
                                  void *opaque)
{
    struct pci_device *d = pci_add_device(b, 0, 0, 0x8086, 0x1237, 0x06000002, i440fx_write, b);
    if (!d)
        return NULL;
    b->pam_changed = pam_changed;
    b->pam_opaque = opaque;
    pci_config_set(d, PCI_COMMAND, 2, 0x0006); /* memory and bus master always on */
    pci_config_set(d, PCI_STATUS, 2, 0x0280);  /* fast back-to-back, medium DEVSEL */
    /* PAM0 only has the 0xF0000 BIOS area in bits 5:4; PAM1-6 two 16 KiB areas each (RE/WE in
     * bits 1:0 and 5:4). All start at 0: accesses go to the PCI bus, i.e. the BIOS ROM. */
    d->wmask[I440FX_PAM0] = 0x30;
    for (int a = I440FX_PAM0 + 1; a <= I440FX_PAM6; a++)
        d->wmask[a] = 0x33;
    for (int a = 0x60; a <= 0x67; a++) /* DRB0-7 */
        d->config[a] = 0x02;
    qemu_subsystem(d);
    d->config[I440FX_SMRAM] = 0x02; /* C_BASE_SEG = 010: SMRAM at 0xA0000, read-only */
    d->wmask[I440FX_SMRAM] = 0x78;  /* D_OPEN, D_CLS, D_LCK, G_SMRAME (stored, not acted on) */
    return d;
}

/* --- PIIX3 (82371SB) function 0, 01.0 --- */

static void piix3_write(void *opaque, struct pci_device *d, int addr, int size, uint32_t val)
{
    (void)val;
    struct pci_bus *b = opaque;
    for (int a = addr; a < addr + size; a++) {
        if (a < PIIX3_PIRQRC || a > PIIX3_PIRQRC + 3)
            continue;
        int p = a - PIIX3_PIRQRC;
        if (d->config[a] != b->pirq[p]) {
            b->pirq[p] = d->config[a];
            if (b->pirq_changed)
                b->pirq_changed(b->pirq_opaque, p, pci_pirq_to_irq(b, p));
        }
    }
}

struct pci_device *pci_add_piix3(struct pci_bus *b, void (*pirq_changed)(void *opaque, int pirq, int irq),
                                 void *opaque)
{
    struct pci_device *d = pci_add_device(b, 1, 0, 0x8086, 0x7000, 0x06010000, piix3_write, b);
    if (!d)
        return NULL;
    b->piix3 = d;
    b->pirq_changed = pirq_changed;
    b->pirq_opaque = opaque;
    qemu_subsystem(d);
    d->config[PCI_HEADER_TYPE] = 0x80; /* multifunction: IDE and USB follow at 01.1, 01.2 */
    pci_config_set(d, PCI_COMMAND, 2, 0x0007);
    pci_config_set(d, PCI_STATUS, 2, 0x0200);
    /* Datasheet reset values of the bridge's own registers. */
    d->config[0x4C] = 0x4D; /* IORT: ISA I/O recovery timer */
    pci_config_set(d, 0x4E, 2, 0x0003); /* XBCS: BIOS and keyboard controller decode */
    for (int p = 0; p < 4; p++) {
        d->config[PIIX3_PIRQRC + p] = 0x80; /* routing disabled */
        d->wmask[PIIX3_PIRQRC + p] = 0x8F;  /* bits 6:4 reserved */
        b->pirq[p] = 0x80;
    }
    d->config[0x69] = 0x02;             /* TOM: top of memory */
    d->config[0x70] = 0x80;             /* MBIRQ0: motherboard IRQ disabled */
    d->config[0x76] = 0x0C;             /* MBDMA0 */
    d->config[0x77] = 0x0C;             /* MBDMA1 */
    pci_config_set(d, 0x78, 2, 0x0002); /* PCSC */
    d->config[0xA0] = 0x08;             /* SMICNTL */
    return d;
}

int pci_pirq_to_irq(const struct pci_bus *b, int pirq)
{
    if (!b->piix3 || pirq < 0 || pirq > 3)
        return -1;
    uint8_t v = b->piix3->config[PIIX3_PIRQRC + pirq];
    if (v & 0x80)
        return -1;
    int irq = v & 0x0F;
    /* IRQ 0-2, 8 and 13 are reserved encodings: the PIIX3 routes only these. */
    static const uint16_t routable = 1u << 3 | 1u << 4 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 9 | 1u << 10 |
                                     1u << 11 | 1u << 12 | 1u << 14 | 1u << 15;
    return (routable >> irq) & 1 ? irq : -1;
}

int pci_slot_pirq(int dev, int pin)
{
    if (pin < 1 || pin > 4 || dev < 0 || dev > 31)
        return -1;
    return (dev + pin - 1) & 3;
}

int pci_intx_to_irq(const struct pci_bus *b, int dev, int pin)
{
    int p = pci_slot_pirq(dev, pin);
    return p < 0 ? -1 : pci_pirq_to_irq(b, p);
}

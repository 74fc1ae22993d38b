/* The PCI bus through configuration mechanism #1 (0xCF8/0xCFC), type-0 configuration spaces with
 * write masks and BAR sizing, and the i440FX host and PIIX3 ISA bridges (PCI Local Bus Spec 2.1
 * §3.2.2.3.2 and §6; Intel 82441FX PMC and 82371SB PIIX3 datasheets). */
#ifndef JITPC_DEVICES_PCI_H
#define JITPC_DEVICES_PCI_H

#include <stdint.h>

#include "../mem/ioport.h"

/* Configuration header offsets (type 0). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_ROM_BAR 0x30
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN 0x3D

/* BAR kinds for pci_set_bar. */
#define PCI_BAR_IO 0x01          /* I/O space, size >= 4 */
#define PCI_BAR_MEM32 0x00       /* 32-bit memory, size >= 16 */
#define PCI_BAR_MEM64 0x04       /* 64-bit memory: uses this BAR and the next */
#define PCI_BAR_PREFETCH 0x08    /* or-ed onto a memory kind */
#define PCI_ROM_SLOT 6           /* pci_set_bar index of the expansion ROM BAR (offset 0x30) */

#define PCI_MAX_DEVFN 256

struct pci_device;

/* Called after the configuration space changed by a guest write of size bytes at addr (already
 * masked into config[]): lets a device react to BAR, command or its own register writes. */
typedef void (*pci_config_write_fn)(void *opaque, struct pci_device *d, int addr, int size, uint32_t val);

struct pci_device {
    struct pci_bus *bus;
    int devfn; /* device << 3 | function */
    uint8_t config[256];
    uint8_t wmask[256];   /* bits the guest may write */
    uint8_t w1cmask[256]; /* bits the guest clears by writing 1 (status error bits) */
    uint32_t bar_size[7]; /* 0 = unimplemented; [6] is the expansion ROM */
    pci_config_write_fn config_write;
    void *opaque;
    uint8_t reset_config[256]; /* power-on contents, see pci_bus_reset */
    int has_reset_config;
};

struct pci_bus {
    uint32_t config_address; /* CONFIG_ADDRESS (0xCF8) */
    struct pci_device *dev[PCI_MAX_DEVFN]; /* bus 0 only: no PCI-to-PCI bridges */
    uint8_t rcr; /* PIIX3 reset control register, port 0xCF9 */
    void (*reset)(void *opaque, int hard);
    void *reset_opaque;
    /* i440FX PAM shadowing hook, see pci_add_i440fx */
    void (*pam_changed)(void *opaque, int reg, uint8_t val);
    void *pam_opaque;
    uint8_t pam[7]; /* last values reported, so the hook only sees changes */
    /* PIIX3 PIRQ routing hook, see pci_add_piix3 */
    void (*pirq_changed)(void *opaque, int pirq, int irq);
    void *pirq_opaque;
    uint8_t pirq[4]; /* last PIRQRC values reported */
    struct pci_device *piix3;
};

/* Claims ports 0xCF8-0xCFF. b must stay at this address. Returns 0, or -1. */
int pci_bus_init(struct pci_bus *b, struct ioports *io);
/* System reset: every function's configuration space returns to what it held when the guest first
 * touched CONFIG_DATA (host-side setup is done by then), CONFIG_ADDRESS and RCR clear, and the PAM
 * and PIRQ hooks hear about registers that changed. Devices with state beyond config space must
 * reset themselves. */
void pci_bus_reset(struct pci_bus *b);
/* Frees every device the bus allocated. */
void pci_bus_free(struct pci_bus *b);
/* Port 0xCF9 (PIIX3 reset control): hook called when the guest requests a reset by setting bit 2;
 * hard = 1 when bit 1 (system reset) was set too. Without a hook the write is only stored. */
void pci_bus_set_reset_handler(struct pci_bus *b, void (*reset)(void *opaque, int hard), void *opaque);

/* Adds a type-0 function at bus 0, dev (0-31), fn (0-7), with the standard header: IDs, class_rev =
 * class << 8 | revision (e.g. 0x06000002), writable command/cache-line/latency/interrupt-line,
 * write-1-to-clear status error bits, and writable device-specific space 0x40-0xFF (narrow it with
 * wmask if a register must be read-only). Returns NULL when the slot is taken or out of memory. */
struct pci_device *pci_add_device(struct pci_bus *b, int dev, int fn, uint16_t vendor, uint16_t device,
                                  uint32_t class_rev, pci_config_write_fn config_write, void *opaque);
struct pci_device *pci_find_device(const struct pci_bus *b, int dev, int fn);

/* Declares BAR idx (0-5, or PCI_ROM_SLOT) with a power-of-two size and a PCI_BAR_* kind. The guest
 * sizes it the usual way: writes all ones, reads back ~(size - 1) | kind bits. Returns 0, or -1. */
int pci_set_bar(struct pci_device *d, int idx, uint32_t size, int kind);
/* The address the guest programmed into BAR idx (kind bits stripped; low dword for 64-bit BARs). */
uint32_t pci_bar_address(const struct pci_device *d, int idx);

/* Raw configuration access for device code (no masks, no callbacks). */
uint32_t pci_config_read(const struct pci_device *d, int addr, int size);
void pci_config_set(struct pci_device *d, int addr, int size, uint32_t val);
/* A guest-style write (masks applied, callback called), as a CONFIG_DATA write does. */
void pci_config_write(struct pci_device *d, int addr, int size, uint32_t val);

/* 00.0: the 82441FX PMC (8086:1237 rev 02). pam_changed (may be NULL) is called with the register
 * offset (0x59-0x5F) and new value whenever a PAM register changes; remapping 0xC0000-0xFFFFF
 * accordingly is the caller's business. */
struct pci_device *pci_add_i440fx(struct pci_bus *b, void (*pam_changed)(void *opaque, int reg, uint8_t val),
                                  void *opaque);
/* 01.0: the 82371SB PIIX3 function 0, PCI-to-ISA bridge (8086:7000, multifunction header). pirq_changed
 * (may be NULL) is called with the PIRQ (0-3 = A-D) and its new ISA IRQ, or -1 when disabled. */
struct pci_device *pci_add_piix3(struct pci_bus *b, void (*pirq_changed)(void *opaque, int pirq, int irq),
                                 void *opaque);

/* ISA IRQ that PIRQ 0-3 (A-D) is routed to by the PIIX3's PIRQRC[A:D] registers, or -1 when the
 * route is disabled (bit 7), the IRQ number is reserved, or there is no PIIX3. */
int pci_pirq_to_irq(const struct pci_bus *b, int pirq);
/* Bus-0 swizzle: the PIRQ (0-3) that INTx pin (1 = INTA .. 4 = INTD) of device dev drives. */
int pci_slot_pirq(int dev, int pin);
/* Both together: the ISA IRQ of dev's INTx pin, or -1. */
int pci_intx_to_irq(const struct pci_bus *b, int dev, int pin);

#endif

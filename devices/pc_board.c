/* The PC/AT platform around the CPU: which device sits at which port and IRQ, as an i440FX/PIIX3
 * board has them (IBM PC/AT technical reference; Intel 82371SB PIIX3 datasheet for the ISA side):
 * PIC 0x20/0xA0 (INTR to the CPU), PIT 0x40 on IRQ 0, 8042 0x60/0x64 on IRQ 1/12 with A20 and
 * reset, RTC 0x70 on IRQ 8, COM1-4 at 3F8/2F8/3E8/2E8 on IRQ 4/3, PCI 0xCF8 (PAM shadowing in the
 * host bridge), fw_cfg 0x510, POST 0x80, the ACPI PM block at 0x600 on IRQ 9 (SCI). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i440fx_pam.h"
#include "machine.h"

/* A fixed RTC start for --icount, so two runs print the same dates (2024-01-01T00:00:00Z). */
#define ICOUNT_RTC_TIME 1704067200

static void cpu_set_intr(void *opaque, int pin, int level)
{
    (void)pin;
    struct cpu *c = opaque;
    c->intr = (uint8_t)level;
}

static struct irq_line isa_irq(struct machine *m, int n)
{
    return (struct irq_line){ pic8259_set_irq, &m->pic, n };
}

static void kbc_set_a20(void *opaque, int enabled)
{
    struct machine *m = opaque;
    if (((m->mem.a20_mask >> 20) & 1) != (unsigned)!!enabled) {
        physmem_set_a20(&m->mem, enabled);
        tlb_flush_all(&m->cpu.tlb); /* the TLB caches translations made through the old mask */
    }
}

static void kbc_reset(void *opaque)
{
    machine_request_reset(opaque);
}

static void acpi_poweroff(void *opaque)
{
    machine_request_poweroff(opaque);
}

static void pci_reset(void *opaque, int hard)
{
    (void)hard;
    machine_request_reset(opaque);
}

/* The i440FX's PAM registers route 0xC0000-0xFFFFF between the BIOS ROM and shadow RAM. */
static void pam_changed(void *opaque, int reg, uint8_t val)
{
    i440fx_pam_write(opaque, reg, val);
}

/* The TLB holds host pointers into the pages that moved, and the JIT's blocks translated from
 * 0xC0000-0xFFFFF must go too: a page's bytes change when its reads switch between ROM and DRAM,
 * and the remap drops the pages' PME_CODE marks. Firmware remaps a handful of times per boot, so
 * the whole cache goes (a block running now sees the flush and returns to the dispatcher). */
static void pam_remapped(void *opaque)
{
    struct machine *m = opaque;
    tlb_flush_all(&m->cpu.tlb);
    if (m->jit)
        jit_flush(m->jit);
}

/* The PAM state lives beside the PCI bus that reports its register writes: struct machine has no
 * field for it, so the bus's hook pointer is what owns it (freed in pc_board_free). */
static int add_host_bridge(struct machine *m)
{
    struct i440fx_pam *pam = malloc(sizeof(*pam));
    if (!pam || i440fx_pam_init(pam, &m->mem, pam_remapped, m) || !pci_add_i440fx(&m->pci, pam_changed, pam)) {
        free(pam);
        return -1;
    }
    return 0;
}

static uint32_t post_in(void *opaque, uint16_t port, int size)
{
    (void)port;
    (void)size;
    return ((struct machine *)opaque)->post_code;
}

static void post_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)port;
    (void)size;
    ((struct machine *)opaque)->post_code = (uint8_t)val;
}

/* FERR# from the x87 (CR0.NE clear) raises IRQ 13; a write to port 0xF0 clears the latch, as the
 * PC/AT's "IGNNE#" logic does (PIIX3 datasheet, Coprocessor Error register). */
static void fpu_ferr(void *opaque, int level)
{
    struct machine *m = opaque;
    if (level)
        pic8259_set_irq(&m->pic, 13, 1);
}

static void ferr_clear(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)port;
    (void)size;
    (void)val;
    pic8259_set_irq(&((struct machine *)opaque)->pic, 13, 0);
}

/* fw_cfg items SeaBIOS reads under QEMU: the e820 map and how long to wait before rebooting when
 * nothing boots, -1 (wait forever, printing "No bootable device."), QEMU's default. There is no
 * "bootorder" file: QEMU adds one only for devices given a boot index, and an empty one would
 * read as a list with one empty entry. */
static int fw_cfg_tables(struct machine *m)
{
    uint8_t e820[2 * 20];
    uint64_t ram = m->mem.ram_size;
    fw_cfg_e820_pack(e820, 0, 0xA0000, 1);
    fw_cfg_e820_pack(e820 + 20, 0x100000, ram - 0x100000, 1);
    uint32_t wait = 0xFFFFFFFFu;
    return fw_cfg_add_file(&m->fw_cfg, "etc/e820", e820, sizeof(e820)) < 0 ||
           fw_cfg_add_file(&m->fw_cfg, "etc/boot-fail-wait", &wait, sizeof(wait)) < 0 ||
           fw_cfg_add_i32(&m->fw_cfg, FW_CFG_IRQ0_OVERRIDE, 1);
}

/* The boot order a BIOS on QEMU's PC reads from CMOS (SeaBIOS boot_setup): three 4-bit device
 * codes, 1 floppy, 2 hard disk, 3 CD-ROM, first in 0x3D bits 3:0, second in 0x3D bits 7:4, third
 * in 0x38 bits 7:4; 0x38 bit 0 set would skip the floppy boot-signature check. QEMU's default
 * order "cad" is hard disk, CD-ROM, floppy. */
static void cmos_boot_order(struct machine *m)
{
    cmos_rtc_set_byte(&m->rtc, 0x3D, 0x32);
    cmos_rtc_set_byte(&m->rtc, 0x38, 0x10);
}

/* The CPU's TSC follows the machine's clock (cpu.h time_ns). */
static uint64_t board_time_ns(void *opaque)
{
    return clock_now(opaque);
}

int pc_board_init(struct machine *m, char *err, size_t errlen)
{
    static const uint16_t com_base[4] = { 0x3F8, 0x2F8, 0x3E8, 0x2E8 };
    int64_t t = m->cfg.rtc_time ? m->cfg.rtc_time : m->cfg.icount ? ICOUNT_RTC_TIME : (int64_t)time(NULL);
    struct io_handler post = { post_in, post_out, m, 0 };
    struct io_handler ferr = { NULL, ferr_clear, m, 0 };

    m->cpu.time_ns = board_time_ns;
    m->cpu.time_opaque = &m->clock;
    cpu_tsc_write(&m->cpu, 0);
    m->cpu.intr_ack = pic8259_intr_ack;
    m->cpu.intr_opaque = &m->pic;
    m->irq4 = (struct irq_share){ isa_irq(m, 4), 0 };
    m->irq3 = (struct irq_share){ isa_irq(m, 3), 0 };
    int bad = pic8259_init(&m->pic, &m->io, (struct irq_line){ cpu_set_intr, &m->cpu, 0 }) ||
              pit8254_init(&m->pit, &m->io, &m->clock, isa_irq(m, 0)) ||
              cmos_rtc_init(&m->rtc, &m->io, &m->clock, isa_irq(m, 8), t) ||
              i8042_init(&m->kbc, &m->io, isa_irq(m, 1), isa_irq(m, 12), kbc_set_a20, kbc_reset, m) ||
              i8042_port92_init(&m->kbc, &m->io) || ioports_register(&m->io, 0x80, 1, &post) ||
              acpi_pm_init(&m->acpi_pm, &m->io, &m->clock, isa_irq(m, ACPI_SCI_IRQ), acpi_poweroff, m) ||
              ioports_register(&m->io, 0xF0, 1, &ferr);
    m->cpu.fpu.irq13 = fpu_ferr;
    m->cpu.fpu.irq13_opaque = m;
    for (int i = 0; i < 4 && !bad; i++) {
        struct irq_share *share = (i & 1) ? &m->irq3 : &m->irq4;
        struct irq_line line = { irq_share_set, share, i >> 1 };
        bad = uart16550_init(&m->uart[i], &m->io, com_base[i], line, &m->clock, i == 0 ? m->cfg.serial : NULL,
                             m->cfg.serial_opaque);
        m->uart[i].instant_tx = 1;
    }
    if (bad || pci_bus_init(&m->pci, &m->io) || add_host_bridge(m) ||
        !pci_add_piix3(&m->pci, NULL, m) || fw_cfg_init(&m->fw_cfg, &m->io, &m->mem) || fw_cfg_tables(m)) {
        snprintf(err, errlen, "cannot set up the PC devices (ports, timers or memory)");
        return -1;
    }
    pci_bus_set_reset_handler(&m->pci, pci_reset, m);
    cmos_rtc_set_memory_size(&m->rtc, m->mem.ram_size);
    cmos_boot_order(m);
    return 0;
}

void pc_board_reset(struct machine *m)
{
    pic8259_reset(&m->pic);
    i8042_reset(&m->kbc);
    for (int i = 0; i < 4; i++)
        uart16550_reset(&m->uart[i]);
    pci_bus_reset(&m->pci);
    acpi_pm_reset(&m->acpi_pm);
    m->irq3.levels = m->irq4.levels = 0;
    m->cpu.intr = 0;
}

void pc_board_free(struct machine *m)
{
    if (m->pci.pam_changed == pam_changed)
        free(m->pci.pam_opaque);
    pci_bus_free(&m->pci);
    fw_cfg_free(&m->fw_cfg);
}

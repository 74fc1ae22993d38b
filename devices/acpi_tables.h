/* The ACPI tables a direct kernel boot gets in place of firmware: RSDP, RSDT, FADT, FACS and a
 * hand-assembled DSDT with \_S5 and the PCI root bridge (ACPI 2.0 §5.2 system description tables,
 * §6.4 resource descriptors, the AML grammar chapter). No MADT: the board has only the 8259s. */
#ifndef JITPC_DEVICES_ACPI_TABLES_H
#define JITPC_DEVICES_ACPI_TABLES_H

#include <stddef.h>
#include <stdint.h>

struct machine;

/* Where the tables go: the start of the 64 KiB BIOS segment, which Linux's RSDP scan of
 * 0xE0000-0xFFFFF covers and both direct-boot e820 maps already mark reserved. */
#define ACPI_TABLES_BASE 0xF0000u
#define ACPI_TABLES_MAX 0x400u /* bytes acpi_tables_build may write */

/* Offsets of each table from the base (the RSDP first, on a 16-byte boundary; the FACS on the
 * 64-byte boundary §5.2.9 asks for). */
#define ACPI_RSDP_OFF 0x000u
#define ACPI_RSDT_OFF 0x020u
#define ACPI_FADT_OFF 0x080u
#define ACPI_FACS_OFF 0x100u
#define ACPI_DSDT_OFF 0x140u

/* Writes the tables as they must appear at physical address base into buf (ACPI_TABLES_MAX bytes,
 * zeroed first). ram_size places the PCI memory window above RAM. Returns the bytes used. */
size_t acpi_tables_build(uint8_t *buf, uint32_t base, uint64_t ram_size);

/* Direct boot only: routes 0xF0000-0xFFFFF to DRAM through the i440FX's PAM0 (as firmware does
 * when it shadows itself), writes the tables there and write-protects the segment. Returns 0, or
 * -1 with a message in err (no i440FX on the bus). */
int acpi_tables_install(struct machine *m, char *err, size_t errlen);

#endif

/* ACPI 1.0-style tables for direct kernel boot: the RSDP Linux finds by scanning the BIOS area,
 * an RSDT with one FADT, the FACS and a DSDT in AML (ACPI 2.0 §5.2.4-5.2.10 table layouts, revision
 * 1 forms as in ACPI 1.0b; §6.4.3.5 address space descriptors; AML opcodes from the grammar chapter). */
#include "acpi_tables.h"

#include <stdio.h>
#include <string.h>

#include "acpi_pm.h"
#include "machine.h"

#define HDR_LEN 36 /* the common table header (§5.2.6) */
#define FADT_LEN 116 /* the revision-1 FADT, up to and including Flags */
#define FACS_LEN 64

/* FADT Flags (§5.2.8, Table 5-9). */
#define FADT_WBINVD (1u << 0)     /* WBINVD flushes caches correctly */
#define FADT_PROC_C1 (1u << 2)    /* C1 (HLT) works on every processor */
#define FADT_PWR_BUTTON (1u << 4) /* no fixed-feature power button */
#define FADT_SLP_BUTTON (1u << 5) /* no fixed-feature sleep button */
#define FADT_FIX_RTC (1u << 6)    /* no RTC wake status in the fixed registers */

#define PAM0 0x59
#define PAM0_F_DRAM_RW 0x30 /* 0xF0000-0xFFFFF: reads and writes go to DRAM */
#define PAM0_F_DRAM_RO 0x10 /* reads from DRAM, writes to the PCI bus (lost) */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

/* The byte that makes len bytes at p sum to zero (mod 256) when stored in place of *sum. */
static void checksum(uint8_t *p, size_t len, uint8_t *sum)
{
    uint8_t s = 0;
    *sum = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    *sum = (uint8_t)-s;
}

/* The common header (§5.2.6); the checksum is filled in once the table is complete. */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "JITPC ", 6);   /* OEM ID */
    memcpy(t + 16, "JITPC   ", 8); /* OEM table ID */
    put32(t + 24, 1);              /* OEM revision */
    memcpy(t + 28, "JTPC", 4);     /* creator ID */
    put32(t + 32, 1);              /* creator revision */
}

/* A small AML writer: bytes appended at p[n]. */
struct aml {
    uint8_t *p;
    size_t n;
};

static void emit(struct aml *a, const void *src, size_t len)
{
    memcpy(a->p + a->n, src, len);
    a->n += len;
}

static void emit1(struct aml *a, uint8_t b) { a->p[a->n++] = b; }

/* An integer as the shortest data object: ZeroOp, OneOp, or BytePrefix/WordPrefix/DWordPrefix. */
static void emit_int(struct aml *a, uint32_t v)
{
    uint8_t b[4];
    put32(b, v);
    if (v <= 1) {
        emit1(a, (uint8_t)v); /* ZeroOp 0x00, OneOp 0x01 */
    } else if (v <= 0xFF) {
        emit1(a, 0x0A);
        emit1(a, b[0]);
    } else if (v <= 0xFFFF) {
        emit1(a, 0x0B);
        emit(a, b, 2);
    } else {
        emit1(a, 0x0C);
        emit(a, b, 4);
    }
}

/* Opens a construct with a PkgLength: the caller writes the body, then closes it. Bodies here are
 * under 4 KiB, so the length takes two bytes when it does not fit in one (the encoding counts the
 * PkgLength bytes themselves). Two bytes are reserved and the body moved back if one is enough. */
static size_t pkg_open(struct aml *a)
{
    a->n += 2;
    return a->n;
}

static void pkg_close(struct aml *a, size_t body)
{
    size_t len = a->n - body; /* body bytes */
    uint8_t *lp = a->p + body - 2;
    if (len + 1 < 0x40) {
        lp[0] = (uint8_t)(len + 1);
        memmove(lp + 1, lp + 2, len);
        a->n--;
    } else {
        size_t total = len + 2;
        lp[0] = (uint8_t)(0x40 | (total & 0xF)); /* bits 7:6 = one more byte follows */
        lp[1] = (uint8_t)(total >> 4);
    }
}

/* EisaId("PNP0A03"): three letters in 5 bits each, then four hex digits, stored big-endian. */
static void emit_eisa_id(struct aml *a, const char *id)
{
    unsigned v = (unsigned)(id[0] - 0x40) << 10 | (unsigned)(id[1] - 0x40) << 5 | (unsigned)(id[2] - 0x40);
    unsigned prod = 0;
    for (int i = 3; i < 7; i++)
        prod = prod << 4 | (unsigned)(id[i] <= '9' ? id[i] - '0' : id[i] - 'A' + 10);
    uint8_t b[5] = { 0x0C, (uint8_t)(v >> 8), (uint8_t)v, (uint8_t)(prod >> 8), (uint8_t)prod };
    emit(a, b, sizeof(b));
}

/* Word address space descriptor (§6.4.3.5.3): a window the bridge produces. type 1 = I/O, 2 = bus
 * numbers; min and max fixed; for I/O both ISA and non-ISA ranges. */
static void emit_word_window(struct aml *a, uint8_t type, uint16_t min, uint16_t max)
{
    uint8_t d[16] = { 0x88, 13, 0, type, 0x0C, type == 1 ? 3 : 0 };
    put16(d + 8, min);
    put16(d + 10, max);
    put16(d + 14, (uint16_t)(max - min + 1));
    emit(a, d, sizeof(d));
}

/* DWord address space descriptor (§6.4.3.5.2) for a memory window: cacheable, read/write. */
static void emit_mem_window(struct aml *a, uint32_t min, uint32_t max)
{
    uint8_t d[26] = { 0x87, 23, 0, 0, 0x0C, 0x03 };
    put32(d + 10, min);
    put32(d + 14, max);
    put32(d + 22, max - min + 1);
    emit(a, d, sizeof(d));
}

/* The DSDT's definition block:
 *   Name (\_S5, Package () { S5, S5, 0, 0 })     sleep type for PM1a_CNT and PM1b_CNT, reserved
 *   Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03")) Name (_ADR, 0)
 *                                  Name (_CRS, ResourceTemplate () { bus 0-255, I/O and memory windows }) } }
 * Linux scans PCI only through ACPI root bridges once ACPI is enabled, hence PCI0. */
static size_t build_dsdt_aml(uint8_t *out, uint64_t ram_size)
{
    struct aml a = { out, 0 };
    emit(&a, "\x08_S5_\x12", 6); /* NameOp, NameSeg, PackageOp */
    size_t pkg = pkg_open(&a);
    emit1(&a, 4); /* NumElements */
    emit_int(&a, ACPI_SLP_TYP_S5);
    emit_int(&a, ACPI_SLP_TYP_S5);
    emit_int(&a, 0);
    emit_int(&a, 0);
    pkg_close(&a, pkg);

    emit1(&a, 0x10); /* ScopeOp */
    size_t scope = pkg_open(&a);
    emit(&a, "\\_SB_", 5);
    emit(&a, "\x5B\x82", 2); /* ExtOpPrefix DeviceOp */
    size_t dev = pkg_open(&a);
    emit(&a, "PCI0", 4);
    emit(&a, "\x08_HID", 5);
    emit_eisa_id(&a, "PNP0A03");
    emit(&a, "\x08_ADR", 5);
    emit_int(&a, 0);
    emit(&a, "\x08_CRS\x11", 6); /* NameOp, NameSeg, BufferOp */
    size_t buf = pkg_open(&a);
    size_t size_at = a.n;
    emit(&a, "\x0B\0\0", 3); /* BufferSize as a WordConst, patched below */
    size_t res = a.n;
    emit_word_window(&a, 2, 0x00, 0xFF);
    emit_word_window(&a, 1, 0x0000, 0x0CF7); /* all I/O but the configuration ports 0xCF8-0xCFF */
    emit_word_window(&a, 1, 0x0D00, 0xFFFF);
    emit_mem_window(&a, 0xA0000, 0xBFFFF); /* the VGA window */
    /* Above RAM up to the I/O APIC/BIOS area; RAM stops below 4075 MiB (physmem.c), under this. */
    emit_mem_window(&a, (uint32_t)ram_size, 0xFEBFFFFFu);
    emit(&a, "\x79\x00", 2); /* end tag, checksum 0 (treated as valid) */
    put16(out + size_at + 1, (uint16_t)(a.n - res));
    pkg_close(&a, buf);
    pkg_close(&a, dev);
    pkg_close(&a, scope);
    return a.n;
}

size_t acpi_tables_build(uint8_t *buf, uint32_t base, uint64_t ram_size)
{
    memset(buf, 0, ACPI_TABLES_MAX);
    uint8_t *rsdp = buf + ACPI_RSDP_OFF, *rsdt = buf + ACPI_RSDT_OFF, *fadt = buf + ACPI_FADT_OFF;
    uint8_t *facs = buf + ACPI_FACS_OFF, *dsdt = buf + ACPI_DSDT_OFF;

    /* DSDT (§5.2.10.1): revision 1, so AML integers are 32 bits wide. */
    size_t dsdt_len = HDR_LEN + build_dsdt_aml(dsdt + HDR_LEN, ram_size);
    header(dsdt, "DSDT", (uint32_t)dsdt_len, 1);
    checksum(dsdt, dsdt_len, dsdt + 9);

    /* FACS (§5.2.9): no hardware signature, no waking vector (no S4BIOS, no sleep states to wake
     * from), no global lock owner. It carries no checksum. */
    memcpy(facs, "FACS", 4);
    put32(facs + 4, FACS_LEN);

    /* FADT (§5.2.8), revision 1: the PM block of acpi_pm.c, SCI on IRQ 9 in 8259 mode. */
    header(fadt, "FACP", FADT_LEN, 1);
    put32(fadt + 36, base + ACPI_FACS_OFF);  /* FIRMWARE_CTRL */
    put32(fadt + 40, base + ACPI_DSDT_OFF);  /* DSDT */
    fadt[44] = 0;                            /* INT_MODEL: dual PIC */
    put16(fadt + 46, ACPI_SCI_IRQ);          /* SCI_INT */
    put32(fadt + 48, 0);                     /* SMI_CMD: none, always in ACPI mode */
    put32(fadt + 56, ACPI_PM1_EVT_BLK);
    put32(fadt + 64, ACPI_PM1_CNT_BLK);
    put32(fadt + 76, ACPI_PM_TMR_BLK);
    fadt[88] = 4;                            /* PM1_EVT_LEN */
    fadt[89] = 2;                            /* PM1_CNT_LEN */
    fadt[91] = 4;                            /* PM_TMR_LEN */
    put16(fadt + 96, 101);                   /* P_LVL2_LAT > 100: no C2 */
    put16(fadt + 98, 1001);                  /* P_LVL3_LAT > 1000: no C3 */
    fadt[108] = 0x32;                        /* CENTURY: the CMOS byte cmos_rtc.c keeps it in */
    put32(fadt + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_FIX_RTC);
    checksum(fadt, FADT_LEN, fadt + 9);

    /* RSDT (§5.2.7): one entry. */
    header(rsdt, "RSDT", HDR_LEN + 4, 1);
    put32(rsdt + HDR_LEN, base + ACPI_FADT_OFF);
    checksum(rsdt, HDR_LEN + 4, rsdt + 9);

    /* RSDP (§5.2.4), ACPI 1.0 form: revision 0, 20 bytes, the checksum covers all of them. */
    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "JITPC ", 6);
    rsdp[15] = 0;
    put32(rsdp + 16, base + ACPI_RSDT_OFF);
    checksum(rsdp, 20, rsdp + 8);
    return ACPI_DSDT_OFF + dsdt_len;
}

int acpi_tables_install(struct machine *m, char *err, size_t errlen)
{
    struct pci_device *host = pci_find_device(&m->pci, 0, 0);
    if (!host) {
        snprintf(err, errlen, "no i440FX host bridge to shadow the BIOS area for the ACPI tables");
        return -1;
    }
    uint8_t buf[ACPI_TABLES_MAX];
    size_t len = acpi_tables_build(buf, ACPI_TABLES_BASE, m->mem.ram_size);
    /* With no firmware the segment floats on the PCI bus; firmware would shadow it and then
     * write-protect the copy, so Linux finds it the same way. */
    pci_config_write(host, PAM0, 1, PAM0_F_DRAM_RW);
    phys_write_buf(&m->mem, ACPI_TABLES_BASE, buf, len);
    pci_config_write(host, PAM0, 1, PAM0_F_DRAM_RO);
    return 0;
}

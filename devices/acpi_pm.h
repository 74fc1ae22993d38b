/* The ACPI fixed-hardware power-management block of a PIIX4-style south bridge: PM1a event
 * (PM1_STS/PM1_EN), PM1a control (SCI_EN, SLP_TYP, SLP_EN) and the 24-bit PM timer (ACPI 2.0 §4.7.3
 * fixed hardware registers, §4.8.3 from ACPI 5.0 on; Intel 82371AB PIIX4 PMSTS/PMEN/PMCNTRL/PMTMR). */
#ifndef JITPC_DEVICES_ACPI_PM_H
#define JITPC_DEVICES_ACPI_PM_H

#include <stdint.h>

#include "../mem/ioport.h"
#include "clock.h"
#include "irq.h"

/* The block's I/O base: QEMU's PIIX4 PM puts PMBA at 0x600, and nothing else on the board uses it.
 * Offsets as in the PIIX4 (PMSTS 00h, PMEN 02h, PMCNTRL 04h, PMTMR 08h). */
#define ACPI_PM_BASE 0x600u
#define ACPI_PM1_EVT_BLK (ACPI_PM_BASE + 0x0)
#define ACPI_PM1_CNT_BLK (ACPI_PM_BASE + 0x4)
#define ACPI_PM_TMR_BLK (ACPI_PM_BASE + 0x8)
#define ACPI_PM_SIZE 0xC /* the ports claimed: 0x600-0x60B (06h-07h reserved, read 0) */
#define ACPI_SCI_IRQ 9   /* where PIIX4 boards (and QEMU) route the SCI in 8259 mode */

/* PM1_STS / PM1_EN bits (ACPI §4.7.3.1). */
#define ACPI_TMR_STS 0x0001u
#define ACPI_GBL_STS 0x0020u
#define ACPI_PWRBTN_STS 0x0100u
#define ACPI_SLPBTN_STS 0x0200u
#define ACPI_RTC_STS 0x0400u
#define ACPI_WAK_STS 0x8000u
#define ACPI_TMR_EN 0x0001u

/* PM1_CNT bits (ACPI §4.7.3.2). */
#define ACPI_SCI_EN 0x0001u
#define ACPI_BM_RLD 0x0002u
#define ACPI_GBL_RLS 0x0004u
#define ACPI_SLP_TYP_SHIFT 10
#define ACPI_SLP_TYP_MASK (7u << ACPI_SLP_TYP_SHIFT)
#define ACPI_SLP_EN 0x2000u

/* The SLP_TYP that means soft off. The PIIX4 encodes SUS_TYP 000 as Soft Off (001 STR, 100 POS,
 * 101 Working); the DSDT's \_S5 package must carry this value (acpi_tables.c uses it). */
#define ACPI_SLP_TYP_S5 0u

#define ACPI_PM_TIMER_HZ 3579545u

struct acpi_pm {
    const struct vclock *clock;
    struct irq_line sci;
    struct timer tmr_timer;     /* armed at the next bit-23 toggle while TMR_EN is set */
    uint16_t sts;               /* PM1_STS bits latched so far (TMR_STS is derived, see tmr_since) */
    uint16_t en;                /* PM1_EN */
    uint16_t cnt;               /* PM1_CNT as stored (SCI_EN forced on, SLP_EN never kept) */
    uint64_t tmr_since;         /* timer bit-23 period (ticks >> 23) when TMR_STS was last cleared */
    void (*poweroff)(void *opaque); /* SLP_EN with SLP_TYP = S5: the machine turns itself off */
    void *opaque;
};

/* Claims ACPI_PM_BASE..+ACPI_PM_SIZE and registers the TMR_EN timer. sci is the SCI output (an
 * active-high level, as the 8259 side of a PIIX4 sees it). Returns 0, or -1. */
int acpi_pm_init(struct acpi_pm *pm, struct ioports *io, struct vclock *clock, struct irq_line sci,
                 void (*poweroff)(void *opaque), void *opaque);
/* Power-on values: status and enables clear, SCI_EN set (no SMI_CMD: always in ACPI mode). */
void acpi_pm_reset(struct acpi_pm *pm);
/* The PM timer's 24-bit count at guest time now. */
uint32_t acpi_pm_timer(const struct acpi_pm *pm);

#endif

/* The ACPI PM1a event/control registers and the PM timer of a PIIX4-style south bridge (ACPI 2.0
 * §4.7.3.1-4.7.3.3 PM1 event grouping, PM1 control grouping, power management timer; §4.8.3 from
 * ACPI 5.0 on; Intel 82371AB PIIX4 datasheet for the layout at PMBA and the SUS_TYP encoding). */
#include "acpi_pm.h"

#include <string.h>

/* PM1_EN bits the guest may set. BM_STS has no enable; bits with no event source here (GBL, the
 * buttons, the RTC alarm) are still writable so software reads back what it wrote. */
#define EN_WRITABLE (ACPI_TMR_EN | ACPI_GBL_STS | ACPI_PWRBTN_STS | ACPI_SLPBTN_STS | ACPI_RTC_STS)
/* Status bits that raise the SCI when their enable is set (WAK_STS and BM_STS never do). */
#define SCI_SOURCES EN_WRITABLE
/* PM1_CNT bits kept: BM_RLD and SLP_TYP. SCI_EN reads 1, GBL_RLS and SLP_EN are write-only. */
#define CNT_STORED (ACPI_BM_RLD | ACPI_SLP_TYP_MASK)

/* Timer ticks since guest time 0: the 3.579545 MHz count, exact in 128 bits (guest ns times the
 * rate overflows 64 bits after about 85 minutes). */
static uint64_t ticks_at(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * ACPI_PM_TIMER_HZ / 1000000000u);
}

/* How many times bit 23 of the counter has changed by guest time ns: it toggles every 2^23 ticks
 * (about 2.34 s), each toggle sets TMR_STS. */
static uint64_t toggles_at(uint64_t ns)
{
    return ticks_at(ns) >> 23;
}

/* The first guest ns at which the counter has made toggle number n. */
static uint64_t toggle_ns(uint64_t n)
{
    unsigned __int128 t = (unsigned __int128)(n << 23) * 1000000000u;
    return (uint64_t)((t + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
}

uint32_t acpi_pm_timer(const struct acpi_pm *pm)
{
    /* TMR_VAL_EXT is clear in the FADT: a 24-bit counter, bits 31:24 read 0 (§4.7.3.3). */
    return (uint32_t)ticks_at(clock_now(pm->clock)) & 0xFFFFFFu;
}

/* PM1_STS as the guest reads it. TMR_STS is computed, not stored, so no timer runs while TMR_EN
 * is clear: it is set when bit 23 has toggled since software last cleared it. */
static uint16_t status(const struct acpi_pm *pm)
{
    uint16_t s = pm->sts;
    if (toggles_at(clock_now(pm->clock)) != pm->tmr_since)
        s |= ACPI_TMR_STS;
    return s;
}

/* The SCI is a level: high while an enabled status bit is set (and SCI_EN, which is always set). */
static void update_sci(struct acpi_pm *pm)
{
    irq_set(&pm->sci, (pm->cnt & ACPI_SCI_EN) && (status(pm) & pm->en & SCI_SOURCES));
}

/* While TMR_EN is set the SCI must rise at the toggle, so a timer waits for the next one. */
static void arm_tmr(struct acpi_pm *pm)
{
    if (pm->en & ACPI_TMR_EN)
        timer_arm(&pm->tmr_timer, toggle_ns(toggles_at(clock_now(pm->clock)) + 1));
    else
        timer_disarm(&pm->tmr_timer);
}

static void tmr_fire(void *opaque, uint64_t now)
{
    (void)now;
    struct acpi_pm *pm = opaque;
    update_sci(pm);
    arm_tmr(pm);
}

static uint8_t read_byte(const struct acpi_pm *pm, unsigned off)
{
    switch (off) {
    case 0: case 1: return (uint8_t)(status(pm) >> (8 * off));
    case 2: case 3: return (uint8_t)(pm->en >> (8 * (off - 2)));
    case 4: case 5: return (uint8_t)(pm->cnt >> (8 * (off - 4)));
    case 8: case 9: case 10: case 11: return (uint8_t)(acpi_pm_timer(pm) >> (8 * (off - 8)));
    default: return 0; /* 06h-07h: reserved */
    }
}

static uint32_t pm_in(void *opaque, uint16_t port, int size)
{
    const struct acpi_pm *pm = opaque;
    uint32_t v = 0;
    for (int i = 0; i < size; i++) {
        unsigned off = (unsigned)(port - ACPI_PM_BASE) + (unsigned)i;
        if (off < ACPI_PM_SIZE)
            v |= (uint32_t)read_byte(pm, off) << (8 * i);
    }
    return v;
}

static void write_sts(struct acpi_pm *pm, uint16_t val)
{
    /* Every status bit is write-1-to-clear; writing 0 leaves it (§4.7.3.1.1). */
    if (val & ACPI_TMR_STS)
        pm->tmr_since = toggles_at(clock_now(pm->clock));
    pm->sts &= (uint16_t)~(val & ~ACPI_TMR_STS);
}

static void write_cnt(struct acpi_pm *pm, uint16_t val, uint16_t mask)
{
    pm->cnt = (uint16_t)((pm->cnt & ~(mask & CNT_STORED)) | (val & mask & CNT_STORED) | ACPI_SCI_EN);
    if (!(val & mask & ACPI_SLP_EN))
        return;
    unsigned typ = (pm->cnt & ACPI_SLP_TYP_MASK) >> ACPI_SLP_TYP_SHIFT;
    if (typ == ACPI_SLP_TYP_S5) {
        if (pm->poweroff)
            pm->poweroff(pm->opaque);
        return;
    }
    /* S1-S4 (the PIIX4's STR, POS and clock-control types) are not modelled: the machine does not
     * sleep but reports an immediate wake, so an OS polling WAK_STS after SLP_EN (as ACPICA does
     * for S1) carries on instead of spinning forever. The DSDT offers no such state anyway. */
    pm->sts |= ACPI_WAK_STS;
}

static void pm_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    struct acpi_pm *pm = opaque;
    /* Gather the bytes per 16-bit register so that a register written whole acts once. */
    uint16_t v[3] = { 0, 0, 0 }, mask[3] = { 0, 0, 0 };
    for (int i = 0; i < size; i++) {
        unsigned off = (unsigned)(port - ACPI_PM_BASE) + (unsigned)i;
        if (off >= 6)
            continue; /* reserved bytes and the read-only timer */
        v[off / 2] |= (uint16_t)(((val >> (8 * i)) & 0xFF) << (8 * (off & 1)));
        mask[off / 2] |= (uint16_t)(0xFF << (8 * (off & 1)));
    }
    if (mask[0])
        write_sts(pm, v[0] & mask[0]);
    if (mask[1]) {
        pm->en = (uint16_t)((pm->en & ~mask[1]) | (v[1] & mask[1] & EN_WRITABLE));
        arm_tmr(pm);
    }
    if (mask[2])
        write_cnt(pm, v[2], mask[2]);
    update_sci(pm);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
    pm->sts = 0;
    pm->en = 0;
    /* SCI_EN set from power-on: the FADT has no SMI_CMD, which declares a machine that is always in
     * ACPI mode (ACPI 2.0 §5.2.6, SMI_CMD "zero if not supported"). */
    pm->cnt = ACPI_SCI_EN;
    pm->tmr_since = toggles_at(clock_now(pm->clock));
    timer_disarm(&pm->tmr_timer);
    irq_lower(&pm->sci);
}

int acpi_pm_init(struct acpi_pm *pm, struct ioports *io, struct vclock *clock, struct irq_line sci,
                 void (*poweroff)(void *opaque), void *opaque)
{
    memset(pm, 0, sizeof(*pm));
    pm->clock = clock;
    pm->sci = sci;
    pm->poweroff = poweroff;
    pm->opaque = opaque;
    struct io_handler h = { pm_in, pm_out, pm, 1 };
    if (clock_add_timer(clock, &pm->tmr_timer, tmr_fire, pm) ||
        ioports_register(io, ACPI_PM_BASE, ACPI_PM_SIZE, &h))
        return -1;
    acpi_pm_reset(pm);
    return 0;
}

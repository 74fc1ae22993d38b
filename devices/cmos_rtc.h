/* The PC's real-time clock and CMOS NVRAM: ports 0x70/0x71 (and 0x72/0x73 for a second bank of
 * 128 bytes), IRQ8. Follows the Motorola MC146818A datasheet; the NVRAM layout (memory size,
 * equipment, checksum) follows the IBM PC/AT technical reference and what SeaBIOS reads. */
#ifndef JITPC_DEVICES_CMOS_RTC_H
#define JITPC_DEVICES_CMOS_RTC_H

#include <stdint.h>

#include "../mem/ioport.h"
#include "clock.h"
#include "irq.h"

/* Register indices (MC146818A address map) and the PC's NVRAM bytes this file knows about. */
enum {
    RTC_SEC = 0x00, RTC_SEC_ALARM = 0x01, RTC_MIN = 0x02, RTC_MIN_ALARM = 0x03,
    RTC_HOUR = 0x04, RTC_HOUR_ALARM = 0x05, RTC_DOW = 0x06, RTC_DAY = 0x07,
    RTC_MONTH = 0x08, RTC_YEAR = 0x09,
    RTC_REG_A = 0x0A, RTC_REG_B = 0x0B, RTC_REG_C = 0x0C, RTC_REG_D = 0x0D,
    RTC_CENTURY = 0x32,
};

#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM 0x04   /* 1: binary, 0: BCD */
#define RTC_B_24H 0x02  /* 1: 24-hour, 0: 12-hour with the PM flag in hour bit 7 */
#define RTC_B_DSE 0x01
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80

struct cmos_rtc {
    struct vclock *vc;
    struct irq_line irq;     /* IRQ8: high while register C's IRQF is set */
    struct timer timer;      /* armed only for the next event whose interrupt is enabled */
    uint8_t ram[256];        /* 0x00-0x7F bank 1 (ports 0x70/0x71), 0x80-0xFF bank 2 (0x72/0x73) */
    uint8_t index;           /* last index written to port 0x70, without the NMI bit */
    uint8_t index2;          /* last index written to port 0x72 */
    int nmi_masked;          /* bit 7 of the last write to port 0x70 */
    int irq_level;
    /* Time keeping. The divider chain counts 32.768 kHz ticks; it had count chain_tick0 at guest
     * time chain_ns. Updates happen when the count crosses a multiple of 32768. While the clock
     * runs, the time is base_secs at update number base_upd plus one second per update since;
     * while it is frozen (SET, or divider not 010) the time registers in ram[] are the truth. */
    uint64_t chain_ns, chain_tick0;
    int64_t base_secs;       /* seconds since 1970-01-01 00:00, read as the RTC's local time */
    uint64_t base_upd;
    int dow_adjust;          /* guest-set day of week minus the one the date implies, mod 7 */
    uint64_t eval_tick;      /* register C's flags account for every event up to this tick */
};

/* host_time: seconds since 1970 (the machine passes time(NULL), tests a constant), shown by the
 * RTC as broken-down UTC; from then on the RTC advances with guest time. Registers ports
 * 0x70-0x73. Returns 0, or -1 when the ports are taken or the timer queue is full. */
int cmos_rtc_init(struct cmos_rtc *r, struct ioports *io, struct vclock *vc, struct irq_line irq8,
                  int64_t host_time);

/* Bit 7 of the last value the guest wrote to port 0x70 (1: NMI disabled). */
int cmos_rtc_nmi_masked(const struct cmos_rtc *r);

/* The machine's access to CMOS bytes 0x00-0xFF. Clock registers (0x00-0x0D, 0x32) go through
 * the same logic as guest accesses, except that get_byte on register C does not clear it. */
void cmos_rtc_set_byte(struct cmos_rtc *r, unsigned idx, uint8_t val);
uint8_t cmos_rtc_get_byte(struct cmos_rtc *r, unsigned idx);

/* Recomputes the standard checksum at 0x2E (high) / 0x2F (low): the sum of bytes 0x10-0x2D. */
void cmos_rtc_update_checksum(struct cmos_rtc *r);

/* Fills the bytes a PC BIOS reads for its memory map and equipment (a machine with an FPU, a
 * VGA, no floppy and no legacy hard disk) and the checksum. RAM is taken as contiguous from 0:
 * up to 4 GiB is reported below 4 GiB (0x15-0x18, 0x30/0x31, 0x34/0x35), the rest at 0x5B-0x5D. */
void cmos_rtc_set_memory_size(struct cmos_rtc *r, uint64_t ram_bytes);

#endif

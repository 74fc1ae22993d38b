/* The PC's 8254 programmable interval timer (counters 0x40-0x42, control 0x43) and system control
 * port B (0x61: channel 2 gate, speaker enable, refresh toggle, channel 2 OUT).
 * Follows the Intel 8254 datasheet (231164); port 0x61 as on the PC/AT and the PIIX3. */
#ifndef JITPC_DEVICES_PIT8254_H
#define JITPC_DEVICES_PIT8254_H

#include <stdint.h>

#include "../mem/ioport.h"
#include "clock.h"
#include "irq.h"

#define PIT_HZ 1193182u /* the 14.31818 MHz crystal divided by 12 */

/* Counters are not ticked: each holds the tick (of a global 1.193182 MHz tick count derived from
 * guest time) at which its count element was loaded, and the count and OUT at any later tick are
 * computed from the mode's waveform. */
struct pit_channel {
    uint8_t ctrl_mode;   /* mode bits as programmed (0-7), for the status byte */
    uint8_t mode;        /* behaviour: 0-5 (6 and 7 act as 2 and 3) */
    uint8_t rw;          /* access: 1 LSB, 2 MSB, 3 LSB then MSB */
    uint8_t bcd;
    uint8_t gate;
    uint8_t run;         /* PIT_IDLE, PIT_RUN, PIT_PAUSE */
    uint8_t written;     /* a count was written since the control word */
    uint8_t out_hold;    /* OUT while idle, and while a running count waits to be loaded */
    uint32_t count;      /* the count register: N, 1..65536 (1..10000 in BCD) */
    uint32_t n;          /* the N the count element is working through */
    uint64_t start;      /* RUN: the tick at which the count element took n ... */
    uint64_t off;        /*   ... at this phase (non-zero when resumed or switched mid-wave) */
    uint32_t ce_hold;    /* count element while idle or before the load */
    uint64_t paused;     /* PAUSE: the frozen phase */
    uint64_t load_tick;  /* null count reads 1 until this tick (UINT64_MAX: not yet scheduled) */
    uint64_t sw_tick;    /* modes 2/3: a count written while running takes over here (or never) */
    uint64_t sw_start;
    uint64_t sw_off;
    uint32_t sw_n;
    uint8_t write_msb;   /* LSB-then-MSB write flip-flop: the next byte is the MSB */
    uint8_t write_lsb;   /* the LSB written first */
    uint8_t read_msb;    /* LSB-then-MSB read flip-flop for live reads */
    uint8_t latch_state; /* latched count bytes still to read: 0 none, 1 LSB, 2 MSB, 3 LSB then MSB */
    uint16_t latched;
    uint8_t status_latched;
    uint8_t status;
};

enum { PIT_IDLE, PIT_RUN, PIT_PAUSE };

struct pit8254 {
    struct pit_channel ch[3];
    struct vclock *vc;
    struct irq_line irq0;   /* channel 0 OUT */
    int irq_level;          /* what irq0 was last driven to */
    uint64_t irq_tick;      /* channel 0 waveform processed up to this tick */
    struct timer timer;     /* armed for channel 0's next OUT transition only */
    uint8_t port61;         /* bits 0-3 as written */
};

/* Power-on state, port registration (0x40-0x43, 0x61) and the channel 0 timer. The struct must
 * stay at its address afterwards (the port space and the clock keep pointers to it).
 * Returns 0, or -1 when a port is taken or the port or timer table is full. */
int pit8254_init(struct pit8254 *p, struct ioports *io, struct vclock *vc, struct irq_line irq0);
/* OUT of channel ch (0-2) now (channel 2's is also port 0x61 bit 5; 0 for a bad ch). */
int pit8254_out(struct pit8254 *p, int ch);
/* Channel 2's speaker: 1 when port 0x61 gates it and enables the speaker, and it is a square wave;
 * *hz receives its frequency (for a future audio backend). */
int pit8254_speaker(struct pit8254 *p, uint32_t *hz);

#endif

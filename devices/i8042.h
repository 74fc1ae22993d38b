/* The PC keyboard controller (8042) with a PS/2 keyboard and mouse (ports 0x60/0x64, IRQ1/IRQ12),
 * plus System Control Port A (0x92), which shares its A20/reset logic. Follows the Intel 8042
 * data sheet and the IBM PS/2 technical reference (controller, keyboard and mouse commands). */
#ifndef JITPC_DEVICES_I8042_H
#define JITPC_DEVICES_I8042_H

#include <stdint.h>

#include "../mem/ioport.h"
#include "irq.h"

/* Status register (port 0x64 read). */
#define I8042_STR_OBF 0x01     /* output buffer full: port 0x60 has a byte */
#define I8042_STR_IBF 0x02     /* input buffer full (never: writes are consumed at once) */
#define I8042_STR_SYS 0x04     /* system flag, a copy of command byte bit 2 */
#define I8042_STR_CMD 0x08     /* the last write went to port 0x64 */
#define I8042_STR_KEYLOCK 0x10 /* 1: keyboard not inhibited by the key lock */
#define I8042_STR_AUXB 0x20    /* the output buffer holds a byte from the mouse */
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY 0x80

/* Command byte (controller RAM byte 0). */
#define I8042_CTR_KBDINT 0x01
#define I8042_CTR_AUXINT 0x02
#define I8042_CTR_SYS 0x04
#define I8042_CTR_KBDDIS 0x10
#define I8042_CTR_AUXDIS 0x20
#define I8042_CTR_XLATE 0x40

/* Output port. */
#define I8042_OUT_RESET 0x01 /* 0 asserts the CPU's reset line */
#define I8042_OUT_A20 0x02

#define I8042_QUEUE 16

/* A device's bytes on their way to the controller (the keyboard's own buffer, or the mouse's). */
struct i8042_queue {
    uint8_t buf[I8042_QUEUE];
    uint8_t aux[I8042_QUEUE]; /* only for the controller's queue: byte goes out as mouse data */
    unsigned head, count;
};

struct ps2_kbd {
    struct i8042_queue q;
    int scanning;          /* enabled: keys are reported */
    int scanset;           /* 1, 2 or 3 (3 is accepted but keys are still sent in set 2) */
    uint8_t expect;        /* a command waiting for its parameter byte, or 0 */
    uint8_t leds, typematic;
    uint8_t last;          /* the last byte sent, for 0xFE resend */
};

struct ps2_mouse {
    struct i8042_queue q;
    int streaming;         /* 0xF4: packets are sent as the mouse moves */
    int remote;            /* remote mode: packets only on 0xEB */
    int wrap;              /* wrap (echo) mode */
    int scale21;
    uint8_t id;            /* 0 standard, 3 IntelliMouse (wheel), 4 IntelliMouse Explorer */
    uint8_t rate, resolution;
    uint8_t expect;
    uint8_t rates[3];      /* the last three sample rates, for the IntelliMouse knocks */
    uint8_t last;
    int buttons;
    int dx, dy, dz;        /* motion not yet reported (PS/2 axes: y up, z toward the user) */
};

struct i8042 {
    struct irq_line irq1, irq12;
    int irq1_level, irq12_level;
    void (*set_a20)(void *opaque, int enabled);
    void (*reset)(void *opaque);
    void *opaque;

    uint8_t ram[32];       /* controller RAM; ram[0] is the command byte */
    uint8_t status;        /* the CMD bit; the rest is derived on read */
    uint8_t outport;       /* output port (A20, reset) */
    uint8_t pending;       /* controller command waiting for a data byte on port 0x60, or 0 */
    uint8_t ob;            /* output buffer (port 0x60) */
    int ob_full, ob_aux;
    int xlate_break;       /* translation saw 0xF0: the next byte is a break code */
    uint8_t port92;        /* port 0x92 bits other than A20 and reset */
    struct i8042_queue ctl; /* controller replies and 0xD2/0xD3 bytes, ahead of the devices */
    struct ps2_kbd kbd;
    struct ps2_mouse mouse;
};

/* Registers ports 0x60 and 0x64. set_a20 is called when the A20 gate changes (through the output
 * port or port 0x92), reset when the guest pulses the CPU's reset line; either may be NULL.
 * Power-on state: A20 enabled (as physmem starts), command byte 0x60 (translation on, mouse
 * port disabled, no interrupts), keyboard scanning. Returns 0, or -1 when the ports are taken. */
int i8042_init(struct i8042 *k, struct ioports *io, struct irq_line irq1, struct irq_line irq12,
               void (*set_a20)(void *, int), void (*reset)(void *), void *opaque);
/* Registers System Control Port A (0x92): bit 1 fast A20, bit 0 written 1 pulses reset. Optional
 * (a machine with a chipset that has it calls this after i8042_init). */
int i8042_port92_init(struct i8042 *k, struct ioports *io);
/* Back to the power-on state (queues emptied, IRQs lowered); A20 is set enabled and reported. */
void i8042_reset(struct i8042 *k);

/* A host key: a set-2 make code, 0xE0-prefixed keys as 0xE0xx. Queued as its set-2 sequence
 * (set 1 if the guest selected it), translated to set 1 on its way out when the command byte
 * asks. Keys are dropped while the keyboard is not scanning; an overflow queues 0x00. Pause and
 * Print Screen are multi-key sequences the caller sends as their parts (E0 12 + E0 7C ...). */
void i8042_key(struct i8042 *k, uint16_t set2_code, int down);
/* Host mouse motion: dx right, dy down (screen axes), dz wheel notches toward the user; buttons
 * bit 0 left, 1 right, 2 middle, 3 and 4 the side buttons. Sent only while streaming; motion
 * that does not fit is kept for the next packet. */
void i8042_mouse(struct i8042 *k, int dx, int dy, int dz, int buttons);

#endif

/* The PC/AT pair of 8259A programmable interrupt controllers (master 0x20/0x21, slave 0xA0/0xA1
 * cascaded on master IR2) and the PIIX3 ELCR edge/level registers at 0x4D0/0x4D1.
 * Follows the Intel 8259A datasheet (231468) and the Intel 82371FB/SB (PIIX/PIIX3) datasheet. */
#ifndef JITPC_DEVICES_PIC8259_H
#define JITPC_DEVICES_PIC8259_H

#include <stdint.h>

#include "../mem/ioport.h"
#include "irq.h"

/* One 8259A. Levels are 0-7 on the chip; "priority" counts from the highest (0) to the lowest (7). */
struct pic8259_chip {
    uint8_t irr;          /* interrupt request register */
    uint8_t isr;          /* in-service register */
    uint8_t imr;          /* interrupt mask register (OCW1) */
    uint8_t lines;        /* input levels as last seen: the edge detector's memory */
    uint8_t elcr;         /* 1 = level-triggered input (PIIX3 ELCR) */
    uint8_t elcr_rw;      /* ELCR bits the board lets software change */
    uint8_t vbase;        /* ICW2 & 0xF8 */
    uint8_t icw3;         /* master: which inputs have slaves; slave: its cascade identity */
    uint8_t init_step;    /* 0: operating; 2, 3, 4: the ICW the next odd-port write is */
    uint8_t ic4;          /* ICW1 said an ICW4 follows */
    uint8_t single;       /* ICW1 SNGL: no cascade */
    uint8_t aeoi;         /* ICW4 automatic end of interrupt */
    uint8_t sfnm;         /* ICW4 special fully nested mode */
    uint8_t rotate_aeoi;  /* OCW2 rotate in automatic EOI mode */
    uint8_t lowest;       /* the level with the lowest priority (7 until rotated) */
    uint8_t read_isr;     /* OCW3: even-port reads return ISR (1) or IRR (0) */
    uint8_t poll;         /* OCW3 poll command issued: the next read is a poll */
    uint8_t smm;          /* OCW3 special mask mode */
};

struct pic8259 {
    struct pic8259_chip chip[2]; /* [0] master (IRQ 0-7), [1] slave (IRQ 8-15) */
    struct irq_line intr;        /* INT output: the machine connects it to the CPU's INTR */
    int int_level;               /* what intr was last driven to */
};

/* Power-on state and port registration (0x20-0x21, 0xA0-0xA1, 0x4D0-0x4D1). The struct must stay
 * at its address afterwards: the port space keeps a pointer to it. Returns 0, or -1 when a port
 * is already taken or the port table is full. */
int pic8259_init(struct pic8259 *p, struct ioports *io, struct irq_line intr);
/* Back to the power-on state (as a hard reset does), without touching the port registrations.
 * Input levels are kept: wires do not change because the chip was reset. */
void pic8259_reset(struct pic8259 *p);
/* Drives input irq (0-15) to level. The signature of irq_line.set, so a device's line is
 * { pic8259_set_irq, pic, irq }. IRQ 2 is the cascade input and is driven internally: setting
 * it is ignored (on a PC the ISA IRQ2 pin is wired to IRQ 9). */
void pic8259_set_irq(void *opaque, int irq, int level);
/* The CPU's INTA cycle: returns the vector to dispatch, updates ISR/IRR. When nothing is pending
 * any more it returns the spurious vector (master base + 7, or slave base + 7 if the master
 * resolved to the cascade input), without setting the spurious level's ISR bit. */
int pic8259_ack(struct pic8259 *p);
/* pic8259_ack with the signature of the CPU's intr_ack hook: cpu.intr_ack = pic8259_intr_ack,
 * cpu.intr_opaque = the pic. */
int pic8259_intr_ack(void *opaque);
/* The INT output: 1 when the CPU should run an INTA cycle (if its IF allows). */
int pic8259_pending(const struct pic8259 *p);

#endif

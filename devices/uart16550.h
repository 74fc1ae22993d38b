/* A 16550A UART (one serial port): registers, 16-byte FIFOs, interrupt priorities, modem lines,
 * loopback and baud-rate timing on the virtual clock. Follows the National/TI PC16550D datasheet;
 * OUT2 gating of the IRQ line is the IBM PC convention. */
#ifndef JITPC_DEVICES_UART16550_H
#define JITPC_DEVICES_UART16550_H

#include <stddef.h>
#include <stdint.h>

#include "../mem/ioport.h"
#include "clock.h"
#include "irq.h"

/* Host side of a serial line: where transmitted bytes go (stdio, a file, a pty). */
struct chardev_ops {
    void (*write)(void *opaque, const uint8_t *buf, size_t len);
};

#define UART_FIFO_SIZE 16
#define UART_HOST_QUEUE 4096 /* bytes the host may queue ahead of the guest's receiver */

/* MSR input bits a host may drive with uart16550_set_modem_inputs (upper nibble of the MSR). */
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

struct uart16550 {
    /* wiring */
    struct irq_line irq;
    struct vclock *vc;
    const struct chardev_ops *out;
    void *out_opaque;
    uint16_t base;
    int irq_level; /* last level driven, so the line only sees changes */
    /* The host side is no wire: a written character leaves at once, as in QEMU, instead of one
     * character time later. A console driver that polls LSR for every byte with interrupts off
     * (Linux's printk) then costs no guest time, so timer ticks are not lost to it. */
    int instant_tx;

    /* registers */
    uint8_t ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
    uint8_t modem_in; /* external CTS/DSR/RI/DCD (MSR bits 4-7) while not in loopback */

    /* receiver: a ring used as a 16-byte FIFO, or as the 1-byte RBR in character mode */
    uint8_t rx[UART_FIFO_SIZE];
    int rx_head, rx_count;
    int timeout_pending;      /* character-timeout interrupt (FIFO mode) */
    uint64_t rx_last;         /* guest ns of the last receive or RBR read: the timeout reference */

    /* transmitter: holding register / FIFO, then the shift register */
    uint8_t tx[UART_FIFO_SIZE];
    int tx_head, tx_count;
    uint8_t tsr;
    int tsr_busy;
    int thre_pending; /* THR-empty interrupt latch (cleared by IIR read or THR write) */

    /* host input waiting to be "received" at the line rate */
    uint8_t hq[UART_HOST_QUEUE];
    size_t hq_head, hq_count;

    /* one timer for everything; these are the individual deadlines (CLOCK_NEVER = idle) */
    struct timer timer;
    uint64_t tx_deadline; /* the shift register finishes its character */
    uint64_t rx_deadline; /* the next host byte finishes arriving */
};

/* Registers ports base..base+7 and one clock timer. u must stay at this address (the port table
 * and the clock keep pointers to it). out may be NULL (output discarded). Returns 0, or -1 when the
 * clock's timer table is full or a port is taken. */
int uart16550_init(struct uart16550 *u, struct ioports *io, uint16_t base, struct irq_line irq,
                   struct vclock *vc, const struct chardev_ops *out, void *out_opaque);
/* Hardware reset (the MR pin): registers to their datasheet reset values and FIFOs
 * emptied; the host queue is kept (it is on the far side of the cable). */
void uart16550_reset(struct uart16550 *u);

/* Host input. Returns how many bytes were queued (0..len); the rest must be offered again later.
 * Queued bytes reach the guest one per character time. Call on the machine's thread. */
size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len);
/* Free space in the host-side queue, in bytes. */
int uart16550_can_receive(const struct uart16550 *u);
/* Drives the external modem-status inputs (UART_MSR_* bits); default CTS | DSR | DCD. */
void uart16550_set_modem_inputs(struct uart16550 *u, uint8_t bits);

/* Guest ns one character takes at the current divisor and line format (start, data, parity, stop). */
uint64_t uart16550_char_ns(const struct uart16550 *u);

#endif

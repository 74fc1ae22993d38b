/* A 16550A UART: the register file, RX/TX FIFOs, the prioritised interrupt identification and
 * baud-rate timing, following the National/TI PC16550D datasheet. The IRQ line is gated by OUT2
 * as on every IBM-compatible serial card. */
#include "uart16550.h"

#include <string.h>

/* Register offsets from the base port. */
enum { R_RBR_THR = 0, R_IER = 1, R_IIR_FCR = 2, R_LCR = 3, R_MCR = 4, R_LSR = 5, R_MSR = 6, R_SCR = 7 };

#define IER_RDA 0x01  /* received data available (and character timeout) */
#define IER_THRE 0x02
#define IER_RLS 0x04  /* receiver line status */
#define IER_MS 0x08

#define IIR_NONE 0x01
#define IIR_MS 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_RLS 0x06
#define IIR_CTI 0x0C
#define IIR_FIFO 0xC0

#define FCR_ENABLE 0x01
#define FCR_RX_RESET 0x02
#define FCR_TX_RESET 0x04

#define LCR_DLAB 0x80

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_RXFE 0x80
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_DELTAS 0x0F

static const int rx_trigger_levels[4] = { 1, 4, 8, 14 };

static int fifo_on(const struct uart16550 *u) { return u->fcr & FCR_ENABLE; }
static int loopback(const struct uart16550 *u) { return u->mcr & MCR_LOOP; }
/* In character mode the "FIFOs" are the single RBR and THR. */
static int fifo_cap(const struct uart16550 *u) { return fifo_on(u) ? UART_FIFO_SIZE : 1; }
static uint64_t now_ns(const struct uart16550 *u) { return clock_now(u->vc); }

uint64_t uart16550_char_ns(const struct uart16550 *u)
{
    /* The baud clock is 1.8432 MHz / 16 / divisor = 115200 / divisor. The datasheet leaves a zero
     * divisor undefined; treating it as 1 keeps unprogrammed ports fast rather than stuck. */
    uint64_t div = (uint64_t)u->dll | ((uint64_t)u->dlm << 8);
    if (div == 0)
        div = 1;
    int wl = (u->lcr & 3) + 5;
    int parity = (u->lcr >> 3) & 1;
    /* Counted in half bits because 5-bit words with "2 stop bits" send 1.5. */
    int stop_half = !(u->lcr & 0x04) ? 2 : (wl == 5 ? 3 : 4);
    uint64_t half_bits = (uint64_t)(2 * (1 + wl + parity) + stop_half);
    return (half_bits * div * 1000000000ull + 230399) / 230400;
}

static uint8_t compute_iir(const struct uart16550 *u)
{
    uint8_t id = IIR_NONE;
    int rda = fifo_on(u) ? u->rx_count >= rx_trigger_levels[u->fcr >> 6] : u->rx_count > 0;
    /* Priority order from the datasheet's IIR table, highest first. */
    if ((u->ier & IER_RLS) && (u->lsr & LSR_ERRORS))
        id = IIR_RLS;
    else if ((u->ier & IER_RDA) && rda)
        id = IIR_RDA;
    else if ((u->ier & IER_RDA) && u->timeout_pending)
        id = IIR_CTI;
    else if ((u->ier & IER_THRE) && u->thre_pending)
        id = IIR_THRE;
    else if ((u->ier & IER_MS) && (u->msr & MSR_DELTAS))
        id = IIR_MS;
    return (uint8_t)(id | (fifo_on(u) ? IIR_FIFO : 0));
}

static uint64_t timeout_deadline(const struct uart16550 *u)
{
    if (!fifo_on(u) || u->rx_count == 0 || u->timeout_pending)
        return CLOCK_NEVER;
    return u->rx_last + 4 * uart16550_char_ns(u);
}

/* Re-derives the IRQ level and the timer after any state change. */
static void update(struct uart16550 *u)
{
    /* The PC routes INTRPT through a buffer enabled by OUT2. In loopback the datasheet forces the
     * OUT pins inactive, so the PIC sees nothing even though IIR still reports the source. */
    int level = !(compute_iir(u) & IIR_NONE) && (u->mcr & MCR_OUT2) && !loopback(u);
    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
    uint64_t d = u->tx_deadline;
    if (u->rx_deadline < d)
        d = u->rx_deadline;
    uint64_t t = timeout_deadline(u);
    if (t < d)
        d = t;
    if (d == CLOCK_NEVER)
        timer_disarm(&u->timer);
    else
        timer_arm(&u->timer, d);
}

static void rx_clear(struct uart16550 *u)
{
    u->rx_head = u->rx_count = 0;
    u->timeout_pending = 0;
    u->lsr &= (uint8_t)~(LSR_DR | LSR_RXFE);
}

static void tx_clear(struct uart16550 *u)
{
    /* The holding side empties; a character already in the shift register still goes out. */
    if (u->tx_count)
        u->thre_pending = 1;
    u->tx_head = u->tx_count = 0;
    u->lsr |= LSR_THRE;
    if (!u->tsr_busy)
        u->lsr |= LSR_TEMT;
}

/* A character has been completely received (from the host queue or the loopback path). */
static void rx_push(struct uart16550 *u, uint8_t b, uint64_t now)
{
    if (u->rx_count == fifo_cap(u)) {
        u->lsr |= LSR_OE;
        /* Character mode: the new byte overwrites RBR. FIFO mode: it dies in the shift register. */
        if (!fifo_on(u))
            u->rx[u->rx_head] = b;
    } else {
        u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
        u->rx_count++;
    }
    /* No parity/framing/break errors are ever received, so LSR bit 7 (error in FIFO) stays 0. */
    u->lsr |= LSR_DR;
    u->rx_last = now;
}

static uint8_t rx_pop(struct uart16550 *u, uint64_t now)
{
    uint8_t b = 0;
    if (u->rx_count) {
        b = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
        u->rx_count--;
    }
    if (!u->rx_count)
        u->lsr &= (uint8_t)~LSR_DR;
    /* Reading a character clears a pending timeout and restarts its 4-character timer. */
    u->timeout_pending = 0;
    u->rx_last = now;
    return b;
}

static void tx_finish(struct uart16550 *u, uint64_t now);

/* Moves the next held byte into the shift register; it finishes one character time after t0. */
static void tx_start(struct uart16550 *u, uint64_t t0)
{
    if (u->tsr_busy || !u->tx_count)
        return;
    u->tsr = u->tx[u->tx_head];
    u->tx_head = (u->tx_head + 1) % UART_FIFO_SIZE;
    u->tx_count--;
    u->tsr_busy = 1;
    u->tx_deadline = t0 + (u->instant_tx ? 0 : uart16550_char_ns(u));
    u->lsr &= (uint8_t)~LSR_TEMT;
    if (!u->tx_count) {
        u->lsr |= LSR_THRE;
        u->thre_pending = 1;
    }
    if (u->instant_tx)
        tx_finish(u, t0);
}

static void tx_finish(struct uart16550 *u, uint64_t now)
{
    uint64_t done = u->tx_deadline;
    u->tsr_busy = 0;
    u->tx_deadline = CLOCK_NEVER;
    if (loopback(u))
        rx_push(u, u->tsr, now);
    else if (u->out && u->out->write)
        u->out->write(u->out_opaque, &u->tsr, 1);
    if (u->tx_count)
        tx_start(u, done); /* back to back: the next start bit follows the last stop bit */
    else
        u->lsr |= LSR_TEMT;
}

static void thr_write(struct uart16550 *u, uint8_t b)
{
    if (u->tx_count == fifo_cap(u)) {
        if (!fifo_on(u)) /* character mode: overwrite the unsent THR byte */
            u->tx[u->tx_head] = b;
        /* FIFO mode: a write to a full FIFO is lost, as on the chip */
    } else {
        u->tx[(u->tx_head + u->tx_count) % UART_FIFO_SIZE] = b;
        u->tx_count++;
    }
    u->lsr &= (uint8_t)~(LSR_THRE | LSR_TEMT);
    u->thre_pending = 0;
    tx_start(u, now_ns(u));
}

static void msr_update(struct uart16550 *u)
{
    uint8_t in;
    if (loopback(u)) {
        /* Loopback wires the MCR outputs back to the modem inputs (datasheet, MCR bit 4). */
        in = (uint8_t)(((u->mcr & MCR_DTR) ? UART_MSR_DSR : 0) | ((u->mcr & MCR_RTS) ? UART_MSR_CTS : 0) |
                       ((u->mcr & MCR_OUT1) ? UART_MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? UART_MSR_DCD : 0));
    } else {
        in = u->modem_in;
    }
    uint8_t old = u->msr & 0xF0, chg = old ^ in, delta = 0;
    if (chg & UART_MSR_CTS)
        delta |= MSR_DCTS;
    if (chg & UART_MSR_DSR)
        delta |= MSR_DDSR;
    if ((old & UART_MSR_RI) && !(in & UART_MSR_RI)) /* trailing edge only */
        delta |= MSR_TERI;
    if (chg & UART_MSR_DCD)
        delta |= MSR_DDCD;
    u->msr = (uint8_t)(in | (u->msr & MSR_DELTAS) | delta);
}

/* While in loopback the serial input pin is disconnected: host bytes wait in the queue. */
static void rx_schedule(struct uart16550 *u, uint64_t now)
{
    if (u->hq_count && !loopback(u)) {
        if (u->rx_deadline == CLOCK_NEVER)
            u->rx_deadline = now + uart16550_char_ns(u);
    } else {
        u->rx_deadline = CLOCK_NEVER;
    }
}

static void timer_fire(void *opaque, uint64_t now)
{
    struct uart16550 *u = opaque;
    while (u->tsr_busy && u->tx_deadline <= now)
        tx_finish(u, now);
    if (u->rx_deadline <= now && u->hq_count) {
        /* One byte per firing, no catch-up: if the host thread lagged, the guest did not run
         * either, and a burst would overrun a FIFO it had no chance to drain. */
        uint8_t b = u->hq[u->hq_head];
        u->hq_head = (u->hq_head + 1) % UART_HOST_QUEUE;
        u->hq_count--;
        rx_push(u, b, now);
        u->rx_deadline = CLOCK_NEVER;
        rx_schedule(u, now);
    }
    uint64_t t = timeout_deadline(u);
    if (t <= now)
        u->timeout_pending = 1;
    update(u);
}

static uint32_t uart_in(void *opaque, uint16_t port, int size)
{
    (void)size;
    struct uart16550 *u = opaque;
    uint8_t v = 0xFF;
    switch (port - u->base) {
    case R_RBR_THR:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        v = rx_pop(u, now_ns(u));
        break;
    case R_IER:
        return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
    case R_IIR_FCR:
        v = compute_iir(u);
        /* Reading IIR acknowledges a THRE interrupt only when it is the one reported. */
        if ((v & 0x0F) == IIR_THRE)
            u->thre_pending = 0;
        break;
    case R_LCR:
        return u->lcr;
    case R_MCR:
        return u->mcr;
    case R_LSR:
        v = u->lsr;
        u->lsr &= (uint8_t)~(LSR_ERRORS | LSR_RXFE); /* error bits clear on read */
        break;
    case R_MSR:
        v = u->msr;
        u->msr &= (uint8_t)~MSR_DELTAS;
        break;
    case R_SCR:
        return u->scr;
    }
    update(u);
    return v;
}

static void fcr_write(struct uart16550 *u, uint8_t v)
{
    if ((v ^ u->fcr) & FCR_ENABLE) {
        /* Switching between FIFO and character mode empties both FIFOs. */
        rx_clear(u);
        tx_clear(u);
    }
    if (!(v & FCR_ENABLE)) {
        u->fcr = 0; /* the other bits only program while bit 0 is written as 1 */
        return;
    }
    if (v & FCR_RX_RESET)
        rx_clear(u);
    if (v & FCR_TX_RESET)
        tx_clear(u);
    u->fcr = v & 0xC9; /* enable, DMA mode, trigger level; the reset bits self-clear */
}

static void uart_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)size;
    struct uart16550 *u = opaque;
    uint8_t v = (uint8_t)val;
    switch (port - u->base) {
    case R_RBR_THR:
        if (u->lcr & LCR_DLAB)
            u->dll = v;
        else
            thr_write(u, v);
        break;
    case R_IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            /* Enabling the THRE interrupt while THR is already empty interrupts at once (drivers
             * such as Linux's 8250 probe for exactly this). */
            if ((v & IER_THRE) && !(u->ier & IER_THRE) && (u->lsr & LSR_THRE))
                u->thre_pending = 1;
            u->ier = v & 0x0F;
        }
        break;
    case R_IIR_FCR:
        fcr_write(u, v);
        break;
    case R_LCR:
        u->lcr = v; /* the break bit (6) is stored but no break condition is generated */
        break;
    case R_MCR: {
        int was_loop = loopback(u);
        u->mcr = v & 0x1F;
        msr_update(u);
        if (was_loop != loopback(u))
            rx_schedule(u, now_ns(u));
        break;
    }
    case R_LSR: /* factory test only */
    case R_MSR:
        break;
    case R_SCR:
        u->scr = v;
        break;
    }
    update(u);
}

void uart16550_reset(struct uart16550 *u)
{
    u->ier = u->fcr = u->lcr = u->mcr = u->scr = 0;
    u->dll = u->dlm = 0;
    u->lsr = LSR_THRE | LSR_TEMT;
    u->msr = u->modem_in; /* no deltas after reset */
    u->rx_head = u->rx_count = 0;
    u->tx_head = u->tx_count = 0;
    u->timeout_pending = 0;
    u->thre_pending = 0;
    u->tsr_busy = 0;
    u->tx_deadline = CLOCK_NEVER;
    u->rx_deadline = CLOCK_NEVER;
    u->rx_last = now_ns(u);
    /* The host queue is on the far side of the cable: it survives a reset and keeps arriving. */
    rx_schedule(u, now_ns(u));
    update(u);
}

int uart16550_init(struct uart16550 *u, struct ioports *io, uint16_t base, struct irq_line irq,
                   struct vclock *vc, const struct chardev_ops *out, void *out_opaque)
{
    memset(u, 0, sizeof(*u));
    u->irq = irq;
    u->vc = vc;
    u->out = out;
    u->out_opaque = out_opaque;
    u->base = base;
    /* A host terminal is "connected": CTS, DSR and DCD asserted so polling software proceeds. */
    u->modem_in = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
    if (clock_add_timer(vc, &u->timer, timer_fire, u) < 0)
        return -1;
    uart16550_reset(u);
    struct io_handler h = { uart_in, uart_out, u, 0 };
    return ioports_register(io, base, 8, &h);
}

size_t uart16550_receive(struct uart16550 *u, const uint8_t *buf, size_t len)
{
    size_t n = 0;
    while (n < len && u->hq_count < UART_HOST_QUEUE) {
        u->hq[(u->hq_head + u->hq_count) % UART_HOST_QUEUE] = buf[n++];
        u->hq_count++;
    }
    if (n) {
        rx_schedule(u, now_ns(u));
        update(u);
    }
    return n;
}

int uart16550_can_receive(const struct uart16550 *u)
{
    return (int)(UART_HOST_QUEUE - u->hq_count);
}

void uart16550_set_modem_inputs(struct uart16550 *u, uint8_t bits)
{
    u->modem_in = bits & 0xF0;
    msr_update(u);
    update(u);
}

/* The 8254 interval timer and port 0x61, computed from guest time instead of ticked: a counter's
 * value and OUT at any moment follow from when its count was loaded and its mode's waveform.
 * Follows the Intel 8254 datasheet (231164): modes 0-5, access modes, latch and read-back. */
#include "pit8254.h"

#include <string.h>

#define NEVER UINT64_MAX
#define REFRESH_NS 15085 /* port 0x61 bit 4 toggles with each DRAM refresh request (18 PIT clocks) */

static uint64_t ns_to_tick(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * PIT_HZ / 1000000000u);
}

/* The first guest nanosecond at which tick t has happened (ns_to_tick of it is exactly t). */
static uint64_t tick_to_ns(uint64_t t)
{
    unsigned __int128 ns = ((unsigned __int128)t * 1000000000u + PIT_HZ - 1) / PIT_HZ;
    return ns >= NEVER ? NEVER : (uint64_t)ns;
}

static uint64_t now_tick(const struct pit8254 *p)
{
    return ns_to_tick(clock_now(p->vc));
}

static uint32_t modulus(const struct pit_channel *c)
{
    return c->bcd ? 10000 : 65536;
}

/* OUT at phase p (ticks since the count element was loaded with n), per the datasheet's mode
 * descriptions. Mode 0: low until terminal count. Mode 1: low from the trigger to terminal count.
 * Mode 2: low for the one clock when the count element holds 1. Mode 3: high for (n + 1) / 2 clocks,
 * low for n / 2. Modes 4 and 5: a one-clock low strobe when the count reaches 0. */
static int wave_out(int mode, uint32_t n, uint64_t p)
{
    switch (mode) {
    case 0:
    case 1:
        return p >= n;
    case 2:
        return p % n != n - 1;
    case 3:
        return p % n < (n + 1) / 2;
    default:
        return p != n;
    }
}

/* The count element at phase p. Mode 3 counts down by two: even n from n to 2 in each half; odd n
 * loads n, then takes one (high half) or three (low half) off, then two per clock. */
static uint32_t wave_ce(int mode, uint32_t n, uint64_t p, uint32_t mod)
{
    uint64_t v;
    if (mode == 2) {
        v = n - p % n;
    } else if (mode == 3) {
        uint64_t q = p % n;
        uint64_t hi = (n + 1) / 2;
        if (!(n & 1)) {
            v = n - 2 * (q < hi ? q : q - hi);
        } else if (q < hi) {
            v = q ? n + 1 - 2 * q : n;
        } else {
            q -= hi;
            v = q ? n - 1 - 2 * q : n;
        }
    } else {
        /* Modes 0, 1, 4, 5 keep counting down past terminal count, wrapping at 0. */
        v = ((uint64_t)n + mod - p % mod) % mod;
    }
    return (uint32_t)(v % mod);
}

/* The smallest phase after p at which OUT changes, or NEVER. */
static uint64_t wave_next(int mode, uint32_t n, uint64_t p)
{
    switch (mode) {
    case 0:
    case 1:
        return p < n ? n : NEVER;
    case 2:
        if (n < 2)
            return NEVER;
        return p - p % n + (p % n < n - 1 ? n - 1 : n);
    case 3:
        if (n < 2)
            return NEVER;
        return p - p % n + (p % n < (n + 1) / 2 ? (n + 1) / 2 : n);
    default:
        return p < n ? n : p == n ? (uint64_t)n + 1 : NEVER;
    }
}

/* The count element's n and phase at tick t, or 0 when it holds no running count (idle, or the
 * load is still one clock away). */
static int chan_phase(const struct pit_channel *c, uint64_t t, uint32_t *n, uint64_t *ph)
{
    if (c->run == PIT_PAUSE) {
        *n = c->n;
        *ph = c->paused;
        return 1;
    }
    if (c->run != PIT_RUN)
        return 0;
    uint64_t start = c->start, off = c->off;
    *n = c->n;
    if (t >= c->sw_tick) {
        start = c->sw_start;
        off = c->sw_off;
        *n = c->sw_n;
    }
    if (t < start)
        return 0;
    *ph = t - start + off;
    return 1;
}

static int chan_out_at(const struct pit_channel *c, uint64_t t)
{
    uint32_t n;
    uint64_t ph;
    if (!chan_phase(c, t, &n, &ph))
        return c->out_hold;
    return wave_out(c->mode, n, ph);
}

/* The count element in binary (0 stands for 65536 or 10000). */
static uint32_t chan_ce_at(const struct pit_channel *c, uint64_t t)
{
    uint32_t n;
    uint64_t ph;
    if (!chan_phase(c, t, &n, &ph))
        return c->ce_hold % modulus(c);
    return wave_ce(c->mode, n, ph, modulus(c));
}

/* The first tick after t at which OUT changes, or NEVER. Only a running count has a future. */
static uint64_t chan_next_edge(const struct pit_channel *c, uint64_t t)
{
    if (c->run != PIT_RUN)
        return NEVER;
    uint32_t n;
    uint64_t ph, q;
    if (!chan_phase(c, t, &n, &ph)) {
        /* Waiting for the load at c->start: OUT may change right there (mode 1 goes low). */
        if (wave_out(c->mode, c->n, c->off) != c->out_hold)
            return c->start;
        q = wave_next(c->mode, c->n, c->off);
        return q == NEVER ? NEVER : c->start + (q - c->off);
    }
    q = wave_next(c->mode, n, ph);
    uint64_t e = q == NEVER ? NEVER : t + (q - ph);
    if (t < c->sw_tick && e > c->sw_tick) /* a switch always falls on an edge; never skip it */
        e = c->sw_tick;
    return e;
}

/* Folds a count switch that has taken effect into the current state, so that a new write does
 * not overwrite it. Run after irq_sync: it forgets the waveform before the switch. */
static void chan_settle(struct pit_channel *c, uint64_t t)
{
    if (c->run == PIT_RUN && t >= c->sw_tick) {
        c->start = c->sw_start;
        c->off = c->sw_off;
        c->n = c->sw_n;
        c->sw_tick = NEVER;
    }
}

/* Whether OUT rose at any tick in (a, b]. Edges alternate, so this looks at two at most. */
static int chan_rose(const struct pit_channel *c, uint64_t a, uint64_t b)
{
    for (uint64_t e = chan_next_edge(c, a); e <= b; e = chan_next_edge(c, e))
        if (chan_out_at(c, e))
            return 1;
    return 0;
}

/* Brings IRQ0 up to date with channel 0's OUT at tick t. Timers fire late (the CPU runs whole
 * blocks), so a rise that happened since the last look is replayed as a low-high pulse even if
 * OUT is high again or already low: the PIC latches IRQ0 on the edge and must not miss it. */
static void irq_sync(struct pit8254 *p, uint64_t t)
{
    const struct pit_channel *c = &p->ch[0];
    if (t > p->irq_tick && chan_rose(c, p->irq_tick, t)) {
        if (p->irq_level)
            irq_lower(&p->irq0);
        irq_raise(&p->irq0);
        p->irq_level = 1;
    }
    int out = chan_out_at(c, t);
    if (out != p->irq_level) {
        p->irq_level = out;
        irq_set(&p->irq0, out);
    }
    if (t > p->irq_tick)
        p->irq_tick = t;
}

/* Arms the timer for channel 0's next OUT transition. A one-clock low strobe (modes 2, 4, 5) is
 * one wake-up at its rising end, which irq_sync turns into the pulse: 100 Hz costs 100 callbacks. */
static void irq_arm(struct pit8254 *p, uint64_t t)
{
    const struct pit_channel *c = &p->ch[0];
    uint64_t e = chan_next_edge(c, t);
    if (e != NEVER && !chan_out_at(c, e)) {
        uint64_t rise = chan_next_edge(c, e);
        if (rise == e + 1)
            e = rise;
    }
    if (e == NEVER)
        timer_disarm(&p->timer);
    else
        timer_arm(&p->timer, tick_to_ns(e));
}

static void pit_timer(void *opaque, uint64_t now)
{
    struct pit8254 *p = opaque;
    uint64_t t = ns_to_tick(now);
    irq_sync(p, t);
    chan_settle(&p->ch[0], t);
    irq_arm(p, t);
}

static uint16_t to_bcd(uint32_t v)
{
    return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static uint32_t from_bcd(uint32_t raw)
{
    return ((raw >> 12) & 15) * 1000 + ((raw >> 8) & 15) * 100 + ((raw >> 4) & 15) * 10 + (raw & 15);
}

/* The count as the data bus shows it: binary, or four BCD digits. */
static uint16_t chan_read_value(const struct pit_channel *c, uint64_t t)
{
    uint32_t v = chan_ce_at(c, t);
    return c->bcd ? to_bcd(v) : (uint16_t)v;
}

/* Counter latch: the first latch holds until read; a second one before that is ignored. */
static void chan_latch_count(struct pit_channel *c, uint64_t t)
{
    if (c->latch_state)
        return;
    c->latched = chan_read_value(c, t);
    c->latch_state = c->rw;
}

static void chan_latch_status(struct pit_channel *c, uint64_t t)
{
    if (c->status_latched)
        return;
    int null_count = t < c->load_tick;
    c->status = (uint8_t)(chan_out_at(c, t) << 7 | null_count << 6 | c->rw << 4 | c->ctrl_mode << 1 | c->bcd);
    c->status_latched = 1;
}

/* Starts the count element on n at the next clock (the 8254 loads on the CLK after the write or
 * trigger), remembering what OUT and the count show until then. */
static void chan_load(struct pit_channel *c, uint64_t t, uint32_t n, int out_before)
{
    c->ce_hold = chan_ce_at(c, t);
    c->out_hold = (uint8_t)out_before;
    c->run = PIT_RUN;
    c->n = n;
    c->start = t + 1;
    c->off = 0;
    c->sw_tick = NEVER;
    c->load_tick = t + 1;
}

/* Control word: resets the counter's logic and puts OUT in the mode's initial state. */
static void chan_control(struct pit_channel *c, uint8_t v, uint64_t t)
{
    c->ce_hold = chan_ce_at(c, t);
    c->rw = (v >> 4) & 3;
    c->ctrl_mode = (v >> 1) & 7;
    c->mode = c->ctrl_mode > 5 ? c->ctrl_mode - 4 : c->ctrl_mode;
    c->bcd = v & 1;
    c->run = PIT_IDLE;
    c->written = 0;
    c->out_hold = c->mode != 0;
    c->load_tick = NEVER;
    c->sw_tick = NEVER;
    c->write_msb = 0;
    c->read_msb = 0;
    c->latch_state = 0;
    c->status_latched = 0;
}

/* A complete count was written. How it takes effect depends on the mode (datasheet, "Mode
 * definitions": "new count written during counting"). */
static void chan_write_count(struct pit_channel *c, uint32_t raw, uint64_t t)
{
    uint32_t n = c->bcd ? from_bcd(raw) : raw;
    if (n == 0)
        n = modulus(c);
    c->count = n;
    c->written = 1;
    switch (c->mode) {
    case 0:
    case 4: /* loaded on the next clock; counting restarts from it (mode 0: OUT low until TC) */
        chan_load(c, t, n, c->mode == 0 ? 0 : 1);
        if (!c->gate) { /* loaded but not counting until the gate rises */
            c->run = PIT_PAUSE;
            c->paused = 0;
        }
        break;
    case 1:
    case 5: /* waits for a gate trigger; a one-shot already running is not disturbed */
        c->load_tick = NEVER;
        break;
    default: { /* 2, 3 */
        uint32_t cur;
        uint64_t ph;
        if (c->run == PIT_RUN && chan_phase(c, t, &cur, &ph)) {
            /* Running: the current period (mode 2) or half-cycle (mode 3) finishes first. */
            uint64_t q = ph % cur, hi = (cur + 1) / 2;
            if (c->mode == 3 && q < hi) {
                c->sw_tick = t + (hi - q);
                c->sw_off = (n + 1) / 2; /* the new count starts in its low half */
            } else {
                c->sw_tick = t + (cur - q);
                c->sw_off = 0;
            }
            c->sw_start = c->sw_tick;
            c->sw_n = n;
            c->load_tick = c->sw_tick;
        } else if (c->run == PIT_RUN) {
            c->n = n; /* the load one clock away takes the newest count */
        } else if (c->gate) {
            chan_load(c, t, n, 1);
        } else {
            c->load_tick = NEVER; /* loaded when the gate rises */
        }
        break;
    }
    }
}

static void chan_write(struct pit_channel *c, uint8_t v, uint64_t t)
{
    switch (c->rw) {
    case 1:
        chan_write_count(c, v, t);
        break;
    case 2:
        chan_write_count(c, (uint32_t)v << 8, t);
        break;
    default:
        if (!c->write_msb) {
            c->write_lsb = v;
            c->write_msb = 1;
            if (c->mode == 0) { /* mode 0: the first byte stops counting and drops OUT at once */
                c->ce_hold = chan_ce_at(c, t);
                c->out_hold = 0;
                c->run = PIT_IDLE;
                c->sw_tick = NEVER;
            }
        } else {
            c->write_msb = 0;
            chan_write_count(c, c->write_lsb | (uint32_t)v << 8, t);
        }
        break;
    }
}

static uint8_t chan_read(struct pit_channel *c, uint64_t t)
{
    if (c->status_latched) { /* read-back: status comes before a count latched with it */
        c->status_latched = 0;
        return c->status;
    }
    if (c->latch_state) {
        uint8_t st = c->latch_state;
        c->latch_state = st == 3 ? 2 : 0;
        return st == 2 ? (uint8_t)(c->latched >> 8) : (uint8_t)c->latched;
    }
    uint16_t v = chan_read_value(c, t);
    switch (c->rw) {
    case 1:
        return (uint8_t)v;
    case 2:
        return (uint8_t)(v >> 8);
    default:
        c->read_msb ^= 1;
        return c->read_msb ? (uint8_t)v : (uint8_t)(v >> 8);
    }
}

/* The gate input (channel 2 only; 0 and 1 are tied high on a PC). Datasheet "Gate pin operations
 * summary": low stops counting in modes 0, 2, 3, 4 (and forces OUT high in 2 and 3); a rising edge
 * triggers modes 1 and 5 and restarts modes 2 and 3. */
static void chan_set_gate(struct pit_channel *c, int g, uint64_t t)
{
    if (g == c->gate)
        return;
    c->gate = (uint8_t)g;
    uint32_t n;
    uint64_t ph;
    switch (c->mode) {
    case 0:
    case 4:
        if (g && c->run == PIT_PAUSE) {
            c->run = PIT_RUN;
            c->start = t;
            c->off = c->paused;
        } else if (!g && c->run == PIT_RUN) {
            c->paused = chan_phase(c, t, &n, &ph) ? ph : 0;
            c->run = PIT_PAUSE;
        }
        break;
    case 1:
    case 5:
        if (g && c->written) /* mode 1 OUT goes low with the load; mode 5 stays high until TC */
            chan_load(c, t, c->count, chan_out_at(c, t));
        break;
    default:
        if (g) {
            if (c->written)
                chan_load(c, t, c->count, 1);
        } else {
            c->ce_hold = chan_ce_at(c, t);
            c->out_hold = 1;
            c->run = PIT_IDLE;
            c->sw_tick = NEVER;
            if (c->load_tick > t)
                c->load_tick = NEVER;
        }
        break;
    }
}

static uint8_t port61_read(struct pit8254 *p, uint64_t t)
{
    uint64_t ns = clock_now(p->vc);
    int refresh = (int)((ns / REFRESH_NS) & 1);
    return (uint8_t)((p->port61 & 0x0F) | refresh << 4 | chan_out_at(&p->ch[2], t) << 5);
}

static uint32_t pit_in(void *opaque, uint16_t port, int size)
{
    (void)size;
    struct pit8254 *p = opaque;
    uint64_t t = now_tick(p);
    if (port == 0x61)
        return port61_read(p, t);
    if (port == 0x43)
        return 0xFF; /* the control register is write-only; the data bus floats */
    return chan_read(&p->ch[port - 0x40], t);
}

static void pit_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)size;
    struct pit8254 *p = opaque;
    uint8_t v = (uint8_t)val;
    uint64_t t = now_tick(p);
    irq_sync(p, t); /* what channel 0 did under its old programming happened first */
    for (int i = 0; i < 3; i++)
        chan_settle(&p->ch[i], t);
    if (port == 0x61) {
        p->port61 = v & 0x0F;
        chan_set_gate(&p->ch[2], v & 1, t);
    } else if (port == 0x43) {
        int sc = v >> 6;
        if (sc == 3) { /* read-back: bit 5 low latches counts, bit 4 low latches status */
            for (int i = 0; i < 3; i++) {
                if (!(v & (2 << i)))
                    continue;
                if (!(v & 0x20))
                    chan_latch_count(&p->ch[i], t);
                if (!(v & 0x10))
                    chan_latch_status(&p->ch[i], t);
            }
        } else if (((v >> 4) & 3) == 0) {
            chan_latch_count(&p->ch[sc], t);
        } else {
            chan_control(&p->ch[sc], v, t);
        }
    } else {
        chan_write(&p->ch[port - 0x40], v, t);
    }
    irq_sync(p, t);
    irq_arm(p, t);
}

int pit8254_out(struct pit8254 *p, int ch)
{
    if (ch < 0 || ch > 2)
        return 0;
    return chan_out_at(&p->ch[ch], now_tick(p));
}

int pit8254_speaker(struct pit8254 *p, uint32_t *hz)
{
    struct pit_channel *c = &p->ch[2];
    chan_settle(c, now_tick(p));
    if ((p->port61 & 3) != 3 || c->mode != 3 || c->run != PIT_RUN || c->n < 2)
        return 0;
    if (hz)
        *hz = PIT_HZ / c->n;
    return 1;
}

int pit8254_init(struct pit8254 *p, struct ioports *io, struct vclock *vc, struct irq_line irq0)
{
    memset(p, 0, sizeof(*p));
    p->vc = vc;
    p->irq0 = irq0;
    /* Power-on counter state is undefined until the BIOS programs it: idle, OUT low, IRQ0 low. */
    for (int i = 0; i < 3; i++) {
        struct pit_channel *c = &p->ch[i];
        c->rw = 3;
        c->gate = i != 2; /* channel 2's gate is port 0x61 bit 0, which resets to 0 */
        c->count = c->n = 65536;
        c->load_tick = NEVER;
        c->sw_tick = NEVER;
    }
    p->irq_tick = now_tick(p);
    if (clock_add_timer(vc, &p->timer, pit_timer, p))
        return -1;
    struct io_handler h = { pit_in, pit_out, p, 0 };
    if (ioports_register(io, 0x40, 4, &h) || ioports_register(io, 0x61, 1, &h))
        return -1;
    return 0;
}

/* The dual 8259A interrupt controller of a PC/AT with the PIIX3's ELCR edge/level registers.
 * Follows the Intel 8259A datasheet (231468): ICW1-4, OCW1-3, priority rotation, special mask
 * and special fully nested modes, poll, spurious IR7; ELCR as in the Intel 82371SB datasheet. */
#include "pic8259.h"

#include <string.h>

#define MASTER 0
#define SLAVE 1
#define CASCADE_IR 2 /* the master input the slave's INT drives on a PC */

/* PIIX3: IRQ 0, 1, 2 (master) and 8, 13 (slave) are wired edge-only; their ELCR bits read 0. */
static const uint8_t elcr_writable[2] = { 0xF8, 0xDE };

/* The level at priority prio (0 is the highest): with rotation the highest level is lowest + 1. */
static int level_of(const struct pic8259_chip *c, int prio)
{
    return (prio + c->lowest + 1) & 7;
}

/* The highest-priority level set in bits, as a priority (0-7), or 8 when bits is empty. */
static int best_prio(const struct pic8259_chip *c, uint8_t bits)
{
    for (int pr = 0; pr < 8; pr++)
        if (bits & (1u << level_of(c, pr)))
            return pr;
    return 8;
}

static int cascaded(const struct pic8259 *p)
{
    const struct pic8259_chip *m = &p->chip[MASTER];
    return !m->single && (m->icw3 & (1u << CASCADE_IR));
}

/* The level this chip would hand the CPU now, or -1. A request wins if it beats every in-service
 * level. In special mask mode an ISR bit that is masked blocks nothing, which is what lets a
 * handler open lower priorities (datasheet: "Special Mask Mode"). In special fully nested mode the
 * master also accepts its cascade input while that input is in service, so a higher-priority
 * slave request can nest inside a lower one. */
static int chip_get_irq(const struct pic8259 *p, int idx)
{
    const struct pic8259_chip *c = &p->chip[idx];
    uint8_t req = c->irr & (uint8_t)~c->imr;
    if (!req)
        return -1;
    int pr = best_prio(c, req);
    uint8_t busy = c->isr;
    if (c->smm)
        busy &= (uint8_t)~c->imr;
    int cur = best_prio(c, busy);
    int level = level_of(c, pr);
    if (pr < cur)
        return level;
    if (idx == MASTER && c->sfnm && cascaded(p) && level == CASCADE_IR && cur == pr)
        return level;
    return -1;
}

static int is_level(const struct pic8259_chip *c, int level)
{
    return (c->elcr >> level) & 1;
}

/* An input changes: edge-triggered inputs latch IRR on 0 -> 1 and keep it until INTA (so sources
 * that pulse their line, see irq_pulse, are not lost); level-triggered inputs follow the line. */
static void chip_input(struct pic8259_chip *c, int level, int high)
{
    uint8_t bit = (uint8_t)(1u << level);
    if (high) {
        if (is_level(c, level) || !(c->lines & bit))
            c->irr |= bit;
        c->lines |= bit;
    } else {
        c->lines &= (uint8_t)~bit;
        if (is_level(c, level))
            c->irr &= (uint8_t)~bit;
    }
}

/* Recomputes the slave's INT into the master's IR2 and the master's INT into the CPU. */
static void pic_update(struct pic8259 *p)
{
    if (cascaded(p))
        chip_input(&p->chip[MASTER], CASCADE_IR, chip_get_irq(p, SLAVE) >= 0);
    int lvl = chip_get_irq(p, MASTER) >= 0;
    if (lvl != p->int_level) {
        p->int_level = lvl;
        irq_set(&p->intr, lvl);
    }
}

/* The acknowledge half of INTA (or of a poll): level goes in service unless automatic EOI. */
static void chip_intack(struct pic8259 *p, int idx, int level)
{
    struct pic8259_chip *c = &p->chip[idx];
    uint8_t bit = (uint8_t)(1u << level);
    if (!is_level(c, level))
        c->irr &= (uint8_t)~bit;
    if (c->aeoi) {
        if (c->rotate_aeoi)
            c->lowest = (uint8_t)level;
    } else {
        c->isr |= bit;
    }
    /* The slave's INT may stay high across the acknowledge (another request, automatic EOI).
     * Forget the cascade input's level so pic_update latches it again as a new request rather
     * than losing it: the master takes it once IR2 leaves service. */
    if (idx == MASTER && level == CASCADE_IR && cascaded(p))
        c->lines &= (uint8_t)~bit;
}

int pic8259_ack(struct pic8259 *p)
{
    struct pic8259_chip *m = &p->chip[MASTER], *s = &p->chip[SLAVE];
    int vec;
    int irq = chip_get_irq(p, MASTER);
    if (irq < 0) {
        /* The request went away between INT and INTA: the datasheet's default IR7. */
        vec = m->vbase + 7;
    } else if (irq == CASCADE_IR && cascaded(p)) {
        chip_intack(p, MASTER, irq);
        int irq2 = chip_get_irq(p, SLAVE);
        if (irq2 < 0) {
            vec = s->vbase + 7; /* the slave's own default IR7; the master's IR2 stays in service */
        } else {
            chip_intack(p, SLAVE, irq2);
            vec = s->vbase + irq2;
        }
    } else {
        chip_intack(p, MASTER, irq);
        vec = m->vbase + irq;
    }
    pic_update(p);
    return vec;
}

int pic8259_intr_ack(void *opaque)
{
    return pic8259_ack(opaque);
}

int pic8259_pending(const struct pic8259 *p)
{
    return p->int_level;
}

void pic8259_set_irq(void *opaque, int irq, int level)
{
    struct pic8259 *p = opaque;
    if (irq < 0 || irq > 15 || irq == CASCADE_IR)
        return;
    chip_input(&p->chip[irq >> 3], irq & 7, level != 0);
    pic_update(p);
}

/* Poll (OCW3 P): this read is the acknowledge; it returns 0x80 | level, or 0 with nothing pending. */
static uint8_t chip_poll(struct pic8259 *p, int idx)
{
    struct pic8259_chip *c = &p->chip[idx];
    c->poll = 0;
    int irq = chip_get_irq(p, idx);
    if (irq < 0)
        return 0;
    chip_intack(p, idx, irq);
    pic_update(p);
    return (uint8_t)(0x80 | irq);
}

/* Non-specific EOI clears the highest-priority in-service level; in special mask mode a masked
 * ISR bit is left alone (datasheet note under "Special Mask Mode"). Returns the level, or -1. */
static int chip_eoi_nonspecific(struct pic8259_chip *c)
{
    uint8_t cand = c->isr;
    if (c->smm)
        cand &= (uint8_t)~c->imr;
    int pr = best_prio(c, cand);
    if (pr == 8)
        return -1;
    int level = level_of(c, pr);
    c->isr &= (uint8_t)~(1u << level);
    return level;
}

static void chip_ocw2(struct pic8259_chip *c, uint8_t v)
{
    int level = v & 7;
    switch (v >> 5) {
    case 1: /* non-specific EOI */
        chip_eoi_nonspecific(c);
        break;
    case 3: /* specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        break;
    case 5: { /* rotate on non-specific EOI: the level just served becomes the lowest */
        int l = chip_eoi_nonspecific(c);
        if (l >= 0)
            c->lowest = (uint8_t)l;
        break;
    }
    case 4: /* rotate in automatic EOI mode: set */
        c->rotate_aeoi = 1;
        break;
    case 0: /* rotate in automatic EOI mode: clear */
        c->rotate_aeoi = 0;
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << level);
        c->lowest = (uint8_t)level;
        break;
    case 6: /* set priority: level becomes the lowest */
        c->lowest = (uint8_t)level;
        break;
    default: /* 2: no operation */
        break;
    }
}

static void chip_ocw3(struct pic8259_chip *c, uint8_t v)
{
    if (v & 0x04)
        c->poll = 1;
    if (v & 0x02) /* RR: RIS selects which register even-port reads return */
        c->read_isr = v & 1;
    if (v & 0x40) /* ESMM: SMM sets or resets special mask mode */
        c->smm = (v >> 5) & 1;
}

/* ICW1 restarts initialisation. Datasheet "Initialization Command Words": the edge sense circuit
 * is reset (an input must go low then high again to request), IMR is cleared, IR7 gets the lowest
 * priority, special mask mode is cleared, status read selects IRR, and without IC4 every ICW4
 * function is zero. ISR and pending requests are dropped, as a restart of the controller does.
 * LTIM (bit 3) is ignored: on the PIIX3 the ELCR replaces it. */
static void chip_icw1(struct pic8259_chip *c, uint8_t v)
{
    c->ic4 = v & 1;
    c->single = (v >> 1) & 1;
    c->init_step = 2;
    c->imr = 0;
    c->isr = 0;
    c->irr = c->elcr & c->lines; /* level inputs still follow their lines */
    c->lowest = 7;
    c->smm = 0;
    c->read_isr = 0;
    c->poll = 0;
    c->rotate_aeoi = 0;
    if (!c->ic4) {
        c->aeoi = 0;
        c->sfnm = 0;
    }
}

static void chip_write_odd(struct pic8259_chip *c, uint8_t v)
{
    switch (c->init_step) {
    case 2: /* ICW2: vector base (8086 mode: T7-T3, the level fills the low 3 bits) */
        c->vbase = v & 0xF8;
        c->init_step = c->single ? (c->ic4 ? 4 : 0) : 3;
        break;
    case 3: /* ICW3 */
        c->icw3 = v;
        c->init_step = c->ic4 ? 4 : 0;
        break;
    case 4: /* ICW4: uPM (8086 mode assumed), AEOI, buffered mode (no effect here), SFNM */
        c->aeoi = (v >> 1) & 1;
        c->sfnm = (v >> 4) & 1;
        c->init_step = 0;
        break;
    default: /* OCW1 */
        c->imr = v;
        break;
    }
}

static uint32_t pic_in(void *opaque, uint16_t port, int size)
{
    (void)size;
    struct pic8259 *p = opaque;
    int idx = (port & 0x80) ? SLAVE : MASTER;
    struct pic8259_chip *c = &p->chip[idx];
    if (c->poll) /* any read after a poll command is the poll, at either address */
        return chip_poll(p, idx);
    if (port & 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static void pic_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)size;
    struct pic8259 *p = opaque;
    struct pic8259_chip *c = &p->chip[(port & 0x80) ? SLAVE : MASTER];
    uint8_t v = (uint8_t)val;
    if (port & 1)
        chip_write_odd(c, v);
    else if (v & 0x10)
        chip_icw1(c, v);
    else if (v & 0x08)
        chip_ocw3(c, v);
    else
        chip_ocw2(c, v);
    pic_update(p);
}

static uint32_t elcr_in(void *opaque, uint16_t port, int size)
{
    (void)size;
    struct pic8259 *p = opaque;
    return p->chip[port & 1].elcr;
}

static void elcr_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)size;
    struct pic8259 *p = opaque;
    struct pic8259_chip *c = &p->chip[port & 1];
    uint8_t old = c->elcr;
    c->elcr = (uint8_t)val & c->elcr_rw;
    /* Inputs that became level-triggered now request exactly while their line is high. */
    uint8_t now_level = c->elcr & (uint8_t)~old;
    c->irr = (uint8_t)((c->irr & (uint8_t)~now_level) | (c->lines & now_level));
    pic_update(p);
}

static void chip_reset(struct pic8259_chip *c, uint8_t vbase, uint8_t icw3, uint8_t elcr_rw)
{
    uint8_t lines = c->lines;
    memset(c, 0, sizeof(*c));
    c->lines = lines;
    c->vbase = vbase;
    c->icw3 = icw3;
    c->lowest = 7;
    c->elcr_rw = elcr_rw;
}

void pic8259_reset(struct pic8259 *p)
{
    /* The chip's power-on state is undefined until the BIOS runs ICW1-4; these are the values the
     * PC BIOS programs (vectors 08h and 70h, slave on IR2), so a guest that skips them still works. */
    chip_reset(&p->chip[MASTER], 0x08, 1u << CASCADE_IR, elcr_writable[MASTER]);
    chip_reset(&p->chip[SLAVE], 0x70, CASCADE_IR, elcr_writable[SLAVE]);
    pic_update(p);
}

int pic8259_init(struct pic8259 *p, struct ioports *io, struct irq_line intr)
{
    memset(p, 0, sizeof(*p));
    p->intr = intr;
    pic8259_reset(p);
    struct io_handler h = { pic_in, pic_out, p, 0 };
    struct io_handler e = { elcr_in, elcr_out, p, 0 };
    if (ioports_register(io, 0x20, 2, &h) || ioports_register(io, 0xA0, 2, &h) ||
        ioports_register(io, 0x4D0, 2, &e))
        return -1;
    return 0;
}

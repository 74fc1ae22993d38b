/* IRQ lines: a device holds a line and drives its level; the receiver (PIC, IOAPIC, CPU) is a
 * callback with an opaque pointer and a pin number, so devices never see who listens (TinyEMU's
 * model). Edge-triggered receivers act on the 0 -> 1 transition. */
#ifndef JITPC_DEVICES_IRQ_H
#define JITPC_DEVICES_IRQ_H

#include <stdint.h>

struct irq_line {
    void (*set)(void *opaque, int pin, int level);
    void *opaque;
    int pin;
};

static inline void irq_set(const struct irq_line *l, int level)
{
    if (l->set)
        l->set(l->opaque, l->pin, level);
}

static inline void irq_raise(const struct irq_line *l) { irq_set(l, 1); }
static inline void irq_lower(const struct irq_line *l) { irq_set(l, 0); }
/* An edge: raise then lower, for sources that signal events rather than hold a level. */
static inline void irq_pulse(const struct irq_line *l)
{
    irq_set(l, 1);
    irq_set(l, 0);
}

/* Several sources on one ISA IRQ (COM1 and COM3 on IRQ 4): the line is high while any is. */
struct irq_share {
    struct irq_line out;
    uint32_t levels; /* bit n: input n's level */
};

static inline void irq_share_set(void *opaque, int pin, int level)
{
    struct irq_share *s = opaque;
    uint32_t before = s->levels;
    if (level)
        s->levels |= 1u << pin;
    else
        s->levels &= ~(1u << pin);
    if (!before != !s->levels)
        irq_set(&s->out, s->levels != 0);
}

#endif

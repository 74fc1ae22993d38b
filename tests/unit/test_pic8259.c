/* Unit tests of the dual 8259A PIC through its I/O ports, as a BIOS or kernel programs it:
 * initialisation, masking, edge and level inputs, cascade, priority and rotation, EOI kinds,
 * automatic EOI, spurious IRQ 7/15, poll, special mask and special fully nested modes, ELCR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../devices/pic8259.h"

struct rig {
    struct ioports io;
    struct pic8259 pic;
    int intr;   /* the CPU's INTR pin */
    int raises; /* 0 -> 1 transitions seen on it */
};

static void cpu_intr(void *opaque, int pin, int level)
{
    (void)pin;
    struct rig *r = opaque;
    if (level && !r->intr)
        r->raises++;
    r->intr = level;
}

static void outb(struct rig *r, uint16_t port, uint8_t v) { io_out(&r->io, port, 1, v); }
static uint8_t inb(struct rig *r, uint16_t port) { return (uint8_t)io_in(&r->io, port, 1); }
static void irq(struct rig *r, int n, int level) { pic8259_set_irq(&r->pic, n, level); }

/* The sequence a PC kernel uses: cascade, ICW4 with 8086 mode; master vectors 0x20, slave 0x28. */
static void program(struct rig *r, uint8_t icw4_master, uint8_t icw4_slave)
{
    outb(r, 0x20, 0x11);
    outb(r, 0x21, 0x20);
    outb(r, 0x21, 0x04);
    outb(r, 0x21, icw4_master);
    outb(r, 0xA0, 0x11);
    outb(r, 0xA1, 0x28);
    outb(r, 0xA1, 0x02);
    outb(r, 0xA1, icw4_slave);
    outb(r, 0x21, 0x00);
    outb(r, 0xA1, 0x00);
}

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    ioports_init(&r->io);
    struct irq_line intr = { cpu_intr, r, 0 };
    assert_int_equal(pic8259_init(&r->pic, &r->io, intr), 0);
    program(r, 0x01, 0x01);
    return r;
}

static uint8_t read_isr(struct rig *r, uint16_t port)
{
    outb(r, port, 0x0B);
    return inb(r, port);
}

static uint8_t read_irr(struct rig *r, uint16_t port)
{
    outb(r, port, 0x0A);
    return inb(r, port);
}

static void eoi_master(struct rig *r) { outb(r, 0x20, 0x20); }
static void eoi_slave(struct rig *r) { outb(r, 0xA0, 0x20); }

static void test_init_sequence_sets_vector_base(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    irq(r, 1, 1);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x21);
    irq(r, 1, 0);
    eoi_master(r);
    /* Single controller, no ICW4: ICW2's low three bits are ignored, then the odd port is OCW1. */
    outb(r, 0x20, 0x12);
    outb(r, 0x21, 0x47);
    outb(r, 0x21, 0xF5); /* no ICW3 or ICW4 expected: this is the mask */
    assert_int_equal(inb(r, 0x21), 0xF5);
    irq(r, 3, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x43);
    free(r);
}

static void test_icw1_clears_mask_and_in_service(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x21, 0xFF);
    irq(r, 4, 1);
    outb(r, 0x21, 0x00);
    assert_int_equal(pic8259_ack(&r->pic), 0x24);
    assert_int_equal(read_isr(r, 0x20), 0x10);
    program(r, 0x01, 0x01);
    assert_int_equal(inb(r, 0x21), 0x00);
    assert_int_equal(read_isr(r, 0x20), 0x00);
    /* The edge sense circuit was reset: the line is still high, so no request until it rises again. */
    assert_int_equal(read_irr(r, 0x20), 0x00);
    assert_int_equal(r->intr, 0);
    irq(r, 4, 0);
    irq(r, 4, 1);
    assert_int_equal(r->intr, 1);
    free(r);
}

static void test_masked_irq_not_delivered_until_unmasked(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x21, 0x08);
    irq(r, 3, 1);
    irq(r, 3, 0); /* an edge while masked is still latched in IRR */
    assert_int_equal(r->intr, 0);
    assert_int_equal(read_irr(r, 0x20), 0x08);
    outb(r, 0x21, 0x00);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x23);
    /* Masking the slave's input hides slave IRQs the same way. */
    outb(r, 0x20, 0x63);
    outb(r, 0xA1, 0x10);
    irq(r, 12, 1);
    assert_int_equal(r->intr, 0);
    outb(r, 0xA1, 0x00);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x2C);
    free(r);
}

static void test_edge_irq_requests_once_per_rising_edge(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    irq(r, 6, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x26);
    eoi_master(r);
    assert_int_equal(r->intr, 0); /* the line is still high, but there was only one edge */
    irq(r, 6, 1);
    assert_int_equal(r->intr, 0);
    irq(r, 6, 0);
    irq(r, 6, 1);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x26);
    eoi_master(r);
    /* A pulse (raise then lower before INTA) stays latched, as irq_pulse sources need. */
    irq(r, 6, 0);
    irq(r, 6, 1);
    irq(r, 6, 0);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x26);
    free(r);
}

static void test_level_irq_stays_requested_until_lowered(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x4D1, 0x08); /* IRQ 11 level-triggered */
    irq(r, 11, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x2B);
    assert_int_equal(r->intr, 0); /* in service */
    eoi_slave(r);
    eoi_master(r);
    assert_int_equal(r->intr, 1); /* still high: requested again */
    assert_int_equal(pic8259_ack(&r->pic), 0x2B);
    irq(r, 11, 0); /* the handler quietened the device */
    eoi_slave(r);
    eoi_master(r);
    assert_int_equal(r->intr, 0);
    assert_int_equal(read_irr(r, 0xA0), 0x00);
    free(r);
}

static void test_slave_irq_arrives_through_cascade_with_slave_vector(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    irq(r, 14, 1);
    assert_int_equal(r->intr, 1);
    assert_int_equal(read_irr(r, 0x20), 0x04); /* the slave's INT shows as master IR2 */
    assert_int_equal(pic8259_ack(&r->pic), 0x2E);
    assert_int_equal(read_isr(r, 0x20), 0x04);
    assert_int_equal(read_isr(r, 0xA0), 0x40);
    /* A second slave request waits for both EOIs (slave, then master, as Linux does). */
    irq(r, 9, 1);
    assert_int_equal(r->intr, 0);
    eoi_slave(r);
    assert_int_equal(r->intr, 0);
    eoi_master(r);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x29);
    /* Master levels above IR2 still preempt a slave IRQ in service. */
    irq(r, 1, 1);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x21);
    free(r);
}

static void test_priority_resolves_lowest_level_first_and_nests(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    irq(r, 5, 1);
    irq(r, 3, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x23);
    assert_int_equal(r->intr, 0); /* 5 is below 3, which is in service */
    irq(r, 1, 1);
    assert_int_equal(r->intr, 1); /* 1 nests above 3 */
    assert_int_equal(pic8259_ack(&r->pic), 0x21);
    assert_int_equal(read_isr(r, 0x20), 0x0A);
    eoi_master(r); /* clears 1, the highest in service */
    assert_int_equal(read_isr(r, 0x20), 0x08);
    assert_int_equal(r->intr, 0);
    eoi_master(r);
    assert_int_equal(pic8259_ack(&r->pic), 0x25);
    free(r);
}

static void test_rotation_changes_priority_order(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    /* Set priority: level 3 lowest, so 4 is highest and 2 comes after 7, 0, 1. */
    outb(r, 0x20, 0xC3);
    irq(r, 1, 1);
    irq(r, 5, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x25);
    /* Rotate on non-specific EOI: 5 becomes the lowest, 6 the highest. */
    outb(r, 0x20, 0xA0);
    irq(r, 6, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x26);
    outb(r, 0x20, 0xA0); /* now 7 highest, 6 lowest */
    irq(r, 7, 1);
    irq(r, 0, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x27);
    /* Rotate on specific EOI naming 7: 0 becomes the highest. */
    outb(r, 0x20, 0xE7);
    assert_int_equal(pic8259_ack(&r->pic), 0x20);
    eoi_master(r);
    assert_int_equal(pic8259_ack(&r->pic), 0x21);
    free(r);
}

static void test_specific_eoi_clears_only_the_named_level(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    irq(r, 4, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x24);
    irq(r, 3, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x23);
    assert_int_equal(read_isr(r, 0x20), 0x18);
    outb(r, 0x20, 0x64); /* specific EOI for 4, below the 3 still in service */
    assert_int_equal(read_isr(r, 0x20), 0x08);
    outb(r, 0x20, 0x63);
    assert_int_equal(read_isr(r, 0x20), 0x00);
    free(r);
}

static void test_auto_eoi_leaves_isr_clear(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    program(r, 0x03, 0x03);
    irq(r, 5, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x25);
    assert_int_equal(read_isr(r, 0x20), 0x00);
    irq(r, 6, 1); /* nothing in service, so a lower level is taken at once */
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x26);
    /* Slave in automatic EOI too: two slave requests arrive back to back without any EOI. */
    irq(r, 10, 1);
    irq(r, 12, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x2A);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x2C);
    assert_int_equal(r->intr, 0);
    assert_int_equal(read_isr(r, 0xA0), 0x00);
    free(r);
}

static void test_rotate_in_auto_eoi_mode(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    program(r, 0x03, 0x01);
    outb(r, 0x20, 0x80); /* rotate in AEOI: a served level drops to the lowest priority */
    irq(r, 1, 1);
    irq(r, 3, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x21);
    irq(r, 1, 0);
    irq(r, 1, 1); /* 1 again, but it is now the lowest: 3 goes first */
    assert_int_equal(pic8259_ack(&r->pic), 0x23);
    assert_int_equal(pic8259_ack(&r->pic), 0x21);
    free(r);
}

static void test_spurious_irq7_when_request_drops_before_inta(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x4D0, 0x20); /* IRQ 5 level-triggered */
    irq(r, 5, 1);
    assert_int_equal(r->intr, 1);
    irq(r, 5, 0);
    assert_int_equal(pic8259_ack(&r->pic), 0x27);
    assert_int_equal(read_isr(r, 0x20), 0x00); /* the spurious level is not put in service */
    /* Masked between INT and INTA: the same default IR7. */
    irq(r, 4, 1);
    outb(r, 0x21, 0x10);
    assert_int_equal(pic8259_ack(&r->pic), 0x27);
    assert_int_equal(read_isr(r, 0x20), 0x00);
    free(r);
}

static void test_spurious_irq15_when_slave_request_drops(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x4D1, 0x04); /* IRQ 10 level-triggered */
    irq(r, 10, 1);
    irq(r, 10, 0); /* the slave's INT falls, but the master latched the edge on IR2 */
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x2F);
    assert_int_equal(read_isr(r, 0xA0), 0x00);
    assert_int_equal(read_isr(r, 0x20), 0x04); /* the master's cascade level is in service */
    eoi_master(r);
    assert_int_equal(read_isr(r, 0x20), 0x00);
    free(r);
}

static void test_poll_command_returns_level_and_acknowledges(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    outb(r, 0x21, 0x80); /* a mask that cannot be mistaken for a poll result */
    irq(r, 3, 1);
    outb(r, 0x20, 0x0C);
    assert_int_equal(inb(r, 0x20), 0x83);
    assert_int_equal(read_isr(r, 0x20), 0x08);
    assert_int_equal(read_irr(r, 0x20), 0x00);
    outb(r, 0x20, 0x0C);
    assert_int_equal(inb(r, 0x21), 0x00); /* nothing more pending; a read at either port polls */
    assert_int_equal(inb(r, 0x21), 0x80); /* the poll is over: this is the mask again */
    eoi_master(r);
    /* Poll the slave. */
    irq(r, 13, 1);
    outb(r, 0xA0, 0x0C);
    assert_int_equal(inb(r, 0xA0), 0x85);
    assert_int_equal(read_isr(r, 0xA0), 0x20);
    free(r);
}

static void test_special_mask_mode_allows_lower_priority(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    irq(r, 3, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x23);
    irq(r, 5, 1);
    outb(r, 0x21, 0x08); /* mask the level in service */
    assert_int_equal(r->intr, 0); /* without special mask mode ISR bit 3 still blocks 5 */
    outb(r, 0x20, 0x68); /* set special mask mode */
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x25);
    /* A non-specific EOI skips the masked in-service level 3 and clears 5. */
    eoi_master(r);
    assert_int_equal(read_isr(r, 0x20), 0x08);
    outb(r, 0x20, 0x48); /* reset special mask mode */
    irq(r, 6, 1);
    assert_int_equal(r->intr, 0); /* 3 blocks again */
    outb(r, 0x20, 0x63);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x26);
    free(r);
}

static void test_special_fully_nested_mode_nests_slave_irqs(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    irq(r, 12, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x2C);
    irq(r, 9, 1); /* higher on the slave, but master IR2 is in service */
    assert_int_equal(r->intr, 0);
    program(r, 0x11, 0x01); /* master in special fully nested mode */
    irq(r, 12, 0);
    irq(r, 9, 0);
    irq(r, 12, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x2C);
    irq(r, 9, 1);
    assert_int_equal(r->intr, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x29);
    irq(r, 4, 1); /* a master level below IR2 is still blocked */
    assert_int_equal(r->intr, 0);
    free(r);
}

static void test_elcr_masks_fixed_edge_irqs(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    assert_int_equal(inb(r, 0x4D0), 0x00);
    assert_int_equal(inb(r, 0x4D1), 0x00);
    outb(r, 0x4D0, 0xFF);
    outb(r, 0x4D1, 0xFF);
    assert_int_equal(inb(r, 0x4D0), 0xF8); /* IRQ 0, 1, 2 are edge-only */
    assert_int_equal(inb(r, 0x4D1), 0xDE); /* IRQ 8 and 13 are edge-only */
    /* Switching an input to level makes IRR follow its line at once. */
    outb(r, 0x4D0, 0x00);
    irq(r, 7, 1);
    assert_int_equal(pic8259_ack(&r->pic), 0x27);
    eoi_master(r);
    assert_int_equal(r->intr, 0);
    outb(r, 0x4D0, 0x80);
    assert_int_equal(r->intr, 1);
    free(r);
}

static void test_irq2_and_out_of_range_inputs_are_ignored(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    irq(r, 7, 1);
    assert_int_equal(pic8259_intr_ack(&r->pic), 0x27); /* the CPU's hook */
    eoi_master(r);
    irq(r, 2, 1);
    irq(r, 16, 1);
    irq(r, -1, 1);
    assert_int_equal(r->intr, 0);
    assert_int_equal(read_irr(r, 0x20), 0x00);
    assert_int_equal(pic8259_pending(&r->pic), 0);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_sequence_sets_vector_base),
        cmocka_unit_test(test_icw1_clears_mask_and_in_service),
        cmocka_unit_test(test_masked_irq_not_delivered_until_unmasked),
        cmocka_unit_test(test_edge_irq_requests_once_per_rising_edge),
        cmocka_unit_test(test_level_irq_stays_requested_until_lowered),
        cmocka_unit_test(test_slave_irq_arrives_through_cascade_with_slave_vector),
        cmocka_unit_test(test_priority_resolves_lowest_level_first_and_nests),
        cmocka_unit_test(test_rotation_changes_priority_order),
        cmocka_unit_test(test_specific_eoi_clears_only_the_named_level),
        cmocka_unit_test(test_auto_eoi_leaves_isr_clear),
        cmocka_unit_test(test_rotate_in_auto_eoi_mode),
        cmocka_unit_test(test_spurious_irq7_when_request_drops_before_inta),
        cmocka_unit_test(test_spurious_irq15_when_slave_request_drops),
        cmocka_unit_test(test_poll_command_returns_level_and_acknowledges),
        cmocka_unit_test(test_special_mask_mode_allows_lower_priority),
        cmocka_unit_test(test_special_fully_nested_mode_nests_slave_irqs),
        cmocka_unit_test(test_elcr_masks_fixed_edge_irqs),
        cmocka_unit_test(test_irq2_and_out_of_range_inputs_are_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

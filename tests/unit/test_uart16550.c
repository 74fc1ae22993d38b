/* Unit tests of the 16550A UART: registers, baud-rate timing on an instruction-counted clock that
 * the test drives itself, the interrupt priorities, FIFOs, overrun, loopback and OUT2 gating. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../devices/uart16550.h"

#define BASE 0x3F8

struct fx {
    struct ioports io;
    struct vclock vc;
    uint64_t icount; /* ns_per_insn = 1: one count is one guest ns */
    struct uart16550 u;
    uint8_t out[8192];
    size_t outlen;
    int irq;
};

static void sink(void *opaque, const uint8_t *buf, size_t len)
{
    struct fx *f = opaque;
    for (size_t i = 0; i < len && f->outlen < sizeof(f->out); i++)
        f->out[f->outlen++] = buf[i];
}

static void set_irq(void *opaque, int pin, int level)
{
    struct fx *f = opaque;
    assert_int_equal(pin, 4);
    f->irq = level;
}

static const struct chardev_ops sink_ops = { sink };

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    ioports_init(&f->io);
    clock_init(&f->vc, CLOCK_ICOUNT, &f->icount, 1);
    struct irq_line l = { set_irq, f, 4 };
    assert_int_equal(uart16550_init(&f->u, &f->io, BASE, l, &f->vc, &sink_ops, f), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static uint8_t rd(struct fx *f, int reg) { return (uint8_t)io_in(&f->io, (uint16_t)(BASE + reg), 1); }
static void wr(struct fx *f, int reg, uint8_t v) { io_out(&f->io, (uint16_t)(BASE + reg), 1, v); }

/* Advances guest time by ns, firing every timer at its own deadline on the way, as the machine's
 * run loop would. */
static void advance(struct fx *f, uint64_t ns)
{
    uint64_t target = f->icount + ns;
    for (;;) {
        uint64_t d = clock_next_deadline(&f->vc);
        if (d > target)
            break;
        if (d > f->icount)
            f->icount = d;
        clock_run_timers(&f->vc);
    }
    f->icount = target;
    clock_run_timers(&f->vc);
}

/* 115200 baud, 8N1: ten bits per character. */
static uint64_t fast_8n1(struct fx *f)
{
    wr(f, 3, 0x80);
    wr(f, 0, 1);
    wr(f, 1, 0);
    wr(f, 3, 0x03);
    return uart16550_char_ns(&f->u);
}

static void test_scratch_register(void **state)
{
    struct fx *f = *state;
    wr(f, 7, 0x5A);
    assert_int_equal(rd(f, 7), 0x5A);
    wr(f, 7, 0xA5);
    assert_int_equal(rd(f, 7), 0xA5);
    /* reset values */
    assert_int_equal(rd(f, 5), 0x60); /* THRE | TEMT */
    assert_int_equal(rd(f, 2), 0x01); /* no interrupt, FIFOs off */
    assert_int_equal(rd(f, 6) & 0xF0, 0xB0); /* host terminal: DCD, DSR, CTS */
}

static void test_dlab_divisor(void **state)
{
    struct fx *f = *state;
    wr(f, 1, 0x05); /* IER */
    wr(f, 3, 0x83);
    wr(f, 0, 0x0C);
    wr(f, 1, 0x01);
    assert_int_equal(rd(f, 0), 0x0C);
    assert_int_equal(rd(f, 1), 0x01);
    assert_int_equal(rd(f, 3), 0x83);
    wr(f, 3, 0x03);
    assert_int_equal(rd(f, 1), 0x05); /* IER is back, untouched by the DLM write */
    wr(f, 3, 0x80);
    assert_int_equal(rd(f, 0), 0x0C);
    wr(f, 1, 0x00);
    wr(f, 3, 0x03);
    /* 9600 baud 8N1: 10 bits * 12 / 115200 s */
    assert_int_equal(uart16550_char_ns(&f->u), 1041667);
    /* 7E2: 1 + 7 + 1 + 2 = 11 bits */
    wr(f, 3, 0x1E);
    assert_int_equal(uart16550_char_ns(&f->u), (11ull * 12 * 1000000000ull + 115199) / 115200);
}

static void test_thr_reaches_sink_after_char_time(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    assert_int_equal(c, 86806); /* 10 bits at 115200 baud, rounded up */
    wr(f, 0, 'A');
    /* THR moved straight into the shift register: THRE again, TEMT not */
    assert_int_equal(rd(f, 5) & 0x60, 0x20);
    wr(f, 0, 'B'); /* waits in THR */
    assert_int_equal(rd(f, 5) & 0x60, 0x00);
    advance(f, c - 1);
    assert_int_equal(f->outlen, 0);
    advance(f, 1);
    assert_int_equal(f->outlen, 1);
    assert_int_equal(f->out[0], 'A');
    assert_int_equal(rd(f, 5) & 0x60, 0x20); /* B in the shift register */
    advance(f, c);
    assert_int_equal(f->outlen, 2);
    assert_int_equal(f->out[1], 'B');
    assert_int_equal(rd(f, 5) & 0x60, 0x60);
}

static void test_fifo_transmit_back_to_back(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    wr(f, 2, 0x01);
    for (int i = 0; i < 16; i++)
        wr(f, 0, (uint8_t)('a' + i));
    assert_int_equal(rd(f, 5) & 0x60, 0x00);
    advance(f, 16 * c - 1);
    assert_int_equal(f->outlen, 15);
    advance(f, 1);
    assert_int_equal(f->outlen, 16);
    assert_memory_equal(f->out, "abcdefghijklmnop", 16);
    assert_int_equal(rd(f, 5) & 0x60, 0x60);
}

static void test_thre_interrupt(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    wr(f, 4, 0x08); /* OUT2 */
    assert_int_equal(f->irq, 0);
    wr(f, 1, 0x02); /* enabling ETBEI with THR empty interrupts at once */
    assert_int_equal(f->irq, 1);
    assert_int_equal(rd(f, 2), 0x02);
    assert_int_equal(f->irq, 0); /* reading IIR acknowledged it */
    assert_int_equal(rd(f, 2), 0x01);

    wr(f, 0, 'x'); /* goes to the shift register, THR empty again */
    assert_int_equal(f->irq, 1);
    wr(f, 0, 'y'); /* a THR write also clears it */
    assert_int_equal(f->irq, 0);
    advance(f, c); /* x done, y into the shift register: THR empty */
    assert_int_equal(f->irq, 1);
    assert_int_equal(rd(f, 2), 0x02);
    assert_int_equal(f->irq, 0);
    advance(f, c);
    assert_int_equal(f->outlen, 2);
    assert_int_equal(f->irq, 0);
}

static void test_rx_trigger_level(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    wr(f, 2, 0x41); /* FIFOs on, trigger level 4 */
    wr(f, 1, 0x01);
    wr(f, 4, 0x08);
    assert_int_equal(uart16550_receive(&f->u, (const uint8_t *)"abcdef", 6), 6);
    advance(f, 3 * c);
    assert_int_equal(rd(f, 5) & 0x01, 0x01);
    assert_int_equal(rd(f, 2), 0xC1);
    assert_int_equal(f->irq, 0);
    advance(f, c);
    assert_int_equal(rd(f, 2), 0xC4);
    assert_int_equal(f->irq, 1);
    assert_int_equal(rd(f, 0), 'a'); /* below the trigger level again */
    assert_int_equal(f->irq, 0);
    assert_int_equal(rd(f, 2), 0xC1);
    advance(f, 2 * c); /* e, f: 5 in the FIFO */
    assert_int_equal(f->irq, 1);
    const char *rest = "bcdef";
    for (int i = 0; i < 5; i++)
        assert_int_equal(rd(f, 0), rest[i]);
    assert_int_equal(rd(f, 5) & 0x01, 0);
    assert_int_equal(f->irq, 0);
}

static void test_char_mode_rda(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    wr(f, 1, 0x01);
    wr(f, 4, 0x08);
    uart16550_receive(&f->u, (const uint8_t *)"q", 1);
    advance(f, c - 1);
    assert_int_equal(f->irq, 0);
    advance(f, 1);
    assert_int_equal(f->irq, 1);
    assert_int_equal(rd(f, 2), 0x04);
    assert_int_equal(rd(f, 0), 'q');
    assert_int_equal(f->irq, 0);
}

static void test_char_timeout(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    wr(f, 2, 0xC1); /* trigger 14: two bytes never reach it */
    wr(f, 1, 0x01);
    wr(f, 4, 0x08);
    uart16550_receive(&f->u, (const uint8_t *)"xy", 2);
    advance(f, 2 * c);
    assert_int_equal(rd(f, 2), 0xC1);
    advance(f, 4 * c - 1);
    assert_int_equal(f->irq, 0);
    advance(f, 1);
    assert_int_equal(f->irq, 1);
    assert_int_equal(rd(f, 2), 0xCC);
    assert_int_equal(rd(f, 0), 'x'); /* reading a character clears it and restarts the timer */
    assert_int_equal(f->irq, 0);
    assert_int_equal(rd(f, 2), 0xC1);
    advance(f, 4 * c);
    assert_int_equal(rd(f, 2), 0xCC);
    assert_int_equal(rd(f, 0), 'y');
    advance(f, 10 * c);
    assert_int_equal(rd(f, 2), 0xC1); /* empty FIFO: no timeout */
    assert_int_equal(f->irq, 0);
}

static void test_overrun(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    wr(f, 1, 0x05); /* RDA and line status */
    wr(f, 4, 0x08);
    /* character mode: the second byte overwrites RBR */
    uart16550_receive(&f->u, (const uint8_t *)"12", 2);
    advance(f, 2 * c);
    assert_int_equal(rd(f, 2), 0x06); /* line status outranks data available */
    assert_int_equal(rd(f, 5) & 0x03, 0x03);
    assert_int_equal(rd(f, 5) & 0x03, 0x01); /* OE clears on read */
    assert_int_equal(rd(f, 2), 0x04);
    assert_int_equal(rd(f, 0), '2');

    /* FIFO mode: the 17th byte is lost, the 16 in the FIFO are kept */
    wr(f, 2, 0x01);
    uint8_t buf[17];
    for (int i = 0; i < 17; i++)
        buf[i] = (uint8_t)('A' + i);
    assert_int_equal(uart16550_receive(&f->u, buf, 17), 17);
    advance(f, 16 * c);
    assert_int_equal(rd(f, 5) & 0x02, 0);
    advance(f, c);
    assert_int_equal(rd(f, 5) & 0x03, 0x03);
    for (int i = 0; i < 16; i++)
        assert_int_equal(rd(f, 0), 'A' + i);
    assert_int_equal(rd(f, 5) & 0x01, 0);
}

static void test_no_overrun_when_read_in_time(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    uint8_t buf[64];
    for (int i = 0; i < 64; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(uart16550_receive(&f->u, buf, 64), 64);
    for (int i = 0; i < 64; i++) {
        advance(f, c);
        uint8_t lsr = rd(f, 5);
        assert_int_equal(lsr & 0x03, 0x01);
        assert_int_equal(rd(f, 0), i);
    }
    /* the host queue is bounded and says so instead of dropping */
    uint8_t *big = calloc(1, UART_HOST_QUEUE + 100);
    assert_non_null(big);
    assert_int_equal(uart16550_can_receive(&f->u), UART_HOST_QUEUE);
    assert_int_equal(uart16550_receive(&f->u, big, UART_HOST_QUEUE + 100), UART_HOST_QUEUE);
    assert_int_equal(uart16550_can_receive(&f->u), 0);
    assert_int_equal(uart16550_receive(&f->u, big, 1), 0);
    advance(f, c);
    assert_int_equal(uart16550_can_receive(&f->u), 1);
    free(big);
}

static void test_loopback(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    uart16550_set_modem_inputs(&f->u, 0);
    rd(f, 6); /* clear the deltas that caused */
    wr(f, 1, 0x08); /* modem status interrupt */
    wr(f, 4, 0x10);
    assert_int_equal(rd(f, 6), 0x00);
    wr(f, 4, 0x11); /* DTR -> DSR */
    assert_int_equal(rd(f, 2), 0x00); /* modem status pending */
    assert_int_equal(rd(f, 6), 0x22);
    assert_int_equal(rd(f, 2), 0x01);
    assert_int_equal(rd(f, 6), 0x20);
    wr(f, 4, 0x1F); /* RTS -> CTS, OUT1 -> RI, OUT2 -> DCD */
    assert_int_equal(rd(f, 6), 0xF9); /* RI's leading edge is not a delta */
    wr(f, 4, 0x1B); /* OUT1 off: trailing edge of RI */
    assert_int_equal(rd(f, 6), 0xB4);
    /* OUT2 is set but the PC sees no IRQ in loopback: the OUT pins are forced inactive */
    wr(f, 1, 0x0A);
    assert_int_equal(rd(f, 2) & 0x0F, 0x02);
    assert_int_equal(f->irq, 0);

    /* host input waits while the receiver listens to the transmitter */
    uart16550_receive(&f->u, (const uint8_t *)"h", 1);
    wr(f, 0, 'Z');
    advance(f, c);
    assert_int_equal(f->outlen, 0);
    assert_int_equal(rd(f, 5) & 0x01, 0x01);
    assert_int_equal(rd(f, 0), 'Z');
    advance(f, 5 * c);
    assert_int_equal(rd(f, 5) & 0x01, 0);

    wr(f, 4, 0x0B); /* leave loopback */
    assert_int_equal(rd(f, 6), 0x0B); /* inputs back to the host's (none): CTS, DSR, DCD dropped */
    advance(f, c);
    assert_int_equal(rd(f, 0), 'h');
}

static void test_irq_gated_by_out2(void **state)
{
    struct fx *f = *state;
    wr(f, 1, 0x02);
    assert_int_equal(f->irq, 0);
    wr(f, 4, 0x08);
    assert_int_equal(f->irq, 1);
    wr(f, 4, 0x00);
    assert_int_equal(f->irq, 0);
    wr(f, 4, 0x08);
    assert_int_equal(f->irq, 1);
    wr(f, 1, 0x00);
    assert_int_equal(f->irq, 0);
}

static void test_fifo_reset(void **state)
{
    struct fx *f = *state;
    uint64_t c = fast_8n1(f);
    wr(f, 2, 0x01);
    assert_int_equal(rd(f, 2), 0xC1);
    uart16550_receive(&f->u, (const uint8_t *)"abc", 3);
    advance(f, 3 * c);
    assert_int_equal(rd(f, 5) & 0x01, 0x01);
    wr(f, 2, 0x03); /* reset RX FIFO */
    assert_int_equal(rd(f, 5) & 0x01, 0);

    for (int i = 0; i < 5; i++)
        wr(f, 0, (uint8_t)('0' + i));
    assert_int_equal(rd(f, 5) & 0x60, 0x00);
    wr(f, 2, 0x05); /* reset TX FIFO: the byte in the shift register still goes */
    assert_int_equal(rd(f, 5) & 0x60, 0x20);
    advance(f, 10 * c);
    assert_int_equal(f->outlen, 1);
    assert_int_equal(f->out[0], '0');
    assert_int_equal(rd(f, 5) & 0x60, 0x60);

    /* leaving FIFO mode empties the FIFOs and drops IIR bits 6-7 */
    uart16550_receive(&f->u, (const uint8_t *)"z", 1);
    advance(f, c);
    wr(f, 2, 0x00);
    assert_int_equal(rd(f, 2), 0x01);
    assert_int_equal(rd(f, 5) & 0x01, 0);
}

/* With instant_tx (the machine's setting) a written byte reaches the host at once and the
 * transmitter is empty again before the guest's next LSR poll; a THRE interrupt still follows. */
static void test_instant_tx_sends_at_once_and_leaves_transmitter_empty(void **state)
{
    struct fx *f = *state;
    f->u.instant_tx = 1;
    fast_8n1(f);
    wr(f, 1, 0x02); /* ETBEI */
    wr(f, 4, 0x08); /* OUT2 gates the IRQ line */
    uint64_t t0 = f->icount;
    wr(f, 0, 'o');
    wr(f, 0, 'k');
    assert_int_equal(f->outlen, 2);
    assert_memory_equal(f->out, "ok", 2);
    assert_int_equal(rd(f, 5) & 0x60, 0x60); /* THRE | TEMT with no time passed */
    assert_int_equal(f->icount, t0);
    assert_int_equal(f->irq, 1);
    assert_int_equal(rd(f, 2) & 0x0F, 0x02); /* THRE interrupt identified */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scratch_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instant_tx_sends_at_once_and_leaves_transmitter_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dlab_divisor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thr_reaches_sink_after_char_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_transmit_back_to_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_trigger_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_char_mode_rda, setup, teardown),
        cmocka_unit_test_setup_teardown(test_char_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overrun, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_overrun_when_read_in_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_irq_gated_by_out2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* 8042 keyboard controller, PS/2 keyboard and mouse, and System Control Port A (0x92).
 * Follows the Intel 8042 data sheet and the IBM PS/2 technical reference: controller commands
 * on port 0x64, device bytes on 0x60, set-2 -> set-1 translation, the keyboard/mouse protocols. */
#include "i8042.h"

#include <string.h>

/* The controller's set-2 -> set-1 translation table for bytes 0x00-0x7F (IBM PS/2 technical
 * reference); bytes from 0x80 pass through except 0x83 (F7) and 0x84 (SysRq), whose set-2 codes
 * are the only ones above 0x7F. Unassigned set-2 codes have entries too, which is why the
 * keyboard's ID 0x83 arrives as 0x41 and scan-set replies 1/2/3 as 0x43/0x41/0x3F. */
static const uint8_t xlate_table[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

static uint8_t xlate(uint8_t b)
{
    if (b < 0x80)
        return xlate_table[b];
    if (b == 0x83)
        return 0x41;
    if (b == 0x84)
        return 0x54;
    return b;
}

/* ---- Byte queues ---------------------------------------------------------------------------- */

static unsigned q_free(const struct i8042_queue *q)
{
    return I8042_QUEUE - q->count;
}

static int q_push(struct i8042_queue *q, uint8_t b, int aux)
{
    if (q->count == I8042_QUEUE)
        return -1;
    unsigned i = (q->head + q->count) % I8042_QUEUE;
    q->buf[i] = b;
    q->aux[i] = (uint8_t)aux;
    q->count++;
    return 0;
}

static uint8_t q_pop(struct i8042_queue *q, int *aux)
{
    uint8_t b = q->buf[q->head];
    if (aux)
        *aux = q->aux[q->head];
    q->head = (q->head + 1) % I8042_QUEUE;
    q->count--;
    return b;
}

static int q_last(const struct i8042_queue *q)
{
    return q->count ? q->buf[(q->head + q->count - 1) % I8042_QUEUE] : -1;
}

static void q_clear(struct i8042_queue *q)
{
    q->head = q->count = 0;
}

/* ---- Output buffer and interrupts ------------------------------------------------------------ */

static void update_irq(struct i8042 *k)
{
    uint8_t ctr = k->ram[0];
    int l1 = k->ob_full && !k->ob_aux && (ctr & I8042_CTR_KBDINT);
    int l12 = k->ob_full && k->ob_aux && (ctr & I8042_CTR_AUXINT);
    if (l1 != k->irq1_level) {
        k->irq1_level = l1;
        irq_set(&k->irq1, l1);
    }
    if (l12 != k->irq12_level) {
        k->irq12_level = l12;
        irq_set(&k->irq12, l12);
    }
}

/* Moves the next waiting byte into the output buffer once it is empty: the controller's own
 * replies first, then the keyboard, then the mouse. A device whose interface is disabled in the
 * command byte has its clock held low, so its bytes wait in its own buffer. */
static void refill(struct i8042 *k)
{
    uint8_t ctr = k->ram[0];
    while (!k->ob_full) {
        if (k->ctl.count) {
            int aux;
            k->ob = q_pop(&k->ctl, &aux);
            k->ob_aux = aux;
        } else if (!(ctr & I8042_CTR_KBDDIS) && k->kbd.q.count) {
            uint8_t b = q_pop(&k->kbd.q, NULL);
            if (ctr & I8042_CTR_XLATE) {
                /* Set 1 has no break prefix: 0xF0 is swallowed and sets bit 7 of the next. */
                if (b == 0xF0) {
                    k->xlate_break = 1;
                    continue;
                }
                b = xlate(b) | (k->xlate_break ? 0x80 : 0);
                k->xlate_break = 0;
            }
            k->ob = b;
            k->ob_aux = 0;
        } else if (!(ctr & I8042_CTR_AUXDIS) && k->mouse.q.count) {
            k->ob = q_pop(&k->mouse.q, NULL);
            k->ob_aux = 1;
        } else {
            break;
        }
        k->ob_full = 1;
    }
    update_irq(k);
}

static void ctl_reply(struct i8042 *k, uint8_t b, int aux)
{
    q_push(&k->ctl, b, aux);
    refill(k);
}

/* ---- A20 and reset --------------------------------------------------------------------------- */

static void set_a20(struct i8042 *k, int on)
{
    int was = !!(k->outport & I8042_OUT_A20);
    if (on)
        k->outport |= I8042_OUT_A20;
    else
        k->outport &= (uint8_t)~I8042_OUT_A20;
    if (was != on && k->set_a20)
        k->set_a20(k->opaque, on);
}

static void pulse_reset(struct i8042 *k)
{
    if (k->reset)
        k->reset(k->opaque);
}

static void write_outport(struct i8042 *k, uint8_t v)
{
    set_a20(k, !!(v & I8042_OUT_A20));
    /* The reset line is a pulse here: the machine resets the CPU, the line reads back high. */
    k->outport = (uint8_t)((v & ~(I8042_OUT_RESET | I8042_OUT_A20)) |
                           (k->outport & I8042_OUT_A20) | I8042_OUT_RESET);
    if (!(v & I8042_OUT_RESET))
        pulse_reset(k);
}

/* ---- PS/2 keyboard ----------------------------------------------------------------------------- */

static void kbd_send(struct i8042 *k, uint8_t b)
{
    q_push(&k->kbd.q, b, 0);
    k->kbd.last = b;
}

static void kbd_defaults(struct ps2_kbd *kb)
{
    kb->typematic = 0x2B; /* 10.9 characters/s after 500 ms */
    kb->expect = 0;
}

static void kbd_write(struct i8042 *k, uint8_t b)
{
    struct ps2_kbd *kb = &k->kbd;
    /* A command byte where a parameter was expected starts the new command (PS/2 reference);
     * every parameter the keyboard takes is below 0xED. */
    if (kb->expect && b < 0xED) {
        uint8_t cmd = kb->expect;
        kb->expect = 0;
        switch (cmd) {
        case 0xED:
            kb->leds = b & 7;
            kbd_send(k, 0xFA);
            break;
        case 0xF0:
            if (b > 3) {
                kbd_send(k, 0xFE);
                break;
            }
            kbd_send(k, 0xFA);
            if (b == 0)
                kbd_send(k, (uint8_t)kb->scanset);
            else
                kb->scanset = b;
            break;
        case 0xF3:
            kb->typematic = b & 0x7F;
            kbd_send(k, 0xFA);
            break;
        default: /* 0xFB-0xFD: set-3 key types, acknowledged and ignored */
            kbd_send(k, 0xFA);
            break;
        }
        return;
    }
    kb->expect = 0;
    switch (b) {
    case 0xED: /* set LEDs */
    case 0xF0: /* get/set scan code set */
    case 0xF3: /* typematic rate/delay */
    case 0xFB: case 0xFC: case 0xFD:
        kbd_send(k, 0xFA);
        kb->expect = b;
        break;
    case 0xEE: /* echo */
        kbd_send(k, 0xEE);
        break;
    case 0xF2: /* identify: an MF2 keyboard */
        kbd_send(k, 0xFA);
        kbd_send(k, 0xAB);
        kbd_send(k, 0x83);
        break;
    case 0xF4: /* enable: clears the keyboard's buffer and starts scanning */
        q_clear(&kb->q);
        kbd_send(k, 0xFA);
        kb->scanning = 1;
        break;
    case 0xF5: /* disable and restore defaults */
        q_clear(&kb->q);
        kbd_defaults(kb);
        kbd_send(k, 0xFA);
        kb->scanning = 0;
        break;
    case 0xF6: /* restore defaults, keep scanning */
        q_clear(&kb->q);
        kbd_defaults(kb);
        kbd_send(k, 0xFA);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA: /* set-3 "all keys" modes */
        kbd_send(k, 0xFA);
        break;
    case 0xFE: /* resend */
        q_push(&kb->q, kb->last, 0);
        break;
    case 0xFF: /* reset: ACK, then the basic assurance test passes */
        q_clear(&kb->q);
        kbd_defaults(kb);
        kb->scanset = 2;
        kb->leds = 0;
        kb->scanning = 1;
        kbd_send(k, 0xFA);
        kbd_send(k, 0xAA);
        break;
    default:
        kbd_send(k, 0xFE);
        break;
    }
}

void i8042_key(struct i8042 *k, uint16_t set2_code, int down)
{
    struct ps2_kbd *kb = &k->kbd;
    if (!kb->scanning)
        return;
    uint8_t seq[3];
    unsigned n = 0;
    uint8_t code = (uint8_t)set2_code;
    if (set2_code > 0xFF)
        seq[n++] = (uint8_t)(set2_code >> 8);
    if (kb->scanset == 1) {
        seq[n++] = (uint8_t)(xlate(code) | (down ? 0 : 0x80));
    } else {
        if (!down)
            seq[n++] = 0xF0;
        seq[n++] = code;
    }
    /* Keep one byte free so that an overflow can always be reported. */
    if (q_free(&kb->q) > n) {
        for (unsigned i = 0; i < n; i++)
            q_push(&kb->q, seq[i], 0);
    } else {
        uint8_t overrun = kb->scanset == 1 ? 0xFF : 0x00;
        if (q_free(&kb->q) && q_last(&kb->q) != overrun)
            q_push(&kb->q, overrun, 0);
    }
    refill(k);
}

/* ---- PS/2 mouse -------------------------------------------------------------------------------- */

static void mouse_send(struct i8042 *k, uint8_t b)
{
    q_push(&k->mouse.q, b, 0);
    k->mouse.last = b;
}

static void mouse_defaults(struct ps2_mouse *m)
{
    m->streaming = 0;
    m->remote = 0;
    m->scale21 = 0;
    m->rate = 100;
    m->resolution = 2; /* 4 counts/mm */
    m->expect = 0;
    m->dx = m->dy = m->dz = 0;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 2:1 scaling as the PS/2 reference tabulates it for stream mode. */
static int scale21(int d)
{
    static const int small[6] = { 0, 1, 1, 3, 6, 9 };
    int a = d < 0 ? -d : d;
    int s = a <= 5 ? small[a] : 2 * a;
    return d < 0 ? -s : s;
}

/* Queues one packet from the motion not yet reported. Returns -1 when it does not fit. */
static int mouse_packet(struct i8042 *k, int stream)
{
    struct ps2_mouse *m = &k->mouse;
    unsigned n = m->id >= 3 ? 4 : 3;
    if (q_free(&m->q) < n)
        return -1;
    int dx = clamp(m->dx, -256, 255), dy = clamp(m->dy, -256, 255), dz = clamp(m->dz, -8, 7);
    m->dx -= dx;
    m->dy -= dy;
    m->dz -= dz;
    if (stream && m->scale21) {
        dx = clamp(scale21(dx), -256, 255);
        dy = clamp(scale21(dy), -256, 255);
    }
    uint8_t b0 = 0x08 | (m->buttons & 7) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0);
    mouse_send(k, b0);
    mouse_send(k, (uint8_t)dx);
    mouse_send(k, (uint8_t)dy);
    if (m->id == 3)
        mouse_send(k, (uint8_t)dz);
    else if (m->id == 4)
        mouse_send(k, (uint8_t)((dz & 0x0F) | ((m->buttons & 0x18) << 1)));
    return 0;
}

static void mouse_write(struct i8042 *k, uint8_t b)
{
    struct ps2_mouse *m = &k->mouse;
    if (m->wrap && b != 0xEC && b != 0xFF) {
        mouse_send(k, b); /* wrap mode echoes everything but "reset wrap" and "reset" */
        return;
    }
    if (m->expect) {
        /* Parameters can look like commands (a sample rate of 200 is 0xC8), so no re-parse. */
        uint8_t cmd = m->expect;
        m->expect = 0;
        if (cmd == 0xE8) {
            m->resolution = b & 3;
        } else {
            m->rate = b;
            m->rates[0] = m->rates[1];
            m->rates[1] = m->rates[2];
            m->rates[2] = b;
            /* The IntelliMouse knocks: rates 200, 100, 80 enable the wheel (ID 3); then 200,
             * 200, 80 enable the side buttons (ID 4). */
            if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80 && m->id == 0)
                m->id = 3;
            else if (m->rates[0] == 200 && m->rates[1] == 200 && m->rates[2] == 80 && m->id == 3)
                m->id = 4;
        }
        mouse_send(k, 0xFA);
        return;
    }
    switch (b) {
    case 0xE6: m->scale21 = 0; mouse_send(k, 0xFA); break;
    case 0xE7: m->scale21 = 1; mouse_send(k, 0xFA); break;
    case 0xE8: /* set resolution */
    case 0xF3: /* set sample rate */
        mouse_send(k, 0xFA);
        m->expect = b;
        break;
    case 0xE9: /* status request */
        mouse_send(k, 0xFA);
        mouse_send(k, (uint8_t)((m->remote ? 0x40 : 0) | (m->streaming ? 0x20 : 0) |
                                (m->scale21 ? 0x10 : 0) | ((m->buttons & 1) << 2) |
                                ((m->buttons & 4) >> 1) | ((m->buttons & 2) >> 1)));
        mouse_send(k, m->resolution);
        mouse_send(k, m->rate);
        break;
    case 0xEA: m->remote = 0; m->dx = m->dy = m->dz = 0; mouse_send(k, 0xFA); break;
    case 0xEB: /* read data: one packet whatever the mode */
        mouse_send(k, 0xFA);
        mouse_packet(k, 0);
        break;
    case 0xEC: m->wrap = 0; mouse_send(k, 0xFA); break;
    case 0xEE: m->wrap = 1; mouse_send(k, 0xFA); break;
    case 0xF0: m->remote = 1; m->dx = m->dy = m->dz = 0; mouse_send(k, 0xFA); break;
    case 0xF2: /* identify */
        mouse_send(k, 0xFA);
        mouse_send(k, m->id);
        break;
    case 0xF4: m->streaming = 1; m->dx = m->dy = m->dz = 0; mouse_send(k, 0xFA); break;
    case 0xF5: m->streaming = 0; m->dx = m->dy = m->dz = 0; mouse_send(k, 0xFA); break;
    case 0xF6: mouse_defaults(m); mouse_send(k, 0xFA); break;
    case 0xFE: q_push(&m->q, m->last, 0); break;
    case 0xFF: /* reset: ACK, self-test passed, ID 0 (back to a standard mouse) */
        q_clear(&m->q);
        mouse_defaults(m);
        m->wrap = 0;
        m->id = 0;
        memset(m->rates, 0, sizeof(m->rates));
        mouse_send(k, 0xFA);
        mouse_send(k, 0xAA);
        mouse_send(k, 0x00);
        break;
    default:
        mouse_send(k, 0xFE);
        break;
    }
}

static int mouse_reporting(const struct ps2_mouse *m)
{
    return m->streaming && !m->remote && !m->wrap;
}

/* Reports motion held back while the mouse's buffer was full, as the buffer drains. */
static void mouse_flush(struct i8042 *k)
{
    struct ps2_mouse *m = &k->mouse;
    while (mouse_reporting(m) && (m->dx || m->dy || m->dz) && mouse_packet(k, 1) == 0)
        ;
}

void i8042_mouse(struct i8042 *k, int dx, int dy, int dz, int buttons)
{
    struct ps2_mouse *m = &k->mouse;
    /* Bounded so a stuck host cannot overflow the counters. */
    m->dx = clamp(m->dx + clamp(dx, -65536, 65536), -65536, 65536);
    m->dy = clamp(m->dy - clamp(dy, -65536, 65536), -65536, 65536); /* PS/2: y grows upward */
    m->dz = clamp(m->dz + clamp(dz, -65536, 65536), -65536, 65536);
    int changed = buttons != m->buttons;
    m->buttons = buttons;
    if (!mouse_reporting(m))
        return;
    if (changed || m->dx || m->dy || m->dz)
        mouse_packet(k, 1);
    mouse_flush(k);
    refill(k);
}

/* ---- Controller ------------------------------------------------------------------------------- */

static uint8_t read_outport(const struct i8042 *k)
{
    /* Bits 4 and 5 are the IRQ1 and IRQ12 outputs (output buffer full from each device). */
    uint8_t v = k->outport & (uint8_t)~0x30;
    if (k->ob_full)
        v |= k->ob_aux ? 0x20 : 0x10;
    return v;
}

static void write_ram(struct i8042 *k, unsigned idx, uint8_t v)
{
    k->ram[idx & 0x1F] = v;
    refill(k); /* the command byte gates interrupts, interfaces and translation */
}

static void controller_command(struct i8042 *k, uint8_t cmd)
{
    k->pending = 0;
    if (cmd >= 0x20 && cmd <= 0x3F) {
        ctl_reply(k, k->ram[cmd & 0x1F], 0);
        return;
    }
    if (cmd >= 0x60 && cmd <= 0x7F) {
        k->pending = cmd;
        return;
    }
    if (cmd >= 0xF0) {
        /* Pulse output port bits whose command bit is 0; only bit 0 (reset) has an effect. */
        if (!(cmd & 1))
            pulse_reset(k);
        return;
    }
    switch (cmd) {
    case 0xA4: ctl_reply(k, 0xF1, 0); break; /* no password installed */
    case 0xA7: write_ram(k, 0, k->ram[0] | I8042_CTR_AUXDIS); break;
    case 0xA8: write_ram(k, 0, k->ram[0] & (uint8_t)~I8042_CTR_AUXDIS); break;
    case 0xA9: ctl_reply(k, 0x00, 0); break; /* mouse clock/data lines fine */
    case 0xAA: /* self test passed; the system flag says so */
        k->ram[0] |= I8042_CTR_SYS;
        ctl_reply(k, 0x55, 0);
        break;
    case 0xAB: ctl_reply(k, 0x00, 0); break;
    case 0xAD: write_ram(k, 0, k->ram[0] | I8042_CTR_KBDDIS); break;
    case 0xAE: write_ram(k, 0, k->ram[0] & (uint8_t)~I8042_CTR_KBDDIS); break;
    case 0xC0: /* input port: keyboard not inhibited, no manufacturing jumper, colour display */
        ctl_reply(k, 0xA0, 0);
        break;
    case 0xD0: ctl_reply(k, read_outport(k), 0); break;
    case 0xD1: case 0xD2: case 0xD3: case 0xD4:
        k->pending = cmd;
        break;
    case 0xDD: set_a20(k, 0); break;
    case 0xDF: set_a20(k, 1); break;
    default: break; /* vendor commands: ignored */
    }
}

static void controller_data(struct i8042 *k, uint8_t b)
{
    uint8_t cmd = k->pending;
    k->pending = 0;
    switch (cmd) {
    case 0: kbd_write(k, b); break;
    case 0xD1: write_outport(k, b); break;
    case 0xD2: ctl_reply(k, b, 0); break; /* as if from the keyboard (untranslated) */
    case 0xD3: ctl_reply(k, b, 1); break; /* as if from the mouse */
    case 0xD4: mouse_write(k, b); break;
    default: write_ram(k, cmd, b); break; /* 0x60-0x7F */
    }
    refill(k);
}

static uint32_t i8042_in(void *opaque, uint16_t port, int size)
{
    (void)size;
    struct i8042 *k = opaque;
    if (port == 0x64) {
        uint8_t s = (k->status & I8042_STR_CMD) | I8042_STR_KEYLOCK;
        if (k->ram[0] & I8042_CTR_SYS)
            s |= I8042_STR_SYS;
        if (k->ob_full)
            s |= I8042_STR_OBF | (k->ob_aux ? I8042_STR_AUXB : 0);
        return s;
    }
    /* Reading an empty buffer returns the last byte again, as the hardware latch does. */
    uint8_t v = k->ob;
    if (k->ob_full) {
        int was_aux = k->ob_aux;
        k->ob_full = 0;
        update_irq(k); /* drop the line so the next byte is a fresh edge */
        if (was_aux)
            mouse_flush(k);
        refill(k);
    }
    return v;
}

static void i8042_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)size;
    struct i8042 *k = opaque;
    if (port == 0x64) {
        k->status |= I8042_STR_CMD;
        controller_command(k, (uint8_t)val);
    } else {
        k->status &= (uint8_t)~I8042_STR_CMD;
        controller_data(k, (uint8_t)val);
    }
}

static uint32_t port92_in(void *opaque, uint16_t port, int size)
{
    (void)port;
    (void)size;
    struct i8042 *k = opaque;
    return (k->port92 & 0xFC) | ((k->outport & I8042_OUT_A20) ? 0x02 : 0);
}

static void port92_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)port;
    (void)size;
    struct i8042 *k = opaque;
    k->port92 = (uint8_t)(val & 0xFC);
    set_a20(k, !!(val & 0x02));
    if (val & 0x01)
        pulse_reset(k); /* fast reset; reads back 0 since the pulse is over */
}

static void power_on(struct i8042 *k)
{
    memset(k->ram, 0, sizeof(k->ram));
    k->ram[0] = I8042_CTR_XLATE | I8042_CTR_AUXDIS;
    k->status = 0;
    k->pending = 0;
    k->ob = 0;
    k->ob_full = k->ob_aux = 0;
    k->xlate_break = 0;
    k->port92 = 0;
    q_clear(&k->ctl);
    memset(&k->kbd, 0, sizeof(k->kbd));
    kbd_defaults(&k->kbd);
    k->kbd.scanset = 2;
    k->kbd.scanning = 1;
    memset(&k->mouse, 0, sizeof(k->mouse));
    mouse_defaults(&k->mouse);
}

int i8042_init(struct i8042 *k, struct ioports *io, struct irq_line irq1, struct irq_line irq12,
               void (*set_a20_cb)(void *, int), void (*reset_cb)(void *), void *opaque)
{
    memset(k, 0, sizeof(*k));
    k->irq1 = irq1;
    k->irq12 = irq12;
    k->set_a20 = set_a20_cb;
    k->reset = reset_cb;
    k->opaque = opaque;
    power_on(k);
    k->outport = I8042_OUT_RESET | I8042_OUT_A20;
    struct io_handler h = { i8042_in, i8042_out, k, 0 };
    if (ioports_register(io, 0x60, 1, &h) || ioports_register(io, 0x64, 1, &h))
        return -1;
    return 0;
}

int i8042_port92_init(struct i8042 *k, struct ioports *io)
{
    struct io_handler h = { port92_in, port92_out, k, 0 };
    return ioports_register(io, 0x92, 1, &h);
}

void i8042_reset(struct i8042 *k)
{
    power_on(k);
    set_a20(k, 1);
    k->outport = I8042_OUT_RESET | I8042_OUT_A20;
    update_irq(k);
}

/* The debug console port (0xE9): guest bytes to a host sink; reads return the port's number.
 * Behaviour as Bochs' "port E9 hack" and QEMU's isa-debugcon document it. */
#include "debugcon.h"

static uint32_t debugcon_in(void *opaque, uint16_t port, int size)
{
    (void)opaque;
    (void)port;
    (void)size;
    return 0xE9;
}

static void debugcon_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)port;
    (void)size;
    struct debugcon *d = opaque;
    uint8_t b = (uint8_t)val;
    if (d->sink)
        d->sink(d->sink_opaque, &b, 1);
}

int debugcon_init(struct debugcon *d, struct ioports *io, uint16_t port, byte_sink sink, void *opaque)
{
    d->sink = sink;
    d->sink_opaque = opaque;
    d->port = port;
    struct io_handler h = { debugcon_in, debugcon_out, d, 0 };
    return ioports_register(io, port, 1, &h);
}

/* The x86 I/O-port space: devices claim port ranges; wide accesses to byte-only devices are split.
 * Intel SDM Vol. 1 §19.2-19.3 (I/O port addressing, 16- and 32-bit ports). */
#include "ioport.h"

#include <string.h>

void ioports_init(struct ioports *io)
{
    memset(io, 0, sizeof(*io));
}

int ioports_register(struct ioports *io, uint16_t port, uint32_t count, const struct io_handler *h)
{
    if (io->nh == IO_MAX_HANDLERS || count == 0 || port + count > 65536)
        return -1;
    for (uint32_t p = port; p < port + count; p++)
        if (io->owner[p])
            return -1;
    io->h[io->nh] = *h;
    io->nh++;
    for (uint32_t p = port; p < port + count; p++)
        io->owner[p] = (uint8_t)io->nh;
    return 0;
}

static uint32_t in_byte(struct ioports *io, uint16_t port)
{
    int o = io->owner[port];
    if (!o || !io->h[o - 1].in)
        return 0xFF;
    return io->h[o - 1].in(io->h[o - 1].opaque, port, 1) & 0xFF;
}

static void out_byte(struct ioports *io, uint16_t port, uint8_t val)
{
    int o = io->owner[port];
    if (o && io->h[o - 1].out)
        io->h[o - 1].out(io->h[o - 1].opaque, port, 1, val);
}

uint32_t io_in(struct ioports *io, uint16_t port, int size)
{
    int o = io->owner[port];
    if (size > 1 && o && io->h[o - 1].wide && io->h[o - 1].in)
        return io->h[o - 1].in(io->h[o - 1].opaque, port, size);
    uint32_t v = 0;
    for (int i = 0; i < size; i++)
        v |= in_byte(io, (uint16_t)(port + i)) << (8 * i);
    return v;
}

void io_out(struct ioports *io, uint16_t port, int size, uint32_t val)
{
    int o = io->owner[port];
    if (size > 1 && o && io->h[o - 1].wide && io->h[o - 1].out) {
        io->h[o - 1].out(io->h[o - 1].opaque, port, size, val);
        return;
    }
    for (int i = 0; i < size; i++)
        out_byte(io, (uint16_t)(port + i), (uint8_t)(val >> (8 * i)));
}

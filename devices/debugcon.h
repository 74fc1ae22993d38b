/* The Bochs/QEMU debug console: bytes written to one I/O port (0xE9 by default) go to a sink,
 * and reading the port returns 0xE9 so guests can detect it (QEMU isa-debugcon behaviour). */
#ifndef JITPC_DEVICES_DEBUGCON_H
#define JITPC_DEVICES_DEBUGCON_H

#include <stddef.h>
#include <stdint.h>

#include "../mem/ioport.h"

typedef void (*byte_sink)(void *opaque, const uint8_t *buf, size_t len);

struct debugcon {
    byte_sink sink;
    void *sink_opaque;
    uint16_t port;
};

int debugcon_init(struct debugcon *d, struct ioports *io, uint16_t port, byte_sink sink, void *opaque);

#endif

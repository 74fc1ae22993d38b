/* The x86 I/O-port space (64 Ki byte ports) where devices register handlers for port ranges.
 * Intel SDM Vol. 1 §19.2: 16- and 32-bit accesses to ports a device did not claim as wide are
 * split into byte accesses, and unclaimed ports read as all ones. */
#ifndef JITPC_MEM_IOPORT_H
#define JITPC_MEM_IOPORT_H

#include <stdint.h>

struct io_handler {
    /* size is 1, 2 or 4; a device that only handles bytes leaves wide set to 0. */
    uint32_t (*in)(void *opaque, uint16_t port, int size);
    void (*out)(void *opaque, uint16_t port, int size, uint32_t val);
    void *opaque;
    int wide; /* handles 2- and 4-byte accesses itself */
};

#define IO_MAX_HANDLERS 64

struct ioports {
    uint8_t owner[65536]; /* handler index + 1 for each port, 0 when unclaimed */
    struct io_handler h[IO_MAX_HANDLERS];
    int nh;
};

void ioports_init(struct ioports *io);
/* Claims [port, port + count). Returns 0, or -1 when the table is full or a port is taken. */
int ioports_register(struct ioports *io, uint16_t port, uint32_t count, const struct io_handler *h);

uint32_t io_in(struct ioports *io, uint16_t port, int size);
void io_out(struct ioports *io, uint16_t port, int size, uint32_t val);

#endif

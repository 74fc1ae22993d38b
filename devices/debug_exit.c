/* isa-debug-exit: a guest write ends the machine with status (value << 1) | 1, so that no guest
 * can end it with a plain 0 ("success") by accident. QEMU's convention, kept for script parity. */
#include "debug_exit.h"

#include <stddef.h>

static void debug_exit_out(void *opaque, uint16_t port, int size, uint32_t val)
{
    (void)port;
    struct debug_exit *d = opaque;
    uint32_t v = size == 4 ? val : val & ((1u << (size * 8)) - 1);
    d->on_exit(d->opaque, (int)(((v << 1) | 1) & 0xFF));
}

int debug_exit_init(struct debug_exit *d, struct ioports *io, uint16_t port, uint16_t size,
                    void (*on_exit)(void *opaque, int status), void *opaque)
{
    d->on_exit = on_exit;
    d->opaque = opaque;
    struct io_handler h = { NULL, debug_exit_out, d, 1 };
    return ioports_register(io, port, size, &h);
}

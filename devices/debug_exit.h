/* QEMU's isa-debug-exit device: a write of value v ends the machine with exit status (v << 1) | 1.
 * Default port 0xF4, width 1 (QEMU hw/misc/debugexit.c documents the convention). */
#ifndef JITPC_DEVICES_DEBUG_EXIT_H
#define JITPC_DEVICES_DEBUG_EXIT_H

#include <stdint.h>

#include "../mem/ioport.h"

struct debug_exit {
    void (*on_exit)(void *opaque, int status); /* the machine stops its CPU here */
    void *opaque;
};

int debug_exit_init(struct debug_exit *d, struct ioports *io, uint16_t port, uint16_t size,
                    void (*on_exit)(void *opaque, int status), void *opaque);

#endif

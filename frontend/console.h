/* The host end of the guest's first serial port: stdio (raw terminal, Ctrl-A X quits as in QEMU),
 * a file, a pseudo-terminal, or nothing. The terminal is restored however jitpc ends: a thread
 * waits for the termination signals and puts the saved settings back (no global state). */
#ifndef JITPC_FRONTEND_CONSOLE_H
#define JITPC_FRONTEND_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct console;

/* spec: "stdio", "file:PATH", "pty", "none". Returns NULL with a message in err. */
struct console *console_open(const char *spec, char *err, size_t errlen);
void console_close(struct console *con);
/* Guest output (a chardev sink: opaque is the console). */
void console_write(void *opaque, const uint8_t *buf, size_t len);
/* Waits up to wait_ns for host input and returns bytes for the guest in buf (0 if none).
 * Returns -1 when the user asked to quit (Ctrl-A X). */
int console_read(struct console *con, uint8_t *buf, size_t cap, uint64_t wait_ns);
/* The pty's path when spec was "pty" (to print for the user), else NULL. */
const char *console_pty_name(const struct console *con);

#endif

/* The serial console's host side. stdio puts the terminal in raw mode so every key reaches the
 * guest (Ctrl-C included); Ctrl-A is the escape: Ctrl-A X quits, Ctrl-A Ctrl-A sends a Ctrl-A,
 * Ctrl-A H lists the keys (QEMU's -serial mon:stdio conventions). POSIX termios, poll(2). */
#define _GNU_SOURCE
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

enum kind { CON_NONE, CON_STDIO, CON_FILE, CON_PTY };

struct console {
    enum kind kind;
    int in_fd, out_fd;        /* -1 when absent */
    int raw;                  /* the terminal was switched to raw mode */
    struct termios saved;
    int escape;               /* the previous key was Ctrl-A */
    pthread_t sig_thread;
    int have_thread;
    int wake[2];              /* tells the signal thread to end on a normal close */
    char pty_name[128];
};

#define CTRL_A 0x01

static void restore_terminal(struct console *con)
{
    if (con->raw) {
        tcsetattr(con->in_fd, TCSAFLUSH, &con->saved);
        con->raw = 0;
    }
}

/* Waits for SIGINT/SIGTERM/SIGHUP/SIGQUIT (blocked in every thread), restores the terminal and
 * lets the signal take its default action; or ends when console_close writes to the pipe. */
static void *signal_thread(void *arg)
{
    struct console *con = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    for (;;) {
        struct pollfd p = { con->wake[0], POLLIN, 0 };
        struct timespec ts = { 0, 50 * 1000000 };
        siginfo_t info;
        int sig = sigtimedwait(&set, &info, &ts);
        if (sig > 0) {
            restore_terminal(con);
            signal(sig, SIG_DFL);
            pthread_sigmask(SIG_UNBLOCK, &set, NULL);
            raise(sig);
            return NULL;
        }
        if (poll(&p, 1, 0) > 0)
            return NULL;
    }
}

static int start_raw(struct console *con, char *err, size_t errlen)
{
    if (!isatty(con->in_fd))
        return 0; /* a pipe or file: nothing to switch */
    if (tcgetattr(con->in_fd, &con->saved)) {
        snprintf(err, errlen, "cannot read terminal settings: %s", strerror(errno));
        return -1;
    }
    if (pipe(con->wake)) {
        snprintf(err, errlen, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by threads created later */
    if (pthread_create(&con->sig_thread, NULL, signal_thread, con)) {
        snprintf(err, errlen, "cannot start the signal thread");
        return -1;
    }
    con->have_thread = 1;
    struct termios raw = con->saved;
    cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR; /* keep "\n" -> "\r\n" on output, as QEMU's stdio does */
    tcsetattr(con->in_fd, TCSAFLUSH, &raw);
    con->raw = 1;
    return 0;
}

struct console *console_open(const char *spec, char *err, size_t errlen)
{
    struct console *con = calloc(1, sizeof(*con));
    if (!con) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    con->in_fd = con->out_fd = -1;
    con->wake[0] = con->wake[1] = -1;
    if (!strcmp(spec, "none") || !strcmp(spec, "null")) {
        con->kind = CON_NONE;
    } else if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio")) {
        con->kind = CON_STDIO;
        con->in_fd = STDIN_FILENO;
        con->out_fd = STDOUT_FILENO;
        if (start_raw(con, err, errlen)) {
            console_close(con);
            return NULL;
        }
    } else if (!strncmp(spec, "file:", 5) && spec[5]) {
        con->kind = CON_FILE;
        con->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (con->out_fd < 0) {
            snprintf(err, errlen, "cannot open serial output file '%s': %s", spec + 5, strerror(errno));
            free(con);
            return NULL;
        }
    } else if (!strcmp(spec, "pty")) {
        con->kind = CON_PTY;
        int fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 || grantpt(fd) || unlockpt(fd) || ptsname_r(fd, con->pty_name, sizeof(con->pty_name))) {
            snprintf(err, errlen, "cannot create a pseudo-terminal: %s", strerror(errno));
            if (fd >= 0)
                close(fd);
            free(con);
            return NULL;
        }
        struct termios t;
        if (!tcgetattr(fd, &t)) {
            cfmakeraw(&t);
            tcsetattr(fd, TCSANOW, &t);
        }
        /* Nobody may have the other end open: writes must not stall the guest (console_write). */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        con->in_fd = con->out_fd = fd;
    } else {
        snprintf(err, errlen, "unknown serial backend '%s' (stdio, file:PATH, pty or none)", spec);
        free(con);
        return NULL;
    }
    return con;
}

void console_close(struct console *con)
{
    if (!con)
        return;
    restore_terminal(con);
    if (con->have_thread) {
        if (write(con->wake[1], "x", 1) < 0) {
            /* the thread also ends at process exit */
        }
        pthread_join(con->sig_thread, NULL);
    }
    if (con->wake[0] >= 0) {
        close(con->wake[0]);
        close(con->wake[1]);
    }
    if (con->kind == CON_FILE || con->kind == CON_PTY)
        close(con->out_fd);
    free(con);
}

void console_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct console *con = opaque;
    if (!con || con->out_fd < 0)
        return;
    while (len) {
        ssize_t n = write(con->out_fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && con->kind == CON_PTY)
            return; /* nobody is reading the pty: drop rather than stall the guest */
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

static const char help[] = "\r\nC-a h    this help\r\nC-a x    exit jitpc\r\nC-a C-a  send C-a\r\n";

int console_read(struct console *con, uint8_t *buf, size_t cap, uint64_t wait_ns)
{
    if (!con || con->in_fd < 0) {
        if (wait_ns) {
            struct timespec ts = { (time_t)(wait_ns / 1000000000ull), (long)(wait_ns % 1000000000ull) };
            nanosleep(&ts, NULL);
        }
        return 0;
    }
    struct pollfd p = { con->in_fd, POLLIN, 0 };
    int timeout_ms = (int)((wait_ns + 999999) / 1000000);
    if (poll(&p, 1, timeout_ms) <= 0 || !(p.revents & (POLLIN | POLLHUP)))
        return 0;
    uint8_t tmp[256];
    size_t want = cap < sizeof(tmp) ? cap : sizeof(tmp);
    ssize_t n = read(con->in_fd, tmp, want);
    if (n <= 0) {
        /* End of input (a closed pipe): stop polling it, keep the guest running. */
        if (con->kind == CON_STDIO)
            con->in_fd = -1;
        return 0;
    }
    size_t out = 0;
    for (ssize_t i = 0; i < n; i++) {
        uint8_t ch = tmp[i];
        if (con->kind == CON_STDIO && con->raw) {
            if (con->escape) {
                con->escape = 0;
                if (ch == 'x' || ch == 'X')
                    return -1;
                if (ch == 'h' || ch == 'H') {
                    console_write(con, (const uint8_t *)help, sizeof(help) - 1);
                    continue;
                }
                if (ch != CTRL_A)
                    continue;
            } else if (ch == CTRL_A) {
                con->escape = 1;
                continue;
            }
        }
        buf[out++] = ch;
    }
    return (int)out;
}

const char *console_pty_name(const struct console *con)
{
    return con && con->kind == CON_PTY ? con->pty_name : NULL;
}

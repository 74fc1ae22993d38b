/* The jitpc command: parses options, builds a machine, runs it, reports how it ended.
 * The only place that knows about the terminal and the process's exit status. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../devices/kernel_boot.h"
#include "../devices/machine.h"
#include "console.h"
#include "options.h"
#include "trace.h"

static void console_stdout(void *opaque, const uint8_t *buf, size_t len)
{
    (void)opaque;
    fwrite(buf, 1, len, stdout);
    if (memchr(buf, '\n', len))
        fflush(stdout);
}

static const struct chardev_ops serial_ops = { console_write };

/* The machine's host_poll: keyboard (or pipe, or pty) bytes go to COM1; Ctrl-A X ends the run. */
static int poll_serial(void *opaque, struct machine *m, uint64_t wait_ns)
{
    uint8_t buf[256];
    size_t room = sizeof(m->pending_input) - m->npending;
    int n = console_read(opaque, buf, room < sizeof(buf) ? room : sizeof(buf), wait_ns);
    if (n < 0)
        return -1;
    if (n > 0)
        machine_serial_input(m, buf, (size_t)n);
    return 0;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "jitpc: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        if (cap >= (64u << 20)) {
            fprintf(stderr, "jitpc: '%s' is larger than 64 MiB\n", path);
            free(buf);
            buf = NULL;
            break;
        }
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        fprintf(stderr, "jitpc: cannot read '%s': %s\n", path, strerror(errno));
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = n;
    return buf;
}

/* Loads --kernel (and --initrd) and sets the machine up to enter it: Linux's boot protocol for a
 * bzImage, else Multiboot, whose modules are QEMU's comma-separated "file args" list. */
static int boot_kernel(struct machine *m, const struct options *o, char *err, size_t errlen)
{
    size_t klen = 0;
    uint8_t *k = read_file(o->kernel_path, &klen);
    if (!k) {
        snprintf(err, errlen, "cannot load the kernel");
        return -1;
    }
    int r = -1;
    enum { MAX_MODS = 16 };
    struct boot_file files[MAX_MODS];
    int nfiles = 0;
    char *list = o->initrd ? strdup(o->initrd) : NULL;
    memset(files, 0, sizeof(files));
    if (linux_is_bzimage(k, klen)) {
        if (o->initrd && !(files[0].data = read_file(o->initrd, &files[0].size)))
            snprintf(err, errlen, "cannot load the initrd");
        else
            r = linux_boot(m, k, klen, o->initrd ? &files[0] : NULL, o->append, err, errlen);
        nfiles = o->initrd ? 1 : 0;
    } else if (multiboot_detect(k, klen)) {
        int ok = 1;
        for (char *save = NULL, *tok = list ? strtok_r(list, ",", &save) : NULL; tok && ok;
             tok = strtok_r(NULL, ",", &save)) {
            if (nfiles == MAX_MODS) {
                snprintf(err, errlen, "at most %d Multiboot modules", MAX_MODS);
                ok = 0;
                break;
            }
            files[nfiles].args = tok; /* the module's string is its whole entry, path included */
            char path[4096];
            size_t n = strcspn(tok, " ");
            snprintf(path, sizeof(path), "%.*s", (int)n, tok);
            if (!(files[nfiles].data = read_file(path, &files[nfiles].size))) {
                snprintf(err, errlen, "cannot load a Multiboot module (%.200s)", path);
                ok = 0;
            }
            nfiles++;
        }
        if (ok)
            r = multiboot_boot(m, k, klen, files, nfiles, o->append, err, errlen);
    } else {
        snprintf(err, errlen, "'%s' is neither a Linux bzImage nor a Multiboot kernel", o->kernel_path);
    }
    for (int i = 0; i < nfiles; i++)
        free((void *)files[i].data);
    free(list);
    free(k);
    return r;
}

/* How the run ended, told to the user; returns the process exit status. */
static int report_stop(struct machine *m, enum machine_stop stop)
{
    switch (stop) {
    case MACHINE_EXITED:
        return m->exit_status;
    case MACHINE_QUIT:
        return 0; /* the user quit (Ctrl-A X) */
    case MACHINE_POWEROFF:
        return 0; /* ACPI S5: the guest's poweroff */
    case MACHINE_HALTED:
        /* Linux's poweroff without ACPI ends in HLT with interrupts off: the guest is done. */
        fprintf(stderr, "jitpc: the guest halted with interrupts disabled (powered off) at %04x:%08x\n",
                m->cpu.seg[S_CS].sel, m->cpu.eip);
        return 0;
    case MACHINE_RESET:
        fprintf(stderr, "jitpc: the guest reset the machine; ending there (--no-reboot)\n");
        return 0;
    case MACHINE_SHUTDOWN:
        fprintf(stderr, "jitpc: triple fault at %04x:%08x after %" PRIu64 " instructions; ending there%s\n",
                m->cpu.seg[S_CS].sel, m->cpu.eip, m->cpu.icount, m->bios_rom ? " (--no-reboot)" : " (no firmware to reboot)");
        return 4;
    case MACHINE_UNIMPL:
        fprintf(stderr, "jitpc: stopped at %04x:%08x: the guest used %s, which jitpc does not implement yet\n",
                m->cpu.seg[S_CS].sel, m->cpu.insn_eip, m->cpu.unimpl);
        return 3;
    case MACHINE_DIVERGED:
        fprintf(stderr, "jitpc: the JIT and the interpreter disagree at %04x:%08x after %" PRIu64 " instructions (states above)\n",
                m->cpu.seg[S_CS].sel, m->cpu.eip, m->cpu.icount);
        return 5;
    case MACHINE_BUDGET:
    default:
        fprintf(stderr, "jitpc: %s at %04x:%08x after %" PRIu64 " instructions\n", machine_stop_name(stop),
                m->cpu.seg[S_CS].sel, m->cpu.eip, m->cpu.icount);
        return 4;
    }
}

static enum machine_stop run_traced(struct machine *m, uint64_t max_insns)
{
    struct tracer *t = tracer_create(stderr);
    if (!t) {
        fprintf(stderr, "jitpc: cannot start the capstone disassembler\n");
        return MACHINE_QUIT;
    }
    enum machine_stop stop = MACHINE_BUDGET;
    for (uint64_t i = 0; i < max_insns; i++) {
        int r = tracer_step(t, &m->cpu);
        if (r == CPU_EXIT_STOP && m->exited) { stop = MACHINE_EXITED; break; }
        if (r == CPU_EXIT_SHUTDOWN) { stop = MACHINE_SHUTDOWN; break; }
        if (r == CPU_EXIT_UNIMPL) { stop = MACHINE_UNIMPL; break; }
        if (r == CPU_EXIT_HALT && !m->cpu.intr && !m->cpu.nmi) { stop = MACHINE_HALTED; break; }
    }
    tracer_destroy(t);
    return stop;
}

int main(int argc, char **argv)
{
    struct options o;
    int rc = options_parse(&o, argc, argv, stderr);
    if (rc >= 0)
        return rc; /* --help, or a usage error already reported */

    size_t bios_size = 0;
    uint8_t *bios = NULL;
    if (o.bios_path && !(bios = read_file(o.bios_path, &bios_size)))
        return 2;
    char err[256];
    struct console *serial = NULL, *dcon = NULL;
    if (!(serial = console_open(o.serial, err, sizeof(err)))) {
        fprintf(stderr, "jitpc: %s\n", err);
        free(bios);
        return 2;
    }
    if (console_pty_name(serial))
        fprintf(stderr, "jitpc: serial port COM1 is on %s\n", console_pty_name(serial));
    /* The debug console shares stdout with a stdio serial port; files get their own console. */
    if (strcmp(o.debugcon, "stdio") && !(dcon = console_open(o.debugcon, err, sizeof(err)))) {
        fprintf(stderr, "jitpc: %s\n", err);
        console_close(serial);
        free(bios);
        return 2;
    }
    /* perf finds the map of code without symbols by the process id (tools/perf's jit support). */
    FILE *perf_map = NULL;
    if (o.perf_map) {
        char path[64];
        snprintf(path, sizeof(path), "/tmp/perf-%ld.map", (long)getpid());
        if (!(perf_map = fopen(path, "w"))) {
            fprintf(stderr, "jitpc: --perf-map: cannot write %s: %s\n", path, strerror(errno));
            console_close(serial);
            console_close(dcon);
            free(bios);
            return 2;
        }
    }
    struct machine_config cfg = {
        .mem_size = o.mem_size,
        .cpu = CPU_PENTIUM2,
        .bios = bios,
        .bios_size = bios_size,
        .console = dcon ? console_write : console_stdout,
        .console_opaque = dcon,
        .debugcon_port = o.debugcon_port,
        .exit_port = o.exit_port,
        .exit_size = o.exit_size,
        .engine = o.interp || o.trace ? ENGINE_INTERP : o.verify ? ENGINE_VERIFY : ENGINE_JIT,
        .verify_from = o.verify_from,
        .jit_dump = o.dump_jit ? stderr : NULL,
        .jit_perf_map = perf_map,
        .icount = o.icount,
        .no_reboot = o.no_reboot,
        .serial = &serial_ops,
        .serial_opaque = serial,
        .host_poll = poll_serial,
        .host_opaque = serial,
    };
    int status = 2;
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "jitpc: %s\n", err);
    } else if (o.kernel_path && boot_kernel(m, &o, err, sizeof(err))) {
        fprintf(stderr, "jitpc: %s\n", err);
    } else {
        enum machine_stop stop = o.trace ? run_traced(m, o.max_insns) : machine_run(m, o.max_insns);
        fflush(stdout);
        console_close(serial); /* the terminal back to cooked mode before any message */
        serial = NULL;
        status = report_stop(m, stop);
        if (o.jit_stats && m->jit)
            jit_print_stats(m->jit, stderr);
    }
    machine_destroy(m);
    if (perf_map)
        fclose(perf_map);
    console_close(serial);
    console_close(dcon);
    free(bios);
    return status;
}

/* The jitpc command: parses options, builds a machine, runs it, reports how it ended.
 * The only place that knows about the terminal and the process's exit status. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../devices/kernel_boot.h"
#include "../devices/machine.h"
#include "options.h"
#include "trace.h"

static void console_stdout(void *opaque, const uint8_t *buf, size_t len)
{
    (void)opaque;
    fwrite(buf, 1, len, stdout);
    if (memchr(buf, '\n', len))
        fflush(stdout);
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
    struct machine_config cfg = {
        .mem_size = o.mem_size,
        .cpu = CPU_PENTIUM2,
        .bios = bios,
        .bios_size = bios_size,
        .console = console_stdout,
        .icount = o.icount,
    };
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "jitpc: %s\n", err);
        free(bios);
        return 2;
    }
    if (o.kernel_path && boot_kernel(m, &o, err, sizeof(err))) {
        fprintf(stderr, "jitpc: %s\n", err);
        machine_destroy(m);
        free(bios);
        return 2;
    }

    enum machine_stop stop;
    if (o.trace) {
        struct tracer *t = tracer_create(stderr);
        if (!t) {
            fprintf(stderr, "jitpc: cannot start the capstone disassembler\n");
            machine_destroy(m);
            free(bios);
            return 2;
        }
        stop = MACHINE_BUDGET;
        for (uint64_t i = 0; i < o.max_insns; i++) {
            int r = tracer_step(t, &m->cpu);
            if (r == CPU_EXIT_STOP && m->exited) { stop = MACHINE_EXITED; break; }
            if (r == CPU_EXIT_SHUTDOWN) { stop = MACHINE_SHUTDOWN; break; }
            if (r == CPU_EXIT_UNIMPL) { stop = MACHINE_UNIMPL; break; }
            if (r == CPU_EXIT_HALT && !m->cpu.intr && !m->cpu.nmi) { stop = MACHINE_HALTED; break; }
        }
        tracer_destroy(t);
    } else {
        stop = machine_run(m, o.max_insns);
    }
    fflush(stdout);

    int status;
    switch (stop) {
    case MACHINE_EXITED:
        status = m->exit_status;
        break;
    case MACHINE_UNIMPL:
        fprintf(stderr, "jitpc: stopped at %04x:%08x: the guest used %s, which jitpc does not implement yet\n",
                m->cpu.seg[S_CS].sel, m->cpu.insn_eip, m->cpu.unimpl);
        status = 3;
        break;
    default:
        fprintf(stderr, "jitpc: %s at %04x:%08x after %" PRIu64 " instructions\n", machine_stop_name(stop),
                m->cpu.seg[S_CS].sel, m->cpu.eip, m->cpu.icount);
        status = stop == MACHINE_HALTED ? 0 : 4;
        break;
    }
    machine_destroy(m);
    free(bios);
    return status;
}

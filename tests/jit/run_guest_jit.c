/* Runs a guest firmware image (the tests/guest programs) under the JIT, the interpreter, or both in
 * lockstep (--verify), with a copy of machine_run's loop that calls jit_run where it calls
 * cpu_run; exits with jitpc's status for the same guest, and prints the instruction count so a
 * script can check that --icount runs match instruction for instruction. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/kernel_boot.h"
#include "../../devices/machine.h"
#include "../../jit/jit.h"

#define SLICE 50000u

static void to_stdout(void *opaque, const uint8_t *buf, size_t len)
{
    (void)opaque;
    fwrite(buf, 1, len, stdout);
}

static const struct chardev_ops serial_to_stdout = { to_stdout };

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

enum mode { M_JIT, M_INTERP, M_VERIFY };

/* machine_run's loop (devices/machine.c) without host input and reboots. */
static int run(struct machine *m, struct jit *j, enum mode mode, uint64_t max)
{
    uint64_t start = m->cpu.icount;
    for (;;) {
        uint64_t done = m->cpu.icount - start;
        if (done >= max)
            return 4;
        clock_run_timers(&m->clock);
        uint64_t slice = max - done < SLICE ? max - done : SLICE;
        uint64_t deadline = clock_next_deadline(&m->clock);
        if (m->clock.mode == CLOCK_ICOUNT && deadline != CLOCK_NEVER) {
            uint64_t now = clock_now(&m->clock);
            uint64_t until = deadline > now ? (deadline - now + m->clock.ns_per_insn - 1) / m->clock.ns_per_insn : 1;
            if (until < slice)
                slice = until;
        }
        int r = mode == M_INTERP ? cpu_run(&m->cpu, slice)
              : mode == M_JIT    ? jit_run(j, &m->cpu, slice)
                                 : jit_verify_run(j, &m->cpu, slice, stderr);
        switch (r) {
        case -1: return 5; /* verify: divergence */
        case CPU_EXIT_BUDGET: break;
        case CPU_EXIT_SHUTDOWN: return 4;
        case CPU_EXIT_UNIMPL:
            fprintf(stderr, "run_guest_jit: unimplemented: %s\n", m->cpu.unimpl);
            return 3;
        case CPU_EXIT_STOP:
            if (m->exited)
                return m->exit_status;
            if (m->powered_off)
                return 0; /* ACPI S5, as jitpc reports it */
            if (m->reset_pending)
                return 0;
            break;
        case CPU_EXIT_HALT:
            if (!(m->cpu.eflags & F_IF) && !m->cpu.nmi)
                return 0;
            if (m->cpu.intr || m->cpu.nmi)
                break;
            if (m->clock.mode == CLOCK_ICOUNT) {
                if (deadline == CLOCK_NEVER)
                    return 0;
                clock_idle_until(&m->clock, deadline, CLOCK_NEVER);
                break;
            }
            clock_idle_until(&m->clock, deadline, 10000000ull);
            break;
        }
    }
}

int main(int argc, char **argv)
{
    enum mode mode = M_JIT;
    int stats = 0, dump = 0, icount = 0;
    uint64_t max = 500000000ull, mem_mb = 64;
    const char *path = NULL, *kernel = NULL, *initrd = NULL, *append = "";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--interp")) mode = M_INTERP;
        else if (!strcmp(argv[i], "--verify")) mode = M_VERIFY;
        else if (!strcmp(argv[i], "--jit-stats")) stats = 1;
        else if (!strcmp(argv[i], "--dump-jit")) dump = 1;
        else if (!strcmp(argv[i], "--icount")) icount = 1;
        else if (!strcmp(argv[i], "--max-insns") && i + 1 < argc) max = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--kernel") && i + 1 < argc) kernel = argv[++i];
        else if (!strcmp(argv[i], "--initrd") && i + 1 < argc) initrd = argv[++i];
        else if (!strcmp(argv[i], "--append") && i + 1 < argc) append = argv[++i];
        else if (!strcmp(argv[i], "-m") && i + 1 < argc) mem_mb = strtoull(argv[++i], NULL, 0);
        else path = argv[i];
    }
    if (!path && !kernel) {
        fprintf(stderr, "usage: run_guest_jit [--interp|--verify] [--jit-stats] [--dump-jit] [--icount] [--max-insns N]\n"
                        "                     [-m MB] (image.bin | --kernel bzImage [--initrd file] [--append text])\n");
        return 2;
    }
    static uint8_t image[1 << 20];
    size_t len = 0;
    if (path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            fprintf(stderr, "run_guest_jit: cannot open %s\n", path);
            return 2;
        }
        len = fread(image, 1, sizeof(image), f);
        fclose(f);
    }
    struct machine_config cfg = { .mem_size = mem_mb << 20, .cpu = CPU_PENTIUM2, .bios = path ? image : NULL,
                                  .bios_size = len, .console = to_stdout, .icount = icount,
                                  .serial = &serial_to_stdout, .no_reboot = 1 };
    char err[256];
    struct machine *m = machine_create(&cfg, err, sizeof(err));
    if (!m) {
        fprintf(stderr, "run_guest_jit: %s\n", err);
        return 2;
    }
    if (kernel) {
        size_t klen = 0, ilen = 0;
        uint8_t *k = read_all(kernel, &klen), *rd = initrd ? read_all(initrd, &ilen) : NULL;
        struct boot_file bf = { rd, ilen, NULL };
        if (!k || (initrd && !rd) || linux_boot(m, k, klen, rd ? &bf : NULL, append, err, sizeof(err))) {
            fprintf(stderr, "run_guest_jit: cannot boot %s: %s\n", kernel, k ? err : "unreadable");
            return 2;
        }
        /* the loader copied what it needs into guest memory */
        free(k);
        free(rd);
    }
    struct jit *j = NULL;
    if (mode != M_INTERP) {
        j = jit_create(&m->cpu, 0);
        if (!j) {
            fprintf(stderr, "run_guest_jit: cannot create the JIT\n");
            return 2;
        }
        if (dump)
            jit_set_dump(j, stderr);
    }
    int status = run(m, j, mode, max);
    fflush(stdout);
    fprintf(stderr, "run_guest_jit: status %d, icount %" PRIu64 ", eip %08x\n", status, m->cpu.icount, m->cpu.eip);
    if (j && stats)
        jit_print_stats(j, stderr);
    jit_destroy(j);
    machine_destroy(m);
    return status;
}

/* Command-line options of the jitpc command: GNU long options, with QEMU's spellings of the same
 * flags accepted as aliases so that scripts written for qemu-system-i386 keep working. */
#ifndef JITPC_FRONTEND_OPTIONS_H
#define JITPC_FRONTEND_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

#define OPT_MAX_CHARDEVS 8

struct options {
    const char *bios_path;
    const char *kernel_path;   /* --kernel: bzImage or Multiboot ELF, booted directly */
    const char *initrd;        /* --initrd: a file for Linux; "file args,file args" modules for Multiboot */
    const char *append;        /* --append: the kernel command line */
    uint64_t mem_size;
    uint64_t max_insns; /* UINT64_MAX unless --max-insns */
    int trace;
    int icount;         /* --icount: deterministic guest time */
    int interp;         /* --interp: the interpreter runs guest code instead of the JIT */
    int verify;         /* --verify: JIT and interpreter in lockstep, block by block */
    uint64_t verify_from; /* --verify-from N: the lockstep starts after N instructions */
    int jit_stats;      /* --jit-stats: translation and fallback counts at exit, on stderr */
    int dump_jit;       /* --dump-jit: every translated block, guest and host code, on stderr */
    int perf_map;       /* --perf-map: /tmp/perf-PID.map names translated code for perf */
    int no_reboot;      /* --no-reboot: a guest reset or triple fault ends jitpc */
    int nographic;      /* --nographic / -display none: no window (the only display so far) */
    char serial[4096];  /* COM1's host side as a console spec: stdio, file:PATH, pty, none */
    char debugcon[4096];/* the debug console's: stdio (default), file:PATH, none */
    uint16_t debugcon_port; /* 0: 0xE9 */
    uint16_t exit_port, exit_size; /* isa-debug-exit (0: 0xF4, 1 byte) */
    /* -chardev BACKEND,id=ID[,path=P]: named host ends that -serial chardev:ID and
     * -device isa-debugcon,chardev=ID refer to */
    int nchardevs;
    struct { char id[64]; char spec[4096]; } chardev[OPT_MAX_CHARDEVS];
};

/* Returns -1 to go on, or the exit status to end with (0 after --help, 2 on a usage error,
 * which has been reported on err). */
int options_parse(struct options *o, int argc, char **argv, FILE *err);
/* Parses "256", "256M", "1G", "65536K" (a bare number is MiB, as QEMU's -m). Returns 0 or -1. */
int parse_mem_size(const char *s, uint64_t *out);

#endif

/* Command-line options of the jitpc command: GNU long options, with QEMU's spellings of the same
 * flags accepted as aliases so that scripts written for qemu-system-i386 keep working. */
#ifndef JITPC_FRONTEND_OPTIONS_H
#define JITPC_FRONTEND_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

struct options {
    const char *bios_path;
    const char *kernel_path;   /* --kernel: bzImage or Multiboot ELF, booted directly */
    const char *initrd;        /* --initrd: a file for Linux; "file args,file args" modules for Multiboot */
    const char *append;        /* --append: the kernel command line */
    uint64_t mem_size;
    uint64_t max_insns; /* UINT64_MAX unless --max-insns */
    int trace;
    int icount;         /* --icount: deterministic guest time */
};

/* Returns -1 to go on, or the exit status to end with (0 after --help, 2 on a usage error,
 * which has been reported on err). */
int options_parse(struct options *o, int argc, char **argv, FILE *err);
/* Parses "256", "256M", "1G", "65536K" (a bare number is MiB, as QEMU's -m). Returns 0 or -1. */
int parse_mem_size(const char *s, uint64_t *out);

#endif

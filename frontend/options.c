/* Command-line parsing: GNU long options plus QEMU's single-dash spellings (-m, -bios, ...),
 * rewritten to the long form before getopt_long sees them. */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: jitpc [options]\n"
    "  --bios FILE, -bios FILE   firmware or flat binary; its last 16 bytes hold the reset vector\n"
    "  --kernel FILE             boot a Linux bzImage or a Multiboot kernel directly (-kernel)\n"
    "  --initrd FILE             Linux initrd; for Multiboot, modules \"file args,file args\" (-initrd)\n"
    "  --append TEXT            kernel command line (-append)\n"
    "  --memory SIZE, -m SIZE    guest RAM (default 128M; a bare number means MiB)\n"
    "  --trace                   print every executed instruction and the registers it changed\n"
    "  --max-insns N             stop after N instructions\n"
    "  --icount                  deterministic time: guest time follows retired instructions\n"
    "  --help                    this text\n";

int parse_mem_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || *s == '-')
        return -1;
    uint64_t mul = 1ull << 20;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mul = 1ull << 10; break;
        case 'm': case 'M': mul = 1ull << 20; break;
        case 'g': case 'G': mul = 1ull << 30; break;
        default: return -1;
        }
        if (end[1] && !((end[1] == 'B' || end[1] == 'b') && !end[2]))
            return -1;
    }
    if (v > (UINT64_MAX >> 30))
        return -1;
    *out = v * mul;
    return 0;
}

/* QEMU spellings that mean the same as one of our long options. */
static const char *qemu_alias(const char *a)
{
    static const char *const map[][2] = {
        { "-m", "--memory" }, { "-bios", "--bios" }, { "-trace", "--trace" }, { "-kernel", "--kernel" },
        { "-initrd", "--initrd" }, { "-append", "--append" },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(a, map[i][0]))
            return map[i][1];
    return a;
}

int options_parse(struct options *o, int argc, char **argv, FILE *err)
{
    memset(o, 0, sizeof(*o));
    o->mem_size = 128ull << 20;
    o->max_insns = UINT64_MAX;
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    if (!args)
        return 2;
    for (int i = 0; i < argc; i++)
        args[i] = (char *)(i ? qemu_alias(argv[i]) : argv[i]);

    static const struct option longopts[] = {
        { "bios", required_argument, NULL, 'b' }, { "memory", required_argument, NULL, 'm' },
        { "kernel", required_argument, NULL, 'k' }, { "initrd", required_argument, NULL, 'r' },
        { "append", required_argument, NULL, 'a' },
        { "trace", no_argument, NULL, 't' },      { "max-insns", required_argument, NULL, 'n' },
        { "icount", no_argument, NULL, 'i' },
        { "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
    };
    int rc = -1;
    optind = 1;
    opterr = 0;
    int ch;
    while (rc < 0 && (ch = getopt_long(argc, args, ":", longopts, NULL)) != -1) {
        switch (ch) {
        case 'b': o->bios_path = optarg; break;
        case 'k': o->kernel_path = optarg; break;
        case 'r': o->initrd = optarg; break;
        case 'a': o->append = optarg; break;
        case 'm':
            if (parse_mem_size(optarg, &o->mem_size)) {
                fprintf(err, "jitpc: bad memory size '%s' (try 256M or 1G)\n", optarg);
                rc = 2;
            }
            break;
        case 't': o->trace = 1; break;
        case 'i': o->icount = 1; break;
        case 'n': {
            char *end;
            o->max_insns = strtoull(optarg, &end, 0);
            if (!*optarg || *end) {
                fprintf(err, "jitpc: bad instruction count '%s'\n", optarg);
                rc = 2;
            }
            break;
        }
        case 'h': fputs(usage, stdout); rc = 0; break;
        case ':': fprintf(err, "jitpc: option '%s' needs an argument\n", args[optind - 1]); rc = 2; break;
        default: fprintf(err, "jitpc: unknown option '%s'\n%s", args[optind - 1], usage); rc = 2; break;
        }
    }
    if (rc < 0 && optind < argc) {
        fprintf(err, "jitpc: unexpected argument '%s'\n", args[optind]);
        rc = 2;
    }
    if (rc < 0 && !o->bios_path && !o->kernel_path) {
        fprintf(err, "jitpc: nothing to run: give --bios FILE or --kernel FILE\n%s", usage);
        rc = 2;
    }
    if (rc < 0 && (o->initrd || o->append) && !o->kernel_path) {
        fprintf(err, "jitpc: --initrd and --append need --kernel\n");
        rc = 2;
    }
    /* optarg pointers point into argv's strings, which outlive args. */
    free(args);
    return rc;
}

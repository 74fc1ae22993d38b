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
    "  --append TEXT             kernel command line (-append)\n"
    "  --memory SIZE, -m SIZE    guest RAM (default 128M; a bare number means MiB)\n"
    "  --serial SPEC             COM1's host side: stdio (default), file:PATH, pty, none (-serial)\n"
    "  --no-reboot               a guest reset or triple fault ends jitpc (-no-reboot)\n"
    "  --nographic               no display window; jitpc has none yet (-nographic, -display none)\n"
    "  --debugcon SPEC           the port 0xE9 debug console: stdio (default), file:PATH, none\n"
    "  --trace                   print every executed instruction and the registers it changed\n"
    "  --max-insns N             stop after N instructions\n"
    "  --icount                  deterministic time: guest time follows retired instructions\n"
    "  --interp                  run guest code in the interpreter instead of the JIT\n"
    "  --verify                  run JIT and interpreter in lockstep; stop at the first difference\n"
    "  --verify-from N           the same, from instruction N on (the JIT alone before it)\n"
    "  --jit-stats               at exit, print translation counts and the instructions the JIT\n"
    "                            left to the interpreter (stderr)\n"
    "  --dump-jit                print each translated block: guest code beside host code (stderr)\n"
    "  --perf-map                write /tmp/perf-PID.map so that perf names translated code by guest address\n"
    "  --help                    this text\n"
    "QEMU spellings: -m -bios -kernel -initrd -append -serial -no-reboot -nographic -display none\n"
    "  -device isa-debug-exit[,iobase=N,iosize=N]  -device isa-debugcon[,iobase=N][,chardev=ID]\n"
    "  -chardev file,id=ID,path=PATH | stdio,id=ID | null,id=ID   -cpu pentium2  -accel tcg\n"
    "On a stdio console, Ctrl-A X quits and Ctrl-A H lists the keys.\n";

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
        { "-m", "--memory" },   { "-bios", "--bios" },       { "-trace", "--trace" },
        { "-kernel", "--kernel" }, { "-initrd", "--initrd" }, { "-append", "--append" },
        { "-serial", "--serial" }, { "-no-reboot", "--no-reboot" }, { "-nographic", "--nographic" },
        { "-display", "--display" }, { "-device", "--device" }, { "-chardev", "--chardev" },
        { "-cpu", "--cpu" },    { "-accel", "--accel" },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(a, map[i][0]))
            return map[i][1];
    return a;
}

/* Finds "key=value" in a QEMU property list "driver,key=value,..." (after the first field);
 * copies the value to out. Returns 1 when found. */
static int prop(const char *list, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    const char *p = strchr(list, ',');
    while (p) {
        p++;
        const char *next = strchr(p, ',');
        size_t len = next ? (size_t)(next - p) : strlen(p);
        if (len > klen && !strncmp(p, key, klen) && p[klen] == '=') {
            snprintf(out, cap, "%.*s", (int)(len - klen - 1), p + klen + 1);
            return 1;
        }
        p = next;
    }
    return 0;
}

/* Rejects properties other than the ones a driver knows, so a typo is not silently ignored. */
static int only_props(const char *list, const char *const *known, FILE *err)
{
    const char *p = strchr(list, ',');
    while (p) {
        p++;
        const char *next = strchr(p, ',');
        size_t len = strcspn(p, ",=");
        int ok = 0;
        for (int i = 0; known[i]; i++)
            if (strlen(known[i]) == len && !strncmp(p, known[i], len))
                ok = 1;
        if (!ok) {
            int n = next ? (int)(next - p) : (int)strlen(p);
            fprintf(err, "jitpc: unsupported property '%.*s' in '%s'\n", n, p, list);
            return -1;
        }
        p = next;
    }
    return 0;
}

static int port_prop(const char *list, const char *key, uint16_t *out, FILE *err)
{
    char v[64];
    if (!prop(list, key, v, sizeof(v)))
        return 0;
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 0);
    if (!*v || *end || errno || n > 0xFFFF) {
        fprintf(err, "jitpc: bad %s '%s' in '%s'\n", key, v, list);
        return -1;
    }
    *out = (uint16_t)n;
    return 0;
}

/* "-serial chardev:ID" and "chardev=ID" name a -chardev; anything else is a spec itself. */
static int resolve_chardev(struct options *o, const char *id, char *out, size_t cap, FILE *err)
{
    for (int i = 0; i < o->nchardevs; i++)
        if (!strcmp(o->chardev[i].id, id)) {
            snprintf(out, cap, "%s", o->chardev[i].spec);
            return 0;
        }
    fprintf(err, "jitpc: no -chardev with id '%s' (give -chardev before the option that uses it)\n", id);
    return -1;
}

static int parse_chardev(struct options *o, const char *arg, FILE *err)
{
    static const char *const known[] = { "id", "path", "signal", "mux", NULL };
    if (only_props(arg, known, err))
        return -1;
    if (o->nchardevs == OPT_MAX_CHARDEVS) {
        fprintf(err, "jitpc: at most %d -chardev options\n", OPT_MAX_CHARDEVS);
        return -1;
    }
    char id[64], path[4000];
    if (!prop(arg, "id", id, sizeof(id)) || !*id) {
        fprintf(err, "jitpc: -chardev '%s' needs id=\n", arg);
        return -1;
    }
    size_t blen = strcspn(arg, ",");
    char *spec = o->chardev[o->nchardevs].spec;
    size_t cap = sizeof(o->chardev[0].spec);
    if (blen == 4 && !strncmp(arg, "file", 4)) {
        if (!prop(arg, "path", path, sizeof(path)) || !*path) {
            fprintf(err, "jitpc: -chardev file needs path=\n");
            return -1;
        }
        snprintf(spec, cap, "file:%s", path);
    } else if (blen == 5 && !strncmp(arg, "stdio", 5)) {
        snprintf(spec, cap, "stdio");
    } else if (blen == 4 && !strncmp(arg, "null", 4)) {
        snprintf(spec, cap, "none");
    } else if (blen == 3 && !strncmp(arg, "pty", 3)) {
        snprintf(spec, cap, "pty");
    } else {
        fprintf(err, "jitpc: unsupported -chardev backend '%.*s' (file, stdio, null, pty)\n", (int)blen, arg);
        return -1;
    }
    snprintf(o->chardev[o->nchardevs].id, sizeof(o->chardev[0].id), "%s", id);
    o->nchardevs++;
    return 0;
}

static int parse_device(struct options *o, const char *arg, FILE *err)
{
    size_t dlen = strcspn(arg, ",");
    if (dlen == 14 && !strncmp(arg, "isa-debug-exit", 14)) {
        static const char *const known[] = { "iobase", "iosize", NULL };
        if (only_props(arg, known, err) || port_prop(arg, "iobase", &o->exit_port, err) ||
            port_prop(arg, "iosize", &o->exit_size, err))
            return -1;
        if (o->exit_size != 0 && o->exit_size != 1 && o->exit_size != 2 && o->exit_size != 4) {
            fprintf(err, "jitpc: isa-debug-exit iosize must be 1, 2 or 4\n");
            return -1;
        }
        return 0;
    }
    if (dlen == 12 && !strncmp(arg, "isa-debugcon", 12)) {
        static const char *const known[] = { "iobase", "chardev", NULL };
        char id[64];
        if (only_props(arg, known, err) || port_prop(arg, "iobase", &o->debugcon_port, err))
            return -1;
        if (prop(arg, "chardev", id, sizeof(id)) && resolve_chardev(o, id, o->debugcon, sizeof(o->debugcon), err))
            return -1;
        return 0;
    }
    fprintf(err, "jitpc: unsupported device '%.*s' (jitpc offers isa-debug-exit and isa-debugcon; the PC's "
            "own devices are always present)\n", (int)dlen, arg);
    return -1;
}

static int parse_serial(struct options *o, const char *arg, FILE *err)
{
    if (!strncmp(arg, "chardev:", 8))
        return resolve_chardev(o, arg + 8, o->serial, sizeof(o->serial), err);
    if (strcmp(arg, "stdio") && strcmp(arg, "mon:stdio") && strcmp(arg, "none") && strcmp(arg, "null") &&
        strcmp(arg, "pty") && !(!strncmp(arg, "file:", 5) && arg[5])) {
        fprintf(err, "jitpc: unsupported serial backend '%s' (stdio, file:PATH, pty, none)\n", arg);
        return -1;
    }
    snprintf(o->serial, sizeof(o->serial), "%s", arg);
    return 0;
}

int options_parse(struct options *o, int argc, char **argv, FILE *err)
{
    memset(o, 0, sizeof(*o));
    o->mem_size = 128ull << 20;
    o->max_insns = UINT64_MAX;
    snprintf(o->serial, sizeof(o->serial), "stdio");
    snprintf(o->debugcon, sizeof(o->debugcon), "stdio");
    char **args = calloc((size_t)argc + 1, sizeof(char *));
    if (!args)
        return 2;
    for (int i = 0; i < argc; i++)
        args[i] = (char *)(i ? qemu_alias(argv[i]) : argv[i]);

    enum { O_SERIAL = 256, O_NOREBOOT, O_NOGRAPHIC, O_DISPLAY, O_DEVICE, O_CHARDEV, O_CPU, O_ACCEL, O_DEBUGCON,
           O_INTERP, O_VERIFY, O_VERIFYFROM, O_JITSTATS, O_DUMPJIT, O_PERFMAP };
    static const struct option longopts[] = {
        { "bios", required_argument, NULL, 'b' }, { "memory", required_argument, NULL, 'm' },
        { "kernel", required_argument, NULL, 'k' }, { "initrd", required_argument, NULL, 'r' },
        { "append", required_argument, NULL, 'a' },
        { "trace", no_argument, NULL, 't' },      { "max-insns", required_argument, NULL, 'n' },
        { "icount", no_argument, NULL, 'i' },
        { "serial", required_argument, NULL, O_SERIAL }, { "no-reboot", no_argument, NULL, O_NOREBOOT },
        { "nographic", no_argument, NULL, O_NOGRAPHIC }, { "display", required_argument, NULL, O_DISPLAY },
        { "device", required_argument, NULL, O_DEVICE }, { "chardev", required_argument, NULL, O_CHARDEV },
        { "cpu", required_argument, NULL, O_CPU },     { "accel", required_argument, NULL, O_ACCEL },
        { "debugcon", required_argument, NULL, O_DEBUGCON },
        { "interp", no_argument, NULL, O_INTERP },      { "verify", no_argument, NULL, O_VERIFY },
        { "verify-from", required_argument, NULL, O_VERIFYFROM },
        { "jit-stats", no_argument, NULL, O_JITSTATS }, { "dump-jit", no_argument, NULL, O_DUMPJIT },
        { "perf-map", no_argument, NULL, O_PERFMAP },
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
        case 'm': {
            const char *v = !strncmp(optarg, "size=", 5) ? optarg + 5 : optarg; /* QEMU's -m size=256M */
            if (parse_mem_size(v, &o->mem_size)) {
                fprintf(err, "jitpc: bad memory size '%s' (try 256M or 1G)\n", optarg);
                rc = 2;
            }
            break;
        }
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
        case O_SERIAL: if (parse_serial(o, optarg, err)) rc = 2; break;
        case O_NOREBOOT: o->no_reboot = 1; break;
        case O_NOGRAPHIC: o->nographic = 1; break;
        case O_DISPLAY:
            if (strcmp(optarg, "none")) {
                fprintf(err, "jitpc: unsupported display '%s': jitpc has no display device yet (use -display none)\n", optarg);
                rc = 2;
            }
            o->nographic = 1;
            break;
        case O_DEVICE: if (parse_device(o, optarg, err)) rc = 2; break;
        case O_CHARDEV: if (parse_chardev(o, optarg, err)) rc = 2; break;
        case O_CPU:
            if (strcmp(optarg, "pentium2")) {
                fprintf(err, "jitpc: unsupported CPU model '%s': jitpc emulates a pentium2\n", optarg);
                rc = 2;
            }
            break;
        case O_ACCEL:
            if (strncmp(optarg, "tcg", 3) || (optarg[3] && optarg[3] != ',')) {
                fprintf(err, "jitpc: unsupported accelerator '%s': jitpc is its own (tcg is accepted)\n", optarg);
                rc = 2;
            }
            break;
        case O_DEBUGCON:
            if (strcmp(optarg, "stdio") && strcmp(optarg, "none") && !(!strncmp(optarg, "file:", 5) && optarg[5])) {
                fprintf(err, "jitpc: unsupported debug console '%s' (stdio, file:PATH, none)\n", optarg);
                rc = 2;
            }
            snprintf(o->debugcon, sizeof(o->debugcon), "%s", optarg);
            break;
        case O_INTERP: o->interp = 1; break;
        case O_VERIFY: o->verify = 1; break;
        case O_VERIFYFROM: {
            char *end;
            o->verify = 1;
            o->verify_from = strtoull(optarg, &end, 0);
            if (!*optarg || *end) {
                fprintf(err, "jitpc: bad instruction count '%s' for --verify-from\n", optarg);
                rc = 2;
            }
            break;
        }
        case O_JITSTATS: o->jit_stats = 1; break;
        case O_DUMPJIT: o->dump_jit = 1; break;
        case O_PERFMAP: o->perf_map = 1; break;
        case 'h': fputs(usage, stdout); rc = 0; break;
        case ':': fprintf(err, "jitpc: option '%s' needs an argument\n", args[optind - 1]); rc = 2; break;
        default: fprintf(err, "jitpc: unknown option '%s'\n%s", args[optind - 1], usage); rc = 2; break;
        }
    }
    if (rc < 0 && optind < argc) {
        fprintf(err, "jitpc: unexpected argument '%s'\n", args[optind]);
        rc = 2;
    }
    if (rc < 0 && o->interp && (o->verify || o->jit_stats || o->dump_jit || o->perf_map)) {
        fprintf(err, "jitpc: --interp runs no JIT: --verify, --jit-stats, --dump-jit and --perf-map need it\n");
        rc = 2;
    }
    if (rc < 0 && o->trace && (o->verify || o->jit_stats || o->dump_jit || o->perf_map)) {
        fprintf(err, "jitpc: --trace single-steps the interpreter: it cannot be combined with --verify, --jit-stats, --dump-jit or --perf-map\n");
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

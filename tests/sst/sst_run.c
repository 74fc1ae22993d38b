/* Conformance runner for the SingleStepTests vectors (MOO format, see FORMAT.md next to the data):
 * each test loads a real-mode state, runs one instruction (through cpu_step, or as a one-instruction
 * JIT block with --jit / --verify) and compares the result with what a real 80286 (or 386EX)
 * recorded, through the undefined-flag masks of metadata.json. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "../../cpu/interp.h"
#include "../../devices/machine.h"

#define RAM_SIZE (16u << 20)
#define SHOW_DEFAULT 3   /* failing tests printed per file without --verbose */
#define DIFF_MAX 4096

/* ------------------------------------------------------------------------------------------ */
/* Small helpers */

static _Noreturn void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sst_run: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory");
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Reads a whole file, through zlib when it is gzip-compressed (gzread passes plain files through). */
static uint8_t *read_gz(const char *path, size_t *len)
{
    gzFile f = gzopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 20, n = 0;
    uint8_t *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf)
                die("out of memory");
        }
        int r = gzread(f, buf + n, (unsigned)(cap - n));
        if (r < 0)
            die("%s: %s", path, gzerror(f, &r));
        if (r == 0)
            break;
        n += (size_t)r;
    }
    gzclose(f);
    *len = n;
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* A purpose-built JSON reader: enough for metadata.json (objects, strings, numbers, literals). */

enum jtype { J_NULL, J_OBJ, J_ARR, J_STR, J_NUM, J_BOOL };

struct jval {
    enum jtype t;
    char *key;          /* member name inside an object */
    char *s;            /* J_STR */
    double n;           /* J_NUM, J_BOOL */
    struct jval *kids;  /* J_OBJ, J_ARR: first member */
    struct jval *next;  /* sibling */
};

struct jparser {
    const char *p, *end;
    const char *err;
};

static void jskip(struct jparser *j)
{
    while (j->p < j->end && isspace((unsigned char)*j->p))
        j->p++;
}

static char *jstring(struct jparser *j)
{
    if (j->p >= j->end || *j->p != '"') {
        j->err = "expected a string";
        return NULL;
    }
    j->p++;
    size_t cap = 16, n = 0;
    char *s = xmalloc(cap);
    while (j->p < j->end && *j->p != '"') {
        char ch = *j->p++;
        if (ch == '\\' && j->p < j->end) {
            ch = *j->p++;
            switch (ch) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'u': /* not needed here: keep a placeholder, skip the four hex digits */
                j->p = j->end - j->p >= 4 ? j->p + 4 : j->end;
                ch = '?';
                break;
            default: break; /* \" \\ \/ */
            }
        }
        if (n + 2 > cap) {
            cap *= 2;
            s = realloc(s, cap);
            if (!s)
                die("out of memory");
        }
        s[n++] = ch;
    }
    if (j->p >= j->end) {
        j->err = "unterminated string";
        free(s);
        return NULL;
    }
    j->p++;
    s[n] = 0;
    return s;
}

static struct jval *jvalue(struct jparser *j, int depth)
{
    jskip(j);
    if (j->err || j->p >= j->end || depth > 64) {
        j->err = j->err ? j->err : "unexpected end";
        return NULL;
    }
    struct jval *v = xmalloc(sizeof(*v));
    memset(v, 0, sizeof(*v));
    char ch = *j->p;
    if (ch == '{' || ch == '[') {
        v->t = ch == '{' ? J_OBJ : J_ARR;
        char close = ch == '{' ? '}' : ']';
        j->p++;
        struct jval **tail = &v->kids;
        jskip(j);
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return v;
        }
        for (;;) {
            char *key = NULL;
            if (v->t == J_OBJ) {
                jskip(j);
                key = jstring(j);
                jskip(j);
                if (!key || j->p >= j->end || *j->p != ':') {
                    j->err = j->err ? j->err : "expected ':'";
                    free(key);
                    return v;
                }
                j->p++;
            }
            struct jval *kid = jvalue(j, depth + 1);
            if (!kid) {
                free(key);
                return v;
            }
            kid->key = key;
            *tail = kid;
            tail = &kid->next;
            jskip(j);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->end && *j->p == close) {
                j->p++;
                return v;
            }
            j->err = "expected ',' or a closing bracket";
            return v;
        }
    }
    if (ch == '"') {
        v->t = J_STR;
        v->s = jstring(j);
        return v;
    }
    if (ch == 't' || ch == 'f' || ch == 'n') {
        const char *words[] = { "true", "false", "null" };
        for (int i = 0; i < 3; i++) {
            size_t l = strlen(words[i]);
            if ((size_t)(j->end - j->p) >= l && !memcmp(j->p, words[i], l)) {
                j->p += l;
                v->t = i == 2 ? J_NULL : J_BOOL;
                v->n = i == 0;
                return v;
            }
        }
        j->err = "bad literal";
        return v;
    }
    char tmp[64];
    size_t l = 0;
    while (j->p < j->end && l + 1 < sizeof(tmp) && strchr("+-0123456789.eE", *j->p))
        tmp[l++] = *j->p++;
    tmp[l] = 0;
    char *e;
    v->t = J_NUM;
    v->n = strtod(tmp, &e);
    if (l == 0 || *e)
        j->err = "bad number";
    return v;
}

static void jfree(struct jval *v)
{
    while (v) {
        struct jval *next = v->next;
        jfree(v->kids);
        free(v->key);
        free(v->s);
        free(v);
        v = next;
    }
}

static const struct jval *jget(const struct jval *obj, const char *key)
{
    if (!obj || obj->t != J_OBJ)
        return NULL;
    for (const struct jval *k = obj->kids; k; k = k->next)
        if (k->key && !strcmp(k->key, key))
            return k;
    return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Per-suite configuration: metadata, revocations, exclusions */

/* What metadata.json says about one opcode (reg = 8) or one group member (reg 0-7). */
struct opmeta {
    char status[16];
    int known;
    uint32_t flags_mask; /* 0xFFFF when no flag is undefined */
};

struct exclusion {
    char key[16]; /* "D8", "C6.1", "0F05", or the special "lock-ud" */
    char *reason;
    unsigned hits;
};

struct suite {
    const char *dir;
    struct opmeta meta[512][9];
    uint8_t (*revoked)[20];
    size_t nrevoked;
};

struct config {
    int verbose;
    int show;            /* failing tests printed per file */
    char **filters;
    int nfilters;
    struct exclusion *excl;
    int nexcl;
};

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* "80" -> 0x80; "0F01" -> 0x101 (the two-byte page). Returns -1 if it is neither. */
static int parse_opcode(const char *s, size_t len)
{
    if (len != 2 && len != 4)
        return -1;
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        int h = hexval((unsigned char)s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    if (len == 4) {
        if ((v >> 8) != 0x0F)
            return -1;
        v = 0x100 | (v & 0xFF);
    }
    return v;
}

static void meta_fill(struct opmeta *m, const struct jval *o)
{
    const struct jval *st = jget(o, "status");
    const struct jval *fm = jget(o, "flags-mask");
    m->known = 1;
    snprintf(m->status, sizeof(m->status), "%s", st && st->t == J_STR ? st->s : "normal");
    m->flags_mask = fm && fm->t == J_NUM ? (uint32_t)fm->n & 0xFFFF : 0xFFFF;
}

static void load_metadata(struct suite *s)
{
    for (int op = 0; op < 512; op++)
        for (int r = 0; r < 9; r++)
            s->meta[op][r] = (struct opmeta){ "normal", 0, 0xFFFF };
    char path[4096];
    snprintf(path, sizeof(path), "%s/metadata.json", s->dir);
    size_t len;
    uint8_t *text = read_gz(path, &len);
    if (!text)
        return; /* the 386 sample has none: every flag of ADD is defined */
    struct jparser j = { (const char *)text, (const char *)text + len, NULL };
    struct jval *root = jvalue(&j, 0);
    if (j.err)
        die("%s: %s at byte %ld", path, j.err, (long)(j.p - (const char *)text));
    const struct jval *ops = jget(root, "opcodes");
    for (const struct jval *o = ops ? ops->kids : NULL; o; o = o->next) {
        int op = parse_opcode(o->key, strlen(o->key));
        if (op < 0)
            continue;
        meta_fill(&s->meta[op][8], o);
        const struct jval *regs = jget(o, "reg");
        for (const struct jval *r = regs ? regs->kids : NULL; r; r = r->next)
            if (r->key[0] >= '0' && r->key[0] <= '7' && !r->key[1])
                meta_fill(&s->meta[op][r->key[0] - '0'], r);
    }
    jfree(root);
    free(text);
}

static void load_revocations(struct suite *s)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/revocation_list.txt", s->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        uint8_t h[20];
        int i = 0;
        for (; i < 20; i++) {
            int a = hexval((unsigned char)p[2 * i]), b = a < 0 ? -1 : hexval((unsigned char)p[2 * i + 1]);
            if (a < 0 || b < 0)
                break;
            h[i] = (uint8_t)(a << 4 | b);
        }
        if (i < 20)
            continue; /* comments and blank lines */
        s->revoked = realloc(s->revoked, (s->nrevoked + 1) * sizeof(*s->revoked));
        if (!s->revoked)
            die("out of memory");
        memcpy(s->revoked[s->nrevoked++], h, 20);
    }
    fclose(f);
}

/* exclusions.txt: "KEY reason..." per line, '#' starts a comment line. */
static void load_exclusions(struct config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "sst_run: warning: no exclusion list at %s (run from the repository root)\n", path);
        return;
    }
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            continue;
        char *k = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (*p)
            *p++ = 0;
        while (isspace((unsigned char)*p))
            p++;
        char *e = p + strlen(p);
        while (e > p && isspace((unsigned char)e[-1]))
            *--e = 0;
        cfg->excl = realloc(cfg->excl, (size_t)(cfg->nexcl + 1) * sizeof(*cfg->excl));
        if (!cfg->excl)
            die("out of memory");
        struct exclusion *x = &cfg->excl[cfg->nexcl++];
        snprintf(x->key, sizeof(x->key), "%.15s", k);
        for (char *c = x->key; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        x->reason = xstrdup(*p ? p : "(no reason given)");
        x->hits = 0;
    }
    fclose(f);
}

/* ------------------------------------------------------------------------------------------ */
/* One test, parsed in place from the decompressed file */

enum { FMT_REGS, FMT_RG32 };

/* Register slots: REGS order for the 16-bit CPUs, RG32 order for the 386. */
static const char *const regs16_name[14] = { "ax", "bx", "cx", "dx", "cs", "ss", "ds",
                                             "es", "sp", "bp", "si", "di", "ip", "flags" };
static const char *const regs32_name[20] = { "cr0", "cr3", "eax", "ebx", "ecx", "edx", "esi",
                                             "edi", "ebp", "esp", "cs",  "ds",  "es",  "fs",
                                             "gs",  "ss",  "eip", "eflags", "dr6", "dr7" };

struct mstate {
    int have_regs;
    uint32_t mask;      /* which registers the state lists */
    uint32_t reg[20];
    const uint8_t *ram; /* count records of (u32 address, u8 value) */
    uint32_t nram;
};

struct test {
    uint32_t index;
    const char *name;
    uint32_t namelen;
    const uint8_t *bytes;
    uint32_t nbytes;
    struct mstate init, fina;
    int fmt;
    int has_excp;
    uint8_t exc_vec;
    uint32_t exc_addr;
    const uint8_t *hash;
};

struct cursor {
    const uint8_t *p, *end;
};

/* Next chunk inside [p, end): its tag, payload and length. Returns 0 at the end, -1 on damage. */
static int next_chunk(struct cursor *k, char tag[5], const uint8_t **payload, uint32_t *len)
{
    if (k->p == k->end)
        return 0;
    if (k->end - k->p < 8)
        return -1;
    memcpy(tag, k->p, 4);
    tag[4] = 0;
    *len = rd32(k->p + 4);
    if ((uint64_t)(k->end - k->p - 8) < *len)
        return -1;
    *payload = k->p + 8;
    k->p += 8 + *len;
    return 1;
}

static int parse_state(const uint8_t *p, uint32_t len, int fmt, struct mstate *st)
{
    struct cursor k = { p, p + len };
    char tag[5];
    const uint8_t *pl;
    uint32_t l;
    int r;
    memset(st, 0, sizeof(*st));
    while ((r = next_chunk(&k, tag, &pl, &l)) > 0) {
        if (!strcmp(tag, "REGS") && fmt == FMT_REGS && l >= 2) {
            st->have_regs = 1;
            st->mask = rd16(pl);
            const uint8_t *q = pl + 2;
            for (int i = 0; i < 14; i++)
                if (st->mask & (1u << i)) {
                    if (q + 2 > pl + l)
                        return -1;
                    st->reg[i] = rd16(q);
                    q += 2;
                }
        } else if (!strcmp(tag, "RG32") && fmt == FMT_RG32 && l >= 4) {
            st->have_regs = 1;
            st->mask = rd32(pl);
            const uint8_t *q = pl + 4;
            for (int i = 0; i < 20; i++)
                if (st->mask & (1u << i)) {
                    if (q + 4 > pl + l)
                        return -1;
                    st->reg[i] = rd32(q);
                    q += 4;
                }
        } else if (!strcmp(tag, "RAM ") && l >= 4) {
            st->nram = rd32(pl);
            if ((uint64_t)st->nram * 5 + 4 > l)
                return -1;
            st->ram = pl + 4;
        }
    }
    return r;
}

static int parse_test(const uint8_t *p, uint32_t len, int fmt, struct test *t)
{
    memset(t, 0, sizeof(*t));
    t->fmt = fmt;
    if (len < 4)
        return -1;
    t->index = rd32(p);
    struct cursor k = { p + 4, p + len };
    char tag[5];
    const uint8_t *pl;
    uint32_t l;
    int r;
    int have_init = 0, have_fina = 0;
    while ((r = next_chunk(&k, tag, &pl, &l)) > 0) {
        if (!strcmp(tag, "NAME") && l >= 4) {
            t->namelen = rd32(pl) <= l - 4 ? rd32(pl) : l - 4;
            t->name = (const char *)pl + 4;
        } else if (!strcmp(tag, "BYTS") && l >= 4) {
            t->nbytes = rd32(pl) <= l - 4 ? rd32(pl) : l - 4;
            t->bytes = pl + 4;
        } else if (!strcmp(tag, "INIT")) {
            if (parse_state(pl, l, fmt, &t->init) < 0)
                return -1;
            have_init = 1;
        } else if (!strcmp(tag, "FINA")) {
            if (parse_state(pl, l, fmt, &t->fina) < 0)
                return -1;
            have_fina = 1;
        } else if (!strcmp(tag, "EXCP") && l >= 5) {
            t->has_excp = 1;
            t->exc_vec = pl[0];
            t->exc_addr = rd32(pl + 1);
        } else if (!strcmp(tag, "HASH") && l >= 20) {
            t->hash = pl;
        }
    }
    return r < 0 || !have_init || !have_fina || !t->init.have_regs || !t->bytes ? -1 : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* What the instruction is: opcode (0x100 | byte for 0F xx), ModRM reg, prefixes */

struct shape {
    int op;
    int reg;      /* ModRM.reg, or -1 without a ModRM byte that matters */
    int mod;
    int lock;
};

static void classify(const struct test *t, struct shape *sh)
{
    uint32_t i = 0;
    sh->lock = 0;
    sh->reg = sh->mod = -1;
    for (; i < t->nbytes; i++) {
        uint8_t b = t->bytes[i];
        if (b == 0xF0)
            sh->lock = 1;
        else if (!(b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65 ||
                   b == 0x66 || b == 0x67 || b == 0xF2 || b == 0xF3))
            break;
    }
    sh->op = i < t->nbytes ? t->bytes[i] : -1;
    if (sh->op == 0x0F && i + 1 < t->nbytes)
        sh->op = 0x100 | t->bytes[++i];
    if (i + 1 < t->nbytes) {
        sh->reg = (t->bytes[i + 1] >> 3) & 7;
        sh->mod = t->bytes[i + 1] >> 6;
    }
}

/* Whether a P6 accepts LOCK on this instruction: only the read-modify-write instructions listed
 * on the SDM's LOCK page, and only with a memory destination; anything else is #UD there, while
 * an 80286 accepts LOCK on any instruction. Written from the SDM, independent of cpu/decode.c. */
static int lock_legal_on_p6(const struct shape *sh)
{
    int mem = sh->mod >= 0 && sh->mod != 3;
    int op = sh->op;
    if (op < 0x40 && (op & 7) < 2 && (op >> 3) != 7) /* ADD OR ADC SBB AND SUB XOR Eb,Gb / Ev,Gv */
        return mem;
    if (op >= 0x80 && op <= 0x83) /* group 1 except CMP */
        return mem && sh->reg != 7;
    if (op == 0x86 || op == 0x87) /* XCHG */
        return mem;
    if (op == 0xF6 || op == 0xF7) /* NOT, NEG */
        return mem && (sh->reg == 2 || sh->reg == 3);
    if (op == 0xFE || op == 0xFF) /* INC, DEC */
        return mem && sh->reg <= 1;
    if (op == 0x1AB || op == 0x1B3 || op == 0x1BB || op == 0x1B0 || op == 0x1B1 || op == 0x1C0 ||
        op == 0x1C1) /* BTS BTR BTC CMPXCHG XADD */
        return mem;
    if (op == 0x1BA)
        return mem && sh->reg >= 5;
    if (op == 0x1C7)
        return mem && sh->reg == 1;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The machine the tests run on, and bookkeeping of what a test touched */

struct runner {
    struct machine *m;
    enum machine_engine engine; /* jit and verify: each vector's instruction is its own block */
    uint8_t *ram; /* the flat 16 MiB of guest RAM */
    int alias_ss;  /* this test runs with the #SS vector pointed at the interrupt 13 handler */
    int ss13;      /* the exclusion list enables rule SS-13 */
    int str13;     /* the exclusion list enables rule STRING-13 */
    int relaxed;   /* this test's SI, DI and CX are not compared (rule STRING-13) */
    char diff[DIFF_MAX];
    size_t difflen;
};

static void runner_init(struct runner *r, enum machine_engine engine)
{
    memset(r, 0, sizeof(*r));
    struct machine_config cfg = { .mem_size = RAM_SIZE, .cpu = CPU_PENTIUM2, .engine = engine };
    char err[256];
    r->m = machine_create(&cfg, err, sizeof(err));
    if (!r->m)
        die("machine_create: %s", err);
    r->engine = engine;
    if (r->m->jit)
        jit_set_max_insns(r->m->jit, 1);
    /* The test rig has RAM everywhere a real-mode address reaches: back the 640K-1M window too,
     * with the pages the RAM mapping skipped, so guest RAM is one flat array. */
    struct physmem *pm = &r->m->mem;
    if (physmem_map_ram(pm, 0xA0000, pm->ram + 0xA0000, 0x60000))
        die("cannot map RAM at 0xA0000");
    r->ram = pm->ram;
    /* Nothing answers on the test rig's I/O bus (IN reads all ones): drop the PC's debug ports. */
    ioports_init(&r->m->io);
}

static void dprintf_(struct runner *r, const char *fmt, ...)
{
    if (r->difflen >= DIFF_MAX - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->diff + r->difflen, DIFF_MAX - r->difflen, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->difflen = r->difflen + (size_t)n < DIFF_MAX ? r->difflen + (size_t)n : DIFF_MAX - 1;
}

static const uint8_t *ram_rec(const struct mstate *st, uint32_t i, uint32_t *addr)
{
    const uint8_t *q = st->ram + 5 * (size_t)i;
    *addr = rd32(q);
    return q + 4;
}

/* Expected final value of a byte: FINA if listed, else INIT if listed, else untouched zero. */
static int expected_byte(const struct test *t, uint32_t addr, uint8_t *v)
{
    uint32_t a;
    for (uint32_t i = 0; i < t->fina.nram; i++) {
        const uint8_t *val = ram_rec(&t->fina, i, &a);
        if (a == addr) {
            *v = *val;
            return 2;
        }
    }
    for (uint32_t i = 0; i < t->init.nram; i++) {
        const uint8_t *val = ram_rec(&t->init, i, &a);
        if (a == addr) {
            *v = *val;
            return 1;
        }
    }
    *v = 0;
    return 0;
}

/* The INIT value of a byte, when the vector lists it. */
static int expected_init(const struct test *t, uint32_t addr, uint8_t *v)
{
    uint32_t a;
    for (uint32_t i = 0; i < t->init.nram; i++) {
        const uint8_t *val = ram_rec(&t->init, i, &a);
        if (a == addr) {
            *v = *val;
            return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Running and comparing one test */

/* FLAGS bits compared for the 80286: its FLAGS bits 12-15 read as zero in real mode while a P6
 * keeps IOPL and NT there (SDM Vol. 1 §3.4.3; the suite's README says to mask them). */
#define FLAGS286_MASK 0x0FFFu
/* EFLAGS bits an 80386 defines (CF PF AF ZF SF TF IF DF OF IOPL NT RF VM, and fixed bit 1): the
 * 386EX reads the others as chip-specific ones; AC, VIF, VIP and ID came with later CPUs. */
#define EFLAGS386_MASK 0x00037FD7u

enum outcome { T_PASS, T_FAIL, T_UNIMPL };

static const int reg16_to_cpu[14] = { R_EAX, R_EBX, R_ECX, R_EDX, -1, -1, -1, -1, R_ESP, R_EBP, R_ESI, R_EDI, -1, -1 };
static const int seg16_of[14] = { -1, -1, -1, -1, S_CS, S_SS, S_DS, S_ES, -1, -1, -1, -1, -1, -1 };
static const int reg32_to_cpu[20] = { -1, -1, R_EAX, R_EBX, R_ECX, R_EDX, R_ESI, R_EDI, R_EBP, R_ESP,
                                      -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 };
static const int seg32_of[20] = { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, S_CS, S_DS, S_ES, S_FS, S_GS, S_SS,
                                  -1, -1, -1, -1 };

static void load_state(struct runner *r, const struct test *t)
{
    struct cpu *c = &r->m->cpu;
    cpu_reset(c);
    c->r[R_EDX] = 0; /* the reset signature: the vector gives every register */
    int n = t->fmt == FMT_REGS ? 14 : 20;
    for (int i = 0; i < n; i++) {
        uint32_t v = t->init.reg[i];
        int gr = t->fmt == FMT_REGS ? reg16_to_cpu[i] : reg32_to_cpu[i];
        int sr = t->fmt == FMT_REGS ? seg16_of[i] : seg32_of[i];
        if (gr >= 0) {
            c->r[gr] = v;
        } else if (sr >= 0) {
            /* Real mode: base = selector * 16, limit 0xFFFF (the reset cache keeps the limit). */
            c->seg[sr].sel = (uint16_t)v;
            c->seg[sr].base = (v & 0xFFFF) << 4;
            c->seg[sr].limit = 0xFFFF;
        }
    }
    if (t->fmt == FMT_REGS) {
        c->eip = t->init.reg[12];
        /* The 286 held zeros in FLAGS bits 12-15 whatever the loader asked for. */
        c->eflags = (t->init.reg[13] & FLAGS286_MASK & 0x0FD5u) | F_FIXED1;
    } else {
        c->eip = t->init.reg[16];
        c->eflags = (t->init.reg[17] & EFLAGS386_MASK & ~F_VM) | F_FIXED1;
    }
    for (uint32_t i = 0; i < t->init.nram; i++) {
        uint32_t a;
        const uint8_t *v = ram_rec(&t->init, i, &a);
        if (a < RAM_SIZE)
            r->ram[a] = *v;
    }
    r->alias_ss = 0;
    /* Rule SS-13 (exclusions.txt): where the 286 reported a stack-segment overrun through
     * interrupt 13, let a P6's #SS reach the same handler, so the rest of the state is compared. */
    if (r->ss13 && t->fmt == FMT_REGS && t->has_excp && t->exc_vec == EXC_GP) {
        uint8_t v13[4], dummy;
        int have = 1;
        for (int i = 0; i < 4; i++) {
            have &= expected_init(t, 4 * EXC_GP + (uint32_t)i, &v13[i]);
            have &= !expected_init(t, 4 * EXC_SS + (uint32_t)i, &dummy);
        }
        if (have) {
            memcpy(r->ram + 4 * EXC_SS, v13, 4);
            r->alias_ss = 1;
        }
    }
}

/* Puts RAM back to all zeros: every byte the vector or the CPU wrote. */
static void unload_state(struct runner *r, const struct test *t)
{
    uint32_t a;
    for (uint32_t i = 0; i < t->init.nram; i++) {
        ram_rec(&t->init, i, &a);
        if (a < RAM_SIZE)
            r->ram[a] = 0;
    }
    for (uint32_t i = 0; i < t->fina.nram; i++) {
        ram_rec(&t->fina, i, &a);
        if (a < RAM_SIZE)
            r->ram[a] = 0;
    }
    if (r->alias_ss)
        memset(r->ram + 4 * EXC_SS, 0, 4);
}

/* The 64 KiB windows a real-mode instruction can store into: each segment's, at its INIT, its
 * expected and its actual final base. Sorted and merged into disjoint [lo, hi) ranges. */
static int store_windows(const struct runner *r, const struct test *t, uint32_t lo[], uint32_t hi[])
{
    uint32_t base[32];
    int n = 0;
    const struct cpu *c = &r->m->cpu;
    for (int s = 0; s < S_NSEG; s++)
        base[n++] = c->seg[s].base;
    if (t->fmt == FMT_REGS) {
        for (int i = 4; i <= 7; i++) { /* cs ss ds es */
            base[n++] = (t->init.reg[i] & 0xFFFF) << 4;
            if (t->fina.mask & (1u << i))
                base[n++] = (t->fina.reg[i] & 0xFFFF) << 4;
        }
    } else {
        for (int i = 10; i <= 15; i++) {
            base[n++] = (t->init.reg[i] & 0xFFFF) << 4;
            if (t->fina.mask & (1u << i))
                base[n++] = (t->fina.reg[i] & 0xFFFF) << 4;
        }
    }
    for (int i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (int j = i; j > 0 && base[j - 1] > base[j]; j--) {
            uint32_t tmp = base[j];
            base[j] = base[j - 1];
            base[j - 1] = tmp;
        }
    int m = 0;
    for (int i = 0; i < n; i++) {
        uint32_t b = base[i] < RAM_SIZE ? base[i] : RAM_SIZE;
        uint32_t e = base[i] + 0x10000u < RAM_SIZE ? base[i] + 0x10000u : RAM_SIZE;
        if (m && b <= hi[m - 1]) {
            if (e > hi[m - 1])
                hi[m - 1] = e;
        } else {
            lo[m] = b;
            hi[m] = e;
            m++;
        }
    }
    return m;
}

static const char *flag_names(uint32_t bits, char *buf, size_t len)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        { F_CF, "CF" }, { F_PF, "PF" }, { F_AF, "AF" }, { F_ZF, "ZF" }, { F_SF, "SF" }, { F_TF, "TF" },
        { F_IF, "IF" }, { F_DF, "DF" }, { F_OF, "OF" }, { F_IOPL, "IOPL" }, { F_NT, "NT" }, { F_RF, "RF" },
        { F_VM, "VM" }, { F_AC, "AC" }, { F_VIF, "VIF" }, { F_VIP, "VIP" }, { F_ID, "ID" },
    };
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if ((bits & names[i].bit) && n + 6 < len)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "", names[i].name);
    if (bits & ~(uint32_t)(F_ARITH | F_TF | F_IF | F_DF | F_OF | F_IOPL | F_NT | F_RF | F_VM | F_AC | F_VIF | F_VIP | F_ID))
        snprintf(buf + n, len - n, "%sreserved", n ? " " : "");
    return buf;
}

static enum outcome run_test(struct runner *r, const struct suite *s, const struct test *t,
                             const struct shape *sh)
{
    struct cpu *c = &r->m->cpu;
    r->difflen = 0;
    r->diff[0] = 0;
    load_state(r, t);
    int ret;
    if (r->engine == ENGINE_INTERP) {
        ret = cpu_step(c);
    } else {
        /* load_state wrote code into RAM behind the write hook: drop what was translated there.
         * The JIT enters a block only on a TLB hit for its first byte (a miss is the interpreter's
         * to fill), and load_state's reset emptied the TLB: warm it as an earlier fetch would. */
        jit_flush(r->m->jit);
        mmu_translate(c, c->seg[S_CS].base + c->eip, ACC_FETCH);
        ret = r->engine == ENGINE_JIT ? jit_run(r->m->jit, c, 1) : jit_verify_run(r->m->jit, c, 1, stderr);
        if (ret < 0) {
            dprintf_(r, "      --verify: the JIT and the interpreter disagree (states on stderr)\n");
            unload_state(r, t);
            return T_FAIL;
        }
    }
    enum outcome out = T_PASS;
    if (ret == CPU_EXIT_UNIMPL) {
        dprintf_(r, "      stopped: unimplemented: %s\n", c->unimpl ? c->unimpl : "?");
        unload_state(r, t);
        return T_UNIMPL;
    }
    if (ret == CPU_EXIT_SHUTDOWN) {
        dprintf_(r, "      stopped: triple fault (shutdown)\n");
        out = T_FAIL;
    }
    /* The chip ran into the HLT that ends each test (at the next byte, or at the first byte of
     * the new CS:IP), and its recorded IP is one past it; an instruction that itself halted was
     * that HLT. */
    uint32_t ip = c->eip;
    if (!c->halted)
        ip += 1;

    uint32_t flags_mask;
    const struct opmeta *om = NULL;
    if (t->fmt == FMT_REGS) {
        int op = sh->op >= 0 ? sh->op : 0;
        om = sh->reg >= 0 && s->meta[op][sh->reg].known ? &s->meta[op][sh->reg] : &s->meta[op][8];
        flags_mask = om->flags_mask & FLAGS286_MASK;
    } else {
        flags_mask = EFLAGS386_MASK;
    }

    /* Rule STRING-13 (exclusions.txt): a 286 string instruction that hits interrupt 13 has already
     * stepped SI, DI and CX, which its #13 handler must undo; a P6 faults with them unstepped. */
    int op = sh->op;
    r->relaxed = r->str13 && t->fmt == FMT_REGS && t->has_excp && t->exc_vec == EXC_GP &&
                 ((op >= 0x6C && op <= 0x6F) || (op >= 0xA4 && op <= 0xA7) || (op >= 0xAA && op <= 0xAF));

    /* Registers: FINA lists the changed ones, the others must keep their INIT values. */
    int n = t->fmt == FMT_REGS ? 14 : 20;
    for (int i = 0; i < n; i++) {
        uint32_t exp = (t->fina.mask & (1u << i)) ? t->fina.reg[i] : t->init.reg[i];
        uint32_t got, mask;
        const char *name = t->fmt == FMT_REGS ? regs16_name[i] : regs32_name[i];
        int gr = t->fmt == FMT_REGS ? reg16_to_cpu[i] : reg32_to_cpu[i];
        int sr = t->fmt == FMT_REGS ? seg16_of[i] : seg32_of[i];
        int is_ip = t->fmt == FMT_REGS ? i == 12 : i == 16;
        int is_flags = t->fmt == FMT_REGS ? i == 13 : i == 17;
        mask = t->fmt == FMT_REGS ? 0xFFFF : 0xFFFFFFFFu;
        if (r->relaxed && (gr == R_ESI || gr == R_EDI || gr == R_ECX))
            continue;
        if (gr >= 0) {
            /* A 16-bit CPU's instruction never touches the upper halves of a P6's registers. */
            got = c->r[gr];
            if (t->fmt == FMT_REGS)
                mask = 0xFFFFFFFFu;
        } else if (sr >= 0) {
            got = c->seg[sr].sel;
            if ((c->seg[sr].base != (got << 4)) && !cpu_pmode(c)) {
                dprintf_(r, "      %-6s base %08x does not match selector %04x\n", name, c->seg[sr].base, got);
                out = T_FAIL;
            }
        } else if (is_ip) {
            got = t->fmt == FMT_REGS ? ip & 0xFFFF : ip;
        } else if (is_flags) {
            got = cpu_get_eflags(c);
            mask = flags_mask;
            if (t->fmt == FMT_REGS && (got & 0xFFFF0000u)) {
                char b[128];
                dprintf_(r, "      eflags upper bits set: %s\n", flag_names(got & 0xFFFF0000u, b, sizeof(b)));
                out = T_FAIL;
            }
        } else {
            continue; /* CR0, CR3, DR6, DR7: chip-specific fixed bits, nothing real mode changes */
        }
        if ((exp & mask) != (got & mask)) {
            out = T_FAIL;
            if (is_flags) {
                char b[128];
                dprintf_(r, "      %-6s expected %04x got %04x (mask %04x) differ: %s\n", name, exp, got, mask,
                         flag_names((exp ^ got) & mask, b, sizeof(b)));
            } else if (t->fmt == FMT_REGS) {
                dprintf_(r, "      %-6s expected %04x got %0*x\n", name, exp, got > 0xFFFF ? 8 : 4, got);
            } else {
                dprintf_(r, "      %-6s expected %08x got %08x\n", name, exp, got);
            }
        }
    }

    /* Where the interrupt frame's FLAGS image lies: SS:SP+4 after delivery. EXCP names the
     * aligned bus word, which is one byte low when SP was odd, so it is taken from the final
     * SS:SP when that agrees with it. */
    uint32_t flags_at = t->exc_addr, flags_hi_at = t->exc_addr + 1;
    if (t->has_excp && t->fmt == FMT_REGS) {
        uint32_t ss = (t->fina.mask & (1u << 5)) ? t->fina.reg[5] : t->init.reg[5];
        uint32_t sp = (t->fina.mask & (1u << 8)) ? t->fina.reg[8] : t->init.reg[8];
        uint32_t lo = (ss << 4) + ((sp + 4) & 0xFFFF), hi = (ss << 4) + ((sp + 5) & 0xFFFF);
        if ((lo & ~1u) == (t->exc_addr & ~1u) || lo == t->exc_addr + 1) {
            flags_at = lo;
            flags_hi_at = hi;
        }
    }

    /* Memory: every byte FINA lists, then every INIT byte FINA does not list. The FLAGS image an
     * exception pushed is compared through the same mask as FLAGS. */
    uint32_t a;
    for (int pass = 0; pass < 2; pass++) {
        const struct mstate *st = pass == 0 ? &t->fina : &t->init;
        for (uint32_t i = 0; i < st->nram; i++) {
            ram_rec(st, i, &a);
            uint8_t exp;
            if (expected_byte(t, a, &exp) == 2 && pass == 1)
                continue; /* compared in the first pass */
            uint8_t got = a < RAM_SIZE ? r->ram[a] : 0xFF;
            uint8_t m = 0xFF;
            if (t->has_excp && a == flags_at)
                m = (uint8_t)flags_mask;
            else if (t->has_excp && a == flags_hi_at)
                m = (uint8_t)(flags_mask >> 8);
            if ((exp & m) != (got & m)) {
                out = T_FAIL;
                dprintf_(r, "      mem[%06x] expected %02x got %02x%s\n", a, exp, got,
                         m != 0xFF ? " (pushed FLAGS, masked)" : "");
            }
        }
    }
    /* Every other byte must still be zero. Stores are not logged (they may take a TLB fast path),
     * so the windows every segment could reach are scanned, a word at a time. Strays are cleared. */
    uint32_t wlo[40], whi[40];
    int nw = store_windows(r, t, wlo, whi);
    for (int w = 0; w < nw; w++)
        for (uint32_t q = wlo[w]; q < whi[w]; q += 8) {
            uint64_t word;
            memcpy(&word, r->ram + q, 8);
            if (!word)
                continue;
            for (uint32_t addr = q; addr < q + 8; addr++) {
                uint8_t exp;
                if (!r->ram[addr] || expected_byte(t, addr, &exp))
                    continue;
                if (r->alias_ss && addr >= 4 * EXC_SS && addr < 4 * EXC_SS + 4)
                    continue; /* the runner's own vector-12 entry (rule SS-13) */
                out = T_FAIL;
                dprintf_(r, "      mem[%06x] expected 00 got %02x (stray store)\n", addr, r->ram[addr]);
                r->ram[addr] = 0;
            }
        }
    if (out == T_FAIL && t->has_excp)
        dprintf_(r, "      note: the chip took exception/interrupt %u (FLAGS pushed at %06x); cpu fault %d\n",
                 t->exc_vec, t->exc_addr, c->last_fault);
    else if (out == T_FAIL && c->last_fault >= 0)
        dprintf_(r, "      note: cpu raised exception %d, the chip did not\n", c->last_fault);
    unload_state(r, t);
    return out;
}

static void print_test_header(const struct test *t, FILE *f)
{
    fprintf(f, "    test %u \"%.*s\" bytes", t->index, (int)t->namelen, t->name ? t->name : "");
    for (uint32_t i = 0; i < t->nbytes; i++)
        fprintf(f, " %02x", t->bytes[i]);
    if (t->hash) {
        fprintf(f, " hash ");
        for (int i = 0; i < 20; i++)
            fprintf(f, "%02x", t->hash[i]);
    }
    fputc('\n', f);
}

static void print_state(const struct test *t, const struct mstate *st, const char *what, FILE *f)
{
    int n = t->fmt == FMT_REGS ? 14 : 20;
    fprintf(f, "      %s:", what);
    for (int i = 0; i < n; i++)
        if (st->mask & (1u << i))
            fprintf(f, " %s=%0*x", t->fmt == FMT_REGS ? regs16_name[i] : regs32_name[i],
                    t->fmt == FMT_REGS ? 4 : 8, st->reg[i]);
    fputc('\n', f);
    if (st->nram) {
        fprintf(f, "      %s ram:", what);
        for (uint32_t i = 0; i < st->nram; i++) {
            uint32_t a;
            const uint8_t *v = ram_rec(st, i, &a);
            fprintf(f, " %06x=%02x", a, *v);
        }
        fputc('\n', f);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Files and suites */

struct totals {
    unsigned long passed, failed, revoked, excluded, files_failed, aliased, relaxed;
};

/* The file's short name: "F6.6" for F6.6.MOO.gz. */
static void short_name(const char *file, char *out, size_t len)
{
    snprintf(out, len, "%s", file);
    char *p = strstr(out, ".MOO");
    if (p)
        *p = 0;
}

static int filter_match(const struct config *cfg, const char *suite, const char *shortname)
{
    if (cfg->nfilters == 0)
        return 1;
    for (int i = 0; i < cfg->nfilters; i++) {
        const char *f = cfg->filters[i];
        char full[512];
        snprintf(full, sizeof(full), "%s/%s", suite, shortname);
        size_t l = strlen(f);
        if (!strcasecmp(f, shortname) || !strcasecmp(f, full) || !strcasecmp(f, suite))
            return 1;
        /* "F6" selects F6.0 ... F6.7 */
        if (!strncasecmp(f, shortname, l) && shortname[l] == '.')
            return 1;
    }
    return 0;
}

/* The exclusion that covers this test, if any: by opcode, by opcode.reg, or LOCK that a P6
 * rejects. */
static struct exclusion *find_exclusion(struct config *cfg, const struct test *t, const struct shape *sh)
{
    if (t->fmt != FMT_REGS || sh->op < 0)
        return NULL; /* the exclusions describe 286-vs-P6 differences */
    char op[8], opreg[12];
    if (sh->op >= 0x100)
        snprintf(op, sizeof(op), "0F%02X", sh->op & 0xFF);
    else
        snprintf(op, sizeof(op), "%02X", sh->op);
    snprintf(opreg, sizeof(opreg), "%s.%d", op, sh->reg);
    for (int i = 0; i < cfg->nexcl; i++) {
        struct exclusion *x = &cfg->excl[i];
        if (!strcmp(x->key, op) || (sh->reg >= 0 && !strcmp(x->key, opreg)))
            return x;
        if (!strcmp(x->key, "LOCK-UD") && sh->lock && !lock_legal_on_p6(sh))
            return x;
        if (!strcmp(x->key, "LEN10") && t->nbytes - 1 > 10 && t->has_excp && t->exc_vec == EXC_GP)
            return x;
    }
    return NULL;
}

static void run_file(struct runner *r, struct suite *s, struct config *cfg, const char *suitename,
                     const char *file, struct totals *tot)
{
    char path[4096], sname[256];
    snprintf(path, sizeof(path), "%s/%s", s->dir, file);
    short_name(file, sname, sizeof(sname));
    size_t len;
    uint8_t *buf = read_gz(path, &len);
    if (!buf)
        die("%s: %s", path, strerror(errno));
    struct cursor k = { buf, buf + len };
    char tag[5];
    const uint8_t *pl;
    uint32_t l;
    int fmt = FMT_REGS, rc, first = 1;
    unsigned fpass = 0, ffail = 0, funimpl = 0, shown = 0, fexcl = 0;
    char unimpl_what[128] = "";
    while ((rc = next_chunk(&k, tag, &pl, &l)) > 0) {
        if (first) {
            if (strcmp(tag, "MOO ") || l < 12)
                die("%s: not a MOO file", path);
            fmt = !memcmp(pl + 8, "386", 3) ? FMT_RG32 : FMT_REGS;
            first = 0;
            continue;
        }
        if (strcmp(tag, "TEST"))
            continue;
        struct test t;
        if (parse_test(pl, l, fmt, &t))
            die("%s: damaged test chunk", path);
        int revoked = 0;
        for (size_t i = 0; t.hash && i < s->nrevoked; i++)
            if (!memcmp(s->revoked[i], t.hash, 20))
                revoked = 1;
        if (revoked) {
            tot->revoked++;
            continue;
        }
        struct shape sh;
        classify(&t, &sh);
        struct exclusion *x = find_exclusion(cfg, &t, &sh);
        if (x) {
            x->hits++;
            fexcl++;
            tot->excluded++;
            continue;
        }
        enum outcome o = run_test(r, s, &t, &sh);
        if (o == T_PASS && r->alias_ss && r->m->cpu.last_fault == EXC_SS)
            tot->aliased++;
        if (o == T_PASS && r->relaxed)
            tot->relaxed++;
        if (o == T_PASS) {
            fpass++;
            continue;
        }
        ffail++;
        if (o == T_UNIMPL) {
            funimpl++;
            if (!unimpl_what[0])
                snprintf(unimpl_what, sizeof(unimpl_what), "%s", r->m->cpu.unimpl ? r->m->cpu.unimpl : "?");
        }
        if (ffail == 1)
            printf("%s/%s:\n", suitename, sname);
        if (cfg->verbose || (shown < (unsigned)cfg->show && o != T_UNIMPL) || (o == T_UNIMPL && funimpl == 1 && shown < (unsigned)cfg->show)) {
            shown++;
            print_test_header(&t, stdout);
            if (cfg->verbose) {
                print_state(&t, &t.init, "init", stdout);
                print_state(&t, &t.fina, "final", stdout);
            }
            fputs(r->diff, stdout);
        }
    }
    if (rc < 0)
        die("%s: damaged chunk stream", path);
    free(buf);
    /* Every test put RAM back to zeros. A store the CPU made without the physmem slow path (and so
     * without being logged) would still be here: find it, count the file as failed, clear it. */
    const size_t real_top = 0x110000; /* FFFF:FFFF is the highest real-mode address */
    for (size_t i = 0; i < real_top; i++)
        if (r->ram[i]) {
            if (!ffail)
                printf("%s/%s:\n", suitename, sname);
            printf("    unlogged store left %02x at %06zx (and maybe more) after this file's tests\n", r->ram[i], i);
            ffail++;
            memset(r->ram, 0, real_top);
            break;
        }
    if (ffail) {
        tot->files_failed++;
        printf("  FAIL %s/%s: %u of %u failed", suitename, sname, ffail, ffail + fpass);
        if (funimpl)
            printf(" (%u stopped on unimplemented %s)", funimpl, unimpl_what);
        if (fexcl)
            printf(", %u excluded", fexcl);
        putchar('\n');
    }
    tot->passed += fpass;
    tot->failed += ffail;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_suite(struct runner *r, struct config *cfg, const char *dir, const char *suitename,
                      struct totals *tot)
{
    struct suite *s = xmalloc(sizeof(*s));
    memset(s, 0, sizeof(*s));
    s->dir = dir;
    load_metadata(s);
    load_revocations(s);
    DIR *d = opendir(dir);
    if (!d)
        die("%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 8 || strcmp(e->d_name + l - 7, ".MOO.gz"))
            continue;
        char sname[256];
        short_name(e->d_name, sname, sizeof(sname));
        if (!filter_match(cfg, suitename, sname))
            continue;
        names = realloc(names, (n + 1) * sizeof(*names));
        if (!names)
            die("out of memory");
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        run_file(r, s, cfg, suitename, names[i], tot);
        free(names[i]);
    }
    free(names);
    free(s->revoked);
    free(s);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: sst_run DATA_DIR [--jit | --verify] [--verbose] [--show N] [--exclusions FILE] [FILTER...]\n"
            "  --jit     run each vector's instruction as a one-instruction JIT block\n"
            "  --verify  the same, in lockstep with the interpreter (stops the test at a difference)\n"
            "  --jit-stats  with --jit or --verify: what was translated, what fell back (stderr)\n"
            "  DATA_DIR  the ssts directory (holding 80286/ and 80386-sample/) or one suite directory\n"
            "  FILTER    a file's short name (F6.6), an opcode (F6: every F6.x), or a suite (80286)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct config cfg = { 0, SHOW_DEFAULT, NULL, 0, NULL, 0 };
    const char *data = NULL, *excl_path = "tests/sst/exclusions.txt";
    enum machine_engine engine = ENGINE_INTERP;
    int jit_stats = 0;
    cfg.filters = xmalloc(sizeof(char *) * (size_t)argc);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v"))
            cfg.verbose = 1;
        else if (!strcmp(argv[i], "--show") && i + 1 < argc)
            cfg.show = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--jit"))
            engine = ENGINE_JIT;
        else if (!strcmp(argv[i], "--verify"))
            engine = ENGINE_VERIFY;
        else if (!strcmp(argv[i], "--jit-stats"))
            jit_stats = 1;
        else if (!strcmp(argv[i], "--exclusions") && i + 1 < argc)
            excl_path = argv[++i];
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            usage();
        else if (!data)
            data = argv[i];
        else
            cfg.filters[cfg.nfilters++] = argv[i];
    }
    if (!data)
        usage();
    if (!is_dir(data)) {
        printf("skipped: data not found (%s)\n", data);
        free(cfg.filters); /* or LeakSanitizer fails `make SAN=1 test` where the data is absent */
        return 0;
    }
    load_exclusions(&cfg, excl_path);

    struct runner *r = xmalloc(sizeof(*r)); /* one machine per run, reused by every test */
    runner_init(r, engine);
    for (int i = 0; i < cfg.nexcl; i++)
        if (!strcmp(cfg.excl[i].key, "SS-13"))
            r->ss13 = 1;
        else if (!strcmp(cfg.excl[i].key, "STRING-13"))
            r->str13 = 1;
    struct totals tot = { 0 };

    static const char *const suites[] = { "80286", "80386-sample" };
    int found = 0;
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        char dir[4096];
        snprintf(dir, sizeof(dir), "%s/%s", data, suites[i]);
        if (is_dir(dir)) {
            found = 1;
            run_suite(r, &cfg, dir, suites[i], &tot);
        }
    }
    if (!found) {
        /* DATA_DIR is a suite directory itself. */
        const char *base = strrchr(data, '/');
        base = base && base[1] ? base + 1 : data;
        run_suite(r, &cfg, data, base, &tot);
    }

    for (int i = 0; i < cfg.nexcl; i++)
        if (cfg.excl[i].hits)
            printf("excluded %-8s %5u tests: %s\n", cfg.excl[i].key, cfg.excl[i].hits, cfg.excl[i].reason);
    printf("%lu files failed\n", tot.files_failed);
    if (tot.aliased)
        printf("SS-13: %lu tests passed with the P6's #SS delivered through the 286's interrupt 13 vector\n",
               tot.aliased);
    if (tot.relaxed)
        printf("STRING-13: %lu tests passed with SI, DI and CX not compared\n", tot.relaxed);
    /* Not "skipped:": tests/run_all.sh reads that word as "the data is absent". */
    printf("not run: %lu revoked, %lu excluded\n", tot.revoked, tot.excluded);
    printf("%lu passed, %lu failed\n", tot.passed, tot.failed);
    if (jit_stats && r->m->jit)
        jit_print_stats(r->m->jit, stderr);

    for (int i = 0; i < cfg.nexcl; i++)
        free(cfg.excl[i].reason);
    free(cfg.excl);
    free(cfg.filters);
    machine_destroy(r->m);
    free(r);
    return tot.failed ? 1 : 0;
}

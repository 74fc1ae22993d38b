/* Random comparison of the x87 interpreter with the host CPU's own x87: each case runs one guest
 * instruction in a harness machine and the same instruction natively (inline asm, loaded with
 * FNINIT/FLDCW/FLD m80 and read back with FNSAVE), then compares registers, tags, the status word
 * (C0-C3, TOP, flags, ES), memory results and EFLAGS. Deterministic seed; every mismatch printed.
 * Intel SDM Vol. 1 ch. 8 defines what is compared; the host is the reference implementation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define CODE_AT 0x1000u
#define DATA 0x2000u
#define CASES_PER_OP 1000
/* The forms cpu/x87.c completes without a whole host round trip (loads, stores, register moves,
 * FILD, FIST, FXAM, the register compares, two-operand arithmetic) get more. */
#define CASES_FAST_OP 20000

enum { M_NONE, M_F32, M_F64, M_F80, M_I16, M_I32, M_I64, M_BCD };
static const int msize[] = { 0, 4, 8, 10, 2, 4, 8, 10 };

struct hio {
    uint8_t mem[16];
    uint32_t ax;
};

struct img {
    uint32_t cw, sw, tw, fip, fcs, fdp, fds;
    uint8_t st[8][10];
} __attribute__((packed));

struct op {
    const char *name;
    uint8_t code[4];
    int len;
    int depth;  /* stack values the instruction reads */
    int mem;    /* memory operand type */
    int store;  /* the memory operand is written */
    int fcomi;  /* writes ZF PF CF */
    void (*host)(struct hio *);
};

/* The host runs the instruction text with RSI pointing at the memory operand; LAHF right after
 * it captures EFLAGS (nothing in between waits, so a pending unmasked exception stays pending
 * until the FNSAVE that ends the case). */
#define HOSTFN(id, text)                                                                         \
    static void h_##id(struct hio *io)                                                           \
    {                                                                                            \
        __asm__ volatile(text "\n\tlahf" : "=a"(io->ax) : "S"(io->mem) : "memory", "cc");       \
    }

/* Register forms: guest bytes, host bytes the same; operands ST(0), ST(1). */
#define REG_OPS(X)                                                                               \
    X(fadd, 0xD8, 0xC1, 2) X(fmul, 0xD8, 0xC9, 2) X(fcom, 0xD8, 0xD1, 2) X(fcomp, 0xD8, 0xD9, 2) \
    X(fsub, 0xD8, 0xE1, 2) X(fsubr, 0xD8, 0xE9, 2) X(fdiv, 0xD8, 0xF1, 2) X(fdivr, 0xD8, 0xF9, 2) \
    X(fadd_sti, 0xDC, 0xC1, 2) X(fsubr_sti, 0xDC, 0xE1, 2) X(fdiv_sti, 0xDC, 0xF9, 2)             \
    X(fadd_st0, 0xD8, 0xC0, 1) X(fmul_st0_sti, 0xDC, 0xC8, 1) X(fmul_st3, 0xD8, 0xCB, 4)          \
    X(fsub_st2_st0, 0xDC, 0xEA, 3) X(fdivp_st2, 0xDE, 0xFA, 3)                                    \
    X(faddp, 0xDE, 0xC1, 2) X(fmulp, 0xDE, 0xC9, 2) X(fsubp, 0xDE, 0xE9, 2) X(fdivrp, 0xDE, 0xF1, 2) \
    X(fcompp, 0xDE, 0xD9, 2) X(fucom, 0xDD, 0xE1, 2) X(fucomp, 0xDD, 0xE9, 2) X(fucompp, 0xDA, 0xE9, 2) \
    X(fxch, 0xD9, 0xC9, 2) X(fld_st1, 0xD9, 0xC1, 2) X(fst_st1, 0xDD, 0xD1, 1) X(fstp_st1, 0xDD, 0xD9, 1) \
    X(ffree, 0xDD, 0xC1, 2) X(fincstp, 0xD9, 0xF7, 1) X(fdecstp, 0xD9, 0xF6, 1)                   \
    X(fprem, 0xD9, 0xF8, 2) X(fprem1, 0xD9, 0xF5, 2) X(fscale, 0xD9, 0xFD, 2)                    \
    X(fpatan, 0xD9, 0xF3, 2) X(fyl2x, 0xD9, 0xF1, 2) X(fyl2xp1, 0xD9, 0xF9, 2)                   \
    X(fchs, 0xD9, 0xE0, 1) X(fabs, 0xD9, 0xE1, 1) X(ftst, 0xD9, 0xE4, 1) X(fxam, 0xD9, 0xE5, 1)   \
    X(f2xm1, 0xD9, 0xF0, 1) X(fptan, 0xD9, 0xF2, 1) X(fxtract, 0xD9, 0xF4, 1) X(fsqrt, 0xD9, 0xFA, 1) \
    X(fsincos, 0xD9, 0xFB, 1) X(frndint, 0xD9, 0xFC, 1) X(fsin, 0xD9, 0xFE, 1) X(fcos, 0xD9, 0xFF, 1) \
    X(fld1, 0xD9, 0xE8, 0) X(fldl2t, 0xD9, 0xE9, 0) X(fldl2e, 0xD9, 0xEA, 0) X(fldpi, 0xD9, 0xEB, 0) \
    X(fldlg2, 0xD9, 0xEC, 0) X(fldln2, 0xD9, 0xED, 0) X(fldz, 0xD9, 0xEE, 0)                      \
    X(fcomi, 0xDB, 0xF1, 2) X(fucomi, 0xDB, 0xE9, 2) X(fcomip, 0xDF, 0xF1, 2) X(fucomip, 0xDF, 0xE9, 2)

/* Memory forms: guest [0x2000] (ModRM reg, rm 110), host mnemonic on (%rsi). */
#define MEM_OPS(X)                                                                               \
    X(fadd_m32, 0xD8, 0, "fadds", 1, M_F32, 0) X(fmul_m64, 0xDC, 1, "fmull", 1, M_F64, 0)          \
    X(fcom_m32, 0xD8, 2, "fcoms", 1, M_F32, 0) X(fcomp_m64, 0xDC, 3, "fcompl", 1, M_F64, 0)        \
    X(fsub_m64, 0xDC, 4, "fsubl", 1, M_F64, 0) X(fsubr_m32, 0xD8, 5, "fsubrs", 1, M_F32, 0)        \
    X(fdiv_m32, 0xD8, 6, "fdivs", 1, M_F32, 0) X(fdivr_m64, 0xDC, 7, "fdivrl", 1, M_F64, 0)        \
    X(fiadd_m16, 0xDE, 0, "fiadds", 1, M_I16, 0) X(fimul_m32, 0xDA, 1, "fimull", 1, M_I32, 0)      \
    X(ficom_m16, 0xDE, 2, "ficoms", 1, M_I16, 0) X(ficomp_m32, 0xDA, 3, "ficompl", 1, M_I32, 0)    \
    X(fisub_m32, 0xDA, 4, "fisubl", 1, M_I32, 0) X(fidivr_m16, 0xDE, 7, "fidivrs", 1, M_I16, 0)    \
    X(fld_m32, 0xD9, 0, "flds", 0, M_F32, 0) X(fld_m64, 0xDD, 0, "fldl", 0, M_F64, 0)              \
    X(fld_m80, 0xDB, 5, "fldt", 0, M_F80, 0) X(fild_m16, 0xDF, 0, "filds", 0, M_I16, 0)            \
    X(fild_m32, 0xDB, 0, "fildl", 0, M_I32, 0) X(fild_m64, 0xDF, 5, "fildll", 0, M_I64, 0)         \
    X(fbld, 0xDF, 4, "fbld", 0, M_BCD, 0)                                                        \
    X(fst_m32, 0xD9, 2, "fsts", 1, M_F32, 1) X(fstp_m32, 0xD9, 3, "fstps", 1, M_F32, 1)            \
    X(fst_m64, 0xDD, 2, "fstl", 1, M_F64, 1) X(fstp_m64, 0xDD, 3, "fstpl", 1, M_F64, 1)            \
    X(fstp_m80, 0xDB, 7, "fstpt", 1, M_F80, 1) X(fist_m16, 0xDF, 2, "fists", 1, M_I16, 1)          \
    X(fistp_m16, 0xDF, 3, "fistps", 1, M_I16, 1) X(fist_m32, 0xDB, 2, "fistl", 1, M_I32, 1)        \
    X(fistp_m32, 0xDB, 3, "fistpl", 1, M_I32, 1) X(fistp_m64, 0xDF, 7, "fistpll", 1, M_I64, 1)     \
    X(fbstp, 0xDF, 6, "fbstp", 1, M_BCD, 1)

#define STR_(x) #x
#define STR(x) STR_(x)
#define DEF_REG(id, b0, b1, d) HOSTFN(id, ".byte " STR(b0) ", " STR(b1))
#define DEF_MEM(id, b0, r, mn, d, m, s) HOSTFN(id, mn " (%%rsi)")
REG_OPS(DEF_REG)
MEM_OPS(DEF_MEM)

#define ENT_REG(id, b0, b1, d) { #id, { b0, b1 }, 2, d, M_NONE, 0, (b0) == 0xDB || (b0) == 0xDF, h_##id },
#define ENT_MEM(id, b0, r, mn, d, m, s) { #id, { b0, (r) << 3 | 6, 0x00, 0x20 }, 4, d, m, s, 0, h_##id },
static const struct op ops[] = { REG_OPS(ENT_REG) MEM_OPS(ENT_MEM) };

/* ---- deterministic random operands, biased towards the interesting classes ---- */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void make80(uint64_t *s, uint8_t out[10])
{
    uint64_t m = rnd(s) | (1ull << 63);
    unsigned e;
    unsigned sign = (unsigned)(rnd(s) & 1) << 15;
    switch (rnd(s) % 16) {
    case 0: m = 0; e = 0; break;
    case 1: m &= ~(1ull << 63); e = 0; break;                          /* denormal */
    case 2: m = 1ull << 63; e = 0x7FFF; break;                          /* infinity */
    case 3: m |= 1ull << 62; e = 0x7FFF; break;                         /* QNaN */
    case 4: m = (m & ~(3ull << 62)) | (1ull << 63) | 1; e = 0x7FFF; break; /* SNaN */
    case 5: e = 0x7FF0 + (unsigned)(rnd(s) % 15); break;                /* huge */
    case 6: e = 1 + (unsigned)(rnd(s) % 32); break;                     /* tiny */
    case 7: e = 0x3FFC + (unsigned)(rnd(s) % 8); break;                 /* near 1 */
    case 8: {                                                           /* integer-valued or .5 */
        unsigned k = (unsigned)(rnd(s) % 70);
        e = 0x3FFF + k;
        if (k < 62)
            m &= ~0ull << (62 - k);
        break;
    }
    case 9: e = 0x403C + (unsigned)(rnd(s) % 4); break;                 /* around 2^63: trig range */
    case 10: m &= ~(1ull << 63); e = 1 + (unsigned)(rnd(s) % 0x7FFE); break; /* unnormal */
    case 11: e = 0; break;                                              /* pseudo-denormal */
    case 12: m = 1ull << 63; e = 0x3FFF + (unsigned)(rnd(s) % 3); break; /* 1, 2, 4 */
    case 13: m = 0xC90FDAA22168C235ull; e = 0x4000 + (unsigned)(rnd(s) % 3) - 1; break; /* pi-ish */
    default: e = (unsigned)(rnd(s) % 0x7FFF); break;
    }
    memcpy(out, &m, 8);
    out[8] = (uint8_t)e;
    out[9] = (uint8_t)((e >> 8) | (sign >> 8));
}

static void make_mem(uint64_t *s, int type, uint8_t out[16])
{
    uint64_t r = rnd(s);
    memset(out, 0, 16);
    int cls = (int)(rnd(s) % 8);
    switch (type) {
    case M_F32: {
        uint32_t v = (uint32_t)r;
        if (cls == 0) v &= 0x807FFFFFu;                     /* zero/denormal */
        else if (cls == 1) v |= 0x7F800000u;                 /* inf/NaN */
        else if (cls == 2) v = (v & 0x80000000u) | 0x7F800000u;
        else if (cls == 3) v = (v & 0x807FFFFFu) | 0x3F800000u;
        memcpy(out, &v, 4);
        break;
    }
    case M_F64: {
        uint64_t v = r;
        if (cls == 0) v &= 0x800FFFFFFFFFFFFFull;
        else if (cls == 1) v |= 0x7FF0000000000000ull;
        else if (cls == 2) v = (v & 0x8000000000000000ull) | 0x7FF0000000000000ull;
        else if (cls == 3) v = (v & 0x800FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
        memcpy(out, &v, 8);
        break;
    }
    case M_F80: make80(s, out); break;
    case M_I16: case M_I32: case M_I64: {
        static const uint64_t edge[] = { 0, ~0ull, 0x8000000000000000ull, 0x7FFFFFFFFFFFFFFFull, 1 };
        uint64_t v = cls < 5 ? edge[cls] : r >> (rnd(s) % 64);
        if (type == M_I16 && cls == 2) v = 0x8000;
        if (type == M_I32 && cls == 2) v = 0x80000000u;
        memcpy(out, &v, 8);
        break;
    }
    case M_BCD:
        for (int i = 0; i < 9; i++)
            out[i] = (uint8_t)((rnd(s) % 10) | (rnd(s) % 10) << 4);
        if (cls == 0)
            out[rnd(s) % 9] |= 0xA0; /* an invalid digit */
        out[9] = (uint8_t)(rnd(s) & 0x80);
        break;
    }
}

static void hexs(char *dst, const uint8_t *p, int n)
{
    for (int i = n - 1; i >= 0; i--)
        dst += sprintf(dst, "%02x", p[i]);
}

/* One case: returns 1 on a match, else prints the difference. */
static int run_case(struct harness *h, const struct op *op, uint16_t cw, uint16_t cc, int depth,
                    uint8_t vals[8][10], const uint8_t memop[16], int *printed)
{
    /* Host. The condition codes cc are put in through the environment, so that what an
     * instruction leaves alone (C0 C2 C3 of loads, stores and moves) is compared too. */
    struct hio io;
    struct img img;
    uint32_t env[7];
    memcpy(io.mem, memop, 16);
    __asm__ volatile("fninit\n\tfldcw %0" : : "m"(cw));
    for (int k = depth - 1; k >= 0; k--)
        __asm__ volatile("fldt %0" : : "m"(*(uint8_t(*)[10])vals[k]));
    __asm__ volatile("fnstenv %0" : "=m"(env));
    env[1] |= cc;
    __asm__ volatile("fldenv %0" : : "m"(env));
    op->host(&io);
    __asm__ volatile("fnsave %0" : "=m"(img));

    /* Guest. */
    struct cpu *c = h->c;
    struct x87 *f = &c->fpu;
    f->cw = cw;
    f->sw = cc;
    f->empty = 0xFF;
    for (int k = depth - 1; k >= 0; k--)
        x87_push(f, vals[k]);
    h_poke(h, DATA, memop, 16);
    h_code(h, CODE_AT, op->code, (size_t)op->len);
    c->r[R_ESP] = 0x8000;
    c->eflags = F_FIXED1 | F_OF | F_SF | F_AF; /* FCOMI must clear OF SF AF */
    h_step(h, 1);

    uint8_t gmem[16];
    phys_read_buf(&h->m->mem, DATA, gmem, 16);
    int ok = c->last_fault == -1 && f->sw == (uint16_t)img.sw && x87_tag_word(f) == (uint16_t)img.tw;
    for (int i = 0; i < 8 && ok; i++) {
        uint8_t g[10];
        x87_get_st(f, i, g);
        if ((((uint16_t)img.tw >> (2 * ((((img.sw >> 11) & 7) + i) & 7))) & 3) != 3 && memcmp(g, img.st[i], 10))
            ok = 0;
    }
    if (op->store && memcmp(gmem, io.mem, (size_t)msize[op->mem]))
        ok = 0;
    int ie_unmasked = (img.sw & 1) && !(cw & 1);
    if (op->fcomi && !ie_unmasked &&
        ((c->eflags & (F_ZF | F_PF | F_CF | F_OF | F_SF | F_AF)) != ((io.ax >> 8) & (F_ZF | F_PF | F_CF))))
        ok = 0;
    if (!ok && (*printed)++ < 40) {
        char a[32], b[32], g0[32], h0[32];
        uint8_t g[10];
        x87_get_st(f, 0, g);
        hexs(a, vals[0], 10);
        hexs(b, vals[1], 10);
        hexs(g0, g, 10);
        hexs(h0, img.st[0], 10);
        printf("MISMATCH %-10s cw=%04x depth=%d a=%s b=%s mem=", op->name, cw, depth, a, b);
        for (int i = msize[op->mem] - 1; i >= 0; i--)
            printf("%02x", memop[i]);
        printf("\n   guest sw=%04x tw=%04x st0=%s fault=%d flags=%03x", f->sw, x87_tag_word(f), g0,
               c->last_fault, c->eflags & F_ARITH);
        printf("\n   host  sw=%04x tw=%04x st0=%s flags=%03x", (uint16_t)img.sw, (uint16_t)img.tw, h0,
               (io.ax >> 8) & F_ARITH);
        if (op->store) {
            printf("\n   mem guest ");
            for (int i = msize[op->mem] - 1; i >= 0; i--)
                printf("%02x", gmem[i]);
            printf(" host ");
            for (int i = msize[op->mem] - 1; i >= 0; i--)
                printf("%02x", io.mem[i]);
        }
        printf("\n");
    }
    return ok;
}

static void test_x87_matches_host_on_random_operands(void **state)
{
    (void)state;
    struct harness *h = h_new(0);
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    int fails = 0, total = 0, printed = 0;
    for (size_t o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
        const struct op *op = &ops[o];
        int opfails = 0;
        int fast = op->code[0] == 0xD9 || op->code[0] == 0xDD || op->code[0] == 0xDB || op->code[0] == 0xDF ||
                   op->mem == M_NONE || op->mem == M_F32 || op->mem == M_F64 || op->mem == M_I16 || op->mem == M_I32;
        int cases = fast ? CASES_FAST_OP : CASES_PER_OP;
        for (int n = 0; n < cases; n++) {
            uint8_t vals[8][10];
            uint8_t memop[16];
            for (int k = 0; k < 8; k++)
                make80(&seed, vals[k]);
            make_mem(&seed, op->mem, memop);
            /* Every RC and PC (PC 01 is reserved: whatever the host does), IC either way, all
             * exceptions masked most of the time, otherwise a random set unmasked. */
            uint16_t cw = (uint16_t)(((rnd(&seed) % 4) << 8) | ((rnd(&seed) % 4) << 10) | ((rnd(&seed) & 1) << 12) | 0x40);
            cw |= rnd(&seed) % 4 ? 0x3F : (uint16_t)(rnd(&seed) & 0x3F);
            int depth = op->depth;
            unsigned pick = (unsigned)(rnd(&seed) % 10);
            if (pick == 0 && depth > 0)
                depth--;   /* stack underflow */
            else if (pick == 1)
                depth = 8; /* a full stack: pushes overflow */
            uint16_t cc = (uint16_t)(rnd(&seed) & (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3));
            total++;
            if (!run_case(h, op, cw, cc, depth, vals, memop, &printed)) {
                fails++;
                opfails++;
            }
        }
        if (opfails)
            printf("%-10s %d of %d cases differ\n", op->name, opfails, cases);
    }
    printf("x87 host comparison: %d cases, %d mismatches\n", total, fails);
    h_free(h);
    assert_int_equal(fails, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_x87_matches_host_on_random_operands) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

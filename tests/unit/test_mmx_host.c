/* Random comparison of the MMX interpreter (cpu/mmx.c) with the host CPU's own MMX unit: each
 * two-operand instruction runs on random operands, edge values weighted (0, all ones, the signed
 * minimum and maximum of each lane width, 0x80 and 0x7F lanes, shift counts around the lane
 * widths), in the register and the memory form, and the shifts by immediate for every count that
 * matters; the 64-bit results must match bit for bit. Deterministic seed; mismatches printed.
 * Intel SDM Vol. 2 pages of each instruction define them; the host is the reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"

#define CODE_AT 0x1000u
#define DATA 0x2000u
#define CASES_PER_OP 3000

/* Host side: mm0 = a, mm1 = b (or b in memory), run, mm0 out. EMMS leaves the host x87 usable. */
#define HOST_BIN(id, mn)                                                                          \
    static uint64_t hr_##id(uint64_t a, uint64_t b)                                               \
    {                                                                                             \
        uint64_t r;                                                                               \
        __asm__ volatile("movq %1, %%mm0\n\tmovq %2, %%mm1\n\t" mn " %%mm1, %%mm0\n\t"            \
                         "movq %%mm0, %0\n\temms"                                                 \
                         : "=m"(r) : "m"(a), "m"(b) : "mm0", "mm1");                              \
        return r;                                                                                 \
    }                                                                                             \
    static uint64_t hm_##id(uint64_t a, uint64_t b)                                               \
    {                                                                                             \
        uint64_t r;                                                                               \
        __asm__ volatile("movq %1, %%mm0\n\t" mn " %2, %%mm0\n\tmovq %%mm0, %0\n\temms"           \
                         : "=m"(r) : "m"(a), "m"(b) : "mm0");                                     \
        return r;                                                                                 \
    }

/* id, mnemonic, second opcode byte, lane bits for operand generation, is a shift by mm/m64 */
#define BIN_OPS(X)                                                                                \
    X(punpcklbw, "punpcklbw", 0x60, 8, 0) X(punpcklwd, "punpcklwd", 0x61, 16, 0)                  \
    X(punpckldq, "punpckldq", 0x62, 32, 0) X(packsswb, "packsswb", 0x63, 16, 0)                   \
    X(pcmpgtb, "pcmpgtb", 0x64, 8, 0) X(pcmpgtw, "pcmpgtw", 0x65, 16, 0)                          \
    X(pcmpgtd, "pcmpgtd", 0x66, 32, 0) X(packuswb, "packuswb", 0x67, 16, 0)                       \
    X(punpckhbw, "punpckhbw", 0x68, 8, 0) X(punpckhwd, "punpckhwd", 0x69, 16, 0)                  \
    X(punpckhdq, "punpckhdq", 0x6A, 32, 0) X(packssdw, "packssdw", 0x6B, 32, 0)                   \
    X(pcmpeqb, "pcmpeqb", 0x74, 8, 0) X(pcmpeqw, "pcmpeqw", 0x75, 16, 0)                          \
    X(pcmpeqd, "pcmpeqd", 0x76, 32, 0) X(psrlw, "psrlw", 0xD1, 16, 1) X(psrld, "psrld", 0xD2, 32, 1) \
    X(psrlq, "psrlq", 0xD3, 64, 1) X(pmullw, "pmullw", 0xD5, 16, 0) X(psubusb, "psubusb", 0xD8, 8, 0) \
    X(psubusw, "psubusw", 0xD9, 16, 0) X(pand, "pand", 0xDB, 64, 0) X(paddusb, "paddusb", 0xDC, 8, 0) \
    X(paddusw, "paddusw", 0xDD, 16, 0) X(pandn, "pandn", 0xDF, 64, 0) X(psraw, "psraw", 0xE1, 16, 1) \
    X(psrad, "psrad", 0xE2, 32, 1) X(pmulhw, "pmulhw", 0xE5, 16, 0) X(psubsb, "psubsb", 0xE8, 8, 0) \
    X(psubsw, "psubsw", 0xE9, 16, 0) X(por, "por", 0xEB, 64, 0) X(paddsb, "paddsb", 0xEC, 8, 0)   \
    X(paddsw, "paddsw", 0xED, 16, 0) X(pxor, "pxor", 0xEF, 64, 0) X(psllw, "psllw", 0xF1, 16, 1)  \
    X(pslld, "pslld", 0xF2, 32, 1) X(psllq, "psllq", 0xF3, 64, 1) X(pmaddwd, "pmaddwd", 0xF5, 16, 0) \
    X(psubb, "psubb", 0xF8, 8, 0) X(psubw, "psubw", 0xF9, 16, 0) X(psubd, "psubd", 0xFA, 32, 0)   \
    X(paddb, "paddb", 0xFC, 8, 0) X(paddw, "paddw", 0xFD, 16, 0) X(paddd, "paddd", 0xFE, 32, 0)   \
    X(movq, "movq", 0x6F, 64, 0)

#define DEF_BIN(id, mn, op, lane, sh) HOST_BIN(id, mn)
BIN_OPS(DEF_BIN)

struct binop {
    const char *name;
    uint8_t op;
    int lane;
    int is_shift;
    uint64_t (*reg)(uint64_t, uint64_t);
    uint64_t (*mem)(uint64_t, uint64_t);
};
#define ENT_BIN(id, mn, op, lane, sh) { #id, op, lane, sh, hr_##id, hm_##id },
static const struct binop binops[] = { BIN_OPS(ENT_BIN) };

/* Shifts by an immediate: one host function per (instruction, count). */
#define HOST_SHI(id, mn, n)                                                                       \
    static uint64_t hs_##id##_##n(uint64_t a)                                                     \
    {                                                                                             \
        uint64_t r;                                                                               \
        __asm__ volatile("movq %1, %%mm0\n\t" mn " $" #n ", %%mm0\n\tmovq %%mm0, %0\n\temms"      \
                         : "=m"(r) : "m"(a) : "mm0");                                             \
        return r;                                                                                 \
    }
#define COUNTS(X, id, mn, op, r)                                                                  \
    X(id, mn, op, r, 0) X(id, mn, op, r, 1) X(id, mn, op, r, 7) X(id, mn, op, r, 8)              \
    X(id, mn, op, r, 15) X(id, mn, op, r, 16) X(id, mn, op, r, 17) X(id, mn, op, r, 31)          \
    X(id, mn, op, r, 32) X(id, mn, op, r, 33) X(id, mn, op, r, 63) X(id, mn, op, r, 64)          \
    X(id, mn, op, r, 128) X(id, mn, op, r, 255)
/* id, mnemonic, opcode (71/72/73), ModRM.reg */
#define SHI_OPS(X)                                                                                \
    COUNTS(X, psrlw, "psrlw", 0x71, 2) COUNTS(X, psraw, "psraw", 0x71, 4)                         \
    COUNTS(X, psllw, "psllw", 0x71, 6) COUNTS(X, psrld, "psrld", 0x72, 2)                         \
    COUNTS(X, psrad, "psrad", 0x72, 4) COUNTS(X, pslld, "pslld", 0x72, 6)                         \
    COUNTS(X, psrlq, "psrlq", 0x73, 2) COUNTS(X, psllq, "psllq", 0x73, 6)
#define DEF_SHI(id, mn, op, r, n) HOST_SHI(id, mn, n)
SHI_OPS(DEF_SHI)

struct shiop {
    const char *name;
    uint8_t op, reg, count;
    uint64_t (*host)(uint64_t);
};
#define ENT_SHI(id, mn, op, r, n) { #id, op, r, n, hs_##id##_##n },
static const struct shiop shiops[] = { SHI_OPS(ENT_SHI) };

/* ---- deterministic random operands ---- */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Each lane of `lane` bits is an edge value half of the time. */
static uint64_t operand(uint64_t *s, int lane)
{
    uint64_t v = rnd(s);
    if (rnd(s) % 8 == 0)
        return v; /* fully random now and then */
    uint64_t mask = lane == 64 ? ~0ull : (1ull << lane) - 1;
    for (int pos = 0; pos < 64; pos += lane) {
        uint64_t e;
        switch (rnd(s) % 12) {
        case 0: e = 0; break;
        case 1: e = mask; break;                      /* -1 */
        case 2: e = 1ull << (lane - 1); break;        /* signed minimum */
        case 3: e = mask >> 1; break;                 /* signed maximum */
        case 4: e = 1; break;
        case 5: e = 0x8080808080808080ull & mask; break;
        case 6: e = 0x7F7F7F7F7F7F7F7Full & mask; break;
        case 7: e = (mask >> 1) - 1; break;           /* maximum - 1 */
        case 8: e = (1ull << (lane - 1)) + 1; break;  /* minimum + 1 */
        default: e = rnd(s) & mask; break;
        }
        v = lane == 64 ? e : (v & ~(mask << pos)) | (e << pos);
    }
    return v;
}

/* A shift count in mm/m64: small counts around every lane width, or huge ones. */
static uint64_t count_operand(uint64_t *s)
{
    switch (rnd(s) % 4) {
    case 0: return rnd(s);                             /* huge */
    case 1: return (rnd(s) % 3 + 1) << 32 | (rnd(s) % 8); /* small low half, high bits set */
    default: return rnd(s) % 70;
    }
}

static void set_mm(struct cpu *c, int i, uint64_t v) { memcpy(c->fpu.reg[i], &v, 8); }
static uint64_t get_mm(const struct cpu *c, int i)
{
    uint64_t v;
    memcpy(&v, c->fpu.reg[i], 8);
    return v;
}

/* Runs code (len bytes) in the flat 32-bit harness with mm0 = a, mm1 = b and [DATA] = b. */
static uint64_t guest_run(struct harness *h, const uint8_t *code, size_t len, uint64_t a, uint64_t b)
{
    struct cpu *c = h->c;
    set_mm(c, 0, a);
    set_mm(c, 1, b);
    h_poke(h, DATA, &b, 8);
    h_code(h, CODE_AT, code, len);
    h_step(h, 1);
    assert_int_equal(c->last_fault, -1);
    return get_mm(c, 0);
}

static void test_mmx_two_operand_instructions_match_host(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint64_t seed = 0xD1B54A32D192ED03ull;
    int fails = 0, total = 0;
    for (size_t o = 0; o < sizeof(binops) / sizeof(binops[0]); o++) {
        const struct binop *op = &binops[o];
        const uint8_t reg_form[3] = { 0x0F, op->op, 0xC1 };                  /* op mm0, mm1 */
        const uint8_t mem_form[7] = { 0x0F, op->op, 0x05, DATA & 0xFF, DATA >> 8, 0, 0 }; /* op mm0, [DATA] */
        int opfails = 0;
        for (int n = 0; n < CASES_PER_OP; n++) {
            uint64_t a = operand(&seed, op->lane);
            uint64_t b = op->is_shift ? count_operand(&seed) : operand(&seed, op->lane);
            int mem = n & 1;
            uint64_t want = mem ? op->mem(a, b) : op->reg(a, b);
            uint64_t got = mem ? guest_run(h, mem_form, sizeof(mem_form), a, b)
                               : guest_run(h, reg_form, sizeof(reg_form), a, b);
            total++;
            if (got != want) {
                if (fails < 40)
                    printf("MISMATCH %-10s %s a=%016llx b=%016llx guest=%016llx host=%016llx\n", op->name,
                           mem ? "m64" : "mm ", (unsigned long long)a, (unsigned long long)b,
                           (unsigned long long)got, (unsigned long long)want);
                fails++;
                opfails++;
            }
        }
        if (opfails)
            printf("%-10s %d of %d cases differ\n", op->name, opfails, CASES_PER_OP);
    }
    printf("MMX host comparison: %d cases, %d mismatches\n", total, fails);
    h_free(h);
    assert_int_equal(fails, 0);
}

static void test_mmx_shifts_by_immediate_match_host(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint64_t seed = 0x94D049BB133111EBull;
    int fails = 0, total = 0;
    for (size_t o = 0; o < sizeof(shiops) / sizeof(shiops[0]); o++) {
        const struct shiop *op = &shiops[o];
        /* op mm2, imm8: ModRM mod 11, reg = the group's /r, rm = 2 */
        const uint8_t code[4] = { 0x0F, op->op, (uint8_t)(0xC2 | op->reg << 3), op->count };
        for (int n = 0; n < 200; n++) {
            int lane = op->op == 0x71 ? 16 : op->op == 0x72 ? 32 : 64;
            uint64_t a = operand(&seed, lane);
            set_mm(h->c, 2, a);
            h_code(h, CODE_AT, code, sizeof(code));
            h_step(h, 1);
            assert_int_equal(h->c->last_fault, -1);
            uint64_t got = get_mm(h->c, 2), want = op->host(a);
            total++;
            if (got != want && fails++ < 40)
                printf("MISMATCH %s $%u a=%016llx guest=%016llx host=%016llx\n", op->name, op->count,
                       (unsigned long long)a, (unsigned long long)got, (unsigned long long)want);
        }
    }
    printf("MMX shift-immediate host comparison: %d cases, %d mismatches\n", total, fails);
    h_free(h);
    assert_int_equal(fails, 0);
}

/* MOVD in both directions against the host: zero extension into mm, the low half out of it. */
static void test_movd_matches_host(void **state)
{
    (void)state;
    struct harness *h = h_new(1);
    uint64_t seed = 0xBF58476D1CE4E5B9ull;
    for (int n = 0; n < 500; n++) {
        uint64_t a = operand(&seed, 32);
        uint32_t x = (uint32_t)operand(&seed, 32);
        uint64_t want_in;
        uint32_t want_out;
        __asm__ volatile("movq %2, %%mm0\n\tmovd %3, %%mm0\n\tmovq %%mm0, %0\n\t"
                         "movq %2, %%mm1\n\tmovd %%mm1, %1\n\temms"
                         : "=m"(want_in), "=r"(want_out) : "m"(a), "r"(x) : "mm0", "mm1");
        struct cpu *c = h->c;
        static const uint8_t movd_in[] = { 0x0F, 0x6E, 0xC3 }; /* movd mm0, ebx */
        c->r[R_EBX] = x;
        assert_int_equal(guest_run(h, movd_in, sizeof(movd_in), a, 0), want_in);
        static const uint8_t movd_out[] = { 0x0F, 0x7E, 0xCA }; /* movd edx, mm1 */
        guest_run(h, movd_out, sizeof(movd_out), 0, a);
        assert_int_equal(c->r[R_EDX], want_out);
    }
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmx_two_operand_instructions_match_host),
        cmocka_unit_test(test_mmx_shifts_by_immediate_match_host),
        cmocka_unit_test(test_movd_matches_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

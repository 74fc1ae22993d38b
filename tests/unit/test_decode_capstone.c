/* Cross-checks the decoder's instruction lengths (cpu/decode.c) against capstone over random
 * encodings in 16- and 32-bit default modes, and the 15-byte limit (Intel SDM Vol. 2A §2.1-2.3:
 * prefixes, opcode, ModRM/SIB, displacement, immediates; longer than 15 bytes is #GP). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <capstone/capstone.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../cpu/decode.h"

#define ITERATIONS 200000
#define SEED 0x6A09E667F3BCC909ull

static const uint8_t prefixes[] = { 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3 };

static uint64_t next_rand(uint64_t *s)
{
    /* xorshift64*: deterministic, good enough to spread encodings */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static int is_prefix(uint8_t b)
{
    return memchr(prefixes, b, sizeof(prefixes)) != NULL;
}

/* Encodings where capstone (4.x) decodes an instruction that a P6 does not have, with a different
 * length from what the same bytes mean to a P6. We only compare lengths where our decoder
 * accepts the encoding, and our table marks every one of these opcodes OPF_INVALID, so they are
 * skipped before this point; this check documents and enforces that they stay skipped:
 *  - 0F 38 xx / 0F 3A xx: three-byte opcode maps (SSSE3/SSE4), not on a P6;
 *  - 0F 10-17, 28-2F, 50-7F, C2-C6, D0-FF: SSE/MMX, mandatory-prefix (66/F2/F3) forms differ;
 *  - 0F 0F: 3DNow! (an imm8 suffix after the ModRM), AMD only;
 *  - 0F B8 with F3: POPCNT; 0F B9: UD1 (capstone gives it a ModRM); 0F FF: UD0;
 *  - C4/C5 with ModRM.mod = 3, 62 with mod = 3, 8F with reg != 0: VEX, EVEX and XOP prefixes,
 *    which are LES/LDS/BOUND/POP register forms (#UD) on a P6.
 * Everything else capstone decodes must agree with us on length. */
static int skipped_by_table(const struct insn *in)
{
    return (in->d->fl & OPF_INVALID) != 0;
}

struct tally {
    long compared, agreed, ours_ud, capstone_rejects, too_long_checked, short_checked, skipped;
    long mismatches;
};

static void hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 3 * i, "%02x ", b[i]);
}

/* One random encoding: prefixes, a one- or two-byte opcode, random ModRM/SIB/disp/imm bytes. */
static size_t make_encoding(uint64_t *rs, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    uint64_t r = next_rand(rs);
    int np;
    switch (r & 7) {
    case 0: case 1: case 2: case 3: np = 0; break;
    case 4: case 5: np = 1; break;
    case 6: np = 2 + (int)((r >> 3) & 1); break;
    default: np = (int)((r >> 3) % 15); break; /* long runs of prefixes, up to 14 */
    }
    for (int i = 0; i < np; i++)
        buf[n++] = prefixes[next_rand(rs) % sizeof(prefixes)];
    uint8_t op;
    if (next_rand(rs) % 5 < 2) {
        buf[n++] = 0x0F;
        op = (uint8_t)next_rand(rs);
    } else {
        do
            op = (uint8_t)next_rand(rs);
        while (is_prefix(op) || op == 0x0F);
    }
    buf[n++] = op;
    while (n < cap)
        buf[n++] = (uint8_t)next_rand(rs);
    return n;
}

static void check_too_long(const uint8_t *enc, int len, int def32, struct tally *t)
{
    /* Pad with redundant DS prefixes up to 16, 17 and 20 bytes: each must be DEC_TOOLONG. */
    static const int extra[] = { 1, 2, 5 };
    for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
        int pad = 15 - len + extra[e];
        uint8_t buf[48];
        memset(buf, 0x3E, (size_t)pad);
        memcpy(buf + pad, enc, (size_t)len);
        memset(buf + pad + len, 0x90, sizeof(buf) - (size_t)(pad + len));
        struct insn in;
        int r = decode(buf, sizeof(buf), def32, &in);
        if (r != DEC_TOOLONG) {
            char h[160];
            hex(h, buf, (size_t)(pad + len) < 40 ? (size_t)(pad + len) : 40);
            print_error("%d-byte encoding (%s) did not give DEC_TOOLONG but %d (def32=%d)\n", pad + len, h, r,
                        def32);
            t->mismatches++;
        }
        t->too_long_checked++;
    }
}

static void test_lengths_match_capstone(void **state)
{
    (void)state;
    csh cs[2];
    assert_int_equal(cs_open(CS_ARCH_X86, CS_MODE_16, &cs[0]), CS_ERR_OK);
    assert_int_equal(cs_open(CS_ARCH_X86, CS_MODE_32, &cs[1]), CS_ERR_OK);
    uint64_t rs = SEED;
    struct tally t = { 0 };
    int reported = 0;

    for (long it = 0; it < ITERATIONS; it++) {
        uint8_t buf[24];
        make_encoding(&rs, buf, sizeof(buf));
        int def32 = (int)(next_rand(&rs) & 1);
        struct insn in;
        memset(&in, 0, sizeof(in));
        int ours = decode(buf, sizeof(buf), def32, &in);

        if (ours == DEC_TOOLONG) {
            /* Long prefix runs: the encoding really is longer than 15 bytes. Capstone must not
             * find a shorter instruction in it. */
            cs_insn *ci = NULL;
            size_t n = cs_disasm(cs[def32], buf, sizeof(buf), 0, 1, &ci);
            if (n && ci[0].size <= 15) {
                char h[80];
                hex(h, buf, 16);
                print_error("DEC_TOOLONG but capstone decodes %u bytes (%s %s): %s\n", ci[0].size, ci[0].mnemonic,
                            ci[0].op_str, h);
                t.mismatches++;
            }
            if (n)
                cs_free(ci, n);
            t.too_long_checked++;
            continue;
        }
        assert_true(ours == DEC_UD || (ours > 0 && ours <= 15));
        int len = ours > 0 ? ours : in.len;
        if (len > 0 && len <= 15) {
            check_too_long(buf, len, def32, &t);
            /* Every byte of a valid encoding is needed: one fewer available is DEC_SHORT. */
            if (ours > 0) {
                struct insn in2;
                assert_int_equal(decode(buf, (size_t)ours - 1, def32, &in2), DEC_SHORT);
                t.short_checked++;
            }
        }
        if (ours == DEC_UD) {
            t.ours_ud++;
            continue;
        }
        if (skipped_by_table(&in)) {
            t.skipped++;
            continue;
        }

        cs_insn *ci = NULL;
        size_t n = cs_disasm(cs[def32], buf, sizeof(buf), 0, 1, &ci);
        if (n == 0) {
            t.capstone_rejects++; /* a validity disagreement, not a length one */
            continue;
        }
        int theirs = (int)ci[0].size;
        t.compared++;
        if (theirs == ours) {
            t.agreed++;
        } else {
            t.mismatches++;
            if (reported++ < 25) {
                char h[80];
                hex(h, buf, 15);
                print_error("length mismatch (%s): ours %d (%s), capstone %d (%s %s): %s\n", def32 ? "32" : "16",
                            ours, in.d->mnem, theirs, ci[0].mnemonic, ci[0].op_str, h);
            }
        }
        cs_free(ci, n);
    }
    cs_close(&cs[0]);
    cs_close(&cs[1]);
    print_message("decode vs capstone: %ld compared, %ld agreed, %ld mismatched; %ld #UD by us, %ld rejected "
                  "by capstone only, %ld skipped (OPF_INVALID); %ld too-long and %ld short-buffer checks\n",
                  t.compared, t.agreed, t.mismatches, t.ours_ud, t.capstone_rejects, t.skipped,
                  t.too_long_checked, t.short_checked);
    assert_true(t.compared > ITERATIONS / 2); /* the test must actually compare something */
    assert_int_equal(t.mismatches, 0);
}

/* Hand-picked encodings whose lengths are easy to get wrong, checked against known values. */
static void test_known_lengths(void **state)
{
    (void)state;
    static const struct { int def32; uint8_t len; uint8_t b[15]; } cases[] = {
        { 0, 3, { 0x8B, 0x46, 0x02 } },                         /* mov ax,[bp+2] */
        { 0, 4, { 0x8B, 0x06, 0x34, 0x12 } },                   /* mov ax,[0x1234]: rm=6 mod=0 disp16 */
        { 0, 8, { 0x67, 0x8B, 0x84, 0x88, 0x78, 0x56, 0x34, 0x12 } }, /* SIB + disp32 under 67 */
        { 1, 7, { 0x8B, 0x04, 0x25, 0x78, 0x56, 0x34, 0x12 } }, /* SIB base=5 mod=0: disp32, no base */
        { 1, 3, { 0x8B, 0x04, 0x24 } },                         /* mov eax,[esp] */
        { 1, 4, { 0x66, 0x8B, 0x04, 0x24 } },
        { 0, 6, { 0x66, 0xB8, 0x78, 0x56, 0x34, 0x12 } },       /* mov eax, imm32 in 16-bit mode */
        { 1, 4, { 0x66, 0xB8, 0x34, 0x12 } },                   /* mov ax, imm16 in 32-bit mode */
        { 0, 6, { 0x67, 0xA1, 0x00, 0x00, 0x00, 0x00 } },       /* moffs follows the address size */
        { 1, 4, { 0xC8, 0x10, 0x00, 0x03 } },                   /* enter 16, 3 */
        { 0, 5, { 0x9A, 0x00, 0x00, 0x00, 0xF0 } },             /* call far ptr16:16 */
        { 0, 8, { 0x66, 0xEA, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00 } }, /* jmp far ptr16:32 */
        { 1, 6, { 0x0F, 0x84, 0x00, 0x00, 0x00, 0x00 } },       /* jz rel32 */
        { 0, 4, { 0x0F, 0x84, 0x00, 0x00 } },                   /* jz rel16 */
        { 1, 11, { 0xC7, 0x84, 0x88, 0x00, 0x01, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11 } },
        { 0, 4, { 0xF6, 0x47, 0x02, 0x80 } },                   /* test byte [bx+2],0x80: F6 /0 has an imm8 */
        { 0, 3, { 0xF6, 0x5F, 0x02 } },                         /* neg byte [bx+2]: F6 /3 has none */
        { 0, 3, { 0x0F, 0x20, 0x00 } },                         /* mov eax,cr0 with mod=0: no disp */
        { 1, 3, { 0x0F, 0x22, 0x45 } },                         /* mod=1: still no displacement */
        { 0, 4, { 0x0F, 0xBA, 0xE0, 0x05 } },                   /* bt ax,5: grp8 carries an imm8 */
        { 1, 15, { 0x3E, 0x3E, 0x3E, 0x3E, 0xC7, 0x84, 0x88, 0, 1, 0, 0, 0x44, 0x33, 0x22, 0x11 } },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[20];
        memset(buf, 0x90, sizeof(buf));
        memcpy(buf, cases[i].b, 15);
        struct insn in;
        int want = cases[i].len;
        int r = decode(buf, sizeof(buf), cases[i].def32, &in);
        if (r != want)
            print_error("case %zu: length %d, expected %d\n", i, r, want);
        assert_int_equal(r, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_lengths),
        cmocka_unit_test(test_lengths_match_capstone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

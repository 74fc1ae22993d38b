/* Host-CPU oracle for the interpreter: random 32-bit user-mode integer instructions run both on the
 * host (oracle_native, -m32) and in jitpc's interpreter; registers, memory, EIP, exceptions and the
 * flags each instruction defines (Intel SDM Vol. 2 "Flags Affected" of each page) must agree. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../cpu/interp.h"
#include "../../devices/machine.h"
#include "oracle_proto.h"

#define NATIVE_SRC "tests/oracle/oracle_native.c"
#define BATCH 128 /* cases per pipe round trip: ~12 KiB, below any pipe buffer, so no deadlock */

/* Guest-only system structures (the host never sees them): where a fault would be delivered. */
#define G_GDT 0x00700000u
#define G_TSS 0x00701000u
#define G_STACK0 0x00703000u
#define G_IDT 0x00704000u
#define G_HANDLERS 0x00705000u

#define ALL F_ARITH
#define NOAF (F_ARITH & ~F_AF)
#define CFOF (F_CF | F_OF)
/* Bits no instruction here may change except POPF, compared on every non-faulting case. */
#define SYSMASK (0x003FFFFFu & ~F_ARITH)

/* ---------------------------------------------------------------------------------------------
 * Instruction forms */

enum rmk { RM_NONE, RM_ANY, RM_MEM, RM_REG, RM_NOACC, RM_OPREG };
enum special {
    SP_NONE, SP_SHIFT, SP_SHD, SP_DIV, SP_IDIV, SP_BTREG, SP_BSF, SP_CMPXCHG, SP_CX8, SP_STR, SP_JREL,
    SP_LOOP, SP_RET, SP_IND, SP_ENTER, SP_LEAVE, SP_POPF, SP_XLAT, SP_MOFFS, SP_AAM, SP_BOUND, SP_FAULT,
    SP_SREG, SP_MOVX,
};

struct form {
    char name[40];
    uint8_t pfx[3], npfx;
    uint8_t op[3], nop;
    int8_t digit;  /* ModRM reg field, or -1: a random register operand */
    uint8_t rmk;
    uint8_t size;  /* bytes of the r/m (or implicit) operand */
    uint8_t imm;   /* immediate bytes after ModRM (3 = ENTER's iw+ib) */
    uint8_t sp;
    uint8_t stk;   /* uses the stack: ESP must stay a valid data-page pointer */
    uint32_t fl;   /* arithmetic flags the instruction defines (or leaves unchanged) */
};

struct formlist {
    struct form *v;
    size_t n, cap;
};

static struct form *add(struct formlist *L, const char *name, const char *pfx, const uint8_t *op, int nop,
                        int digit, int rmk, int size, int imm, int sp, uint32_t fl)
{
    if (L->n == L->cap) {
        L->cap = L->cap ? L->cap * 2 : 256;
        L->v = realloc(L->v, L->cap * sizeof(*L->v));
        if (!L->v)
            abort();
    }
    struct form *f = &L->v[L->n++];
    memset(f, 0, sizeof(*f));
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->npfx = (uint8_t)strlen(pfx);
    memcpy(f->pfx, pfx, f->npfx);
    memcpy(f->op, op, (size_t)nop);
    f->nop = (uint8_t)nop;
    f->digit = (int8_t)digit;
    f->rmk = (uint8_t)rmk;
    f->size = (uint8_t)size;
    f->imm = (uint8_t)imm;
    f->sp = (uint8_t)sp;
    f->fl = fl;
    return f;
}

#define OP1(a) (const uint8_t[]){ a }, 1
#define OP2(a, b) (const uint8_t[]){ a, b }, 2
#define OP3(a, b, c) (const uint8_t[]){ a, b, c }, 3

/* Adds the 32-bit form and its 66-prefixed 16-bit twin ("v" operands); the immediate follows the
 * operand size when imm == 4. */
static void addv(struct formlist *L, const char *name, const char *pfx, const uint8_t *op, int nop, int digit,
                 int rmk, int imm, int sp, uint32_t fl)
{
    char n[48], p[4];
    snprintf(n, sizeof(n), "%s/32", name);
    add(L, n, pfx, op, nop, digit, rmk, 4, imm, sp, fl);
    snprintf(n, sizeof(n), "%s/16", name);
    snprintf(p, sizeof(p), "\x66%s", pfx);
    add(L, n, p, op, nop, digit, rmk, 2, imm == 4 ? 2 : imm, sp, fl);
}

static void build_forms(struct formlist *L)
{
    static const char *const alu[8] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };
    static const char *const sh[8] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar" };
    static const char *const cc[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
                                        "s", "ns", "p", "np", "l", "ge", "le", "g" };
    char n[48];
    struct form *f;

    for (int i = 0; i < 8; i++) {
        uint32_t fl = (i == 1 || i == 4 || i == 6) ? NOAF : ALL; /* OR AND XOR: AF undefined */
        uint8_t b = (uint8_t)(i * 8);
        snprintf(n, sizeof(n), "%s Eb,Gb", alu[i]);
        add(L, n, "", OP1(b), -1, RM_ANY, 1, 0, SP_NONE, fl);
        snprintf(n, sizeof(n), "%s Ev,Gv", alu[i]);
        addv(L, n, "", OP1(b + 1), -1, RM_ANY, 0, SP_NONE, fl);
        snprintf(n, sizeof(n), "%s Gb,Eb", alu[i]);
        add(L, n, "", OP1(b + 2), -1, RM_ANY, 1, 0, SP_NONE, fl);
        snprintf(n, sizeof(n), "%s Gv,Ev", alu[i]);
        addv(L, n, "", OP1(b + 3), -1, RM_ANY, 0, SP_NONE, fl);
        snprintf(n, sizeof(n), "%s AL,Ib", alu[i]);
        add(L, n, "", OP1(b + 4), -1, RM_NONE, 1, 1, SP_NONE, fl);
        snprintf(n, sizeof(n), "%s eAX,Iv", alu[i]);
        addv(L, n, "", OP1(b + 5), -1, RM_NONE, 4, SP_NONE, fl);
        snprintf(n, sizeof(n), "%s Eb,Ib (80)", alu[i]);
        add(L, n, "", OP1(0x80), i, RM_ANY, 1, 1, SP_NONE, fl);
        snprintf(n, sizeof(n), "%s Eb,Ib (82)", alu[i]);
        add(L, n, "", OP1(0x82), i, RM_ANY, 1, 1, SP_NONE, fl);
        snprintf(n, sizeof(n), "%s Ev,Iv", alu[i]);
        addv(L, n, "", OP1(0x81), i, RM_ANY, 4, SP_NONE, fl);
        snprintf(n, sizeof(n), "%s Ev,Ib", alu[i]);
        addv(L, n, "", OP1(0x83), i, RM_ANY, 1, SP_NONE, fl);
        if (i != 7) {
            snprintf(n, sizeof(n), "lock %s Mv,Gv", alu[i]);
            add(L, n, "\xF0", OP1(b + 1), -1, RM_MEM, 4, 0, SP_NONE, fl);
        }
    }
    /* Segment-override prefixes on a memory operand: flat segments, so only decoding is at stake. */
    add(L, "es: add Mv,Gv", "\x26", OP1(0x01), -1, RM_MEM, 4, 0, SP_NONE, ALL);
    add(L, "cs: mov Gv,Mv", "\x2E", OP1(0x8B), -1, RM_MEM, 4, 0, SP_NONE, ALL);
    add(L, "ss: sub Mv,Gv", "\x36", OP1(0x29), -1, RM_MEM, 4, 0, SP_NONE, ALL);
    add(L, "ds: xor Gv,Mv", "\x3E", OP1(0x33), -1, RM_MEM, 4, 0, SP_NONE, NOAF);

    /* INC/DEC leave CF alone: comparing all six checks that too. */
    addv(L, "inc r (40+r)", "", OP1(0x40), -1, RM_OPREG, 0, SP_NONE, ALL);
    addv(L, "dec r (48+r)", "", OP1(0x48), -1, RM_OPREG, 0, SP_NONE, ALL);
    add(L, "inc Eb", "", OP1(0xFE), 0, RM_ANY, 1, 0, SP_NONE, ALL);
    add(L, "dec Eb", "", OP1(0xFE), 1, RM_ANY, 1, 0, SP_NONE, ALL);
    addv(L, "inc Ev", "", OP1(0xFF), 0, RM_ANY, 0, SP_NONE, ALL);
    addv(L, "dec Ev", "", OP1(0xFF), 1, RM_ANY, 0, SP_NONE, ALL);
    add(L, "lock inc Mb", "\xF0", OP1(0xFE), 0, RM_MEM, 1, 0, SP_NONE, ALL);
    add(L, "not Eb", "", OP1(0xF6), 2, RM_ANY, 1, 0, SP_NONE, ALL);
    add(L, "neg Eb", "", OP1(0xF6), 3, RM_ANY, 1, 0, SP_NONE, ALL);
    addv(L, "not Ev", "", OP1(0xF7), 2, RM_ANY, 0, SP_NONE, ALL);
    addv(L, "neg Ev", "", OP1(0xF7), 3, RM_ANY, 0, SP_NONE, ALL);
    add(L, "test Eb,Gb", "", OP1(0x84), -1, RM_ANY, 1, 0, SP_NONE, NOAF);
    addv(L, "test Ev,Gv", "", OP1(0x85), -1, RM_ANY, 0, SP_NONE, NOAF);
    add(L, "test AL,Ib", "", OP1(0xA8), -1, RM_NONE, 1, 1, SP_NONE, NOAF);
    addv(L, "test eAX,Iv", "", OP1(0xA9), -1, RM_NONE, 4, SP_NONE, NOAF);
    add(L, "test Eb,Ib", "", OP1(0xF6), 0, RM_ANY, 1, 1, SP_NONE, NOAF);
    add(L, "test Eb,Ib (/1)", "", OP1(0xF6), 1, RM_ANY, 1, 1, SP_NONE, NOAF);
    addv(L, "test Ev,Iv", "", OP1(0xF7), 0, RM_ANY, 4, SP_NONE, NOAF);
    addv(L, "test Ev,Iv (/1)", "", OP1(0xF7), 1, RM_ANY, 4, SP_NONE, NOAF);

    /* Multiply and divide: MUL/IMUL define CF OF only; DIV/IDIV define no flag. */
    add(L, "mul Eb", "", OP1(0xF6), 4, RM_ANY, 1, 0, SP_NONE, CFOF);
    add(L, "imul Eb", "", OP1(0xF6), 5, RM_ANY, 1, 0, SP_NONE, CFOF);
    add(L, "div Eb", "", OP1(0xF6), 6, RM_ANY, 1, 0, SP_DIV, 0);
    add(L, "idiv Eb", "", OP1(0xF6), 7, RM_ANY, 1, 0, SP_IDIV, 0);
    addv(L, "mul Ev", "", OP1(0xF7), 4, RM_ANY, 0, SP_NONE, CFOF);
    addv(L, "imul Ev", "", OP1(0xF7), 5, RM_ANY, 0, SP_NONE, CFOF);
    addv(L, "div Ev", "", OP1(0xF7), 6, RM_ANY, 0, SP_DIV, 0);
    addv(L, "idiv Ev", "", OP1(0xF7), 7, RM_ANY, 0, SP_IDIV, 0);
    addv(L, "imul Gv,Ev", "", OP2(0x0F, 0xAF), -1, RM_ANY, 0, SP_NONE, CFOF);
    addv(L, "imul Gv,Ev,Iv", "", OP1(0x69), -1, RM_ANY, 4, SP_NONE, CFOF);
    addv(L, "imul Gv,Ev,Ib", "", OP1(0x6B), -1, RM_ANY, 1, SP_NONE, CFOF);

    /* Shifts and rotates: the defined flags depend on the count (computed per case). */
    for (int i = 0; i < 8; i++) {
        snprintf(n, sizeof(n), "%s Eb,Ib", sh[i]);
        add(L, n, "", OP1(0xC0), i, RM_ANY, 1, 1, SP_SHIFT, 0);
        snprintf(n, sizeof(n), "%s Ev,Ib", sh[i]);
        addv(L, n, "", OP1(0xC1), i, RM_ANY, 1, SP_SHIFT, 0);
        snprintf(n, sizeof(n), "%s Eb,1", sh[i]);
        add(L, n, "", OP1(0xD0), i, RM_ANY, 1, 0, SP_SHIFT, 0);
        snprintf(n, sizeof(n), "%s Ev,1", sh[i]);
        addv(L, n, "", OP1(0xD1), i, RM_ANY, 0, SP_SHIFT, 0);
        snprintf(n, sizeof(n), "%s Eb,CL", sh[i]);
        add(L, n, "", OP1(0xD2), i, RM_ANY, 1, 0, SP_SHIFT, 0);
        snprintf(n, sizeof(n), "%s Ev,CL", sh[i]);
        addv(L, n, "", OP1(0xD3), i, RM_ANY, 0, SP_SHIFT, 0);
    }
    addv(L, "shld Ev,Gv,Ib", "", OP2(0x0F, 0xA4), -1, RM_ANY, 1, SP_SHD, 0);
    addv(L, "shld Ev,Gv,CL", "", OP2(0x0F, 0xA5), -1, RM_ANY, 0, SP_SHD, 0);
    addv(L, "shrd Ev,Gv,Ib", "", OP2(0x0F, 0xAC), -1, RM_ANY, 1, SP_SHD, 0);
    addv(L, "shrd Ev,Gv,CL", "", OP2(0x0F, 0xAD), -1, RM_ANY, 0, SP_SHD, 0);

    /* Bit tests: CF defined, ZF unchanged, OF SF AF PF undefined. */
    static const char *const bt[4] = { "bt", "bts", "btr", "btc" };
    for (int i = 0; i < 4; i++) {
        snprintf(n, sizeof(n), "%s Ev,Gv", bt[i]);
        addv(L, n, "", OP2(0x0F, (uint8_t)(0xA3 + 8 * i)), -1, RM_ANY, 0, SP_BTREG, F_CF | F_ZF);
        snprintf(n, sizeof(n), "%s Ev,Ib", bt[i]);
        addv(L, n, "", OP2(0x0F, 0xBA), 4 + i, RM_ANY, 1, SP_NONE, F_CF | F_ZF);
    }
    add(L, "lock bts Mv,Gv", "\xF0", OP2(0x0F, 0xAB), -1, RM_MEM, 4, 0, SP_BTREG, F_CF | F_ZF);
    addv(L, "bsf Gv,Ev", "", OP2(0x0F, 0xBC), -1, RM_ANY, 0, SP_BSF, F_ZF);
    addv(L, "bsr Gv,Ev", "", OP2(0x0F, 0xBD), -1, RM_ANY, 0, SP_BSF, F_ZF);
    add(L, "bswap r32", "", OP2(0x0F, 0xC8), -1, RM_OPREG, 4, 0, SP_NONE, ALL);

    /* Moves: no flag changes, so all six are compared. */
    add(L, "mov Eb,Gb", "", OP1(0x88), -1, RM_ANY, 1, 0, SP_NONE, ALL);
    addv(L, "mov Ev,Gv", "", OP1(0x89), -1, RM_ANY, 0, SP_NONE, ALL);
    add(L, "mov Gb,Eb", "", OP1(0x8A), -1, RM_ANY, 1, 0, SP_NONE, ALL);
    addv(L, "mov Gv,Ev", "", OP1(0x8B), -1, RM_ANY, 0, SP_NONE, ALL);
    add(L, "mov r8,Ib", "", OP1(0xB0), -1, RM_OPREG, 1, 1, SP_NONE, ALL);
    addv(L, "mov r,Iv", "", OP1(0xB8), -1, RM_OPREG, 4, SP_NONE, ALL);
    add(L, "mov Eb,Ib", "", OP1(0xC6), 0, RM_ANY, 1, 1, SP_NONE, ALL);
    addv(L, "mov Ev,Iv", "", OP1(0xC7), 0, RM_ANY, 4, SP_NONE, ALL);
    /* The moffs is sized by the address size (always 32 here), not by 66. */
    add(L, "mov AL,moffs", "", OP1(0xA0), -1, RM_NONE, 1, 4, SP_MOFFS, ALL);
    add(L, "mov eAX,moffs/32", "", OP1(0xA1), -1, RM_NONE, 4, 4, SP_MOFFS, ALL);
    add(L, "mov eAX,moffs/16", "\x66", OP1(0xA1), -1, RM_NONE, 2, 4, SP_MOFFS, ALL);
    add(L, "mov moffs,AL", "", OP1(0xA2), -1, RM_NONE, 1, 4, SP_MOFFS, ALL);
    add(L, "mov moffs,eAX/32", "", OP1(0xA3), -1, RM_NONE, 4, 4, SP_MOFFS, ALL);
    add(L, "mov moffs,eAX/16", "\x66", OP1(0xA3), -1, RM_NONE, 2, 4, SP_MOFFS, ALL);
    for (int s = 0; s < 6; s++) {
        static const char *const sn[6] = { "es", "cs", "ss", "ds", "fs", "gs" };
        snprintf(n, sizeof(n), "mov Ev,%s", sn[s]);
        addv(L, n, "", OP1(0x8C), s, RM_ANY, 0, SP_SREG, ALL);
    }
    addv(L, "lea Gv,M", "", OP1(0x8D), -1, RM_NOACC, 0, SP_NONE, ALL);
    addv(L, "lea Gv,M (a16)", "\x67", OP1(0x8D), -1, RM_NOACC, 0, SP_NONE, ALL);
    add(L, "xchg Eb,Gb", "", OP1(0x86), -1, RM_ANY, 1, 0, SP_NONE, ALL);
    addv(L, "xchg Ev,Gv", "", OP1(0x87), -1, RM_ANY, 0, SP_NONE, ALL);
    addv(L, "xchg eAX,r", "", OP1(0x90), -1, RM_OPREG, 0, SP_NONE, ALL);
    add(L, "xadd Eb,Gb", "", OP2(0x0F, 0xC0), -1, RM_ANY, 1, 0, SP_NONE, ALL);
    addv(L, "xadd Ev,Gv", "", OP2(0x0F, 0xC1), -1, RM_ANY, 0, SP_NONE, ALL);
    add(L, "cmpxchg Eb,Gb", "", OP2(0x0F, 0xB0), -1, RM_ANY, 1, 0, SP_CMPXCHG, ALL);
    addv(L, "cmpxchg Ev,Gv", "", OP2(0x0F, 0xB1), -1, RM_ANY, 0, SP_CMPXCHG, ALL);
    add(L, "lock cmpxchg Mv,Gv", "\xF0", OP2(0x0F, 0xB1), -1, RM_MEM, 4, 0, SP_CMPXCHG, ALL);
    add(L, "cmpxchg8b Mq", "", OP2(0x0F, 0xC7), 1, RM_MEM, 8, 0, SP_CX8, ALL);
    add(L, "lock cmpxchg8b Mq", "\xF0", OP2(0x0F, 0xC7), 1, RM_MEM, 8, 0, SP_CX8, ALL);
    add(L, "movzx Gv,Eb/32", "", OP2(0x0F, 0xB6), -1, RM_ANY, 1, 0, SP_MOVX, ALL);
    add(L, "movzx Gv,Eb/16", "\x66", OP2(0x0F, 0xB6), -1, RM_ANY, 1, 0, SP_MOVX, ALL);
    add(L, "movzx Gv,Ew/32", "", OP2(0x0F, 0xB7), -1, RM_ANY, 2, 0, SP_MOVX, ALL);
    add(L, "movzx Gv,Ew/16", "\x66", OP2(0x0F, 0xB7), -1, RM_ANY, 2, 0, SP_MOVX, ALL);
    add(L, "movsx Gv,Eb/32", "", OP2(0x0F, 0xBE), -1, RM_ANY, 1, 0, SP_MOVX, ALL);
    add(L, "movsx Gv,Eb/16", "\x66", OP2(0x0F, 0xBE), -1, RM_ANY, 1, 0, SP_MOVX, ALL);
    add(L, "movsx Gv,Ew/32", "", OP2(0x0F, 0xBF), -1, RM_ANY, 2, 0, SP_MOVX, ALL);
    add(L, "movsx Gv,Ew/16", "\x66", OP2(0x0F, 0xBF), -1, RM_ANY, 2, 0, SP_MOVX, ALL);
    for (int i = 0; i < 16; i++) {
        snprintf(n, sizeof(n), "cmov%s Gv,Ev", cc[i]);
        addv(L, n, "", OP2(0x0F, (uint8_t)(0x40 + i)), -1, RM_ANY, 0, SP_NONE, ALL);
        snprintf(n, sizeof(n), "set%s Eb", cc[i]);
        add(L, n, "", OP2(0x0F, (uint8_t)(0x90 + i)), 0, RM_ANY, 1, 0, SP_NONE, ALL);
        snprintf(n, sizeof(n), "j%s rel8", cc[i]);
        add(L, n, "", OP1((uint8_t)(0x70 + i)), -1, RM_NONE, 4, 1, SP_JREL, ALL);
        snprintf(n, sizeof(n), "j%s rel32", cc[i]);
        add(L, n, "", OP2(0x0F, (uint8_t)(0x80 + i)), -1, RM_NONE, 4, 4, SP_JREL, ALL);
    }
    add(L, "cbw/cwde", "", OP1(0x98), -1, RM_NONE, 4, 0, SP_NONE, ALL);
    add(L, "cbw (66)", "\x66", OP1(0x98), -1, RM_NONE, 2, 0, SP_NONE, ALL);
    add(L, "cdq", "", OP1(0x99), -1, RM_NONE, 4, 0, SP_NONE, ALL);
    add(L, "cwd (66)", "\x66", OP1(0x99), -1, RM_NONE, 2, 0, SP_NONE, ALL);
    add(L, "lahf", "", OP1(0x9F), -1, RM_NONE, 1, 0, SP_NONE, ALL);
    add(L, "sahf", "", OP1(0x9E), -1, RM_NONE, 1, 0, SP_NONE, ALL);
    add(L, "salc", "", OP1(0xD6), -1, RM_NONE, 1, 0, SP_NONE, ALL);
    add(L, "xlat", "", OP1(0xD7), -1, RM_NONE, 1, 0, SP_XLAT, ALL);
    add(L, "arpl Ew,Gw", "", OP1(0x63), -1, RM_ANY, 2, 0, SP_NONE, ALL);
    add(L, "bound Gv,Ma/32", "", OP1(0x62), -1, RM_MEM, 8, 0, SP_BOUND, ALL);
    add(L, "bound Gv,Ma/16", "\x66", OP1(0x62), -1, RM_MEM, 4, 0, SP_BOUND, ALL);

    /* BCD: DAA/DAS leave only OF undefined; AAA/AAS define AF CF; AAM/AAD define SF ZF PF. */
    add(L, "daa", "", OP1(0x27), -1, RM_NONE, 1, 0, SP_NONE, ALL & ~F_OF);
    add(L, "das", "", OP1(0x2F), -1, RM_NONE, 1, 0, SP_NONE, ALL & ~F_OF);
    add(L, "aaa", "", OP1(0x37), -1, RM_NONE, 1, 0, SP_NONE, F_AF | F_CF);
    add(L, "aas", "", OP1(0x3F), -1, RM_NONE, 1, 0, SP_NONE, F_AF | F_CF);
    add(L, "aam Ib", "", OP1(0xD4), -1, RM_NONE, 1, 1, SP_AAM, F_SF | F_ZF | F_PF);
    add(L, "aad Ib", "", OP1(0xD5), -1, RM_NONE, 1, 1, SP_AAM, F_SF | F_ZF | F_PF);

    /* Flag instructions. */
    add(L, "clc", "", OP1(0xF8), -1, RM_NONE, 1, 0, SP_NONE, ALL);
    add(L, "stc", "", OP1(0xF9), -1, RM_NONE, 1, 0, SP_NONE, ALL);
    add(L, "cmc", "", OP1(0xF5), -1, RM_NONE, 1, 0, SP_NONE, ALL);
    add(L, "cld", "", OP1(0xFC), -1, RM_NONE, 1, 0, SP_NONE, ALL);
    add(L, "std", "", OP1(0xFD), -1, RM_NONE, 1, 0, SP_NONE, ALL);
    add(L, "nop", "", OP1(0x90), -1, RM_NONE, 1, 0, SP_NONE, ALL);
    addv(L, "nop Ev (0F 1F)", "", OP2(0x0F, 0x1F), 0, RM_NOACC, 0, SP_NONE, ALL);
    for (int i = 4; i < 8; i++) {
        snprintf(n, sizeof(n), "hint nop 0F 18 /%d", i);
        add(L, n, "", OP2(0x0F, 0x18), i, RM_NOACC, 4, 0, SP_NONE, ALL);
    }

    /* Stack. */
    f = add(L, "push r/32", "", OP1(0x50), -1, RM_OPREG, 4, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "push r/16", "\x66", OP1(0x50), -1, RM_OPREG, 2, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "pop r/32", "", OP1(0x58), -1, RM_OPREG, 4, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "pop r/16", "\x66", OP1(0x58), -1, RM_OPREG, 2, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "push Iv/32", "", OP1(0x68), -1, RM_NONE, 4, 4, SP_NONE, ALL), f->stk = 1;
    f = add(L, "push Iv/16", "\x66", OP1(0x68), -1, RM_NONE, 2, 2, SP_NONE, ALL), f->stk = 1;
    f = add(L, "push Ib/32", "", OP1(0x6A), -1, RM_NONE, 4, 1, SP_NONE, ALL), f->stk = 1;
    f = add(L, "push Ib/16", "\x66", OP1(0x6A), -1, RM_NONE, 2, 1, SP_NONE, ALL), f->stk = 1;
    f = add(L, "push Ev/32", "", OP1(0xFF), 6, RM_ANY, 4, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "push Ev/16", "\x66", OP1(0xFF), 6, RM_ANY, 2, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "pop Ev/32", "", OP1(0x8F), 0, RM_ANY, 4, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "pop Ev/16", "\x66", OP1(0x8F), 0, RM_ANY, 2, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "pushad", "", OP1(0x60), -1, RM_NONE, 4, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "pushaw", "\x66", OP1(0x60), -1, RM_NONE, 2, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "popad", "", OP1(0x61), -1, RM_NONE, 4, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "popaw", "\x66", OP1(0x61), -1, RM_NONE, 2, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "pushfd", "", OP1(0x9C), -1, RM_NONE, 4, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "pushfw", "\x66", OP1(0x9C), -1, RM_NONE, 2, 0, SP_NONE, ALL), f->stk = 1;
    f = add(L, "popfd", "", OP1(0x9D), -1, RM_NONE, 4, 0, SP_POPF, ALL), f->stk = 1;
    f = add(L, "popfw", "\x66", OP1(0x9D), -1, RM_NONE, 2, 0, SP_POPF, ALL), f->stk = 1;
    f = add(L, "enter Iw,Ib/32", "", OP1(0xC8), -1, RM_NONE, 4, 3, SP_ENTER, ALL), f->stk = 1;
    f = add(L, "enter Iw,Ib/16", "\x66", OP1(0xC8), -1, RM_NONE, 2, 3, SP_ENTER, ALL), f->stk = 1;
    f = add(L, "leave/32", "", OP1(0xC9), -1, RM_NONE, 4, 0, SP_LEAVE, ALL), f->stk = 1;
    f = add(L, "leave/16", "\x66", OP1(0xC9), -1, RM_NONE, 2, 0, SP_LEAVE, ALL), f->stk = 1;

    /* Control transfers to the landing pads (near forms only: 66 would truncate EIP to 16 bits). */
    add(L, "jmp rel8", "", OP1(0xEB), -1, RM_NONE, 4, 1, SP_JREL, ALL);
    add(L, "jmp rel32", "", OP1(0xE9), -1, RM_NONE, 4, 4, SP_JREL, ALL);
    f = add(L, "call rel32", "", OP1(0xE8), -1, RM_NONE, 4, 4, SP_JREL, ALL), f->stk = 1;
    f = add(L, "ret", "", OP1(0xC3), -1, RM_NONE, 4, 0, SP_RET, ALL), f->stk = 1;
    f = add(L, "ret Iw", "", OP1(0xC2), -1, RM_NONE, 4, 2, SP_RET, ALL), f->stk = 1;
    f = add(L, "call Ev", "", OP1(0xFF), 2, RM_ANY, 4, 0, SP_IND, ALL), f->stk = 1;
    f = add(L, "jmp Ev", "", OP1(0xFF), 4, RM_ANY, 4, 0, SP_IND, ALL), f->stk = 1;
    add(L, "loop rel8", "", OP1(0xE2), -1, RM_NONE, 4, 1, SP_LOOP, ALL);
    add(L, "loope rel8", "", OP1(0xE1), -1, RM_NONE, 4, 1, SP_LOOP, ALL);
    add(L, "loopne rel8", "", OP1(0xE0), -1, RM_NONE, 4, 1, SP_LOOP, ALL);
    add(L, "jecxz rel8", "", OP1(0xE3), -1, RM_NONE, 4, 1, SP_LOOP, ALL);
    add(L, "loop rel8 (a16: CX)", "\x67", OP1(0xE2), -1, RM_NONE, 2, 1, SP_LOOP, ALL);
    add(L, "loope rel8 (a16)", "\x67", OP1(0xE1), -1, RM_NONE, 2, 1, SP_LOOP, ALL);
    add(L, "loopne rel8 (a16)", "\x67", OP1(0xE0), -1, RM_NONE, 2, 1, SP_LOOP, ALL);
    add(L, "jcxz rel8 (a16)", "\x67", OP1(0xE3), -1, RM_NONE, 2, 1, SP_LOOP, ALL);

    /* Strings: bare, REP, and REPE/REPNE for the comparing ones, in both directions. */
    static const struct { const char *name; uint8_t op; uint32_t fl; int cmp; } str[] = {
        { "movs", 0xA4, ALL, 0 }, { "cmps", 0xA6, ALL, 1 }, { "stos", 0xAA, ALL, 0 },
        { "lods", 0xAC, ALL, 0 }, { "scas", 0xAE, ALL, 1 },
    };
    for (size_t i = 0; i < sizeof(str) / sizeof(str[0]); i++) {
        static const char *const rp[3] = { "", "\xF3", "\xF2" };
        static const char *const rn[3] = { "", "rep ", "repne " };
        for (int r = 0; r < (str[i].cmp ? 3 : 2); r++) {
            const char *rname = str[i].cmp && r == 1 ? "repe " : rn[r];
            snprintf(n, sizeof(n), "%s%sb", rname, str[i].name);
            add(L, n, rp[r], OP1(str[i].op), -1, RM_NONE, 1, 0, SP_STR, str[i].fl);
            snprintf(n, sizeof(n), "%s%sd", rname, str[i].name);
            add(L, n, rp[r], OP1((uint8_t)(str[i].op + 1)), -1, RM_NONE, 4, 0, SP_STR, str[i].fl);
            char p[4];
            snprintf(p, sizeof(p), "\x66%s", rp[r]);
            snprintf(n, sizeof(n), "%s%sw", rname, str[i].name);
            add(L, n, p, OP1((uint8_t)(str[i].op + 1)), -1, RM_NONE, 2, 0, SP_STR, str[i].fl);
        }
    }

    /* Exceptions: privileged instructions at CPL 3 (#GP(0)), and encodings that are #UD. */
    static const struct { const char *name; uint8_t b[4]; uint8_t n; int8_t digit; } flt[] = {
        { "hlt", { 0xF4 }, 1, -1 }, { "cli", { 0xFA }, 1, -1 }, { "sti", { 0xFB }, 1, -1 },
        { "in al,Ib", { 0xE4, 0x60 }, 2, -1 }, { "in eax,dx", { 0xED }, 1, -1 },
        { "out Ib,al", { 0xE6, 0x80 }, 2, -1 }, { "out dx,al", { 0xEE }, 1, -1 },
        { "insb", { 0x6C }, 1, -1 }, { "outsb", { 0x6E }, 1, -1 },
        { "mov eax,cr0", { 0x0F, 0x20, 0xC0 }, 3, -1 }, { "mov cr0,eax", { 0x0F, 0x22, 0xC0 }, 3, -1 },
        { "mov eax,dr7", { 0x0F, 0x21, 0xF8 }, 3, -1 }, { "mov dr7,eax", { 0x0F, 0x23, 0xF8 }, 3, -1 },
        { "clts", { 0x0F, 0x06 }, 2, -1 }, { "invd", { 0x0F, 0x08 }, 2, -1 }, { "wbinvd", { 0x0F, 0x09 }, 2, -1 },
        { "lmsw ax", { 0x0F, 0x01, 0xF0 }, 3, -1 }, { "lldt ax", { 0x0F, 0x00, 0xD0 }, 3, -1 },
        { "ltr ax", { 0x0F, 0x00, 0xD8 }, 3, -1 }, { "rdmsr", { 0x0F, 0x32 }, 2, -1 },
        { "wrmsr", { 0x0F, 0x30 }, 2, -1 },
        { "lgdt M", { 0x0F, 0x01 }, 2, 2 }, { "lidt M", { 0x0F, 0x01 }, 2, 3 }, { "invlpg M", { 0x0F, 0x01 }, 2, 7 },
        { "ud2", { 0x0F, 0x0B }, 2, -1 }, { "lock add reg (#UD)", { 0xF0, 0x01, 0xC0 }, 3, -1 },
        { "lea reg (#UD)", { 0x8D, 0xC0 }, 2, -1 }, { "cmpxchg8b reg (#UD)", { 0x0F, 0xC7, 0xC8 }, 3, -1 },
        { "lock nop (#UD)", { 0xF0, 0x90 }, 2, -1 }, { "lock mov (#UD)", { 0xF0, 0x89, 0x03 }, 3, -1 },
        { "FE /7 (#UD)", { 0xFE, 0xF8 }, 2, -1 }, { "FF /7 (#UD)", { 0xFF, 0xF8 }, 2, -1 },
        { "8F /1 (#UD)", { 0x8F, 0xC8 }, 2, -1 }, { "lds reg (#UD)", { 0xC5, 0xC0 }, 2, -1 },
        { "bound reg (#UD)", { 0x62, 0xC0 }, 2, -1 }, { "lock cmp (#UD)", { 0xF0, 0x39, 0x03 }, 3, -1 },
    };
    for (size_t i = 0; i < sizeof(flt) / sizeof(flt[0]); i++)
        add(L, flt[i].name, "", flt[i].b, flt[i].n, flt[i].digit, flt[i].digit >= 0 ? RM_MEM : RM_NONE, 4, 0,
            SP_FAULT, ALL);
}

/* ---------------------------------------------------------------------------------------------
 * Case generation */

struct rng {
    uint64_t s;
};

static uint64_t rnd64(struct rng *r)
{
    /* splitmix64: any seed gives a good stream, and forms get independent streams. */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint32_t rnd(struct rng *r) { return (uint32_t)(rnd64(r) >> 32); }
static uint32_t below(struct rng *r, uint32_t n) { return (uint32_t)(((uint64_t)rnd(r) * n) >> 32); }

/* Operand values weighted toward the edges where flag logic goes wrong. */
static uint32_t biased(struct rng *r, int size)
{
    uint32_t m = size_mask(size), sb = sign_bit(size);
    switch (below(r, 12)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return m;
    case 3: return sb;
    case 4: return sb - 1;
    case 5: return sb + 1;
    case 6: return m - 1;
    case 7: return rnd(r) & 0xFF & m;
    case 8: return (rnd(r) & 0x0F0F0F0Fu) & m; /* BCD-ish nibbles */
    default: return rnd(r) & m;
    }
}

/* What the comparison needs to know about one generated case besides its bytes. */
struct meta {
    uint32_t fl;         /* defined arithmetic flags */
    uint32_t regmask[8]; /* bits of each register that are defined afterwards */
    int skip_mem;        /* memory result undefined */
};

/* Generation state of one case. */
struct gen {
    const struct form *f;
    struct rng *r;
    struct oc_case *k;
    struct meta *m;
    int mem;             /* the r/m operand is memory */
    uint32_t ea;         /* its page offset */
    int rm_reg, reg;     /* ModRM register numbers (rm_reg -1 for memory) */
    uint32_t used;       /* registers whose values the address depends on */
    uint8_t *imm_at;     /* where the immediate went */
    uint32_t imm;
};

static void patch(struct oc_case *k, uint32_t off, const void *bytes, int len)
{
    if (k->npatch >= OC_MAX_PATCH || len <= 0 || len > 8)
        return;
    struct oc_patch *p = &k->patch[k->npatch++];
    p->off = (uint16_t)off;
    p->len = (uint8_t)len;
    memcpy(p->bytes, bytes, (size_t)len);
}

static void patch32(struct oc_case *k, uint32_t off, uint32_t v, int len) { patch(k, off, &v, len); }

static uint32_t stack_ptr(struct rng *r)
{
    return OC_DATA + 0x700 + (below(r, 0x200) & ~3u);
}

/* ModRM (and SIB, displacement) for a 32-bit address that lands on page offset [lo, hi), solving
 * the base register's value from the chosen displacement and index. */
static void emit_mem32(struct gen *g, uint8_t **p, int reg, uint32_t lo, uint32_t hi)
{
    struct oc_case *k = g->k;
    struct rng *r = g->r;
    uint32_t t = OC_DATA + lo + below(r, hi - lo);
    int form = (int)below(r, 8);
    int mod, base = -1, index = -1, scale = 0, nobase = 0;
    int32_t disp = 0;
    if (form < 4) {
        static const int bases[7] = { 0, 1, 2, 3, 5, 6, 7 };
        base = bases[below(r, 7)];
        mod = form == 0 ? 0 : form == 1 ? 1 : 2;
        if (form == 3) {
            nobase = 1; /* [disp32] */
            mod = 0;
            base = -1;
        }
        if (mod == 0 && base == 5)
            mod = 1;
    } else {
        mod = (int)below(r, 3);
        scale = (int)below(r, 4);
        index = (int)below(r, 8);
        base = (int)below(r, 8);
        if (index == 4)
            index = -1;
        if (mod == 0 && base == 5) {
            base = -1;
            nobase = 1;
        }
    }
    if (g->f->stk && (base == 4 || index == 4)) {
        /* ESP is the stack pointer here: keep it valid and address relative to it. */
        index = -1;
        if (base != 4)
            base = 0;
        else {
            mod = 1;
            form = 4;
        }
    }
    if (mod == 1)
        disp = (int32_t)below(r, 200) - 100;
    else if (mod == 2 || nobase)
        disp = (int32_t)biased(r, 4);
    if (g->f->stk && base == 4) {
        t = k->regs[4] + (uint32_t)disp;
    } else if (index < 0) {
        if (nobase)
            disp = (int32_t)t;
        else
            k->regs[base] = t - (uint32_t)disp;
    } else if (nobase) {
        uint32_t v = biased(r, 4);
        k->regs[index] = v;
        disp = (int32_t)(t - (v << scale));
    } else if (index != base) {
        uint32_t v = biased(r, 4);
        k->regs[index] = v;
        k->regs[base] = t - (uint32_t)disp - (v << scale);
    } else {
        uint32_t kk = 1u + (1u << scale);
        uint32_t v = (t - (uint32_t)disp) / kk;
        uint32_t rem = (t - (uint32_t)disp) - v * kk;
        if (mod == 0)
            t -= rem;
        else
            disp = (int32_t)((uint32_t)disp + rem);
        k->regs[base] = v;
    }
    if (base >= 0)
        g->used |= 1u << base;
    if (index >= 0)
        g->used |= 1u << index;
    g->ea = t - OC_DATA;
    g->mem = 1;
    int sib = index >= 0 || base == 4 || (form >= 4 && nobase);
    if (sib) {
        *(*p)++ = (uint8_t)((mod << 6) | (reg << 3) | 4);
        *(*p)++ = (uint8_t)((scale << 6) | ((index < 0 ? 4 : index) << 3) | (nobase ? 5 : base));
    } else {
        *(*p)++ = (uint8_t)((mod << 6) | (reg << 3) | (nobase ? 5 : base));
    }
    if (mod == 1)
        *(*p)++ = (uint8_t)disp;
    else if (mod == 2 || nobase) {
        memcpy(*p, &disp, 4);
        *p += 4;
    }
}

/* Any ModRM byte with random registers and displacement, 16- or 32-bit addressing: for LEA and
 * the hint NOPs, which compute an address but never access it. */
static void emit_noacc(struct gen *g, uint8_t **p, int reg, int a16)
{
    struct rng *r = g->r;
    int mod = (int)below(r, 3), rm = (int)below(r, 8);
    *(*p)++ = (uint8_t)((mod << 6) | (reg << 3) | rm);
    int dlen = 0;
    if (a16) {
        dlen = mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 6) ? 2 : 0;
    } else {
        if (rm == 4) {
            uint8_t sib = (uint8_t)rnd(r);
            *(*p)++ = sib;
            if (mod == 0 && (sib & 7) == 5)
                dlen = 4;
        }
        if (mod == 1)
            dlen = 1;
        else if (mod == 2 || (mod == 0 && rm == 5))
            dlen = 4;
    }
    uint32_t d = biased(r, dlen ? dlen : 1);
    memcpy(*p, &d, (size_t)dlen);
    *p += dlen;
}

/* The value the r/m operand holds before the instruction. */
static uint32_t rm_value(const struct gen *g, int size)
{
    if (g->mem) {
        for (int i = g->k->npatch - 1; i >= 0; i--)
            if (g->k->patch[i].off == g->ea) {
                uint32_t v = 0;
                memcpy(&v, g->k->patch[i].bytes, (size_t)(size < 4 ? size : 4));
                return v;
            }
        return 0;
    }
    if (size == 1)
        return g->rm_reg < 4 ? g->k->regs[g->rm_reg] & 0xFF : (g->k->regs[g->rm_reg - 4] >> 8) & 0xFF;
    return g->k->regs[g->rm_reg] & size_mask(size);
}

static uint32_t shift_flags(int digit, unsigned cnt, int bits)
{
    cnt &= 31;
    if (cnt == 0)
        return ALL; /* no flag changes */
    if (digit < 4)  /* rotates: CF, OF for single-bit counts; SF ZF AF PF never change */
        return cnt == 1 ? ALL : ALL & ~F_OF;
    uint32_t fl = F_CF | F_SF | F_ZF | F_PF | (cnt == 1 ? F_OF : 0);
    if (digit != 7 && cnt >= (unsigned)bits)
        fl &= ~F_CF; /* SHL/SHR: CF undefined when the count reaches the operand size */
    return fl;
}

/* A count weighted to the boundaries: 0, 1, the operand size and around it, and beyond 31. */
static uint32_t biased_count(struct rng *r, int bits)
{
    switch (below(r, 6)) {
    case 0: return below(r, 3);
    case 1: return (uint32_t)bits - 1 + below(r, 3);
    case 2: return 31 + below(r, 3);
    case 3: return below(r, 256);
    default: return below(r, 33);
    }
}

/* Picks a landing pad for a branch of this encoding length and returns the displacement. */
static uint32_t pad_rel(struct rng *r, int len)
{
    uint32_t target = below(r, 2) ? OC_PAD_FWD : OC_PAD_BACK;
    return target - (OC_INSN + (uint32_t)len);
}

/* Fills one case for form f; the random stream decides everything. */
static void gen_case(const struct form *f, struct rng *r, struct oc_case *k, struct meta *m)
{
    struct gen g = { .f = f, .r = r, .k = k, .m = m, .rm_reg = -1, .reg = 0 };
    memset(k, 0, sizeof(*k));
    for (int i = 0; i < 8; i++) {
        static const int sz[3] = { 1, 2, 4 };
        uint32_t v = rnd(r), s = (uint32_t)sz[below(r, 3)];
        k->regs[i] = (v & ~size_mask((int)s)) | biased(r, (int)s);
        m->regmask[i] = 0xFFFFFFFFu;
    }
    if (below(r, 4) == 0)
        k->regs[0] = (k->regs[0] & 0xFFFF0000u) | (biased(r, 1) << 8) | biased(r, 1); /* AH, AL both edges */
    k->regs[4] = stack_ptr(r);
    k->eflags = 0x202u | (rnd(r) & (F_ARITH | F_DF));
    k->page_seed = rnd(r);
    m->fl = f->fl;
    m->skip_mem = 0;

    uint8_t *p = k->code;
    memcpy(p, f->pfx, f->npfx);
    p += f->npfx;
    memcpy(p, f->op, f->nop);
    p += f->nop;
    int a16 = f->npfx && memchr(f->pfx, 0x67, f->npfx) != NULL;

    if (f->rmk == RM_OPREG) {
        int rr = (int)below(r, 8);
        p[-1] = (uint8_t)(p[-1] + rr);
        g.rm_reg = rr;
        if (f->stk && rr == 4 && f->op[0] == 0x58)
            k->regs[4] = stack_ptr(r);
    } else if (f->rmk != RM_NONE) {
        int reg = f->digit >= 0 ? f->digit : (int)below(r, 8);
        g.reg = reg;
        int want_mem = f->rmk == RM_MEM || f->rmk == RM_NOACC || (f->rmk == RM_ANY && below(r, 2));
        if (f->sp == SP_FAULT && f->digit >= 0) {
            emit_noacc(&g, &p, reg, 0); /* faults before any access */
        } else if (f->rmk == RM_NOACC) {
            emit_noacc(&g, &p, reg, a16);
        } else if (want_mem) {
            uint32_t lo = 0x100, hi = 0xF00 - f->size;
            if (f->sp == SP_BTREG)
                lo = 0x700, hi = 0x900;
            emit_mem32(&g, &p, reg, lo, hi);
            /* The operand's bytes: a chosen value over the random page. */
            if (f->size <= 4) {
                patch32(k, g.ea, biased(r, f->size), f->size);
            } else {
                patch32(k, g.ea, biased(r, 4), 4);
                patch32(k, g.ea + 4, biased(r, 4), 4);
            }
        } else {
            int rm = (int)below(r, 8);
            if (f->stk && rm == 4 && f->sp == SP_IND)
                rm = 3; /* CALL ESP would push onto the code page */
            *p++ = (uint8_t)(0xC0 | (reg << 3) | rm);
            g.rm_reg = rm;
        }
    }
    /* Immediates. */
    g.imm_at = p;
    if (f->imm == 3) {
        *p++ = (uint8_t)rnd(r);
        *p++ = (uint8_t)rnd(r);
        *p++ = 0;
    } else if (f->imm) {
        g.imm = biased(r, f->imm);
        memcpy(p, &g.imm, f->imm);
        p += f->imm;
    }
    k->len = (uint8_t)(p - k->code);
    int bits = f->size * 8;

    switch (f->sp) {
    case SP_SHIFT: {
        uint32_t cnt;
        if (f->op[0] == 0xD0 || f->op[0] == 0xD1) {
            cnt = 1;
        } else if (f->op[0] == 0xC0 || f->op[0] == 0xC1) {
            cnt = biased_count(r, bits);
            *g.imm_at = (uint8_t)cnt;
        } else {
            cnt = biased_count(r, bits);
            if (!(g.used & 2) && g.rm_reg != 1 && !(f->size == 1 && g.rm_reg == 5))
                k->regs[1] = (k->regs[1] & ~0xFFu) | cnt;
            cnt = k->regs[1] & 0xFF;
        }
        m->fl = shift_flags(f->digit, cnt, bits);
        break;
    }
    case SP_SHD: {
        uint32_t cnt = biased_count(r, bits);
        if (f->imm) {
            *g.imm_at = (uint8_t)cnt;
        } else {
            if (!(g.used & 2) && g.rm_reg != 1)
                k->regs[1] = (k->regs[1] & ~0xFFu) | cnt;
            cnt = k->regs[1] & 0xFF;
        }
        cnt &= 31;
        if (cnt == 0)
            m->fl = ALL;
        else if (cnt > (unsigned)bits) {
            /* SDM SHLD/SHRD: a count above the operand size leaves result and flags undefined. */
            m->fl = 0;
            if (g.mem)
                m->skip_mem = 1;
            else
                m->regmask[g.rm_reg] &= ~size_mask(f->size);
        } else {
            m->fl = F_CF | F_SF | F_ZF | F_PF | (cnt == 1 ? F_OF : 0);
        }
        break;
    }
    case SP_DIV:
    case SP_IDIV: {
        /* Mostly dividends whose quotient fits, some that overflow (#DE) or divide by zero. */
        uint32_t d = rm_value(&g, f->size);
        int hi_reg = f->size == 1 ? 0 : 2; /* AH lives in EAX */
        int clash = (g.used & (1u << hi_reg)) || (f->size > 1 && g.rm_reg == 2) ||
                    (f->size == 1 && !g.mem && (g.rm_reg == 0 || g.rm_reg == 4));
        if (d == 0 && below(r, 4) && !g.mem && !clash && g.rm_reg != 0)
            k->regs[g.rm_reg] |= 1;
        d = rm_value(&g, f->size);
        if (!clash && below(r, 5) && d) {
            uint32_t hi;
            if (f->sp == SP_DIV) {
                hi = below(r, d);
            } else {
                uint32_t lo = f->size == 1 ? k->regs[0] & 0xFF : k->regs[0] & size_mask(f->size);
                hi = (lo & sign_bit(f->size)) ? size_mask(f->size) : 0; /* sign extension */
                if (below(r, 3) == 0)
                    hi = (uint32_t)(int32_t)((int32_t)below(r, 2 * (d & 0x7F) + 1) - (int32_t)(d & 0x7F));
            }
            if (f->size == 1)
                k->regs[0] = (k->regs[0] & ~0xFF00u) | ((hi & 0xFF) << 8);
            else
                k->regs[2] = (k->regs[2] & ~size_mask(f->size)) | (hi & size_mask(f->size));
        }
        break;
    }
    case SP_BTREG: {
        /* Bit offsets reach past the operand, both directions, but stay on the page. */
        if (g.mem && (g.used & (1u << g.reg))) {
            /* The offset register is also an address register: regenerate as a register form. */
            gen_case(f, r, k, m);
            return;
        }
        if (g.mem) {
            int32_t off = (int32_t)below(r, 0x5000) - 0x2800;
            k->regs[g.reg] = (k->regs[g.reg] & ~size_mask(f->size)) | ((uint32_t)off & size_mask(f->size));
            if (f->size == 2)
                k->regs[g.reg] = (k->regs[g.reg] & 0xFFFF0000u) | (uint16_t)(int16_t)(off / 2);
        }
        break;
    }
    case SP_BSF:
        if (rm_value(&g, f->size) == 0)
            m->regmask[g.reg] &= ~size_mask(f->size); /* destination undefined for a zero source */
        break;
    case SP_CMPXCHG:
        if (below(r, 2) && !(g.used & 1)) {
            uint32_t v = rm_value(&g, f->size);
            if (!(f->size == 1 && g.rm_reg == 4))
                k->regs[0] = (k->regs[0] & ~size_mask(f->size)) | v;
        }
        break;
    case SP_CX8:
        if (below(r, 2) && !(g.used & 5)) {
            for (int i = k->npatch - 1; i >= 0; i--)
                if (k->patch[i].off == g.ea) {
                    memcpy(&k->regs[0], k->patch[i].bytes, 4);
                    break;
                }
            for (int i = k->npatch - 1; i >= 0; i--)
                if (k->patch[i].off == g.ea + 4) {
                    memcpy(&k->regs[2], k->patch[i].bytes, 4);
                    break;
                }
        }
        break;
    case SP_STR: {
        int size = f->size, rep = f->npfx && (f->pfx[f->npfx - 1] == 0xF3 || f->pfx[f->npfx - 1] == 0xF2);
        int df = (k->eflags & F_DF) != 0;
        uint32_t si = 0x400 + below(r, 0x100), di = 0xA00 + below(r, 0x100);
        k->regs[6] = OC_DATA + si;
        k->regs[7] = OC_DATA + di;
        if (rep)
            k->regs[1] = below(r, 5) ? below(r, 10) : (k->regs[1] & 0xFFFF0000u) == 0 ? 0 : below(r, 3);
        if (f->op[0] == 0xA6 || f->op[0] == 0xA7 || f->op[0] == 0xAE || f->op[0] == 0xAF) {
            /* Equal runs so REPE goes on, then one differing byte somewhere. */
            uint32_t span = 48;
            uint32_t s0 = df ? si + (uint32_t)size - span : si, d0 = df ? di + (uint32_t)size - span : di;
            if (below(r, 3)) {
                k->copy_len = (uint16_t)span;
                k->copy_src = (uint16_t)s0;
                k->copy_dst = (uint16_t)d0;
            }
            if (f->op[0] >= 0xAE) {
                /* SCAS: fill the run with the accumulator's value, then break it once. */
                uint32_t v = k->regs[0];
                for (int i = 0; i < 3; i++)
                    patch32(k, df ? di - 8u * (uint32_t)i - 4 : di + 8u * (uint32_t)i, v, 4);
                if (below(r, 2))
                    patch32(k, df ? di - below(r, 24) : di + below(r, 24), rnd(r), 1);
            } else if (below(r, 2)) {
                patch32(k, d0 + below(r, span), rnd(r), 1);
            }
        }
        break;
    }
    case SP_JREL:
        g.imm = pad_rel(r, k->len);
        memcpy(g.imm_at, &g.imm, f->imm);
        break;
    case SP_LOOP: {
        static const uint32_t cx[] = { 0, 1, 2, 0x10000, 0x10001, 0xFFFF0000u, 0xFFFFFFFFu, 0x12345 };
        k->regs[1] = below(r, 3) ? cx[below(r, 8)] : biased(r, 4);
        g.imm = pad_rel(r, k->len);
        *g.imm_at = (uint8_t)g.imm;
        break;
    }
    case SP_RET: {
        uint32_t pads[3] = { OC_PAD_FWD, OC_PAD_BACK, OC_INSN + k->len };
        patch32(k, k->regs[4] - OC_DATA, pads[below(r, 3)], 4);
        break;
    }
    case SP_IND: {
        uint32_t pads[3] = { OC_PAD_FWD, OC_PAD_BACK, OC_INSN + k->len };
        uint32_t t = pads[below(r, 3)];
        if (g.mem)
            patch32(k, g.ea, t, 4);
        else
            k->regs[g.rm_reg] = t;
        break;
    }
    case SP_ENTER: {
        /* Nesting levels mostly small: each level copies a frame pointer from below EBP. */
        uint8_t lvl = (uint8_t)(below(r, 4) ? below(r, 4) : below(r, 40));
        k->code[k->len - 1] = lvl;
        /* The frame size stays small: the host probes the final ESP with a write (SDM ENTER:
         * #PF "if a write using the final value of the stack pointer would cause a page fault"),
         * which only paging can make fail, and the guest here runs without paging. */
        uint16_t size = (uint16_t)below(r, below(r, 4) ? 0x40 : 0x500);
        memcpy(k->code + k->len - 3, &size, 2);
        k->regs[5] = OC_DATA + 0x900 + below(r, 0x300);
        if (below(r, 4))
            k->regs[5] &= ~3u;
        break;
    }
    case SP_LEAVE:
        k->regs[5] = OC_DATA + 0x600 + below(r, 0x400);
        if (below(r, 4))
            k->regs[5] &= ~3u;
        break;
    case SP_POPF: {
        /* At CPL 3 with IOPL 0, IF and IOPL must not change; TF is left out (it would trap). */
        uint32_t v = rnd(r) & (F_ARITH | F_DF | F_IF | F_IOPL | F_NT | F_AC | F_ID | 0x8028u);
        patch32(k, k->regs[4] - OC_DATA, v, 4);
        break;
    }
    case SP_XLAT:
        k->regs[3] = OC_DATA + 0x300 + below(r, 0x800);
        break;
    case SP_MOFFS: {
        uint32_t a = OC_DATA + 0x100 + below(r, 0xE00);
        memcpy(g.imm_at, &a, 4);
        patch32(k, a - OC_DATA, biased(r, f->size), f->size);
        break;
    }
    case SP_AAM: {
        uint8_t v = below(r, 2) ? 10 : below(r, 8) == 0 ? 0 : (uint8_t)rnd(r);
        if (f->op[0] == 0xD5 && v == 0)
            v = 10;
        *g.imm_at = v;
        break;
    }
    case SP_BOUND: {
        int bs = f->size / 2; /* the memory operand is a pair of bounds */
        if (!(g.used & (1u << g.reg)) && below(r, 2)) {
            uint32_t v = k->regs[g.reg] & size_mask(bs);
            uint32_t lo = v - below(r, 3), hi = v + below(r, 3) - 1;
            k->npatch = 0;
            patch32(k, g.ea, lo, bs);
            patch32(k, g.ea + (uint32_t)bs, hi, bs);
        } else if (!g.mem) {
            break;
        } else {
            patch32(k, g.ea + (uint32_t)bs, biased(r, bs), bs);
        }
        break;
    }
    default:
        break;
    }
}

/* ---------------------------------------------------------------------------------------------
 * The interpreter side */

struct guest {
    struct machine *m;
    struct cpu *c;
    uint16_t sel[6];
};

static void put_desc(struct guest *g, uint32_t index, uint32_t lo, uint32_t hi)
{
    phys_write(&g->m->mem, G_GDT + index * 8, 4, lo);
    phys_write(&g->m->mem, G_GDT + index * 8 + 4, 4, hi);
}

/* A GDT whose user selectors are the helper process's own (so MOV r/m,Sreg reads the same), a TSS
 * with a ring-0 stack and an IDT of interrupt gates: where a fault at CPL 3 would be delivered. */
static void guest_tables(struct guest *g)
{
    const uint32_t code0 = 0x00CF9A00u, data0 = 0x00CF9200u, dpl3 = 3u << 13;
    put_desc(g, 1, 0xFFFF, code0);
    put_desc(g, 2, 0xFFFF, data0);
    for (int s = 0; s < 6; s++) {
        uint32_t idx = g->sel[s] >> 3;
        if (idx > 2 && idx < 16 && idx != 6)
            put_desc(g, idx, 0xFFFF, (s == S_CS ? code0 : data0) | dpl3);
    }
    put_desc(g, 6, (G_TSS << 16) | 0x67, ((G_TSS >> 16) & 0xFF) | 0x8B00u | (G_TSS & 0xFF000000u));
    phys_write(&g->m->mem, G_TSS + 4, 4, G_STACK0);
    phys_write(&g->m->mem, G_TSS + 8, 4, 0x10);
    phys_write(&g->m->mem, G_TSS + 0x66, 2, 0x68); /* no I/O bitmap: every port is #GP at CPL 3 */
    for (uint32_t v = 0; v < 256; v++) {
        uint32_t off = G_HANDLERS + v * 16;
        phys_write(&g->m->mem, G_IDT + v * 8, 4, (0x08u << 16) | (off & 0xFFFF));
        phys_write(&g->m->mem, G_IDT + v * 8 + 4, 4, (off & 0xFFFF0000u) | 0x8E00u);
        phys_write(&g->m->mem, off, 1, 0xF4);
    }
}

/* The flat CPL-3 protected-mode state of the helper process, set directly in the caches. */
static void guest_reset(struct guest *g, const struct oc_case *k)
{
    struct cpu *c = g->c;
    for (int s = 0; s < S_NSEG; s++) {
        uint16_t sel = g->sel[s];
        int code = s == S_CS;
        c->seg[s] = (struct segreg){ sel, 0, 0xFFFFFFFFu,
                                     (uint16_t)(AR_P | AR_S | AR_DB | AR_G | 0x60 | (code ? 0xB : 0x3)) };
        if ((sel & 0xFFFC) == 0)
            c->seg[s] = (struct segreg){ sel, 0, 0, 0 }; /* a null selector: unusable */
    }
    c->cpl = 3;
    c->cr[0] = CR0_PE | CR0_ET | CR0_NE;
    c->cr[2] = c->cr[3] = c->cr[4] = 0;
    c->gdtr = (struct dtr){ G_GDT, 16 * 8 - 1 };
    c->idtr = (struct dtr){ G_IDT, 256 * 8 - 1 };
    c->tr = (struct segreg){ 0x30, G_TSS, 0x67, AR_P | 0xB };
    c->ldtr = (struct segreg){ 0, 0, 0, 0 };
    memcpy(c->r, k->regs, sizeof(c->r));
    c->eflags = k->eflags | F_FIXED1 | F_IF;
    c->eip = OC_INSN;
    c->halted = c->shadow = c->exc_depth = 0;
    c->stop = 0;
    c->intr = c->nmi = 0;
    c->unimpl = NULL;
}

/* Runs one case in the interpreter; fills res like the helper does. Returns the unimplemented
 * feature's name, or NULL. */
static const char *guest_run(struct guest *g, const struct oc_case *k, uint8_t *before, struct oc_result *res,
                             struct oc_diff *diff)
{
    oc_build_page(k, before);
    phys_write_buf(&g->m->mem, OC_DATA, before, OC_PAGE);
    phys_write_buf(&g->m->mem, OC_INSN, k->code, 16);
    guest_reset(g, k);
    int ret = cpu_step(g->c);
    struct cpu *c = g->c;
    memset(res, 0, sizeof(*res));
    memcpy(res->regs, c->r, sizeof(res->regs));
    res->eflags = cpu_get_eflags(c);
    res->eip = c->eip;
    res->vector = -1;
    const char *unimpl = NULL;
    if (c->last_fault >= 0) {
        res->vector = c->last_fault;
        res->err = c->fault_err;
    } else if (ret == CPU_EXIT_UNIMPL) {
        unimpl = c->unimpl ? c->unimpl : "?";
    } else if (ret == CPU_EXIT_SHUTDOWN) {
        res->vector = 0x100;
    }
    uint8_t after[OC_PAGE];
    phys_read_buf(&g->m->mem, OC_DATA, after, OC_PAGE);
    res->ndiff = oc_page_diff(before, after, diff);
    return unimpl;
}

/* ---------------------------------------------------------------------------------------------
 * The native helper */

struct native {
    pid_t pid;
    FILE *to, *from;
    struct oc_hello hello;
};

static int newer(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) || stat(b, &sb))
        return 0;
    return sa.st_mtim.tv_sec > sb.st_mtim.tv_sec ||
           (sa.st_mtim.tv_sec == sb.st_mtim.tv_sec && sa.st_mtim.tv_nsec > sb.st_mtim.tv_nsec);
}

/* Builds <dir of this program>/oracle_native from the source when missing or stale. */
static int build_native(const char *argv0, char *out, size_t outlen)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", argv0);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof(dir), ".");
    snprintf(out, outlen, "%s/oracle_native", dir);
    if (access(NATIVE_SRC, R_OK)) {
        fprintf(stderr, "oracle: %s not found (run from the source tree)\n", NATIVE_SRC);
        return access(out, X_OK) ? -1 : 0;
    }
    if (!access(out, X_OK) && !newer(NATIVE_SRC, out) && !newer("tests/oracle/oracle_proto.h", out))
        return 0;
    const char *cc = getenv("CC");
    if (!cc || !*cc)
        cc = "gcc";
    char cmd[PATH_MAX * 2 + 256];
    snprintf(cmd, sizeof(cmd), "%s -m32 -O1 -std=gnu11 -o '%s' %s 2>/dev/null", cc, out,
             NATIVE_SRC);
    return system(cmd) == 0 ? 0 : -1;
}

static int native_start(struct native *n, const char *path)
{
    int in[2], outp[2];
    if (pipe(in) || pipe(outp))
        return -1;
    n->pid = fork();
    if (n->pid < 0)
        return -1;
    if (n->pid == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[0]);
        close(in[1]);
        close(outp[0]);
        close(outp[1]);
        execl(path, path, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(outp[1]);
    n->to = fdopen(in[1], "w");
    n->from = fdopen(outp[0], "r");
    if (!n->to || !n->from)
        return -1;
    setvbuf(n->to, NULL, _IOFBF, 1 << 16);
    setvbuf(n->from, NULL, _IOFBF, 1 << 16);
    if (fread(&n->hello, sizeof(n->hello), 1, n->from) != 1 || n->hello.magic != OC_MAGIC)
        return -1;
    return n->hello.ok ? 0 : -1;
}

static void native_stop(struct native *n)
{
    if (n->to)
        fclose(n->to);
    if (n->from)
        fclose(n->from);
    if (n->pid > 0)
        waitpid(n->pid, NULL, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Comparison and reporting */

static const char *const regname[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

static void flagstr(uint32_t f, char *s)
{
    static const struct { uint32_t bit; char c; } fb[] = {
        { F_OF, 'O' }, { F_DF, 'D' }, { F_SF, 'S' }, { F_ZF, 'Z' }, { F_AF, 'A' }, { F_PF, 'P' }, { F_CF, 'C' },
    };
    for (size_t i = 0; i < sizeof(fb) / sizeof(fb[0]); i++)
        *s++ = (f & fb[i].bit) ? fb[i].c : '-';
    *s = 0;
}

struct cmp_out {
    char text[2048];
    size_t len;
};

static void say(struct cmp_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->text + o->len, sizeof(o->text) - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < sizeof(o->text) ? o->len + (size_t)n : sizeof(o->text) - 1;
}

/* Returns 0 when the interpreter agrees with the host on everything the SDM defines. */
static int compare(const struct meta *m, const struct oc_result *nr, const struct oc_diff *nd,
                   const struct oc_result *ir, const struct oc_diff *id, struct cmp_out *o)
{
    int bad = 0;
    int fault = nr->vector >= 0;
    if (nr->vector != ir->vector) {
        say(o, "  vector: native %d, interp %d\n", nr->vector, ir->vector);
        return 1;
    }
    if (fault && (nr->vector == EXC_GP || nr->vector == EXC_TS || nr->vector == EXC_NP || nr->vector == EXC_SS) &&
        nr->err != ir->err) {
        say(o, "  error code: native %#x, interp %#x\n", nr->err, ir->err);
        bad = 1;
    }
    for (int i = 0; i < 8; i++) {
        uint32_t mask = m->regmask[i];
        if (fault && i == R_ESP)
            continue; /* delivery may switch stacks in the guest */
        if ((nr->regs[i] ^ ir->regs[i]) & mask) {
            say(o, "  %s: native %08x, interp %08x\n", regname[i], nr->regs[i], ir->regs[i]);
            bad = 1;
        }
    }
    uint32_t fmask = fault ? F_ARITH | F_DF : (m->fl | SYSMASK);
    if ((nr->eflags ^ ir->eflags) & fmask) {
        char a[8], b[8], d[8];
        flagstr(nr->eflags, a);
        flagstr(ir->eflags, b);
        flagstr(fmask, d);
        say(o, "  eflags: native %08x %s, interp %08x %s (compared %s)\n", nr->eflags, a, ir->eflags, b, d);
        bad = 1;
    }
    if (!fault && nr->eip != ir->eip) {
        say(o, "  eip: native %08x, interp %08x\n", nr->eip, ir->eip);
        bad = 1;
    }
    if (!m->skip_mem) {
        uint32_t n = nr->ndiff < ir->ndiff ? nr->ndiff : ir->ndiff;
        n = n > OC_MAX_DIFF ? OC_MAX_DIFF : n;
        int mbad = nr->ndiff != ir->ndiff;
        for (uint32_t i = 0; i < n && !mbad; i++)
            mbad = nd[i].off != id[i].off || nd[i].val != id[i].val;
        if (mbad) {
            say(o, "  memory: native changed %u bytes, interp %u\n", nr->ndiff, ir->ndiff);
            for (uint32_t i = 0; i < 12 && (i < nr->ndiff || i < ir->ndiff) && i < OC_MAX_DIFF; i++) {
                say(o, "    ");
                if (i < nr->ndiff)
                    say(o, "native [%08x]=%02x  ", OC_DATA + nd[i].off, nd[i].val);
                if (i < ir->ndiff)
                    say(o, "interp [%08x]=%02x", OC_DATA + id[i].off, id[i].val);
                say(o, "\n");
            }
            bad = 1;
        }
    }
    return bad;
}

static void describe_case(const struct oc_case *k, int idx, struct cmp_out *o)
{
    char fl[8];
    flagstr(k->eflags, fl);
    say(o, "  case %d bytes:", idx);
    for (int i = 0; i < k->len; i++)
        say(o, " %02x", k->code[i]);
    say(o, "\n  in:");
    for (int i = 0; i < 8; i++)
        say(o, " %s=%08x", regname[i], k->regs[i]);
    say(o, " fl=%s page_seed=%08x", fl, k->page_seed);
    for (int i = 0; i < k->npatch; i++) {
        say(o, " [%08x]=", OC_DATA + k->patch[i].off);
        for (int j = k->patch[i].len - 1; j >= 0; j--)
            say(o, "%02x", k->patch[i].bytes[j]);
    }
    if (k->copy_len)
        say(o, " copy %u bytes %03x->%03x", k->copy_len, k->copy_src, k->copy_dst);
    say(o, "\n");
}

/* ---------------------------------------------------------------------------------------------
 * Driver */

struct opts {
    uint64_t seed;
    int cases;
    const char *filter;
    int verbose;
    int max_show;
};

static uint64_t name_hash(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 0x100000001B3ull;
    return h;
}

struct tally {
    int forms_pass, forms_fail;
    long cases, case_fail, unimpl;
};

static int run_form(const struct form *f, const struct opts *op, struct native *nat, struct guest *g,
                    struct tally *t)
{
    struct rng r = { op->seed ^ name_hash(f->name) };
    int fails = 0, shown = 0, total = 0;
    long vec[33] = { 0 }; /* native outcomes: [0..31] exception vectors, [32] none */
    const char *unimpl = NULL;
    struct oc_case batch[BATCH];
    struct meta meta[BATCH];
    int cases = op->cases;
    if (f->sp == SP_FAULT)
        cases = cases / 10 > 20 ? cases / 10 : 20; /* one outcome, few inputs matter */
    uint8_t before[OC_PAGE];
    struct oc_diff nd[OC_MAX_DIFF], id[OC_MAX_DIFF];
    for (int done = 0; done < cases;) {
        uint32_t n = (uint32_t)(cases - done < BATCH ? cases - done : BATCH);
        for (uint32_t i = 0; i < n; i++)
            gen_case(f, &r, &batch[i], &meta[i]);
        if (fwrite(&n, 4, 1, nat->to) != 1 || fwrite(batch, sizeof(batch[0]), n, nat->to) != n ||
            fflush(nat->to)) {
            fprintf(stderr, "oracle: native helper died\n");
            return -1;
        }
        for (uint32_t i = 0; i < n; i++) {
            struct oc_result nr, ir;
            if (fread(&nr, sizeof(nr), 1, nat->from) != 1) {
                fprintf(stderr, "oracle: native helper died\n");
                return -1;
            }
            uint32_t nn = nr.ndiff > OC_MAX_DIFF ? OC_MAX_DIFF : nr.ndiff;
            if (fread(nd, sizeof(nd[0]), nn, nat->from) != nn) {
                fprintf(stderr, "oracle: native helper died\n");
                return -1;
            }
            vec[nr.vector >= 0 && nr.vector < 32 ? nr.vector : 32]++;
            const char *u = guest_run(g, &batch[i], before, &ir, id);
            total++;
            if (u) {
                unimpl = u;
                fails++;
                t->unimpl++;
                continue;
            }
            struct cmp_out o = { .len = 0 };
            if (compare(&meta[i], &nr, nd, &ir, id, &o)) {
                fails++;
                if (shown < op->max_show) {
                    struct cmp_out d = { .len = 0 };
                    describe_case(&batch[i], done + (int)i, &d);
                    printf("MISMATCH %s\n%s%s", f->name, d.text, o.text);
                    shown++;
                }
            }
        }
        done += (int)n;
    }
    t->cases += total;
    t->case_fail += fails;
    if (unimpl)
        printf("FAIL %-28s %5d cases, %d unimplemented (%s)\n", f->name, total, fails, unimpl);
    else if (fails)
        printf("FAIL %-28s %5d cases, %d mismatches\n", f->name, total, fails);
    else if (op->verbose) {
        char vs[128] = "";
        size_t vl = 0;
        for (int v = 0; v < 32; v++)
            if (vec[v] && vl < sizeof(vs) - 24)
                vl += (size_t)snprintf(vs + vl, sizeof(vs) - vl, " #%d:%ld", v, vec[v]);
        printf("ok   %-28s %5d cases%s%s\n", f->name, total, vl ? ", host faults" : "", vs);
    }
    if (fails)
        t->forms_fail++;
    else
        t->forms_pass++;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: oracle_run [--seed N] [--cases N] [--filter TEXT] [--show N] [-q]\n"
                    "  Compares jitpc's interpreter with the host CPU on random 32-bit user-mode\n"
                    "  integer instructions. Run from the source tree (it builds %s with -m32).\n"
                    "  --cases N: random cases per form (exception-only forms get N/10)\n"
                    "  --show N: mismatches printed per form; -q: print failing forms only\n",
            NATIVE_SRC);
}

int main(int argc, char **argv)
{
    struct opts op = { .seed = 0x6A6974706331ull, .cases = 2000, .filter = NULL, .verbose = 1, .max_show = 3 };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            op.seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--cases") && i + 1 < argc)
            op.cases = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
            op.filter = argv[++i];
        else if (!strcmp(argv[i], "--show") && i + 1 < argc)
            op.max_show = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-q"))
            op.verbose = 0; /* only failing forms and the totals */
        else {
            usage();
            return 2;
        }
    }
    if (op.cases < 1)
        op.cases = 1;
    signal(SIGPIPE, SIG_IGN);

    char native_path[PATH_MAX + 32];
    if (build_native(argv[0], native_path, sizeof(native_path))) {
        printf("oracle: skipped: no 32-bit compiler (install gcc-multilib)\n0 passed, 0 failed\n");
        return 0;
    }
    struct native nat = { 0 };
    if (native_start(&nat, native_path)) {
        native_stop(&nat);
        printf("oracle: skipped: the 32-bit helper could not run or map its fixed pages (a host kernel "
               "without IA32 emulation cannot run 32-bit programs at all)\n0 passed, 0 failed\n");
        return 0;
    }

    struct guest g;
    struct machine_config cfg = { .mem_size = 16u << 20, .cpu = CPU_PENTIUM2 };
    char err[256];
    g.m = machine_create(&cfg, err, sizeof(err));
    if (!g.m) {
        fprintf(stderr, "oracle: %s\n", err);
        return 1;
    }
    g.c = &g.m->cpu;
    memcpy(g.sel, nat.hello.sel, sizeof(g.sel));
    guest_tables(&g);

    struct formlist L = { 0 };
    build_forms(&L);
    printf("oracle: seed %#llx, %d cases per form (%d for exception forms), host selectors cs=%04x ds=%04x\n",
           (unsigned long long)op.seed, op.cases, op.cases / 10 > 20 ? op.cases / 10 : 20, g.sel[S_CS],
           g.sel[S_DS]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct tally t = { 0 };
    for (size_t i = 0; i < L.n; i++) {
        if (op.filter && !strstr(L.v[i].name, op.filter))
            continue;
        if (run_form(&L.v[i], &op, &nat, &g, &t))
            return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("oracle: %ld cases in %.1f s: %ld mismatched, %ld hit unimplemented features\n", t.cases, secs,
           t.case_fail - t.unimpl, t.unimpl);
    printf("oracle: counting instruction forms below (a form passes when all its cases agree)\n");
    printf("%d passed, %d failed\n", t.forms_pass, t.forms_fail);
    native_stop(&nat);
    machine_destroy(g.m);
    free(L.v);
    return t.forms_fail ? 1 : 0;
}

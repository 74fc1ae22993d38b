/* Random programs of the instructions the JIT translates inline (ALU register and immediate
 * forms of every size, INC/DEC, TEST, MOV, LEA, loads and stores, Jcc over the next
 * instruction, PUSH/POP/CALL/RET, MOVZX/MOVSX, SETcc, CMOVcc, IMUL, the shifts and rotates by
 * immediates, by 1 and by CL with counts 0, 1, 31 and past the width, NOT/NEG, XCHG, LEAVE,
 * PUSH r/m, PAUSE, BT/BTS/BTR/BTC with an immediate or a register (bit strings in memory), MUL
 * and DIV r32, JMP/CALL r, CLD/STD, BSWAP, SAHF, BSF/BSR, SHLD/SHRD, PUSHF, PUSH sreg, MOV r/m,
 * sreg, CBW/CWD, CLI/STI, CMPXCHG, CMPXCHG8B and XADD with memory; register and memory forms,
 * LOCK where legal) mixed with a few it leaves to handlers (CMC/STC/CLC, RCL/RCR, CMPXCHG r, r),
 * run by the interpreter and by the JIT from the same random registers and flags: the results
 * must be identical, in real mode and in flat 32-bit mode; then once more under --verify.
 * Issue 5. Last, runs of PUSH/POP around a page boundary with paging that maps the page below
 * it elsewhere: each access must find its own page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "harness.h"
#include "../../jit/jit_internal.h"

#define PROGRAMS 1000
#define INSNS 40
#define STACK_LOW 0x90000 /* where the stack runs' paging puts linear page 0x7F000 */

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static unsigned pick(uint64_t *s, unsigned n)
{
    return (unsigned)(next(s) % n);
}

/* A register that may be written: not ESP (the stack) nor ESI (the memory base). */
static unsigned dst_reg(uint64_t *s, int byte)
{
    static const unsigned safe[6] = { 0, 1, 2, 3, 5, 7 };
    return byte ? pick(s, 8) : safe[pick(s, 6)];
}

static size_t imm(uint8_t *p, uint64_t *s, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)next(s);
    return (size_t)n;
}

/* One instruction at p; returns its length. opsize is the default operand size in bytes. */
static size_t gen(uint8_t *p, uint64_t *s, int mode32, int depth, uint32_t at)
{
    size_t n = 0;
    int v = mode32 ? 4 : 2;
    if (pick(s, 4) == 0) {
        p[n++] = 0x66; /* the other operand size */
        v = 6 - v;
    }
    int byte = pick(s, 3) == 0;
    uint8_t rm_mem = (uint8_t)(0x40 | (mode32 ? 6 : 4)); /* [esi + d8] ([si + d8]), reg field 0 */
    uint8_t d8 = (uint8_t)(pick(s, 60) * 4);
    switch (pick(s, depth ? 11 : 33)) {
    case 0: case 1: { /* ALU r/m, r in both directions */
        unsigned k = pick(s, 8), dir = pick(s, 2), d = dst_reg(s, byte), o = pick(s, 8);
        p[n++] = (uint8_t)(k * 8 + (byte ? 0 : 1) + dir * 2);
        p[n++] = (uint8_t)(0xC0 | (dir ? d << 3 | o : o << 3 | d));
        break;
    }
    case 2: { /* ALU r/m, imm: 80, 81, 83 */
        unsigned k = pick(s, 8), d = dst_reg(s, byte), form = byte ? 0 : 1 + pick(s, 2);
        p[n++] = (uint8_t)(0x80 + (form == 2 ? 3 : form));
        p[n++] = (uint8_t)(0xC0 | k << 3 | d);
        n += imm(p + n, s, form == 1 ? v : 1);
        break;
    }
    case 3: { /* ALU AL/eAX, imm */
        unsigned k = pick(s, 8);
        p[n++] = (uint8_t)(k * 8 + (byte ? 4 : 5));
        n += imm(p + n, s, byte ? 1 : v);
        break;
    }
    case 4: /* INC/DEC */
        if (byte) {
            p[n++] = 0xFE;
            p[n++] = (uint8_t)(0xC0 | pick(s, 2) << 3 | dst_reg(s, 1));
        } else {
            p[n++] = (uint8_t)(0x40 + pick(s, 2) * 8 + dst_reg(s, 0));
        }
        break;
    case 5: /* TEST */
        if (pick(s, 2)) {
            p[n++] = byte ? 0x84 : 0x85;
            p[n++] = (uint8_t)(0xC0 | pick(s, 8) << 3 | pick(s, 8));
        } else {
            p[n++] = byte ? 0xF6 : 0xF7;
            p[n++] = (uint8_t)(0xC0 | pick(s, 8));
            n += imm(p + n, s, byte ? 1 : v);
        }
        break;
    case 6: /* MOV r, r / r, imm */
        if (pick(s, 2)) {
            unsigned dir = pick(s, 2), d = dst_reg(s, byte), o = pick(s, 8);
            p[n++] = (uint8_t)(0x88 + (byte ? 0 : 1) + dir * 2);
            p[n++] = (uint8_t)(0xC0 | (dir ? d << 3 | o : o << 3 | d));
        } else {
            p[n++] = (uint8_t)((byte ? 0xB0 : 0xB8) + dst_reg(s, byte));
            n += imm(p + n, s, byte ? 1 : v);
        }
        break;
    case 7: /* LEA r, [ebx + ecx*4 + d8] or [bx + di + d8] */
        p[n++] = 0x8D;
        if (mode32) {
            p[n++] = (uint8_t)(0x44 | dst_reg(s, 0) << 3);
            p[n++] = 0x8B; /* SIB: scale 4, index ECX, base EBX */
        } else {
            p[n++] = (uint8_t)(0x41 | dst_reg(s, 0) << 3);
        }
        n += imm(p + n, s, 1);
        break;
    case 8: { /* MOV r, [esi + d8] / MOV [esi + d8], r (SI in 16-bit addressing) */
        unsigned load = pick(s, 2), r = load ? dst_reg(s, byte) : pick(s, 8);
        p[n++] = (uint8_t)(0x88 + (byte ? 0 : 1) + load * 2);
        p[n++] = (uint8_t)(0x40 | r << 3 | (mode32 ? 6 : 4));
        p[n++] = (uint8_t)(pick(s, 64) * 4);
        break;
    }
    case 9: /* flags through handlers: PUSHF / POP EDX, CMC/STC/CLC, SETcc; RDTSC (reads tsc) */
        n = 0;
        switch (pick(s, 4)) {
        case 3: p[n++] = 0x0F; p[n++] = 0x31; break;
        case 0: p[n++] = 0x9C; p[n++] = 0x5A; break;
        case 1: { static const uint8_t op[3] = { 0xF5, 0xF8, 0xF9 }; p[n++] = op[pick(s, 3)]; break; } /* CMC CLC STC */
        default: /* SETcc r8 or m8 */
            p[n++] = 0x0F;
            p[n++] = (uint8_t)(0x90 + pick(s, 16));
            if (pick(s, 3) == 0) {
                p[n++] = (uint8_t)(rm_mem | pick(s, 8) << 3); /* (the reg field is ignored) */
                p[n++] = d8;
            } else {
                p[n++] = (uint8_t)(0xC0 | dst_reg(s, 1));
            }
            break;
        }
        break;
    case 15: /* MOVZX/MOVSX from a register or [esi + d8]; CMOVcc r, r */
        if (pick(s, 3) == 0) {
            p[n++] = 0x0F;
            p[n++] = (uint8_t)(0x40 + pick(s, 16));
            p[n++] = (uint8_t)(0xC0 | dst_reg(s, 0) << 3 | pick(s, 8));
        } else {
            p[n++] = 0x0F;
            p[n++] = (uint8_t)(0xB6 + pick(s, 2) + pick(s, 2) * 8);
            if (pick(s, 2)) {
                p[n++] = (uint8_t)(0xC0 | dst_reg(s, 0) << 3 | pick(s, 8));
            } else {
                p[n++] = (uint8_t)(0x40 | dst_reg(s, 0) << 3 | (mode32 ? 6 : 4));
                p[n++] = (uint8_t)(pick(s, 60) * 4);
            }
        }
        break;
    case 10: /* NOP */
        n = 0;
        p[n++] = 0x90;
        break;
    case 11: { /* ALU, TEST, INC/DEC, MOV imm with a memory operand [esi + d8] ([si + d8]) */
        unsigned k = pick(s, 8), form = pick(s, 6), rm = mode32 ? 6 : 4;
        uint8_t d8 = (uint8_t)(pick(s, 60) * 4);
        /* LOCK now and then where it is legal: a read-modify-write of memory */
        if (((form == 0 || form == 2) && k != 7) || form == 4)
            if (pick(s, 3) == 0)
                p[n++] = 0xF0;
        switch (form) {
        case 0: case 1: /* ALU r/m, r and r, r/m */
            p[n++] = (uint8_t)(k * 8 + (byte ? 0 : 1) + form * 2);
            p[n++] = (uint8_t)(0x40 | (form ? dst_reg(s, byte) : pick(s, 8)) << 3 | rm);
            p[n++] = d8;
            break;
        case 2: /* ALU r/m, imm */
            p[n++] = byte ? 0x80 : 0x83;
            p[n++] = (uint8_t)(0x40 | k << 3 | rm);
            p[n++] = d8;
            n += imm(p + n, s, 1);
            break;
        case 3: /* TEST r/m, r */
            p[n++] = byte ? 0x84 : 0x85;
            p[n++] = (uint8_t)(0x40 | pick(s, 8) << 3 | rm);
            p[n++] = d8;
            break;
        case 4: /* INC/DEC r/m */
            p[n++] = byte ? 0xFE : 0xFF;
            p[n++] = (uint8_t)(0x40 | pick(s, 2) << 3 | rm);
            p[n++] = d8;
            break;
        default: /* MOV r/m, imm */
            p[n++] = byte ? 0xC6 : 0xC7;
            p[n++] = (uint8_t)(0x40 | rm);
            p[n++] = d8;
            n += imm(p + n, s, byte ? 1 : v);
            break;
        }
        break;
    }
    case 12: /* PUSH r / PUSH imm / POP r */
        switch (pick(s, 3)) {
        case 0: p[n++] = (uint8_t)(0x50 + pick(s, 8)); break;
        case 1: p[n++] = 0x6A; n += imm(p + n, s, 1); break;
        default: p[n++] = (uint8_t)(0x58 + dst_reg(s, 0)); break;
        }
        break;
    case 13: /* CALL to the next instruction, which pops the return address */
        n = 0;
        v = mode32 ? 4 : 2;
        p[n++] = 0xE8;
        for (int i = 0; i < v; i++)
            p[n++] = 0;
        p[n++] = (uint8_t)(0x58 + dst_reg(s, 0));
        break;
    case 14: { /* PUSH the address after a RET, RET (or "rep ret") to it */
        n = 0;
        v = mode32 ? 4 : 2;
        unsigned rep = pick(s, 3) == 0;
        uint32_t target = at + (uint32_t)n + (v == 4 ? 5 : 3) + 1 + rep + 0x1000;
        p[n++] = 0x68;
        for (int i = 0; i < v; i++)
            p[n++] = (uint8_t)(target >> (8 * i));
        if (rep)
            p[n++] = 0xF3;
        p[n++] = 0xC3;
        break;
    }
    case 17: case 18: { /* shifts and rotates (RCL/RCR too: handlers) by imm8, by 1, by CL */
        static const uint8_t counts[] = { 0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 255 };
        unsigned ext = pick(s, 8), form = pick(s, 3), mem = pick(s, 3) == 0;
        uint8_t count = pick(s, 2) ? counts[pick(s, sizeof(counts))] : (uint8_t)next(s);
        if (form == 2 && pick(s, 2)) {
            size_t m = n;
            n = 0; /* mov cl, count first; the prefix goes to the shift */
            p[n++] = 0xB1;
            p[n++] = count;
            if (m) {
                p[n++] = 0x66;
            }
        }
        p[n++] = (uint8_t)((form == 0 ? 0xC0 : form == 1 ? 0xD0 : 0xD2) + (byte ? 0 : 1));
        if (mem) {
            p[n++] = (uint8_t)(rm_mem | ext << 3);
            p[n++] = d8;
        } else {
            p[n++] = (uint8_t)(0xC0 | ext << 3 | dst_reg(s, byte));
        }
        if (form == 0)
            p[n++] = count;
        break;
    }
    case 19: { /* IMUL r, r/m and r, r/m, imm8/imm16/32, small operands first now and then */
        unsigned d = dst_reg(s, 0), src = pick(s, 8), mem = pick(s, 3) == 0, form = pick(s, 3);
        if (pick(s, 3) == 0) {
            size_t m = n;
            n = 0;
            p[n++] = (uint8_t)(0xB8 + d); /* mov d, small (in the default operand size) */
            p[n++] = (uint8_t)pick(s, 200);
            for (int i = 1; i < (mode32 ? 4 : 2); i++)
                p[n++] = pick(s, 4) ? 0 : 0xFF;
            if (m)
                p[n++] = 0x66;
        }
        if (form == 0) {
            p[n++] = 0x0F;
            p[n++] = 0xAF;
        } else {
            p[n++] = form == 1 ? 0x6B : 0x69;
        }
        if (mem) {
            p[n++] = (uint8_t)(rm_mem | d << 3);
            p[n++] = d8;
        } else {
            p[n++] = (uint8_t)(0xC0 | d << 3 | src);
        }
        if (form == 1)
            n += imm(p + n, s, 1);
        else if (form == 2)
            n += imm(p + n, s, v);
        break;
    }
    case 20: /* NOT / NEG, register or memory */
        p[n++] = byte ? 0xF6 : 0xF7;
        if (pick(s, 3) == 0) {
            p[n++] = (uint8_t)(rm_mem | (2 + pick(s, 2)) << 3);
            p[n++] = d8;
        } else {
            p[n++] = (uint8_t)(0xC0 | (2 + pick(s, 2)) << 3 | dst_reg(s, byte));
        }
        break;
    case 21: /* XCHG r, r / r, m / eAX, r; PAUSE */
        switch (pick(s, 4)) {
        case 0: p[n++] = byte ? 0x86 : 0x87; p[n++] = (uint8_t)(0xC0 | dst_reg(s, byte) << 3 | dst_reg(s, byte)); break;
        case 1: p[n++] = byte ? 0x86 : 0x87; p[n++] = (uint8_t)(rm_mem | dst_reg(s, byte) << 3); p[n++] = d8; break;
        case 2: p[n++] = (uint8_t)(0x90 + dst_reg(s, 0)); break;
        default: n = 0; p[n++] = 0xF3; p[n++] = 0x90; break;
        }
        break;
    case 22: /* CMOVcc r, m (the source read whatever the condition) */
        p[n++] = 0x0F;
        p[n++] = (uint8_t)(0x40 + pick(s, 16));
        p[n++] = (uint8_t)(rm_mem | dst_reg(s, 0) << 3);
        p[n++] = d8;
        break;
    case 23: /* PUSH r/m (then POP it back), LEAVE after mov ebp, esp */
        if (pick(s, 2)) {
            p[n++] = 0xFF;
            if (pick(s, 2)) {
                p[n++] = (uint8_t)(rm_mem | 6 << 3);
                p[n++] = d8;
            } else {
                p[n++] = (uint8_t)(0xF0 | pick(s, 8));
            }
            if (p[0] == 0x66)
                p[n++] = 0x66;
            p[n++] = (uint8_t)(0x58 + dst_reg(s, 0));
        } else {
            n = 0;
            p[n++] = 0x89; /* mov (e)bp, (e)sp */
            p[n++] = 0xE5;
            if (pick(s, 2))
                p[n++] = 0x66;
            p[n++] = 0xC9;
        }
        break;
    case 24: /* BT BTS BTR BTC r/m, imm8 (any immediate: taken modulo the width), LOCK BTS BTR BTC m */
        if (pick(s, 3) == 0) {
            unsigned ext = 4 + pick(s, 4);
            if (ext != 4 && pick(s, 2))
                p[n++] = 0xF0;
            p[n++] = 0x0F;
            p[n++] = 0xBA;
            p[n++] = (uint8_t)(rm_mem | ext << 3);
            p[n++] = d8;
        } else {
            p[n++] = 0x0F;
            p[n++] = 0xBA;
            p[n++] = (uint8_t)(0xC0 | (4 + pick(s, 4)) << 3 | dst_reg(s, 0));
        }
        n += imm(p + n, s, 1);
        break;
    case 29: { /* CMPXCHG or XADD [esi + d8], r, LOCK now and then, the accumulator loaded from
                * the operand first now and then (a CMPXCHG that succeeds); CMPXCHG r, r (a handler) */
        n = 0;
        unsigned o16 = pick(s, 4) == 0, rm = mode32 ? 6 : 4, xadd = pick(s, 3) == 0;
        if (!xadd && pick(s, 2)) {
            if (o16)
                p[n++] = 0x66;
            p[n++] = byte ? 0x8A : 0x8B; /* mov al/eAX, [esi + d8] */
            p[n++] = (uint8_t)(0x40 | rm);
            p[n++] = d8;
        }
        unsigned mem = pick(s, 6) != 0;
        if (mem && pick(s, 2))
            p[n++] = 0xF0;
        if (o16)
            p[n++] = 0x66;
        p[n++] = 0x0F;
        p[n++] = (uint8_t)((xadd ? 0xC0 : 0xB0) + !byte);
        /* XADD writes its register; CMPXCHG only reads it */
        unsigned r = xadd ? dst_reg(s, byte) : pick(s, 8);
        if (mem) {
            p[n++] = (uint8_t)(0x40 | r << 3 | rm);
            p[n++] = d8;
        } else {
            p[n++] = (uint8_t)(0xC0 | r << 3 | dst_reg(s, byte));
        }
        break;
    }
    case 31: { /* BT BTS BTR BTC r/m32, r32: in memory with a bit offset from -64 to 2047 put in
                * the register first (a bit string around [esi + d8]) */
        n = 0;
        unsigned ext = pick(s, 4), r = dst_reg(s, 0), mem = pick(s, 2);
        if (mem) {
            if (!mode32)
                p[n++] = 0x66;
            p[n++] = (uint8_t)(0xB8 + r);
            uint32_t off = (uint32_t)pick(s, 2112) - 64;
            for (int i = 0; i < 4; i++)
                p[n++] = (uint8_t)(off >> (8 * i));
        }
        if (pick(s, 3) == 0 && mem && ext)
            p[n++] = 0xF0;
        if (!mode32)
            p[n++] = 0x66;
        p[n++] = 0x0F;
        p[n++] = (uint8_t)(0xA3 + ext * 8);
        if (mem) {
            p[n++] = (uint8_t)(rm_mem | r << 3);
            p[n++] = d8;
        } else {
            p[n++] = (uint8_t)(0xC0 | pick(s, 8) << 3 | (ext ? dst_reg(s, 0) : pick(s, 8)));
        }
        break;
    }
    case 32: /* CMPXCHG8B [esi + d8], EDX:EAX loaded from it first now and then; PUSH sreg, POP r;
              * MOV r/m, sreg; CBW/CWDE, CWD/CDQ */
        n = 0;
        if (pick(s, 4) == 0) {
            if (pick(s, 3) == 0)
                p[n++] = 0x66;
            if (pick(s, 2)) {
                p[n++] = (uint8_t)(0x98 + pick(s, 2));
            } else {
                p[n++] = 0x8C;
                if (pick(s, 2)) {
                    p[n++] = (uint8_t)(rm_mem | pick(s, 6) << 3);
                    p[n++] = d8;
                } else {
                    p[n++] = (uint8_t)(0xC0 | pick(s, 6) << 3 | dst_reg(s, 0));
                }
            }
            break;
        }
        if (pick(s, 3) == 0) {
            static const uint8_t push[6][2] = { { 0x06 }, { 0x0E }, { 0x16 }, { 0x1E }, { 0x0F, 0xA0 }, { 0x0F, 0xA8 } };
            unsigned k = pick(s, 6), o16 = pick(s, 3) == 0;
            if (o16)
                p[n++] = 0x66;
            p[n++] = push[k][0];
            if (push[k][0] == 0x0F)
                p[n++] = push[k][1];
            if (o16)
                p[n++] = 0x66;
            p[n++] = (uint8_t)(0x58 + dst_reg(s, 0));
            break;
        }
        if (pick(s, 2)) { /* mov eax, [esi + d8] / mov edx, [esi + d8 + 4] */
            for (int q = 0; q < 2; q++) {
                if (!mode32)
                    p[n++] = 0x66;
                p[n++] = 0x8B;
                p[n++] = (uint8_t)(rm_mem | (q ? 2 : 0) << 3);
                p[n++] = (uint8_t)(d8 + 4 * q);
            }
        }
        if (pick(s, 2))
            p[n++] = 0xF0;
        p[n++] = 0x0F;
        p[n++] = 0xC7;
        p[n++] = (uint8_t)(rm_mem | 1 << 3);
        p[n++] = d8;
        break;
    case 30: /* CLI; STI, whose shadow covers the instruction after it */
        n = 0;
        p[n++] = pick(s, 2) ? 0xFA : 0xFB;
        break;
    case 25: { /* MUL r/m32; DIV r32 by a nonzero register with EDX cleared (no #DE) */
        n = 0;
        uint8_t o32 = mode32 ? 0 : 0x66;
        if (pick(s, 2)) {
            if (o32)
                p[n++] = o32;
            p[n++] = 0xF7;
            if (pick(s, 3) == 0) {
                p[n++] = (uint8_t)(rm_mem | 4 << 3);
                p[n++] = d8;
            } else {
                p[n++] = (uint8_t)(0xE0 | pick(s, 8));
            }
        } else {
            static const unsigned divisors[3] = { 1, 3, 7 }; /* ECX EBX EDI */
            unsigned d = divisors[pick(s, 3)];
            if (o32)
                p[n++] = o32;
            p[n++] = 0x31; /* xor edx, edx */
            p[n++] = 0xD2;
            if (o32)
                p[n++] = o32;
            p[n++] = (uint8_t)(0xB8 + d); /* mov d, nonzero imm32 (small now and then) */
            uint32_t x = pick(s, 2) ? (uint32_t)next(s) | 1 : 1 + pick(s, 9);
            for (int i = 0; i < 4; i++)
                p[n++] = (uint8_t)(x >> (8 * i));
            if (o32)
                p[n++] = o32;
            p[n++] = 0xF7;
            p[n++] = (uint8_t)(0xF0 | d);
        }
        break;
    }
    case 26: { /* mov r, next; JMP r (FF /4), or CALL r (FF /2) then POP the return address */
        n = 0;
        unsigned r = dst_reg(s, 0), call = pick(s, 2);
        uint32_t target = 0x1000 + at + (uint32_t)v + 1 + 2;
        p[n++] = (uint8_t)(0xB8 + r);
        for (int i = 0; i < v; i++)
            p[n++] = (uint8_t)(target >> (8 * i));
        p[n++] = 0xFF;
        p[n++] = (uint8_t)(0xC0 | (call ? 2 : 4) << 3 | r);
        if (call)
            p[n++] = (uint8_t)(0x58 + dst_reg(s, 0));
        break;
    }
    case 27: /* CLD, STD, BSWAP r32, SAHF, BSF/BSR r32 (zero sources too), SHLD/SHRD r/m32 */
        switch (pick(s, 8)) {
        case 6: case 7: {
            static const uint8_t counts[] = { 0, 1, 2, 7, 8, 16, 31, 32, 33, 63 };
            uint8_t count = counts[pick(s, sizeof(counts))];
            unsigned var = pick(s, 2);
            n = 0;
            if (var) {
                p[n++] = 0xB1; /* mov cl, count */
                p[n++] = count;
            }
            if (!mode32)
                p[n++] = 0x66;
            p[n++] = 0x0F;
            p[n++] = (uint8_t)((pick(s, 2) ? 0xA4 : 0xAC) + var);
            if (pick(s, 3) == 0) {
                p[n++] = (uint8_t)(rm_mem | pick(s, 8) << 3);
                p[n++] = d8;
            } else {
                p[n++] = (uint8_t)(0xC0 | pick(s, 8) << 3 | dst_reg(s, 0));
            }
            if (!var)
                p[n++] = count;
            break;
        }
        case 4: case 5:
            n = 0;
            if (!mode32)
                p[n++] = 0x66;
            if (pick(s, 3) == 0)
                p[n++] = 0xF3; /* "rep bsf" (TZCNT to later CPUs): BSF to a P6 */
            p[n++] = 0x0F;
            p[n++] = (uint8_t)(0xBC + pick(s, 2));
            if (pick(s, 3) == 0) {
                p[n++] = (uint8_t)(rm_mem | dst_reg(s, 0) << 3);
                p[n++] = d8;
            } else {
                p[n++] = (uint8_t)(0xC0 | dst_reg(s, 0) << 3 | (pick(s, 4) ? pick(s, 8) : dst_reg(s, 0)));
            }
            break;
        case 0: n = 0; p[n++] = 0xFC; break;
        case 1: n = 0; p[n++] = 0xFD; break;
        case 2: p[n++] = 0x0F; p[n++] = (uint8_t)(0xC8 + dst_reg(s, 0)); break;
        default: n = 0; p[n++] = 0x9E; break;
        }
        break;
    default: { /* Jcc over the next instruction */
        n = 0;
        p[n++] = (uint8_t)(0x70 + pick(s, 16));
        size_t m = gen(p + n + 1, s, mode32, 1, at + 2);
        p[n++] = (uint8_t)m;
        n += m;
        break;
    }
    }
    return n;
}

/* For the stack runs: mostly PUSH r, PUSH imm8/imm, POP r of either operand size (runs of
 * them each probe the TLB in the JIT), PUSH ESP then POP ESP, and now and then any other. */
static size_t gen_stack(uint8_t *p, uint64_t *s, int mode32, uint32_t at)
{
    size_t n = 0;
    int v = mode32 ? 4 : 2;
    if (pick(s, 5) == 0)
        return gen(p, s, mode32, 0, at);
    if (pick(s, 4) == 0) {
        p[n++] = 0x66;
        v = 6 - v;
    }
    switch (pick(s, 9)) {
    case 0: case 1: p[n++] = (uint8_t)(0x50 + pick(s, 8)); break;
    case 2: p[n++] = 0x6A; n += imm(p + n, s, 1); break;
    case 3: p[n++] = 0x68; n += imm(p + n, s, v); break;
    case 4:
        p[n++] = 0x54;
        if (p[0] == 0x66)
            p[n++] = 0x66;
        p[n++] = 0x5C;
        break;
    default: p[n++] = (uint8_t)(0x58 + dst_reg(s, 0)); break;
    }
    return n;
}

static void set_random_state(struct cpu *c, uint64_t seed, int mode32)
{
    for (int i = 0; i < 8; i++)
        c->r[i] = (uint32_t)(seed * (uint64_t)(i + 3) * 0x9E3779B97F4A7C15ull >> 32);
    c->r[R_ESP] = mode32 ? 0x80000 : 0x8000;
    c->r[R_ESI] = mode32 ? 0x200000 : 0x2000;
    c->eflags = F_FIXED1 | ((uint32_t)seed & F_ARITH);
    c->eip = 0x1000;
    c->halted = 0;
    c->last_fault = -1;
}

/* ds_limit != 0: DS gets that limit, so that some accesses through [esi + d8] fault (#GP(0))
 * and the program ends at the harness's HLT handler: the fault must be precise under the JIT. */
static void run_random(int mode32, int verify, uint32_t ds_limit, int stack)
{
    struct harness *a = h_new(mode32), *b = h_new(mode32);
    struct jit *j = jit_create(b->c, 0);
    assert_non_null(j);
    uint64_t s = 0x2545F4914F6CDD1Dull ^ (uint64_t)(mode32 * 77 + verify) ^ ds_limit ^ (uint64_t)stack << 40;
    uint32_t stack_top = mode32 ? 0x80000 : 0x8000;
    static uint8_t prog[INSNS * 16 + 1];
    int faulted = 0;
    if (stack && mode32) {
        /* Paging, identity but for the page below the stack top, mapped to STACK_LOW: a run
         * that crosses into it with the page above's host address writes the wrong bytes. */
        for (int q = 0; q < 2; q++) {
            struct harness *h = q ? b : a;
            uint32_t pde = 0x11000 | 7; /* PD at 0x10000, PT at 0x11000: the first 4 MiB */
            h_poke(h, 0x10000, &pde, 4);
            for (uint32_t l = 0; l < 0x400000; l += 0x1000) {
                uint32_t pte = (l == 0x7F000 ? STACK_LOW : l) | 7;
                h_poke(h, 0x11000 + (l >> 12) * 4, &pte, 4);
            }
            h->c->cr[3] = 0x10000;
            h->c->cr[0] |= CR0_PG;
        }
    }
    for (int k = 0; k < PROGRAMS; k++) {
        size_t len = 0;
        for (int i = 0; i < INSNS; i++)
            len += stack ? gen_stack(prog + len, &s, mode32, (uint32_t)len)
                         : gen(prog + len, &s, mode32, 0, (uint32_t)len);
        prog[len++] = 0xF4; /* hlt */
        uint8_t data[256];
        for (int i = 0; i < 256; i++)
            data[i] = (uint8_t)next(&s);
        uint64_t seed = next(&s);
        struct harness *hs[2] = { a, b };
        for (int q = 0; q < 2; q++) {
            h_code(hs[q], 0x1000, prog, len);
            h_poke(hs[q], mode32 ? 0x200000 : 0x2000, data, sizeof(data));
            set_random_state(hs[q]->c, seed, mode32);
            if (ds_limit)
                hs[q]->c->seg[S_DS].limit = ds_limit;
            if (stack) /* around a page boundary, aligned or not: some runs cross it */
                hs[q]->c->r[R_ESP] = stack_top - 12 + (uint32_t)(seed % 25);
        }
        int ra = cpu_run(a->c, 1000);
        int rb = verify ? jit_verify_run(j, b->c, 1000, stderr) : jit_run(j, b->c, 1000);
        if (ra != rb || a->c->icount != b->c->icount || a->c->eip != b->c->eip || a->c->eflags != b->c->eflags) {
            fprintf(stderr, "program %d (seed %llx, eflags %08x):", k, (unsigned long long)seed, F_FIXED1 | ((uint32_t)seed & F_ARITH));
            for (size_t i = 0; i < len; i++)
                fprintf(stderr, " %02x", prog[i]);
            fprintf(stderr, "\ninterpreter: %d eip %08x icount %llu fault %d; JIT: %d eip %08x icount %llu fault %d cs %04x\n", ra,
                    a->c->eip, (unsigned long long)a->c->icount, a->c->last_fault, rb, b->c->eip,
                    (unsigned long long)b->c->icount, b->c->last_fault, b->c->seg[S_CS].sel);
        }
        assert_int_equal(ra, rb);
        faulted += a->c->eip == H_HANDLER + 1;
        for (int i = 0; i < 8; i++)
            if (a->c->r[i] != b->c->r[i])
                fail_msg("program %d: r%d interpreter %08x, JIT %08x", k, i, a->c->r[i], b->c->r[i]);
        if (a->c->eflags != b->c->eflags)
            fail_msg("program %d: eflags interpreter %08x, JIT %08x", k, a->c->eflags, b->c->eflags);
        assert_int_equal(a->c->shadow, b->c->shadow);
        assert_int_equal(a->c->eip, b->c->eip);
        assert_int_equal(a->c->icount, b->c->icount);
        uint8_t ma[256], mb[256];
        phys_read_buf(&a->m->mem, mode32 ? 0x200000 : 0x2000, ma, sizeof(ma));
        phys_read_buf(&b->m->mem, mode32 ? 0x200000 : 0x2000, mb, sizeof(mb));
        assert_memory_equal(ma, mb, sizeof(ma));
        if (stack) {
            static const uint32_t at[3] = { STACK_LOW + 0xF00, 0x7FF00, 0x80000 };
            for (int q = 0; q < 3; q++) {
                uint32_t pa = mode32 ? at[q] : stack_top - 0x100 + 0x80 * (uint32_t)q;
                phys_read_buf(&a->m->mem, pa, ma, sizeof(ma));
                phys_read_buf(&b->m->mem, pa, mb, sizeof(mb));
                assert_memory_equal(ma, mb, sizeof(ma));
            }
        }
    }
    assert_true(j->stats.inline_insns > 0);
    if (ds_limit)
        assert_true(faulted > PROGRAMS / 4);
    jit_destroy(j);
    h_free(a);
    h_free(b);
}

static void test_jit_random_inline_programs_real_mode(void **state)
{
    (void)state;
    run_random(0, 0, 0, 0);
}

static void test_jit_random_inline_programs_flat32(void **state)
{
    (void)state;
    run_random(1, 0, 0, 0);
}

static void test_jit_random_programs_fault_precisely_in_memory_forms(void **state)
{
    (void)state;
    run_random(1, 0, 0x200000 + 0x3F, 0); /* d8 is signed: 40-7F fault */
}

static void test_jit_random_programs_pass_verify_mode(void **state)
{
    (void)state;
    run_random(1, 1, 0, 0);
    run_random(0, 1, 0, 0);
}

/* Runs of PUSH/POP near a page boundary whose neighbour maps elsewhere: across the boundary,
 * after a slow path and after POP ESP each must still match the interpreter (a JIT that reused
 * one page's translation for the next would write the wrong bytes). */
static void test_jit_random_stack_runs_across_page_boundaries(void **state)
{
    (void)state;
    run_random(1, 0, 0, 1);
    run_random(0, 0, 0, 1);
    run_random(1, 1, 0, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jit_random_inline_programs_real_mode),
        cmocka_unit_test(test_jit_random_inline_programs_flat32),
        cmocka_unit_test(test_jit_random_programs_fault_precisely_in_memory_forms),
        cmocka_unit_test(test_jit_random_programs_pass_verify_mode),
        cmocka_unit_test(test_jit_random_stack_runs_across_page_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

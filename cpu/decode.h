/* The instruction decoder and the opcode table: one table is the single source of truth for
 * decoding, interpreter dispatch, the tracer and (later) the JIT's translation flags.
 * Encoding rules per Intel SDM Vol. 2A ch. 2 (prefixes, ModRM, SIB, displacement, immediates). */
#ifndef JITPC_CPU_DECODE_H
#define JITPC_CPU_DECODE_H

#include <stddef.h>
#include <stdint.h>

struct cpu;
struct insn;
typedef void (*op_handler)(struct cpu *c, const struct insn *in);

/* Operand-form flags of a table entry: they say what bytes follow the opcode. */
#define OPF_MODRM 0x0001u   /* a ModRM byte (and SIB/displacement) follows */
#define OPF_IMM8 0x0002u    /* 8-bit immediate */
#define OPF_IMMV 0x0004u    /* 16- or 32-bit immediate by operand size */
#define OPF_IMM16 0x0008u   /* 16-bit immediate (RET n, ENTER's first) */
#define OPF_REL8 0x0010u    /* 8-bit relative displacement (in imm) */
#define OPF_RELV 0x0020u    /* 16/32-bit relative displacement by operand size */
#define OPF_FAR 0x0040u     /* ptr16:16/32: offset in imm, selector in imm2 */
#define OPF_MOFFS 0x0080u   /* memory offset sized by address size (in disp) */
#define OPF_GROUP 0x0100u   /* the ModRM reg field selects an entry of group[] */
#define OPF_LOCK 0x0200u    /* LOCK is legal (with a memory destination) */
#define OPF_MEMONLY 0x0400u /* ModRM must name memory: the register form is #UD */
#define OPF_REGONLY 0x0800u /* ModRM must name a register: the memory form is #UD */
#define OPF_INVALID 0x1000u /* #UD */
#define OPF_BRANCH 0x2000u  /* changes EIP other than by falling through: ends a JIT block */
#define OPF_SYSTEM 0x4000u  /* changes mode, flags or state the JIT keys blocks on: ends a block */
#define OPF_STRING 0x8000u  /* string instruction: honours REP prefixes */
#define OPF_MODREG 0x10000u /* ModRM.mod is ignored: the operand is always a register (MOV CRn/DRn) */

/* ISA level that introduced an instruction. */
enum isa { ISA_8086, ISA_186, ISA_286, ISA_386, ISA_486, ISA_P5, ISA_P6 };

struct opdesc {
    const char *mnem;          /* lower-case mnemonic, for the tracer and statistics */
    op_handler exec;
    uint32_t fl;
    uint8_t isa;
    const struct opdesc *group; /* with OPF_GROUP: 8 entries by ModRM.reg */
};

/* Rep prefixes as they appear. */
enum { REP_NONE = 0, REP_F3 = 1, REP_F2 = 2 };

/* A decoded instruction. Position-independent: the JIT reuses it. */
struct insn {
    const struct opdesc *d; /* the table entry (after group selection) */
    uint16_t op;            /* 0x00-0xFF one-byte opcodes, 0x100-0x1FF the 0F xx page */
    uint8_t len;            /* bytes, prefixes included */
    uint8_t nprefix;        /* number of prefix bytes */
    uint8_t opsize;         /* operand size in bytes: 2 or 4 */
    uint8_t addr32;         /* 32-bit addressing */
    uint8_t seg;            /* segment override (S_ES..S_GS) or S_NONE */
    uint8_t rep;            /* REP_NONE, REP_F3, REP_F2: the last one seen, as the hardware uses */
    uint8_t lock;           /* LOCK prefix present */
    uint8_t modrm, mod, reg, rm;
    uint8_t mem;            /* ModRM names memory (mod != 3), or a moffs form */
    /* Effective address: base + index * (1 << scale) + disp, each register optional (0xFF). */
    uint8_t base, index, scale;
    uint8_t ea_seg;         /* the segment the address uses: override, else SS for EBP/ESP bases */
    uint32_t disp;
    uint32_t imm;           /* immediate, sign-extended where the form says so; or rel displacement */
    uint32_t imm2;          /* second immediate: far selector, ENTER level */
};

/* Decoder results besides a positive length. */
#define DEC_UD (-1)       /* undefined opcode or illegal LOCK: #UD */
#define DEC_TOOLONG (-2)  /* more than 15 bytes: #GP(0) */
#define DEC_SHORT (-3)    /* the buffer ended first: fetch more (that fetch may fault) */

/* Decodes one instruction from buf[0..avail). def32 is the code segment's D bit. */
int decode(const uint8_t *buf, size_t avail, int def32, struct insn *in);

/* The table, exported for the tracer, statistics and tests. */
extern const struct opdesc opcode_table[512];

#endif

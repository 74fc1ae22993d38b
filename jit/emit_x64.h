/* The x86-64 emitter: instruction encodings the translator needs (REX, ModRM, SIB, immediates,
 * relative branches with patchable rel32), written into a bounded buffer.
 * Encodings per Intel SDM Vol. 2A ch. 2 (REX prefixes, Tables 2-2/2-3) and the opcode pages. */
#ifndef JITPC_JIT_EMIT_X64_H
#define JITPC_JIT_EMIT_X64_H

#include <stddef.h>
#include <stdint.h>

/* Host registers in encoding order. */
enum { H_RAX, H_RCX, H_RDX, H_RBX, H_RSP, H_RBP, H_RSI, H_RDI, H_R8, H_R9, H_R10, H_R11, H_R12, H_R13, H_R14, H_R15 };
#define H_NONE 0xFF

/* Host condition codes (the low nibble of Jcc/SETcc): the same numbering as the guest's. */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G };

struct emit {
    uint8_t *p;     /* next byte */
    uint8_t *end;   /* one past the last usable byte */
    int overflow;   /* set when a write would pass end: the caller flushes the cache and retries */
};

void emit_init(struct emit *e, uint8_t *buf, size_t len);
void emit_byte(struct emit *e, uint8_t b);
void emit_u32(struct emit *e, uint32_t v);
/* An immediate operand of size bytes (1, 2 or 4), little-endian, as the instruction takes it. */
void emit_imm(struct emit *e, int size, uint32_t imm);
void emit_u64(struct emit *e, uint64_t v);

/* "op reg, [base + disp]" (or the reverse, by opcode), operand size 1, 2, 4 or 8: 0x66 for 2,
 * REX.W for 8. opc is one or two bytes (0x0F xx as 0x0Fxx). For size 1 reg must be 0-3 (AL-BL). */
void emit_op_mem(struct emit *e, int size, uint32_t opc, int reg, int base, int32_t disp);
/* The same with [base + index * (1 << scale) + disp]; base H_NONE for none (disp32 then). */
void emit_op_sib(struct emit *e, int size, uint32_t opc, int reg, int base, int index, int scale, int32_t disp);
/* "op rm, reg" between registers (ModRM mod = 3). */
void emit_op_rr(struct emit *e, int size, uint32_t opc, int reg, int rm);

void emit_mov_imm32(struct emit *e, int reg, uint32_t v);  /* mov r32, imm32 (zero-extends) */
void emit_mov_imm64(struct emit *e, int reg, uint64_t v);  /* mov r64, imm64 (or shorter) */
/* Group-1 ALU with an immediate: ext is ModRM.reg (0 add, 1 or, 4 and, 5 sub, 6 xor, 7 cmp). */
void emit_alu_imm_mem(struct emit *e, int size, int ext, int base, int32_t disp, uint32_t imm);
void emit_alu_imm_reg(struct emit *e, int size, int ext, int reg, uint32_t imm);
/* mov [base + disp], imm (size 1, 2, 4; 8 takes a sign-extended imm32). */
void emit_mov_imm_mem(struct emit *e, int size, int base, int32_t disp, uint32_t imm);
void emit_shift_imm(struct emit *e, int size, int ext, int reg, uint8_t n); /* ext 4 shl, 5 shr */
/* Group 2 by CL (D2/D3): ext 0 rol, 1 ror, 4 shl, 5 shr, 7 sar. */
void emit_shift_cl(struct emit *e, int size, int ext, int reg);
void emit_push(struct emit *e, int reg);
void emit_pop(struct emit *e, int reg);
void emit_call_abs(struct emit *e, const void *fn); /* through RAX: helpers live far from the cache */
void emit_jmp_reg(struct emit *e, int reg);
void emit_ret(struct emit *e);
void emit_setcc(struct emit *e, int cc, int reg8);  /* reg8 0-3 */

/* Relative branches: each returns the address of its rel32 field for emit_patch_rel32. */
uint8_t *emit_jmp32(struct emit *e, const void *target);
uint8_t *emit_jcc32(struct emit *e, int cc, const void *target);
uint8_t *emit_call32(struct emit *e, const void *target); /* call rel32: the code cache's own stubs */
/* Points the rel32 at field to target (the branch ends right after the field). */
void emit_patch_rel32(uint8_t *field, const void *target);

#endif

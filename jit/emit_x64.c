/* The x86-64 emitter: REX/ModRM/SIB encoding and the handful of instruction forms the translator
 * uses. Intel SDM Vol. 2A §2.1-2.2 (instruction format, REX), Tables 2-2 and 2-3 (ModRM, SIB). */
#include "emit_x64.h"

#include <string.h>

void emit_init(struct emit *e, uint8_t *buf, size_t len)
{
    e->p = buf;
    e->end = buf + len;
    e->overflow = 0;
}

void emit_byte(struct emit *e, uint8_t b)
{
    if (e->p >= e->end) {
        e->overflow = 1; /* keep writing nowhere: the translation is thrown away */
        return;
    }
    *e->p++ = b;
}

void emit_u32(struct emit *e, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        emit_byte(e, (uint8_t)(v >> (8 * i)));
}

void emit_u64(struct emit *e, uint64_t v)
{
    emit_u32(e, (uint32_t)v);
    emit_u32(e, (uint32_t)(v >> 32));
}

/* Operand-size prefix, REX and opcode bytes. x is the SIB index (or 0). */
static void prefix_rex_opc(struct emit *e, int size, uint32_t opc, int reg, int x, int b)
{
    if (size == 2)
        emit_byte(e, 0x66);
    uint8_t rex = (uint8_t)((size == 8 ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((x & 8) ? 2 : 0) | ((b & 8) ? 1 : 0));
    if (rex)
        emit_byte(e, 0x40 | rex);
    if (opc > 0xFF)
        emit_byte(e, (uint8_t)(opc >> 8));
    emit_byte(e, (uint8_t)opc);
}

/* ModRM (+SIB, displacement) for [base + index << scale + disp]; index H_NONE for none. RSP and
 * R12 as a base need a SIB byte; RBP and R13 with mod 0 would mean RIP/disp32, so they get disp8. */
static void modrm_mem(struct emit *e, int reg, int base, int index, int scale, int32_t disp)
{
    if (base == H_NONE) {
        /* [index << scale + disp32]: SIB with base 101 and mod 00 */
        emit_byte(e, (uint8_t)(((reg & 7) << 3) | 4));
        emit_byte(e, (uint8_t)((scale << 6) | ((index & 7) << 3) | 5));
        emit_u32(e, (uint32_t)disp);
        return;
    }
    int mod = (disp == 0 && (base & 7) != H_RBP) ? 0 : (disp >= -128 && disp <= 127) ? 1 : 2;
    if (index == H_NONE && (base & 7) != H_RSP) {
        emit_byte(e, (uint8_t)((mod << 6) | ((reg & 7) << 3) | (base & 7)));
    } else {
        emit_byte(e, (uint8_t)((mod << 6) | ((reg & 7) << 3) | 4));
        int idx = index == H_NONE ? 4 : (index & 7);
        emit_byte(e, (uint8_t)((scale << 6) | (idx << 3) | (base & 7)));
    }
    if (mod == 1)
        emit_byte(e, (uint8_t)disp);
    else if (mod == 2)
        emit_u32(e, (uint32_t)disp);
}

void emit_op_mem(struct emit *e, int size, uint32_t opc, int reg, int base, int32_t disp)
{
    prefix_rex_opc(e, size, opc, reg, 0, base);
    modrm_mem(e, reg, base, H_NONE, 0, disp);
}

void emit_op_sib(struct emit *e, int size, uint32_t opc, int reg, int base, int index, int scale, int32_t disp)
{
    prefix_rex_opc(e, size, opc, reg, index == H_NONE ? 0 : index, base == H_NONE ? 0 : base);
    modrm_mem(e, reg, base, index, scale, disp);
}

void emit_op_rr(struct emit *e, int size, uint32_t opc, int reg, int rm)
{
    prefix_rex_opc(e, size, opc, reg, 0, rm);
    emit_byte(e, (uint8_t)(0xC0 | ((reg & 7) << 3) | (rm & 7)));
}

void emit_mov_imm32(struct emit *e, int reg, uint32_t v)
{
    if (reg & 8)
        emit_byte(e, 0x41);
    emit_byte(e, (uint8_t)(0xB8 + (reg & 7)));
    emit_u32(e, v);
}

void emit_mov_imm64(struct emit *e, int reg, uint64_t v)
{
    if (v <= 0xFFFFFFFFu) {
        emit_mov_imm32(e, reg, (uint32_t)v);
        return;
    }
    emit_byte(e, (uint8_t)(0x48 | ((reg & 8) ? 1 : 0)));
    emit_byte(e, (uint8_t)(0xB8 + (reg & 7)));
    emit_u64(e, v);
}

void emit_imm(struct emit *e, int size, uint32_t imm)
{
    if (size == 1)
        emit_byte(e, (uint8_t)imm);
    else if (size == 2)
        emit_byte(e, (uint8_t)imm), emit_byte(e, (uint8_t)(imm >> 8));
    else
        emit_u32(e, imm);
}

/* Immediate of an operand of size: imm8 sign-extended when it fits (opcode 83), else full. */
static void alu_imm(struct emit *e, int size, int ext, int base, int is_mem, int32_t disp, uint32_t imm)
{
    int small = size != 1 && (int32_t)imm >= -128 && (int32_t)imm <= 127;
    uint32_t opc = size == 1 ? 0x80 : small ? 0x83 : 0x81;
    prefix_rex_opc(e, size, opc, 0, 0, base);
    if (is_mem)
        modrm_mem(e, ext, base, H_NONE, 0, disp);
    else
        emit_byte(e, (uint8_t)(0xC0 | (ext << 3) | (base & 7)));
    emit_imm(e, small ? 1 : size, imm);
}

void emit_alu_imm_mem(struct emit *e, int size, int ext, int base, int32_t disp, uint32_t imm)
{
    alu_imm(e, size, ext, base, 1, disp, imm);
}

void emit_alu_imm_reg(struct emit *e, int size, int ext, int reg, uint32_t imm)
{
    alu_imm(e, size, ext, reg, 0, 0, imm);
}

void emit_mov_imm_mem(struct emit *e, int size, int base, int32_t disp, uint32_t imm)
{
    emit_op_mem(e, size, size == 1 ? 0xC6 : 0xC7, 0, base, disp);
    emit_imm(e, size, imm);
}

void emit_shift_imm(struct emit *e, int size, int ext, int reg, uint8_t n)
{
    prefix_rex_opc(e, size, size == 1 ? 0xC0 : 0xC1, 0, 0, reg);
    emit_byte(e, (uint8_t)(0xC0 | (ext << 3) | (reg & 7)));
    emit_byte(e, n);
}

void emit_shift_cl(struct emit *e, int size, int ext, int reg)
{
    emit_op_rr(e, size, size == 1 ? 0xD2 : 0xD3, ext, reg);
}

void emit_push(struct emit *e, int reg)
{
    if (reg & 8)
        emit_byte(e, 0x41);
    emit_byte(e, (uint8_t)(0x50 + (reg & 7)));
}

void emit_pop(struct emit *e, int reg)
{
    if (reg & 8)
        emit_byte(e, 0x41);
    emit_byte(e, (uint8_t)(0x58 + (reg & 7)));
}

void emit_call_abs(struct emit *e, const void *fn)
{
    emit_mov_imm64(e, H_RAX, (uint64_t)(uintptr_t)fn);
    emit_byte(e, 0xFF); /* call rax: FF /2 */
    emit_byte(e, 0xD0);
}

void emit_jmp_reg(struct emit *e, int reg)
{
    if (reg & 8)
        emit_byte(e, 0x41);
    emit_byte(e, 0xFF); /* jmp r64: FF /4 */
    emit_byte(e, (uint8_t)(0xE0 | (reg & 7)));
}

void emit_ret(struct emit *e)
{
    emit_byte(e, 0xC3);
}

void emit_setcc(struct emit *e, int cc, int reg8)
{
    emit_byte(e, 0x0F);
    emit_byte(e, (uint8_t)(0x90 | cc));
    emit_byte(e, (uint8_t)(0xC0 | (reg8 & 7)));
}

void emit_patch_rel32(uint8_t *field, const void *target)
{
    int32_t rel = (int32_t)((intptr_t)target - (intptr_t)(field + 4));
    memcpy(field, &rel, 4);
}

/* The rel32 field of a branch whose opcode was just emitted, pointed at target (NULL: left 0,
 * to be patched). */
static uint8_t *rel32(struct emit *e, const void *target)
{
    uint8_t *field = e->p;
    emit_u32(e, 0);
    if (!e->overflow && target)
        emit_patch_rel32(field, target);
    return field;
}

uint8_t *emit_jmp32(struct emit *e, const void *target)
{
    emit_byte(e, 0xE9);
    return rel32(e, target);
}

uint8_t *emit_jcc32(struct emit *e, int cc, const void *target)
{
    emit_byte(e, 0x0F);
    emit_byte(e, (uint8_t)(0x80 | cc));
    return rel32(e, target);
}

uint8_t *emit_call32(struct emit *e, const void *target)
{
    emit_byte(e, 0xE8);
    return rel32(e, target);
}

/* The opcode table: mnemonic, operand form, handler and ISA level for every one- and two-byte
 * opcode of a P6 integer core. Decoder, interpreter, tracer and JIT all read it.
 * Intel SDM Vol. 2D Appendix A (opcode map), Table A-6 for the ModRM-extended groups. */
#include "decode.h"
#include "interp.h"

#define E(m, h, f, i) { m, h, (f), i, NULL }
#define G(m, grp, f, i) { m, NULL, (f) | OPF_MODRM | OPF_GROUP, i, grp }
#define UD { "(bad)", op_ud, OPF_INVALID, ISA_8086, NULL }

#define M OPF_MODRM
#define L OPF_LOCK
#define B OPF_BRANCH
#define S OPF_SYSTEM

/* 80-83: ADD OR ADC SBB AND SUB XOR CMP with an immediate. */
static const struct opdesc grp1_ib[8] = {
    E("add", op_alu_grp1, OPF_IMM8 | L, ISA_8086), E("or", op_alu_grp1, OPF_IMM8 | L, ISA_8086),
    E("adc", op_alu_grp1, OPF_IMM8 | L, ISA_8086), E("sbb", op_alu_grp1, OPF_IMM8 | L, ISA_8086),
    E("and", op_alu_grp1, OPF_IMM8 | L, ISA_8086), E("sub", op_alu_grp1, OPF_IMM8 | L, ISA_8086),
    E("xor", op_alu_grp1, OPF_IMM8 | L, ISA_8086), E("cmp", op_alu_grp1, OPF_IMM8, ISA_8086),
};
static const struct opdesc grp1_iv[8] = {
    E("add", op_alu_grp1, OPF_IMMV | L, ISA_8086), E("or", op_alu_grp1, OPF_IMMV | L, ISA_8086),
    E("adc", op_alu_grp1, OPF_IMMV | L, ISA_8086), E("sbb", op_alu_grp1, OPF_IMMV | L, ISA_8086),
    E("and", op_alu_grp1, OPF_IMMV | L, ISA_8086), E("sub", op_alu_grp1, OPF_IMMV | L, ISA_8086),
    E("xor", op_alu_grp1, OPF_IMMV | L, ISA_8086), E("cmp", op_alu_grp1, OPF_IMMV, ISA_8086),
};
/* 8F: POP Ev; the other reg values are #UD on a P6. */
static const struct opdesc grp1a[8] = { E("pop", op_pop_rm, 0, ISA_8086), UD, UD, UD, UD, UD, UD, UD };
/* C0/C1 (Ib), D0/D1 (1), D2/D3 (CL): ROL ROR RCL RCR SHL SHR SAL(alias of SHL) SAR. */
#define SHIFTS(f, i)                                                                                \
    {                                                                                               \
        E("rol", op_shift_grp2, f, i), E("ror", op_shift_grp2, f, i), E("rcl", op_shift_grp2, f, i), \
        E("rcr", op_shift_grp2, f, i), E("shl", op_shift_grp2, f, i), E("shr", op_shift_grp2, f, i), \
        E("sal", op_shift_grp2, f, i), E("sar", op_shift_grp2, f, i)                                 \
    }
static const struct opdesc grp2_ib[8] = SHIFTS(OPF_IMM8, ISA_186);
static const struct opdesc grp2_1[8] = SHIFTS(0, ISA_8086);
/* F6/F7: TEST (and its /1 alias) NOT NEG MUL IMUL DIV IDIV. */
static const struct opdesc grp3_b[8] = {
    E("test", op_test, OPF_IMM8, ISA_8086), E("test", op_test, OPF_IMM8, ISA_8086),
    E("not", op_not, L, ISA_8086),          E("neg", op_neg, L, ISA_8086),
    E("mul", op_mul, 0, ISA_8086),          E("imul", op_imul1, 0, ISA_8086),
    E("div", op_div, 0, ISA_8086),          E("idiv", op_idiv, 0, ISA_8086),
};
static const struct opdesc grp3_v[8] = {
    E("test", op_test, OPF_IMMV, ISA_8086), E("test", op_test, OPF_IMMV, ISA_8086),
    E("not", op_not, L, ISA_8086),          E("neg", op_neg, L, ISA_8086),
    E("mul", op_mul, 0, ISA_8086),          E("imul", op_imul1, 0, ISA_8086),
    E("div", op_div, 0, ISA_8086),          E("idiv", op_idiv, 0, ISA_8086),
};
/* FE: INC/DEC Eb. */
static const struct opdesc grp4[8] = {
    E("inc", op_inc_dec_rm, L, ISA_8086), E("dec", op_inc_dec_rm, L, ISA_8086), UD, UD, UD, UD, UD, UD,
};
/* FF: INC DEC CALL CALLF JMP JMPF PUSH. */
static const struct opdesc grp5[8] = {
    E("inc", op_inc_dec_rm, L, ISA_8086),
    E("dec", op_inc_dec_rm, L, ISA_8086),
    E("call", op_grp5, B, ISA_8086),
    E("lcall", op_grp5, B | S | OPF_MEMONLY, ISA_8086),
    E("jmp", op_grp5, B, ISA_8086),
    E("ljmp", op_grp5, B | S | OPF_MEMONLY, ISA_8086),
    E("push", op_grp5, 0, ISA_8086),
    UD,
};
/* C6/C7: MOV Ev, imm; the other reg values are #UD. */
static const struct opdesc grp11_b[8] = { E("mov", op_mov_imm_rm, OPF_IMM8, ISA_8086), UD, UD, UD, UD, UD, UD, UD };
static const struct opdesc grp11_v[8] = { E("mov", op_mov_imm_rm, OPF_IMMV, ISA_8086), UD, UD, UD, UD, UD, UD, UD };
/* 0F 00: SLDT STR LLDT LTR VERR VERW. */
static const struct opdesc grp6[8] = {
    E("sldt", op_grp6, 0, ISA_286), E("str", op_grp6, 0, ISA_286),  E("lldt", op_grp6, S, ISA_286),
    E("ltr", op_grp6, S, ISA_286),  E("verr", op_grp6, 0, ISA_286), E("verw", op_grp6, 0, ISA_286),
    UD, UD,
};
/* 0F 01: SGDT SIDT LGDT LIDT SMSW - LMSW INVLPG. */
static const struct opdesc grp7[8] = {
    E("sgdt", op_grp7, OPF_MEMONLY, ISA_286), E("sidt", op_grp7, OPF_MEMONLY, ISA_286),
    E("lgdt", op_grp7, S | OPF_MEMONLY, ISA_286), E("lidt", op_grp7, S | OPF_MEMONLY, ISA_286),
    E("smsw", op_grp7, 0, ISA_286), UD,
    E("lmsw", op_grp7, S, ISA_286), E("invlpg", op_grp7, S | OPF_MEMONLY, ISA_486),
};
/* 0F BA: BT BTS BTR BTC with an immediate bit offset. */
static const struct opdesc grp8[8] = {
    UD, UD, UD, UD,
    E("bt", op_bt_imm, OPF_IMM8, ISA_386), E("bts", op_bt_imm, OPF_IMM8 | L, ISA_386),
    E("btr", op_bt_imm, OPF_IMM8 | L, ISA_386), E("btc", op_bt_imm, OPF_IMM8 | L, ISA_386),
};
/* 0F C7: CMPXCHG8B m64. */
static const struct opdesc grp9[8] = {
    UD, E("cmpxchg8b", op_cmpxchg8b, OPF_MEMONLY | L, ISA_P5), UD, UD, UD, UD, UD, UD,
};

/* 0F 71/72/73: MMX shifts by an immediate, register operand only. The other reg values are
 * SSE2 forms (PSRLDQ/PSLLDQ with 66) or blank: #UD on a P6. */
#define MMX_SHI(m) E(m, op_mmx_shift_imm, OPF_IMM8 | OPF_REGONLY, ISA_P5)
static const struct opdesc grp12[8] = { UD, UD, MMX_SHI("psrlw"), UD, MMX_SHI("psraw"), UD, MMX_SHI("psllw"), UD };
static const struct opdesc grp13[8] = { UD, UD, MMX_SHI("psrld"), UD, MMX_SHI("psrad"), UD, MMX_SHI("pslld"), UD };
static const struct opdesc grp14[8] = { UD, UD, MMX_SHI("psrlq"), UD, UD, UD, MMX_SHI("psllq"), UD };
/* 0F AE: FXSAVE FXRSTOR; the rest (LDMXCSR, STMXCSR, the fences, CLFLUSH, XSAVE...) came later. */
static const struct opdesc grp15[8] = {
    E("fxsave", op_fxsave, OPF_MEMONLY, ISA_P6), E("fxrstor", op_fxrstor, OPF_MEMONLY, ISA_P6), UD, UD, UD, UD, UD, UD,
};

#define ALU(m)                                                                                   \
    E(m, op_alu, M | L, ISA_8086), E(m, op_alu, M | L, ISA_8086), E(m, op_alu, M, ISA_8086),     \
    E(m, op_alu, M, ISA_8086), E(m, op_alu, OPF_IMM8, ISA_8086), E(m, op_alu, OPF_IMMV, ISA_8086)
#define ALU_NOLOCK(m)                                                                            \
    E(m, op_alu, M, ISA_8086), E(m, op_alu, M, ISA_8086), E(m, op_alu, M, ISA_8086),             \
    E(m, op_alu, M, ISA_8086), E(m, op_alu, OPF_IMM8, ISA_8086), E(m, op_alu, OPF_IMMV, ISA_8086)
#define X8(...) __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__, __VA_ARGS__
#define X16(...) X8(__VA_ARGS__), X8(__VA_ARGS__)
#define PREFIX UD /* prefixes never reach the table: the decoder consumes them */
/* MMX (Pentium MMX, so ISA_P5): the blanks among them are SSE/SSE2 opcodes, #UD on a P6. */
#define MMX(m) E(m, op_mmx, M, ISA_P5)

const struct opdesc opcode_table[512] = {
    /* 00 */ ALU("add"), E("push", op_push_sreg, 0, ISA_8086), E("pop", op_pop_sreg, S, ISA_8086),
    /* 08 */ ALU("or"), E("push", op_push_sreg, 0, ISA_8086), UD /* 0F: two-byte escape */,
    /* 10 */ ALU("adc"), E("push", op_push_sreg, 0, ISA_8086), E("pop", op_pop_sreg, S, ISA_8086),
    /* 18 */ ALU("sbb"), E("push", op_push_sreg, 0, ISA_8086), E("pop", op_pop_sreg, S, ISA_8086),
    /* 20 */ ALU("and"), PREFIX, E("daa", op_daa, 0, ISA_8086),
    /* 28 */ ALU("sub"), PREFIX, E("das", op_das, 0, ISA_8086),
    /* 30 */ ALU("xor"), PREFIX, E("aaa", op_aaa, 0, ISA_8086),
    /* 38 */ ALU_NOLOCK("cmp"), PREFIX, E("aas", op_aas, 0, ISA_8086),
    /* 40 */ X8(E("inc", op_inc_dec_r, 0, ISA_8086)),
    /* 48 */ X8(E("dec", op_inc_dec_r, 0, ISA_8086)),
    /* 50 */ X8(E("push", op_push_r, 0, ISA_8086)),
    /* 58 */ X8(E("pop", op_pop_r, 0, ISA_8086)),
    /* 60 */ E("pusha", op_pusha, 0, ISA_186), E("popa", op_popa, 0, ISA_186),
    E("bound", op_bound, M | OPF_MEMONLY, ISA_186), E("arpl", op_arpl, M, ISA_286), PREFIX, PREFIX,
    PREFIX, PREFIX,
    /* 68 */ E("push", op_push_imm, OPF_IMMV, ISA_186), E("imul", op_imul_imm, M | OPF_IMMV, ISA_186),
    E("push", op_push_imm, OPF_IMM8, ISA_186), E("imul", op_imul_imm, M | OPF_IMM8, ISA_186),
    E("insb", op_ins, OPF_STRING, ISA_186), E("ins", op_ins, OPF_STRING, ISA_186),
    E("outsb", op_outs, OPF_STRING, ISA_186), E("outs", op_outs, OPF_STRING, ISA_186),
    /* 70 */ X16(E("j", op_jcc, OPF_REL8 | B, ISA_8086)),
    /* 80 */ G("grp1", grp1_ib, 0, ISA_8086), G("grp1", grp1_iv, 0, ISA_8086),
    G("grp1", grp1_ib, 0, ISA_8086) /* 82: alias of 80 outside 64-bit mode */,
    G("grp1", grp1_ib, 0, ISA_8086) /* 83: sign-extended imm8 */,
    E("test", op_test, M, ISA_8086), E("test", op_test, M, ISA_8086),
    E("xchg", op_xchg, M | L, ISA_8086), E("xchg", op_xchg, M | L, ISA_8086),
    /* 88 */ E("mov", op_mov, M, ISA_8086), E("mov", op_mov, M, ISA_8086), E("mov", op_mov, M, ISA_8086),
    E("mov", op_mov, M, ISA_8086), E("mov", op_mov_sreg, M, ISA_8086),
    E("lea", op_lea, M | OPF_MEMONLY, ISA_8086), E("mov", op_mov_sreg, M | S, ISA_8086),
    G("grp1a", grp1a, 0, ISA_8086),
    /* 90 */ E("nop", op_xchg_ax, 0, ISA_8086), E("xchg", op_xchg_ax, 0, ISA_8086),
    E("xchg", op_xchg_ax, 0, ISA_8086), E("xchg", op_xchg_ax, 0, ISA_8086),
    E("xchg", op_xchg_ax, 0, ISA_8086), E("xchg", op_xchg_ax, 0, ISA_8086),
    E("xchg", op_xchg_ax, 0, ISA_8086), E("xchg", op_xchg_ax, 0, ISA_8086),
    /* 98 */ E("cbw", op_cbw, 0, ISA_8086), E("cwd", op_cwd, 0, ISA_8086),
    E("lcall", op_call_far, OPF_FAR | B | S, ISA_8086), E("wait", op_wait, 0, ISA_8086),
    E("pushf", op_pushf, 0, ISA_8086), E("popf", op_popf, S, ISA_8086), E("sahf", op_sahf, 0, ISA_8086),
    E("lahf", op_lahf, 0, ISA_8086),
    /* A0 */ E("mov", op_mov_moffs, OPF_MOFFS, ISA_8086), E("mov", op_mov_moffs, OPF_MOFFS, ISA_8086),
    E("mov", op_mov_moffs, OPF_MOFFS, ISA_8086), E("mov", op_mov_moffs, OPF_MOFFS, ISA_8086),
    E("movsb", op_movs, OPF_STRING, ISA_8086), E("movs", op_movs, OPF_STRING, ISA_8086),
    E("cmpsb", op_cmps, OPF_STRING, ISA_8086), E("cmps", op_cmps, OPF_STRING, ISA_8086),
    /* A8 */ E("test", op_test, OPF_IMM8, ISA_8086), E("test", op_test, OPF_IMMV, ISA_8086),
    E("stosb", op_stos, OPF_STRING, ISA_8086), E("stos", op_stos, OPF_STRING, ISA_8086),
    E("lodsb", op_lods, OPF_STRING, ISA_8086), E("lods", op_lods, OPF_STRING, ISA_8086),
    E("scasb", op_scas, OPF_STRING, ISA_8086), E("scas", op_scas, OPF_STRING, ISA_8086),
    /* B0 */ X8(E("mov", op_mov_imm_r, OPF_IMM8, ISA_8086)),
    /* B8 */ X8(E("mov", op_mov_imm_r, OPF_IMMV, ISA_8086)),
    /* C0 */ G("grp2", grp2_ib, 0, ISA_186), G("grp2", grp2_ib, 0, ISA_186),
    E("ret", op_ret, OPF_IMM16 | B, ISA_8086), E("ret", op_ret, B, ISA_8086),
    E("les", op_load_far_ptr, M | OPF_MEMONLY, ISA_8086), E("lds", op_load_far_ptr, M | OPF_MEMONLY, ISA_8086),
    G("grp11", grp11_b, 0, ISA_8086), G("grp11", grp11_v, 0, ISA_8086),
    /* C8 */ E("enter", op_enter, OPF_IMM16 | OPF_IMM8, ISA_186), E("leave", op_leave, 0, ISA_186),
    E("lret", op_retf, OPF_IMM16 | B | S, ISA_8086), E("lret", op_retf, B | S, ISA_8086),
    E("int3", op_int3, B | S, ISA_8086), E("int", op_int, OPF_IMM8 | B | S, ISA_8086),
    E("into", op_into, B | S, ISA_8086), E("iret", op_iret, B | S, ISA_8086),
    /* D0 */ G("grp2", grp2_1, 0, ISA_8086), G("grp2", grp2_1, 0, ISA_8086),
    G("grp2", grp2_1, 0, ISA_8086), G("grp2", grp2_1, 0, ISA_8086),
    E("aam", op_aam, OPF_IMM8, ISA_8086), E("aad", op_aad, OPF_IMM8, ISA_8086),
    E("salc", op_salc, 0, ISA_8086) /* undocumented, present on every Intel CPU to the P6 */,
    E("xlat", op_xlat, 0, ISA_8086),
    /* D8 */ X8(E("fpu", op_x87, M, ISA_8086)),
    /* E0 */ E("loopne", op_loop, OPF_REL8 | B, ISA_8086), E("loope", op_loop, OPF_REL8 | B, ISA_8086),
    E("loop", op_loop, OPF_REL8 | B, ISA_8086), E("jcxz", op_jcxz, OPF_REL8 | B, ISA_8086),
    E("in", op_in, OPF_IMM8, ISA_8086), E("in", op_in, OPF_IMM8, ISA_8086),
    E("out", op_out, OPF_IMM8, ISA_8086), E("out", op_out, OPF_IMM8, ISA_8086),
    /* E8 */ E("call", op_call_rel, OPF_RELV | B, ISA_8086), E("jmp", op_jmp_rel, OPF_RELV | B, ISA_8086),
    E("ljmp", op_jmp_far, OPF_FAR | B | S, ISA_8086), E("jmp", op_jmp_rel, OPF_REL8 | B, ISA_8086),
    E("in", op_in, 0, ISA_8086), E("in", op_in, 0, ISA_8086), E("out", op_out, 0, ISA_8086),
    E("out", op_out, 0, ISA_8086),
    /* F0 */ PREFIX, E("int1", op_int1, B | S, ISA_386) /* ICEBP */, PREFIX, PREFIX,
    E("hlt", op_hlt, B | S, ISA_8086), E("cmc", op_flag_op, 0, ISA_8086),
    G("grp3", grp3_b, 0, ISA_8086), G("grp3", grp3_v, 0, ISA_8086),
    /* F8 */ E("clc", op_flag_op, 0, ISA_8086), E("stc", op_flag_op, 0, ISA_8086),
    E("cli", op_flag_op, S, ISA_8086), E("sti", op_flag_op, S, ISA_8086),
    E("cld", op_flag_op, 0, ISA_8086), E("std", op_flag_op, 0, ISA_8086),
    G("grp4", grp4, 0, ISA_8086), G("grp5", grp5, 0, ISA_8086),

    /* ---- 0F xx ---- */
    /* 0F 00 */ G("grp6", grp6, 0, ISA_286), G("grp7", grp7, 0, ISA_286),
    E("lar", op_lar_lsl, M, ISA_286), E("lsl", op_lar_lsl, M, ISA_286), UD,
    UD /* 0F 05: LOADALL on a 286, #UD from the 386 on */, E("clts", op_clts, S, ISA_286), UD,
    /* 0F 08 */ E("invd", op_invd, 0, ISA_486), E("wbinvd", op_invd, 0, ISA_486), UD,
    E("ud2", op_ud, OPF_INVALID, ISA_P6), UD, UD, UD, UD,
    /* 0F 10 */ X8(UD),
    /* 0F 18: hint NOPs (SDM NOP page; reserved-NOP space on the P6), all take a ModRM */
    X8(E("nop", op_nop, M, ISA_P6)),
    /* 0F 20 */ E("mov", op_mov_cr, M | OPF_MODREG | S, ISA_386),
    E("mov", op_mov_dr, M | OPF_MODREG | S, ISA_386),
    E("mov", op_mov_cr, M | OPF_MODREG | S, ISA_386),
    E("mov", op_mov_dr, M | OPF_MODREG | S, ISA_386), UD, UD, UD, UD,
    /* 0F 28 */ X8(UD),
    /* 0F 30 */ E("wrmsr", op_wrmsr, S, ISA_P5), E("rdtsc", op_rdtsc, 0, ISA_P5), E("rdmsr", op_rdmsr, 0, ISA_P5),
    E("rdpmc", op_rdpmc, 0, ISA_P6), E("sysenter", op_sysenter, B | S, ISA_P6),
    E("sysexit", op_sysexit, B | S, ISA_P6), UD, UD,
    /* 0F 38 */ X8(UD),
    /* 0F 40 */ X16(E("cmov", op_cmov, M, ISA_P6)),
    /* 0F 50 */ X16(UD),
    /* 0F 60 */ MMX("punpcklbw"), MMX("punpcklwd"), MMX("punpckldq"), MMX("packsswb"), MMX("pcmpgtb"),
    MMX("pcmpgtw"), MMX("pcmpgtd"), MMX("packuswb"),
    /* 0F 68 */ MMX("punpckhbw"), MMX("punpckhwd"), MMX("punpckhdq"), MMX("packssdw"), UD, UD, MMX("movd"),
    MMX("movq"),
    /* 0F 70 */ UD /* PSHUFW: SSE */, G("grp12", grp12, 0, ISA_P5), G("grp13", grp13, 0, ISA_P5),
    G("grp14", grp14, 0, ISA_P5), MMX("pcmpeqb"), MMX("pcmpeqw"), MMX("pcmpeqd"), E("emms", op_emms, 0, ISA_P5),
    /* 0F 78 */ UD, UD, UD, UD, UD, UD, MMX("movd"), MMX("movq"),
    /* 0F 80 */ X16(E("j", op_jcc, OPF_RELV | B, ISA_386)),
    /* 0F 90 */ X16(E("set", op_setcc, M, ISA_386)),
    /* 0F A0 */ E("push", op_push_sreg, 0, ISA_386), E("pop", op_pop_sreg, 0, ISA_386),
    E("cpuid", op_cpuid, 0, ISA_486), E("bt", op_bt, M, ISA_386),
    E("shld", op_shld, M | OPF_IMM8, ISA_386), E("shld", op_shld, M, ISA_386), UD, UD,
    /* 0F A8 */ E("push", op_push_sreg, 0, ISA_386), E("pop", op_pop_sreg, 0, ISA_386),
    UD /* RSM: #UD outside SMM */, E("bts", op_bt, M | L, ISA_386),
    E("shrd", op_shrd, M | OPF_IMM8, ISA_386), E("shrd", op_shrd, M, ISA_386),
    G("grp15", grp15, 0, ISA_P6), E("imul", op_imul_rm, M, ISA_386),
    /* 0F B0 */ E("cmpxchg", op_cmpxchg, M | L, ISA_486), E("cmpxchg", op_cmpxchg, M | L, ISA_486),
    E("lss", op_load_far_ptr, M | OPF_MEMONLY | S, ISA_386), E("btr", op_bt, M | L, ISA_386),
    E("lfs", op_load_far_ptr, M | OPF_MEMONLY, ISA_386), E("lgs", op_load_far_ptr, M | OPF_MEMONLY, ISA_386),
    E("movzx", op_movzx, M, ISA_386), E("movzx", op_movzx, M, ISA_386),
    /* 0F B8 */ UD, UD /* UD1 */, G("grp8", grp8, 0, ISA_386), E("btc", op_bt, M | L, ISA_386),
    E("bsf", op_bsf, M, ISA_386), E("bsr", op_bsr, M, ISA_386), E("movsx", op_movsx, M, ISA_386),
    E("movsx", op_movsx, M, ISA_386),
    /* 0F C0 */ E("xadd", op_xadd, M | L, ISA_486), E("xadd", op_xadd, M | L, ISA_486), UD, UD, UD, UD, UD,
    G("grp9", grp9, 0, ISA_P5),
    /* 0F C8 */ X8(E("bswap", op_bswap, 0, ISA_486)),
    /* 0F D0 */ UD, MMX("psrlw"), MMX("psrld"), MMX("psrlq"), UD, MMX("pmullw"), UD, UD,
    /* 0F D8 */ MMX("psubusb"), MMX("psubusw"), UD, MMX("pand"), MMX("paddusb"), MMX("paddusw"), UD, MMX("pandn"),
    /* 0F E0 */ UD, MMX("psraw"), MMX("psrad"), UD, UD, MMX("pmulhw"), UD, UD,
    /* 0F E8 */ MMX("psubsb"), MMX("psubsw"), UD, MMX("por"), MMX("paddsb"), MMX("paddsw"), UD, MMX("pxor"),
    /* 0F F0 */ UD, MMX("psllw"), MMX("pslld"), MMX("psllq"), UD, MMX("pmaddwd"), UD, UD,
    /* 0F F8 */ MMX("psubb"), MMX("psubw"), MMX("psubd"), UD, MMX("paddb"), MMX("paddw"), MMX("paddd"), UD,
};

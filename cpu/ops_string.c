/* PLACEHOLDER: replaced by the real implementation. */
#include "interp.h"
void op_movs(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_movs"); }
void op_cmps(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_cmps"); }
void op_stos(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_stos"); }
void op_lods(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_lods"); }
void op_scas(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_scas"); }
void op_ins(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_ins"); }
void op_outs(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_outs"); }

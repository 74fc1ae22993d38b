/* PLACEHOLDER: replaced by the real implementation. */
#include "interp.h"
void op_mul(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_mul"); }
void op_imul1(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_imul1"); }
void op_div(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_div"); }
void op_idiv(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_idiv"); }
void op_imul_rm(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_imul_rm"); }
void op_imul_imm(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_imul_imm"); }

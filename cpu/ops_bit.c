/* PLACEHOLDER: replaced by the real implementation. */
#include "interp.h"
void op_bt(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_bt"); }
void op_bt_imm(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_bt_imm"); }
void op_bsf(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_bsf"); }
void op_bsr(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_bsr"); }

/* PLACEHOLDER: replaced by the real implementation. */
#include "interp.h"
void op_shift_grp2(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_shift_grp2"); }
void op_shld(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_shld"); }
void op_shrd(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_shrd"); }

/* PLACEHOLDER: replaced by the real implementation. */
#include "interp.h"
void op_daa(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_daa"); }
void op_das(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_das"); }
void op_aaa(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_aaa"); }
void op_aas(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_aas"); }
void op_aam(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_aam"); }
void op_aad(struct cpu *c, const struct insn *in) { (void)in; cpu_unimplemented(c, "op_aad"); }

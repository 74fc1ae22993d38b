/* Private interface between the x87 files: the host bridge, status-word bookkeeping and the
 * control instructions (environment, save/restore). Not for use outside cpu/x87*.c.
 * Layouts per Intel SDM Vol. 1 §8.1.10 and Figures 8-9 to 8-12. */
#ifndef JITPC_CPU_X87_IMPL_H
#define JITPC_CPU_X87_IMPL_H

#include "interp.h"

/* The 108-byte image FNSAVE/FRSTOR use in 32-bit protected form: the host's own x87 is loaded
 * from and saved to this, so its fields are what the host reads and writes. */
struct x87_host_img {
    uint32_t cw, sw, tw, fip, fcs_op, fdp, fds;
    uint8_t st[8][10]; /* ST(0)..ST(7), stack order */
} __attribute__((packed));
_Static_assert(sizeof(struct x87_host_img) == 108, "FNSAVE image is 108 bytes");

/* Runs the D8+esc/modrm instruction on the host x87 with its full state from img (and back into
 * img). A memory form must be given with mod 00, rm 110 ([rsi]) and mem pointing at its operand.
 * *flags holds SF ZF AF PF CF in EFLAGS bit positions: in for FCMOVcc, out for FCOMI. */
void x87_host_exec(struct x87_host_img *img, unsigned esc, unsigned modrm, void *mem, uint8_t *flags);

/* The arithmetic forms ADD MUL SUB SUBR DIV DIVR of D8 DA DC DE with a memory operand (given as
 * mod 00 rm 110, mem pointing at it) or with ST(i) (given as rm 1, or rm 0 for ST(0) itself, D8
 * and DC only), run on the host with control word cw, which must mask every exception: st0 and
 * sti are ST(0) and ST(i) in and the results out (a DE form leaves its result in sti). Returns 1
 * with *status the host's status word after the instruction (C1 and the exception flags it
 * raised are what count), or 0 for another form (nothing ran). */
int x87_host_arith(unsigned esc, unsigned modrm, uint16_t cw, uint8_t st0[10], uint8_t sti[10], const void *mem,
                   uint16_t *status);

/* Recomputes ES and B from the flags and masks, and drives FERR# off once nothing is pending. */
void x87_update_es(struct x87 *f);

/* Control instructions (x87_env.c). Each is complete: memory faults come before any change. */
void x87_fnstenv(struct cpu *c, const struct insn *in);
void x87_fldenv(struct cpu *c, const struct insn *in);
void x87_fnsave(struct cpu *c, const struct insn *in);
void x87_frstor(struct cpu *c, const struct insn *in);
void x87_fnclex(struct x87 *f);

#endif

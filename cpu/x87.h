/* The x87 FPU of a P6 core: register stack, control/status/tag words, last-instruction pointers,
 * and the entry points the interpreter calls for D8-DF and WAIT.
 * Intel SDM Vol. 1 ch. 8 (x87 FPU execution environment), Vol. 3A Table 9-1 (state after reset). */
#ifndef JITPC_CPU_X87_H
#define JITPC_CPU_X87_H

#include <stdint.h>

struct cpu;
struct insn;

/* Status word bits (SDM Vol. 1 §8.1.3). */
#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_TOP 0x3800u
#define FSW_C3 0x4000u
#define FSW_B 0x8000u
#define FSW_EXC 0x003Fu /* the six exception flags */

/* Control word (SDM Vol. 1 §8.1.5): masks in bits 0-5, PC in 8-9, RC in 10-11, IC in 12.
 * Bit 6 is reserved and always reads as 1. */
#define FCW_PC 0x0300u
#define FCW_RC 0x0C00u
#define FCW_FNINIT 0x037Fu

/* Tag values (SDM Vol. 1 §8.1.7). */
enum { TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3 };

/* The FPU. Designed so that an all-zero struct is the power-on state of SDM Vol. 3A Table 9-1
 * (FCW 0040H, FSW 0, FTW 5555H: eight +0.0 registers, pointers 0): cpu_reset's memset is then
 * already right, and x87_reset exists to say so explicitly while keeping the IRQ13 hook. */
struct x87 {
    uint8_t reg[8][10];   /* physical registers R0-R7, 80-bit extended, little-endian */
    uint16_t cw;          /* control word as loaded (bit 6 is ORed in on every read) */
    uint16_t sw;          /* status word; TOP lives in bits 11-13; B is kept equal to ES */
    uint8_t empty;        /* bit i set: physical register i is tagged empty (zero = all in use) */
    uint8_t ferr;         /* FERR# is asserted towards the IRQ13 hook (CR0.NE = 0 reporting) */
    uint16_t fop;         /* last non-control opcode: low 3 bits of the first byte, then ModRM */
    uint16_t fcs, fds;    /* selectors of the last instruction and of its memory operand */
    uint32_t fip, fdp;    /* offsets of the same (in real mode the linear form is sel*16+offset) */

    /* Set by the machine: drives the FERR#-to-IRQ13 line when CR0.NE = 0 (DOS-compatible error
     * reporting, SDM Vol. 1 Appendix D). level 1 asserts, 0 deasserts. NULL: #MF is used instead. */
    void (*irq13)(void *opaque, int level);
    void *irq13_opaque;
};

/* Power-on state (all-zero but for the hook, which is kept). */
void x87_reset(struct x87 *f);
/* The state FNINIT leaves: FCW 037FH, FSW 0, all registers empty, pointers and opcode 0. */
void x87_init(struct x87 *f);

/* D8-DF handler for the opcode table. */
void op_x87(struct cpu *c, const struct insn *in);
/* WAIT/FWAIT after its own #NM check: reports a pending unmasked exception (#MF or IRQ13). */
void x87_wait(struct cpu *c);
/* What every waiting instruction (x87 or MMX) does first: with an unmasked exception pending,
 * #MF (CR0.NE = 1) or FERR#/IRQ13 (CR0.NE = 0). Returns 1 when the instruction must be abandoned
 * so that the interrupt is taken before it runs again; 0 to go on. */
int x87_report_pending(struct cpu *c);

/* Accessors for tests, the debugger and the tracer. ST(i) is relative to TOP. */
static inline int x87_top(const struct x87 *f) { return (f->sw >> 11) & 7; }
static inline uint16_t x87_cw(const struct x87 *f) { return (uint16_t)((f->cw & 0x1F3Fu) | 0x0040u); }
uint16_t x87_tag_word(const struct x87 *f);          /* full 2-bit tags computed from contents */
int x87_tag_of(const uint8_t v[10]);                  /* TAG_VALID, TAG_ZERO or TAG_SPECIAL */
void x87_get_st(const struct x87 *f, int i, uint8_t out[10]);
void x87_set_st(struct x87 *f, int i, const uint8_t v[10]); /* also tags it in use */
void x87_push(struct x87 *f, const uint8_t v[10]);   /* TOP-1, store, tag in use (no checks) */

#endif

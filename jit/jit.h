/* The JIT's interface to the machine: create one per CPU, run it in place of cpu_run, flush it
 * when guest memory changes behind its back (reset), print statistics and block dumps.
 * Design: issue 5 and ../shared/STYLE.md (QEMU TCG block key and invalidation, Blink fallback). */
#ifndef JITPC_JIT_JIT_H
#define JITPC_JIT_JIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../cpu/cpu.h"

struct jit;

/* Builds a JIT for c with a code cache of code_cache_bytes (0: 32 MiB), and installs its
 * "translated page written" hook in c->mem (mem/physmem.h: code_write). NULL on failure. */
struct jit *jit_create(struct cpu *c, size_t code_cache_bytes);
/* Removes the hook and frees everything. */
void jit_destroy(struct jit *j);

/* cpu_run's contract exactly: runs up to budget steps (an instruction, or an interrupt or
 * exception delivered, as cpu_step counts them) and returns the same enum cpu_exit; icount, tsc,
 * events and faults happen at the same instruction boundaries as under the interpreter. */
int jit_run(struct jit *j, struct cpu *c, uint64_t budget);

/* Lockstep verification (issue 5's --verify): runs like jit_run, but every translated block
 * also runs in the interpreter on a copy of the state, and the registers, flags and memory
 * written are compared. Returns like jit_run, or -1 at the first divergence after printing both
 * states to out. */
int jit_verify_run(struct jit *j, struct cpu *c, uint64_t budget, FILE *out);

/* Throws every translation away (a machine reset, a remap of RAM the hook cannot see). */
void jit_flush(struct jit *j);

/* Caps blocks at n guest instructions (1..64; out of range: 64, the default) and flushes the
 * cache. One instruction per block is QEMU's one-insn-per-tb: every instruction then runs as its
 * own translated block, which the conformance runner uses to put each vector through the JIT. */
void jit_set_max_insns(struct jit *j, int n);

/* --dump-jit: each block, when translated, printed to out (NULL: off): each guest instruction
 * followed by the host code emitted for it, both disassembled with capstone, with the prologue,
 * chain points, exits, handler calls and out-of-line slow paths labelled. */
void jit_set_dump(struct jit *j, FILE *out);
/* --perf-map: one line per translated block, "START SIZE jit:LIN:PHYS", written to out (NULL:
 * off): the format perf reads from /tmp/perf-PID.map to name code it finds no symbols for, so a
 * profile of translated code shows which guest code it came from. */
void jit_set_perf_map(struct jit *j, FILE *out);
/* --jit-stats: translation counts and cost, cache flushes, and the instructions that ran
 * through the interpreter's handlers, most frequent first. */
void jit_print_stats(const struct jit *j, FILE *out);

#endif

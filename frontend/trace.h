/* The instruction tracer behind --trace: one line per executed instruction with its address,
 * bytes, capstone disassembly and the registers it changed. */
#ifndef JITPC_FRONTEND_TRACE_H
#define JITPC_FRONTEND_TRACE_H

#include <stdio.h>

#include "../cpu/cpu.h"

struct tracer;

struct tracer *tracer_create(FILE *out);
void tracer_destroy(struct tracer *t);
/* Runs one cpu_step and prints what it did; returns cpu_step's result. */
int tracer_step(struct tracer *t, struct cpu *c);

#endif

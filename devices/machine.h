/* The machine: one PC board's worth of state (CPU, memory, ports, devices) built from a config,
 * with no globals, so that several machines run side by side on threads in one process. */
#ifndef JITPC_DEVICES_MACHINE_H
#define JITPC_DEVICES_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "../cpu/cpu.h"
#include "clock.h"
#include "debug_exit.h"
#include "debugcon.h"

struct machine_config {
    uint64_t mem_size;           /* bytes of guest RAM */
    enum cpu_model cpu;
    const uint8_t *bios;         /* firmware image, mapped so its last byte is at 0xFFFFFFFF; */
    size_t bios_size;            /*   the caller keeps it alive and unchanged (it may be shared) */
    byte_sink console;           /* where the 0xE9 debug console writes */
    void *console_opaque;
    int icount;                  /* deterministic time: guest ns derive from retired instructions */
};

enum machine_stop {
    MACHINE_BUDGET,   /* ran the instructions it was given */
    MACHINE_EXITED,   /* the guest wrote to isa-debug-exit: see exit_status */
    MACHINE_SHUTDOWN, /* triple fault */
    MACHINE_HALTED,   /* HLT with interrupts disabled: nothing can wake the CPU */
    MACHINE_UNIMPL,   /* the guest used something not built yet: see cpu.unimpl */
};

struct machine {
    struct cpu cpu;
    struct physmem mem;
    struct ioports io;
    struct vclock clock;
    struct debugcon debugcon;
    struct debug_exit debug_exit;
    uint8_t *bios_rom;      /* page-aligned copy of the firmware image */
    size_t bios_rom_size;
    int exited;
    int exit_status;
};

/* Returns NULL with a message in err on bad configuration or when host memory runs out. */
struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen);
void machine_destroy(struct machine *m);
/* Runs up to max_insns instructions (UINT64_MAX: until the guest stops). */
enum machine_stop machine_run(struct machine *m, uint64_t max_insns);
const char *machine_stop_name(enum machine_stop s);

#endif

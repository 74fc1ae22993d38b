/* The machine: one PC board's worth of state (CPU, memory, ports, devices) built from a config,
 * with no globals, so that several machines run side by side on threads in one process. */
#ifndef JITPC_DEVICES_MACHINE_H
#define JITPC_DEVICES_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../cpu/cpu.h"
#include "../jit/jit.h"
#include "acpi_pm.h"
#include "clock.h"
#include "cmos_rtc.h"
#include "debug_exit.h"
#include "debugcon.h"
#include "fw_cfg.h"
#include "i8042.h"
#include "irq.h"
#include "pci.h"
#include "pic8259.h"
#include "pit8254.h"
#include "uart16550.h"

struct machine;

/* Which engine runs guest code: translated host code (the default), the interpreter alone (the
 * semantic reference), or both in lockstep, block by block, stopping at the first difference. */
enum machine_engine { ENGINE_JIT, ENGINE_INTERP, ENGINE_VERIFY };

struct machine_config {
    uint64_t mem_size;           /* bytes of guest RAM */
    enum cpu_model cpu;
    const uint8_t *bios;         /* firmware image, mapped so its last byte is at 0xFFFFFFFF; */
    size_t bios_size;            /*   the caller keeps it alive and unchanged (it may be shared) */
    byte_sink console;           /* where the debug console (isa-debugcon) writes */
    void *console_opaque;
    uint16_t debugcon_port;      /* its I/O port (0: 0xE9; SeaBIOS writes its log to 0x402) */
    uint16_t exit_port;          /* isa-debug-exit's port (0: 0xF4) */
    uint16_t exit_size;          /*   and width in bytes (0: 1) */
    enum machine_engine engine;
    uint64_t verify_from;        /* ENGINE_VERIFY: instructions before this count run on the JIT alone */
    FILE *jit_dump;              /* --dump-jit: each translated block printed here (NULL: off) */
    FILE *jit_perf_map;          /* --perf-map: perf's map of translated code written here (NULL: off) */
    int icount;                  /* deterministic time: guest ns derive from retired instructions */
    int no_reboot;               /* a reset or triple fault ends the machine instead of rebooting */
    int64_t rtc_time;            /* RTC start (Unix time); 0: the host's clock (a fixed date with icount) */
    const struct chardev_ops *serial; /* COM1's host side (NULL: output dropped) */
    void *serial_opaque;
    /* Host input, polled between slices (wait_ns 0) and while the CPU idles (up to wait_ns):
     * it may feed COM1 through machine_serial_input. Returns -1 to stop the machine. */
    int (*host_poll)(void *opaque, struct machine *m, uint64_t wait_ns);
    void *host_opaque;
};

enum machine_stop {
    MACHINE_BUDGET,   /* ran the instructions it was given */
    MACHINE_EXITED,   /* the guest wrote to isa-debug-exit: see exit_status */
    MACHINE_SHUTDOWN, /* triple fault */
    MACHINE_HALTED,   /* HLT with interrupts disabled: nothing can wake the CPU */
    MACHINE_UNIMPL,   /* the guest used something not built yet: see cpu.unimpl */
    MACHINE_RESET,    /* the guest reset the machine and no_reboot (or no firmware) ends it there */
    MACHINE_QUIT,     /* the host asked to stop (host_poll returned -1) */
    MACHINE_POWEROFF, /* the guest entered ACPI S5 (soft off) through PM1a_CNT */
    MACHINE_DIVERGED, /* --verify: JIT and interpreter disagreed (both states were printed) */
};

struct machine {
    struct cpu cpu;
    struct jit *jit;        /* NULL when the interpreter runs alone */
    struct physmem mem;
    struct ioports io;
    struct vclock clock;
    struct debugcon debugcon;
    struct debug_exit debug_exit;
    struct pic8259 pic;
    struct pit8254 pit;
    struct cmos_rtc rtc;
    struct i8042 kbc;
    struct uart16550 uart[4];
    struct irq_share irq3, irq4; /* COM2/COM4 and COM1/COM3 share their ISA lines */
    struct pci_bus pci;
    struct fw_cfg fw_cfg;
    struct acpi_pm acpi_pm; /* PM1a event/control and the PM timer at ACPI_PM_BASE */
    uint8_t post_code;      /* last byte written to port 0x80 */
    int reset_pending;      /* the guest asked for a reset (8042, port 0x92, 0xCF9) */
    int resets;             /* how many times the machine was reset */
    struct machine_config cfg;
    uint8_t pending_input[256]; /* host bytes COM1 could not take yet */
    size_t npending;
    uint8_t *bios_rom;      /* page-aligned copy of the firmware image */
    size_t bios_rom_size;
    int exited;
    int exit_status;
    int powered_off;        /* the guest wrote SLP_EN with the S5 sleep type */
};

/* Returns NULL with a message in err on bad configuration or when host memory runs out. */
struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen);
void machine_destroy(struct machine *m);
/* Runs up to max_insns instructions (UINT64_MAX: until the guest stops). */
enum machine_stop machine_run(struct machine *m, uint64_t max_insns);
const char *machine_stop_name(enum machine_stop s);
/* Host bytes for COM1; what the UART cannot take now is kept and offered again. */
void machine_serial_input(struct machine *m, const uint8_t *buf, size_t len);
/* The guest pulsed the reset line: takes effect between instructions. */
void machine_request_reset(struct machine *m);
/* The guest turned the machine off (ACPI S5): it stops between instructions. */
void machine_request_poweroff(struct machine *m);

/* pc_board.c: the PC/AT platform's devices, ports and IRQ lines. */
int pc_board_init(struct machine *m, char *err, size_t errlen);
void pc_board_reset(struct machine *m);
void pc_board_free(struct machine *m);

#endif

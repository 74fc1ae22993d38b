/* The machine: builds CPU, memory, port space and devices from a config and runs them.
 * Firmware sits at the top of the 4 GiB space and its last 128 KiB are aliased below 1 MiB, as on
 * a PC/AT-compatible board (the reset vector at 0xFFFFFFF0 reaches the image's last 16 bytes). */
#include "machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIOS_MAX (16u << 20)
#define BIOS_LOW_ALIAS (128u << 10)

static void on_debug_exit(void *opaque, int status)
{
    struct machine *m = opaque;
    m->exited = 1;
    m->exit_status = status;
    cpu_request_stop(&m->cpu);
}

static int map_bios(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen)
{
    if (cfg->bios_size == 0 || cfg->bios_size > BIOS_MAX) {
        snprintf(err, errlen, "firmware image of %zu bytes: it must be 1 byte to 16 MiB", cfg->bios_size);
        return -1;
    }
    size_t size = (cfg->bios_size + PM_PAGE_SIZE - 1) & ~(size_t)(PM_PAGE_SIZE - 1);
    if (posix_memalign((void **)&m->bios_rom, PM_PAGE_SIZE, size)) {
        snprintf(err, errlen, "out of host memory for the firmware image");
        return -1;
    }
    /* Short images are padded at the front so that their end meets the reset vector. */
    memset(m->bios_rom, 0xFF, size - cfg->bios_size);
    memcpy(m->bios_rom + size - cfg->bios_size, cfg->bios, cfg->bios_size);
    m->bios_rom_size = size;
    physmem_map_rom(&m->mem, (uint32_t)(0x100000000ull - size), m->bios_rom, (uint32_t)size);
    size_t low = size < BIOS_LOW_ALIAS ? size : BIOS_LOW_ALIAS;
    physmem_map_rom(&m->mem, (uint32_t)(0x100000u - low), m->bios_rom + size - low, (uint32_t)low);
    return 0;
}

struct machine *machine_create(const struct machine_config *cfg, char *err, size_t errlen)
{
    struct machine *m = calloc(1, sizeof(*m));
    if (!m) {
        snprintf(err, errlen, "out of host memory");
        return NULL;
    }
    if (physmem_init(&m->mem, cfg->mem_size)) {
        snprintf(err, errlen, "cannot create %llu bytes of guest memory (1 MiB to 4075 MiB)",
                 (unsigned long long)cfg->mem_size);
        free(m);
        return NULL;
    }
    ioports_init(&m->io);
    if (cfg->bios && map_bios(m, cfg, err, errlen)) {
        machine_destroy(m);
        return NULL;
    }
    m->cfg = *cfg;
    cpu_init(&m->cpu, cfg->cpu, &m->mem, &m->io);
    if (cfg->engine != ENGINE_INTERP) {
        if (!(m->jit = jit_create(&m->cpu, 0))) {
            snprintf(err, errlen, "cannot create the JIT's code cache (host memory, or no executable mappings allowed: try --interp)");
            machine_destroy(m);
            return NULL;
        }
        jit_set_dump(m->jit, cfg->jit_dump);
        jit_set_perf_map(m->jit, cfg->jit_perf_map);
    }
    /* icount: a 1 GHz-class CPU; real time starts from a guess at the engine's speed (about 25 ns
     * per instruction interpreted, 2 translated) that clock_sync corrects within a few slices. */
    uint32_t guess_ns = cfg->engine == ENGINE_JIT ? 2 : 25;
    clock_init(&m->clock, cfg->icount ? CLOCK_ICOUNT : CLOCK_HOST, &m->cpu.icount, cfg->icount ? 1 : guess_ns);
    uint16_t con_port = cfg->debugcon_port ? cfg->debugcon_port : 0xE9;
    uint16_t exit_port = cfg->exit_port ? cfg->exit_port : 0xF4;
    uint16_t exit_size = cfg->exit_size ? cfg->exit_size : 1;
    if (debugcon_init(&m->debugcon, &m->io, con_port, cfg->console, cfg->console_opaque) ||
        debug_exit_init(&m->debug_exit, &m->io, exit_port, exit_size, on_debug_exit, m)) {
        snprintf(err, errlen, "debug console at port %#x and debug exit at %#x+%u overlap",
                 con_port, exit_port, exit_size);
        machine_destroy(m);
        return NULL;
    }
    if (pc_board_init(m, err, errlen)) {
        machine_destroy(m);
        return NULL;
    }
    return m;
}

void machine_request_reset(struct machine *m)
{
    m->reset_pending = 1;
    cpu_request_stop(&m->cpu);
}

void machine_request_poweroff(struct machine *m)
{
    m->powered_off = 1;
    cpu_request_stop(&m->cpu);
}

/* A reset brings CPU and devices to their power-on state (RAM, the RTC and its NVRAM keep their
 * contents, as on a PC) and restarts the firmware at the reset vector. */
static void machine_reset(struct machine *m)
{
    if (m->jit)
        jit_flush(m->jit); /* the firmware's shadow RAM goes back to ROM, unseen by the write hook */
    cpu_reset(&m->cpu);
    pc_board_reset(m);
    physmem_set_a20(&m->mem, 1);
    m->reset_pending = 0;
    m->resets++;
}

void machine_serial_input(struct machine *m, const uint8_t *buf, size_t len)
{
    size_t room = sizeof(m->pending_input) - m->npending;
    if (len > room)
        len = room; /* the frontend keeps the rest: it reads only what fits (see host_input) */
    memcpy(m->pending_input + m->npending, buf, len);
    m->npending += len;
}

/* Offers held host bytes to COM1, keeping what its queue cannot take yet. */
static void feed_serial(struct machine *m)
{
    if (!m->npending)
        return;
    size_t n = uart16550_receive(&m->uart[0], m->pending_input, m->npending);
    memmove(m->pending_input, m->pending_input + n, m->npending - n);
    m->npending -= n;
}

/* Polls the host (input, quit requests); returns -1 when the host wants the machine to stop. */
static int host_input(struct machine *m, uint64_t wait_ns)
{
    feed_serial(m);
    if (!m->cfg.host_poll)
        return 0;
    if (m->npending == sizeof(m->pending_input))
        wait_ns = 0; /* no room to take more input: do not block on it */
    int r = m->cfg.host_poll(m->cfg.host_opaque, m, wait_ns);
    feed_serial(m);
    return r;
}

void machine_destroy(struct machine *m)
{
    if (!m)
        return;
    pc_board_free(m);
    jit_destroy(m->jit); /* before the memory whose write hook it holds */
    physmem_free(&m->mem);
    free(m->bios_rom);
    free(m);
}

/* Instructions run between two looks at the clock in real-time mode: about a millisecond of
 * guest time at interpreter speed, which bounds timer-interrupt latency. */
#define SLICE 50000u
/* The longest a halted machine sleeps before looking at host input again. */
#define IDLE_MAX_NS 10000000ull

/* What a guest-requested reset (or a triple fault) does: reboot through the firmware, or end the
 * machine when there is no firmware to restart or the user asked for --no-reboot. */
static int reboot_or_stop(struct machine *m)
{
    if (m->cfg.no_reboot || !m->bios_rom)
        return 1;
    machine_reset(m);
    return 0;
}

/* One slice on the configured engine; cpu_run's contract (enum cpu_exit), or -1 when --verify
 * found the JIT and the interpreter disagreeing (both states are on stderr). */
static int run_engine(struct machine *m, uint64_t slice)
{
    switch (m->cfg.engine) {
    case ENGINE_JIT: return jit_run(m->jit, &m->cpu, slice);
    case ENGINE_VERIFY:
        if (m->cpu.icount < m->cfg.verify_from) {
            uint64_t left = m->cfg.verify_from - m->cpu.icount;
            return jit_run(m->jit, &m->cpu, slice < left ? slice : left);
        }
        return jit_verify_run(m->jit, &m->cpu, slice, stderr);
    case ENGINE_INTERP:
    default: return cpu_run(&m->cpu, slice);
    }
}

enum machine_stop machine_run(struct machine *m, uint64_t max_insns)
{
    uint64_t start = m->cpu.icount;
    for (;;) {
        uint64_t done = m->cpu.icount - start;
        if (done >= max_insns)
            return MACHINE_BUDGET;
        clock_sync(&m->clock);
        clock_run_timers(&m->clock);
        if (host_input(m, 0) < 0)
            return MACHINE_QUIT;
        uint64_t slice = max_insns - done < SLICE ? max_insns - done : SLICE;
        uint64_t deadline = clock_next_deadline(&m->clock);
        if (deadline != CLOCK_NEVER) {
            /* Stop exactly at the next timer: it fires on its instruction, and under --icount runs
             * are identical instruction for instruction. */
            uint64_t until = clock_insns_until(&m->clock, deadline);
            if (until < slice)
                slice = until;
        }
        int r = run_engine(m, slice);
        switch (r) {
        case -1: return MACHINE_DIVERGED;
        case CPU_EXIT_BUDGET: break;
        case CPU_EXIT_SHUTDOWN:
            if (m->cfg.no_reboot || !m->bios_rom)
                return MACHINE_SHUTDOWN;
            machine_reset(m); /* a PC's chipset turns the shutdown cycle into a reset */
            break;
        case CPU_EXIT_UNIMPL: return MACHINE_UNIMPL;
        case CPU_EXIT_STOP:
            if (m->exited)
                return MACHINE_EXITED;
            if (m->powered_off)
                return MACHINE_POWEROFF;
            if (m->reset_pending && reboot_or_stop(m))
                return MACHINE_RESET;
            break;
        case CPU_EXIT_HALT:
            /* HLT with IF clear can only end by NMI or reset, and nothing here raises an NMI; with
             * IF set the CPU sleeps until the next timer (or host input) can interrupt it. */
            if (!(m->cpu.eflags & F_IF) && !m->cpu.nmi)
                return MACHINE_HALTED;
            if (m->cpu.intr || m->cpu.nmi)
                break;
            if (m->clock.mode == CLOCK_ICOUNT) {
                if (deadline == CLOCK_NEVER)
                    return MACHINE_HALTED; /* nothing will ever interrupt a deterministic machine */
                clock_idle_until(&m->clock, deadline, CLOCK_NEVER);
                break;
            }
            uint64_t wait = clock_idle_wait_ns(&m->clock, deadline);
            if (wait > IDLE_MAX_NS)
                wait = IDLE_MAX_NS;
            if (m->cfg.host_poll) {
                if (host_input(m, wait) < 0)
                    return MACHINE_QUIT;
                clock_idle_advance(&m->clock, deadline);
            } else {
                clock_idle_until(&m->clock, deadline, IDLE_MAX_NS);
            }
            break;
        }
    }
}

const char *machine_stop_name(enum machine_stop s)
{
    switch (s) {
    case MACHINE_BUDGET: return "instruction budget used up";
    case MACHINE_EXITED: return "guest exited";
    case MACHINE_SHUTDOWN: return "triple fault (shutdown)";
    case MACHINE_HALTED: return "guest halted with nothing to wake it";
    case MACHINE_RESET: return "guest reset the machine";
    case MACHINE_QUIT: return "stopped at the user's request";
    case MACHINE_POWEROFF: return "guest powered off (ACPI S5)";
    case MACHINE_DIVERGED: return "JIT and interpreter diverged (--verify)";
    default: return "unimplemented feature";
    }
}

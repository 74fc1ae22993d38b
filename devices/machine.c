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
    cpu_init(&m->cpu, cfg->cpu, &m->mem, &m->io);
    if (debugcon_init(&m->debugcon, &m->io, 0xE9, cfg->console, cfg->console_opaque) ||
        debug_exit_init(&m->debug_exit, &m->io, 0xF4, 1, on_debug_exit, m)) {
        snprintf(err, errlen, "device ports overlap");
        machine_destroy(m);
        return NULL;
    }
    return m;
}

void machine_destroy(struct machine *m)
{
    if (!m)
        return;
    physmem_free(&m->mem);
    free(m->bios_rom);
    free(m);
}

enum machine_stop machine_run(struct machine *m, uint64_t max_insns)
{
    uint64_t start = m->cpu.icount;
    for (;;) {
        uint64_t done = m->cpu.icount - start;
        if (done >= max_insns)
            return MACHINE_BUDGET;
        int r = cpu_run(&m->cpu, max_insns - done);
        switch (r) {
        case CPU_EXIT_BUDGET: return MACHINE_BUDGET;
        case CPU_EXIT_SHUTDOWN: return MACHINE_SHUTDOWN;
        case CPU_EXIT_UNIMPL: return MACHINE_UNIMPL;
        case CPU_EXIT_STOP:
            if (m->exited)
                return MACHINE_EXITED;
            break;
        case CPU_EXIT_HALT:
            /* No device raises interrupts yet: a halted CPU can only be woken by an NMI or
             * INTR, so with IF clear (or nothing that could interrupt) the guest is done. */
            if (!m->cpu.intr && !m->cpu.nmi)
                return MACHINE_HALTED;
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
    default: return "unimplemented feature";
    }
}

/* Debug registers and the debug exception: DR0-DR3 instruction, data and I/O breakpoints enabled
 * by DR7, status in DR6, general detect, and the resume flag. Intel SDM Vol. 3A ch. 17 (§17.2 the
 * registers, §17.3 the #DB conditions and their fault/trap classes), Table 6-2 (priorities). */
#include "interp.h"

#define DR7_GD 0x2000u
/* DR7 bits that can be set (bit 10 reads as 1; 11, 12, 14, 15 are reserved and read as 0) and
 * DR6's fixed bits (4-11 and 16-31 read as 1, 12 as 0), as a P6 returns them (SDM Vol. 3A
 * §17.2.3-17.2.4). */
#define DR7_WRITABLE 0xFFFF23FFu
#define DR7_FIXED1 0x00000400u
#define DR6_WRITABLE 0x0000E00Fu
#define DR6_FIXED1 0xFFFF0FF0u

enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_RW = 3 };

static unsigned bp_rw(uint32_t dr7, int n) { return (dr7 >> (16 + 4 * n)) & 3; }

/* LENn: 00 one byte, 01 two, 11 four. 10 is undefined on a P6; jitpc treats it as four. */
static uint32_t bp_len(uint32_t dr7, int n)
{
    static const uint8_t len[4] = { 1, 2, 4, 4 };
    return len[(dr7 >> (18 + 4 * n)) & 3];
}

void debug_dr7_changed(struct cpu *c)
{
    uint32_t dr7 = c->dr[7];
    uint8_t ex = 0, da = 0, io = 0;
    for (int n = 0; n < 4; n++) {
        if (!((dr7 >> (2 * n)) & 3)) /* neither Ln nor Gn */
            continue;
        switch (bp_rw(dr7, n)) {
        case RW_EXEC: ex |= (uint8_t)(1u << n); break;
        case RW_IO: io |= (uint8_t)(1u << n); break;
        default: da |= (uint8_t)(1u << n); break;
        }
    }
    c->dbg_exec = ex;
    c->dbg_data = da;
    c->dbg_io = io;
}

/* B bits of the breakpoints in mask whose range overlaps [addr, addr + size). A data breakpoint
 * covers LEN bytes from its address with the low bits cleared (SDM §17.2.5: the address is
 * aligned to the length); the comparisons wrap as linear addresses do. */
static uint32_t match(const struct cpu *c, unsigned mask, uint32_t addr, uint32_t size, int exact)
{
    uint32_t hit = 0;
    for (int n = 0; n < 4; n++) {
        if (!(mask & (1u << n)))
            continue;
        uint32_t len = exact ? 1 : bp_len(c->dr[7], n);
        uint32_t start = c->dr[n] & ~(len - 1);
        if (addr - start < len || start - addr < size)
            hit |= 1u << n;
    }
    return hit;
}

uint32_t debug_insn_start(struct cpu *c)
{
    /* RF suppresses instruction breakpoints for one instruction and is cleared at the start of
     * it, after the code-breakpoint check (SDM §17.3.1.1). A fault puts the snapshot's RF back. */
    if (c->eflags & F_RF) {
        c->eflags &= ~F_RF;
        return 0;
    }
    /* The breakpoint address is the linear address of the first byte of the instruction,
     * prefixes included; LEN must be 00 for execution breakpoints (SDM §17.2.5). */
    return match(c, c->dbg_exec, c->seg[S_CS].base + c->eip, 1, 1);
}

void debug_data_access(struct cpu *c, uint32_t lin, int size, int write)
{
    unsigned mask = c->dbg_data;
    if (!write) {
        for (int n = 0; n < 4; n++)
            if (bp_rw(c->dr[7], n) == RW_WRITE)
                mask &= ~(1u << n); /* 01: break on writes only */
    }
    c->dbg_pending |= match(c, mask, lin, (uint32_t)size, 0);
}

void debug_io_access(struct cpu *c, uint16_t port, int size)
{
    /* RW = 10 means an I/O breakpoint only with CR4.DE set; without it the encoding is
     * undefined and jitpc ignores it (SDM §17.2.4). */
    if (c->cr[4] & CR4_DE)
        c->dbg_pending |= match(c, c->dbg_io, port, (uint32_t)size, 0);
}

void debug_mov_dr(struct cpu *c, int n, int write, int reg)
{
    /* General detect: any MOV to or from a debug register faults with BD set, and GD is cleared
     * so that the handler itself can use them (SDM §17.2.4, §17.3.1.2). */
    if (c->dr[7] & DR7_GD) {
        c->dr[6] |= DR6_BD;
        c->dr[7] &= ~DR7_GD;
        cpu_fault(c, EXC_DB, 0);
    }
    if (!write) {
        c->r[reg] = c->dr[n];
        return;
    }
    uint32_t v = c->r[reg];
    if (n == 6) {
        c->dr[6] = (v & DR6_WRITABLE) | DR6_FIXED1;
    } else if (n == 7) {
        c->dr[7] = (v & DR7_WRITABLE) | DR7_FIXED1;
        debug_dr7_changed(c);
    } else {
        c->dr[n] = v;
    }
}

/* SYSENTER and SYSEXIT: fast transfers to ring 0 and back to ring 3 with flat segments taken from
 * IA32_SYSENTER_CS, no descriptor reads. Intel SDM Vol. 2B SYSENTER/SYSEXIT pages (operation
 * sections); Vol. 3A §5.8.7 (fast system calls). The #GP(0) checks are in ops_system.c. */
#include "interp.h"

/* The architected flat segment the two instructions load: base 0, limit 4 GiB (FFFFFH with
 * G = 1), 32-bit, present, S = 1, accessed. type is 0xB (execute/read code) or 0x3 (read/write
 * data); the descriptor in the GDT is neither read nor checked. */
static struct segreg flat(uint16_t sel, unsigned type, int dpl)
{
    return (struct segreg){ sel, 0, 0xFFFFFFFFu,
                            (uint16_t)(type | AR_S | ((unsigned)dpl << 5) | AR_P | AR_DB | AR_G) };
}

void sysenter_enter(struct cpu *c)
{
    uint16_t cs = (uint16_t)(c->sysenter_cs & 0xFFFC); /* RPL forced to 0 */
    c->eflags &= ~(F_VM | F_IF | F_RF);
    c->seg[S_CS] = flat(cs, 0xB, 0);
    c->seg[S_SS] = flat((uint16_t)(cs + 8), 0x3, 0);
    c->cpl = 0;
    c->r[R_ESP] = c->sysenter_esp;
    c->eip = c->sysenter_eip;
}

void sysenter_exit(struct cpu *c)
{
    uint16_t base = (uint16_t)c->sysenter_cs;
    c->seg[S_CS] = flat((uint16_t)((base + 16) | 3), 0xB, 3);
    c->seg[S_SS] = flat((uint16_t)((base + 24) | 3), 0x3, 3);
    c->cpl = 3;
    c->r[R_ESP] = c->r[R_ECX];
    c->eip = c->r[R_EDX];
}

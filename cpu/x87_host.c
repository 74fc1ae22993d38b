/* The arithmetic core of the x87: each numeric instruction runs on the host's own x87, which on
 * x86-64 implements the P6's 80-bit formats, rounding, precision control, exception rules and
 * masked/unmasked responses exactly (SDM Vol. 1 §8.5, §4.9). The guest's whole FPU state is loaded
 * with FRSTOR, the very same opcode executes, and FNSAVE brings the state back.
 *
 * Why whole-state and with the guest's own masks: unmasked responses (destination left alone,
 * bias-adjusted overflow/underflow results, TOP not popped) and exception precedence then come
 * from the hardware instead of from a model of it. It is safe: an x87 exception is only ever
 * delivered by the next *waiting* instruction, and nothing after the guest opcode in the asm
 * waits (LAHF, FNSAVE); FNSAVE also leaves the host FPU reinitialised, so no exception stays
 * pending in the host. The caller loads the status word with the exception flags and ES clear,
 * so the image that comes back holds exactly what this instruction raised. */
#include "x87_impl.h"

/* x86-64 keeps the x87 empty and its control word at the ABI default between functions; the
 * control word is put back explicitly all the same (it is callee-saved in the SysV ABI). */
#define HX(b0, b1)                                                                                 \
    case ((b0) << 8) | (b1):                                                                       \
        __asm__ volatile("frstor %[img]\n\t"                                                       \
                         "sahf\n\t"                                                                \
                         ".byte %c[x], %c[y]\n\t"                                                  \
                         "lahf\n\t"                                                                \
                         "fnsave %[img]"                                                           \
                         : [img] "+m"(*img), "+a"(ax)                                              \
                         : [x] "i"(b0), [y] "i"(b1), "S"(mem)                                      \
                         : "memory", "cc");                                                        \
        break;
#define HX8(b0, m) HX(b0, m) HX(b0, (m) + 1) HX(b0, (m) + 2) HX(b0, (m) + 3) HX(b0, (m) + 4) \
    HX(b0, (m) + 5) HX(b0, (m) + 6) HX(b0, (m) + 7)
#define HREG(b0) HX8(b0, 0xC0) HX8(b0, 0xC8) HX8(b0, 0xD0) HX8(b0, 0xD8) HX8(b0, 0xE0) \
    HX8(b0, 0xE8) HX8(b0, 0xF0) HX8(b0, 0xF8)
/* ModRM mod=00 rm=110 is [rsi] in 64-bit mode. */
#define HMEM(b0) HX(b0, 0x06) HX(b0, 0x0E) HX(b0, 0x16) HX(b0, 0x1E) HX(b0, 0x26) HX(b0, 0x2E) \
    HX(b0, 0x36) HX(b0, 0x3E)
#define HESC(b0) HREG(b0) HMEM(b0)

void x87_host_exec(struct x87_host_img *img, unsigned esc, unsigned modrm, void *mem, uint8_t *flags)
{
    uint16_t host_cw;
    uint32_t ax = ((uint32_t)(*flags & 0xD5u) | 0x02u) << 8;
    __asm__ volatile("fnstcw %0" : "=m"(host_cw));
    switch (((0xD8u | esc) << 8) | modrm) {
        HESC(0xD8) HESC(0xD9) HESC(0xDA) HESC(0xDB) HESC(0xDC) HESC(0xDD) HESC(0xDE) HESC(0xDF)
    default:
        break; /* not reached: the caller passes only valid encodings */
    }
    __asm__ volatile("fldcw %0" : : "m"(host_cw));
    *flags = (uint8_t)((ax >> 8) & 0xD5u);
}

/* ---- Arithmetic with only its operands on the host stack ----
 * FRSTOR and FNSAVE cost most of a host round trip (~90 ns on the machines we measure); the
 * two-operand arithmetic forms need only ST(0), ST(i) and the memory operand, and when the guest
 * masks every exception they have no response that depends on the rest of the state: the
 * registers are loaded with FLD m80 and stored with FSTP m80, which neither raise anything nor
 * change a bit, the opcode runs as it is (with ST(i) renamed ST(1)), and FNSTSW gives what it
 * raised and C1. The host's exception flags are cleared before, so that FNSTSW shows only this
 * instruction's; its control word is put back after. */
#define ALOAD "fldt %[a]\n\t"
#define BLOAD "fldt %[b]\n\t"
#define OPC ".byte %c[x], %c[y]\n\tfnstsw %%ax\n\t"
#define HA(b0, b1, text)                                                                           \
    case ((b0) << 8) | (b1):                                                                       \
        __asm__ volatile(text : [a] "+m"(*(uint8_t(*)[10])st0), [b] "+m"(*(uint8_t(*)[10])sti),   \
                                "=a"(sw)                                                           \
                         : [x] "i"(b0), [y] "i"(b1), "S"(mem)                                      \
                         : "memory", "cc");                                                        \
        break;
/* ModRM reg 0 1 4 5 6 7: ADD MUL SUB SUBR DIV DIVR (the compares 2 and 3 are not here). */
#define HA_EACH(M, b0, base) M(b0, (base) | 0x00) M(b0, (base) | 0x08) M(b0, (base) | 0x20) \
    M(b0, (base) | 0x28) M(b0, (base) | 0x30) M(b0, (base) | 0x38)
#define HA_MEM(b0, b1) HA(b0, b1, ALOAD OPC "fstpt %[a]")
#define HA_ST0(b0, b1) HA(b0, b1, ALOAD OPC "fstpt %[a]")
#define HA_D8(b0, b1) HA(b0, b1, BLOAD ALOAD OPC "fstpt %[a]\n\tfstp %%st(0)")
#define HA_DC(b0, b1) HA(b0, b1, BLOAD ALOAD OPC "fstpt %[a]\n\tfstpt %[b]")
#define HA_DE(b0, b1) HA(b0, b1, BLOAD ALOAD OPC "fstpt %[b]")

int x87_host_arith(unsigned esc, unsigned modrm, uint16_t cw, uint8_t st0[10], uint8_t sti[10], const void *mem,
                   uint16_t *status)
{
    uint16_t host_cw, sw;
    __asm__ volatile("fnstcw %0\n\tfnstsw %%ax" : "=m"(host_cw), "=a"(sw));
    if (sw & FSW_EXC)
        __asm__ volatile("fnclex");
    if (cw != host_cw)
        __asm__ volatile("fldcw %0" : : "m"(cw));
    switch (((0xD8u | esc) << 8) | modrm) {
        HA_EACH(HA_MEM, 0xD8, 0x06) HA_EACH(HA_MEM, 0xDA, 0x06) HA_EACH(HA_MEM, 0xDC, 0x06)
        HA_EACH(HA_MEM, 0xDE, 0x06)
        HA_EACH(HA_ST0, 0xD8, 0xC0) HA_EACH(HA_ST0, 0xDC, 0xC0)
        HA_EACH(HA_D8, 0xD8, 0xC1) HA_EACH(HA_DC, 0xDC, 0xC1) HA_EACH(HA_DE, 0xDE, 0xC1)
    default:
        sw = 0xFFFF; /* not one of these forms: nothing ran */
        break;
    }
    if (cw != host_cw)
        __asm__ volatile("fldcw %0" : : "m"(host_cw));
    if (sw == 0xFFFF)
        return 0;
    *status = sw;
    return 1;
}

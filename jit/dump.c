/* --dump-jit: a translated block printed for a reader learning the JIT: each guest instruction
 * (capstone, 32- or 16-bit x86) followed by the host code emitted for it (capstone, x86-64), with
 * the special places labelled from the translator's notes (struct jit_label): the prologue's
 * budget/event check, chain points and exits to the dispatcher, handler calls, and the
 * out-of-line TLB slow paths after the hot code, each named by the instruction it serves. */
#include <capstone/capstone.h>
#include <inttypes.h>

#include "jit_internal.h"

/* "guest XXXXXXXX:  mnemonic operands" for instruction i (bytes at guest + its offset). */
static void print_guest(FILE *out, csh g, const uint8_t *guest, const uint32_t *eips, int i)
{
    cs_insn *gi;
    size_t len = eips[i + 1] - eips[i];
    size_t n = cs_disasm(g, guest + (eips[i] - eips[0]), len, eips[i], 1, &gi);
    if (n) {
        fprintf(out, "  guest %08" PRIX64 ":  %-8s %s\n", gi[0].address, gi[0].mnemonic, gi[0].op_str);
        cs_free(gi, n);
    } else {
        fprintf(out, "  guest %08X:  (not disassembled)\n", eips[i]);
    }
}

/* A short name of guest instruction i for the labels of the cold code: "0000100A mov". */
static void insn_name(char *buf, size_t n, csh g, const uint8_t *guest, const uint32_t *eips, int i)
{
    cs_insn *gi;
    size_t k = cs_disasm(g, guest + (eips[i] - eips[0]), eips[i + 1] - eips[i], eips[i], 1, &gi);
    snprintf(buf, n, "%08X %s", eips[i], k ? gi[0].mnemonic : "?");
    if (k)
        cs_free(gi, k);
}

static void print_label(FILE *out, csh g, const struct jit_block *b, const uint8_t *guest, const uint32_t *eips,
                        const struct jit_label *l)
{
    char name[64];
    switch (l->kind) {
    case JL_PROLOGUE:
        fprintf(out, "   -- block prologue: budget check (room for %u insns), else exit\n",
                b->nsteps);
        break;
    case JL_INSN:
        print_guest(out, g, guest, eips, l->insn);
        break;
    case JL_HANDLER:
        fprintf(out, "   -- calls the interpreter's handler (jit_helper_step), leaves the block if it says so\n");
        break;
    case JL_CHAIN:
        fprintf(out, "   -- chain point (patchable jmp) to eip %08X: jumps to the next block once chained\n", l->eip);
        break;
    case JL_GUARD:
        fprintf(out, "   -- page check of the chained exit to %08X, on another page: the TLB must still map it to "
                     "the next block's bytes, else the inline lookup\n", l->eip);
        break;
    case JL_EXIT:
        if (l->eip_known)
            fprintf(out, "   -- exit to dispatcher, eip %08X\n", l->eip);
        else
            fprintf(out, "   -- exit to dispatcher, eip as set above\n");
        break;
    case JL_LOOKUP:
        fprintf(out, "   -- exit through the inline lookup: to the next block if the jump cache holds it, else to "
                     "the dispatcher\n");
        break;
    case JL_TAIL:
        fprintf(out, "   -- the instruction at %08X crosses into the next page: the interpreter fetches and runs it "
                     "(jit_helper_tail), then the inline lookup\n", l->eip);
        break;
    case JL_REPROBE:
        insn_name(name, sizeof(name), g, guest, eips, l->insn);
        fprintf(out, "   -- full TLB probe of instruction %u (%s): its access is not in the kept page\n",
                l->insn, name);
        break;
    case JL_WAY2:
        insn_name(name, sizeof(name), g, guest, eips, l->insn);
        fprintf(out, "   -- TLB second way of instruction %u (%s): its first way holds another page\n", l->insn,
                name);
        break;
    case JL_COLD:
        insn_name(name, sizeof(name), g, guest, eips, l->insn);
        fprintf(out, "   -- cold code: TLB slow path of instruction %u (%s): calls the interpreter's handler\n", l->insn,
                name);
        break;
    }
}

/* The map names the host code all blocks share too (stubs.c): perf would show the inline lookup,
 * a tenth of a Linux fork+exec, as an unknown address. */
void jit_set_perf_map(struct jit *j, FILE *out)
{
    j->perf_map = out;
    if (!out)
        return;
    const uint8_t *at[4] = { j->code, j->ic_stub, j->step_thunk, j->code + j->code_start };
    static const char *const name[3] = { "trampoline", "inline-lookup", "helper-thunks" };
    for (int k = 0; k < 3; k++)
        fprintf(out, "%lx %x jit-stub:%s\n", (unsigned long)(uintptr_t)at[k], (unsigned)(at[k + 1] - at[k]), name[k]);
    fflush(out);
}

void jit_perf_map_block(struct jit *j, const struct jit_block *b)
{
    /* Flushed per line: perf reads the file after jitpc ends, however it ends. */
    fprintf(j->perf_map, "%lx %x jit:%08x:%08x\n", (unsigned long)(uintptr_t)b->code, (unsigned)b->code_len,
            (unsigned)(b->cs_base + b->eip), (unsigned)b->phys);
    fflush(j->perf_map);
}

void jit_dump_block(struct jit *j, const struct jit_block *b, const uint8_t *guest, const struct jit_label *labels,
                    int nlabels)
{
    FILE *out = j->dump;
    /* Each instruction's EIP (the decoder never lets a block wrap IP), and without the
     * translator's notes, labels for the instruction starts alone. */
    uint32_t eips[JIT_MAX_INSNS + 1];
    struct jit_label starts[JIT_MAX_INSNS];
    eips[0] = b->eip;
    for (int i = 0; i < b->ninsn; i++) {
        eips[i + 1] = eips[i] + b->insns[i].len;
        starts[i] = (struct jit_label){ b->insn_off[i], JL_INSN, 1, (uint16_t)i, eips[i] };
    }
    if (!labels) {
        labels = starts;
        nlabels = b->ninsn;
    }
    csh g, h;
    if (cs_open(CS_ARCH_X86, (b->mode & JM_CODE32) ? CS_MODE_32 : CS_MODE_16, &g) != CS_ERR_OK)
        return;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
        cs_close(&g);
        return;
    }
    fprintf(out, "block eip %08X (CS base %08X) phys %08X mode %05X: %u insns (%u inline)%s, %u bytes\n", b->eip,
            b->cs_base, b->phys, b->mode, b->ninsn, b->ninline, b->tail ? " and a tail step" : "", b->code_len);
    cs_insn *hi;
    size_t nh = cs_disasm(h, b->code, b->code_len, (uint64_t)(uintptr_t)b->code, 0, &hi);
    int l = 0;
    for (size_t k = 0; k < nh; k++) {
        uint32_t off = (uint32_t)(hi[k].address - (uint64_t)(uintptr_t)b->code);
        /* Labels are recorded in emission order, so those at or before this offset come first. */
        while (l < nlabels && labels[l].off <= off)
            print_label(out, g, b, guest, eips, &labels[l++]);
        fprintf(out, "    host %012" PRIX64 ":  %-8s %s\n", hi[k].address, hi[k].mnemonic, hi[k].op_str);
    }
    while (l < nlabels)
        print_label(out, g, b, guest, eips, &labels[l++]);
    if (nh)
        cs_free(hi, nh);
    cs_close(&g);
    cs_close(&h);
}

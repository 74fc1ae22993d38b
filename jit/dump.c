/* --dump-jit: a translated block printed as its guest instructions beside its host code, both
 * disassembled with capstone (32- or 16-bit x86 for the guest, x86-64 for the host). */
#include <capstone/capstone.h>
#include <inttypes.h>

#include "jit_internal.h"

void jit_dump_block(struct jit *j, const struct jit_block *b, const uint8_t *guest)
{
    FILE *out = j->dump;
    csh g, h;
    if (cs_open(CS_ARCH_X86, (b->mode & JM_CODE32) ? CS_MODE_32 : CS_MODE_16, &g) != CS_ERR_OK)
        return;
    if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
        cs_close(&g);
        return;
    }
    fprintf(out, "block eip %08X (CS base %08X) phys %08X mode %05X: %u insns (%u inline), %u bytes\n", b->eip,
            b->cs_base, b->phys, b->mode, b->ninsn, b->ninline, b->code_len);
    cs_insn *gi;
    size_t ng = cs_disasm(g, guest, b->phys_end - b->phys, b->eip, 0, &gi);
    for (size_t k = 0; k < ng; k++)
        fprintf(out, "  guest %08" PRIX64 ":  %-8s %s\n", gi[k].address, gi[k].mnemonic, gi[k].op_str);
    if (ng)
        cs_free(gi, ng);
    cs_insn *hi;
    size_t nh = cs_disasm(h, b->code, b->code_len, (uint64_t)(uintptr_t)b->code, 0, &hi);
    for (size_t k = 0; k < nh; k++)
        fprintf(out, "    host %012" PRIX64 ":  %-8s %s\n", hi[k].address, hi[k].mnemonic, hi[k].op_str);
    if (nh)
        cs_free(hi, nh);
    cs_close(&g);
    cs_close(&h);
}

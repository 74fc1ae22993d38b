/* The JIT against the interpreter: the same guest snippets run on two identical machines, one
 * with cpu_run and one with jit_run, must end in the same registers, flags, EIP, instruction
 * count and memory; also self-modifying code, a fault on the third memory access of a block,
 * budgets that end inside blocks, the chaining of direct jumps, and the inline lookup of the
 * next block after RET and cross-page exits. Issue 5. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "jit_pair.h"

/* Bytes assembled with nasm from the sources quoted above each array. */
/* loop16 (bits 16, org 0x1000): a real-mode loop of 32-bit ALU ops, loads and stores through
 * DI, LEA, a CALL to a leaf, PUSH/POP, 8- and 16-bit ALU with ADC/SBB, taken and untaken Jcc:
 *   mov esi,0 / mov edi,0x2000 / mov ecx,300
 *   .l: mov eax,[di] / add eax,ecx / xor eax,0x5A5A5A5A / mov [di+4],eax / lea ebx,[eax+ecx*2+7]
 *   cmp ebx,eax / jb .s / inc esi / .s: call leaf / push eax / pop edx / and edx,0xFF / sub dl,3
 *   adc dh,bl / sbb ax,bx / test ah,0x40 / jz .n / or bh,al / .n: add di,4 / and di,0x0FFC
 *   or di,0x2000 / dec ecx / jnz .l / hlt / leaf: sub eax,esi / ret
 * loop32 (bits 32): the same kind of loop in flat protected mode, with IMUL, MOVZX, a byte
 * store through a scaled index, JO/JNP/JL/JG, NEG, XCHG of byte registers, SHL.
 * smc_next: mov ecx,5 / mov byte [.patch+1],42 / .patch: mov al,7 / mov bl,al /
 *   mov dword [.p2+1],0x12345678 / nop / nop / .p2: mov edx,0 / hlt
 * smc_loop: mov ecx,50 / xor eax,eax / .l: add eax,1 (imm8 rewritten each pass) /
 *   mov byte [.l+2],cl / dec ecx / jnz .l / hlt
 * fault3: mov eax,[0x100] / mov ebx,0x11 / mov [0x104],ebx / add eax,ebx / mov ecx,[0x20000] /
 *   mov edx,1 / hlt  (the third access is past a 64 KiB DS limit: #GP(0)) */
static const uint8_t code_fault3[] = {   0xa1, 0x00, 0x01, 0x00, 0x00, 0xbb, 0x11, 0x00, 0x00, 0x00, 0x89, 0x1d,  0x04, 0x01, 0x00, 0x00, 0x01, 0xd8, 0x8b, 0x0d, 0x00, 0x00, 0x02, 0x00,  0xba, 0x01, 0x00, 0x00, 0x00, 0xf4 };
static const uint8_t code_loop16[] = {   0x66, 0xbe, 0x00, 0x00, 0x00, 0x00, 0x66, 0xbf, 0x00, 0x20, 0x00, 0x00,  0x66, 0xb9, 0x2c, 0x01, 0x00, 0x00, 0x66, 0x8b, 0x05, 0x66, 0x01, 0xc8,  0x66, 0x35, 0x5a, 0x5a, 0x5a, 0x5a, 0x66, 0x89, 0x45, 0x04, 0x66, 0x67,  0x8d, 0x5c, 0x48, 0x07, 0x66, 0x39, 0xc3, 0x72, 0x02, 0x66, 0x46, 0xe8,  0x29, 0x00, 0x66, 0x50, 0x66, 0x5a, 0x66, 0x81, 0xe2, 0xff, 0x00, 0x00,  0x00, 0x80, 0xea, 0x03, 0x10, 0xde, 0x19, 0xd8, 0xf6, 0xc4, 0x40, 0x74,  0x02, 0x08, 0xc7, 0x83, 0xc7, 0x04, 0x81, 0xe7, 0xfc, 0x0f, 0x81, 0xcf,  0x00, 0x20, 0x66, 0x49, 0x75, 0xb8, 0xf4, 0x66, 0x29, 0xf0, 0xc3 };
static const uint8_t code_loop32[] = {   0xbe, 0x00, 0x00, 0x00, 0x00, 0xbf, 0x00, 0x00, 0x20, 0x00, 0xb9, 0xf4,  0x01, 0x00, 0x00, 0x8b, 0x07, 0x01, 0xc8, 0x6b, 0xc0, 0x07, 0x35, 0x5a,  0x5a, 0x5a, 0x5a, 0x89, 0x47, 0x04, 0x88, 0x84, 0x8f, 0x00, 0x01, 0x00,  0x00, 0x8d, 0x5c, 0x48, 0x07, 0x39, 0xc3, 0x7c, 0x01, 0x46, 0xe8, 0x35,  0x00, 0x00, 0x00, 0x50, 0x5a, 0x0f, 0xb6, 0xd2, 0x80, 0xc2, 0x90, 0x70,  0x02, 0x11, 0xda, 0x1d, 0x39, 0x30, 0x00, 0x00, 0xa9, 0x00, 0x00, 0x04,  0x00, 0x7b, 0x04, 0x08, 0xc7, 0x86, 0xe3, 0x83, 0xc7, 0x04, 0x81, 0xe7,  0xfc, 0x0f, 0x20, 0x00, 0xf7, 0xdb, 0x66, 0x81, 0xf9, 0xfa, 0x00, 0x7f,  0x03, 0xc1, 0xe0, 0x03, 0x49, 0x75, 0xa8, 0xf4, 0x29, 0xf0, 0xc3 };
static const uint8_t code_smc_loop[] = {   0xb9, 0x32, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x83, 0xc0, 0x01, 0x88, 0x0d,  0x09, 0x10, 0x00, 0x00, 0x49, 0x75, 0xf4, 0xf4 };
static const uint8_t code_smc_next[] = {   0xb9, 0x05, 0x00, 0x00, 0x00, 0xc6, 0x05, 0x0d, 0x10, 0x00, 0x00, 0x2a,  0xb0, 0x07, 0x88, 0xc3, 0xc7, 0x05, 0x1d, 0x10, 0x00, 0x00, 0x78, 0x56,  0x34, 0x12, 0x90, 0x90, 0xba, 0x00, 0x00, 0x00, 0x00, 0xf4 };

static struct pair pair_new(int mode32, const uint8_t *code, size_t len)
{
    struct pair p = pair_open(mode32, code, len);
    /* Some initial data for the loops to read. */
    for (uint32_t a = 0; a < 0x1000; a += 4) {
        uint32_t v = a * 2654435761u;
        pair_poke(&p, 0x2000 + a, &v, 4);
        pair_poke(&p, 0x200000 + a, &v, 4);
    }
    return p;
}

static void assert_same_state(struct pair *p)
{
    const struct cpu *a = p->ref->c, *b = p->jh->c;
    pair_assert_same(p);
    assert_int_equal(a->last_fault, b->last_fault);
    assert_int_equal(a->seg[S_CS].sel, b->seg[S_CS].sel);
    uint8_t ma[0x2000], mb[0x2000];
    phys_read_buf(&p->ref->m->mem, 0x200000, ma, sizeof(ma));
    phys_read_buf(&p->jh->m->mem, 0x200000, mb, sizeof(mb));
    assert_memory_equal(ma, mb, sizeof(ma));
}

/* Runs both until HLT (or n steps) and compares. */
static void run_both(struct pair *p, uint64_t n)
{
    pair_run(p, n);
    assert_same_state(p);
}

/* run_both with --dump-jit on: what it printed, NUL-terminated in text (size bytes). */
static void run_both_dumped(struct pair *p, uint64_t n, char *text, size_t size)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    jit_set_dump(p->j, f);
    run_both(p, n);
    jit_set_dump(p->j, NULL);
    rewind(f);
    size_t got = fread(text, 1, size - 1, f);
    text[got] = 0;
    fclose(f);
}

static void test_jit_matches_interpreter_real_mode_loop(void **state)
{
    (void)state;
    struct pair p = pair_new(0, code_loop16, sizeof(code_loop16));
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_true(p.j->stats.blocks > 0);
    pair_free(&p);
}

static void test_jit_matches_interpreter_flat32_loop(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    pair_free(&p);
}

/* Budgets that end in the middle of blocks: every slice ends at the same instruction. */
static void test_jit_small_budgets_stop_at_the_same_instruction(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    static const uint64_t slices[] = { 1, 2, 3, 5, 7, 11, 13, 64, 100, 1 };
    for (int k = 0; k < 200 && !p.jh->c->halted; k++)
        run_both(&p, slices[k % 10]);
    pair_free(&p);
}

/* out_loop: .l: out 0xF4,al / inc ecx / jmp .l -- each OUT reaches isa-debug-exit, whose
 * device asks the CPU to stop. Block prologues test only the budget, so the helper that ran the
 * OUT must leave the block at once: both engines stop right after it, every round, also once
 * the jump is chained to the block itself. */
static const uint8_t code_out_loop[] = { 0xe6, 0xf4, 0x41, 0xeb, 0xfb };

static void test_jit_device_stop_leaves_a_chained_loop_after_the_instruction(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_out_loop, sizeof(code_out_loop));
    for (uint32_t k = 0; k < 20; k++) {
        int ra = cpu_run(p.ref->c, 1000);
        int rb = jit_run(p.j, p.jh->c, 1000);
        assert_int_equal(ra, CPU_EXIT_STOP);
        assert_int_equal(rb, CPU_EXIT_STOP);
        assert_same_state(&p);
        assert_int_equal(p.jh->c->r[R_ECX], k);
        assert_int_equal(p.jh->c->eip, 0x1002);
    }
    assert_true(p.j->stats.chains > 0);
    pair_free(&p);
}

static void test_jit_smc_store_patches_next_instruction(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_smc_next, sizeof(code_smc_next));
    run_both(&p, 1000);
    assert_int_equal(p.jh->c->r[R_EAX] & 0xFF, 42);
    assert_int_equal(p.jh->c->r[R_EBX] & 0xFF, 42);
    assert_int_equal(p.jh->c->r[R_EDX], 0x12345678);
    pair_free(&p);
}

static void test_jit_smc_loop_rewrites_its_body(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_smc_loop, sizeof(code_smc_loop));
    run_both(&p, 10000);
    /* 1 + 50 + 49 + ... + 2 */
    assert_int_equal(p.jh->c->r[R_EAX], 1 + (50 * 51) / 2 - 1);
    assert_true(p.j->stats.invalidations > 0);
    pair_free(&p);
}

/* A store by the host (DMA, a loader) into translated code is seen too. */
static void test_jit_host_write_invalidates_block(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_smc_next, sizeof(code_smc_next));
    run_both(&p, 1000);
    uint8_t imm = 99;
    pair_restart(&p, 0x1000 + 12); /* .patch: mov al, 42 (now 99), then the rest */
    pair_poke(&p, 0x1000 + 13, &imm, 1);
    run_both(&p, 1000);
    assert_int_equal(p.jh->c->r[R_EAX] & 0xFF, 99);
    pair_free(&p);
}

/* Two non-faulting accesses, then a #GP(0) on the third: the JIT leaves exactly the state the
 * interpreter leaves (registers of the first instructions kept, EIP of the faulting one pushed,
 * the fault delivered, the count of retired instructions). */
static void test_jit_fault_on_third_memory_access_is_precise(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_fault3, sizeof(code_fault3));
    for (int k = 0; k < 2; k++) {
        struct cpu *c = k ? p.jh->c : p.ref->c;
        c->seg[S_DS].limit = 0xFFFF;
    }
    uint32_t v = 0x1234;
    pair_poke(&p, 0x100, &v, 4);
    run_both(&p, 1000);
    assert_int_equal(p.jh->c->r[R_EAX], 0x1245);
    assert_int_equal(p.jh->c->r[R_EDX], 0x652); /* the reset value: mov edx,1 never ran */
    assert_int_equal(h_peek(p.jh, p.jh->c->r[R_ESP], 4), 0);               /* error code */
    assert_int_equal(h_peek(p.jh, p.jh->c->r[R_ESP] + 4, 4), 0x1000 + 18); /* EIP of mov ecx,[0x20000] */
    assert_int_equal(p.jh->c->eip, H_HANDLER + 1);
    pair_free(&p);
}

/* add_self: mov eax,0x80000001 / add eax,eax / mov eax,1 / imul edx,[0x20000],3 / hlt, the
 * IMUL's access past a 64 KiB DS limit (#GP(0)). Only the IMUL's slow path can read the ADD's
 * flags (the IMUL overwrites them), so they are left pending as the ADD's operands; with EAX
 * its own source, the source is the sum by then and cannot be one of them. The fault pushes the
 * ADD's flags: CF, OF and PF. */
static const uint8_t code_add_self[] = { 0xb8, 0x01, 0x00, 0x00, 0x80, 0x01, 0xc0, 0xb8, 0x01, 0x00,
                                         0x00, 0x00, 0x6b, 0x15, 0x00, 0x00, 0x02, 0x00, 0x03, 0xf4 };

static void test_jit_flags_of_add_to_itself_read_by_a_slow_path(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_add_self, sizeof(code_add_self));
    for (int k = 0; k < 2; k++)
        (k ? p.jh->c : p.ref->c)->seg[S_DS].limit = 0xFFFF;
    run_both(&p, 100);
    assert_int_equal(p.jh->c->eip, H_HANDLER + 1);
    uint32_t f = h_peek(p.jh, p.jh->c->r[R_ESP] + 12, 4); /* error code, EIP, CS, EFLAGS */
    assert_int_equal(f & (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF), F_CF | F_OF);
    pair_free(&p);
}

/* Same, stepping one instruction at a time around the fault. */
static void test_jit_fault_single_steps_match(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_fault3, sizeof(code_fault3));
    for (int k = 0; k < 2; k++)
        (k ? p.jh->c : p.ref->c)->seg[S_DS].limit = 0xFFFF;
    for (int k = 0; k < 10; k++)
        run_both(&p, 1);
    pair_free(&p);
}

static void test_jit_chains_direct_jumps(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    run_both(&p, 100000);
    assert_true(p.j->stats.chains > 0);
    /* The loop's CALL and RET go through the dispatcher; its Jcc edges are chained, so there are
     * fewer entries from the dispatcher than blocks run (four a pass: loop head, two Jcc targets
     * in between, after CALL and after RET). */
    assert_true(p.j->stats.entries < 500 * 4);
    pair_free(&p);
}

/* The flags an ALU instruction leaves pending are saved with LAHF and SETO where the host has
 * LAHF in 64-bit mode, else with PUSHF: both give the interpreter's results on loop32 (JO, JNP,
 * ADC and SBB on flags saved in the blocks before). */
static void flags_save_run(int lahf)
{
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    p.j->host_lahf = (uint8_t)lahf;
    static char text[1 << 20];
    run_both_dumped(&p, 100000, text, sizeof(text));
    assert_int_equal(p.jh->c->halted, 1);
    assert_true((strstr(text, "lahf") != NULL) == (lahf != 0));
    pair_free(&p);
}

static void test_jit_flags_saved_by_lahf_match_interpreter(void **state)
{
    (void)state;
    flags_save_run(1);
}

static void test_jit_flags_saved_by_pushf_where_host_lacks_lahf(void **state)
{
    (void)state;
    flags_save_run(0);
}

/* ret_mix (bits 32, org 0x1000; far_f at 0x3000, another guest page): RET, a direct CALL to
 * another page and back, an indirect JMP and a PUSH/RET pair, all of which leave their block to
 * an EIP it cannot chain to:
 *   mov ecx,3000 / xor eax,eax / xor ebx,ebx / .l: call f / add ebx,eax / call far_f /
 *   lea edx,[.t1] / jmp edx / .t1: xor ebx,ecx / mov esi,.t2 / push esi / ret / .t2: dec ecx /
 *   jnz .l / hlt / f: add eax,ecx / ret      far_f: rol eax,3 / add eax,ebx / ret */
static const uint8_t code_ret_mix[] = { 0xb9, 0xb8, 0x0b, 0x00, 0x00, 0x31, 0xc0, 0x31, 0xdb, 0xe8, 0x1c, 0x00, 0x00,
                                        0x00, 0x01, 0xc3, 0xe8, 0xeb, 0x1f, 0x00, 0x00, 0x8d, 0x15, 0x1d, 0x10, 0x00,
                                        0x00, 0xff, 0xe2, 0x31, 0xcb, 0xbe, 0x26, 0x10, 0x00, 0x00, 0x56, 0xc3, 0x49,
                                        0x75, 0xe0, 0xf4, 0x01, 0xc8, 0xc3 };
static const uint8_t code_ret_mix_far[] = { 0xc1, 0xc0, 0x03, 0x01, 0xd8, 0xc3 };

/* The exits to RET targets find the next block by the inline lookup and the direct CALL to
 * another page is chained, neither through the dispatcher, and the result is the
 * interpreter's, also with budgets that end inside blocks. */
static void test_jit_ret_uses_inline_lookup_and_cross_page_call_is_chained(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_ret_mix, sizeof(code_ret_mix));
    pair_poke(&p, 0x3000, code_ret_mix_far, sizeof(code_ret_mix_far));
    static char text[1 << 16];
    run_both_dumped(&p, 1000, text, sizeof(text));
    assert_non_null(strstr(text, "page check of the chained exit to 00003000, on another page"));
    assert_non_null(strstr(text, "prefetcht0")); /* the CALLs', of their RET's jump-cache entry */
    static const uint64_t slices[] = { 1, 3, 7, 64, 5000 };
    for (int k = 0; k < 20; k++)
        run_both(&p, slices[k % 5]);
    run_both(&p, 1000000);
    assert_int_equal(p.jh->c->halted, 1);
    /* Four exits a pass use the lookup: RET from f, RET from far_f, the indirect JMP (a handler
     * call) and the PUSH/RET; CALL far_f is chained, through its page check. */
    assert_true(p.j->stats.ic_hits > 3000 * 3 && p.j->stats.ic_hits < 3000 * 4 + 100);
    assert_int_equal(p.j->stats.guard_fails, 0);
    assert_true(p.j->stats.entries < 3000 * 2);
    pair_free(&p);
}

/* smc_ret (bits 32, org 0x1000; f at 0x3000): f rewrites the instruction its RET returns to,
 * so each RET's target block was invalidated since the last pass; the lookup must never find it.
 *   mov ecx,60 / xor ebx,ebx / lp: call f / site: mov eax,7 / add ebx,eax / dec ecx / jnz lp / hlt
 *   f: mov byte [site+1],cl / ret */
static const uint8_t code_smc_ret[] = { 0xb9, 0x3c, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xe8, 0xf4, 0x1f, 0x00, 0x00,
                                        0xb8, 0x07, 0x00, 0x00, 0x00, 0x01, 0xc3, 0x49, 0x75, 0xf1, 0xf4 };
static const uint8_t code_smc_ret_f[] = { 0x88, 0x0d, 0x0d, 0x10, 0x00, 0x00, 0xc3 };

static void test_jit_invalidated_block_never_reached_by_inline_lookup(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_smc_ret, sizeof(code_smc_ret));
    pair_poke(&p, 0x3000, code_smc_ret_f, sizeof(code_smc_ret_f));
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->r[R_EBX], 60 * 61 / 2); /* each pass adds the CL its f just stored */
    assert_true(p.j->stats.invalidations >= 59);
    /* And directly: a valid block the lookup would find, invalidated, is off the jump cache. */
    int seen = 0;
    for (unsigned i = 0; i < (1u << JIT_JC_BITS); i++) {
        struct jit_block *b = p.j->jc[i].code ? p.j->jc[i].block : NULL;
        if (!b || !b->ninsn)
            continue;
        assert_ptr_equal(b->code, p.j->jc[i].code);
        jit_invalidate_block(p.j, b);
        assert_null(p.j->jc[i].code);
        seen++;
    }
    assert_true(seen > 0);
    pair_free(&p);
}

/* smc_far (bits 32, org 0x1000; f at 0x3000, another page): each pass rewrites the immediate
 * of f's first instruction, then CALLs f, whose block the store invalidated:
 *   mov ecx,50 / xor ebx,ebx / .l: mov [0x3001],cl / call 0x3000 / add ebx,eax / dec ecx /
 *   jnz .l / hlt      f: mov eax,0 / ret */
static const uint8_t code_smc_far[] = { 0xb9, 0x32, 0x00, 0x00, 0x00, 0x31, 0xdb, 0x88, 0x0d, 0x01, 0x30, 0x00,
                                        0x00, 0xe8, 0xee, 0x1f, 0x00, 0x00, 0x01, 0xc3, 0x49, 0x75, 0xf0, 0xf4 };
static const uint8_t code_smc_far_f[] = { 0xb8, 0x00, 0x00, 0x00, 0x00, 0xc3 };

/* A chained exit to another page whose target block is invalidated goes back to the
 * dispatcher, past its page check (which the TLB, unchanged, would pass), and is chained
 * again to the new block. */
static void test_jit_cross_page_chain_dropped_when_its_target_is_invalidated(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_smc_far, sizeof(code_smc_far));
    pair_poke(&p, 0x3000, code_smc_far_f, sizeof(code_smc_far_f));
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->r[R_EBX], 50 * 51 / 2); /* each pass adds the CL it just stored */
    assert_true(p.j->stats.invalidations >= 49);
    assert_true(p.j->stats.chains >= 49); /* the CALL, again after each invalidation */
    pair_free(&p);
}

/* remap (bits 32, org 0x1000, paging on): a loop CALLs linear 0x5000, on another page; halfway,
 * it maps that page to another physical page holding other code and INVLPGs it. The cross-page
 * exit must not go on into the block of the old mapping.
 *   mov ecx,400 / xor ebx,ebx / .l: call 0x5000 / add ebx,eax / cmp ecx,200 / jne .n /
 *   mov dword [PT + 5*4],0x6007 / invlpg [0x5000] / .n: dec ecx / jnz .l / hlt
 * at physical 0x5000: mov eax,1 / add eax,ecx / ret; at 0x6000: mov eax,2 / add eax,ecx / ret */
static const uint8_t code_remap[] = { 0xb9, 0x90, 0x01, 0x00, 0x00, 0x31, 0xdb, 0xe8, 0xf4, 0x3f, 0x00,
                                      0x00, 0x01, 0xc3, 0x81, 0xf9, 0xc8, 0x00, 0x00, 0x00, 0x75, 0x11,
                                      0xc7, 0x05, 0x14, 0x10, 0x01, 0x00, 0x07, 0x60, 0x00, 0x00, 0x0f,
                                      0x01, 0x3d, 0x00, 0x50, 0x00, 0x00, 0x49, 0x75, 0xdd, 0xf4 };
static const uint8_t code_remap_1[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x01, 0xc8, 0xc3 };
static const uint8_t code_remap_2[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0x01, 0xc8, 0xc3 };

/* Paging on in both machines: PD at 0x10000, PT at 0x11000, the first 4 MiB identity-mapped. */
static void paging_on(struct pair *p)
{
    for (int k = 0; k < 2; k++) {
        struct harness *h = k ? p->jh : p->ref;
        uint32_t pde = 0x11000 | 7;
        h_poke(h, 0x10000, &pde, 4);
        for (uint32_t a = 0; a < 0x400000; a += 0x1000) {
            uint32_t pte = a | 7;
            h_poke(h, 0x11000 + (a >> 12) * 4, &pte, 4);
        }
        h->c->cr[3] = 0x10000;
        h->c->cr[0] |= CR0_PG;
    }
}

/* Runs a remap program on both machines: paging on, code_remap_1 and _2 at physical 0x5000 and
 * 0x6000. EBX must end as the sum over ecx 400..1 of (1 + ecx) before the remap, (2 + ecx)
 * after, plus (10 + ecx) a pass when refill (remap_refill's extra call); at least min_hits
 * inline lookups must have hit, and the page checks of the chained calls must have failed
 * once a pass after the remap. */
static void run_remap(const uint8_t *code, size_t len, int refill, uint64_t min_hits)
{
    struct pair p = pair_new(1, code, len);
    paging_on(&p);
    pair_poke(&p, 0x5000, code_remap_1, sizeof(code_remap_1));
    pair_poke(&p, 0x6000, code_remap_2, sizeof(code_remap_2));
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    uint32_t want = 0;
    for (uint32_t c = 400; c >= 1; c--)
        want += (refill ? 10 + c : 0) + (c >= 200 ? 1 : 2) + c;
    assert_int_equal(p.jh->c->r[R_EBX], want);
    assert_true(p.j->stats.ic_hits > min_hits);
    /* The calls into 0x5000's page were chained before the remap; after it, each one's page
     * check fails and it takes the inline lookup. */
    assert_true(p.j->stats.guard_fails >= 199u * (refill ? 2 : 1));
    pair_free(&p);
}

static void test_jit_cross_page_exit_after_remap_of_target_page(void **state)
{
    (void)state;
    run_remap(code_remap, sizeof(code_remap), 0, 300);
}

/* remap_refill: as remap, but each pass first CALLs 0x5005 (add eax,ecx / ret on either page),
 * so that after the remap the fetch TLB holds the new mapping again when CALL 0x5000 looks up
 * its block: the chained CALL's page check finds the page's fetch entry but must refuse its
 * addend, and the inline lookup that follows finds the jump cache's entry for 0x5000, older
 * than the TLB change, naming the block of the old page, which it must refuse on its physical
 * address.
 *   mov ecx,400 / xor ebx,ebx / .l: mov eax,10 / call 0x5005 / add ebx,eax / call 0x5000 /
 *   add ebx,eax / cmp ecx,200 / jne .n / mov dword [PT + 5*4],0x6007 / invlpg [0x5000] /
 *   .n: dec ecx / jnz .l / hlt */
static const uint8_t code_remap_refill[] = {
    0xb9, 0x90, 0x01, 0x00, 0x00, 0x31, 0xdb, 0xb8, 0x0a, 0x00, 0x00, 0x00, 0xe8, 0xf4, 0x3f, 0x00,
    0x00, 0x01, 0xc3, 0xe8, 0xe8, 0x3f, 0x00, 0x00, 0x01, 0xc3, 0x81, 0xf9, 0xc8, 0x00, 0x00, 0x00,
    0x75, 0x11, 0xc7, 0x05, 0x14, 0x10, 0x01, 0x00, 0x07, 0x60, 0x00, 0x00, 0x0f, 0x01, 0x3d, 0x00,
    0x50, 0x00, 0x00, 0x49, 0x75, 0xd1, 0xf4 };

static void test_jit_inline_lookup_refuses_old_page_block_after_tlb_refill(void **state)
{
    (void)state;
    run_remap(code_remap_refill, sizeof(code_remap_refill), 1, 600);
}

/* fill (paging on): a loop CALLs f at 0x5000, which INVLPGs the loop's own code page before
 * its RET: the RET's inline lookup finds no TLB fetch entry for the page it returns to and
 * fills it there, instead of going back to the dispatcher.
 *   mov ecx,200 / xor ebx,ebx / .l: call 0x5000 / dec ecx / jnz .l / hlt
 *   f: invlpg [0x1000] / add ebx,ecx / ret */
static const uint8_t code_fill[] = { 0xb9, 0xc8, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xe8,
                                     0xf4, 0x3f, 0x00, 0x00, 0x49, 0x75, 0xf8, 0xf4 };
static const uint8_t code_fill_f[] = { 0x0f, 0x01, 0x3d, 0x00, 0x10, 0x00, 0x00, 0x01, 0xcb, 0xc3 };

static void test_jit_inline_lookup_fills_the_fetch_entry_it_misses(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_fill, sizeof(code_fill));
    paging_on(&p);
    pair_poke(&p, 0x5000, code_fill_f, sizeof(code_fill_f));
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->r[R_EBX], 200 * 201 / 2);
    assert_true(p.j->stats.ic_fills >= 199);
    assert_true(p.j->stats.ic_misses < 20); /* (INVLPG ends its block: the dispatcher goes on after it) */
    pair_free(&p);
}

/* kept_page (paging on): each pass rewrites the PTE of linear 0x100000 without INVLPG, loads
 * from that page (its TLB entry still has the old mapping; the page is kept for the block's
 * later accesses), loads from two pages with the same TLB index (slow paths whose fills evict
 * the first page's entry from both ways), then adds from the first page again: the interpreter
 * walks the page tables afresh and reads the new mapping, so the JIT must not use the kept page
 * once a slow path has run. Then the PTE is put back, INVLPG'd and the old mapping loaded into
 * the TLB.
 *   mov ecx,2 / mov esi,0x100000 / mov edi,PT + 0x100*4 / mov ebp,0x200000 / xor ebx,ebx /
 *   .l: mov dword [edi],0x380007 / mov eax,[esi] / mov edx,[ebp] / mov edx,[ebp+0x100000] /
 *   add ebx,[esi+4] / mov dword [edi],0x100007 / invlpg [esi] / mov eax,[esi] / dec ecx /
 *   jnz .l / hlt */
static const uint8_t code_kept_page[] = {
    0xb9, 0x02, 0x00, 0x00, 0x00, 0xbe, 0x00, 0x00, 0x10, 0x00, 0xbf, 0x00, 0x14, 0x01, 0x00, 0xbd,
    0x00, 0x00, 0x20, 0x00, 0x31, 0xdb, 0xc7, 0x07, 0x07, 0x00, 0x38, 0x00, 0x8b, 0x06, 0x8b, 0x55,
    0x00, 0x8b, 0x95, 0x00, 0x00, 0x10, 0x00, 0x03, 0x5e, 0x04, 0xc7, 0x07, 0x07, 0x00, 0x10, 0x00,
    0x0f, 0x01, 0x3e, 0x8b, 0x06, 0x49, 0x75, 0xde, 0xf4 };

static void test_jit_kept_page_dropped_after_slow_path_refills_tlb(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_kept_page, sizeof(code_kept_page));
    paging_on(&p);
    uint32_t old_map = 0x1111, new_map = 0x2222;
    pair_poke(&p, 0x100004, &old_map, 4);
    pair_poke(&p, 0x380004, &new_map, 4);
    run_both(&p, 1000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->r[R_EBX], 2 * new_map);
    pair_free(&p);
}

/* two_ways (paging on): a loop adds from two pages whose numbers agree in the TLB's index bits,
 * 0x210000 and 0x310000. The second TLB way holds the one the first does not, and the inline
 * probe finds it there: no slow path a pass.
 *   mov ecx,1000 / xor ebx,ebx / .l: add ebx,[0x210000] / add ebx,[0x310000] / dec ecx /
 *   jnz .l / hlt */
static const uint8_t code_two_ways[] = { 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xdb, 0x03, 0x1d, 0x00, 0x00, 0x21,
                                         0x00, 0x03, 0x1d, 0x00, 0x00, 0x31, 0x00, 0x49, 0x75, 0xf1, 0xf4 };

static void test_jit_probe_finds_page_in_second_tlb_way(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_two_ways, sizeof(code_two_ways));
    paging_on(&p);
    uint32_t one = 1, two = 2;
    pair_poke(&p, 0x210000, &one, 4);
    pair_poke(&p, 0x310000, &two, 4);
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->r[R_EBX], 3000);
    assert_true(p.j->stats.slow_mem < 20); /* the first passes' misses only */
    pair_free(&p);
}

/* smc_two_ways (paging on): each pass stores into the code of f (at 0x210000), loads from
 * 0x310000, which moves 0x210000's TLB entry to the second way, and calls f: the first call
 * translates f, which must send the stores of the entry in the second way to the slow path
 * too, where the write hook sees them, or the next pass's store would miss f's block.
 *   mov ecx,20 / xor ebx,ebx / .l: mov [0x210001],cl / mov edx,[0x310000] / call 0x210000 /
 *   add ebx,eax / dec ecx / jnz .l / hlt        f: mov eax,0 / ret */
static const uint8_t code_smc_two_ways[] = { 0xb9, 0x14, 0x00, 0x00, 0x00, 0x31, 0xdb, 0x88, 0x0d, 0x01,
                                             0x00, 0x21, 0x00, 0x8b, 0x15, 0x00, 0x00, 0x31, 0x00, 0xe8,
                                             0xe8, 0xef, 0x20, 0x00, 0x01, 0xc3, 0x49, 0x75, 0xea, 0xf4 };

static void test_jit_store_through_second_tlb_way_into_code_is_seen(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_smc_two_ways, sizeof(code_smc_two_ways));
    paging_on(&p);
    pair_poke(&p, 0x210000, code_smc_far_f, sizeof(code_smc_far_f));
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->r[R_EBX], 20 * 21 / 2);
    pair_free(&p);
}

/* flags_rs: op eax,[esi] / mov ecx,[esi+4] / mov edx,[esi+0x2000] / add ebx,ebx / hlt, with
 * op ADD, SUB and XOR in turn. The op's flags are overwritten by the ADD, so only a slow path
 * can read them: the third load's, which faults (past DS's limit) and pushes EFLAGS. The op's
 * own first access misses the empty TLB and runs through its slow path, which must leave the
 * flags pending the way the hot path does (as the operands that give them). */
static const uint8_t code_flags_rs[3][14] = {
    { 0x03, 0x06, 0x8b, 0x4e, 0x04, 0x8b, 0x96, 0x00, 0x20, 0x00, 0x00, 0x01, 0xdb, 0xf4 },
    { 0x2b, 0x06, 0x8b, 0x4e, 0x04, 0x8b, 0x96, 0x00, 0x20, 0x00, 0x00, 0x01, 0xdb, 0xf4 },
    { 0x33, 0x06, 0x8b, 0x4e, 0x04, 0x8b, 0x96, 0x00, 0x20, 0x00, 0x00, 0x01, 0xdb, 0xf4 } };

static void test_jit_slow_path_leaves_flags_pending_like_the_hot_path(void **state)
{
    (void)state;
    /* 0x80000000 + 0x80000000: CF, ZF, OF, PF; 0x7FFFFFFF - 0x80000000: CF, SF, OF, PF;
     * 0x7FFFFFFF ^ 0x80000001: SF alone. */
    static const uint32_t eax0[3] = { 0x80000000u, 0x7FFFFFFFu, 0x7FFFFFFFu };
    static const uint32_t mem0[3] = { 0x80000000u, 0x80000000u, 0x80000001u };
    static const uint32_t want[3] = { F_CF | F_ZF | F_OF | F_PF, F_CF | F_SF | F_OF | F_PF, F_SF };
    for (int k = 0; k < 3; k++) {
        struct pair p = pair_new(1, code_flags_rs[k], sizeof(code_flags_rs[k]));
        pair_poke(&p, 0x200000, &mem0[k], 4);
        for (int q = 0; q < 2; q++) {
            struct cpu *c = q ? p.jh->c : p.ref->c;
            c->seg[S_DS].limit = 0x200FFF;
            c->r[R_ESI] = 0x200000;
            c->r[R_EAX] = eax0[k];
            c->r[R_EBX] = 1;
            c->eflags = F_FIXED1 | F_AF;
        }
        run_both(&p, 100);
        assert_int_equal(p.jh->c->eip, H_HANDLER + 1); /* the #GP was delivered */
        uint32_t pushed = h_peek(p.jh, p.jh->c->r[R_ESP] + 12, 4); /* error code, EIP, CS, EFLAGS */
        assert_int_equal(pushed & (F_CF | F_PF | F_ZF | F_SF | F_OF), want[k]);
        assert_true(p.j->stats.slow_mem >= 2);
        pair_free(&p);
    }
}

/* An external interrupt raised between runs is taken at the same boundary by both. */
static int ack_vec(void *opaque)
{
    (void)opaque;
    return 0x20;
}

static void test_jit_interrupt_taken_at_same_boundary(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    for (int k = 0; k < 2; k++) {
        struct cpu *c = k ? p.jh->c : p.ref->c;
        c->intr_ack = ack_vec;
        c->eflags |= F_IF;
    }
    run_both(&p, 777);
    p.ref->c->intr = p.jh->c->intr = 1;
    run_both(&p, 5);
    assert_int_equal(p.jh->c->eip, H_HANDLER + 1);
    pair_free(&p);
}

/* sti_loop: .l: mov eax,1 / sti / inc ebx / inc ecx / cli / jmp .l. Five passes run first, then
 * an interrupt becomes pending: the STI's shadow lets INC EBX run, then the interrupt comes,
 * before INC ECX. Inline STI must leave the instruction after it to a handler call, whose step
 * keeps the shadow; with blocks of two instructions the STI ends its block, whose exit must
 * never be chained to the next block (the dispatcher takes the next step under the shadow). */
static const uint8_t code_sti_loop[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xfb, 0x43, 0x41, 0xfa, 0xeb, 0xf5 };

static void test_jit_sti_shadow_holds_a_pending_interrupt_for_one_instruction(void **state)
{
    (void)state;
    for (int cut = 0; cut < 2; cut++) {
        struct pair p = pair_new(1, code_sti_loop, sizeof(code_sti_loop));
        if (cut)
            jit_set_max_insns(p.j, 2);
        for (int k = 0; k < 2; k++) {
            struct cpu *c = k ? p.jh->c : p.ref->c;
            c->intr_ack = ack_vec;
            c->eflags = F_FIXED1;
        }
        run_both(&p, 5 * 6);
        assert_int_equal(p.jh->c->eip, 0x1000);
        p.ref->c->intr = p.jh->c->intr = 1;
        run_both(&p, 20);
        assert_int_equal(p.jh->c->eip, H_HANDLER + 1);
        assert_int_equal(p.jh->c->r[R_EBX], 6);
        assert_int_equal(p.jh->c->r[R_ECX], 5);
        assert_true(p.j->stats.inline_insns >= 2); /* CLI and STI (and MOV) were translated */
        pair_free(&p);
    }
}

/* lock_loop: mov ecx,20 / .l: lock add [0x2000],ecx / mov eax,[0x2004] / lock cmpxchg [0x2004],ecx
 *   (succeeds) / lock cmpxchg [0x2008],ecx (fails but once) / lock xadd [0x200c],edx /
 *   lock inc dword [0x2010] / pushfd / pop ebx / cli / sti / nop / cmpxchg [0x2014],bl /
 *   xadd [0x2016],si / lock cmpxchg8b [0x2018] / pushfd / pop ebp (its ZF, and a CF it must
 *   not change) / bt [0x2020],ecx / lock bts [0x2020],ecx /
 *   btr ebx,ecx / push ds / pop edi / cdq / setne [0x2024] / mov [0x2028],ds / dec ecx / jnz .l /
 *   hlt
 * All inline: LOCK (one guest CPU: it changes nothing), CMPXCHG, CMPXCHG8B and XADD with memory,
 * BT* with a register offset, PUSHF, PUSH DS, CDQ, SETcc m8, MOV m16, DS, CLI and STI at CPL 0;
 * only the NOP after STI is a handler call (the shadow). */
static const uint8_t code_lock_loop[] = {
    0xb9, 0x14, 0x00, 0x00, 0x00, 0xf0, 0x01, 0x0d, 0x00, 0x20, 0x00, 0x00, 0xa1, 0x04, 0x20, 0x00, 0x00, 0xf0,
    0x0f, 0xb1, 0x0d, 0x04, 0x20, 0x00, 0x00, 0xf0, 0x0f, 0xb1, 0x0d, 0x08, 0x20, 0x00, 0x00, 0xf0, 0x0f, 0xc1,
    0x15, 0x0c, 0x20, 0x00, 0x00, 0xf0, 0xff, 0x05, 0x10, 0x20, 0x00, 0x00, 0x9c, 0x5b, 0xfa, 0xfb, 0x90, 0x0f,
    0xb0, 0x1d, 0x14, 0x20, 0x00, 0x00, 0x66, 0x0f, 0xc1, 0x35, 0x16, 0x20, 0x00, 0x00, 0xf0, 0x0f, 0xc7, 0x0d,
    0x18, 0x20, 0x00, 0x00, 0x9c, 0x5d, 0x0f, 0xa3, 0x0d, 0x20, 0x20, 0x00, 0x00, 0xf0, 0x0f, 0xab, 0x0d, 0x20,
    0x20, 0x00, 0x00, 0x0f, 0xb3, 0xcb, 0x1e, 0x5f, 0x99, 0x0f, 0x95, 0x05, 0x24, 0x20, 0x00, 0x00, 0x8c, 0x1d,
    0x28, 0x20, 0x00, 0x00, 0x49, 0x75, 0x92, 0xf4
};

static void test_jit_locked_ops_cmpxchg_xadd_bt_pushf_cli_sti_run_inline(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_lock_loop, sizeof(code_lock_loop));
    run_both(&p, 1000);
    assert_int_equal(p.jh->c->halted, 1);
    uint64_t handled = 0;
    for (size_t k = 0; k < sizeof(p.j->stats.fallback) / sizeof(p.j->stats.fallback[0]); k++)
        if (k != (0x90u << 3) && k != (0xF4u << 3))
            handled += p.j->stats.fallback[k];
    assert_int_equal(handled, 0);
    assert_int_equal(p.j->stats.fallback[0x90u << 3], 20); /* the NOP after STI */
    pair_free(&p);
}

/* popf_tf: mov eax,1 / pushfd / or dword [esp],0x100 / popfd / inc ebx / inc ecx / hlt. POPF
 * sets TF and ends its block; the next block may not be found by the inline lookup, as the
 * single-step trap after INC EBX is the interpreter's to take. */
static const uint8_t code_popf_tf[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x9c, 0x81, 0x0c, 0x24,
                                        0x00, 0x01, 0x00, 0x00, 0x9d, 0x43, 0x41, 0xf4 };

static void test_jit_popf_that_sets_tf_leaves_for_the_dispatcher(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_popf_tf, sizeof(code_popf_tf));
    run_both(&p, 20);
    assert_int_equal(p.jh->c->eip, H_HANDLER + 1);
    assert_int_equal(p.jh->c->last_intr, p.ref->c->last_intr);
    pair_free(&p);
}

/* seg_loop: mov ecx,50 / xor esi,esi / .l: mov eax,0x10 / mov ds,ax / add esi,[0x2000] /
 *   mov eax,0x28 / mov ds,ax / add esi,[0x2000] / dec ecx / jnz .l / hlt
 * Each MOV DS ends its block (a handler call) and switches DS between flat and based at
 * 0x1FE004, which changes the mode the next block is keyed on: that block is found by the inline
 * lookup, in the new mode (no round trip through the dispatcher), and must be the one that reads
 * through the new DS. */
static const uint8_t code_seg_loop[] = { 0xb9, 0x32, 0x00, 0x00, 0x00, 0x31, 0xf6, 0xb8, 0x10, 0x00, 0x00, 0x00, 0x8e,
                                         0xd8, 0x03, 0x35, 0x00, 0x20, 0x00, 0x00, 0xb8, 0x28, 0x00, 0x00, 0x00, 0x8e,
                                         0xd8, 0x03, 0x35, 0x00, 0x20, 0x00, 0x00, 0x49, 0x75, 0xe3, 0xf4 };

static void test_jit_segment_loads_go_on_by_inline_lookup_in_the_new_mode(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_seg_loop, sizeof(code_seg_loop));
    /* GDT entry 0x28: data, base 0x1FE004, 4 GiB limit (simple but not flat). */
    static const uint32_t d28[4] = { 0, 0, 0xE004FFFFu, 0x00CF921Fu };
    pair_poke(&p, H_GDT + 0x20, d28, sizeof(d28));
    p.ref->c->gdtr.limit = p.jh->c->gdtr.limit = 0x2F;
    run_both(&p, 1000);
    assert_int_equal(p.jh->c->halted, 1);
    uint32_t flat, based;
    phys_read_buf(&p.ref->m->mem, 0x2000, &flat, 4);
    phys_read_buf(&p.ref->m->mem, 0x200004, &based, 4);
    assert_int_not_equal(flat, based);
    assert_int_equal(p.jh->c->r[R_ESI], 50 * (flat + based));
    /* 100 segment loads, a handful of dispatcher entries (the first pass translates) */
    assert_true(p.j->stats.entries < 10);
    assert_true(p.j->stats.ic_hits >= 95);
    pair_free(&p);
}

/* two_way: mov ecx,100 / .l: mov edx,0x3000 / call edx / mov edx,0x13001 / call edx / dec ecx /
 *   jnz .l / hlt, with inc eax / ret at 0x3000 and inc ebx / ret at 0x13001: the two targets of
 * the indirect calls fall in the same jump-cache set, whose two ways hold both, so the inline
 * lookup finds each every time (in a direct-mapped cache they would evict each other and every
 * call would go through the dispatcher). Then a store into the one in way 1 must remove it. */
static const uint8_t code_two_way[] = { 0xb9, 0x64, 0x00, 0x00, 0x00, 0xba, 0x00, 0x30, 0x00, 0x00, 0xff, 0xd2,
                                        0xba, 0x01, 0x30, 0x01, 0x00, 0xff, 0xd2, 0x49, 0x75, 0xef, 0xf4 };

static void test_jit_jump_cache_set_holds_two_targets(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_two_way, sizeof(code_two_way));
    static const uint8_t inc_eax_ret[] = { 0x40, 0xc3 }, inc_ebx_ret[] = { 0x43, 0xc3 };
    pair_poke(&p, 0x3000, inc_eax_ret, sizeof(inc_eax_ret));
    pair_poke(&p, 0x13001, inc_ebx_ret, sizeof(inc_ebx_ret));
    uint32_t salt = jit_jc_salt(jit_mode_of(p.jh->c));
    assert_int_equal(jit_jc_index(0x3000, salt), jit_jc_index(0x13001, salt));
    for (int k = 0; k < 2; k++)
        (k ? p.jh->c : p.ref->c)->r[R_EAX] = (k ? p.jh->c : p.ref->c)->r[R_EBX] = 0;
    run_both(&p, 10000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->r[R_EAX], 100);
    assert_int_equal(p.jh->c->r[R_EBX], 100);
    assert_true(p.j->stats.ic_hits >= 390);
    assert_true(p.j->stats.ic_misses < 10);
    /* inc eax becomes dec eax: its block, in way 1 (filled first), must be dropped from there */
    static const uint8_t dec_eax = 0x48;
    pair_restart(&p, 0x1000);
    pair_poke(&p, 0x3000, &dec_eax, 1);
    run_both(&p, 10000);
    assert_int_equal(p.jh->c->r[R_EAX], 0);
    pair_free(&p);
}

/* Blocks the jump cache lost (another block took their entry) are found again in the block
 * hash, not translated again: the loop run a second time, with the jump cache emptied. */
static void test_jit_blocks_off_the_jump_cache_are_found_in_the_hash(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    run_both(&p, 100000);
    uint64_t blocks = p.j->stats.blocks;
    memset(p.j->jc, 0, sizeof(p.j->jc));
    pair_restart(&p, 0x1000);
    run_both(&p, 100000);
    assert_int_equal(p.j->stats.blocks, blocks);
    pair_free(&p);
}

static void test_jit_cache_flush_when_full(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    jit_destroy(p.j);
    p.j = jit_create(p.jh->c, 65536); /* the smallest cache: the loop's blocks overflow it */
    assert_non_null(p.j);
    p.j->meta_size = 4096;            /* and room for only a few block records */
    run_both(&p, 100000);
    assert_true(p.j->stats.flushes > 0);
    pair_free(&p);
}

/* --verify on a correct translation: every block checked, no divergence. */
static void test_jit_verify_mode_passes_on_correct_code(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    int ra = cpu_run(p.ref->c, 100000);
    int rb = jit_verify_run(p.j, p.jh->c, 100000, stderr);
    assert_int_equal(ra, rb);
    assert_same_state(&p);
    assert_true(p.j->verified_blocks > 1000);
    pair_free(&p);
}

/* --verify finds a wrong translation: the JIT's copy of IMUL's immediate is changed behind its
 * back, and the first block that runs it is reported. */
static void test_jit_verify_mode_reports_first_divergence(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    assert_int_equal(jit_verify_run(p.j, p.jh->c, 200, stderr), CPU_EXIT_BUDGET); /* two passes translated */
    /* imul eax, eax, 7 is translated inline as imul ecx, ecx, 7 (69 C9 imm32): make it * 8 in
     * the JIT's code only. */
    static const uint8_t imul7[] = { 0x69, 0xC9, 0x07, 0x00, 0x00, 0x00 };
    int found = 0;
    for (unsigned h = 0; h < (1u << JIT_HASH_BITS); h++)
        for (struct jit_block *b = p.j->hash[h]; b; b = b->hash_next)
            for (uint32_t k = 0; b->code && k + sizeof(imul7) <= b->code_len; k++)
                if (memcmp(b->code + k, imul7, sizeof(imul7)) == 0) {
                    b->code[k + 2] = 8;
                    found = 1;
                }
    assert_true(found);
    FILE *devnull = fopen("/dev/null", "w");
    assert_int_equal(jit_verify_run(p.j, p.jh->c, 100000, devnull), -1);
    fclose(devnull);
    pair_free(&p);
}

/* --dump-jit prints each block's guest instructions and host code; --jit-stats names the
 * instructions that went through handlers. */
static void test_jit_dump_and_stats_name_what_they_show(void **state)
{
    (void)state;
    struct pair p = pair_new(1, code_loop32, sizeof(code_loop32));
    FILE *f = tmpfile();
    assert_non_null(f);
    jit_set_dump(p.j, f);
    run_both(&p, 100000);
    jit_print_stats(p.j, f);
    static char text[1 << 20];
    rewind(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = 0;
    fclose(f);
    assert_non_null(strstr(text, "guest 0000100A:  mov      ecx, 0x1f4"));
    assert_non_null(strstr(text, "host "));
    assert_non_null(strstr(text, "pushfq"));
    assert_non_null(strstr(text, "imul"));
    assert_non_null(strstr(text, "handler calls"));
    assert_non_null(strstr(text, "cache flushes"));
    pair_free(&p);
}

/* --dump-jit interleaves each guest instruction with its host code and labels the special
 * places: the prologue, a memory access's out-of-line slow path, a handler call, the chain point
 * of a direct jump and the exits to the dispatcher.
 *   nop / mov eax,[0x2004] / add eax,1 / jmp .n / .n: cpuid / hlt
 * (the dispatcher fills the TLB's entry for the code page; the data page's is empty, so the load
 * takes its slow path). */
static void test_jit_dump_labels_prologue_slow_path_chain_point_and_handler(void **state)
{
    (void)state;
    static const uint8_t code[] = { 0x90, 0xA1, 0x04, 0x20, 0x00, 0x00, 0x83, 0xC0, 0x01, 0xEB, 0x00, 0x0F, 0xA2, 0xF4 };
    struct pair p = pair_new(1, code, sizeof(code));
    static char text[1 << 16];
    run_both_dumped(&p, 100, text, sizeof(text));
    assert_non_null(strstr(text, "block eip 00001000"));
    assert_non_null(strstr(text, "block prologue"));
    /* The load's own host code right after it: the address into EAX first. */
    const char *mov = strstr(text, "guest 00001001:  mov      eax, dword ptr [0x2004]\n");
    assert_non_null(mov);
    assert_non_null(strstr(mov, "\n    host "));
    assert_non_null(strstr(mov, "guest 00001006:  add"));
    assert_true(strstr(mov, "\n    host ") < strstr(mov, "guest 00001006:  add"));
    assert_non_null(strstr(text, "cold code: TLB slow path of instruction 1 (00001001 mov)"));
    assert_non_null(strstr(text, "chain point (patchable jmp) to eip 0000100B"));
    assert_non_null(strstr(text, "exit to dispatcher"));
    const char *cpuid = strstr(text, "guest 0000100B:  cpuid");
    assert_non_null(cpuid);
    assert_non_null(strstr(cpuid, "calls the interpreter's handler"));
    pair_free(&p);
}

/* An instruction that crosses into the next page, in a loop: the block before it ends with a tail
 * step (the interpreter fetches and runs it each time), which must see its bytes in the next page
 * change. At 0x4FF0 (flat 32-bit; pair_new's data fills 0x2000-0x2FFF): mov ecx,100 /
 * xor eax,eax / .l: nop x6 / add eax,1 (at 0x4FFD, its imm32 ends at 0x5001) / mov [0x5000],cl /
 * dec ecx / jnz .l / hlt: each pass adds 1 + (previous CL << 16). */
static void test_jit_page_crossing_instruction_runs_in_tail_step(void **state)
{
    (void)state;
    static uint8_t code[0x4020];
    static const uint8_t body[] = { 0xb9, 0x64, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90,
                                    0x05, 0x01, 0x00, 0x00, 0x00, 0x88, 0x0d, 0x00, 0x50, 0x00, 0x00, 0x49, 0x75,
                                    0xec, 0xf4 };
    memset(code, 0x90, sizeof(code));
    code[0] = 0xe9; /* jmp 0x4FF0 */
    uint32_t rel = 0x4FF0 - 0x1005;
    memcpy(code + 1, &rel, 4);
    memcpy(code + 0x3FF0, body, sizeof(body));
    struct pair p = pair_new(1, code, sizeof(code));
    run_both(&p, 100000);
    assert_int_equal(p.jh->c->halted, 1);
    uint32_t expect = 0;
    for (uint32_t cl = 100, prev = 0; cl > 0; cl--) {
        expect += 1 + (prev << 16);
        prev = cl;
    }
    assert_int_equal(p.jh->c->r[R_EAX], expect);
    assert_true(p.j->stats.tail_steps >= 99);
    /* each pass changes the instruction's immediate (in the second page): decoded anew each time,
     * as nothing watches those bytes, and then run from that decode */
    assert_true(p.j->stats.tail_decoded >= 99);
    pair_free(&p);
}

/* A page-crossing MOV DS run by a tail step makes DS non-flat; the block after it was translated
 * (on the first pass) with DS flat. The inline lookup takes the running blocks' mode for the
 * CPU's, so the tail step must make the new mode the running one (or leave for the dispatcher):
 * the second pass reads [0x2000] through DS's base 0x1FE004.
 *   0x1000: mov ecx,2 / mov edx,0x10 / .again: jmp 0x4FFA
 *   0x4FFA: mov eax,edx / nop / nop / nop / mov ds,ax (8E D8 across 0x5000)
 *   0x5001: mov ebx,[0x2000] / add esi,ebx / mov edx,0x28 / dec ecx / jnz .again / hlt */
static void test_jit_tail_step_that_changes_mode_looks_up_in_the_new_mode(void **state)
{
    (void)state;
    static uint8_t code[0x4020];
    static const uint8_t head[] = { 0xb9, 0x02, 0x00, 0x00, 0x00, 0xba, 0x10, 0x00, 0x00, 0x00, 0xe9 };
    static const uint8_t tail[] = { 0x89, 0xd0, 0x90, 0x90, 0x90, 0x8e, 0xd8, 0x8b, 0x1d, 0x00, 0x20, 0x00, 0x00,
                                    0x01, 0xde, 0xba, 0x28, 0x00, 0x00, 0x00, 0x49, 0x0f, 0x85 };
    memset(code, 0x90, sizeof(code));
    memcpy(code, head, sizeof(head));
    uint32_t rel = 0x4FFA - 0x100F;
    memcpy(code + sizeof(head), &rel, 4);
    memcpy(code + 0x3FFA, tail, sizeof(tail));
    rel = 0x100A - (0x5001 + 20 + 4); /* jnz rel32 ends at 0x5001 + 20 + 4 */
    memcpy(code + 0x3FFA + sizeof(tail), &rel, 4);
    code[0x3FFA + sizeof(tail) + 4] = 0xf4;
    struct pair p = pair_new(1, code, sizeof(code));
    /* GDT entry 0x28: data, base 0x1FE004, 4 GiB limit (simple but not flat). */
    static const uint32_t d28[4] = { 0, 0, 0xE004FFFFu, 0x00CF921Fu };
    pair_poke(&p, H_GDT + 0x20, d28, sizeof(d28));
    p.ref->c->gdtr.limit = p.jh->c->gdtr.limit = 0x2F;
    run_both(&p, 1000);
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->seg[S_DS].base, 0x1FE004);
    uint32_t flat, based;
    phys_read_buf(&p.ref->m->mem, 0x2000, &flat, 4);
    phys_read_buf(&p.ref->m->mem, 0x200004, &based, 4);
    assert_int_not_equal(flat, based);
    assert_int_equal(p.jh->c->r[R_EBX], based);
    assert_true(p.j->stats.tail_steps >= 2);
    pair_free(&p);
}

/* Flags carried from block to block (translate_inline.c, tr_flags_out): in each program a block
 * A ends with its flags pending (a JMP to the next instruction) and B, which follows, must take
 * them into account where it first reads EFLAGS or calls into C. The loop runs three times: B is
 * entered with A's flags still pending only once both exits are chained (the dispatcher merges
 * what a block leaves before it enters the next).
 * carry_cold: mov edi,3 / A: cmp eax,ebx / jmp $+2 / B: inc dword [esi] / pushfd /
 *   add esi,0x1000 / dec edi / jnz A / hlt. Each INC is to a new page, so it misses the TLB:
 *   its slow path's handler keeps CF, which must be the CMP's (the carried flags merged first),
 *   and PUSHFD stores the INC's flags, not the CMP's merged again after them.
 * carry_inc: mov edi,3 / A: cmp eax,ebx / jmp $+2 / B: inc ecx / pushfd / add esi,0 / pushfd /
 *   dec edi / jnz A / hlt. INC keeps CF, which is the CMP's (1), still pending in A's image, not
 *   the one in EFLAGS (the ADD's 0, merged by the second PUSHFD).
 * carry_sahf: mov ecx,3 / A: inc eax / jmp $+2 / B: cmp esi,edx / sahf / pushfd / loop A / hlt.
 *   The CMP's flags take the INC's place in the pending slot, then SAHF merges and overwrites
 *   them: nothing may be left pending that a later merge (here the HLT's block's) would put
 *   over SAHF's flags. */
static const uint8_t code_carry_cold[] = { 0xbf, 0x03, 0x00, 0x00, 0x00, 0x39, 0xd8, 0xeb, 0x00, 0xff, 0x06,
                                           0x9c, 0x81, 0xc6, 0x00, 0x10, 0x00, 0x00, 0x4f, 0x75, 0xf0, 0xf4 };
static const uint8_t code_carry_inc[] = { 0xbf, 0x03, 0x00, 0x00, 0x00, 0x39, 0xd8, 0xeb, 0x00, 0x41,
                                          0x9c, 0x83, 0xc6, 0x00, 0x9c, 0x4f, 0x75, 0xf3, 0xf4 };
static const uint8_t code_carry_sahf[] = { 0xb9, 0x03, 0x00, 0x00, 0x00, 0x40, 0xeb, 0x00,
                                           0x39, 0xd6, 0x9e, 0x9c, 0xe2, 0xf7, 0xf4 };

static void carry_run(const uint8_t *code, size_t len, uint32_t eax, uint32_t ebx, uint32_t edx, uint32_t want)
{
    struct pair p = pair_new(1, code, len);
    uint32_t m = 0xFFFFFFFFu; /* INC of it: ZF, PF, AF; CF stays */
    for (uint32_t a = 0x200000; a < 0x203000; a += 0x1000)
        pair_poke(&p, a, &m, 4);
    for (int q = 0; q < 2; q++) {
        struct cpu *c = q ? p.jh->c : p.ref->c;
        c->r[R_EAX] = eax;
        c->r[R_EBX] = ebx;
        c->r[R_EDX] = edx;
        c->r[R_ESI] = 0x200000;
        c->eflags = F_FIXED1;
    }
    run_both(&p, 100); /* the pushed flags too: the stack is in the first MiB */
    assert_int_equal(p.jh->c->halted, 1);
    assert_int_equal(p.jh->c->eflags & (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF), want);
    assert_true(p.j->stats.chains >= 2);
    assert_int_equal(p.j->pmask, 0); /* the dispatcher merged what the last block left */
    pair_free(&p);
}

static void test_jit_flags_carried_into_a_block_are_merged_before_its_slow_path(void **state)
{
    (void)state;
    /* CMP 1, 2: CF, SF, AF, PF; INC of 0xFFFFFFFF: ZF, PF, AF and that CF. At the end the last
     * ADD's CF (0) and DEC of 1: ZF, PF. */
    carry_run(code_carry_cold, sizeof(code_carry_cold), 1, 2, 0, F_ZF | F_PF);
}

static void test_jit_flags_carried_give_the_carry_that_inc_keeps(void **state)
{
    (void)state;
    /* At the end the ADD's CF (0) and DEC of 1: ZF, PF. */
    carry_run(code_carry_inc, sizeof(code_carry_inc), 1, 2, 0, F_ZF | F_PF);
}

static void test_jit_flags_carried_then_replaced_are_not_merged_again(void **state)
{
    (void)state;
    /* INC: OF, SF, AF, PF the first time; CMP 5, 5: ZF, PF; SAHF with AH 0 (EAX 0x80000000 and
     * more) clears all of them but OF, which the CMP cleared. */
    carry_run(code_carry_sahf, sizeof(code_carry_sahf), 0x7FFFFFFF, 0, 5, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jit_matches_interpreter_real_mode_loop),
        cmocka_unit_test(test_jit_page_crossing_instruction_runs_in_tail_step),
        cmocka_unit_test(test_jit_tail_step_that_changes_mode_looks_up_in_the_new_mode),
        cmocka_unit_test(test_jit_matches_interpreter_flat32_loop),
        cmocka_unit_test(test_jit_small_budgets_stop_at_the_same_instruction),
        cmocka_unit_test(test_jit_device_stop_leaves_a_chained_loop_after_the_instruction),
        cmocka_unit_test(test_jit_smc_store_patches_next_instruction),
        cmocka_unit_test(test_jit_smc_loop_rewrites_its_body),
        cmocka_unit_test(test_jit_host_write_invalidates_block),
        cmocka_unit_test(test_jit_fault_on_third_memory_access_is_precise),
        cmocka_unit_test(test_jit_fault_single_steps_match),
        cmocka_unit_test(test_jit_flags_of_add_to_itself_read_by_a_slow_path),
        cmocka_unit_test(test_jit_chains_direct_jumps),
        cmocka_unit_test(test_jit_flags_saved_by_lahf_match_interpreter),
        cmocka_unit_test(test_jit_flags_saved_by_pushf_where_host_lacks_lahf),
        cmocka_unit_test(test_jit_ret_uses_inline_lookup_and_cross_page_call_is_chained),
        cmocka_unit_test(test_jit_invalidated_block_never_reached_by_inline_lookup),
        cmocka_unit_test(test_jit_cross_page_exit_after_remap_of_target_page),
        cmocka_unit_test(test_jit_cross_page_chain_dropped_when_its_target_is_invalidated),
        cmocka_unit_test(test_jit_inline_lookup_refuses_old_page_block_after_tlb_refill),
        cmocka_unit_test(test_jit_slow_path_leaves_flags_pending_like_the_hot_path),
        cmocka_unit_test(test_jit_flags_carried_into_a_block_are_merged_before_its_slow_path),
        cmocka_unit_test(test_jit_flags_carried_give_the_carry_that_inc_keeps),
        cmocka_unit_test(test_jit_flags_carried_then_replaced_are_not_merged_again),
        cmocka_unit_test(test_jit_kept_page_dropped_after_slow_path_refills_tlb),
        cmocka_unit_test(test_jit_inline_lookup_fills_the_fetch_entry_it_misses),
        cmocka_unit_test(test_jit_probe_finds_page_in_second_tlb_way),
        cmocka_unit_test(test_jit_store_through_second_tlb_way_into_code_is_seen),
        cmocka_unit_test(test_jit_interrupt_taken_at_same_boundary),
        cmocka_unit_test(test_jit_jump_cache_set_holds_two_targets),
        cmocka_unit_test(test_jit_blocks_off_the_jump_cache_are_found_in_the_hash),
        cmocka_unit_test(test_jit_sti_shadow_holds_a_pending_interrupt_for_one_instruction),
        cmocka_unit_test(test_jit_locked_ops_cmpxchg_xadd_bt_pushf_cli_sti_run_inline),
        cmocka_unit_test(test_jit_popf_that_sets_tf_leaves_for_the_dispatcher),
        cmocka_unit_test(test_jit_segment_loads_go_on_by_inline_lookup_in_the_new_mode),
        cmocka_unit_test(test_jit_cache_flush_when_full),
        cmocka_unit_test(test_jit_verify_mode_passes_on_correct_code),
        cmocka_unit_test(test_jit_verify_mode_reports_first_divergence),
        cmocka_unit_test(test_jit_dump_and_stats_name_what_they_show),
        cmocka_unit_test(test_jit_dump_labels_prologue_slow_path_chain_point_and_handler),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

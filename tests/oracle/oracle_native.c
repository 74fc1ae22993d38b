/* The host-CPU side of the oracle, built with -m32 and run by oracle_run: executes each test case's
 * instruction natively in 32-bit user mode at fixed addresses and reports registers, EFLAGS, the
 * changed data-page bytes and any exception (the kernel's trap number). Protocol: oracle_proto.h. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "oracle_proto.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#if !defined(__i386__)
#error "oracle_native must be built with -m32"
#endif

/* The context page: the stub's operands and results, and what the fault handler needs. The signal
 * handler can only find its way back through a fixed place, and this page is one (no C globals). */
#define CTX_IN (OC_CTX + 0)        /* 8 registers the stub loads */
#define CTX_IN_EFL (OC_CTX + 32)
#define CTX_HOST_ESP (OC_CTX + 36)
#define CTX_OUT (OC_CTX + 64)      /* 8 registers the stub stores */
#define CTX_OUT_EFL (OC_CTX + 96)
#define CTX_OUT_EIP (OC_CTX + 100) /* written by the landing pad execution reached */
#define CTX_FAULT (OC_CTX + 0x100) /* struct fault_rec */
#define CTX_JMPBUF (OC_CTX + 0x400)
#define SAVE_ADDR (OC_CODE + 0x100)

struct fault_rec {
    uint32_t regs[8];
    uint32_t eflags, eip, trapno, err;
};

static void put8(uint8_t **p, uint8_t b) { *(*p)++ = b; }
static void put32(uint8_t **p, uint32_t v)
{
    memcpy(*p, &v, 4);
    *p += 4;
}
/* Opcode bytes then an absolute address: the moffs and ModRM mod=0 rm=5 forms. */
static void op_abs(uint8_t **p, const char *op, size_t n, uint32_t addr)
{
    for (size_t i = 0; i < n; i++)
        put8(p, (uint8_t)op[i]);
    put32(p, addr);
}
static void jmp_to(uint8_t **p, uint32_t target)
{
    put8(p, 0xE9);
    put32(p, target - ((uint32_t)(uintptr_t)*p + 4));
}

/* A landing pad: records its own address as the final EIP, then joins the save routine. */
static void write_pad(uint32_t at)
{
    uint8_t *p = (uint8_t *)(uintptr_t)at;
    op_abs(&p, "\xC7\x05", 2, CTX_OUT_EIP);
    put32(&p, at);
    jmp_to(&p, SAVE_ADDR);
}

/* Register loads in ModRM reg order; ESP is loaded last since the instruction's stack may be the
 * data page, and flags first because POPFD needs the host stack. */
static void write_stubs(void)
{
    static const char load[8][2] = { "\x8B\x05", "\x8B\x0D", "\x8B\x15", "\x8B\x1D",
                                     "\x8B\x25", "\x8B\x2D", "\x8B\x35", "\x8B\x3D" };
    static const char store[8][2] = { "\x89\x05", "\x89\x0D", "\x89\x15", "\x89\x1D",
                                      "\x89\x25", "\x89\x2D", "\x89\x35", "\x89\x3D" };
    uint8_t *p = (uint8_t *)(uintptr_t)OC_CODE;
    memset(p, 0xCC, OC_PAGE);
    put8(&p, 0x60); /* pushad */
    put8(&p, 0x9C); /* pushfd */
    op_abs(&p, "\x89\x25", 2, CTX_HOST_ESP);
    op_abs(&p, "\xFF\x35", 2, CTX_IN_EFL); /* push [in_efl]; popfd */
    put8(&p, 0x9D);
    for (int r = 0; r < 8; r++)
        if (r != 4)
            op_abs(&p, load[r], 2, CTX_IN + 4u * r);
    op_abs(&p, load[4], 2, CTX_IN + 16);
    jmp_to(&p, OC_INSN);

    p = (uint8_t *)(uintptr_t)SAVE_ADDR;
    for (int r = 0; r < 8; r++)
        op_abs(&p, store[r], 2, CTX_OUT + 4u * r);
    op_abs(&p, "\x8B\x25", 2, CTX_HOST_ESP);
    put8(&p, 0x9C); /* pushfd; pop [out_efl] */
    op_abs(&p, "\x8F\x05", 2, CTX_OUT_EFL);
    put8(&p, 0x9D); /* popfd: the host's flags (DF clear) */
    put8(&p, 0x61); /* popad */
    put8(&p, 0xC3);

    write_pad(OC_PAD_FWD);
    write_pad(OC_PAD_BACK);
}

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    const ucontext_t *uc = ucv;
    const greg_t *g = uc->uc_mcontext.gregs;
    struct fault_rec *f = (struct fault_rec *)(uintptr_t)CTX_FAULT;
    static const int order[8] = { REG_EAX, REG_ECX, REG_EDX, REG_EBX, REG_ESP, REG_EBP, REG_ESI, REG_EDI };
    for (int i = 0; i < 8; i++)
        f->regs[i] = (uint32_t)g[order[i]];
    f->eflags = (uint32_t)g[REG_EFL];
    f->eip = (uint32_t)g[REG_EIP];
    f->trapno = (uint32_t)g[REG_TRAPNO];
    f->err = (uint32_t)g[REG_ERR];
    siglongjmp(*(sigjmp_buf *)(uintptr_t)CTX_JMPBUF, 1);
}

static int map_fixed(uint32_t addr, int prot)
{
    void *p = mmap((void *)(uintptr_t)addr, OC_PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    return p == (void *)(uintptr_t)addr ? 0 : -1;
}

static int setup(void)
{
    if (map_fixed(OC_DATA, PROT_READ | PROT_WRITE) || map_fixed(OC_CODE, PROT_READ | PROT_WRITE | PROT_EXEC) ||
        map_fixed(OC_CTX, PROT_READ | PROT_WRITE))
        return -1;
    write_stubs();
    /* The handler runs on its own stack: the instruction under test may have pointed ESP anywhere. */
    stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0 };
    if (!ss.ss_sp)
        return -1;
    if (sigaltstack(&ss, NULL))
        return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    static const int sigs[] = { SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGTRAP };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL))
            return -1;
    return 0;
}

static void run_case(const struct oc_case *k, uint8_t *before, struct oc_result *res, struct oc_diff *diff)
{
    uint8_t *data = (uint8_t *)(uintptr_t)OC_DATA;
    oc_build_page(k, before);
    memcpy(data, before, OC_PAGE);
    uint8_t *insn = (uint8_t *)(uintptr_t)OC_INSN;
    memcpy(insn, k->code, k->len);
    write_pad(OC_INSN + k->len); /* falling through ends here */
    memcpy((void *)(uintptr_t)CTX_IN, k->regs, 32);
    memcpy((void *)(uintptr_t)CTX_IN_EFL, &k->eflags, 4);
    memset(res, 0, sizeof(*res));
    if (sigsetjmp(*(sigjmp_buf *)(uintptr_t)CTX_JMPBUF, 0) == 0) {
        ((void (*)(void))(uintptr_t)OC_CODE)();
        memcpy(res->regs, (void *)(uintptr_t)CTX_OUT, 32);
        memcpy(&res->eflags, (void *)(uintptr_t)CTX_OUT_EFL, 4);
        memcpy(&res->eip, (void *)(uintptr_t)CTX_OUT_EIP, 4);
        res->vector = -1;
    } else {
        const struct fault_rec *f = (const struct fault_rec *)(uintptr_t)CTX_FAULT;
        memcpy(res->regs, f->regs, 32);
        res->eflags = f->eflags;
        res->eip = f->eip;
        res->vector = (int32_t)f->trapno;
        res->err = f->err;
    }
    res->ndiff = oc_page_diff(before, data, diff);
}

int main(void)
{
    struct oc_hello hello = { .magic = OC_MAGIC, .ok = setup() == 0 };
    uint16_t s[6];
    __asm__ volatile("mov %%es, %0; mov %%cs, %1; mov %%ss, %2; mov %%ds, %3; mov %%fs, %4; mov %%gs, %5"
                     : "=r"(s[0]), "=r"(s[1]), "=r"(s[2]), "=r"(s[3]), "=r"(s[4]), "=r"(s[5]));
    memcpy(hello.sel, s, sizeof(s));
    if (fwrite(&hello, sizeof(hello), 1, stdout) != 1 || fflush(stdout))
        return 1;
    if (!hello.ok)
        return 1;
    uint8_t before[OC_PAGE];
    struct oc_diff diff[OC_MAX_DIFF];
    uint32_t count;
    /* Batches: a count, that many cases; the results go back before the next batch is read. */
    while (fread(&count, 4, 1, stdin) == 1) {
        for (uint32_t i = 0; i < count; i++) {
            struct oc_case k;
            struct oc_result res;
            if (fread(&k, sizeof(k), 1, stdin) != 1)
                return 1;
            run_case(&k, before, &res, diff);
            uint32_t n = res.ndiff > OC_MAX_DIFF ? OC_MAX_DIFF : res.ndiff;
            if (fwrite(&res, sizeof(res), 1, stdout) != 1 || fwrite(diff, sizeof(diff[0]), n, stdout) != n)
                return 1;
        }
        if (fflush(stdout))
            return 1;
    }
    return 0;
}

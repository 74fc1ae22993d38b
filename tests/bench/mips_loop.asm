; Guest workload for `make bench`: an endless loop with a mix typical of compiled integer code
; (loads and stores, ALU, compare-and-branch, calls, pushes) in 32-bit operand size, real mode.
; The host side (bench_mips.c) runs it for a fixed number of instructions and reports MIPS.
%include "lib.inc"
cpu 686

TEST_BEGIN
    xor esi, esi
    mov edi, 0x1000
.outer:
    mov ecx, 1000
.inner:
    mov eax, [di]
    add eax, ecx
    xor eax, 0x5A5A5A5A
    mov [di + 4], eax
    lea ebx, [eax + ecx * 2 + 7]
    cmp ebx, eax
    jb .skip
    inc esi
.skip:
    call leaf
    push eax
    pop edx
    and edx, 0xFF
    add di, 4
    and di, 0x0FFC
    or di, 0x1000
    dec ecx
    jnz .inner
    jmp .outer

leaf:
    sub eax, esi
    ret

TEST_END

; Guest workload for `make bench`: paging under load. Two address spaces share an identity-mapped
; first 4 MiB and map linear 4-8 MiB to different frames; the loop reads and writes every page of
; that window (1024 pages: four times what the 256-entry TLB holds) and then switches address space
; with a CR3 write, as a scheduler would. bench_mips.c reports MIPS and the TLB hit rate.
; Intel SDM Vol. 3A §4.3 (32-bit paging), §4.10.4 (CR3 writes flush non-global translations).
%include "lib.inc"
cpu 686

PD_A equ 0x100000
PD_B equ 0x101000
PT_ID equ 0x102000          ; linear 0-4 MiB -> physical 0-4 MiB
PT_A equ 0x103000           ; space A: linear 4-8 MiB -> physical 8-12 MiB
PT_B equ 0x104000           ; space B: linear 4-8 MiB -> physical 12-16 MiB
WINDOW equ 0x400000

TEST_BEGIN
    o32 lgdt [cs:gdt_ptr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x08:pm32
bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x90000
    mov edi, PT_ID
    mov eax, 0x003              ; present, writable, supervisor
.id:
    stosd
    add eax, 0x1000
    cmp edi, PT_ID + 4096
    jne .id
    mov eax, 0x800003
.a:
    stosd                       ; PT_A follows PT_ID
    add eax, 0x1000
    cmp edi, PT_A + 4096
    jne .a
.b:
    stosd                       ; and PT_B follows PT_A: 0xC00003 onwards
    add eax, 0x1000
    cmp edi, PT_B + 4096
    jne .b
    xor eax, eax
    mov edi, PD_A
    mov ecx, 2048
    rep stosd
    mov dword [PD_A], PT_ID | 3
    mov dword [PD_A + 4], PT_A | 3
    mov dword [PD_B], PT_ID | 3
    mov dword [PD_B + 4], PT_B | 3
    mov eax, PD_A
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .outer
.outer:
    mov ebx, WINDOW
    mov ecx, 1024
.page:
    mov eax, [ebx]
    add eax, ecx
    mov [ebx + 4], eax
    mov edx, [ebx + 0x800]
    xor edx, eax
    mov [ebx + 0x804], edx
    add [ebx + 8], edx
    lea esi, [eax + edx * 2]
    shr esi, 3
    mov [ebx + 0xFFC], esi
    add ebx, 0x1000
    dec ecx
    jnz .page
    mov eax, cr3
    xor eax, PD_A ^ PD_B        ; the other address space
    mov cr3, eax
    jmp .outer

    align 8
gdt:
    dq 0
    dd 0x0000FFFF, 0x00CF9A0F   ; 08: 32-bit code, base F0000, limit 4 GiB
    dd 0x0000FFFF, 0x00CF9200   ; 10: flat data
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1
    dd 0xF0000 + gdt
bits 16
TEST_END

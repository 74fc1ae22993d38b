; Unreal mode: a segment limit loaded in protected mode stays in the hidden descriptor cache after
; the return to real mode, where a load only changes the base (Intel SDM Vol. 3A §3.4.3, §20.1.1).
; Also checks that a segment still holding a 64 KiB limit faults (#GP) past it, at the right IP.
%include "lib.inc"
cpu 686

TEST_BEGIN
    PUTS "unreal mode: a 4 GiB DS limit survives the return to real mode", 10
    o32 lgdt [cs:gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    mov bx, 0x08
    mov ds, bx                          ; protected mode: flat 4 GiB data descriptor
    mov bx, 0x10
    mov fs, bx                          ; and a 64 KiB one at base 0x300000
    and al, 0xFE
    mov cr0, eax
    xor bx, bx
    mov ds, bx                          ; real mode again: base 0, the cached limit stays

    mov dword [dword 0x200000], 0x12345678
    mov eax, [dword 0x200000]
    CHECK eax, 0x12345678, 1
    mov byte [dword 0x300005], 0xA5     ; FS's base was loaded from the descriptor
    mov al, [fs:5]
    CHECK al, 0xA5, 2
    mov ax, fs
    CHECK ax, 0x10, 3

    PUTS "a 64 KiB segment faults past its limit", 10
    mov word [13 * 4], gp_handler
    mov word [13 * 4 + 2], 0xF000
fault_insn:
    mov eax, [es:dword 0x10000]
    EXIT 4

gp_handler:
    pop ax                              ; the pushed IP: a fault returns to the instruction
    CHECK ax, fault_insn, 5
    pop ax
    CHECK ax, 0xF000, 6
    PASS

align 8
gdt:
    dq 0
    dq 0x00CF92000000FFFF               ; base 0, limit 4 GiB (G=1), read/write data, DPL 0
    dq 0x004092300000FFFF               ; base 0x300000, limit 0xFFFF, byte-granular
gdt_desc:
    dw 3 * 8 - 1
    dd 0xF0000 + gdt

TEST_END

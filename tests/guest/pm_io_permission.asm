; Guest test: I/O permission at CPL > IOPL in protected mode. The TSS I/O bitmap for IN, OUT, INS
; and OUTS (every port of a multi-byte access, a set bit for any of them is #GP(0), ports whose
; two bitmap bytes are not both within the TSS limit are #GP(0)), IOPL = CPL bypassing the map,
; and CLI, STI and POPF with IF and IOPL at CPL > IOPL and at CPL = IOPL.
; Intel SDM Vol. 1 §19.5 (I/O privilege level, I/O permission bitmap); Vol. 2 IN, OUT, INS, OUTS,
; CLI, STI, POPF.
%include "lib.inc"
%include "pm.inc"
cpu 686

MAP equ TSS_BASE + TSS_IOMAP  ; byte n covers ports 8n..8n+7
PORT equ 0x300              ; no device decodes 0x300-0x30F
IF_ equ 0x200
IOPL3 equ 0x3000

; EFL reg: reg = EFLAGS & (IF | IOPL).
%macro EFL 1
    pushfd
    pop %1
    and %1, IF_ | IOPL3
%endmacro

TEST_BEGIN
    mov al, 0xFF                ; no interrupts from the PIC when the tests set IF
    out 0x21, al
    out 0xA1, al
    PM_ENTER
    PUTS32 "pm_io_permission: in protected mode", 10

    ; ---- CPL 3, IOPL 0: the bitmap decides ----
    TO_RING3 0
    mov edx, PORT
    in al, dx
    out dx, al
    CHKD "clear bitmap bit: IN and OUT at CPL 3 > IOPL are allowed", edx, PORT
    TO_RING0
    or byte [MAP + PORT / 8], 1                 ; port 0x300
    or byte [MAP + 0x84 / 8], 1 << (0x84 & 7)   ; port 0x84
    TO_RING3 0
    mov edx, PORT
    PM_EXPECT "IN AL, DX with the port's bit set is #GP(0)", 13, 0, in al, dx
    PM_EXPECT "OUT DX, AL with the port's bit set is #GP(0)", 13, 0, out dx, al
    PM_EXPECT "IN AL, imm8 with the port's bit set is #GP(0)", 13, 0, in al, 0x84
    PM_EXPECT "OUT imm8, AL with the port's bit set is #GP(0)", 13, 0, out 0x84, al
    in al, 0x85
    CHKD "IN from the neighbouring port (bit clear) is allowed", edx, PORT
    mov edx, PORT + 1
    in al, dx
    mov edx, PORT - 1
    PM_EXPECT "IN AX from the port below: the second port's bit is checked too", 13, 0, in ax, dx
    mov edx, PORT - 3
    PM_EXPECT "IN EAX covering the port in its fourth byte is #GP(0)", 13, 0, in eax, dx
    mov edx, PORT - 4
    in eax, dx
    CHKD "IN EAX of four ports with clear bits is allowed", edx, PORT - 4
    mov edx, PORT
    mov edi, 0x7800
    mov esi, 0x7800
    mov ecx, 4
    PM_EXPECT "INSB with the port's bit set is #GP(0)", 13, 0, insb
    CHKD "faulting INSB leaves EDI", edi, 0x7800
    PM_EXPECT "OUTSB with the port's bit set is #GP(0)", 13, 0, outsb
    CHKD "faulting OUTSB leaves ESI", esi, 0x7800
    PM_EXPECT "REP INSB with the port's bit set is #GP(0)", 13, 0, rep insb
    CHKD "faulting REP INSB leaves ECX", ecx, 4
    mov edx, PORT + 1
    rep insb
    CHKD "REP INSB from an allowed port runs", ecx, 0
    CHKD "REP INSB from an allowed port advances EDI", edi, 0x7804
    TO_RING0
    and byte [MAP + PORT / 8], ~1
    or byte [MAP + (PORT + 8) / 8], 1           ; port 0x308: bit 0 of the next map byte
    TO_RING3 0
    mov edx, PORT + 7
    PM_EXPECT "IN AX whose second port's bit is in the next map byte is #GP(0)", 13, 0, in ax, dx
    in al, dx
    CHKD "IN AL of the first of the two is allowed", edx, PORT + 7

    ; ---- IOPL = CPL: no bitmap ----
    TO_RING0
    TO_RING3 3
    mov edx, PORT + 8
    in al, dx
    in al, 0x84
    CHKD "CPL 3 with IOPL 3 ignores the bitmap", edx, PORT + 8

    ; ---- bitmap bytes past the TSS limit ----
    TO_RING0
    mov byte [GDT_BASE + SEL_TSS + 5], 0x89     ; available again, to reload TR
    mov word [GDT_BASE + SEL_TSS], TSS_IOMAP + PORT / 8    ; map bytes for ports 0-0x307
    mov ax, SEL_TSS
    ltr ax
    and byte [MAP + (PORT + 8) / 8], ~1
    TO_RING3 0
    mov edx, PORT - 1
    in al, dx
    CHKD "a port whose two map bytes are within the limit is allowed", edx, PORT - 1
    mov edx, PORT
    PM_EXPECT "a port whose map byte is the last one in the limit is #GP(0) (two bytes read)", 13, 0, in al, dx
    mov edx, PORT + 8
    PM_EXPECT "a port whose map byte is past the TSS limit is #GP(0)", 13, 0, in al, dx
    mov edx, 0xFFFF
    PM_EXPECT "port 0xFFFF far past the TSS limit is #GP(0)", 13, 0, out dx, al
    TO_RING0
    mov byte [GDT_BASE + SEL_TSS + 5], 0x89
    mov word [GDT_BASE + SEL_TSS], TSS_LIMIT
    mov ax, SEL_TSS
    ltr ax

    ; ---- CLI STI POPF at CPL 3 > IOPL ----
    TO_RING3 0
    PM_EXPECT "CLI at CPL 3 > IOPL is #GP(0)", 13, 0, cli
    PM_EXPECT "STI at CPL 3 > IOPL is #GP(0)", 13, 0, sti
    push dword IF_ | IOPL3 | 0x2
    popfd
    EFL eax
    CHKD "POPF at CPL 3 > IOPL changes neither IF nor IOPL, and does not fault", eax, 0
    push dword 0x2 | 0x1        ; CF, to see that the rest of the image is loaded
    popfd
    pushfd
    pop eax
    and eax, 1
    CHKD "POPF at CPL 3 > IOPL still loads the arithmetic flags", eax, 1

    ; ---- CPL 3 = IOPL 3 ----
    TO_RING0
    TO_RING3 3
    sti
    EFL eax
    CHKD "STI at CPL 3 = IOPL sets IF", eax, IF_ | IOPL3
    cli
    EFL eax
    CHKD "CLI at CPL 3 = IOPL clears IF", eax, IOPL3
    push dword IF_ | 0x2        ; IOPL 0 in the image
    popfd
    EFL eax
    CHKD "POPF at CPL 3 = IOPL loads IF but not IOPL", eax, IF_ | IOPL3
    cli
    TO_RING0

    PUTS32 "PASS", 10
    EXIT 0

    PM_LIB
bits 16
TEST_END

; Guest test: protected-mode interrupts and exceptions. INT n through 32- and 16-bit interrupt and
; trap gates, IF/TF/NT handling, the ring 3 -> ring 0 stack switch and IRET back (data segments
; nulled), gate DPL checks for INT n/INT3/INTO but not ICEBP, error codes with the IDT and EXT
; bits, IDT limit, bad gate types and targets, #DF from a fault during delivery, and the EFLAGS
; bits IRET may change. Intel SDM Vol. 3A §6.10-6.15; Vol. 2 INT n, IRET.
%include "lib.inc"
%include "pm.inc"
cpu 686

REC_EIP equ 0x780
REC_CS equ 0x784
REC_EFLAGS equ 0x788
REC_ESP equ 0x78C
REC_SS equ 0x790
REC_HFLAGS equ 0x794
REC_HSS equ 0x798
REC_HESP equ 0x79C
REC_COUNT equ 0x7A0

TEST_BEGIN
    mov al, 0xFF                ; mask every PIC input: no stray external interrupts
    out 0x21, al
    out 0xA1, al
    PM_ENTER
    PUTS32 "pm_interrupts: in protected mode", 10

    ; ---- INT n through an interrupt gate and a trap gate at ring 0 ----
    IDT_GATE 0x40, SEL_CODE0, rec_handler, 0x8E00
    IDT_GATE 0x41, SEL_CODE0, rec_handler, 0x8F00
    mov esi, esp
    push dword 0x4202           ; IF, NT
    popfd
    int 0x40
.after40:
    pushfd
    pop ebx
    push dword 0x2
    popfd
    lea edi, [esi - 12]
    CHKD "INT n at the same level: no stack switch (frame of 3 dwords)", [REC_HESP], edi
    CHKD "INT n pushes the return EIP", [REC_EIP], .after40
    CHKD "INT n pushes CS", [REC_CS], SEL_CODE0
    CHKD "INT n pushes EFLAGS (IF and NT as they were)", [REC_EFLAGS], 0x4202
    CHKD "interrupt gate clears IF and NT in the handler", [REC_HFLAGS], 0x2
    CHKD "IRET restores IF and NT", ebx, 0x4202
    push dword 0x0202           ; IF
    popfd
    int 0x41
    push dword 0x2
    popfd
    CHKD "trap gate keeps IF in the handler", [REC_HFLAGS], 0x202
    CHKD "trap gate: pushed EFLAGS", [REC_EFLAGS], 0x202

    ; ---- 16-bit interrupt gate: word frame, 16-bit handler ----
    IDT_GATE 0x42, SEL_CODE16, rec_handler16, 0x8600
    mov esi, esp
    int 0x42
.after42:
    lea edi, [esi - 6]
    CHKD "16-bit gate: handler saw a 3-word frame", [REC_HESP], edi
    CHKD "16-bit gate: pushed IP", [REC_EIP], .after42
    CHKD "16-bit gate: pushed CS", [REC_CS], SEL_CODE0
    CHKD "16-bit gate: ran in the 16-bit segment", [REC_HSS], SEL_CODE16

    ; ---- error codes of exceptions raised by instructions ----
    SET_DESC 0x60, 0, 0xFFFFF, 0x12, 0xC        ; data, not present
    SET_DESC 0x68, 0, 0xFFFFF, 0x92, 0xC        ; data, present, DPL 0
    mov bx, 0x200
    PM_EXPECT "MOV DS, selector past the GDT limit is #GP(sel)", 13, 0x200, mov ds, bx
    mov bx, 0x60
    PM_EXPECT "MOV DS, not-present segment is #NP(sel)", 11, 0x60, mov ds, bx
    PM_EXPECT "MOV SS, not-present segment is #SS(sel)", 12, 0x60, mov ss, bx
    mov bx, SEL_CODE0
    PM_EXPECT "MOV SS, code segment is #GP(sel)", 13, SEL_CODE0, mov ss, bx

    ; ---- software interrupts through bad gates: IDT bit set, EXT clear ----
    IDT_GATE 0x43, SEL_CODE0, rec_handler, 0x0E00          ; not present
    PM_EXPECT "INT n to a not-present gate is #NP(vec*8+2)", 11, 0x43 * 8 + 2, int 0x43
    IDT_GATE 0x44, SEL_CODE0, rec_handler, 0x8C00          ; a call gate is no IDT gate
    PM_EXPECT "INT n to a call-gate type is #GP(vec*8+2)", 13, 0x44 * 8 + 2, int 0x44
    IDT_GATE 0x45, SEL_DATA0, rec_handler, 0x8E00          ; target is data
    PM_EXPECT "INT n to a gate naming data is #GP(sel)", 13, SEL_DATA0, int 0x45
    IDT_GATE 0x46, SEL_CODE3 & 0xFFFC, rec_handler, 0x8E00 ; DPL 3 code from CPL 0
    PM_EXPECT "INT n to code with DPL > CPL is #GP(sel)", 13, 0x18, int 0x46
    IDT_GATE 0x47, 0, rec_handler, 0x8E00                  ; null selector
    PM_EXPECT "INT n to a gate with a null selector is #GP(0)", 13, 0, int 0x47
    IDT_GATE 0x48, SEL_CODE0, 0x10000, 0x8E00              ; offset past CS limit
    PM_EXPECT "INT n to an offset past the limit is #GP(0)", 13, 0, int 0x48
    mov word [pm_tmp], 0x30 * 8 - 1
    mov dword [pm_tmp + 2], IDT_BASE
    lidt [pm_tmp]
    PM_EXPECT "INT n past the IDT limit is #GP(vec*8+2)", 13, 0x50 * 8 + 2, int 0x50
    mov word [pm_tmp], 256 * 8 - 1
    lidt [pm_tmp]

    ; ---- exceptions during delivery: EXT set; contributory pairs give #DF ----
    IDT_GATE 6, SEL_CODE0, rec_handler, 0x0E00             ; #UD gate not present
    PM_EXPECT "#UD through a not-present gate is #NP(6*8+2+EXT)", 11, 6 * 8 + 3, ud2
    IDT_DEFAULT 6
    IDT_GATE 11, SEL_CODE0, rec_handler, 0x0E00            ; #NP gate not present
    mov bx, 0x60
    PM_EXPECT_ANYEIP "#NP while delivering #NP is #DF(0)", 8, 0, mov ds, bx
    CHKD "#DF pushes error code 0", [last_err], 0
    IDT_DEFAULT 11

    ; ---- ring 3 ----
    IDT_GATE 0x50, SEL_CODE0, rec_handler_gs, 0xEE00          ; DPL 3 interrupt gate
    IDT_GATE 0x51, SEL_CONF0, conf_handler, 0xEE00         ; DPL 3, conforming target
    IDT_GATE 1, SEL_CODE0, rec_handler, 0x8E00             ; DPL 0: ICEBP only
    mov dword [REC_COUNT], 0
    TO_RING3 3
    int 0x50
.after50:
    CHKW "IRET to ring 3 restores CS", cs, SEL_CODE3
    CHKW "IRET to ring 3 restores SS", ss, SEL_DATA3
    CHKD "IRET to ring 3 restores ESP", esp, STACK3
    CHKW "IRET to ring 3 nulls GS that held DPL-0 data", gs, 0
    CHKW "IRET to ring 3 keeps DS (DPL 3)", ds, SEL_DATA3
    CHKD "ring 3 -> 0: handler on the TSS ring-0 stack", [REC_HSS], SEL_DATA0
    CHKD "ring 3 -> 0: frame of 5 dwords below ESP0", [REC_HESP], STACK0 - 20
    CHKD "ring 3 -> 0: pushed EIP", [REC_EIP], .after50
    CHKD "ring 3 -> 0: pushed CS", [REC_CS], SEL_CODE3
    CHKD "ring 3 -> 0: pushed ESP", [REC_ESP], STACK3
    CHKD "ring 3 -> 0: pushed SS", [REC_SS], SEL_DATA3
    int 0x51
    CHKD "conforming handler runs at CPL 3", [0x7B0], SEL_CONF0 | 3
    CHKD "conforming handler keeps the ring-3 stack", [0x7B4], SEL_DATA3

    PM_EXPECT "INT n from ring 3 through a DPL 0 gate is #GP(vec*8+2)", 13, 0x40 * 8 + 2, int 0x40
    PM_EXPECT "INT3 from ring 3 through a DPL 0 gate is #GP(3*8+2)", 13, 3 * 8 + 2, int3
    mov al, 0x7F
    add al, 1                   ; OF = 1
    PM_EXPECT "INTO from ring 3 through a DPL 0 gate is #GP(4*8+2)", 13, 4 * 8 + 2, into
    CHKD "exception from ring 3 pushes the ring-3 SS", [last_ss], SEL_DATA3
    CHKD "exception from ring 3 pushes the ring-3 ESP", [last_esp], STACK3
    CHKD "exception from ring 3 pushes CS", [last_cs], SEL_CODE3
    mov dword [REC_COUNT], 0
    icebp
.after_icebp:
    CHKD "ICEBP ignores the gate DPL", [REC_COUNT], 1
    CHKD "ICEBP pushes the address after it", [REC_EIP], .after_icebp

    ; IRET at CPL 3, IOPL 0: IF and IOPL stay
    TO_RING0
    TO_RING3 0
    push dword 0x3202           ; IOPL 3, IF
    push dword SEL_CODE3
    push dword .after_iret3
    iretd
.after_iret3:
    pushfd
    pop ebx
    CHKD "IRET at CPL 3 with IOPL 0 changes neither IF nor IOPL", ebx, 0x2
    push dword 0x23
    push dword STACK3
    push dword 0x2
    push dword SEL_CODE0        ; inward
    push dword 0
    PM_EXPECT "IRET to a more privileged level is #GP(sel)", 13, SEL_CODE0, iretd
    add esp, 20
    push dword SEL_DATA0        ; SS with RPL != CS RPL for the (same-level) frame: unused
    push dword STACK3
    push dword 0x2
    push dword 0
    push dword 0
    PM_EXPECT "IRET to a null CS is #GP(0)", 13, 0, iretd
    add esp, 20
    TO_RING0

    ; IRET from ring 0 to ring 3 with a bad SS
    push dword SEL_DATA0        ; RPL 0 != 3
    push dword STACK3
    push dword 0x2
    push dword SEL_CODE3
    push dword 0
    PM_EXPECT "IRET to ring 3 with SS RPL != 3 is #GP(SS)", 13, SEL_DATA0, iretd
    add esp, 20
    ; IRET at CPL 0 changes IOPL
    push dword 0x3002
    push dword SEL_CODE0
    push dword .after_iret0
    iretd
.after_iret0:
    pushfd
    pop ebx
    push dword 0x2
    popfd
    CHKD "IRET at CPL 0 loads IOPL", ebx, 0x3002
    PASS

; Records the frame of a 32-bit interrupt without error code (ring 0 handler).
rec_handler:
    push ds
    push eax
    mov ax, SEL_DATA0
    mov ds, ax
    mov eax, [esp + 8]
    mov [REC_EIP], eax
    mov eax, [esp + 12]
    mov [REC_CS], eax
    mov eax, [esp + 16]
    mov [REC_EFLAGS], eax
    mov eax, [esp + 20]
    mov [REC_ESP], eax
    mov eax, [esp + 24]
    mov [REC_SS], eax
    pushfd
    pop eax
    mov [REC_HFLAGS], eax
    xor eax, eax
    mov ax, ss
    mov [REC_HSS], eax
    lea eax, [esp + 8]
    mov [REC_HESP], eax
    inc dword [REC_COUNT]
    pop eax
    pop ds
    iretd
rec_handler_gs:                 ; the same, with GS loaded with DPL-0 data
    push eax
    mov ax, SEL_DATA0
    mov gs, ax
    pop eax
    jmp rec_handler

conf_handler:
    push eax
    xor eax, eax
    mov ax, cs
    mov [0x7B0], eax
    mov ax, ss
    mov [0x7B4], eax
    pop eax
    iretd

bits 16
rec_handler16:
    push eax
    movzx eax, word [esp + 4]
    mov [REC_EIP], eax
    movzx eax, word [esp + 6]
    mov [REC_CS], eax
    mov ax, cs
    mov [REC_HSS], eax
    lea eax, [esp + 4]
    mov [REC_HESP], eax
    pop eax
    iret
bits 32

    PM_LIB
bits 16
TEST_END

; Guest test: virtual-8086 mode. Entry by IRET, 8086-style segment loads, the IOPL-sensitive
; instructions (CLI STI PUSHF POPF INT n IRET: #GP(0) with IOPL < 3), INT n with IOPL 3 through
; the IDT to a ring-0 handler (frame with GS FS DS ES, data segments nulled), INT3 not
; IOPL-sensitive, gate and handler-DPL checks, VME (redirection bitmap, VIF via CLI/STI/PUSHF/
; POPF/IRET, VIP), and PVI at ring 3. Intel SDM Vol. 3A ch. 20 (Table 20-2), §6.12.1.
%include "lib.inc"
%include "pm.inc"
cpu 686

VM equ 0x20000
V86TSS equ 0x5100
VIF equ 0x80000
VIP equ 0x100000
IOPL3 equ 0x3000
H_DS equ 0x7E0              ; what v86_int40 saw
H_EFLAGS equ 0x7E4
H_PUSHED_DS equ 0x7E8
H_CS equ 0x7EC
V_FLAGS1 equ 0x7F0          ; what the V86 code reports
V_FLAGS2 equ 0x7F4
V_FLAGS3 equ 0x7F8

TEST_BEGIN
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al
    PM_ENTER
    PUTS32 "pm_v86: in protected mode", 10
    IDT_GATE 0x40, SEL_CODE0, v86_int40, 0xEE00      ; DPL 3 -> ring 0
    IDT_GATE 0x41, SEL_CODE0, v86_int40, 0x8E00      ; DPL 0
    IDT_GATE 0x42, SEL_CODE3 & 0xFFFC, v86_int40, 0xEE00 ; handler at ring 3

    ; ---- IOPL 3 ----
    V86_ENTER IOPL3, v86_iopl3
    CHKD "V86 exit: handler found DS nulled", [V86_OUT_HDS], 0
    CHKD "V86 exit: frame EFLAGS has VM", [V86_OUT_EFLAGS], VM | IOPL3 | 0x2 | 0x46
    CHKD "V86 exit: frame CS is the V86 CS", [V86_OUT_CS], 0xF000
    CHKD "V86 exit: frame EIP is after INT3", [V86_OUT_EIP], v86_iopl3.exit_ip
    CHKD "V86 exit: frame holds the V86 DS", [V86_OUT_DS], 0x50
    CHKD "V86 exit: frame holds the V86 ES", [V86_OUT_ES], 0
    CHKD "INT n from V86 (IOPL 3): handler ran at ring 0", [H_CS], SEL_CODE0
    CHKD "INT n from V86: handler found DS nulled", [H_DS], 0
    CHKD "INT n from V86: pushed EFLAGS has VM", [H_EFLAGS], VM | IOPL3 | 0x2 | 0x46
    CHKD "INT n from V86: pushed DS", [H_PUSHED_DS], 0x50

    ; ---- IOPL 0: the sensitive instructions go to the monitor ----
    V86_ENTER 0, v86_iopl0
    CHKD "IOPL 0 V86 run finished", [V86_OUT_EIP], v86_iopl0.exit_ip

    ; ---- VME with IOPL 0: redirection through the IVT, VIF ----
    mov eax, 1
    cpuid
    and edx, 2
    CHKD "CPUID.1:EDX reports VME", edx, 2
    mov eax, cr4
    or eax, 1                   ; CR4.VME
    mov cr4, eax
    mov word [0x40 * 4], v86_ivt40
    mov word [0x40 * 4 + 2], 0xF000
    or byte [TSS_BASE + 0x68 + 0x41 / 8], 1 << (0x41 & 7) ; INT 41h not redirected
    V86_ENTER 0x200, v86_vme
    CHKD "VME: INT n redirected to the IVT pushed FLAGS with IOPL 3 and IF = VIF (set)", [V_FLAGS1], 0x3202 | 0x46
    CHKD "VME: the IVT handler sees VIF clear through PUSHF", [V_FLAGS2], 0x3002 | 0x46
    CHKD "VME: IRET restored VIF from the image, seen through PUSHF", [V_FLAGS3], 0x3202 | 0x46
    mov eax, [V86_OUT_EFLAGS]
    and eax, VIF | 0x200
    CHKD "VME: CLI cleared VIF, not IF", eax, 0x200
    V86_ENTER 0x200 | VIP, v86_vip
    CHKD "VIP run finished", [V86_OUT_EIP], v86_vip.exit_ip
    mov eax, cr4
    and eax, ~1
    mov cr4, eax

    ; ---- V86 entered by a task switch (JMP to a TSS whose EFLAGS has VM) ----
    mov edi, V86TSS
    mov ecx, 0x68
    xor eax, eax
    rep stosb
    mov dword [V86TSS + 4], STACK1              ; ESP0: the ring-0 stack of the V86 task
    mov dword [V86TSS + 8], SEL_DATA0
    mov dword [V86TSS + 0x20], v86_task         ; IP
    mov dword [V86TSS + 0x24], VM | IOPL3 | 0x2
    mov dword [V86TSS + 0x38], 0x7800           ; SP
    mov word [V86TSS + 0x4C], 0xF000            ; CS
    mov word [V86TSS + 0x54], 0x0050            ; DS
    mov word [V86TSS + 0x66], 0x68
    SET_DESC 0x60, V86TSS, 0x67, 0x89, 0
    IDT_GATE 3, SEL_CODE0, v86_task_exit, 0xEE00
    jmp 0x60:0
    CHKW "V86 task: CS from its TSS, stored through DS 0x50 (base 0x500)", [0x7A0], 0xF000
    CHKD "V86 task: its ring-0 handler ran with TR = the V86 task", [0x7A4], 0x60
    mov eax, [0x7A8]
    and eax, VM
    CHKD "V86 task: the interrupt frame's EFLAGS has VM", eax, VM
    CHKD "V86 task: the ring-0 stack comes from the V86 task's TSS", [0x7AC], STACK1 - 36

    ; ---- PVI at ring 3, IOPL 0 ----
    TO_RING3 0
    PM_EXPECT "CLI at CPL 3 > IOPL without PVI is #GP(0)", 13, 0, cli
    TO_RING0
    mov eax, cr4
    or eax, 2                   ; CR4.PVI
    mov cr4, eax
    TO_RING3 0
    sti
    pushfd
    pop eax
    and eax, VIF | 0x200
    CHKD "PVI: STI at CPL 3 sets VIF, not IF", eax, VIF
    cli
    pushfd
    pop eax
    and eax, VIF | 0x200
    CHKD "PVI: CLI at CPL 3 clears VIF", eax, 0
    PASS

; INT 40h from V86: record what the ring-0 handler sees.
v86_int40:
    push eax
    xor eax, eax
    mov ax, ds
    mov [ss:H_DS], eax
    mov ax, cs
    mov [ss:H_CS], eax
    mov eax, [esp + 12]
    mov [ss:H_EFLAGS], eax
    mov eax, [esp + 28]
    mov [ss:H_PUSHED_DS], eax
    pop eax
    iretd

; INT3 from the V86 task: record, then JMP back to the main task.
v86_task_exit:
    push eax
    xor eax, eax
    str ax
    mov [ss:0x7A4], eax
    mov eax, [esp + 12]
    mov [ss:0x7A8], eax
    lea eax, [esp + 4]
    mov [ss:0x7AC], eax
    pop eax
    jmp SEL_TSS:0

    PM_LIB
    PM_V86_LIB

bits 16
v86_iopl3:
    mov ax, cs
    CHK ax, 0xF000
    mov ax, 0x50
    mov ds, ax
    mov word [0], 0x1234        ; DS base = 0x500
    xor ax, ax
    mov es, ax
    CHK word [es:0x500], 0x1234
    cli
    sti
    cli
    pushf
    pop ax
    and ax, 0x3000
    CHK ax, 0x3000
    xor ax, ax                  ; CMP in CHK leaves ZF PF set for the frame checks
    cmp ax, ax
    int 0x40                    ; IOPL 3, no VME: through the IDT to ring 0
    mov ax, ds
    CHK ax, 0x50
    xor ax, ax
    mov ds, ax
    V86_EXPECT "INT n from V86 through a DPL 0 gate is #GP(vec*8+2)", 13, 0x41 * 8 + 2, int 0x41
    V86_EXPECT "INT n from V86 to a handler not at ring 0 is #GP(sel)", 13, 0x18, int 0x42
    mov ax, 0x50
    mov ds, ax
    xor ax, ax
    cmp ax, ax
    V86_EXIT
.exit_ip:

v86_iopl0:
    V86_EXPECT "CLI in V86 with IOPL 0 is #GP(0)", 13, 0, cli
    V86_EXPECT "STI in V86 with IOPL 0 is #GP(0)", 13, 0, sti
    V86_EXPECT "PUSHF in V86 with IOPL 0 is #GP(0)", 13, 0, pushf
    V86_EXPECT "POPF in V86 with IOPL 0 is #GP(0)", 13, 0, popf
    V86_EXPECT "INT n in V86 with IOPL 0 is #GP(0)", 13, 0, int 0x40
    V86_EXPECT "IRET in V86 with IOPL 0 is #GP(0)", 13, 0, iret
    V86_EXPECT "HLT in V86 is #GP(0)", 13, 0, hlt
    V86_EXIT
.exit_ip:

v86_vme:
    sti                         ; VIF = 1
    xor ax, ax
    cmp ax, ax
    int 0x40                    ; redirected: bit 40h of the bitmap is clear
    pushf
    pop ax
    mov [V_FLAGS3], ax
    V86_EXPECT "VME: INT n with its redirection bit set and IOPL 0 is #GP(0)", 13, 0, int 0x41
    V86_EXPECT "VME: 32-bit PUSHF with IOPL 0 is #GP(0)", 13, 0, pushfd
    push word 0x0100            ; TF
    V86_EXPECT "VME: POPF setting TF is #GP(0)", 13, 0, popf
    pop ax
    push word 0x0046            ; IF clear: POPF may load it (into VIF)
    popf
    pushf
    pop ax
    CHK ax, 0x3046
    sti
    cli
    V86_EXIT
.exit_ip:

v86_ivt40:
    push bp
    mov bp, sp
    mov ax, [bp + 6]            ; pushed FLAGS
    mov [V_FLAGS1], ax
    pushf
    pop ax
    mov [V_FLAGS2], ax
    xor ax, ax
    cmp ax, ax
    pop bp
    iret

v86_vip:
    V86_EXPECT "VME: STI with VIP set is #GP(0)", 13, 0, sti
    cli
    V86_EXIT
.exit_ip:

v86_task:
    mov ax, cs
    mov [0x2A0], ax             ; DS = 0x50: linear 0x7A0
    int3

TEST_END

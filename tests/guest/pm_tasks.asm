; Guest test: hardware task switching. JMP, CALL and IRET (nested-task return) between 32-bit
; TSSs and to a 16-bit TSS, busy bits, NT and the back link, CR0.TS and CR3, task gates in the IDT
; (with an exception's error code pushed on the new task's stack), the #TS/#NP/#GP of bad TSS
; targets, and a fault after the switch point taken in the new task. Intel SDM Vol. 3A ch. 7.
%include "lib.inc"
%include "pm.inc"
cpu 686

TSSA equ 0x5100
TSSB equ 0x5200
TSS16 equ 0x5300
TSSC equ 0x5400
NT equ 0x4000

; INIT_TSS32 base, eip, esp, eax: a ring-0 task with flat data segments.
%macro INIT_TSS32 4
    mov edi, %1
    mov ecx, 0x68
    xor eax, eax
    rep stosb
    mov dword [%1 + 0x20], %2
    mov dword [%1 + 0x24], 0x2
    mov dword [%1 + 0x28], %4
    mov dword [%1 + 0x38], %3
    mov word [%1 + 0x48], SEL_DATA0
    mov word [%1 + 0x4C], SEL_CODE0
    mov word [%1 + 0x50], SEL_DATA0
    mov word [%1 + 0x54], SEL_DATA0
    mov word [%1 + 0x58], SEL_DATA0
    mov word [%1 + 0x5C], SEL_DATA0
%endmacro

; GDT_TYPE sel: the access byte of descriptor sel, in EAX.
%macro GDT_TYPE 1
    movzx eax, byte [GDT_BASE + (%1) + 5]
%endmacro

TEST_BEGIN
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al
    PM_ENTER
    PUTS32 "pm_tasks: in protected mode", 10
    SET_DESC 0x60, TSSA, 0x67, 0x89, 0
    SET_DESC 0x68, TSSB, 0x67, 0x89, 0
    SET_DESC 0x70, TSS16, 0x2B, 0x81, 0
    SET_DESC 0x80, TSSA, 0x50, 0x89, 0          ; too short for a 32-bit TSS
    SET_DESC 0x88, TSSB, 0x67, 0x09, 0          ; not present
    SET_DESC 0x90, TSSC, 0x67, 0x89, 0
    GDT_TYPE SEL_TSS
    CHKD "LTR marked the main TSS busy", eax, 0x8B

    ; ---- JMP to a task and back ----
    INIT_TSS32 TSSA, taskA_jmp, 0x6800, 0xA0A0A0A0
    mov dword [TSSA + 0x1C], 0x00003000
    mov ebx, 0x12345678
    clts
    jmp 0x60:0
.after_jmpA:
    str ax
    CHKW "JMP back to the main task: TR", ax, SEL_TSS
    CHKD "EBX reloaded from the main TSS", ebx, 0x12345678
    CHKD "task A: EAX loaded from its TSS", [0x700], 0xA0A0A0A0
    CHKD "task A: TR names its TSS", [0x704], 0x60
    CHKD "task A: NT clear after a JMP", [0x708], 0
    CHKD "task A: JMP cleared the old TSS's busy bit", [0x70C], 0x89
    CHKD "task A: JMP set the new TSS's busy bit", [0x710], 0x8B
    CHKD "task A: CR0.TS set by the task switch", [0x714], 8
    CHKD "task A: CR3 loaded from the 32-bit TSS", [0x718], 0x3000
    CHKD "task A: ESP from its TSS", [0x71C], 0x6800
    CHKD "JMP saved EIP in the outgoing TSS", [TSS_BASE + 0x20], .after_jmpA
    CHKD "JMP saved EBX in the outgoing TSS", [TSS_BASE + 0x34], 0x12345678
    CHKD "task A's EIP saved when it jumped back", [TSSA + 0x20], taskA_back
    GDT_TYPE 0x60
    CHKD "task A available again after the JMP back", eax, 0x89
    GDT_TYPE SEL_TSS
    CHKD "main TSS busy again", eax, 0x8B
    mov eax, cr3
    CHKD "CR3 reloaded from the main TSS", eax, 0
    clts

    ; ---- CALL to a task, IRET back ----
    INIT_TSS32 TSSB, taskB_call, 0x6C00, 0xB0B0B0B0
    call 0x68:0
.after_callB:
    CHKD "task B: NT set by CALL", [0x720], NT
    CHKD "task B: back link names the caller", [0x724], SEL_TSS
    CHKD "task B: CALL leaves the caller busy", [0x728], 0x8B
    CHKD "task B: CALL marks the new task busy", [0x72C], 0x8B
    pushfd
    pop eax
    and eax, NT
    CHKD "after IRET the caller's NT is as saved (clear)", eax, 0
    GDT_TYPE 0x68
    CHKD "IRET to the caller frees the nested task", eax, 0x89
    GDT_TYPE SEL_TSS
    CHKD "IRET keeps the caller busy", eax, 0x8B
    str ax
    CHKW "IRET returned to the caller's TSS", ax, SEL_TSS
    mov eax, [TSSB + 0x24]
    and eax, NT
    CHKD "the nested task's saved EFLAGS has NT clear (IRET)", eax, 0

    ; ---- task gate in the IDT: INT n, and #GP with an error code ----
    INIT_TSS32 TSSA, taskA_int, 0x6800, 0
    IDT_GATE 0x60, 0x60, 0, 0x8500
    int 0x60
    CHKD "INT through a task gate: NT set in the new task", [0x730], NT
    CHKD "INT through a task gate: back link", [0x734], SEL_TSS
    INIT_TSS32 TSSB, taskB_gp, 0x6C00, 0
    IDT_GATE 13, 0x68, 0, 0x8500
    mov bx, 0x200
.fault_insn:
    mov ds, bx
.after_gp:
    IDT_DEFAULT 13
    CHKD "#GP through a task gate: error code on the new task's stack", [0x740], 0x200
    CHKD "#GP through a task gate: pushed as a dword below the TSS ESP", [0x744], 0x6C00 - 4
    CHKD "#GP through a task gate: the faulting EIP saved in the old TSS", [0x748], .fault_insn
    CHKD "#GP through a task gate: EXT clear for an instruction's fault", [0x740], 0x200

    ; ---- bad targets ----
    PM_EXPECT "JMP to a TSS with limit < 0x67 is #TS(sel)", 10, 0x80, jmp 0x80:0
    PM_EXPECT "JMP to a not-present TSS is #NP(sel)", 11, 0x88, jmp 0x88:0
    PM_EXPECT "JMP to the busy current TSS is #GP(sel)", 13, SEL_TSS, jmp SEL_TSS:0
    PM_EXPECT "CALL to the busy current TSS is #GP(sel)", 13, SEL_TSS, call SEL_TSS:0
    IDT_GATE 0x61, SEL_TSS, 0, 0x8500
    PM_EXPECT "INT through a task gate to a busy TSS is #GP(sel)", 13, SEL_TSS, int 0x61
    mov word [TSS_BASE], 0x60   ; back link to an available (not busy) TSS
    pushfd
    or dword [esp], NT
    popfd
    PM_EXPECT "IRET with NT to a TSS that is not busy is #TS(link)", 10, 0x60, iretd
    pushfd
    and dword [esp], ~NT
    popfd
    GDT_TYPE SEL_TSS
    CHKD "failed task switches leave the current TSS busy", eax, 0x8B

    ; ---- a 16-bit TSS ----
    mov edi, TSS16
    mov ecx, 0x2C
    xor eax, eax
    rep stosb
    mov word [TSS16 + 0x0E], task16
    mov word [TSS16 + 0x10], 0x2
    mov word [TSS16 + 0x12], 0x1616
    mov word [TSS16 + 0x1A], 0x6400
    mov word [TSS16 + 0x22], SEL_DATA0
    mov word [TSS16 + 0x24], SEL_CODE16
    mov word [TSS16 + 0x26], SEL_DATA0
    mov word [TSS16 + 0x28], SEL_DATA0
    call 0x70:0
    CHKD "16-bit task: AX loaded from its TSS", [0x750], 0x1616
    CHKD "16-bit task: runs in its 16-bit code segment", [0x754], SEL_CODE16
    CHKD "16-bit task: NT set by CALL", [0x758], NT
    CHKD "16-bit task: SP loaded from its TSS", [0x75C], 0x6400
    CHKW "16-bit task: IRET saved its IP in the 16-bit TSS", [TSS16 + 0x0E], task16_back
    CHKW "16-bit task: back link", [TSS16], SEL_TSS
    GDT_TYPE 0x70
    CHKD "16-bit TSS available after its IRET", eax, 0x81

    ; ---- a task gate in the GDT: JMP through it; DPL checks of task gates ----
    INIT_TSS32 TSSA, taskA_gate, 0x6800, 0
    GDT_GATE 0x78, 0x60, 0, 0x8500              ; task gate to TSS A, DPL 0
    GDT_GATE 0xA0, 0x60, 0, 0xE500              ; DPL 3
    jmp 0x78:0
    CHKD "JMP through a task gate reached task A", [0x760], 0x60
    GDT_TYPE 0x60
    CHKD "task A freed again by its JMP back", eax, 0x89
    SET_DESC 0xA8, TSSA, 0x67, 0x89, 0          ; TSS descriptor, DPL 0
    IDT_GATE 0x62, 0x60, 0, 0x8500              ; IDT task gate, DPL 0
    TO_RING3 3
    PM_EXPECT "INT from ring 3 through a DPL 0 task gate is #GP(vec*8+2)", 13, 0x62 * 8 + 2, int 0x62
    PM_EXPECT "JMP from ring 3 to a DPL 0 task gate is #GP(gate)", 13, 0x78, jmp 0x78:0
    PM_EXPECT "JMP from ring 3 to a DPL 0 TSS descriptor is #GP(sel)", 13, 0xA8, jmp 0xA8:0
    TO_RING0

    ; ---- a fault after the switch point is taken in the new task ----
    INIT_TSS32 TSSC, 0x10000, 0x6000, 0         ; EIP past the CS limit
    LIB_NEXT_CHECK
    mov dword [exp_err], 0
    mov dword [exp_eip], 0x10000
    mov dword [exp_resume], taskC_resume
    mov dword [exp_check], lib_check_no
    mov dword [exp_vec], 13
    jmp 0x90:0
    FAIL32 "task switch to an EIP past the CS limit did not fault"
main_after_c:
    str ax
    CHKW "back from task C to the main task", ax, SEL_TSS
    PASS

taskC_resume:
    str ax
    CHKW "fault after the switch point: taken with TR = new task", ax, 0x90
    CHKD "fault after the switch point: frame on the new task's stack", [last_eip], 0x10000
    mov dword [TSS_BASE + 0x20], main_after_c
    jmp SEL_TSS:0

taskA_jmp:
    mov [0x700], eax
    xor eax, eax
    str ax
    mov [0x704], eax
    pushfd
    pop eax
    and eax, NT
    mov [0x708], eax
    GDT_TYPE SEL_TSS
    mov [0x70C], eax
    GDT_TYPE 0x60
    mov [0x710], eax
    mov eax, cr0
    and eax, 8
    mov [0x714], eax
    mov eax, cr3
    mov [0x718], eax
    mov [0x71C], esp
    jmp SEL_TSS:0
taskA_back:
    FAIL32 "task A resumed unexpectedly"

taskB_call:
    pushfd
    pop eax
    and eax, NT
    mov [0x720], eax
    movzx eax, word [TSSB]
    mov [0x724], eax
    GDT_TYPE SEL_TSS
    mov [0x728], eax
    GDT_TYPE 0x68
    mov [0x72C], eax
    iretd
    FAIL32 "task B resumed unexpectedly"

taskA_gate:
    xor eax, eax
    str ax
    mov [0x760], eax
    jmp SEL_TSS:0
    FAIL32 "task A (gate) resumed unexpectedly"

taskA_int:
    pushfd
    pop eax
    and eax, NT
    mov [0x730], eax
    movzx eax, word [TSSA]
    mov [0x734], eax
    iretd
    FAIL32 "task A (INT) resumed unexpectedly"

taskB_gp:
    mov [0x744], esp
    pop eax
    mov [0x740], eax
    mov eax, [TSS_BASE + 0x20]
    mov [0x748], eax
    mov dword [TSS_BASE + 0x20], start.after_gp  ; skip the faulting instruction
    iretd
    FAIL32 "task B (#GP) resumed unexpectedly"

bits 16
task16:
    movzx eax, ax
    mov [0x750], eax
    mov ax, cs
    mov [0x754], eax
    pushf
    pop ax
    and ax, NT
    mov [0x758], eax
    movzx eax, sp
    mov [0x75C], eax
    iret
task16_back:
    jmp task16_back
bits 32

    PM_LIB
bits 16
TEST_END

; Guest test: lazy FPU context switching as an operating system does it. Two "tasks" share the
; FPU; a switch only sets CR0.TS, and the first x87 or MMX instruction of the incoming task takes
; #NM, whose handler does CLTS, saves the owner's state and restores the new task's, with
; FXSAVE/FXRSTOR and then again with FNSAVE/FRSTOR. The x87 values of one task and the MMX values
; of the other must survive. Also: CPUID reports MMX and FXSR, CR4.OSFXSR is writable, WAIT and
; CR0.MP/TS, CR0.EM (#UD for MMX, #NM for FXSAVE), FXSAVE alignment.
; Intel SDM Vol. 3A §2.5 and Table 2-2 (EM, MP, TS), the MMX chapter's section on saving state on
; task and context switches (state saved only when a new task first uses it), Vol. 2 FXSAVE,
; FXRSTOR, FNSAVE, FRSTOR, CLTS, WAIT.
%include "lib.inc"
%include "pm.inc"
cpu 686

owner equ 0x700             ; task whose state is in the FPU (0: none)
cur equ 0x704               ; task running now (1 or 2)
use_fsave equ 0x708         ; 0: the handler uses FXSAVE/FXRSTOR; 1: FNSAVE/FRSTOR
nm_count equ 0x70C          ; #NM exceptions taken
used equ 0x710              ; used + n: task n has FPU state saved (dword each)
res_a equ 0x720             ; task 1's x87 result (qword)
res_b equ 0x728             ; task 2's MMX result (qword)
AREA_BASE equ 0x20000       ; task n's save area at AREA_BASE + n * 512 (16-byte aligned)

; SWITCH_TO n: makes task n current; the FPU is handed over lazily, only if n does not own it.
%macro SWITCH_TO 1
    mov dword [cur], %1
    cmp dword [owner], %1
    je %%same
    mov eax, cr0
    or eax, 8               ; TS
    mov cr0, eax
%%same:
%endmacro

TEST_BEGIN
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al
    PM_ENTER
    PUTS32 "pm_fpu_lazy: in protected mode", 10

    ; ---- the features are reported and CR4.OSFXSR can be set ----
    mov eax, 1
    cpuid
    and edx, (1 << 23) | (1 << 24)
    CHKD "CPUID.1:EDX reports MMX and FXSR", edx, (1 << 23) | (1 << 24)
    mov eax, cr4
    or eax, 0x200
    mov cr4, eax
    mov eax, cr4
    and eax, 0x200
    CHKD "CR4.OSFXSR is writable", eax, 0x200
    mov eax, cr0
    and eax, ~0xE           ; MP EM TS clear
    or eax, 0x22            ; MP, NE: the native error reporting an OS with lazy switching uses
    mov cr0, eax

    ; ---- lazy switching with FXSAVE/FXRSTOR, then FNSAVE/FRSTOR ----
    IDT_GATE 7, SEL_CODE0, nm_handler, 0x8E00
    mov dword [use_fsave], 0
    call scenario
    CHKD "FXSAVE switch: task 1's x87 sum survives (low)", [res_a], 0
    CHKD "FXSAVE switch: task 1's x87 sum survives (high)", [res_a + 4], 0x400E0000
    CHKD "FXSAVE switch: task 2's MMX value survives (low)", [res_b], 4
    CHKD "FXSAVE switch: task 2's MMX value survives (high)", [res_b + 4], 2
    CHKD "FXSAVE switch: one #NM per hand-over, none for the owner", [nm_count], 4
    mov dword [use_fsave], 1
    call scenario
    CHKD "FSAVE switch: task 1's x87 sum survives (low)", [res_a], 0
    CHKD "FSAVE switch: task 1's x87 sum survives (high)", [res_a + 4], 0x400E0000
    CHKD "FSAVE switch: task 2's MMX value survives (low)", [res_b], 4
    CHKD "FSAVE switch: task 2's MMX value survives (high)", [res_b + 4], 2
    CHKD "FSAVE switch: one #NM per hand-over, none for the owner", [nm_count], 4

    ; ---- faults, through the reporting handlers ----
    IDT_DEFAULT 7
    mov eax, cr0
    or eax, 8               ; TS, with MP set
    mov cr0, eax
    PM_EXPECT "WAIT with CR0.MP and CR0.TS is #NM", 7, 0, fwait
    PM_EXPECT "MMX with CR0.TS is #NM", 7, 0, paddb mm0, mm1
    PM_EXPECT "FXSAVE with CR0.TS is #NM", 7, 0, fxsave [AREA_BASE]
    mov eax, cr0
    and eax, ~2             ; MP clear: WAIT ignores TS
    mov cr0, eax
    fwait
    mov eax, cr0
    and eax, ~8
    or eax, 4               ; EM, TS clear
    mov cr0, eax
    PM_EXPECT "MMX with CR0.EM is #UD", 6, 0, paddb mm0, mm1
    PM_EXPECT "x87 with CR0.EM is #NM", 7, 0, fld1
    PM_EXPECT "FXSAVE with CR0.EM is #NM", 7, 0, fxsave [AREA_BASE]
    mov eax, cr0
    and eax, ~4
    mov cr0, eax
    PM_EXPECT "FXSAVE to an operand not 16-byte aligned is #GP(0)", 13, 0, fxsave [AREA_BASE + 8]
    PM_EXPECT "FXRSTOR from an operand not 16-byte aligned is #GP(0)", 13, 0, fxrstor [AREA_BASE + 4]
    PASS

; Task 1 computes 1.5 + 2.25 on a full x87 stack (the operands in R1 and R0), task 2 doubles a
; pair of dwords in MM1 (R1) and fills every other MMX register with ones; each overwrites what the
; other keeps, so only a real save and restore brings the values back. Every hand-over happens in
; the middle of their work.
scenario:
    mov dword [owner], 0
    mov dword [used + 4], 0
    mov dword [used + 8], 0
    mov dword [nm_count], 0
    SWITCH_TO 1
    fldz                    ; #NM: task 1's first use
    fldz
    fldz
    fldz
    fldz
    fldz
    fld qword [cs:val_a1]   ; R1
    fld qword [cs:val_a2]   ; R0
    SWITCH_TO 2
    movq mm1, [cs:val_b]    ; #NM: task 1 saved, task 2 starts clean
    paddd mm1, mm1
    pcmpeqb mm0, mm0
    pcmpeqb mm2, mm2
    pcmpeqb mm3, mm3
    pcmpeqb mm4, mm4
    pcmpeqb mm5, mm5
    pcmpeqb mm6, mm6
    pcmpeqb mm7, mm7
    SWITCH_TO 1
    faddp st1, st0          ; #NM: task 2 saved, task 1 restored
    fstp qword [res_a]
    SWITCH_TO 2
    movq [res_b], mm1       ; #NM: task 1 saved, task 2 restored
    emms
    SWITCH_TO 2             ; the owner again: TS stays clear, no #NM
    fldz
    fstp st0
    ret

; #NM: the lazy hand-over. CLTS first, so that the save and restore do not fault themselves.
nm_handler:
    pushad
    clts
    mov eax, [owner]
    test eax, eax
    jz .restore
    shl eax, 9
    add eax, AREA_BASE
    cmp dword [use_fsave], 0
    jne .fnsave
    fxsave [eax]
    jmp .restore
.fnsave:
    fnsave [eax]
.restore:
    mov ebx, [cur]
    mov eax, ebx
    shl eax, 9
    add eax, AREA_BASE
    cmp dword [used + ebx * 4], 0
    jne .load
    fninit                  ; a task's first use: a clean FPU
    mov dword [used + ebx * 4], 1
    jmp .done
.load:
    cmp dword [use_fsave], 0
    jne .frstor
    fxrstor [eax]
    jmp .done
.frstor:
    frstor [eax]
.done:
    mov [owner], ebx
    inc dword [nm_count]
    popad
    iretd                   ; the instruction that faulted runs again

    align 8
val_a1: dq 1.5
val_a2: dq 2.25
val_b: dd 2, 1

PM_LIB
bits 16
TEST_END

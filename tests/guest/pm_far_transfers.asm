; Guest test: protected-mode far JMP, CALL and RET. Direct code-segment targets (non-conforming,
; conforming, 16-bit), call gates (32- and 16-bit, parameter copy, stack switch from the TSS),
; RET imm and RET to an outer level (data segment registers nulled), and the #GP/#NP/#TS/#SS each
; bad target raises. Intel SDM Vol. 3A §5.8; Vol. 2 JMP, CALL, RET.
%include "lib.inc"
%include "pm.inc"
cpu 686

TEST_BEGIN
    PM_ENTER
    PUTS32 "pm_far_transfers: in protected mode", 10
    CHKW "CPL 0 code selector after PM entry", cs, SEL_CODE0

    ; ---- direct JMP and CALL/RET at the same level ----
    jmp SEL_CODE0:.jmp_same
    FAIL32 "far JMP to the same level did not jump"
.jmp_same:
    CHKW "far JMP loads CS", cs, SEL_CODE0
    jmp SEL_CODE16:.in16
    FAIL32 "far JMP to 16-bit code did not jump"
bits 16
.in16:
    mov bx, cs
    jmp dword SEL_CODE0:.back32
bits 32
.back32:
    CHKW "far JMP to 16-bit code ran there with its selector", bx, SEL_CODE16
    mov esi, esp
    call SEL_CODE0:far_func
    CHKD "far CALL/RETF returns with the stack balanced", esp, esi
    CHKD "far CALL pushes CS (dword) under EIP", [pm_tmp], SEL_CODE0
    push dword 0x1111
    push dword 0x2222
    call SEL_CODE0:far_func_ret8
    CHKD "RETF imm16 releases the parameters", esp, esi
    ; a far CALL with a 16-bit operand size pushes words
    call word SEL_CODE0:far_func16
    CHKD "16-bit far CALL/RETF keeps the stack balanced", esp, esi
    CHKD "16-bit far CALL pushes CS as a word", [pm_tmp], SEL_CODE0

    ; ---- bad direct targets ----
    PM_EXPECT "JMP to a null selector is #GP(0)", 13, 0, jmp 0:0
    PM_EXPECT "JMP to a data segment is #GP(sel)", 13, SEL_DATA0, jmp SEL_DATA0:0
    PM_EXPECT "JMP to non-conforming code of another DPL is #GP(sel)", 13, 0x18, jmp SEL_CODE3:0
    PM_EXPECT "JMP past the code-segment limit is #GP(0)", 13, 0, jmp SEL_CODE0:0x10000
    PM_EXPECT "JMP to a selector outside the GDT is #GP(sel)", 13, 0x200, jmp 0x200:0
    SET_DESC 0x60, 0xF0000, 0xFFFF, 0x1A, 0x4   ; code DPL 0, not present
    PM_EXPECT "JMP to a not-present code segment is #NP(sel)", 11, 0x60, jmp 0x60:0
    PM_EXPECT "CALL to a not-present code segment is #NP(sel)", 11, 0x60, call 0x60:0
    SET_DESC 0xB8, 0, 0xFFFF, 0xF2, 0x0         ; 0xBB: DPL 3 data, 16-bit stack

    ; ---- ring 3, conforming code ----
    TO_RING3 3
    CHKW "IRET to ring 3 loads CS with RPL 3", cs, SEL_CODE3
    CHKW "IRET to ring 3 loads SS", ss, SEL_DATA3
    jmp SEL_CONF0:.in_conf
    FAIL32 "JMP to conforming code did not jump"
.in_conf:
    CHKW "conforming code runs at the caller's CPL (CS.RPL = 3)", cs, SEL_CONF0 | 3
    jmp SEL_CODE3:.back3
.back3:
    PM_EXPECT "JMP from ring 3 to ring-0 non-conforming code is #GP(sel)", 13, SEL_CODE0, jmp SEL_CODE0:0
    push dword SEL_CODE0
    push dword .back3
    PM_EXPECT "RETF to a more privileged level is #GP(sel)", 13, SEL_CODE0, retf
    add esp, 8
    ; a 16-bit stack with room for less than a far return address (ring 3: the #SS goes to ring 0)
    mov ax, 0xBB
    mov ss, ax
    mov esp, 6
    PM_EXPECT "far CALL without room for CS:EIP is #SS(0)", 12, 0, call SEL_CODE3:.back3
    CHKD "ESP unchanged by the faulting CALL", esp, 6
    mov ax, SEL_DATA3
    mov ss, ax
    mov esp, STACK3

    ; ---- call gates ----
    TO_RING0
    GDT_GATE 0x68, SEL_CODE0, gate_handler, 0xEC02      ; 32-bit, DPL 3, two dword parameters
    GDT_GATE 0x70, SEL_CODE0, gate_handler16, 0xE401    ; 16-bit, DPL 3, one word parameter
    GDT_GATE 0x78, SEL_CODE0, gate_handler, 0x8C00      ; DPL 0
    GDT_GATE 0x80, SEL_CODE0, gate_handler, 0x6C00      ; DPL 3, not present
    GDT_GATE 0x88, 0x60, 0, 0xEC00                      ; DPL 3 gate to the not-present code
    GDT_GATE 0x90, SEL_CODE0, 0x10000, 0xEC00           ; DPL 3 gate past the code limit
    GDT_GATE 0x98, SEL_CODE0, gate_same, 0xCC00         ; DPL 2
    GDT_GATE 0xA0, SEL_CONF0, conf_gate_target, 0xEC00  ; DPL 3 gate to conforming code
    TO_RING3 3
    mov ax, SEL_DATA3
    mov es, ax
    push dword 0xAAAA0001       ; second parameter
    push dword 0xBBBB0002       ; first parameter (at the lower address)
    mov esi, esp
    call 0x6B:0                 ; the gate's offset field is what counts, not this one
.after_gate:
    CHKD "RETF 8 from the gate handler restores the ring-3 ESP past the parameters", esp, STACK3
    CHKW "back in ring 3: CS", cs, SEL_CODE3
    CHKW "back in ring 3: SS", ss, SEL_DATA3
    CHKW "RET to an outer level nulls DS that held a DPL-0 data segment", ds, 0
    CHKW "RET to an outer level keeps ES (DPL 3 data)", es, SEL_DATA3
    CHKW "RET to an outer level keeps FS (conforming code)", fs, SEL_CONF0
    CHKW "RET to an outer level nulls GS (DPL 0 data)", gs, 0
    mov ax, SEL_DATA3
    mov ds, ax
    CHKD "call gate: handler ran at CPL 0 (CS)", [0x700], SEL_CODE0
    CHKD "call gate: new SS from the TSS", [0x704], SEL_DATA0
    CHKD "call gate: new ESP = TSS ESP0 - 4 dwords - 2 parameters", [0x708], STACK0 - 24
    CHKD "call gate: pushed EIP (return address)", [0x70C], .after_gate
    CHKD "call gate: pushed CS", [0x710], SEL_CODE3
    CHKD "call gate: first parameter copied", [0x714], 0xBBBB0002
    CHKD "call gate: second parameter copied", [0x718], 0xAAAA0001
    CHKD "call gate: pushed old ESP", [0x71C], esi
    CHKD "call gate: pushed old SS", [0x720], SEL_DATA3

    ; 16-bit gate: word-sized frame
    push word 0x5A5A
    mov esi, esp
    call 0x73:0
.after_gate16:
    CHKD "16-bit gate: RETF 2 restores ESP", esp, STACK3
    CHKD "16-bit gate: frame holds IP, CS, the word parameter, SP, SS", [0x730], .after_gate16
    CHKD "16-bit gate: pushed CS", [0x734], SEL_CODE3
    CHKD "16-bit gate: parameter copied", [0x738], 0x5A5A
    mov eax, esi
    and eax, 0xFFFF
    CHKD "16-bit gate: pushed SP", [0x73C], eax
    CHKD "16-bit gate: pushed SS", [0x740], SEL_DATA3

    ; conforming target through a gate: no privilege change
    call 0xA3:0
    CHKD "call gate to conforming code keeps CPL 3", [0x750], SEL_CONF0 | 3
    CHKD "call gate to conforming code uses the same stack", [0x754], SEL_DATA3

    ; gate faults
    PM_EXPECT "call gate with DPL < CPL is #GP(gate)", 13, 0x78, call 0x7B:0
    PM_EXPECT "not-present call gate is #NP(gate)", 11, 0x80, call 0x83:0
    PM_EXPECT "call gate to a not-present segment is #NP(code)", 11, 0x60, call 0x8B:0
    PM_EXPECT "call gate offset past the code limit is #GP(0)", 13, 0, call 0x93:0
    PM_EXPECT "call gate with DPL 2 from ring 3 is #GP(gate)", 13, 0x98, call 0x9B:0
    PM_EXPECT "JMP through a call gate to more privileged code is #GP(code)", 13, SEL_CODE0, jmp 0x6B:0

    TO_RING0
    PM_EXPECT "gate selector RPL above gate DPL is #GP(gate)", 13, 0x98, call 0x9B:0
    call 0x98:0                 ; DPL 2 gate at CPL 0 with RPL 0: same level
    CHKD "same-level call gate returns", [0x760], SEL_CODE0
    ; ring 3 -> ring 1 through a gate: the stack comes from the TSS's SS1:ESP1
    GDT_GATE 0xB0, SEL_CODE1, ring1_target, 0xEC00
    TO_RING3 3
    call 0xB3:0
    CHKD "gate to ring 1: CS has RPL 1", [0x770], SEL_CODE1
    CHKD "gate to ring 1: SS from TSS SS1", [0x774], SEL_DATA1
    CHKD "gate to ring 1: ESP from TSS ESP1 minus the frame", [0x778], STACK1 - 16
    ; bad inner stacks (SS1; the faults themselves go to ring 0 on a good stack)
    TO_RING0
    mov word [TSS_BASE + 16], SEL_CODE1
    TO_RING3 3
    PM_EXPECT "inner stack selector naming code is #TS(SS)", 10, SEL_CODE1 & 0xFFFC, call 0xB3:0
    TO_RING0
    mov word [TSS_BASE + 16], 0
    TO_RING3 3
    PM_EXPECT "null inner stack selector is #TS(0)", 10, 0, call 0xB3:0
    TO_RING0
    mov word [TSS_BASE + 16], SEL_DATA0
    TO_RING3 3
    PM_EXPECT "inner stack with RPL != DPL of the code is #TS(SS)", 10, SEL_DATA0, call 0xB3:0
    TO_RING0
    mov word [TSS_BASE + 16], SEL_DATA3
    TO_RING3 3
    PM_EXPECT "inner stack of another DPL is #TS(SS)", 10, SEL_DATA3 & 0xFFFC, call 0xB3:0
    TO_RING0
    SET_DESC 0xA8, 0, 0xFFFFF, 0x32, 0xC        ; data DPL 1, not present
    mov word [TSS_BASE + 16], 0xA9
    TO_RING3 3
    PM_EXPECT "not-present inner stack is #SS(SS)", 12, 0xA8, call 0xB3:0
    TO_RING0
    SET_DESC 0xA8, 0, 0xFFFF, 0xB2, 0x4         ; data DPL 1, limit 64 KiB
    mov dword [TSS_BASE + 12], 8
    TO_RING3 3
    PM_EXPECT "inner stack without room for the frame is #SS(SS)", 12, 0xA8, call 0xB3:0
    PASS

; Far procedures (CPL 0).
far_func:
    mov eax, [esp + 4]
    mov [pm_tmp], eax
    retf
far_func_ret8:
    retf 8
far_func16:
    movzx eax, word [esp + 2]
    mov [pm_tmp], eax
    o16 retf

; The 32-bit call gate's target: record the frame, load segment registers the outer level may
; and may not use, return to ring 3 releasing the parameters.
gate_handler:
    mov ax, SEL_DATA0
    mov ds, ax
    mov gs, ax
    mov ax, SEL_CONF0
    mov fs, ax
    xor eax, eax
    mov ax, cs
    mov [0x700], eax
    mov ax, ss
    mov [0x704], eax
    mov [0x708], esp
    mov eax, [esp]
    mov [0x70C], eax
    mov eax, [esp + 4]
    mov [0x710], eax
    mov eax, [esp + 8]
    mov [0x714], eax
    mov eax, [esp + 12]
    mov [0x718], eax
    mov eax, [esp + 16]
    mov [0x71C], eax
    mov eax, [esp + 20]
    mov [0x720], eax
    retf 8
gate_handler16:
    movzx eax, word [esp]
    mov [0x730], eax
    movzx eax, word [esp + 2]
    mov [0x734], eax
    movzx eax, word [esp + 4]
    mov [0x738], eax
    movzx eax, word [esp + 6]
    mov [0x73C], eax
    movzx eax, word [esp + 8]
    mov [0x740], eax
    o16 retf 2
conf_gate_target:
    xor eax, eax
    mov ax, cs
    mov [0x750], eax
    mov ax, ss
    mov [0x754], eax
    retf
gate_same:
    xor eax, eax
    mov ax, cs
    mov [0x760], eax
    retf

ring1_target:
    xor eax, eax
    mov ax, cs
    mov [0x770], eax
    mov ax, ss
    mov [0x774], eax
    mov [0x778], esp
    retf

    PM_LIB
bits 16
TEST_END

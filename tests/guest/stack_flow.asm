; Guest test: the stack and control flow in real mode: PUSH/POP of every kind (PUSH SP pushes the
; old value), PUSHA/POPA, ENTER (levels 0, 1, 3) and LEAVE, near and far CALL/RET with RET imm,
; LOOP/LOOPE/LOOPNE/JCXZ, all 16 Jcc conditions, INT n/INT3/INTO/IRET through the IVT and BOUND's
; #BR fault. Intel SDM Vol. 2 pages of each; Vol. 3A §20.1.4 (real-mode interrupt delivery).
%include "lib.inc"
cpu 686

SAVED_SP equ 0x580      ; the test's own SP while it borrows another stack
INT_IP equ 0x5A0        ; what the INT handler saw on its stack
INT_CS equ 0x5A2
INT_FL equ 0x5A4
INT_IN_FL equ 0x5A6     ; FLAGS inside the handler
INT_COUNT equ 0x5A8

; JT flags, cc: with FLAGS = flags, jcc must be taken. JN flags, cc: must not be.
%macro JT 2
    push word %1
    popf
    j%+2 %%ok
    FAILED "j", %str(%2), " not taken with flags ", %str(%1)
%%ok:
%endmacro
%macro JN 2
    push word %1
    popf
    j%+2 near %%bad         ; the 0F 8x rel16 form
    jmp %%ok
%%bad:
    FAILED "j", %str(%2), " taken with flags ", %str(%1)
%%ok:
%endmacro

; HOOK vec, handler: points the IVT entry at CS:handler (DS = 0).
%macro HOOK 2
    mov word [(%1) * 4], %2
    mov word [(%1) * 4 + 2], cs
%endmacro

TEST_BEGIN
    PUTS "stack_flow: PUSH, POP", 10
    mov ax, 0x1234
    push ax
    CHK sp, 0x6FFE
    CHK word [0x6FFE], 0x1234
    pop bx
    CHK bx, 0x1234
    CHK sp, 0x7000
    push byte -2            ; 6A: sign-extended to the 16-bit operand size
    pop cx
    CHK cx, 0xFFFE
    push dword 0x89ABCDEF   ; 66 68: four bytes
    CHK sp, 0x6FFC
    pop edx
    CHK edx, 0x89ABCDEF
    push sp                 ; the value before the decrement (286 and later)
    pop ax
    CHK ax, 0x7000
    push esp
    pop eax
    CHK eax, 0x7000
    mov word [0x582], 0x5555
    push word [0x582]       ; FF /6
    pop word [0x584]        ; 8F /0
    CHK word [0x584], 0x5555
    mov ax, 0x1234
    mov fs, ax
    push fs
    pop gs                  ; 0F A8 / 0F A9
    CHK word [0x6FFE], 0x1234
    mov ax, gs
    CHK ax, 0x1234
    push es
    pop ds                  ; ES = 0 -> DS = 0, as before
    mov ax, 0
    mov fs, ax
    mov gs, ax

    PUTS "stack_flow: PUSHA, POPA", 10
    mov ax, 1
    mov cx, 2
    mov dx, 3
    mov bx, 4
    mov bp, 5
    mov si, 6
    mov di, 7
    pusha                   ; AX CX DX BX SP(old) BP SI DI, DI at the lowest address
    CHK sp, 0x7000 - 16
    CHK word [0x7000 - 2], 1
    CHK word [0x7000 - 10], 0x7000
    CHK word [0x7000 - 16], 7
    mov word [0x7000 - 10], 0xDEAD ; POPA discards the SP slot
    xor ax, ax
    xor cx, cx
    xor dx, dx
    xor bx, bx
    xor bp, bp
    xor si, si
    xor di, di
    popa
    CHK sp, 0x7000
    CHK ax, 1
    CHK bx, 4
    CHK bp, 5
    CHK di, 7
    mov eax, 0x11111111
    mov esi, 0x66666666
    pushad                  ; 66 60: eight dwords
    CHK sp, 0x7000 - 32
    CHK dword [0x7000 - 4], 0x11111111
    CHK dword [0x7000 - 20], 0x7000
    xor eax, eax
    xor esi, esi
    popad
    CHK eax, 0x11111111
    CHK esi, 0x66666666
    CHK sp, 0x7000

    PUTS "stack_flow: ENTER, LEAVE", 10
    mov [SAVED_SP], sp
    mov sp, 0x6E00
    mov bp, 0x6F00
    enter 8, 0              ; push BP; BP = SP; SP -= 8
    CHK bp, 0x6DFE
    CHK sp, 0x6DF6
    CHK word [0x6DFE], 0x6F00
    leave
    CHK bp, 0x6F00
    CHK sp, 0x6E00
    enter 4, 1              ; level 1: the new frame pointer is pushed as a one-entry display
    CHK bp, 0x6DFE
    CHK sp, 0x6DF8
    CHK word [0x6DFC], 0x6DFE
    leave
    mov word [0x6EFE], 0x1111 ; the outer frame's display, copied by a nested ENTER
    mov word [0x6EFC], 0x2222
    enter 6, 3              ; copies two display entries from [BP-2], [BP-4], then the new frame
    CHK bp, 0x6DFE
    CHK sp, 0x6DF2
    CHK word [0x6DFE], 0x6F00
    CHK word [0x6DFC], 0x1111
    CHK word [0x6DFA], 0x2222
    CHK word [0x6DF8], 0x6DFE
    leave
    CHK bp, 0x6F00
    CHK sp, 0x6E00
    mov sp, [SAVED_SP]

    PUTS "stack_flow: CALL, RET", 10
    mov ax, 0
    call near_func          ; E8 rel16
    CHK ax, 1
    mov bx, near_func
    call bx                 ; FF /2 register
    CHK ax, 2
    mov word [0x586], near_func
    call [0x586]            ; FF /2 memory
    CHK ax, 3
    push word 0x4444
    push word 0x3333
    call ret_imm_func       ; RET 4 drops the two arguments
    CHK sp, 0x7000
    CHK dx, 0x3333
    call 0xF000:far_func    ; 9A ptr16:16
    CHK ax, 0xF000
    CHK sp, 0x7000
    mov word [0x588], far_func
    mov word [0x58A], 0xF000
    push word 0x7777
    call far [0x588]        ; FF /3 m16:16
    CHK sp, 0x7000          ; RETF 2 dropped the argument
    CHK ax, 0xF000

    PUTS "stack_flow: LOOP, LOOPE, LOOPNE, JCXZ", 10
    mov cx, 5
    xor ax, ax
.l1:
    inc ax
    loop .l1
    CHK ax, 5
    CHK cx, 0
    mov cx, 10
    xor ax, ax
.l2:
    inc ax
    cmp ax, 3
    loopne .l2              ; stops when ZF = 1 (AX = 3)
    CHK ax, 3
    CHK cx, 7
    mov cx, 10
    xor ax, ax
.l3:
    inc ax
    cmp ax, 1
    loope .l3               ; stops as soon as ZF = 0 (AX = 2)
    CHK ax, 2
    CHK cx, 8
    mov ecx, 0x00010001
    loop .never             ; 16-bit addressing: only CX counts, 1 -> 0, not taken
    jmp .counted
.never:
    FAILED "loop taken with CX = 1"
.counted:
    CHK ecx, 0x00010000
    xor cx, cx
    jcxz .z
    FAILED "jcxz not taken with CX = 0"
.z:
    mov ecx, 0x00010000
    jcxz .z2                ; CX = 0 although ECX is not
    FAILED "jcxz looked at ECX"
.z2:
    inc cx
    jcxz .bad
    jmp .z3
.bad:
    FAILED "jcxz taken with CX = 1"
.z3:

    PUTS "stack_flow: the 16 Jcc conditions", 10
    JT 0x0800, o
    JN 0x0000, o
    JT 0x0000, no
    JN 0x0800, no
    JT 0x0001, b
    JN 0x0000, b
    JT 0x0000, ae
    JN 0x0001, ae
    JT 0x0040, e
    JN 0x0000, e
    JT 0x0000, ne
    JN 0x0040, ne
    JT 0x0040, be
    JT 0x0001, be
    JN 0x0000, be
    JT 0x0000, a
    JN 0x0001, a
    JN 0x0040, a
    JT 0x0080, s
    JN 0x0000, s
    JT 0x0000, ns
    JN 0x0080, ns
    JT 0x0004, p
    JN 0x0000, p
    JT 0x0000, np
    JN 0x0004, np
    JT 0x0080, l            ; SF != OF
    JT 0x0800, l
    JN 0x0880, l
    JT 0x0880, ge
    JN 0x0800, ge
    JT 0x0040, le
    JT 0x0080, le
    JN 0x0000, le
    JT 0x0880, g
    JN 0x0080, g
    JN 0x08C0, g

    PUTS "stack_flow: INT n, INT3, INTO, IRET", 10
    HOOK 0x40, int_handler
    mov word [INT_COUNT], 0
    push word 0x0202        ; IF = 1: delivery must clear it, IRET must restore it
    popf
.int40:
    int 0x40
.after40:
    pushf
    cli
    pop ax
    CHK ax, 0x0203          ; the handler set CF in the FLAGS image IRET restores
    CHK word [INT_IP], .after40 ; a trap: the return address is the next instruction
    CHK word [INT_CS], 0xF000
    CHK word [INT_FL], 0x0202
    CHK word [INT_IN_FL], 0x0002 ; IF and TF clear inside the handler
    CHK sp, 0x7000
    HOOK 3, int_handler
    int3                    ; CC
.after3:
    CHK word [INT_IP], .after3
    HOOK 4, int_handler
    mov word [INT_COUNT], 0
    push word 0x0002
    popf
    into                    ; OF = 0: nothing happens
    CHK word [INT_COUNT], 0
    push word 0x0802
    popf
    into                    ; OF = 1: INT 4 as a trap
.after4:
    CHK word [INT_COUNT], 1
    CHK word [INT_IP], .after4

    PUTS "stack_flow: BOUND", 10
    mov word [0x590], 10    ; signed lower and upper bounds, both inclusive
    mov word [0x592], 20
    mov ax, 15
    bound ax, [0x590]
    mov ax, 20
    bound ax, [0x590]
    mov ax, 10
    bound ax, [0x590]
    mov ax, 5
    EXPECT_FAULT 5, bound ax, [0x590]
    mov ax, 21
    EXPECT_FAULT 5, bound ax, [0x590]
    mov ax, -1              ; signed: -1 is below 10
    EXPECT_FAULT 5, bound ax, [0x590]
    mov dword [0x594], -100
    mov dword [0x598], 100000
    mov eax, 99999
    bound eax, [0x594]
    mov eax, 100001
    EXPECT_FAULT 5, bound eax, [0x594]
    CHK eax, 100001
    PASS

near_func:
    inc ax
    ret

ret_imm_func:
    mov bp, sp
    mov dx, [bp + 2]        ; the first argument, just above the return address
    ret 4

far_func:
    mov bp, sp
    mov ax, [bp + 2]        ; the pushed CS
    cmp word [bp + 4], 0x7777 ; called through the memory form with an argument
    je .ret2
    retf
.ret2:
    retf 2

; int_handler: records the interrupt frame, sets CF in the FLAGS image, counts itself.
int_handler:
    push bp
    mov bp, sp
    push ax
    mov ax, [bp + 2]
    mov [INT_IP], ax
    mov ax, [bp + 4]
    mov [INT_CS], ax
    mov ax, [bp + 6]
    mov [INT_FL], ax
    pushf
    pop ax
    and ax, 0x0302          ; IF, TF and the always-one bit 1
    mov [INT_IN_FL], ax
    or word [bp + 6], 1
    inc word [INT_COUNT]
    pop ax
    pop bp
    iret

TEST_END

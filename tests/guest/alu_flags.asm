; Guest test: ADD/ADC/SUB/SBB/CMP/NEG/INC/DEC and the logic ops set CF OF AF PF SF ZF as the
; Intel SDM Vol. 1 §3.4.3 / Appendix A and each instruction's Vol. 2 page say, on edge values,
; at 8, 16 and 32 bits (the 32-bit forms use the 66 prefix in real mode).
%include "lib.inc"
cpu 686

TEST_BEGIN
    PUTS "alu_flags: ADD", 10
    mov al, 0x7F
    add al, 1               ; signed overflow into the sign bit, carry out of bit 3
    CHKF FL_ARITH, FL_OF | FL_SF | FL_AF
    CHK al, 0x80
    mov al, 0xFF
    add al, 1               ; unsigned wrap: CF, ZF, and the zero byte has even parity
    CHKF FL_ARITH, FL_CF | FL_ZF | FL_AF | FL_PF
    CHK al, 0
    mov ax, 0x8000
    add ax, 0x8000          ; both carries out of the top: CF and OF, result zero
    CHKF FL_ARITH, FL_CF | FL_OF | FL_ZF | FL_PF
    mov ah, 0x50
    add ah, 0x50            ; high-byte register; PF looks at the result byte 0xA0 (two bits set)
    CHKF FL_ARITH, FL_OF | FL_SF | FL_PF
    CHK ah, 0xA0
    mov al, 0x08
    add al, 0x08            ; AF alone: carry out of bit 3
    CHKF FL_ARITH, FL_AF
    mov al, 0x03
    add al, 0               ; PF alone: two bits set in the low byte
    CHKF FL_ARITH, FL_PF
    mov eax, 5
    add eax, byte -6        ; 83 /0: the imm8 is sign-extended to 32 bits, no unsigned carry
    CHKF FL_ARITH, FL_SF | FL_PF
    CHK eax, 0xFFFFFFFF
    mov dword [0x500], 0xFFFFFFFF
    add dword [0x500], 1    ; memory destination, 32-bit
    CHKF FL_ARITH, FL_CF | FL_ZF | FL_AF | FL_PF
    CHK dword [0x500], 0
    mov eax, 0x7FFFFFFF
    add eax, 1              ; 32-bit OF; PF only looks at the low byte (0x00)
    CHKF FL_ARITH, FL_OF | FL_SF | FL_AF | FL_PF
    CHK eax, 0x80000000

    PUTS "alu_flags: ADC", 10
    stc
    mov ax, 0xFFFF
    adc ax, 0               ; the carry-in alone wraps the register
    CHKF FL_ARITH, FL_CF | FL_ZF | FL_AF | FL_PF
    CHK ax, 0
    clc
    mov ax, 0x7FFF
    adc ax, 0x7FFF
    CHKF FL_ARITH, FL_OF | FL_SF | FL_AF
    CHK ax, 0xFFFE
    stc
    mov al, 0x0F
    adc al, 0               ; AF from the carry-in
    CHKF FL_ARITH, FL_AF
    CHK al, 0x10
    stc
    mov edx, 0xFFFFFFFF
    adc edx, 0xFFFFFFFF     ; 0xFFFFFFFF + 0xFFFFFFFF + 1 = 1_FFFFFFFF
    CHKF FL_ARITH, FL_CF | FL_SF | FL_AF | FL_PF
    CHK edx, 0xFFFFFFFF

    PUTS "alu_flags: SUB, SBB, CMP", 10
    mov eax, 0x80000000
    sub eax, 1              ; most negative minus one overflows to positive
    CHKF FL_ARITH, FL_OF | FL_AF | FL_PF
    CHK eax, 0x7FFFFFFF
    mov eax, 0
    sub eax, 1              ; borrow
    CHKF FL_ARITH, FL_CF | FL_SF | FL_AF | FL_PF
    CHK eax, 0xFFFFFFFF
    stc
    mov bx, 0
    sbb bx, 0               ; the borrow-in alone
    CHKF FL_ARITH, FL_CF | FL_SF | FL_AF | FL_PF
    CHK bx, 0xFFFF
    stc
    mov ecx, 0x80000000
    sbb ecx, 0
    CHKF FL_ARITH, FL_OF | FL_AF | FL_PF
    CHK ecx, 0x7FFFFFFF
    stc
    mov ax, 0x8000
    sbb ax, 0x7FFF          ; -32768 - 32767 - 1: zero result, but signed overflow, no borrow
    CHKF FL_ARITH, FL_OF | FL_ZF | FL_AF | FL_PF
    CHK ax, 0
    mov al, 0x80
    cmp al, 1               ; CMP sets flags as SUB ...
    CHKF FL_ARITH, FL_OF | FL_AF
    CHK al, 0x80            ; ... and leaves the destination alone
    mov ax, 5
    cmp ax, 5
    CHKF FL_ARITH, FL_ZF | FL_PF
    mov dx, 1
    cmp dx, 2
    CHKF FL_ARITH, FL_CF | FL_SF | FL_AF | FL_PF
    mov byte [0x504], 0x10
    mov cl, 0x20
    cmp [0x504], cl         ; 38 /r with a memory first operand: 0xF0, four bits set
    CHKF FL_ARITH, FL_CF | FL_SF | FL_PF
    mov esi, 0x12345678
    cmp esi, 0x12345679
    CHKF FL_ARITH, FL_CF | FL_SF | FL_AF | FL_PF

    PUTS "alu_flags: NEG", 10
    mov al, 0
    neg al                  ; NEG 0 is the one case with CF clear
    CHKF FL_ARITH, FL_ZF | FL_PF
    mov al, 0x80
    neg al                  ; -(-128) overflows and stays 0x80
    CHKF FL_ARITH, FL_CF | FL_OF | FL_SF
    CHK al, 0x80
    mov ax, 1
    neg ax
    CHKF FL_ARITH, FL_CF | FL_SF | FL_AF | FL_PF
    CHK ax, 0xFFFF
    mov eax, 0x80000000
    neg eax
    CHKF FL_ARITH, FL_CF | FL_OF | FL_SF | FL_PF
    CHK eax, 0x80000000

    PUTS "alu_flags: INC, DEC keep CF", 10
    stc
    mov al, 0xFF
    inc al                  ; wraps to 0 but CF stays as it was (set)
    CHKF FL_ARITH, FL_CF | FL_ZF | FL_AF | FL_PF
    CHK al, 0
    clc
    mov ax, 0x7FFF
    inc ax
    CHKF FL_ARITH, FL_OF | FL_SF | FL_AF | FL_PF
    CHK ax, 0x8000
    stc
    mov eax, 0x80000000
    dec eax
    CHKF FL_ARITH, FL_CF | FL_OF | FL_AF | FL_PF
    CHK eax, 0x7FFFFFFF
    clc
    mov cl, 0
    dec cl
    CHKF FL_ARITH, FL_SF | FL_AF | FL_PF
    CHK cl, 0xFF
    mov word [0x506], 0xFFFF
    stc
    inc word [0x506]        ; FF /0 on memory
    CHKF FL_ARITH, FL_CF | FL_ZF | FL_AF | FL_PF
    CHK word [0x506], 0

    PUTS "alu_flags: AND, OR, XOR, TEST clear CF and OF", 10
    stc
    mov al, 0xF0
    and al, 0x80
    CHKF FL_OF | FL_SF | FL_ZF | FL_PF | FL_CF, FL_SF
    CHK al, 0x80
    stc
    xor eax, eax
    CHKF FL_OF | FL_SF | FL_ZF | FL_PF | FL_CF, FL_ZF | FL_PF
    stc
    mov bx, 0x0100
    or bx, 0x8000
    CHKF FL_OF | FL_SF | FL_ZF | FL_PF | FL_CF, FL_SF | FL_PF
    CHK bx, 0x8100
    stc
    mov edx, 0x80000001
    test edx, 0x80000000
    CHKF FL_OF | FL_SF | FL_ZF | FL_PF | FL_CF, FL_SF | FL_PF
    CHK edx, 0x80000001
    PASS

TEST_END

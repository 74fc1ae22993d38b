; Guest test: SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD and SHRD: results, CF/OF (OF only
; where defined: one-bit counts), SF/ZF/PF for shifts, count masking to 5 bits and the RCL/RCR
; modulo-9/17 rotation. Intel SDM Vol. 2B SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR, SHLD, SHRD pages.
%include "lib.inc"
cpu 686

SZPC equ FL_SF | FL_ZF | FL_PF | FL_CF  ; what a multi-bit shift defines (OF, AF are not)
OSZPC equ FL_OF | SZPC                  ; what a one-bit shift defines

TEST_BEGIN
    PUTS "shifts: SHL, SHR, SAR", 10
    mov al, 0x81
    shl al, 1               ; CF = the bit out; OF = MSB(result) XOR CF
    CHKF OSZPC, FL_OF | FL_CF
    CHK al, 0x02
    mov ax, 0x4000
    shl ax, 1
    CHKF OSZPC, FL_OF | FL_SF | FL_PF
    CHK ax, 0x8000
    mov eax, 0x10000001
    shl eax, 4              ; CF = bit 28 of the source, the last one out
    CHKF SZPC, FL_CF
    CHK eax, 0x10
    mov eax, 1
    mov cl, 33
    shl eax, cl             ; the count is masked to 5 bits: 33 -> 1
    CHKF OSZPC, 0
    CHK eax, 2
    mov ax, 1
    mov cl, 0x21
    shl ax, cl              ; masked to 5 bits for 16-bit operands too
    CHK ax, 2
    mov al, 0x55
    mov cl, 32
    stc
    shl al, cl              ; 32 & 31 = 0: neither the operand nor any flag changes
    CHKF FL_CF, FL_CF
    CHK al, 0x55
    mov eax, 0x12345678
    cmp eax, eax            ; ZF = 1, CF = 0 beforehand
    shl eax, 32             ; C1 /4 ib with a count that masks to 0
    CHKF FL_ZF | FL_CF, FL_ZF
    CHK eax, 0x12345678
    mov al, 0x81
    shr al, 1               ; OF = MSB of the source
    CHKF OSZPC, FL_OF | FL_CF
    CHK al, 0x40
    mov edx, 0xC0000000
    shr edx, 31
    CHKF SZPC, FL_CF
    CHK edx, 1
    mov al, 0x81
    sar al, 1               ; OF = 0, the sign is copied in
    CHKF OSZPC, FL_SF | FL_PF | FL_CF
    CHK al, 0xC0
    mov eax, 0x80000000
    sar eax, 31
    CHKF SZPC, FL_SF | FL_PF
    CHK eax, 0xFFFFFFFF
    mov ax, 0x8000
    mov cl, 31
    sar ax, cl              ; a 16-bit SAR by 31 fills the register with the sign
    CHK ax, 0xFFFF
    mov byte [0x530], 0xC0
    shl byte [0x530], 1     ; D0 /4 on memory
    CHKF OSZPC, FL_SF | FL_CF
    CHK byte [0x530], 0x80

    PUTS "shifts: ROL, ROR", 10
    xor bx, bx              ; ZF = 1: rotates must leave SF, ZF, PF alone
    mov al, 0x81
    rol al, 1
    CHKF FL_OF | FL_CF | FL_ZF | FL_SF | FL_PF, FL_OF | FL_CF | FL_ZF | FL_PF
    CHK al, 0x03
    mov ax, 1
    ror ax, 1               ; OF = XOR of the two top bits of the result
    CHKF FL_OF | FL_CF, FL_OF | FL_CF
    CHK ax, 0x8000
    mov eax, 0x12345678
    rol eax, 8              ; CF = LSB of the result
    CHKF FL_CF, 0
    CHK eax, 0x34567812
    mov eax, 0x12345678
    mov cl, 36
    ror eax, cl             ; 36 & 31 = 4; CF = MSB of the result
    CHKF FL_CF, FL_CF
    CHK eax, 0x81234567
    mov al, 0x81
    mov cl, 9
    rol al, cl              ; 8-bit: (9 & 31) mod 8 = 1
    CHKF FL_CF, FL_CF
    CHK al, 0x03
    clc
    mov al, 0x81
    mov cl, 8
    rol al, cl              ; a full turn: the value stays but CF is still LSB(result)
    CHKF FL_CF, FL_CF
    CHK al, 0x81
    mov word [0x532], 0x8001
    ror word [0x532], 4
    CHK word [0x532], 0x1800

    PUTS "shifts: RCL, RCR", 10
    stc
    mov al, 0x80
    rcl al, 1               ; CF goes in at the bottom, bit 7 comes out into CF
    CHKF FL_OF | FL_CF, FL_OF | FL_CF
    CHK al, 0x01
    clc
    mov al, 0x01
    rcr al, 1               ; OF = MSB(source) XOR CF(before)
    CHKF FL_OF | FL_CF, FL_CF
    CHK al, 0x00
    stc
    mov al, 0x5A
    mov cl, 9
    rcl al, cl              ; 9-bit rotation by 9: the identity, CF kept
    CHKF FL_CF, FL_CF
    CHK al, 0x5A
    clc
    mov ax, 0x1234
    mov cl, 17
    rcl ax, cl              ; 17-bit rotation by 17: the identity
    CHKF FL_CF, 0
    CHK ax, 0x1234
    stc
    mov eax, 0x80000000
    rcl eax, 2
    CHKF FL_CF, 0
    CHK eax, 3
    clc
    mov eax, 3
    mov cl, 33
    rcr eax, cl             ; 33 & 31 = 1
    CHKF FL_CF, FL_CF
    CHK eax, 1
    stc
    mov al, 0
    rcr al, 5               ; the carry travels down to bit 3
    CHKF FL_CF, 0
    CHK al, 0x08
    stc
    mov bx, 0x8000
    mov cl, 16
    rcl bx, cl              ; 17-bit rotation by 16 = rotation right by one
    CHKF FL_CF, 0
    CHK bx, 0xC000

    PUTS "shifts: SHLD, SHRD", 10
    mov ax, 0x1234
    mov bx, 0xABCD
    shld ax, bx, 4          ; the top bits of BX come in at the bottom
    CHKF SZPC, FL_CF
    CHK ax, 0x234A
    CHK bx, 0xABCD
    mov eax, 0x12345678
    mov ebx, 0x9ABCDEF0
    mov cl, 36
    shld eax, ebx, cl       ; 36 & 31 = 4
    CHKF SZPC, FL_CF
    CHK eax, 0x23456789
    mov eax, 0x12345678
    mov ebx, 0x9ABCDEF0
    shrd eax, ebx, 8        ; the low bits of EBX come in at the top
    CHKF SZPC, FL_SF | FL_PF
    CHK eax, 0xF0123456
    mov eax, 0x12345678
    mov cl, 32
    stc
    shrd eax, ebx, cl       ; count 0: nothing changes, flags included
    CHKF FL_CF, FL_CF
    CHK eax, 0x12345678
    mov word [0x534], 1
    mov dx, 1
    shrd [0x534], dx, 1     ; memory destination; OF: the sign changed
    CHKF OSZPC, FL_OF | FL_SF | FL_PF | FL_CF
    CHK word [0x534], 0x8000
    mov dword [0x538], 0x80000000
    mov esi, 0xFFFFFFFF
    mov cl, 1
    shld [0x538], esi, cl
    CHKF OSZPC, FL_OF | FL_CF
    CHK dword [0x538], 1
    PASS

TEST_END

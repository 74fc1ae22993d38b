; Guest test: BT/BTS/BTR/BTC with register and immediate bit offsets (register offsets address
; memory outside the operand, negative ones below it; immediates are masked to the operand size),
; BSF/BSR and BSWAP. Intel SDM Vol. 2A BT/BTC/BTR/BTS ("bit base, bit offset"), BSF, BSR, BSWAP.
%include "lib.inc"
cpu 686

TEST_BEGIN
    PUTS "bits: BT family on registers", 10
    mov ax, 0x0010
    cmp ax, ax              ; ZF = 1: BT must leave ZF alone
    bt ax, 4
    CHKF FL_CF | FL_ZF, FL_CF | FL_ZF
    mov ax, 0x0010
    bt ax, 20               ; imm8 masked to 4 bits for a 16-bit operand: bit 4
    CHKF FL_CF, FL_CF
    mov eax, 0x80000000
    mov ecx, 63
    bt eax, ecx             ; register operand: offset modulo 32
    CHKF FL_CF, FL_CF
    mov ebx, 0
    bts ebx, 5
    CHKF FL_CF, 0
    CHK ebx, 0x20
    bts ebx, 5              ; already set: CF reports the old bit
    CHKF FL_CF, FL_CF
    CHK ebx, 0x20
    mov ebx, 0xFF
    btr ebx, 7
    CHKF FL_CF, FL_CF
    CHK ebx, 0x7F
    mov bx, 0
    btc bx, 15
    CHKF FL_CF, 0
    CHK bx, 0x8000
    btc bx, 15
    CHKF FL_CF, FL_CF
    CHK bx, 0
    mov dx, 0x0001
    mov si, 16
    btr dx, si              ; 16 mod 16 = bit 0
    CHKF FL_CF, FL_CF
    CHK dx, 0

    PUTS "bits: BT family on memory bit strings", 10
    xor eax, eax
    mov [0x600], eax
    mov [0x604], eax
    mov [0x608], eax
    mov [0x60C], eax
    mov [0x610], eax
    mov cx, 35
    bts word [0x600], cx    ; word 0x600 + 2 * (35 >> 4) = 0x604, bit 3
    CHKF FL_CF, 0
    CHK byte [0x604], 0x08
    CHK word [0x600], 0     ; the named word itself is untouched
    mov ecx, -1
    bts dword [0x608], ecx  ; dword 0x608 + 4 * (-1 >> 5) = 0x604, bit 31
    CHKF FL_CF, 0
    CHK dword [0x604], 0x80000008
    CHK dword [0x608], 0
    bt word [0x600], 35     ; an immediate offset stays inside the operand: 35 & 15 = bit 3
    CHKF FL_CF, 0
    mov word [0x600], 8
    bt word [0x600], 35
    CHKF FL_CF, FL_CF
    mov eax, 35
    btr dword [0x600], eax  ; dword 0x604, bit 3
    CHKF FL_CF, FL_CF
    CHK dword [0x604], 0x80000000
    CHK word [0x600], 8
    mov dx, -16
    btc word [0x610], dx    ; word 0x610 - 2 = 0x60E, bit 0
    CHKF FL_CF, 0
    CHK word [0x60E], 1
    CHK word [0x610], 0
    mov ebx, 0x600
    mov edi, 32 + 31
    bt dword [ebx], edi     ; 32-bit addressing: dword 0x604, bit 31
    CHKF FL_CF, FL_CF
    btc dword [0x604], 31   ; 0F BA /7 on memory
    CHKF FL_CF, FL_CF
    CHK dword [0x604], 0

    PUTS "bits: BSF, BSR", 10
    mov eax, 0x00080010
    bsf ecx, eax
    CHKF FL_ZF, 0
    CHK ecx, 4
    bsr ecx, eax
    CHKF FL_ZF, 0
    CHK ecx, 19
    xor ax, ax
    bsf dx, ax              ; zero source: ZF = 1 (the destination is undefined)
    CHKF FL_ZF, FL_ZF
    mov ebx, 0
    bsr edx, ebx
    CHKF FL_ZF, FL_ZF
    mov dword [0x620], 0x80000000
    bsr edx, [0x620]
    CHKF FL_ZF, 0
    CHK edx, 31
    bsf edx, [0x620]
    CHK edx, 31
    mov word [0x624], 0x8000
    bsf bx, [0x624]
    CHK bx, 15
    mov ax, 1
    bsr si, ax
    CHKF FL_ZF, 0
    CHK si, 0

    PUTS "bits: BSWAP", 10
    mov eax, 0x12345678
    bswap eax
    CHK eax, 0x78563412
    mov edi, 0xAABBCCDD
    bswap edi
    CHK edi, 0xDDCCBBAA
    mov esp, 0x00007000     ; BSWAP ESP is an ordinary register too
    bswap esp
    bswap esp
    CHK esp, 0x7000
    PASS

TEST_END

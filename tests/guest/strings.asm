; Guest test: MOVS, STOS, LODS, CMPS, SCAS with and without REP/REPE/REPNE, the direction flag,
; a segment override on the source (the ES:DI destination cannot be overridden), and 16- versus
; 32-bit addressing (67 prefix: ESI/EDI/ECX). Intel SDM Vol. 2B REP/REPE/REPNE, MOVS, CMPS, SCAS.
%include "lib.inc"
cpu 686

; BUF n: a scratch area in low RAM, DS = ES = 0.
%define BUF(n) (0x1000 + (n) * 0x100)

TEST_BEGIN
    ; clear the scratch area with plain stores so that nothing below depends on string ops
    mov bx, BUF(0)
.clear:
    mov dword [bx], 0
    add bx, 4
    cmp bx, BUF(0x10)
    jb .clear

    PUTS "strings: STOS, MOVS", 10
    mov di, BUF(0)
    mov cx, 16
    mov al, 0xAA
    rep stosb
    CHK di, BUF(0) + 16
    CHK cx, 0
    CHK byte [BUF(0) + 15], 0xAA
    CHK byte [BUF(0) + 16], 0  ; exactly CX elements
    mov di, BUF(1)
    mov cx, 4
    mov eax, 0x11223344
    rep stosd               ; 66 prefix: dword elements, DI steps by 4
    CHK di, BUF(1) + 16
    CHK dword [BUF(1) + 12], 0x11223344
    mov si, BUF(0)
    mov di, BUF(2)
    mov cx, 8
    rep movsw
    CHK si, BUF(0) + 16
    CHK di, BUF(2) + 16
    CHK cx, 0
    CHK word [BUF(2) + 14], 0xAAAA
    std                     ; DF = 1: addresses go down
    mov si, BUF(1) + 15
    mov di, BUF(3) + 15
    mov cx, 16
    rep movsb
    cld
    CHK si, BUF(1) - 1
    CHK di, BUF(3) - 1
    CHK dword [BUF(3)], 0x11223344
    CHK dword [BUF(3) + 12], 0x11223344
    mov cx, 0
    mov si, BUF(0)
    mov di, BUF(4)
    rep movsb               ; CX = 0: no iteration at all
    CHK si, BUF(0)
    CHK byte [BUF(4)], 0
    movsb                   ; no REP: exactly one element
    CHK byte [BUF(4)], 0xAA
    CHK byte [BUF(4) + 1], 0

    PUTS "strings: segment override on the source", 10
    mov ax, BUF(0) >> 4
    mov fs, ax              ; FS base = BUF(0)
    mov si, 0x100           ; FS:0x100 = BUF(1)
    mov di, BUF(5)
    mov cx, 4
    fs rep movsb            ; source FS:SI, destination still ES:DI (ES = 0)
    CHK dword [BUF(5)], 0x11223344
    mov ax, BUF(6) >> 4
    mov es, ax
    xor di, di
    mov al, 0x5A
    stosb                   ; the destination follows ES
    xor ax, ax
    mov es, ax
    CHK byte [BUF(6)], 0x5A
    mov si, BUF(5)
    cs lodsb                ; CS override: reads this ROM image at CS:BUF(5), not RAM
    CHK al, [cs:BUF(5)]

    PUTS "strings: LODS", 10
    mov si, BUF(1)
    lodsd
    CHK eax, 0x11223344
    CHK si, BUF(1) + 4
    std
    lodsb                   ; BUF(1) + 4 = 0x44, then SI goes down
    cld
    CHK al, 0x44
    CHK si, BUF(1) + 3
    mov si, BUF(1)
    mov cx, 3
    rep lodsb               ; legal if useless: AL ends with the last element
    CHK al, 0x22
    CHK cx, 0
    CHK si, BUF(1) + 3

    PUTS "strings: CMPS, SCAS", 10
    mov dword [BUF(7)], 'ABCD'
    mov byte [BUF(7) + 4], 'x'
    mov dword [BUF(8)], 'ABCD'
    mov byte [BUF(8) + 4], 'y'
    mov si, BUF(7)
    mov di, BUF(8)
    mov cx, 10
    repe cmpsb              ; stops after the first mismatch, index 4
    CHKF FL_ZF | FL_CF | FL_SF, FL_CF | FL_SF ; flags of 'x' - 'y': [SI] minus [ES:DI]
    CHK si, BUF(7) + 5
    CHK di, BUF(8) + 5
    CHK cx, 5
    mov dword [BUF(9)], 'abcZ'
    mov dword [BUF(10)], 'xyzZ'
    mov si, BUF(9)
    mov di, BUF(10)
    mov cx, 10
    repne cmpsb             ; stops after the first match, index 3
    CHKF FL_ZF, FL_ZF
    CHK cx, 6
    CHK si, BUF(9) + 4
    mov si, BUF(7)
    mov di, BUF(8)
    cmpsw                   ; one word, both pointers step by 2
    CHKF FL_ZF, FL_ZF
    CHK si, BUF(7) + 2
    CHK di, BUF(8) + 2
    mov di, BUF(7)
    mov al, 'C'
    mov cx, 10
    repne scasb             ; finds 'C' at index 2
    CHKF FL_ZF, FL_ZF
    CHK di, BUF(7) + 3
    CHK cx, 7
    mov di, BUF(0)
    mov ax, 0xAAAA
    mov cx, 20
    repe scasw              ; eight equal words, the ninth (0) differs
    CHKF FL_ZF, 0
    CHK di, BUF(0) + 18
    CHK cx, 11
    mov di, BUF(7)
    xor cx, cx
    cmp cx, cx              ; ZF = 1; a REPNE with CX = 0 must leave it alone
    repne scasb
    CHKF FL_ZF, FL_ZF
    CHK di, BUF(7)

    PUTS "strings: 16- and 32-bit addressing", 10
    mov ecx, 0x00010002
    mov si, BUF(0)
    mov di, BUF(11)
    rep movsb               ; 16-bit addressing counts CX only: the high half of ECX stays
    CHK ecx, 0x00010000
    CHK word [BUF(11)], 0xAAAA
    mov esi, 0x1234FFFF
    mov byte [0xFFFF], 0x77
    mov di, BUF(12)
    movsb                   ; SI wraps to 0; ESI's upper half is not touched
    CHK esi, 0x12340000
    CHK byte [BUF(12)], 0x77
    mov esi, BUF(1)
    mov edi, BUF(13)
    mov ecx, 4
    a32 rep movsb           ; 67 prefix: ESI, EDI, ECX
    CHK esi, BUF(1) + 4
    CHK edi, BUF(13) + 4
    CHK ecx, 0
    CHK dword [BUF(13)], 0x11223344
    mov edi, BUF(14) + 6
    mov ecx, 4
    mov ax, 0xBEEF
    std
    a32 rep stosw           ; downwards: BUF(14) + 6, + 4, + 2, + 0
    cld
    CHK edi, BUF(14) - 2
    CHK word [BUF(14)], 0xBEEF
    CHK word [BUF(14) + 6], 0xBEEF
    CHK word [BUF(14) + 8], 0
    mov edi, BUF(7)
    mov ecx, 10
    mov al, 'D'
    a32 repne scasb
    CHK edi, BUF(7) + 4
    CHK ecx, 6
    PASS

TEST_END

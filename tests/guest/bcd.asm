; Guest test: the decimal-adjust instructions DAA, DAS (packed BCD), AAA, AAS, AAM, AAD (unpacked),
; including AAM/AAD with a non-decimal base and AAM 0 raising #DE as a fault.
; Intel SDM Vol. 2A DAA/DAS/AAA/AAS/AAM/AAD pseudo-code; only the flags each page defines are checked.
%include "lib.inc"
cpu 686

SZAPC equ FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF ; DAA/DAS define these (OF is undefined)
SZP equ FL_SF | FL_ZF | FL_PF                   ; AAM/AAD define these

TEST_BEGIN
    PUTS "bcd: DAA, DAS", 10
    mov al, 0x19
    add al, 0x28            ; 0x41 with AF: the low digit needs +6
    daa
    CHKF SZAPC, FL_AF | FL_PF
    CHK al, 0x47
    mov al, 0x99
    add al, 0x01            ; 0x9A: both digits overflow, decimal 100
    daa
    CHKF SZAPC, FL_CF | FL_AF | FL_ZF | FL_PF
    CHK al, 0x00
    mov al, 0x50
    add al, 0x50            ; 0xA0: only the high digit needs +0x60
    daa
    CHKF SZAPC, FL_CF | FL_ZF | FL_PF
    CHK al, 0x00
    mov ah, 0x55
    mov al, 0x08
    add al, 0x01
    daa                     ; already decimal: no change; AH is never touched
    CHKF SZAPC, FL_PF
    CHK ax, 0x5509
    mov al, 0x47
    sub al, 0x28            ; 0x1F with AF: the low digit needs -6
    das
    CHKF SZAPC, FL_AF
    CHK al, 0x19
    mov al, 0x10
    sub al, 0x20            ; borrow: 10 - 20 = 90 with CF
    das
    CHKF SZAPC, FL_CF | FL_SF | FL_PF
    CHK al, 0x90

    PUTS "bcd: AAA, AAS", 10
    mov ax, 0x0009
    add al, 0x08            ; 0x11 with AF: 9 + 8 = 17 unpacked
    aaa
    CHKF FL_AF | FL_CF, FL_AF | FL_CF
    CHK ax, 0x0107
    mov ax, 0x0504
    add al, 0               ; AF = 0, low digit <= 9: only the high nibble of AL is cleared
    aaa
    CHKF FL_AF | FL_CF, 0
    CHK ax, 0x0504
    mov ax, 0x00FB
    add al, 0
    aaa                     ; low digit 0xB > 9: adjust although AF = 0. The P6 adds 0x106 to
    CHKF FL_AF | FL_CF, FL_AF | FL_CF ; all of AX, so AL + 6 carries into AH (an 8086 would give 0x0101)
    CHK ax, 0x0201
    mov ax, 0x0203
    sub al, 0x05            ; 23 - 5 unpacked: 0xFE with AF
    aas
    CHKF FL_AF | FL_CF, FL_AF | FL_CF
    CHK ax, 0x0108
    mov ax, 0x0307
    sub al, 0x02
    aas
    CHKF FL_AF | FL_CF, 0
    CHK ax, 0x0305

    PUTS "bcd: AAM, AAD", 10
    mov al, 79
    aam                     ; AH = AL / 10, AL = AL mod 10
    CHKF SZP, FL_PF
    CHK ax, 0x0709
    mov al, 0x4F
    aam 16                  ; D4 10: any base
    CHKF SZP, FL_PF
    CHK ax, 0x040F
    mov al, 50
    aam
    CHKF SZP, FL_ZF | FL_PF
    CHK ax, 0x0500
    mov ax, 0x0709
    aad                     ; AL = AH * 10 + AL, AH = 0
    CHKF SZP, 0
    CHK ax, 0x004F
    mov ax, 0x040F
    aad 16
    CHK ax, 0x004F
    mov ax, 0x1A05
    aad                     ; 265 is kept to 8 bits
    CHKF SZP, FL_PF
    CHK ax, 0x0009
    mov ax, 0x0C08
    aad                     ; 128: SF from the result byte
    CHKF SZP, FL_SF
    CHK ax, 0x0080

    PUTS "bcd: AAM 0 raises #DE", 10
    mov ax, 0x1234
    EXPECT_FAULT 0, aam 0
    CHK ax, 0x1234
    PASS

TEST_END

; Guest test: MUL, IMUL (one-, two- and three-operand forms), DIV and IDIV at 8, 16 and 32 bits,
; and #DE (divide by zero, quotient too large) delivered through the IVT as a fault whose return
; address is the DIV itself, prefixes included. Intel SDM Vol. 2 MUL/IMUL/DIV/IDIV pages, Vol. 3A §6.15.
%include "lib.inc"
cpu 686

OF_CF equ FL_OF | FL_CF      ; the only flags MUL/IMUL define

TEST_BEGIN
    PUTS "muldiv: MUL", 10
    mov al, 0x80
    mov bl, 2
    mul bl                  ; AX = AL * BL; the high half AH is non-zero, so CF = OF = 1
    CHKF OF_CF, OF_CF
    CHK ax, 0x0100
    mov al, 0x10
    mov bl, 0x0F
    mul bl
    CHKF OF_CF, 0
    CHK ax, 0x00F0
    mov ax, 0xFFFF
    mov cx, 0xFFFF
    mul cx                  ; DX:AX = 0xFFFE0001
    CHKF OF_CF, OF_CF
    CHK dx, 0xFFFE
    CHK ax, 0x0001
    mov eax, 0x10000
    mov ebx, 0x10000
    mul ebx                 ; EDX:EAX = 1_00000000
    CHKF OF_CF, OF_CF
    CHK edx, 1
    CHK eax, 0
    mov dword [0x510], 5
    mov eax, 3
    mov edx, 0xDEADBEEF     ; overwritten with the (zero) high half
    mul dword [0x510]
    CHKF OF_CF, 0
    CHK edx, 0
    CHK eax, 15

    PUTS "muldiv: IMUL one operand", 10
    mov al, -2
    mov bl, 3
    imul bl                 ; -6 fits in AL sign-extended: CF = OF = 0
    CHKF OF_CF, 0
    CHK ax, 0xFFFA
    mov al, 0x40
    mov bl, 4
    imul bl                 ; 256 does not fit in a signed byte
    CHKF OF_CF, OF_CF
    CHK ax, 0x0100
    mov ax, -1
    mov cx, -1
    mov dx, 0x1234
    imul cx                 ; (-1) * (-1) = 1: DX becomes the sign extension (0)
    CHKF OF_CF, 0
    CHK dx, 0
    CHK ax, 1
    mov eax, 0x80000000
    mov ecx, 2
    imul ecx                ; -2^31 * 2 = -2^32
    CHKF OF_CF, OF_CF
    CHK edx, 0xFFFFFFFF
    CHK eax, 0

    PUTS "muldiv: IMUL two and three operands", 10
    mov ax, 300
    mov bx, 300
    imul ax, bx             ; 0F AF: 90000 truncated to 16 bits
    CHKF OF_CF, OF_CF
    CHK ax, 0x5F90
    mov ecx, -7
    imul ecx, ecx
    CHKF OF_CF, 0
    CHK ecx, 49
    mov dword [0x514], -100000
    mov eax, 3
    imul eax, [0x514]
    CHKF OF_CF, 0
    CHK eax, -300000
    mov cx, 1000
    imul dx, cx, -3         ; 6B: sign-extended imm8
    CHKF OF_CF, 0
    CHK dx, -3000
    mov ebx, 0x10000
    imul eax, ebx, 0x10000  ; 69: imm32; 2^32 overflows to 0
    CHKF OF_CF, OF_CF
    CHK eax, 0
    mov word [0x518], 0x4000
    imul si, [0x518], byte 2 ; 32768 is not a signed 16-bit value
    CHKF OF_CF, OF_CF
    CHK si, 0x8000

    PUTS "muldiv: DIV", 10
    mov ax, 1000
    mov bl, 7
    div bl                  ; AL = quotient, AH = remainder
    CHK al, 142
    CHK ah, 6
    mov dx, 1
    mov ax, 0
    mov cx, 3
    div cx                  ; 65536 / 3
    CHK ax, 0x5555
    CHK dx, 1
    xor edx, edx
    mov eax, 0xFFFFFFFF
    mov ebx, 0x10
    div ebx
    CHK eax, 0x0FFFFFFF
    CHK edx, 0xF
    mov edx, 1
    xor eax, eax
    mov dword [0x51C], 2
    div dword [0x51C]       ; 2^32 / 2 = 2^31: the largest quotient that fits
    CHK eax, 0x80000000
    CHK edx, 0

    PUTS "muldiv: IDIV truncates toward zero", 10
    mov ax, -7
    mov bl, 2
    idiv bl                 ; -3 remainder -1: the remainder takes the dividend's sign
    CHK al, -3
    CHK ah, -1
    mov ax, -1000
    cwd
    mov cx, -7
    idiv cx
    CHK ax, 142
    CHK dx, -6
    mov eax, 7
    cdq
    mov ecx, -2
    idiv ecx
    CHK eax, -3
    CHK edx, 1
    mov ax, -256
    mov bl, 2
    idiv bl                 ; -128 is a valid 8-bit quotient on the P6
    CHK al, 0x80
    CHK ah, 0

    PUTS "muldiv: #DE is a fault at the DIV", 10
    mov ax, 0x1234
    mov bl, 0
    EXPECT_FAULT 0, div bl  ; divide by zero
    CHK ax, 0x1234          ; the destination is left alone
    mov ax, 0x1000
    mov bl, 0x10
    EXPECT_FAULT 0, div bl  ; quotient 0x100 does not fit in AL
    CHK ax, 0x1000
    mov edx, 0x10
    mov eax, 0
    mov ecx, 0x10
    EXPECT_FAULT 0, div ecx ; 66-prefixed: the return address is the prefix byte
    CHK edx, 0x10
    mov ax, 0x8000
    mov bl, -1
    EXPECT_FAULT 0, idiv bl ; -32768 / -1 = +32768 > 127
    mov ax, 256
    mov bl, 2
    EXPECT_FAULT 0, idiv bl ; +128 > 127
    mov edx, 0xFFFFFFFF
    mov eax, 0x80000000
    mov ecx, -1
    EXPECT_FAULT 0, idiv ecx ; -2^31 / -1 overflows
    mov dx, 0
    mov word [0x520], 0
    EXPECT_FAULT 0, div word [es:0x520] ; segment prefix on the faulting instruction
    PASS

TEST_END

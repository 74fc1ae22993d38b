; Guest test: data-movement and miscellaneous instructions: MOVZX/MOVSX, CMOVcc, SETcc, CMPXCHG,
; CMPXCHG8B, XADD, XCHG, XLAT, LAHF/SAHF, CBW/CWDE/CWD/CDQ, LEA (16- and 32-bit addressing),
; CPUID, RDTSC, 0F 1F NOPs, and the #UD/#GP decode faults (UD2, misplaced LOCK, > 15 bytes).
; Intel SDM Vol. 2 pages of each; Vol. 2A §2.1.1 (LOCK), §2.3.11 (15-byte limit -> #GP).
%include "lib.inc"
cpu 686

TEST_BEGIN
    PUTS "misc: MOVZX, MOVSX", 10
    mov byte [0x600], 0x80
    mov word [0x602], 0x8000
    movzx eax, byte [0x600]
    CHK eax, 0x80
    movsx eax, byte [0x600]
    CHK eax, 0xFFFFFF80
    mov bl, 0xFE
    movsx cx, bl
    CHK cx, 0xFFFE
    movzx edx, word [0x602]
    CHK edx, 0x8000
    movsx edx, word [0x602]
    CHK edx, 0xFFFF8000
    mov bh, 0x7F
    movsx esi, bh
    CHK esi, 0x7F

    PUTS "misc: CMOVcc, SETcc", 10
    mov eax, 1
    mov ebx, 2
    cmp eax, ebx
    cmovl eax, ebx          ; 1 < 2: moves
    CHK eax, 2
    mov eax, 1
    cmp eax, ebx
    cmovg eax, ebx          ; not taken: EAX keeps its value
    CHK eax, 1
    mov word [0x604], 0x5678
    mov dx, 0x1111
    stc
    cmovc dx, [0x604]       ; 16-bit, memory source; CMOV leaves flags alone
    CHKF FL_CF, FL_CF
    CHK dx, 0x5678
    mov al, 0xFF
    cmp al, al
    setz al
    CHK al, 1
    setnz al
    CHK al, 0
    mov byte [0x606], 0x55
    stc
    setb [0x606]            ; memory destination, a whole byte
    CHK byte [0x606], 1
    mov cx, -1
    cmp cx, 1
    setl ch                 ; signed: -1 < 1
    setb cl                 ; unsigned: 0xFFFF > 1
    CHK cx, 0x0100

    PUTS "misc: CMPXCHG, CMPXCHG8B, XADD", 10
    mov byte [0x608], 5
    mov al, 5
    mov bl, 9
    cmpxchg [0x608], bl     ; equal: the source is stored, ZF = 1
    CHKF FL_ZF, FL_ZF
    CHK byte [0x608], 9
    CHK al, 5
    mov al, 5
    cmpxchg [0x608], bl     ; not equal: the accumulator is loaded, ZF = 0
    CHKF FL_ZF | FL_CF, FL_CF ; flags as CMP AL, [m]: 5 - 9 borrows
    CHK al, 9
    mov eax, 1
    mov ecx, 1
    mov edx, 7
    cmpxchg ecx, edx        ; register destination
    CHKF FL_ZF, FL_ZF
    CHK ecx, 7
    mov dword [0x610], 0x11111111
    mov dword [0x614], 0x22222222
    mov eax, 0x11111111
    mov edx, 0x22222222
    mov ebx, 0x33333333
    mov ecx, 0x44444444
    cmpxchg8b [0x610]       ; EDX:EAX matches: ECX:EBX is stored
    CHKF FL_ZF, FL_ZF
    CHK dword [0x610], 0x33333333
    CHK dword [0x614], 0x44444444
    xor eax, eax
    xor edx, edx
    cmpxchg8b [0x610]       ; mismatch: the memory value is loaded into EDX:EAX
    CHKF FL_ZF, 0
    CHK eax, 0x33333333
    CHK edx, 0x44444444
    mov dword [0x618], 10
    mov eax, 1
    xadd [0x618], eax       ; memory = sum, register = old memory
    CHK dword [0x618], 11
    CHK eax, 10
    mov bl, 0xFF
    mov cl, 1
    xadd bl, cl             ; flags as ADD: wraps to 0 with CF
    CHKF FL_ZF | FL_CF, FL_ZF | FL_CF
    CHK bl, 0
    CHK cl, 0xFF
    lock add word [0x618], 1 ; LOCK on a lockable memory destination is fine
    CHK word [0x618], 12

    PUTS "misc: XCHG, XLAT", 10
    mov ax, 1
    mov bx, 2
    xchg ax, bx             ; 93: the short accumulator form
    CHK ax, 2
    CHK bx, 1
    mov byte [0x620], 0x33
    mov cl, 0x44
    xchg [0x620], cl
    CHK cl, 0x33
    CHK byte [0x620], 0x44
    mov eax, 0xAAAAAAAA
    mov edx, 0x55555555
    xchg edx, eax
    CHK eax, 0x55555555
    CHK edx, 0xAAAAAAAA
    mov dword [0x630], 0x03020100 + 0x30303030
    mov bx, 0x630
    mov al, 3
    xlatb                   ; AL = DS:[BX + AL]
    CHK al, 0x33
    mov bx, xlat_table
    mov al, 2
    cs xlatb                ; with a segment override: the table in this ROM
    CHK al, 'c'

    PUTS "misc: LAHF, SAHF, CBW, CWDE, CWD, CDQ", 10
    mov ah, 0xD5            ; SF ZF AF PF CF
    sahf
    CHKF FL_ARITH, FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF
    mov ah, 0
    sahf                    ; clears the five flags again
    lahf                    ; bit 1 reads as 1
    CHK ah, 0x02
    mov ah, 0xD5
    sahf
    mov ah, 0
    lahf
    CHK ah, 0xD7
    mov al, 0x80
    cbw
    CHK ax, 0xFF80
    mov eax, 0x12348000
    cwde
    CHK eax, 0xFFFF8000
    mov dx, 0
    mov ax, 0x8000
    cwd
    CHK dx, 0xFFFF
    mov edx, 0xFFFFFFFF
    mov eax, 0x7FFFFFFF
    cdq
    CHK edx, 0

    PUTS "misc: LEA", 10
    mov bx, 0x1000
    mov si, 0x0234
    lea ax, [bx + si + 0x10]
    CHK ax, 0x1244
    mov bx, 0xFFFF
    lea ax, [bx + 2]        ; 16-bit addressing wraps at 64 KiB
    CHK ax, 0x0001
    mov bp, 0x100
    mov di, 0x20
    lea dx, [bp + di - 1]
    CHK dx, 0x11F
    mov ebx, 0x10000000
    mov ecx, 0x100
    lea eax, [ebx + ecx * 4 + 0x100]
    CHK eax, 0x10000500
    lea ax, [ebx + ecx * 8] ; 32-bit address, 16-bit operand: truncated
    CHK ax, 0x0800
    mov ebx, 0xFFFF0010
    mov si, 0xFFF0
    lea eax, [bx + si]      ; 16-bit address zero-extended into a 32-bit operand
    CHK eax, 0x0000
    mov ecx, 3
    lea edx, [ecx * 2 + ecx] ; SIB with a base and index
    CHK edx, 9
    lea edi, [dword 0x12345678] ; 67 prefix, disp32 alone
    CHK edi, 0x12345678

    PUTS "misc: CPUID, RDTSC", 10
    xor eax, eax
    cpuid
    CHK ebx, 'Genu'
    CHK edx, 'ineI'
    CHK ecx, 'ntel'
    cmp eax, 1
    jae .max_ok             ; the maximum leaf is at least 1
    FAILED "cpuid max leaf 0"
.max_ok:
    mov eax, 1
    cpuid
    and ah, 0x0F            ; family is EAX bits 11:8
    CHK ah, 6               ; family 6: the P6
    rdtsc
    mov [0x640], eax
    mov [0x644], edx
    nop
    rdtsc
    sub eax, [0x640]
    sbb edx, [0x644]
    jl .tsc_bad             ; later - earlier must be positive
    jnz .tsc_ok
    test eax, eax
    jnz .tsc_ok
.tsc_bad:
    FAILED "rdtsc did not increase"
.tsc_ok:

    PUTS "misc: multi-byte NOP", 10
    mov eax, 0x12345678
    db 0x0F, 0x1F, 0x00                     ; nop [bx + si]
    db 0x0F, 0x1F, 0x40, 0x00               ; nop [bx + si + 0]
    db 0x67, 0x0F, 0x1F, 0x44, 0x00, 0x00   ; nop [eax + eax + 0]
    db 0x66, 0x67, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 ; nop [eax + eax + 0] with disp32
    db 0x0F, 0x1F, 0xC0                     ; register form
    CHK eax, 0x12345678

    PUTS "misc: #UD and #GP from the decoder", 10
    EXPECT_FAULT 6, ud2
    EXPECT_FAULT 6, db 0xF0, 0x90           ; lock nop
    EXPECT_FAULT 6, db 0xF0, 0x01, 0xD8     ; lock add ax, bx: a register destination
    EXPECT_FAULT 6, db 0xF0, 0x3B, 0x06, 0x00, 0x06 ; lock cmp ax, [0x600]: CMP is not lockable
    EXPECT_FAULT 6, db 0x8D, 0xC0           ; lea ax, ax: LEA needs memory
    mov ax, 0
    db 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0xB8, 0x34, 0x12 ; 15 bytes
    CHK ax, 0x1234
    mov ax, 0
    EXPECT_FAULT 13, db 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0x3E, 0xB8, 0x34, 0x12
    CHK ax, 0               ; the 16-byte MOV did not run
    EXPECT_FAULT 13, db 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90
    PASS

xlat_table: db "abcdef"

TEST_END

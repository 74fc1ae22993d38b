; Guest test: protected-mode segmentation. The exact exception and error code of each failed
; data- and stack-segment load (null, RPL/DPL/CPL, type, presence, and their order), uses of a
; null or read-only segment, limits of expand-down segments and of page-granular ones (#GP(0), or
; #SS(0) through SS), the accessed bit set by a load, and LAR/LSL/VERR/VERW/ARPL results and ZF.
; Intel SDM Vol. 3A §3.4.5 (descriptors), §5.3 (limit checking), §5.5-5.7 (privilege checks),
; §6.15 (#NP, #SS, #GP); Vol. 2 MOV, POP, LDS/LSS, LAR, LSL, VERR/VERW, ARPL.
%include "lib.inc"
%include "pm.inc"
cpu 686

; Test descriptors (set up below; all base 0 unless noted).
SEL_RO0 equ 0x60            ; read-only data, DPL 0
SEL_XO0 equ 0x68            ; execute-only code, DPL 0
SEL_DATA1W equ 0x70         ; writable data, DPL 1
SEL_EDN32 equ 0x78          ; expand-down data, limit 0xFFF, B = 1
SEL_EDN16 equ 0x80          ; expand-down data, limit 0xFFF, B = 0
SEL_EDNSTK3 equ 0x88        ; expand-down stack, DPL 3, limit 0x7FFF, B = 1
SEL_GRAN0 equ 0x90          ; data, limit 0 with G = 1 (0xFFF in bytes)
SEL_SMALL3 equ 0x98         ; data, DPL 3, limit 0xFFF bytes (a small ring-3 stack)
SEL_FRESH0 equ 0xA0         ; data, DPL 0, accessed bit clear
SEL_FRESH1 equ 0xA8         ; data, DPL 0, accessed bit clear (for SS)
SEL_NP0 equ 0xB0            ; not-present data, DPL 0
SEL_CXO0 equ 0xB8           ; conforming execute-only code, DPL 0
SEL_IGATE equ 0xC0          ; an interrupt gate in the GDT (not valid for LAR/LSL)
SEL_CGATE equ 0xC8          ; a call gate (valid for LAR, not LSL)
SEL_EDNG equ 0xD0           ; expand-down data, limit 0 with G = 1 (valid from 0x1000 up)
ZF equ 0x40

; GET_ZF reg: reg = ZF as 0 or 1 (keeps the flags).
%macro GET_ZF 1
    pushfd
    pop %1
    shr %1, 6
    and %1, 1
%endmacro

TEST_BEGIN
    PM_ENTER
    PUTS32 "pm_segmentation: in protected mode", 10
    SET_DESC SEL_RO0, 0, 0xFFFFF, 0x91, 0xC
    SET_DESC SEL_XO0, 0xF0000, 0xFFFF, 0x99, 0x4
    SET_DESC SEL_DATA1W, 0, 0xFFFFF, 0xB3, 0xC
    SET_DESC SEL_EDN32, 0, 0x0FFF, 0x97, 0x4
    SET_DESC SEL_EDN16, 0, 0x0FFF, 0x97, 0x0
    SET_DESC SEL_EDNSTK3, 0, 0x7FFF, 0xF7, 0x4
    SET_DESC SEL_GRAN0, 0, 0, 0x93, 0x8
    SET_DESC SEL_SMALL3, 0, 0x0FFF, 0xF3, 0x4
    SET_DESC SEL_FRESH0, 0, 0xFFFFF, 0x92, 0xC
    SET_DESC SEL_FRESH1, 0, 0xFFFFF, 0x92, 0xC
    SET_DESC SEL_NP0, 0, 0xFFFFF, 0x12, 0xC
    SET_DESC SEL_CXO0, 0xF0000, 0xFFFF, 0x9D, 0x4
    SET_DESC SEL_EDNG, 0, 0, 0x97, 0xC
    mov dword [GDT_BASE + SEL_IGATE], 0
    mov dword [GDT_BASE + SEL_IGATE + 4], 0x8E00
    GDT_GATE SEL_CGATE, SEL_CODE0, 0, 0x8C00

    ; ---- SS loads at CPL 0 ----
    xor ebx, ebx
    PM_EXPECT "MOV SS, null selector is #GP(0)", 13, 0, mov ss, bx
    mov bx, 3
    PM_EXPECT "MOV SS, null selector with RPL 3 is #GP(0)", 13, 0, mov ss, bx
    mov bx, SEL_DATA0 | 3
    PM_EXPECT "MOV SS, RPL 3 at CPL 0 is #GP(sel)", 13, SEL_DATA0, mov ss, bx
    mov bx, SEL_DATA3 & 0xFFFC
    PM_EXPECT "MOV SS, DPL 3 data at CPL 0 is #GP(sel)", 13, SEL_DATA3 & 0xFFFC, mov ss, bx
    mov bx, SEL_RO0
    PM_EXPECT "MOV SS, read-only data is #GP(sel)", 13, SEL_RO0, mov ss, bx
    mov bx, SEL_TSS
    PM_EXPECT "MOV SS, a TSS descriptor is #GP(sel)", 13, SEL_TSS, mov ss, bx
    mov bx, 0x0C
    PM_EXPECT "MOV SS, LDT selector with no LDT is #GP(sel incl. TI)", 13, 0x0C, mov ss, bx
    push dword 0
    PM_EXPECT "POP SS of a null selector is #GP(0)", 13, 0, pop ss
    CHKD "faulting POP SS leaves ESP", esp, STACK0 - 4
    add esp, 4
    mov word [pm_tmp + 4], SEL_NP0
    mov dword [pm_tmp], 0x1234
    mov ecx, 0x5555
    PM_EXPECT "LSS with a not-present segment is #SS(sel)", 12, SEL_NP0, lss ecx, [pm_tmp]
    CHKD "faulting LSS leaves the offset register", ecx, 0x5555
    CHKW "faulting LSS leaves SS", ss, SEL_DATA0

    ; ---- DS ES FS GS loads at CPL 0 ----
    mov bx, SEL_DATA1W | 2
    PM_EXPECT "MOV FS, RPL 2 > DPL 1 is #GP(sel)", 13, SEL_DATA1W, mov fs, bx
    mov bx, SEL_DATA1W | 1
    mov fs, bx
    CHKW "MOV FS, RPL 1 = DPL 1 at CPL 0 loads", fs, SEL_DATA1W | 1
    mov bx, SEL_XO0
    PM_EXPECT "MOV FS, execute-only code is #GP(sel)", 13, SEL_XO0, mov fs, bx
    mov bx, SEL_CXO0
    PM_EXPECT "MOV FS, conforming execute-only code is #GP(sel)", 13, SEL_CXO0, mov fs, bx
    mov bx, SEL_TSS
    PM_EXPECT "MOV FS, a system descriptor is #GP(sel)", 13, SEL_TSS, mov fs, bx
    mov bx, SEL_NP0
    PM_EXPECT "MOV FS, not-present data is #NP(sel)", 11, SEL_NP0, mov fs, bx
    mov word [pm_tmp + 4], SEL_NP0
    mov ecx, 0x6666
    PM_EXPECT "LFS with a not-present segment is #NP(sel)", 11, SEL_NP0, lfs ecx, [pm_tmp]
    CHKD "faulting LFS leaves the offset register", ecx, 0x6666
    mov bx, SEL_CODE0
    mov fs, bx
    CHKD "readable code loads into FS and reads", [fs:0], [0xF0000]
    PM_EXPECT "write through FS holding code is #GP(0)", 13, 0, mov byte [fs:0x100], 0
    PM_EXPECT "write through a CS override is #GP(0)", 13, 0, mov byte [cs:0x100], 0
    mov bx, SEL_RO0
    mov fs, bx
    CHKD "read-only data reads", [fs:pm_tmp], 0x1234
    PM_EXPECT "write to read-only data is #GP(0)", 13, 0, mov dword [fs:pm_tmp], 0
    xor ebx, ebx
    mov fs, bx
    CHKW "MOV FS, null selector is allowed", fs, 0
    PM_EXPECT "read through a null FS is #GP(0)", 13, 0, mov eax, [fs:0]
    PM_EXPECT "write through a null FS is #GP(0)", 13, 0, mov [fs:0], eax

    ; ---- the accessed bit ----
    mov bx, SEL_FRESH0
    mov fs, bx
    CHKD "MOV FS sets the accessed bit in the descriptor", [GDT_BASE + SEL_FRESH0 + 4], 0x00CF9300
    mov bx, SEL_FRESH1
    mov ss, bx
    mov bx, SEL_DATA0
    mov ss, bx
    CHKD "MOV SS sets the accessed bit in the descriptor", [GDT_BASE + SEL_FRESH1 + 4], 0x00CF9300
    CHKD "a faulting load leaves the accessed bit clear", [GDT_BASE + SEL_NP0 + 4], 0x00CF1200

    ; ---- limits: expand-down and granularity ----
    mov bx, SEL_EDN32
    mov fs, bx
    CHKD "expand-down (B=1): offset limit+1 is valid", [fs:0x1000], [0x1000]
    CHKD "expand-down (B=1): offset 0xFFFFFFFC is valid", [fs:0xFFFFFFFC], [0xFFFFFFFC]
    PM_EXPECT "expand-down: offset = limit is #GP(0)", 13, 0, mov al, [fs:0xFFF]
    PM_EXPECT "expand-down: dword from limit-1 is #GP(0)", 13, 0, mov eax, [fs:0xFFE]
    PM_EXPECT "expand-down: offset 0 is #GP(0)", 13, 0, mov al, [fs:0]
    mov bx, SEL_EDN16
    mov fs, bx
    CHKD "expand-down (B=0): dword ending at 0xFFFF is valid", [fs:0xFFFC], [0xFFFC]
    PM_EXPECT "expand-down (B=0): dword past 0xFFFF is #GP(0)", 13, 0, mov eax, [fs:0xFFFE]
    PM_EXPECT "expand-down (B=0): offset 0x10000 is #GP(0)", 13, 0, mov al, [fs:0x10000]
    mov bx, SEL_GRAN0
    mov fs, bx
    CHKD "G=1, limit 0: the last dword of the 4 KiB is valid", [fs:0xFFC], [0xFFC]
    PM_EXPECT "G=1, limit 0: a dword crossing 0xFFF is #GP(0)", 13, 0, mov eax, [fs:0xFFD]
    PM_EXPECT "G=1, limit 0: offset 0x1000 is #GP(0)", 13, 0, mov al, [fs:0x1000]
    mov bx, SEL_EDNG
    mov fs, bx
    CHKD "expand-down with G=1, limit 0: offset 0x1000 is valid", [fs:0x1000], [0x1000]
    PM_EXPECT "expand-down with G=1, limit 0: offset 0xFFF (the scaled limit) is #GP(0)", 13, 0, mov al, [fs:0xFFF]
    xor ebx, ebx
    mov fs, bx

    ; ---- ring 3 ----
    mov dword [GDT_BASE + SEL_FRESH0 + 4], 0x00CF9200  ; accessed clear again
    TO_RING3 0
    mov bx, SEL_DATA0 | 3
    PM_EXPECT "CPL 3: MOV FS, DPL 0 data is #GP(sel)", 13, SEL_DATA0, mov fs, bx
    mov bx, SEL_FRESH0 | 3
    PM_EXPECT "CPL 3: MOV FS, DPL 0 data leaves its accessed bit clear", 13, SEL_FRESH0, mov fs, bx
    CHKD "CPL 3: the refused descriptor is not marked accessed", [GDT_BASE + SEL_FRESH0 + 4], 0x00CF9200
    mov bx, SEL_NP0 | 3
    PM_EXPECT "CPL 3: not-present DPL 0 data is #GP(sel) (privilege before presence)", 13, SEL_NP0, mov fs, bx
    mov bx, SEL_CODE0 | 3
    PM_EXPECT "CPL 3: MOV FS, readable non-conforming DPL 0 code is #GP(sel)", 13, SEL_CODE0, mov fs, bx
    mov bx, SEL_CONF0 | 3
    mov fs, bx
    CHKW "CPL 3: readable conforming DPL 0 code loads into FS", fs, SEL_CONF0 | 3
    xor ebx, ebx
    mov fs, bx
    mov bx, 3
    mov fs, bx
    CHKW "CPL 3: MOV FS, null selector with RPL 3 is allowed", fs, 3
    mov bx, SEL_DATA3 & 0xFFFC
    PM_EXPECT "CPL 3: MOV SS with RPL 0 is #GP(sel)", 13, SEL_DATA3 & 0xFFFC, mov ss, bx
    mov bx, SEL_DATA0 | 3
    PM_EXPECT "CPL 3: MOV SS, DPL 0 data is #GP(sel)", 13, SEL_DATA0, mov ss, bx
    ; expand-down stack: valid from limit + 1 up
    mov bx, SEL_EDNSTK3 | 3
    mov ss, bx
    mov esp, 0x8004
    push eax
    mov esi, esp                ; (CHKD pushes: the checks wait for a roomier stack)
    PM_EXPECT "expand-down stack: PUSH below limit+1 is #SS(0)", 12, 0, push eax
    mov edi, esp
    ; a small stack: its top is the limit
    mov bx, SEL_SMALL3 | 3
    mov ss, bx
    mov esp, 0x1000
    PM_EXPECT "POP past the stack limit is #SS(0)", 12, 0, pop eax
    mov esp, 0xFFE
    PM_EXPECT "dword read through SS across the limit is #SS(0)", 12, 0, mov eax, [esp]
    xor ebp, ebp
    PM_EXPECT "SS-based addressing (EBP) past the limit is #SS(0)", 12, 0, mov eax, [ebp + 0x2000]
    mov bx, SEL_DATA3
    mov ss, bx
    mov esp, STACK3
    CHKD "expand-down stack: PUSH to offset limit+1 works", esi, 0x8000
    CHKD "faulting PUSH leaves ESP", edi, 0x8000

    ; ---- LAR LSL VERR VERW ARPL at CPL 3 ----
    mov eax, 0xDEADBEEF
    mov bx, SEL_DATA0
    lar eax, bx
    GET_ZF ecx
    CHKD "CPL 3: LAR of DPL 0 data fails (ZF=0)", ecx, 0
    CHKD "failing LAR leaves the destination", eax, 0xDEADBEEF
    mov bx, SEL_CONF0 | 3
    lar eax, bx
    GET_ZF ecx
    CHKD "CPL 3: LAR of conforming DPL 0 code succeeds (ZF=1)", ecx, 1
    and eax, 0x00F0FF00
    CHKD "LAR returns type, S, DPL, P, AVL, D, G", eax, 0x00409F00
    mov bx, SEL_DATA3
    lsl eax, bx
    GET_ZF ecx
    CHKD "LSL of DPL 3 data succeeds", ecx, 1
    CHKD "LSL returns the byte limit of a page-granular segment", eax, 0xFFFFFFFF
    mov bx, SEL_DATA0
    verr bx
    GET_ZF ecx
    CHKD "CPL 3: VERR of DPL 0 data: ZF=0", ecx, 0
    mov bx, SEL_DATA3
    verw bx
    GET_ZF ecx
    CHKD "CPL 3: VERW of DPL 3 writable data: ZF=1", ecx, 1
    mov bx, SEL_CODE3
    verr bx
    GET_ZF ecx
    CHKD "VERR of readable code: ZF=1", ecx, 1
    verw bx
    GET_ZF ecx
    CHKD "VERW of code: ZF=0", ecx, 0
    mov ax, SEL_DATA0
    mov bx, SEL_DATA3
    arpl ax, bx
    GET_ZF ecx
    CHKD "ARPL raises a lower RPL (ZF=1)", ecx, 1
    CHKW "ARPL result", ax, SEL_DATA0 | 3
    mov bx, SEL_DATA0
    arpl ax, bx
    GET_ZF ecx
    CHKD "ARPL with RPL already >= source: ZF=0", ecx, 0
    CHKW "ARPL leaves the selector", ax, SEL_DATA0 | 3
    TO_RING0

    ; ---- LAR LSL VERR VERW at CPL 0: types ----
    mov bx, SEL_DATA0
    lar eax, bx
    GET_ZF ecx
    CHKD "LAR of flat data succeeds", ecx, 1
    and eax, 0x00F0FF00
    CHKD "LAR of flat data: G, D, P, DPL 0, writable accessed data", eax, 0x00C09300
    mov bx, SEL_TSS
    lar eax, bx
    GET_ZF ecx
    CHKD "LAR of a busy TSS succeeds", ecx, 1
    and eax, 0xFF00
    CHKD "LAR of a busy 32-bit TSS: type B", eax, 0x8B00
    lsl eax, bx
    CHKD "LSL of the TSS returns its limit", eax, TSS_LIMIT
    mov bx, SEL_CGATE
    lar eax, bx
    GET_ZF ecx
    CHKD "LAR of a call gate succeeds", ecx, 1
    mov eax, 0x1111
    lsl eax, bx
    GET_ZF ecx
    CHKD "LSL of a call gate fails", ecx, 0
    CHKD "failing LSL leaves the destination", eax, 0x1111
    mov bx, SEL_IGATE
    lar eax, bx
    GET_ZF ecx
    CHKD "LAR of an interrupt gate fails", ecx, 0
    xor ebx, ebx
    lar eax, bx
    GET_ZF ecx
    CHKD "LAR of the null selector fails", ecx, 0
    mov bx, 0x400
    lsl eax, bx
    GET_ZF ecx
    CHKD "LSL of a selector past the GDT limit fails", ecx, 0
    mov bx, SEL_GRAN0
    lsl eax, bx
    CHKD "LSL of a G=1 segment with limit 0 is 0xFFF", eax, 0xFFF
    mov bx, SEL_NP0
    lsl eax, bx
    GET_ZF ecx
    CHKD "LSL does not need the segment present", ecx, 1
    mov bx, SEL_XO0
    verr bx
    GET_ZF ecx
    CHKD "VERR of execute-only code: ZF=0", ecx, 0
    mov bx, SEL_CXO0 | 3
    verr bx
    GET_ZF ecx
    CHKD "VERR of conforming execute-only code: ZF=0", ecx, 0
    mov bx, SEL_CONF0 | 3
    verr bx
    GET_ZF ecx
    CHKD "VERR of readable conforming code ignores RPL and DPL: ZF=1", ecx, 1
    mov bx, SEL_RO0
    verw bx
    GET_ZF ecx
    CHKD "VERW of read-only data: ZF=0", ecx, 0
    mov bx, SEL_DATA1W | 3
    verw bx
    GET_ZF ecx
    CHKD "VERW with RPL 3 > DPL 1: ZF=0", ecx, 0

    PUTS32 "PASS", 10
    EXIT 0

    PM_LIB
bits 16
TEST_END

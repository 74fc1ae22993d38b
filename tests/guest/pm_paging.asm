; Guest test: 32-bit paging as a guest sees it. #PF error codes and CR2 for each protection and
; presence case, U/S and R/W combined over PDE and PTE, CR0.WP, instruction fetch, reserved bits of
; a 4 MiB PDE, accessed and dirty bits, 4 MiB pages and CR4.PSE, global pages and CR4.PGE, INVLPG,
; the processor's own accesses to supervisor pages, faults that leave no partial effect (MOV and
; PUSH across pages, PUSHAD, CALL, RET, MOVS, XCHG; REP MOVS resumed after the handler), and #DF
; for a #PF while pushing a #PF frame. Intel SDM Vol. 3A §4.3 (32-bit paging), §4.6 (access
; rights), §4.7 (#PF error code), §4.8 (A/D), §4.10 (TLBs, INVLPG, global pages), §6.15 (#DF);
; Pentium II reserved bits: the P6-era Vol. 3 §3.7.6.
%include "lib.inc"
%include "pm.inc"
cpu 686

PD equ 0x10000              ; page directory
PT0 equ 0x11000             ; identity map of 0-4 MiB, user read/write
PT1 equ 0x12000             ; the test pages at 4 MiB + 128 KiB
; Test page n: linear VP(n), its PTE, and the frame FR(n) it maps at first (readable through the
; identity map). VP(n) and FR(n) sit at different TLB indexes (0x20+n and 0x60+n), and apart from
; the code (0xF0-0xFF), stacks (7, 8) and tables (0-5, 0x10-0x12), so that the stale-entry checks
; below see only what the architecture flushes.
%define VP(n) (0x420000 + (n) * 0x1000)
%define PTE(n) (PT1 + (0x20 + (n)) * 4)
%define FR(n) (0x60000 + (n) * 0x1000)
%define MARK(n) (0xC0DE0000 + (n))  ; the dword at the start of frame n

P equ 1
RW equ 2
US equ 4
A equ 0x20
D equ 0x40
PS equ 0x80
G equ 0x100
CR0_PG equ 0x80000000
CR0_WP equ 0x10000
CR4_PSE equ 0x10
CR4_PGE equ 0x80

SEL_FLAT0 equ 0x60          ; flat 32-bit code, DPL 0: reaches the test pages
SEL_FLAT3 equ 0x6B          ; flat 32-bit code, DPL 3

; Written by pf_handler.
pf_cr2 equ 0x680            ; CR2 at the last #PF
pf_err equ 0x684            ; its error code
pf_fix_pte equ 0x688        ; nonzero: the handler stores pf_fix_val there and restarts
pf_fix_val equ 0x68C
pf_fix_count equ 0x690
pf_ecx equ 0x694            ; ECX ESI EDI at the restartable fault
pf_esi equ 0x698
pf_edi equ 0x69C
df_err equ 0x6A0            ; what the #DF task saw
df_cr2 equ 0x6A4
df_count equ 0x6A8
DF_TSS equ 0x5100
SEL_DF_TSS equ 0x70
SEL_LIM equ 0x78            ; data at VP(1), limit 0xFFF: its next byte is the absent VP(2)

; PF_FETCH sel, target, err, back: a far JMP to sel:target whose first fetch must raise #PF(err)
; with the target as the pushed EIP; the handler resumes in the flat segment sel at the flat
; address of the next line, which far-jumps back into the code segment back.
%macro PF_FETCH 4
    LIB_NEXT_CHECK
    mov dword [exp_err], %3
    mov dword [exp_eip], %2
    mov dword [exp_resume], 0xF0000 + %%flat_back
    mov dword [exp_check], lib_check_no
    mov dword [exp_vec], 14
    jmp %1:%2
%%flat_back:
    jmp %4:%%back
%%back:
%endmacro

TEST_BEGIN
    PM_ENTER
    PUTS32 "pm_paging: in protected mode", 10
    SET_DESC SEL_FLAT0, 0, 0xFFFFF, 0x9A, 0xC
    SET_DESC SEL_FLAT3, 0, 0xFFFFF, 0xFA, 0xC
    IDT_GATE 14, SEL_CODE0, pf_handler, 0x8E00
    mov dword [pf_fix_pte], 0
    mov dword [pf_fix_count], 0

    ; ---- page tables ----
    cld
    mov edi, PD
    mov ecx, 3 * 1024
    xor eax, eax
    rep stosd                   ; PD, PT0, PT1 zero
    mov edi, PT0
    mov eax, P | RW | US
.ident:
    stosd
    add eax, 0x1000
    cmp edi, PT0 + 4096
    jne .ident
    ; GDT, IDT and TSS (pages 1-5) and the ring-0 and ring-1 stacks (page 8) are supervisor pages:
    ; the ring changes below then check that the processor's own accesses to them (descriptor and
    ; gate reads, ESP0 from the TSS, the pushes of an exception frame) are supervisor accesses.
    mov ebx, 1
.super:
    and dword [PT0 + ebx * 4], ~US
    inc ebx
    cmp ebx, 6
    jne .super
    and dword [PT0 + 8 * 4], ~US
    mov dword [PD + 0 * 4], PT0 | P | RW | US | A
    mov dword [PD + 1 * 4], PT1 | P | RW | US | A
    ; frames: a marker in each
    mov edi, FR(0)
    mov eax, MARK(0)
.marks:
    mov [edi], eax
    inc eax
    add edi, 0x1000
    cmp edi, FR(24)
    jne .marks
    mov dword [PTE(0)], FR(0) | P | RW               ; supervisor read/write
    mov dword [PTE(1)], FR(1) | P | US               ; user read-only
    mov dword [PTE(2)], 0                            ; not present
    mov dword [PTE(3)], FR(3) | P                    ; supervisor read-only
    mov dword [PTE(4)], FR(4) | P | RW | US          ; A and D clear
    mov dword [PTE(5)], FR(5) | P | RW | US          ; followed by a hole at 6
    mov eax, cr4
    and eax, ~(CR4_PSE | CR4_PGE)
    mov cr4, eax
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG
    mov cr0, eax
    jmp .paged
.paged:
    CHKD "paging on: identity-mapped data still reads", [FR(2)], MARK(2)
    CHKD "paging on: first test page maps its frame", [VP(0)], MARK(0)

    ; ---- supervisor accesses: presence, the PDE level, CR0.WP ----
    PM_EXPECT "supervisor read of a not-present PTE is #PF(0)", 14, 0, mov eax, [VP(2) + 0x10]
    CHKD "not-present PTE: CR2 is the faulting linear address", [pf_cr2], VP(2) + 0x10
    PM_EXPECT "supervisor write to a not-present PTE is #PF(W)", 14, 2, mov dword [VP(2) + 0x20], 1
    CHKD "not-present PTE, write: CR2", [pf_cr2], VP(2) + 0x20
    PM_EXPECT "supervisor read through a not-present PDE is #PF(0)", 14, 0, mov eax, [0x800123]
    CHKD "not-present PDE: CR2", [pf_cr2], 0x800123
    mov dword [VP(3)], 0x5555AAAA
    CHKD "CR0.WP=0: supervisor write to a read-only page is allowed", [FR(3)], 0x5555AAAA
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    PM_EXPECT "CR0.WP=1: supervisor write to a read-only page is #PF(P|W)", 14, 3, mov dword [VP(3)], 1
    CHKD "CR0.WP=1: CR2 of the read-only write", [pf_cr2], VP(3)
    CHKD "CR0.WP=1: the read-only page is unchanged", [FR(3)], 0x5555AAAA
    PM_EXPECT "CR0.WP=1: supervisor write to a user read-only page is #PF(P|W)", 14, 3, mov dword [VP(1)], 1
    mov eax, cr0
    and eax, ~CR0_WP
    mov cr0, eax
    SET_DESC SEL_LIM, VP(1), 0xFFF, 0x93, 0x4
    mov ax, SEL_LIM
    mov fs, ax
    PM_EXPECT "segment limit is checked before paging: #GP(0), not #PF", 13, 0, mov eax, [fs:0x1000]
    xor eax, eax
    mov fs, ax

    ; ---- user accesses ----
    mov dword [PD + 5 * 4], PT1 | P | RW            ; 0x1400000: supervisor PDE over PT1
    mov dword [PD + 6 * 4], PT1 | P | US            ; 0x1800000: read-only PDE over PT1
    TO_RING3 0
    PM_EXPECT "the GDT's page is supervisor-only to a ring-3 load", 14, 5, mov eax, [GDT_BASE]
    CHKD "ring 3 reached and faulted through supervisor-only GDT, IDT, TSS and ring-0 stack", [last_cs], SEL_CODE3
    PM_EXPECT "user write to a supervisor page is #PF(P|W|U)", 14, 7, mov dword [VP(0)], 1
    CHKD "user write to a supervisor page: CR2", [pf_cr2], VP(0)
    PM_EXPECT "user read of a supervisor page is #PF(P|U)", 14, 5, mov eax, [VP(0) + 8]
    CHKD "user read of a supervisor page: CR2", [pf_cr2], VP(0) + 8
    CHKD "user read of a user read-only page is allowed", [VP(1)], MARK(1)
    PM_EXPECT "user write to a user read-only page is #PF(P|W|U)", 14, 7, mov dword [VP(1) + 4], 1
    CHKD "user write to a read-only page: CR2", [pf_cr2], VP(1) + 4
    PM_EXPECT "user read of a not-present page is #PF(U)", 14, 4, mov eax, [VP(2)]
    PM_EXPECT "user write to a not-present page is #PF(W|U)", 14, 6, mov dword [VP(2)], 1
    PM_EXPECT "user read through a supervisor PDE over a user PTE is #PF(P|U)", 14, 5, mov eax, [0x1421000]
    CHKD "supervisor PDE over a user PTE: CR2", [pf_cr2], 0x1421000
    PM_EXPECT "user read through a supervisor PDE over a not-present PTE is #PF(U), P clear", 14, 4, mov eax, [0x1422000]
    PM_EXPECT "user write through a read-only PDE over a writable PTE is #PF(P|W|U)", 14, 7, mov dword [0x1824000], 1
    PF_FETCH SEL_FLAT3, VP(0), 5, SEL_CODE3
    CHKD "user fetch from a supervisor page is #PF(P|U): CR2", [pf_cr2], VP(0)
    TO_RING0

    ; ---- instruction fetch (a Pentium II has no I/D bit: error code bit 4 stays clear) ----
    PF_FETCH SEL_FLAT0, VP(2), 0, SEL_CODE0
    CHKD "fetch from a not-present page is #PF(0): CR2 is the target", [pf_cr2], VP(2)
    mov dword [FR(5) + 0xFFE], 0x223344B8            ; mov eax, 0x11223344 across the page end
    PF_FETCH SEL_FLAT0, VP(5) + 0xFFE, 0, SEL_CODE0
    CHKD "instruction crossing into a not-present page: CR2 is the second page", [pf_cr2], VP(6)

    ; ---- accessed and dirty bits ----
    and dword [PD + 1 * 4], ~(A | D)
    mov eax, cr3
    mov cr3, eax
    mov eax, [VP(4)]
    mov eax, [PTE(4)]
    and eax, A | D
    CHKD "read sets the accessed bit in the PTE, not the dirty bit", eax, A
    mov eax, [PD + 1 * 4]
    and eax, A | D
    CHKD "read sets the accessed bit in the PDE", eax, A
    mov dword [VP(4) + 4], 1
    mov eax, [PTE(4)]
    and eax, A | D
    CHKD "write sets the dirty bit in the PTE", eax, A | D
    mov eax, [PD + 1 * 4]
    and eax, A | D
    CHKD "write leaves the dirty bit of a PDE that points to a table clear", eax, A
    ; a walk that faults at the PTE has used the PDE: A set there, not in the PTE
    and dword [PD + 1 * 4], ~A
    mov eax, cr3
    mov cr3, eax
    PM_EXPECT "read of a not-present PTE (A/D test)", 14, 0, mov eax, [VP(2)]
    mov eax, [PD + 1 * 4]
    and eax, A
    CHKD "a #PF at a not-present PTE still sets A in the PDE it used", eax, A
    and dword [PD + 1 * 4], ~A
    and dword [PTE(0)], ~A
    mov eax, cr3
    mov cr3, eax
    TO_RING3 0
    PM_EXPECT "user read of a supervisor page (A/D test)", 14, 5, mov eax, [VP(0)]
    TO_RING0
    mov eax, [PD + 1 * 4]
    and eax, A
    CHKD "a protection #PF sets A in the PDE that was used", eax, A
    mov eax, [PTE(0)]
    and eax, A
    CHKD "a protection #PF leaves A clear in the PTE", eax, 0

    ; ---- 4 MiB pages ----
    mov dword [PD + 3 * 4], 0 | P | RW | PS         ; 0xC00000 -> physical 0 with CR4.PSE
    mov dword [PD + 4 * 4], PT1 | P | RW | PS       ; 0x1000000: PS with address bits 21:12 set
    mov eax, cr3
    mov cr3, eax
    CHKD "CR4.PSE=0: PS in a PDE is ignored, the PDE points to a page table", [0x1000000 + 0x20000], MARK(0)
    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    CHKD "CR4.PSE=1: a 4 MiB page maps linear 0xC00000 to physical 0", [0xC00000 + FR(7)], MARK(7)
    mov eax, [PD + 3 * 4]
    and eax, A | D
    CHKD "read of a 4 MiB page sets A in its PDE, not D", eax, A
    mov dword [0xC00000 + FR(7) + 4], 0x77777777
    CHKD "write through a 4 MiB page reaches the physical frame", [FR(7) + 4], 0x77777777
    mov eax, [PD + 3 * 4]
    and eax, A | D
    CHKD "write to a 4 MiB page sets D in its PDE", eax, A | D
    mov eax, [0xC00000 + FR(8)]     ; a second 4 KiB piece of the same 4 MiB page, now cached
    mov dword [PD + 3 * 4], 0       ; the 4 MiB page goes away
    CHKD "a removed 4 MiB page is still seen before INVLPG (stale TLB)", [0xC00000 + FR(8)], MARK(8)
    invlpg [0xC00000 + FR(7)]
    PM_EXPECT "INVLPG of one address drops every 4 KiB piece of a 4 MiB page", 14, 0, mov eax, [0xC00000 + FR(8)]
    CHKD "removed 4 MiB page: CR2", [pf_cr2], 0xC00000 + FR(8)
    PM_EXPECT "CR4.PSE=1: a 4 MiB PDE with reserved bits 21:12 set is #PF(P|RSVD)", 14, 9, mov eax, [0x1000000 + 0x20000]
    CHKD "reserved-bit fault: CR2", [pf_cr2], 0x1000000 + 0x20000
    TO_RING3 0
    PM_EXPECT "user read with a reserved bit set is #PF(P|U|RSVD)", 14, 13, mov eax, [0x1000000]
    TO_RING0
    mov dword [PD + 3 * 4], 0x2000 | P | RW | PS
    mov eax, cr3
    mov cr3, eax
    PM_EXPECT "reserved bit 13 of a 4 MiB PDE (no PSE-36 on a Pentium II) is #PF(P|W|RSVD)", 14, 11, mov dword [0xC00000], 1
    mov dword [PD + 3 * 4], 0x1000 | P | RW | PS
    mov eax, cr3
    mov cr3, eax
    PM_EXPECT "reserved bit 12 of a 4 MiB PDE (no PAT on a Pentium II) is #PF(P|RSVD)", 14, 9, mov eax, [0xC00000]
    mov eax, cr4
    and eax, ~CR4_PSE
    mov cr4, eax

    ; ---- global pages: kept across a CR3 write with CR4.PGE, dropped when PGE toggles ----
    mov eax, cr4
    or eax, CR4_PGE
    mov cr4, eax
    mov dword [PTE(7)], FR(7) | P | RW | G
    mov dword [PTE(8)], FR(8) | P | RW
    mov eax, [VP(7)]            ; both translations now cached
    mov eax, [VP(8)]
    mov dword [PTE(7)], FR(20) | P | RW | G
    mov dword [PTE(8)], FR(21) | P | RW
    mov eax, cr3
    mov cr3, eax
    CHKD "CR3 write with CR4.PGE keeps a global translation", [VP(7)], MARK(7)
    CHKD "CR3 write drops a non-global translation", [VP(8)], MARK(21)
    mov eax, cr4
    and eax, ~CR4_PGE
    mov cr4, eax
    CHKD "clearing CR4.PGE flushes global translations", [VP(7)], MARK(20)
    mov eax, cr4
    or eax, CR4_PGE
    mov cr4, eax
    mov eax, [VP(7)]            ; global again, mapping frame 20
    mov dword [PTE(7)], FR(7) | P | RW | G
    mov eax, cr4
    and eax, ~CR4_PGE
    mov cr4, eax
    or eax, CR4_PGE
    mov cr4, eax
    CHKD "setting CR4.PGE flushes too", [VP(7)], MARK(7)
    mov eax, cr4
    and eax, ~CR4_PGE
    mov cr4, eax

    ; ---- INVLPG: one page, and only that one ----
    mov dword [PTE(9)], FR(9) | P | RW
    mov dword [PTE(10)], FR(10) | P | RW
    mov eax, [VP(9)]
    mov eax, [VP(10)]
    mov dword [PTE(9)], FR(22) | P | RW
    mov dword [PTE(10)], FR(23) | P | RW
    CHKD "a changed PTE is not seen before INVLPG (the TLB may be stale)", [VP(9)], MARK(9)
    invlpg [VP(9) + 0x123]
    CHKD "INVLPG drops the translation of its page", [VP(9)], MARK(22)
    CHKD "INVLPG leaves other pages' translations", [VP(10)], MARK(10)
    mov eax, cr3
    mov cr3, eax
    CHKD "CR3 write then drops the other page", [VP(10)], MARK(23)
    mov dword [PTE(2)], FR(2) | P | RW
    CHKD "a page made present is seen without INVLPG (not-present entries are not cached)", [VP(2)], MARK(2)
    mov dword [PTE(2)], 0
    invlpg [VP(2)]

    ; ---- no partial effects: page-crossing MOV ----
    mov dword [FR(5) + 0xFFC], 0xAAAAAAAA
    PM_EXPECT "dword MOV into a not-present second page is #PF(W)", 14, 2, mov dword [VP(5) + 0xFFE], 0x11223344
    CHKD "page-crossing MOV: CR2 is the second page", [pf_cr2], VP(6)
    CHKD "page-crossing MOV: the first page is not written", [FR(5) + 0xFFC], 0xAAAAAAAA
    mov eax, 0x5A5A5A5A
    PM_EXPECT "dword load from a not-present second page is #PF(0)", 14, 0, mov eax, [VP(5) + 0xFFD]
    CHKD "page-crossing load: EAX unchanged", eax, 0x5A5A5A5A
    CHKD "page-crossing load: CR2 is the second page", [pf_cr2], VP(6)

    ; ---- PUSH and PUSHAD that fault part-way (ring 3, so the #PF frame goes on the ring-0 stack) ----
    mov dword [PTE(11)], FR(11) | P | RW | US
    mov dword [PTE(12)], 0
    mov dword [FR(11) + 0xFFC], 0xBBBBBBBB
    mov dword [PTE(13)], 0
    mov dword [PTE(14)], FR(14) | P | RW | US
    TO_RING3 0
    mov esp, VP(12) + 2
    mov eax, 0x12345678
    PM_EXPECT "PUSH of a dword straddling into a not-present page is #PF(W|U)", 14, 6, push eax
    mov edi, esp
    mov esp, STACK3
    CHKD "faulting PUSH leaves ESP", edi, VP(12) + 2
    CHKD "faulting PUSH: CR2 is the second page", [pf_cr2], VP(12)
    CHKD "faulting PUSH: the first page is not written", [FR(11) + 0xFFC], 0xBBBBBBBB
    mov esp, VP(14) + 0x10
    PM_EXPECT "PUSHAD running into a not-present page is #PF(W|U)", 14, 6, pushad
    mov edi, esp
    mov esp, STACK3
    CHKD "faulting PUSHAD leaves ESP", edi, VP(14) + 0x10
    mov esp, VP(14)
    PM_EXPECT "near CALL whose return-address push faults is #PF(W|U) at the CALL", 14, 6, call .not_called
    mov edi, esp
    mov esp, VP(13) + 0xFFC
    PM_EXPECT "RET popping from a not-present page is #PF(U) at the RET", 14, 4, ret
    mov esi, esp
    mov esp, STACK3
    CHKD "faulting CALL leaves ESP", edi, VP(14)
    CHKD "faulting RET leaves ESP", esi, VP(13) + 0xFFC
    mov dword [VP(14)], 0xCCCCCCCC  ; (the PUSHAD above may have stored here)
    mov esi, VP(13)
    mov edi, VP(14)
    PM_EXPECT "MOVSD from a not-present page is #PF(U)", 14, 4, movsd
    CHKD "faulting MOVSD leaves ESI", esi, VP(13)
    CHKD "faulting MOVSD leaves EDI", edi, VP(14)
    CHKD "faulting MOVSD stores nothing", [VP(14)], 0xCCCCCCCC
    mov eax, 0x99
    PM_EXPECT "XCHG with a read-only user page is #PF(P|W|U)", 14, 7, xchg [VP(1)], eax
    CHKD "faulting XCHG leaves the register", eax, 0x99
    CHKD "faulting XCHG leaves memory", [VP(1)], MARK(1)
    TO_RING0
    jmp .after_calls
.not_called:
    FAIL32 "the CALL whose push faulted transferred control"
.after_calls:

    ; ---- REP MOVSD faulting mid-repeat, restarted after the handler maps the page ----
    mov dword [PTE(15)], FR(15) | P | RW
    mov dword [PTE(16)], FR(16) | P | RW
    mov dword [PTE(17)], 0
    mov edi, FR(15)
    mov eax, 0x1000
.src:
    stosd
    inc eax
    cmp eax, 0x1008
    jne .src
    mov dword [pf_fix_pte], PTE(17)
    mov dword [pf_fix_val], FR(17) | P | RW
    mov esi, VP(15)
    mov edi, VP(16) + 0xFF0
    mov ecx, 8
    rep movsd
    CHKD "REP MOVSD: the handler ran once", [pf_fix_count], 1
    CHKD "REP MOVSD fault: error code #PF(W)", [pf_err], 2
    CHKD "REP MOVSD fault: CR2 is the first byte of the absent page", [pf_cr2], VP(17)
    CHKD "REP MOVSD fault: ECX counts the iterations left", [pf_ecx], 4
    CHKD "REP MOVSD fault: ESI past the completed iterations", [pf_esi], VP(15) + 16
    CHKD "REP MOVSD fault: EDI at the faulting element", [pf_edi], VP(17)
    CHKD "REP MOVSD resumed to the end: ECX", ecx, 0
    CHKD "REP MOVSD resumed to the end: ESI", esi, VP(15) + 32
    CHKD "REP MOVSD resumed to the end: EDI", edi, VP(17) + 16
    CHKD "REP MOVSD: last element before the fault copied", [FR(16) + 0xFFC], 0x1003
    CHKD "REP MOVSD: first element after the restart copied", [FR(17)], 0x1004
    CHKD "REP MOVSD: last element copied", [FR(17) + 0xC], 0x1007

    ; ---- a #PF while pushing the frame of a #PF is a #DF (SDM Vol. 3A §6.15 Table 6-5) ----
    ; The ring-0 stack is made absent; the #DF goes through a task gate to a task with its own
    ; stack, which maps the page and returns; the user instruction then faults again, normally.
    mov edi, DF_TSS
    mov ecx, 0x68 / 4
    xor eax, eax
    rep stosd
    mov dword [DF_TSS + 0x1C], PD
    mov dword [DF_TSS + 0x20], df_task
    mov dword [DF_TSS + 0x24], 0x2
    mov dword [DF_TSS + 0x38], 0x9C00
    mov dword [DF_TSS + 0x48], SEL_DATA0
    mov dword [DF_TSS + 0x4C], SEL_CODE0
    mov dword [DF_TSS + 0x50], SEL_DATA0
    mov dword [DF_TSS + 0x54], SEL_DATA0
    mov word [DF_TSS + 0x66], 0x68
    SET_DESC SEL_DF_TSS, DF_TSS, 0x67, 0x89, 0
    IDT_GATE 8, SEL_DF_TSS, 0, 0x8500
    mov dword [TSS_BASE + 0x1C], PD             ; the IRET back loads CR3 from here
    mov dword [df_count], 0
    mov dword [PTE(18)], 0
    mov dword [TSS_BASE + 4], VP(18) + 0x1000    ; ESP0 in the absent page
    TO_RING3 0
    PM_EXPECT "after the #DF task maps the ring-0 stack, the user #PF is delivered", 14, 4, mov eax, [VP(2)]
    TO_RING0
    mov dword [TSS_BASE + 4], STACK0
    mov esp, STACK0
    CHKD "a #PF while delivering a #PF raises one #DF", [df_count], 1
    CHKD "#DF error code is 0", [df_err], 0
    mov eax, [df_cr2]
    and eax, ~0xFFF
    CHKD "#DF from the frame push: CR2 is in the ring-0 stack page", eax, VP(18)
    CHKD "#DF task returned by IRET: its TSS is available again", [GDT_BASE + SEL_DF_TSS + 4], (DF_TSS >> 16) | 0x8900

    PUTS32 "PASS", 10
    EXIT 0

; The #DF task: records the error code and CR2, maps the ring-0 stack page, returns (IRET with NT).
df_task:
    pop eax
    mov [df_err], eax
    mov eax, cr2
    mov [df_cr2], eax
    inc dword [df_count]
    mov dword [PTE(18)], FR(18) | P | RW
    iretd
    jmp df_task

; #PF: records CR2 and the error code; with pf_fix_pte set, maps the page and restarts the
; faulting instruction, recording ECX ESI EDI as the fault left them; otherwise goes on to the
; reporting stub that PM_EXPECT checks.
pf_handler:
    push eax
    mov eax, cr2
    mov [ss:pf_cr2], eax
    mov eax, [esp + 4]
    mov [ss:pf_err], eax
    cmp dword [ss:pf_fix_pte], 0
    jne .fix
    pop eax
    jmp pm_stubs + 14 * 16
.fix:
    mov [ss:pf_ecx], ecx
    mov [ss:pf_esi], esi
    mov [ss:pf_edi], edi
    push ebx
    mov ebx, [ss:pf_fix_pte]
    mov eax, [ss:pf_fix_val]
    mov [ss:ebx], eax
    mov dword [ss:pf_fix_pte], 0
    inc dword [ss:pf_fix_count]
    mov eax, cr2
    invlpg [eax]
    pop ebx
    pop eax
    add esp, 4                  ; the error code
    iretd

    PM_LIB
bits 16
TEST_END

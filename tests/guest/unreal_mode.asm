; Guest test: "unreal mode": a data segment loaded in protected mode keeps its cached 4 GiB limit
; after CR0.PE is cleared, so real-mode code can use 32-bit offsets above 64 KiB; a plain real-mode
; load resets only the base. Intel SDM Vol. 3A §3.4.3 (hidden descriptor caches), §9.9 (mode switches).
%include "lib.inc"
cpu 686

TEST_BEGIN
    PUTS "unreal_mode: GDT with a flat 4 GiB data descriptor", 10
    ; The GDT lives in RAM at 0x800: null descriptor, then base 0, limit 0xFFFFF pages, data RW.
    mov dword [0x800], 0
    mov dword [0x804], 0
    mov dword [0x808], 0x0000FFFF
    mov dword [0x80C], 0x00CF9200
    mov word [0x810], 15            ; GDTR limit
    mov dword [0x812], 0x800        ; GDTR base
    lgdt [0x810]

    PUTS "unreal_mode: beyond 64 KiB in real mode faults first", 10
    mov ebx, 0x00200000
    EXPECT_FAULT 13, mov byte [ebx], 1 ; real-mode limit 0xFFFF: #GP

    PUTS "unreal_mode: PE on, load FS and GS, PE off", 10
    mov eax, cr0
    or al, 1
    mov cr0, eax
    mov ax, 0x08
    mov fs, ax                      ; a protected-mode load fills the cache from the descriptor
    mov gs, ax
    mov eax, cr0
    and al, 0xFE
    mov cr0, eax
    xor ax, ax
    mov gs, ax                      ; a real-mode load: base 0, but the limit stays 4 GiB

    PUTS "unreal_mode: 32-bit offsets through FS and GS", 10
    mov ebx, 0x00200000
    mov dword [fs:ebx], 0xCAFEBABE
    CHK dword [fs:ebx], 0xCAFEBABE
    CHK dword [gs:ebx], 0xCAFEBABE  ; same memory through the reloaded GS
    mov dword [dword fs:0x00300004], 0x12345678 ; 67 prefix, disp32
    mov esi, 0x00300000
    CHK dword [gs:esi + 4], 0x12345678
    mov dword [fs:0x1000], 0x55AA55AA ; below 64 KiB: the same bytes DS sees
    CHK dword [0x1000], 0x55AA55AA
    mov ebx, 0x00200000
    EXPECT_FAULT 13, mov byte [ebx], 1 ; DS was never loaded in protected mode: still 64 KiB
    PASS

TEST_END

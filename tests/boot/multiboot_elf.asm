; A minimal Multiboot v1 ELF kernel for jitpc's boot tests: it checks what the loader handed it
; (the magic in EAX, the info structure's flags, memory fields, command line, module, memory map)
; and reports on the debug console; isa-debug-exit 0 means every check passed.
; The ELF header is written by hand (System V ABI, i386) so nasm alone can build it.
bits 32
BASE equ 0x00200000
org BASE
section .text

ehdr:
    db 0x7F, "ELF", 1, 1, 1, 0
    times 8 db 0
    dw 2                        ; ET_EXEC
    dw 3                        ; EM_386
    dd 1
    dd start
    dd phdr - ehdr
    dd 0, 0
    dw 52, 32, 1, 0, 0, 0
phdr:
    dd 1, 0, BASE, BASE, file_end - ehdr, mem_end - ehdr, 7, 0x1000
align 4
mb_header:
    dd 0x1BADB002, 0x00000003, -(0x1BADB002 + 3)

%macro FAIL_IF 2                ; condition code, exit code
    j%1 fail_%2
%endmacro

start:
    mov esp, stack_top
    cmp eax, 0x2BADB002
    jne near fail1
    mov eax, [ebx]              ; flags: mem, cmdline, mods, mmap
    and eax, 0x4D
    cmp eax, 0x4D
    jne near fail2
    cmp dword [ebx + 4], 640
    jne near fail3
    mov esi, msg_cmdline
    call puts
    mov esi, [ebx + 16]
    call puts
    mov esi, msg_nl
    call puts
    cmp dword [ebx + 20], 1     ; one module
    jne near fail4
    mov edi, [ebx + 24]
    mov esi, [edi]              ; mod_start
    test esi, 0xFFF             ; page aligned
    jnz near fail5
    mov ecx, [edi + 4]
    sub ecx, esi                ; module length
    mov esi, msg_module
    call puts
    mov esi, [edi]
.mod:
    lodsb
    out 0xE9, al
    loop .mod
    mov esi, msg_args
    call puts
    mov esi, [edi + 8]
    call puts
    mov esi, msg_nl
    call puts
    mov ecx, (bss_end - bss_start) / 4
    mov edi, bss_start
    xor eax, eax
    repe scasd                  ; the loader zeroed the bss
    jne near fail6
    cmp dword [ebx + 44], 0     ; a memory map is there
    je near fail7
    mov esi, msg_pass
    call puts
    mov al, 0
    out 0xF4, al
    hlt

fail1: mov al, 1
    jmp fail
fail2: mov al, 2
    jmp fail
fail3: mov al, 3
    jmp fail
fail4: mov al, 4
    jmp fail
fail5: mov al, 5
    jmp fail
fail6: mov al, 6
    jmp fail
fail7: mov al, 7
fail:
    out 0xF4, al
    hlt

puts:
    lodsb
    test al, al
    jz .done
    out 0xE9, al
    jmp puts
.done:
    ret

msg_cmdline: db "cmdline: ", 0
msg_module: db "module: ", 0
msg_args: db " | args: ", 0
msg_nl: db 10, 0
msg_pass: db "PASS", 10, 0
file_end:
section .bss nobits follows=.text
bss_start:
    resb 2048                   ; bss: in memory only (memsz > filesz), zeroed by the loader
bss_end:
    resb 2048
stack_top:
mem_end:

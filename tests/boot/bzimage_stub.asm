; A minimal bzImage for jitpc's boot tests: a real-mode setup area carrying the Linux boot
; protocol header (Documentation/arch/x86/boot.rst), then a 32-bit "kernel" that checks the zero
; page the loader built (command line, initrd, e820 map, loader type) and reports on port 0xE9.
bits 16
section setup start=0
    times 0x1F1 - ($ - $$) db 0
    db 1                        ; 0x1F1 setup_sects: the protected-mode part starts at 1024
    dw 0                        ; root_flags
    dd 0                        ; syssize
    dw 0                        ; ram_size
    dw 0                        ; vid_mode
    dw 0                        ; root_dev
    dw 0xAA55                   ; boot_flag
    db 0xEB, hdr_end - 0x202    ; 0x200: jump over the header
    db "HdrS"                   ; 0x202
    dw 0x020F                   ; 0x206 version 2.15
    dd 0                        ; realmode_swtch
    dw 0                        ; start_sys_seg
    dw 0                        ; kernel_version
    db 0                        ; 0x210 type_of_loader (the loader writes it)
    db 0x01                     ; 0x211 loadflags: LOADED_HIGH
    dw 0                        ; setup_move_size
    dd 0x100000                 ; 0x214 code32_start
    dd 0, 0                     ; 0x218 ramdisk_image, ramdisk_size (the loader writes them)
    dd 0                        ; bootsect_kludge
    dw 0                        ; 0x224 heap_end_ptr
    db 0, 0                     ; ext_loader_ver, ext_loader_type
    dd 0                        ; 0x228 cmd_line_ptr
    dd 0x37FFFFFF               ; 0x22C initrd_addr_max
    dd 0x200000                 ; kernel_alignment
    db 0, 0                     ; relocatable_kernel, min_alignment
    dw 0                        ; xloadflags
    dd 255                      ; 0x238 cmdline_size
hdr_end:
    times 1024 - ($ - $$) db 0

bits 32
section kernel vstart=0x100000
start:
    mov esp, 0x90000             ; the protocol leaves the stack to the kernel
    cmp byte [esi + 0x210], 0xFF ; type_of_loader: "undefined"
    jne fail1
    cmp byte [esi + 0x1E8], 4    ; four e820 entries
    jne fail2
    cmp dword [esi + 0x2D0 + 3 * 20 + 16], 1 ; the last one: usable RAM from 1 MiB
    jne fail3
    cmp dword [esi + 0x2D0 + 3 * 20], 0x100000
    jne fail3
    mov ebx, esi
    mov esi, msg_cmdline
    call puts
    mov esi, [ebx + 0x228]
    call puts
    mov esi, msg_initrd
    call puts
    mov esi, [ebx + 0x218]
    test esi, 0xFFF              ; page aligned
    jnz fail4
    mov ecx, [ebx + 0x21C]
    jecxz fail4
.copy:
    lodsb
    out 0xE9, al
    loop .copy
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
msg_initrd: db 10, "initrd: ", 0
msg_pass: db "PASS", 10, 0

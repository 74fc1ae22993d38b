; The demo program `make run` boots until the Linux boot path lands: it prints a greeting and a
; table of squares computed by the guest CPU, then ends through isa-debug-exit with code 0.
%include "lib.inc"

TEST_BEGIN
    PUTS "jitpc: hello from the guest CPU, running in real mode", 10
    PUTS "squares: "
    mov cx, 1
.row:
    mov ax, cx
    mul cx                  ; ax = cx * cx
    call print_dec
    mov al, ' '
    out DEBUGCON, al
    inc cx
    cmp cx, 13
    jb .row
    mov al, 10
    out DEBUGCON, al
    PUTS "goodbye", 10
    EXIT 0

; print_dec: AX in decimal on the debug console.
print_dec:
    push ax
    push bx
    push cx
    push dx
    mov bx, 10
    xor cx, cx
.div:
    xor dx, dx
    div bx
    push dx
    inc cx
    test ax, ax
    jnz .div
.out:
    pop ax
    add al, '0'
    out DEBUGCON, al
    loop .out
    pop dx
    pop cx
    pop bx
    pop ax
    ret

TEST_END

; kern_setjmp / kern_longjmp (kern/setjmp.h): save and restore the System V
; callee-saved registers, the stack pointer, the return address and RFLAGS.

bits 64
section .text

; int kern_setjmp(struct kjmp_buf *jb): returns 0 now, and the value given
; to kern_longjmp (never 0) when a jump comes back here.
global kern_setjmp
kern_setjmp:
	mov [rdi + 0], rbx
	mov [rdi + 8], rbp
	mov [rdi + 16], r12
	mov [rdi + 24], r13
	mov [rdi + 32], r14
	mov [rdi + 40], r15
	lea rdx, [rsp + 8]               ; the caller's RSP after we return
	mov [rdi + 48], rdx
	mov rdx, [rsp]                   ; our return address
	mov [rdi + 56], rdx
	pushfq
	pop qword [rdi + 64]
	xor eax, eax
	ret

; void kern_longjmp(struct kjmp_buf *jb, int value)
global kern_longjmp
kern_longjmp:
	mov eax, esi
	test eax, eax
	jnz .nonzero
	inc eax                          ; setjmp must not seem to return 0 twice
.nonzero:
	mov rbx, [rdi + 0]
	mov rbp, [rdi + 8]
	mov r12, [rdi + 16]
	mov r13, [rdi + 24]
	mov r14, [rdi + 32]
	mov r15, [rdi + 40]
	mov rsp, [rdi + 48]
	push qword [rdi + 64]
	popfq
	jmp [rdi + 56]

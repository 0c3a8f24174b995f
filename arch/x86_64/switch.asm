; Thread switching and the first entry into user mode.

bits 64
section .text

; void switch_context(uint64_t *save_rsp, uint64_t load_rsp)
; Saves the callee-saved registers on the current stack and its RSP in
; *save_rsp, then continues the thread whose stack is at load_rsp: the
; System V ABI says the caller expects only these to survive a call.
global switch_context
switch_context:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov [rdi], rsp
	mov rsp, rsi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; A new thread's first return from switch_context lands here, with the
; function in r12 and its argument in r13 (thread.c lays the stack out).
extern thread_start
global thread_trampoline
thread_trampoline:
	mov rdi, r12
	mov rsi, r13
	xor ebp, ebp                     ; the outermost frame of this thread
	call thread_start                ; does not return
	ud2

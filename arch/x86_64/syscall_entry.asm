; SYSCALL entry: build a struct trap_frame on the thread's kernel stack,
; call syscall_dispatch(frame), and go back with SYSRET, or with IRETQ when
; the return address is not canonical (SYSRET would fault in ring 0) or the
; frame was rewritten (thread_set_state): syscall_dispatch decides.  The
; call runs with interrupts on: the clock may preempt it (kern/lock.h).

bits 64
%include "arch/x86_64/frame.inc"
extern syscall_dispatch
extern trap_return

SEL_UCODE       equ 0x28 | 3
SEL_UDATA       equ 0x20 | 3
CPU_KERNEL_RSP  equ 32
CPU_USER_RSP    equ 40
SYSCALL_VECTOR  equ 0x80            ; marks the frame as a system call's

section .text
global syscall_entry
syscall_entry:
	swapgs
	mov [gs:CPU_USER_RSP], rsp
	mov rsp, [gs:CPU_KERNEL_RSP]
	push SEL_UDATA                   ; ss
	push qword [gs:CPU_USER_RSP]     ; rsp
	push r11                         ; rflags
	push SEL_UCODE                   ; cs
	push rcx                         ; rip
	push 0                           ; error code
	push SYSCALL_VECTOR
	PUSH_GPRS
	xor ebp, ebp
	; On the kernel stack, with the kernel's GS and the user's RSP in the
	; frame: an interrupt may come now (SFMASK kept them off until here).
	sti
	mov rdi, rsp
	call syscall_dispatch            ; returns nonzero when IRETQ must be used
	cli                              ; off again before GS and RSP go back to the user's
	test eax, eax
	jnz .iret
	POP_GPRS
	mov rcx, [rsp + 16]              ; rip (past vector and error code)
	mov r11, [rsp + 32]              ; rflags
	mov rsp, [rsp + 40]              ; the user stack
	swapgs
	o64 sysret
.iret:
	mov rdi, rsp
	jmp trap_return

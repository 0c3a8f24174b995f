; Trap entry: one stub per vector, and the common path that builds a
; struct trap_frame (arch/x86_64/trap.h) and calls trap_dispatch().

bits 64
%include "arch/x86_64/frame.inc"
extern trap_dispatch

TF_CS equ 18 * 8                     ; offset of cs in struct trap_frame
RFLAGS_AC equ 1 << 18

section .text

; Vectors for which the CPU pushes an error code (Intel SDM vol. 3, 6.13).
%define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

%assign v 0
%rep 256
	align 16
trap_stub_ %+ v:
%if !HAS_ERROR(v)
	push 0                           ; a uniform frame: fake error code
%endif
	push v
	jmp trap_common
%assign v v + 1
%endrep

; Saves every general register; switches GS when the trap came from user
; mode, so %gs:0 is always this CPU's struct cpu while in the kernel.
trap_common:
	PUSH_GPRS
	test qword [rsp + TF_CS], 3
	jz .from_kernel
	swapgs
.from_kernel:
	cld
	; SMAP open again: a trap may land inside a copy routine (or come from
	; a user who set AC), and its handler may switch threads.  The frame
	; keeps the interrupted RFLAGS; POPFQ, unlike CLAC, runs on any CPU.
	pushfq
	and qword [rsp], ~RFLAGS_AC
	popfq
	mov rdi, rsp
	call trap_dispatch
	mov rdi, rsp

; void trap_return(struct trap_frame *frame): resumes the context in frame
; (kernel or user), through IRETQ.  New user threads start here too.
global trap_return
trap_return:
	cli                              ; a handler may have turned them on: IRETQ restores them
	mov rsp, rdi
	test qword [rsp + TF_CS], 3
	jz .to_kernel
	swapgs
.to_kernel:
	POP_GPRS
	add rsp, 16                      ; vector and error code
global trap_iret
trap_iret:                           ; trap.c: a fault here is the user's (a bad RIP)
	iretq

; void gdt_load_segments(const struct descriptor_ptr *gdtr): loads the GDT
; and reloads every segment register from it (CS through a far return).
global gdt_load_segments
gdt_load_segments:
	lgdt [rdi]
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax                       ; clears GS base: set it after this
	pop rdi                          ; return address
	push 0x08
	push rdi
	retfq

section .rodata
align 8
global trap_stubs
trap_stubs:
%assign v 0
%rep 256
	dq trap_stub_ %+ v
%assign v v + 1
%endrep

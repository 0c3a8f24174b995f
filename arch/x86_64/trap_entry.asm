; Trap entry: one stub per vector, and the common path that builds a
; struct trap_frame (arch/x86_64/trap.h) and calls trap_dispatch().

bits 64
extern trap_dispatch

TF_CS equ 18 * 8                     ; offset of cs in struct trap_frame

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
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	test qword [rsp + TF_CS], 3
	jz .from_kernel
	swapgs
.from_kernel:
	cld
	mov rdi, rsp
	call trap_dispatch
	test qword [rsp + TF_CS], 3
	jz .to_kernel
	swapgs
.to_kernel:
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16                      ; vector and error code
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

; Small ring-3 routines for the task tests (tests/kern/task_test.c), each
; position-independent so a test can copy it into any user page.  Each
; lies between a label and its _end label.

bits 64
SYS_exit          equ 0
SYS_console_write equ 1
SYS_yield         equ 5

%macro ROUTINE 1
global %1
global %1_end
%1:
%endmacro

section .rodata

; exit(42)
ROUTINE ucode_exit42
	mov edi, 42
	mov eax, SYS_exit
	syscall
ucode_exit42_end:

; touch the stack, then exit(rdi)
ROUTINE ucode_touch_exit
	push rdi
	mov qword [rsp - 64], rax
	pop rdi
	mov eax, SYS_exit
	syscall
ucode_touch_exit_end:

; yield 100 times, then exit(7)
ROUTINE ucode_yield_exit
	mov ebx, 100
.again:
	mov eax, SYS_yield
	syscall
	dec ebx
	jnz .again
	mov edi, 7
	mov eax, SYS_exit
	syscall
ucode_yield_exit_end:

; console_write(rdi, 4) and exit with what it returned
ROUTINE ucode_write_exit
	mov esi, 4
	mov eax, SYS_console_write
	syscall
	mov edi, eax
	mov eax, SYS_exit
	syscall
ucode_write_exit_end:

; an unknown system call, then exit with what it returned
ROUTINE ucode_bad_syscall
	mov eax, 999
	syscall
	mov edi, eax
	mov eax, SYS_exit
	syscall
ucode_bad_syscall_end:

; write into its own (read-only, executable) code page
ROUTINE ucode_write_text
	lea rax, [rel ucode_write_text]
	mov byte [rax], 0
	ud2
ucode_write_text_end:

; read the kernel image
ROUTINE ucode_read_kernel
	mov rax, 0xffffffff80200000
	mov rax, [rax]
	ud2
ucode_read_kernel_end:

; a privileged instruction
ROUTINE ucode_hlt
	hlt
	ud2
ucode_hlt_end:

; jump to rdi (a data page, or a non-canonical address)
ROUTINE ucode_jump_rdi
	jmp rdi
ucode_jump_rdi_end:

; yield from the system call instruction at rdi (the test puts one there)
ROUTINE ucode_syscall_at_rdi
	mov eax, SYS_yield
	jmp rdi
ucode_syscall_at_rdi_end:

; read, write or run the address in rdi (a kernel address, for the hostile suite)
ROUTINE ucode_read_rdi
	mov rax, [rdi]
	ud2
ucode_read_rdi_end:

ROUTINE ucode_write_rdi
	mov byte [rdi], 0
	ud2
ucode_write_rdi_end:

; far-jump (through a pointer on the stack) into the code segment whose
; selector is in rdi, then exit(7) by SYSCALL there: from a 32-bit segment
; that SYSCALL would enter the kernel through MSR_CSTAR
ROUTINE ucode_syscall_in_segment_rdi
	lea rax, [rel .there]
	sub rsp, 16
	mov [rsp], eax                   ; the code lies below 4 GiB: a 32-bit offset
	mov [rsp + 4], di
	mov edi, 7
	mov eax, SYS_exit
	jmp dword far [rsp]              ; m16:32, which Intel and AMD both take
.there:
	syscall
	ud2
ucode_syscall_in_segment_rdi_end:

; far-return into the code segment whose selector is in rdi
ROUTINE ucode_far_return_rdi
	lea rax, [rel .there]
	push rdi
	push rax
	o64 retf
.there:
	ud2
ucode_far_return_rdi_end:

; count forever in the quadword at rdi: a writer for the TLB shootdown tests
ROUTINE ucode_count_at_rdi
.again:
	inc qword [rdi]
	jmp .again
ucode_count_at_rdi_end:

; kernel_entry: the 64-bit entry every loader jumps to (docs/boot.md):
; long mode, paging on with the kernel at its link address and low memory
; identity-mapped, interrupts off, any valid stack, RDI = physical address
; of struct boot_info.  From here on the kernel owns the machine.

bits 64
extern kernel_main
extern __stack_chk_guard

KERNEL_STACK_SIZE equ 32768

section .text
global kernel_entry
kernel_entry:
	cli
	cld
	lea rsp, [rel boot_kernel_stack_top]
	xor ebp, ebp                     ; the outermost frame: backtraces stop here
	mov r12, rdi
	call seed_stack_guard
	mov rdi, r12
	call kernel_main
.halt:                               ; kernel_main does not return
	cli
	hlt
	jmp .halt

; Seeds the stack protector's guard before the first protected C function
; runs: RDRAND when the CPU has it (retried, as Intel advises), mixed with
; the TSC, which is all there is otherwise.  Clobbers rax, rbx, rcx, rdx.
seed_stack_guard:
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov r8, rax
	mov eax, 1
	cpuid
	bt ecx, 30
	jnc .store
	mov ecx, 10
.retry:
	rdrand rax
	jc .mix
	loop .retry
	jmp .store
.mix:
	xor r8, rax
.store:
	mov r8b, 0                       ; a NUL byte stops string overflows
	mov [rel __stack_chk_guard], r8
	ret

; The page below the stack is left unmapped by pmap_bootstrap, so an
; overflow faults instead of overwriting the bss below.
section .bss
align 4096
global boot_stack_guard
boot_stack_guard:
	resb 4096
boot_kernel_stack:
	resb KERNEL_STACK_SIZE
global boot_kernel_stack_top
boot_kernel_stack_top:

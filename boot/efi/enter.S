/*
 * void enter_kernel(uint64_t cr3, uint64_t stack_top, uint64_t entry, uint64_t boot_info)
 *
 * The last step of the GNU-EFI loader, after ExitBootServices: put the CPU
 * in the state docs/boot.md promises and jump to kernel_entry.  Called with
 * the System V ABI from our own C code (rdi, rsi, rdx, rcx); never returns.
 *
 * EFER.NXE goes on before CR3 is loaded, since the new tables use the NX
 * bit, which is a reserved bit (a page fault) without it.  The loader keeps
 * running across the CR3 load because its code lies in the identity map.
 */
#define IA32_EFER  0xc0000080
#define EFER_NXE   (1 << 11)
#define CR0_WP     (1 << 16)

	.text
	.globl enter_kernel
enter_kernel:
	cli
	mov	%rdx, %r8               /* rdmsr and wrmsr use rdx and rcx */
	mov	%rcx, %r9
	mov	$IA32_EFER, %ecx
	rdmsr
	or	$EFER_NXE, %eax
	wrmsr
	mov	%cr0, %rax
	or	$CR0_WP, %rax           /* read-only pages bind the kernel too */
	mov	%rax, %cr0
	mov	%rdi, %cr3
	mov	%rsi, %rsp
	xor	%ebp, %ebp              /* the outermost frame, for backtraces */
	push	$0                      /* a null return address, as if kernel_entry were called */
	mov	%r9, %rdi
	jmp	*%r8

	.section .note.GNU-stack, "", @progbits

/*
 * _start: where every user program begins.  The kernel enters it with RSP
 * 16-byte aligned at the top of the stack it mapped, and nothing else set
 * up: no arguments, no environment.
 *
 * The System V ABI wants RSP 16-byte aligned at each call instruction,
 * which it already is.  _start gives the main thread its thread pointer
 * (user/lib/thread.c: the library keeps per-thread state there), calls
 * main and hands what main returns to exit (user/lib/stdlib.c), which
 * flushes the last line of output and ends the task.
 */
	.text
	.globl	_start
	.type	_start, @function
_start:
	.cfi_startproc
	.cfi_undefined rip		/* no caller: debuggers stop unwinding here */
	xor	%ebp, %ebp		/* and so do frame-pointer backtraces */
	call	mica_thread_init_main
	call	main
	mov	%eax, %edi
	call	exit
	ud2				/* exit does not return */
	.cfi_endproc
	.size	_start, . - _start

	.section .note.GNU-stack, "", @progbits

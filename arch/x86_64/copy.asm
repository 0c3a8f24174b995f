; copyin, copyout, copyinstr (kern/copy.h), and copy_probe for the gdb stub.
;
; Each copy instruction that may fault lies between a pair of labels
; listed in the `fixups` section: when one faults and the VM cannot
; resolve the fault (or, for copy_probe, at once), the trap handler
; resumes at the pair's handler, which closes SMAP and returns
; KERN_INVALID_ADDRESS to the caller.  The copies keep no data on the
; stack, so a handler can simply `ret`.

bits 64

USER_MAX               equ 0x0000800000000000
KERN_SUCCESS           equ 0
KERN_INVALID_ADDRESS   equ 1
KERN_NO_SPACE          equ 3

; stac and clac, each recorded in the smap_sites section: on a CPU without
; SMAP, where both are invalid opcodes, pmap_bootstrap turns every one into
; a three-byte NOP (cpu_patch_out_smap, arch/x86_64/cpu.c).
%macro STAC 0
%%at:	stac
	[section smap_sites progbits alloc noexec nowrite align=8]
	dq %%at
	__SECT__
%endmacro

%macro CLAC 0
%%at:	clac
	[section smap_sites progbits alloc noexec nowrite align=8]
	dq %%at
	__SECT__
%endmacro

section .text

; Jumps to the label unless [address, address + length) lies in user space.
; Clobbers rax and r8.
%macro CHECK_USER_RANGE 3          ; address register, length register, label
	mov rax, %1
	add rax, %2
	jc %3
	mov r8, USER_MAX
	cmp rax, r8
	ja %3
%endmacro

; kern_return_t copyin(const void *uaddr, void *kaddr, size_t len)
global copyin
copyin:
	CHECK_USER_RANGE rdi, rdx, bad_address
	xchg rdi, rsi                    ; movs copies [rsi] to [rdi]
	jmp copy_user

; kern_return_t copyout(const void *kaddr, void *uaddr, size_t len)
global copyout
copyout:
	CHECK_USER_RANGE rsi, rdx, bad_address
	xchg rdi, rsi
	jmp copy_user

; rdi = destination, rsi = source, rdx = length; one side is user memory.
copy_user:
	mov rcx, rdx
	shr rcx, 3
	STAC
copy_user_start:
	rep movsq                        ; eight bytes an iteration
	mov rcx, rdx
	and rcx, 7
	rep movsb
copy_user_end:
	CLAC
	xor eax, eax
	ret

; kern_return_t copyinstr(const void *uaddr, char *kaddr, size_t len, size_t *done)
global copyinstr
copyinstr:
	xor r9, r9                       ; bytes copied
	mov r10, USER_MAX
	STAC
copyinstr_next:
	cmp r9, rdx
	je copyinstr_too_long
	cmp rdi, r10
	jae copyinstr_bad
copyinstr_start:
	mov al, [rdi]
copyinstr_end:
	mov [rsi], al
	inc rdi
	inc rsi
	inc r9
	test al, al
	jnz copyinstr_next
	CLAC
	mov [rcx], r9
	xor eax, eax
	ret
copyinstr_too_long:
	CLAC
	mov [rcx], r9
	mov eax, KERN_NO_SPACE
	ret
copyinstr_bad:
	jmp fault_return

; kern_return_t copy_probe(void *dst, const void *src, size_t len): any
; addresses, user or kernel, as long as they are canonical (the caller
; checks: a non-canonical one raises #GP, which has no fixup).  A fault is
; never offered to the VM, which may be stopped half-way with its locks
; held: the debugger reads what is mapped now and nothing else.
global copy_probe
copy_probe:
	mov rcx, rdx
	STAC
copy_probe_start:
	rep movsb
copy_probe_end:
	CLAC
	xor eax, eax
	ret

bad_address:
	mov eax, KERN_INVALID_ADDRESS
	ret

; Where a faulting copy resumes: SMAP closed again, and the error the
; trap handler put in RAX returned (KERN_INVALID_ADDRESS, or
; KERN_RESOURCE_SHORTAGE when the VM had no memory for the page).
fault_return:
	CLAC
	ret

; Each entry: faulting range, handler, flags (struct fixup, arch/x86_64/trap.c).
FIXUP_VM_FIRST         equ 1        ; the VM may resolve the fault first

section fixups progbits alloc noexec nowrite align=8
	dq copy_user_start, copy_user_end, fault_return, FIXUP_VM_FIRST
	dq copyinstr_start, copyinstr_end, fault_return, FIXUP_VM_FIRST
	dq copy_probe_start, copy_probe_end, fault_return, 0

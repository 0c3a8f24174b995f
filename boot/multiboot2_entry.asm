; GRUB's way into Mica: the multiboot2 header and the 32-bit entry.
;
; GRUB loads mica.elf at its physical addresses and jumps to mb2_entry in
; 32-bit protected mode, paging off, EAX = multiboot2 magic, EBX = physical
; address of the multiboot2 information.  This file
;   1. checks the CPU has long mode and NX (a clear message otherwise),
;   2. builds boot page tables: identity map of the first 4 GiB and the same
;      first 2 GiB again at 0xffffffff80000000, all with 2 MiB pages,
;   3. turns on PAE, EFER.LME, EFER.NXE and paging, far-jumps to 64-bit code,
;   4. calls multiboot2_to_boot_info() (boot/multiboot2.c, in the higher half)
;      and jumps to kernel_entry with RDI = physical address of boot_info,
; which is the entry contract of docs/boot.md.  Everything here runs at its
; physical address, so it lives in the .boot sections, linked low.

MB2_MAGIC        equ 0xe85250d6
MB2_ARCH_I386    equ 0
MB2_BOOT_MAGIC   equ 0x36d76289     ; what GRUB leaves in EAX

COM1             equ 0x3f8
DEBUG_EXIT_PORT  equ 0xf4
EXIT_UNSUPPORTED equ 0x13           ; docs/testing.md: "unsupported machine"

PTE_P            equ 1 << 0
PTE_RW           equ 1 << 1
PTE_PS           equ 1 << 7         ; 2 MiB page in a page-directory entry

CR0_PG           equ 1 << 31
CR0_WP           equ 1 << 16
CR4_PAE          equ 1 << 5
MSR_EFER         equ 0xc0000080
EFER_LME         equ 1 << 8
EFER_NXE         equ 1 << 11

extern multiboot2_to_boot_info
extern kernel_entry

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	; entry address tag: GRUB starts us here, not at the ELF entry, which
	; is kernel_entry (the 64-bit contract every other loader uses).
	align 8
	dw 3, 0
	dd 12
	dd mb2_entry
	; end tag
	align 8
	dw 0, 0
	dd 8
mb2_header_end:

section .boot.text progbits alloc exec nowrite align=16
bits 32
global mb2_entry
mb2_entry:
	cli
	cld
	mov esp, boot_stack_top
	mov edi, ebx                     ; keep the multiboot2 info address

	call serial_init32
	cmp eax, MB2_BOOT_MAGIC
	jne .not_multiboot2
	call check_cpu                   ; returns only when the CPU is fit
	call build_boot_page_tables

	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME | EFER_NXE
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_WP
	mov cr0, eax

	lgdt [boot_gdt_ptr]
	jmp 0x08:long_mode_low

.not_multiboot2:
	mov esi, msg_not_mb2
	jmp unsupported

; check_cpu: returns if the CPU has long mode and NX, otherwise says which
; one is missing and stops.  Clobbers eax, ebx, ecx, edx, esi.
check_cpu:
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29
	jz .no_long_mode
	test edx, 1 << 20
	jz .no_nx
	ret
.no_long_mode:
	mov esi, msg_no_long_mode
	jmp unsupported
.no_nx:
	mov esi, msg_no_nx
	jmp unsupported

; unsupported: prints the string at ESI on COM1, leaves QEMU through
; isa-debug-exit with EXIT_UNSUPPORTED, and halts for good on real hardware.
unsupported:
	call serial_puts32
	mov al, EXIT_UNSUPPORTED
	out DEBUG_EXIT_PORT, al
.halt:
	cli
	hlt
	jmp .halt

; serial_init32: COM1 at 115200 8N1, FIFO on.  Clobbers edx; keeps eax.
serial_init32:
	push eax
	mov dx, COM1 + 1
	xor al, al
	out dx, al                       ; no interrupts
	mov dx, COM1 + 3
	mov al, 0x80
	out dx, al                       ; DLAB on
	mov dx, COM1
	mov al, 1
	out dx, al                       ; divisor 1 = 115200 baud
	mov dx, COM1 + 1
	xor al, al
	out dx, al
	mov dx, COM1 + 3
	mov al, 0x03
	out dx, al                       ; 8N1, DLAB off
	mov dx, COM1 + 2
	mov al, 0xc7
	out dx, al                       ; FIFO on and cleared
	pop eax
	ret

; serial_puts32: prints the NUL-terminated string at ESI.  Clobbers eax, edx, esi.
serial_puts32:
	lodsb
	test al, al
	jz .done
	mov ah, al
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20                    ; transmitter holding register empty
	jz .wait
	mov al, ah
	mov dx, COM1
	out dx, al
	jmp serial_puts32
.done:
	ret

; build_boot_page_tables: PML4[0] -> identity PDPT (4 x 1 GiB of 2 MiB
; pages), PML4[511] -> high PDPT whose entries 510 and 511 reuse the first
; two identity page directories, so 0xffffffff80000000 + x maps physical x
; for x below 2 GiB.  Clobbers eax, ecx, edi (restored).
build_boot_page_tables:
	push edi
	; every directory entry: 2048 x 2 MiB pages = 4 GiB
	mov edi, boot_pd
	xor ecx, ecx
.pd_loop:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_RW | PTE_PS
	mov [edi + ecx * 8], eax
	mov dword [edi + ecx * 8 + 4], 0
	inc ecx
	cmp ecx, 4 * 512
	jne .pd_loop

	mov eax, boot_pd + PTE_P + PTE_RW
	mov [boot_pdpt_low + 0 * 8], eax
	add eax, 4096
	mov [boot_pdpt_low + 1 * 8], eax
	add eax, 4096
	mov [boot_pdpt_low + 2 * 8], eax
	add eax, 4096
	mov [boot_pdpt_low + 3 * 8], eax

	mov eax, boot_pd + PTE_P + PTE_RW
	mov [boot_pdpt_high + 510 * 8], eax
	add eax, 4096
	mov [boot_pdpt_high + 511 * 8], eax

	mov eax, boot_pdpt_low + PTE_P + PTE_RW
	mov [boot_pml4 + 0 * 8], eax
	mov eax, boot_pdpt_high + PTE_P + PTE_RW
	mov [boot_pml4 + 511 * 8], eax
	pop edi
	ret

bits 64
long_mode_low:
	xor eax, eax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	xor ebp, ebp                     ; ends every backtrace
	; RDI still holds the multiboot2 info address (zero-extended)
	mov rax, multiboot2_to_boot_info
	call rax
	mov rdi, rax
	mov rax, kernel_entry
	jmp rax

section .boot.rodata progbits alloc noexec nowrite align=16
boot_gdt:
	dq 0
	dq 0x00209b0000000000            ; 0x08: 64-bit code, ring 0, accessed
boot_gdt_ptr:
	dw boot_gdt_ptr - boot_gdt - 1
	dd boot_gdt

msg_not_mb2:      db "mica: not started by a multiboot2 loader; cannot boot", 13, 10, 0
msg_no_long_mode: db "mica: unsupported CPU: no long mode (x86-64); Mica needs a 64-bit CPU", 13, 10, 0
msg_no_nx:        db "mica: unsupported CPU: no NX (execute-disable) bit; Mica needs it for W^X", 13, 10, 0

; The loader zeroes these (they are bss); build_boot_page_tables fills the
; entries it uses.
section .boot.bss nobits alloc noexec write align=4096
boot_pml4:      resb 4096
boot_pdpt_low:  resb 4096
boot_pdpt_high: resb 4096
boot_pd:        resb 4 * 4096
boot_stack:     resb 16384
boot_stack_top:

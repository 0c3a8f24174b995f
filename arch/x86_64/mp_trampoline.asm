; The start-up trampoline: the first code a CPU other than the boot
; processor runs (docs/boot.md, "Starting the other CPUs").  It is data
; in the kernel image, copied by arch/x86_64/mp.c to a page below 1 MiB;
; a start-up IPI starts the CPU in real mode at that page's first byte,
; CS = page >> 4, IP = 0.  It takes the CPU through protected mode into
; long mode and calls the kernel's entry with its struct cpu.
;
; It is position-independent: in real mode it reaches its bytes through
; DS = CS, after that through EBX = the page's address.  The three
; pointers the CPU needs as absolute addresses (the GDT's and the two far
; jumps') are assembled as offsets from the start, and the boot processor
; adds the page's address to them; it also fills the rest of the
; parameter block at the end (struct trampoline_params in mp.c, whose
; layout this must match).

bits 16
section .rodata

CR0_PE      equ 1 << 0
CR0_WP      equ 1 << 16
CR0_PG      equ 1 << 31
CR4_PAE     equ 1 << 5
MSR_EFER    equ 0xc0000080
EFER_LME    equ 1 << 8
EFER_NXE    equ 1 << 11

SEL_CODE32  equ 0x08
SEL_DATA    equ 0x10
SEL_CODE64  equ 0x18

%define OFF(label) ((label) - mp_trampoline_start)
%define PARAM(field) OFF(mp_trampoline_params.%+field)

align 16
global mp_trampoline_start
mp_trampoline_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	xor ebx, ebx
	mov bx, ax
	shl ebx, 4                       ; the page's physical address, for later
	o32 lgdt [PARAM(gdtr)]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword far [PARAM(jump32)]

bits 32
protected_mode:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, [ebx + PARAM(cr3)]      ; below 4 GiB: the tables are below 1 MiB
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME | EFER_NXE      ; NXE first: the kernel half's entries carry NX
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_WP
	mov cr0, eax                     ; long mode: this page runs identity-mapped
	jmp dword far [ebx + PARAM(jump64)]

bits 64
long_mode:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov ebx, ebx                     ; the upper half is undefined after the mode change
	mov rsp, [rbx + PARAM(stack)]
	mov rdi, [rbx + PARAM(cpu)]
	mov rax, [rbx + PARAM(entry)]
	xor ebp, ebp                     ; the outermost frame: backtraces stop here
	call rax                         ; the entry never returns
.halt:
	cli
	hlt
	jmp .halt

; Flat segments with their accessed bits already set: the page is mapped
; read-only once paging is on, and the CPU would otherwise write them.
align 8
gdt:
	dq 0
	dq 0x00cf9b000000ffff            ; SEL_CODE32: 32-bit code, 4 GiB
	dq 0x00cf93000000ffff            ; SEL_DATA: data, 4 GiB
	dq 0x00209b0000000000            ; SEL_CODE64: 64-bit code
gdt_end:

align 8
global mp_trampoline_params
mp_trampoline_params:
.cr3:    dd 0                        ; the start-up's own top-level table
.jump32: dd OFF(protected_mode)      ; + the page's address
         dw SEL_CODE32
.gdtr:   dw gdt_end - gdt - 1
         dd OFF(gdt)                 ; + the page's address
.jump64: dd OFF(long_mode)           ; + the page's address
         dw SEL_CODE64
         dw 0
.stack:  dq 0                        ; the top of the CPU's first kernel stack
.entry:  dq 0                        ; the kernel function it calls
.cpu:    dq 0                        ; its struct cpu, the function's argument
global mp_trampoline_end
mp_trampoline_end:

; The big test image's load (Makefile, build/big/): 64 MiB of read-only
; data, really in the file, so the image is at least that large.  Every
; quadword of page n holds n + 1, so a page that arrives missing, zeroed or
; out of place reads wrong (tests/big/big_image_test.c).

BIG_IMAGE_PAGES equ 16384                  ; 64 MiB

section .rodata.big_image progbits alloc noexec nowrite align=4096

global big_image_pages
global big_image_pages_end
big_image_pages:
%assign page 0
%rep BIG_IMAGE_PAGES
	times 512 dq page + 1
%assign page page + 1
%endrep
big_image_pages_end:

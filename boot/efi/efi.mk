# The GNU-EFI loader (boot/efi/, docs/boot.md): Mica booting as its own
# UEFI application.  Included by the top-level Makefile, which provides
# BUILD, ELF, Q, LD and the deps target.
#
#   make efi    build/esp.img, a FAT EFI system partition image holding
#               \EFI\BOOT\BOOTX64.EFI (the loader), \mica.elf and an empty
#               \mica.cfg; tools/qemu-run --boot efi boots a copy of it
#
# Any DIR/esp.img is made the same way from DIR/mica.elf, sized by
# tools/mkesp from what it holds.
#
# The loader is not kernel code: it runs under the firmware, at whatever
# address the firmware puts it.  So it has its own flags -- position-
# independent (crt0 applies its own relocations), short wchar_t for UCS-2
# strings, the Microsoft ABI for calls into the firmware -- and is linked
# as a shared object that objcopy turns into a PE32+ application.
# Debian's crt0 calls efi_main with the System V convention, so efi_main
# is declared without EFIAPI (boot/efi/main.c).

GNUEFI_INC := /usr/include/efi
GNUEFI_LIB := /usr/lib

EFI_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -fpic -fshort-wchar -mno-red-zone -maccumulate-outgoing-args \
	-fno-stack-protector -fno-strict-aliasing -DGNU_EFI_USE_MS_ABI \
	-I$(GNUEFI_INC) -I$(GNUEFI_INC)/x86_64 -I. -Iinclude -MMD -MP
# --no-undefined: nothing resolves symbols at run time, so a missing one
# (say, a libgcc helper) must fail the link, not the boot.
EFI_LDFLAGS := -nostdlib -shared -Bsymbolic -znocombreloc --no-undefined \
	-T $(GNUEFI_LIB)/elf_x86_64_efi.lds
# The sections a PE application needs; the rest (symbols, debug info) stay behind.
EFI_SECTIONS := .text .sdata .data .dynamic .dynsym .rel .rela .rel.* .rela.* .reloc

# boot/boot_info_build.c is shared with the kernel but compiled here again,
# with the loader's flags, into the loader's own object tree.
EFI_SRCS := $(wildcard boot/efi/*.c boot/efi/*.S) boot/boot_info_build.c
EFI_OBJS := $(patsubst %,$(BUILD)/efi/obj/%.o,$(basename $(EFI_SRCS)))
EFI_APP := $(BUILD)/efi/BOOTX64.EFI
ESP := $(BUILD)/esp.img

.PHONY: efi
efi: $(ESP)

$(BUILD)/efi/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@echo "  EFI CC  $<"
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/efi/obj/%.o: %.S | deps
	@mkdir -p $(dir $@)
	@echo "  EFI AS  $<"
	$(Q)$(CC) $(EFI_CFLAGS) -c $< -o $@

$(BUILD)/efi/loader.so: $(EFI_OBJS) | deps
	@echo "  EFI LD  $@"
	$(Q)$(LD) $(EFI_LDFLAGS) $(GNUEFI_LIB)/crt0-efi-x86_64.o $(EFI_OBJS) -o $@ \
		-L$(GNUEFI_LIB) -lefi -lgnuefi

$(EFI_APP): $(BUILD)/efi/loader.so | deps
	@echo "  PE32+   $@"
	$(Q)objcopy $(addprefix -j ,$(EFI_SECTIONS)) --target efi-app-x86_64 --subsystem=10 $< $@

%/esp.img: %/mica.elf $(EFI_APP) tools/mkesp | deps
	@echo "  ESP     $@"
	$(Q)tools/mkesp $@ $(EFI_APP) $<

-include $(EFI_OBJS:.o=.d)

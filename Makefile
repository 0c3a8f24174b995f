# Mica: a small Mach VM kernel for x86-64.
#
#   make / make iso   build build/mica.elf and the bootable build/mica.iso
#   make efi          build build/esp.img: Mica's own UEFI loader, mica.elf, mica.cfg
#   make big          build build/big/mica.iso and esp.img: the kernel with 64 MiB of
#                     test data more, which make test boots on every path
#   make run          boot it and run the demo (exit status 0 on a clean power-off)
#   make test         host tests, runner tests, every in-kernel suite on every
#                     boot path, the big image's too; ends with "N passed, N failed"
#   make debug        boot paused under QEMU's gdbstub with gdb attached
#   make bench        the benchmarks (docs/performance.md): BENCH lines, then a table;
#                     PROFILE=1 adds each case's top functions, sampled by NMI
#   make stress       the stress test at length (user/bin/stress_long), three times,
#                     on 4 CPUs (SMP=N for others); ends as make test does
#   make compile_commands.json   for editors
#
# Variables: BOOT=bios|uefi|efi (run, debug)  TEST=suite[,suite]  KVM=1  SMP=N  STUB=1 (debug)
#            PROFILE=1 (bench)
#            CPU=model (max)  MEM=MiB (512)  SEED=n  TIMEOUT=seconds
# Every target first runs tools/install-deps.sh, which installs what is missing.

SHELL := bash
.DEFAULT_GOAL := iso

BOOT ?= bios
TEST ?=
KVM ?= 0
SMP ?= 1
CPU ?= max
MEM ?= 512
SEED ?=
TIMEOUT ?= 120
PROFILE ?= 0

BUILD := build
V ?= 0
Q := $(if $(filter 1,$(V)),,@)          # V=1 shows every command
CC := gcc
NASM := nasm
LD := ld

KERNEL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -fno-pie -mcmodel=kernel -mno-red-zone -mgeneral-regs-only -ffunction-sections \
	-fno-omit-frame-pointer -fstack-protector-strong -mstack-protector-guard=global \
	-fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
	-DINVARIANTS -I. -Iinclude -MMD -MP
NASMFLAGS := -f elf64 -g -F dwarf -w+all -Werror -I.
LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack -T linker.ld

# Everything under these folders is kernel code (docs/layout.md); tests/kern holds
# in-kernel tests.  lib/ is code both sides run: it is built into the user
# library too (user/user.mk).
KERNEL_C := $(wildcard boot/*.c arch/x86_64/*.c kern/*.c lib/*.c vm/*.c ipc/*.c debug/*.c \
	tests/harness/*.c bench/*.c tests/kern/*.c tests/common/*.c)
KERNEL_ASM := $(wildcard boot/*.asm arch/x86_64/*.asm tests/kern/*.asm)
KERNEL_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(basename $(KERNEL_C) $(KERNEL_ASM)))

# The user programs the kernel carries (tests/user/*.c, user/bin/*.c), embedded in its image.
include user/user.mk
KERNEL_OBJS += $(USER_PROGRAM_OBJS)

ELF := $(BUILD)/mica.elf
ISO := $(BUILD)/mica.iso

.PHONY: all iso kernel big run test debug bench stress deps clean host-tests
all iso: $(ISO)
kernel: $(ELF)

# Installs what is missing; quiet when nothing is.  Make reads every
# makefile before any recipe runs, so nothing read then (a := variable, a
# $(shell ...)) may call a program deps installs; and every rule whose
# recipe runs one has `| deps`.
deps:
	@tools/install-deps.sh

# Tests run in the order they are written: keep GCC from reordering them.
$(BUILD)/obj/tests/kern/%.o: KERNEL_CFLAGS += -fno-toplevel-reorder

# Objects depend on this file: a change of flags (-ffunction-sections, which
# the text layout needs) must rebuild them.
$(BUILD)/obj/%.o: %.c Makefile | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.asm Makefile | deps
	@mkdir -p $(dir $@)
	@echo "  NASM    $<"
	$(Q)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

# Three link passes.  Pass 0 places the code as it comes (every function in
# a section of its own); tools/gen-text-layout turns its map into
# text-layout.ld, which moves each function that would cross a page
# boundary to the next page (under TCG such a function runs several times
# slower: docs/performance.md).  Pass 1 uses that layout with an empty
# symbol table, whose `nm` output becomes the real one; the table's section
# comes last in linker.ld, so the final pass must place every function
# where pass 1 did: the cmp proves it, and --check that none crosses a page.
$(BUILD)/ksyms-empty.c: tools/gen-ksyms | deps
	@mkdir -p $(BUILD)
	$(Q)tools/gen-ksyms --empty > $@

$(BUILD)/layout0/text-layout.ld:
	@mkdir -p $(dir $@)
	$(Q)echo "/* pass 0: the code as it comes */" > $@

# $(call kernel_image,DIR,OBJECTS): DIR/mica.elf linked from OBJECTS in the
# three passes, each pass's files in DIR.  What is written $$ is expanded
# when a rule runs, not when $(call) writes it.
define kernel_image
$(1)/mica.pass0.elf: $(2) $(BUILD)/obj/$(BUILD)/ksyms-empty.o linker.ld \
		$(BUILD)/layout0/text-layout.ld | deps
	@mkdir -p $(1)
	@echo "  LD      $$@"
	$$(Q)$$(LD) -L $(BUILD)/layout0 $$(LDFLAGS) -Map=$(1)/mica.pass0.map -o $$@ $(2) \
		$(BUILD)/obj/$(BUILD)/ksyms-empty.o

$(1)/text-layout.ld: $(1)/mica.pass0.elf tools/gen-text-layout | deps
	$$(Q)tools/gen-text-layout $(1)/mica.pass0.map > $$@

$(1)/mica.pass1.elf: $(2) $(BUILD)/obj/$(BUILD)/ksyms-empty.o linker.ld $(1)/text-layout.ld \
		| deps
	@echo "  LD      $$@"
	$$(Q)$$(LD) -L $(1) $$(LDFLAGS) -o $$@ $(2) $(BUILD)/obj/$(BUILD)/ksyms-empty.o

$(1)/ksyms.c: $(1)/mica.pass1.elf tools/gen-ksyms | deps
	$$(Q)nm -n -S --defined-only $$< | tools/gen-ksyms > $$@

$(1)/mica.elf: $(2) $(BUILD)/obj/$(1)/ksyms.o linker.ld $(1)/text-layout.ld | deps
	@echo "  LD      $$@"
	$$(Q)$$(LD) -L $(1) $$(LDFLAGS) -o $$@ $(2) $(BUILD)/obj/$(1)/ksyms.o
	@cmp -s <(nm -n $(1)/mica.pass1.elf | grep ' [tT] ') <(nm -n $$@ | grep ' [tT] ') \
		|| { echo "link: functions moved between the two passes"; rm -f $$@; exit 1; }
	@nm -n -S $$@ | tools/gen-text-layout --check || { rm -f $$@; exit 1; }
endef

$(eval $(call kernel_image,$(BUILD),$(KERNEL_OBJS)))

# Any DIR/mica.iso from DIR/mica.elf.  The files are grafted in where the
# ISO wants them, not copied there first: a kernel image may be large.
%/mica.iso: %/mica.elf boot/grub.cfg | deps
	@echo "  ISO     $@"
	$(Q)grub-mkrescue -o $@ boot/mica.elf=$< boot/grub/grub.cfg=boot/grub.cfg \
		> $*/grub-mkrescue.log 2>&1 || { cat $*/grub-mkrescue.log; exit 1; }

include boot/efi/efi.mk

# The big test image, build/big/: the kernel's objects and tests/big/, 64 MiB
# of numbered pages and the test that reads them back.  make test boots it
# on every path, so that no boot path sets a limit on the image's size;
# build/mica.elf carries none of it.
BIG := $(BUILD)/big
BIG_OBJS := $(patsubst %,$(BUILD)/obj/%.o,$(basename $(wildcard tests/big/*.c tests/big/*.asm)))
$(eval $(call kernel_image,$(BIG),$(KERNEL_OBJS) $(BIG_OBJS)))
big: $(BIG)/mica.iso $(BIG)/esp.img

QEMU_FLAGS = --iso $(ISO) --esp $(ESP) --cpu $(CPU) --mem $(MEM) --smp $(SMP) $(if $(filter 1,$(KVM)),--kvm)

# BOOT=efi boots the ESP image with Mica's own loader; the others boot the ISO.
run: $(if $(filter efi,$(BOOT)),$(ESP),$(ISO)) | deps
	tools/qemu-run $(QEMU_FLAGS) --boot $(BOOT) --timeout $(TIMEOUT) \
		--log $(BUILD)/run.log --cmdline "$(if $(SEED),seed=$(SEED))"

# QEMU paused, gdb attached at kernel_main (tools/debug); TEST=suite boots a test run.
# STUB=1: gdb talks to the kernel's own stub on COM2 instead of QEMU's gdbstub.
debug: $(if $(filter efi,$(BOOT)),$(ESP),$(ISO)) | deps
	tools/debug --boot $(BOOT) --iso $(ISO) --esp $(ESP) --elf $(ELF) $(if $(filter 1,$(STUB)),--stub) $(if $(filter 1,$(KVM)),--kvm) \
		--log $(BUILD)/debug-serial.log --cmdline "$(if $(TEST),test=$(TEST))"

# The benchmarks (boot option bench), then their table; numbers never fail it.
# ICOUNT=1: QEMU's clock counts guest instructions, so each ns is one instruction.
# Beside the table, build/bench/vm_write.svg: time per call against size (tools/bench-plot).
bench: $(if $(filter efi,$(BOOT)),$(ESP),$(ISO)) | deps
	@tools/install-deps.sh gnuplot:gnuplot-nox
	tools/qemu-run $(QEMU_FLAGS) $(if $(filter 1,$(ICOUNT)),--icount) --boot $(BOOT) --timeout 900 \
		--log $(BUILD)/bench.log --cmdline "bench quiet$(if $(filter 1,$(PROFILE)), profile)"
	tools/bench-table $(if $(filter 1,$(ICOUNT)),--icount) $(BUILD)/bench.log
	tools/bench-plot $(BUILD)/bench.log $(BUILD)/bench/vm_write.svg

# tests/user/stress.c at length (user/bin/stress_long.c), the user suite's only program.
STRESS_SMP := $(if $(filter command line,$(origin SMP)),$(SMP),4)
stress: $(ISO) $(BUILD)/host/ktap-summary | deps
	@mkdir -p $(BUILD)/test
	tools/qemu-run --iso $(ISO) --esp $(ESP) --cpu $(CPU) --mem $(MEM) --smp $(STRESS_SMP) \
		$(if $(filter 1,$(KVM)),--kvm) --boot $(BOOT) --ktap --timeout 900 \
		--log $(BUILD)/test/stress.ktap --cmdline "test=user userprograms=stress_long,stress_long,stress_long"
	$(BUILD)/host/ktap-summary $(BUILD)/test/stress.ktap

include tests/host/host.mk

# The big image is booted only when every suite runs (tests/run-all).
test: host-tests $(ISO) $(ESP) $(if $(TEST),,big) $(BUILD)/host/ktap-summary | deps
	BUILD=$(BUILD) TEST="$(TEST)" SEED="$(SEED)" TIMEOUT=$(TIMEOUT) \
		QEMU_FLAGS="$(QEMU_FLAGS)" tests/run-all

compile_commands.json: | deps
	@tools/install-deps.sh bear:bear
	bear --output $@ -- $(MAKE) -B kernel

clean:
	rm -rf $(BUILD)

-include $(KERNEL_OBJS:.o=.d) $(BIG_OBJS:.o=.d)

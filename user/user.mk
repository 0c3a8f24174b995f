# User programs (user/, tests/user/): freestanding ELF64 executables that
# the kernel carries inside its image and runs, each in its own task.
# Included by the top-level Makefile, which provides BUILD, CC, Q,
# KERNEL_CFLAGS and the deps target; it sets no default goal.
#
#   make user-programs   every program, and the two generated files that
#                        embed them in the kernel
#
# Every tests/user/NAME.c (a test program: the `user` suite runs it) and every
# user/bin/NAME.c (any other program, such as the demo) becomes
# build/user/NAME.elf: crt0, the program and the user library, linked by
# user/user.ld.  Both folders are found by wildcard, so adding a program
# needs no change here.
#
# tools/gen-programs turns the list of programs into
#   build/user/programs.S   each ELF, .incbin'd into .rodata (from
#                           build/user/carried/: without debugging sections)
#   build/user/programs.c   the kernel's table of programs: name, start,
#                           end, and whether it came from tests/user/
# which are compiled with the kernel's flags into USER_PROGRAM_OBJS for
# the kernel's link.

# GCC's own header folder, asked of GCC when a recipe first needs it and
# then kept (the $(eval X := ...) idiom): make reads this file before the
# deps target has run, and on a fresh machine there is no GCC to ask yet.
GCC_INCLUDE = $(eval GCC_INCLUDE := $(or $(shell $(CC) -print-file-name=include),\
	$(error $(CC) -print-file-name=include printed nothing)))$(GCC_INCLUDE)

# Programs see only their own headers (user/include), the shared ABI
# (include/) and GCC's freestanding ones (stdarg.h, stdint.h...).
# -fno-tree-loop-distribute-patterns keeps GCC from turning the loop
# inside memset into a call to memset.  Recursively expanded, for GCC_INCLUDE.
USER_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -fno-pie -nostdinc -fno-builtin -fno-stack-protector -mno-red-zone \
	-fno-tree-loop-distribute-patterns \
	-Iuser/include -Iinclude -I. -isystem $(GCC_INCLUDE) -MMD -MP
# Static, at fixed addresses, each segment on pages of its own (user/user.ld),
# and a stack that is never executable.
USER_LDFLAGS := -nostdlib -static -no-pie -T user/user.ld \
	-Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--build-id=none

USER_TEST_SRCS := $(sort $(wildcard tests/user/*.c))
USER_BIN_SRCS := $(sort $(wildcard user/bin/*.c))
USER_TEST_NAMES := $(basename $(notdir $(USER_TEST_SRCS)))
USER_BIN_NAMES := $(basename $(notdir $(USER_BIN_SRCS)))

# Both folders build into build/user/NAME.elf, so a name may be used only once.
USER_NAME_CLASH := $(filter $(USER_TEST_NAMES),$(USER_BIN_NAMES))
$(if $(USER_NAME_CLASH),$(error tests/user and user/bin both have $(USER_NAME_CLASH)))

# The user library: user/lib's C files and lib/'s, the code kernel and
# programs share (printf, the string functions, make bench's measuring), so
# that printf and the string functions are the kernel's own.  An archive, so
# each program links only the parts it uses; crt0 stays out of it, as every
# program needs it.
USER_LIB_SRCS := $(wildcard user/lib/*.c lib/*.c)
USER_LIB_OBJS := $(patsubst %,$(BUILD)/user/obj/%.o,$(basename $(USER_LIB_SRCS)))
USER_LIB := $(BUILD)/user/libuser.a
USER_CRT0 := $(BUILD)/user/obj/user/lib/crt0.o

USER_TEST_ELFS := $(USER_TEST_NAMES:%=$(BUILD)/user/%.elf)
USER_BIN_ELFS := $(USER_BIN_NAMES:%=$(BUILD)/user/%.elf)
USER_ELFS := $(USER_TEST_ELFS) $(USER_BIN_ELFS)
USER_OBJS := $(patsubst %.c,$(BUILD)/user/obj/%.o,$(USER_TEST_SRCS) $(USER_BIN_SRCS)) \
	$(USER_LIB_OBJS) $(USER_CRT0)

USER_PROGRAMS_S := $(BUILD)/user/programs.S
USER_PROGRAMS_C := $(BUILD)/user/programs.c
USER_PROGRAM_OBJS := $(BUILD)/obj/user/programs.S.o $(BUILD)/obj/user/programs.c.o

# The list of programs: "test NAME..." and "bin NAME..." lines.  It is
# rewritten only when it changes, so that adding or removing a program
# regenerates the two files and nothing else does.  This runs as make reads
# the file, before deps, so it uses only what every Debian system has
# (mkdir, printf, cmp).
USER_PROGRAM_LIST := $(BUILD)/user/programs.list
USER_PROGRAM_LIST_TEXT := test $(USER_TEST_NAMES)\nbin $(USER_BIN_NAMES)\n
$(shell mkdir -p $(BUILD)/user && { printf '$(USER_PROGRAM_LIST_TEXT)' | cmp -s - $(USER_PROGRAM_LIST) \
	|| printf '$(USER_PROGRAM_LIST_TEXT)' > $(USER_PROGRAM_LIST); })

.PHONY: user-programs
user-programs: $(USER_ELFS) $(USER_PROGRAM_OBJS)

$(BUILD)/user/obj/%.o: %.c | deps
	@mkdir -p $(dir $@)
	@echo "  USER CC $<"
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(BUILD)/user/obj/%.o: %.S | deps
	@mkdir -p $(dir $@)
	@echo "  USER AS $<"
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(USER_LIB): $(USER_LIB_OBJS) | deps
	@echo "  USER AR $@"
	$(Q)rm -f $@ && ar rcs $@ $^

# crt0 comes first and the library last, so the library supplies what the
# program calls (and what crt0 calls: main, then exit).
define user_link
	@echo "  USER LD $@"
	$(Q)$(CC) $(USER_LDFLAGS) -o $@ $(USER_CRT0) $< $(USER_LIB)
endef

$(USER_TEST_ELFS): $(BUILD)/user/%.elf: $(BUILD)/user/obj/tests/user/%.o \
		$(USER_CRT0) $(USER_LIB) user/user.ld | deps
	$(user_link)

$(USER_BIN_ELFS): $(BUILD)/user/%.elf: $(BUILD)/user/obj/user/bin/%.o \
		$(USER_CRT0) $(USER_LIB) user/user.ld | deps
	$(user_link)

# The kernel carries each program without its debugging sections, which
# gdb reads from build/user/NAME.elf: they are most of each file, and an
# image a few MiB larger no longer fits where Mica's loader must put it in
# 160 MiB of RAM (make test's big-efi-160m boot).
USER_CARRIED := $(USER_ELFS:$(BUILD)/user/%.elf=$(BUILD)/user/carried/%.elf)

$(USER_CARRIED): $(BUILD)/user/carried/%.elf: $(BUILD)/user/%.elf | deps
	@mkdir -p $(dir $@)
	$(Q)objcopy --strip-debug $< $@

$(USER_PROGRAMS_S): $(USER_PROGRAM_LIST) tools/gen-programs user/user.mk | deps
	@echo "  GEN     $@"
	$(Q)tools/gen-programs S $(USER_PROGRAM_LIST) $(BUILD)/user/carried > $@.tmp && mv $@.tmp $@

$(USER_PROGRAMS_C): $(USER_PROGRAM_LIST) tools/gen-programs | deps
	@echo "  GEN     $@"
	$(Q)tools/gen-programs c $(USER_PROGRAM_LIST) $(BUILD)/user > $@.tmp && mv $@.tmp $@

# .incbin is invisible to the compiler's dependency files: every ELF is
# named here, so a changed program re-embeds.
$(BUILD)/obj/user/programs.S.o: $(USER_PROGRAMS_S) $(USER_CARRIED) | deps
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/obj/user/programs.c.o: $(USER_PROGRAMS_C) | deps
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

-include $(USER_OBJS:.o=.d) $(USER_PROGRAM_OBJS:.o=.d)

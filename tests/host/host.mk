# Host tests: machine-independent kernel code built for Linux with
# sanitizers (docs/testing.md).  The top-level Makefile includes this file;
# it also works on its own.  Either way, run make from the repository root:
#
#	make -f tests/host/host.mk host-tests
#
# Every tests/host/test_NAME.c becomes the program build/host/test_NAME,
# linked with the kernel sources it tests, which are compiled for the host
# into build/host/obj/.  Those sources are kern/NAME.c or lib/NAME.c unless
# the variable HOST_TEST_SRCS_NAME, set below, lists others.  So a new test
# of kern/foo.c is tests/host/test_foo.c and needs no change here.
#
# host-tests builds and runs every test program and writes their
# concatenated KTAP output to build/test/host.ktap, echoing it too.  A
# failing program does not stop it: its KTAP output carries the failure,
# and build/host/ktap-summary counts it.
#
# The fragment leaves the default goal as it found it, so it can be
# included anywhere in a Makefile.  Its rules come after the deps target
# (tools/install-deps.sh), which the top-level Makefile provides; on its
# own, the fragment brings that target itself.

host_saved_default_goal := $(.DEFAULT_GOAL)

ifeq ($(words $(MAKEFILE_LIST)),1)
.PHONY: deps
deps:
	@tools/install-deps.sh
endif

HOST_CC ?= gcc
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror \
	-fsanitize=address,undefined -fno-omit-frame-pointer -DINVARIANTS -DMICA_HOST -I. -Iinclude \
	-DVM_MAP_NODE_SLOTS=12
# (12-slot map index nodes, not a page's 168: the differential test then
# splits and merges them thousands of times.)

# Tests whose kernel sources are not just kern/NAME.c or lib/NAME.c.
HOST_TEST_SRCS_ktap := tests/harness/ktap.c lib/printf.c
HOST_TEST_SRCS_efi_config := boot/efi/config.c
HOST_TEST_SRCS_efi_elf := boot/efi/elf.c
HOST_TEST_SRCS_bench := lib/bench.c lib/printf.c
HOST_TEST_SRCS_acpi := arch/x86_64/acpi.c
HOST_TEST_SRCS_gdb_packet := debug/gdb_packet.c
HOST_TEST_SRCS_gdbstub := debug/gdbstub.c debug/gdb_packet.c lib/printf.c
# The VM over the kernel's own pmap, on the fake machine of fake_kernel.c.
host_vm_srcs := tests/host/fake_kernel.c arch/x86_64/pmap.c $(wildcard vm/*.c) kern/zone.c \
	kern/kalloc.c kern/lock.c lib/printf.c kern/console.c kern/panic.c
HOST_TEST_SRCS_vm_diff := tests/common/vm_diff.c $(host_vm_srcs)
HOST_TEST_SRCS_vm_map_index := $(host_vm_srcs)

KTAP_SUMMARY_SRCS := tools/ktap-summary.c tests/harness/ktap.c lib/printf.c

HOST_TEST_NAMES := $(patsubst tests/host/test_%.c,%,$(wildcard tests/host/test_*.c))
HOST_TEST_BINS := $(HOST_TEST_NAMES:%=build/host/test_%)

# $(call host_objs,SOURCES): where the host build puts SOURCES' objects.
host_objs = $(patsubst %.c,build/host/obj/%.o,$(1))
# $(call host_test_objs,NAME): every object test_NAME links.
host_test_objs = $(call host_objs,tests/host/test_$(1).c \
	$(or $(HOST_TEST_SRCS_$(1)),$(wildcard kern/$(1).c lib/$(1).c)))

HOST_OBJS := $(sort $(foreach t,$(HOST_TEST_NAMES),$(call host_test_objs,$(t))) \
	$(call host_objs,$(KTAP_SUMMARY_SRCS)))

# Each program's prerequisites are its objects; they all link the same way.
$(foreach t,$(HOST_TEST_NAMES),\
	$(eval build/host/test_$(t): $(call host_test_objs,$(t))))
build/host/ktap-summary: $(call host_objs,$(KTAP_SUMMARY_SRCS))

$(HOST_TEST_BINS) build/host/ktap-summary: | deps
	$(HOST_CC) $(HOST_CFLAGS) $^ -o $@

build/host/obj/%.o: %.c | deps
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

-include $(HOST_OBJS:.o=.d)

.PHONY: host-tests
host-tests: $(HOST_TEST_BINS) | deps
	@mkdir -p build/test
	@for t in $(HOST_TEST_BINS); do ./$$t; done | tee build/test/host.ktap

.DEFAULT_GOAL := $(host_saved_default_goal)

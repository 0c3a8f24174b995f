# The kernel's gdb stub takes over a panic that no trap caused (tools/debug
# --stub, with test=crash_lock_order): gdb stops in panic_end, under the
# lock-order check that panicked.  Run by tests/run-all, which checks the
# transcript.
continue
bt 6
continue

# The kernel's gdb stub takes over a panic (tools/debug --stub, with
# test=crash_page_fault): gdb sees the faulting instruction and its callers
# before the machine goes.  Run by tests/run-all, which checks the transcript.
continue
bt 3
x/i $pc
continue

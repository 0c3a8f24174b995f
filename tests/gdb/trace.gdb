# mica-trace from a user test's first system call back to user mode
# (tests/run-all checks that it counts the call's functions and ends there).
tbreak syscall_dispatch
continue
mica-trace 20000

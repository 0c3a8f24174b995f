# Let the kernel run to its end under the stub (tests/run-all checks the
# serial output: the stub must leave the tests' own traps to them).
continue

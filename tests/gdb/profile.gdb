# mica-profile on a kernel running its user tests (tests/run-all checks
# that it samples, and names kernel functions with their callers).
tbreak usertest_run
continue
mica-profile 30 5

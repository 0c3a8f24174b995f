# A batch session against QEMU's gdbstub (tools/debug --batch), run by
# tests/run-all: from kernel_main to the demo's vm_write through its task
# port, then each of tools/gdb/mica.py's commands.  tests/run-all checks
# the transcript.
tbreak serve_vm_write
continue
break vm_write
continue
bt
mica-tasks
mica-vmmap demo_target
mica-pte 0x7fffffffe000 demo_target
mica-pte kernel_main
mica-ports demo_writer
mica-bt demo_target
mica-log 2000

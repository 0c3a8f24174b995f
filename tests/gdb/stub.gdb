# A batch session against the kernel's own gdb stub on COM2 (tools/debug
# --stub --batch), run by tests/run-all, which checks the transcript.  gdb
# starts where the boot option `gdb` made the kernel wait for it.
bt
info registers rip cs ss eflags
# a register written from gdb reaches the stopped context: read back after a step
set $rax = 0x5ca1ab1e
set var boot_options.seed = 0x5eed5eed
stepi
info registers rip
p/x $rax
p/x boot_options.seed
x/2i kernel_main
# a breakpoint planted in read-only kernel text
break vm_map_bootstrap
continue
bt
delete
tbreak serve_vm_write
continue
break vm_write
continue
bt
mica-tasks
mica-pte 0x7fffffffe000 demo_target
finish
delete
continue

# A batch session against QEMU's gdbstub (tools/debug --batch), run by
# tests/run-all with the wait suite: stopped as it terminates a task whose
# four threads are blocked in mach_msg, mica-tasks says what each waits
# for, and mica-bt finds one asleep in thread_block.
break task_terminate
continue
mica-tasks
mica-bt task

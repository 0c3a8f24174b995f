"""Mica-aware gdb commands: tasks, maps, page-table entries, ports, the log, backtraces, a profiler,
and a tracer that counts a path's instructions.

Loaded by tools/debug (make debug).  Each command reads Mica's own
structures through gdb's Python API, so it works on a kernel stopped at a
breakpoint by QEMU's gdbstub.  A TASK argument is a task id, a task's name,
or a gdb expression for a struct task *.
"""

import collections
import os
import signal
import threading

import gdb

DMAP_BASE = 0xFFFF800000000000           # all of RAM at DMAP_BASE + phys (arch/x86_64/layout.h)
KERNEL_TEXT_MIN = 0xFFFFFFFF80000000     # the kernel image is linked above this
ADDR_MASK = 0x000FFFFFFFFFF000
PTE_BITS = (("P", 0), ("RW", 1), ("US", 2), ("A", 5), ("D", 6), ("PS", 7), ("G", 8), ("NX", 63))
LEVELS = (("PML4", 39), ("PDPT", 30), ("PD", 21), ("PT", 12))
RIGHTS = (("send", 16), ("receive", 17), ("send-once", 18), ("port-set", 19), ("dead", 20))


def tasks():
    """Every live task, newest first (kern/task.c's all_tasks list)."""
    t = gdb.parse_and_eval("all_tasks")
    while int(t) != 0:
        yield t
        t = t["all_next"]


def task_name(t):
    return t["name"].string()


def find_task(arg):
    """The struct task * arg names: an id, a name, or an expression."""
    arg = arg.strip()
    for t in tasks():
        if arg == task_name(t) or (arg.isdigit() and int(t["id"]) == int(arg)):
            return t
    try:
        return gdb.parse_and_eval(arg).cast(gdb.lookup_type("struct task").pointer())
    except gdb.error:
        raise gdb.GdbError(f"no task {arg!r}: give an id, a name or a struct task *")


def prot(p):
    p = int(p)
    return ("r" if p & 1 else "-") + ("w" if p & 2 else "-") + ("x" if p & 4 else "-")


def read_u64(addr):
    return int.from_bytes(gdb.selected_inferior().read_memory(addr, 8).tobytes(), "little")


def read_phys_u64(phys):
    """Eight bytes of physical memory, read through the kernel's direct map."""
    try:
        return read_u64(DMAP_BASE + phys)
    except gdb.MemoryError:
        raise gdb.GdbError("the direct map is not there yet: stop later than pmap_bootstrap")


def wait_text(th):
    """What a waiting thread waits for (kern/sched.h's assert_wait): the
    words its wait gave, the event's address (and the task it is, if one
    is), and its deadline in clock_ns() if it has one; "" if it does not
    wait."""
    if str(th["state"]) != "THREAD_WAITING" or int(th["wait_event"]) == 0:
        return ""
    event = int(th["wait_event"])
    what = th["wait_what"].string() if int(th["wait_what"]) != 0 else "event"
    text = f" for {what} {event:#x}"
    for t in tasks():
        if int(t) == event:
            text += f" (task {int(t['id'])} {task_name(t)})"
    deadline = int(th["wait_deadline"])
    if deadline:
        text += f", until {deadline} ns"
    return text


def cpu_text(th):
    """The CPU a thread runs on, or last ran on (kern/thread.h's running
    and last_cpu); "" for one that never ran."""
    if bool(th["running"]):
        return f"; on CPU {int(th['last_cpu'])}"
    if int(th["switches"]) == 0:
        return ""
    return f"; last ran on CPU {int(th['last_cpu'])}"


class MicaTasks(gdb.Command):
    """mica-tasks: every task with its id, threads and their states, what
    each waiting thread waits for, and the CPU each runs or last ran on."""

    def __init__(self):
        super().__init__("mica-tasks", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        for t in tasks():
            flags = " terminated" if bool(t["terminated"]) else ""
            print(f"task {int(t['id'])} {task_name(t)} ({int(t['thread_count'])} threads, "
                  f"suspended {int(t['suspend_count'])}){flags} at {int(t):#x}")
            th = t["threads"]
            while int(th) != 0:
                print(f"    thread {int(th['id'])} {th['name'].string()}: {th['state']}"
                      f"{wait_text(th)}{cpu_text(th)}")
                th = th["task_next"]


class MicaVmmap(gdb.Command):
    """mica-vmmap TASK: the task's map entries: range, prot/max, inheritance, object, resident pages."""

    def __init__(self):
        super().__init__("mica-vmmap", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        t = find_task(arg) if arg.strip() else next(tasks())
        vm_map = t["map"]
        if int(vm_map) == 0:
            raise gdb.GdbError(f"task {task_name(t)} has no map (it ended)")
        header = vm_map["header"].address
        e = vm_map["header"]["next"]
        print(f"task {int(t['id'])} {task_name(t)}: {int(vm_map['nentries'])} entries")
        while int(e) != int(header):
            obj = e["object"]
            resident = int(obj["resident_count"]) if int(obj) else 0
            print(f"  {int(e['start']):#018x}-{int(e['end']):#018x} {prot(e['protection'])}/"
                  f"{prot(e['max_protection'])} inherit {int(e['inheritance'])} "
                  f"object {int(obj):#x} resident {resident}"
                  f"{' needs-copy' if bool(e['needs_copy']) else ''}"
                  f"{' wired' if int(e['wired_count']) else ''}")
            e = e["next"]


class MicaPte(gdb.Command):
    """mica-pte EXPR [TASK]: the four-level walk for the address EXPR, each entry's bits named."""

    def __init__(self):
        super().__init__("mica-pte", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        words = gdb.string_to_argv(arg)
        if not words:
            raise gdb.GdbError("usage: mica-pte EXPR [TASK]")
        value = gdb.parse_and_eval(words[0])
        if value.type.code == gdb.TYPE_CODE_FUNC:
            value = value.address                    # a function stands for its first byte
        va = int(value) & 0xFFFFFFFFFFFFFFFF
        if len(words) > 1:
            table = int(find_task(words[1])["map"]["pmap"]["pml4_pa"])
        else:
            table = int(gdb.parse_and_eval("kernel_pmap")["pml4_pa"])
        print(f"{va:#018x}: PML4 index {(va >> 39) & 511}, PDPT {(va >> 30) & 511}, "
              f"PD {(va >> 21) & 511}, PT {(va >> 12) & 511}")
        for level, shift in LEVELS:
            slot = table + ((va >> shift) & 511) * 8
            pte = read_phys_u64(slot)
            bits = " ".join(f"{name}={(pte >> bit) & 1}" for name, bit in PTE_BITS)
            print(f"  {level:4} entry at phys {slot:#x}: {pte:#018x}  {bits}")
            if not pte & 1:
                print("  not present")
                return
            if level != "PT" and pte & 0x80:
                print(f"  a {1 << shift >> 10} KiB page at phys {pte & ADDR_MASK:#x}")
                return
            table = pte & ADDR_MASK
        print(f"  a 4 KiB page at phys {table:#x}")


def table_shape(name, default):
    """A constant of enum ipc_table_shape, or its value today if the kernel's
    debug information left the enum out."""
    try:
        return int(gdb.parse_and_eval(name))
    except gdb.error:
        return default


def space_entries(space):
    """Every slot of the space's table, walking its tree of pages (ipc/ipc_space.h)."""
    top = space["top"]
    if int(top) == 0:
        return
    mids, leaves, entries = (table_shape(name, default) for name, default in
                             (("IPC_TOP_MIDS", 256), ("IPC_MID_LEAVES", 512),
                              ("IPC_LEAF_ENTRIES", 64)))
    for m in range(mids):
        mid = top[m]
        for l in range(leaves if int(mid) else 0):
            leaf = mid[l]
            for i in range(entries if int(leaf) else 0):
                yield leaf[i]


class MicaPorts(gdb.Command):
    """mica-ports TASK: the task's IPC space: each name, its rights and its port."""

    def __init__(self):
        super().__init__("mica-ports", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        t = find_task(arg) if arg.strip() else next(tasks())
        space = t["space"]
        if int(space) == 0:
            raise gdb.GdbError(f"task {task_name(t)} has no space (it ended)")
        print(f"task {int(t['id'])} {task_name(t)}: space at {int(space):#x}")
        for e in space_entries(space):
            kind = int(e["type"])
            if kind == 0:
                continue
            rights = ",".join(n for n, bit in RIGHTS if kind >> bit & 1)
            port = e["port"]
            what = ""
            if int(port):
                what = f" port {int(port):#x} {port['kotype']}"
                what += "" if bool(port["active"]) else " (dead)"
            print(f"  name {int(e['name']):#x}: {rights} urefs "
                  f"{int(e['urefs'])}{what}")


def find_thread(arg):
    """The struct thread * arg names: a user thread's id, a task's name (its
    first thread), or an expression."""
    arg = arg.strip()
    for t in tasks():
        th = t["threads"]
        if arg == task_name(t) and int(th) != 0:
            return th
        while int(th) != 0:
            if arg.isdigit() and int(th["id"]) == int(arg):
                return th
            th = th["task_next"]
    try:
        return gdb.parse_and_eval(arg).cast(gdb.lookup_type("struct thread").pointer())
    except gdb.error:
        raise gdb.GdbError(f"no thread {arg!r}: give a thread id, a task name or a struct thread *")


def describe_pc(pc):
    """function+offset (file:line) for a return address.  The call that
    made it lies at pc - 1, so that is the byte looked up (the return
    address can already be the first byte of the next line, or of an
    inlined function); the function named is the real one the code lies
    in, not an inlined body inside it."""
    block = gdb.block_for_pc(pc - 1)
    function = None
    while block is not None and not block.is_static and not block.is_global:
        if block.function is not None:
            function = block               # inlined bodies nest inside the real function
        block = block.superblock
    if function is None:                         # assembly: only a symbol to go by
        sym = gdb.execute(f"info symbol {pc:#x}", to_string=True).strip()
        return f"{pc:#x}" if sym.startswith("No symbol") else sym
    where = gdb.find_pc_line(pc - 1)
    line = f" ({where.symtab.filename}:{where.line})" if where.symtab else ""
    return f"{function.function.name}+{pc - function.start:#x}{line}"


class MicaLog(gdb.Command):
    """mica-log [N]: the last N bytes (all it holds by default) of the kernel log ring."""

    def __init__(self):
        super().__init__("mica-log", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        ring = gdb.parse_and_eval("log_ring")
        size = ring.type.sizeof
        written = int(gdb.parse_and_eval("log_written"))
        n = min(written, size, int(arg) if arg.strip() else size)
        base = int(ring.address)
        data = bytes(gdb.selected_inferior().read_memory(base, size))
        text = bytes(data[(written - n + i) % size] for i in range(n))
        print(text.decode(errors="replace"), end="" if text.endswith(b"\n") else "\n")


class MicaBt(gdb.Command):
    """mica-bt THREAD: the backtrace of a thread that is not running, from
    what switch_context saved (THREAD: an id, a task's name, or a struct
    thread *)."""

    def __init__(self):
        super().__init__("mica-bt", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        th = find_thread(arg)
        if str(th["state"]) == "THREAD_RUNNING":
            raise gdb.GdbError("that thread is running: use bt")
        rsp = int(th["md"]["rsp"])
        # switch_context pushed rbp, rbx, r12-r15 under its return address
        rbp, pc = read_u64(rsp + 40), read_u64(rsp + 48)
        print(f"thread {int(th['id'])} {th['name'].string()} ({th['state']}){wait_text(th)}:")
        for depth in range(64):
            print(f"  #{depth} {pc:#x} {describe_pc(pc)}")
            if rbp == 0 or pc < KERNEL_TEXT_MIN:
                break                        # the outermost frame, or no longer kernel code
            try:
                rbp, pc = read_u64(rbp), read_u64(rbp + 8)
            except gdb.MemoryError:
                print("  (the frame chain goes on into unreadable memory: an assembly frame)")
                break
            if pc < KERNEL_TEXT_MIN:
                break




class MicaProfile(gdb.Command):
    """mica-profile [SAMPLES [MS [TOP]]]: sample where the running kernel spends its time.

    Lets the kernel run MS milliseconds (default 10), stops it, notes the
    function it stopped in and every function on its stack, SAMPLES times
    (default 500), then prints the functions by own time (flat) and by
    time spent in them or their callees (inclusive), TOP lines each
    (default 25).  It stops the kernel from outside, so code that runs
    with interrupts off is sampled too,
    which the kernel's own clock tick could not do.  Each stop costs the
    kernel nothing it can see; the run takes about SAMPLES * MS ms plus the
    stops' own cost."""

    def __init__(self):
        super().__init__("mica-profile", gdb.COMMAND_USER)

    @staticmethod
    def sample():
        """The innermost frame's name, and the set of names on the stack."""
        frame = gdb.newest_frame()
        pc = frame.pc()
        own = frame.name() or ("(user)" if pc < KERNEL_TEXT_MIN else f"{pc:#x}")
        stack = set()
        for _ in range(64):
            if frame is None:
                break
            if frame.name():
                stack.add(frame.name())
            try:
                frame = frame.older()
            except gdb.error:
                break
        return own, stack

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        samples = int(args[0]) if args else 500
        period = float(args[1]) / 1000 if len(args) > 1 else 0.01
        top = int(args[2]) if len(args) > 2 else 25
        flat, inclusive = collections.Counter(), collections.Counter()
        for _ in range(samples):
            # gdb stops the target on SIGINT, as for Ctrl-C
            timer = threading.Timer(period, os.kill, (os.getpid(), signal.SIGINT))
            timer.start()
            try:
                gdb.execute("continue", to_string=True)
            except gdb.error:
                timer.cancel()
                break                        # the kernel ended
            timer.join()
            own, stack = self.sample()
            flat[own] += 1
            inclusive.update(stack)
        total = sum(flat.values())
        if total == 0:
            raise gdb.GdbError("no samples: the kernel did not run")
        print(f"{total} samples, every {period * 1000:g} ms")
        for title, counts in (("own time", flat), ("with callees", inclusive)):
            print(f"  {title}:")
            for name, n in counts.most_common(top):
                print(f"    {100.0 * n / total:5.1f}%  {n:5}  {name}")


class MicaTrace(gdb.Command):
    """mica-trace [MAX]: count, function by function, the instructions of a path through the kernel.

    Single-steps the stopped CPU from where it stands (a breakpoint on
    wait_timed_out, say, or on syscall_entry) until it is back in user mode,
    or for MAX instructions (default 20000), then prints how many
    instructions each function ran, most first, and the order in which the
    functions ran, each with its count: the path a benchmark's one
    operation takes, exactly, where the profiler gives only shares.  QEMU
    takes no interrupt during a single step, so the path is the one the
    kernel runs when none arrives.  About a millisecond a step."""

    def __init__(self):
        super().__init__("mica-trace", gdb.COMMAND_USER)

    @staticmethod
    def function_at(pc, names):
        """The name of the function holding pc (an assembly stub's symbol), remembered in names."""
        name = names.get(pc)
        if name is None:
            block = gdb.block_for_pc(pc)
            while block is not None and block.function is None:
                block = block.superblock
            if block is not None:
                name = block.function.name
            else:
                words = gdb.execute(f"info symbol {pc:#x}", to_string=True).split()
                name = words[0] if words and words[0] != "No" else f"{pc:#x}"
            names[pc] = name
        return name

    def invoke(self, arg, from_tty):
        args = gdb.string_to_argv(arg)
        limit = int(args[0]) if args else 20000
        names, counts, runs = {}, collections.Counter(), []
        steps = 0
        while steps < limit and int(gdb.parse_and_eval("$cs")) & 3 == 0:
            name = self.function_at(int(gdb.parse_and_eval("$pc")), names)
            counts[name] += 1
            if runs and runs[-1][0] == name:
                runs[-1][1] += 1
            else:
                runs.append([name, 1])
            steps += 1
            gdb.execute("stepi", to_string=True)
        back = "back in user mode" if steps < limit else f"stopped after {limit}"
        print(f"{steps} instructions, {back}")
        for name, n in counts.most_common():
            print(f"{n:7d}  {name}")
        print("in order: " + " ".join(f"{name}:{n}" for name, n in runs))


MicaTasks()
MicaVmmap()
MicaPte()
MicaPorts()
MicaLog()
MicaBt()
MicaProfile()
MicaTrace()

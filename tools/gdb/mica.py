"""Mica-aware gdb commands: tasks, maps, page-table entries and ports.

Loaded by tools/debug (make debug).  Each command reads Mica's own
structures through gdb's Python API, so it works on a kernel stopped at a
breakpoint by QEMU's gdbstub.  A TASK argument is a task id, a task's name,
or a gdb expression for a struct task *.
"""

import gdb

DMAP_BASE = 0xFFFF800000000000           # all of RAM at DMAP_BASE + phys (arch/x86_64/layout.h)
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


def read_phys_u64(phys):
    """Eight bytes of physical memory, read through the kernel's direct map."""
    try:
        data = gdb.selected_inferior().read_memory(DMAP_BASE + phys, 8)
    except gdb.MemoryError:
        raise gdb.GdbError("the direct map is not there yet: stop later than pmap_bootstrap")
    return int.from_bytes(data.tobytes(), "little")


class MicaTasks(gdb.Command):
    """mica-tasks: every task with its id, threads and their states."""

    def __init__(self):
        super().__init__("mica-tasks", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        for t in tasks():
            flags = " terminated" if bool(t["terminated"]) else ""
            print(f"task {int(t['id'])} {task_name(t)} ({int(t['thread_count'])} threads, "
                  f"suspended {int(t['suspend_count'])}){flags} at {int(t):#x}")
            th = t["threads"]
            while int(th) != 0:
                print(f"    thread {int(th['id'])} {th['name'].string()}: {th['state']}")
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
        for i in range(1, int(space["size"])):
            e = space["table"][i]
            kind = int(e["type"])
            if kind == 0:
                continue
            rights = ",".join(n for n, bit in RIGHTS if kind >> bit & 1)
            port = e["port"]
            what = ""
            if int(port):
                what = f" port {int(port):#x} {port['kotype']}"
                what += "" if bool(port["active"]) else " (dead)"
            print(f"  name {(i << 8) | (int(e['gen']) & 0xff):#x}: {rights} urefs "
                  f"{int(e['urefs'])}{what}")


MicaTasks()
MicaVmmap()
MicaPte()
MicaPorts()

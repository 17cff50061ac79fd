# SPDX-License-Identifier: MIT
# gdb's helper for `elfvm run --gdb` (docs/debugging.md), copied beside
# elfvm as elfvm-gdb.py and sourced by the command file tools/gdb.c writes.
# It keeps the symbols of the shared libraries right by following the
# dynamic linker's r_debug link map (glibc's and musl's share its layout)
# from an internal breakpoint on _dl_debug_state, and it shows the
# program's threads, which QEMU's stub cannot: it sees one vCPU, so the
# threads are read from the kernel's own list (kernel/sched.c) through the
# kernel's symbols.  It sets nothing else: the command file does.
import os
import struct

import gdb
import gdb.unwinder

KSTACK_SIZE = 32768  # kernel/kernel.h: a thread's user registers sit at its top
USER_TOP = 1 << 47  # the program's half of the address space
PT_LOAD, PT_DYNAMIC = 1, 2
DT_DEBUG = 21
SHT_SYMTAB, SHT_DYNSYM = 2, 11
THREAD_STATES = {0: "runnable", 1: "sleeping", 2: "dead"}


class _Elf:
    """The few facts of a host ELF file the helper needs."""

    def __init__(self, path):
        with open(path, "rb") as f:
            d = f.read()
        if d[:4] != b"\x7fELF" or d[4] != 2:
            raise ValueError(path + ": not a 64-bit ELF file")
        (phoff, shoff) = struct.unpack_from("<QQ", d, 0x20)
        (phnum,) = struct.unpack_from("<H", d, 0x38)
        (shnum,) = struct.unpack_from("<H", d, 0x3C)
        self.phdrs = []
        for i in range(phnum):
            t, flags, off, vaddr, _, filesz, memsz, _ = struct.unpack_from("<IIQQQQQQ", d, phoff + 56 * i)
            self.phdrs.append((t, flags, vaddr, memsz))
        self.data = d
        self.shoff, self.shnum = shoff, shnum
        self._syms = None

    def symbol(self, name):
        if self._syms is None:
            self._syms = {}
            d = self.data
            sh = [struct.unpack_from("<IIQQQQIIQQ", d, self.shoff + 64 * i) for i in range(self.shnum)]
            for s in sh:
                if s[1] not in (SHT_SYMTAB, SHT_DYNSYM) or s[6] >= len(sh):
                    continue
                stroff = sh[s[6]][4]
                for j in range(s[5] // 24):
                    st_name, _, _, _, value, _ = struct.unpack_from("<IBBHQQ", d, s[4] + 24 * j)
                    if value:
                        end = d.index(b"\0", stroff + st_name)
                        self._syms.setdefault(d[stroff + st_name : end].decode("latin-1"), value)
        return self._syms.get(name)

    def dynamic(self):
        return next((p[2] for p in self.phdrs if p[0] == PT_DYNAMIC), None)

    def text(self):
        return next((p[2] for p in self.phdrs if p[0] == PT_LOAD and p[1] & 1), 0)


class _State:
    kvm = 0
    exe = None  # (path, bias)
    interp = None
    dying = None  # (struct regs address, signal) at elfvm_gdb_signal
    known = {}  # realpath -> (guest path, bias, text address) of added libraries
    fixed = set()  # realpaths of the program and its interpreter
    subst = {}  # guest path -> host path, where the image's file is not the host's


def _read(addr, n):
    return gdb.selected_inferior().read_memory(addr, n).tobytes()


def _u64(addr):
    return struct.unpack("<Q", _read(addr, 8))[0]


def _string(addr):
    """A NUL-terminated string, read a page at most at a time: the next page
    may not be mapped (a name at the very top of the stack)."""
    out = b""
    while len(out) < 4096:
        a = addr + len(out)
        chunk = _read(a, min(64, 4096 - (a & 4095)))
        if b"\0" in chunk:
            return (out + chunk[: chunk.index(b"\0")]).decode("utf-8", "replace")
        out += chunk
    return out.decode("utf-8", "replace")


def _host_path(path):
    """The host file holding the image's file at guest path path."""
    real = os.path.realpath(path)
    return _State.subst.get(path) or _State.subst.get(real) or path


def _r_debug():
    """The dynamic linker's r_debug: the program's DT_DEBUG, which glibc and
    musl both fill in."""
    path, bias = _State.exe
    dyn = _Elf(path).dynamic()
    if dyn is None:
        return 0
    a = bias + dyn
    for _ in range(512):
        tag, val = struct.unpack("<QQ", _read(a, 16))
        if tag == 0:
            return 0
        if tag == DT_DEBUG:
            return val
        a += 16
    return 0


def elfvm_sync_libraries(verbose=False):
    """Adds the symbols of every library in the link map not yet known and
    removes those no longer in it.  Returns what changed, as text."""
    try:
        rd = _r_debug()
        if not rd or struct.unpack("<i", _read(rd + 24, 4))[0] != 0:  # r_state: RT_CONSISTENT
            return ""
        lm = _u64(rd + 8)  # r_map
    except gdb.MemoryError:
        return ""
    seen, said = set(), []
    for _ in range(4096):
        if not lm:
            break
        l_addr, l_name, _, l_next = struct.unpack("<QQQQ", _read(lm, 32))
        name = _host_path(_string(l_name)) if l_name else ""
        lm = l_next
        if not name or not os.path.isfile(name):  # the program itself, the vDSO
            continue
        real = os.path.realpath(name)
        seen.add(real)
        if real in _State.fixed or real in _State.known:
            continue
        try:
            text = l_addr + _Elf(name).text()
        except (OSError, ValueError) as e:
            said.append("elfvm: %s" % e)
            continue
        gdb.execute("add-symbol-file \"%s\" -o 0x%x" % (name, l_addr), to_string=True)
        _State.known[real] = (name, l_addr, text)
        said.append("elfvm: symbols of %s at 0x%x" % (name, l_addr))
    for real in [r for r in _State.known if r not in seen]:
        name, l_addr, text = _State.known.pop(real)
        gdb.execute("remove-symbol-file -a 0x%x" % text, to_string=True)
        said.append("elfvm: symbols of %s removed (unloaded)" % name)
    return "\n".join(said)


class _SolibBreakpoint(gdb.Breakpoint):
    """_dl_debug_state: the dynamic linker calls it around every change of
    the link map.  It never stops the program."""

    def stop(self):
        try:
            said = elfvm_sync_libraries()
        except (gdb.error, ValueError, OSError) as e:
            said = "elfvm: reading the link map: %s" % e
        if said and gdb.parameter("verbose"):
            print(said)
        return False


SIGNAL_NAMES = {1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS"}


class _SignalBreakpoint(gdb.Breakpoint):
    """The kernel's elfvm_gdb_signal (kernel/signal.c): the program is about
    to die of a signal.  Stops, and the stop handler shows where."""

    def stop(self):
        _State.dying = (int(gdb.parse_and_eval("$rdi")) & (2**64 - 1), int(gdb.parse_and_eval("$esi")))
        return True


def _on_stop(event):
    bps = getattr(event, "breakpoints", None) or []
    if not _State.dying or not any(isinstance(b, _SignalBreakpoint) for b in bps):
        return
    r, sig = _State.dying
    _State.dying = None
    tid = int(gdb.parse_and_eval("'sched.c'::current->tid"))
    regs = gdb.parse_and_eval("(struct regs *)0x%x" % r).dereference()
    pc = int(regs["rip"]) & (2**64 - 1)
    print("\nProgram received signal %s (%d) in thread %d at 0x%x in %s; the kernel ends it on continue." % (SIGNAL_NAMES.get(sig, "signal"), sig, tid, pc, _where(pc)))
    print("Its frames (elfvm-thread %d COMMAND [; COMMAND...] looks further):" % tid)
    _run_with_regs({n: int(regs[n]) & (2**64 - 1) for n in REGS}, "bt", False)


class _FrameId:
    def __init__(self, sp, pc):
        self.sp, self.pc = sp, pc


ERROR_CODE_VECTORS = (8, 10, 11, 12, 13, 14, 17, 21, 29, 30)  # entry.S has_err


class _KernelEntryUnwinder(gdb.unwinder.Unwinder):
    """The first instruction of the kernel's ways in from the program,
    where a single step lands when the stepped instruction enters the
    kernel: syscall_entry (its caller is the program at %rcx, the return
    address `syscall` left there, every other register as it was) and a
    vector stub of an exception or interrupt (the program at the rip and
    rsp the CPU pushed, after the error code of some vectors).  With it
    and `skip function` of both, `next` and `step` wait for the kernel to
    return to the program, and `finish` from there goes back to it."""

    def __init__(self, syscall_entry, vector_stubs):
        super().__init__("elfvm-kernel-entry")
        self.syscall_entry, self.vector_stubs = syscall_entry, vector_stubs

    def __call__(self, pending):
        rip = pending.read_register("rip")
        pc = int(rip) & (2**64 - 1)
        rsp = pending.read_register("rsp")
        if pc == self.syscall_entry:
            caller_rip, caller_rsp = pending.read_register("rcx"), rsp
        elif self.vector_stubs is not None and 0 <= pc - self.vector_stubs < 256 * 16 and pc % 16 == 0:
            vec = (pc - self.vector_stubs) // 16
            base = (int(rsp) & (2**64 - 1)) + (8 if vec in ERROR_CODE_VECTORS else 0)
            try:
                caller_rip, caller_rsp = _u64(base), _u64(base + 24)
            except gdb.MemoryError:
                return None
            if caller_rip >= USER_TOP:  # the kernel interrupted: not ours
                return None
            ptr = gdb.lookup_type("long")
            caller_rip, caller_rsp = gdb.Value(caller_rip).cast(ptr), gdb.Value(caller_rsp).cast(ptr)
        else:
            return None
        info = pending.create_unwind_info(_FrameId(rsp, rip))  # gdb.Values: a kernel pc overflows a long
        info.add_saved_register("rip", caller_rip)
        info.add_saved_register("rsp", caller_rsp)
        for r in ("rbx", "rbp", "r12", "r13", "r14", "r15"):
            info.add_saved_register(r, pending.read_register(r))
        return info


def _kernel_entry_steps():
    addr = {}
    for name in ("syscall_entry", "vector_stubs"):
        try:
            addr[name] = int(gdb.parse_and_eval("(long)&%s" % name)) & (2**64 - 1)
            gdb.execute("skip function %s" % name, to_string=True)
        except gdb.error:
            addr[name] = None
    gdb.unwinder.register_unwinder(None, _KernelEntryUnwinder(addr["syscall_entry"], addr["vector_stubs"]), replace=True)


def elfvm_gdb_start(kvm, loads, subst):
    """Called by the command file: loads = [(path, bias)] of the program
    and its interpreter as the loader placed them (@@gdb load, host paths);
    subst maps the guest paths whose host file is elsewhere."""
    _State.kvm = kvm
    _State.subst = subst
    kind = gdb.BP_HARDWARE_BREAKPOINT if kvm else gdb.BP_BREAKPOINT
    try:
        _SignalBreakpoint("*(long)&'signal.c'::elfvm_gdb_signal", type=kind, internal=True)
        gdb.events.stop.connect(_on_stop)
    except gdb.error as e:  # a kernel without it, or without symbols
        print("elfvm: no stop where the program dies of a signal: %s" % e)
    _kernel_entry_steps()
    _State.exe = loads[0]
    _State.fixed = set(os.path.realpath(p) for p, _ in loads)
    if len(loads) < 2:
        return  # a static program: no link map to follow
    _State.interp = loads[1]
    path, bias = loads[1]
    try:
        addr = _Elf(path).symbol("_dl_debug_state")
    except (OSError, ValueError):
        addr = None
    if addr is None:
        print("elfvm: %s has no _dl_debug_state: shared libraries get no symbols" % path)
        return
    _SolibBreakpoint("*0x%x" % (bias + addr), type=kind, internal=True)
    # Attached again, later: the libraries already loaded.
    said = elfvm_sync_libraries()
    if said and gdb.parameter("verbose"):
        print(said)


# ---- threads -------------------------------------------------------------

REGS = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"]


def _threads():
    t = gdb.parse_and_eval("'sched.c'::all")
    while int(t):
        yield t.dereference()
        t = t["all_next"]


def _thread_regs(t):
    """The program registers of thread t: the CPU's when t runs program
    code now, else those saved at the top of its kernel stack (a syscall,
    an interrupt, a new thread: kernel/sched.c, traps.c)."""
    current = gdb.parse_and_eval("'sched.c'::current")
    frame = gdb.newest_frame()
    pc = int(frame.read_register("rip"))
    if int(current) == int(t.address) and pc < USER_TOP:
        return None
    regs = gdb.parse_and_eval("(struct regs *)(%d + %d) - 1" % (int(t["kstack"]), KSTACK_SIZE)).dereference()
    return {r: int(regs[r]) & (2**64 - 1) for r in REGS}


def _where(pc):
    trace = gdb.parameter("trace-commands")
    gdb.execute("set trace-commands off", to_string=True)  # no echo of our own command
    try:
        s = gdb.execute("info symbol 0x%x" % pc, to_string=True).strip()
    finally:
        if trace:
            gdb.execute("set trace-commands on", to_string=True)
    if s.startswith("No symbol"):
        return "??"
    s = s.replace(" in section .text", "")
    return s


def _run_with_regs(regs, cmd, from_tty):
    """Runs cmd (commands separated by " ; ") with regs (None: the CPU's
    own) in the CPU, then puts the CPU's own back."""
    cmds = [c.strip() for c in cmd.split(" ; ") if c.strip()]
    if regs is None:
        for c in cmds:
            gdb.execute(c, from_tty)
        return
    frame = gdb.newest_frame()
    saved = {r: int(frame.read_register(r)) & (2**64 - 1) for r in REGS}
    try:
        _set_regs(regs)
        for c in cmds:
            gdb.execute(c, from_tty)
    finally:
        _set_regs(saved)


def _set_regs(regs):
    # $rip and friends are frame 0's only when frame 0 is selected (a
    # command may have selected another frame).
    gdb.newest_frame().select()
    for r in REGS:
        gdb.execute("set $%s = 0x%x" % (r, regs[r]), to_string=True)
    gdb.newest_frame().select()


class ThreadsCommand(gdb.Command):
    """elfvm-threads: every program thread of the VM with its tid, state,
    name and the function it is in (from its saved user registers).
    `elfvm-thread TID [COMMAND]` runs COMMAND (default bt) in it."""

    def __init__(self):
        super().__init__("elfvm-threads", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        current = int(gdb.parse_and_eval("'sched.c'::current"))
        print("  TID  STATE     NAME             PC                  WHERE")
        for t in sorted(_threads(), key=lambda t: int(t["tid"])):
            if bool(t["kernel"]):
                continue
            regs = _thread_regs(t)
            pc = int(gdb.newest_frame().read_register("rip")) if regs is None else regs["rip"]
            running = int(t.address) == current
            state = "running" if running else THREAD_STATES.get(int(t["state"]), str(int(t["state"])))
            comm = t["comm"].string(length=16).split("\0")[0]
            print("%s%4d  %-8s  %-15s  0x%016x  %s" % ("*" if running else " ", int(t["tid"]), state, comm, pc, _where(pc)))


class ThreadCommand(gdb.Command):
    """elfvm-thread TID [COMMAND [; COMMAND...]]: runs the commands (default:
    bt) with the registers of program thread TID in the CPU, then puts the
    CPU's own back, so that continuing is safe.  e.g. elfvm-thread 2 bt
    full, elfvm-thread 1 frame 1 ; info locals."""

    def __init__(self):
        super().__init__("elfvm-thread", gdb.COMMAND_STACK)

    def invoke(self, arg, from_tty):
        words = arg.split(None, 1)
        if not words or not words[0].isdigit():
            raise gdb.GdbError("usage: elfvm-thread TID [COMMAND]")
        tid, cmd = int(words[0]), words[1] if len(words) > 1 else "bt"
        t = next((t for t in _threads() if int(t["tid"]) == tid and not bool(t["kernel"])), None)
        if t is None:
            raise gdb.GdbError("no program thread %d (elfvm-threads lists them)" % tid)
        _run_with_regs(_thread_regs(t), cmd, from_tty)


class LibrariesCommand(gdb.Command):
    """elfvm-libs: reads the link map now and lists the libraries whose
    symbols are loaded, with their load bias."""

    def __init__(self):
        super().__init__("elfvm-libs", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        said = elfvm_sync_libraries()
        if said:
            print(said)
        for p, b in [_State.exe, _State.interp] if _State.interp else [_State.exe]:
            print("0x%016x  %s" % (b, p))
        for name, l_addr, _ in _State.known.values():
            print("0x%016x  %s" % (l_addr, name))


ThreadsCommand()
ThreadCommand()
LibrariesCommand()

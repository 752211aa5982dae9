"""The grading child: the only place a student's code runs.

It runs in its own process (forked from a server that preloaded torch, transformers, the course
library and the encoder), in a fresh folder that holds nothing but a copy of the submission,
with a memory limit (``RLIMIT_AS``), a file-size limit, a pids limit (a cgroup when the machine
offers one, else ``RLIMIT_NPROC`` for non-root users), at most 64 threads, and, from the moment
student code starts, the in-process guard of :mod:`ctxembed_instructor.grading.guard` (audit hooks that
refuse writes outside the folder, sockets, processes, protected and foreign reads; a snapshot of
the interpreter restored before the hidden tests run). In ``bwrap`` mode all of this runs inside
a bubblewrap sandbox (read-only filesystem but the worker's scratch folder, no network, own PID
namespace); see :mod:`ctxembed_instructor.grading.sandbox`.

It never sees a test's expected output. Grading is in two phases over a message channel:

1. the child runs the notebook's code cells and reports each cell's error, if any;
2. the parent then sends the *source* of each test example; the guard's test runner (armed
   before student code, holding the only copy of the run's nonce) restores the snapshot, runs
   each example in (a copy of) the notebook's namespace, as doctest would, and sends back what
   it printed or raised.

The parent compares those outputs with the expected ones, which stay in the parent. Messages
without the nonce (anything student code could write to the channel) only ever inform the
parent's report (which cell was running), never the score.

The parent's wall-clock timeout kills this process's whole process group (or, in ``bwrap``
mode, every process in the sandbox but its server).
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import struct
import sys

PRELOAD = ("numpy", "torch", "transformers", "matplotlib", "matplotlib.pyplot", "ipywidgets",
           "IPython", "IPython.core.interactiveshell", "nbformat", "ctxembed")

MAX_CAPTURE = 20_000          # characters of printed output kept per cell / example
MAX_MESSAGE = 8 * 2**20       # bytes in one message

_GRADER_LINE = re.compile(
    r"^\s*(grader\.(check|check_all|export)\(.*\)|import otter|grader\s*=\s*otter\.Notebook\(.*\))\s*;?\s*$")


# --------------------------------------------------------------------------- #
# Channels: length-prefixed JSON frames (never pickle: the parent must not unpickle)
# --------------------------------------------------------------------------- #
class ConnChannel:
    """Over a multiprocessing Connection (forkserver mode)."""

    def __init__(self, conn):
        self.conn = conn

    def send(self, obj) -> None:
        self.conn.send_bytes(json.dumps(obj).encode())

    def fds(self):
        return {self.conn.fileno()}

    def raw_fds(self):
        return self.conn.fileno(), self.conn.fileno()

    def recv(self):
        return json.loads(self.conn.recv_bytes(MAX_MESSAGE))


class StreamChannel:
    """Over two file descriptors (fresh-process and Docker modes)."""

    def __init__(self, rfd: int, wfd: int):
        self.rfd, self.wfd = rfd, wfd

    def fds(self):
        return {self.rfd, self.wfd}

    def raw_fds(self):
        return self.rfd, self.wfd

    def send(self, obj) -> None:
        data = json.dumps(obj).encode()
        buf = struct.pack(">I", len(data)) + data
        while buf:
            n = os.write(self.wfd, buf)
            buf = buf[n:]

    def _read(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            chunk = os.read(self.rfd, n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def recv(self):
        (n,) = struct.unpack(">I", self._read(4))
        if n > MAX_MESSAGE:
            raise ValueError("message too long")
        return json.loads(self._read(n))


class Bounded(io.TextIOBase):
    """A stdout replacement that keeps the first MAX_CAPTURE characters and counts the rest."""

    def __init__(self):
        self.parts, self.kept, self.dropped = [], 0, 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        room = MAX_CAPTURE - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def getvalue(self) -> str:
        return "".join(self.parts)


# --------------------------------------------------------------------------- #
# Sandbox
# --------------------------------------------------------------------------- #
def join_cgroup(path) -> bool:
    """Move this process into the pids cgroup ``path`` (made by the parent); False if it cannot."""
    if not path:
        return False
    try:
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        return True
    except OSError:
        return False


def _processes_of_uid(uid: int) -> int:
    n = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    n += 1
            except OSError:
                pass
    return n


def set_limits(memory_bytes: int | None, file_bytes: int = 64 * 2**20, nproc_extra: int | None = None) -> None:
    """RLIMIT_AS = current address space + ``memory_bytes``; cap file size; no core dumps.

    ``nproc_extra``: also cap ``RLIMIT_NPROC`` at this user's current processes + that many
    (threads count too). The kernel ignores ``RLIMIT_NPROC`` for root, hence the cgroup.
    """
    if memory_bytes:
        vm = 0
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmSize:"):
                        vm = int(line.split()[1]) * 1024
        except OSError:
            pass
        limit = vm + memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if nproc_extra and os.getuid() != 0:
        n = _processes_of_uid(os.getuid()) + nproc_extra
        _soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        if hard == resource.RLIM_INFINITY or n < hard:
            resource.setrlimit(resource.RLIMIT_NPROC, (n, n))


def close_inherited_fds(keep) -> None:
    """Close every descriptor but stdin/out/err and the channel (the forkserver's included)."""
    try:
        fds = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def preload(load_model: bool = False) -> None:
    """Import what notebooks need, before the limits (shared by forkserver children)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import importlib
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S110 - a module that fails to import is not preloaded
            pass
    if load_model:
        try:
            import ctxembed
            ctxembed.load_encoder()
            ctxembed.load_glove()
        except Exception:  # noqa: BLE001, S110 - no preloaded model: a notebook loads its own
            pass
    from . import guard
    guard.snapshot()   # taken here, once; every fork inherits it


def not_dumpable() -> None:
    """No process of the same user may ptrace this one or read its /proc/<pid>/mem (inherited by forks)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE, 0
    except Exception:  # noqa: BLE001, S110 - best effort where prctl is missing
        pass


# --------------------------------------------------------------------------- #
# Running the notebook
# --------------------------------------------------------------------------- #
def code_cells(nb: dict) -> list[str]:
    """Code cells to run, with otter's own check/init lines neutralised, otter_ignore cells out."""
    cells = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata") or {}
        if "otter_ignore" in (meta.get("tags") or []) or (meta.get("otter") or {}).get("ignore"):
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        lines = [("pass" if _GRADER_LINE.match(line) else line) for line in src.splitlines()]
        cells.append("\n".join(lines))
    return cells


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    c = Config()
    c.HistoryManager.enabled = False
    c.InteractiveShell.colors = "NoColor"
    c.InteractiveShell.xmode = "Plain"
    return InteractiveShell.instance(config=c)


def _run_cells(chan, shell, cells: list[str]):
    env = shell.user_ns
    errors = []
    for i, src in enumerate(cells):
        chan.send({"type": "cell", "index": i})
        out = Bounded()
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        try:
            result = shell.run_cell(src, store_history=False, silent=False)
        except BaseException as e:  # noqa: BLE001 - a cell must never stop the run
            result = None
            err = f"{type(e).__name__}: {e}"
        else:
            exc = result.error_in_exec or result.error_before_exec
            err = None if exc is None else f"{type(exc).__name__}: {str(exc)[:300]}"
        finally:
            sys.stdout, sys.stderr = old
        errors.append(err)
        chan.send({"type": "cell-done", "index": i, "error": err,
                   "printed": out.kept + out.dropped})
    return env, errors


def child_main(chan, job: dict) -> None:
    """Run one submission. ``job``: workdir, submission, memory, protected, threads, nonce, cgroup, guard."""
    from . import guard

    blocked: list = []
    try:
        os.chdir(job["workdir"])
        os.environ["HOME"] = job["workdir"]
        os.environ["TMPDIR"] = job["workdir"]
        os.environ["IPYTHONDIR"] = os.path.join(job["workdir"], ".ipython")
        os.environ["MPLCONFIGDIR"] = os.path.join(job["workdir"], ".mpl")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(job["workdir"], ".torchinductor")
        os.environ["TRITON_CACHE_DIR"] = os.path.join(job["workdir"], ".triton")
        import tempfile
        tempfile.tempdir = job["workdir"]
        try:
            import torch
            torch.set_num_threads(int(job.get("threads", 1)))
        except Exception:  # noqa: BLE001, S110 - torch is optional for a submission
            pass
        with open(job["submission"], encoding="utf-8") as f:
            nb = json.load(f)
        cells = code_cells(nb)
        in_cgroup = join_cgroup(job.get("cgroup"))
        close_inherited_fds(chan.fds())
        # the thread cap (guard.MAX_THREADS) must bite before RLIMIT_NPROC, which also counts the
        # test runner's own fork and threads: leave them headroom
        set_limits(job.get("memory"), nproc_extra=None if in_cgroup else guard.MAX_THREADS + 16)
        shell = _shell()
        rfd, wfd = chan.raw_fds()
        if job.get("guard", True):
            snap = guard.snapshot()
            guard.cap_threads()
            guard.refuse_fork_exec()
            frozen = guard.new_freeze_flag()
            guard.install_policy_hook(os.path.realpath(job["workdir"]), set(map(tuple, job.get("protected", []))),
                                      blocked, job.get("tmp_prefix") or "/nonexistent/", frozen)
            test_threads: set = set()
            guard.install_freeze_hook(frozen, test_threads)
            guard.install_tests_hook(rfd, wfd, job.pop("nonce", ""), snap, blocked, test_threads)
            del frozen, test_threads, snap
        else:   # only for testing the OS sandbox on its own: no in-process layer at all
            guard.install_tests_hook(rfd, wfd, job.pop("nonce", ""), guard.snapshot(), blocked, set())
        audit, event = sys.audit, guard.TESTS_EVENT
        env, errors = _run_cells(chan, shell, cells)
        audit(event, errors, env)   # runs the tests and exits; never returns
    except BaseException as e:  # noqa: BLE001
        try:
            chan.send({"type": "fatal", "error": f"{type(e).__name__}: {str(e)[:300]}",
                       "blocked": list(blocked)})
        except BaseException:  # noqa: BLE001, S110 - the channel is gone: nothing to report to
            pass
    finally:
        os._exit(0)


def noop() -> None:
    """Target used to wait until the forkserver has finished preloading."""


def forkserver_entry(conn, job: dict) -> None:
    """Target of a forkserver-started process: new session, quiet fds, then child_main."""
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - open for the process's life
    child_main(ConnChannel(conn), job)


def stream_entry() -> None:
    """``python -m ctxembed_instructor.grading.child``: channel on stdin/stdout (fresh process, Docker)."""
    rfd, wfd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    chan = StreamChannel(rfd, wfd)
    job = chan.recv()
    preload(load_model=False)
    child_main(chan, job)


def _kill_others() -> None:
    """Kill every process of this PID namespace but its init (1) and this server; reap ours."""
    import signal

    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (1, me):
            try:
                os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break


def _wait_child(pid: int, ctl) -> int | None:
    """Wait for the child, or for the parent's kill request; return its exit code (negative: signal)."""
    import select
    import signal

    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if select.select([ctl], [], [], 0.05)[0]:
            data = ctl.recv(4096)
            if not data:                      # the grader went away
                _kill_others()
                os._exit(0)
            if json.loads(data).get("type") == "kill":
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                _kill_others()
                try:
                    _, status = os.waitpid(pid, 0)
                    return os.waitstatus_to_exitcode(status)
                except ChildProcessError:
                    return -signal.SIGKILL


def server_entry(ctl_fd: int) -> None:
    """``python -m ctxembed_instructor.grading.child --server FD``: one worker's preloading server (bwrap mode).

    Runs inside the sandbox. Preloads once, then for each job (a JSON message on the control
    socket, with the submission's channel socket attached) forks a child that runs it, waits
    for it (or kills it on request), kills whatever else it left in the PID namespace and
    reports the exit code.
    """
    import socket

    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    preload(load_model=True)
    not_dumpable()
    ctl = socket.socket(fileno=ctl_fd)
    ctl.send(json.dumps({"type": "ready"}).encode())
    while True:
        msg, fds, _, _ = socket.recv_fds(ctl, MAX_MESSAGE, 1)
        if not msg:
            _kill_others()
            os._exit(0)
        job = json.loads(msg)
        if not fds:
            continue
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                ctl.close()
                child_main(StreamChannel(fds[0], fds[0]), job)
            finally:
                os._exit(0)
        os.close(fds[0])
        code = _wait_child(pid, ctl)
        _kill_others()
        ctl.send(json.dumps({"type": "exited", "code": code}).encode())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--server":
        server_entry(int(sys.argv[2]))
    else:
        stream_entry()

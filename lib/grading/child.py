"""The grading child: the only place a student's code runs.

It runs in its own process, in a fresh temporary folder that holds nothing but a copy of the
submission, with a memory limit (``RLIMIT_AS``), a file-size limit and, from the moment student
code starts, a Python audit hook that refuses:

- opening any file the parent listed as protected (by device and inode, so relative paths,
  symlinks and hard links do not get round it): the masters, the autograder zip, the solutions;
- starting processes (``subprocess``, ``os.system``, ``os.fork``, ``exec``, ``posix_spawn``),
  loading C libraries with ``ctypes``, signalling other processes, and walking the garbage
  collector (which would reach the hook's own state).

It never sees a test's expected output. Grading is in two phases over a message channel:

1. the child runs the notebook's code cells and reports each cell's error, if any;
2. the parent then sends the *source* of each test example; the child runs it in (a copy of)
   the notebook's namespace, as doctest would, and sends back what it printed or raised.

The parent compares those outputs with the expected ones, which stay in the parent. Whatever the
student's code patches or forges inside this process, it can only change the outputs it returns,
which is no more than answering the questions.

The parent's wall-clock timeout kills this process's whole process group.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import struct
import sys
import traceback

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

    def recv(self):
        return json.loads(self.conn.recv_bytes(MAX_MESSAGE))


class StreamChannel:
    """Over two file descriptors (fresh-process and Docker modes)."""

    def __init__(self, rfd: int, wfd: int):
        self.rfd, self.wfd = rfd, wfd

    def fds(self):
        return {self.rfd, self.wfd}

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
def install_audit_hook(protected: set, blocked: list) -> None:
    """Refuse protected files, new processes, ctypes, foreign signals and gc walking."""
    _stat, _fspath, _getpid, _isinstance, _str, _int = os.stat, os.fspath, os.getpid, isinstance, str, int
    _protected = frozenset(tuple(x) for x in protected)
    _me = _getpid()
    _deny_events = frozenset({
        "subprocess.Popen", "os.system", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn",
        "os.spawn", "os.startfile", "ctypes.dlopen", "ctypes.dlsym",
        "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.addaudithook",
    })
    _record = blocked.append

    def _audit(event, args):
        if event == "open" or event == "os.link" or event == "shutil.copyfile":
            target = args[0]
            if _isinstance(target, _int):
                return
            try:
                st = _stat(_fspath(target))
            except Exception:
                return
            if (st.st_dev, st.st_ino) in _protected:
                if len(blocked) < 50:
                    _record(f"read of a protected file ({_str(target)[:200]})")
                raise PermissionError(f"grading sandbox: {target} is not readable during grading")
        elif event in _deny_events:
            if len(blocked) < 50:
                _record(event)
            raise PermissionError(f"grading sandbox: {event} is not allowed during grading")
        elif event in ("os.kill", "os.killpg"):
            if args[0] not in (0, _me) and args[1] != 0:
                if len(blocked) < 50:
                    _record(f"{event}{tuple(args)}")
                raise PermissionError("grading sandbox: signalling other processes is not allowed")

    sys.addaudithook(_audit)


def set_limits(memory_bytes: int | None, file_bytes: int = 64 * 2**20) -> None:
    """RLIMIT_AS = current address space + ``memory_bytes``; cap file size; no core dumps."""
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
        except Exception:
            pass
    if load_model:
        try:
            import ctxembed
            ctxembed.load_encoder()
            ctxembed.load_glove()
        except Exception:
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


def _run_cells(chan, cells: list[str]):
    shell = _shell()
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


def _run_examples(env: dict, cases: list[list[str]]) -> list[list[dict]]:
    """Run each test case's examples the way doctest does, in a copy of the namespace."""
    import __future__

    sys.displayhook = sys.__displayhook__
    results = []
    for sources in cases:
        globs = dict(env)   # like doctest.DocTest: each case gets its own copy
        case = []
        for src in sources:
            out = Bounded()
            old = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = out
            exc = None
            try:
                exec(compile(src, "<hidden test>", "single", 0, True), globs)
            except BaseException as e:  # noqa: BLE001
                exc = traceback.format_exception_only(type(e), e)[-1]
            finally:
                sys.stdout, sys.stderr = old
            case.append({"got": out.getvalue(), "exc": exc})
        results.append(case)
    del __future__
    return results


class _Stamped:
    """Adds the run's nonce to every message, so stray writes to the channel are ignored."""

    __slots__ = ("_chan", "_send")

    def __init__(self, chan, nonce: str):
        self._chan = chan
        self._send = lambda obj, _c=chan, _n=nonce: _c.send({**obj, "nonce": _n})

    def send(self, obj) -> None:
        self._send(obj)

    def recv(self):
        return self._chan.recv()

    def fds(self):
        return self._chan.fds()


def child_main(chan, job: dict) -> None:
    """Run one submission. ``job``: workdir, submission, memory, protected, threads."""
    blocked: list = []
    chan = _Stamped(chan, job.pop("nonce", ""))
    try:
        os.chdir(job["workdir"])
        os.environ["HOME"] = job["workdir"]
        os.environ["IPYTHONDIR"] = os.path.join(job["workdir"], ".ipython")
        os.environ["MPLCONFIGDIR"] = os.path.join(job["workdir"], ".mpl")
        try:
            import torch
            torch.set_num_threads(int(job.get("threads", 1)))
        except Exception:
            pass
        with open(job["submission"], encoding="utf-8") as f:
            nb = json.load(f)
        cells = code_cells(nb)
        close_inherited_fds(chan.fds())
        set_limits(job.get("memory"))
        install_audit_hook(set(map(tuple, job.get("protected", []))), blocked)
        env, errors = _run_cells(chan, cells)
        chan.send({"type": "executed", "errors": errors, "blocked": list(blocked)})
        msg = chan.recv()
        outputs = _run_examples(env, msg["cases"]) if msg.get("type") == "probes" else []
        chan.send({"type": "outputs", "cases": outputs, "blocked": list(blocked)})
    except BaseException as e:  # noqa: BLE001
        try:
            chan.send({"type": "fatal", "error": f"{type(e).__name__}: {str(e)[:300]}",
                       "blocked": list(blocked)})
        except BaseException:
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
    sys.stdin = open(os.devnull)
    child_main(ConnChannel(conn), job)


def stream_entry() -> None:
    """``python -m ctxembed.grading.child``: channel on stdin/stdout (fresh process, Docker)."""
    rfd, wfd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    chan = StreamChannel(rfd, wfd)
    job = chan.recv()
    preload(load_model=False)
    child_main(chan, job)


if __name__ == "__main__":
    stream_entry()

"""Grade submissions: one sandboxed child process each, in parallel, never crashing the run.

Parent side of the protocol described in :mod:`ctxembed_instructor.grading.child`. The tests come from the
otter-grader autograder zip that ``otter assign`` built (``tests/*.py``, OK format); otter's own
classes parse them and compute the scores (points, partial credit per test case). Only the
comparison of a test's output with its expected output is done here, in the parent, so that
expected outputs never enter the process that runs student code.

Isolation modes (:mod:`ctxembed_instructor.grading.sandbox` says what each stops):

- ``"bwrap"`` (default when bubblewrap works here): one sandbox per worker, started once; inside
  it a server imports torch, transformers, ctxembed and the encoder, then forks a child per
  submission. The scratch folder is emptied and every process but the server killed after each
  submission.
- ``"forkserver"`` (the fallback): the same preloading server without an OS sandbox; only the
  in-process guard (:mod:`ctxembed_instructor.grading.guard`). About 1 s of overhead per submission.
- ``"fresh"``: a new ``python -m ctxembed_instructor.grading.child`` per submission (slow: ~10 s of imports).
- ``"docker"``: the same child inside ``docker run --network=none --memory=...`` (only when asked
  for; the course's test suite does not run it, as its build machine has no Docker).
"""

from __future__ import annotations

import doctest
import itertools
import json
import multiprocessing as mp
import os
import queue
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox
from .child import MAX_MESSAGE, StreamChannel
from .guard import MAX_THREADS
from .sandbox import docker_available  # noqa: F401  (kept importable from here)

MAX_SUBMISSION_BYTES = 20 * 2**20

STATUS_DOC = {
    "ok": "every cell ran; the score is what the tests gave",
    "cell-errors": "some cells raised an error (listed in reason); graded on what did run",
    "timeout": "killed at the time limit; score 0",
    "crashed": "the process ended before grading finished (os._exit, a signal, out of memory); score 0",
    "invalid": "not a readable notebook (wrong type, corrupted JSON, too large); score 0",
    "empty": "a notebook with no code cells; score 0",
    "grader-error": "the grader itself failed on this file (a bug: please report); score 0",
}


# --------------------------------------------------------------------------- #
# The assignment: tests from the autograder zip
# --------------------------------------------------------------------------- #
@dataclass
class Assignment:
    name: str
    zip_path: Path
    specs: dict  # question name -> OK-format test spec (dict)

    @property
    def questions(self) -> list[str]:
        return sorted(self.specs)

    def test_files(self):
        from otter.test_files.ok_test import OKTestFile

        return {q: OKTestFile.from_spec(self.specs[q], path=f"tests/{q}.py") for q in self.questions}

    def possible(self) -> float:
        return float(sum(tf.possible for tf in self.test_files().values()))


def load_assignment(zip_path) -> Assignment:
    """Read the tests of an otter autograder zip into memory (nothing is extracted)."""
    zip_path = Path(zip_path)
    specs, name = {}, zip_path.stem.replace("-autograder", "")
    with zipfile.ZipFile(zip_path) as zf:
        for member in zf.namelist():
            if member.startswith("tests/") and member.endswith(".py"):
                g: dict = {}
                exec(compile(zf.read(member).decode(), member, "exec"), g)  # noqa: S102 - the instructor's own test file
                specs[g["test"]["name"]] = g["test"]
            elif member == "otter_config.json":
                name = json.loads(zf.read(member)).get("assignment_name", name)
    if not specs:
        raise ValueError(f"{zip_path} holds no tests/*.py: is it an otter autograder zip?")
    return Assignment(name=name, zip_path=zip_path, specs=specs)


# --------------------------------------------------------------------------- #
# Results
# --------------------------------------------------------------------------- #
@dataclass
class Result:
    file: str
    status: str
    reason: str
    scores: dict = field(default_factory=dict)     # question -> points
    possible: float = 0.0
    public: str = ""                               # e.g. "5/5 public test cases passed"
    feedback: list = field(default_factory=list)   # lines for the student's feedback file
    seconds: float = 0.0
    student: str = ""
    counted: bool = True

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))


def _tests_failed_reason(error: str) -> str:
    """Why the hidden tests could not run, for the gradebook (the test runner's own error)."""
    if "Resource temporarily unavailable" in error or "can't start new thread" in error:
        return ("the tests could not run: the notebook had used up the threads and processes the "
                f"sandbox allows (it may start at most {MAX_THREADS} threads; stop the ones it "
                f"starts, e.g. join them) [{error}]")
    return f"the tests could not run: {error}"


def _zero(assignment: Assignment, file: str, status: str, reason: str, **kw) -> Result:
    return Result(file=file, status=status, reason=reason,
                  scores={q: 0.0 for q in assignment.questions},
                  possible=assignment.possible(), **kw)


# --------------------------------------------------------------------------- #
# Parent ends of the channel, with deadlines
# --------------------------------------------------------------------------- #
class _ConnEnd:
    def __init__(self, conn):
        self.conn = conn

    def send(self, obj):
        self.conn.send_bytes(json.dumps(obj).encode())

    def recv(self, timeout: float):
        if timeout <= 0 or not self.conn.poll(timeout):
            raise TimeoutError
        data = self.conn.recv_bytes(MAX_MESSAGE)   # EOFError when the child died
        try:
            return json.loads(data)
        except ValueError:
            return None


class _StreamEnd(StreamChannel):
    def recv(self, timeout: float):
        deadline = time.monotonic() + timeout

        def read(n):
            out = b""
            while len(out) < n:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self.rfd], [], [], left)[0]:
                    raise TimeoutError
                chunk = os.read(self.rfd, n - len(out))
                if not chunk:
                    raise EOFError
                out += chunk
            return out

        (n,) = struct.unpack(">I", read(4))
        if n > MAX_MESSAGE:
            raise EOFError("message too long")
        try:
            return json.loads(read(n))
        except ValueError:
            return None


def protected_inodes(paths) -> list[list[int]]:
    """(device, inode) of every file under ``paths``: the child refuses to open them."""
    found = []
    for p in paths:
        p = Path(p)
        if not p.exists():
            continue
        files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
        for f in files[:20000]:
            st = f.stat()
            found.append([st.st_dev, st.st_ino])
    return found


class SandboxUnavailable(RuntimeError):
    """``isolation="bwrap"`` was asked for and bubblewrap's sandbox does not start (one line)."""


# --------------------------------------------------------------------------- #
# bwrap: one sandboxed preloading server per worker
# --------------------------------------------------------------------------- #
class _SandboxServer:
    """A bubblewrap sandbox running ``child.py --server``; grades one submission at a time."""

    _ids = itertools.count()

    def __init__(self, scratch_root: Path, hide, cgroup_name: str | None):
        # Started from the thread that will outlive it: --die-with-parent follows the parent *thread*.
        self.scratch = Path(tempfile.mkdtemp(prefix="w", dir=scratch_root))
        self.cgroup = sandbox.make_pids_cgroup(cgroup_name) if cgroup_name else None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        argv = sandbox.bwrap_argv(self.scratch, scratch_root, hide=hide)
        argv += [sys.executable, "-m", "ctxembed_instructor.grading.child", "--server", str(theirs.fileno())]
        argv = sandbox.sandboxed(argv, self.cgroup)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the server
        env = sandbox.server_env(self.scratch)
        self.proc = subprocess.Popen(argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, start_new_session=True, env=env)
        theirs.close()
        self.ctl = ours
        self.exited: int | None | bool = False   # False: no exit report yet for the current job

    def wait_ready(self, timeout: float = 600.0) -> _SandboxServer:
        if not select.select([self.ctl], [], [], timeout)[0] or not self.ctl.recv(4096):
            self.log.seek(0)
            lines = self.log.read()[-4000:].decode(errors="replace").strip().splitlines()
            self.close()
            raise SandboxUnavailable(f"the bubblewrap grading sandbox did not start: "
                                     f"{lines[-1].strip() if lines else 'no output'}")
        return self

    def alive(self) -> bool:
        return self.proc.poll() is None

    def submit(self, job: dict) -> _StreamEnd:
        ours, theirs = socket.socketpair()
        self.exited = False
        socket.send_fds(self.ctl, [json.dumps(job).encode()], [theirs.fileno()])
        theirs.close()
        self._chan = ours
        return _StreamEnd(ours.fileno(), ours.fileno())

    def wait_exit(self, timeout: float) -> int | None:
        """The child's exit code (negative: signal), waiting up to ``timeout`` s; None if unknown."""
        if self.exited is not False:
            return self.exited
        if select.select([self.ctl], [], [], timeout)[0]:
            data = self.ctl.recv(4096)
            if data:
                self.exited = json.loads(data).get("code")
                return self.exited
            self.close()
        return None

    def kill_child(self) -> None:
        """Make sure the child and everything it started are gone (else restart the sandbox)."""
        if self.exited is not False or not self.alive():
            return
        try:
            self.ctl.send(json.dumps({"type": "kill"}).encode())
        except OSError:
            self.close()
            return
        if self.wait_exit(10) is None and self.exited is False:
            self.close()

    def finish(self) -> None:
        try:
            self._chan.close()
        except (OSError, AttributeError):
            pass
        for entry in self.scratch.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                try:
                    entry.unlink()
                except OSError:
                    pass

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            self.proc.kill()
            self.proc.wait(5)
        except Exception:  # noqa: BLE001, S110 - already gone
            pass
        try:
            self.ctl.close()
        except OSError:
            pass
        sandbox.remove_cgroup(self.cgroup)
        shutil.rmtree(self.scratch, ignore_errors=True)


# --------------------------------------------------------------------------- #
# The grader
# --------------------------------------------------------------------------- #
class Grader:
    """Grade notebooks against an otter autograder zip, each in its own sandboxed process.

    Parameters
    ----------
    assignment : Assignment or path to the autograder zip
    timeout : float
        Wall-clock seconds per submission (running it and its tests); the whole process group
        is killed after that.
    memory_mb : int
        Address space a submission may add on top of the preloaded runtime (``RLIMIT_AS``).
    workers : int
        Submissions graded at once.
    isolation : {"auto", "bwrap", "forkserver", "fresh", "docker"}
        ``"auto"``: ``bwrap`` when the real sandbox starts here (:func:`sandbox.probe`), else
        ``forkserver`` (the in-process guard only; :attr:`isolation_summary` says why).
        ``"bwrap"`` raises :class:`SandboxUnavailable` when it does not start. ``docker`` only
        when asked for.
    protect : list of paths
        Files/folders the submission may not open (added to the zip itself); in ``bwrap`` mode
        they are also covered by empty read-only folders inside the sandbox.
    guard : bool
        The in-process layer (audit hooks). Only tests turn it off, to check the OS sandbox alone.

    Example
    -------
    >>> g = Grader("instructor/dist/ch01_static_vs_contextual-autograder.zip", workers=2)  # doctest: +SKIP
    >>> [r.total for r in g.grade_many(["alice.ipynb", "bob.ipynb"])]                     # doctest: +SKIP
    [16.0, 12.0]
    """

    def __init__(self, assignment, *, timeout=120.0, memory_mb=2048, workers=2,
                 isolation="auto", protect=(), docker_image="ctxembed-grader:latest", guard=True):
        self.assignment = assignment if isinstance(assignment, Assignment) else load_assignment(assignment)
        self.timeout, self.memory = float(timeout), int(memory_mb) * 2**20
        self.workers = max(1, int(workers))
        if isolation not in ("auto", "bwrap", "forkserver", "fresh", "docker"):
            raise ValueError(f"unknown isolation {isolation!r}")
        self.guard = bool(guard)
        self.docker_image = docker_image
        self.hide = [self.assignment.zip_path, *protect]
        self.protected = protected_inodes(self.hide)
        self._start_lock = threading.Lock()
        self._ctx = None
        self._tag = f"ctxembed-grade-{os.getpid()}-{secrets.token_hex(3)}"
        self._scratch_root = Path(tempfile.mkdtemp(prefix="ctxgrade-"))
        self._servers: queue.Queue | None = None
        self._all_servers: list = []
        self._n = itertools.count()
        probe = sandbox.make_pids_cgroup(self._tag + "-probe")
        self.pids_cgroup = probe is not None and isolation != "docker"
        sandbox.remove_cgroup(probe)
        self.fallback = ""    # why "auto" did not get bubblewrap
        if isolation in ("auto", "bwrap"):
            why = sandbox.probe(self._scratch_root, self.hide, cgroup=self.pids_cgroup)
            if why and isolation == "bwrap":
                shutil.rmtree(self._scratch_root, ignore_errors=True)
                fix = ("install it (apt-get install bubblewrap; tools/setup.sh does)"
                       if not shutil.which("bwrap") else
                       "fix what bwrap says (a user other than root needs user namespaces: sysctl "
                       "kernel.unprivileged_userns_clone=1, or on Ubuntu "
                       "kernel.apparmor_restrict_unprivileged_userns=0)")
                raise SandboxUnavailable(
                    f"--isolation bwrap: the bubblewrap sandbox does not start here: {why}. "
                    f"To use it, {fix}; or grade with --isolation auto, which falls back to the "
                    "in-process guard alone")
            if why:
                self.fallback = f"bubblewrap's sandbox does not start here ({why})"
            isolation = "forkserver" if why else "bwrap"
        self.isolation = isolation
        if isolation == "forkserver":
            self._ctx = mp.get_context("forkserver")
            self._ctx.set_forkserver_preload(["ctxembed_instructor.grading._preload"])

    @property
    def isolation_summary(self) -> str:
        """Which isolation is in force and what it does and does not stop (one line)."""
        text = sandbox.describe(self.isolation, self.pids_cgroup)
        if self.fallback:
            text = f"{self.fallback}, so: {text}"
        return text if self.guard else text + " [in-process guard OFF: testing only]"

    # ----------------------------------------------------------------------- #
    def warm_up(self) -> None:
        """Start the preloading server(s) now (imports torch etc. once) so timings exclude it."""
        if self._ctx is not None:
            from .child import noop

            proc = self._ctx.Process(target=noop, daemon=True)
            with self._start_lock:
                proc.start()
            proc.join()
        elif self.isolation == "bwrap" and self._servers is None:
            self._servers = queue.Queue()
            started = [self._new_server() for _ in range(self.workers)]   # all start at once
            for srv in started:
                self._servers.put(srv.wait_ready())

    def _new_server(self) -> _SandboxServer:
        srv = _SandboxServer(self._scratch_root, self.hide, f"{self._tag}-{next(self._n)}")
        self._all_servers.append(srv)
        return srv

    def close(self) -> None:
        """Stop the sandboxes and remove their scratch folders and cgroups."""
        for srv in self._all_servers:
            srv.close()
        self._all_servers.clear()
        self._servers = None
        shutil.rmtree(self._scratch_root, ignore_errors=True)

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001, S110 - interpreter shutdown: nothing left to close
            pass

    def grade_many(self, paths, progress=None) -> list[Result]:
        """Grade ``paths`` in parallel; one Result per path, in the same order."""
        paths = [Path(p) for p in paths]
        self.warm_up()
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = [pool.submit(self.grade_one, p) for p in paths]
            results = []
            for fut in futures:
                results.append(fut.result())
                if progress:
                    progress(results[-1])
        return results

    def grade_one(self, path) -> Result:
        """Grade one file; never raises."""
        start = time.monotonic()
        path = Path(path)
        try:
            result = self._grade(path)
        except Exception as e:  # noqa: BLE001 - nothing may crash the run
            result = _zero(self.assignment, str(path), "grader-error",
                           f"grader error: {type(e).__name__}: {e}")
        result.seconds = round(time.monotonic() - start, 2)
        return result

    # ----------------------------------------------------------------------- #
    def _check_file(self, path: Path):
        """Return the parsed notebook dict, or a Result saying why it cannot be graded."""
        a, name = self.assignment, str(path)
        if path.is_symlink():
            return _zero(a, name, "invalid", "a symbolic link: not followed (submit the file itself)")
        if not path.is_file():
            return _zero(a, name, "invalid", "not a regular file")
        if path.suffix.lower() != ".ipynb":
            return _zero(a, name, "invalid", f"not a Jupyter notebook ({path.suffix or 'no extension'})")
        size = path.stat().st_size
        if size > MAX_SUBMISSION_BYTES:
            return _zero(a, name, "invalid", f"file too large ({size / 2**20:.1f} MB)")
        try:
            nb = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return _zero(a, name, "invalid", f"corrupted notebook: not valid JSON ({e})")
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            return _zero(a, name, "invalid", "corrupted notebook: no list of cells")
        if not any(isinstance(c, dict) and c.get("cell_type") == "code" and c.get("source")
                   for c in nb["cells"]):
            return _zero(a, name, "empty", "the notebook has no code cells")
        return nb

    def _job(self, workdir: Path, sub: Path, cgroup) -> dict:
        return {"workdir": str(workdir), "submission": str(sub), "memory": self.memory,
                "protected": self.protected, "threads": 1, "guard": self.guard,
                "cgroup": str(cgroup) if cgroup else None,
                "tmp_prefix": str(Path(tempfile.gettempdir()).resolve() / "ctxgrade-")}

    def _grade(self, path: Path) -> Result:
        checked = self._check_file(path)
        if isinstance(checked, Result):
            return checked
        if self.isolation == "bwrap":
            return self._grade_bwrap(path)
        workdir = Path(tempfile.mkdtemp(prefix="s", dir=self._scratch_root))
        cgroup = sandbox.make_pids_cgroup(f"{self._tag}-s{next(self._n)}") if self.pids_cgroup else None
        try:
            sub = workdir / "submission.ipynb"
            shutil.copyfile(path, sub)
            return self._run_child(path, self._job(workdir, sub, cgroup))
        finally:
            sandbox.remove_cgroup(cgroup)
            shutil.rmtree(workdir, ignore_errors=True)

    def _grade_bwrap(self, path: Path) -> Result:
        srv = self._servers.get()
        try:
            if not srv.alive():
                srv.close()
                srv = self._new_server().wait_ready()
            workdir = srv.scratch / f"s{next(self._n)}"
            workdir.mkdir()
            sub = workdir / "submission.ipynb"
            shutil.copyfile(path, sub)
            self._current = srv
            return self._run_child(path, self._job(workdir, sub, None), server=srv)
        finally:
            srv.finish()
            self._servers.put(srv)

    # ----------------------------------------------------------------------- #
    def _spawn(self, job, server=None):
        """Start the child; return (channel end, kill(), exitcode(), close())."""
        if server is not None:
            end = server.submit(job)

            def exitcode():
                return server.wait_exit(5)

            return end, server.kill_child, exitcode, lambda: None
        if self.isolation == "forkserver":
            from .child import forkserver_entry

            parent_conn, child_conn = self._ctx.Pipe(duplex=True)
            proc = self._ctx.Process(target=forkserver_entry, args=(child_conn, job), daemon=True)
            with self._start_lock:
                try:
                    proc.start()
                except OSError:
                    # The forkserver died (it should not: children close its descriptors and may
                    # not signal it). Start a fresh one and try once more.
                    from multiprocessing import forkserver
                    forkserver._forkserver._stop()
                    proc = self._ctx.Process(target=forkserver_entry, args=(child_conn, job), daemon=True)
                    proc.start()
            child_conn.close()

            def kill():
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                proc.kill()
                proc.join(5)

            def exitcode():
                proc.join(5)
                return proc.exitcode

            return _ConnEnd(parent_conn), kill, exitcode, parent_conn.close
        if self.isolation == "docker":
            argv = ["docker", "run", "--rm", "-i", "--network=none", f"--memory={self.memory + 2**31}",
                    f"--pids-limit={sandbox.PIDS_MAX}", "--cpus=1", "--read-only",
                    "-v", f"{job['workdir']}:{job['workdir']}",
                    "-w", job["workdir"], self.docker_image,
                    "python", "-m", "ctxembed_instructor.grading.child"]
            job = {**job, "protected": [], "cgroup": None}   # the container holds no tests at all
        else:
            argv = [sys.executable, "-m", "ctxembed_instructor.grading.child"]
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        end = _StreamEnd(proc.stdout.fileno(), proc.stdin.fileno())
        end.send(job)

        def kill():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait(5)

        def exitcode():
            try:
                return proc.wait(5)
            except subprocess.TimeoutExpired:
                return None

        def close():
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass

        return end, kill, exitcode, close

    def _run_child(self, path: Path, job: dict, server=None) -> Result:
        a = self.assignment
        deadline = time.monotonic() + self.timeout
        test_files = a.test_files()
        plan = []   # (question, case index, [examples])
        for q, tf in test_files.items():
            for i, case in enumerate(tf.test_cases):
                examples = doctest.DocTestParser().get_examples(case.body, f"{q} case {i + 1}")
                plan.append((q, i, examples))

        nonce = secrets.token_hex(16)
        end, kill, exitcode, close = self._spawn({**job, "nonce": nonce}, server)
        current_cell, errors, blocked, outputs, phase = None, [], [], None, "starting"
        forged = 0
        try:
            while True:
                msg = end.recv(deadline - time.monotonic())
                kind = msg.get("type") if isinstance(msg, dict) else None
                if kind not in ("cell", "cell-done", "fatal") and (
                        kind not in ("executed", "outputs", "tests-failed") or msg.get("nonce") != nonce):
                    forged += 1      # only the test runner armed before student code knows the nonce
                    continue
                if kind == "cell" and phase in ("starting", "cells") and type(msg.get("index")) is int:
                    current_cell, phase = msg.get("index"), "cells"
                elif kind == "executed" and phase != "tests":
                    errors = [e if isinstance(e, str) else None for e in msg.get("errors", [])]
                    blocked = [str(b) for b in msg.get("blocked", [])][:50]
                    phase = "tests"
                    end.send({"type": "probes",
                              "cases": [[ex.source for ex in exs] for _, _, exs in plan]})
                elif kind == "outputs" and phase == "tests":
                    outputs = msg.get("cases")
                    blocked = [str(b) for b in msg.get("blocked", blocked)][:50]
                    break
                elif kind == "tests-failed" and phase == "tests":
                    kill()
                    return _zero(a, str(path), "crashed", _tests_failed_reason(str(msg.get("error"))))
                elif kind == "fatal" and phase != "tests":
                    kill()
                    return _zero(a, str(path), "crashed", f"could not run the notebook: {str(msg.get('error'))[:300]}")
        except TimeoutError:
            kill()
            where = (f"while running code cell {current_cell + 1}" if phase == "cells" and current_cell is not None
                     else "while running the tests" if phase == "tests" else "while starting")
            return _zero(a, str(path), "timeout",
                         f"timed out after {self.timeout:g} s {where} (infinite loop or far too slow)")
        except (EOFError, OSError, ValueError) as e:
            code = exitcode()
            kill()
            where = (f"during code cell {current_cell + 1}" if phase == "cells" and current_cell is not None
                     else "while running the tests" if phase == "tests" else "before running any cell")
            how = (f"killed by signal {-code}" + (" (likely out of memory)" if code == -signal.SIGKILL else "")
                   if isinstance(code, int) and code < 0
                   else f"exited with code {code} (sys.exit/os._exit in the notebook?)" if code is not None
                   else f"channel error {type(e).__name__}")
            return _zero(a, str(path), "crashed", f"the notebook's process {how} {where}")
        finally:
            close()
            kill()

        result = self._score(path, test_files, plan, outputs, errors, blocked)
        if forged:
            result.reason += f"; ignored {forged} message(s) on the grading channel not sent by the grader"
        return result

    # ----------------------------------------------------------------------- #
    def _score(self, path, test_files, plan, outputs, errors, blocked) -> Result:
        from otter.test_files.abstract_test import TestCaseResult

        checker = doctest.OutputChecker()
        outputs = outputs if isinstance(outputs, list) and len(outputs) == len(plan) else [[]] * len(plan)
        results = {q: [] for q in test_files}
        for (q, i, examples), got in zip(plan, outputs):
            passed, message = True, "✅ Test case passed"
            for j, ex in enumerate(examples):
                g = got[j] if isinstance(got, list) and j < len(got) and isinstance(got[j], dict) else None
                if g is None:
                    passed, message = False, "❌ not run"
                    break
                out, exc = str(g.get("got") or ""), g.get("exc")
                if exc is None:
                    ok = ex.exc_msg is None and checker.check_output(ex.want, out, 0)
                    shown = out
                else:
                    ok = ex.exc_msg is not None and checker.check_output(ex.exc_msg, str(exc), 0)
                    shown = f"Exception raised: {exc}"
                if not ok:
                    passed = False
                    message = ("❌ Test case failed\nFailed example:\n    " + ex.source.strip()
                               + "\nExpected:\n    " + (ex.want.strip() or "nothing")
                               + "\nGot:\n    " + (shown.strip()[:1000] or "nothing"))
                    break
            tf = test_files[q]
            results[q].append(TestCaseResult(test_case=tf.test_cases[i], message=message, passed=passed))
        for q, tf in test_files.items():
            tf.test_case_results = results[q]

        scores = {q: float(tf.score) for q, tf in test_files.items()}
        possible = float(sum(tf.possible for tf in test_files.values()))
        pub = [r for tf in test_files.values() for r in tf.test_case_results if not r.test_case.hidden]
        hid = [r for tf in test_files.values() for r in tf.test_case_results if r.test_case.hidden]
        public = f"{sum(r.passed for r in pub)}/{len(pub)} public test cases passed"

        cell_errors = [(k + 1, e) for k, e in enumerate(errors) if e]
        status = "cell-errors" if cell_errors else "ok"
        parts = []
        if cell_errors:
            shown = "; ".join(f"cell {k}: {e.splitlines()[0][:120]}" for k, e in cell_errors[:3])
            more = f" (+{len(cell_errors) - 3} more)" if len(cell_errors) > 3 else ""
            parts.append(f"{len(cell_errors)} cell(s) raised: {shown}{more}")
        else:
            parts.append("all cells ran")
        parts.append(f"{public}, {sum(r.passed for r in hid)}/{len(hid)} hidden")
        if blocked:
            parts.append("sandbox refused: " + "; ".join(sorted(set(blocked))[:3]))

        fb = [f"Score: {sum(scores.values()):g} / {possible:g}", ""]
        for q, tf in test_files.items():
            fb.append(f"## {q}: {scores[q]:g} / {float(tf.possible):g}")
            for k, r in enumerate(tf.test_case_results, 1):
                kind = "hidden" if r.test_case.hidden else "public"
                if r.passed:
                    fb.append(f"- {kind} test {k}: passed")
                elif r.test_case.hidden:
                    fb.append(f"- {kind} test {k}: failed (hidden tests are not shown)")
                else:
                    fb.append(f"- {kind} test {k}: failed\n\n```\n{r.message}\n```")
            fb.append("")
        if cell_errors:
            fb.append("## Errors while running your notebook")
            fb += [f"- code cell {k}: {e}" for k, e in cell_errors]
            fb.append("")
        if blocked:
            fb.append("## Refused by the grading sandbox")
            fb += [f"- {b}" for b in sorted(set(blocked))]
            fb.append("")
        return Result(file=str(path), status=status, reason="; ".join(parts), scores=scores,
                      possible=possible, public=public, feedback=fb)

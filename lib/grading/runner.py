"""Grade submissions: one sandboxed child process each, in parallel, never crashing the run.

Parent side of the protocol described in :mod:`ctxembed.grading.child`. The tests come from the
otter-grader autograder zip that ``otter assign`` built (``tests/*.py``, OK format); otter's own
classes parse them and compute the scores (points, partial credit per test case). Only the
comparison of a test's output with its expected output is done here, in the parent, so that
expected outputs never enter the process that runs student code.

Isolation modes:

- ``"forkserver"`` (default without Docker): a forkserver process imports torch, transformers,
  ctxembed and the encoder once; each submission is a fresh fork of it (own process, own session,
  memory limit, killed with its whole process group at the time limit). About 1 s of overhead per
  submission instead of ~10 s of imports.
- ``"fresh"``: a new ``python -m ctxembed.grading.child`` per submission (slower, nothing shared).
- ``"docker"``: the same child inside ``docker run --network=none --memory=...`` (used when
  ``docker info`` works; not tested on the machine this was written on).
"""

from __future__ import annotations

import doctest
import io
import json
import multiprocessing as mp
import os
import secrets
import select
import shutil
import signal
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

from .child import MAX_MESSAGE, StreamChannel

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
                exec(compile(zf.read(member).decode(), member, "exec"), g)  # instructor's file
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


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except Exception:
        return False


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
    isolation : {"auto", "forkserver", "fresh", "docker"}
        ``"auto"``: Docker when ``docker info`` works, else the forkserver.
    protect : list of paths
        Files/folders the submission may not open (added to the zip itself).
    """

    def __init__(self, assignment, *, timeout=120.0, memory_mb=2048, workers=2,
                 isolation="auto", protect=(), docker_image="ctxembed-grader:latest"):
        self.assignment = assignment if isinstance(assignment, Assignment) else load_assignment(assignment)
        self.timeout, self.memory = float(timeout), int(memory_mb) * 2**20
        self.workers = max(1, int(workers))
        if isolation == "auto":
            isolation = "docker" if docker_available() else "forkserver"
        self.isolation = isolation
        self.docker_image = docker_image
        self.protected = protected_inodes([self.assignment.zip_path, *protect])
        self._start_lock = threading.Lock()
        self._ctx = None
        if isolation == "forkserver":
            self._ctx = mp.get_context("forkserver")
            self._ctx.set_forkserver_preload(["ctxembed.grading._preload"])

    # ----------------------------------------------------------------------- #
    def warm_up(self) -> None:
        """Start the forkserver now (imports torch etc. once) so timings exclude it."""
        if self._ctx is not None:
            from .child import noop

            proc = self._ctx.Process(target=noop, daemon=True)
            with self._start_lock:
                proc.start()
            proc.join()

    def grade_many(self, paths, progress=None) -> list[Result]:
        """Grade ``paths`` in parallel; one Result per path, in the same order."""
        paths = [Path(p) for p in paths]
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

    def _grade(self, path: Path) -> Result:
        checked = self._check_file(path)
        if isinstance(checked, Result):
            return checked
        workdir = Path(tempfile.mkdtemp(prefix="ctxgrade-"))
        try:
            sub = workdir / "submission.ipynb"
            shutil.copyfile(path, sub)
            job = {"workdir": str(workdir), "submission": str(sub), "memory": self.memory,
                   "protected": self.protected, "threads": 1}
            return self._run_child(path, job)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    # ----------------------------------------------------------------------- #
    def _spawn(self, job):
        """Start the child; return (channel end, kill(), exitcode())."""
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
                    "--pids-limit=256", "--cpus=1", "-v", f"{job['workdir']}:{job['workdir']}",
                    "-w", job["workdir"], self.docker_image,
                    "python", "-m", "ctxembed.grading.child"]
            job = {**job, "protected": []}   # the container holds no tests at all
        else:
            argv = [sys.executable, "-m", "ctxembed.grading.child"]
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

    def _run_child(self, path: Path, job: dict) -> Result:
        a = self.assignment
        deadline = time.monotonic() + self.timeout
        test_files = a.test_files()
        plan = []   # (question, case index, [examples])
        for q, tf in test_files.items():
            for i, case in enumerate(tf.test_cases):
                examples = doctest.DocTestParser().get_examples(case.body, f"{q} case {i + 1}")
                plan.append((q, i, examples))

        nonce = secrets.token_hex(16)
        end, kill, exitcode, close = self._spawn({**job, "nonce": nonce})
        current_cell, errors, blocked, outputs, phase = None, [], [], None, "starting"
        forged = 0
        try:
            while True:
                msg = end.recv(deadline - time.monotonic())
                if not isinstance(msg, dict) or msg.get("nonce") != nonce:
                    forged += 1
                    continue
                kind = msg.get("type")
                if kind == "cell":
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
                elif kind == "fatal":
                    blocked = [str(b) for b in msg.get("blocked", blocked)][:50]
                    kill()
                    return _zero(a, str(path), "crashed", f"could not run the notebook: {msg.get('error')}")
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

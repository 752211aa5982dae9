"""Hostile submissions against the grading sandbox, in each isolation mode this machine offers.

Every row is the untouched student notebook plus one hostile cell, so none may score above the
untouched notebook. A hostile cell that *succeeds* at anything it tries ends the process with
exit code 77, so a breach shows up as ``crashed`` (the tests say which row). Around all runs,
the instructor's environment is fingerprinted: the venv's site-packages, the repository's
tracked and untracked files, the user site-packages and the relevant parts of HOME must be
unchanged, and nothing the submissions wrote (markers below) may exist anywhere afterwards.

Modes: the default (``bwrap`` where bubblewrap works, as on CI after tools/setup.sh), the
in-process guard alone (``forkserver``, the fallback), and, where bubblewrap works, the OS
sandbox alone (guard off) to show that each layer holds by itself. Fork and thread bombs are
bounded by the guard's refusals and thread cap; with the guard off they run only where a pids
cgroup is in force.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import pwd
import site
import socket
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import nbformat
import pytest

from ctxembed.grading import grade_folder, load_assignment
from ctxembed.grading.sandbox import bwrap_works, make_pids_cgroup, remove_cgroup

ROOT = Path(__file__).resolve().parent.parent
NAME = "ch01_static_vs_contextual"
ZIP = ROOT / "instructor" / "dist" / f"{NAME}-autograder.zip"
TIMEOUT = 40
MARK = "ctxgrade_breach_marker"
REAL_HOME = pwd.getpwuid(os.getuid()).pw_dir
SITE_PACKAGES = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
                        *site.getsitepackages()})
USER_SITE = site.getusersitepackages()

# Each cell sets `breach` to a list of what worked; the common tail below exits 77 if any did.
TAIL = """
if breach:
    import os
    os._exit(77)
"""

PERSIST = f"""
import os, shutil, pathlib
breach = []
targets = {SITE_PACKAGES + [USER_SITE]!r}
for sp in targets:
    for name, text in (("{MARK}.pth", "/nonexistent/{MARK}\\n"),
                       ("sitecustomize.py", "{MARK.upper()} = 1\\n"),
                       ("usercustomize.py", "{MARK.upper()} = 1\\n")):
        dest = os.path.join(sp, name)
        if os.path.exists(dest):
            continue
        for how in ("open", "os.open", "pathlib", "copy", "rename", "symlink", "dir_fd"):
            try:
                if how == "open":
                    open(dest, "w").write(text)
                elif how == "os.open":
                    os.write(os.open(dest, os.O_WRONLY | os.O_CREAT, 0o644), text.encode())
                elif how == "pathlib":
                    pathlib.Path(dest).write_text(text)
                elif how == "copy":
                    open("payload", "w").write(text)
                    shutil.copyfile("payload", dest)
                elif how == "rename":
                    open("payload", "w").write(text)
                    os.rename("payload", dest)
                elif how == "symlink":
                    if not os.path.lexists("sp_link"):
                        os.symlink(sp, "sp_link")
                    open(os.path.join("sp_link", name), "w").write(text)
                elif how == "dir_fd":
                    d = os.open(sp, os.O_RDONLY)
                    os.write(os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d), text.encode())
                if os.path.exists(dest):
                    breach.append((how, dest))
            except Exception:
                pass
"""

WRITES = f"""
import os, pwd, glob
breach = []
home = {REAL_HOME!r}
repo = {str(ROOT)!r}
news = [os.path.join(repo, "{MARK}.txt"), os.path.join(repo, "lib", "{MARK}.py"),
        os.path.join(home, "{MARK}"), os.path.join(home, ".ipython", "profile_default", "startup", "00-{MARK}.py"),
        os.path.join(home, ".cache", "ctxembed", "{MARK}"),
        "/tmp/{MARK}", "/var/tmp/{MARK}", "/dev/shm/{MARK}", "/dev/{MARK}"]
for p in news:
    try:
        os.makedirs(os.path.dirname(p), exist_ok=True)
    except Exception:
        pass
    try:
        with open(p, "w") as f:
            f.write("x")
        breach.append(p)
    except Exception:
        pass
# existing files: opened for appending with nothing written, so a breach changes no byte
for p in [os.path.join(repo, "README.md"), os.path.join(repo, "pyproject.toml"),
          os.path.join(home, ".bashrc"), os.path.join(home, ".profile")]:
    try:
        if os.path.exists(p):
            open(p, "a").close()
            breach.append(("append", p))
    except Exception:
        pass
try:
    os.utime(os.path.join(repo, "README.md"))
    breach.append("utime")
except Exception:
    pass
"""

NETWORK = """
import socket
breach = []
for family, addr in ((socket.AF_INET, ("127.0.0.1", {port})),):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        try:
            s = socket.socket(family, kind)
            s.settimeout(3)
            if kind == socket.SOCK_STREAM:
                s.connect(addr)
                s.sendall(b"{mark}")
                breach.append("tcp")
            else:
                s.sendto(b"{mark}", addr)
        except Exception:
            pass
try:
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.connect({unix!r})
    u.sendall(b"{mark}")
    breach.append("unix")
except Exception:
    pass
"""

CAPTURE = """
import builtins, sys, os
breach = []
TESTED = ("cosine_similarity", "odd_one_out", "word_vector_from_pieces", "hidden test")
_real = {"compile": builtins.compile, "exec": builtins.exec, "eval": builtins.eval,
         "__import__": builtins.__import__, "print": builtins.print}
def _spy(name):
    real = _real[name]
    def spy(*args, **kwargs):
        seen = " ".join(str(a)[:500] for a in args)
        if any(t in seen for t in TESTED):
            os._exit(77)          # a hidden test's source (or its result) went through the patch
        return real(*args, **kwargs)
    return spy
for name in _real:
    setattr(builtins, name, _spy(name))
def hook(value):
    if value is not None:
        os._exit(77)              # a test's value reached the patched displayhook
sys.displayhook = sys.__displayhook__ = hook
sys.excepthook = sys.__excepthook__ = hook
class Finder:
    def find_spec(self, name, *a, **k):
        return None
sys.meta_path.insert(0, Finder())
import doctest
doctest.DocTestParser.get_examples = lambda *a, **k: os._exit(77)
"""

FRAMES = """
import sys, os, signal, threading, time
breach = []
state = {"tests": False}
def walk(f):
    while f is not None:
        if (f.f_code.co_filename.endswith("guard.py") and f.f_code.co_name != "_example_entry") \
                or "nonce" in f.f_locals or "_builtins" in f.f_locals:
            os._exit(77)          # reached the test runner's frame, and with it its state
        f = f.f_back
def peek(*args, **kwargs):
    state["tests"] = True         # only the hidden tests call this
    for attempt in (lambda: sys._getframe(1), lambda: list(sys._current_frames().values())):
        try:
            got = attempt()
            for f in (got if isinstance(got, list) else [got]):
                walk(f)
        except Exception:
            pass
    try:
        raise RuntimeError
    except RuntimeError as e:
        try:
            walk(e.__traceback__.tb_frame)
        except Exception:
            pass
    return None
def on_alarm(signum, frame):
    if state["tests"]:
        walk(frame)
signal.signal(signal.SIGALRM, on_alarm)
signal.setitimer(signal.ITIMER_REAL, 0.5, 0.05)
def watcher():
    while True:
        if state["tests"]:
            try:
                for f in sys._current_frames().values():
                    walk(f)
            except Exception:
                pass
        time.sleep(0.01)
threading.Thread(target=watcher, daemon=True).start()
cosine_similarity = odd_one_out = word_vector_from_pieces = peek
"""

PRINT_TRUE = """
import builtins, sys, doctest
import numpy as np
breach = []
_compile = builtins.compile
def compile_true(source, filename, mode, *a, **k):
    return _compile("print(True)", filename, mode, *a, **k)
builtins.compile = compile_true
_exec = builtins.exec
builtins.exec = lambda code, *a, **k: _exec(_compile("print(True)", "x", "exec"), *a, **k)
sys.displayhook = sys.__displayhook__ = lambda value: print(True)
doctest.OutputChecker.check_output = lambda *a, **k: True
np.isclose = np.allclose = np.array_equal = lambda *a, **k: True
np.shape = lambda *a, **k: (384,)
class Yes:
    def __repr__(self): return "True"
    __eq__ = __lt__ = __gt__ = __le__ = __ge__ = lambda self, other: Yes()
    def __bool__(self): return True
"""

FORK_BOMB = """
import os, time, subprocess, multiprocessing
breach = []
started = 0
for how in ("fork", "subprocess", "posix_spawn", "fork_exec", "multiprocessing", "pty"):
    for _ in range(200):
        try:
            if how == "fork":
                pid = os.fork()
                if pid == 0:
                    time.sleep(300)
                    os._exit(0)
            elif how == "subprocess":
                subprocess.Popen(["sleep", "300"])
            elif how == "posix_spawn":
                os.posix_spawn("/bin/sleep", ["sleep", "300"], os.environ)
            elif how == "fork_exec":
                import _posixsubprocess
                _posixsubprocess.fork_exec(["/bin/sleep", "300"], [b"/bin/sleep"], True, (), None, None,
                                           -1, -1, -1, -1, -1, -1, *(os.pipe()), False, False, -1, None,
                                           None, None, -1, None, False)
            elif how == "multiprocessing":
                multiprocessing.Process(target=time.sleep, args=(300,)).start()
            elif how == "pty":
                import pty
                pid, fd = pty.fork()
                if pid == 0:
                    time.sleep(300)
                    os._exit(0)
            started += 1
        except Exception:
            break
if started >= 150:
    breach.append(started)     # bounded by the sandbox only if it is well below the attempts
print("started", started)
"""

THREAD_BOMB = """
import threading, time
breach = []
n = 0
for _ in range(5000):
    try:
        threading.Thread(target=time.sleep, args=(300,), daemon=True).start()
        n += 1
    except Exception:
        break
if n >= 1000:
    breach.append(n)
print("threads", n)
"""

PROC = """
import os
breach = []
grader = {grader_pid}
for pid in [str(grader), f"self/../{grader}", str(os.getppid()), "1", "2"]:
    for what in ("mem", "environ", "maps", "cmdline"):
        try:
            with open(f"/proc/{pid}/{what}", "rb") as f:
                data = f.read(65536)
            if pid.endswith(str(grader)) or b"\\x00pytest\\x00" in data or b"PYTEST_CURRENT_TEST" in data:
                breach.append((pid, what))        # the grader's own process
        except Exception:
            pass
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            if b"\\x00pytest\\x00" in open(f"/proc/{entry}/cmdline", "rb").read():
                breach.append(entry)
        except Exception:
            pass
for p in ("/proc/kcore", "/dev/mem"):
    try:
        open(p, "rb").read(16)
        breach.append(p)
    except Exception:
        pass
"""

ROWS = {"persist_site_packages": PERSIST, "write_repo_home_tmp": WRITES, "network": NETWORK,
        "capture_tests": CAPTURE, "frames_during_tests": FRAMES, "rewrite_tests_print_true": PRINT_TRUE,
        "fork_bomb": FORK_BOMB, "thread_bomb": THREAD_BOMB, "read_grader_memory": PROC}
BOMBS = ("fork_bomb", "thread_bomb")
# With the guard off only the OS sandbox is tested: the rows it is meant to stop.
OS_ROWS = ("persist_site_packages", "write_repo_home_tmp", "network", "read_grader_memory", *BOMBS)


# --------------------------------------------------------------------------- #
# Fingerprint of the instructor's environment
# --------------------------------------------------------------------------- #
def _tree(folder: Path, content: bool) -> dict:
    out = {}
    if not folder.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != "pip"]
        for name in filenames:
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            key = (st.st_size, st.st_mtime_ns, st.st_mode)
            if content and os.path.isfile(p) and not os.path.islink(p):
                key += (hashlib.sha256(Path(p).read_bytes()).hexdigest(),)
            out[p] = key
    return out


def fingerprint() -> dict:
    fp = {}
    for sp in SITE_PACKAGES:
        fp.update(_tree(Path(sp), content=False))
        for p in Path(sp).glob("*"):            # where persistence would go: byte for byte
            if p.is_file():
                fp[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    fp.update(_tree(Path(USER_SITE), content=True))
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        p = ROOT / rel
        if p.is_file():
            fp[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    fp[str(ZIP)] = hashlib.sha256(ZIP.read_bytes()).hexdigest()
    home = Path(REAL_HOME)
    for rel in (".bashrc", ".profile", ".bash_profile", ".ipython", ".config/matplotlib", ".local/bin",
                ".jupyter", ".cache/ctxembed"):
        p = home / rel
        if p.is_file():
            fp[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            fp.update({f"home:{k}": v for k, v in _tree(p, content=rel != ".cache/ctxembed").items()})
    return fp


def changes(before: dict, after: dict) -> list[str]:
    """Keys that differ. Under HOME only files that existed before count: other programs on a
    shared machine (the book build's caches) add files there; new files a submission could
    leave are caught by the marker search."""
    return sorted(k for k in set(before) | set(after)
                  if before.get(k) != after.get(k) and not (k.startswith("home:") and k not in before))


def markers() -> list[str]:
    places = [Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), ROOT, ROOT / "lib", Path(REAL_HOME),
              Path(REAL_HOME) / ".cache" / "ctxembed", Path(USER_SITE), *map(Path, SITE_PACKAGES)]
    found = []
    for place in places:
        if place.is_dir():
            found += [str(p) for p in place.iterdir() if MARK in p.name or p.name in ("sitecustomize.py", "usercustomize.py")
                      and MARK.upper() in p.read_text(errors="replace")]
    return found


# --------------------------------------------------------------------------- #
class Listener:
    """TCP, UDP and Unix listeners on this machine that record any byte a submission sends."""

    def __init__(self, folder: Path):
        self.got: list = []
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", self.port))
        self.unix_path = str(folder / "grader.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.unix_path)
        self.unix.listen(8)
        for s in (self.tcp, self.udp, self.unix):
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    def _serve(self, s):
        while True:
            try:
                if s.type == socket.SOCK_DGRAM:
                    self.got.append(("udp", s.recv(100)))
                else:
                    conn, _ = s.accept()
                    self.got.append(("conn", conn.recv(100)))
            except OSError:
                return

    def close(self):
        for s in (self.tcp, self.udp, self.unix):
            s.close()


def modes() -> list[tuple[str, bool]]:
    out = [("forkserver", True)]
    if bwrap_works():
        out = [("bwrap", True), *out, ("bwrap", False)]
    return out


def pids_limit_here() -> bool:
    cg = make_pids_cgroup(f"ctxgrade-test-probe-{os.getpid()}")
    remove_cgroup(cg)
    return cg is not None


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Grade the hostile rows in every mode; return {(mode, guard): {row: csv row}} and the checks."""
    if not ZIP.exists():
        subprocess.run([sys.executable, str(ROOT / "tools" / "build_exercises.py"), NAME], check=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    load_assignment(ZIP).test_files()          # the grader's own imports, before the fingerprint
    student = nbformat.read(ROOT / "exercises" / f"{NAME}.ipynb", as_version=4)
    sock_dir = tmp_path_factory.mktemp("sock")
    listener = Listener(sock_dir)
    before = fingerprint()
    results = {}
    try:
        for mode, guard in modes():
            folder = tmp_path_factory.mktemp(f"hostile-{mode}-{guard}")
            nbformat.write(student, folder / "untouched.ipynb")
            for row, src in ROWS.items():
                if not guard and (row not in OS_ROWS or (row in BOMBS and not pids_limit_here())):
                    continue      # in-process tampering needs the guard; unbounded bombs: never
                src = (src.replace("{port}", str(listener.port)).replace("{unix!r}", repr(listener.unix_path))
                       .replace("{mark}", MARK).replace("{grader_pid}", str(os.getpid())))
                nb = copy.deepcopy(student)
                nb.cells.append(nbformat.v4.new_code_cell(src + TAIL))
                nbformat.write(nb, folder / f"{row}.ipynb")
            out = tmp_path_factory.mktemp(f"out-{mode}-{guard}")
            if guard:
                grade_folder(folder, ZIP, out, workers=2, timeout=TIMEOUT, memory_mb=1024,
                             isolation=mode, quiet=True)
            else:
                from ctxembed.grading.runner import Grader
                from ctxembed.grading.cli import write_gradebook
                g = Grader(ZIP, timeout=TIMEOUT, memory_mb=1024, workers=2, isolation=mode, guard=False,
                           protect=[ROOT / "instructor", ROOT / "solutions", folder, out])
                try:
                    files = sorted(folder.iterdir())
                    res = g.grade_many(files)
                finally:
                    g.close()
                write_gradebook(res, g.assignment.questions, out / "gradebook.csv", folder)
            with open(out / "gradebook.csv", encoding="utf-8") as f:
                results[(mode, guard)] = {Path(r["file"]).stem: r for r in csv.DictReader(f)}
            results[(mode, guard)]["_isolation"] = (out / "isolation.txt").read_text() if guard else ""
    finally:
        listener.close()
    after = fingerprint()
    changed = changes(before, after)
    return {"results": results, "changed": changed, "markers": markers(), "network": listener.got}


def _print_matrix(results):
    for (mode, guard), rows in results.items():
        print(f"\n== {mode} (guard {'on' if guard else 'off'}) ==")
        for row, r in rows.items():
            if not row.startswith("_"):
                print(f"{row:28s} {r['status']:12s} {r['total']:>4s}/{r['max']}  {r['reason'][:160]}")


def test_every_hostile_row_is_graded_no_higher_than_untouched(hostile):
    _print_matrix(hostile["results"])
    for (mode, guard), rows in hostile["results"].items():
        base = float(rows["untouched"]["total"])
        assert rows["untouched"]["status"] == "ok", (mode, guard, rows["untouched"])
        for row in ROWS:
            if row not in rows:
                assert not guard
                continue
            r = rows[row]
            assert r["reason"].strip(), r
            assert "exited with code 77" not in r["reason"], (mode, guard, row, r)   # a breach
            assert float(r["total"]) <= base, (mode, guard, row, r)


def test_nothing_persists_and_the_environment_is_unchanged(hostile):
    assert hostile["markers"] == []
    assert hostile["changed"] == [], hostile["changed"][:20]


def test_no_network_connection_reached_the_machine(hostile):
    assert hostile["network"] == []


def test_the_guard_says_what_it_refused(hostile):
    for (mode, guard), rows in hostile["results"].items():
        if not guard:
            continue
        for row in ("persist_site_packages", "write_repo_home_tmp", "network", "read_grader_memory", "fork_bomb"):
            assert "sandbox refused" in rows[row]["reason"], (mode, row, rows[row])
        assert "thread" in rows["thread_bomb"]["reason"] or rows["thread_bomb"]["status"] == "ok"


def test_the_output_states_the_isolation_mode(hostile):
    for (mode, guard), rows in hostile["results"].items():
        if guard:
            text = rows["_isolation"]
            assert text.startswith(f"isolation={mode}:"), text
            assert "stop" in text
            if mode == "forkserver":
                assert "does NOT stop native code" in text

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
cgroup is in force. With ``CI`` set the bubblewrap rows always run: where bubblewrap cannot
start they fail, never skip.

The last part grades, with the ``ctxembed-grade`` command, from a copy of the course and a venv
that both live under /tmp (as after ``git clone`` into ``mktemp -d``), as root and as a user
without privileges, and with a bubblewrap that cannot start.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import pwd
import shutil
import site
import socket
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest

from ctxembed_instructor.grading import grade_folder, load_assignment
from ctxembed_instructor.grading.sandbox import (
    bwrap_works,
    make_pids_cgroup,
    remove_cgroup,
)

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


def namespaces_work() -> bool:
    """Can bubblewrap create its namespaces on this machine at all (whatever the course does)?"""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    proc = subprocess.run([exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                           "--unshare-net", "--unshare-pid", "--unshare-ipc", "true"],
                          capture_output=True, timeout=30, check=False)
    return proc.returncode == 0


# On CI (tools/setup.sh installs bubblewrap) the sandbox must be there: a test that needs it fails
# instead of quietly testing another mode.
EXPECT_BWRAP = bool(os.environ.get("CI")) or namespaces_work()


def modes() -> list[tuple[str, bool]]:
    out = [("forkserver", True)]
    if EXPECT_BWRAP:
        out = [("bwrap", True), *out, ("bwrap", False)]
    return out


def test_bubblewrap_is_in_the_sandbox_tests_where_it_can_run():
    assert bwrap_works() == EXPECT_BWRAP, (
        "bubblewrap can create namespaces here (or CI is set), but the course's sandbox probe "
        "says it does not start" if EXPECT_BWRAP else "the probe says bwrap works; namespaces fail")
    assert [m for m in modes() if m[0] == "bwrap"] == ([("bwrap", True), ("bwrap", False)]
                                                       if EXPECT_BWRAP else [])


def pids_limit_here() -> bool:
    cg = make_pids_cgroup(f"ctxgrade-test-probe-{os.getpid()}")
    remove_cgroup(cg)
    return cg is not None


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Grade the hostile rows in every mode; return {(mode, guard): {row: csv row}} and the checks."""
    if not ZIP.exists():
        subprocess.run([sys.executable, "-m", "ctxembed_instructor.exercises", NAME], check=True,
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
                from ctxembed_instructor.grading.cli import write_gradebook
                from ctxembed_instructor.grading.runner import Grader
                g = Grader(ZIP, timeout=TIMEOUT, memory_mb=1024, workers=2, isolation=mode, guard=False,
                           protect=[ROOT / "instructor" / "masters", ROOT / "instructor" / "dist",
                                    ROOT / "solutions", folder, out])
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_nothing_persists_and_the_environment_is_unchanged(hostile):
    assert hostile["markers"] == []
    assert hostile["changed"] == [], hostile["changed"][:20]


@pytest.mark.slow
def test_no_network_connection_reached_the_machine(hostile):
    assert hostile["network"] == []


@pytest.mark.slow
def test_the_guard_says_what_it_refused(hostile):
    for (mode, guard), rows in hostile["results"].items():
        if not guard:
            continue
        for row in ("persist_site_packages", "write_repo_home_tmp", "network", "read_grader_memory", "fork_bomb"):
            assert "sandbox refused" in rows[row]["reason"], (mode, row, rows[row])
        assert "thread" in rows["thread_bomb"]["reason"] or rows["thread_bomb"]["status"] == "ok"


@pytest.mark.slow
def test_the_output_states_the_isolation_mode(hostile):
    for (mode, guard), rows in hostile["results"].items():
        if guard:
            text = rows["_isolation"]
            assert text.startswith(f"isolation={mode}:"), text
            assert "stop" in text
            if mode == "forkserver":
                assert "does NOT stop native code" in text


# --------------------------------------------------------------------------- #
# Wherever the course lives: a copy and a venv under /tmp, as root and as a normal user
# --------------------------------------------------------------------------- #
PY = f"python{sys.version_info.major}.{sys.version_info.minor}"
STOLEN = 77

THIEF = """
import os
stolen = []
for p in {paths!r}:
    try:
        with open(p, "rb") as f:
            if f.read(64):
                stolen.append(p)
    except Exception:
        pass
if stolen:
    os._exit({code})
"""


def _make_venv(base_python: str, venv: Path, path_entries: list[str]) -> Path:
    """A venv at ``venv`` whose imports come from ``path_entries`` (a .pth file), no pip."""
    subprocess.run([base_python, "-m", "venv", "--without-pip", str(venv)], check=True)
    (venv / "lib" / PY / "site-packages" / "course.pth").write_text("\n".join(path_entries) + "\n")
    return venv / "bin" / "python"


@pytest.fixture(scope="module")
def course_in_tmp():
    """The course (its library, the instructor package and the built autograder) copied under
    /tmp, a venv beside it.

    The venv has no packages of its own: a .pth file lends it this venv's site-packages, and
    ``ctxembed`` and ``ctxembed_instructor`` are imported from the copy (checked), so the
    grader's repository, venv and interpreter prefix are all under /tmp, which the sandbox
    covers with a fresh tmpfs.
    """
    if not ZIP.exists():
        subprocess.run([sys.executable, "-m", "ctxembed_instructor.exercises", NAME],
                       check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    top = Path(tempfile.mkdtemp(prefix="ctxcourse-", dir="/tmp"))
    repo = top / "repo"
    shutil.copytree(ROOT / "lib", repo / "lib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "instructor" / "ctxembed_instructor",
                    repo / "instructor" / "ctxembed_instructor",
                    ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "instructor" / "dist").mkdir(parents=True)
    zip_path = Path(shutil.copy(ZIP, repo / "instructor" / "dist"))
    (repo / "solutions").mkdir()
    shutil.copy(ROOT / "solutions" / f"{NAME}.ipynb", repo / "solutions")
    (repo / "answer_key").mkdir()
    (repo / "answer_key" / "key.txt").write_text("q1: the instructor's private answers\n")
    (top / "pkgs").mkdir()
    (top / "pkgs" / "ctxembed").symlink_to(repo / "lib")
    (top / "pkgs" / "ctxembed_instructor").symlink_to(repo / "instructor" / "ctxembed_instructor")
    site_dirs = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    python = _make_venv(sys._base_executable, top / "venv", [str(top / "pkgs"), *site_dirs])
    show = "import ctxembed, ctxembed_instructor, sys; " \
           "print(ctxembed.__file__, ctxembed_instructor.__file__, sys.prefix)"
    where = subprocess.run([str(python), "-c", show],
                           capture_output=True, text=True, check=True).stdout.split()
    assert where == [str(top / "pkgs" / "ctxembed" / "__init__.py"),
                     str(top / "pkgs" / "ctxembed_instructor" / "__init__.py"), str(top / "venv")], where
    solution = nbformat.read(ROOT / "solutions" / f"{NAME}.ipynb", as_version=4)
    student = nbformat.read(ROOT / "exercises" / f"{NAME}.ipynb", as_version=4)
    try:
        yield {"top": top, "repo": repo, "zip": zip_path, "python": python, "pkgs": top / "pkgs",
               "site_dirs": site_dirs, "solution": solution, "student": student}
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _instructor_folder(course, folder: Path) -> Path:
    """Per-student folders, two tries of one student, a nested file, a checkpoint, a thief,
    a file that is not a notebook and a symbolic link to the reference solution."""
    solution, student, repo = course["solution"], course["student"], course["repo"]
    (folder / "alice" / ".ipynb_checkpoints").mkdir(parents=True)
    nbformat.write(solution, folder / "alice" / "first.ipynb")
    nbformat.write(student, folder / "alice" / "second.ipynb")
    nbformat.write(solution, folder / "alice" / ".ipynb_checkpoints" / "second-checkpoint.ipynb")
    hour_ago = time.time() - 3600
    os.utime(folder / "alice" / "first.ipynb", (hour_ago, hour_ago))
    (folder / "carol" / "late").mkdir(parents=True)
    nbformat.write(solution, folder / "carol" / "late" / "work.ipynb")
    thief = copy.deepcopy(student)
    paths = [str(repo / "solutions" / f"{NAME}.ipynb"), str(repo / "answer_key" / "key.txt"),
             str(course["zip"])]
    thief.cells.append(nbformat.v4.new_code_cell(THIEF.format(paths=paths, code=STOLEN)))
    nbformat.write(thief, folder / "bob__v1.ipynb")
    (folder / "dave.txt").write_text("my answers are in the notebook I forgot to attach\n")
    (folder / "eve.ipynb").symlink_to(repo / "solutions" / f"{NAME}.ipynb")
    return folder


def grade_cli(course, subs: Path, out: Path, *extra, env=None, prefix=(), python=None):
    """Run ``python -m ctxembed_instructor.grading.cli grade`` as an instructor would; return the process."""
    argv = [*prefix, str(python or course["python"]), "-m", "ctxembed_instructor.grading.cli", "grade",
            str(subs), "--assignment", str(course["zip"]), "--out", str(out), "--workers", "2",
            "--timeout", str(TIMEOUT), "--memory", "1024", *extra]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=course["top"],
                          timeout=600, check=False)


def _rows(out: Path) -> dict:
    with open(out / "gradebook.csv", encoding="utf-8") as f:
        return {r["file"]: r for r in csv.DictReader(f)}


def _check_instructor_folder(rows: dict, out: Path) -> None:
    """What an instructor relies on, whichever isolation graded the folder."""
    assert sorted(rows) == ["alice/first.ipynb", "alice/second.ipynb", "bob__v1.ipynb",
                            "carol/late/work.ipynb", "dave.txt", "eve.ipynb"], sorted(rows)
    assert {f: r["student"] for f, r in rows.items()} == {
        "alice/first.ipynb": "alice", "alice/second.ipynb": "alice", "bob__v1.ipynb": "bob",
        "carol/late/work.ipynb": "carol", "dave.txt": "dave", "eve.ipynb": "eve"}
    first, second = rows["alice/first.ipynb"], rows["alice/second.ipynb"]
    assert float(first["total"]) == float(first["max"]) > float(second["total"]), (first, second)
    # --keep best: the older, better try counts, not the latest
    assert (first["counted"], second["counted"]) == ("yes", "no"), (first, second)
    assert "first.ipynb is this student's best submission" in second["reason"]
    carol = rows["carol/late/work.ipynb"]
    assert carol["status"] == "ok" and float(carol["total"]) == float(carol["max"]), carol
    dave = rows["dave.txt"]
    assert dave["status"] == "invalid" and float(dave["total"]) == 0 and dave["counted"] == "yes"
    eve = rows["eve.ipynb"]     # a link to the reference solution: listed, never followed
    assert eve["status"] == "invalid" and float(eve["total"]) == 0, eve
    assert "symbolic link" in eve["reason"], eve
    bob = rows["bob__v1.ipynb"]
    # exit 77: the submission read the solutions, the --protect'ed answer key or the hidden tests
    assert f"exited with code {STOLEN}" not in bob["reason"] and bob["status"] == "ok", bob
    assert float(bob["total"]) == float(second["total"]), (bob, second)
    feedback = sorted(p.name for p in (out / "feedback").glob("*.md"))
    assert feedback == ["alice.md", "bob.md", "carol.md", "dave.md", "eve.md"], feedback
    alice = (out / "feedback" / "alice.md").read_text(encoding="utf-8")
    assert alice.index("# first.ipynb") < alice.index("# second.ipynb (not counted)")


def _grade_lines(proc) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


@pytest.mark.slow
def test_course_and_venv_under_tmp_graded_with_auto(course_in_tmp, tmp_path):
    """`auto` from a clone under /tmp: bubblewrap where it can run, the whole folder graded."""
    subs = _instructor_folder(course_in_tmp, tmp_path / "subs")
    out = tmp_path / "out"
    proc = grade_cli(course_in_tmp, subs, out, "--keep", "best",
                     "--protect", str(course_in_tmp["repo"] / "answer_key"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = _grade_lines(proc)
    mode = "bwrap" if EXPECT_BWRAP else "forkserver"
    assert lines[0].startswith(f"[grade] isolation={mode}: "), lines[:2]
    assert "Traceback" not in proc.stderr
    _check_instructor_folder(_rows(out), out)
    assert (out / "isolation.txt").read_text().startswith(f"isolation={mode}: ")


FAKE_BWRAP = """#!/bin/sh
# bubblewrap that passes the trivial `bwrap ... true` check and cannot start anything real
for last; do :; done
[ "$last" = true ] && exit 0
echo "bwrap: execvp $2: No such file or directory" >&2
exit 1
"""


@pytest.fixture(scope="module")
def broken_bwrap(course_in_tmp):
    folder = course_in_tmp["top"] / "broken-bwrap"
    folder.mkdir()
    (folder / "bwrap").write_text(FAKE_BWRAP)
    (folder / "bwrap").chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.slow
def test_auto_falls_back_to_the_guard_and_says_so_first(course_in_tmp, broken_bwrap, tmp_path):
    """Bubblewrap installed but unable to start the real sandbox: `auto` grades with the guard,
    says why in its first line, and loses no submission."""
    subs = _instructor_folder(course_in_tmp, tmp_path / "subs")
    out = tmp_path / "out"
    proc = grade_cli(course_in_tmp, subs, out, "--keep", "best", "--protect",
                     str(course_in_tmp["repo"] / "answer_key"), env=broken_bwrap)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first = _grade_lines(proc)[0]
    assert first.startswith("[grade] isolation=forkserver: bubblewrap's sandbox does not start "
                            "here (bwrap: execvp"), first
    assert "No such file or directory), so: in-process guard only" \
        in first, first
    assert "Traceback" not in proc.stderr
    _check_instructor_folder(_rows(out), out)


def test_explicit_bwrap_that_cannot_start_is_one_clear_line(course_in_tmp, broken_bwrap, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(course_in_tmp["solution"], subs / "alice.ipynb")
    proc = grade_cli(course_in_tmp, subs, tmp_path / "out", "--isolation", "bwrap", env=broken_bwrap)
    assert proc.returncode != 0 and proc.stdout == ""
    lines = _grade_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("ctxembed-grade: --isolation bwrap: the bubblewrap sandbox does not "
                               "start here: bwrap: execvp"), lines
    assert "--isolation auto" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def _usable_by_anyone(path: Path) -> bool:
    path = path.resolve()
    return all(p.stat().st_mode & 0o001 for p in path.parents) and path.stat().st_mode & 0o005 == 0o005


@pytest.mark.slow
def test_a_normal_user_grades_with_bwrap_from_tmp(course_in_tmp):
    """As a user without privileges (nobody, when the tests run as root): bubblewrap must use
    user namespaces. The venv is made from a system interpreter anyone may run, this venv's
    site-packages are bind-mounted where that user can read them (a clone in `mktemp -d` is
    private to root), and the folders it reads are made readable."""
    top = course_in_tmp["top"]
    subs = top / "nobody-subs"
    subs.mkdir()
    nbformat.write(course_in_tmp["solution"], subs / "alice.ipynb")
    # The reference solution plus a thread bomb: for a normal user RLIMIT_NPROC counts threads,
    # and the test runner's own fork must still fit under it once the bomb has hit the cap.
    bomb = copy.deepcopy(course_in_tmp["solution"])
    bomb.cells.append(nbformat.v4.new_code_cell(THREAD_BOMB))
    nbformat.write(bomb, subs / "mallory.ipynb")
    out = top / "nobody-out"
    if os.geteuid() != 0:     # already a normal user: the course's own venv is under /tmp
        prefix, python = (), course_in_tmp["python"]
    else:
        base = Path(f"/usr/bin/{PY}")
        assert base.exists() and _usable_by_anyone(base), \
            f"no {base}: install Debian's {PY} (the same version as this venv) for this test"
        user = top / "nobody"
        user.mkdir()
        (user / "home").mkdir()
        out.mkdir()
        mounts = []
        for i, sp in enumerate(course_in_tmp["site_dirs"]):
            (user / f"sp{i}").mkdir()
            mounts.append((sp, user / f"sp{i}"))
        entries = [str(course_in_tmp["pkgs"]), *(str(m) for _, m in mounts)]
        script = "set -e\n" + "".join(f"mount --bind '{s}' '{m}'\n" for s, m in mounts)
        script += f"'{base}' -m venv --without-pip '{user / 'venv'}'\n"
        script += f"printf '%s\\n' {' '.join(repr(e) for e in entries)} > " \
                  f"'{user / 'venv' / 'lib' / PY / 'site-packages' / 'course.pth'}'\n"
        script += 'exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"\n'
        for p in [top, *top.rglob("*")]:     # only what this test made
            if not p.is_symlink():
                p.chmod(p.stat().st_mode | (0o005 if p.is_dir() else 0o004))
        for p in (user / "home", out):
            os.chown(p, 65534, 65534)
        prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh")
        python = user / "venv" / "bin" / "python"
    proc = grade_cli(course_in_tmp, subs, out / "grades", "--isolation", "bwrap", prefix=prefix,
                     python=python, env={"HOME": str(top / "nobody" / "home")} if prefix else None)
    if not EXPECT_BWRAP:
        assert proc.returncode != 0 and "--isolation bwrap: the bubblewrap sandbox does not start" \
            in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        return
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _grade_lines(proc)[0].startswith("[grade] isolation=bwrap: "), proc.stderr[:500]
    rows = _rows(out / "grades")
    assert sorted(rows) == ["alice.ipynb", "mallory.ipynb"], rows
    for row in rows.values():       # the bomb's threads are refused, its answers still graded
        assert row["status"] == "ok" and float(row["total"]) == float(row["max"]), row

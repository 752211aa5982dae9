"""OS-level isolation for grading: bubblewrap, Docker, pids cgroups, and what each mode stops.

``bwrap`` (Debian ``bubblewrap``) gives each grading worker a sandbox in which:

- the whole filesystem is mounted read-only (``--ro-bind / /``), ``/tmp`` and ``/dev`` are
  fresh and read-only, and the only writable place is the worker's scratch folder, which the
  grader empties after every submission;
- the instructor's home folder is replaced by an empty one; on top of the fresh ``/tmp`` and
  home, what the grader reads is bound back read-only wherever it lives: the venv and the
  interpreter, the course, ``sys.path``, the course, Hugging Face and NLTK caches (a clone
  and venv under /tmp work as well as under HOME or on another mount); the protected folders
  (``instructor/``, ``solutions/``, ``--protect``, the submissions and output folders) are
  then covered by empty read-only folders;
- there is no network (``--unshare-net``: only a loopback device nobody listens on), its own
  PID namespace (``--unshare-pid``: no other process is visible or can be signalled), its own
  IPC and UTS namespaces, no capabilities (``--cap-drop ALL``), a new session (no terminal
  injection), and it dies with the grader (``--die-with-parent``).

A pids cgroup (when the grader may create one) bounds processes *and* threads per sandbox.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from ..paths import repo_dir

PIDS_MAX = 128   # per sandbox: the server and its runtime threads, the child, its 64 threads

MODES = {
    "bwrap": (
        "bubblewrap sandbox + in-process guard",
        ("stops: writes outside the submission's scratch folder (the filesystem is read-only), "
         "network access, seeing or signalling other processes (own PID namespace), reading the "
         "home folder, the instructor and solutions folders or other submissions, fork/thread "
         "bombs (pids cgroup{cg}); does not stop: reading the rest of the filesystem read-only "
         "(the course repository, the venv), CPU use up to the time limit, a kernel exploit")),
    "docker": (
        "Docker container + in-process guard (not covered by the course's tests: no Docker there)",
        ("stops: network (--network=none), writes outside the container's own layer and the "
         "mounted scratch folder, other processes, fork bombs (--pids-limit); does not stop: "
         "what the image itself contains, a container escape")),
    "forkserver": (
        "in-process guard only (audit hooks; no OS sandbox)",
        ("stops plain Python writes outside the submission's folder, sockets, subprocesses, "
         "ctypes, reads of protected files and other processes' memory; does NOT stop native "
         "code (a compiled extension, a crafted bytecode path the hooks miss) from doing "
         "anything your user can do: install bubblewrap (apt-get install bubblewrap) for a real "
         "sandbox")),
    "fresh": (
        "in-process guard only, a new interpreter per submission (no OS sandbox)",
        "as forkserver"),
}


def describe(mode: str, cgroup: bool = False) -> str:
    """One line: which isolation is in force and what it does and does not stop."""
    name, what = MODES.get(mode, (mode, ""))
    return f"{name}; {what.format(cg='' if cgroup else ': not available here, RLIMIT_NPROC and the thread cap instead')}"


PROBE_CODE = "import ctxembed_instructor.grading.child"


def server_env(scratch: Path) -> dict:
    """The environment of a sandboxed server: minimal, since it can read its init's (bwrap's)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "VIRTUAL_ENV", "PYTHONPATH", "NLTK_DATA",
            "HF_HOME", "HF_HUB_CACHE", "TRANSFORMERS_CACHE", "TZ")
    env = {k: v for k, v in os.environ.items() if k in keep or k.startswith("CTXEMBED_")}
    return {**env, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", "MPLBACKEND": "Agg",
            "TORCHINDUCTOR_CACHE_DIR": str(scratch / ".torchinductor"),
            "TRITON_CACHE_DIR": str(scratch / ".triton")}


def sandboxed(argv: list[str], cgroup: Path | None) -> list[str]:
    """``argv`` (a bwrap command line), started inside the pids cgroup ``cgroup`` if there is one."""
    if cgroup is None:
        return argv
    return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup), *argv]


def probe(scratch_root: Path, hide=(), cgroup: bool = False) -> str | None:
    """Start the real sandbox once, with this interpreter importing the grader; None if it works.

    Runs what a grading worker runs (:func:`bwrap_argv` with the same hidden paths, scratch
    folder, environment and pids cgroup, and ``sys.executable``), with a one-line command
    instead of the server. Returns the reason it failed otherwise: one line, bwrap's or
    Python's own last words.
    """
    exe = shutil.which("bwrap")
    if not exe:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="probe", dir=scratch_root))
    cg = make_pids_cgroup(f"ctxembed-grade-probe-{os.getpid()}-{scratch.name}") if cgroup else None
    try:
        argv = bwrap_argv(scratch, scratch_root, hide=hide)
        argv[0] = exe
        argv += [sys.executable, "-c", PROBE_CODE]
        try:
            proc = subprocess.run(sandboxed(argv, cg), capture_output=True, text=True, timeout=120,
                                  stdin=subprocess.DEVNULL, env=server_env(scratch), check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"{type(e).__name__}: {e}"
        if proc.returncode == 0:
            return None
        lines = [line.strip() for line in (proc.stderr + proc.stdout).splitlines() if line.strip()]
        return lines[-1] if lines else f"exit status {proc.returncode}, no output"
    finally:
        remove_cgroup(cg)
        shutil.rmtree(scratch, ignore_errors=True)


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """True when the grading sandbox starts on this machine (:func:`probe`, run once)."""
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="ctxgrade-probe-"))
    try:
        return probe(root) is None
    finally:
        shutil.rmtree(root, ignore_errors=True)


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15,
                              check=False).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _inside(path: str, root: str) -> bool:
    return path != root and path.startswith(root.rstrip("/") + "/")


def needed_paths(repo: Path) -> list[Path]:
    """What the sandboxed server reads: the interpreter and venv, the course, sys.path, caches.

    Each path as Python spells it (``sys.prefix`` may run through a symbolic link) and resolved.
    """
    home = Path.home()
    real_home = _account_home() or home
    want = [Path(sys.executable).parent.parent, Path(sys.prefix), Path(sys.base_prefix),
            Path(sys.exec_prefix), Path(sys.base_exec_prefix), Path(repo),
            *_package_roots()]   # where `import ctxembed` and this package are found
    for h in {home, real_home}:
        want += [h / ".cache" / "ctxembed", h / ".cache" / "huggingface", h / "nltk_data"]
    for var in ("CTXEMBED_CACHE", "CTXEMBED_NLTK_DATA", "HF_HOME", "HF_HUB_CACHE",
                "TRANSFORMERS_CACHE"):
        if os.environ.get(var):
            want.append(Path(os.environ[var]))
    for var in ("NLTK_DATA", "PYTHONPATH"):
        want += [Path(p) for p in os.environ.get(var, "").split(os.pathsep) if p]
    # sys.path[0] of `python -m` is the working folder: the server does not import from it
    want += [Path(p) for p in sys.path if p and os.path.abspath(p) != os.getcwd()]
    out: list[Path] = []
    for w in want:
        spelled = Path(os.path.abspath(w))
        try:
            real = w.resolve()
        except OSError:
            continue
        for p in (real, spelled):
            if p.exists() and p not in out:
                out.append(p)
    return out


def _package_roots() -> list[Path]:
    """The folders ``import ctxembed`` and ``import ctxembed_instructor`` load from (an editable
    install's source folders are outside the venv)."""
    import importlib.util

    roots = []
    for name in ("ctxembed", "ctxembed_instructor"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            roots.append(Path(os.path.abspath(spec.origin)).parents[1])
    return roots


def _account_home() -> Path | None:
    """The user's home folder from the password database (HOME may point elsewhere)."""
    try:
        import pwd

        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError):
        return None


def bwrap_argv(scratch: Path, scratch_root: Path, hide=(), repo: Path | None = None) -> list[str]:
    """The bubblewrap command line for one worker's sandbox (see the module docstring).

    Mount order matters: first the fresh, empty folders (``/tmp``, HOME), then, on top of them,
    read-only binds of what the server needs wherever it lives (:func:`needed_paths`: a venv or a
    clone under /tmp or HOME included), then the scratch root and the protected paths covered
    by empty folders, last the worker's own scratch folder.
    """
    argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    repo = Path(repo or repo_dir())
    scratch_root = Path(scratch_root).resolve()
    masked = ["/tmp"]
    home = Path.home().resolve()
    if home != Path("/") and home.is_dir() and not _inside(str(home), "/tmp"):
        argv += ["--tmpfs", str(home)]
        masked.append(str(home))
    binds: dict[str, Path] = {}     # where it appears in the sandbox -> the real folder or file
    for p in needed_paths(repo):
        dest = str(p)
        if any(_inside(dest, m) for m in masked) and dest != str(scratch_root):
            binds.setdefault(dest, p.resolve())
    for dest in sorted(binds, key=lambda d: (len(Path(d).parts), d)):
        shown_by_parent = any(_inside(dest, d) and src / Path(dest).relative_to(d) == binds[dest]
                              for d, src in binds.items())
        if not shown_by_parent:
            argv += ["--ro-bind", str(binds[dest]), dest]
    argv += ["--tmpfs", str(scratch_root)]
    for p in hide:
        p = Path(p).resolve()
        if not p.exists() or p == Path("/"):
            continue
        if p.is_dir():
            argv += ["--tmpfs", str(p), "--remount-ro", str(p)]
        else:
            argv += ["--ro-bind", "/dev/null", str(p)]
    argv += ["--bind", str(scratch), str(scratch)]
    for p in [*masked, str(scratch_root), "/dev"]:
        argv += ["--remount-ro", p]
    argv += ["--chdir", str(scratch), "--setenv", "TMPDIR", str(scratch),
             "--setenv", "MPLCONFIGDIR", str(scratch / ".mpl-server"),
             "--setenv", "HF_HUB_OFFLINE", "1", "--setenv", "TRANSFORMERS_OFFLINE", "1"]
    return argv


# --------------------------------------------------------------------------- #
# pids cgroups
# --------------------------------------------------------------------------- #
def _cgroup_base() -> Path | None:
    v1 = Path("/sys/fs/cgroup/pids")
    if v1.is_dir():
        return v1
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                for mount in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
                    base = mount / line[3:].lstrip("/")
                    if (base / "cgroup.controllers").exists() and "pids" in (base / "cgroup.controllers").read_text():
                        return base
    except OSError:
        pass
    return None


def make_pids_cgroup(name: str, pids_max: int = PIDS_MAX) -> Path | None:
    """Create a cgroup that allows at most ``pids_max`` tasks; None when not permitted here."""
    base = _cgroup_base()
    if base is None or not os.access(base, os.W_OK):
        return None
    cg = base / name
    try:
        cg.mkdir(exist_ok=True)
        (cg / "pids.max").write_text(str(pids_max))
        return cg
    except OSError:
        remove_cgroup(cg)
        return None


def remove_cgroup(cg: Path | None) -> None:
    """Kill whatever is left in ``cg`` and remove it."""
    if cg is None or not cg.exists():
        return
    import signal
    import time

    for _ in range(50):
        try:
            pids = [int(x) for x in (cg / "cgroup.procs").read_text().split()]
        except OSError:
            pids = []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            cg.rmdir()
            return
        except OSError:
            time.sleep(0.05)

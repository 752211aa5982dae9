"""OS-level isolation for grading: bubblewrap, Docker, pids cgroups, and what each mode stops.

``bwrap`` (Debian ``bubblewrap``) gives each grading worker a sandbox in which:

- the whole filesystem is mounted read-only (``--ro-bind / /``), ``/tmp`` and ``/dev`` are
  fresh and read-only, and the only writable place is the worker's scratch folder, which the
  grader empties after every submission;
- the instructor's home folder is replaced by an empty one holding only the caches the course
  needs (read-only), and the protected folders (``instructor/``, ``solutions/``, the
  submissions and output folders) are covered by empty read-only folders;
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

PIDS_MAX = 128   # per sandbox: the server and its runtime threads, the child, its 64 threads

MODES = {
    "bwrap": (
        "bubblewrap sandbox + in-process guard",
        "stops: writes outside the submission's scratch folder (the filesystem is read-only), "
        "network access, seeing or signalling other processes (own PID namespace), reading the "
        "home folder, the instructor and solutions folders or other submissions, fork/thread "
        "bombs (pids cgroup{cg}); does not stop: reading the rest of the filesystem read-only "
        "(the course repository, the venv), CPU use up to the time limit, a kernel exploit"),
    "docker": (
        "Docker container + in-process guard (untested on the machine this was written on)",
        "stops: network (--network=none), writes outside the container's own layer and the "
        "mounted scratch folder, other processes, fork bombs (--pids-limit); does not stop: "
        "what the image itself contains, a container escape"),
    "forkserver": (
        "in-process guard only (audit hooks; no OS sandbox)",
        "stops plain Python writes outside the submission's folder, sockets, subprocesses, "
        "ctypes, reads of protected files and other processes' memory; does NOT stop native "
        "code (a compiled extension, a crafted bytecode path the hooks miss) from doing "
        "anything your user can do: install bubblewrap (apt-get install bubblewrap) for a real "
        "sandbox"),
    "fresh": (
        "in-process guard only, a new interpreter per submission (no OS sandbox)",
        "as forkserver"),
}


def describe(mode: str, cgroup: bool = False) -> str:
    """One line: which isolation is in force and what it does and does not stop."""
    name, what = MODES.get(mode, (mode, ""))
    return f"{name}; {what.format(cg='' if cgroup else ': not available here, RLIMIT_NPROC and the thread cap instead')}"


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """True when ``bwrap`` exists and can create the sandbox on this machine (probed once)."""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    try:
        proc = subprocess.run([exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                               "--tmpfs", "/tmp", "--unshare-net", "--unshare-pid", "--unshare-ipc",
                               "--die-with-parent", "--new-session", "--cap-drop", "ALL", "true"],
                              capture_output=True, timeout=20)
        return proc.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except Exception:
        return False


def _home_keep(repo: Path) -> list[Path]:
    """Folders under HOME the sandboxed server needs to read: caches, the repository, the venv."""
    home = Path.home()
    keep = [home / ".cache" / "ctxembed", home / ".cache" / "huggingface", home / "nltk_data",
            repo, Path(sys.prefix), Path(sys.base_prefix)]
    for var in ("CTXEMBED_NLTK_DATA", "HF_HOME", "NLTK_DATA"):
        if os.environ.get(var):
            keep.append(Path(os.environ[var]))
    keep += [Path(p) for p in sys.path if p]
    out = []
    for k in keep:
        try:
            k = k.resolve()
        except OSError:
            continue
        if k.exists() and k.is_relative_to(home) and k != home and k not in out:
            out.append(k)
    # parents before children, and drop children of a kept parent
    out.sort(key=lambda p: len(p.parts))
    return [k for i, k in enumerate(out) if not any(k.is_relative_to(o) for o in out[:i])]


def bwrap_argv(scratch: Path, scratch_root: Path, hide=(), repo: Path | None = None) -> list[str]:
    """The bubblewrap command line for one worker's sandbox (see the module docstring)."""
    argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    home = Path.home().resolve()
    repo = Path(repo or Path(__file__).resolve().parent.parent.parent)
    ro_after = ["/tmp", "/dev"]
    if home != Path("/") and home.is_dir():
        argv += ["--tmpfs", str(home)]
        for k in _home_keep(repo):
            argv += ["--ro-bind", str(k), str(k)]
        ro_after.append(str(home))
    for p in hide:
        p = Path(p).resolve()
        if not p.exists() or p == Path("/"):
            continue
        if p.is_dir():
            argv += ["--tmpfs", str(p), "--remount-ro", str(p)]
        else:
            argv += ["--ro-bind", "/dev/null", str(p)]
    if not str(scratch_root).startswith("/tmp/"):
        argv += ["--tmpfs", str(scratch_root)]
        ro_after.append(str(scratch_root))
    argv += ["--bind", str(scratch), str(scratch)]
    for p in ro_after:
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

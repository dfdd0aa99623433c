"""The sandbox every grading kernel runs in (bubblewrap, ``bwrap``).

A student's notebook is untrusted code.  :class:`SandboxedKernelManager`
starts each grading kernel through `bubblewrap <https://github.com/containers/bubblewrap>`_
with:

* new PID, IPC, network, UTS, cgroup and user+mount namespaces (``--unshare-all``):
  the kernel sees only its own processes, has no network and no view of
  other kernels' sockets;
* a root file system built from nothing: ``/usr`` (and the ``/lib``,
  ``/bin`` links), the Python installation and the virtualenv **read-only**;
  the grader's own :mod:`virtlab` package read-only at :data:`PKG_MOUNT`
  (found from ``virtlab.__file__``, never from an inherited ``PYTHONPATH``)
  with the exercise modules (the reference solvers) replaced by the
  student-facing facade of the one exercise graded (:mod:`.facade`); no home, no repository, no submissions, no ``--out`` folder, no
  ``solutions/``, no secret;
* a private, size-capped, empty ``/tmp`` and ``/dev/shm``; the only
  writable host folders are the kernel's connection folder and one scratch
  folder (its working directory), both created by the grader for this one
  kernel and deleted afterwards;
* an empty environment except what a kernel needs (``--clearenv``);
* ``--die-with-parent``; the kernel is PID 2 under bwrap's PID 1, so when the
  kernel is shut down or killed, every process it started dies with the
  namespace (a ``fork()`` + ``setsid()`` child cannot outlive it);
* resource limits set before the kernel starts (:func:`limits_preexec`):
  address space, file size, CPU time, open files, no core dumps, and the
  number of processes (``RLIMIT_NPROC``; the kernel ignores it for root, so
  when the grader runs as root a ``pids`` cgroup is used as well, when one
  can be created).

Examples
--------
>>> argv = bwrap_argv("/tmp/c", "/tmp/s", SandboxLimits(), bwrap="/usr/bin/bwrap")
>>> argv[0], "--unshare-all" in argv, "--die-with-parent" in argv, "--clearenv" in argv
('/usr/bin/bwrap', True, True, True)
>>> "--share-net" in argv
False
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

import virtlab

__all__ = ["CappedKernelManager", "SandboxLimits", "SandboxUnavailable", "find_bwrap", "check_sandbox",
           "SandboxedKernelManager", "limits_preexec", "PKG_MOUNT", "kernel_env",
           "PidsCgroup"]

#: Where the grader's virtlab package appears inside the sandbox (read-only).
PKG_MOUNT = "/opt/virtlab-grader"
#: Paths of the package that hold reference solvers: hidden in the sandbox.
HIDDEN_IN_PACKAGE = ("grading/exercises",)
HIDDEN_FILES = ("grading/selftest.py",)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or does not work here (the message says why)."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits of one sandboxed kernel.

    Attributes
    ----------
    memory_mb : int or None
        Address space of each process in the sandbox (``RLIMIT_AS``), MiB, on
        top of 512 MiB for bwrap and the interpreter (a backstop: the grader's
        first cell sets the kernel's own, lower limit).
    tmp_mb : int
        Size of the private ``/tmp`` and ``/dev/shm`` (each), MiB.
    file_mb : int
        Largest file a process may write (``RLIMIT_FSIZE``), MiB.
    cpu_s : int
        CPU seconds per process (``RLIMIT_CPU``).
    processes : int
        Processes and threads (``RLIMIT_NPROC`` / ``pids.max``).
    open_files : int
        ``RLIMIT_NOFILE``.

    Examples
    --------
    >>> SandboxLimits().processes
    64
    """

    memory_mb: int | None = 1024
    tmp_mb: int = 64
    file_mb: int = 64
    cpu_s: int = 600
    processes: int = 64
    open_files: int = 256


def find_bwrap() -> str | None:
    """The ``bwrap`` executable, or None.

    Examples
    --------
    >>> find_bwrap() is None or find_bwrap().endswith("bwrap")
    True
    """
    return shutil.which("bwrap") or (
        "/usr/bin/bwrap" if os.access("/usr/bin/bwrap", os.X_OK) else None)


_CHECKED: dict = {}


def check_sandbox() -> str:
    """Raise :class:`SandboxUnavailable` unless bwrap can start a sandbox here (cached).

    Returns the bwrap path.  Fails when bwrap is missing or when the system
    forbids the namespaces it needs (e.g. unprivileged user namespaces off).
    """
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable("bwrap is not installed (Debian/Ubuntu: apt-get install "
                                 "bubblewrap); see README, 'Grading safely'")
    if bwrap not in _CHECKED:
        import subprocess
        try:
            run = subprocess.run([bwrap, "--unshare-all", "--die-with-parent", "--ro-bind",
                                  "/", "/", "--proc", "/proc", "--dev", "/dev",
                                  "--", "true"], capture_output=True, timeout=30)
            _CHECKED[bwrap] = "" if run.returncode == 0 else run.stderr.decode(
                "utf-8", "replace").strip()[:300] or f"exit status {run.returncode}"
        except (OSError, subprocess.SubprocessError) as exc:
            _CHECKED[bwrap] = f"{type(exc).__name__}: {exc}"
    if _CHECKED[bwrap]:
        raise SandboxUnavailable(f"bwrap does not work here: {_CHECKED[bwrap]}")
    return bwrap


def package_dir() -> Path:
    """The grader's own virtlab package folder (from ``virtlab.__file__``)."""
    return Path(virtlab.__file__).resolve().parent


def _python_roots() -> list[str]:
    """Read-only folders the interpreter needs: the base installation and the venv.

    Examples
    --------
    >>> all(os.path.isabs(p) for p in _python_roots())
    True
    """
    roots: list[str] = []
    for p in (os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix), sys.prefix):
        if p == "/usr" or p.startswith("/usr/") or p in roots:
            continue
        roots.append(p)
    return roots


_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts", "nsswitch.conf",
        "passwd", "group", "alternatives", "matplotlibrc")


def bwrap_argv(conn_dir: str, scratch_dir: str, limits: SandboxLimits,
               bwrap: str | None = None, facade_dir: str | None = None) -> list[str]:
    """The bwrap command line (without the kernel command) for one kernel.

    ``conn_dir`` (connection file and IPC sockets) and ``scratch_dir`` (the
    working directory) are bound read-write at the same paths; everything
    else is read-only or private.  The package's exercise modules are
    replaced by ``facade_dir`` (read-only; :mod:`.facade`) or an empty folder.
    """
    bwrap = bwrap or find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable("bwrap (Debian package bubblewrap) is not installed")
    tmp_bytes = str(int(limits.tmp_mb) * 2**20)
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--clearenv",
            "--hostname", "virtlab-grading", "--ro-bind", "/usr", "/usr",
            # the private /tmp first: what is bound below lands on top of it, so a
            # course or venv that lives under /tmp stays visible (read-only)
            "--proc", "/proc", "--dev", "/dev",
            "--size", tmp_bytes, "--tmpfs", "/tmp",
            "--size", tmp_bytes, "--tmpfs", "/dev/shm"]
    for name in ("lib", "lib64", "lib32", "bin", "sbin"):
        path = f"/{name}"
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    for name in _ETC:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    for root in _python_roots():
        argv += ["--ro-bind", root, root]
    pkg = package_dir()
    target = f"{PKG_MOUNT}/virtlab"
    argv += ["--ro-bind", str(pkg), target]
    for sub in HIDDEN_IN_PACKAGE:
        if facade_dir is not None:
            argv += ["--ro-bind", facade_dir, f"{target}/{sub}"]
        elif (pkg / sub).is_dir():
            argv += ["--tmpfs", f"{target}/{sub}", "--remount-ro", f"{target}/{sub}"]
    for sub in HIDDEN_FILES:
        if (pkg / sub).is_file():
            argv += ["--ro-bind", "/dev/null", f"{target}/{sub}"]
    argv += ["--bind", conn_dir, conn_dir, "--bind", scratch_dir, scratch_dir,
             "--remount-ro", "/", "--chdir", scratch_dir]
    for key, value in kernel_env(scratch_dir).items():
        argv += ["--setenv", key, value]
    return argv


def kernel_env(scratch_dir: str) -> dict:
    """The whole environment of a sandboxed kernel (nothing inherited).

    Examples
    --------
    >>> env = kernel_env("/s")
    >>> env["PYTHONPATH"] == PKG_MOUNT, "VIRTLAB_GRADING_SECRET" in env
    (True, False)
    """
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": PKG_MOUNT,
            "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": "/tmp/matplotlib", "IPYTHONDIR": "/tmp/ipython",
            "JUPYTER_RUNTIME_DIR": "/tmp/jupyter", "LANG": "C.UTF-8",
            "VIRTLAB_GRADING_KERNEL": "1"}


def limits_preexec(limits: SandboxLimits, cgroup: "PidsCgroup | None" = None):
    """A ``preexec_fn`` setting the limits (soft = hard) in the child before bwrap starts.

    Hard limits can only be lowered afterwards, and bwrap drops every
    capability, so nothing in the sandbox can raise them again.
    """
    def apply() -> None:
        if cgroup is not None:
            cgroup.enter()
        pairs = [(resource.RLIMIT_FSIZE, limits.file_mb * 2**20),
                 (resource.RLIMIT_CPU, limits.cpu_s),
                 (resource.RLIMIT_NOFILE, limits.open_files),
                 (resource.RLIMIT_CORE, 0),
                 (resource.RLIMIT_NPROC, limits.processes)]
        if limits.memory_mb:
            # bwrap and the interpreter need their own mappings too
            pairs.append((resource.RLIMIT_AS, (int(limits.memory_mb) + 512) * 2**20))
        for which, value in pairs:
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass
        # the kernel is interrupted by a message (see SandboxedKernelManager), and
        # ipykernel installs its own SIGINT handler while it runs a cell; bwrap
        # itself must never die of a stray SIGINT sent to the process group
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return apply


class PidsCgroup:
    """A ``pids`` cgroup (v1 or v2) for one kernel, when the grader may create one.

    ``RLIMIT_NPROC`` does not apply to root, so a grader running as root
    caps the kernel's processes with ``pids.max`` instead.  :meth:`kill_all`
    and :meth:`remove` clean up after the run.
    """

    BASES = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, limit: int) -> "PidsCgroup | None":
        if os.geteuid() != 0:
            return None
        for base in cls.BASES:
            b = Path(base)
            if not (b / "cgroup.procs").exists():
                continue
            if base == "/sys/fs/cgroup" and "pids" not in _read(b / "cgroup.subtree_control"):
                continue
            path = b / f"virtlab-grade-{os.getpid()}-{os.urandom(4).hex()}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(int(limit)))
                return cls(path)
            except OSError:
                try:
                    path.rmdir()
                except OSError:
                    pass
        return None

    def enter(self) -> None:
        """Move the calling process here (in the child, before exec)."""
        with open(self.path / "cgroup.procs", "w") as fh:
            fh.write(str(os.getpid()))

    def pids(self) -> list[int]:
        return [int(x) for x in _read(self.path / "cgroup.procs").split()]

    def kill_all(self) -> None:
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def remove(self) -> None:
        import time
        for _ in range(50):
            self.kill_all()
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.02)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


class CappedKernelManager(AsyncKernelManager):
    """A kernel manager whose clients use its own zmq context (and so its socket limits).

    The grader sets a receive high-water mark and a largest message size on
    :attr:`context`; every client socket inherits them, so a kernel flooding
    its output cannot make the grader buffer it.
    """

    def client(self, **kwargs):
        kwargs.setdefault("context", self.context)
        return super().client(**kwargs)


class SandboxedKernelManager(CappedKernelManager):
    """A kernel manager that starts the kernel inside bwrap (see the module docstring).

    Set :attr:`sandbox_conn_dir`, :attr:`sandbox_scratch_dir` and
    :attr:`sandbox_limits` before starting the kernel.
    """

    sandbox_conn_dir: str = ""
    sandbox_scratch_dir: str = ""
    sandbox_facade_dir: str | None = None
    sandbox_limits: SandboxLimits = SandboxLimits()

    async def _async_pre_start_kernel(self, **kw):
        # interrupt through the control channel: the kernel signals itself
        # inside the sandbox; no signal crosses the boundary
        self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        # the kernel spec names the grader's interpreter by its venv path, bound
        # read-only at the same place, so the venv's site-packages apply
        return bwrap_argv(self.sandbox_conn_dir, self.sandbox_scratch_dir,
                          self.sandbox_limits,
                          facade_dir=self.sandbox_facade_dir) + ["--"] + cmd

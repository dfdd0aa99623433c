"""What every real-machine function shares: saying honestly what is missing.

A host function never raises because the machine lacks something and never
fakes a result.  It returns its result object with ``missing`` set to a
:class:`Missing` — what is missing, why it matters, and how to get it — and
the notebook then shows the stored reference run (:func:`reference_run`),
labelled as recorded elsewhere.

Examples
--------
>>> m = Missing("/dev/kvm", "the kernel has no KVM module loaded", "modprobe kvm_intel")
>>> print(m)
/dev/kvm is not available: the kernel has no KVM module loaded (modprobe kvm_intel)
>>> platform_missing(system="Darwin", machine="arm64").what
'Linux on x86-64'
>>> platform_missing(system="Linux", machine="x86_64") is None
True
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from importlib import resources

from virtlab.errors import check_str

__all__ = ["Missing", "platform_missing", "module_missing", "reference_run", "REFERENCE_FILE",
           "recorded_elsewhere", "source_note"]

#: The stored reference run shipped with the package (recorded on an x86-64
#: Linux machine with /dev/kvm; see its ``"recorded"`` entry).
REFERENCE_FILE = "reference_run.json"


@dataclass(frozen=True)
class Missing:
    """A capability this machine lacks.

    Attributes
    ----------
    what : str
        The capability (``"/dev/kvm"``, ``"the unicorn package"``, ...).
    why : str
        Why it is unavailable here, as far as the probe could tell.
    remedy : str
        What the student can do about it (a command, or "use an x86-64 Linux machine").
    """

    what: str
    why: str
    remedy: str

    def __post_init__(self):
        for name in ("what", "why", "remedy"):
            check_str(name, getattr(self, name))

    def __str__(self) -> str:
        return f"{self.what} is not available: {self.why} ({self.remedy})"


def platform_missing(system: str | None = None, machine: str | None = None) -> Missing | None:
    """``None`` on Linux/x86-64 (where native x86 code and /dev/kvm can run), else why not.

    Parameters
    ----------
    system, machine : str, optional
        ``platform.system()`` and ``platform.machine()``; read from the host when omitted.

    Examples
    --------
    >>> platform_missing(system="Windows", machine="AMD64").why
    'this is Windows on AMD64; the probes run x86-64 machine code under Linux'
    """
    system = platform.system() if system is None else check_str("system", system)
    machine = platform.machine() if machine is None else check_str("machine", machine)
    if system == "Linux" and machine.lower() in ("x86_64", "amd64"):
        return None
    return Missing("Linux on x86-64",
                   f"this is {system} on {machine}; the probes run x86-64 machine code "
                   f"under Linux",
                   "run the notebook on an x86-64 Linux machine or VM, or read the "
                   "reference run below")


def module_missing(name: str) -> Missing | None:
    """``None`` if the optional package ``name`` imports, else what to install.

    unicorn and capstone are optional heavy dependencies (binary wheels); the
    host layer imports them only when a function needs them.

    Examples
    --------
    >>> module_missing("json") is None
    True
    >>> module_missing("no_such_package_xyz").remedy
    'pip install no_such_package_xyz'
    """
    check_str("name", name)
    try:
        __import__(name)
    except ImportError as exc:
        return Missing(f"the {name} package", f"it cannot be imported ({exc})",
                       f"pip install {name}")
    return None


def reference_run() -> dict:
    """The reference run stored with virtlab (recorded elsewhere, not on this machine).

    Examples
    --------
    >>> ref = reference_run()
    >>> ref["recorded"]["machine"]
    'x86_64'
    >>> sorted(ref)
    ['critical', 'four_ways', 'kvm', 'recorded', 'scan']
    """
    text = resources.files("virtlab.host").joinpath(REFERENCE_FILE).read_text("utf-8")
    return json.loads(text)


def recorded_elsewhere() -> str:
    """The label of the stored reference run: where and when it was recorded.

    Examples
    --------
    >>> recorded_elsewhere().startswith("reference run recorded elsewhere")
    True
    """
    rec = reference_run()["recorded"]
    return (f"reference run recorded elsewhere ({rec['system']} {rec['machine']}, kernel "
            f"{rec['kernel']}, /dev/kvm by {rec['kvm_modules']}, {rec['date']}), "
            f"not on this machine")


def source_note(result) -> str:
    """One line saying whether ``result`` was measured here or comes from the reference run.

    Examples
    --------
    >>> class R: missing = None; recorded = ""
    >>> source_note(R())
    'measured now, on this machine'
    """
    if not hasattr(result, "missing"):
        raise TypeError(f"result must be a run result (with .missing), got {type(result).__name__}")
    if getattr(result, "recorded", ""):
        return f"{result.missing} -> showing the {result.recorded}"
    if result.missing is not None:
        return str(result.missing)
    return "measured now, on this machine"

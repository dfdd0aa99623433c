"""VM descriptions and the scheduler strategy interface (*CPU-Scheduling*).

A :class:`VM` describes a virtual machine (*virtuelle Maschine*) with one or
more virtual CPUs (*virtuelle CPUs*, vCPUs), its scheduling parameters and a
workload.  A :class:`Scheduler` is a pluggable strategy: the engine in
:mod:`virtlab.scheduler.system` calls its hooks

* ``on_wake(vcpu, boost)`` — a vCPU became runnable (enqueue it);
* ``on_block(vcpu)`` — a *queued* vCPU stopped being runnable (dequeue it);
* ``on_start(vcpu, pcpu)`` / ``on_stop(vcpu, pcpu, ran_us, runnable)`` — a
  vCPU started / stopped running on a pCPU (charge it, requeue it if still
  runnable);
* ``pick(pcpu)`` → ``(vcpu or None, max_run_us or None)`` — choose what a
  physical CPU (*physikalische CPU*, pCPU) runs next.

Examples
--------
>>> VM("web", vcpus=2, weight=512).weight
512
>>> VM("rt", period_ms=100, slice_ms=10).utilization
0.1
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import check_bool, check_choice, check_int, check_number, check_str, check_type
from .workloads import CPUBound, Workload

__all__ = ["VM", "Scheduler", "COSCHED_MODES", "MAX_PCPUS", "MAX_VCPUS"]

#: Co-scheduling modes (*Co-Scheduling*: keines, streng, relaxed).
COSCHED_MODES = ("none", "strict", "relaxed")
#: Upper bounds that keep hostile input from exhausting memory.
MAX_PCPUS = 1024
MAX_VCPUS = 64


def _workload_default():
    return CPUBound()


@dataclass(frozen=True)
class VM:
    """A virtual machine as the hypervisor's scheduler sees it.

    Parameters
    ----------
    name : str
        Unique, non-empty name.
    vcpus : int
        Number of virtual CPUs, 1..64.
    weight : int
        Credit weight, 1..65535 (Xen default 256); per vCPU, as in current Xen.
    cap : int
        Credit cap in percent of **one** pCPU (0 = no cap; 100 = one pCPU,
        400 = four pCPUs).
    period_ms, slice_ms : float or None
        SEDF reservation: ``slice_ms`` of CPU every ``period_ms``.  ``None``
        means SEDF's default for a guest domain: period 100 ms, slice 0,
        extra time on.
    extratime : bool
        SEDF: may the VM use idle time beyond its slice?
    workload : Workload
        What each vCPU runs (default :class:`~virtlab.scheduler.workloads.CPUBound`).
    affinity : tuple of int or None
        Hard affinity (pinning): the pCPUs the vCPUs may run on; ``None`` = all.

    Examples
    --------
    >>> VM("a", cap=50).cap
    50
    >>> VM("a", weight=0)
    Traceback (most recent call last):
    ...
    ValueError: weight must be an integer in [1, 65535], got 0
    """

    name: str
    vcpus: int = 1
    weight: int = 256
    cap: int = 0
    period_ms: float | None = None
    slice_ms: float | None = None
    extratime: bool = False
    workload: Any = field(default_factory=_workload_default)
    affinity: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        check_str("name", self.name)
        check_int("vcpus", self.vcpus, minimum=1, maximum=MAX_VCPUS)
        check_int("weight", self.weight, minimum=1, maximum=65535)
        check_int("cap", self.cap, minimum=0, maximum=100 * MAX_VCPUS)
        if (self.period_ms is None) != (self.slice_ms is None):
            raise ValueError("period_ms and slice_ms must be given together "
                             f"(got period_ms={self.period_ms!r}, slice_ms={self.slice_ms!r})")
        if self.period_ms is not None:
            check_number("period_ms", self.period_ms, minimum=0.1, maximum=10_000.0)
            check_number("slice_ms", self.slice_ms, minimum=0.0, maximum=10_000.0)
            if self.slice_ms > self.period_ms:
                raise ValueError(f"slice_ms must be <= period_ms, got slice_ms={self.slice_ms} "
                                 f"> period_ms={self.period_ms}")
        check_bool("extratime", self.extratime)
        check_type("workload", self.workload, Workload)
        if self.affinity is not None:
            if not isinstance(self.affinity, (tuple, list, frozenset, set, range)):
                raise TypeError("affinity must be a tuple of pCPU numbers or None, "
                                f"got {type(self.affinity).__name__}")
            aff = tuple(sorted({check_int("affinity", p, minimum=0, maximum=MAX_PCPUS - 1)
                                for p in self.affinity}))
            if not aff:
                raise ValueError("affinity must name at least one pCPU (or be None)")
            object.__setattr__(self, "affinity", aff)

    @property
    def utilization(self) -> float:
        """SEDF reservation slice/period per vCPU (0 when no reservation).

        Examples
        --------
        >>> VM("x").utilization
        0.0
        """
        if self.period_ms is None:
            return 0.0
        return self.slice_ms / self.period_ms


class Scheduler:
    """Base class of the pluggable vCPU schedulers.

    Parameters
    ----------
    cosched : {"none", "strict", "relaxed"}
        Co-scheduling of multi-vCPU VMs, done by the engine on top of any
        scheduler: *strict* runs all vCPUs of a VM together or none (gang
        scheduling, ESX 2); *relaxed* co-stops a vCPU that is more than
        ``skew_threshold_ms`` ahead of its slowest sibling (ESX 4).
    skew_threshold_ms : float
        Relaxed co-scheduling threshold; VMware says "a few milliseconds",
        the exact value is not documented, 3 ms is a virtlab convention.

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler
    >>> CreditScheduler(cosched="relaxed").cosched
    'relaxed'
    """

    name = "base"

    def __init__(self, *, cosched: str = "none", skew_threshold_ms: float = 3.0):
        self.cosched = check_choice("cosched", cosched, COSCHED_MODES)
        self.skew_threshold_ms = check_number("skew_threshold_ms", skew_threshold_ms,
                                              minimum=0.1, maximum=1000.0)
        self.system = None

    # -- hooks the engine calls ------------------------------------------
    def validate(self, vms: tuple[VM, ...], pcpus: int) -> None:
        """Refuse a configuration before anything runs (e.g. SEDF admission)."""

    def attach(self, system) -> None:
        """Set up per-run state; ``system`` is the engine (read-only use)."""
        self.system = system

    def on_wake(self, vcpu, boost: bool) -> None:
        """``vcpu`` became runnable; ``boost`` is True for a real I/O wake-up."""
        raise NotImplementedError

    def on_block(self, vcpu) -> None:
        """A queued (not running) ``vcpu`` stopped being runnable."""
        raise NotImplementedError

    def on_start(self, vcpu, pcpu: int) -> None:
        """``vcpu`` starts running on ``pcpu`` now."""

    def on_stop(self, vcpu, pcpu: int, ran_us: int, runnable: bool) -> None:
        """``vcpu`` stopped on ``pcpu`` after ``ran_us``; requeue it if runnable."""
        raise NotImplementedError

    def pick(self, pcpu: int):
        """Return ``(vcpu, max_run_us)`` to run next on ``pcpu`` or ``(None, None)``."""
        raise NotImplementedError

    def wants_preempt(self, pcpu: int) -> bool:
        """Re-check a tickle when it is served: should ``pcpu``'s vCPU yield now?"""
        return True

    def priority(self, vcpu) -> float:
        """A number, higher = more urgent (used by the invariant checks and viz)."""
        return 0.0

    def describe(self) -> str:
        """A one-line description of the scheduler and its parameters."""
        extra = "" if self.cosched == "none" else f", co-scheduling {self.cosched}"
        return f"{self.name}{extra}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


def ms_to_us(name: str, value: float) -> int:
    """Convert validated milliseconds to integer microseconds (rounded)."""
    return int(math.floor(value * 1000.0 + 0.5))

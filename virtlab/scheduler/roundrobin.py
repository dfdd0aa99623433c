"""A textbook round-robin scheduler: the baseline, and a template for your own.

Not a Xen scheduler: one global FIFO queue, a fixed quantum, no weights.  It
shows how little a strategy needs — four hooks — and is what the course's
own schedulers are measured against.  Write your own by subclassing
:class:`~virtlab.scheduler.base.Scheduler` the same way and validate it with
:func:`~virtlab.scheduler.checks.check_scheduler`.

Examples
--------
>>> from virtlab.scheduler import VM, simulate, check_scheduler
>>> t = simulate(RoundRobinScheduler(), [VM("a"), VM("b", weight=1024)], 1, 1000)
>>> t.share("a"), t.share("b")          # weights are ignored
(0.5, 0.5)
>>> check_scheduler(RoundRobinScheduler())
[]
"""

from __future__ import annotations

from collections import deque

from ..errors import check_number
from .base import Scheduler, ms_to_us

__all__ = ["RoundRobinScheduler"]


class RoundRobinScheduler(Scheduler):
    """One FIFO run queue for all pCPUs, ``quantum_ms`` per turn.

    Parameters
    ----------
    quantum_ms : float
        Time slice per turn (default 10 ms).
    cosched, skew_threshold_ms
        See :class:`~virtlab.scheduler.base.Scheduler`.

    Examples
    --------
    >>> RoundRobinScheduler(quantum_ms=5).describe()
    'round-robin (quantum 5 ms)'
    """

    name = "round-robin"

    def __init__(self, *, quantum_ms: float = 10.0, cosched: str = "none",
                 skew_threshold_ms: float = 3.0):
        super().__init__(cosched=cosched, skew_threshold_ms=skew_threshold_ms)
        self.quantum_ms = check_number("quantum_ms", quantum_ms, minimum=0.01, maximum=10_000.0)

    def describe(self) -> str:
        extra = "" if self.cosched == "none" else f", co-scheduling {self.cosched}"
        return f"round-robin (quantum {self.quantum_ms:g} ms{extra})"

    def attach(self, system) -> None:
        super().attach(system)
        self.queue: deque = deque()
        self.quantum = ms_to_us("quantum_ms", self.quantum_ms)

    def on_wake(self, vcpu, boost: bool) -> None:
        self.queue.append(vcpu)
        for p in sorted(self.system.idle):          # wake an idle pCPU that may run it
            if p in vcpu.allowed:
                self.system.tickle(p)
                break

    def on_block(self, vcpu) -> None:
        if vcpu in self.queue:
            self.queue.remove(vcpu)

    def on_stop(self, vcpu, pcpu: int, ran_us: int, runnable: bool) -> None:
        if runnable:
            self.queue.append(vcpu)

    def pick(self, pcpu: int):
        for v in self.queue:
            if pcpu in v.allowed:
                self.queue.remove(v)
                return v, self.quantum
        return None, None

"""Xen's SEDF scheduler (*Simple Earliest Deadline First*), after ``sched_sedf.c``.

Each VM reserves ``slice`` of CPU time every ``period`` (the period is the
relative deadline).  Per pCPU (SEDF has per-CPU queues and no load
balancing), the model keeps, as the Xen 3.0 code does (facts.md §4b):

* a **run queue** of vCPUs with slice left in their current period, served
  earliest (absolute) deadline first;
* a **wait queue** of vCPUs whose slice is used up: at the start of the next
  period (deadline − period) they return to the run queue with a fresh slice;
* **extra time**: when no vCPU has slice left, runnable vCPUs with the
  extratime flag share the idle time round-robin in 500 µs quanta.

A running vCPU is preempted when its slice ends or when a waiting vCPU with
an earlier deadline starts its period.  A vCPU waking up after its deadline
too late to receive the rest of its slice before its deadline starts a new
period at once (a conservative unblock; the compiled default ignores
``latency``).
**Deadline misses** are counted when a period ends before the vCPU received
its slice although it was runnable.  **Admission**: vCPUs are placed on
pCPUs (within their affinity, least reserved first); if the slices cannot
fit (Σ slice/period ≤ 1 on every pCPU) ``simulate`` raises ``ValueError``.

Simplifications: no L0 "block penalty" extra queue, no weight mode; a VM
without ``period_ms`` gets SEDF's guest default: period 100 ms, slice 0,
extratime on.

Examples
--------
>>> from virtlab.scheduler import VM, simulate
>>> t = simulate(SEDFScheduler(), [VM("rt", period_ms=100, slice_ms=10)], 1, 1000)
>>> t.share("rt"), t.deadline_misses("rt")
(0.1, 0)
"""

from __future__ import annotations

import heapq

from ..errors import check_number
from .base import Scheduler, ms_to_us

__all__ = ["SEDFScheduler"]


class SEDFScheduler(Scheduler):
    """Simple Earliest Deadline First with slices, periods and extra time.

    Parameters
    ----------
    extra_quantum_ms : float
        Length of an extra-time quantum (Xen: 500 µs).
    default_period_ms : float
        Period of VMs that give none (Xen guest default 100 ms, slice 0).
    cosched, skew_threshold_ms
        See :class:`~virtlab.scheduler.base.Scheduler`.

    Examples
    --------
    >>> from virtlab.scheduler import VM, simulate
    >>> simulate(SEDFScheduler(), [VM("a", period_ms=10, slice_ms=6),
    ...                            VM("b", period_ms=10, slice_ms=6)], 1, 100)
    Traceback (most recent call last):
    ...
    ValueError: SEDF admission refused: pCPU 0 would be reserved 1.20 > 1 (a.0 6/10 ms, b.0 6/10 ms)
    """

    name = "sedf"

    def __init__(self, *, extra_quantum_ms: float = 0.5, default_period_ms: float = 100.0,
                 cosched: str = "none", skew_threshold_ms: float = 3.0):
        super().__init__(cosched=cosched, skew_threshold_ms=skew_threshold_ms)
        self.extra_quantum_ms = check_number("extra_quantum_ms", extra_quantum_ms,
                                             minimum=0.01, maximum=1000.0)
        self.default_period_ms = check_number("default_period_ms", default_period_ms,
                                              minimum=0.1, maximum=10_000.0)

    def describe(self) -> str:
        extra = "" if self.cosched == "none" else f", co-scheduling {self.cosched}"
        return f"sedf (extra quantum {self.extra_quantum_ms:g} ms{extra})"

    # -- admission ---------------------------------------------------------
    def _placement(self, vms, pcpus):
        """vCPU placement: (vm index, vcpu index) -> pCPU, least reserved first."""
        load = [0.0] * pcpus
        members: list[list[str]] = [[] for _ in range(pcpus)]
        place = {}
        for vmi, vm in enumerate(vms):
            allowed = range(pcpus) if vm.affinity is None else vm.affinity
            u = vm.utilization
            used = set()
            for i in range(vm.vcpus):
                # spread a VM's vCPUs over distinct pCPUs where possible
                cands = [p for p in allowed if p not in used] or list(allowed)
                p = min(cands, key=lambda q: (load[q], q))
                used.add(p)
                load[p] += u
                place[(vmi, i)] = p
                if vm.period_ms is not None and vm.slice_ms > 0:
                    members[p].append(f"{vm.name}.{i} {vm.slice_ms:g}/{vm.period_ms:g} ms")
        return place, load, members

    def validate(self, vms, pcpus) -> None:
        _, load, members = self._placement(vms, pcpus)
        for p, u in enumerate(load):
            if u > 1.0 + 1e-9:
                raise ValueError(f"SEDF admission refused: pCPU {p} would be reserved "
                                 f"{u:.2f} > 1 ({', '.join(members[p])})")

    # -- set-up ------------------------------------------------------------
    def attach(self, system) -> None:
        super().attach(system)
        self.sim = system.sim
        n = system.npcpus
        place, _, _ = self._placement(system.vms, n)
        self.quantum = ms_to_us("extra_quantum_ms", self.extra_quantum_ms)
        default = ms_to_us("default_period_ms", self.default_period_ms)
        self.runq = [[] for _ in range(n)]     # heaps (deadline, gid, vcpu)
        self.waitq = [[] for _ in range(n)]    # heaps (period start, gid, vcpu)
        self.extraq = [[] for _ in range(n)]   # FIFO lists of extratime vCPUs
        self.seq = 0
        for v in system.vcpus:
            vm = v.vm
            if vm.period_ms is None:
                v.period, v.slice, v.extra = default, 0, True
            else:
                v.period = ms_to_us("period_ms", vm.period_ms)
                v.slice = ms_to_us("slice_ms", vm.slice_ms)
                v.extra = vm.extratime
            v.home = place[(v.vmi, v.index)]
            v.deadline = v.period
            v.cputime = 0
            v.misses = 0
            v.qpcpu = -1        # 0 = run queue, 1 = wait queue, 2 = extra queue, -1 none
            v.pri = 0

    def priority(self, vcpu) -> float:
        return -vcpu.deadline

    # -- queues ------------------------------------------------------------
    def _enqueue(self, v) -> None:
        """Put a runnable, not running vCPU in the right queue of its pCPU."""
        p = v.home
        self._roll(v, self.sim.now)
        if v.cputime < v.slice:
            heapq.heappush(self.runq[p], (v.deadline, v.gid, v))
            v.qpcpu = 0
        else:                     # slice used: wait for the next period (= deadline)
            heapq.heappush(self.waitq[p], (v.deadline, v.gid, v))
            v.qpcpu = 1
            if v.extra:
                self.extraq[p].append(v)

    def _roll(self, v, now: int) -> None:
        """Start the next period once the deadline passed (count a miss)."""
        if now >= v.deadline:
            if v.cputime < v.slice and v.eligible:
                v.misses += 1
            k = (now - v.deadline) // v.period + 1
            v.deadline += k * v.period
            v.cputime = 0

    def _dequeue(self, v) -> None:
        p = v.home
        if v.qpcpu == 0:
            self.runq[p] = [e for e in self.runq[p] if e[2] is not v]
            heapq.heapify(self.runq[p])
        elif v.qpcpu == 1:
            self.waitq[p] = [e for e in self.waitq[p] if e[2] is not v]
            heapq.heapify(self.waitq[p])
        if v in self.extraq[p]:
            self.extraq[p].remove(v)
        v.qpcpu = -1

    def _update_queues(self, p: int, now: int) -> None:
        """Move vCPUs whose new period began from the wait to the run queue."""
        waitq = self.waitq[p]
        while waitq and waitq[0][0] <= now:
            _, _, v = heapq.heappop(waitq)
            if v in self.extraq[p]:
                self.extraq[p].remove(v)
            v.qpcpu = -1
            self._roll(v, now)
            self._enqueue(v)
        runq = self.runq[p]
        # deadlines that passed while queued: a miss, then a fresh period
        while runq and runq[0][0] <= now:
            _, _, v = heapq.heappop(runq)
            v.qpcpu = -1
            self._enqueue(v)

    # -- hooks -------------------------------------------------------------
    def on_wake(self, v, boost: bool) -> None:
        now = self.sim.now
        if now + (v.slice - v.cputime) > v.deadline:
            # too late in its period for the rest of its slice (or past it):
            # the wake-up starts a new period (Xen's conservative unblock)
            v.deadline = now + v.period
            v.cputime = 0
        self._enqueue(v)
        p = v.home
        cur = self.system.cur[p]
        if cur is None or (v.qpcpu == 0 and (cur.pri == 1 or v.deadline < cur.deadline)):
            self.system.tickle(p)

    def on_block(self, v) -> None:
        self._dequeue(v)

    def on_start(self, v, pcpu: int) -> None:
        v.sstart = self.sim.now

    def on_stop(self, v, pcpu: int, ran_us: int, runnable: bool) -> None:
        if v.pri == 0:                    # ran on its reservation (not extra time)
            v.cputime += ran_us
        v.pri = 0
        if runnable:
            self._enqueue(v)

    def pick(self, p: int):
        now = self.sim.now
        self._update_queues(p, now)
        runq, waitq = self.runq[p], self.waitq[p]
        limit = None
        if waitq:
            limit = waitq[0][0] - now      # a new period may preempt then
        if runq:
            _, _, v = heapq.heappop(runq)
            if v in self.extraq[p]:
                self.extraq[p].remove(v)
            v.qpcpu = -1
            v.pri = 0
            run = min(v.slice - v.cputime, v.deadline - now)
            if limit is not None:
                run = min(run, limit)
            return v, max(1, run)
        extra = self.extraq[p]
        if extra:
            v = extra.pop(0)
            if v.qpcpu == 1:
                self.waitq[p] = [e for e in waitq if e[2] is not v]
                heapq.heapify(self.waitq[p])
            v.qpcpu = -1
            v.pri = 1                      # extra time: does not use the slice
            run = self.quantum if limit is None else min(self.quantum, limit)
            return v, max(1, run)
        if limit is not None:              # nothing to run until the next period
            self.system.sim.schedule(limit, self.system.tickle, p)
        return None, None

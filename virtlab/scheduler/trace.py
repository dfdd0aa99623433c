"""Traces and metrics of a scheduling run, plus the trace invariant checker.

A :class:`Trace` holds every run interval (pCPU, start, end, VM, vCPU) and
per-vCPU statistics.  Metrics: CPU share (fraction of **one** pCPU), wait
time, wake-up latency, deadline misses, skew, co-stop time, workload
progress and Jain's fairness index.

Other models (interrupt delivery) ask a trace whether a vCPU runs:
``trace.running_at(vm, vcpu, t)``, ``trace.next_run_start(vm, vcpu, t)`` and
``trace.pcpu_at(vm, vcpu, t)`` (times in microseconds).

:func:`check_trace` is the conformance checker every scheduler must pass: no
vCPU on two pCPUs at once, no pCPU running two vCPUs, runs only within the
affinity, time is conserved, and under strict co-scheduling never a strict
subset of a VM's vCPUs runs.

Examples
--------
>>> from virtlab.scheduler import CreditScheduler, VM, simulate
>>> t = simulate(CreditScheduler(), [VM("a")], pcpus=1, duration_ms=50)
>>> t.running_at("a", 0, 10_000), t.next_run_start("a", 0, 10_000)
(True, 10000)
>>> check_trace(t)
[]
"""

from __future__ import annotations

import bisect
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import check_int, check_number, check_sequence, check_str, check_type

__all__ = ["Trace", "Interval", "VCpuStats", "check_trace", "jain_index"]


class Interval(NamedTuple):
    """``vm``'s vCPU ``vcpu`` ran on ``pcpu`` during [start, end) µs."""

    pcpu: int
    start: int
    end: int
    vm: str
    vcpu: int


@dataclass(frozen=True)
class VCpuStats:
    """Per-vCPU statistics of a run (times in µs)."""

    vm: str
    vcpu: int
    run_us: int
    wait_us: int
    latencies: tuple[int, ...]
    deadline_misses: int
    costop_us: int
    metrics: tuple[tuple[str, Any], ...]


def jain_index(values) -> float:
    """Jain's fairness index (Σx)² / (n·Σx²): 1 = perfectly fair, 1/n = one takes all.

    Examples
    --------
    >>> jain_index([1, 1, 1, 1])
    1.0
    >>> jain_index([1, 0, 0, 0])
    0.25
    >>> jain_index([])
    Traceback (most recent call last):
    ...
    ValueError: values must not be empty
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"values must be an iterable of numbers, got {type(values).__name__}")
    xs = [check_number("values item", x) for x in values]
    if not xs:
        raise ValueError("values must not be empty")
    if any(x < 0 or x != x for x in xs):
        raise ValueError("values must be non-negative numbers")
    sq = sum(x * x for x in xs)
    if sq == 0:
        return 1.0
    return sum(xs) ** 2 / (len(xs) * sq)


@dataclass(frozen=True)
class Trace:
    """The result of :func:`~virtlab.scheduler.simulate` (see the module docstring).

    Attributes
    ----------
    scheduler : str
        One-line description of the scheduler.
    cosched : str
    pcpus : int
    duration_us : int
    seed : int
    vms : tuple of VM
    intervals : tuple of Interval
        Sorted by (start, pcpu).
    stats : tuple of VCpuStats
    skew_us : tuple of int
        Largest skew seen per VM (progress gap between its vCPUs).
    reservations : tuple of (pcpu, start, end, vm)
        Strict co-scheduling: pCPUs held idle while a gang gathered pCPUs.
    """

    scheduler: str
    cosched: str
    pcpus: int
    duration_us: int
    seed: int
    vms: tuple
    intervals: tuple[Interval, ...]
    stats: tuple[VCpuStats, ...]
    skew_us: tuple[int, ...]
    reservations: tuple[tuple[int, int, int, str], ...]
    _index: dict = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        check_sequence("stats", self.stats, VCpuStats)
        check_sequence("intervals", self.intervals, Interval)
        index: dict[tuple[str, int], tuple[list, list, list]] = {}
        for s in self.stats:
            index[(s.vm, s.vcpu)] = ([], [], [])
        if any((iv.vm, iv.vcpu) not in index for iv in self.intervals):
            raise ValueError("intervals must belong to vCPUs listed in stats")
        for iv in sorted(self.intervals, key=lambda i: i.start):
            starts, ends, pcpus = index[(iv.vm, iv.vcpu)]
            starts.append(iv.start)
            ends.append(iv.end)
            pcpus.append(iv.pcpu)
        object.__setattr__(self, "_index", index)

    # -- lookups -----------------------------------------------------------
    def _vm(self, vm: str):
        check_str("vm", vm)
        for i, v in enumerate(self.vms):
            if v.name == vm:
                return i, v
        names = ", ".join(repr(v.name) for v in self.vms)
        raise ValueError(f"vm must be one of {names}; got {vm!r}")

    def _vstats(self, vm: str):
        self._vm(vm)
        return [s for s in self.stats if s.vm == vm]

    def _key(self, vm: str, vcpu: int):
        _, desc = self._vm(vm)
        check_int("vcpu", vcpu, minimum=0, maximum=desc.vcpus - 1)
        return self._index[(vm, vcpu)]

    @property
    def vm_names(self) -> tuple[str, ...]:
        """Names of the VMs in the run, in order."""
        return tuple(v.name for v in self.vms)

    # -- shares and times -----------------------------------------------------
    def share(self, vm: str) -> float:
        """Fraction of **one** pCPU the VM got over the run (2.0 = two pCPUs).

        Examples
        --------
        >>> from virtlab.scheduler import CreditScheduler, VM, simulate
        >>> simulate(CreditScheduler(), [VM("a", cap=50)], 1, 600).share("a")
        0.5
        """
        return sum(s.run_us for s in self._vstats(vm)) / self.duration_us

    def vcpu_share(self, vm: str, vcpu: int) -> float:
        """Fraction of one pCPU that one vCPU got."""
        self._key(vm, vcpu)
        return next(s.run_us for s in self.stats if s.vm == vm and s.vcpu == vcpu) \
            / self.duration_us

    def shares(self) -> dict[str, float]:
        """``{vm: share}`` for every VM."""
        return {v.name: self.share(v.name) for v in self.vms}

    def utilization(self) -> float:
        """Busy fraction of all pCPUs together (0..1)."""
        busy = sum(iv.end - iv.start for iv in self.intervals)
        return busy / (self.pcpus * self.duration_us)

    def wait_us(self, vm: str) -> int:
        """Total time the VM's vCPUs were runnable but not running (µs)."""
        return sum(s.wait_us for s in self._vstats(vm))

    def costop_us(self, vm: str) -> int:
        """Total time the VM's vCPUs were co-stopped (relaxed co-scheduling)."""
        return sum(s.costop_us for s in self._vstats(vm))

    def wakeup_latencies(self, vm: str) -> list[int]:
        """Wake-up → first run delays of the VM's vCPUs (µs), in vCPU order."""
        out: list[int] = []
        for s in self._vstats(vm):
            out.extend(s.latencies)
        return out

    def median_wakeup_latency_us(self, vm: str) -> float | None:
        """Median wake-up latency in µs (None when the VM never woke up)."""
        lat = self.wakeup_latencies(vm)
        return float(statistics.median(lat)) if lat else None

    def deadline_misses(self, vm: str) -> int:
        """Scheduler deadline misses (SEDF) plus late periodic jobs of the workload."""
        stats = self._vstats(vm)
        return sum(s.deadline_misses for s in stats) + self.workload(vm).get(
            "job_deadline_misses", 0)

    def skew(self, vm: str) -> int:
        """Largest skew (µs) seen between the VM's runnable vCPUs."""
        i, _ = self._vm(vm)
        return self.skew_us[i]

    def workload(self, vm: str) -> dict[str, int]:
        """Workload metrics summed over the VM's vCPUs (iterations, spin_us, jobs, ...)."""
        total: dict[str, int] = {}
        for s in self._vstats(vm):
            for k, v in s.metrics:
                total[k] = max(total.get(k, 0), v) if k == "worst_response_us" \
                    else total.get(k, 0) + v
        return total

    def fairness(self, by_weight: bool = True) -> float:
        """Jain's index over the VMs' shares (divided by their weights by default).

        Examples
        --------
        >>> from virtlab.scheduler import CreditScheduler, VM, simulate
        >>> t = simulate(CreditScheduler(), [VM("a"), VM("b", weight=512)], 1, 3000)
        >>> round(t.fairness(), 2)
        1.0
        """
        if by_weight:
            return jain_index(self.share(v.name) / (v.weight * v.vcpus) for v in self.vms)
        return jain_index(self.share(v.name) for v in self.vms)

    # -- "is it running?" for other models (interrupts) --------------------------
    def running_at(self, vm: str, vcpu: int, t: int) -> bool:
        """Does the vCPU run at time ``t`` (µs)?"""
        return self.pcpu_at(vm, vcpu, t) is not None

    def pcpu_at(self, vm: str, vcpu: int, t: int) -> int | None:
        """The pCPU the vCPU runs on at time ``t`` (µs), or None."""
        starts, ends, pcpus = self._key(vm, vcpu)
        check_int("t", t, minimum=0)
        k = bisect.bisect_right(starts, t) - 1
        if k >= 0 and ends[k] > t:
            return pcpus[k]
        return None

    def next_run_start(self, vm: str, vcpu: int, t: int) -> int | None:
        """First time >= ``t`` at which the vCPU runs (``t`` itself if running), or None.

        Examples
        --------
        >>> from virtlab.scheduler import CreditScheduler, VM, simulate
        >>> t = simulate(CreditScheduler(), [VM("a"), VM("b")], 1, 100)
        >>> t.next_run_start("b", 0, 0)
        30000
        """
        starts, ends, _ = self._key(vm, vcpu)
        check_int("t", t, minimum=0)
        k = bisect.bisect_right(starts, t) - 1
        if k >= 0 and ends[k] > t:
            return t
        if k + 1 < len(starts):
            return starts[k + 1]
        return None

    def vcpu_intervals(self, vm: str, vcpu: int) -> list[tuple[int, int, int]]:
        """``[(start, end, pcpu), ...]`` of one vCPU, in time order."""
        starts, ends, pcpus = self._key(vm, vcpu)
        return list(zip(starts, ends, pcpus))

    def summary(self) -> list[dict[str, Any]]:
        """One row per VM: share, wait, median wake-up latency, misses, skew, progress."""
        rows = []
        for v in self.vms:
            med = self.median_wakeup_latency_us(v.name)
            rows.append({
                "vm": v.name, "vcpus": v.vcpus, "weight": v.weight, "cap": v.cap,
                "share": round(self.share(v.name), 4),
                "wait_ms": round(self.wait_us(v.name) / 1000, 1),
                "median_wakeup_ms": None if med is None else round(med / 1000, 3),
                "deadline_misses": self.deadline_misses(v.name),
                "skew_ms": round(self.skew(v.name) / 1000, 2),
                "costop_ms": round(self.costop_us(v.name) / 1000, 1),
                **self.workload(v.name),
            })
        return rows


def build_trace(system, duration_us: int, seed: int) -> Trace:
    """Freeze an engine's records into a :class:`Trace` (used by ``simulate``)."""
    vcpus = system.vcpus
    names = [v.vm.name for v in vcpus]
    idx = [v.index for v in vcpus]
    ivs = sorted(zip(system.iv_start, system.iv_pcpu, system.iv_end, system.iv_vcpu))
    intervals = tuple(Interval(p, s, e, names[g], idx[g]) for s, p, e, g in ivs)
    stats = tuple(VCpuStats(v.vm.name, v.index, v.run_us, v.wait_us, tuple(v.latencies),
                            v.misses, v.costop_us, tuple(sorted(v.wl.metrics().items())))
                  for v in vcpus)
    skew = tuple(0 if g is None else g.max_skew for g in system.groups)
    res = tuple((p, s, e, system.vms[vmi].name) for p, s, e, vmi in sorted(system.reserve_log))
    return Trace(system.sched.describe(), system.sched.cosched, system.npcpus, duration_us,
                 seed, system.vms, intervals, stats, skew, res)


def check_trace(trace: Trace) -> list[str]:
    """Check the scheduling invariants; return a list of violations (empty = fine).

    * no vCPU runs on two pCPUs at once; no pCPU runs two vCPUs at once;
    * every interval lies in [0, duration] and within the VM's affinity;
    * time is conserved: per vCPU, run + wait <= duration, and the run time
      in the intervals equals the per-vCPU statistics;
    * strict co-scheduling: at no instant runs a strict, non-empty subset of
      a VM's vCPUs.

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, VM, SpinLock, simulate
    >>> vms = [VM("smp", vcpus=2, workload=SpinLock()), VM("x")]
    >>> check_trace(simulate(CreditScheduler(cosched="strict"), vms, 2, 200))
    []
    """
    check_type("trace", trace, Trace)
    errors: list[str] = []
    T = trace.duration_us
    by_pcpu: dict[int, list[Interval]] = {}
    by_vcpu: dict[tuple[str, int], list[Interval]] = {}
    aff = {v.name: (None if v.affinity is None else set(v.affinity)) for v in trace.vms}
    for iv in trace.intervals:
        if not (0 <= iv.start < iv.end <= T):
            errors.append(f"interval out of range: {iv}")
        if not 0 <= iv.pcpu < trace.pcpus:
            errors.append(f"no such pCPU: {iv}")
        a = aff.get(iv.vm)
        if a is not None and iv.pcpu not in a:
            errors.append(f"run outside affinity {sorted(a)}: {iv}")
        by_pcpu.setdefault(iv.pcpu, []).append(iv)
        by_vcpu.setdefault((iv.vm, iv.vcpu), []).append(iv)
    for p, ivs in by_pcpu.items():
        ivs.sort(key=lambda i: i.start)
        for a, b in zip(ivs, ivs[1:]):
            if b.start < a.end:
                errors.append(f"pCPU {p} runs two vCPUs at once: {a} and {b}")
    for key, ivs in by_vcpu.items():
        ivs.sort(key=lambda i: i.start)
        for a, b in zip(ivs, ivs[1:]):
            if b.start < a.end:
                errors.append(f"vCPU {key} on two pCPUs at once: {a} and {b}")
    for s in trace.stats:
        ran = sum(iv.end - iv.start for iv in by_vcpu.get((s.vm, s.vcpu), []))
        if ran != s.run_us:
            errors.append(f"vCPU {s.vm}.{s.vcpu}: intervals sum to {ran} µs, stats say {s.run_us}")
        if s.run_us + s.wait_us > T:
            errors.append(f"vCPU {s.vm}.{s.vcpu}: run + wait = {s.run_us + s.wait_us} > {T}")
    if trace.cosched == "strict":
        for v in trace.vms:
            if v.vcpus < 2:
                continue
            events = []
            for i in range(v.vcpus):
                for iv in by_vcpu.get((v.name, i), []):
                    events.append((iv.start, 1))
                    events.append((iv.end, -1))
            events.sort()
            count = 0
            k = 0
            while k < len(events):
                t = events[k][0]
                while k < len(events) and events[k][0] == t:
                    count += events[k][1]
                    k += 1
                if 0 < count < v.vcpus and t < T:
                    errors.append(f"strict co-scheduling broken: {count} of {v.vcpus} vCPUs "
                                  f"of {v.name!r} run at t={t} µs")
                    break
    return errors

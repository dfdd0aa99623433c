"""What a vCPU runs: CPU-bound, I/O-bound, periodic real-time, parallel (lock, barrier).

A workload is a small frozen description; the engine asks it for a per-vCPU
*instance* which moves through phases.  A phase is either ``("run", us)`` —
that much CPU time until the next workload event (``None`` = forever) — or
``("block", us)`` — wait that long off the CPU (an I/O request, the next
period), then wake up.  Only CPU time advances a phase, so a preempted vCPU
simply resumes its phase later.

:class:`SpinLock` and :class:`Barrier` couple the vCPUs of one VM.  A vCPU
that finds the lock taken *spins* (burns CPU without progress) until the
holder releases it.  If the hypervisor preempts the holder, every sibling
spins in vain — the *lock-holder preemption* problem co-scheduling
addresses.  At a barrier, the early vCPUs spin until the last one arrives.

Examples
--------
>>> IOBound(burst_ms=1, io_ms=5)
IOBound(burst_ms=1, io_ms=5)
>>> Periodic(period_ms=20, work_ms=5).utilization
0.25
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import check_number

__all__ = ["Workload", "CPUBound", "IOBound", "Periodic", "SpinLock", "Barrier"]


def _us(ms: float) -> int:
    return max(1, int(ms * 1000.0 + 0.5))


class Workload:
    """Base class of workload descriptions (see the module docstring)."""

    def instance(self, vcpu, rng, shared: dict):  # pragma: no cover - interface
        """Per-vCPU runtime state; ``shared`` is one dict per VM."""
        raise NotImplementedError


class _Instance:
    """Runtime state of one vCPU's workload (the engine calls these)."""

    __slots__ = ("vcpu",)

    def begin(self, now: int):
        return ("run", None)

    def advance(self, now: int):
        return ("run", None)

    def on_wake(self, now: int):
        return None

    def on_run(self, now: int) -> None:
        pass

    def on_stop(self, now: int) -> None:
        pass

    def metrics(self) -> dict:
        return {}


@dataclass(frozen=True)
class CPUBound(Workload):
    """Always runnable, never blocks (a compute job, a CPU hog).

    Examples
    --------
    >>> CPUBound()
    CPUBound()
    """

    def instance(self, vcpu, rng, shared):
        inst = _Instance()
        inst.vcpu = vcpu
        return inst


class _IOInst(_Instance):
    __slots__ = ("rng", "burst", "io", "bursts", "woke", "response")

    def _draw(self, mean):
        return max(1, int(self.rng.expovariate(1.0 / mean) + 0.5))

    def begin(self, now):
        return ("run", self._draw(self.burst))

    def advance(self, now):
        self.bursts += 1
        self.response += now - self.woke
        return ("block", self._draw(self.io))

    def on_wake(self, now):
        self.woke = now
        return self._draw(self.burst)

    def metrics(self):
        return {"bursts": self.bursts, "response_us": self.response}


@dataclass(frozen=True)
class IOBound(Workload):
    """Short CPU bursts, then a blocking I/O wait, then a wake-up event.

    Burst and I/O times are exponentially distributed with the given means
    (drawn from the run's seeded generator).  Metrics: ``bursts`` completed
    and ``response_us``, their summed response times (wake-up → burst done;
    the first burst counts from time 0).

    Parameters
    ----------
    burst_ms : float
        Mean CPU burst (> 0).
    io_ms : float
        Mean I/O wait (> 0).

    Examples
    --------
    >>> IOBound(burst_ms=0.5, io_ms=10).io_ms
    10
    >>> IOBound(burst_ms=-1)
    Traceback (most recent call last):
    ...
    ValueError: burst_ms must be a finite number > 0.001 and <= 100000.0, got -1.0
    """

    burst_ms: float = 1.0
    io_ms: float = 10.0

    def __post_init__(self):
        check_number("burst_ms", self.burst_ms, minimum=0.001, maximum=1e5, strict_minimum=True)
        check_number("io_ms", self.io_ms, minimum=0.001, maximum=1e5, strict_minimum=True)

    def instance(self, vcpu, rng, shared):
        inst = _IOInst()
        inst.vcpu, inst.rng = vcpu, rng
        inst.burst, inst.io = self.burst_ms * 1000.0, self.io_ms * 1000.0
        inst.bursts = inst.woke = inst.response = 0
        return inst


class _PeriodicInst(_Instance):
    __slots__ = ("period", "work", "release", "jobs", "misses", "worst_response")

    def begin(self, now):
        self.release = now
        return ("run", self.work)

    def advance(self, now):
        self.jobs += 1
        response = now - self.release
        self.worst_response = max(self.worst_response, response)
        if response > self.period:
            self.misses += 1
        self.release += self.period
        if self.release > now:
            return ("block", self.release - now)
        return ("run", self.work)          # already late: next job at once

    def on_wake(self, now):
        return self.work

    def metrics(self):
        return {"jobs": self.jobs, "job_deadline_misses": self.misses,
                "worst_response_us": self.worst_response}


@dataclass(frozen=True)
class Periodic(Workload):
    """A periodic real-time task: ``work_ms`` of CPU released every ``period_ms``.

    Each job's deadline is the next release; late jobs are counted as
    ``job_deadline_misses`` in the trace's workload metrics.

    Examples
    --------
    >>> Periodic(period_ms=100, work_ms=10).utilization
    0.1
    """

    period_ms: float = 100.0
    work_ms: float = 10.0

    def __post_init__(self):
        check_number("period_ms", self.period_ms, minimum=0.01, maximum=1e5, strict_minimum=True)
        check_number("work_ms", self.work_ms, minimum=0.001, maximum=self.period_ms,
                     strict_minimum=True)

    @property
    def utilization(self) -> float:
        """CPU fraction the task needs (work / period)."""
        return self.work_ms / self.period_ms

    def instance(self, vcpu, rng, shared):
        inst = _PeriodicInst()
        inst.vcpu = vcpu
        inst.period, inst.work = _us(self.period_ms), _us(self.work_ms)
        inst.release, inst.jobs, inst.misses, inst.worst_response = 0, 0, 0, 0
        return inst


class _Lock:
    __slots__ = ("holder", "waiters", "engine")

    def __init__(self, engine):
        self.holder = None
        self.waiters = []
        self.engine = engine


class _SpinInst(_Instance):
    __slots__ = ("lock", "work", "hold", "phase", "iterations", "spin_us", "spin_since")

    def begin(self, now):
        self.phase = "work"
        return ("run", self.work)

    def _acquire(self, now):
        self.lock.holder = self
        self.phase = "hold"

    def advance(self, now):
        lock = self.lock
        if self.phase == "work":
            if lock.holder is None:
                self._acquire(now)
                return ("run", self.hold)
            self.phase = "spin"
            self.spin_since = now
            lock.waiters.append(self)
            return ("run", None)
        # end of the critical section: release, hand over to a running spinner
        self.iterations += 1
        lock.holder = None
        self.phase = "work"
        for waiter in lock.waiters:
            if waiter.vcpu.pcpu >= 0:
                lock.waiters.remove(waiter)
                waiter.spin_us += now - waiter.spin_since
                waiter._acquire(now)
                lock.engine.set_phase(waiter.vcpu, waiter.hold)
                break
        return ("run", self.work)

    def on_run(self, now):
        if self.phase == "spin":
            if self.lock.holder is None:       # freed while we were off the CPU
                self.lock.waiters.remove(self)
                self._acquire(now)
                self.vcpu.remaining = self.hold
            else:
                self.spin_since = now

    def on_stop(self, now):
        if self.phase == "spin":
            self.spin_us += now - self.spin_since

    def metrics(self):
        return {"iterations": self.iterations, "spin_us": self.spin_us}


@dataclass(frozen=True)
class SpinLock(Workload):
    """A parallel workload: every vCPU loops *work, then a critical section*.

    The critical section is protected by one spinlock per VM (test-and-set,
    handed to a running spinner on release).  Progress is the number of
    completed critical sections (``iterations``); ``spin_us`` is CPU time
    burnt waiting.

    Parameters
    ----------
    work_ms : float
        CPU time outside the lock per iteration.
    hold_ms : float
        CPU time inside the lock per iteration.

    Examples
    --------
    >>> SpinLock(work_ms=1, hold_ms=0.2).hold_ms
    0.2
    """

    work_ms: float = 1.0
    hold_ms: float = 0.2

    def __post_init__(self):
        check_number("work_ms", self.work_ms, minimum=0.001, maximum=1e5, strict_minimum=True)
        check_number("hold_ms", self.hold_ms, minimum=0.001, maximum=1e5, strict_minimum=True)

    def instance(self, vcpu, rng, shared):
        lock = shared.get("lock")
        if lock is None:
            lock = shared["lock"] = _Lock(shared["engine"])
        inst = _SpinInst()
        inst.vcpu, inst.lock = vcpu, lock
        inst.work, inst.hold = _us(self.work_ms), _us(self.hold_ms)
        inst.phase, inst.iterations, inst.spin_us, inst.spin_since = "work", 0, 0, 0
        return inst


class _BarrierState:
    __slots__ = ("n", "arrived", "waiters", "engine")

    def __init__(self, n, engine):
        self.n, self.arrived, self.waiters, self.engine = n, 0, [], engine


class _BarrierInst(_Instance):
    __slots__ = ("bar", "work", "phase", "rounds", "spin_us", "spin_since")

    def begin(self, now):
        self.phase = "work"
        return ("run", self.work)

    def advance(self, now):
        bar = self.bar
        bar.arrived += 1
        if bar.arrived < bar.n:                # wait (spin) for the others
            self.phase = "spin"
            self.spin_since = now
            bar.waiters.append(self)
            return ("run", None)
        bar.arrived = 0                        # last one in: release everybody
        self.rounds += 1
        for w in bar.waiters:
            w.rounds += 1
            w.phase = "work"
            if w.vcpu.pcpu >= 0:
                w.spin_us += now - w.spin_since
            bar.engine.set_phase(w.vcpu, w.work)
        bar.waiters.clear()
        return ("run", self.work)

    def on_run(self, now):
        if self.phase == "spin":
            self.spin_since = now

    def on_stop(self, now):
        if self.phase == "spin":
            self.spin_us += now - self.spin_since

    def metrics(self):
        return {"rounds": self.rounds, "spin_us": self.spin_us}


@dataclass(frozen=True)
class Barrier(Workload):
    """A parallel workload: every vCPU computes ``work_ms``, then waits at a barrier.

    Waiting vCPUs spin (burn CPU); the last vCPU to arrive releases all of
    them.  If one vCPU is preempted, its siblings spin until it gets the CPU
    back.  ``rounds`` counts barrier passes summed over the VM's vCPUs.

    Examples
    --------
    >>> Barrier(work_ms=2).work_ms
    2
    """

    work_ms: float = 1.0

    def __post_init__(self):
        check_number("work_ms", self.work_ms, minimum=0.001, maximum=1e5, strict_minimum=True)

    def instance(self, vcpu, rng, shared):
        bar = shared.get("barrier")
        if bar is None:
            bar = shared["barrier"] = _BarrierState(vcpu.vm.vcpus, shared["engine"])
        inst = _BarrierInst()
        inst.vcpu, inst.bar = vcpu, bar
        inst.work = _us(self.work_ms)
        inst.phase, inst.rounds, inst.spin_us, inst.spin_since = "work", 0, 0, 0
        return inst

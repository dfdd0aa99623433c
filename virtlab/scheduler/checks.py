"""Conformance check for scheduler strategies: :func:`check_scheduler`.

It sits above the engine (:mod:`.system`) and the traces (:mod:`.trace`):
it runs a strategy on random seeded systems and checks every trace with
:func:`~virtlab.scheduler.trace.check_trace`.
"""

from __future__ import annotations

from ..errors import check_int, check_type
from ..rng import make_rng
from .base import VM, Scheduler
from .system import simulate
from .trace import check_trace
from .workloads import Barrier, CPUBound, IOBound, Periodic, SpinLock

__all__ = ["check_scheduler"]


def check_scheduler(scheduler, *, runs: int = 12, seed: int = 0) -> list[str]:
    """Conformance check for a scheduler strategy (after Gymnasium's env checker).

    Runs ``scheduler`` on ``runs`` small random systems (1–4 pCPUs, CPU- and
    I/O-bound, periodic and parallel workloads, affinities; seeded) and
    returns the violations :func:`check_trace` finds, plus "it never runs
    anything" and determinism failures.  Empty list = conforming.

    Examples
    --------
    >>> from virtlab.scheduler import CreditScheduler, SEDFScheduler
    >>> check_scheduler(CreditScheduler()), check_scheduler(SEDFScheduler(cosched="relaxed"))
    ([], [])
    """
    check_type("scheduler", scheduler, Scheduler)
    runs = check_int("runs", runs, minimum=1, maximum=1000)
    rng = make_rng(check_int("seed", seed, minimum=0))
    workloads = [CPUBound(), IOBound(0.5, 2), IOBound(2, 1), Periodic(10, 2),
                 SpinLock(0.5, 0.2), Barrier(0.7)]
    problems: list[str] = []
    for k in range(runs):
        pcpus = rng.randint(1, 4)
        vms = []
        for i in range(rng.randint(1, 4)):
            most = pcpus if scheduler.cosched != "strict" else min(pcpus, 3)
            vcpus = rng.randint(1, max(1, min(3, most)))
            aff = None
            if rng.random() < 0.3 and pcpus > 1:
                aff = tuple(sorted(rng.sample(range(pcpus), rng.randint(vcpus, pcpus))))
            vms.append(VM(f"vm{i}", vcpus=vcpus, weight=rng.choice([128, 256, 512]),
                          extratime=True, workload=rng.choice(workloads), affinity=aff))
        try:
            t = simulate(scheduler, vms, pcpus, 150, seed=k)
            again = simulate(scheduler, vms, pcpus, 150, seed=k)
        except Exception as exc:  # noqa: BLE001 - a broken strategy may fail anyhow
            if isinstance(exc, ValueError) and "admission" in str(exc):
                continue                             # SEDF refusing is not a violation
            problems.append(f"run {k}: {type(exc).__name__}: {exc}")
            continue
        problems += [f"run {k}: {e}" for e in check_trace(t)]
        if t != again:
            problems.append(f"run {k}: same seed, different trace")
        if not t.intervals:
            problems.append(f"run {k}: no vCPU ever ran")
    return problems

"""Ready-made set-ups for notebook 11 and the scheduling widgets.

Each function builds VMs, runs :func:`~virtlab.scheduler.simulate` and
returns traces, so notebook cells stay one line long and the set-ups are
tested like any other model code.

Examples
--------
>>> traces = lock_comparison(duration_ms=300)
>>> sorted(traces)
['none', 'relaxed', 'strict']
"""

from __future__ import annotations

from ..errors import check_choice, check_int, check_number
from .base import VM
from .credit import CreditScheduler
from .roundrobin import RoundRobinScheduler
from .sedf import SEDFScheduler
from .system import simulate
from .trace import Trace
from .workloads import CPUBound, IOBound, SpinLock

#: Longest simulated time of a scenario (one minute, as the scheduler widgets
#: allow); a longer run is a :func:`simulate` call of its own.
MAX_SCENARIO_MS = 60_000.0

__all__ = ["LAB_VMS", "MAX_SCENARIO_MS", "lab", "latency_comparison", "lock_comparison",
           "mapping_example"]

#: The three VMs of the scheduler lab: name, vCPUs, workload.
LAB_VMS = (("web", 1, IOBound(burst_ms=1.0, io_ms=4.0)),
           ("db", 2, CPUBound()),
           ("batch", 2, CPUBound()))


def lab(scheduler: str = "credit", cosched: str = "none", pcpus: int = 2,
        weights=(256, 256, 256), caps=(0, 0, 0), periods_ms=(20, 100, 100),
        slices_ms=(5, 0, 0), duration_ms: float = 600.0, seed: int = 0) -> Trace:
    """Run the lab's three VMs (:data:`LAB_VMS`) with per-VM parameters.

    ``scheduler`` is ``"credit"``, ``"sedf"`` or ``"rr"`` (textbook round
    robin, the baseline).  ``slices_ms`` of 0 means "no SEDF reservation"
    (SEDF's default of 100 ms / 0 with extra time).  All lab VMs may use
    extra time.

    Examples
    --------
    >>> t = lab(pcpus=1, weights=(256, 256, 512), duration_ms=300)
    >>> t.vm_names
    ('web', 'db', 'batch')
    >>> lab(scheduler="sedf", slices_ms=(15, 10, 10), periods_ms=(20, 20, 20), pcpus=1)
    Traceback (most recent call last):
    ...
    ValueError: SEDF admission refused: pCPU 0 would be reserved 2.75 > 1 (...)
    """
    check_number("duration_ms", duration_ms, minimum=0, strict_minimum=True,
                 maximum=MAX_SCENARIO_MS)
    check_choice("scheduler", scheduler, ("credit", "sedf", "rr"))
    params = {}
    for name, values in (("weights", weights), ("caps", caps), ("periods_ms", periods_ms),
                         ("slices_ms", slices_ms)):
        if not isinstance(values, (tuple, list)) or len(values) != len(LAB_VMS):
            raise ValueError(f"{name} must be a sequence of {len(LAB_VMS)} values, got {values!r}")
        params[name] = tuple(values)
    vms = []
    for i, (name, vcpus, workload) in enumerate(LAB_VMS):
        period, slc = params["periods_ms"][i], params["slices_ms"][i]
        check_number(f"slices_ms[{i}]", slc, minimum=0.0)
        reserve = slc > 0
        vms.append(VM(name, vcpus=vcpus, weight=params["weights"][i], cap=params["caps"][i],
                      period_ms=period if reserve else None,
                      slice_ms=slc if reserve else None, extratime=True, workload=workload))
    make = {"credit": CreditScheduler, "sedf": SEDFScheduler, "rr": RoundRobinScheduler}
    sched = make[scheduler](cosched=cosched)
    return simulate(sched, vms, pcpus, duration_ms, seed=seed)


def latency_comparison(duration_ms: float = 3000.0, hogs: int = 3, seed: int = 0) -> dict:
    """A latency-sensitive VM against CPU hogs on one pCPU, three ways.

    The ``voip`` VM serves requests: ~2 ms CPU bursts, ~4 ms between them
    (it would like a third of the pCPU, more than its fair share next to
    ``hogs`` batch VMs).  Returns ``{label: Trace}`` for Credit, Credit
    without BOOST, and SEDF with a 4 ms / 10 ms reservation.

    Examples
    --------
    >>> t = latency_comparison(duration_ms=500)
    >>> list(t)
    ['Credit', 'Credit, no BOOST', 'SEDF 4/10 ms']
    """
    check_number("duration_ms", duration_ms, minimum=0, strict_minimum=True,
                 maximum=MAX_SCENARIO_MS)
    hogs = check_int("hogs", hogs, minimum=0, maximum=16)
    vms = ([VM("voip", period_ms=10, slice_ms=4, workload=IOBound(burst_ms=2, io_ms=4))]
           + [VM(f"batch{i}", extratime=True) for i in range(hogs)])
    return {
        "Credit": simulate(CreditScheduler(), vms, 1, duration_ms, seed=seed),
        "Credit, no BOOST": simulate(CreditScheduler(boost=False), vms, 1, duration_ms,
                                     seed=seed),
        "SEDF 4/10 ms": simulate(SEDFScheduler(), vms, 1, duration_ms, seed=seed),
    }


def lock_comparison(duration_ms: float = 2000.0, pcpus: int = 4, hogs: int = 3,
                    seed: int = 0, scheduler: str = "credit") -> dict:
    """A 4-vCPU VM with a spinlock next to CPU hogs, under each co-scheduling mode.

    Returns ``{"none" | "strict" | "relaxed": Trace}``; the VM is ``smp``.

    Examples
    --------
    >>> t = lock_comparison(duration_ms=500)
    >>> t["strict"].skew("smp")
    0
    """
    check_number("duration_ms", duration_ms, minimum=0, strict_minimum=True,
                 maximum=MAX_SCENARIO_MS)
    check_choice("scheduler", scheduler, ("credit", "sedf"))
    pcpus = check_int("pcpus", pcpus, minimum=4, maximum=64)
    hogs = check_int("hogs", hogs, minimum=0, maximum=16)
    vms = ([VM("smp", vcpus=4, workload=SpinLock(work_ms=1, hold_ms=0.3))]
           + [VM(f"hog{i}", extratime=True) for i in range(hogs)]
           + [VM("io", extratime=True, workload=IOBound(1, 5))])
    make = CreditScheduler if scheduler == "credit" else SEDFScheduler
    return {mode: simulate(make(cosched=mode), vms, pcpus, duration_ms, seed=seed)
            for mode in ("none", "strict", "relaxed")}


def mapping_example(duration_ms: float = 200.0) -> Trace:
    """The slide's picture: five vCPUs of VM-1 (2), VM-2 (1, pinned to pCPU 1), VM-n (2) on 2 pCPUs.

    Examples
    --------
    >>> mapping_example().pcpus
    2
    """
    check_number("duration_ms", duration_ms, minimum=0, strict_minimum=True,
                 maximum=MAX_SCENARIO_MS)
    vms = [VM("VM-1", vcpus=2), VM("VM-2", vcpus=1, affinity=(1,)),
           VM("VM-n", vcpus=2, workload=IOBound(2, 3))]
    return simulate(CreditScheduler(), vms, 2, duration_ms, seed=1)

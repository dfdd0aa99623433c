"""vCPU scheduling (*CPU-Scheduling*): SEDF, Credit and co-scheduling.

Virtual CPUs (*virtuelle CPUs*) of VMs are mapped to physical CPUs
(*physikalische CPUs*) first by configuration (*Zuordnung per
Konfiguration*: affinity / pinning, ``VM(affinity=...)``) and then by the
hypervisor's scheduler (*Zuordnung per CPU-Scheduling*).  This package
models Xen's SEDF and Credit schedulers and VMware-style co-scheduling
(*Co-Scheduling*, strict / relaxed) on the shared discrete-event core
:mod:`virtlab.sim` (integer microseconds).

Contract (used by checks outside the project's tests)::

    trace = simulate(scheduler, vms, pcpus, duration_ms, seed=0)
    trace.share("vm")        # fraction of ONE pCPU over the run

Other models ask a trace whether a vCPU runs: ``trace.running_at(vm, vcpu,
t)``, ``trace.pcpu_at(vm, vcpu, t)`` and ``trace.next_run_start(vm, vcpu, t)``
(µs; ``t`` itself when running at ``t``, None if never again).

Modules: :mod:`.base` (VM, Scheduler hooks), :mod:`.workloads`,
:mod:`.system` (engine, ``simulate``, co-scheduling), :mod:`.credit`,
:mod:`.sedf`, :mod:`.roundrobin` (baseline / template for your own),
:mod:`.trace` (metrics, ``check_trace``), :mod:`.checks` (``check_scheduler``), :mod:`.scenarios`
(ready-made set-ups for the notebook and widgets).

Examples
--------
>>> from virtlab.scheduler import CreditScheduler, VM, simulate
>>> t = simulate(CreditScheduler(), [VM("a", weight=256), VM("b", weight=512)],
...              pcpus=1, duration_ms=3000)
>>> abs(t.share("b") / t.share("a") - 2) < 0.1
True
"""

from .base import COSCHED_MODES, VM, Scheduler
from .credit import BOOST, IDLE, OVER, UNDER, CreditScheduler, fair_shares
from .sedf import SEDFScheduler
from .system import simulate
from .roundrobin import RoundRobinScheduler
from .checks import check_scheduler
from .trace import Interval, Trace, check_trace, jain_index
from .workloads import Barrier, CPUBound, IOBound, Periodic, SpinLock, Workload

__all__ = [
    "BOOST", "Barrier", "COSCHED_MODES", "CPUBound", "CreditScheduler", "IDLE", "IOBound",
    "Interval", "OVER", "Periodic", "RoundRobinScheduler", "SEDFScheduler", "Scheduler",
    "SpinLock", "Trace",
    "UNDER", "VM", "Workload", "check_scheduler", "check_trace", "fair_shares", "jain_index",
    "simulate",
]

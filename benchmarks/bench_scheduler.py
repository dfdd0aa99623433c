"""Benchmarks for the vCPU schedulers (design.md "Targets").

* Credit, 64 pCPUs, 256 vCPUs (64 CPU-bound VMs with 4 vCPUs), 10 s simulated:
  target about 1 s of wall-clock time;
* the cost is linear in simulated time: time(20 s) / time(10 s) close to 2;
* informational: a mixed load (CPU-bound, I/O-bound, spinlock VMs with events
  every few hundred µs), SEDF, and relaxed co-scheduling on the same machine
  size, 2 s simulated (reported as wall-clock seconds per simulated second).
"""

from __future__ import annotations

import time


def _vms(mixed: bool):
    from virtlab.scheduler import VM, IOBound, SpinLock
    vms = []
    for i in range(64):
        if mixed and i % 4 == 1:
            wl = IOBound(burst_ms=1, io_ms=5)
        elif mixed and i % 4 == 2:
            wl = SpinLock(work_ms=1, hold_ms=0.3)
        else:
            wl = None
        kwargs = {} if wl is None else {"workload": wl}
        vms.append(VM(f"vm{i}", vcpus=4, weight=256 * (1 + i % 3), extratime=True, **kwargs))
    return vms


def _best_of(n, fn):
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_credit_64x256():
    from virtlab.scheduler import CreditScheduler, simulate
    vms = _vms(False)
    secs = _best_of(3, lambda: simulate(CreditScheduler(), vms, 64, 10_000))
    return [{"name": "scheduler: Credit 64 pCPUs x 256 vCPUs, 10 s simulated",
             "value": round(secs, 3), "unit": "s", "target": "<= 1.0 (about 1 s)",
             "ok": secs <= 1.0}]


def bench_credit_linear():
    from virtlab.scheduler import CreditScheduler, simulate
    vms = _vms(False)
    t10 = _best_of(2, lambda: simulate(CreditScheduler(), vms, 64, 10_000))
    t20 = _best_of(2, lambda: simulate(CreditScheduler(), vms, 64, 20_000))
    ratio = t20 / t10
    return [{"name": "scheduler: Credit time(20 s) / time(10 s) simulated",
             "value": round(ratio, 2), "unit": "x", "target": "1.6 .. 2.4 (linear)",
             "ok": 1.6 <= ratio <= 2.4}]


def bench_informational():
    from virtlab.scheduler import CreditScheduler, SEDFScheduler, simulate
    mixed = _vms(True)
    out = []
    for label, make in [("Credit, mixed load", lambda: CreditScheduler()),
                        ("Credit relaxed co-scheduling, mixed load",
                         lambda: CreditScheduler(cosched="relaxed")),
                        ("SEDF (extra time only), mixed load", lambda: SEDFScheduler())]:
        secs = _best_of(1, lambda: simulate(make(), mixed, 64, 2_000)) / 2
        out.append({"name": f"scheduler: {label}, 64x256, per simulated s",
                    "value": round(secs, 3), "unit": "s/s", "target": "informational",
                    "ok": True})
    return out


BENCHMARKS = [bench_credit_64x256, bench_credit_linear, bench_informational]

if __name__ == "__main__":
    for fn in BENCHMARKS:
        for r in fn():
            print(r)

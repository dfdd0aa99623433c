"""Co-scheduling: strict gangs, relaxed skew bound, lock-holder preemption (facts.md §5)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtlab.scheduler import (VM, Barrier, CreditScheduler, IOBound, Periodic,
                               SEDFScheduler, SpinLock, check_trace, simulate)


def _lock_vms(hogs=3):
    return ([VM("smp", vcpus=4, workload=SpinLock(work_ms=1, hold_ms=0.3))]
            + [VM(f"h{i}") for i in range(hogs)] + [VM("io", workload=IOBound(1, 5))])


def _running_counts(trace, vm, n):
    """Number of the VM's vCPUs running in each elementary time segment."""
    points = sorted({iv.start for iv in trace.intervals} | {iv.end for iv in trace.intervals})
    counts = []
    for a, b in zip(points, points[1:]):
        mid = (a + b) // 2 if b - a > 1 else a
        counts.append(sum(trace.running_at(vm, i, mid) for i in range(n)))
    return counts


def _offline_skew(trace, vm, n):
    """Max over time of (most - least CPU time received) among the VM's vCPUs,
    recomputed from the run intervals alone (valid for workloads that never block)."""
    events = sorted({iv.start for iv in trace.intervals} | {iv.end for iv in trace.intervals})
    ivs = [trace.vcpu_intervals(vm, i) for i in range(n)]

    def ran(i, t):
        return sum(min(e, t) - s for s, e, _ in ivs[i] if s < t)
    return max((max(ran(i, t) for i in range(n)) - min(ran(i, t) for i in range(n))
                for t in events), default=0)


def test_strict_never_runs_a_strict_subset():
    t = simulate(CreditScheduler(cosched="strict"), _lock_vms(), 4, 2_000)
    assert set(_running_counts(t, "smp", 4)) <= {0, 4}
    assert check_trace(t) == []
    assert t.skew("smp") == 0


@settings(max_examples=30)
@given(pcpus=st.integers(2, 5), vcpus=st.integers(2, 4), hogs=st.integers(0, 4),
       seed=st.integers(0, 1000), sedf=st.booleans())
def test_strict_property_over_random_systems(pcpus, vcpus, hogs, seed, sedf):
    vcpus = min(vcpus, pcpus)
    vms = ([VM("g", vcpus=vcpus, workload=SpinLock(0.5, 0.2)),
            VM("g2", vcpus=2, workload=IOBound(1, 3))]
           + [VM(f"h{i}") for i in range(hogs)])
    sched = SEDFScheduler(cosched="strict") if sedf else CreditScheduler(cosched="strict")
    t = simulate(sched, vms, pcpus, 300, seed=seed)
    assert check_trace(t) == []              # includes the "no strict subset" check
    assert set(_running_counts(t, "g", vcpus)) <= {0, vcpus}


@settings(max_examples=40)
@given(pcpus=st.integers(2, 5), hogs=st.integers(0, 5), seed=st.integers(0, 1000),
       threshold=st.sampled_from([1.0, 3.0, 5.0]), sedf=st.booleans(),
       workload=st.sampled_from([SpinLock(1, 0.3), IOBound(1, 3), IOBound(3, 1),
                                 Barrier(0.7), Periodic(10, 3)]))
def test_relaxed_keeps_skew_within_threshold(pcpus, hogs, seed, threshold, sedf, workload):
    vms = ([VM("g", vcpus=4, workload=workload), VM("io", workload=IOBound(1, 4))]
           + [VM(f"h{i}") for i in range(hogs)])
    make = SEDFScheduler if sedf else CreditScheduler
    t = simulate(make(cosched="relaxed", skew_threshold_ms=threshold),
                 vms, pcpus, 400, seed=seed)
    assert check_trace(t) == []
    assert t.skew("g") <= threshold * 1000
    if isinstance(workload, (SpinLock, Barrier)):      # never blocks: check independently
        assert _offline_skew(t, "g", 4) <= threshold * 1000


def test_without_coscheduling_skew_grows_beyond_threshold():
    t = simulate(CreditScheduler(), _lock_vms(), 4, 2_000)
    assert t.skew("smp") > 10 * 3_000
    assert _offline_skew(t, "smp", 4) == t.skew("smp")


def test_lock_holder_preemption_wastes_cpu_without_coscheduling():
    res = {m: simulate(CreditScheduler(cosched=m), _lock_vms(), 4, 5_000)
           for m in ("none", "strict", "relaxed")}
    spin = {m: t.workload("smp")["spin_us"] for m, t in res.items()}
    iters = {m: t.workload("smp")["iterations"] for m, t in res.items()}
    # none: siblings spin while the preempted holder waits, a large part of its CPU
    assert spin["none"] > 0.2 * res["none"].share("smp") * 5_000_000
    assert spin["strict"] < spin["relaxed"] < spin["none"]
    # useful progress per CPU second is best when the gang runs together
    per_cpu = {m: iters[m] / res[m].share("smp") for m in res}
    assert per_cpu["strict"] > per_cpu["relaxed"] > per_cpu["none"]
    assert res["relaxed"].costop_us("smp") > 0


def test_strict_fragments_cpus_pcpus_idle_while_a_gang_gathers():
    t = simulate(CreditScheduler(cosched="strict"), _lock_vms(), 4, 3_000)
    assert t.reservations                       # pCPUs were held idle
    assert t.utilization() < 0.97
    full = simulate(CreditScheduler(), _lock_vms(), 4, 3_000)
    assert full.utilization() > 0.99


def test_strict_needs_enough_pcpus():
    with pytest.raises(ValueError, match="strict co-scheduling needs"):
        simulate(CreditScheduler(cosched="strict"), [VM("g", vcpus=4)], 2, 100)


def test_cosched_on_single_vcpu_vms_changes_nothing():
    vms = [VM("a"), VM("b", weight=512)]
    base = simulate(CreditScheduler(), vms, 1, 1_000)
    for m in ("strict", "relaxed"):
        t = simulate(CreditScheduler(cosched=m), vms, 1, 1_000)
        assert t.intervals == base.intervals


def test_barrier_progress_is_best_with_strict_coscheduling():
    from virtlab.scheduler import Barrier
    vms = ([VM("par", vcpus=4, workload=Barrier(work_ms=1))] + [VM(f"h{i}") for i in range(3)])
    res = {m: simulate(CreditScheduler(cosched=m), vms, 4, 3_000) for m in
           ("none", "strict", "relaxed")}
    for t in res.values():
        assert check_trace(t) == []
        rounds = t.workload("par")["rounds"]
        assert rounds % 4 == 0            # every pass is counted once per vCPU
    per_cpu = {m: t.workload("par")["rounds"] / t.share("par") for m, t in res.items()}
    assert per_cpu["strict"] > per_cpu["none"]
    assert res["none"].workload("par")["spin_us"] > res["strict"].workload("par")["spin_us"]


def test_barrier_alone_on_enough_pcpus_never_waits_long():
    from virtlab.scheduler import Barrier
    t = simulate(CreditScheduler(), [VM("par", vcpus=4, workload=Barrier(work_ms=1))], 4, 100)
    # 4 vCPUs on 4 idle pCPUs run in lockstep: passes at 1, 2, ..., 99 ms (the
    # one at exactly 100 ms is the end of the run and not simulated)
    assert t.workload("par")["rounds"] == 4 * 99
    assert t.workload("par")["spin_us"] == 0

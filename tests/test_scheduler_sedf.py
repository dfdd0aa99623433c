"""SEDF: reservations, EDF, extra time, admission (facts.md §4b)."""

import pytest

from virtlab.scheduler import VM, IOBound, Periodic, SEDFScheduler, check_trace, simulate


def test_10_of_100_gets_at_least_ten_percent_and_meets_deadlines_against_hogs():
    vms = [VM("rt", period_ms=100, slice_ms=10, workload=Periodic(100, 10)),
           VM("hog1", extratime=True), VM("hog2", extratime=True)]
    t = simulate(SEDFScheduler(), vms, 1, 10_000)
    assert t.share("rt") >= 0.10 - 1e-9
    assert t.deadline_misses("rt") == 0
    assert t.workload("rt")["jobs"] == 100
    assert check_trace(t) == []


def test_cpu_bound_reservation_gets_exactly_its_slice_without_extratime():
    vms = [VM("rt", period_ms=100, slice_ms=10), VM("hog", extratime=True)]
    t = simulate(SEDFScheduler(), vms, 1, 10_000)
    assert t.share("rt") == pytest.approx(0.10, abs=1e-6)
    assert t.share("hog") == pytest.approx(0.90, abs=1e-6)


def test_extratime_shares_the_idle_rest():
    vms = [VM("a", period_ms=10, slice_ms=2, extratime=True),
           VM("b", period_ms=10, slice_ms=2, extratime=True)]
    t = simulate(SEDFScheduler(), vms, 1, 5_000)
    assert t.share("a") == pytest.approx(0.5, abs=0.02)
    assert t.utilization() == pytest.approx(1.0, abs=0.001)


def test_without_extratime_sedf_is_not_work_conserving():
    t = simulate(SEDFScheduler(), [VM("a", period_ms=10, slice_ms=3)], 1, 1_000)
    assert t.share("a") == pytest.approx(0.3, abs=1e-6)


def test_full_utilization_edf_meets_all_deadlines():
    # EDF is optimal on one CPU: U = 0.5 + 0.3 + 0.2 = 1 is schedulable
    vms = [VM("a", period_ms=20, slice_ms=10, workload=Periodic(20, 10)),
           VM("b", period_ms=30, slice_ms=9, workload=Periodic(30, 9)),
           VM("c", period_ms=50, slice_ms=10, workload=Periodic(50, 10))]
    t = simulate(SEDFScheduler(), vms, 1, 3_000)
    assert sum(t.deadline_misses(n) for n in "abc") == 0
    assert t.share("a") == pytest.approx(0.5, abs=0.01)


def test_over_admission_refused_with_a_clear_error():
    vms = [VM("a", period_ms=10, slice_ms=6), VM("b", period_ms=20, slice_ms=10)]
    with pytest.raises(ValueError, match=r"SEDF admission refused: pCPU 0 .*1\.10 > 1"):
        simulate(SEDFScheduler(), vms, 1, 100)
    # the same set fits on two pCPUs
    t = simulate(SEDFScheduler(), vms, 2, 100)
    assert check_trace(t) == []


def test_admission_respects_affinity():
    vms = [VM("a", period_ms=10, slice_ms=6, affinity=(0,)),
           VM("b", period_ms=10, slice_ms=6, affinity=(0,))]
    with pytest.raises(ValueError, match="admission"):
        simulate(SEDFScheduler(), vms, 2, 100)


def test_io_vm_with_reservation_has_short_wakeup_latency():
    vms = [VM("io", period_ms=10, slice_ms=2, workload=IOBound(0.5, 5)),
           VM("h1", extratime=True), VM("h2", extratime=True)]
    t = simulate(SEDFScheduler(), vms, 1, 5_000, seed=2)
    assert t.median_wakeup_latency_us("io") <= 500      # at most one extra quantum
    assert t.deadline_misses("io") == 0


def test_default_vm_without_reservation_only_gets_extra_time():
    vms = [VM("rt", period_ms=10, slice_ms=5), VM("dom")]   # dom: 100 ms / 0, extratime
    t = simulate(SEDFScheduler(), vms, 1, 1_000)
    assert t.share("dom") == pytest.approx(0.5, abs=0.01)

"""Trace queries and metrics (used by the interrupt model and the notebook)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.scheduler import VM, CreditScheduler, IOBound, jain_index, simulate


@pytest.fixture(scope="module")
def trace():
    return simulate(CreditScheduler(), [VM("a"), VM("b"), VM("io", workload=IOBound(1, 5))],
                    1, 1_000, seed=3)


def test_round_robin_of_two_hogs_is_30ms_slices():
    t = simulate(CreditScheduler(), [VM("a"), VM("b")], 1, 120)
    assert [(i.vm, i.start, i.end) for i in t.intervals] == [
        ("a", 0, 30_000), ("b", 30_000, 60_000), ("a", 60_000, 90_000), ("b", 90_000, 120_000)]
    assert t.running_at("a", 0, 0) and not t.running_at("a", 0, 30_000)
    assert t.next_run_start("a", 0, 30_000) == 60_000
    assert t.next_run_start("b", 0, 95_000) == 95_000
    assert t.next_run_start("a", 0, 100_000) is None
    assert t.pcpu_at("b", 0, 45_000) == 0 and t.pcpu_at("a", 0, 45_000) is None
    assert t.wait_us("a") == 60_000                # waited 30..60 and 90..120


@given(tm=st.integers(0, 999_999))
def test_next_run_start_agrees_with_running_at(trace, tm):
    for vm in ("a", "b", "io"):
        nxt = trace.next_run_start(vm, 0, tm)
        if trace.running_at(vm, 0, tm):
            assert nxt == tm
        elif nxt is not None:
            assert nxt > tm and trace.running_at(vm, 0, nxt)
            # nothing in between
            assert not any(trace.running_at(vm, 0, x) for x in range(tm, nxt, max(1, (nxt - tm) // 7)))


def test_time_conservation_and_summary(trace):
    busy = sum(trace.share(n) for n in trace.vm_names)
    assert busy == pytest.approx(trace.utilization())
    rows = trace.summary()
    assert [r["vm"] for r in rows] == ["a", "b", "io"]
    assert rows[2]["bursts"] > 0 and rows[2]["median_wakeup_ms"] is not None


def test_jain_index_bounds():
    assert jain_index([3, 3]) == 1.0
    assert jain_index([1, 0]) == 0.5
    assert jain_index([0, 0]) == 1.0


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=20))
def test_jain_index_in_range(xs):
    j = jain_index(xs)
    assert 1 / len(xs) - 1e-9 <= j <= 1 + 1e-9

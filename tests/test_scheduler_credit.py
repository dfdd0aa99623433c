"""Xen Credit: weights, caps, BOOST, load balancing (expected values from credit.c, facts.md §4)."""

import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtlab.scheduler import (BOOST, IDLE, OVER, UNDER, VM, CreditScheduler, IOBound,
                               check_trace, simulate)


def test_priorities_are_xens():
    assert (BOOST, UNDER, OVER, IDLE) == (0, -1, -2, -64)


def test_weights_256_512_on_one_pcpu_give_one_and_two_thirds():
    t = simulate(CreditScheduler(), [VM("a", weight=256), VM("b", weight=512)], 1, 10_000)
    assert t.share("a") == pytest.approx(1 / 3, abs=0.02)
    assert t.share("b") == pytest.approx(2 / 3, abs=0.02)
    assert check_trace(t) == []


def test_equal_weights_share_equally_and_fairness_is_one():
    t = simulate(CreditScheduler(), [VM(n) for n in "abc"], 1, 9_000)
    for n in "abc":
        assert t.share(n) == pytest.approx(1 / 3, abs=0.02)
    assert t.fairness() == pytest.approx(1.0, abs=0.01)


def test_cap_50_alone_gets_half_a_pcpu_not_work_conserving():
    t = simulate(CreditScheduler(), [VM("a", cap=50)], 1, 10_000)
    assert t.share("a") == pytest.approx(0.5, abs=0.02)
    assert t.utilization() == pytest.approx(0.5, abs=0.02)   # the rest stays idle


def test_cap_is_percent_of_one_pcpu_for_a_multi_vcpu_vm():
    # cap 150 = one and a half pCPUs, whatever the number of vCPUs
    t = simulate(CreditScheduler(), [VM("a", vcpus=4, cap=150)], 4, 10_000)
    assert t.share("a") == pytest.approx(1.5, abs=0.05)


def test_uncapped_vm_alone_uses_the_whole_pcpu():
    assert simulate(CreditScheduler(), [VM("a")], 1, 1_000).share("a") == 1.0


def test_weights_respected_on_several_pcpus():
    # 4 pCPUs, 4 VMs of 2 vCPUs: weights 1:1:2:4 of 4 pCPUs in total
    vms = [VM("a", vcpus=2, weight=100), VM("b", vcpus=2, weight=100),
           VM("c", vcpus=2, weight=200), VM("d", vcpus=2, weight=400)]
    t = simulate(CreditScheduler(), vms, 4, 10_000)
    total = sum(t.shares().values())
    assert total == pytest.approx(4.0, abs=0.01)
    # d would be entitled to 2 pCPUs (4*400/800) and has 2 vCPUs: it gets them
    assert t.share("d") == pytest.approx(2.0, abs=0.1)
    assert t.share("c") == pytest.approx(1.0, abs=0.1)
    assert t.share("a") == pytest.approx(0.5, abs=0.1)


def _io_latency(boost, seed=1):
    vms = [VM("io", workload=IOBound(burst_ms=0.5, io_ms=10)), VM("hog1"), VM("hog2")]
    t = simulate(CreditScheduler(boost=boost), vms, 1, 10_000, seed=seed)
    assert check_trace(t) == []
    return t.median_wakeup_latency_us("io"), t


def test_boost_lowers_io_vm_median_wakeup_latency_against_cpu_hogs():
    with_boost, t1 = _io_latency(True)
    without, t2 = _io_latency(False)
    # without BOOST a waking vCPU waits behind a 30 ms timeslice of a hog
    assert without > 5_000
    assert with_boost < without / 10
    # and the I/O VM gets more done with BOOST
    assert t1.workload("io")["bursts"] > t2.workload("io")["bursts"]


def test_load_balancing_idle_pcpu_steals_under_work():
    # Round-robin placement puts the CPU hogs a and c on pCPU 0 and the I/O VMs b
    # and d (0.5 ms bursts every 10 ms: 0.5/10.5 ~ 5 % each) on pCPU 1.  Without
    # stealing pCPU 1 idles ~90 % while a and c split pCPU 0 (1/2 each); with it,
    # the idle pCPU steals the waiting hog: a + c ~ 2 - 2 * 0.05.
    io = IOBound(burst_ms=0.5, io_ms=10)
    vms = [VM("a"), VM("b", workload=io), VM("c"), VM("d", workload=io)]
    t = simulate(CreditScheduler(), vms, 2, 3_000)
    assert check_trace(t) == []
    assert t.utilization() == pytest.approx(1.0, abs=0.01)
    assert t.share("a") + t.share("c") == pytest.approx(2 - 2 * 0.5 / 10.5, abs=0.05)
    off = simulate(CreditScheduler(load_balance=False), vms, 2, 3_000)
    assert off.share("a") == pytest.approx(0.5, abs=0.01)
    assert off.share("c") == pytest.approx(0.5, abs=0.01)


def test_load_balancing_spreads_three_vms_over_two_pcpus():
    # without stealing, the VM that started alone keeps a whole pCPU
    # (shares 1/2, 1, 1/2); with it, OVER pCPUs steal UNDER work: 2/3 each
    vms = [VM("a"), VM("b"), VM("c")]
    off = simulate(CreditScheduler(load_balance=False), vms, 2, 6_000)
    on = simulate(CreditScheduler(), vms, 2, 6_000)
    assert check_trace(off) == [] and check_trace(on) == []
    assert sorted(off.shares().values()) == pytest.approx([0.5, 0.5, 1.0], abs=0.01)
    for n in "abc":
        assert on.share(n) == pytest.approx(2 / 3, abs=0.03)
    assert on.fairness() > off.fairness() + 0.1


def test_affinity_is_respected():
    vms = [VM("a", affinity=(1,)), VM("b", affinity=(1,)), VM("c", affinity=(0, 1))]
    t = simulate(CreditScheduler(), vms, 2, 2_000)
    assert {iv.pcpu for iv in t.intervals if iv.vm in "ab"} == {1}
    assert check_trace(t) == []


def test_same_seed_same_trace_and_other_seed_differs():
    vms = [VM("io", workload=IOBound(1, 4)), VM("h")]
    a = simulate(CreditScheduler(), vms, 1, 2_000, seed=5)
    b = simulate(CreditScheduler(), vms, 1, 2_000, seed=5)
    c = simulate(CreditScheduler(), vms, 1, 2_000, seed=6)
    assert a == b
    assert a.intervals != c.intervals


def test_parameters_overridable_tslice_changes_switch_rate():
    vms = [VM("a"), VM("b")]
    t30 = simulate(CreditScheduler(), vms, 1, 600)
    t10 = simulate(CreditScheduler(tslice_ms=10, ticks_per_tslice=1), vms, 1, 600)
    assert len(t30.intervals) == 20          # 600 ms / 30 ms
    assert len(t10.intervals) == 60


def test_scheduler_object_reusable():
    s = CreditScheduler()
    a = simulate(s, [VM("a"), VM("b")], 1, 500)
    b = simulate(s, [VM("a"), VM("b")], 1, 500)
    assert a == b


def test_wakeup_latencies_nonnegative_and_bounded_by_a_boosted_wait():
    lat, t = _io_latency(True, seed=3)
    lats = t.wakeup_latencies("io")
    assert min(lats) >= 0
    # A BOOSTed waker preempts the running hog at once, so its wait is a scheduling
    # decision, not a time slice: far below the 30 ms a hog may run.
    assert statistics.median(lats) < 1_000


@settings(max_examples=12)
@given(w1=st.integers(1, 4096), ratio=st.floats(0.25, 4.0))
def test_two_vms_shares_follow_weights(w1, ratio):
    w2 = max(1, min(65535, round(w1 * ratio)))
    t = simulate(CreditScheduler(), [VM("a", weight=w1), VM("b", weight=w2)], 1, 10_000)
    assert t.share("a") == pytest.approx(w1 / (w1 + w2), abs=0.02)


@settings(max_examples=10)
@given(n=st.integers(2, 6), pcpus=st.integers(1, 3))
def test_equal_weights_share_equally_on_several_pcpus(n, pcpus):
    t = simulate(CreditScheduler(), [VM(f"v{i}") for i in range(n)], pcpus, 10_000)
    for i in range(n):
        assert t.share(f"v{i}") == pytest.approx(min(1.0, pcpus / n), abs=0.03)


def test_fair_shares_by_hand():
    from virtlab.scheduler import fair_shares
    # 3 pCPUs, weights per vCPU: a 4x256, b 1024, c 256 (sum 2304).  Fair
    # 3*1024/2304 = 1.33 > 1 for b (one vCPU) and 0.33 > 0.3 for c (cap 30):
    # both get their limit, a gets the rest
    got = fair_shares([VM("a", vcpus=4), VM("b", weight=1024), VM("c", cap=30)], 3)
    assert got == pytest.approx({"a": 1.7, "b": 1.0, "c": 0.3})
    # with cap 50, c is not limited: a and c split the 2 pCPUs b leaves 1024:256
    got = fair_shares([VM("a", vcpus=4), VM("b", weight=1024), VM("c", cap=50)], 3)
    assert got == pytest.approx({"a": 1.6, "b": 1.0, "c": 0.4})
    assert sum(fair_shares([VM("x"), VM("y")], 8).values()) == 2.0   # two vCPUs only


@settings(max_examples=10)
@given(n=st.integers(1, 5), pcpus=st.integers(1, 3),
       vcpus=st.lists(st.integers(1, 2), min_size=5, max_size=5))
def test_simulated_shares_match_fair_shares_for_equal_weights(n, pcpus, vcpus):
    from virtlab.scheduler import fair_shares
    vms = [VM(f"v{i}", vcpus=vcpus[i]) for i in range(n)]
    t = simulate(CreditScheduler(), vms, pcpus, 10_000)
    for name, expected in fair_shares(vms, pcpus).items():
        assert t.share(name) == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize("pcpus, cap, expected", [(1, 50, (0.5, 0.5)), (2, 30, (0.3, 1.0)),
                                                  (2, 150, (4 / 3, 2 / 3))])
def test_one_capped_vm_next_to_an_uncapped_one(pcpus, cap, expected):
    # weights count per vCPU: the 2-vCPU VM is entitled to 2/3 of the pCPUs
    # unless its cap (percent of one pCPU) is lower
    from virtlab.scheduler import fair_shares
    vms = [VM("capped", vcpus=2, cap=cap), VM("free")]
    assert tuple(fair_shares(vms, pcpus).values()) == pytest.approx(expected)
    t = simulate(CreditScheduler(), vms, pcpus, 10_000)
    assert (t.share("capped"), t.share("free")) == pytest.approx(expected, abs=0.03)

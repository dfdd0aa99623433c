"""Invariants run over every scheduler and co-scheduling mode (the networkx way)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from virtlab.scheduler import (VM, Barrier, CPUBound, CreditScheduler, IOBound, Periodic,
                               RoundRobinScheduler, SEDFScheduler, SpinLock, check_scheduler,
                               check_trace, simulate)

SCHEDULERS = [
    lambda m: RoundRobinScheduler(cosched=m),
    lambda m: CreditScheduler(cosched=m),
    lambda m: CreditScheduler(cosched=m, boost=False, load_balance=False),
    lambda m: SEDFScheduler(cosched=m),
]

workloads = st.sampled_from([CPUBound(), IOBound(0.5, 2), IOBound(3, 1), Periodic(10, 2),
                             SpinLock(0.5, 0.2), Barrier(0.7)])


@st.composite
def systems(draw):
    pcpus = draw(st.integers(1, 4))
    n = draw(st.integers(1, 4))
    vms = []
    for i in range(n):
        vcpus = draw(st.integers(1, 3))
        aff = draw(st.one_of(st.none(), st.sets(st.integers(0, pcpus - 1), min_size=1)))
        if aff is not None and len(aff) < vcpus:
            aff = None
        vms.append(VM(f"vm{i}", vcpus=vcpus, weight=draw(st.sampled_from([64, 256, 1024])),
                      cap=draw(st.sampled_from([0, 0, 30, 150])),
                      extratime=draw(st.booleans()), workload=draw(workloads),
                      affinity=None if aff is None else tuple(aff)))
    return pcpus, vms


@pytest.mark.parametrize("make", SCHEDULERS, ids=["rr", "credit", "credit-plain", "sedf"])
@pytest.mark.parametrize("mode", ["none", "strict", "relaxed"])
@settings(max_examples=15)
@given(system=systems(), seed=st.integers(0, 10_000))
def test_invariants_hold_for_every_scheduler(make, mode, system, seed):
    pcpus, vms = system
    if mode == "strict":
        vms = [v for v in vms if v.vcpus <= (pcpus if v.affinity is None else len(v.affinity))]
        if not vms:
            return
    t = simulate(make(mode), vms, pcpus, 200, seed=seed)
    assert check_trace(t) == []
    total = sum(t.shares().values())
    assert 0 <= total <= pcpus + 1e-9
    for v in vms:
        assert t.share(v.name) <= min(v.vcpus, pcpus) + 1e-9


@pytest.mark.parametrize("make", SCHEDULERS, ids=["rr", "credit", "credit-plain", "sedf"])
@pytest.mark.parametrize("mode", ["none", "strict", "relaxed"])
def test_same_seed_same_trace(make, mode):
    vms = [VM("g", vcpus=2, workload=SpinLock(0.5, 0.2)), VM("io", workload=IOBound(1, 3)),
           VM("h")]
    a = simulate(make(mode), vms, 2, 500, seed=11)
    b = simulate(make(mode), vms, 2, 500, seed=11)
    assert a == b


def test_work_conserving_credit_keeps_all_pcpus_busy_with_enough_hogs():
    t = simulate(CreditScheduler(), [VM(f"h{i}") for i in range(6)], 4, 1_000)
    assert t.utilization() == pytest.approx(1.0)


def test_check_trace_detects_violations():
    import dataclasses

    from virtlab.scheduler import Interval
    t = simulate(CreditScheduler(), [VM("a"), VM("b")], 2, 100)
    bad = dataclasses.replace(t, intervals=t.intervals + (Interval(0, 10, 20, "b", 0),))
    errors = check_trace(bad)
    assert any("two vCPUs at once" in e for e in errors)
    assert any("on two pCPUs at once" in e for e in errors)
    pinned = dataclasses.replace(t, vms=(VM("a", affinity=(1,)), VM("b")))
    assert any("affinity" in e for e in check_trace(pinned))


@pytest.mark.parametrize("make", [CreditScheduler, SEDFScheduler, RoundRobinScheduler])
@pytest.mark.parametrize("mode", ["none", "strict", "relaxed"])
def test_check_scheduler_passes_for_the_shipped_schedulers(make, mode):
    assert check_scheduler(make(cosched=mode), runs=5, seed=3) == []


class _IgnoresAffinity(RoundRobinScheduler):
    def pick(self, pcpu):
        if self.queue:
            return self.queue.popleft(), self.quantum
        return None, None


class _NeverDequeues(RoundRobinScheduler):
    def pick(self, pcpu):
        return (self.queue[0], self.quantum) if self.queue else (None, None)


def test_check_scheduler_catches_broken_strategies():
    assert any("affinity" in p for p in check_scheduler(_IgnoresAffinity(), runs=20))
    problems = check_scheduler(_NeverDequeues(), runs=5)
    assert problems and any("already runs on pCPU" in p for p in problems)
    with pytest.raises(RuntimeError, match="affinity allows only pCPUs"):
        simulate(_IgnoresAffinity(), [VM("a", affinity=(1,)), VM("b", affinity=(1,)), VM("c")],
                 2, 100)


def test_round_robin_ignores_weights_and_shares_equally():
    t = simulate(RoundRobinScheduler(quantum_ms=5), [VM("a"), VM("b", weight=4096), VM("c")],
                 1, 3_000)
    for n in "abc":
        assert t.share(n) == pytest.approx(1 / 3, abs=0.01)
    assert len(t.intervals) == 600             # 3000 ms / 5 ms

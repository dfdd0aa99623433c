"""Hostile input to the scheduler's public entry points: clear ValueError/TypeError, no change."""

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import virtlab.widgets
from virtlab.scheduler import (VM, Barrier, CreditScheduler, IOBound, Periodic,
                               RoundRobinScheduler, SEDFScheduler, SpinLock, check_scheduler,
                               check_trace, fair_shares, jain_index, simulate)
from virtlab.scheduler import scenarios
from virtlab.viz import scheduling

junk = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.floats(allow_nan=True),
                 st.integers(-10**20, 10**20), st.lists(st.integers(), max_size=2),
                 st.just(math.inf), st.just(-math.inf), st.just(float("nan")))


def _raises_named(exc_info, name):
    assert name in str(exc_info.value), str(exc_info.value)


@given(pcpus=junk)
def test_simulate_pcpus(pcpus):
    try:
        t = simulate(CreditScheduler(), [VM("a")], pcpus, 10)
    except (ValueError, TypeError) as e:
        assert "pcpus" in str(e)
    else:
        assert isinstance(pcpus, int) and 1 <= pcpus <= 1024 and t.pcpus == pcpus


@given(duration=junk)
def test_simulate_duration(duration):
    # long but valid runs are fine, just slow: keep the test fast
    assume(not (isinstance(duration, (int, float)) and 1_000 < duration <= 3_600_000))
    try:
        simulate(CreditScheduler(), [VM("a")], 1, duration)
    except (ValueError, TypeError) as e:
        assert "duration_ms" in str(e)
    else:
        assert 0 < duration <= 3_600_000


@given(seed=junk)
def test_simulate_seed(seed):
    try:
        simulate(CreditScheduler(), [VM("a")], 1, 1, seed=seed)
    except (ValueError, TypeError) as e:
        assert "seed" in str(e)


@pytest.mark.parametrize("vms, name", [
    (None, "vms"), ("abc", "vms"), ([], "vms"), ([1], "vms[0]"), ([VM("a"), VM("a")], "unique"),
    ([VM("a", affinity=(5,))], "affinity"), ({"a": VM("a")}, "vms"),
])
def test_simulate_bad_vms(vms, name):
    with pytest.raises((ValueError, TypeError)) as e:
        simulate(CreditScheduler(), vms, 2, 10)
    _raises_named(e, name)


def test_simulate_bad_scheduler():
    with pytest.raises(TypeError, match="scheduler"):
        simulate("credit", [VM("a")], 1, 10)


@pytest.mark.parametrize("kwargs, name", [
    ({"name": ""}, "name"), ({"name": 3}, "name"), ({"name": "a", "vcpus": 0}, "vcpus"),
    ({"name": "a", "vcpus": 10**9}, "vcpus"), ({"name": "a", "vcpus": 2.0}, "vcpus"),
    ({"name": "a", "weight": -1}, "weight"), ({"name": "a", "weight": 70000}, "weight"),
    ({"name": "a", "cap": -5}, "cap"), ({"name": "a", "cap": True}, "cap"),
    ({"name": "a", "period_ms": 10}, "period_ms"),
    ({"name": "a", "period_ms": float("nan"), "slice_ms": 1}, "period_ms"),
    ({"name": "a", "period_ms": 10, "slice_ms": 20}, "slice_ms"),
    ({"name": "a", "period_ms": 10, "slice_ms": -1}, "slice_ms"),
    ({"name": "a", "period_ms": math.inf, "slice_ms": 1}, "period_ms"),
    ({"name": "a", "extratime": 1}, "extratime"), ({"name": "a", "workload": "cpu"}, "workload"),
    ({"name": "a", "affinity": ()}, "affinity"), ({"name": "a", "affinity": (-1,)}, "affinity"),
    ({"name": "a", "affinity": 3}, "affinity"), ({"name": "a", "affinity": ("x",)}, "affinity"),
])
def test_vm_rejects(kwargs, name):
    with pytest.raises((ValueError, TypeError)) as e:
        VM(**kwargs)
    _raises_named(e, name)


@pytest.mark.parametrize("make, name", [
    (lambda: CreditScheduler(tslice_ms=0), "tslice_ms"),
    (lambda: CreditScheduler(tslice_ms=1.5), "tslice_ms"),
    (lambda: CreditScheduler(ticks_per_tslice=7), "ticks_per_tslice"),
    (lambda: CreditScheduler(credits_per_ms=-1), "credits_per_ms"),
    (lambda: CreditScheduler(boost="yes"), "boost"),
    (lambda: CreditScheduler(load_balance=None), "load_balance"),
    (lambda: CreditScheduler(halve_waiting=1), "halve_waiting"),
    (lambda: CreditScheduler(cosched="gang"), "cosched"),
    (lambda: CreditScheduler(skew_threshold_ms=float("nan")), "skew_threshold_ms"),
    (lambda: SEDFScheduler(extra_quantum_ms=0), "extra_quantum_ms"),
    (lambda: RoundRobinScheduler(quantum_ms=-1), "quantum_ms"),
    (lambda: RoundRobinScheduler(quantum_ms=float("inf")), "quantum_ms"),
    (lambda: check_scheduler("credit"), "scheduler"),
    (lambda: check_scheduler(CreditScheduler(), runs=0), "runs"),
    (lambda: SEDFScheduler(default_period_ms=math.inf), "default_period_ms"),
    (lambda: SEDFScheduler(cosched=None), "cosched"),
    (lambda: IOBound(burst_ms=0), "burst_ms"), (lambda: IOBound(io_ms=math.nan), "io_ms"),
    (lambda: Periodic(period_ms=-1), "period_ms"), (lambda: Periodic(10, 20), "work_ms"),
    (lambda: SpinLock(hold_ms="1"), "hold_ms"), (lambda: Barrier(work_ms=0), "work_ms"), (lambda: SpinLock(work_ms=math.inf), "work_ms"),
])
def test_parameters_rejected(make, name):
    with pytest.raises((ValueError, TypeError)) as e:
        make()
    _raises_named(e, name)


def test_failed_simulate_leaves_scheduler_usable_and_unchanged():
    s = SEDFScheduler()
    good = [VM("a", period_ms=10, slice_ms=5)]
    before = simulate(s, good, 1, 100)
    with pytest.raises(ValueError, match="admission"):
        simulate(s, [VM("a", period_ms=10, slice_ms=6), VM("b", period_ms=10, slice_ms=6)], 1, 100)
    assert simulate(s, good, 1, 100) == before
    c = CreditScheduler()
    before = simulate(c, [VM("a"), VM("b")], 1, 100)
    with pytest.raises(ValueError):
        simulate(c, [VM("a", vcpus=3)], 2, float("nan"))
    assert simulate(c, [VM("a"), VM("b")], 1, 100) == before


@pytest.mark.parametrize("call, name", [
    (lambda t: t.share("nope"), "vm"), (lambda t: t.share(3), "vm"),
    (lambda t: t.running_at("a", 1, 0), "vcpu"), (lambda t: t.running_at("a", 0, -1), "t"),
    (lambda t: t.next_run_start("a", 0, 1.5), "t"), (lambda t: t.pcpu_at("a", "0", 0), "vcpu"),
    (lambda t: t.vcpu_share("zz", 0), "vm"), (lambda t: t.skew(None), "vm"),
])
def test_trace_queries_reject(call, name):
    t = simulate(CreditScheduler(), [VM("a")], 1, 10)
    with pytest.raises((ValueError, TypeError)) as e:
        call(t)
    _raises_named(e, name)


@pytest.mark.parametrize("values", [[], [-1, 2], [float("nan")]])
def test_jain_index_rejects(values):
    with pytest.raises(ValueError, match="values"):
        jain_index(values)


def test_huge_but_valid_input_is_refused_early_not_hanging():
    with pytest.raises(ValueError, match="vCPUs"):
        simulate(CreditScheduler(), [VM(f"v{i}", vcpus=64) for i in range(100)], 64, 10)


def test_work_budget_refuses_runs_that_would_take_hours():
    with pytest.raises(ValueError, match="pcpus × duration_ms"):
        simulate(CreditScheduler(), [VM("a")], 1024, 3_600_000)


@pytest.mark.parametrize("call, name", [
    (lambda: fair_shares([VM("a")], 0), "pcpus"), (lambda: fair_shares("ab", 1), "vms"),
    (lambda: fair_shares([VM("a"), VM("a")], 1), "unique"),
    (lambda: check_trace("trace"), "trace"),
    (lambda: scenarios.lab(scheduler="cfs"), "scheduler"),
    (lambda: scenarios.lab(weights=(1, 2)), "weights"),
    (lambda: scenarios.lab(slices_ms=(-1, 0, 0)), "slices_ms"),
    (lambda: scenarios.lab(pcpus=0), "pcpus"),
    (lambda: scenarios.lab(duration_ms=float("nan")), "duration_ms"),
    (lambda: scenarios.latency_comparison(hogs=-1), "hogs"),
    (lambda: scenarios.latency_comparison(duration_ms=0), "duration_ms"),
    (lambda: scenarios.lock_comparison(pcpus=2), "pcpus"),
    (lambda: scenarios.lock_comparison(scheduler=None), "scheduler"),
    (lambda: scenarios.mapping_example(duration_ms=-5), "duration_ms"),
])
def test_scenarios_and_helpers_reject(call, name):
    with pytest.raises((ValueError, TypeError)) as e:
        call()
    _raises_named(e, name)


@pytest.fixture(scope="module")
def small_trace():
    return simulate(CreditScheduler(), [VM("a"), VM("b", vcpus=2)], 2, 50)


@pytest.mark.parametrize("call, name", [
    (lambda t: scheduling.gantt(None), "trace"),
    (lambda t: scheduling.gantt(t, start_ms=float("inf")), "start_ms"),
    (lambda t: scheduling.gantt(t, start_ms=40, end_ms=10), "end_ms"),
    (lambda t: scheduling.share_bars(t, entitled="a"), "entitled"),
    (lambda t: scheduling.share_bars(3), "trace"),
    (lambda t: scheduling.lab_figure(t, window_ms=-1), "window_ms"),
    (lambda t: scheduling.lab_figure([t]), "trace"),
    (lambda t: scheduling.mapping_figure([VM("a")], True), "pcpus"),
    (lambda t: scheduling.mapping_figure([VM("a")], 2, trace=5), "trace"),
    (lambda t: scheduling.mapping_figure([VM("a")], 2, t, t_ms=-1), "t_ms"),
    (lambda t: scheduling.cosched_figure({"x": t}, vm=None), "vm"),
    (lambda t: scheduling.cosched_figure({"x": "t"}), "traces"),
    (lambda t: scheduling.latency_figure({}, "a"), "traces"),
    (lambda t: scheduling.latency_figure({"x": t}, vm="zz"), "vm"),
    (lambda t: scheduling.vm_colors(None), "trace"),
])
def test_figures_reject(small_trace, call, name):
    with pytest.raises((ValueError, TypeError)) as e:
        call(small_trace)
    _raises_named(e, name)


@pytest.mark.parametrize("call, name", [
    (lambda: virtlab.widgets.scheduler_lab(pcpus="2"), "pcpus"),
    (lambda: virtlab.widgets.scheduler_lab(pcpus=99), "pcpus"),
    (lambda: virtlab.widgets.scheduler_lab(scheduler="cfs"), "scheduler"),
    (lambda: virtlab.widgets.scheduler_lab(cosched=1), "cosched"),
    (lambda: virtlab.widgets.scheduler_lab(weights=(256, 256)), "weights"),
    (lambda: virtlab.widgets.scheduler_lab(caps=(0, 0, -1)), "caps[2]"),
    (lambda: virtlab.widgets.scheduler_lab(periods_ms=(0, 100, 100)), "periods_ms[0]"),
    (lambda: virtlab.widgets.scheduler_lab(slices_ms=(5, 0, 0.5)), "slices_ms[2]"),
    (lambda: virtlab.widgets.scheduler_lab(window_ms=float("nan")), "window_ms"),
    (lambda: virtlab.widgets.scheduler_lab(duration_ms=10**9), "duration_ms"),
    (lambda: virtlab.widgets.scheduler_lab(seed=-1), "seed"),
    (lambda: virtlab.widgets.cosched_lab(mode="gang"), "mode"),
    (lambda: virtlab.widgets.cosched_lab(hogs=7), "hogs"),
    (lambda: virtlab.widgets.cosched_lab(pcpus=2), "pcpus"),
    (lambda: virtlab.widgets.cosched_lab(duration_ms=0), "duration_ms"),
])
def test_widget_factories_reject_bad_presets(call, name):
    with pytest.raises((ValueError, TypeError)) as e:
        call()
    _raises_named(e, name)


def test_widget_bad_control_value_shows_message_not_exception():
    app = virtlab.widgets.scheduler_lab(pcpus=1)
    app.set(scheduler="sedf", web_period=10, web_slice=20)   # slice > period
    assert app.error is not None and "slice_ms" in app.error

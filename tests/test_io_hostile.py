"""Hostile input for the interrupt and device models: clear errors, nothing changed."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.devices import (
    Device,
    EventChannel,
    GrantTable,
    IOCosts,
    IOEvent,
    Ring,
    compare_io,
    disk_requests,
    make_arrivals,
    merge_events,
    packet_burst,
    run_io,
    timer_ticks,
)
from virtlab.interrupts import (
    InterruptController,
    InterruptCosts,
    Platform,
    round_robin_schedule,
    simulate_interrupts,
)

hostile = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10**20, -1), st.integers(10**13, 10**30),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=2), st.integers(),
                                                         max_size=2),
)


def _raises_clearly(fn, *args, name, **kwargs):
    with pytest.raises((ValueError, TypeError)) as info:
        fn(*args, **kwargs)
    assert name in str(info.value), f"{info.value!r} does not name {name!r}"


# --------------------------------------------------------------------------
# devices
# --------------------------------------------------------------------------

@given(v=hostile)
def test_generators_refuse_hostile_counts_and_times(v):
    _raises_clearly(packet_burst, "domU1", v, name="n")
    _raises_clearly(disk_requests, "domU1", 3, service_us=v, name="service_us")
    _raises_clearly(timer_ticks, v, name="period_us")
    _raises_clearly(make_arrivals, v, name="n")


@given(v=hostile)
def test_run_io_refuses_hostile_knobs(v):
    for kw in ("batch", "coalesce", "coalesce_us", "ring_size"):
        _raises_clearly(run_io, "paravirtual", [0, 1], name=kw, **{kw: v})
    _raises_clearly(compare_io, v, name="requests")
    _raises_clearly(compare_io, 4, gap_us=v, name="gap_us")


@pytest.mark.parametrize("arrivals, name", [
    ([], "arrivals"), ([5, 3], "arrivals"), ([-1], "arrivals"), ([1.5], "arrivals"),
    ("abc", "arrivals"), (None, "arrivals"), ([float("nan")], "arrivals"),
])
def test_run_io_refuses_bad_arrivals(arrivals, name):
    _raises_clearly(run_io, "emulated", arrivals, name=name)


def test_run_io_refuses_unknown_mode_and_kind_and_batch_bigger_than_ring():
    _raises_clearly(run_io, "teleport", [0], name="mode")
    _raises_clearly(run_io, "emulated", [0], kind="gpu", name="kind")
    _raises_clearly(run_io, "paravirtual", [0], batch=64, ring_size=32, name="batch")
    _raises_clearly(run_io, "emulated", [0], costs="cheap", name="costs")


def test_huge_workloads_refused_quickly():
    _raises_clearly(compare_io, 10**9, name="requests")
    _raises_clearly(timer_ticks, 1, 10**12, name="duration_us")
    _raises_clearly(packet_burst, "domU1", 10**6, name="n")


@pytest.mark.parametrize("field", ["exit_us", "qemu_us", "nic_service_us", "mmio_per_request"])
@pytest.mark.parametrize("value", [-1, 2.5, float("nan"), None, "1", True, 10**9])
def test_cost_tables_refuse_bad_values(field, value):
    _raises_clearly(IOCosts, name=field, **{field: value})


@pytest.mark.parametrize("value", [-1, float("inf"), None, 10**9])
def test_interrupt_costs_refuse_bad_values(value):
    _raises_clearly(InterruptCosts, name="kick_us", kick_us=value)


def test_xen_objects_refuse_misuse_and_keep_state():
    gt = GrantTable("domU1", size=4)
    ref = gt.grant(1, "dom0")
    _raises_clearly(gt.grant, 2, "domU1", name="grantee")        # granting to itself
    _raises_clearly(gt.map, 99, "dom0", name="ref")
    _raises_clearly(gt.map, ref, "domU2", name="by")
    _raises_clearly(gt.end, 3, name="ref")
    assert gt.active == 1
    ch = EventChannel(1, "domU1", "dom0")
    _raises_clearly(ch.notify, "nobody", name="sender")
    _raises_clearly(ch.consume, 7, name="domain")
    _raises_clearly(EventChannel, 1, "dom0", "dom0", name="b")
    assert ch.pending == {"domU1": False, "dom0": False}
    r = Ring(1)
    r.put_request(0)
    _raises_clearly(r.put_request, 1, name="ring")
    assert r.take_requests() == [0]


def test_event_and_device_records_validate():
    _raises_clearly(IOEvent, -5, "nic", name="time")
    _raises_clearly(IOEvent, 0, "", name="device")
    _raises_clearly(IOEvent, 0, "nic", 5, name="target")
    _raises_clearly(Device, "x", "nic", 300, name="irq")
    _raises_clearly(merge_events, [1, 2], name="event")


# --------------------------------------------------------------------------
# interrupts
# --------------------------------------------------------------------------

@given(v=hostile)
def test_controller_refuses_hostile_lines_and_is_unchanged(v):
    pic = InterruptController(8)
    pic.raise_line(3)
    before = (pic.pending, pic.masked, pic.in_service, pic.raised)
    for method in (pic.raise_line, pic.mask, pic.unmask, pic.events_pending, pic.eoi):
        if method is pic.eoi and v is None:
            continue  # eoi(None) is the non-specific EOI
        _raises_clearly(method, v, name="line")
    assert (pic.pending, pic.masked, pic.in_service, pic.raised) == before


def test_controller_construction_refused():
    _raises_clearly(InterruptController, 0, name="lines")
    _raises_clearly(InterruptController, 4, priorities=[1, 2], name="priorities")
    _raises_clearly(InterruptController, 2, priorities="ab", name="priorities")
    _raises_clearly(InterruptController, 2, priorities=[1, -1], name="priorities")


@given(v=hostile)
def test_platform_refuses_unknown_domain_or_device_and_keeps_running(v):
    plat = Platform()
    plat.assign("disk", "domU2")
    snapshot = copy.deepcopy(plat._owner)
    _raises_clearly(plat.assign, "nic", v, name="domain")
    _raises_clearly(plat.assign, v, "domU1", name="device")
    _raises_clearly(plat.owner, v, name="device")
    _raises_clearly(plat.assign, "disk", "domU1", name="disk")     # assigned twice
    assert plat._owner == snapshot
    trace = simulate_interrupts(plat, disk_requests("domU2", 3) + packet_burst("domU1", 2))
    assert trace.pending == () and len(trace.deliveries) >= 2


def test_platform_construction_refused():
    _raises_clearly(Platform, "dom0", name="domains")
    _raises_clearly(Platform, [], name="domains")
    _raises_clearly(Platform, ["dom0", "dom0"], name="domains")
    _raises_clearly(Platform, ["dom0", "hypervisor"], name="domains")
    _raises_clearly(Platform, ["domA"], name="driver_domain")
    _raises_clearly(Platform, lines=0, name="lines")
    _raises_clearly(Platform, devices=[Device("a", "nic", 30)], name="irq")


@pytest.mark.parametrize("events, name", [
    ([IOEvent(0, "gpu", "domU1")], "device"),
    ([IOEvent(0, "nic", "domU9")], "target"),
    ([IOEvent(0, "nic", None)], "target"),
    ([IOEvent(0, "timer", "domU1")], "target"),
    ([("nic", 0)], "events"),
    (5, "events"),
])
def test_simulate_refuses_bad_events(events, name):
    _raises_clearly(simulate_interrupts, Platform(), events, name=name)


@pytest.mark.parametrize("kwargs, name", [
    ({"schedule": {"domU9": [(0, 10)]}}, "schedule domain"),
    ({"schedule": {"domU1": [(10, 5)]}}, "schedule"),
    ({"schedule": {"domU1": [(0, 10), (5, 20)]}}, "schedule"),
    ({"schedule": {"domU1": [(0, 1.5)]}}, "schedule"),
    ({"schedule": {"domU1": "abc"}}, "schedule"),
    ({"schedule": [(0, 10)]}, "schedule"),
    ({"if_clear": {"domU1": [(float("nan"), 3)]}}, "if_clear"),
    ({"masked": {99: [(0, 10)]}}, "masked line"),
    ({"masked": {1: [(0, -10)]}}, "masked"),
    ({"costs": 3}, "costs"),
    ({"record": 1}, "record"),
])
def test_simulate_refuses_bad_options(kwargs, name):
    _raises_clearly(simulate_interrupts, Platform(), packet_burst("domU1", 1), name=name,
                    **kwargs)


def test_simulate_does_not_modify_the_platform():
    plat = Platform()
    plat.assign("nic", "domU1")
    before = copy.deepcopy(plat._owner)
    simulate_interrupts(plat, packet_burst("domU1", 5))
    assert plat._owner == before


@given(v=hostile)
def test_round_robin_refuses_hostile(v):
    _raises_clearly(round_robin_schedule, ["a", "b"], slice_us=v, name="slice_us")
    _raises_clearly(round_robin_schedule, v, name="domains")


# --------------------------------------------------------------------------
# the rest of the public surface: scheduler join, checker, graph, split driver,
# figures, widget factories
# --------------------------------------------------------------------------

def test_schedule_from_trace_refuses_bad_input():
    from virtlab.interrupts import schedule_from_trace
    from virtlab.scheduler import VM, CreditScheduler, simulate
    t = simulate(CreditScheduler(), [VM("domU1")], pcpus=1, duration_ms=10)
    _raises_clearly(schedule_from_trace, {"domU1": [(0, 1)]}, name="trace")
    _raises_clearly(schedule_from_trace, t, ["domU7"], name="domains")
    _raises_clearly(schedule_from_trace, t, "domU1", name="domains")
    _raises_clearly(schedule_from_trace, t, vcpu=1, name="vcpu")
    _raises_clearly(schedule_from_trace, t, vcpu=-1, name="vcpu")


@pytest.mark.parametrize("bad", [None, "trace", 3, Platform()])
def test_trace_consumers_refuse_non_traces(bad):
    from virtlab.interrupts import check_trace, routing_graph
    from virtlab.viz.interrupts import delivery_bars, journey, routing
    for fn in (check_trace, routing_graph, routing, journey, delivery_bars):
        _raises_clearly(fn, bad, name="trace")


def test_figures_refuse_bad_arguments():
    from virtlab.viz.interrupts import io_comparison, journey, request_paths
    trace = simulate_interrupts(Platform(), packet_burst("domU1", 2))
    _raises_clearly(journey, trace, 2, name="event")
    _raises_clearly(journey, trace, -1, name="event")
    _raises_clearly(journey, trace, 1.5, name="event")
    _raises_clearly(journey, simulate_interrupts(Platform(), []), name="trace")
    _raises_clearly(io_comparison, "cmp", name="cmp")
    _raises_clearly(request_paths, [1, 2], name="results")


def test_split_driver_refuses_bad_input_and_keeps_state():
    from virtlab.devices import SplitDriver, split_driver_request
    _raises_clearly(split_driver_request, costs="cheap", name="costs")
    _raises_clearly(SplitDriver, "domU1", "dom0", "nic", ring_size=0, name="size")
    _raises_clearly(SplitDriver, "domU1", "domU1", "nic", name="b")
    drv = SplitDriver("domU1", "dom0", "disk", ring_size=1)
    drv.frontend_submit(0, 0, 5)
    _raises_clearly(drv.frontend_submit, 1, 1, 6, name="ring")
    _raises_clearly(drv.backend_respond, 2, 99, name="request_id")
    _raises_clearly(drv.frontend_submit, -1, 1, 6, name="time")
    assert drv.ring.outstanding == 1 and drv.grants.active == 1


@pytest.mark.parametrize("kwargs, name", [
    ({"nic_owner": "domU9"}, "nic_owner"), ({"disk_owner": 3}, "disk_owner"),
    ({"packets": -1}, "packets"), ({"packets": 10**6}, "packets"),
    ({"packet_target": None}, "packet_target"), ({"disk_reqs": 2.5}, "disk_reqs"),
    ({"disk_target": "hypervisor"}, "disk_target"), ({"gap_us": float("nan")}, "gap_us"),
    ({"shared_pcpu": "yes"}, "shared_pcpu"),
])
def test_interrupt_lab_factory_refuses_bad_presets(kwargs, name):
    from virtlab.widgets.interrupts import interrupt_lab
    _raises_clearly(interrupt_lab, name=name, **kwargs)


@pytest.mark.parametrize("kwargs, name", [
    ({"kind": "gpu"}, "kind"), ({"requests": 0}, "requests"), ({"gap_us": -3}, "gap_us"),
    ({"batch": 33}, "batch"), ({"coalesce": None}, "coalesce"),
])
def test_io_models_lab_factory_refuses_bad_presets(kwargs, name):
    from virtlab.widgets.interrupts import io_models_lab
    _raises_clearly(io_models_lab, name=name, **kwargs)

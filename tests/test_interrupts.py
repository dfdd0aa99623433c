"""Interrupt controllers and the hypervisor as interrupt multiplexer."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.devices import IOEvent, disk_requests, merge_events, packet_burst, timer_ticks
from virtlab.interrupts import (
    EVTCHN_BASE,
    HYPERVISOR,
    InterruptController,
    InterruptCosts,
    Platform,
    VirtualInterruptController,
    check_trace,
    round_robin_schedule,
    simulate_interrupts,
)

# --------------------------------------------------------------------------
# physical controller
# --------------------------------------------------------------------------


def test_masked_lines_stay_pending_and_come_out_in_priority_order_after_unmask():
    pic = InterruptController(16)
    for line in (9, 4, 12, 1):
        pic.mask(line)
    for line in (12, 9, 1, 4):            # raised in a scrambled order
        pic.raise_line(line)
    assert pic.acknowledge() is None       # all masked
    assert pic.pending == (1, 4, 9, 12)
    for line in (12, 9, 4, 1):
        assert pic.unmask(line) is True    # each was pending
    order = []
    while (ack := pic.acknowledge()) is not None:
        order.append(ack[0])
        pic.eoi(ack[0])
    assert order == [1, 4, 9, 12]          # default priority: lower line first
    assert pic.pending == ()


def test_custom_priorities_decide_the_order():
    pic = InterruptController(4, priorities=[3, 2, 1, 0])   # line 3 most urgent
    for line in range(4):
        pic.raise_line(line)
    order = []
    while (ack := pic.acknowledge()) is not None:
        order.append(ack[0])
        pic.eoi()
    assert order == [3, 2, 1, 0]


def test_in_service_line_blocks_lower_priority_until_eoi_but_not_higher():
    pic = InterruptController(8)
    pic.raise_line(5)
    assert pic.acknowledge() == (5, 1)
    pic.raise_line(6)
    assert pic.acknowledge() is None        # 6 is less urgent than 5 in service
    pic.raise_line(2)
    assert pic.acknowledge() == (2, 1)      # nesting: 2 outranks 5
    pic.eoi()                               # non-specific EOI ends the most urgent: 2
    assert pic.in_service == (5,)
    pic.eoi(5)
    assert pic.acknowledge() == (6, 1)


def test_raises_while_pending_merge_and_are_counted():
    pic = InterruptController(4)
    assert pic.raise_line(2) is True
    assert pic.raise_line(2) is False
    assert pic.raise_line(2) is False
    assert pic.events_pending(2) == 3
    assert pic.acknowledge() == (2, 3)
    assert pic.raised == pic.acknowledged == 3


def test_eoi_of_line_not_in_service_is_refused_and_changes_nothing():
    pic = InterruptController(4)
    pic.raise_line(1)
    pic.acknowledge()
    with pytest.raises(ValueError, match="line 3 is not in service"):
        pic.eoi(3)
    assert pic.in_service == (1,)


def test_virtual_controller_if_clear_keeps_interrupts_pending():
    vic = VirtualInterruptController(64)
    vic.cli()
    for line in (40, 11, 33):
        vic.raise_line(line)
    assert vic.acknowledge() is None
    vic.sti()
    got = []
    while (ack := vic.acknowledge()) is not None:
        got.append(ack[0])
        vic.eoi(ack[0])
    assert got == [11, 33, 40]


# --------------------------------------------------------------------------
# platform
# --------------------------------------------------------------------------


def test_default_ownership_timer_hypervisor_devices_dom0():
    plat = Platform()
    assert plat.owner("timer") == HYPERVISOR
    assert plat.mode("nic") == plat.mode("disk") == "split"
    # one event channel per split device and domU
    assert plat.channels() == [(1, "nic", "domU1"), (2, "nic", "domU2"),
                               (3, "disk", "domU1"), (4, "disk", "domU2")]


def test_passthrough_removes_the_split_channels_of_that_device():
    plat = Platform()
    plat.assign("disk", "domU2")
    assert [c[1] for c in plat.channels()] == ["nic", "nic"]
    plat.release("disk")
    assert plat.mode("disk") == "split"


def test_device_assigned_twice_is_refused_and_platform_keeps_working():
    plat = Platform()
    plat.assign("nic", "domU1")
    with pytest.raises(ValueError, match="already assigned to 'domU1'"):
        plat.assign("nic", "domU2")
    with pytest.raises(ValueError, match="already assigned"):
        plat.assign("nic", "domU1")
    assert plat.owner("nic") == "domU1"
    trace = simulate_interrupts(plat, packet_burst("domU1", 4, gap_us=10))
    assert trace.delivered_by_owner() == {"domU1": 4}


def test_timer_cannot_be_assigned():
    with pytest.raises(ValueError, match="timer"):
        Platform().assign("timer", "domU1")


def test_irq_out_of_range_and_duplicate_irq_refused():
    from virtlab.devices import Device
    plat = Platform(lines=16)
    with pytest.raises(ValueError, match="irq must be an integer in \\[0, 15\\]"):
        plat.add_device(Device("gpu", "nic", 20))
    with pytest.raises(ValueError, match="irq 11 is already used by 'nic'"):
        plat.add_device(Device("nic2", "nic", 11))
    assert list(plat.devices) == ["timer", "nic", "disk"]


# --------------------------------------------------------------------------
# simulation: routing, latency, priority
# --------------------------------------------------------------------------


def test_split_driver_path_latency_from_the_cost_table():
    # raise 0 → hypervisor routes at 1 → dom0 kicked, injected at 2 → handler
    # 2 + backend 2 + notify 1 = 5 → 7 → domU1 kicked, injected 8 → handler 2 → 10
    trace = simulate_interrupts(Platform(), [IOEvent(0, "nic", "domU1")])
    assert trace.done_at == (10,)
    assert [inj.domain for inj in trace.injections] == ["dom0", "domU1"]
    assert trace.injections[1].line == EVTCHN_BASE + 1          # event channel port 1
    actors = [s.actor for s in trace.journeys[0]]
    assert actors[0] == "nic" and actors[-1] == "domU1" and "dom0" in actors


def test_passthrough_skips_dom0():
    plat = Platform()
    plat.assign("nic", "domU1")
    trace = simulate_interrupts(plat, [IOEvent(0, "nic", "domU1")])
    assert trace.done_at == (4,)   # route 1, kick 1, handler 2
    assert [inj.domain for inj in trace.injections] == ["domU1"]
    assert all(s.actor != "dom0" for s in trace.journeys[0])


def test_descheduled_vcpu_delays_injection_until_its_next_vm_entry():
    sched = {"domU1": ((0, 100), (500, 600))}
    trace = simulate_interrupts(Platform(), [IOEvent(200, "nic", "domU1")], schedule=sched)
    # dom0 (own pCPU) is done at 207; domU1 enters at 500 (no kick), handler 2 → 502
    assert trace.done_at == (502,)
    running = simulate_interrupts(Platform(), [IOEvent(50, "nic", "domU1")], schedule=sched)
    assert running.done_at == (60,)   # vCPU running: the usual 10 µs


def test_if_clear_window_delays_delivery_until_sti():
    trace = simulate_interrupts(Platform(), [IOEvent(0, "nic", "domU1")],
                                if_clear={"domU1": [(5, 40)]})
    # domU1 would be injected at 8; IF is clear until 40, then interrupt-window
    # exit (kick 1) → 41, handler 2 → 43
    assert trace.done_at == (43,)


def test_vcpu_that_never_runs_again_leaves_event_pending_not_lost():
    trace = simulate_interrupts(Platform(), [IOEvent(200, "nic", "domU1")],
                                schedule={"domU1": [(0, 100)]})
    assert trace.pending == (0,)
    assert trace.delivered_by_owner() == {"dom0": 1}   # the physical side did deliver it


def test_masked_physical_lines_delivered_after_unmask_in_priority_order():
    plat = Platform()
    plat.assign("nic", "domU1")
    plat.assign("disk", "domU2")
    events = [IOEvent(10, "disk", "domU2"), IOEvent(12, "nic", "domU1"), IOEvent(14, "timer")]
    trace = simulate_interrupts(plat, events, masked={0: [(0, 100)], 11: [(0, 100)],
                                                      14: [(0, 100)]})
    assert [d.line for d in trace.deliveries] == [0, 11, 14]      # IRQ priority order
    assert all(d.time > 100 for d in trace.deliveries)


def test_burst_merges_at_the_controller_without_losing_events():
    # 50 packets at the same instant: the line stays pending while the
    # hypervisor is busy, later raises merge — every event still counted once.
    trace = simulate_interrupts(Platform(), packet_burst("domU2", 50))
    assert sum(len(d.events) for d in trace.deliveries) == 50
    assert len(trace.deliveries) < 50
    assert trace.pending == ()
    assert len(trace.latencies("domU2")) == 50


def test_round_robin_schedule_shape_and_latency_effect():
    sched = round_robin_schedule(["domU1", "domU2"], slice_us=100, duration_us=1000)
    assert sched["domU1"][0] == (0, 100) and sched["domU2"][0] == (100, 200)
    ev = [IOEvent(110, "nic", "domU1")]
    shared = simulate_interrupts(Platform(), ev, schedule=sched)
    alone = simulate_interrupts(Platform(), ev)
    assert shared.done_at[0] == 202        # waits for domU1's slice at 200
    assert alone.done_at[0] == 120


def test_costs_are_used():
    slow = InterruptCosts(guest_handler_us=10)
    trace = simulate_interrupts(Platform(), [IOEvent(0, "nic", "domU1")], costs=slow)
    assert trace.done_at == (26,)   # 1 + 1 + (10+2+1) + 1 + 10


# --------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------

domains = st.sampled_from(["dom0", "domU1", "domU2"])
event_st = st.one_of(
    st.builds(lambda t, d, tgt: IOEvent(t, d, tgt), st.integers(0, 300),
              st.sampled_from(["nic", "disk"]), domains),
    st.builds(lambda t: IOEvent(t, "timer"), st.integers(0, 300)),
)


@given(events=st.lists(event_st, max_size=80), nic=domains, disk=domains,
       shared=st.booleans())
def test_every_physical_interrupt_delivered_to_exactly_one_owner_none_lost(
        events, nic, disk, shared):
    plat = Platform()
    for dev, dom in (("nic", nic), ("disk", disk)):
        plat.assign(dev, dom)
    # drop events a passed-through device cannot carry
    events = [e for e in events if e.device == "timer" or plat.mode(e.device) == "split"
              or e.target == plat.owner(e.device)]
    sched = (round_robin_schedule(["domU1", "domU2"], 37, 100_000) if shared else None)
    trace = simulate_interrupts(plat, events, schedule=sched)
    assert check_trace(trace) == []
    seen = [i for d in trace.deliveries for i in d.events]
    assert sorted(seen) == list(range(len(events)))             # exactly once each
    for d in trace.deliveries:
        assert d.owner == plat.owner(d.device)                   # to the device's owner
        for i in d.events:
            assert trace.events[i].device == d.device
    assert trace.pending == ()                                   # none lost
    by_final = {}
    for f in trace.final:
        by_final[f] = by_final.get(f, 0) + 1
    handled = sum(len(trace.latencies(dom)) for dom in plat.domains) + sum(
        1 for f, t in zip(trace.final, trace.done_at) if f == HYPERVISOR and t is not None)
    assert handled == len(events)
    for i, (ev, t) in enumerate(zip(trace.events, trace.done_at)):
        assert t >= ev.time
        times = [s.time for s in trace.journeys[i]]
        assert times == sorted(times)                            # a journey goes forward


@given(lines=st.lists(st.integers(0, 15), min_size=1, max_size=40),
       masked=st.sets(st.integers(0, 15)))
def test_controller_delivers_after_unmask_in_priority_order(lines, masked):
    pic = InterruptController(16)
    for m in masked:
        pic.mask(m)
    for line in lines:
        pic.raise_line(line)
    first = []
    while (ack := pic.acknowledge()) is not None:
        first.append(ack[0])
        pic.eoi(ack[0])
    assert first == sorted(set(lines) - masked)
    for m in masked:
        pic.unmask(m)
    later = []
    while (ack := pic.acknowledge()) is not None:
        later.append(ack)
        pic.eoi(ack[0])
    assert [a[0] for a in later] == sorted(set(lines) & masked)
    assert pic.acknowledged == pic.raised == len(lines)


def test_same_input_same_trace():
    ev = merge_events(packet_burst("domU1", 20, gap_us=3), disk_requests("domU2", 5),
                      timer_ticks(50, 200))
    sched = round_robin_schedule(["domU1", "domU2"], 30, 2000)
    a = simulate_interrupts(Platform(), ev, schedule=sched)
    b = simulate_interrupts(Platform(), ev, schedule=sched)
    assert a == b


def test_delivery_waits_for_the_credit_schedulers_next_vm_entry():
    from virtlab.interrupts import schedule_from_trace
    from virtlab.scheduler import VM, CreditScheduler, simulate
    st_ = simulate(CreditScheduler(), [VM("domU1"), VM("domU2")], pcpus=1, duration_ms=200)
    sched = schedule_from_trace(st_)
    # find a moment when domU1 is descheduled (domU2 runs): the event reaches
    # dom0 (own pCPU) after 7 µs, domU1 gets it at its next VM entry (no kick)
    t0 = next(t for t in range(0, 200_000, 1000) if not st_.running_at("domU1", 0, t + 7)
              and st_.next_run_start("domU1", 0, t + 7) is not None)
    entry = st_.next_run_start("domU1", 0, t0 + 7)
    trace = simulate_interrupts(Platform(), [IOEvent(t0, "nic", "domU1")], schedule=sched)
    assert trace.done_at == (entry + 2,)
    assert entry - t0 > 1000            # waited for a Credit time slice, not microseconds


def test_schedule_from_trace_refuses_other_objects():
    from virtlab.interrupts import schedule_from_trace
    with pytest.raises(TypeError, match="trace"):
        schedule_from_trace({"domU1": [(0, 10)]})


def test_check_trace_catches_a_lost_and_a_misrouted_event():
    import dataclasses
    trace = simulate_interrupts(Platform(), packet_burst("domU1", 3, gap_us=50))
    lost = dataclasses.replace(trace, deliveries=trace.deliveries[1:])
    assert any("delivered 0 times" in e for e in check_trace(lost))
    d0 = trace.deliveries[0]
    wrong = dataclasses.replace(trace, deliveries=(dataclasses.replace(d0, owner="domU2"),)
                                + trace.deliveries[1:])
    assert any("went to domU2" in e for e in check_trace(wrong))


def test_many_irq_lines_do_not_clash_with_event_channel_lines():
    from virtlab.devices import Device
    plat = Platform(devices=[Device("nic", "nic", 33), Device("disk", "disk", 40)], lines=64)
    plat.assign("nic", "domU1")                     # IRQ 33 straight into domU1
    ev = [IOEvent(0, "nic", "domU1"), IOEvent(0, "disk", "domU1")]   # disk via evtchn
    trace = simulate_interrupts(plat, ev)
    lines = {inj.source: inj.line for inj in trace.injections if inj.domain == "domU1"}
    assert lines["nic"] == 33 and lines["evtchn 1"] == 64 + 1   # port 1: disk → domU1
    assert check_trace(trace) == [] and trace.pending == ()

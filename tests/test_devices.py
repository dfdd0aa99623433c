"""Devices, the Xen split driver, and emulated vs paravirtual vs passthrough."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.devices import (
    MODES,
    EventChannel,
    GrantTable,
    IOCosts,
    Ring,
    SplitDriver,
    compare_io,
    disk_requests,
    make_arrivals,
    packet_burst,
    run_io,
    split_driver_request,
    timer_ticks,
)

# --------------------------------------------------------------------------
# event generators
# --------------------------------------------------------------------------


def test_generators():
    assert [e.time for e in timer_ticks(250, 1000)] == [250, 500, 750, 1000]
    assert {e.target for e in packet_burst("domU1", 5)} == {"domU1"}
    assert [e.time for e in disk_requests("domU2", 2, start=100, service_us=30)] == [130, 160]


def test_poisson_arrivals_deterministic_per_seed_and_mean_about_right():
    a = make_arrivals(2000, 10, poisson=True, seed=3)
    assert a == make_arrivals(2000, 10, poisson=True, seed=3)
    assert a != make_arrivals(2000, 10, poisson=True, seed=4)
    assert 9.0 < a[-1] / 1999 < 11.0


# --------------------------------------------------------------------------
# Xen pieces (facts.md §11)
# --------------------------------------------------------------------------


def test_grant_is_a_capability_for_one_domain_and_cannot_end_while_mapped():
    gt = GrantTable("domU1", size=2)
    ref = gt.grant(0x99, "dom0", readonly=True)
    with pytest.raises(ValueError, match="for 'dom0', not 'domU2'"):
        gt.map(ref, by="domU2")
    assert gt.map(ref, by="dom0") == 0x99
    with pytest.raises(ValueError, match="still mapped"):
        gt.end(ref)
    gt.unmap(ref, by="dom0")
    gt.end(ref)
    gt.grant(1, "dom0")
    gt.grant(2, "dom0")
    with pytest.raises(ValueError, match="full"):
        gt.grant(3, "dom0")
    assert gt.active == 2


def test_event_channel_pending_bit_merges_and_masking_defers():
    ch = EventChannel(5, "domU1", "dom0")
    assert ch.notify("domU1") is True
    assert ch.notify("domU1") is False        # merged into the pending bit
    assert ch.sent["domU1"] == 2
    assert ch.consume("dom0") is True
    ch.mask("dom0")
    assert ch.notify("domU1") is False        # masked: no upcall ...
    assert ch.pending["dom0"] is True         # ... but it stays pending
    assert ch.unmask("dom0") is True
    with pytest.raises(ValueError, match="sender must be one of"):
        ch.notify("domU7")


def test_ring_refuses_more_than_size_outstanding():
    r = Ring(2)
    r.put_request("a")
    r.put_request("b")
    with pytest.raises(ValueError, match="ring is full"):
        r.put_request("c")
    assert r.take_requests() == ["a", "b"]
    assert r.free == 0                        # still outstanding until the response is taken
    r.put_response("a")
    r.take_responses()
    assert r.free == 1


def test_split_driver_records_every_step_of_one_request():
    steps = split_driver_request()
    text = [f"{s.actor}: {s.action}" for s in steps]
    expected_order = ["grant page", "put request 0", "notify event channel",
                      "upcall to dom0", "map gref", "real disk driver", "raise IRQ",
                      "put response 0", "upcall to domU1", "end grant"]
    pos = [next(i for i, t in enumerate(text) if key in t) for key in expected_order]
    assert pos == sorted(pos)
    times = [s.time for s in steps]
    assert times == sorted(times)
    assert {s.actor for s in steps} >= {"domU1 frontend", "dom0 backend", "hypervisor", "disk"}


def test_split_driver_leaves_no_grant_behind():
    drv = SplitDriver("domU1", "dom0", "nic", ring_size=8)
    for i in range(8):
        drv.frontend_submit(i, i, 0x100 + i, notify=(i == 7))
    assert drv.channel.sent["domU1"] == 1      # one notification for the batch
    for rid, _page in drv.backend_take(10):
        drv.backend_respond(20, rid, notify=False)
    drv.notify_frontend(20)
    assert drv.frontend_complete(30) == list(range(8))
    assert drv.grants.active == 0 and drv.ring.free == 8


# --------------------------------------------------------------------------
# the three device models
# --------------------------------------------------------------------------

C = IOCosts()


def test_spaced_requests_exit_counts_follow_from_the_mechanisms():
    # Requests far apart: no batching, no merging.  Per request:
    # emulated  = register accesses + (injection + ISR register accesses)
    # PV        = 1 kick + 1 upcall;  passthrough = 1 interrupt exit
    cmp = compare_io(requests=20, gap_us=200)
    emu, pv, pt = cmp.results
    assert emu.exits_per_request == C.mmio_per_request + 1 + C.isr_accesses == 7
    assert pv.exits_per_request == 2
    assert pt.exits_per_request == 1
    # latency of one lone request, from the cost table
    access = C.exit_us + C.qemu_us
    emu_lat = (C.driver_us + C.mmio_per_request * access + C.nic_service_us + C.qemu_us
               + C.exit_us + C.isr_us + C.isr_accesses * access)
    assert set(emu.latencies) == {emu_lat}
    pv_lat = (C.driver_us + C.exit_us + C.backend_us + C.nic_service_us
              + C.exit_us + C.isr_us)
    assert set(pv.latencies) == {pv_lat}
    pt_lat = C.driver_us + C.nic_service_us + C.exit_us + C.isr_us
    assert set(pt.latencies) == {pt_lat}
    assert emu_lat > pv_lat > pt_lat


@pytest.mark.parametrize("gap", [0, 3, 20, 200])
@pytest.mark.parametrize("kind", ["nic", "disk"])
def test_emulated_costs_more_exits_per_request_than_paravirtual(gap, kind):
    cmp = compare_io(requests=48, gap_us=gap, kind=kind)
    assert cmp.by_mode("emulated").exits_per_request > cmp.by_mode("paravirtual").exits_per_request
    assert cmp.by_mode("emulated").exits_per_request > cmp.by_mode("passthrough").exits_per_request


@pytest.mark.parametrize("batch", [1, 2, 4, 8, 16, 64])
def test_batching_one_notification_per_batch_in_a_burst(batch):
    r = run_io("paravirtual", [0] * 64, batch=batch, ring_size=64)
    assert r.notifications == math.ceil(64 / batch)


def test_batching_reduces_notifications_and_exits():
    notes = [run_io("paravirtual", [0] * 64, batch=b).notifications for b in (1, 4, 16)]
    assert notes[0] > notes[1] > notes[2]


def test_coalescing_reduces_interrupts():
    arr = make_arrivals(64, 1)
    ints = [run_io("passthrough", arr, coalesce=c, coalesce_us=100).interrupts
            for c in (1, 4, 16)]
    assert ints[0] > ints[1] > ints[2]
    assert ints[2] == 4                  # 64 completions / 16 per interrupt


def test_coalescing_timeout_bounds_the_wait():
    # one lone request with coalesce=8: the interrupt comes after the timeout
    r = run_io("passthrough", [0], coalesce=8, coalesce_us=50)
    assert r.latencies == (C.driver_us + C.nic_service_us + 50 + C.exit_us + C.isr_us,)


def test_passthrough_cannot_migrate_and_is_not_shared():
    cmp = compare_io(requests=4)
    assert [(r.migratable, r.shared) for r in cmp.results] == [
        (True, True), (True, True), (False, False)]


def test_emulated_throughput_is_vcpu_bound_under_a_burst():
    cmp = compare_io(requests=64, gap_us=0)
    emu, pv, pt = cmp.results
    assert emu.throughput_kops < pv.throughput_kops
    assert emu.throughput_kops < pt.throughput_kops
    # the vCPU spends driver + accesses + ISR per request: throughput can not exceed that
    access = C.exit_us + C.qemu_us
    per_req = C.driver_us + C.mmio_per_request * access
    assert emu.throughput_kops <= 1000 / per_req + 1e-9


@given(arrivals=st.lists(st.integers(0, 500), min_size=1, max_size=60).map(sorted),
       batch=st.integers(1, 16), coalesce=st.integers(1, 8), coalesce_us=st.integers(0, 60),
       mode=st.sampled_from(MODES), ring=st.integers(16, 40))
def test_every_request_completes_once_after_it_arrives(arrivals, batch, coalesce, coalesce_us,
                                                       mode, ring):
    r = run_io(mode, arrivals, batch=batch, coalesce=coalesce, coalesce_us=coalesce_us,
               ring_size=ring)
    assert r.requests == len(arrivals) == len(r.latencies)
    assert min(r.latencies) > 0
    assert 1 <= r.interrupts <= len(arrivals)
    if mode == "paravirtual":
        assert r.notifications >= math.ceil(len(arrivals) / batch)
        assert r.exits == r.notifications + r.interrupts
    if mode == "passthrough":
        assert r.exits == r.interrupts


def test_same_seed_same_comparison():
    a = compare_io(requests=40, gap_us=5, poisson=True, seed=9)
    b = compare_io(requests=40, gap_us=5, poisson=True, seed=9)
    assert a == b
    assert a.arrivals != compare_io(requests=40, gap_us=5, poisson=True, seed=10).arrivals

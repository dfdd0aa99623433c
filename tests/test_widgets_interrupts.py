"""Headless tests of the notebook-10 widgets and their figures."""

import virtlab.widgets as w
from virtlab.devices import compare_io, packet_burst
from virtlab.interrupts import Platform, simulate_interrupts
from virtlab.viz import interrupts as vi


def test_apps_are_registered():
    names = w.apps()
    assert "interrupt_lab" in names and "io_models_lab" in names


def test_interrupt_lab_reassigning_a_device_changes_routing_and_picture():
    app = w.interrupt_lab(packets=10, disk_reqs=0, packet_target="domU1")
    assert app.error is None and app.png
    assert app.result.trace.delivered_by_owner() == {"dom0": 10}
    png, updates = app.png, app.updates
    app.controls["nic_owner"].value = "domU1"         # passthrough
    assert app.updates == updates + 1
    assert app.result.trace.delivered_by_owner() == {"domU1": 10}
    assert app.png != png
    # no dom0 on the path any more: every domU1 latency is the short path
    assert set(app.result.trace.latencies("domU1")) <= set(range(4, 40))
    assert "nic → domU1 (passthrough)" in app.html.value


def test_interrupt_lab_burst_size_is_reflected_in_counts():
    app = w.interrupt_lab(packets=4, disk_reqs=2)
    app.controls["packets"].value = 30
    t = app.result.trace
    assert len(t.events) == 32
    assert sum(len(d.events) for d in t.deliveries) == 32 and t.pending == ()


def test_interrupt_lab_shared_pcpu_increases_latency():
    app = w.interrupt_lab(packets=16, disk_reqs=4)
    alone = max(app.result.trace.latencies("domU2"))
    app.controls["shared_pcpu"].value = True
    assert max(app.result.trace.latencies("domU2")) > alone


def test_interrupt_lab_bad_combination_shows_message_and_keeps_last_picture():
    app = w.interrupt_lab(nic_owner="domU1", packet_target="domU1")
    good, png = app.result, app.png
    app.controls["packet_target"].value = "domU2"     # NIC belongs to domU1
    assert app.error is not None and "passed through to 'domU1'" in app.error
    assert "passed through" in app.message.value
    assert app.result is good and app.png == png
    app.controls["packet_target"].value = "domU1"     # and it recovers
    assert app.error is None and app.message.value == ""


def test_io_models_lab_batch_and_coalesce_knobs():
    app = w.io_models_lab(requests=64, batch=8, coalesce=1)
    pv = app.result.by_mode("paravirtual")
    png = app.png
    app.controls["batch"].value = 1
    assert app.result.by_mode("paravirtual").notifications > pv.notifications
    assert app.png != png
    pt = app.result.by_mode("passthrough").interrupts
    app.set(coalesce=16, gap_us=1)
    assert app.result.by_mode("passthrough").interrupts < pt
    emu = app.result.by_mode("emulated")
    assert emu.exits_per_request > app.result.by_mode("paravirtual").exits_per_request
    assert "exits/request" in app.html.value


def test_io_models_lab_out_of_range_is_clamped_not_crashing():
    app = w.io_models_lab()
    app.set(requests=0, batch=999)          # ipywidgets clamps to the slider range
    assert app.error is None
    assert app.result.results[0].requests == 1


def test_figures_render():
    trace = simulate_interrupts(Platform(), packet_burst("domU1", 3))
    for fig in (vi.routing(trace), vi.journey(trace, 2), vi.delivery_bars(trace),
                vi.io_comparison(compare_io(8)), vi.request_paths(compare_io(2))):
        assert fig.axes


def test_journey_refuses_bad_event_index():
    import pytest
    trace = simulate_interrupts(Platform(), packet_burst("domU1", 3))
    with pytest.raises(ValueError, match="event"):
        vi.journey(trace, 3)
    with pytest.raises(ValueError, match="trace"):
        vi.journey(simulate_interrupts(Platform(), []))

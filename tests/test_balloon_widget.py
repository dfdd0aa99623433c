"""Headless tests of the ballooning widget app (notebook 13)."""

import ipywidgets as W

import virtlab.widgets as w


def test_balloon_lab_targets_and_policy():
    app = w.balloon_lab()
    assert app.error is None and app.png
    assert app.result.policy == "balloon"
    assert app.result.balloon["vm1"][-1] == 48
    png = app.png
    app.controls["target_vm1"].value = 0
    assert app.result.balloon["vm1"][-1] == 0 and app.png != png
    app.controls["policy"].value = "swap"
    assert app.result.policy == "swap"
    assert all(b[-1] == 0 for b in app.result.balloon.values())   # no balloon under "swap"
    assert "hypervisor swap I/O" in app.html.value


def test_one_row_per_vm_layout():
    app = w.balloon_lab(vms=2)
    rows = app.widget.children[1].children
    assert len(rows) == 1 + 2
    assert set(app.result.vms) == {"vm1", "vm2"}


def test_guest_policy_is_invisible_to_the_hypervisor():
    app = w.balloon_lab(vms=1, host_frames=96, target_vm1=40, ws_vm1=120)
    a = app.result
    app.controls["repl_vm1"].value = "fifo"
    b = app.result
    assert a.balloon == b.balloon                  # the hypervisor's side: identical
    assert a.counters != b.counters                # the guest's own choices differ


def test_bad_input_is_shown_not_raised():
    app = w.balloon_lab(vms=1)
    png = app.png
    app.controls["target_vm1"] = W.IntText(value=500)     # above the VM's memory
    assert app.update() is False
    assert "balloon_target" in app.error and app.png == png
    app.controls["target_vm1"].value = 10
    assert app.update() and app.result.balloon["vm1"][-1] == 10


def test_equal_curves_are_striped_not_hidden():
    # Three VMs with the same target: their balloon curves are equal, and each
    # must stay visible (alternating dashes), unequal curves stay solid.
    from hypothesis import given, strategies as st

    from virtlab.viz.balloon import _striped

    @given(st.lists(st.lists(st.integers(0, 3), min_size=2, max_size=2), min_size=1,
                    max_size=6))
    def check(series):
        styles = _striped(series)
        for i, a in enumerate(series):
            equal = [j for j, b in enumerate(series) if b == a]
            if len(equal) == 1:
                assert styles[i] == "-"
            else:   # same dash pattern, different offsets: every colour shows
                offsets = {styles[j][0] for j in equal}
                assert len(offsets) == len(equal)
                assert len({styles[j][1] for j in equal}) == 1
    check()

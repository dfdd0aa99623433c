"""Headless tests of the CPU-topic widgets (notebooks 02 and 06)."""

import virtlab.widgets as w
from virtlab.widgets.emulation import compute_mix


def test_emulation_lab_reacts_to_the_mix():
    app = w.emulation_lab(compute=2000)
    assert app.error is None and app.image_bytes.startswith(b"<?xml")
    rel = dict(app.result.relative)
    assert rel["native"] == 1.0 and rel["emulation"] > 10
    png = app.png
    app.controls["pt_updates"].value = 30           # page-table heavy
    assert app.result.relative["paravirt"] > rel["paravirt"]
    assert app.png != png
    app.controls["vm_exit"].value = 8000             # expensive exits
    assert app.result.relative["hardware"] > rel["hardware"]
    assert "5-10 %" in app.html.value


def test_emulation_lab_more_compute_means_less_overhead():
    a = compute_mix(1000, 1, 1, 3, 0, 2000).relative["binary_translation"]
    b = compute_mix(20000, 1, 1, 3, 0, 2000).relative["binary_translation"]
    assert b < a


def test_emulation_lab_bad_input_shows_error():
    app = w.emulation_lab()
    app.compute = lambda **kw: compute_mix(**{**kw, "compute": -3})
    app._states.clear()          # the same control values: else served from the state cache
    app.update()
    assert app.error and "compute" in app.error


def test_sensitive_lab_toggle_and_isa():
    app = w.sensitive_lab()
    assert not app.result.virtualizable
    png = app.png
    app.controls["make_privileged"].value = ("POPF", "PUSHF")
    assert len(app.result.classification.critical) == 16 and app.png != png
    app.controls["isa"].value = "X86_VTX"
    assert app.result.virtualizable and "virtualizable" in app.html.value
    app.controls["isa"].value = "X86_32"
    app.controls["make_privileged"].value = tuple(sorted(
        w.sensitive.CRITICAL_X86))
    assert app.result.virtualizable


def test_sensitive_lab_bad_isa_shows_error():
    app = w.sensitive_lab()
    app.compute(isa="X86_32", make_privileged=())
    app.controls["isa"].options = ["X86_32", "ARM"]
    app.controls["isa"].value = "ARM"
    assert app.error and "isa" in app.error


def test_emulation_lab_extrapolation_is_exact():
    """The widget runs a 1-iteration loop and adds the rest as direct instructions."""
    from virtlab.hypervisor import run_all
    from virtlab.hypervisor.microbench import workload
    for compute, io, pt in ((700, 1, 3), (3000, 4, 0)):
        lab = compute_mix(compute, 1, io, pt, 1, 2000)
        full = run_all(workload(compute=compute, syscalls=1, io=io, pt_updates=pt,
                                cr_writes=1, periods=4))
        for mode, rel in lab.relative.items():
            if mode == "emulation":
                assert abs(rel - full["emulation"].cycles / full["native"].cycles) < 1e-9
            else:
                assert abs(rel - full[mode].cycles / full["native"].cycles) < 1e-9, mode
        assert lab.instructions == full["native"].instructions

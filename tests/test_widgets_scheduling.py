"""Headless tests of the scheduling widgets: change a control, the result and picture change."""

import pytest

import virtlab.widgets as w


def test_scheduler_lab_weight_changes_shares_and_redraws():
    app = w.scheduler_lab(pcpus=1)
    assert app.error is None and app.image_bytes.startswith(b"<?xml")
    before = app.result.share("batch")
    png = app.png
    app.controls["batch_weight"].value = 1024
    assert app.error is None
    assert app.result.share("batch") > before + 0.1
    assert app.png != png
    assert "batch" in app.html.value


def test_scheduler_lab_cap_limits_a_vm():
    app = w.scheduler_lab(pcpus=4)
    assert app.result.share("batch") > 1.5
    app.controls["batch_cap"].value = 50
    assert app.result.share("batch") == pytest.approx(0.5, abs=0.06)


def test_scheduler_lab_switch_to_sedf_and_overadmission_shows_message():
    app = w.scheduler_lab(pcpus=1)
    app.set(scheduler="sedf", web_period=20, web_slice=15, db_period=20, db_slice=10)
    assert app.error is not None and "admission" in app.error
    assert "admission" in app.message.value
    good = app.result                     # the last good result stays
    app.set(db_slice=2)
    assert app.error is None and app.result is not good
    assert app.result.scheduler.startswith("sedf")
    assert app.result.deadline_misses("web") == 0


def test_scheduler_lab_strict_cosched_needs_pcpus_message():
    app = w.scheduler_lab(pcpus=2)
    app.set(cosched="strict", pcpus=1)
    assert app.error is not None and "strict co-scheduling" in app.error
    app.controls["pcpus"].value = 2
    assert app.error is None


def test_cosched_lab_modes():
    app = w.cosched_lab()
    spin_none = app.result.workload("smp")["spin_us"]
    app.controls["mode"].value = "strict"
    assert app.result.skew("smp") == 0
    assert app.result.workload("smp")["spin_us"] < spin_none
    app.controls["mode"].value = "relaxed"
    assert app.result.skew("smp") <= 3_000
    assert "critical sections" in app.html.value


def test_apps_registered():
    assert {"scheduler_lab", "cosched_lab"} <= set(w.apps())
    assert repr(w.scheduler_lab()) == "<SchedulerLab: vCPU scheduling lab (Credit / SEDF)>"


def test_scheduler_lab_round_robin_ignores_weights():
    app = w.scheduler_lab(pcpus=1, scheduler="rr", weights=(256, 256, 1024))
    assert app.result.scheduler.startswith("round-robin")
    assert app.result.share("db") == pytest.approx(app.result.share("batch"), abs=0.05)
    assert "ignored" in app.html.value

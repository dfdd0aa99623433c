"""Four engines, one guest: same final state everywhere; the measured rows are well formed."""

import pytest

from host_live import require
from virtlab.host import compare as C
from virtlab.host.base import platform_missing


@pytest.mark.parametrize("n", [1, 2, 10, 1000])
def test_expected_state_by_reasoning(n):
    s = C.expected_state(n)
    assert s["eax"] == n * (n + 1) // 2 % 2**32 and s["ecx"] == 0 and s["mem"] == s["ebx"]
    ebx, acc = 0, 0
    for k in range(n, 0, -1):
        acc += k
        ebx ^= acc
    assert s["ebx"] == ebx


def test_four_ways_live_same_state_and_rows():
    require(platform_missing())
    r = C.four_ways({e: 2000 for e in C.ENGINES})
    assert [x.engine for x in r.runs] == list(C.ENGINES)
    for x in r.runs:
        require(x.missing)
    assert r.states_agree() == {e: True for e in C.ENGINES}
    assert all(x.state["mem"] == C.expected_state(2000)["mem"] for x in r.runs)
    assert r.slowdown("native") == 1.0
    assert all(x.ips > 0 for x in r.runs)
    assert len(r.rows()) == 4


def test_model_ratios_rank_the_techniques():
    m = C.model_ratios()
    assert m["emulation"] > m["hardware"] > 1 and m["emulation"] > m["binary_translation"] > 1


def test_bad_iterations():
    with pytest.raises(ValueError):
        C.four_ways({"qemu": 10})
    with pytest.raises((TypeError, ValueError)):
        C.four_ways({"native": 0})


def test_off_linux_every_section_shows_the_labelled_reference_run(monkeypatch):
    import platform

    from virtlab.host import base, critical, guests, vmm
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    fw = C.four_ways_or_reference()
    rep = critical.probe_or_reference()
    run = vmm.run_or_reference(guests.HELLO)
    for result in (fw, rep, run):
        assert result.missing is not None and "recorded elsewhere" in result.recorded
        assert "not on this machine" in base.source_note(result)
    assert [r.engine for r in fw.runs] == list(C.ENGINES) and fw.slowdown("tcg") > 1
    assert [v.name for v in rep.rows] == list(critical.PROBES)
    assert run.output == "Hello!" and tuple(run.reasons()) == guests.HELLO.expected_exits


def test_on_this_machine_nothing_is_taken_from_the_reference():
    require(platform_missing())
    from virtlab.host import base, critical
    rep = critical.probe_or_reference()
    require(rep.missing)
    assert rep.recorded == "" and base.source_note(rep) == "measured now, on this machine"

"""Critical instructions on the host CPU: the pure classifier on fixtures, the live probe."""

import pytest

from host_live import import_or_skip, require
from virtlab.host import critical as C
from virtlab.host.base import platform_missing
from virtlab.isa import X86_32
from virtlab.popek_goldberg import classify


def _desc(limit, base):
    return limit.to_bytes(2, "little") + base.to_bytes(8, "little")


def _q(*values):
    return b"".join(v.to_bytes(8, "little") for v in values)


# -- the classifier, on fixture outcomes ------------------------------------------------

@pytest.mark.parametrize("name,dummy", [("SGDT", C.UMIP_DUMMY_GDT_BASE),
                                        ("SIDT", C.UMIP_DUMMY_IDT_BASE)])
def test_umip_spoofed_table_register_is_emulated(name, dummy):
    v = C.classify(name, C.ProbeOutcome(data=_desc(0, dummy)), umip=True)
    assert (v.verdict, v.value) == ("emulated", dummy)


@pytest.mark.parametrize("name", ["SGDT", "SIDT"])
def test_without_umip_the_real_table_register_leaks(name):
    # A real GDT has at least the null and kernel descriptors: limit > 0.
    v = C.classify(name, C.ProbeOutcome(data=_desc(0x7F, 0xFFFFFE0000001000)), umip=False)
    assert (v.verdict, v.value) == ("leaked", 0xFFFFFE0000001000)


def test_dummy_base_recognised_even_if_umip_unknown():
    v = C.classify("SGDT", C.ProbeOutcome(data=_desc(0, C.UMIP_DUMMY_GDT_BASE)), umip=None)
    assert v.verdict == "emulated"


def test_smsw_umip_vs_no_umip():
    out = C.ProbeOutcome(data=_q(C.UMIP_CR0_STATE))
    assert C.classify("SMSW", out, umip=True).verdict == "emulated"
    assert C.classify("SMSW", out, umip=False).verdict == "leaked"


@pytest.mark.parametrize("name", ["SLDT", "STR"])
def test_sldt_str_fault_or_emulation(name):
    assert C.classify(name, C.ProbeOutcome(signal="SIGSEGV"), umip=True).verdict == "trapped"
    assert C.classify(name, C.ProbeOutcome(data=(0x40).to_bytes(2, "little")),
                      umip=True).verdict == "emulated"
    assert C.classify(name, C.ProbeOutcome(data=(0x40).to_bytes(2, "little")),
                      umip=False).verdict == "leaked"


def test_popf_if_kept_is_ignored_and_if_cleared_is_executed():
    if_set, if_clear = 0x246, 0x046
    assert C.classify("POPF", C.ProbeOutcome(data=_q(if_set, if_set)), umip=True).verdict \
        == "ignored"
    assert C.classify("POPF", C.ProbeOutcome(data=_q(if_set, if_clear)), umip=True).verdict \
        == "executed"


@pytest.mark.parametrize("name", ["CLI", "HLT"])
def test_privileged_instructions_trap(name):
    v = C.classify(name, C.ProbeOutcome(signal="SIGSEGV"), umip=False)
    assert v.verdict == "trapped" and "privileged" in v.detail


def test_timeout_is_its_own_verdict():
    assert C.classify("HLT", C.ProbeOutcome(timed_out=True), umip=True).verdict == "timed out"


def test_predictions_come_from_the_catalogue():
    for name in C.PROBES:
        spec = X86_32[name]
        assert ("traps" in C.predicted(name)) == spec.privileged
    assert {n for n in C.PROBES if not X86_32[n].privileged} <= classify(X86_32).critical


@pytest.mark.parametrize("bad", ["NOP", "sgdt", 3])
def test_classify_rejects_unknown_names(bad):
    with pytest.raises((ValueError, TypeError)):
        C.classify(bad, C.ProbeOutcome(), umip=True)


def test_probe_code_is_what_the_listing_says():
    capstone = import_or_skip("capstone")
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    for name, (code, listing, _) in C.PROBES.items():
        got = tuple(f"{i.mnemonic} {i.op_str}".strip() for i in md.disasm(code, 0))
        assert got == listing, name
        assert sum(len(i.bytes) for i in md.disasm(code, 0)) == len(code), name


# -- live: this CPU ---------------------------------------------------------------------

def test_live_probe_reports_every_instruction():
    require(platform_missing())
    report = C.probe_critical()
    assert report.available
    verdicts = {v.name: v.verdict for v in report.rows}
    assert set(verdicts) == set(C.PROBES)
    # Facts that hold on every x86-64 Linux: POPF cannot clear IF in ring 3
    # (silently), CLI and HLT are privileged.
    assert verdicts["POPF"] == "ignored"
    assert verdicts["CLI"] == verdicts["HLT"] == "trapped"
    if report.umip:
        # UMIP: the table registers and CR0 are either spoofed or fault, never leak.
        for name in ("SGDT", "SIDT", "SMSW", "SLDT", "STR"):
            assert verdicts[name] in ("emulated", "trapped"), name
        sgdt = next(v for v in report.rows if v.name == "SGDT")
        assert sgdt.verdict != "emulated" or sgdt.value == C.UMIP_DUMMY_GDT_BASE
    else:
        assert verdicts["SGDT"] == "leaked"


def test_live_probe_child_is_killed_on_timeout(monkeypatch):
    require(platform_missing())
    # An endless loop (jmp $) in the child: the parent must come back with a verdict.
    monkeypatch.setitem(C.PROBES, "HLT", (bytes.fromhex("ebfe"), ("jmp 0",), "nothing"))
    assert C.run_probe("HLT", timeout=1.0).timed_out


def test_off_linux_the_probe_says_what_is_missing(monkeypatch):
    import platform
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    monkeypatch.setattr(platform, "machine", lambda: "arm64")
    report = C.probe_critical()
    assert not report.available and report.rows == ()
    assert "x86-64" in report.missing.what

"""Hostile input for the real-machine layer: bad arguments raise, odd host data never does."""

import pytest
from hypothesis import given, settings, strategies as st

from virtlab import environment
from virtlab.host import compare, critical, scan, tcg, vmm
from virtlab.host.guests import HALT


@given(st.sampled_from(sorted(critical.PROBES)), st.binary(max_size=80),
       st.sampled_from([True, False, None]))
def test_classify_any_child_output_gives_a_verdict(name, data, umip):
    v = critical.classify(name, critical.ProbeOutcome(data=data), umip)
    assert v.verdict in critical.VERDICTS and v.name == name


@pytest.mark.parametrize("args", [("SGDT", b"", True), ("SGDT", critical.ProbeOutcome(), "yes"),
                                  ("", critical.ProbeOutcome(), True)])
def test_classify_rejects_bad_arguments(args):
    with pytest.raises((TypeError, ValueError)):
        critical.classify(*args)


@pytest.mark.parametrize("kwargs", [{"names": ["MOV"]}, {"names": [1]}, {"timeout": 0},
                                    {"timeout": "1"}])
def test_probe_critical_rejects_bad_arguments(kwargs):
    with pytest.raises((TypeError, ValueError)):
        critical.probe_critical(**kwargs)


@settings(max_examples=40)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=2**48))
def test_scan_never_raises_on_arbitrary_bytes(code, address):
    r = scan.scan(code, address)
    assert sum(r.counts.values()) <= r.instructions <= len(code)
    steps = scan.first_block(code, address)
    assert all(s.action in ("copied", "callout", "ends the block") for s in steps)


@pytest.mark.parametrize("args", [("90",), (b"\x90", -1), (b"\x90", 0, 3)])
def test_scan_rejects_bad_arguments(args):
    with pytest.raises((TypeError, ValueError)):
        scan.scan(*args)


@pytest.mark.parametrize("kwargs", [{"guest": None}, {"guest": HALT, "timeout": -1},
                                    {"guest": HALT, "max_exits": 2.5},
                                    {"guest": HALT, "stats": "yes"}])
def test_run_guest_rejects_bad_arguments(kwargs):
    with pytest.raises((TypeError, ValueError)):
        vmm.run_guest(**kwargs)


def test_probe_kvm_rejects_bad_arguments():
    with pytest.raises(TypeError):
        vmm.probe_kvm(kernel_log="no")


@pytest.mark.parametrize("kwargs", [{"guest": b"\xf4"}, {"guest": HALT, "count_blocks": 1},
                                    {"guest": HALT, "mmio_value": 2**40}])
def test_run_tcg_rejects_bad_arguments(kwargs):
    with pytest.raises((TypeError, ValueError)):
        tcg.run_tcg(**kwargs)


@pytest.mark.parametrize("its", [{"tcg": -5}, {"kvm": "10"}, {"bochs": 1}, [("native", 1)]])
def test_four_ways_rejects_bad_iterations(its):
    with pytest.raises((TypeError, ValueError)):
        compare.four_ways(its)


@given(st.lists(st.text(max_size=12), max_size=6), st.sets(st.text(max_size=6), max_size=6))
def test_kvm_provider_any_module_names(mods, flags):
    assert isinstance(environment.kvm_provider(mods, flags), str)


def test_kvm_provider_rejects_non_text():
    with pytest.raises(TypeError):
        environment.kvm_provider([1])

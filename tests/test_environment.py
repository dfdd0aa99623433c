"""Environment detection: pure parsing, graceful off Linux."""

import platform

from hypothesis import given, strategies as st
import pytest

from virtlab import environment as env

NO_MARKERS = {"/.dockerenv": False, "/run/.containerenv": False}


def test_guest_with_vmx():
    f = env.detect(cpuinfo="processor : 0\nflags : fpu vmx hypervisor\n",
                   cgroup="0::/user.slice\n", files=NO_MARKERS)
    assert (f.is_vm, f.hw_virtualization, f.in_container) == ("yes", "VT-x (vmx)", "no")


def test_bare_metal_amd():
    f = env.detect(cpuinfo="flags : fpu svm sse2\n", cgroup="0::/\n", files=NO_MARKERS)
    assert (f.is_vm, f.hw_virtualization) == ("no", "AMD-V (svm)")


def test_no_virtualization_extensions_visible():
    # a typical cloud guest: hypervisor flag set, vmx hidden from the guest
    f = env.detect(cpuinfo="flags : fpu hypervisor\n")
    assert (f.is_vm, f.hw_virtualization) == ("yes", "none visible")


@pytest.mark.parametrize("cgroup", ["12:cpu:/docker/3f2a\n", "0::/kubepods/burstable/pod1\n",
                                    "0::/machine.slice/libpod-abc.scope\n"])
def test_container_from_cgroup(cgroup):
    f = env.detect(cgroup=cgroup, files=NO_MARKERS)
    assert f.in_container == "yes" and "cgroup" in f.container_evidence


def test_container_from_marker_file():
    f = env.detect(cgroup="0::/\n", files={"/.dockerenv": True})
    assert f.in_container == "yes" and "/.dockerenv" in f.container_evidence


def test_nothing_readable_is_unknown():
    f = env.detect(os_name="Darwin")
    assert {f.is_vm, f.hw_virtualization, f.in_container} == {"unknown"}


@given(st.text(max_size=200), st.text(max_size=200))
def test_parsers_never_raise_on_text(cpuinfo, cgroup):
    f = env.detect(cpuinfo=cpuinfo, cgroup=cgroup, files=NO_MARKERS)
    assert f.is_vm in ("yes", "no", "unknown")
    assert f.in_container in ("yes", "no", "unknown")


def test_probe_on_this_machine_is_consistent_with_cpuinfo():
    f = env.probe()
    assert f.os == platform.system()
    if f.os == "Linux":
        flags = env.parse_cpu_flags(open("/proc/cpuinfo").read())
        assert (f.is_vm == "yes") == ("hypervisor" in flags)
        assert set(f.namespaces) <= set(env.NAMESPACES)


def test_probe_off_linux_says_unknown(monkeypatch):
    monkeypatch.setattr(platform, "system", lambda: "Windows")
    f = env.probe()
    assert f.os == "Windows" and f.in_container == "unknown" and f.namespaces == {}


@pytest.mark.parametrize("bad", [None, 1, b"x"])
def test_parsers_reject_non_text(bad):
    with pytest.raises(TypeError):
        env.parse_cpu_flags(bad)
    with pytest.raises(TypeError):
        env.parse_cgroup(bad)

"""environment reports /dev/kvm from the device and the modules, not from the CPU flags."""

import os

import pytest

from host_live import require
from virtlab import environment as env
from virtlab.host.base import platform_missing

PVM_HOST = "flags : fpu hypervisor umip\n"


def test_pvm_provides_kvm_without_vmx_or_svm():
    f = env.detect(cpuinfo=PVM_HOST, kvm_modules=["kvm", "kvm_pvm"], dev_kvm="usable")
    assert f.hw_virtualization == "none visible" and f.kvm_device == "usable"
    assert f.kvm_provider.startswith("kvm_pvm") and "emulated" in f.kvm_provider


@pytest.mark.parametrize("mods,flags,start", [
    (["kvm", "kvm_intel"], "flags : vmx\n", "kvm_intel (Intel VT-x): hardware-assisted"),
    (["kvm", "kvm_amd"], "flags : svm\n", "kvm_amd (AMD-V/SVM): hardware-assisted"),
    (["kvm"], "flags : fpu\n", "kvm is loaded, but no vendor module"),
    ([], "flags : vmx\n", "no KVM module is loaded"),
])
def test_provider(mods, flags, start):
    assert env.detect(cpuinfo=flags, kvm_modules=mods).kvm_provider.startswith(start)


def test_no_permission_names_the_remedy():
    f = env.detect(dev_kvm="no permission")
    assert "usermod -aG kvm" in f.kvm_device
    assert ("Can run KVM guests (/dev/kvm)?", f.kvm_device) in f.rows()


def test_unknown_when_not_probed():
    f = env.detect(cpuinfo=PVM_HOST)
    assert (f.kvm_device, f.kvm_provider) == ("unknown", "unknown")


@pytest.mark.parametrize("bad", ["yes", "", 1])
def test_bad_dev_kvm(bad):
    with pytest.raises((ValueError, TypeError)):
        env.detect(dev_kvm=bad)


def test_probe_on_this_machine_reports_dev_kvm():
    require(platform_missing())
    f = env.probe()
    if os.path.exists("/dev/kvm") and os.access("/dev/kvm", os.R_OK | os.W_OK):
        assert f.kvm_device == "usable"
        assert f.kvm_provider != "no KVM module is loaded"
    elif not os.path.exists("/dev/kvm"):
        assert f.kvm_device == "absent"

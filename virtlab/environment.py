"""Detect the environment the notebook runs in: VM? VT-x/AMD-V? container?

This is the one module of virtlab that reads the host (``/proc``, ``/sys``,
``/.dockerenv``).  It is split in two so that the logic is testable without
the host: pure parsing functions (:func:`parse_cpu_flags`,
:func:`parse_cgroup`, :func:`detect`) take text, and :func:`probe` gathers
that text from the running system.  Off Linux, or where a file cannot be read,
the answer is ``"unknown"`` — never an exception.

German terms: *Wirt* (host), *Gast* (guest), *Container*.

Examples
--------
>>> facts = detect(cpuinfo="flags : fpu vmx hypervisor\\n", cgroup="0::/\\n",
...                files={"/.dockerenv": False, "/run/.containerenv": False})
>>> facts.is_vm, facts.hw_virtualization, facts.in_container
('yes', 'VT-x (vmx)', 'no')

Whether this system can *run* guests is a different question from the CPU
flags: ``/dev/kvm`` may be provided without VT-x/AMD-V in the (virtual) CPU,
by PVM (``kvm_pvm``, a KVM back end for clouds without nested
virtualization).  So the KVM answer comes from the device and the loaded
modules, never from the flags:

>>> f = detect(cpuinfo="flags : fpu hypervisor umip\\n", kvm_modules=["kvm", "kvm_pvm"],
...            dev_kvm="usable")
>>> f.hw_virtualization, f.kvm_device
('none visible', 'usable')
>>> f.kvm_provider.split(":")[0]
'kvm_pvm (PVM, pagetable-based virtual machine)'
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import check_type

__all__ = ["HostFacts", "NAMESPACES", "KVM_PROVIDERS", "cpu_flags", "detect", "kvm_modules",
           "kvm_provider", "parse_cgroup", "parse_cpu_flags", "probe"]

#: The Linux namespaces the container notebook talks about.
NAMESPACES = ("cgroup", "ipc", "mnt", "net", "pid", "user", "uts")

#: The modules that can provide /dev/kvm (names under /sys/module), in words.
KVM_PROVIDERS = {
    "kvm_intel": "kvm_intel (Intel VT-x)",
    "kvm_amd": "kvm_amd (AMD-V/SVM)",
    "kvm_pvm": "kvm_pvm (PVM, pagetable-based virtual machine)",
}

#: cgroup path fragments that container run-times leave behind.
_CONTAINER_MARKERS = ("docker", "containerd", "kubepods", "libpod", "lxc", "podman",
                      "garden", "crio")


@dataclass(frozen=True)
class HostFacts:
    """What could be found out about the running system.

    Every answer is a string, ``"unknown"`` when the system does not say.

    Attributes
    ----------
    os : str
        ``platform.system()``, e.g. ``"Linux"``.
    is_vm : str
        ``"yes"`` if the CPU reports the ``hypervisor`` flag (we are a guest),
        ``"no"`` if flags were readable and it is absent, else ``"unknown"``.
    hypervisor_vendor : str
        DMI system vendor/product when readable (e.g. ``"QEMU"``).
    hw_virtualization : str
        ``"VT-x (vmx)"``, ``"AMD-V (svm)"``, ``"none visible"`` or ``"unknown"``.
    in_container : str
        ``"yes"``/``"no"``/``"unknown"`` from marker files and the cgroup.
    container_evidence : str
        Why ``in_container`` was decided, in words.
    cgroup : str
        The process's cgroup path (cgroup v2 ``0::`` line or the first v1 line).
    namespaces : dict
        Namespace name → identifier (e.g. ``"pid:[4026531836]"``), Linux only.
    kvm_device : str
        ``/dev/kvm``: ``"usable"``, ``"no permission (sudo usermod -aG kvm $USER)"``,
        ``"absent"`` or ``"unknown"``.
    kvm_provider : str
        The kernel module behind ``/dev/kvm`` and what it means (:func:`kvm_provider`).
    """

    os: str = "unknown"
    is_vm: str = "unknown"
    hypervisor_vendor: str = "unknown"
    hw_virtualization: str = "unknown"
    in_container: str = "unknown"
    container_evidence: str = "unknown"
    cgroup: str = "unknown"
    namespaces: Mapping[str, str] = field(default_factory=dict)
    kvm_device: str = "unknown"
    kvm_provider: str = "unknown"

    def rows(self) -> list[tuple[str, str]]:
        """(question, answer) rows for a table.

        Examples
        --------
        >>> HostFacts(os="Darwin").rows()[0]
        ('Operating system', 'Darwin')
        """
        return [
            ("Operating system", self.os),
            ("Running in a VM (CPU 'hypervisor' flag)?", self.is_vm),
            ("Hypervisor / machine vendor (DMI)", self.hypervisor_vendor),
            ("CPU flags show VT-x / AMD-V (vmx / svm)?", self.hw_virtualization),
            ("Can run KVM guests (/dev/kvm)?", self.kvm_device),
            ("What provides /dev/kvm", self.kvm_provider),
            ("Running in a container?", self.in_container),
            ("Container evidence", self.container_evidence),
            ("cgroup of this process", self.cgroup),
        ]


def parse_cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The CPU feature flags in ``/proc/cpuinfo`` text (x86 ``flags`` lines).

    Examples
    --------
    >>> sorted(parse_cpu_flags("processor : 0\\nflags\\t\\t: fpu vmx sse2\\n"))
    ['fpu', 'sse2', 'vmx']
    >>> parse_cpu_flags("")
    frozenset()
    """
    check_type("cpuinfo", cpuinfo, str)
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            flags.update(value.split())
    return frozenset(flags)


def kvm_provider(modules, cpu_flags=frozenset()) -> str:
    """Which kernel module provides /dev/kvm, and what that means (pure).

    Parameters
    ----------
    modules : iterable of str
        Names under ``/sys/module`` (only the kvm ones matter).
    cpu_flags : iterable of str
        The CPU flags of ``/proc/cpuinfo``.

    Examples
    --------
    >>> kvm_provider(["kvm", "kvm_intel"], {"vmx"})
    'kvm_intel (Intel VT-x): hardware-assisted; the CPU offers VT-x to this system'
    >>> kvm_provider([])
    'no KVM module is loaded'
    """
    mods = {check_type("modules", m, str) for m in modules}
    flags = set(cpu_flags)
    if "kvm_pvm" in mods:
        return (KVM_PROVIDERS["kvm_pvm"] + ": KVM without VT-x/AMD-V in this (virtual) CPU"
                + (" (neither vmx nor svm is in the CPU flags)" if not flags & {"vmx", "svm"}
                   else "") + "; a PVM-aware guest kernel runs in ring 3 under shadow "
                "paging, any other guest code is emulated instruction by instruction "
                "by KVM's x86 emulator")
    for name, flag, tech in (("kvm_intel", "vmx", "VT-x"), ("kvm_amd", "svm", "AMD-V")):
        if name in mods:
            return (f"{KVM_PROVIDERS[name]}: hardware-assisted; the CPU "
                    + ("offers" if flag in flags else "should offer") + f" {tech} to this system")
    if "kvm" in mods:
        return "kvm is loaded, but no vendor module (kvm_intel, kvm_amd, kvm_pvm) was found"
    return "no KVM module is loaded"


def parse_cgroup(text: str) -> str:
    """The process's cgroup path from ``/proc/self/cgroup`` text.

    Prefers the unified (v2) ``0::PATH`` line, else the first v1 line's path.

    Examples
    --------
    >>> parse_cgroup("0::/user.slice/session-2.scope\\n")
    '/user.slice/session-2.scope'
    >>> parse_cgroup("12:cpu,cpuacct:/docker/abc\\n")
    '/docker/abc'
    >>> parse_cgroup("")
    'unknown'
    """
    check_type("text", text, str)
    first = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            return parts[2] or "/"
        if first is None:
            first = parts[2] or "/"
    return first or "unknown"


def detect(cpuinfo: str | None = None, cgroup: str | None = None,
           files: Mapping[str, bool] | None = None, os_name: str = "Linux",
           dmi_vendor: str | None = None, namespaces: Mapping[str, str] | None = None,
           kvm_modules=None, dev_kvm: str | None = None) -> HostFacts:
    """Decide the facts from gathered text; ``None`` means "could not read".

    Parameters
    ----------
    cpuinfo : str or None
        Contents of ``/proc/cpuinfo``.
    cgroup : str or None
        Contents of ``/proc/self/cgroup``.
    files : mapping of str to bool, optional
        Whether marker files exist (``/.dockerenv``, ``/run/.containerenv``).
    os_name : str
        ``platform.system()``.
    dmi_vendor : str or None
        DMI ``sys_vendor`` + ``product_name``.
    namespaces : mapping, optional
        Namespace name → identifier.
    kvm_modules : iterable of str or None
        KVM modules under ``/sys/module``.
    dev_kvm : str or None
        ``"usable"``, ``"no permission"`` or ``"absent"`` (from opening ``/dev/kvm``).

    Examples
    --------
    >>> detect(os_name="Windows").in_container
    'unknown'
    >>> detect(cpuinfo="flags : svm\\n").hw_virtualization
    'AMD-V (svm)'
    >>> detect(cgroup="0::/\\n", files={"/.dockerenv": True}).in_container
    'yes'
    """
    for name, value in (("cpuinfo", cpuinfo), ("cgroup", cgroup), ("dmi_vendor", dmi_vendor)):
        if value is not None:
            check_type(name, value, str)
    check_type("os_name", os_name, str)
    if dev_kvm is not None and dev_kvm not in ("usable", "no permission", "absent"):
        raise ValueError(f"dev_kvm must be 'usable', 'no permission', 'absent' or None, "
                         f"got {dev_kvm!r}")
    files = dict(files or {})
    is_vm = hw = "unknown"
    if cpuinfo is not None:
        flags = parse_cpu_flags(cpuinfo)
        if flags:
            is_vm = "yes" if "hypervisor" in flags else "no"
            if "vmx" in flags:
                hw = "VT-x (vmx)"
            elif "svm" in flags:
                hw = "AMD-V (svm)"
            else:
                hw = "none visible"
    cg = parse_cgroup(cgroup) if cgroup is not None else "unknown"
    markers = [name for name, present in sorted(files.items()) if present]
    cg_hits = [m for m in _CONTAINER_MARKERS if m in cg.lower()]
    if markers:
        container, evidence = "yes", "marker file " + ", ".join(markers)
    elif cg_hits:
        container, evidence = "yes", f"cgroup path mentions {cg_hits[0]}"
    elif cgroup is not None and files:
        container = "no"
        evidence = "no marker file, cgroup path has no container run-time"
    else:
        container, evidence = "unknown", "not a Linux system or nothing readable"
    kvm_dev = {"usable": "usable", "absent": "absent", None: "unknown",
               "no permission": "no permission (sudo usermod -aG kvm $USER)"}[dev_kvm]
    provider = "unknown"
    if kvm_modules is not None:
        flags = parse_cpu_flags(cpuinfo) if cpuinfo is not None else frozenset()
        provider = kvm_provider(list(kvm_modules), flags)
    return HostFacts(os=os_name, is_vm=is_vm, hypervisor_vendor=dmi_vendor or "unknown",
                     hw_virtualization=hw, in_container=container,
                     container_evidence=evidence, cgroup=cg,
                     namespaces=dict(namespaces or {}), kvm_device=kvm_dev,
                     kvm_provider=provider)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _namespaces() -> dict[str, str]:
    found = {}
    for name in NAMESPACES:
        try:
            found[name] = os.readlink(f"/proc/self/ns/{name}")
        except OSError:
            continue
    return found


def kvm_modules() -> list[str] | None:
    """The loaded KVM modules (``/sys/module/kvm*``), None where /sys is unreadable.

    Examples
    --------
    >>> mods = kvm_modules()
    >>> mods is None or all(m.startswith("kvm") for m in mods)
    True
    """
    try:
        return sorted(m for m in os.listdir("/sys/module") if m.startswith("kvm"))
    except OSError:
        return None


def cpu_flags() -> frozenset[str] | None:
    """This CPU's flags from ``/proc/cpuinfo``, None where it is unreadable (not Linux).

    Examples
    --------
    >>> flags = cpu_flags()
    >>> flags is None or isinstance(flags, frozenset)
    True
    """
    text = _read("/proc/cpuinfo")
    return None if text is None else parse_cpu_flags(text)


def _dev_kvm() -> str:
    """Open /dev/kvm read-write, as a VMM would (nothing else is done with it)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        return "no permission"
    except OSError:
        return "absent"
    os.close(fd)
    return "usable"


def probe() -> HostFacts:
    """Gather the facts of the running system (never raises).

    Examples
    --------
    >>> isinstance(probe(), HostFacts)
    True
    """
    system = platform.system() or "unknown"
    if system != "Linux":
        return HostFacts(os=system)
    vendor_parts = [(_read(f"/sys/class/dmi/id/{f}") or "").strip()
                    for f in ("sys_vendor", "product_name")]
    vendor = " ".join(p for p in vendor_parts if p) or None
    return detect(cpuinfo=_read("/proc/cpuinfo"), cgroup=_read("/proc/self/cgroup"),
                  files={p: os.path.exists(p) for p in ("/.dockerenv", "/run/.containerenv")},
                  os_name=system, dmi_vendor=vendor, namespaces=_namespaces(),
                  kvm_modules=kvm_modules(), dev_kvm=_dev_kvm())

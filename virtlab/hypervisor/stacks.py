"""Hypervisor types as data: type 1, type 2 (hosted), paravirtual (Xen), KVM.

The lecture (*Typ-1-Hypervisor*, *Typ-2-Hypervisor*, *Paravirtualisierung*,
*Fallbeispiel KVM*) draws each approach as a stack of boxes: hardware at the
bottom, the hypervisor (*VMM*) or host operating system (*Hostbetriebssystem*,
*Gastgeberbetriebssystem*) above it, the guest operating systems
(*Gastbetriebssysteme*) and their applications (*Anwendungsprozesse*) on top.
Here every stack is a :class:`HypervisorStack` made of :class:`Component`
objects; :func:`virtlab.viz.hypervisor.stack_diagram` draws the boxes from
these objects (a networkx tree, see :meth:`HypervisorStack.graph`).

Each stack also carries the **I/O path** of one guest block-I/O request (read
4 KiB from a disk) as a list of :class:`IoStep` objects.  :func:`io_cost`
prices the path with a :class:`StackCosts` table, so the extra cost of the
hosted design is visible: in a type-2 stack the request crosses the host OS —
the VMM must switch *worlds* to the host, its user-level part (VMApp) calls the
host kernel, the data is copied once more (Sugerman, Venkitachalam & Lim,
USENIX ATC 2001, describe exactly this VMM / VMDriver / VMApp split).

Stacks (keys of :data:`STACK_KINDS`):

``native``
    No virtualization: the baseline for overheads.
``type1``
    *Typ-1-Hypervisor*: the VMM runs directly on the hardware as a small
    operating system (XenServer, VMware vSphere ESX, Microsoft Hyper-V); the
    lecture says it needs processor support on x86.
``type2``
    *Typ-2-Hypervisor* (hosted): the VMM is a process on a host OS, I/O goes
    through the host (VMware Workstation); classically with binary translation.
``paravirtual``
    *Paravirtualisierung* (Xen): a modified guest kernel in ring 1 calls the
    hypervisor (ring 0) through a hypercall API; a privileged domain (dom0)
    owns the real drivers (split drivers, facts.md §11).
``kvm``
    *Fallbeispiel KVM*: the Linux kernel with ``kvm.ko`` is the hypervisor;
    each VM is a normal QEMU process that handles I/O exits (facts.md §10).

Examples
--------
>>> t2 = get_stack("type2")
>>> t2.component("vmm").kind
'vmm_process'
>>> [c.label for c in t2.path_to_hardware("guest1")]
['Windows', 'Typ-2-Hypervisor', 'Host-BS', 'Hardware']
>>> io_cost(get_stack("type2")).total > io_cost(get_stack("type1")).total
True
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

import networkx as nx

from ..errors import check_choice, check_int, check_number, check_str, check_type
from ..i18n import _, language
from .costs import COSTS, CycleCosts

__all__ = [
    "COMPONENT_KINDS",
    "COST_CATEGORIES",
    "STACK_KINDS",
    "Component",
    "HypervisorStack",
    "IoCost",
    "IoStep",
    "StackCosts",
    "all_stacks",
    "check_stack",
    "compare_stacks",
    "get_stack",
    "io_cost",
    "vmi_stacks",
]

#: What a box in a stack diagram can be.
COMPONENT_KINDS = (
    "hardware",       # the real machine
    "hypervisor",     # a VMM running on the hardware (type 1, Xen, Linux+KVM)
    "host_os",        # a host operating system (type 2, dom0)
    "interface",      # a thin API layer (hypercall API, /dev/kvm, VMI)
    "vmm_process",    # a VMM that is (partly) a process on the host OS
    "host_app",       # an ordinary application on the host
    "guest_os",       # an unmodified guest operating system
    "pv_guest_os",    # a modified (paravirtualized) guest operating system
    "app",            # an application process inside a VM
)

#: Cost categories of an I/O step; every one has a field in StackCosts.
COST_CATEGORIES = (
    "syscall", "driver", "device", "interrupt", "copy_kib", "vm_exit",
    "user_exit", "world_switch", "host_syscall", "context_switch",
    "device_emulation", "hypercall", "event_channel", "irq_injection",
)

#: The stack kinds get_stack knows.
STACK_KINDS = ("native", "type1", "type2", "paravirtual", "kvm")


@dataclass(frozen=True)
class Component:
    """One box of a stack diagram (*Schicht*).

    Parameters
    ----------
    name : str
        Unique id within the stack (``"vmm"``, ``"guest1"``, ``"app1a"``).
    label : str
        Text in the box, in the lecture's words (``"Typ-1-Hypervisor"``).
    kind : str
        One of :data:`COMPONENT_KINDS`.
    runs_on : str or None
        Name of the component this one runs on; None only for the hardware.
    privilege : str
        Where its code runs, e.g. ``"ring 0"``, ``"ring 1"``, ``"ring 3"``,
        ``"VMX root (ring -1)"``, ``"VMX non-root, ring 0"``.
    note : str
        One sentence for the diagram's legend / the notebook (built-in stacks:
        in the current language).

    Examples
    --------
    >>> Component("hw", "Hardware", "hardware", None, "-").runs_on is None
    True
    >>> Component("x", "X", "toaster", None, "-")
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of 'hardware', ..., 'app'; got 'toaster'
    """

    name: str
    label: str
    kind: str
    runs_on: str | None
    privilege: str
    note: str = ""

    def __post_init__(self):
        check_str("name", self.name)
        check_str("label", self.label)
        check_choice("kind", self.kind, COMPONENT_KINDS)
        if self.runs_on is not None:
            check_str("runs_on", self.runs_on)
        check_str("privilege", self.privilege)
        check_str("note", self.note, nonempty=False)


@dataclass(frozen=True)
class IoStep:
    """One step of a guest I/O request on its way to the device and back.

    Parameters
    ----------
    actor : str
        Name of the component doing the work.
    action : str
        What happens, with the lecture's term where there is one (the built-in
        stacks say it in the current language of :mod:`virtlab.i18n`).
    category : str
        One of :data:`COST_CATEGORIES`; its price comes from :class:`StackCosts`.
    count : int
        How many times this happens for one request (for ``copy_kib`` the
        cost is additionally multiplied by the request size in KiB).

    Examples
    --------
    >>> IoStep("vmm", "world switch VMM -> host", "world_switch").count
    1
    """

    actor: str
    action: str
    category: str
    count: int = 1

    def __post_init__(self):
        check_str("actor", self.actor)
        check_str("action", self.action)
        check_choice("category", self.category, COST_CATEGORIES)
        check_int("count", self.count, minimum=1, maximum=1000)


def _cpu_price(name: str) -> int:
    return round(getattr(COSTS, name))


@dataclass(frozen=True)
class StackCosts:
    """Prices in CPU cycles for the steps of an I/O path.

    Defaults are **illustrative** unless a source is named (facts.md §9): they
    are chosen so that the *order* of the stacks is right, not to predict a
    real machine.  Override any field: ``StackCosts(world_switch=20_000)``.
    Where a step is the same event as in the CPU cost table
    (:data:`virtlab.hypervisor.costs.COSTS`) the default is the same number
    (``syscall``/``host_syscall`` = ``native_trap``, ``vm_exit``, ``hypercall``);
    :meth:`from_cost_table` derives a StackCosts from another CycleCosts.

    Attributes
    ----------
    syscall : COSTS.native_trap (200)
        Application → (guest) kernel system call and return.
    driver : 2000
        Work of one OS device driver for one request (illustrative).
    device : 20000
        The device itself (≈10 µs at 2 GHz, a fast SSD; illustrative).  Equal
        in every stack: virtualization does not make the disk faster.
    interrupt : 1000
        Taking one completion interrupt natively (illustrative).
    copy_kib : 300
        Copying 1 KiB between buffers (≈3.4 bytes/cycle; illustrative).
    vm_exit : COSTS.vm_exit (2000)
        One VM exit round trip; ≈2,000 cycles direct cost on a Xeon X5570 with
        KVM, EPT and VPID (SplitX, facts.md §9) [P].
    user_exit : 1200
        Extra cost when KVM returns from ``KVM_RUN`` to user space (QEMU) and
        back: LKML Dec 2020 measured ≈1,344–1,376 cycles for VMRUN↔exit and
        ≈2,528–2,576 for the full ioctl round trip (facts.md §9) [P]; the
        difference is ≈1,200.
    world_switch : 6000
        Type 2: switching between the VMM's world and the host OS's world
        (all CPU state, page tables, interrupt table); the mechanism is from
        Sugerman et al. 2001, the number is illustrative.
    host_syscall : COSTS.native_trap (200)
        The VMM's user-level part calling the host kernel (as ``syscall``).
    context_switch : 3000
        The host scheduler switching processes/threads (illustrative).
    device_emulation : 3000
        Software device model decoding a register access (illustrative).
    hypercall : COSTS.hypercall
        Paravirtual guest → hypervisor call and return (the CPU table's price).
    event_channel : 1000
        Xen event-channel notification incl. upcall (illustrative).
    irq_injection : 1500
        Injecting a virtual interrupt into a guest on VM entry (illustrative).

    Examples
    --------
    >>> StackCosts().vm_exit
    2000
    >>> StackCosts(world_switch=10_000).world_switch
    10000
    >>> StackCosts(vm_exit=-1)
    Traceback (most recent call last):
    ...
    ValueError: vm_exit must be an integer in [0, 100000000], got -1
    """

    syscall: int = field(default_factory=lambda: _cpu_price("native_trap"))
    driver: int = 2000
    device: int = 20000
    interrupt: int = 1000
    copy_kib: int = 300
    vm_exit: int = field(default_factory=lambda: _cpu_price("vm_exit"))
    user_exit: int = 1200
    world_switch: int = 6000
    host_syscall: int = field(default_factory=lambda: _cpu_price("native_trap"))
    context_switch: int = 3000
    device_emulation: int = 3000
    hypercall: int = field(default_factory=lambda: _cpu_price("hypercall"))
    event_channel: int = 1000
    irq_injection: int = 1500

    def __post_init__(self):
        for f in fields(self):
            check_int(f.name, getattr(self, f.name), minimum=0, maximum=100_000_000)

    @classmethod
    def from_cost_table(cls, table: Any, **overrides: int) -> StackCosts:
        """StackCosts that share the CPU cost table's prices for the same events.

        ``syscall`` and ``host_syscall`` = ``native_trap``, ``vm_exit`` =
        ``vm_exit``, ``hypercall`` = ``hypercall``; the type-2 and device prices
        keep their defaults unless overridden.

        Examples
        --------
        >>> from virtlab.hypervisor.costs import COSTS
        >>> StackCosts.from_cost_table(COSTS) == StackCosts()
        True
        >>> StackCosts.from_cost_table(COSTS.replace(vm_exit=1360)).vm_exit
        1360
        """
        check_type("table", table, CycleCosts)
        values = {"syscall": round(table.native_trap), "host_syscall": round(table.native_trap),
                  "vm_exit": round(table.vm_exit), "hypercall": round(table.hypercall)}
        values.update(overrides)
        return cls(**values)

    def price(self, category: str) -> int:
        """Cycles of one step of ``category``.

        Examples
        --------
        >>> StackCosts().price("vm_exit")
        2000
        """
        check_choice("category", category, COST_CATEGORIES)
        return getattr(self, category)


@dataclass(frozen=True)
class HypervisorStack:
    """A hypervisor type as data: its layers and the path of one I/O request.

    Parameters
    ----------
    kind : str
        Short key (``"type1"``, ``"my_stack"``, ...).
    title : str
        Title in the lecture's words (``"Typ-1-Hypervisor"``).
    examples : tuple of str
        Products of this type the lecture names.
    components : tuple of Component
        Exactly one ``hardware`` component; every other one ``runs_on`` an
        existing component (a tree).
    io_path : tuple of IoStep
        One guest read of a block, request and completion.
    full_virtualization : bool
        True if unmodified guests run (*Vollvirtualisierung*).
    needs_hw_support : bool
        True if the approach needs VT-x/AMD-V (per the lecture).
    summary : str
        Two sentences for the notebook.

    Raises
    ------
    ValueError
        If the components do not form a tree over one hardware box, names
        repeat, or an I/O step names an unknown actor.

    Examples
    --------
    >>> hw = Component("hw", "Hardware", "hardware", None, "-")
    >>> os_ = Component("os", "Linux", "host_os", "hw", "ring 0")
    >>> s = HypervisorStack("tiny", "Tiny", (), (hw, os_),
    ...                     (IoStep("os", "driver", "driver"),))
    >>> s.levels()
    {'hw': 0, 'os': 1}
    >>> HypervisorStack("bad", "Bad", (), (os_,), ())
    Traceback (most recent call last):
    ...
    ValueError: components must contain exactly one 'hardware' component, got 0
    """

    kind: str
    title: str
    examples: tuple[str, ...]
    components: tuple[Component, ...]
    io_path: tuple[IoStep, ...]
    full_virtualization: bool = True
    needs_hw_support: bool = False
    summary: str = ""
    _by_name: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        check_str("kind", self.kind)
        check_str("title", self.title)
        check_type("examples", self.examples, tuple)
        for e in self.examples:
            check_str("examples", e)
        check_type("components", self.components, tuple)
        check_type("io_path", self.io_path, tuple)
        for c in self.components:
            check_type("components", c, Component)
        for s in self.io_path:
            check_type("io_path", s, IoStep)
        check_type("full_virtualization", self.full_virtualization, bool)
        check_type("needs_hw_support", self.needs_hw_support, bool)
        check_str("summary", self.summary, nonempty=False)
        by_name: dict[str, Component] = {}
        for c in self.components:
            if c.name in by_name:
                raise ValueError(f"components: duplicate component name {c.name!r}")
            by_name[c.name] = c
        roots = [c for c in self.components if c.kind == "hardware"]
        if len(roots) != 1:
            raise ValueError("components must contain exactly one 'hardware' component, "
                             f"got {len(roots)}")
        for c in self.components:
            if c.kind == "hardware":
                if c.runs_on is not None:
                    raise ValueError(f"components: hardware {c.name!r} must not run on "
                                     "anything (runs_on=None)")
            elif c.runs_on not in by_name:
                raise ValueError(f"components: {c.name!r} runs on unknown component "
                                 f"{c.runs_on!r}")
        # A tree: following runs_on from any component must reach the hardware.
        for c in self.components:
            seen = set()
            cur = c
            while cur.runs_on is not None:
                if cur.name in seen:
                    raise ValueError(f"components: cycle through {cur.name!r}")
                seen.add(cur.name)
                cur = by_name[cur.runs_on]
        for s in self.io_path:
            if s.actor not in by_name:
                raise ValueError(f"io_path: step {s.action!r} names unknown actor "
                                 f"{s.actor!r}")
        object.__setattr__(self, "_by_name", MappingProxyType(by_name))

    # -- queries -----------------------------------------------------------
    def component(self, name: str) -> Component:
        """The component called ``name``.

        Examples
        --------
        >>> get_stack("kvm").component("qemu1").label
        'QEMU'
        """
        check_str("name", name)
        try:
            return self._by_name[name]
        except KeyError:
            raise ValueError(f"name must be a component of stack {self.kind!r} "
                             f"({', '.join(self._by_name)}); got {name!r}") from None

    def path_to_hardware(self, name: str) -> tuple[Component, ...]:
        """The components from ``name`` down to the hardware.

        Examples
        --------
        >>> [c.name for c in get_stack("type1").path_to_hardware("app1a")]
        ['app1a', 'guest1', 'vmm', 'hw']
        """
        cur = self.component(name)
        out = [cur]
        while cur.runs_on is not None:
            cur = self._by_name[cur.runs_on]
            out.append(cur)
        return tuple(out)

    def levels(self) -> dict[str, int]:
        """Height of every component above the hardware (hardware = 0).

        Examples
        --------
        >>> get_stack("native").levels()["app1"]
        2
        """
        return {c.name: len(self.path_to_hardware(c.name)) - 1 for c in self.components}

    def graph(self) -> nx.DiGraph:
        """The stack as a networkx tree: an edge ``upper -> lower`` per ``runs_on``.

        Node attributes are the component's fields plus ``level``.

        Examples
        --------
        >>> g = get_stack("paravirtual").graph()
        >>> g.nodes["dom0"]["label"]
        'dom0 (Host-BS)'
        >>> import networkx as nx
        >>> nx.is_tree(g.to_undirected())
        True
        """
        g = nx.DiGraph(kind=self.kind, title=self.title)
        levels = self.levels()
        for c in self.components:
            g.add_node(c.name, label=c.label, kind=c.kind, privilege=c.privilege,
                       note=c.note, level=levels[c.name])
        for c in self.components:
            if c.runs_on is not None:
                g.add_edge(c.name, c.runs_on)
        return g

    def actors(self) -> tuple[str, ...]:
        """Distinct components the I/O path visits, in order of first visit.

        Examples
        --------
        >>> get_stack("native").actors()
        ('app1', 'os', 'hw')
        """
        seen: dict[str, None] = {}
        for s in self.io_path:
            seen.setdefault(s.actor, None)
        return tuple(seen)


@dataclass(frozen=True)
class IoCost:
    """Price of one I/O request through a stack (result of :func:`io_cost`).

    Attributes
    ----------
    kind : str
        The stack's kind.
    size_kib : int
        Request size.
    steps : tuple of (IoStep, int)
        Each step with its cycles.
    total : int
        Sum of all steps, in cycles.
    by_category : mapping of str to int
        Cycles per cost category (only categories that occur).
    context_switches : int
        World switches + host context switches + user exits (crossings of a
        protection domain other than a plain system call or VM exit).
    copies : int
        How many times the data is copied.
    privilege_transitions : int
        System calls, VM exits, hypercalls, user exits and world switches.

    Examples
    --------
    >>> c = io_cost(get_stack("native"), size_kib=8)
    >>> c.by_category["copy_kib"] == 8 * StackCosts().copy_kib
    True
    """

    kind: str
    size_kib: int
    steps: tuple[tuple[IoStep, int], ...]
    total: int
    by_category: Any
    context_switches: int
    copies: int
    privilege_transitions: int


def io_cost(stack: HypervisorStack, costs: StackCosts | None = None,
            size_kib: int = 4) -> IoCost:
    """Price the I/O path of ``stack`` for one request of ``size_kib`` KiB.

    Parameters
    ----------
    stack : HypervisorStack
    costs : StackCosts, optional
        Default ``StackCosts()``.
    size_kib : int
        Request size in KiB, 1..1048576 (scales only the copies).

    Returns
    -------
    IoCost

    Examples
    --------
    >>> native = io_cost(get_stack("native")).total
    >>> t2 = io_cost(get_stack("type2"))
    >>> t2.total > native, t2.copies
    (True, 3)
    >>> io_cost(get_stack("native"), size_kib=0)
    Traceback (most recent call last):
    ...
    ValueError: size_kib must be an integer in [1, 1048576], got 0
    """
    check_type("stack", stack, HypervisorStack)
    costs = StackCosts() if costs is None else check_type("costs", costs, StackCosts)
    size_kib = check_int("size_kib", size_kib, minimum=1, maximum=1 << 20)
    rows = []
    by_cat: dict[str, int] = {}
    switches = copies = transitions = 0
    for step in stack.io_path:
        cycles = costs.price(step.category) * step.count
        if step.category == "copy_kib":
            cycles *= size_kib
            copies += step.count
        if step.category in ("world_switch", "context_switch", "user_exit"):
            switches += step.count
        if step.category in ("syscall", "host_syscall", "vm_exit", "hypercall",
                             "user_exit", "world_switch"):
            transitions += step.count
        rows.append((step, cycles))
        by_cat[step.category] = by_cat.get(step.category, 0) + cycles
    return IoCost(stack.kind, size_kib, tuple(rows), sum(c for _, c in rows),
                  MappingProxyType(by_cat), switches, copies, transitions)


def compare_stacks(costs: StackCosts | None = None, size_kib: int = 4,
               kinds: tuple[str, ...] = STACK_KINDS) -> dict[str, IoCost]:
    """:func:`io_cost` for several stack kinds (default: all of them).

    Examples
    --------
    >>> r = compare_stacks()
    >>> sorted(r, key=lambda k: r[k].total)[0], sorted(r, key=lambda k: r[k].total)[-1]
    ('native', 'type2')
    """
    check_type("kinds", kinds, (tuple, list))
    if not kinds:
        raise ValueError("kinds must name at least one stack kind")
    for k in kinds:
        check_choice("kinds", k, STACK_KINDS)
    costs = StackCosts() if costs is None else check_type("costs", costs, StackCosts)
    size_kib = check_int("size_kib", size_kib, minimum=1, maximum=1 << 20)
    return {k: io_cost(get_stack(k), costs, size_kib) for k in kinds}


def check_stack(stack: HypervisorStack) -> list[str]:
    """Conformance check for a stack; returns a list of problems (empty = OK).

    Beyond what the constructor enforces: the I/O path must start at an
    application, reach the hardware's device, and every guest OS must run
    (transitively) on a hypervisor, VMM process or interface.

    Examples
    --------
    >>> all(check_stack(s) == [] for s in all_stacks())
    True
    """
    check_type("stack", stack, HypervisorStack)
    problems = []
    if stack.io_path:
        first = stack.component(stack.io_path[0].actor)
        if first.kind != "app":
            problems.append(f"I/O path starts at {first.kind} {first.name!r}, not an app")
        if not any(s.category == "device" and stack.component(s.actor).kind == "hardware"
                   for s in stack.io_path):
            problems.append("I/O path never reaches the hardware device")
    for c in stack.components:
        if c.kind in ("guest_os", "pv_guest_os"):
            below = {x.kind for x in stack.path_to_hardware(c.name)[1:]}
            if not below & {"hypervisor", "vmm_process", "interface"}:
                problems.append(f"guest {c.name!r} does not run on a hypervisor")
    return problems


# -- the catalogue -----------------------------------------------------------
# The stacks' display text (notes, privileges, I/O steps, summaries) is built in the
# current language (virtlab.i18n): get_stack caches one stack per language and kind.
# Names, kinds, categories and the lecture's box labels are the same in every language.

def _apps(prefix: str, guest: str, privilege: str) -> tuple[Component, ...]:
    note = _("application process (Anwendungsprozess)")
    return (Component(f"app{prefix}a", "A1", "app", guest, privilege, note),
            Component(f"app{prefix}b", "A2", "app", guest, privilege, note))


def _hardware() -> Component:
    return Component("hw", "Hardware", "hardware", None, "-", _("the real machine"))


def _native() -> HypervisorStack:
    comps = (
        _hardware(),
        Component("os", "Betriebssystem", "host_os", "hw", _("ring 0"),
                  _("one operating system owns the machine")),
        Component("app1", "A1", "app", "os", _("ring 3"), _("application process")),
        Component("app2", "A2", "app", "os", _("ring 3"), _("application process")),
    )
    io = (
        IoStep("app1", _("read() system call"), "syscall"),
        IoStep("os", _("disk driver issues the request"), "driver"),
        IoStep("hw", _("disk reads the block (DMA)"), "device"),
        IoStep("os", _("completion interrupt"), "interrupt"),
        IoStep("os", _("copy kernel buffer -> user buffer"), "copy_kib"),
    )
    return HypervisorStack(
        "native", _("Ohne Virtualisierung (native)"), (), comps, io,
        full_virtualization=False, needs_hw_support=False,
        summary=_("One operating system on the real machine: the baseline every "
                  "overhead is measured against."))


def _type1() -> HypervisorStack:
    guest = _("unmodified guest OS (Gastbetriebssystem)")
    comps = (
        _hardware(),
        Component("vmm", "Typ-1-Hypervisor", "hypervisor", "hw", _("VMX root (ring -1)"),
                  _("VMM directly on the hardware, a small operating system with the "
                    "real device drivers")),
        Component("guest1", "Windows", "guest_os", "vmm", _("VMX non-root, ring 0"), guest),
        Component("guest2", "Linux", "guest_os", "vmm", _("VMX non-root, ring 0"), guest),
        *_apps("1", "guest1", _("VMX non-root, ring 3")),
        *_apps("2", "guest2", _("VMX non-root, ring 3")),
    )
    io = (
        IoStep("app1a", _("read() system call into the guest kernel (no exit)"), "syscall"),
        IoStep("guest1", _("guest disk driver programs the virtual controller"),
               "driver"),
        IoStep("guest1", _("each port/MMIO register access exits to the VMM"), "vm_exit", 4),
        IoStep("vmm", _("VMM's device model decodes the accesses"), "device_emulation"),
        IoStep("vmm", _("VMM's real driver issues the request"), "driver"),
        IoStep("hw", _("disk reads the block (DMA)"), "device"),
        IoStep("vmm", _("physical completion interrupt taken by the VMM"), "interrupt"),
        IoStep("vmm", _("copy VMM buffer -> guest memory"), "copy_kib"),
        IoStep("vmm", _("virtual interrupt injected on VM entry"), "irq_injection"),
        IoStep("guest1", _("guest interrupt handler acknowledges (EOI exits)"), "vm_exit"),
        IoStep("guest1", _("copy guest kernel buffer -> user buffer"), "copy_kib"),
    )
    return HypervisorStack(
        "type1", _("Typ-1-Hypervisor"), ("XenServer (Citrix)", "vSphere ESX (VMware)",
                                         "Hyper-V (Microsoft)"),
        comps, io, full_virtualization=True, needs_hw_support=True,
        summary=_("The VMM runs directly on the hardware as a small operating system "
                  "(Minibetriebssystem). The lecture: on x86 this needs processor "
                  "support (VT-x/AMD-V)."))


def _type2() -> HypervisorStack:
    guest = _("unmodified guest OS, its kernel code is translated")
    comps = (
        _hardware(),
        Component("host", "Host-BS", "host_os", "hw", _("ring 0"),
                  _("host OS (Gastgeberbetriebssystem) owns the devices")),
        Component("hostapp", "Host-Anwendung", "host_app", "host", _("ring 3"),
                  _("an ordinary program next to the VMM")),
        Component("vmm", "Typ-2-Hypervisor", "vmm_process", "host", _("ring 3 + driver"),
                  _("VMM as a process on the host OS (plus a small host driver); binary "
                    "translation of guest kernel code")),
        Component("guest1", "Windows", "guest_os", "vmm", _("ring 1 (translated)"), guest),
        Component("guest2", "Linux", "guest_os", "vmm", _("ring 1 (translated)"), guest),
        *_apps("1", "guest1", _("ring 3")),
        *_apps("2", "guest2", _("ring 3")),
    )
    io = (
        IoStep("app1a", _("read() system call into the guest kernel"), "syscall"),
        IoStep("guest1", _("guest disk driver programs the virtual controller"), "driver"),
        IoStep("guest1", _("each port access traps into the VMM (BT callout/trap)"),
               "vm_exit", 4),
        IoStep("vmm", _("VMM's device model decodes the accesses"), "device_emulation"),
        IoStep("vmm", _("world switch: VMM world -> host world"), "world_switch"),
        IoStep("vmm", _("host scheduler runs the VMM's user process (VMApp)"),
               "context_switch"),
        IoStep("vmm", _("copy guest memory -> VMApp buffer"), "copy_kib"),
        IoStep("vmm", _("VMApp calls read() on the host OS"), "host_syscall"),
        IoStep("host", _("host disk driver issues the request"), "driver"),
        IoStep("hw", _("disk reads the block (DMA)"), "device"),
        IoStep("host", _("completion interrupt taken by the host OS"), "interrupt"),
        IoStep("host", _("copy host kernel buffer -> VMApp buffer"), "copy_kib"),
        IoStep("host", _("host scheduler wakes the VMM process"), "context_switch"),
        IoStep("vmm", _("world switch: host world -> VMM world"), "world_switch"),
        IoStep("vmm", _("virtual interrupt raised in the guest"), "irq_injection"),
        IoStep("guest1", _("copy guest kernel buffer -> user buffer"), "copy_kib"),
    )
    return HypervisorStack(
        "type2", _("Typ-2-Hypervisor (hosted)"), ("VMware Workstation",),
        comps, io, full_virtualization=True, needs_hw_support=False,
        summary=_("The VMM is a process on a host OS; every device access goes through "
                  "the host (world switches, extra copies): more overhead than type 1, "
                  "used for test and development rather than production."))


def _paravirtual() -> HypervisorStack:
    guest = _("modified guest kernel (paravirtualisiertes Betriebssystem)")
    comps = (
        _hardware(),
        Component("xen", "Hypervisor (Xen)", "hypervisor", "hw", _("ring 0"),
                  _("reduced meta operating system (Minibetriebssystem); only it is "
                    "privileged")),
        Component("api", "Hypervisor-API (Hypercalls)", "interface", "xen", _("ring 0 entry"),
                  _("special hypervisor calls instead of sensitive instructions")),
        Component("dom0", "dom0 (Host-BS)", "host_os", "api", _("ring 1"),
                  _("privileged domain with the real drivers (split-driver backend)")),
        Component("guest1", "Windows (PV)", "pv_guest_os", "api", _("ring 1"), guest),
        Component("guest2", "Linux (PV)", "pv_guest_os", "api", _("ring 1"), guest),
        *_apps("1", "guest1", _("ring 3")),
        *_apps("2", "guest2", _("ring 3")),
    )
    io = (
        IoStep("app1a", _("read() system call: traps to Xen, checked, forwarded to the "
                          "guest kernel"), "syscall", 2),
        IoStep("guest1", _("frontend driver puts the request on the shared ring"), "driver"),
        IoStep("guest1", _("notify dom0: event-channel hypercall"), "hypercall"),
        IoStep("xen", _("event delivered to dom0 (upcall)"), "event_channel"),
        IoStep("dom0", _("backend validates, real driver issues the request"), "driver"),
        IoStep("hw", _("disk reads the block (DMA into the granted page)"), "device"),
        IoStep("dom0", _("completion interrupt taken by dom0"), "interrupt"),
        IoStep("dom0", _("response on the ring, event-channel hypercall"), "hypercall"),
        IoStep("xen", _("event delivered to the guest (upcall)"), "event_channel"),
        IoStep("guest1", _("copy guest kernel buffer -> user buffer"), "copy_kib"),
    )
    return HypervisorStack(
        "paravirtual", _("Paravirtualisierung (Xen)"), ("Xen",), comps, io,
        full_virtualization=False, needs_hw_support=False,
        summary=_("A modified guest kernel in ring 1 calls the hypervisor (ring 0) "
                  "through a hypercall API; the real drivers live in dom0, guests talk "
                  "to them through shared rings and event channels (split drivers)."))


def _kvm() -> HypervisorStack:
    comps = (
        _hardware(),
        Component("linux", "Linux-Kern + kvm.ko", "hypervisor", "hw", _("VMX root, ring 0"),
                  _("the Linux kernel with the KVM module is the hypervisor")),
        Component("devkvm", "/dev/kvm", "interface", "linux", "ioctl",
                  _("special device: create VMs, memory slots, vCPUs; KVM_RUN")),
        Component("qemu1", "QEMU", "vmm_process", "devkvm", _("VMX root, ring 3"),
                  _("one normal Linux process per VM, handles I/O exits")),
        Component("hostapp", "Anwendung", "host_app", "linux", _("VMX root, ring 3"),
                  _("a normal application next to the VMs")),
        Component("guest1", "Gast-BS", "guest_os", "qemu1", _("VMX non-root, ring 0"),
                  _("unmodified guest, its vCPUs are threads of the QEMU process")),
        *_apps("1", "guest1", _("VMX non-root, ring 3")),
    )
    io = (
        IoStep("app1a", _("read() system call into the guest kernel (no exit)"), "syscall"),
        IoStep("guest1", _("guest disk driver programs the virtual controller"), "driver"),
        IoStep("guest1", _("each port/MMIO access: VM exit into kvm.ko"), "vm_exit", 4),
        IoStep("linux", _("KVM_RUN returns to QEMU (KVM_EXIT_IO / KVM_EXIT_MMIO)"),
               "user_exit", 4),
        IoStep("qemu1", _("QEMU's device model decodes the accesses"), "device_emulation"),
        IoStep("qemu1", _("QEMU calls pread() on the host"), "host_syscall"),
        IoStep("linux", _("host disk driver issues the request"), "driver"),
        IoStep("hw", _("disk reads the block (DMA)"), "device"),
        IoStep("linux", _("completion interrupt taken by the host"), "interrupt"),
        IoStep("linux", _("copy host buffer -> guest memory (QEMU's mapping)"), "copy_kib"),
        IoStep("linux", _("scheduler wakes the QEMU I/O thread"), "context_switch"),
        IoStep("qemu1", _("QEMU raises the guest IRQ (ioctl), injected on entry"),
               "irq_injection"),
        IoStep("guest1", _("guest interrupt handler acknowledges (EOI exits)"), "vm_exit"),
        IoStep("guest1", _("copy guest kernel buffer -> user buffer"), "copy_kib"),
    )
    return HypervisorStack(
        "kvm", _("KVM (Kernel Virtual Machine)"), ("KVM + QEMU",), comps, io,
        full_virtualization=True, needs_hw_support=True,
        summary=_("KVM is a module of the Linux kernel, so Linux is the hypervisor; each "
                  "VM is a QEMU process that talks to /dev/kvm and handles I/O exits in "
                  "user space."))


_BUILDERS = {"native": _native, "type1": _type1, "type2": _type2,
             "paravirtual": _paravirtual, "kvm": _kvm}
_CACHE: dict[tuple[str, str], HypervisorStack] = {}


def get_stack(kind: str) -> HypervisorStack:
    """The built-in stack of ``kind`` (one of :data:`STACK_KINDS`).

    Stacks are immutable, so the same object is returned each time (one per
    language: notes, privileges, I/O steps and summary are in the current
    language of :mod:`virtlab.i18n`; names, kinds and categories never change).

    Examples
    --------
    >>> get_stack("type1").examples
    ('XenServer (Citrix)', 'vSphere ESX (VMware)', 'Hyper-V (Microsoft)')
    >>> get_stack("type3")
    Traceback (most recent call last):
    ...
    ValueError: kind must be one of 'native', 'type1', 'type2', 'paravirtual', 'kvm'; got 'type3'
    """
    check_choice("kind", kind, STACK_KINDS)
    key = (language(), kind)
    if key not in _CACHE:
        _CACHE[key] = _BUILDERS[kind]()
    return _CACHE[key]


def all_stacks() -> tuple[HypervisorStack, ...]:
    """All built-in stacks, in the order of :data:`STACK_KINDS`.

    Examples
    --------
    >>> [s.kind for s in all_stacks()]
    ['native', 'type1', 'type2', 'paravirtual', 'kvm']
    """
    return tuple(get_stack(k) for k in STACK_KINDS)


def vmi_stacks() -> tuple[HypervisorStack, ...]:
    """The lecture's VMI picture (*Weiterführung der Idee*, after Tanenbaum).

    One guest kernel ("VMI Linux") is written against one Virtual Machine
    Interface; a small library below it binds the interface to the real
    hardware (sensitive instructions go straight to the hardware), to VMware,
    or to Xen (hypervisor calls, no sensitive instructions any more).  Same
    guest, three back ends.  The texts are in the current language.

    Examples
    --------
    >>> [s.kind for s in vmi_stacks()]
    ['vmi_native', 'vmi_vmware', 'vmi_xen']
    >>> {s.component("guest").label for s in vmi_stacks()}
    {'VMI Linux'}
    """
    key = language()
    if key not in _VMI_CACHE:
        _VMI_CACHE[key] = _vmi_stacks()
    return _VMI_CACHE[key]


_VMI_CACHE: dict[str, tuple[HypervisorStack, ...]] = {}


def _vmi_stacks() -> tuple[HypervisorStack, ...]:
    direct = _("sensitive instructions go directly to the hardware")
    calls = _("hypervisor calls instead of sensitive instructions")
    out = []
    for kind, lib, hyp, note, summary in (
            ("vmi_native", "HW-Interface-Library", None, direct,
             _("VMI Linux on bare hardware: sensitive instructions go directly to the "
               "hardware.")),
            ("vmi_vmware", "VMware-Library", "VMware", calls,
             _("VMI Linux on VMware: hypervisor calls instead of sensitive instructions.")),
            ("vmi_xen", "Xen-Library", "Xen", calls,
             _("VMI Linux on Xen: hypervisor calls instead of sensitive instructions."))):
        comps = [_hardware()]
        below = "hw"
        if hyp is not None:
            comps.append(Component("hyp", hyp, "hypervisor", "hw", _("ring 0"),
                                   _("{name} hypervisor").format(name=hyp)))
            below = "hyp"
        comps.append(Component("lib", lib, "interface", below, _("ring 0/1"), note))
        comps.append(Component("guest", "VMI Linux", "pv_guest_os" if hyp else "guest_os",
                               "lib", _("ring 1") if hyp else _("ring 0"),
                               _("one kernel binary for every back end")))
        comps.extend(_apps("", "guest", _("ring 3")))
        out.append(HypervisorStack(
            kind, f"VMI: {lib}", (), tuple(comps), (), full_virtualization=False,
            summary=summary))
    return tuple(out)


def _replace_costs(costs: StackCosts, **changes: Any) -> StackCosts:
    """``dataclasses.replace`` with validation (used by widgets)."""
    for k, v in changes.items():
        check_choice("cost field", k, [f.name for f in fields(StackCosts)])
        check_number(k, v, minimum=0)
    return replace(costs, **{k: int(v) for k, v in changes.items()})

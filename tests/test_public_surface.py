"""The whole public surface refuses hostile input cleanly (issue 22).

Every module of the package is discovered with :mod:`pkgutil`, and every
callable its ``__all__`` exports (models, viz figures, widget apps and
factories, grading's pure modules) is called with hostile arguments: first a
deterministic sweep that gives each parameter in turn ``None``, negative,
``2**70`` and ``10**9`` integers, NaN and infinities, empty and 100 000-
character strings, wrong containers and an arbitrary object while the other
parameters stay plausible (defaults, real model objects built by the library),
so that validation of the *later* parameters is reached too; then hypothesis
mixes of several hostile values.  The contract (design.md, "Errors"):

- only ``ValueError`` / ``TypeError`` may escape (``KvmError`` and friends are
  ``ValueError`` subclasses and count);
- every call stays within :data:`BUDGET_S` CPU seconds and
  :data:`MEMORY_BUDGET` bytes of new address space (one bad size must not
  allocate gigabytes or loop for minutes);
- a call that raises leaves every model object passed to it unchanged.

A new module or a new name in an ``__all__`` is covered without touching this
file.  Exclusions carry their reason; there are no known gaps (no xfails).
``test_the_probe_catches_*`` show with synthetic
exports that the probe fails for a function without validation, one that
changes a model before it refuses, a slow call and a huge allocation.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import re
import resource
import signal
import time
import types
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import virtlab

# -- what is enumerated ---------------------------------------------------------------

#: Modules left out of the enumeration, with the reason.  (A module whose
#: name has a part starting with "_" is private and never enumerated.)
_FILES_AND_KERNELS = ("drives Jupyter kernels or reads and writes files (notebooks, grades.csv, "
                      "result JSON), which a probe must not do with hostile paths; its hostile "
                      "input is tested in tests/test_grading_hostile.py")
EXCLUDED_MODULES = {
    "virtlab.cli": "the command line, not a library call: argparse answers bad arguments "
                   "with a usage message and exit status 2 (tests/test_cli.py)",
    "virtlab.grading.assign": _FILES_AND_KERNELS,
    "virtlab.grading.batch": _FILES_AND_KERNELS,
    "virtlab.grading.checks": _FILES_AND_KERNELS,
    "virtlab.coursecli": "the course subcommands of the command line (argparse namespaces, "
                         "see virtlab.cli)",
    "virtlab.coursefiles": "copies the course into a folder and reads the checkout: a probe "
                           "with dest='' would write the course into the working directory; "
                           "tests/test_coursefiles.py covers its refusals",
    "virtlab.grading.cli": "the grading subcommands of the command line (see virtlab.cli)",
    "virtlab.labserver": "a plug-in class the Jupyter server instantiates (its constructor is "
                         "jupyter_server's, a traitlets configurable); tests/test_labserver.py",
    "virtlab.grading.report": _FILES_AND_KERNELS,
    "virtlab.grading.runner": _FILES_AND_KERNELS,
}

#: Exported callables not called here, with the reason.
EXCLUDED_CALLABLES = {
    "virtlab.widgets.base.WidgetApp": "an abstract base (compute/draw/describe unimplemented); "
                                      "tests/test_core_hostile.py drives it",
    "virtlab.hypervisor.microbench.wallclock": "a wall-clock benchmark: valid arguments run the "
                                               "engines for up to minutes by design (10^8 "
                                               "iterations); test_wallclock_refuses_bad_modes "
                                               "checks its refusals",
    "virtlab.host.compare.four_ways": "runs the four engines for seconds by design, and unicorn's "
                                      "JIT reserves a translation buffer beyond the probe's "
                                      "address-space budget (the process aborts); its "
                                      "iterations are validated (tests/test_host_compare.py)",
    "virtlab.host.compare.four_ways_or_reference": "four_ways or the stored reference (see "
                                                   "four_ways)",
}

#: Per-call budget in CPU seconds (CPU, not wall-clock, time: up to eight
#: engineers share the 2-core machine, and a loaded machine must not fail the
#: test).  The slowest legitimate call (a widget app with default controls,
#: ~0.3 s) takes well under a quarter of it.
BUDGET_S = 2.0
#: A call may grow the address space by this much; beyond it an allocation
#: fails with MemoryError, which the probe reports (one bad size argument
#: must not allocate gigabytes).
MEMORY_BUDGET = 512 * 2**20
#: A call still running after this many CPU seconds is interrupted
#: (SIGVTALRM) and fails.
HARD_LIMIT_S = 10.0

REFUSALS = (ValueError, TypeError)


def public_modules() -> list[types.ModuleType]:
    """Every public virtlab module (packages included) outside :data:`EXCLUDED_MODULES`."""
    mods = [virtlab]
    for info in pkgutil.walk_packages(virtlab.__path__, "virtlab."):
        if any(info.name == ex or info.name.startswith(ex + ".") for ex in EXCLUDED_MODULES):
            continue
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        mods.append(importlib.import_module(info.name))
    return mods


def public_callables(module: types.ModuleType) -> dict[str, Callable]:
    """``{qualified name: callable}`` for the callables in ``module.__all__``.

    Exception classes are types to catch, not calls, and are skipped.
    """
    out = {}
    for name in getattr(module, "__all__", ()):
        obj = getattr(module, name)
        if not callable(obj):
            continue
        if isinstance(obj, type) and issubclass(obj, BaseException):
            continue
        out[f"{module.__name__}.{name}"] = obj
    return out


def surface() -> dict[str, Callable]:
    """Every exported callable once, under its home module's name if exported there.

    ``virtlab.mmu.PageTable`` is ``virtlab.mmu.page_table.PageTable``; a
    name only a package re-exports is probed under the package's name.
    """
    by_id: dict[int, tuple[str, Callable]] = {}
    for module in public_modules():
        for qualified, obj in public_callables(module).items():
            home = getattr(obj, "__module__", None) == module.__name__
            if id(obj) not in by_id or home:
                by_id[id(obj)] = (qualified, obj)
    return dict(sorted(by_id.values()))


SURFACE = surface()

# -- hostile and plausible values --------------------------------------------------------


class HugeText(str):
    """A 100 000-character string whose repr stays short in failure reports."""

    def __repr__(self) -> str:
        return f"<str of {len(self)} chars>"


HUGE = HugeText("x" * 100_000)


class Opaque:
    """An arbitrary object: no attributes a model might expect."""

    def __repr__(self) -> str:
        return "Opaque()"


HOSTILE_VALUES = (
    None, True, 0, -1, -2**70, 2**70, 10**100, 0.5, -0.0, math.nan, math.inf, -math.inf, 1j,
    "", " ", HUGE, "nan", "\x00", b"\xff", [], [None], {}, {"": None}, (), (math.nan,),
    # a range of 10**6, not 2**62: `"x" in range(...)` is a loop in C that no
    # signal interrupts, so a huge one would hang the probe instead of failing it
    set(), frozenset({-1}), range(10**6), Opaque(), object, print,
)
HOSTILE = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=3), st.none(), max_size=2),
)


def _program():
    from virtlab.asm import assemble
    return assemble("MOV EAX, 3\nloop: DEC EAX\nJNZ loop\nPUSHF\nPOPF\nOUT 1016, EAX\nHLT")


def _cpu():
    from virtlab.cpu import CPU
    return CPU(_program(), isa="X86_32")


def _instruction():
    return _program()[0]


def _sched_trace():
    from virtlab.scheduler import VM, CreditScheduler, simulate
    return simulate(CreditScheduler(), [VM("a"), VM("b", vcpus=2)], pcpus=2, duration_ms=20)


def _interrupt_trace():
    from virtlab.devices import packet_burst
    from virtlab.interrupts import Platform, simulate_interrupts
    return simulate_interrupts(Platform(), packet_burst("domU1", 3, gap_us=50))


def _physical_memory():
    from virtlab.mmu import PhysicalMemory
    return PhysicalMemory(frames=64)


def _page_table():
    from virtlab.mmu import PageTable
    return PageTable(_physical_memory())


def _guest_vm():
    from virtlab.mmu import GuestVM
    return GuestVM(_physical_memory(), guest_frames=16)


def _machine():
    from virtlab.hypervisor import machine
    return machine(_program(), "trap_and_emulate")


def _host_process():
    from virtlab.hypervisor.kvm import HostProcess
    return HostProcess()


def _vm_fd():
    from virtlab.hypervisor.kvm import HostProcess
    from virtlab.hypervisor.kvm import KVM_CREATE_VM
    return HostProcess().open("/dev/kvm").ioctl(KVM_CREATE_VM, 0)


def _figure():
    from virtlab.viz import new_figure
    return new_figure()


def _axes():
    return _figure().add_subplot()


def _placement():
    from virtlab.consolidation import consolidate, make_servers
    return consolidate(make_servers(6, seed=1), policy="ffd")


def _servers():
    from virtlab.consolidation import make_servers
    return make_servers(6, seed=1)


def _migration():
    from virtlab.migration import precopy
    return precopy(memory_mb=256, dirty_rate_mbit=100, wws_mb=32, bandwidth_mbit=1000)


def _stack():
    from virtlab.hypervisor.stacks import get_stack
    return get_stack("type2")


def _assignment():
    from virtlab.partitioning import Machine, Partition, assign
    return assign(Machine(cpus=8, memory_gb=64, channels=16),
                  [Partition("prod", 32, 8, dedicated_cpus=4), Partition("test", 16, 2, weight=2)])


def _platform():
    from virtlab.interrupts import Platform
    return Platform()


def _simulator():
    from virtlab.sim import Simulator
    return Simulator()


def _scheduler():
    from virtlab.scheduler import CreditScheduler
    return CreditScheduler()


def _vms():
    from virtlab.scheduler import VM
    return [VM("a"), VM("b")]


def _isa():
    from virtlab.isa import X86_32
    return X86_32


def _priv():
    from virtlab.cpu import PrivState
    return PrivState()


#: Plausible values by the type named in a parameter's annotation (or, when it
#: has none, by the parameter's name).  Each entry builds a *fresh* object, so
#: a call that mutates it cannot leak into the next example.
PLAUSIBLE: dict[str, Callable[[], object]] = {
    "Program": _program, "CPU": _cpu, "Instruction": _instruction, "ISA": _isa,
    "PrivState": _priv, "Trace": _sched_trace, "InterruptTrace": _interrupt_trace,
    "PhysicalMemory": _physical_memory, "memory": _physical_memory,
    "PageTable": _page_table, "GuestVM": _guest_vm, "Machine": _machine,
    "HostProcess": _host_process, "VmFd": _vm_fd, "Figure": _figure, "fig": _figure,
    "ax": _axes, "Placement": _placement, "Server": _servers, "servers": _servers,
    "MigrationResult": _migration, "HypervisorStack": _stack, "stack": _stack,
    "Assignment": _assignment, "Platform": _platform, "Simulator": _simulator,
    "Scheduler": _scheduler, "scheduler": _scheduler, "vms": _vms, "trace": _sched_trace,
    "int": lambda: 2, "float": lambda: 1.5, "bool": lambda: False, "str": lambda: "dom0",
}


def plausible_for(param: inspect.Parameter) -> Callable[[], object] | None:
    """A factory of a plausible value for ``param``, or None if none is known.

    The annotation is a string (``from __future__ import annotations``); its
    first known identifier wins, so ``"ISA | str"`` gives an ISA.
    """
    ann = param.annotation
    if ann is not inspect.Parameter.empty:
        text = ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))
        text = str(text)
        for word in re.findall(r"[A-Za-z_]\w*", text):
            if word in PLAUSIBLE:
                return PLAUSIBLE[word]
    return PLAUSIBLE.get(param.name)


# -- the probe -------------------------------------------------------------------------


def _address_space() -> int:
    """This process's current virtual memory size in bytes (Linux)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmSize in /proc/self/status")


class TooSlow(BaseException):
    """Raised by the SIGVTALRM handler: a call overran :data:`HARD_LIMIT_S`."""


def _alarm(signum, frame):
    raise TooSlow


def is_model(obj) -> bool:
    """Objects whose state is compared before and after a refused call."""
    return (type(obj).__module__.startswith("virtlab")
            and not isinstance(obj, (type, types.FunctionType)))


def state(obj, depth: int = 6, _seen=None):
    """A comparable snapshot of ``obj``'s reachable data (attributes, containers).

    Functions, modules, classes and foreign objects count by identity;
    reference cycles are cut.  Two snapshots are equal if no attribute,
    element or key reachable within ``depth`` levels changed.

    Examples
    --------
    >>> from virtlab.sim import Simulator
    >>> sim = Simulator()
    >>> s = state(sim); _ = sim.schedule(5, print); s == state(sim)
    False
    """
    if _seen is None:
        _seen = set()
    if isinstance(obj, (int, float, complex, str, bytes, bool, type(None))):
        return obj if not (isinstance(obj, float) and math.isnan(obj)) else "nan"
    if id(obj) in _seen or depth == 0:
        return ("ref", id(obj))
    _seen = _seen | {id(obj)}
    nxt = depth - 1
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, tuple(state(x, nxt, _seen) for x in obj))
    if isinstance(obj, (bytearray, memoryview)):
        return bytes(obj)
    if isinstance(obj, (set, frozenset)):
        return ("set", tuple(sorted(repr(state(x, nxt, _seen)) for x in obj)))
    if isinstance(obj, dict) or type(obj).__name__ == "mappingproxy":
        return ("dict", tuple((repr(state(k, nxt, _seen)), state(v, nxt, _seen))
                              for k, v in obj.items()))
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                        types.ModuleType, type)) or not type(obj).__module__.startswith(
                            ("virtlab", "random", "collections", "array")):
        return ("id", id(obj))
    fields = dict(getattr(obj, "__dict__", {}))
    for slot in getattr(type(obj), "__slots__", ()):
        if hasattr(obj, slot):
            fields[slot] = getattr(obj, slot)
    if hasattr(obj, "getstate") and callable(obj.getstate):  # random.Random
        try:
            fields["__rng__"] = obj.getstate()
        except TypeError:
            pass
    if type(obj).__module__ == "array":
        return ("array", obj.tobytes())
    return (type(obj).__qualname__, tuple(sorted((k, state(v, nxt, _seen))
                                                 for k, v in fields.items())))


def call_once(name: str, fn: Callable, args: list, kwargs: dict,
              budget_s: float = BUDGET_S) -> None:
    """Call ``fn`` and check the contract; raise AssertionError on a breach."""
    models = [a for a in (*args, *kwargs.values()) if is_model(a)]
    before = [state(m) for m in models]
    shown = ", ".join([*(_short(a) for a in args),
                       *(f"{k}={_short(v)}" for k, v in kwargs.items())])
    limit = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + MEMORY_BUDGET, limit[1]))
    old = signal.signal(signal.SIGVTALRM, _alarm)
    signal.setitimer(signal.ITIMER_VIRTUAL, HARD_LIMIT_S)
    start = time.process_time()
    try:
        fn(*args, **kwargs)
    except REFUSALS:
        changed = [type(m).__name__ for m, s in zip(models, before) if state(m) != s]
        assert not changed, (f"{name}({shown}) refused but changed the "
                             f"{', '.join(changed)} passed to it")
    except TooSlow:
        raise AssertionError(f"{name}({shown}) still ran after {HARD_LIMIT_S} CPU s") from None
    except Exception as exc:  # the breach this test exists for
        raise AssertionError(f"{type(exc).__name__} escaped from {name}({shown}): "
                             f"{exc}") from exc
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, old)
        resource.setrlimit(resource.RLIMIT_AS, limit)
    took = time.process_time() - start
    assert took <= budget_s, f"{name}({shown}) took {took:.2f} CPU s > {budget_s} s"


def _short(value) -> str:
    text = repr(value) if not isinstance(value, str) or len(value) < 40 else (
        f"<str of {len(value)} chars>")
    return text if len(text) < 60 else text[:57] + "..."


def arguments(fn: Callable):
    """A hypothesis strategy of ``(args, kwargs)`` for ``fn``: at least one hostile.

    Each parameter gets either a plausible value (its default, or a fresh
    object for its annotated type) or a hostile one; a function taking
    ``**kwargs`` may also get an unknown keyword.
    """
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        params = []
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params)

    @st.composite
    def build(draw):
        hostile = set()
        if named:
            hostile = set(draw(st.sets(st.sampled_from([p.name for p in named]), min_size=1)))
        args, kwargs = [], {}
        for p in named:
            if p.name in hostile:
                value = draw(HOSTILE)
            elif p.default is not p.empty:
                continue
            else:
                factory = plausible_for(p)
                value = factory() if factory else draw(HOSTILE)
            if p.kind is p.POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[p.name] = value
        if takes_kwargs and (not named or draw(st.booleans())):
            kwargs["no_such_option"] = draw(HOSTILE)
        return args, kwargs

    return build()


#: The sweep gives every parameter each of these, the others plausible.
SWEEP_VALUES = (None, -1, -2**70, 2**70, 10**9, math.nan, -math.inf, "", HUGE, [],
                {}, Opaque())


def sweep(name: str, fn: Callable) -> None:
    """Every parameter in turn gets each of :data:`SWEEP_VALUES`, the others plausible."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    for target in named:
        for bad in SWEEP_VALUES:
            args, kwargs = [], {}
            for p in named:
                if p is target:
                    value = bad
                elif p.default is not p.empty:
                    continue
                else:
                    factory = plausible_for(p)
                    value = factory() if factory else 1
                if p.kind is p.POSITIONAL_ONLY:
                    args.append(value)
                else:
                    kwargs[p.name] = value
            call_once(name, fn, args, kwargs)


def probe(name: str, fn: Callable, max_examples: int) -> None:
    """The sweep, then ``max_examples`` random hostile calls (fails on the first breach)."""
    sweep(name, fn)

    # No shrinking: the failure message already names the call, and shrinking a
    # slow or memory-hungry failure would cost minutes.
    @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate],
              report_multiple_bugs=False)
    @given(arguments(fn))
    def run(call):
        args, kwargs = call
        call_once(name, fn, args, kwargs)

    run()


# -- the tests ---------------------------------------------------------------------------

EXAMPLES = int(__import__("os").environ.get("VIRTLAB_SURFACE_EXAMPLES", "5"))


@pytest.mark.parametrize("key", sorted(PLAUSIBLE))
def test_plausible_values_build(key):
    """Every plausible value is built by the library itself (else the sweep tests nothing)."""
    assert PLAUSIBLE[key]() is not None


def test_the_surface_is_discovered():
    """pkgutil finds the models, viz and widget factories alike."""
    for expected in ("virtlab.scheduler.system.simulate", "virtlab.viz.base.new_figure",
                     "virtlab.widgets.scheduling.scheduler_lab", "virtlab.mmu.tlb.TLB"):
        assert expected in SURFACE
    assert len(SURFACE) > 300
    assert "virtlab.grading.session.start" in SURFACE      # a student's own call
    assert not any(n.startswith(tuple(m + "." for m in EXCLUDED_MODULES)) for n in SURFACE)
    # no private module (the gettext marker ``virtlab.i18n._`` is a public name)
    assert not any("._" in n.rpartition(".")[0] for n in SURFACE)


#: Modules without ``__all__`` (so nothing of theirs is public), with the reason.
NO_ALL = {
    "virtlab.grading.exercises": "a package of exercise modules with no names of its own "
                                 "(grading/ is issue 14's to give it an empty __all__)",
}


def test_every_module_declares_what_is_public():
    """Without ``__all__`` a module's names would escape the probe unnoticed."""
    missing = [m.__name__ for m in public_modules()
               if not hasattr(m, "__all__") and m.__name__ not in NO_ALL]
    assert not missing, f"modules without __all__: {missing}"


def test_exclusions_name_real_callables():
    for name in EXCLUDED_CALLABLES:
        assert name in SURFACE, f"{name} is excluded but not exported (remove the entry)"


@pytest.mark.parametrize("name", [n for n in SURFACE if n not in EXCLUDED_CALLABLES])
def test_public_callable_refuses_hostile_input(name):
    probe(name, SURFACE[name], EXAMPLES)


def test_wallclock_refuses_bad_modes():
    from virtlab.hypervisor.microbench import wallclock
    for modes, error in (((), ValueError), ("native", TypeError), ([None], TypeError),
                         (("warp",), ValueError)):
        with pytest.raises(error, match="mode"):
            wallclock(iterations=10, repeats=1, modes=modes)


# -- the probe itself can fail -------------------------------------------------------------


def _synthetic_module():
    """A module exporting one unvalidated function, as a careless new export would."""
    mod = types.ModuleType("virtlab_synthetic")

    def average(values, weight: float = 1.0):
        return weight * sum(values) / len(values)

    average.__module__ = mod.__name__
    mod.average = average
    mod.__all__ = ["average"]
    return mod


def test_the_probe_catches_an_unvalidated_export():
    mod = _synthetic_module()
    found = public_callables(mod)
    assert list(found) == ["virtlab_synthetic.average"]
    with pytest.raises(AssertionError, match="escaped from virtlab_synthetic.average"):
        probe("virtlab_synthetic.average", found["virtlab_synthetic.average"], EXAMPLES)


def test_the_probe_passes_the_same_export_once_validated():
    from virtlab.errors import check_number, check_type

    def average(values: list = (1.0,), weight: float = 1.0):
        check_type("values", values, (list, tuple))
        if not values:
            raise ValueError("values must not be empty")
        for v in values:
            check_number("values[i]", v)
        return check_number("weight", weight) * sum(values) / len(values)

    probe("average", average, EXAMPLES)


def test_the_probe_catches_a_change_before_a_refusal():
    from virtlab.sim import Simulator

    def advance(sim: Simulator, until: int = 5):
        if not isinstance(sim, Simulator):
            raise TypeError("sim must be a Simulator")
        sim._heap.append((0, 0, 0, "half-done"))  # state touched before validation
        if not isinstance(until, int) or isinstance(until, bool) or until < 0:
            raise ValueError("until must be an integer >= 0")

    with pytest.raises(AssertionError, match="refused but changed the Simulator"):
        probe("advance", advance, EXAMPLES)


def test_the_probe_catches_a_slow_call():
    with pytest.raises(AssertionError, match="took"):
        call_once("busy", lambda n: sum(range(n)), [3_000_000], {}, budget_s=0.01)


def test_the_probe_catches_a_huge_allocation():
    with pytest.raises(AssertionError, match="MemoryError escaped from hungry"):
        call_once("hungry", lambda words: bytearray(words), [2 * MEMORY_BUDGET], {})

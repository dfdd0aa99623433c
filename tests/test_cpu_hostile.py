"""Hostile input to the CPU/ISA/hypervisor entry points: ValueError/TypeError naming
the parameter, never KeyError/IndexError/ZeroDivisionError, and no half-done state."""

import math

import pytest
from hypothesis import given, strategies as st

from virtlab.asm import assemble
from virtlab.hypervisor import first_divergence, machine, run, run_all
from virtlab.hypervisor.binary_translation import translate
from virtlab.hypervisor.costs import COSTS, cycles
from virtlab.hypervisor.microbench import microbenchmark, overheads, workload
from virtlab.hypervisor.paravirt import paravirtualize
from virtlab.hypervisor.vtx import HardwareMachine
from virtlab.popek_goldberg import classify, explain, vmm_properties

PROG = assemble("MOV EAX, 1\nOUT 0x60, EAX\nHLT")
HOSTILE = [None, -1, 2**70, math.nan, math.inf, "", "x", [], {}, 1.5, True, b"a"]


@pytest.mark.parametrize("bad", HOSTILE)
def test_run_max_steps(bad):
    m = machine(PROG, "binary_translation")
    before = m.state()
    with pytest.raises((TypeError, ValueError), match="max_steps"):
        m.run(bad)
    assert m.state() == before


@pytest.mark.parametrize("bad", HOSTILE + ["NATIVE ", "vmware"])
def test_mode_names(bad):
    with pytest.raises((TypeError, ValueError), match="mode"):
        run(PROG, bad)


@pytest.mark.parametrize("kw,name", [
    ({"isa": "Z80"}, "isa"), ({"isa": 3}, "isa"), ({"memory_words": 0}, "memory_words"),
    ({"memory_words": "big"}, "memory_words"), ({"costs": {"vm_exit": 1}}, "costs"),
    ({"ports": {70000: 1}}, "ports"), ({"ports": {1: -1}}, "ports"), ({"ports": [1]}, "ports"),
])
def test_machine_options(kw, name):
    for mode in ("native", "hardware"):
        with pytest.raises((TypeError, ValueError), match=name):
            run(PROG, mode, **kw)


@pytest.mark.parametrize("kw,name", [
    ({"hardware": "pentium"}, "hardware"), ({"controls": {"warp": True}}, "controls"),
    ({"controls": {"hlt_exiting": 1}}, "controls"), ({"controls": []}, "controls"),
    ({"stop_on": "HLT"}, "stop_on"), ({"stop_on": {"CPUID"}}, "stop_on"),
    ({"io_handler": 5}, "io_handler"), ({"ept": "yes"}, "ept"),
])
def test_hardware_options(kw, name):
    with pytest.raises((TypeError, ValueError), match=name):
        HardwareMachine(PROG, **kw)


def test_complete_exit_bad_value_leaves_exit_pending():
    m = HardwareMachine(assemble("IN EAX, 0x60\nHLT"), stop_on={"IO_INSTRUCTION"})
    m.run()
    for bad in (-1, 2**40, "7", None):
        with pytest.raises((TypeError, ValueError), match="value"):
            m.complete_exit(bad)
        assert m.pending_exit is not None and m.cpu.pc == 0
    m.complete_exit(3)
    assert m.run().state.regs[0] == 3


@pytest.mark.parametrize("bad", [None, "NOP", 3, [PROG]])
def test_program_type(bad):
    for fn in (lambda p: run(p), lambda p: machine(p, "paravirt"), paravirtualize,
               lambda p: translate(p, 0), lambda p: first_divergence(p, "hardware")):
        with pytest.raises(TypeError, match="program"):
            fn(bad)


def test_empty_program():
    with pytest.raises(ValueError, match="program"):
        run(assemble(""))


@pytest.mark.parametrize("start", [-1, 3, 10**9, "0", None])
def test_translate_start(start):
    with pytest.raises((TypeError, ValueError), match="start"):
        translate(PROG, start)


@given(st.dictionaries(st.sampled_from(["compute", "syscalls", "io", "pt_updates", "periods",
                                        "cr_writes", "io_every", "divzero"]),
                       st.one_of(st.integers(-5, -1), st.integers(10**8, 10**9),
                                 st.floats(), st.text(max_size=2)), min_size=1))
def test_workload_hostile(kw):
    with pytest.raises((TypeError, ValueError)) as e:
        workload(**kw)
    assert any(k in str(e.value) for k in kw)


@pytest.mark.parametrize("bad", [{"direct": -1}, {"direct": math.nan}, {"exits": "3"}])
def test_cycles_hostile(bad):
    with pytest.raises((TypeError, ValueError), match="counters"):
        cycles("hardware", bad)


def test_misc_hostile():
    with pytest.raises(ValueError, match="name"):
        microbenchmark("fork")
    with pytest.raises((TypeError, ValueError), match="iterations"):
        microbenchmark("in", 0)
    with pytest.raises(TypeError, match="costs"):
        overheads(PROG, costs=None)
    with pytest.raises(TypeError, match="modes"):
        run_all(PROG, modes="native")
    with pytest.raises(TypeError, match="run"):
        vmm_properties(None, run(PROG))
    with pytest.raises(TypeError, match="isa"):
        explain(None)
    with pytest.raises(ValueError, match="backend"):
        run(PROG, "paravirt", backend="kvm")
    with pytest.raises(ValueError, match="unknown cost"):
        COSTS.replace(speed=1)
    assert classify("TOY").critical == frozenset()


def test_runaway_guest_is_bounded():
    r = run(assemble("l: JMP l"), "emulation", max_steps=5000)
    assert r.status == "max_steps" and r.instructions == 5000
    r = run(assemble("l: JMP l"), "binary_translation", max_steps=5000)
    assert r.status == "max_steps" and 5000 <= r.instructions < 5002


def test_deep_call_recursion_stops_cleanly():
    r = run(assemble("f: CALL f"), "native", max_steps=100_000)
    assert r.status == "fault" and "outside guest memory" in r.state.fault


def test_viz_cpu_hostile():
    from virtlab.viz import cpu as vc
    for bad, exc in (({}, ValueError), ([1.0], TypeError), ({"native": math.nan}, ValueError),
                     ({"native": -1.0}, ValueError), ({"native": "1"}, ValueError)):
        with pytest.raises(exc, match="relative"):
            vc.overhead_bars(bad)
    with pytest.raises(TypeError, match="classification"):
        vc.classification_venn({"critical": set()})
    with pytest.raises(ValueError, match="table"):
        vc.microbench_bars({})
    with pytest.raises(TypeError, match="results"):
        vc.cycle_breakdown([])


def test_guests_and_lockstep_hostile():
    from virtlab.hypervisor import guests, lockstep
    with pytest.raises(ValueError, match="name"):
        guests.program("doom")
    with pytest.raises(ValueError, match="show"):
        lockstep(PROG, "hardware", show=("XYZ",))
    with pytest.raises(TypeError, match="show"):
        lockstep(PROG, "hardware", show="IF")
    with pytest.raises(ValueError, match="max_steps"):
        lockstep(PROG, "hardware", max_steps=0)

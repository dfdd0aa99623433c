"""Microbenchmarks and the workload generator: the programs do what their names say."""

import pytest

from virtlab.hypervisor import MODES, run
from virtlab.hypervisor.microbench import (MICROBENCHMARKS, compute_loop, microbenchmark,
                                           workload)

N = 20


def per_iter(name, mode, key, **kw):
    a = run(microbenchmark(name, N), mode, **kw).counters.get(key, 0)
    b = run(microbenchmark(name, 1), mode, **kw).counters.get(key, 0)
    return (a - b) / (N - 1)


@pytest.mark.parametrize("name,mode,key,expected", [
    ("syscall", "native", "guest_traps", 1),
    ("syscall", "binary_translation", "reflections", 1),
    ("syscall", "hardware", "exits", 0),            # system calls never leave the guest
    ("in", "hardware", "exits", 1),
    ("in", "binary_translation", "callouts", 1),
    ("crwr", "hardware", "exits", 1),
    ("ptemod", "native", "pt_writes", 1),
    ("divzero", "native", "guest_traps", 1),
    ("divzero", "hardware", "exits", 0),
    ("callret", "binary_translation", "callouts", 0),
    ("callret", "binary_translation", "indirect_branches", 1),   # the RET
    ("callret", "native", "indirect_branches", 0),
    ("callret", "hardware", "indirect_branches", 0),
    ("in", "binary_translation", "indirect_branches", 0),
])
def test_microbenchmark_events_per_iteration(name, mode, key, expected):
    assert per_iter(name, mode, key) == expected


def test_all_microbenchmark_programs_halt_everywhere():
    for name in MICROBENCHMARKS:
        if name in ("pgfault", "forkwait"):
            continue
        states = {run(microbenchmark(name, 5), m).state for m in MODES}
        assert len(states) == 1, name


def test_workload_counts_follow_the_mix():
    r = run(workload(compute=10, syscalls=2, io=3, pt_updates=4, cr_writes=1, periods=5,
                     io_every=2, divzero=1), "native")
    assert r.counters["syscalls"] == 2 * 5 + 1            # + the final exit call
    assert r.counters["io"] == 3 * 5                      # every 2nd of 10 syscalls
    assert r.counters["pt_writes"] == 4 * 10
    assert r.counters["cr_writes"] == 1 * 10 + 1          # + CR3 at boot
    assert r.counters["guest_traps"] == 11 + 5            # syscalls + divide errors


def test_compute_loop_instruction_count():
    assert run(compute_loop(1000), "hardware").instructions == 2 + 5 * 1000 + 1


def test_bt_counts_each_kernel_ret_once_in_run_and_step_mode():
    from virtlab.hypervisor import machine
    prog = microbenchmark("callret", 7)
    assert machine(prog, "binary_translation").run().counters["indirect_branches"] == 7
    m = machine(prog, "binary_translation")
    while m.step().status == "running":
        pass
    assert m.counters()["indirect_branches"] == 7

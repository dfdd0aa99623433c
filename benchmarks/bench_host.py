"""The real machine: native : KVM : QEMU TCG : virtlab interpreter, one run (x86-64 Linux).

design.md's target for the real machine is a report, not a bound: the four
engines' guest instructions per second on the same compute loop, measured
in one run (:func:`virtlab.host.compare.four_ways`), their slowdown against
native, the cost model's predicted slowdowns beside them, and the price of
one exit to the user-space VMM (an ``OUT`` loop on ``/dev/kvm``).  Where an
engine is unavailable (no /dev/kvm, no unicorn, not x86-64 Linux) its row
says what is missing and is not counted as a failure.
"""

from benchmarks.harness import row
from virtlab.host import compare, guests, vmm


def four_engines():
    result = compare.four_ways()
    rows = []
    agree = result.states_agree()
    for r in result.runs:
        if not r.available:
            rows.append(row(f"host {r.engine} guest instructions/s", None, "M/s",
                            "(report)", True, missing=str(r.missing)))
            continue
        rows.append(row(f"host {r.engine} guest instructions/s", round(r.ips / 1e6, 2), "M/s",
                        "(report)", agree.get(r.engine, True), note=r.note,
                        instructions=r.instructions))
    for engine in ("kvm", "tcg", "interpreter"):
        s = result.slowdown(engine)
        rows.append(row(f"host {engine} slowdown vs native", round(s, 1) if s else None, "x",
                        "(report)", True))
    for mode, ratio in sorted(result.model.items()):
        rows.append(row(f"cost model {mode} / native (simulated cycles)", round(ratio, 2), "x",
                        "(prediction)", True))
    ratio = " : ".join((f"{r.ips / 1e6:,.0f}" if r.ips >= 1e9 else f"{r.ips / 1e6:.3g}")
                       if r.available else "n/a" for r in result.runs)
    rows.append(row("host native : KVM : TCG : interpreter (M instructions/s)", None, "",
                    ratio, True))
    return rows


def kvm_exit_round_trip():
    r = vmm.run_guest(guests.out_loop(20_000), timeout=120.0)
    if not r.available:
        return [row("host KVM exit round trip (OUT to user space)", None, "us", "(report)",
                    True, missing=str(r.missing))]
    emulated = r.stats.get("insn_emulation", 0)
    return [row("host KVM exit round trip (OUT to user space)", round(r.mean_exit_us("IO"), 2),
                "us", "(report)", not r.error, exits=len(r.exits),
                instructions_emulated_by_kvm=emulated,
                provider=vmm.probe_kvm(kernel_log=False).modules)]


BENCHMARKS = [four_engines, kvm_exit_round_trip]

"""Fixed-width text tables of model results, for notebook cells that print.

The text counterpart of the figures: models return data
(:func:`virtlab.hypervisor.run_all`, :func:`virtlab.hypervisor.lockstep`,
:func:`virtlab.operations.dashboard`), these functions turn it into the lines a
notebook prints.  No matplotlib here.

Examples
--------
>>> from virtlab.asm import assemble
>>> from virtlab.hypervisor import run_all
>>> print(results_table(run_all(assemble("CLI\\nHLT"), ("native", "hardware"))))
mode                 status   instr  traps/exits   cycles  overhead  efficiency  same state
native               halted       2            0        2    +0.0 %      1.0000  yes
hardware             halted       2            1     2501 +124950.0 %      0.5000  yes
"""

from __future__ import annotations

from ..asm import REGS
from ..errors import check_type
from ..hypervisor import Lockstep, RunResult
from ..i18n import _
from ..operations import Metric

__all__ = ["results_table", "lockstep_table", "metric_text"]


def results_table(results: dict, reference: str = "native") -> str:
    """Several runs (mode -> :class:`~virtlab.hypervisor.RunResult`) as a table.

    Overhead and "same state" are relative to ``reference`` (or the first run).
    """
    if not isinstance(results, dict) or not results:
        raise TypeError("results must be a non-empty dict of mode -> RunResult")
    for r in results.values():
        if not isinstance(r, RunResult):
            raise TypeError(f"results values must be RunResult, got {type(r).__name__}")
    ref = results.get(reference) or next(iter(results.values()))
    mode_h, status_h, instr_h, traps_h, cycles_h = (
        _("mode"), _("status"), _("instr"), _("traps/exits"), _("cycles"))
    lines = [f"{mode_h:<20s} {status_h:<7s} {instr_h:>7s} {traps_h:>12s} {cycles_h:>8s}  "
             + _("overhead  efficiency  same state")]
    yes, differs = _("yes"), _("NO: {registers}")
    for mode, r in results.items():
        ov = r.overhead_vs(ref) * 100 if ref.cycles > 0 else 0.0
        same = yes if r.state == ref.state else differs.format(
            registers=", ".join(r.state.diff(ref.state)[:4]))
        lines.append(f"{mode:<20s} {r.status:<7s} {r.instructions:>7d} {r.traps:>12d} "
                     f"{r.cycles:>8.0f} {ov:+7.1f} % {r.efficiency:>11.4f}  {same}")
    return "\n".join(lines)


def lockstep_table(run: Lockstep) -> str:
    """One line per instruction of a :func:`~virtlab.hypervisor.lockstep` run.

    Registers print in hex, flags and the ring as numbers; ``<==`` marks the first
    divergence.

    Examples
    --------
    >>> from virtlab.asm import assemble
    >>> from virtlab.hypervisor import lockstep
    >>> print(lockstep_table(lockstep(assemble("MOV ESP, 64\\nSTI\\nPUSH 0\\nPOPF\\nHLT"),
    ...                               "trap_and_emulate", show=("IF",))))
      pc  instruction          | native: IF | trap_and_emulate: IF | trap_and_emulate does
       0  MOV ESP, 64          | 0          | 0                    | executed directly (ring 1)
       1  STI                  | 1          | 1                    | trap (ring 1 → 0): VMM emulates STI
       2  PUSH 0               | 1          | 1                    | executed directly (ring 1)
       3  POPF                 | 0          | 1                    | critical POPF ran directly in ring 1: no trap, the VMM never sees it  <==
       4  HLT                  | 0          | 1                    | trap (ring 1 → 0): VMM emulates HLT
    """
    check_type("run", run, Lockstep)
    show, reference, mode = run.show, run.reference_mode, run.mode

    def fmt(values) -> str:
        return " ".join(f"{v:#x}" if n in REGS else str(v) for n, v in zip(show, values))

    w = max(len(reference) + 2 + 8 * len(show), 10)
    wb = max(len(mode) + 2 + 8 * len(show), 10)
    instruction, does = _("instruction"), _("{mode} does").format(mode=mode)
    lines = [f"  pc  {instruction:<20s} | {(reference + ': ' + ' '.join(show)):<{w}s} | "
             f"{(mode + ': ' + ' '.join(show)):<{wb}s} | {does}"]
    for r in run.rows:
        mark = "  <==" if r.diverged else ""
        lines.append(f"{r.pc:4d}  {r.text:<20s} | {fmt(r.reference):<{w}s} | "
                     f"{fmt(r.mode):<{wb}s} | {r.what}{mark}")
    return "\n".join(lines)


#: How a :class:`virtlab.operations.Metric` quantity is written, by unit.
_UNIT_FORMATS = {"kWh": "{:,.0f}", "s": "{:,.1f} s", "ms": "{:,.0f} ms", "GiB": "{:,.1f} GiB"}


def metric_text(metric: Metric) -> str:
    """A dashboard metric (:class:`virtlab.operations.Metric`) as the text an operator reads.

    Examples
    --------
    >>> from virtlab.operations import Metric
    >>> metric_text(Metric("capacity", "mean CPU / memory utilization", (0.5, 0.25), "%"))
    '50% / 25%'
    >>> metric_text(Metric("energy", "kWh per day", 1234.4, "kWh", 5678.9))
    '1,234 (was 5,679)'
    >>> metric_text(Metric("capacity", "VMs per host", 4.0)), metric_text(Metric("x", "n", 4))
    ('4.0', '4')
    """
    check_type("metric", metric, Metric)
    v = metric.value
    if metric.unit == "%":
        text = " / ".join(f"{x:.0%}" for x in v)
    elif metric.unit:
        text = _UNIT_FORMATS[metric.unit].format(v)
    else:
        text = f"{v}" if isinstance(v, int) else f"{v:.1f}"
    if metric.before is not None:
        before = _UNIT_FORMATS.get(metric.unit, "{:,.0f}").format(metric.before)
        text += " " + _("(was {before})").format(before=before)
    return text


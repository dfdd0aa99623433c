"""Exercise 12: Xen's SEDF scheduler -- admission, guaranteed shares, extra time.

Per variant: three CPU-bound, single-vCPU VMs with SEDF reservations
(``slice_ms`` every ``period_ms``, extratime on or off) on one pCPU, and two
candidate VMs the scheduler must admit or refuse (each one on its own).
Reference answers come from the SEDF model
(:class:`~virtlab.scheduler.SEDFScheduler` run by
:func:`virtlab.scheduler.simulate` for two seconds; admission is its
``ValueError`` on over-reservation); :func:`crosscheck` recomputes them from
the definitions (Σ slice/period ≤ 1; each VM gets its slice/period, the
extratime VMs share the rest equally).  Variants are drawn among set-ups
where that simple rule matches the model's round-robin extra-time quanta
within 0.004 (with short periods a new period can cut a quantum short, so
the split is not exactly equal).

Examples
--------
>>> sedf_shares([[100, 10, False], [50, 20, True], [20, 2, True]])
[0.1, 0.6, 0.3]
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

from dataclasses import dataclass

from ...i18n import N_, _
from ...rng import make_rng
from ...scheduler import VM, SEDFScheduler, simulate
from ..exercise import Exercise, Function, Manual, Value
from ..practice import Step

__all__ = ["EXERCISE", "Problem", "make_problem", "sedf_shares"]

DURATION_MS = 2000
_PERIODS = (10, 20, 25, 40, 50, 100)
_FRACTIONS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 12.

    Attributes
    ----------
    vms : tuple of (name, period_ms, slice_ms, extratime)
        Admitted VMs, one CPU-bound vCPU each, on one pCPU.
    candidates : tuple of (name, period_ms, slice_ms)
        VMs asking to be admitted as well (each on its own; no extratime).

    Examples
    --------
    >>> make_problem(2) == make_problem(2)
    True
    """

    vms: tuple
    candidates: tuple


def sedf_shares(vms) -> list:
    """Long-run shares of CPU-bound VMs under SEDF on one pCPU (the definition).

    ``vms`` lists ``[period_ms, slice_ms, extratime]``; the reservations must
    fit (Σ slice/period ≤ 1).  Each VM gets slice/period; the idle rest is
    shared equally by the extratime VMs (round-robin in equal quanta).
    """
    util = [s / p for p, s, _ in vms]
    extra = [bool(e) for _, _, e in vms]
    rest = max(0.0, 1.0 - sum(util))
    n = sum(extra)
    return [round(u + (rest / n if e else 0.0), 10) for u, e in zip(util, extra)]


def make_problem(seed: int) -> Problem:
    """A variant: three admitted VMs, two candidates (one fits, one does not).

    Examples
    --------
    >>> len(make_problem(0).vms), len(make_problem(0).candidates)
    (3, 2)
    """
    rng = make_rng(seed)
    while True:
        vms = []
        for name in ("a", "b", "c"):
            period = rng.choice(_PERIODS)
            vms.append((name, period, round(period * rng.choice(_FRACTIONS), 3),
                        rng.random() < 0.5))
        util = sum(s / p for _, p, s, _ in vms)
        if util > 0.8 or not any(v[3] for v in vms):
            continue
        room = 1 - util
        fits = [f for f in (0.05, 0.1, 0.15, 0.2, 0.3) if f <= room - 1e-9]
        over = [f for f in (0.3, 0.4, 0.5, 0.6, 0.8) if f > room + 1e-9]
        if not fits or not over:
            continue
        # variants where the simple rule "extra time in equal parts" is what the
        # model's round-robin quanta deliver (with short periods it is not exact:
        # a new period preempts a quantum -- notebook 11 shows the mechanism)
        trace = simulate(SEDFScheduler(), [_vm(*v) for v in vms], 1, DURATION_MS)
        ideal = sedf_shares([v[1:] for v in vms])
        if any(abs(trace.share(v[0]) - w) > 0.004 for v, w in zip(vms, ideal)):
            continue
        cands = []
        for name, frac in zip(("d", "e"), rng.sample([rng.choice(fits), rng.choice(over)], 2)):
            period = rng.choice(_PERIODS)
            cands.append((name, period, round(period * frac, 3)))
        return Problem(tuple(vms), tuple(cands))


def _vm(name, period, slice_ms, extratime=False) -> VM:
    return VM(name, period_ms=period, slice_ms=slice_ms, extratime=extratime)


def solve(problem: Problem) -> dict:
    """Reference answers from the SEDF model.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['admit', 'idle', 'reserved', 'shares']
    """
    vms = [_vm(*v) for v in problem.vms]
    trace = simulate(SEDFScheduler(), vms, 1, DURATION_MS)
    admit = {}
    for name, period, slice_ms in problem.candidates:
        try:
            simulate(SEDFScheduler(), vms + [_vm(name, period, slice_ms)], 1, 1)
        except ValueError:
            admit[name] = False
        else:
            admit[name] = True
    shares = {v.name: trace.share(v.name) for v in vms}
    return {"reserved": sum(s / p for _, p, s, _ in problem.vms),
            "admit": admit, "shares": shares,
            "idle": round(max(0.0, 1.0 - sum(shares.values())), 3)}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recompute from the definitions (shares within 0.01 of the simulation).

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    util = sum(s / p for _, p, s, _ in problem.vms)
    if abs(solution["reserved"] - util) > 1e-9:
        out.append("reserved")
    for name, period, slice_ms in problem.candidates:
        if solution["admit"][name] != (util + slice_ms / period <= 1 + 1e-9):
            out.append(f"admit {name}")
    ideal = sedf_shares([v[1:] for v in problem.vms])
    for (name, *_), want in zip(problem.vms, ideal):
        if abs(solution["shares"][name] - want) > 0.01:
            out.append(f"share {name}: model {solution['shares'][name]} vs definition {want}")
    if abs(solution["idle"] - (1 - sum(ideal))) > 0.01:
        out.append(f"idle: model {solution['idle']} vs definition {1 - sum(ideal)}")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> "extratime" in describe(make_problem(0))
    True
    """
    lines = [_("SEDF on one pCPU; every VM has one CPU-bound vCPU:")]
    for name, period, slice_ms, extra in problem.vms:
        row = (_("{name}: slice {slice} ms every {period} ms, extratime on") if extra else
               _("{name}: slice {slice} ms every {period} ms, extratime off"))
        lines.append("  " + row.format(name=name, slice=f"{slice_ms:g}", period=period))
    lines.append(_("Candidates (each asks to join the three above on its own; extratime off):"))
    for name, period, slice_ms in problem.candidates:
        lines.append("  " + _("{name}: slice {slice} ms every {period} ms").format(
            name=name, slice=f"{slice_ms:g}", period=period))
    return "\n".join(lines)


def _hidden(problem, rng):
    cases = []
    while len(cases) < 6:
        vms = [[rng.choice(_PERIODS), 0, rng.random() < 0.5] for _ in range(rng.randint(1, 5))]
        for v in vms:
            v[1] = round(v[0] * rng.choice(_FRACTIONS), 3)
        if sum(s / p for p, s, _ in vms) <= 1:
            cases.append((vms,))
    return cases


def worked(problem: Problem) -> list[Step]:
    """The reference answers step by step (practice mode).

    Examples
    --------
    >>> p = make_problem(3)
    >>> merged = {k: v for s in worked(p) for k, v in s.answers.items()}
    >>> merged == solve(p)
    True
    """
    sol = solve(problem)
    util = sum(s / p for _, p, s, _ in problem.vms)
    parts = ", ".join(f"{n} {s:g}/{p} = {s / p:.4g}" for n, p, s, _ in problem.vms)
    admit = []
    for name, period, slice_ms in problem.candidates:
        total = util + slice_ms / period
        admit.append((_("{name}: {util} + {slice}/{period} = {total} ≤ 1 → admitted")
                      if sol["admit"][name] else
                      _("{name}: {util} + {slice}/{period} = {total} > 1 → refused")).format(
            name=name, util=f"{util:.4g}", slice=f"{slice_ms:g}", period=period,
            total=f"{total:.4g}"))
    rest = max(0.0, 1 - util)
    extra = [v[0] for v in problem.vms if v[3]]
    ideal = sedf_shares([v[1:] for v in problem.vms])
    defs = ", ".join(f"{n} {s / p:.4g} + {rest:.4g}/{len(extra)} = {w:.4g}" if e else
                     _("{name} {share} (no extratime)").format(name=n, share=f"{w:.4g}")
                     for (n, p, s, e), w in zip(problem.vms, ideal))
    shares = sol["shares"]
    measured = ", ".join(f"{n} {v:.5g}" for n, v in shares.items())
    same = all(abs(shares[v[0]] - w) < 1e-9 for v, w in zip(problem.vms, ideal))
    return [
        Step(_("reserved utilization"),
             _("Each VM reserves slice/period: {parts}; together {reserved}.").format(
                 parts=parts, reserved=f"{sol['reserved']:.4g}"),
             {"reserved": sol["reserved"]}),
        Step(_("admission"),
             _("EDF meets every deadline on one pCPU exactly when the reservations add up to "
               "at most 1; each candidate is checked with the three admitted VMs:\n"
               "{candidates}").format(candidates="\n".join(admit)),
             {"admit": sol["admit"]}),
        Step(_("long-run shares"),
             (_("Reservations come first; the unreserved rest 1 − {util} = {rest} goes in "
                "equal round-robin quanta to the extratime VM(s) ({extra}): {shares}. The "
                "SEDF model's two-second run measures exactly these shares.") if same else
              _("Reservations come first; the unreserved rest 1 − {util} = {rest} goes in "
                "equal round-robin quanta to the extratime VM(s) ({extra}): {shares}. The "
                "SEDF model's two-second run measures {measured}: a new period can cut an "
                "extra-time quantum short, so the split of the rest is not exactly "
                "equal.")).format(util=f"{util:.4g}", rest=f"{rest:.4g}",
                                  extra=", ".join(extra), shares=defs, measured=measured),
             {"shares": shares}),
        Step(_("idle time"),
             (_("{sum} = {idle}: an extratime VM is always ready to use what is left, so "
                "nothing stays idle.") if extra else "{sum} = {idle}.").format(
                 sum=f"1 − ({' + '.join(f'{v:.5g}' for v in shares.values())})",
                 idle=f"{sol['idle']:g}"),
             {"idle": sol["idle"]}),
    ]


EXERCISE = Exercise(
    id="ex12_sedf",
    title=N_("Exercise 12: SEDF -- admission, guaranteed shares, extra time"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 1, N_("Each VM reserves slice/period of the pCPU; add them up."),
              name="reserved", kind="number"),
        Value("q2", 2, N_("Earliest deadline first can meet every deadline on one CPU exactly "
                 "when the reservations add up to at most 1."), name="admit", kind="dict",
              per_entry=True),
        Function("q3", 3, N_("Every VM gets its reservation slice/period. What nobody reserved "
                    "goes round-robin to the VMs with extratime, in equal quanta: an equal "
                    "part each. VMs without extratime get nothing more."), name="sedf_shares",
                 public=lambda p: [([[100, 10, False], [50, 20, True], [20, 2, True]],),
                                   ([[40, 10, False]],)],
                 hidden=_hidden, reference=lambda p, vms: sedf_shares(vms), rel_tol=0.02),
        Value("q4", 2, N_("Apply sedf_shares to your three VMs (CPU-bound: they always want to "
                 "run)."), name="shares", kind="dict", per_entry=True, rel_tol=0.02),
        Value("q5", 1, N_("Time nobody uses: 1 minus the shares; with an extratime VM around, "
                 "nothing stays idle."), name="idle", kind="number", rel_tol=0.02),
    ),
    manual=(
        Manual("q6", 2, "Full marks: only the extratime VMs lose (they share a smaller "
               "unreserved rest); VMs without extratime keep exactly slice/period, because "
               "admission guarantees every reservation and SEDF serves reservations first "
               "(earliest deadline first) and gives extra time only from what is left."),
    ),
)

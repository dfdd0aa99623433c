"""Exercise 13: co-scheduling -- skew, co-stop, strict vs relaxed (*Co-Scheduling*).

Per variant: an SMP VM with *n* CPU-bound vCPUs next to single-vCPU CPU hogs
on *P* pCPUs (overcommitted: more vCPUs than pCPUs), Credit scheduling, a
skew threshold for relaxed co-scheduling, and a few VMs whose strict
co-scheduling the student judges.  The SMP VM's run intervals without
co-scheduling are part of the problem (from the model).  Reference answers
come from :func:`virtlab.scheduler.simulate` with
:class:`~virtlab.scheduler.CreditScheduler` in the three modes
(``Trace.skew``, ``Trace.utilization``; strict admission is the model's
``ValueError``); :func:`crosscheck` recomputes them from the intervals and the
definitions.

Examples
--------
>>> max_skew([[0, 0, 30], [1, 0, 10], [1, 20, 40]], 2)
10
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

from dataclasses import dataclass

from ...i18n import N_, _
from ...rng import make_rng
from ...scheduler import VM, CreditScheduler, simulate
from ..exercise import Exercise, Function, Manual, Value
from ..practice import Step

__all__ = ["EXERCISE", "Problem", "make_problem", "max_skew"]

DURATION_MS = 600
MODES = ("none", "strict", "relaxed")


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 13.

    Attributes
    ----------
    pcpus, vcpus, hogs : int
        *P* pCPUs, the SMP VM's *n* vCPUs, the number of one-vCPU hogs.
    threshold_ms : int
        Relaxed co-scheduling's skew threshold.
    intervals : tuple of (vcpu, start_ms, end_ms)
        When each vCPU of the SMP VM ran without co-scheduling.
    candidates : tuple of (name, vcpus, affinity or None)
        VMs to judge for strict co-scheduling on this host (each on its own).

    Examples
    --------
    >>> make_problem(3) == make_problem(3)
    True
    """

    pcpus: int
    vcpus: int
    hogs: int
    threshold_ms: int
    intervals: tuple
    candidates: tuple

    def vms(self) -> list:
        return [VM("smp", vcpus=self.vcpus)] + [VM(f"hog{i}") for i in range(self.hogs)]


def max_skew(intervals, vcpus):
    """Largest gap between the most and the least progress (CPU time) of the vCPUs.

    ``intervals`` lists ``[vcpu, start, end]`` (any time unit, half-open);
    progress is measured at every interval boundary (the gap can only peak
    there).
    """
    return max((max(p) - min(p) for _, p in _progress(intervals, vcpus)), default=0)


def _progress(intervals, vcpus) -> list:
    # (t, CPU time of each vCPU up to t) at every interval boundary t
    out = []
    for t in sorted({t for _, s, e in intervals for t in (s, e)}):
        prog = [0] * vcpus
        for v, s, e in intervals:
            prog[v] += max(0, min(e, t) - s)
        out.append((t, prog))
    return out


def _trace(problem: Problem, mode: str):
    return simulate(CreditScheduler(cosched=mode, skew_threshold_ms=problem.threshold_ms),
                    problem.vms(), problem.pcpus, DURATION_MS)


def make_problem(seed: int) -> Problem:
    """A variant: an overcommitted host, the no-co-scheduling intervals, candidates.

    Examples
    --------
    >>> p = make_problem(0)
    >>> p.vcpus + p.hogs > p.pcpus
    True
    """
    rng = make_rng(seed)
    pcpus = rng.choice([2, 3, 4])
    vcpus = rng.randint(2, pcpus)
    hogs = rng.randint(pcpus - vcpus + 1, pcpus - 1)     # overcommitted: n + hogs > P
    threshold = rng.choice([2, 3, 5])
    base = Problem(pcpus, vcpus, hogs, threshold, (), ())
    t = _trace(base, "none")
    intervals = tuple(sorted((i, s / 1000, e / 1000) for i in range(vcpus)
                             for s, e, *_ in t.vcpu_intervals("smp", i)))
    candidates = (("db", pcpus + rng.randint(0, 1), None),
                  ("web", 2, tuple(range(rng.randint(1, 2)))),
                  ("app", rng.randint(2, pcpus), tuple(range(pcpus))))
    return Problem(pcpus, vcpus, hogs, threshold, intervals, candidates)


def _strict_ok(problem: Problem, vcpus: int, affinity) -> bool:
    try:
        simulate(CreditScheduler(cosched="strict"), [VM("x", vcpus=vcpus, affinity=affinity)],
                 problem.pcpus, 1)
    except ValueError as exc:
        if "strict co-scheduling" not in str(exc):
            raise
        return False
    return True


def solve(problem: Problem) -> dict:
    """Reference answers from the scheduler model.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['fragmentation', 'skew', 'strict_ok']
    """
    traces = {m: _trace(problem, m) for m in MODES}
    return {"strict_ok": {n: _strict_ok(problem, v, a) for n, v, a in problem.candidates},
            "skew": {m: traces[m].skew("smp") / 1000 for m in MODES},
            "fragmentation": {m: traces[m].utilization() < 0.995 for m in ("none", "strict")}}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recompute from the intervals and the definitions of the three modes.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    for name, vcpus, aff in problem.candidates:
        want = vcpus <= (problem.pcpus if aff is None else len(aff))
        if solution["strict_ok"][name] != want:
            out.append(f"strict_ok {name}")
    none = max_skew([list(x) for x in problem.intervals], problem.vcpus)
    want = {"none": none, "strict": 0.0, "relaxed": min(none, problem.threshold_ms)}
    for m, v in want.items():
        if abs(solution["skew"][m] - v) > 1e-6:
            out.append(f"skew {m}: model {solution['skew'][m]} vs definition {v}")
    # overcommitted: a gang that cannot find n free pCPUs leaves the others idle
    if solution["fragmentation"] != {"none": False, "strict": True}:
        out.append(f"fragmentation: model {solution['fragmentation']}")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> "pCPUs" in describe(make_problem(0))
    True
    """
    lines = [_("Host: {pcpus} pCPUs, Credit scheduler. VM smp: {vcpus} CPU-bound vCPUs; {hogs} "
               "CPU hog VM(s) with one vCPU each.").format(
                 pcpus=problem.pcpus, vcpus=problem.vcpus, hogs=problem.hogs),
             _("Relaxed co-scheduling threshold: {threshold} ms.").format(
                 threshold=problem.threshold_ms),
             _("Without co-scheduling smp's vCPUs ran in {n} intervals (p.intervals, ms), "
               "e.g.:").format(n=len(problem.intervals))]
    lines += [f"  vCPU {v}: {s:g}-{e:g} ms" for v, s, e in problem.intervals[:6]]
    lines.append(_("Candidates for strict co-scheduling on this host (each on its own):"))
    for name, vcpus, aff in problem.candidates:
        row = (_("{name}: {vcpus} vCPUs, may run on any pCPU") if aff is None else
               _("{name}: {vcpus} vCPUs, may run on pCPUs {pcpus}"))
        lines.append("  " + row.format(name=name, vcpus=vcpus, pcpus=list(aff or ())))
    return "\n".join(lines)


def _hidden(problem, rng):
    cases = []
    for _ in range(6):
        n = rng.randint(1, 4)
        ivs = []
        for v in range(n):
            t = rng.randint(0, 5)
            for _ in range(rng.randint(0, 4)):
                d = rng.randint(1, 9)
                ivs.append([v, t, t + d])
                t += d + rng.randint(0, 6)
        rng.shuffle(ivs)
        cases.append((ivs, n))
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
    P, n = problem.pcpus, problem.vcpus
    strict = []
    for name, vcpus, aff in problem.candidates:
        where = (_("all {n} pCPUs").format(n=P) if aff is None else
                 _("{n} pCPU(s) {pcpus}").format(n=len(aff), pcpus=list(aff)))
        strict.append((_("{name}: {vcpus} vCPUs, may use {where} → fits")
                       if sol["strict_ok"][name] else
                       _("{name}: {vcpus} vCPUs, may use {where} → never runs")).format(
            name=name, vcpus=vcpus, where=where))
    skew = sol["skew"]
    t, prog = max(_progress([list(x) for x in problem.intervals], n),
                  key=lambda tp: max(tp[1]) - min(tp[1]))
    ahead, behind = prog.index(max(prog)), prog.index(min(prog))
    th = problem.threshold_ms
    util = {m: _trace(problem, m).utilization() for m in ("none", "strict")}
    frag = sol["fragmentation"]
    fragmentation = {m: (_("{util} utilization: fragmentation") if frag[m] else
                         _("{util} utilization: no fragmentation")).format(
                             util=f"{util[m]:.1%}") for m in ("none", "strict")}
    return [
        Step(_("which VMs strict co-scheduling can run"),
             _("A strict gang starts all its vCPUs at once, each on its own pCPU, so it needs "
               "at least as many pCPUs as vCPUs among those it may use:\n{vms}").format(
                 vms="\n".join(strict)),
             {"strict_ok": sol["strict_ok"]}),
        Step(_("skew in the three modes"),
             _("Without co-scheduling: add up each vCPU's run time at every interval "
               "boundary; the gap peaks at {t} ms, where vCPU {ahead} has run {most} ms and "
               "vCPU {behind} {least} ms: skew {none} ms. Strict: the vCPUs only ever run "
               "together, skew {strict}. Relaxed: a vCPU that gets {threshold} ms ahead of "
               "its slowest sibling is co-stopped: min({none}, {threshold}) = {relaxed} "
               "ms.").format(t=f"{t:g}", ahead=ahead, most=f"{max(prog):g}", behind=behind,
                             least=f"{min(prog):g}", none=f"{skew['none']:g}",
                             strict=f"{skew['strict']:g}", threshold=th,
                             relaxed=f"{skew['relaxed']:g}"),
             {"skew": skew}),
        Step(_("idle pCPUs although vCPUs wait"),
             _("{n} smp vCPUs + {hogs} hog(s) = {runnable} runnable vCPUs on {pcpus} pCPUs: "
               "more work than pCPUs all the time. Without co-scheduling a free pCPU always "
               "takes a waiting vCPU (the model measures {none}). Strict: while hogs hold "
               "pCPUs, the gang of {n} cannot find {n} free pCPUs at the same time, so the "
               "free ones idle ({strict}).").format(
                 n=n, hogs=problem.hogs, runnable=n + problem.hogs, pcpus=P,
                 none=fragmentation["none"], strict=fragmentation["strict"]),
             {"fragmentation": frag}),
    ]


EXERCISE = Exercise(
    id="ex13_coscheduling",
    title=N_("Exercise 13: co-scheduling -- skew, co-stop, strict vs relaxed"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 1, N_("Strict co-scheduling starts all vCPUs of a VM at once, each on its own "
                 "pCPU: a VM with more vCPUs than the pCPUs it may use never runs."),
              name="strict_ok", kind="dict", per_entry=True),
        Function("q2", 3, N_("Progress = CPU time received so far. At every start and end of an "
                    "interval, compare the vCPU with the most progress with the one with the "
                    "least (a vCPU that never ran has 0); keep the largest gap."),
                 name="max_skew",
                 public=lambda p: [([[0, 0, 30], [1, 0, 10], [1, 20, 40]], 2),
                                   ([[0, 0, 5], [1, 0, 5]], 2)],
                 hidden=_hidden, reference=lambda p, ivs, n: max_skew(ivs, n)),
        Value("q3", 3, N_("Without co-scheduling: max_skew of your intervals. Strict: the vCPUs "
                 "only ever run together. Relaxed: a vCPU that gets the threshold ahead of its "
                 "slowest sibling is co-stopped, so the skew never grows beyond it."),
              name="skew", kind="dict", per_entry=True),
        Value("q4", 2, N_("Is a pCPU ever idle although a vCPU is waiting to run? Without "
                 "co-scheduling any waiting vCPU takes a free pCPU; a strict gang needs n free "
                 "pCPUs at the same time."), name="fragmentation", kind="dict", per_entry=True),
    ),
    manual=(
        Manual("q5", 2, "Full marks: without co-scheduling. A descheduled vCPU makes its "
               "siblings spin at the barrier (or on a lock it holds), burning CPU time "
               "without progress; strict co-scheduling runs them together (at the price of "
               "idle pCPUs), relaxed bounds the skew and co-stops the vCPUs that ran ahead "
               "instead of letting them spin."),
    ),
)

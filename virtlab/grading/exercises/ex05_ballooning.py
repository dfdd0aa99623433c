"""Exercise 5: ballooning and overcommit (*Ballooning*, *Überbuchung*).

Per variant: a host with a number of 4 KiB frames and three VMs whose
configured memory adds up to more than that, each with its own working set
and guest replacement policy, and a balloon target per VM.  The student
computes the overcommit and the worst-case reclaim, runs the overcommit
model (:func:`virtlab.balloon.compare_policies`: balloon, hypervisor swap,
page sharing + swap) to read off hypervisor swapping and double paging, and
implements an idle-first split of balloon targets (Waldspurger, OSDI'02:
reclaim idle memory first -- facts.md §6).  Reference answers come from the
model; :func:`crosscheck` checks the model's conservation invariant on the
runs, that only hypervisor-level swapping produces double paging, and
that the idle-first targets add up to the reclaim.

Examples
--------
>>> balloon_targets([128, 128, 128], [60, 50, 40], 256)
[37, 42, 49]
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

from dataclasses import dataclass

from ...i18n import N_, _
from ... import balloon
from ...errors import check_sequence
from ...rng import make_rng
from ..practice import Step
from ..exercise import Exercise, Function, Value

__all__ = ["EXERCISE", "Problem", "make_problem", "balloon_targets", "vm_specs"]

STEPS = 40


@dataclass(frozen=True)
class Problem:
    """One variant (all sizes in 4 KiB pages).

    Examples
    --------
    >>> make_problem(5) == make_problem(5)
    True
    """

    host_frames: int
    memories: tuple
    working_sets: tuple
    replacements: tuple
    balloon_target: int


def make_problem(seed: int) -> Problem:
    """A variant: host size, three VMs and a balloon target per VM.

    Examples
    --------
    >>> p = make_problem(0)
    >>> sum(p.memories) > p.host_frames
    True
    """
    rng = make_rng(seed)
    memories = tuple(rng.choice([96, 128, 160]) for _ in range(3))
    host = rng.choice([192, 224, 256])
    while sum(memories) <= host:
        host -= 32
    working = tuple(rng.choice([30, 40, 50, 60]) for _ in range(3))
    reps = tuple(rng.sample(["lru", "fifo", "random"], 3))
    return Problem(host, memories, working, reps, rng.choice([20, 30, 40, 50]))


def vm_specs(problem: Problem, targets=None) -> list:
    """The variant's VMs as :class:`virtlab.balloon.VMSpec` (60 file pages, 20 shared)."""
    # duck-typed: in the grading kernel the problem is a look-alike record (problem_data)
    if not all(hasattr(problem, f) for f in ("memories", "working_sets", "replacements",
                                             "balloon_target")):
        raise TypeError(f"problem must be an ex05 Problem, got {type(problem).__name__}")
    if targets is not None:
        check_sequence("targets", targets, int, min_len=len(problem.memories),
                       max_len=len(problem.memories))
    targets = targets or [problem.balloon_target] * 3
    return [balloon.VMSpec(f"vm{i + 1}", m, w, file_pages=60, shared_pages=20, replacement=r,
                           balloon_target=t)
            for i, (m, w, r, t) in enumerate(zip(problem.memories, problem.working_sets,
                                                 problem.replacements, targets))]


def balloon_targets(memories, working_sets, host_frames) -> list:
    """Split the worst-case reclaim over the VMs in proportion to their idle memory.

    ``need = max(0, sum(memories) - host_frames)``; idle memory of VM i is
    ``memories[i] - working_sets[i]``.  If ``need`` is at least the total
    idle memory, every VM gives all its idle memory.  Otherwise VM i gives
    ``floor(need * idle_i / total_idle)`` and the pages still missing go one
    each to the VMs with the most idle memory (earlier VM first on ties).
    """
    need = max(0, sum(memories) - host_frames)
    idle = [max(0, m - w) for m, w in zip(memories, working_sets)]
    total = sum(idle)
    if need >= total:
        return idle
    out = [need * i // total for i in idle]
    order = sorted(range(len(idle)), key=lambda k: (-idle[k], k))
    for k in order[:need - sum(out)]:
        out[k] += 1
    return out


def solve(problem: Problem) -> dict:
    """Reference answers (model runs: :func:`virtlab.balloon.compare_policies`, 40 steps).

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['double_paging', 'hv_swap_out', 'min_reclaim', 'overcommit']
    """
    runs = balloon.compare_policies(problem.host_frames, vm_specs(problem), steps=STEPS)
    totals = {policy: trace.totals() for policy, trace in runs.items()}
    return {"overcommit": sum(problem.memories) / problem.host_frames,
            "min_reclaim": max(0, sum(problem.memories) - problem.host_frames),
            "hv_swap_out": {p: t["hv_swap_out"] for p, t in totals.items()},
            "double_paging": {p for p, t in totals.items() if t["double_paging"] > 0}}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Check the model runs against the invariants the exercise teaches.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    host = balloon.BalloonHost(problem.host_frames, vm_specs(problem), policy="balloon")
    for _ in range(10):
        host.step()
        if not host.check().conserved:
            out.append("host frames not conserved")
            break
    swap = solution["hv_swap_out"]
    if "balloon" in solution["double_paging"] and swap["balloon"] == 0:
        out.append("double paging without hypervisor swapping")
    targets = balloon_targets(problem.memories, problem.working_sets, problem.host_frames)
    if sum(targets) != min(solution["min_reclaim"],
                           sum(m - w for m, w in zip(problem.memories, problem.working_sets))):
        out.append("balloon_targets does not add up")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> len(describe(make_problem(0)).splitlines()) > 2
    True
    """
    rows = ["  " + _("{vm}: {configured} pages configured, working set {working} pages, guest "
                     "policy {policy}").format(vm=f"vm{i + 1}", configured=m, working=w,
                                                policy=r)
            for i, (m, w, r) in enumerate(zip(problem.memories, problem.working_sets,
                                              problem.replacements))]
    return "\n".join([
        _("Host: {frames} frames of 4 KiB. VMs (each also reads 60 file pages and has 20 OS "
          "pages identical in all VMs):").format(frames=problem.host_frames),
        *rows,
        _("The hypervisor asks every VM to give back {pages} pages.").format(
            pages=problem.balloon_target),
        _("vm_specs(p) builds these VMs for virtlab.balloon (40 steps, seed 0).")])


def _hidden(problem, rng):
    cases = []
    for _ in range(6):
        k = rng.randint(2, 4)
        mems = [rng.choice([64, 96, 128, 160, 256]) for _ in range(k)]
        ws = [rng.randint(8, m) for m in mems]
        cases.append((mems, ws, rng.randint(sum(mems) // 3, sum(mems))))
    return cases


def worked(problem: Problem) -> list[Step]:
    """The reference answers step by step (practice mode).

    Examples
    --------
    >>> p = make_problem(1)
    >>> merged = {k: v for s in worked(p) for k, v in s.answers.items()}
    >>> merged == solve(p)
    True
    """
    sol = solve(problem)
    mem = sum(problem.memories)
    return [
        Step(_("overcommit ratio"),
             _("Configured guest memory over host frames: {memories} = {total} pages over "
               "{frames} frames = {ratio}.").format(
                 memories=" + ".join(map(str, problem.memories)), total=mem,
                 frames=problem.host_frames, ratio=f"{sol['overcommit']:.3f}"),
             {"overcommit": sol["overcommit"]}),
        Step(_("worst-case reclaim"),
             _("If every VM touches all its memory, the host lacks max(0, {total} − {frames}) "
               "= {lack} frames.").format(total=mem, frames=problem.host_frames,
                                          lack=sol["min_reclaim"]),
             {"min_reclaim": sol["min_reclaim"]}),
        Step(_("hypervisor swap-outs per policy"),
             _("Run the three reclamation policies for {steps} steps "
               "(virtlab.balloon.compare_policies). Ballooning lets the guests give up pages "
               "themselves; hypervisor swapping takes pages behind their backs; sharing "
               "merges identical pages first: {counts}.").format(
                 steps=STEPS, counts=", ".join(f"{k} {v}" for k, v in
                                               sol["hv_swap_out"].items())),
             {"hv_swap_out": sol["hv_swap_out"]}),
        Step(_("where double paging happens"),
             _("Double paging needs a page the hypervisor swapped out that the guest then "
               "picks to page out itself; it occurs only where the hypervisor swaps: "
               "{where}.").format(where=", ".join(sorted(sol["double_paging"]))
                                  or _("nowhere in this variant")),
             {"double_paging": sol["double_paging"]}),
    ]


EXERCISE = Exercise(
    id="ex05_ballooning",
    title=N_("Exercise 5: ballooning and overcommit"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 1, N_("Overcommit = configured guest memory / host memory."),
              name="overcommit", kind="number", rel_tol=1e-3),
        Value("q2", 2, N_("If every guest touched all its configured memory, how many frames "
                 "would be missing?"), name="min_reclaim", kind="int"),
        Value("q3", 2, N_("Run virtlab.balloon.compare_policies(p.host_frames, vm_specs(p), "
                 "steps=40) and sum the counter hv_swap_out over the VMs of each run "
                 "(trace.totals())."), name="hv_swap_out", kind="dict", per_entry=True),
        Value("q4", 2, N_("Double paging needs the hypervisor to have swapped out a page that "
                 "the guest then evicts itself; read totals()['double_paging'] of each run."),
              name="double_paging", kind="set"),
        Function("q5", 3, N_("Idle memory = configured - working set. Floor the proportional "
                    "parts, then hand out the missing pages one each, most idle VM first; if "
                    "the need exceeds all idle memory, take all of it."),
                 name="balloon_targets",
                 public=lambda p: [([128, 128, 128], [60, 50, 40], 256),
                                   (list(p.memories), list(p.working_sets), p.host_frames)],
                 hidden=_hidden, reference=lambda p, m, w, h: balloon_targets(m, w, h)),
    ),
)

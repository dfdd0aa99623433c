"""Exercise 6: live-migration rounds -- pre-copy vs stop-and-copy (*Live-Migration*).

Per variant: a VM's memory, the link bandwidth, its dirty rate and writable
working set.  Reference answers come from :mod:`virtlab.migration` (Clark et
al., NSDI'05; Xen's stop rules: fewer than 50 pages, 29 rounds, more than 3×
memory sent -- facts.md §7).  :func:`crosscheck` recomputes the rounds with a
direct page-level loop (:func:`rounds_direct`) and the stop-and-copy time by
hand.

Units as in the model: MiB, Mbit/s (1 MiB = 8.388608 Mbit), 4 KiB pages,
256 KiB of CPU/device state sent while paused.

Examples
--------
>>> precopy_rounds(131072, 30517.578125, 3051.7578125, 8192)[:3]
[131072, 6538, 628]
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

from dataclasses import dataclass

from ...i18n import N_, _
from ... import migration
from ...rng import make_rng
from ..practice import Step
from ..exercise import Exercise, Function, Value

__all__ = ["EXERCISE", "Problem", "make_problem", "precopy_rounds", "rounds_direct"]

PAGE_KB = 4
PAGES_PER_MBIT = 1e6 / (PAGE_KB * 8192)     # pages per second per Mbit/s


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 6 (MiB, Mbit/s).

    Examples
    --------
    >>> make_problem(5) == make_problem(5)
    True
    """

    memory_mb: int
    bandwidth_mbit: int
    dirty_rate_mbit: int
    wws_mb: int


def make_problem(seed: int) -> Problem:
    """A VM and a link.

    Examples
    --------
    >>> make_problem(2) == make_problem(2)
    True
    """
    rng = make_rng(seed)
    memory = rng.choice([256, 512, 1024, 2048])
    return Problem(memory, rng.choice([100, 1000]), rng.choice([20, 50, 100, 200, 400, 800]),
                   min(memory, rng.choice([8, 16, 32, 64, 128])))


def precopy_rounds(total_pages: int, send_pages_per_s: float, dirty_pages_per_s: float,
                   hot_pages: int) -> list[int]:
    """Pages sent in each pre-copy round (not the final stop-and-copy), via the model.

    Examples
    --------
    >>> precopy_rounds(1000, 10_000.0, 0.0, 1000)
    [1000, 0]
    """
    res = migration.precopy(total_pages * PAGE_KB / 1024, send_pages_per_s / PAGES_PER_MBIT,
                            dirty_pages_per_s / PAGES_PER_MBIT,
                            wws_mb=hot_pages * PAGE_KB / 1024)
    return [r.pages for r in res.rounds if r.kind == "pre-copy"]


def rounds_direct(total_pages, send_pages_per_s, dirty_pages_per_s, hot_pages) -> list[int]:
    """The same rounds from Xen's rules written out directly (for the cross-check).

    Examples
    --------
    >>> rounds_direct(131072, 30517.578125, 3051.7578125, 8192)[:3]
    [131072, 6538, 628]
    """
    out, to_send, sent = [], total_pages, 0
    for index in range(1, migration.DEF_MAX_ITERS + 1):
        out.append(to_send)
        sent += to_send
        seconds = to_send / send_pages_per_s
        dirtied = migration.dirtied_pages(seconds, dirty_pages_per_s, hot_pages)
        if to_send < migration.MIN_PAGES or sent > migration.DEF_MAX_FACTOR * total_pages:
            break
        to_send = dirtied
    return out


def _args(problem: Problem) -> tuple:
    return (problem.memory_mb * 1024 // PAGE_KB, problem.bandwidth_mbit * PAGES_PER_MBIT,
            problem.dirty_rate_mbit * PAGES_PER_MBIT, problem.wws_mb * 1024 // PAGE_KB)


def solve(problem: Problem) -> dict:
    """Reference answers from :mod:`virtlab.migration`.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['downtime_ms', 'round1_pages', 'round2_pages', 'stop_copy_s', 'stop_reason']
    """
    pre = migration.precopy(problem.memory_mb, problem.bandwidth_mbit,
                            problem.dirty_rate_mbit, wws_mb=problem.wws_mb)
    stop = migration.stop_and_copy(problem.memory_mb, problem.bandwidth_mbit)
    return {"stop_copy_s": stop.downtime_s,
            "round1_pages": pre.rounds[0].pages,
            "round2_pages": pre.rounds[0].dirtied,
            "stop_reason": pre.stop_reason,
            "downtime_ms": pre.downtime_s * 1000}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recompute by hand: stop-and-copy time, rounds (direct loop), stop reason.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    by_hand = (problem.memory_mb + 256 / 1024) * 8.388608 / problem.bandwidth_mbit
    if abs(by_hand - solution["stop_copy_s"]) > 1e-9 * by_hand:
        out.append(f"stop-and-copy: {solution['stop_copy_s']} vs {by_hand}")
    model, direct = precopy_rounds(*_args(problem)), rounds_direct(*_args(problem))
    if model != direct:
        out.append(f"rounds: model {model[:5]}... vs direct {direct[:5]}...")
    if direct[0] != solution["round1_pages"] or (len(direct) > 1 and
                                                  direct[1] != solution["round2_pages"]):
        out.append("round pages differ from the direct loop")
    total, n = sum(direct), len(direct)
    reason = ("few_pages" if direct[-1] < migration.MIN_PAGES else
              "max_factor" if total > migration.DEF_MAX_FACTOR * direct[0] else "max_iters")
    if reason != solution["stop_reason"] or (reason == "max_iters" and n != 29):
        out.append(f"stop reason: model {solution['stop_reason']} vs direct {reason}")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> len(describe(make_problem(0)).splitlines()) > 2
    True
    """
    return "\n".join([
        _("A VM with {memory} MiB of memory (4 KiB pages) is live-migrated over a {bandwidth} "
          "Mbit/s link.").format(memory=problem.memory_mb, bandwidth=problem.bandwidth_mbit),
        _("While running it writes {rate} Mbit/s, uniformly into a writable working set of "
          "{wws} MiB.").format(rate=problem.dirty_rate_mbit, wws=problem.wws_mb),
        _("CPU and device state: 256 KiB, sent while the VM is paused. 1 MiB = 8.388608 Mbit."),
        _("Xen's rules: stop pre-copy after a round of fewer than 50 pages, after 29 rounds, or "
          "once more than 3x the memory has been sent.")])


def _hidden(problem, rng):
    cases = []
    for _ in range(5):
        total = rng.choice([4096, 16384, 65536, 262144])
        send = rng.choice([100, 1000]) * PAGES_PER_MBIT
        dirty = rng.choice([10, 100, 300, 900, 1500]) * PAGES_PER_MBIT
        cases.append((total, send, dirty, min(total, rng.choice([512, 2048, 8192, 32768]))))
    return cases


def worked(problem: Problem) -> list[Step]:
    """The reference answers step by step (practice mode).

    Examples
    --------
    >>> p = make_problem(2)
    >>> merged = {k: v for s in worked(p) for k, v in s.answers.items()}
    >>> merged == solve(p)
    True
    """
    sol = solve(problem)
    rounds = rounds_direct(*_args(problem))
    return [
        Step(_("stop-and-copy time"),
             _("Memory plus 256 KiB of CPU and device state, in Mbit, over the link: "
               "({memory} + 0.25) MiB × 8.388608 Mbit/MiB / {bandwidth} Mbit/s = {seconds} s, "
               "all of it downtime.").format(memory=problem.memory_mb,
                                             bandwidth=problem.bandwidth_mbit,
                                             seconds=f"{sol['stop_copy_s']:.3f}"),
             {"stop_copy_s": sol["stop_copy_s"]}),
        Step(_("the first two pre-copy rounds"),
             _("Round 1 sends every page: {round1} pages. While it is sent the VM dirties "
               "pages of its {wws} MiB writable working set at {rate} Mbit/s; those are "
               "round 2: {round2} pages.").format(
                 round1=sol["round1_pages"], wws=problem.wws_mb,
                 rate=problem.dirty_rate_mbit, round2=sol["round2_pages"]),
             {"round1_pages": sol["round1_pages"], "round2_pages": sol["round2_pages"]}),
        Step(_("why pre-copy stops"),
             _("Repeat until one of Xen's rules fires — a round of fewer than {min_pages} "
               "pages, {max_iters} rounds, or more than {max_factor}× the memory sent. "
               "Rounds: {rounds} → stop reason {reason}.").format(
                 min_pages=migration.MIN_PAGES, max_iters=migration.DEF_MAX_ITERS,
                 max_factor=migration.DEF_MAX_FACTOR,
                 rounds=", ".join(map(str, rounds[:6])) + (" …" if len(rounds) > 6 else ""),
                 reason=sol["stop_reason"]),
             {"stop_reason": sol["stop_reason"]}),
        Step(_("downtime"),
             _("The VM pauses for the last dirty pages plus the 256 KiB of state: "
               "{downtime} ms.").format(downtime=f"{sol['downtime_ms']:.3f}"),
             {"downtime_ms": sol["downtime_ms"]}),
    ]


EXERCISE = Exercise(
    id="ex06_live_migration",
    title=N_("Exercise 6: live-migration rounds"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 2, N_("Stop-and-copy pauses the VM for the whole transfer: all memory plus "
                 "the state, at the link rate. Mind MiB vs Mbit."), name="stop_copy_s",
              kind="number", rel_tol=0.01),
        Value("q2", 1, N_("Round 1 sends every page of the VM."), name="round1_pages",
              kind="int"),
        Value("q3", 2, N_("Round 2 sends the pages dirtied while round 1 ran: with W hot pages "
                 "written at r pages/s for t seconds that is about W·(1 − exp(−r·t/W)) "
                 "(virtlab.migration.dirtied_pages)."), name="round2_pages", kind="int"),
        Value("q4", 2, N_("Follow the rounds until one of Xen's three rules fires: "
                 "'few_pages', 'max_iters' or 'max_factor'."), name="stop_reason", kind="str"),
        Function("q5", 4, N_("Loop: send the pages, compute the time this takes and the pages "
                    "dirtied meanwhile; stop after a round of < 50 pages, after 29 rounds, or "
                    "once more than 3x the pages have been sent."), name="precopy_rounds",
                 public=lambda p: [(131072, 1000 * PAGES_PER_MBIT, 100 * PAGES_PER_MBIT, 8192),
                                   _args(p)],
                 hidden=_hidden, reference=lambda p, *a: precopy_rounds(*a)),
        Value("q6", 2, N_("The downtime is the final stop-and-copy round: the last dirty set "
                 "plus the state, at the link rate."), name="downtime_ms", kind="number",
              rel_tol=0.01),
    ),
)

"""Exercise 8: partitioning -- static partitions vs a shared pool (*Partitionierung*).

Per variant: a mainframe (CPUs, memory, I/O channels) split into logical
partitions, some with **dedicated** CPUs, the others with a **weight** in the
shared pool (LPAR under PR/SM); three change requests the firmware must accept
or refuse; and a short demand table of the shared partitions.  Reference
answers come from :mod:`virtlab.partitioning` (:func:`~virtlab.partitioning.assign`,
:func:`~virtlab.partitioning.entitlements`, :class:`~virtlab.partitioning.Firmware`,
:func:`~virtlab.partitioning.compare_static_shared`);
:func:`crosscheck` recomputes them from the definitions.

Examples
--------
>>> water_fill(6, [1, 5, 5], [1, 1, 1])
[1.0, 2.5, 2.5]
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...i18n import N_, _
from ...partitioning import (Firmware, Machine, Partition, assign, compare_static_shared,
                             entitlements)
from ...partitioning import water_fill as _model_water_fill
from ...rng import make_rng
from ..exercise import Exercise, Function, Manual, Value
from ..practice import Step

__all__ = ["EXERCISE", "Problem", "make_problem", "water_fill"]

STEPS = 4


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 8.

    Attributes
    ----------
    cpus, memory_gb, channels : int
        The machine.
    partitions : tuple of (name, memory_gb, channels, dedicated_cpus, weight)
        The accepted configuration (exactly one of dedicated_cpus and weight > 0).
    requests : tuple of (key, action, partition tuple)
        ``action`` is ``"add"`` or ``"replace"``; each request is applied to the
        configuration above on its own.
    demand : tuple of (name, tuple of float)
        CPUs each *shared* partition wants in each of four time steps.

    Examples
    --------
    >>> make_problem(3) == make_problem(3)
    True
    """

    cpus: int
    memory_gb: int
    channels: int
    partitions: tuple
    requests: tuple
    demand: tuple

    def machine(self) -> Machine:
        return Machine(self.cpus, self.memory_gb, self.channels)


def _part(row) -> Partition:
    name, mem, ch, ded, w = row
    return Partition(name, mem, ch, dedicated_cpus=ded, weight=w)


def _refusal(problem: Problem, action: str, row):
    # the firmware's reason for refusing the change, or None if it accepts it
    fw = Firmware(problem.machine())
    for r in problem.partitions:
        fw.add(_part(r))
    try:
        (fw.add if action == "add" else fw.replace)(_part(row))
    except ValueError as exc:
        return str(exc)
    return None


def _accepted(problem: Problem, action: str, row) -> bool:
    return _refusal(problem, action, row) is None


def make_problem(seed: int) -> Problem:
    """A variant: machine, 4 partitions, 3 change requests, a 4-step demand table.

    Examples
    --------
    >>> p = make_problem(0)
    >>> len(p.partitions), len(p.requests), len(p.demand[0][1])
    (4, 3, 4)
    """
    rng = make_rng(seed)
    while True:
        cpus = rng.choice([8, 10, 12, 16])
        memory = rng.choice([64, 96, 128])
        channels = rng.choice([12, 16, 24])
        n_ded = rng.randint(1, 2)
        names = ["prod", "db", "test", "dev"] if n_ded == 2 else ["prod", "test", "dev", "qa"]
        rows = []
        for i, name in enumerate(names):
            mem = rng.choice([8, 12, 16, 24])
            ch = rng.randint(1, 4)
            if i < n_ded:
                rows.append((name, mem, ch, rng.randint(1, cpus // 4), 0))
            else:
                rows.append((name, mem, ch, 0, rng.randint(1, 4)))
        try:
            a = assign(Machine(cpus, memory, channels), [_part(r) for r in rows])
        except ValueError:
            continue
        shared = [r for r in rows if r[4]]
        free_mem = a.free_memory_gb
        candidates = [
            ("add", ("batch", free_mem + rng.choice([4, 8]), 1, 0, 1)),
            ("add", ("batch", max(1, free_mem // 2), 1, 0, rng.randint(1, 3))),
            ("add", ("web", 4, 1, a.pool_cpus, 0)),
            ("add", ("web", 4, a.free_channels + 1, 0, 1)),
            ("replace", (shared[0][0], shared[0][1], shared[0][2], rng.randint(1, 2), 0)),
            ("replace", (rows[0][0], rows[0][1], rows[0][2], rows[0][3] + a.pool_cpus, 0)),
            ("replace", (rows[0][0], rows[0][1] + free_mem, rows[0][2], rows[0][3], 0)),
        ]
        candidates = [c for c in candidates if c[1] not in rows]  # no no-op replace
        picks = rng.sample(candidates, 3)
        requests = tuple((f"r{k + 1}", act, row) for k, (act, row) in enumerate(picks))
        p = Problem(cpus, memory, channels, tuple(rows), requests, ())
        verdicts = {_accepted(p, act, row) for _, act, row in requests}
        if verdicts != {True, False}:
            continue
        steps = [x / 2 for x in range(0, 2 * a.pool_cpus + 1)]
        demand = tuple((r[0], tuple(rng.choice(steps) for _ in range(STEPS))) for r in shared)
        return Problem(cpus, memory, channels, tuple(rows), requests, demand)


def water_fill(capacity, demands, weights) -> list:
    """Weighted max-min fair, work-conserving split (the model's :func:`water_fill`)."""
    return _model_water_fill(capacity, list(demands), list(weights))


def solve(problem: Problem) -> dict:
    """Reference answers from :mod:`virtlab.partitioning`.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['accepted', 'entitlement', 'pool', 'util']
    """
    a = assign(problem.machine(), [_part(r) for r in problem.partitions])
    weights = {r[0]: r[4] for r in problem.partitions if r[4]}
    r = compare_static_shared(a.pool_cpus, dict(problem.demand), weights)
    return {"pool": a.pool_cpus,
            "entitlement": entitlements(a),
            "accepted": {k: _accepted(problem, act, row) for k, act, row in problem.requests},
            "util": {"static": r.static_util, "shared": r.shared_util}}


def _changed(rows, action, row) -> list:
    # the configuration after one change request
    new = [row if (action == "replace" and r[0] == row[0]) else r for r in rows]
    return new + [row] if action == "add" else new


def _fill(capacity, demands, weights):
    # independent of the model: serve partitions in order of demand per weight;
    # one that wants less than its weighted share of what is left keeps only that
    order = sorted(range(len(demands)), key=lambda i: demands[i] / weights[i])
    out, left, wleft = [0.0] * len(demands), float(capacity), float(sum(weights))
    for i in order:
        out[i] = min(demands[i], left * weights[i] / wleft)
        left -= out[i]
        wleft -= weights[i]
    return out


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recompute every answer from the definitions (sums, shares, progressive filling).

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    rows = problem.partitions
    pool = problem.cpus - sum(r[3] for r in rows)
    wsum = sum(r[4] for r in rows)
    ent = {r[0]: float(r[3]) if r[3] else pool * r[4] / wsum for r in rows}
    if solution["pool"] != pool:
        out.append(f"pool: model {solution['pool']} vs {pool}")
    for k, v in ent.items():
        if abs(solution["entitlement"][k] - v) > 1e-9:
            out.append(f"entitlement {k}: model {solution['entitlement'][k]} vs {v}")
    for key, act, row in problem.requests:
        new = _changed(rows, act, row)
        ok = (sum(r[3] for r in new) <= problem.cpus
              and sum(r[1] for r in new) <= problem.memory_gb
              and sum(r[2] for r in new) <= problem.channels
              and (sum(r[3] for r in new) < problem.cpus or not any(r[4] for r in new)))
        if solution["accepted"][key] != ok:
            out.append(f"request {key}: model {solution['accepted'][key]} vs rules {ok}")
    names = [n for n, _ in problem.demand]
    w = [dict((r[0], r[4]) for r in rows)[n] for n in names]
    own = [pool * x / sum(w) for x in w]
    static = shared = 0.0
    for t in range(STEPS):
        d = [dict(problem.demand)[n][t] for n in names]
        static += sum(min(x, c) for x, c in zip(d, own))
        shared += sum(_fill(pool, d, w))
    want = {"static": static / (pool * STEPS), "shared": shared / (pool * STEPS)}
    for k, v in want.items():
        if abs(solution["util"][k] - v) > 1e-9:
            out.append(f"util {k}: model {solution['util'][k]} vs filling {v}")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> "dedicated" in describe(make_problem(0))
    True
    """
    lines = [_("Machine: {cpus} CPUs, {memory} GiB, {channels} I/O channels.").format(
                 cpus=problem.cpus, memory=problem.memory_gb, channels=problem.channels),
             _("Partitions (accepted by the firmware):")]
    for name, mem, ch, ded, w in problem.partitions:
        row = (_("{name} {memory} GiB, {channels} channel(s), {dedicated} dedicated CPU(s)")
               if ded else
               _("{name} {memory} GiB, {channels} channel(s), weight {weight} in the shared "
                 "pool"))
        lines.append("  " + row.format(name=f"{name:5s}", memory=f"{mem:3d}", channels=ch,
                                       dedicated=ded, weight=w))
    lines.append(_("Change requests (each applied on its own to the configuration above):"))
    requests = {  # (action, dedicated?) -> one whole sentence per case
        ("add", True): N_("{key}: add {name}: {memory} GiB, {channels} channel(s), "
                          "{dedicated} dedicated CPU(s)"),
        ("add", False): N_("{key}: add {name}: {memory} GiB, {channels} channel(s), "
                           "weight {weight}"),
        ("replace", True): N_("{key}: replace {name}: {memory} GiB, {channels} channel(s), "
                              "{dedicated} dedicated CPU(s)"),
        ("replace", False): N_("{key}: replace {name}: {memory} GiB, {channels} channel(s), "
                               "weight {weight}")}
    for key, act, (name, mem, ch, ded, w) in problem.requests:
        lines.append("  " + _(requests[act, bool(ded)]).format(
            key=key, name=name, memory=mem, channels=ch, dedicated=ded, weight=w))
    lines.append(_("CPU demand of the shared partitions in 4 time steps:"))
    for name, series in problem.demand:
        lines.append(f"  {name:5s} " + "  ".join(f"{x:4.1f}" for x in series))
    return "\n".join(lines)


def _hidden(problem, rng):
    cases = []
    for _ in range(6):
        n = rng.randint(1, 5)
        cases.append((rng.randint(1, 12), [rng.randint(0, 8) / 2 for _ in range(n)],
                      [rng.randint(1, 4) for _ in range(n)]))
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
    rows = problem.partitions
    pool = sol["pool"]
    ded = [r for r in rows if r[3]]
    shared = [r for r in rows if r[4]]
    wsum = sum(r[4] for r in shared)
    ent = sol["entitlement"]

    verdicts = []
    for key, act, row in problem.requests:
        new = _changed(rows, act, row)
        why = _refusal(problem, act, row)
        verdict = (_("{key} ({action} {name}): afterwards {cpus} of {machine_cpus} CPUs "
                     "dedicated, {memory} of {machine_memory} GiB, {channels} of "
                     "{machine_channels} channels → refused ({reason}).") if why else
                   _("{key} ({action} {name}): afterwards {cpus} of {machine_cpus} CPUs "
                     "dedicated, {memory} of {machine_memory} GiB, {channels} of "
                     "{machine_channels} channels → accepted."))
        verdicts.append(verdict.format(
            key=key, action=_(_ACTIONS[act]), name=row[0], cpus=sum(r[3] for r in new),
            machine_cpus=problem.cpus, memory=sum(r[1] for r in new),
            machine_memory=problem.memory_gb, channels=sum(r[2] for r in new),
            machine_channels=problem.channels, reason=_refusal_text(why) if why else ""))

    names = [n for n, _ in problem.demand]
    weights = {r[0]: r[4] for r in shared}
    r = compare_static_shared(pool, dict(problem.demand), weights)
    lines = []
    for t in range(STEPS):
        st = [r.static[n][t] for n in names]
        sh = [r.shared[n][t] for n in names]
        lines.append(_("step {step}: demand {demand}; static {static} = {static_sum}; shared "
                       "{shared} = {shared_sum}").format(
            step=t + 1, demand=" / ".join(f"{r.demand[n][t]:g}" for n in names),
            static=" + ".join(f"{x:g}" for x in st), static_sum=f"{sum(st):g}",
            shared=" + ".join(f"{x:g}" for x in sh), shared_sum=f"{sum(sh):g}"))
    tot_st = sum(sum(r.static[n]) for n in names)
    tot_sh = sum(sum(r.shared[n]) for n in names)
    util = sol["util"]
    return [
        Step(_("the shared pool"),
             _("The machine has {cpus} CPUs; the dedicated ones are {dedicated}, so the pool "
               "keeps {cpus} − {dedicated_sum} = {pool} CPUs.").format(
                 cpus=problem.cpus, dedicated=" + ".join(f"{r[3]} ({r[0]})" for r in ded),
                 dedicated_sum=sum(r[3] for r in ded), pool=pool),
             {"pool": pool}),
        Step(_("CPU entitlements"),
             _("Dedicated partitions are entitled to their own CPUs: {dedicated}. The shared "
               "weights add up to {weights} = {wsum}, so a shared partition gets {pool} · "
               "weight / {wsum}: {shares}.").format(
                 dedicated=", ".join(f"{r[0]} {ent[r[0]]:g}" for r in ded),
                 weights=" + ".join(str(r[4]) for r in shared), wsum=wsum, pool=pool,
                 shares=", ".join(f"{r[0]} {pool} · {r[4]} / {wsum} = {ent[r[0]]:g}"
                                  for r in shared)),
             {"entitlement": ent}),
        Step(_("which changes the firmware accepts"),
             _("Apply each request on its own and add up dedicated CPUs, memory and channels; "
               "any sum above the machine's, or no CPU left in the pool while shared "
               "partitions exist, is refused:\n{verdicts}").format(
                 verdicts="\n".join(verdicts)),
             {"accepted": sol["accepted"]}),
        Step(_("utilization, static vs shared"),
             _("Static: each shared partition ({entitlements}) is served min(demand, "
               "entitlement). Shared: the whole pool of {pool} CPUs is split by water_fill "
               "(weighted, unused parts passed on). CPUs served per step ({names}):\n"
               "{lines}\nUtilization = served / ({pool} CPUs · {steps} steps = {capacity}): "
               "static {static} / {capacity} = {static_util}, shared {shared} / {capacity} "
               "= {shared_util}.").format(
                 entitlements=", ".join(f"{n} {ent[n]:g}" for n in names), pool=pool,
                 names=" / ".join(names), lines="\n".join(lines), steps=STEPS,
                 capacity=pool * STEPS, static=f"{tot_st:g}",
                 static_util=f"{util['static']:.4g}", shared=f"{tot_sh:g}",
                 shared_util=f"{util['shared']:.4g}"),
             {"util": util}),
    ]


#: A change request's action as the worked solution names it.
_ACTIONS = {"add": N_("add"), "replace": N_("replace")}

#: The firmware's refusals (:func:`virtlab.partitioning.assign`'s messages) as the
#: worked solution words them, by the message's form; the numbers are the firmware's.
_REFUSALS = (
    (re.compile(r"partitions over-assign CPUs: (?P<n>\d+) dedicated CPUs requested, "
                r"the machine has (?P<have>\d+)$"),
     N_("over-assign CPUs: {n} dedicated CPUs requested, the machine has {have}")),
    (re.compile(r"partitions over-assign memory: (?P<n>\d+) GiB requested, "
                r"the machine has (?P<have>\d+) GiB$"),
     N_("over-assign memory: {n} GiB requested, the machine has {have} GiB")),
    (re.compile(r"partitions over-assign I/O channels: (?P<n>\d+) requested, "
                r"the machine has (?P<have>\d+)$"),
     N_("over-assign I/O channels: {n} requested, the machine has {have}")),
    (re.compile(r"partitions: shared partitions need a shared pool, but all "
                r"(?P<n>\d+) CPUs are dedicated$"),
     N_("shared partitions need a shared pool, but all {n} CPUs are dedicated")),
)


def _refusal_text(message: str) -> str:
    # the firmware's reason in the current language; a message of another form (a
    # changed model) stays as the firmware wrote it, minus its "partitions" prefix
    for pattern, text in _REFUSALS:
        m = pattern.match(message)
        if m:
            return _(text).format(**m.groupdict())
    return message.removeprefix("partitions").lstrip(": ")


EXERCISE = Exercise(
    id="ex08_partitioning",
    title=N_("Exercise 8: partitioning -- static partitions vs a shared pool"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 1, N_("The shared pool is every CPU no partition has dedicated."),
              name="pool", kind="int"),
        Value("q2", 2, N_("A dedicated partition is entitled to its CPUs; a shared one to "
                 "pool * weight / (sum of the shared weights)."), name="entitlement",
              kind="dict", per_entry=True),
        Value("q3", 2, N_("The firmware refuses a change that over-assigns dedicated CPUs, memory "
                 "or channels, or that leaves shared partitions without a pool."),
              name="accepted", kind="dict", per_entry=True),
        Function("q4", 3, N_("Give everyone its weighted share of what is left; whoever wants "
                    "less keeps only its demand and its leftover is shared again among the "
                    "others, until nothing is left or everybody is satisfied."),
                 name="water_fill",
                 public=lambda p: [(6, [1, 5, 5], [1, 1, 1]), (6, [9, 9], [2, 1])],
                 hidden=_hidden, reference=lambda p, c, d, w: water_fill(c, d, w)),
        Value("q5", 2, N_("Static: each partition gets min(demand, its entitlement) per step. "
                 "Shared: water_fill(pool, demands, weights) per step. Utilization = served "
                 "CPU time / (pool * steps)."), name="util", kind="dict", per_entry=True),
    ),
    manual=(
        Manual("q6", 2, "Full marks: the gap shrinks (towards zero). Sharing only helps when "
               "one partition's unused entitlement can serve another's excess demand; when "
               "all bursts come in the same steps, all partitions are over their entitlement "
               "(or all idle) together, so there is nothing to lend."),
    ),
)

"""Exercise 7: interrupt routing -- the hypervisor as multiplexer (*Interruptverarbeitung*).

Per variant: a script of operations on an 8-line interrupt controller (raise,
mask, unmask, acknowledge, end of interrupt; priority = line number, as in an
8259 PIC in fully nested mode), a Xen-like platform (dom0 as driver domain,
two domUs, maybe one device passed through), and a few device interrupts.
Reference answers come from :mod:`virtlab.interrupts`:
:class:`~virtlab.interrupts.InterruptController` acknowledges,
:class:`~virtlab.interrupts.Platform` knows owners and event channels, and
:func:`~virtlab.interrupts.simulate_interrupts` records each interrupt's
journey.  :func:`crosscheck` recomputes them from the routing rules alone.

Examples
--------
>>> pic_acks([["raise", 5], ["raise", 3], ["ack"], ["raise", 1], ["ack"], ["eoi"], ["ack"]])
[[3, 1], [1, 1], None]
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

from dataclasses import dataclass

from ...i18n import N_, _
from ...devices import IOEvent
from ...interrupts import HYPERVISOR, InterruptController, Platform, simulate_interrupts
from ...rng import make_rng
from ..practice import Step
from ..exercise import Exercise, Function, Value

__all__ = ["EXERCISE", "Problem", "make_problem", "pic_acks"]

LINES = 8
DOMAINS = ("dom0", "domU1", "domU2")


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 7.

    Attributes
    ----------
    ops : tuple of tuple
        ``("raise", line)``, ``("mask", line)``, ``("unmask", line)``,
        ``("ack",)``, ``("eoi",)`` (EOI ends the most urgent in-service line).
    passthrough : tuple
        ``(device, domU)`` assigned through the IOMMU, or ``()``.
    events : tuple of (key, device, target)
        Device interrupts for data belonging to ``target`` (None: timer).

    Examples
    --------
    >>> make_problem(5) == make_problem(5)
    True
    """

    ops: tuple
    passthrough: tuple
    events: tuple


def pic_acks(ops) -> list:
    """Results of the ``ack`` operations on an 8-line controller, via the model.

    Each result is ``[line, merged events]`` or None (nothing deliverable);
    the merged-event count is the model's convention (a real 8259 keeps one
    pending bit per line and does not count).
    """
    pic = InterruptController(LINES)
    out = []
    for op in ops:
        if op[0] == "raise":
            pic.raise_line(op[1])
        elif op[0] == "mask":
            pic.mask(op[1])
        elif op[0] == "unmask":
            pic.unmask(op[1])
        elif op[0] == "ack":
            got = pic.acknowledge()
            out.append(None if got is None else list(got))
        elif op[0] == "eoi":
            pic.eoi()
    return out


def random_ops(rng, n: int) -> list:
    """A valid random operation script (EOI only while something is in service).

    Examples
    --------
    >>> from virtlab.rng import make_rng
    >>> len(random_ops(make_rng(1), 9))
    9
    """
    pic = InterruptController(LINES)
    ops: list = []
    while len(ops) < n:
        kind = rng.choice(["raise", "raise", "raise", "ack", "ack", "eoi", "mask", "unmask"])
        if kind in ("raise", "mask", "unmask"):
            op = [kind, rng.randrange(LINES)]
        elif kind == "eoi" and not pic.in_service:
            continue
        else:
            op = [kind]
        ops.append(op)
        if kind == "raise":
            pic.raise_line(op[1])
        elif kind == "mask":
            pic.mask(op[1])
        elif kind == "unmask":
            pic.unmask(op[1])
        elif kind == "ack":
            pic.acknowledge()
        else:
            pic.eoi()
    return ops


def make_problem(seed: int) -> Problem:
    """A variant: operation script, platform and events.

    Examples
    --------
    >>> make_problem(4) == make_problem(4)
    True
    """
    rng = make_rng(seed)
    while True:
        ops = random_ops(rng, rng.randint(10, 13))
        acks = pic_acks(ops)
        if len(acks) >= 3 and sum(a is not None for a in acks) >= 2:
            break
    passthrough = rng.choice([(), ("nic", "domU1"), ("disk", "domU2"), ("nic", "domU2")])
    events = []
    for k in range(4):
        device = rng.choice(["nic", "disk", "timer", "nic"])
        if device == "timer":
            target = None
        elif passthrough and passthrough[0] == device:
            target = passthrough[1]
        else:
            target = rng.choice(["domU1", "domU2"])
        events.append((f"e{k + 1}", device, target))
    return Problem(tuple(tuple(op) for op in ops), tuple(passthrough), tuple(events))


def _platform(problem: Problem) -> Platform:
    plat = Platform(DOMAINS)
    if problem.passthrough:
        plat.assign(*problem.passthrough)
    return plat


def _path(journey) -> list:
    actors = [s.actor for s in journey][1:]          # drop the device itself
    return [a for i, a in enumerate(actors) if i == 0 or actors[i - 1] != a]


def solve(problem: Problem) -> dict:
    """Reference answers from the interrupt models.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['acks', 'channels', 'paths']
    """
    plat = _platform(problem)
    trace = simulate_interrupts(plat, [IOEvent(100 * i, dev, tgt)
                                       for i, (_, dev, tgt) in enumerate(problem.events)])
    paths = {key: _path(j) for (key, _, _), j in zip(problem.events, trace.journeys)}
    return {"acks": pic_acks(problem.ops), "paths": paths, "channels": len(plat.channels())}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recompute the paths and channel count from the routing rules alone.

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    owner = {"timer": HYPERVISOR, "nic": "dom0", "disk": "dom0"}
    if problem.passthrough:
        owner[problem.passthrough[0]] = problem.passthrough[1]
    for key, dev, tgt in problem.events:
        if owner[dev] == HYPERVISOR:
            want = [HYPERVISOR]
        elif owner[dev] == "dom0":
            want = [HYPERVISOR, "dom0", tgt]
        else:
            want = [HYPERVISOR, owner[dev]]
        if solution["paths"][key] != want:
            out.append(f"path of {key}: model {solution['paths'][key]} vs rules {want}")
    split = sum(1 for d in ("nic", "disk") if owner[d] == "dom0")
    if solution["channels"] != 2 * split:
        out.append(f"channels: model {solution['channels']} vs rules {2 * split}")
    if len(solution["acks"]) != sum(op[0] == "ack" for op in problem.ops):
        out.append("one result per ack expected")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> len(describe(make_problem(0)).splitlines()) > 2
    True
    """
    ops = ", ".join(f"{op[0]} {op[1]}" if len(op) > 1 else op[0] for op in problem.ops)
    platform = (_("Platform: hypervisor (timer), dom0 (driver domain: nic, disk), domU1, domU2; "
                  "{device} is passed through to {domain} (IOMMU).").format(
                      device=problem.passthrough[0], domain=problem.passthrough[1])
                if problem.passthrough else
                _("Platform: hypervisor (timer), dom0 (driver domain: nic, disk), domU1, domU2; "
                  "no device is passed through."))
    events = ["  " + (_("{key}: {device} interrupt for data of {domain}") if t
                      else _("{key}: {device} interrupt")).format(key=k, device=d, domain=t)
              for k, d, t in problem.events]
    return "\n".join([
        _("Interrupt controller with 8 lines, all unmasked, nothing pending; line 0 is most "
          "urgent."),
        _("Operations: {ops}").format(ops=ops), platform, _("Device interrupts:"), *events])


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
    pt = (_("{device} belongs to {domain} (passthrough)").format(
              device=problem.passthrough[0], domain=problem.passthrough[1])
          if problem.passthrough else _("no device is passed through"))
    return [
        Step(_("what the controller acknowledges"),
             _("Replay the operations on the controller: a raise sets the line's pending bit, "
               "an ack hands the CPU the most urgent pending, unmasked line (line 0 first) "
               "and clears its bit: {acks}.").format(acks=", ".join(map(str, sol["acks"]))),
             {"acks": sol["acks"]}),
        Step(_("interrupt paths"),
             _("The timer belongs to the hypervisor; nic and disk belong to dom0 unless "
               "passed through ({passthrough}). A dom0 device's interrupt goes hypervisor → "
               "dom0 → the domU the data is for; a passed-through one goes hypervisor → its "
               "domU: {paths}.").format(
                 passthrough=pt,
                 paths="; ".join(f"{k}: {' → '.join(v)}" for k, v in sol["paths"].items())),
             {"paths": sol["paths"]}),
        Step(_("event channels"),
             _("Each split-driver device in dom0 needs one event channel per domU frontend "
               "(two domUs): {channels} channels.").format(channels=sol["channels"]),
             {"channels": sol["channels"]}),
    ]


EXERCISE = Exercise(
    id="ex07_interrupt_routing",
    title=N_("Exercise 7: interrupt routing"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 3, N_("ack takes the most urgent pending, unmasked line that outranks every "
                 "line in service, and reports how many raises merged behind its pending bit "
                 "(a model convention: a real 8259 keeps one bit and loses the extra edges); "
                 "eoi ends the most urgent line in service."), name="acks", kind="list"),
        Value("q2", 3, N_("Every physical interrupt reaches the hypervisor first. The timer stays "
                 "there; a split-driver device goes to dom0, whose backend notifies the domU "
                 "by an event channel; a passed-through device goes straight to its domU."),
              name="paths", kind="dict", per_entry=True),
        Value("q3", 1, N_("dom0 opens one event channel per split-driver device and domU."),
              name="channels", kind="int"),
        Function("q4", 3, N_("Keep a count per line, a mask bit per line and a list of lines "
                    "in service; compare priorities (the line number) as in q1."),
                 name="pic_acks",
                 public=lambda p: [([["raise", 5], ["raise", 3], ["ack"], ["raise", 1],
                                     ["ack"], ["eoi"], ["ack"]],),
                                   ([list(op) for op in p.ops],)],
                 hidden=lambda p, rng: [(random_ops(rng, rng.randint(8, 20)),)
                                        for _ in range(6)],
                 reference=lambda p, ops: pic_acks(ops)),
    ),
)

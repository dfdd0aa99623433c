"""Exercise 9: containers vs VMs -- density, isolation, namespaces (*Anwendungsvirtualisierung*).

Per variant: *n* copies of one application on a host, as containers and as
VMs (footprint and density with the default :class:`~virtlab.containers.Costs`);
a container host with two containers that have different namespace sets,
hostnames, processes and cgroup limits; incidents whose reach the student
predicts; and one demand against a container's cgroup limits.  Reference
answers come from :mod:`virtlab.containers` (:func:`~virtlab.containers.compare`,
:class:`~virtlab.containers.ContainerHost`, :func:`~virtlab.containers.blast_radius`);
:func:`crosscheck` recomputes them from the definitions.

Examples
--------
>>> ps([["sshd", None], ["nginx", "web"], ["db", "sql"]], "web", True)
[[1, 'nginx']]
>>> p = make_problem(0)
>>> crosscheck(p, solve(p))
[]
"""

from __future__ import annotations

from dataclasses import dataclass

from ...containers import NAMESPACES, ContainerHost, Costs, blast_radius, compare, scope_label
from ...i18n import N_, _
from ...rng import make_rng
from ..exercise import Exercise, Function, Manual, Value
from ..practice import Step

__all__ = ["EXERCISE", "Problem", "make_problem", "ps"]

HOSTNAME = "server"


@dataclass(frozen=True)
class Problem:
    """One variant of exercise 9.

    Attributes
    ----------
    instances, app_mb, host_memory_gb : int
        *n* copies of an application of ``app_mb`` MiB on a host.
    containers : tuple of (name, namespaces, hostname, cpu_limit, memory_limit_mb, pids_limit)
        Limits may be None (no limit).
    procs : tuple of (command, container or None)
        Processes in start order after ``init`` (PID 1 on the host).
    incidents : tuple of (key, kind, incident, limits)
    demand : (container, cpu, memory_mb, forks)

    Examples
    --------
    >>> make_problem(2) == make_problem(2)
    True
    """

    instances: int
    app_mb: int
    host_memory_gb: int
    containers: tuple
    procs: tuple
    incidents: tuple
    demand: tuple


def _host(containers, procs) -> ContainerHost:
    host = ContainerHost(hostname=HOSTNAME)
    for name, ns, hostname, cpu, mem, pids in containers:
        host.add_container(name, namespaces=ns, hostname=hostname, cpu_limit=cpu,
                           memory_limit_mb=mem, pids_limit=pids)
    for cmd, owner in procs:
        host.spawn(owner, cmd)
    return host


def ps(procs, viewer, pid_namespace) -> list:
    """``ps`` as seen from ``viewer`` (None: the host), via :class:`ContainerHost`.

    ``procs`` lists ``[command, container or None]`` in start order (after
    ``init``, PID 1); ``pid_namespace`` says whether ``viewer`` has its own
    pid namespace.  Returns ``[[pid, command], ...]``.
    """
    owners = sorted({o for _, o in procs if o is not None} | ({viewer} - {None}))
    rows = []
    for o in owners:
        ns = NAMESPACES if (o != viewer or pid_namespace) else tuple(
            n for n in NAMESPACES if n != "pid")
        rows.append((o, ns, None, None, None, None))
    host = _host(rows, [tuple(x) for x in procs])
    return [[pid, cmd] for pid, cmd in host.ps(viewer)]


_COMMANDS = ("nginx", "php-fpm", "redis", "postgres", "cron", "worker", "sshd", "rsyslogd")


def make_problem(seed: int) -> Problem:
    """A variant: density question, container host, incidents, a cgroup demand.

    Examples
    --------
    >>> len(make_problem(0).containers)
    2
    """
    rng = make_rng(seed)
    instances = rng.randint(8, 40)
    app_mb = rng.choice([64, 100, 128, 200, 300, 512])
    host_gb = rng.choice([16, 32, 64, 128])
    containers = []
    for name in ("web", "db"):
        ns = tuple(n for n in NAMESPACES if n in ("pid", "uts") and rng.random() < 0.6
                   or n not in ("pid", "uts") and rng.random() < 0.8)
        hostname = f"{name}{rng.randint(1, 9)}" if "uts" in ns else None
        containers.append((name, ns, hostname, rng.choice([None, 0.5, 1.0, 2.0]),
                           rng.choice([None, 256, 512, 1024]), rng.choice([None, 20, 50])))
    procs = [(rng.choice(_COMMANDS), rng.choice([None, "web", "db", "web"]))
             for _ in range(rng.randint(5, 8))]
    combos = [(k, i, lim) for k in ("container", "vm")
              for i in ("memory hog", "fork bomb", "kernel bug", "hypervisor bug", "app crash")
              for lim in ((True, False) if k == "container" else (True,))]
    incidents = tuple((f"i{j + 1}", *c) for j, c in enumerate(rng.sample(combos, 4)))
    target = rng.choice(["web", "db"])
    demand = (target, rng.choice([0.5, 1.0, 1.5, 3.0]), rng.choice([128, 300, 600, 1500]),
              rng.choice([0, 10, 40, 100]))
    return Problem(instances, app_mb, host_gb, tuple(containers), tuple(procs), incidents,
                   demand)


def solve(problem: Problem) -> dict:
    """Reference answers from :mod:`virtlab.containers`.

    Examples
    --------
    >>> sorted(solve(make_problem(0)))
    ['cgroup', 'density', 'memory', 'reach', 'views']
    """
    c = compare(problem.instances, problem.app_mb, problem.host_memory_gb)
    host = _host(problem.containers, problem.procs)
    views = {}
    for name, *_ in problem.containers:
        views[f"ps {name}"] = [[pid, cmd] for pid, cmd in host.ps(name)]
        views[f"uname {name}"] = host.uname(name)
    name, cpu, mem, forks = problem.demand
    v = host.enforce(name, cpu, mem, forks)
    return {"memory": {"container": c.container.total_mb, "vm": c.vm.total_mb},
            "density": {"container": c.container.density, "vm": c.vm.density},
            "views": views,
            "reach": {k: blast_radius(kind, inc, limits=lim).scope
                      for k, kind, inc, lim in problem.incidents},
            "cgroup": {"cpu_granted": v.cpu_granted, "oom_killed": v.oom_killed,
                       "forks_refused": v.forks_refused}}


def crosscheck(problem: Problem, solution: dict) -> list[str]:
    """Recompute the answers from the definitions (costs, namespaces, limits, shared parts).

    Examples
    --------
    >>> p = make_problem(1)
    >>> crosscheck(p, solve(p))
    []
    """
    out = []
    k = Costs()
    room = problem.host_memory_gb * 1024 - k.host_reserved_mb
    per = {"container": problem.app_mb + k.container_overhead_mb,
           "vm": problem.app_mb + k.guest_os_mb + k.vm_overhead_mb}
    for kind in per:
        if solution["density"][kind] != int(room // per[kind]):
            out.append(f"density {kind}")
        if abs(solution["memory"][kind] - per[kind] * problem.instances) > 1e-9:
            out.append(f"memory {kind}")
    procs = [("init", None)] + list(problem.procs)
    for name, ns, hostname, *_ in problem.containers:
        if "pid" in ns:
            want = [[i + 1, cmd] for i, cmd in enumerate(c for c, o in procs if o == name)]
        else:
            want = [[i + 1, cmd] for i, (cmd, _) in enumerate(procs)]
        if solution["views"][f"ps {name}"] != want:
            out.append(f"ps {name}: model {solution['views'][f'ps {name}']} vs {want}")
        if solution["views"][f"uname {name}"] != (hostname or HOSTNAME):
            out.append(f"uname {name}")
    for key, kind, inc, lim in problem.incidents:
        shared = {"container": {"kernel bug", "hypervisor bug"}, "vm": {"hypervisor bug"}}
        if inc in shared[kind] or (kind == "container" and not lim
                                   and inc in ("memory hog", "fork bomb")):
            want = "host"
        else:
            want = "process" if inc == "app crash" else "instance"
        if solution["reach"][key] != want:
            out.append(f"reach {key}: model {solution['reach'][key]} vs {want}")
    name, cpu, mem, forks = problem.demand
    spec = dict((c[0], c[3:]) for c in problem.containers)[name]
    running = sum(1 for _, o in problem.procs if o == name)
    want = {"cpu_granted": min(cpu, spec[0]) if spec[0] is not None else cpu,
            "oom_killed": spec[1] is not None and mem > spec[1],
            "forks_refused": min(forks, max(0, running + forks - spec[2]))
            if spec[2] is not None else 0}
    if solution["cgroup"] != want:
        out.append(f"cgroup: model {solution['cgroup']} vs limits {want}")
    return out


def describe(problem: Problem) -> str:
    """The problem statement shown by ``ex.show()``, in the current language.

    Examples
    --------
    >>> "namespaces" in describe(make_problem(0))
    True
    """
    k = Costs()
    lines = [_("Density: {instances} copies of a {app} MiB application on a host with {host} GiB "
               "({reserved} MiB reserved for the host).").format(
                 instances=problem.instances, app=problem.app_mb, host=problem.host_memory_gb,
                 reserved=f"{k.host_reserved_mb:g}"),
             "  " + _("per container: + {container} MiB run-time overhead; per VM: + {guest} MiB "
                      "guest OS + {vm} MiB hypervisor overhead").format(
                 container=f"{k.container_overhead_mb:g}", guest=f"{k.guest_os_mb:g}",
                 vm=f"{k.vm_overhead_mb:g}"),
             _("Container host '{host}' (PID 1 = init):").format(host=HOSTNAME)]
    for name, ns, hostname, cpu, mem, pids in problem.containers:
        lines.append("  " + _("{name}: own namespaces {namespaces}; hostname {hostname}; limits "
                              "cpu={cpu}, memory_mb={memory}, pids={pids}").format(
            name=name, namespaces=", ".join(ns) or _("none"),
            hostname=hostname or _("(not set)"), cpu=cpu, memory=mem, pids=pids))
    lines.append(_("Processes started after init, in order: {processes}").format(
        processes=", ".join(f"{cmd} ({owner or _('host')})" for cmd, owner in problem.procs)))
    # incident names are containers.INCIDENTS, whose labels the catalogue has
    incidents = [(_("{key}: {incident} in a vm") if kind == "vm" else
                  _("{key}: {incident} in a container with cgroup limits") if lim else
                  _("{key}: {incident} in a container without limits")).format(
                      key=key, incident=_(inc))
                 for key, kind, inc, lim in problem.incidents]
    lines.append(_("Incidents: {incidents}").format(incidents="; ".join(incidents)))
    name, cpu, mem, forks = problem.demand
    lines.append(_("Demand in container {name}: {cpu} CPUs, {memory} MiB, {forks} more "
                   "forks.").format(name=name, cpu=cpu, memory=mem, forks=forks))
    return "\n".join(lines)


def _hidden(problem, rng):
    cases = []
    for _ in range(6):
        procs = [[rng.choice(_COMMANDS), rng.choice([None, "a", "b"])]
                 for _ in range(rng.randint(0, 7))]
        cases.append((procs, rng.choice([None, "a", "b"]), rng.random() < 0.6))
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
    k = Costs()
    c = compare(problem.instances, problem.app_mb, problem.host_memory_gb, k)
    n, app = problem.instances, problem.app_mb
    room = problem.host_memory_gb * 1024 - k.host_reserved_mb
    mem, dens = sol["memory"], sol["density"]

    views = sol["views"]
    seen = []
    for name, ns, hostname, *_rest in problem.containers:
        mine = [cmd for cmd, owner in problem.procs if owner == name]
        if "pid" in ns:
            how = _("{name} has its own pid namespace: it sees only its own {n} process(es), "
                    "numbered from 1 in start order").format(name=name, n=len(mine))
        else:
            how = _("{name} shares the host's pid namespace: it sees init and all {n} "
                    "processes with their host PIDs").format(name=name, n=len(problem.procs))
        ps_text = ", ".join(f"{pid} {cmd}" for pid, cmd in views[f"ps {name}"]) or _("nothing")
        uts = (_("its own uts namespace, so uname -n gives its hostname {hostname}")
               if "uts" in ns else
               _("no uts namespace, so uname -n gives the host's name {hostname}")).format(
                   hostname=views[f"uname {name}"])
        seen.append(f"{how}: {ps_text}; {uts}.")

    reach = []
    for key, kind, inc, lim in problem.incidents:
        r = blast_radius(kind, inc, limits=lim)
        line = (_("{key} ({incident} in a vm): {scope} — {why}.") if kind == "vm" else
                _("{key} ({incident} in a container with limits): {scope} — {why}.") if lim
                else _("{key} ({incident} in a container without limits): {scope} — {why}."))
        # incident names are containers.INCIDENTS, whose labels the catalogue has
        reach.append(line.format(key=key, incident=_(inc), scope=scope_label(r.scope),
                                 why=r.why))

    name, cpu, mem_mb, forks = problem.demand
    *_spec, cpu_lim, mem_lim, pids = dict((x[0], x) for x in problem.containers)[name]
    running = sum(1 for _cmd, owner in problem.procs if owner == name)
    cg = sol["cgroup"]
    cpu_text = (_("CPU: {wanted} wanted, limit {limit} → {granted} granted").format(
                    wanted=f"{cpu:g}", limit=f"{cpu_lim:g}", granted=f"{cg['cpu_granted']:g}")
                if cpu_lim is not None else
                _("CPU: no limit → all {granted} granted").format(
                    granted=f"{cg['cpu_granted']:g}"))
    mem_text = ((_("memory: {wanted} MiB against a limit of {limit} MiB → over it, the OOM "
                   "killer strikes") if cg["oom_killed"] else
                 _("memory: {wanted} MiB against a limit of {limit} MiB → fits, no OOM "
                   "kill")).format(wanted=mem_mb, limit=mem_lim)
                if mem_lim is not None else _("memory: no limit → no OOM kill"))
    pid_text = (_("pids: limit {limit} with {running} running leaves room for {room} more, "
                  "so of {forks} forks {refused} are refused").format(
                      limit=pids, running=running, room=max(0, pids - running), forks=forks,
                      refused=cg["forks_refused"])
                if pids is not None else _("pids: no limit → no fork refused"))
    return [
        Step(_("memory for all instances"),
             _("Container: {app} MiB + {overhead} MiB overhead = {per_container} MiB each, "
               "× {n} = {containers} MiB. VM: {app} + {guest_os} (guest OS) + {vm_overhead} "
               "(hypervisor) = {per_vm} MiB each, × {n} = {vms} MiB.").format(
                 app=app, overhead=f"{k.container_overhead_mb:g}",
                 per_container=f"{c.container.per_instance_mb:g}", n=n,
                 containers=f"{mem['container']:g}", guest_os=f"{k.guest_os_mb:g}",
                 vm_overhead=f"{k.vm_overhead_mb:g}", per_vm=f"{c.vm.per_instance_mb:g}",
                 vms=f"{mem['vm']:g}"),
             {"memory": mem}),
        Step(_("density"),
             _("The host keeps {reserved} MiB of its {gib} GiB = {mib} MiB, leaving {room} "
               "MiB. Containers: {room} // {per_container} = {containers}; VMs: {room} // "
               "{per_vm} = {vms}.").format(
                 reserved=f"{k.host_reserved_mb:g}", gib=problem.host_memory_gb,
                 mib=problem.host_memory_gb * 1024, room=f"{room:g}",
                 per_container=f"{c.container.per_instance_mb:g}",
                 containers=dens["container"], per_vm=f"{c.vm.per_instance_mb:g}",
                 vms=dens["vm"]),
             {"density": dens}),
        Step(_("what ps and uname show inside each container"),
             "\n".join(seen), {"views": views}),
        Step(_("how far an incident reaches"),
             _("Whatever the instances share is hit together: containers share the host "
               "kernel, VMs the hypervisor; cgroup limits keep a hog inside its "
               "container.\n{incidents}").format(incidents="\n".join(reach)),
             {"reach": sol["reach"]}),
        Step(_("the cgroup limits of {name}").format(name=name),
             f"{cpu_text}; {mem_text}; {pid_text}.", {"cgroup": cg}),
    ]


EXERCISE = Exercise(
    id="ex09_containers",
    title=N_("Exercise 9: containers vs VMs"),
    make_problem=make_problem,
    solve=solve,
    describe=describe,
    crosscheck=crosscheck,
    worked=worked,
    questions=(
        Value("q1", 1, N_("A container adds only its run-time overhead to the application; a VM "
                 "adds a whole guest OS and the hypervisor's per-VM memory."), name="memory",
              kind="dict", per_entry=True),
        Value("q2", 2, N_("Density = how many whole instances fit into the host memory left "
                 "after the host's reservation (integer division)."), name="density",
              kind="dict", per_entry=True),
        Function("q3", 3, N_("With its own pid namespace a viewer sees only its own processes, "
                    "numbered from 1 in start order; without one (or from the host) it sees "
                    "every process with its host PID (init is 1)."), name="ps",
                 public=lambda p: [([["sshd", None], ["nginx", "web"], ["db", "sql"]], "web",
                                    True),
                                   ([["sshd", None], ["nginx", "web"]], "web", False)],
                 hidden=_hidden, reference=lambda p, procs, viewer, own: ps(procs, viewer,
                                                                               own)),
        Value("q4", 2, N_("ps: see q3. uname: a container with a uts namespace sees its own "
                 "hostname, otherwise the host's."), name="views", kind="dict", per_entry=True),
        Value("q5", 2, N_("Shared parts decide the reach: every container shares the host "
                 "kernel, every VM the hypervisor; cgroup limits keep a memory hog or a fork "
                 "bomb inside its container; an application crash stays in its process."),
              name="reach", kind="dict", per_entry=True),
        Value("q6", 2, N_("CPU above the limit is throttled; memory above the limit triggers "
                 "the OOM killer in the container; forks beyond pids minus the running "
                 "processes are refused."), name="cgroup", kind="dict", per_entry=True),
    ),
    manual=(
        Manual("q7", 2, "Full marks: the host's kernel release. The uts namespace only "
               "gives the container its own hostname (and domain name); all containers run "
               "on the one shared host kernel, which no namespace replaces. In a VM, "
               "uname -r shows the guest kernel."),
    ),
)

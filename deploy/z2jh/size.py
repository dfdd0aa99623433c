"""Zero to JupyterHub values for a class, sized from the load test's figures.

``python deploy/z2jh/size.py [--results benchmarks/hub_results.json]
[--students 300] [--node-cpu 8] [--node-mem-gib 32] [--out deploy/z2jh/values.yaml]``

Every number in the generated ``values.yaml`` that depends on the course comes
from the ``make bench-hub`` results file (``benchmarks/hub_results.json``), so
it is traceable; the rules, each a named constant below:

* the **reference run** is the load test's capacity: the largest class
  without failure and with widget p95 within the target (the students were
  served well, so its per-student figures are what one student needs);
* **memory guarantee** = that run's memory per student (server + one
  kernel, RSS) times ``MEM_HEADROOM``,
  rounded up to 64 MiB; **limit** = guarantee + ``EXTRA_KERNELS`` times the
  measured kernel share (a student keeps more than one notebook open);
* **CPU guarantee** = the measured CPU per interacting student times
  ``CPU_HEADROOM`` (at least ``CPU_FLOOR``); **limit** = ``CPU_LIMIT`` cores
  (a redraw may use a whole core for a moment; a student never gets more);
* **nodes** for ``--students`` on nodes of the given size, ``NODE_RESERVE``
  of each kept for the system, the binding resource deciding;
* **storage** per student = the course folders' size times
  ``STORAGE_FACTOR``, at least 1 GiB;
* **culling**: servers idle for ``CULL_IDLE_S`` are stopped (students' files
  stay on their volume), none lives longer than ``CULL_MAX_AGE_S``.

The results also go to ``sizing.json`` beside the values (the inputs and the
derived figures).  ``tests/test_hub_deploy.py`` checks that the committed
values are what this script makes of the committed results file.

Examples
--------
>>> round_up(130, 64)
192
>>> nodes_needed(300, per_node=42)
8
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = ROOT / "benchmarks" / "hub_results.json"

MEM_HEADROOM = 1.25      # guarantee over the measured RSS (Python heaps grow)
EXTRA_KERNELS = 2        # more notebooks open than the one measured
CPU_HEADROOM = 2.0       # guarantee over the measured mean of an interacting student
CPU_FLOOR = 0.05         # cores: nobody is starved below this
CPU_LIMIT = 1.0          # cores: one redraw may use a core, never more
NODE_RESERVE = 0.10      # of each node for kubelet, system pods, the hub
STORAGE_FACTOR = 50      # the course folders' size times this: room for the student's work
CULL_IDLE_S = 3600       # an idle hour ends a server (the files stay)
CULL_MAX_AGE_S = 8 * 3600
COURSE_FOLDERS = ("notebooks", "exercises")
IMAGE = "registry.example.edu/virtlab-course"  # set to the registry the image is pushed to


def round_up(value: float, step: int) -> int:
    """``value`` rounded up to a multiple of ``step``."""
    return int(math.ceil(value / step) * step)


def nodes_needed(students: int, per_node: int) -> int:
    """Nodes for ``students`` when ``per_node`` fit on one."""
    if per_node < 1:
        raise ValueError(f"per_node must be >= 1, got {per_node}")
    return math.ceil(students / per_node)


def folder_mib(paths: list[Path]) -> float:
    return sum(f.stat().st_size for p in paths for f in p.rglob("*") if f.is_file()) / 2**20


def reference_run(results: dict) -> dict:
    """The run the sizing uses: the largest class without failure whose widget
    p95 met the target (``p95_target_ms`` of the results)."""
    target = results.get("p95_target_ms", 250.0)
    clean = [r for r in results["runs"] if r["failures"] == 0
             and r.get("widget_p95_ms") is not None and r["widget_p95_ms"] <= target
             and r.get("rss_per_student_mib") and r.get("cpu_per_student_cores") is not None]
    if not clean:
        raise ValueError("the results hold no run without failures within the p95 target: "
                         "nothing to size from")
    return max(clean, key=lambda r: r["users"])


def sizing(results: dict, students: int, node_cpu: float, node_mem_gib: float,
           course_mib: float) -> dict[str, Any]:
    """The derived figures (see the module docstring for the rules)."""
    if students < 1:
        raise ValueError(f"students must be >= 1, got {students}")
    run = reference_run(results)
    rss = run["rss_per_student_mib"]
    kernel = run.get("kernel_rss_per_student_mib") or rss / 2
    mem_guarantee = round_up(rss * MEM_HEADROOM, 64)
    mem_limit = round_up(mem_guarantee + EXTRA_KERNELS * kernel, 64)
    cpu_guarantee = max(CPU_FLOOR, round(run["cpu_per_student_cores"] * CPU_HEADROOM, 3))
    usable_cpu = node_cpu * (1 - NODE_RESERVE)
    usable_mib = node_mem_gib * 1024 * (1 - NODE_RESERVE)
    by_cpu = math.floor(usable_cpu / cpu_guarantee + 1e-9)  # 7.2 // 0.2 is 35.0 in floats
    by_mem = math.floor(usable_mib / mem_guarantee + 1e-9)
    per_node = min(by_cpu, by_mem)
    return {
        "students": students,
        "reference_run_users": run["users"],
        "measured": {k: run.get(k) for k in (
            "rss_per_student_mib", "uss_per_student_mib", "kernel_rss_per_student_mib",
            "cpu_per_student_cores", "widget_p95_ms", "load_avg_1min_before")},
        "results_date_utc": results.get("date_utc"),
        "capacity_one_machine": results.get("capacity"),
        "mem_guarantee_mib": mem_guarantee,
        "mem_limit_mib": mem_limit,
        "cpu_guarantee": cpu_guarantee,
        "cpu_limit": CPU_LIMIT,
        "node": {"cpu": node_cpu, "mem_gib": node_mem_gib, "reserve": NODE_RESERVE},
        "students_per_node": per_node,
        "binding_resource": "cpu" if by_cpu < by_mem else "memory",
        "nodes": nodes_needed(students, per_node),
        "storage_gib": max(1, math.ceil(course_mib * STORAGE_FACTOR / 1024)),
        "course_mib": round(course_mib, 1),
        "cull_idle_s": CULL_IDLE_S,
        "cull_max_age_s": CULL_MAX_AGE_S,
    }


def values(s: dict[str, Any]) -> dict[str, Any]:
    """Zero to JupyterHub Helm values from the sizing ``s``."""
    course = "/srv/conda/envs/notebook/share/virtlab/course"  # binder/postBuild puts it here
    lang_profiles = [
        {"display_name": name, "slug": code, "default": code == "en",
         "kubespawner_override": {"environment": {"VIRTLAB_LANG": code}}}
        for code, name in (("en", "English"), ("de", "Deutsch"))]
    return {
        "hub": {
            "config": {"JupyterHub": {"authenticator_class": "REPLACE-with-the-university-sso"},
                       "Authenticator": {"allow_all": True}},
        },
        "singleuser": {
            "image": {"name": IMAGE, "tag": "latest", "pullPolicy": "IfNotPresent"},
            "defaultUrl": "/lab/tree/notebooks/00_start_here.ipynb",
            "memory": {"guarantee": f"{s['mem_guarantee_mib']}M",
                       "limit": f"{s['mem_limit_mib']}M"},
            "cpu": {"guarantee": s["cpu_guarantee"], "limit": s["cpu_limit"]},
            "storage": {"type": "dynamic", "capacity": f"{s['storage_gib']}Gi",
                        "homeMountPath": "/home/jovyan"},
            "extraEnv": {"MPLCONFIGDIR": "/srv/conda/envs/notebook/share/virtlab/mplconfig"},
            # the student's own copy of the course on first login (the volume
            # hides the image's home; later logins keep the student's edits)
            "lifecycleHooks": {"postStart": {"exec": {"command": [
                "sh", "-c",
                f"for d in notebooks exercises; do [ -e \"$HOME/$d\" ] || "
                f"cp -r {course}/$d \"$HOME/$d\"; done"]}}},
            "profileList": lang_profiles,
            "startTimeout": 300,
        },
        "scheduling": {
            "userScheduler": {"enabled": True},
            "podPriority": {"enabled": True},
            # room for a tenth of the class to start at once at the lecture's start
            "userPlaceholder": {"enabled": True,
                                "replicas": max(1, s["students"] // 10)},
        },
        "prePuller": {"hook": {"enabled": True}, "continuous": {"enabled": True}},
        "cull": {"enabled": True, "timeout": s["cull_idle_s"], "every": 600,
                 "maxAge": s["cull_max_age_s"], "users": False},
        "proxy": {"service": {"type": "LoadBalancer"}},
    }


def header(s: dict[str, Any]) -> str:
    m = s["measured"]
    return "\n".join([
        "# Zero to JupyterHub values for the virtlab course — GENERATED by",
        "# deploy/z2jh/size.py from benchmarks/hub_results.json; do not edit by hand,",
        "# change the rules in size.py or re-run make bench-hub and size.py.",
        f"# Sized for {s['students']} concurrent students from the load test of "
        f"{s['results_date_utc']} ({s['reference_run_users']} students on one machine):",
        f"#   memory per student {m['rss_per_student_mib']} MiB RSS (server + kernel), "
        f"CPU {m['cpu_per_student_cores']} cores per interacting student,",
        f"#   widget p95 {m['widget_p95_ms']} ms at load average "
        f"{m['load_avg_1min_before']} (README 'How many students fit').",
        f"# => {s['students_per_node']} students per {s['node']['cpu']:g}-core / "
        f"{s['node']['mem_gib']:g} GiB node ({s['binding_resource']} binds), "
        f"{s['nodes']} user nodes; see deploy/z2jh/sizing.json.",
        "# Not validated here: helm install (no cluster), the authenticator, the",
        "# registry, the storage class; see README 'Past one machine'.",
        "",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--node-cpu", type=float, default=8)
    parser.add_argument("--node-mem-gib", type=float, default=32)
    parser.add_argument("--out", type=Path, default=HERE / "values.yaml")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    course = folder_mib([ROOT / f for f in COURSE_FOLDERS])
    s = sizing(results, args.students, args.node_cpu, args.node_mem_gib, course)
    args.out.write_text(header(s) + yaml.safe_dump(values(s), sort_keys=False),
                        encoding="utf-8")
    args.out.with_name("sizing.json").write_text(
        json.dumps(s, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{args.out}: {s['students']} students, {s['students_per_node']} per node, "
          f"{s['nodes']} nodes, memory {s['mem_guarantee_mib']}M..{s['mem_limit_mib']}M, "
          f"CPU {s['cpu_guarantee']}..{s['cpu_limit']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``make bench-hub``: how many students fit on this machine's JupyterHub.

``python -m benchmarks.hub_load [--users 5 10 20 40] [--window 60] [--interval 3]
[--notebook notebooks/01_what_is_virtualization.ipynb] [--out FILE]``

For each class size N a fresh private hub (``deploy/hub``, see
``benchmarks/hub.py``) serves N simulated students.  Each student, in a thread
of this process, does what the browser would do, through the hub's proxy:

1. logs in through the hub's login form (any password: DummyAuthenticator);
2. starts their server (REST, language ``en``) — at most ``--spawn-concurrency``
   servers start at once, as students trickle into a lecture room;
3. opens the notebook (a session: the server starts a kernel) and executes all
   its code cells over the kernel websocket;
4. moves a widget every ``--interval`` seconds (± 30 % jitter): sends the
   ``comm_msg`` a slider sends, setting a new value, and times until the kernel
   is idle again having sent the new state of the app's output (image / HTML)
   — the widget round trip, without the browser's own rendering.

Measured per N, during a ``--window`` of seconds in which every student has
finished step 3 and is moving widgets:

* time to first widget (login → the first app's cell executed) per student,
  with its parts: server start, kernel start, first (import) cell;
* widget round trip p50 / p95 / max;
* memory per student: RSS and USS of their server plus its kernels, read from
  /proc for exactly the processes the hub started (``psutil`` children of the
  server PID the spawner recorded);
* CPU per interacting student: CPU seconds of all servers and kernels during
  the window / window / N (in cores), and the hub + proxy's share;
* failures: any step that raised, timed out, or a widget move that did not
  redraw;
* the 1-minute load average before and after (the machine is shared: other
  processes' load makes every figure pessimistic).

Capacity = the largest N with widget p95 <= 250 ms and no failure
(design.md).  Results go to ``benchmarks/hub_results.json`` (the input of
``deploy/z2jh/size.py``) and a table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import nbformat
import psutil
import requests

from benchmarks.harness import machine_info
from benchmarks.hub import ROOT, Hub, KernelClient, new_message

P95_TARGET_MS = 250.0
DEFAULT_USERS = (5, 10, 20, 40)
DEFAULT_NOTEBOOK = "notebooks/01_what_is_virtualization.ipynb"
RESULTS = Path(__file__).resolve().parent / "hub_results.json"
SLIDER_MODELS = {"IntSliderModel", "FloatSliderModel"}


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``, None when empty.

    Examples
    --------
    >>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)
    10
    >>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)
    5
    >>> percentile([], 50) is None
    True
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil
    return ordered[int(rank) - 1]


def capacity(runs: list[dict], p95_ms: float = P95_TARGET_MS) -> int:
    """Largest N whose run had no failure and widget p95 <= ``p95_ms`` (0 if none).

    Examples
    --------
    >>> capacity([{"users": 5, "failures": 0, "widget_p95_ms": 80},
    ...           {"users": 10, "failures": 0, "widget_p95_ms": 300},
    ...           {"users": 20, "failures": 1, "widget_p95_ms": 90}])
    5
    """
    ok = [r["users"] for r in runs
          if r["failures"] == 0 and r["widget_p95_ms"] is not None
          and r["widget_p95_ms"] <= p95_ms]
    return max(ok, default=0)


def code_cells(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code" and c.source.strip()]


class Student(threading.Thread):
    """One simulated student (see the module docstring for the steps)."""

    def __init__(self, hub: Hub, name: str, notebook: str, spawn_gate: threading.Semaphore,
                 all_ready: threading.Event, stop: threading.Event, interval: float):
        super().__init__(name=f"student-{name}", daemon=True)
        self.hub, self.user, self.notebook = hub, name, notebook
        self.spawn_gate, self.all_ready, self.stop_event = spawn_gate, all_ready, stop
        self.interval = interval
        self.ready = threading.Event()
        self.times: dict[str, float] = {}
        self.round_trips: list[float] = []  # seconds, only inside the window
        self.failures: list[str] = []
        self.rng = random.Random(name)

    def fail(self, what: str) -> None:
        self.failures.append(what)

    def login(self) -> None:
        with requests.Session() as s:
            s.get(f"{self.hub.base}/hub/login", timeout=60)
            resp = s.post(f"{self.hub.base}/hub/login", timeout=60, allow_redirects=False,
                          data={"username": self.user, "password": "any",
                                "_xsrf": s.cookies.get("_xsrf", "")})
            if resp.status_code != 302:
                raise RuntimeError(f"login of {self.user}: HTTP {resp.status_code}")

    def run(self) -> None:
        kernel = None
        try:
            t0 = time.monotonic()
            self.login()
            with self.spawn_gate:
                self.times["server_start_s"] = self.hub.start_server(self.user)
            t1 = time.monotonic()
            session = self.hub.user_api(self.user, "POST", "/sessions", json={
                "path": self.notebook, "type": "notebook", "name": "",
                "kernel": {"name": "python3"}}, timeout=300)
            kernel = KernelClient(self.hub, self.user, session["kernel"]["id"], timeout=300)
            kernel.request(new_message("kernel_info_request", {}, kernel.session))
            self.times["kernel_start_s"] = time.monotonic() - t1
            cells = code_cells(self.hub.home(self.user) / self.notebook)
            first_widget = None
            for i, source in enumerate(cells):
                result = kernel.execute(source, timeout=300)
                if result["errors"]:
                    raise RuntimeError(f"cell {i}: {result['errors'][0]}")
                if i == 0:
                    self.times["first_cell_s"] = result["seconds"]
                if first_widget is None and any(
                        s.get("_model_name") in SLIDER_MODELS for s in kernel.widgets.values()):
                    first_widget = time.monotonic() - t0
            if first_widget is None:
                raise RuntimeError(f"{self.notebook} displays no slider")
            self.times["first_widget_s"] = first_widget
            self.times["all_cells_s"] = time.monotonic() - t1
            slider = next(cid for cid, s in kernel.widgets.items()
                          if s.get("_model_name") in SLIDER_MODELS)
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            self.fail(f"{self.user} set-up: {type(exc).__name__}: {exc}")
            traceback.print_exc(file=sys.stderr)
            self.ready.set()
            if kernel:
                kernel.close()
            return
        self.ready.set()
        step = 0
        try:
            while not self.stop_event.is_set():
                self.stop_event.wait(self.interval * self.rng.uniform(0.7, 1.3))
                if self.stop_event.is_set():
                    break
                state = kernel.widgets[slider]
                lo, hi = int(state.get("min", 0)), int(state.get("max", 1))
                current = int(state.get("value", lo))
                step += 1
                value = lo + (current - lo + step) % (hi - lo + 1)
                if value == current:
                    value = lo + (value - lo + 1) % (hi - lo + 1)
                try:
                    result = kernel.set_widget(slider, {"value": value}, timeout=60)
                except Exception as exc:  # noqa: BLE001
                    self.fail(f"{self.user} widget: {type(exc).__name__}: {exc}")
                    continue
                kernel.widgets[slider]["value"] = value
                redrawn = [c for c in result["updates"] if c != slider]
                if result["errors"] or not redrawn:
                    self.fail(f"{self.user} widget value {value}: "
                              f"{result['errors'] or 'no redraw'}")
                elif self.all_ready.is_set():
                    self.round_trips.append(result["seconds"])
        finally:
            kernel.close()


def cpu_seconds(procs: list[psutil.Process]) -> dict[int, float]:
    out = {}
    for p in procs:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return out


def student_processes(hub: Hub, users: list[str]) -> dict[str, list[psutil.Process]]:
    """Each student's server and its kernels: exactly the processes the hub started."""
    mine = {p.pid for p in hub.children()}
    out = {}
    for user in users:
        try:
            server = psutil.Process(hub.server_pid(user))
        except (RuntimeError, KeyError, TypeError, psutil.NoSuchProcess):
            out[user] = []
            continue
        if server.pid not in mine:
            raise RuntimeError(f"PID {server.pid} of {user} is not a child of the hub")
        out[user] = [server] + server.children(recursive=True)
    return out


def memory(procs: list[psutil.Process]) -> tuple[float, float]:
    """RSS and USS in MiB of ``procs``."""
    rss = uss = 0.0
    for p in procs:
        try:
            info = p.memory_full_info()
            rss += info.rss
            uss += info.uss
        except psutil.NoSuchProcess:
            pass
    return rss / 2**20, uss / 2**20


def run_class(n: int, notebook: str, window: float, interval: float,
              spawn_concurrency: int, work: Path, log: Path) -> dict[str, Any]:
    """N students on a fresh hub; the figures of one row of the results."""
    load_before = os.getloadavg()
    users = [f"student{i:03d}" for i in range(n)]
    stop, all_ready = threading.Event(), threading.Event()
    gate = threading.Semaphore(spawn_concurrency)
    t_start = time.monotonic()
    with Hub(work / f"hub-{n}", log_path=log, start_timeout=600) as hub:
        students = [Student(hub, u, notebook, gate, all_ready, stop, interval)
                    for u in users]
        for s in students:
            s.start()
        for s in students:
            s.ready.wait(timeout=1800)
        ramp_s = time.monotonic() - t_start
        procs = student_processes(hub, users)
        flat = [p for ps in procs.values() for p in ps]
        others = [p for p in hub.children() if p.pid not in {q.pid for q in flat}]
        hub_proc = [psutil.Process(hub.proc.pid)]
        cpu0, hub0 = cpu_seconds(flat), cpu_seconds(others + hub_proc)
        t0 = time.monotonic()
        all_ready.set()
        stop.wait(window)
        cpu1, hub1 = cpu_seconds(flat), cpu_seconds(others + hub_proc)
        elapsed = time.monotonic() - t0
        mem = {u: memory(ps) for u, ps in procs.items() if ps}
        kernel_mem = {u: memory(ps[1:]) for u, ps in procs.items() if ps}
        load_after = os.getloadavg()
        stop.set()
        for s in students:
            s.join(timeout=120)
    rtts = [t * 1000 for s in students for t in s.round_trips]
    failures = [f for s in students for f in s.failures]

    def times(key: str) -> list[float]:
        return [s.times[key] for s in students if key in s.times]

    def med(key: str) -> float | None:
        vals = times(key)
        return round(statistics.median(vals), 2) if vals else None

    def delta(a: dict, b: dict) -> float:
        return sum(b[p] - a.get(p, 0.0) for p in b)

    ttfw = times("first_widget_s")
    return {
        "users": n,
        "failures": len(failures),
        "failure_examples": failures[:5],
        "ramp_up_s": round(ramp_s, 1),
        "window_s": round(elapsed, 1),
        "widget_moves": len(rtts),
        "widget_p50_ms": round(percentile(rtts, 50), 1) if rtts else None,
        "widget_p95_ms": round(percentile(rtts, 95), 1) if rtts else None,
        "widget_max_ms": round(max(rtts), 1) if rtts else None,
        "first_widget_median_s": round(statistics.median(ttfw), 2) if ttfw else None,
        "first_widget_max_s": round(max(ttfw), 2) if ttfw else None,
        "server_start_median_s": med("server_start_s"),
        "kernel_start_median_s": med("kernel_start_s"),
        "first_cell_median_s": med("first_cell_s"),
        "all_cells_median_s": med("all_cells_s"),
        "rss_per_student_mib": round(statistics.mean(m[0] for m in mem.values()), 1)
        if mem else None,
        "uss_per_student_mib": round(statistics.mean(m[1] for m in mem.values()), 1)
        if mem else None,
        "kernel_rss_per_student_mib":
        round(statistics.mean(m[0] for m in kernel_mem.values()), 1) if kernel_mem else None,
        "cpu_per_student_cores": round(delta(cpu0, cpu1) / elapsed / n, 4),
        "hub_proxy_cpu_cores": round(delta(hub0, hub1) / elapsed, 4),
        "load_avg_1min_before": round(load_before[0], 2),
        "load_avg_1min_after": round(load_after[0], 2),
    }


COLUMNS = [("users", "N"), ("failures", "fail"), ("widget_p50_ms", "p50 ms"),
           ("widget_p95_ms", "p95 ms"), ("widget_moves", "moves"),
           ("first_widget_median_s", "1st widget s"), ("server_start_median_s", "server s"),
           ("kernel_start_median_s", "kernel s"), ("first_cell_median_s", "import s"),
           ("rss_per_student_mib", "RSS MiB"), ("uss_per_student_mib", "USS MiB"),
           ("cpu_per_student_cores", "CPU cores"), ("load_avg_1min_before", "load")]


def format_runs(runs: list[dict]) -> str:
    """A plain-text table of the runs (one row per class size)."""
    head = " | ".join(title for _, title in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in runs:
        lines.append(" | ".join(str(r.get(key)) for key, _ in COLUMNS))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hub_load",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=list(DEFAULT_USERS))
    parser.add_argument("--window", type=float, default=60.0,
                        help="seconds of measurement with every student moving widgets")
    parser.add_argument("--interval", type=float, default=3.0,
                        help="mean seconds between one student's widget moves")
    parser.add_argument("--spawn-concurrency", type=int, default=4)
    parser.add_argument("--notebook", default=DEFAULT_NOTEBOOK)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument("--no-lean", action="store_true",
                        help="switch off the hub's per-student savings (VIRTLAB_HUB_LEAN=0), "
                             "to measure what they save")
    args = parser.parse_args(argv)
    os.environ["VIRTLAB_HUB_LEAN"] = "0" if args.no_lean else "1"
    if any(n < 1 for n in args.users):
        parser.error("--users must be positive")
    log_dir = ROOT / "test-artifacts" / "bench-hub"
    log_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    with tempfile.TemporaryDirectory(prefix="virtlab-bench-hub-") as tmp:
        for n in args.users:
            print(f"bench-hub: {n} students ...", file=sys.stderr, flush=True)
            runs.append(run_class(n, args.notebook, args.window, args.interval,
                                  args.spawn_concurrency, Path(tmp), log_dir / f"hub-{n}.log"))
            print(format_runs(runs[-1:]), file=sys.stderr, flush=True)
    result = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_info(),
        "memory_total_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "settings": {"notebook": args.notebook, "window_s": args.window,
                     "interval_s": args.interval,
                     "spawn_concurrency": args.spawn_concurrency, "label": args.label,
                     "lean": not args.no_lean},
        "p95_target_ms": P95_TARGET_MS,
        "runs": runs,
        "capacity": capacity(runs),
        "note": ("load_avg_1min_* is the whole machine's load: on a machine shared with "
                 "other work it includes their processes, and the figures are then "
                 "pessimistic; each student moves the first slider of the notebook, so "
                 "once its values have been shown the widgets' state cache serves them"),
    }
    tmp_out = args.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    tmp_out.replace(args.out)
    print(format_runs(runs))
    print(f"\ncapacity: {result['capacity']} students (widget p95 <= {P95_TARGET_MS:.0f} ms, "
          f"no failure); load average during the runs "
          f"{min(r['load_avg_1min_before'] for r in runs)}-"
          f"{max(r['load_avg_1min_after'] for r in runs)} on "
          f"{result['machine'].get('usable_cpus')} CPUs; results in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Hostile input for the partitioning, containers, consolidation, availability and
migration entry points: wrong types, negatives, NaN, inf, huge, empty.

Every bad value must raise ValueError or TypeError naming the parameter — never
KeyError/IndexError/ZeroDivisionError, never a hang or a silent result — and a
refused call must leave a stateful model unchanged.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab import availability as av
from virtlab import consolidation as cons
from virtlab import containers as ct
from virtlab import migration as mig
from virtlab import operations as ops
from virtlab import partitioning as pt

NAN, INF = float("nan"), float("inf")
BAD_NUMBERS = [None, "1", [], {}, object(), True, NAN, INF, -INF, -1, -1e-9, 1e308]
BAD_INTS = [None, "1", [], 2.5, True, NAN, INF, -1, 10**30]

SERVERS = cons.make_servers(8, seed=1)
PLACEMENT = cons.consolidate(SERVERS)

# (callable, valid keyword arguments, {parameter: [hostile values]})
CASES = [
    (mig.precopy, dict(memory_mb=512, bandwidth_mbit=1000, dirty_rate_mbit=10, wws_mb=64),
     {"memory_mb": BAD_NUMBERS + [0], "bandwidth_mbit": BAD_NUMBERS + [0],
      "dirty_rate_mbit": BAD_NUMBERS, "wws_mb": BAD_NUMBERS[1:] + [513],
      "max_iters": BAD_INTS + [0], "max_factor": [0.5, NAN, "3", True],
      "min_pages": BAD_INTS, "page_kb": BAD_INTS + [0], "state_kb": BAD_NUMBERS,
      "fixed_downtime_ms": BAD_NUMBERS, "rate": ["adaptive", 5, object()]}),
    (mig.stop_and_copy, dict(memory_mb=512, bandwidth_mbit=1000),
     {"memory_mb": BAD_NUMBERS + [0], "bandwidth_mbit": BAD_NUMBERS + [0]}),
    (mig.postcopy, dict(memory_mb=512, bandwidth_mbit=1000, dirty_rate_mbit=10),
     {"dirty_rate_mbit": BAD_NUMBERS, "rtt_ms": BAD_NUMBERS}),
    (mig.migrate, dict(method="pre-copy", memory_mb=512, bandwidth_mbit=1000),
     {"method": ["teleport", None, 3, ""]}),
    (mig.AdaptiveRate, dict(),
     {"min_mbit": BAD_NUMBERS + [0], "max_mbit": BAD_NUMBERS + [0], "step_mbit": BAD_NUMBERS}),
    (mig.evacuate, dict(vms=[("a", 512, 10, None)], bandwidth_mbit=1000),
     {"vms": [None, "vm", 5, [("a",)], [["a", 1, 2, 3]], [(3, 512, 10, None)]],
      "bandwidth_mbit": BAD_NUMBERS + [0], "method": ["x", None]}),
    (mig.sweep, dict(bandwidths=[100, 1000], memory_mb=512, dirty_rate_mbit=10),
     {"bandwidths": [None, [], "100", 100, [100, NAN], [0]], "methods": ["pre-copy", ["x"]]}),
    (ops.maintenance, dict(placement=PLACEMENT, host=0),
     {"placement": [None, "p", SERVERS], "host": BAD_INTS + [99],
      "bandwidth_mbit": BAD_NUMBERS + [0], "spares": BAD_INTS, "method": ["x"]}),
    (cons.make_servers, dict(n=5),
     {"n": BAD_INTS + [0], "seed": BAD_INTS, "replicas": BAD_INTS + [0],
      "kinds": ["web", [], ["web", "mainframe"], 3]}),
    (cons.consolidate, dict(servers=SERVERS),
     {"servers": [None, "s", [], [1, 2], SERVERS + SERVERS[:1]],
      "policy": ["magic", None, 1], "host": [None, "h", 3], "legacy": [None, 1],
      "overhead": BAD_NUMBERS + [1.5], "cooling": BAD_NUMBERS + [0.5],
      "anti_affinity": [None, 1, "yes"]}),
    (cons.check_placement, dict(servers=SERVERS, assignment={s.name: i for i, s in enumerate(SERVERS)}),
     {"assignment": [None, [], {"x": 0}, {s.name: -1 for s in SERVERS},
                     {s.name: "0" for s in SERVERS}, {s.name: NAN for s in SERVERS}]}),
    (cons.HostSpec, dict(),
     {"cpus": BAD_NUMBERS + [0], "memory_gb": BAD_NUMBERS + [0],
      "idle_watts": BAD_NUMBERS, "peak_watts": BAD_NUMBERS}),
    (cons.Server, dict(name="s", cpu=[1.0] * 24, memory=[1.0] * 24),
     {"name": [None, "", 3], "cpu": [None, "x" * 24, [1.0] * 23, [NAN] * 24, [-1.0] * 24,
                                     [None] * 24],
      "memory": [[INF] * 24, 5], "kind": ["", None], "group": ["", 3]}),
    (cons.power_watts, dict(spec=cons.HostSpec(), cpu_utilization=0.5),
     {"spec": [None, 3], "cpu_utilization": BAD_NUMBERS[:-2]}),
    (cons.tenant_servers, dict(), {"tenants": BAD_INTS + [0], "per_tenant": BAD_INTS + [0],
                                   "seed": BAD_INTS}),
    (cons.tenants_per_host, dict(placement=PLACEMENT), {"placement": [None, 3],
                                                        "sep": ["", None]}),
    (cons.memory_squeeze, dict(placement=PLACEMENT, host=0),
     {"placement": [None, 3], "host": BAD_INTS + [99], "overcommit": BAD_NUMBERS + [0.5, 5],
      "pages_per_gib": BAD_INTS + [0, 1000]}),
    (av.host_failure, dict(placement=PLACEMENT, failed_host=0),
     {"placement": [None, 3], "failed_host": BAD_INTS + [99], "spares": BAD_INTS,
      "restart": [None, 1, "yes"]}),
    (av.expected_impact, dict(placement=PLACEMENT), {"placement": [None, []],
                                                     "spares": BAD_INTS}),
    (av.compare_measures, dict(servers=SERVERS), {"servers": [None, []],
                                                  "policy": ["x"], "overhead": [NAN, -1]}),
    (ops.dashboard, dict(placement=PLACEMENT), {"placement": [None], "report": ["r", 3],
                                               "maintenance": ["m", 3]}),
    (pt.Machine, dict(), {"cpus": BAD_INTS + [0], "memory_gb": BAD_INTS + [0],
                          "channels": BAD_INTS, "name": ["", None]}),
    (pt.Partition, dict(name="p", memory_gb=8, weight=1),
     {"name": ["", None], "memory_gb": BAD_INTS + [0], "channels": BAD_INTS,
      "dedicated_cpus": BAD_INTS, "weight": BAD_INTS + [0]}),
    (pt.assign, dict(machine=pt.Machine(), partitions=[]),
     {"machine": [None, "m"], "partitions": [None, "p", [1], 5]}),
    (pt.entitlements, dict(assignment=pt.assign(pt.Machine(), [])), {"assignment": [None, 1]}),
    (pt.water_fill, dict(capacity=4, demands=[1, 2], weights=[1, 1]),
     {"capacity": BAD_NUMBERS[:-1], "demands": [[1], [NAN, 1], [-1, 1], ["a", 1]],
      "weights": [[0, 1], [1], [INF, 1], [None, 1]]}),
    (pt.make_demand, dict(names=["a"]),
     {"names": [None, "a", [], [""], [3]], "steps": BAD_INTS + [0], "seed": BAD_INTS,
      "mean": BAD_NUMBERS, "burst": BAD_NUMBERS}),
    (pt.compare_static_shared, dict(cpus=4, demand={"a": [1, 2]}),
     {"cpus": BAD_NUMBERS + [0], "demand": [None, {}, {"a": []}, {"a": [1], "b": [1, 2]},
                                           {"a": [NAN]}, [1, 2]],
      "weights": [{"b": 1}, {"a": 0}, {"a": NAN}, [1]]}),
    (ct.compare, dict(), {"instances": BAD_INTS + [0], "app_mb": BAD_NUMBERS,
                          "host_memory_gb": BAD_NUMBERS + [0], "costs": ["c", 1]}),
    (ct.Costs, dict(), {"guest_os_mb": BAD_NUMBERS, "vm_boot_s": BAD_NUMBERS}),
    (ct.blast_radius, dict(kind="vm", incident="fork bomb"),
     {"kind": ["lxc", None], "incident": ["meteor", None], "limits": [None, 1]}),
    (ct.namespace_rows, dict(namespaces={}), {"namespaces": [None, [], "pid"]}),
]


def _ids():
    for fn, ok, bad in CASES:
        for param, values in bad.items():
            for i, value in enumerate(values):
                yield pytest.param(fn, ok, param, value, id=f"{fn.__name__}-{param}-{i}")


@pytest.mark.parametrize("fn, ok, param, value", list(_ids()))
def test_hostile_value_is_refused_naming_the_parameter(fn, ok, param, value):
    fn(**ok)                                           # the valid call works
    with pytest.raises((ValueError, TypeError)) as info:
        fn(**{**ok, param: value})
    message = str(info.value)
    # the message names the parameter (or, for container types, the element)
    aliases = {"vms": ("vms",), "bandwidths": ("bandwidths",), "demand": ("demand",),
               "weights": ("weights", "demand"), "demands": ("demands",),
               "host": ("host", "failed_host"), "servers": ("servers",)}
    assert any(a in message for a in aliases.get(param, (param,))), (param, message)


def test_firmware_and_container_host_unchanged_after_refusal():
    fw = pt.Firmware(pt.Machine(cpus=4, memory_gb=16, channels=4))
    fw.add(pt.Partition("a", 8, 2, dedicated_cpus=2))
    before = fw.partitions
    for bad in (pt.Partition("b", 9, 1, weight=1), pt.Partition("a", 8, 9, weight=1), "x"):
        with pytest.raises((ValueError, TypeError)):
            fw.add(bad) if not isinstance(bad, pt.Partition) or bad.name != "a" \
                else fw.replace(bad)
        assert fw.partitions == before
    host = ct.ContainerHost()
    host.add_container("c")
    host.spawn("c", "app")
    snapshot = (host.containers, host.ps(), host.ps("c"))
    for kwargs in ({"name": "c"}, {"name": "d", "namespaces": ["pid", "time-travel"]},
                   {"name": "d", "cpu_limit": NAN}, {"name": "d", "memory_limit_mb": -1},
                   {"name": "d", "pids_limit": 0}, {"name": "d", "namespaces": "pid"}):
        with pytest.raises((ValueError, TypeError)):
            host.add_container(**kwargs)
    for call in (lambda: host.spawn("nope", "x"), lambda: host.spawn("c", ""),
                 lambda: host.ps("nope"), lambda: host.enforce("c", NAN, 1),
                 lambda: host.enforce(None, 1, 1), lambda: host.enforce("c", 1, 1, -5)):
        with pytest.raises((ValueError, TypeError)):
            call()
    assert (host.containers, host.ps(), host.ps("c")) == snapshot


@given(st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True,
                                                                  allow_infinity=True),
       st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_triple_gives_a_result_or_a_named_error(memory, bw, dirty):
    for method in mig.METHODS:
        try:
            r = mig.migrate(method, memory, bw, dirty)
        except (ValueError, TypeError) as exc:
            assert any(p in str(exc) for p in ("memory_mb", "bandwidth_mbit",
                                               "dirty_rate_mbit"))
        else:
            assert math.isfinite(r.total_time_s) and r.data_sent_mb >= memory - 1e-9

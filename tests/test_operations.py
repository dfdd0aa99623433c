"""Maintenance by live migration and the operator's dashboard (virtlab.operations)."""

from virtlab import availability as av
from virtlab import consolidation as cons
from virtlab import migration as mig
from virtlab import operations as ops
from virtlab.viz.text import metric_text

PLACEMENT = cons.consolidate(cons.make_servers(12, seed=1))


def test_maintenance_moves_exactly_the_vms_of_the_host_and_migrates_each():
    m = ops.maintenance(PLACEMENT, 0, 1000, spares=1)
    on_host = set(PLACEMENT.hosts[0].vms)
    assert {vm for vm, _ in m.moves} | set(m.stuck) == on_host
    assert [vm for vm, _ in m.evacuation.migrations] == [vm for vm, _ in m.moves]
    # back to back on one link: the host is empty after the sum of the migrations
    total = sum(r.total_time_s for _, r in m.evacuation.migrations)
    assert abs(m.evacuation.total_time_s - total) < 1e-9
    # a VM's migration is the migration model's answer for its memory and kind
    name, r = m.evacuation.migrations[0]
    s = next(s for s in PLACEMENT.servers if s.name == name)
    rate, frac = ops.DIRTY_PROFILES.get(s.kind, ops.DIRTY_PROFILES["custom"])
    mem = max(1.0, s.peak_memory * 1024)
    assert r == mig.precopy(mem, 1000, rate, mem * frac)


def test_dashboard_reports_the_models_numbers_as_data():
    report = av.expected_impact(PLACEMENT, spares=1, restart=True)
    m = ops.maintenance(PLACEMENT, 0, 1000, spares=1)
    rows = {(x.area, x.metric): x for x in ops.dashboard(PLACEMENT, report, m)}
    assert rows["capacity", "hosts in use"].value == PLACEMENT.hosts_after
    assert rows["availability", "VMs lost per host failure"].value == report.vms_lost
    assert rows["maintenance", "data sent"].value == m.evacuation.data_sent_mb / 1024
    energy = rows["energy", "kWh per day incl. cooling (illustrative)"]
    assert (energy.value, energy.before) == (PLACEMENT.energy_after_kwh,
                                             PLACEMENT.energy_before_kwh)
    assert all(not isinstance(x.value, str) for x in rows.values())


def test_metric_text_formats_by_unit():
    M = ops.Metric
    assert metric_text(M("m", "t", 759.94, "s")) == "759.9 s"
    assert metric_text(M("m", "d", 25.4, "ms")) == "25 ms"
    assert metric_text(M("m", "x", 88.46, "GiB")) == "88.5 GiB"
    assert metric_text(M("c", "u", (0.555, 0.4), "%")) == "56% / 40%"

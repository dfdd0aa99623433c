"""Partitioning: firmware assignment, over-assignment errors, static vs shared pool."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.partitioning import (TIMELINE, Firmware, Machine, Partition, assign,
                                  compare_static_shared, entitlements, make_demand, water_fill)

M = Machine(cpus=8, memory_gb=64, channels=16)


@pytest.mark.parametrize("parts, word", [
    ([Partition("a", 8, 1, dedicated_cpus=5), Partition("b", 8, 1, dedicated_cpus=4)], "CPUs"),
    ([Partition("a", 40, 1, weight=1), Partition("b", 30, 1, weight=1)], "memory"),
    ([Partition("a", 8, 10, weight=1), Partition("b", 8, 7, weight=1)], "channels"),
    ([Partition("a", 8, 1, dedicated_cpus=8), Partition("b", 8, 1, weight=1)], "shared pool"),
    ([Partition("a", 8, 1, weight=1), Partition("a", 8, 1, weight=1)], "unique"),
])
def test_over_assignment_is_refused_naming_the_resource(parts, word):
    with pytest.raises(ValueError, match=word):
        assign(M, parts)


def test_exactly_full_is_fine():
    a = assign(M, [Partition("a", 32, 8, dedicated_cpus=8)])
    assert a.pool_cpus == 0 and a.free_memory_gb == 32 and a.free_channels == 8
    full = assign(M, [Partition("a", 32, 8, dedicated_cpus=4), Partition("b", 32, 8, weight=1)])
    assert full.pool_cpus == 4 and full.free_memory_gb == 0 and full.free_channels == 0


def test_entitlements_dedicated_and_weighted_pool():
    a = assign(M, [Partition("prod", 16, 2, dedicated_cpus=2),
                   Partition("x", 8, 1, weight=3), Partition("y", 8, 1, weight=1)])
    assert entitlements(a) == {"prod": 2.0, "x": 4.5, "y": 1.5}
    assert sum(entitlements(a).values()) == M.cpus


partition_lists = st.lists(
    st.builds(lambda i, mem, ch, ded, w: Partition(f"p{i}", mem, ch, dedicated_cpus=ded,
                                                  weight=0 if ded else w),
              st.integers(0, 5), st.integers(1, 40), st.integers(0, 8), st.integers(0, 5),
              st.integers(1, 10)),
    max_size=6)


@given(partition_lists)
def test_firmware_refusal_leaves_configuration_unchanged(parts):
    fw = Firmware(M)
    for p in parts:
        before = fw.partitions
        try:
            if p.name in {q.name for q in fw.partitions}:
                fw.replace(p)
            else:
                fw.add(p)
        except ValueError:
            assert fw.partitions == before
        a = fw.assignment
        assert sum(q.dedicated_cpus for q in a.partitions) <= M.cpus
        assert sum(q.memory_gb for q in a.partitions) <= M.memory_gb
        assert sum(q.channels for q in a.partitions) <= M.channels
    with pytest.raises(ValueError):
        fw.remove("nope")


demands = st.lists(st.floats(min_value=0, max_value=20), min_size=1, max_size=8)


@given(demands, st.data(), st.floats(min_value=0, max_value=40))
def test_water_fill_is_work_conserving_and_fair(d, data, cap):
    w = data.draw(st.lists(st.floats(min_value=0.1, max_value=10), min_size=len(d),
                           max_size=len(d)))
    a = water_fill(cap, d, w)
    assert all(0 <= x <= y + 1e-9 for x, y in zip(a, d))
    assert sum(a) == pytest.approx(min(cap, sum(d)), abs=1e-6)
    # anyone short of demand has the highest allocation per weight
    for i, (x, y) in enumerate(zip(a, d)):
        if x < y - 1e-6:
            assert all(a[j] / w[j] <= x / w[i] + 1e-6 for j in range(len(d)))


@given(st.integers(1, 6), st.integers(0, 1000), st.integers(1, 16))
def test_shared_pool_never_worse_than_static(n, seed, cpus):
    names = [f"p{i}" for i in range(n)]
    r = compare_static_shared(cpus, make_demand(names, steps=48, seed=seed))
    assert r.shared_util >= r.static_util - 1e-9
    assert r.shared_unmet <= r.static_unmet + 1e-9
    assert r.shared_util <= 1 + 1e-9


def test_opposite_bursts_by_hand():
    r = compare_static_shared(4, {"a": [4, 0], "b": [0, 4]})
    assert r.static["a"] == (2.0, 0.0) and r.shared["a"] == (4.0, 0.0)
    assert r.static_util == 0.5 and r.shared_util == 1.0
    assert r.static_unmet == 0.5 and r.shared_unmet == 0.0


def test_demand_is_seeded():
    assert make_demand(["a", "b"], 50, seed=4) == make_demand(["a", "b"], 50, seed=4)
    assert make_demand(["a"], 50, seed=4) != make_demand(["a"], 50, seed=5)


def test_timeline_is_the_lecture_line_in_order():
    names = [m.name for m in TIMELINE]
    for wanted in ("CTSS", "CP-67/CMS", "VM/370", "z/VM"):
        assert wanted in names
    years = [m.year for m in TIMELINE]
    assert years == sorted(years)
    assert all(m.source for m in TIMELINE)

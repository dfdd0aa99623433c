"""Hostile input for the ballooning model: ValueError/TypeError naming the parameter,
nothing changed."""

import math

import pytest
from hypothesis import given, strategies as st

from virtlab.balloon import BalloonHost, VMSpec, simulate

junk = st.one_of(st.none(), st.text(max_size=3), st.floats(allow_nan=True), st.booleans(),
                 st.integers(-10**12, -1), st.integers(10**9, 10**30))


def expect_named(fn, name):
    with pytest.raises((ValueError, TypeError)) as exc:
        fn()
    assert name in str(exc.value), str(exc.value)


@given(st.sampled_from(["memory", "working_set", "file_pages", "accesses"]), junk)
def test_vmspec_sizes(field, value):
    kwargs = {"name": "a", "memory": 64, "working_set": 10}
    kwargs[field] = value
    expect_named(lambda: VMSpec(**kwargs), field)


def test_balloon_target_above_vm_memory():
    expect_named(lambda: VMSpec("a", 64, 10, balloon_target=65), "balloon_target")
    expect_named(lambda: VMSpec("a", 64, 10, balloon_target=-1), "balloon_target")
    expect_named(lambda: VMSpec("a", 64, 10, shared_pages=11), "shared_pages")
    expect_named(lambda: VMSpec("a", 64, 10, replacement="clock"), "replacement")
    expect_named(lambda: VMSpec("a", 64, 10, skew=math.nan), "skew")
    expect_named(lambda: VMSpec(" ", 64, 10), "name")


@given(junk)
def test_set_target_bad_value_changes_nothing(value):
    host = BalloonHost(64, [VMSpec("a", 48, 20, balloon_target=8)])
    host.run(3)
    snap = host.snapshot()
    expect_named(lambda: host.set_target("a", value), "balloon_target")
    assert host.guests[0].target == 8 and host.snapshot() == snap
    host.run(1)
    host.check()


def test_set_target_unknown_vm_and_bad_host_arguments():
    host = BalloonHost(64, [VMSpec("a", 48, 20)])
    expect_named(lambda: host.set_target("zz", 4), "vm")
    expect_named(lambda: host.set_target(3, 4), "vm")
    expect_named(lambda: host.set_target("a", 45), "balloon_target")   # above memory - 4
    expect_named(lambda: BalloonHost(0, [VMSpec("a", 48, 20)]), "frames")
    expect_named(lambda: BalloonHost(-5, [VMSpec("a", 48, 20)]), "frames")
    expect_named(lambda: BalloonHost(64, []), "vms")
    expect_named(lambda: BalloonHost(64, "a"), "vms")
    expect_named(lambda: BalloonHost(64, [{"name": "a"}]), "vms")
    expect_named(lambda: BalloonHost(64, [VMSpec("a", 48, 20), VMSpec("a", 8, 2)]), "vms")
    expect_named(lambda: BalloonHost(64, [VMSpec("a", 48, 20)], policy="magic"), "policy")
    expect_named(lambda: BalloonHost(64, [VMSpec("a", 48, 20)], rate=0), "rate")
    expect_named(lambda: BalloonHost(64, [VMSpec("a", 48, 20)], write_fraction=2),
                 "write_fraction")
    expect_named(lambda: host.run(-1), "steps")
    expect_named(lambda: simulate(64, [VMSpec("a", 48, 20)], steps=0), "steps")
    expect_named(lambda: simulate(64, [VMSpec("a", 48, 20)], seed=-1), "seed")

"""The small variant models of notebook 01."""

from hypothesis import given, strategies as st
import pytest

from virtlab import variants


@given(st.integers(0, 200), st.integers(1, 8), st.integers(1, 5))
def test_stripe_map_is_a_bijection_balanced_over_disks(blocks, disks, stripe):
    m = variants.stripe_map(blocks, disks, stripe)
    assert len(set(m)) == blocks                      # no two blocks share a place
    per_disk = [sum(1 for d, _ in m if d == k) for k in range(disks)]
    assert max(per_disk) - min(per_disk) <= stripe    # round-robin stays balanced
    for d in range(disks):                             # each disk filled densely from 0
        rows = sorted(b for dd, b in m if dd == d)
        assert rows == list(range(len(rows)))


def test_stripe_map_known_layout():
    # RAID-0 with 2 disks and 2-block stripes: 0,1 on disk 0; 2,3 on disk 1; 4,5 on disk 0 ...
    assert variants.stripe_map(6, 2, 2) == [(0, 0), (0, 1), (1, 0), (1, 1), (0, 2), (0, 3)]


def test_address_spaces_isolate_processes():
    mem = variants.AddressSpaces(frames=3)
    a, b = mem.map("a", 0), mem.map("b", 0)
    assert a != b and mem.map("a", 0) == a       # idempotent per page
    mem.map("a", 1)
    with pytest.raises(ValueError, match="page"):
        mem.map("b", 1)                           # out of frames
    assert mem.table() == {"a": {0: a, 1: 2}, "b": {0: b}}   # failed call changed nothing
    with pytest.raises(ValueError, match="not mapped"):
        mem.translate("b", 7)


def test_bytecode_arithmetic_and_loop():
    assert variants.run_bytecode([("push", 6), ("push", 7), ("mul",)]).stack == (42,)
    assert variants.run_bytecode([("push", 1), ("push", 5), ("sub",)]).stack == (-4,)
    countdown = [("push", 3), ("push", -1), ("add",), ("dup",), ("jnz", 1)]
    run = variants.run_bytecode(countdown)
    assert run.stack == (0,)
    assert [s for op, s in run.steps if op == "add"] == [(2,), (1,), (0,)]


@pytest.mark.parametrize("program, exc, word", [
    ([("add",)], ValueError, "stack"),
    ([("jump", 1)], ValueError, "unknown"),
    ([("push",)], ValueError, "operand"),
    ([("push", 1.5)], TypeError, "operand"),
    ([("jnz", 9)], ValueError, "target"),
    (["push"], TypeError, "program"),
    ("push 1", TypeError, "program"),
])
def test_bytecode_bad_programs(program, exc, word):
    with pytest.raises(exc, match=word):
        variants.run_bytecode(program)


def test_bytecode_infinite_loop_is_bounded():
    with pytest.raises(ValueError, match="max_steps"):
        variants.run_bytecode([("push", 1), ("dup",), ("jnz", 1)], max_steps=100)


def test_vlans_partition_hosts():
    ports = {"a": 1, "b": 2, "c": 1, "d": 3}
    domains = variants.vlan_domains(ports)
    assert domains == {1: ("a", "c"), 2: ("b",), 3: ("d",)}
    assert sorted(h for hs in domains.values() for h in hs) == sorted(ports)


@pytest.mark.parametrize("text", ["", "a", "a=", "=3", "a=0", "a=5000", "a=1,a=2", "a=x"])
def test_parse_ports_refuses_nonsense(text):
    with pytest.raises(ValueError, match="ports"):
        variants.parse_ports(text)


@pytest.mark.parametrize("kwargs, word", [({"blocks": -1, "disks": 1}, "blocks"),
                                          ({"blocks": 1, "disks": 0}, "disks"),
                                          ({"blocks": 1, "disks": 1, "stripe_blocks": 0},
                                           "stripe_blocks"),
                                          ({"blocks": 1.0, "disks": 1}, "blocks")])
def test_stripe_map_bad_input(kwargs, word):
    with pytest.raises((ValueError, TypeError), match=word):
        variants.stripe_map(**kwargs)

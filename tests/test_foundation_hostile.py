"""Hostile input for the foundation's public entry points (course, glossary,
environment, variants): any invalid value raises ValueError/TypeError naming the
parameter — never KeyError/IndexError/ZeroDivisionError — and changes nothing."""

import math

from hypothesis import given, strategies as st
import pytest

from virtlab import course, environment, glossary, variants

JUNK = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                 st.integers(min_value=-10**30, max_value=10**30), st.text(max_size=8),
                 st.binary(max_size=4), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


def _refused(fn, *args, param, **kwargs):
    try:
        fn(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        assert param in str(exc), f"{exc!r} does not name {param!r}"
        return True
    return False


@given(JUNK)
def test_topic_and_learning_path(value):
    if isinstance(value, str) and value in [t.id for t in course.TOPICS]:
        return
    assert _refused(course.topic, value, param="topic_id")
    assert _refused(course.learning_path, value, param="topic_id")


@given(JUNK)
def test_glossary(value):
    if isinstance(value, str):
        glossary.search(value)          # any text is a valid query
        return
    assert _refused(glossary.search, value, param="query")
    assert _refused(glossary.lookup, value, param="name")


@given(st.one_of(st.none(), st.integers(), st.binary(), st.lists(st.text(), max_size=2)))
def test_environment_parsers(value):
    for fn, param in [(environment.parse_cpu_flags, "cpuinfo"),
                      (environment.parse_cgroup, "text")]:
        assert _refused(fn, value, param=param)


@given(JUNK, JUNK, JUNK)
def test_stripe_map(blocks, disks, stripe):
    ok = all(isinstance(v, int) and not isinstance(v, bool) for v in (blocks, disks, stripe))
    if ok and 0 <= blocks <= 1_000_000 and 1 <= disks <= 1024 and stripe >= 1:
        return
    try:
        variants.stripe_map(blocks, disks, stripe)
    except (ValueError, TypeError) as exc:
        assert any(p in str(exc) for p in ("blocks", "disks", "stripe_blocks"))
    else:
        pytest.fail("accepted invalid input")


@given(JUNK, JUNK)
def test_address_spaces_unchanged_after_bad_calls(process, page):
    mem = variants.AddressSpaces(frames=2)
    mem.map("p", 0)
    before = mem.table()
    valid = isinstance(process, str) and process.strip() and isinstance(page, int) \
        and not isinstance(page, bool) and page >= 0
    if valid:
        return
    assert _refused(mem.map, process, page, param="p")   # "process" or "page"
    assert mem.table() == before


@given(JUNK)
def test_address_spaces_frames(frames):
    if isinstance(frames, int) and not isinstance(frames, bool) and 1 <= frames <= 1 << 20:
        return
    assert _refused(variants.AddressSpaces, frames, param="frames")


@given(st.lists(st.tuples(st.sampled_from(["push", "add", "mul", "dup", "jnz", "sub", "x"]),
                          JUNK), max_size=6), st.integers(1, 50))
def test_run_bytecode_never_crashes_or_hangs(pairs, max_steps):
    program = [(op,) if op in ("add", "mul", "dup", "sub") else (op, arg) for op, arg in pairs]
    try:
        run = variants.run_bytecode(program, max_steps=max_steps)
    except (ValueError, TypeError) as exc:
        assert "program" in str(exc) or "max_steps" in str(exc)
    else:
        assert len(run.steps) <= max_steps


@given(st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), JUNK, max_size=3))
def test_vlan_domains(ports):
    try:
        domains = variants.vlan_domains(ports)
    except (ValueError, TypeError) as exc:
        assert "ports" in str(exc)
    else:
        assert sorted(h for hs in domains.values() for h in hs) == sorted(ports)
        assert all(1 <= v <= 4094 for v in domains)


@given(st.text(max_size=30))
def test_parse_ports_text(text):
    try:
        ports = variants.parse_ports(text)
    except ValueError as exc:
        assert "ports" in str(exc)
    else:
        assert ports and all(1 <= v <= 4094 for v in ports.values())


def test_non_mapping_ports():
    assert _refused(variants.vlan_domains, [("a", 1)], param="ports")
    assert _refused(variants.parse_ports, math.nan, param="ports")


@given(st.one_of(st.none(), st.text(max_size=40)), st.one_of(st.none(), st.text(max_size=40)),
       st.dictionaries(st.sampled_from(["/.dockerenv", "/run/.containerenv"]), st.booleans()))
def test_environment_detect_never_raises_on_text(cpuinfo, cgroup, files):
    facts = environment.detect(cpuinfo=cpuinfo, cgroup=cgroup, files=files)
    assert facts.in_container in ("yes", "no", "unknown")


@pytest.mark.parametrize("bad", [1, b"flags", ["vmx"]])
def test_environment_detect_refuses_non_text(bad):
    assert _refused(environment.detect, cpuinfo=bad, param="cpuinfo")
    assert _refused(environment.detect, cgroup=bad, param="cgroup")

"""Hostile input for the theorem checkers, the ISA lookup and the MMU formulas:
invalid values raise ValueError/TypeError naming the parameter, nothing else."""

from hypothesis import given, strategies as st
import pytest

from virtlab import isa as isa_mod
from virtlab.isa import get_isa
from virtlab.mmu import nested_walk_refs
from virtlab.mmu.costs import compare
from virtlab.popek_goldberg import (hybrid_vmm_possible, is_recursively_virtualizable,
                                    is_virtualizable)

JUNK = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                 st.text(max_size=10), st.binary(max_size=3), st.lists(st.integers(), max_size=2))
NAMES = {"TOY", "X86_32", "X86_VTX"}


def _refused(fn, *args, param, **kwargs):
    with pytest.raises((ValueError, TypeError)) as info:
        fn(*args, **kwargs)
    assert param in str(info.value), str(info.value)


@given(JUNK)
def test_isa_lookups_refuse_anything_but_an_isa_or_its_name(value):
    if isinstance(value, str) and value.upper() in NAMES:
        return
    for fn in (get_isa, is_virtualizable, is_recursively_virtualizable, hybrid_vmm_possible):
        _refused(fn, value, param="isa")


def test_theorems_accept_names_and_objects_alike():
    for name in NAMES:
        obj = getattr(isa_mod, name)
        assert is_virtualizable(name) == is_virtualizable(obj)
        assert hybrid_vmm_possible(name) == hybrid_vmm_possible(obj)


@given(JUNK)
def test_timing_dependent_must_be_bool(value):
    if isinstance(value, bool):
        return
    _refused(is_recursively_virtualizable, "TOY", timing_dependent=value,
             param="timing_dependent")


@given(JUNK, JUNK)
def test_nested_walk_refs_bad_levels(n, m):
    good = lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 6  # noqa: E731
    if good(n) and good(m):
        assert nested_walk_refs(n, m) == n * m + n + m
        return
    _refused(nested_walk_refs, n, m, param="guest_levels" if not good(n) else "host_levels")


@given(JUNK)
def test_cost_compare_refuses_non_workloads(value):
    if value is None:
        return
    _refused(compare, value, param="workload")
    _refused(compare, None, value, param="costs")

"""Hostile input for hypervisor stacks, KVM API and their widgets."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab.hypervisor.stacks import (
    Component, HypervisorStack, IoStep, StackCosts, compare_io, get_stack, io_cost,
)

BAD_INTS = [None, "4", 4.0, math.nan, math.inf, True, [4], -1, 2**70]


def _raises_named(exc_info, name):
    assert name in str(exc_info.value), str(exc_info.value)


@pytest.mark.parametrize("kind", [None, 1, "", "TYPE1", "type 1", "type3", ["type1"]])
def test_get_stack_bad_kind(kind):
    with pytest.raises((ValueError, TypeError)) as e:
        get_stack(kind)
    _raises_named(e, "kind")


@pytest.mark.parametrize("size", BAD_INTS + [0, 1 << 21])
def test_io_cost_bad_size(size):
    with pytest.raises((ValueError, TypeError)) as e:
        io_cost(get_stack("type1"), size_kib=size)
    _raises_named(e, "size_kib")


@pytest.mark.parametrize("stack", [None, "type1", 3, object()])
def test_io_cost_bad_stack(stack):
    with pytest.raises(TypeError) as e:
        io_cost(stack)
    _raises_named(e, "stack")


def test_io_cost_bad_costs():
    with pytest.raises(TypeError) as e:
        io_cost(get_stack("type1"), costs={"vm_exit": 1})
    _raises_named(e, "costs")


@pytest.mark.parametrize("field", ["vm_exit", "world_switch", "copy_kib", "device"])
@pytest.mark.parametrize("value", BAD_INTS)
def test_stack_costs_bad_values(field, value):
    with pytest.raises((ValueError, TypeError)) as e:
        StackCosts(**{field: value})
    _raises_named(e, field)


@pytest.mark.parametrize("kinds", [(), ("type1", "nope"), "type1x", None, (1,)])
def test_compare_io_bad_kinds(kinds):
    with pytest.raises((ValueError, TypeError)) as e:
        compare_io(kinds=kinds)
    _raises_named(e, "kinds")


def test_component_and_step_validation():
    with pytest.raises(ValueError, match="kind"):
        Component("a", "A", "toaster", None, "-")
    with pytest.raises(TypeError, match="runs_on"):
        Component("a", "A", "app", 3, "-")
    with pytest.raises(ValueError, match="category"):
        IoStep("a", "x", "teleport")
    with pytest.raises((ValueError, TypeError), match="count"):
        IoStep("a", "x", "driver", 0)


def test_stack_validation_cycles_duplicates_unknown():
    hw = Component("hw", "HW", "hardware", None, "-")
    a = Component("a", "A", "host_os", "b", "-")
    b = Component("b", "B", "host_os", "a", "-")
    with pytest.raises(ValueError, match="cycle"):
        HypervisorStack("x", "X", (), (hw, a, b), ())
    with pytest.raises(ValueError, match="duplicate"):
        HypervisorStack("x", "X", (), (hw, hw), ())
    c = Component("c", "C", "host_os", "zz", "-")
    with pytest.raises(ValueError, match="unknown component"):
        HypervisorStack("x", "X", (), (hw, c), ())
    with pytest.raises(ValueError, match="io_path"):
        HypervisorStack("x", "X", (), (hw,), (IoStep("ghost", "x", "driver"),))
    with pytest.raises(TypeError, match="components"):
        HypervisorStack("x", "X", (), [hw], ())
    with pytest.raises(ValueError, match="name"):
        get_stack("type1").component("nope")


@given(st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=5),
                 st.none(), st.booleans()))
def test_io_cost_size_never_crashes_oddly(size):
    try:
        r = io_cost(get_stack("kvm"), size_kib=size)
    except (ValueError, TypeError) as e:
        assert "size_kib" in str(e)
    else:
        assert isinstance(size, int) and 1 <= size <= 1 << 20
        assert r.total > 0

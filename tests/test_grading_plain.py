"""Plain-data export and comparison: the only things a verdict is computed from."""

import json
import math

from hypothesis import given
from hypothesis import strategies as st

from virtlab.grading._kernel import export_answers, to_plain
from virtlab.grading.verdict import plain_equal

plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner,
                                                                max_size=3)
    | st.frozensets(st.integers() | st.text(max_size=3), max_size=4),
    max_leaves=12)


@given(plain_values)
def test_to_plain_is_json_and_idempotent(value):
    p = to_plain(value)
    text = json.dumps(p, allow_nan=False)          # always valid strict JSON
    assert json.loads(text) == p
    assert to_plain(p) == p


@given(plain_values)
def test_value_equals_itself_after_export(value):
    assert plain_equal(to_plain(value), to_plain(value))


def test_rigged_objects_never_compare_equal():
    class Liar:
        def __eq__(self, other):
            return True

        def __hash__(self):
            return 0

    class MyInt(int):
        def __eq__(self, other):
            return True
        __hash__ = int.__hash__

    class MyStr(str):
        pass

    for bad in (Liar(), MyInt(3), MyStr("SGDT"), [Liar()], {"a": Liar()}, {Liar()}):
        assert "__unsupported__" in json.dumps(to_plain(bad))
        for ref in (3, "SGDT", [3], {"a": 3}, {"__set__": [3]}):
            assert not plain_equal(to_plain(bad), to_plain(ref))


def test_recursion_and_size_are_bounded():
    a = []
    a.append(a)
    assert to_plain(a) == {"__unsupported__": "too deeply nested"}
    assert to_plain(list(range(300_000))) == {"__unsupported__": "too large"}


def test_numbers_tolerance_and_bools():
    assert plain_equal(1, 1.0)
    assert plain_equal(0.1 + 0.2, 0.3)
    assert not plain_equal(1.001, 1.0)
    assert not plain_equal(True, 1) and not plain_equal(1, True)
    assert plain_equal(to_plain(math.nan), to_plain(math.nan))


def test_sets_accept_lists_and_ignore_order():
    ref = to_plain({"POPF", "SGDT"})
    assert plain_equal(["SGDT", "POPF"], ref)
    assert plain_equal(to_plain(frozenset({"POPF", "SGDT"})), ref)
    assert not plain_equal(["SGDT"], ref)
    assert not plain_equal(["SGDT", "POPF", "X"], ref)


def test_dicts_with_int_keys():
    assert plain_equal(to_plain({1: 2.0, 3: 4}), to_plain({3: 4, 1: 2}))
    assert not plain_equal(to_plain({1: 2}), to_plain({1: 3}))


def test_export_marks_missing_unanswered_and_errors():
    def boom(x):
        raise KeyError("secret-input")

    def slow(x):
        while True:
            pass

    ns = {"a": ..., "f": boom, "g": slow, "h": lambda x: [x, x]}
    spec = {"values": ["a", "b"], "call_timeout": 0.2,
            "functions": {"f": {"cases": [[1]]}, "g": {"cases": [[1]]},
                          "h": {"cases": [[2]]}, "k": {"cases": [[1], [2]]}}}
    out = export_answers(ns, spec)
    assert out["values"] == {"a": {"__unanswered__": True}, "b": {"__missing__": "b"}}
    assert out["functions"]["f"] == [{"__error__": "KeyError"}]     # no message, no input
    assert out["functions"]["g"] == [{"__error__": "timeout"}]
    assert out["functions"]["h"] == [[2, 2]]
    assert out["functions"]["k"] == [{"__missing__": "k"}] * 2


def test_function_gets_a_fresh_copy_of_each_input():
    def mutate(xs):
        xs.append(1)
        return len(xs)

    out = export_answers({"f": mutate}, {"functions": {"f": {"cases": [[[0]], [[0]]]}}})
    assert out["functions"]["f"] == [2, 2]

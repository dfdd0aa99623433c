"""QEMU's TCG through unicorn: the same architectural state as virtlab's interpreter."""

import sys

import pytest
from hypothesis import given, settings, strategies as st

from host_live import import_or_skip
from virtlab.host import guests as G
from virtlab.host import tcg
from virtlab.host.compare import expected_state, run_interpreter

import_or_skip("unicorn")


@settings(max_examples=15)
@given(st.integers(min_value=1, max_value=3000))
def test_tcg_and_interpreter_end_in_the_same_state(n):
    t = tcg.run_tcg(G.compute(n))
    i = run_interpreter(n)
    assert t.available
    state_t = {"eax": t.regs["eax"], "ebx": t.regs["ebx"], "ecx": t.regs["ecx"],
               "mem": t.dword(0x400)}
    assert state_t == i.state == expected_state(n)
    assert t.instructions == i.instructions == 2 + 5 * n + 1


def test_hello_under_tcg_matches_its_kvm_exits():
    r = tcg.run_tcg(G.HELLO, mmio_value=0x55)
    assert r.output == "Hello!"
    assert r.mmio == ((0, False, 0x55), (4, True, 0x55))
    assert r.regs["ebx"] == 0x55 and r.regs["esi"] == 0x406
    assert r.regs["eip"] == G.LOAD_ADDRESS + len(G.HELLO.code)


def test_translation_cache_counts_blocks_once():
    # compute(n): TCG translates [entry .. jne] once, then [loop body .. jne] once;
    # the loop block runs n-1 more times from the cache (the hlt is not executed).
    for n in (2, 100):
        r = tcg.run_tcg(G.compute(n), count_blocks=True)
        assert r.translated_blocks == 2 and r.block_executions == n
        (a0, i0, _), (a1, i1, s1) = r.blocks
        assert (a0, i0) == (G.LOAD_ADDRESS, 7) and (a1, i1) == (G.LOAD_ADDRESS + 10, 5)
        assert s1 == 13          # add 2 + xor 2 + mov 6 + dec 1 + jne 2 bytes
    assert tcg.run_tcg(G.compute(5)).translated_blocks is None


def test_without_unicorn_the_run_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "unicorn", None)
    r = tcg.run_tcg(G.HALT)
    assert not r.available and "unicorn" in r.missing.what
    assert "pip install unicorn" == r.missing.remedy


@pytest.mark.parametrize("bad", [None, "hello", 3])
def test_bad_guest(bad):
    with pytest.raises(TypeError):
        tcg.run_tcg(bad)

"""Live migration: pre-copy vs stop-and-copy vs post-copy (Clark et al. 2005, facts.md §7)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from virtlab import migration as mig

MIB_MBIT = 8.388608          # 1 MiB = 2**23 bit = 8.388608 Mbit

memories = st.floats(min_value=1, max_value=65536)
bandwidths = st.floats(min_value=1, max_value=100_000)
rates = st.floats(min_value=0, max_value=100_000)


def wws_for(data, memory):
    frac = data.draw(st.one_of(st.none(), st.floats(min_value=0.0, max_value=1.0)))
    return None if frac is None else frac * memory


def test_xen_constants():
    # xc_domain_save.c: DEF_MAX_ITERS 29, DEF_MAX_FACTOR 3, last round below 50 pages
    assert mig.DEF_MAX_ITERS == 29
    assert mig.DEF_MAX_FACTOR == 3
    assert mig.MIN_PAGES == 50


def test_stop_and_copy_is_memory_over_bandwidth():
    r = mig.stop_and_copy(1024, 1000, state_kb=0)
    assert r.downtime_s == pytest.approx(1024 * MIB_MBIT / 1000)
    assert r.total_time_s == r.downtime_s
    assert r.data_sent_mb == pytest.approx(1024)


def test_idle_vm_needs_one_full_round_then_nothing():
    r = mig.precopy(256, 1000, 0, state_kb=0)
    assert [x.pages for x in r.rounds] == [256 * 256, 0, 0]
    assert r.stop_reason == "few_pages"
    assert r.downtime_s == 0.0
    assert r.data_sent_mb == pytest.approx(256)


def test_rounds_send_what_the_previous_round_dirtied():
    r = mig.precopy(1024, 1000, 100, wws_mb=64)
    for before, after in zip(r.rounds, r.rounds[1:]):
        assert after.pages == before.dirtied
    # first round sends the whole memory
    assert r.rounds[0].pages == 1024 * 256
    # second round: pages dirtied while 1 GiB crossed a 1 Gbit/s link (8.59 s) at
    # 100 Mbit/s = 3052 pages/s into a 16384-page hot set: 16384 (1 - e^-1.6)
    expected = 16384 * (1 - math.exp(-(100e6 / 32768) * (1024 * MIB_MBIT / 1000) / 16384))
    assert r.rounds[1].pages == pytest.approx(expected, abs=1)


def test_writable_working_set_caps_every_later_round():
    r = mig.precopy(4096, 100, 1000, wws_mb=32)
    assert all(x.pages <= 32 * 256 for x in r.rounds[1:])


def test_precopy_beats_stop_and_copy_when_link_outruns_writes():
    c = mig.compare(2048, 1000, 100, wws_mb=128)
    assert c["pre-copy"].downtime_s < c["stop-and-copy"].downtime_s / 100
    assert c["post-copy"].downtime_s <= c["pre-copy"].downtime_s
    # ... at the price of a longer migration and more data (pre-copy)
    assert c["pre-copy"].total_time_s > c["stop-and-copy"].total_time_s
    assert c["pre-copy"].data_sent_mb > c["stop-and-copy"].data_sent_mb


def test_dirty_rate_above_bandwidth_hits_round_limit_with_small_wws():
    # hot set 16 MiB written at 4x the link rate: never converges; total sent stays far
    # below 3x memory, so Xen's 29-round limit is what stops pre-copy
    r = mig.precopy(1024, 100, 400, wws_mb=16, state_kb=0)
    assert r.stop_reason == "max_iters"
    assert r.precopy_rounds == mig.DEF_MAX_ITERS
    # downtime ~ a stop-and-copy of the remaining dirty set ~ the whole hot set
    hot_copy = 16 * MIB_MBIT / 100
    assert 0.9 * hot_copy <= r.downtime_s <= hot_copy
    assert r.downtime_s == pytest.approx(mig.stop_and_copy(r.final_dirty_mb, 100,
                                                           state_kb=0).downtime_s)


def test_dirty_rate_above_bandwidth_whole_memory_hits_factor_limit():
    # writes to all of memory at twice the link rate: the dirty set stays near the fixed
    # point x = 1 - exp(-2x) ~ 0.797 of memory, so 3x memory is sent after a few rounds
    r = mig.precopy(1024, 100, 200, state_kb=0)
    assert r.stop_reason == "max_factor"
    assert r.data_sent_mb >= 3 * 1024
    full = mig.stop_and_copy(1024, 100, state_kb=0).downtime_s
    assert 0.7 * full <= r.downtime_s <= full


@given(memories, bandwidths, st.floats(min_value=0, max_value=10_000), st.data())
def test_dirty_rate_above_bandwidth_never_converges(memory, bw, factor, data):
    dirty = bw * (1.2 + factor / 1000)
    wws = wws_for(data, memory)
    r = mig.precopy(memory, bw, dirty, wws)
    hot_pages = math.ceil((memory if wws is None else wws) * 256)
    if hot_pages >= 10 * mig.MIN_PAGES:
        assert r.stop_reason in ("max_iters", "max_factor")


@given(memories, bandwidths, rates, st.data())
def test_data_sent_never_less_than_memory(memory, bw, dirty, data):
    wws = wws_for(data, memory)
    for method in mig.METHODS:
        r = mig.migrate(method, memory, bw, dirty, wws)
        assert r.data_sent_mb >= memory - 1e-9, method
        assert r.downtime_s <= r.total_time_s + 1e-12


@given(memories, bandwidths, rates, st.data())
def test_doubling_bandwidth_never_increases_downtime(memory, bw, dirty, data):
    wws = wws_for(data, memory)
    for method in mig.METHODS:
        slow = mig.migrate(method, memory, bw, dirty, wws)
        fast = mig.migrate(method, memory, 2 * bw, dirty, wws)
        assert fast.downtime_s <= slow.downtime_s * (1 + 1e-9), method


def test_downtime_falls_as_bandwidth_rises_over_a_sweep():
    downs = [mig.precopy(2048, bw, 200, wws_mb=256).downtime_s
             for bw in (100, 200, 400, 800, 1600, 3200, 6400)]
    assert downs == sorted(downs, reverse=True)
    assert downs[-1] < downs[0] / 10


@given(memories, bandwidths, rates, st.data(), st.integers(1, 40),
       st.floats(min_value=1, max_value=5))
def test_stop_rules_are_respected(memory, bw, dirty, data, iters, factor):
    wws = wws_for(data, memory)
    r = mig.precopy(memory, bw, dirty, wws, max_iters=iters, max_factor=factor)
    pre = [x for x in r.rounds if x.kind == "pre-copy"]
    assert 1 <= len(pre) <= iters
    assert r.rounds[-1].kind == "stop-and-copy"
    # the factor rule is checked after each round: all but the last pre-copy round
    # stay within max_factor x memory
    assert sum(x.pages for x in pre[:-1]) <= factor * math.ceil(memory * 256)
    if r.stop_reason == "few_pages":
        assert pre[-1].pages < mig.MIN_PAGES
    if r.stop_reason == "max_iters":
        assert len(pre) == iters


def test_adaptive_rate_starts_low_and_ends_at_max():
    r = mig.precopy(1024, 1000, 100, wws_mb=64, rate=mig.AdaptiveRate())
    assert r.rounds[0].rate_mbit == 100
    assert r.rounds[-1].rate_mbit == 500
    assert all(100 <= x.rate_mbit <= 500 for x in r.rounds)
    # clamped by a slow link
    slow = mig.precopy(1024, 50, 10, wws_mb=64, rate=mig.AdaptiveRate())
    assert all(x.rate_mbit <= 50 for x in slow.rounds)


def test_postcopy_sends_each_page_once_and_faults_on_hot_pages():
    r = mig.postcopy(1024, 1000, 400, wws_mb=64, state_kb=0)
    assert r.data_sent_mb == pytest.approx(1024)
    assert r.downtime_s == 0.0
    assert 0 < r.remote_faults <= 64 * 256
    assert r.degraded_s >= r.total_time_s - r.downtime_s
    idle = mig.postcopy(1024, 1000, 0, state_kb=0)
    assert idle.remote_faults == 0


def test_evacuation_sums_migrations():
    vms = [("a", 512, 50, 32), ("b", 1024, 100, None)]
    e = mig.evacuate(vms, 1000)
    one = mig.precopy(512, 1000, 50, 32)
    two = mig.precopy(1024, 1000, 100)
    assert e.total_time_s == pytest.approx(one.total_time_s + two.total_time_s)
    assert e.max_downtime_s == max(one.downtime_s, two.downtime_s)


def test_compare_and_migrate_are_the_three_models_side_by_side():
    # compare/migrate must not re-implement a method: each entry is that model's answer
    both = mig.compare(3000, 700, 123, 77)
    assert both["pre-copy"] == mig.precopy(3000, 700, 123, 77)
    assert both["stop-and-copy"] == mig.stop_and_copy(3000, 700, 123, 77)
    assert both["post-copy"] == mig.postcopy(3000, 700, 123, 77)
    assert mig.migrate("post-copy", 3000, 700, 123, 77) == both["post-copy"]

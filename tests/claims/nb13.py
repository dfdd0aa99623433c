"""Claims of notebook 13 (ballooning): recomputed from virtlab.balloon."""

import functools
from dataclasses import replace

from virtlab import balloon

from . import cite, claim

cite("13", "an *idle memory tax* (default 75 %) decides from which VMs to reclaim (Waldspurger "
           "§5.2)", "Waldspurger, OSDI 2002, §5.2 (facts.md §6)")


@functools.lru_cache(maxsize=None)
def _runs():
    frames, vms = balloon.overcommit_scenario(target=44)
    return frames, vms, balloon.compare_policies(frames, vms, steps=40)


def _io(trace):
    t = trace.totals()
    return (t["guest_swap_out"] + t["guest_swap_in"] + t["disk_reads"] + t["hv_swap_out"]
            + t["hv_swap_in"])


@claim("13", "The scenario: 1.5× overcommit")
def _():
    frames, vms, _ = _runs()
    assert sum(v.memory for v in vms) / frames == 1.5


@claim("13", "the guests keep \"free\" memory longer than under ballooning (one of them to the "
             "end) while their hot pages go to the host's swap.")
def _():
    _, vms, runs = _runs()
    free = {p: sum(sum(runs[p].guest_free[v.name]) for v in vms) for p in ("balloon", "swap")}
    assert free["swap"] > free["balloon"]
    assert any(runs["swap"].guest_free[v.name][-1] > 0 for v in vms)
    assert runs["swap"].totals()["hv_swap_out"] > 0


@claim("13", "ballooning moves less than hypervisor swapping here")
def _():
    _, _, runs = _runs()
    assert _io(runs["balloon"]) < _io(runs["swap"])


@claim("13", "and never needs double paging")
def _():
    _, _, runs = _runs()
    assert runs["balloon"].totals()["double_paging"] == 0
    assert runs["swap"].totals()["double_paging"] > 0


@claim("13", "Here the 20 identical OS pages of the three VMs (also among their hottest pages) "
             "collapse into one copy each, so the hypervisor has 40 frames more and must swap "
             "less.")
def _():
    _, vms, runs = _runs()
    assert len(vms) == 3 and all(v.shared_pages == 20 for v in vms)
    assert runs["sharing"].shared[-1] == 20 and 3 * 20 - 20 == 40
    hv = {p: runs[p].totals()["hv_swap_out"] + runs[p].totals()["hv_swap_in"]
          for p in ("swap", "sharing")}
    assert hv["sharing"] < hv["swap"]


@claim("13", "The hypervisor's side of the story — balloon size, host frames used — is "
             "identical; only the guest's own choices (and so its swapping) differ.")
def _():
    _, vms, _ = _runs()
    one = replace(vms[0], working_set=90, balloon_target=60)
    out = {}
    for policy in balloon.REPLACEMENTS:
        t = balloon.simulate(200, [replace(one, replacement=policy)], steps=30)
        out[policy] = (t.balloon["vm1"], t.resident["vm1"], t.counters["vm1"]["guest_swap_out"])
    assert len({(tuple(b), tuple(r)) for b, r, _ in out.values()}) == 1
    assert len({s for *_, s in out.values()}) > 1


@claim("13", "Every host frame is free, backs exactly one guest page, or belongs to the sharing "
             "pool")
def _():
    frames, vms, _ = _runs()
    host = balloon.BalloonHost(frames, vms, policy="sharing")
    host.run(30)
    acct = host.check()
    assert acct.total == frames == (acct.guest_used + acct.guest_free + acct.balloon_held
                                    + acct.shared + acct.host_free)


@claim("13", "the guest gives up its free pages first, then whatever *its own* policy chooses.")
def _():
    _, vms, runs = _runs()
    t = runs["balloon"]
    for v in vms:
        free, swap = t.guest_free[v.name], t.guest_swap_io[v.name]
        first_empty = next(i for i, x in enumerate(free) if x == 0)
        first_swap = next(i for i, x in enumerate(swap) if x > 0)
        assert first_swap >= first_empty, v.name
    assert all(t.balloon[v.name][-1] == v.balloon_target for v in vms)

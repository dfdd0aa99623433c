"""Claims of notebook 03 (partitioning)."""

from virtlab import partitioning as pt
from virtlab.widgets.partitioning import PartitionLab

from . import claim, cite

MACHINE = pt.Machine(cpus=8, memory_gb=64, channels=16)


def _config(prod_cpus=3):
    prod = (pt.Partition("prod", 24, 6, dedicated_cpus=prod_cpus) if prod_cpus
            else pt.Partition("prod", 24, 6, weight=1))
    return pt.assign(MACHINE, [prod, pt.Partition("test", 16, 4, weight=2),
                               pt.Partition("dev", 8, 2, weight=1)])


def _compare():
    demand = pt.make_demand(["prod", "test", "dev", "batch"], steps=96, seed=0)
    return pt.compare_static_shared(8, demand)


@claim("03", "`test` and `dev` share the remaining **pool** of 5 CPUs by weight 2 : 1")
def _():
    ent = {name: cpus for name, _, cpus, _, _ in _config().rows()}
    assert abs(ent["test"] + ent["dev"] - 5) < 1e-9
    assert abs(ent["test"] / ent["dev"] - 2) < 1e-9


@claim("03", "(0 puts `prod` into the shared pool with weight 1)")
def _():
    config = PartitionLab(prod_cpus=0).result[0]
    modes = {name: mode for name, mode, *_ in config.rows()}
    assert modes["prod"] == "shared"
    assert [p.weight for p in config.partitions if p.name == "prod"] == [1]


@claim("03", "Statically, each owns 2 CPUs and cannot use a neighbour's idle CPU")
def _():
    r = _compare()
    assert len(r.names) == 4
    for name in r.names:
        assert max(r.static[name]) <= 2 + 1e-9            # capped at its 2 CPUs
    assert any(max(r.demand[n]) > 2 for n in r.names)     # and the cap bites


@claim("03", "the pool serves almost everything, while static partitions turn demand away "
             "although CPUs sit idle next door")
def _():
    r = _compare()
    assert r.shared_unmet < 0.02
    assert r.static_unmet > 4 * r.shared_unmet
    assert r.static_util < 0.9          # idle capacity exists while demand is refused


@claim("03", "a shared, work-conserving pool gives higher utilization and less unmet demand "
             "than static partitions under the same load")
def _():
    r = _compare()
    assert r.shared_util > r.static_util and r.shared_unmet < r.static_unmet


cite("03", "Strictly, CTSS was a time-sharing system; the first virtual machines were CP-40 "
           "and CP-67 at IBM's Cambridge Scientific Center",
     "secondary sources listed in partitioning.TIMELINE (Wikipedia: History of CP/CMS, "
     "CP-40, CP/CMS)")


@claim("03", "A machine with 8 CPUs, 64 GiB and 16 I/O channels. `prod` gets 3 **dedicated** "
             "CPUs")
def _():
    config = _config()
    assert (config.machine.cpus, config.machine.memory_gb, config.machine.channels) == \
        (8, 64, 16)
    rows = {name: (mode, cpus) for name, mode, cpus, _, _ in config.rows()}
    assert rows["prod"] == ("dedicated", 3)
    assert config.pool_cpus == 5


@claim("03", "Memory and channels are always dedicated")
def _():
    config = _config()
    used = sum(p.memory_gb for p in config.partitions)
    assert config.free_memory_gb == 64 - used            # no sharing of memory
    assert config.free_channels == 16 - sum(p.channels for p in config.partitions)


@claim("03", "Four partitions with bursty demand on 8 CPUs")
def _():
    r = _compare()
    assert len(r.names) == 4 and r.cpus == 8
    for name in r.names:                                  # bursty: peaks well above mean
        d = r.demand[name]
        assert max(d) > 1.5 * sum(d) / len(d)

"""The instructor notes (docs/instructor/): complete, linked, and every demo statement true.

Each page's demo script says which widget settings to show and what the
audience will see.  Like the notebooks' claims (tests/claims), every such
statement is quoted here verbatim (white space folded) together with a check
that drives the widget headlessly with the same settings and asserts what the
sentence says.  If a model changes so that a sentence becomes false, the check
names the page and the sentence.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import pytest

import virtlab.widgets as widgets
from virtlab import course
from virtlab import cli

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "docs" / "instructor"
ERRATA = ROOT / "docs" / "errata.md"
PAGES = {t.id: NOTES / t.notebook.replace(".ipynb", ".md") for t in course.TOPICS}


def fold(text: str) -> str:
    return " ".join(text.split())


def page(topic_id: str) -> str:
    return PAGES[topic_id].read_text(encoding="utf-8")


def github_anchor(heading: str) -> str:
    # GitHub's slug: lower case, drop punctuation except "-" and "_", spaces -> "-".
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# --- structure -----------------------------------------------------------------------------

@pytest.mark.parametrize("topic_id", sorted(PAGES))
def test_every_notebook_has_a_page_with_the_four_parts(topic_id):
    text = page(topic_id)
    for section in ("## 90 minutes", "## Demo script", "## Misconceptions", "## Slide errata"):
        assert section in text, f"{PAGES[topic_id].name}: no {section!r}"
    notebook = course.topic(topic_id).notebook
    assert f"(../../notebooks/{notebook})" in text
    assert (NOTES / f"../../notebooks/{notebook}").resolve().is_file()


@pytest.mark.parametrize("topic_id", sorted(PAGES))
def test_timing_table_fills_ninety_minutes(topic_id):
    text = page(topic_id).split("## 90 minutes", 1)[1].split("\n## ", 1)[0]
    spans = re.findall(r"^\| (\d+)–(\d+) \|", text, flags=re.M)
    assert spans, "no timing rows"
    starts = [int(a) for a, _ in spans]
    ends = [int(b) for _, b in spans]
    assert starts[0] == 0 and ends[-1] == 90
    assert all(e == s for e, s in zip(ends, starts[1:])), "gaps or overlaps in the plan"


@pytest.mark.parametrize("topic_id", sorted(PAGES))
def test_page_names_the_slides_its_notebook_teaches(topic_id):
    text = fold(page(topic_id)).replace("*", "")
    for slide in course.SLIDES:
        if any(sec.topic_id == topic_id for sec in slide.sections):
            assert re.sub(r"\s*\(\d+\)$", "", slide.title) in text, slide.title


@pytest.mark.parametrize("topic_id", sorted(PAGES))
def test_errata_links_resolve(topic_id):
    headings = re.findall(r"^## (.+)$", ERRATA.read_text(encoding="utf-8"), flags=re.M)
    anchors = {github_anchor(h) for h in headings}
    links = re.findall(r"\]\(\.\./errata\.md(?:#([^)]*))?\)", page(topic_id))
    assert links, "no link to the errata"
    for anchor in links:
        assert not anchor or anchor in anchors, anchor


@pytest.mark.parametrize("topic_id", sorted(PAGES))
def test_widgets_named_in_the_demo_exist(topic_id):
    demo = page(topic_id).split("## Demo script", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([a-z_]+_(?:lab|map|search|debugger|walk|costs|nested))`", demo))
    assert named <= set(widgets.apps()), named - set(widgets.apps())


def test_index_and_running_page():
    index = (NOTES / "README.md").read_text(encoding="utf-8")
    for p in PAGES.values():
        assert f"]({p.name})" in index, p.name
    running = (NOTES / "running-the-course.md").read_text(encoding="utf-8")
    assert "](running-the-course.md)" in index
    for cmd in ("make lab", "virtlab assign --roster", "virtlab grade", "grades.csv",
                "virtlab course copy", "nbgitpuller"):
        assert cmd in running, cmd


def test_commands_on_the_running_page_exist(capsys):
    text = (NOTES / "running-the-course.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```sh\n.*?```", "", text, flags=re.S))
    used = {m for chunk in blocks + spans
            for m in re.findall(r"(?:^|\s)virtlab ([a-z-]+)", chunk, flags=re.M)}
    names = set(cli.commands())
    assert used and used <= names, used - names
    for option in ("--roster", "--release", "--out", "--force", "--shard"):
        assert option in text


# --- demo statements, recomputed -----------------------------------------------------------

def app(name, **settings):
    a = widgets.apps()[name]()
    if settings:
        a.set(**settings)
    return a


def text_of(a) -> str:
    return fold(html.unescape(re.sub(r"<[^>]+>", " ", a.html.value)))


def error_of(a) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", a.message.value))


def rows(a) -> dict[str, list[str]]:
    """The widget's HTML table(s): first cell -> the other cells (text)."""
    out = {}
    for tr in re.findall(r"<tr>(.*?)</tr>", a.html.value, flags=re.S):
        cells = [fold(html.unescape(re.sub(r"<[^>]+>", " ", c)))
                 for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, flags=re.S)]
        if cells:
            # the tables name modes for people ("binary translation"); key them by the
            # models' names ("binary_translation")
            out[cells[0]] = cells[1:]
            out.setdefault(_MODE_KEYS.get(cells[0], cells[0].replace(" ", "_")), cells[1:])
    return out


_MODE_KEYS = {"paravirtualization": "paravirt", "technique": "technique"}


def num(cell: str) -> float:
    return float(re.search(r"-?[\d,]*\.?\d+", cell).group().replace(",", ""))


CLAIMS: list[tuple[str, str, object]] = []


def claim(topic_id: str, fragment: str):
    def register(fn):
        CLAIMS.append((topic_id, fragment, fn))
        return fn
    return register


@claim("00", "pick *13 Ballooning*: the path 00 → 01 → 02 → 06 → 08 → 12 → 13 lights up")
def _():
    assert "00 Start here → 01 What is virtualization? → 02 Emulation vs virtualization → " \
           "06 Sensitive instructions → 08 Hardware support → 12 Memory virtualization → " \
           "13 Ballooning" in text_of(app("course_map", topic="13"))


@claim("00", "type `Ubersetzung` (no umlaut): *Binärübersetzung* is found")
def _():
    assert "Binärübersetzung" in text_of(app("glossary_search", query="Ubersetzung"))
    assert "No term matches" in text_of(app("glossary_search", query="Kaffee"))


@claim("00", "`virtlab slides Schattentabellen` prints the slide *Hauptspeicherverwaltung (1)* "
             "and the sections of notebook 12 that teach it")
def _():
    found = course.find_slides("Schattentabellen")
    assert found[0].title == "Hauptspeicherverwaltung (1)"
    assert {s.topic_id for s in found[0].sections} == {"12"}


@claim("01", "Set **disks** to 1: every block lands on disk 0")
def _():
    placement, _ = app("storage_lab", disks=1).result
    assert {d for d, _ in placement} == {0}
    placement3, _ = app("storage_lab").result
    assert [d for d, _ in placement3[:6]] == [0, 0, 1, 1, 2, 2]


@claim("01", "Change `dns=20` to `dns=10` and press Enter: `dns` joins `mail` and `web` in VLAN 10")
def _():
    a = app("vlan_lab", ports="web=10, db=20, mail=10, dns=10, backup=30")
    assert "VLAN 10: dns, mail, web" in text_of(a)
    bad = app("vlan_lab", ports="web=10, db=twenty")
    assert "host=VLAN" in error_of(bad)


def _band(a) -> dict[str, bool]:
    return {k: "✓" in v[-2] for k, v in rows(a).items() if k != "technique"}


def _overhead(a) -> dict[str, float]:
    return {k: num(v[1]) for k, v in rows(a).items() if k != "technique"}


@claim("02", "Binary translation, hardware and paravirtualization are inside the 5–10 % band, "
             "trap-and-emulate is above it, emulation is more than an order of magnitude slower")
def _():
    a = app("emulation_lab")
    band, ov = _band(a), _overhead(a)
    assert band["binary_translation"] and band["hardware"] and band["paravirt"]
    assert ov["trap_and_emulate"] > 10
    assert num(rows(a)["emulation"][0]) > 10


@claim("02", "Hardware (VT-x) leaves the band — every `OUT` is a VM exit — while binary "
             "translation stays inside")
def _():
    band = _band(app("emulation_lab", io=8))
    assert not band["hardware"] and band["binary_translation"]


@claim("02", "Now binary translation and paravirtualization leave the band and hardware stays inside")
def _():
    band = _band(app("emulation_lab", pt_updates=32))
    assert not band["binary_translation"] and not band["paravirt"] and band["hardware"]


@claim("02", "Binary translation, hardware and paravirtualization all drop below 5 %")
def _():
    ov = _overhead(app("emulation_lab", compute=40000))
    assert all(ov[m] < 5 for m in ("binary_translation", "hardware", "paravirt"))


@claim("02", "Only the hardware row grows; binary translation and paravirtualization do not change")
def _():
    cheap, dear = _overhead(app("emulation_lab", io=8)), _overhead(app("emulation_lab", io=8,
                                                                       vm_exit=8000))
    assert dear["hardware"] > cheap["hardware"]
    assert dear["binary_translation"] == cheap["binary_translation"]
    assert dear["paravirt"] == cheap["paravirt"]


@claim("03", "`test` gets twice `dev`'s share of the pool")
def _():
    r = rows(app("partition_lab"))
    assert num(r["test"][2]) == pytest.approx(2 * num(r["dev"][2]), abs=0.01)


@claim("03", "The firmware refuses: shared partitions need a shared pool, but all CPUs are dedicated")
def _():
    assert "all 8 CPUs are dedicated" in error_of(app("partition_lab", prod_cpus=8))


@claim("03", "The refusal names memory and the requested total")
def _():
    assert "over-assign memory: 84 GiB requested" in error_of(app("partition_lab",
                                                                  prod_memory=60))


@claim("03", "the shared pool reaches a higher utilization and leaves less demand unmet than "
             "static partitions under the same load. Change **seed** for another demand "
             "pattern; the ordering stays")
def _():
    a = app("partition_lab")
    for seed in range(0, 51, 10):
        a.set(seed=seed)
        t = text_of(a)
        m = re.search(r"static (\d+)% vs shared (\d+)%; unmet demand (\d+)% vs (\d+)%", t)
        su, sh, uu, uh = map(int, m.groups())
        assert sh > su and uh < uu, (seed, t)


def _cons(**kw):
    r = rows(app("consolidation_lab", **kw))
    return {k: num(v[1]) for k, v in r.items() if k}


@claim("04", "Fewer hosts, higher utilization, less energy: the complementary policy packs by the hour")
def _():
    ffd, comp = _cons(), _cons(policy="complementary")
    assert comp["machines"] < ffd["machines"]
    assert comp["mean CPU utilization"] > ffd["mean CPU utilization"]
    assert comp["energy per day incl. cooling"] < ffd["energy per day incl. cooling"]


@claim("04", "raise **overhead** from 0.07 to 0.3: more hosts are needed")
def _():
    assert _cons(overhead=0.3)["machines"] > _cons()["machines"]


@claim("04", "with the defaults the failed host takes several VMs down and a service loses its "
             "last replica (named in the text)")
def _():
    t = text_of(app("failure_lab"))
    m = re.match(r"(\d+) VMs down", t)
    assert int(m.group(1)) > 1
    assert "services with no replica left: none" not in t


@claim("04", "Switch on **anti_affinity**: the same VMs go down, but no service is out")
def _():
    before, after = text_of(app("failure_lab")), text_of(app("failure_lab", anti_affinity=True))
    assert before.split(",")[0] == after.split(",")[0]
    assert "services with no replica left: none" in after


@claim("04", "Add one **spare** and allow **restart**: no VM is lost any more")
def _():
    t = text_of(app("failure_lab", spares=1, restart=True))
    assert re.search(r"\b0 lost\b", t) and "0.0 VMs lost" in t


def _mig(**kw):
    a = app("migration_lab", **kw)
    return {k: v for k, v in rows(a).items() if k != "method"}, text_of(a)


@claim("04", "pre-copy stops because a round sent fewer than 50 pages; its downtime is tiny next "
             "to stop-and-copy's, at the price of more data sent")
def _():
    r, t = _mig()
    assert "fewer than 50 pages" in t
    assert num(r["pre-copy"][0]) * 100 < num(r["stop-and-copy"][0])
    assert num(r["pre-copy"][2]) > num(r["stop-and-copy"][2])


@claim("04", "pre-copy no longer converges, stops after sending 3× the memory, and its downtime "
             "grows beyond a second. Stop-and-copy does not change")
def _():
    base, _ = _mig()
    r, t = _mig(dirty_rate_mbit=1500)
    assert "more than 3× the VM's memory was sent" in t
    assert num(r["pre-copy"][0]) > 1000
    assert r["stop-and-copy"] == base["stop-and-copy"]


@claim("04", "the smallest pause, but the pages are fetched over the network while the VM "
             "already runs on the target (*remote faults*)")
def _():
    r, t = _mig(method="post-copy")
    assert min(r, key=lambda k: num(r[k][0])) == "post-copy"
    assert "remote faults" in t


def _ct(**kw):
    return {k: v for k, v in rows(app("container_lab", **kw)).items()}


@claim("05", "in a container the bomb stays in its instance — the pids cgroup caps it; in a VM "
             "it fills only that guest's process table")
def _():
    r = _ct()
    assert r["container"][0] == "instance" and "pids cgroup" in r["container"][1]
    assert r["vm"][0] == "instance"


@claim("05", "the container's fork bomb now reaches the **host**; the VM's does not change")
def _():
    assert _ct(limits=False)["container"][0] == "host"
    assert _ct(limits=False)["vm"] == _ct()["vm"]


@claim("05", "**incident** `kernel bug`: containers → host (one shared kernel), VM → instance")
def _():
    r = _ct(incident="kernel bug")
    assert (r["container"][0], r["vm"][0]) == ("host", "instance")


@claim("05", "now the VM row says *host* too")
def _():
    r = _ct(incident="hypervisor bug")
    assert (r["container"][0], r["vm"][0]) == ("host", "host")


@claim("05", "the memory rows grow much faster for VMs (a guest OS per instance); the kernels "
             "row counts one kernel for all containers")
def _():
    small, big = _ct(instances=10), _ct(instances=100)
    grow_c = num(big["memory for 100"][0]) - num(small["memory for 10"][0])
    grow_v = num(big["memory for 100"][1]) - num(small["memory for 10"][1])
    assert grow_v > 2 * grow_c
    assert big["kernels running"] == ["1", "101"]


def _steps(technique, program, n):
    a = app("step_debugger", technique=technique, program=program)
    for _ in range(n):
        a.step()
    return text_of(a)


@claim("06", "Press **Step** six times: `STI` and `HLT` trap into the VMM, but `POPF` runs "
             "directly in ring 1 — the log says the VMM never sees it")
def _():
    t = _steps("trap_and_emulate", "popf", 6)
    assert "POPF ran directly in ring 1: no trap, the VMM never sees it" in t
    assert "VMM emulates STI" in t and "VMM emulates HLT" in t
    assert t.count("trap (ring 1 → 0)") == 2


@claim("06", "the same `POPF` is now a callout and the VMM emulates it")
def _():
    assert "POPF callout: VMM emulates POPF" in _steps("binary_translation", "popf", 6)


@claim("06", "not virtualizable by Theorem 1; the text lists 18 critical instructions")
def _():
    t = text_of(app("sensitive_lab"))
    assert "not virtualizable by Theorem 1" in t and "18 sensitive instructions do not trap" in t


@claim("06", "Make `POPF` privileged: 17 remain and the verdict does not change. Then select "
             "every instruction the widget offers except `SGDT`: still not virtualizable — the "
             "one critical instruction left is enough. Add `SGDT`: now Theorem 1 applies")
def _():
    t = text_of(app("sensitive_lab", make_privileged=("POPF",)))
    assert "17 sensitive instructions do not trap" in t and "not virtualizable" in t
    offered = tuple(app("sensitive_lab").controls["make_privileged"].options)
    t = text_of(app("sensitive_lab", make_privileged=tuple(o for o in offered if o != "SGDT")))
    assert "not virtualizable by Theorem 1" in t and "1 sensitive instructions do not trap" in t
    t = text_of(app("sensitive_lab", make_privileged=offered))
    assert t.startswith("X86_32*: virtualizable (Theorem 1)")


@claim("06", "both are virtualizable by Theorem 1, and Theorem 3 (hybrid VMM) holds too")
def _():
    for isa in ("X86_VTX", "TOY"):
        t = text_of(app("sensitive_lab", isa=isa))
        assert "virtualizable (Theorem 1); hybrid VMM (Theorem 3): yes" in t


def _bt(**kw):
    r = rows(app("binary_translation_lab", **kw))
    return {k: v for k, v in r.items() if k != "run"}


@claim("07", "**iterations** 1: two blocks translated (misses), no hits yet")
def _():
    assert _bt(iterations=1)["binary translation"][3] == "2/0"


@claim("07", "Iterations 5, then 50: the misses stay at 3 while the hits grow")
def _():
    five, fifty = _bt(iterations=5)["binary translation"][3], _bt(iterations=50)["binary translation"][3]
    assert five.split("/")[0] == fifty.split("/")[0] == "3"
    assert int(fifty.split("/")[1]) > int(five.split("/")[1])


@claim("07", "binary translation ends in exactly the native guest state; trap-and-emulate "
             "differs in `EDX` (the SGDT result) and IF")
def _():
    t = text_of(app("binary_translation_lab"))
    assert "BT ends in exactly the native guest state" in t
    assert "Trap-and-emulate differs from native in: EDX, if_" in t


@claim("07", "the first step says `translated block … cache miss`; `STI`, `POPF` and `HLT` are "
             "callouts")
def _():
    t = _steps("binary_translation", "popf", 6)
    assert re.search(r" 0 [A-Z]+ [^\[]*\[translated block [^\]]*cache miss\]", t), t
    for m in ("STI", "POPF", "HLT"):
        assert f"callout: VMM emulates {m}" in t


def _hw(**kw):
    r = rows(app("hardware_lab", **kw))
    return {k: v[-1] for k, v in r.items() if k != "benchmark"}


@claim("08", "VT wins only 3 of the 8 microbenchmarks — `syscall` and `divzero`, which no "
             "longer leave the guest, and `callret`, where binary translation pays for looking "
             "up the `RET`'s target in its translation cache; binary translation wins the "
             "page-table work")
def _():
    w = _hw()
    assert sorted(k for k, v in w.items() if v == "VT") == ["callret", "divzero", "syscall"]
    assert all(w[b] == "BT" for b in ("ptemod", "pgfault", "forkwait"))
    assert "indirect branch looked up in the translation cache" in rows(app("hardware_lab"))[
        "callret"][0]


@claim("08", "VT now wins 6 of 8; the page-table benchmarks (`ptemod`, `pgfault`, `forkwait`) "
             "move to VT")
def _():
    w = _hw(ept=True, vm_exit=2000)
    assert sum(v == "VT" for v in w.values()) == 6
    assert all(w[b] == "VT" for b in ("ptemod", "pgfault", "forkwait"))


@claim("08", "Push **vm_exit** down further: binary translation keeps `in` and `crwr`")
def _():
    a = app("hardware_lab", ept=True)
    for exit_price in range(a.controls["vm_exit"].min, 2001, 100):
        a.set(vm_exit=exit_price)
        w = {k: v[-1] for k, v in rows(a).items() if k != "benchmark"}
        assert w["in"] == "BT" and w["crwr"] == "BT", exit_price


@claim("08", "each `OUT` is `VM exit IO_INSTRUCTION (#30)`, the `HLT` exits too")
def _():
    t = _steps("hardware", "port_io", 5)
    assert t.count("OUT 0x3f8, EAX VM exit IO_INSTRUCTION (#30)") == 2
    assert "HLT VM exit HLT" in t


@claim("08", "the system calls go to the guest kernel through its IDT and `SYSEXIT` runs in "
             "non-root mode without an exit")
def _():
    t = _steps("hardware", "syscall", 20)
    assert "→ guest kernel via its IDT" in t
    assert "SYSEXIT executed in VMX non-root ring 3 on guest state (no exit)" in t


def _io_costs(**kw):
    return {k: v.total for k, v in app("hypervisor_types_lab", **kw).result.costs.items()}


@claim("09", "among the VM stacks the bars rank paravirtual cheapest, then type 1, KVM and "
             "type 2 most expensive")
def _():
    c = _io_costs()
    assert c["paravirtual"] < c["type1"] < c["kvm"] < c["type2"]


@claim("09", "Set **world_switch** to 0: only the type-2 bar shrinks")
def _():
    before, after = _io_costs(), _io_costs(world_switch=0)
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"type2"} and after["type2"] < before["type2"]


@claim("09", "Raise **vm_exit**: type 1, KVM and type 2 grow (the hosted VMM's port accesses are "
             "priced as exits too); paravirtual and native stay where they were")
def _():
    before, after = _io_costs(), _io_costs(vm_exit=10000)
    assert all(after[k] > before[k] for k in ("type1", "kvm", "type2"))
    assert all(after[k] == before[k] for k in ("paravirtual", "native"))


@claim("09", "the rewritten kernel makes hypercalls (`set_trap_table` for `LIDT`, `iret` for "
             "`SYSEXIT`), and the application's `INT 0x80` traps to the hypervisor, is checked "
             "and forwarded to the guest kernel in ring 1")
def _():
    t = _steps("paravirt", "syscall", 12)
    assert "set_trap_table (was LIDT EAX)" in t and "iret (was SYSEXIT)" in t
    assert "trap to the hypervisor, checked, forwarded to the guest kernel (ring 1)" in t
    hw = _steps("hardware", "syscall", 40)
    # under VT-x the same INT goes straight to the guest kernel (no VM exit)
    assert "INT 128 trap vector 128 (INT) → guest kernel via its IDT" in hw


def _irq(**kw):
    a = app("interrupt_lab", **kw)
    return {k: v for k, v in rows(a).items() if k != "domain"}, text_of(a), error_of(a)


@claim("10", "every device interrupt goes to dom0 first, and domU1 gets fewer virtual IRQs than "
             "it has packets")
def _():
    r, t, _ = _irq()
    assert "to dom0: 20." in t
    assert num(r["domU1"][1]) < num(r["domU1"][0])


@claim("10", "Give the NIC to **domU1 (passthrough)**: domU1's mean latency drops")
def _():
    assert num(_irq(nic_owner="domU1")[0]["domU1"][2]) < num(_irq()[0]["domU1"][2])


@claim("10", "Now set **packet_target** to domU2: refused — the NIC belongs to domU1 only")
def _():
    _, _, err = _irq(nic_owner="domU1", packet_target="domU2")
    assert "passed through to 'domU1'" in err


@claim("10", "switch **shared_pcpu** on: domU2 now waits for its vCPU to be scheduled and its "
             "latency grows")
def _():
    assert num(_irq(shared_pcpu=True)[0]["domU2"][2]) > num(_irq()[0]["domU2"][2])


def _io(**kw):
    return {k: [num(c) if re.match(r"^[\d.,]+$", c) else c for c in v]
            for k, v in rows(app("io_models_lab", **kw)).items() if k != "model"}


@claim("10", "emulation needs 7 exits per request; paravirtual needs less than one; passthrough "
             "exactly one per interrupt. Emulation cannot match the other two in throughput")
def _():
    r = _io()
    assert r["emulated"][1] == 7 and r["paravirtual"][1] < 1
    assert r["passthrough"][0] == r["passthrough"][3]
    assert r["emulated"][6] < min(r["paravirtual"][6], r["passthrough"][6])


@claim("10", "Set **batch** to 1: the paravirtual model's exits and notifications rise")
def _():
    a, b = _io(), _io(batch=1)
    assert b["paravirtual"][0] > a["paravirtual"][0] and b["paravirtual"][2] > a["paravirtual"][2]


@claim("10", "passthrough takes far fewer interrupts, its mean latency falls and its throughput "
             "rises. With **gap_us** 5 (light load) the same coalescing raises passthrough's "
             "mean latency")
def _():
    a, b = _io(), _io(coalesce=16)
    assert b["passthrough"][3] * 4 < a["passthrough"][3]
    assert b["passthrough"][4] < a["passthrough"][4] and b["passthrough"][6] > a["passthrough"][6]
    light, light_c = _io(gap_us=5), _io(gap_us=5, coalesce=16)
    assert light_c["passthrough"][4] > light["passthrough"][4]


def _sched(**kw):
    a = app("scheduler_lab", **kw)
    return {k: v for k, v in rows(a).items() if k != "vm"}, error_of(a)


@claim("11", "`db` and `batch` get about equal shares; `web`'s median wake-up latency is near "
             "zero (BOOST)")
def _():
    r, _ = _sched()
    assert abs(num(r["db"][1]) - num(r["batch"][1])) < 0.1
    assert num(r["web"][3]) < 0.5


@claim("11", "Give **batch_weight** 1024: `batch`'s share rises above `db`'s")
def _():
    r, _ = _sched(batch_weight=1024)
    assert num(r["batch"][1]) > num(r["db"][1])


@claim("11", "`db` gets about half a pCPU although it has two CPU-bound vCPUs")
def _():
    r, _ = _sched(db_cap=50)
    assert num(r["db"][1]) == pytest.approx(0.5, abs=0.03) and r["db"][0] == "2"


@claim("11", "weights and caps are ignored and `web`'s wake-up latency grows to milliseconds")
def _():
    r, _ = _sched(scheduler="rr")
    assert num(r["web"][3]) >= 1.0


@claim("11", "the admission test refuses the over-booked pCPU and names the reservations")
def _():
    _, err = _sched(scheduler="sedf", db_slice=80)
    assert "admission refused" in err and "db.1 80/100 ms" in err


def _cosched(mode):
    t = text_of(app("cosched_lab", mode=mode))
    found = {"critical sections/s": re.search(r"(\S+) critical sections/s", t)}
    for key in ("CPU share", "spinning", "co-stopped", "pCPUs held idle", "max skew"):
        found[key] = re.search(rf"{key} (\S+)", t)
    return {k: num(m.group(1)) for k, m in found.items()}


@claim("11", "`smp` spins a lot and its vCPUs drift far apart (max skew)")
def _():
    none, strict = _cosched("none"), _cosched("strict")
    assert none["spinning"] > 20 * strict["spinning"] and none["max skew"] > 10


@claim("11", "Mode *strict*: spinning almost disappears, skew is zero, but pCPUs are held idle "
             "while the gang gathers. Mode *relaxed*: the skew stays within the 3 ms threshold "
             "and no pCPU is held idle, but the vCPUs spend time co-stopped, and in this "
             "scenario `smp` completes *fewer* critical sections per second than without "
             "co-scheduling")
def _():
    none, strict, relaxed = _cosched("none"), _cosched("strict"), _cosched("relaxed")
    assert strict["max skew"] == 0 and strict["pCPUs held idle"] > 0
    assert relaxed["max skew"] <= 3 and relaxed["pCPUs held idle"] == 0
    assert relaxed["co-stopped"] > 0
    assert relaxed["critical sections/s"] < none["critical sections/s"]


@claim("12", "the text gives 4·4 + 4 + 4 = 24 references, the data access not counted. Switch to "
             "5 + 5 levels: 35")
def _():
    assert "4·4 + 4 + 4 = 24" in text_of(app("page_walk"))
    assert "5·5 + 5 + 5 = 35" in text_of(app("page_walk", guest_levels=5, host_levels=5))


@claim("12", "Technique *shadow*: 4 references — the hardware walks the VMM's shadow table — and "
             "*native*: 4 as well")
def _():
    assert text_of(app("page_walk", technique="shadow")).startswith("4 references")
    assert text_of(app("page_walk", technique="native")).startswith("4 references")


def _svn(**kw):
    a = app("shadow_vs_nested", **kw)
    return {k: [num(c) for c in v] for k, v in rows(a).items() if k != "technique"}, text_of(a)


@claim("12", "the translations of all three agree; shadow has VM exits, nested has none but "
             "several times the page-table references per miss")
def _():
    r, t = _svn()
    assert "identical" in t
    assert r["shadow"][3] > 0 and r["nested"][3] == 0
    assert r["nested"][2] > 2 * r["shadow"][2]


@claim("12", "shadow's exits and cycles grow; nested still has no exits")
def _():
    a, _ = _svn()
    b, _ = _svn(update_every=5)
    assert b["shadow"][3] > a["shadow"][3] and b["shadow"][4] > a["shadow"][4]
    assert b["nested"][3] == 0


def _mem(**kw):
    a = app("memory_costs", **kw)
    return {k: num(v[2]) for k, v in rows(a).items() if k != "technique"}, text_of(a)


@claim("12", "defaults: shadow paging is cheaper. Raise **pt_updates** to 200: nested paging is "
             "cheaper. Set **tlb_misses** to 3000 and **pt_updates** to 0: shadow wins clearly "
             "and nested paging's overhead is large")
def _():
    assert "shadow paging is cheaper here" in _mem()[1].lower()
    assert "nested paging is cheaper here" in _mem(pt_updates=200)[1].lower()
    ov, t = _mem(tlb_misses=3000, pt_updates=0)
    assert "shadow paging is cheaper here" in t.lower() and ov["nested"] > 10 * ov["shadow"]


@claim("12", "raise **entries** from 32 to 128 and the hit rate rises; switch **tagged** on and "
             "the flushes on address-space switches disappear")
def _():
    def hit(**kw):
        t = text_of(app("tlb_lab", **kw))
        return num(re.search(r"hit rate (\S+)", t).group(1)), int(re.search(
            r"(\d+) flushes", t).group(1))
    assert hit(entries=128)[0] > hit()[0]
    assert hit()[1] > 0 and hit(tagged=True)[1] == 0


def _bal(**kw):
    a = app("balloon_lab", **kw)
    return {k: [num(c) for c in v] for k, v in rows(a).items() if k != "VM"}, text_of(a)


@claim("13", "the balloons of vm1 and vm2 inflate to their targets, there is no hypervisor "
             "swapping and no double paging; vm1 — whose target leaves it fewer pages than its "
             "working set and page cache need — pays with its *own* swapping, vm2 does not")
def _():
    a = app("balloon_lab")
    MEMORY = sys.modules[type(a).__module__].MEMORY        # configured pages per lab VM
    c = a.values()
    r = {k: [num(x) for x in v] for k, v in rows(a).items() if k != "VM"}
    assert r["vm1"][0] == c["target_vm1"] and r["vm2"][0] == c["target_vm2"]
    assert all(v[4] == 0 and v[5] == 0 for v in r.values())
    file_pages = 40          # every lab VM's page cache (VMSpec(..., file_pages=40) in the app)
    assert c["ws_vm1"] + file_pages > MEMORY - c["target_vm1"]
    assert c["ws_vm2"] + file_pages <= MEMORY - c["target_vm2"]
    assert r["vm1"][2] > 0 and r["vm2"][2] == 0


@claim("13", "the balloons stay empty and the hypervisor swaps guest frames itself")
def _():
    r, _ = _bal(policy="swap")
    assert all(v[0] == 0 for v in r.values()) and sum(v[4] for v in r.values()) > 0


@claim("13", "identical OS pages collapse into shared frames (the text counts them), and free "
             "host frames appear")
def _():
    _, t = _bal(policy="sharing")
    shared = int(re.search(r"(\d+) shared frames", t).group(1))
    free = int(re.search(r"(\d+) host frames free", t).group(1))
    assert shared > 0 and free > 0


@claim("13", "the balloons cannot free enough, the hypervisor has to swap as well, and double "
             "paging appears")
def _():
    r, _ = _bal(host_frames=128)
    assert sum(v[4] for v in r.values()) > 0 and sum(v[5] for v in r.values()) > 0


@claim("13", "the balloon sizes do not change — only what each guest swaps")
def _():
    base, _ = _bal()
    other, _ = _bal(repl_vm1="random", repl_vm2="lru", repl_vm3="fifo")
    assert [v[0] for v in base.values()] == [v[0] for v in other.values()]


def _cloud(**kw):
    return {k: v[-1] for k, v in rows(app("cloud_lab", **kw)).items() if k != "area"}, \
        text_of(app("cloud_lab", **kw))


@claim("14", "No VM is lost per host failure and no VM is left without room when host 0 is "
             "emptied")
def _():
    t = text_of(app("cloud_lab"))
    assert "VMs lost per host failure 0.0" in t and "VMs with no room elsewhere 0" in t


@claim("14", "emptying host 0 takes far longer and the worst downtime of one VM grows by orders "
             "of magnitude")
def _():
    def vals(**kw):
        t = text_of(app("cloud_lab", **kw))
        return (num(re.search(r"time to empty the host (\S+) s", t).group(1)),
                num(re.search(r"worst downtime of one VM (\S+) ms", t).group(1)))
    (t0, d0), (t1, d1) = vals(), vals(bandwidth_mbit=100)
    assert t1 > 5 * t0 and d1 > 100 * d0


@claim("14", "Add **tenants**: more VMs, more hosts in use, more tenants per host")
def _():
    def vals(**kw):
        t = text_of(app("cloud_lab", **kw))
        return (num(re.search(r"hosts in use (\d+)", t).group(1)),
                num(re.search(r"most tenants on one host (\d+)", t).group(1)))
    (h0, n0), (h1, n1) = vals(), vals(tenants=6)
    assert h1 > h0 and n1 > n0


@pytest.mark.parametrize("topic_id, fragment, check", CLAIMS,
                         ids=[f"{t}:{f[:40]}" for t, f, _ in CLAIMS])
def test_demo_statement_is_quoted_and_true(topic_id, fragment, check):
    assert fold(fragment) in fold(page(topic_id)), \
        f"{PAGES[topic_id].name} no longer says: {fragment!r}"
    check()


def test_every_page_with_a_demo_has_checked_statements():
    assert {t for t, _, _ in CLAIMS} == set(PAGES)

"""The "On this machine" sections: where they sit, which cells are machine-dependent, and the
structure of their stored outputs (what was probed, which verdicts appear)."""

import re
from pathlib import Path

import nbformat
import pytest

from virtlab.host import critical, guests

ROOT = Path(__file__).resolve().parent.parent / "notebooks"
SECTION = {"02": "02_emulation_vs_virtualization", "06": "06_sensitive_instructions",
           "07": "07_binary_translation", "08": "08_hardware_support",
           "09": "09_hypervisor_types"}


def _nb(key):
    return nbformat.read(ROOT / f"{SECTION[key]}.ipynb", as_version=4)


def _section(nb):
    return [c for c in nb.cells if c.metadata.get("virtlab_section") == "on-this-machine"]


def _text(cell):
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "".join(parts)


@pytest.mark.parametrize("key", sorted(SECTION))
def test_section_sits_before_the_summary_and_tags_machine_cells(key):
    nb = _nb(key)
    cells = _section(nb)
    assert cells and cells[0].cell_type == "markdown"
    assert cells[0].source.startswith("## On this machine")
    first = nb.cells.index(cells[0])
    assert nb.cells[first:first + len(cells)] == cells            # one contiguous block
    # then the summary, with only the notebook's activity cells (practice, self-check) between
    rest = nb.cells[first + len(cells):]
    summary = next(i for i, c in enumerate(rest) if "## Summary" in c.source)
    assert all(c.metadata.get("virtlab_section") in ("practice", "selfcheck", "predict")
               for c in rest[:summary])
    for cell in cells:
        if cell.cell_type == "code":
            assert cell.execution_count is not None and not any(
                o.output_type == "error" for o in cell.outputs)
            calls_host = re.search(r"probe|run_|four_ways|scan|minimal_hypervisor", cell.source)
            if calls_host and "getsource" not in cell.source:
                assert "nbval-ignore-output" in cell.metadata.get("tags", []), cell.source[:60]


def test_02_four_engines_and_the_model():
    out = "".join(_text(c) for c in _section(_nb("02")))
    for label in ("native", "KVM", "QEMU TCG", "virtlab interpreter"):
        assert label in out
    assert "cost model" in out and ("measured now" in out or "recorded elsewhere" in out)


def test_06_every_probe_reported_with_a_verdict():
    out = "".join(_text(c) for c in _section(_nb("06")))
    found = dict(re.findall(r"^(\w+)\s+catalogue: .*? here: ([a-z ]+)$", out, re.M))
    assert set(found) == set(critical.PROBES)
    assert set(found.values()) <= set(critical.VERDICTS)
    assert found["POPF"] == "ignored" and found["CLI"] == found["HLT"] == "trapped"


def test_07_translation_cache_and_scans():
    out = "".join(_text(c) for c in _section(_nb("07")))
    if "translated blocks" in out:
        assert "translated blocks: 2, block executions: 100, cache hits: 98" in out
    assert "\n".join(guests.compute(100).listing()) in out
    assert ("vDSO" in out and "libc .text" in out) or "not available" in out


def test_08_names_the_provider_of_dev_kvm():
    out = "".join(_text(c) for c in _section(_nb("08")))
    assert "vmx/svm in the CPU flags:" in out and "/dev/kvm:" in out
    assert "provided by:" in out and "price of a VM exit" in out


def test_09_three_guests_and_the_model():
    cells = _section(_nb("09"))
    out = "".join(_text(c) for c in cells)
    for g in guests.GUESTS.values():
        assert f"--- {g.name}: {g.description}" in out
        assert "\n".join(g.listing()) in out
    assert "def minimal_hypervisor" in out
    assert "same: True" in out


def test_01_probe_reports_dev_kvm():
    nb = nbformat.read(ROOT / "01_what_is_virtualization.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "environment.probe()" in c.source)
    out = _text(cell)
    assert "Can run KVM guests (/dev/kvm)?" in out and "What provides /dev/kvm" in out

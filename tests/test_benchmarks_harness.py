"""The benchmark harness: discovery, running, error rows, JSON output, CLI.

Uses tiny fake benchmark modules in ``tmp_path``; no real timing is asserted
(benchmarks are measurements, not timed tests).
"""

from __future__ import annotations

import doctest
import json
import sys
import textwrap
from pathlib import Path

import ipywidgets as W
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` is a top-level folder, not installed
    sys.path.insert(0, str(ROOT))

import benchmarks.harness as harness  # noqa: E402
from benchmarks import bench_widgets  # noqa: E402
from benchmarks.__main__ import main  # noqa: E402
from virtlab.widgets.base import WidgetApp  # noqa: E402

GOOD = """
from benchmarks.harness import row

def bench_fast():
    return [row("fast thing", 1.5, "ms", "<= 50", True),
            row("slow thing", 120.0, "ms", "<= 100", False)]

def bench_other():
    return [row("other", 3, "x", "<= 4", True, n=7)]

BENCHMARKS = [bench_fast, bench_other]
"""

BROKEN_IMPORT = """
raise RuntimeError("cannot import this on purpose")
"""

MIXED = """
def bench_raises():
    raise ZeroDivisionError("boom")

def bench_garbage():
    return "not rows"

def bench_nan():
    return [{"name": "nan row", "value": float("nan"), "unit": "s", "target": "-", "ok": True}]

def bench_incomplete():
    return [{"name": "half"}]

BENCHMARKS = [bench_raises, bench_garbage, bench_nan, bench_incomplete, 42]
"""


@pytest.fixture
def bench_dir(tmp_path):
    d = tmp_path / "benches"
    d.mkdir()
    (d / "bench_a_good.py").write_text(textwrap.dedent(GOOD))
    (d / "bench_b_broken.py").write_text(textwrap.dedent(BROKEN_IMPORT))
    (d / "bench_c_mixed.py").write_text(textwrap.dedent(MIXED))
    (d / "helper_not_a_bench.py").write_text("raise SystemExit('must not be imported')\n")
    return d


def by_name(results):
    return {r["name"]: r for r in results["rows"]}


def test_discover_finds_only_bench_modules_sorted(bench_dir):
    assert [p.name for p in harness.discover(bench_dir)] == [
        "bench_a_good.py", "bench_b_broken.py", "bench_c_mixed.py"]


def test_discover_default_is_the_package():
    names = [p.stem for p in harness.discover()]
    assert "bench_widgets" in names and "bench_notebooks" in names


def test_run_collects_rows_and_turns_failures_into_error_rows(bench_dir):
    results = harness.run(harness.discover(bench_dir))
    rows = by_name(results)
    assert rows["fast thing"]["ok"] is True and rows["fast thing"]["value"] == 1.5
    assert rows["slow thing"]["ok"] is False and "error" not in rows["slow thing"]
    assert rows["other"]["n"] == 7
    assert rows["other"]["benchmark"] == "bench_a_good.bench_other"
    # the module that cannot be imported: one error row, the rest still ran
    broken = rows["bench_b_broken (import)"]
    assert broken["ok"] is False and "cannot import this on purpose" in broken["error"]
    assert "ZeroDivisionError: boom" in rows["bench_c_mixed.bench_raises"]["error"]
    assert "not a list of rows" in rows["bench_c_mixed.bench_garbage"]["error"]
    assert rows["nan row"]["value"] is None and rows["nan row"]["ok"] is False
    assert "lacks" in rows["bench_c_mixed.bench_incomplete[0]"]["error"]
    assert any("not callable" in r.get("error", "") for r in results["rows"])
    assert results["ok"] is False
    assert results["errors"] == 6
    for r in results["rows"]:
        assert set(harness.ROW_KEYS) <= set(r)


def test_filter_runs_only_matching_benchmarks(bench_dir):
    results = harness.run(harness.discover(bench_dir), name_filter="OTHER")
    assert [r["name"] for r in results["rows"]] == ["other"]
    assert [b["benchmark"] for b in results["benchmarks"]] == ["bench_a_good.bench_other"]
    assert results["ok"] is True


def test_write_results_is_valid_sorted_json_and_atomic(bench_dir, tmp_path):
    results = harness.run(harness.discover(bench_dir))
    out = harness.write_results(results, tmp_path / "results.json")
    text = out.read_text()
    data = json.loads(text)  # NaN would make this invalid JSON; it was turned into null
    assert "NaN" not in text
    assert list(data) == sorted(data)
    assert data["machine"]["cpu_count"] >= 1
    assert data["machine"]["python"].count(".") == 2
    assert not (tmp_path / "results.json.tmp").exists()


def test_write_results_refuses_non_finite(tmp_path):
    with pytest.raises(ValueError):
        harness.write_results({"x": float("inf")}, tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()


def test_cli_prints_table_writes_json_and_fails_on_errors(bench_dir, tmp_path, capsys):
    out = tmp_path / "out.json"
    status = main(["--dir", str(bench_dir), "-o", str(out)])
    printed = capsys.readouterr().out
    assert status == 1  # benchmarks raised
    assert printed.splitlines()[0].split() == ["name", "value", "unit", "target", "ok"]
    assert "fast thing" in printed and "MISS" in printed
    assert json.loads(out.read_text())["rows"]


def test_cli_filter_and_strict(bench_dir, tmp_path, capsys):
    out = tmp_path / "out.json"
    assert main(["--dir", str(bench_dir), "-o", str(out), "-k", "bench_other"]) == 0
    assert main(["--dir", str(bench_dir), "-o", str(out), "-k", "fast"]) == 0
    assert main(["--dir", str(bench_dir), "-o", str(out), "-k", "fast", "--strict"]) == 1
    capsys.readouterr()


def test_cli_show_prints_stored_results_without_running(bench_dir, tmp_path, capsys):
    out = tmp_path / "out.json"
    main(["--dir", str(bench_dir), "-o", str(out), "-k", "fast"])
    capsys.readouterr()
    out.write_text(out.read_text().replace("fast thing", "stored thing"))
    assert main(["-o", str(out), "--show", "--markdown"]) == 0
    printed = capsys.readouterr().out
    assert "| stored thing | 1.5 | ms | <= 50 | ok |" in printed
    assert "**MISS**" in printed  # the slow thing


def test_cli_list(bench_dir, capsys):
    assert main(["--dir", str(bench_dir), "--list"]) == 0
    assert capsys.readouterr().out.split() == ["bench_a_good", "bench_b_broken",
                                               "bench_c_mixed"]


def test_harness_doctests():
    failures, tried = doctest.testmod(harness, optionflags=doctest.ELLIPSIS)
    assert tried > 5 and failures == 0


# -- bench_widgets logic (values tried per control; samples counted) ------------------

def test_control_values_cover_min_mid_max_options_and_toggle():
    assert bench_widgets.control_values(W.IntSlider(value=3, min=1, max=10)) == [
        ("value", 1), ("value", 5), ("value", 10)]
    assert bench_widgets.control_values(W.FloatSlider(value=1, min=0, max=2)) == [
        ("value", 0), ("value", 1.0), ("value", 2)]
    assert bench_widgets.control_values(W.Dropdown(options=["a", "b", "c"])) == [
        ("index", 0), ("index", 1), ("index", 2)]
    assert bench_widgets.control_values(W.Checkbox(value=False)) == [
        ("value", True), ("value", False)]
    assert bench_widgets.control_values(W.Text(value="x")) is None


class _Tiny(WidgetApp):
    title = "tiny"

    def __init__(self):
        super().__init__({"n": W.IntSlider(value=2, min=1, max=3),
                          "kind": W.Dropdown(options=[("A", "a"), ("B", "b")]),
                          "on": W.Checkbox(value=False),
                          "note": W.Text(value="")})

    def compute(self, n, kind, on, note):
        if n == 3 and kind == "b":
            raise ValueError("n=3 with kind b is refused on purpose")
        return (n, kind, on)


def test_measure_app_times_every_change_and_restores_controls():
    got = bench_widgets.measure_app(_Tiny, repeat=2)
    # per pass (the slider starts at 2): slider 1, 2, 3 -> 3 changes, then an
    # untimed restore to 2; dropdown index 0 is unchanged -> skipped, index 1 ->
    # 1 change; checkbox True, False -> 2 changes.  Two timed passes.
    assert len(got["samples"]) == 2 * (3 + 1 + 2)
    assert got["skipped"] == ["note"]
    assert got["controls"] == 3
    assert got["errors"] == []
    assert len(got["cpu"]) == len(got["samples"])
    assert got["slowest"].split("=")[0] in {"n", "kind", "on"}
    assert got["truncated"] is False


def test_measure_app_stops_at_its_budget():
    got = bench_widgets.measure_app(_Tiny, repeat=50, budget_s=0.0)
    assert got["truncated"] is True
    assert 0 < len(got["samples"]) <= 3  # stopped after the first control's pass


def test_measure_app_reports_model_errors_at_valid_settings():
    class Picky(_Tiny):
        def __init__(self):
            super().__init__()
            self.controls["kind"].index = 1  # from now on n=3 is refused

    got = bench_widgets.measure_app(Picky, repeat=1)
    assert any("refused on purpose" in e for e in got["errors"])

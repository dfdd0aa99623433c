"""Claims of notebook 00 (start here)."""

from pathlib import Path

from virtlab import course, glossary

from . import claim

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@claim("00", "Every topic of the slides has a notebook like this one")
def _():
    # One course topic per notebook file, and every topic names its slide.
    ids = {t.id for t in course.TOPICS}
    files = {p.name[:2] for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    assert ids == files
    assert all(t.slide for t in course.TOPICS)


@claim("00", "umlauts optional: *Ubersetzung* finds *Binärübersetzung*")
def _():
    assert any(t.de == "Binärübersetzung" for t in glossary.search("Ubersetzung"))
